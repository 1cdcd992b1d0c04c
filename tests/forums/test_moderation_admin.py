"""The forums admin: every model's list and change pages open; counters are read-only."""

import pytest
from django.test import Client
from django.urls import reverse

from community.forums.models import Category, Topic
from community.forums.services import moderation as services
from tests.factories import UserFactory
from tests.forums.factories import make_moderator, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages_open(admin_client: Client) -> None:
    topic = make_topic(replies=1)
    post = topic.posts.get(number=2)
    services.flag_create(user=make_moderator(), post=post, reason="spam")
    services.topic_moderate(moderator=make_moderator(), topic=topic, action="pin")
    for model in (
        "category",
        "topic",
        "post",
        "flag",
        "moderationlog",
        "memberstats",
        "topicevent",
    ):
        response = admin_client.get(reverse(f"admin:forums_{model}_changelist"))
        assert response.status_code == 200, model
    for model, pk in (("category", topic.category_id), ("topic", topic.pk), ("post", post.pk)):
        response = admin_client.get(reverse(f"admin:forums_{model}_change", args=[pk]))
        assert response.status_code == 200, model


def test_counters_cannot_be_changed_in_the_admin(admin_client: Client) -> None:
    topic = make_topic(replies=2)
    category = topic.category
    url = reverse("admin:forums_category_change", args=[category.pk])
    response = admin_client.post(
        url,
        {"name": "Renamed", "slug": category.slug, "description": "", "position": 1,
         "required_role": "", "topic_count": 99, "post_count": 99},
    )  # fmt: skip
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.name == "Renamed"
    assert (category.topic_count, category.post_count) == (1, 3)
    url = reverse("admin:forums_topic_change", args=[topic.pk])
    response = admin_client.post(
        url, {"title": "A corrected title", "slug": "a-corrected-title", "kind": "discussion",
              "reply_count": 50, "is_pinned": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.title == "A corrected title"
    assert (topic.reply_count, topic.is_pinned) == (2, False)
    assert admin_client.get(reverse("admin:forums_moderationlog_add")).status_code == 403
    assert Topic.objects.count() == 1
    assert Category.objects.count() == 1
