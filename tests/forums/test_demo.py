"""Forum demo data: categories and realistic topics, made through the services, safe to
run again."""

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from community.forums import access
from community.forums.demo import CATEGORIES, TOPICS, seed_forums
from community.forums.models import Category, Post, Reaction, Topic, TopicKind
from community.forums.selectors.search import forum_search, search_params_clean
from community.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The whole demo (members, mentoring, workshops, forums), once for this module."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", quiet=True, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_seed_demo_creates_the_forum(seeded: str) -> None:
    assert f"Forums demo: {len(CATEGORIES)} categories, {len(TOPICS)} topics" in seeded
    assert Topic.objects.count() == len(TOPICS) >= 25
    cgt = Category.objects.get(slug="cell-gene-therapy")
    assert cgt.parent is not None
    assert cgt.parent.slug == "upstream"
    lounge = Category.objects.get(slug="facilitators-lounge")
    assert lounge.required_role == "facilitator"
    assert lounge.topic_count == Topic.objects.filter(category=lounge).count() >= 1
    # replies, tags from the catalogue, answered and verified questions, reactions
    assert Post.objects.filter(number__gt=1).count() >= len(TOPICS) - 1
    assert Topic.objects.filter(skills__isnull=False).distinct().count() >= len(TOPICS) - 3
    questions = Topic.objects.filter(kind=TopicKind.QUESTION)
    assert questions.filter(accepted_post__isnull=False).count() >= 10
    assert questions.filter(accepted_post__isnull=True, reply_count__gt=0).exists()
    assert questions.filter(reply_count=0).exists()  # something for "unanswered"
    assert Post.objects.filter(expert_verified_by__isnull=False).count() >= 3
    assert Reaction.objects.count() >= 10
    for topic in Topic.objects.all():  # counters kept by the services
        assert topic.last_post_number == topic.posts.count()
        assert topic.reply_count == topic.posts.count() - 1


def test_seeding_again_creates_nothing(seeded: str) -> None:
    before = (Category.objects.count(), Topic.objects.count(), Post.objects.count())
    reactions = Reaction.objects.count()
    assert seed_forums() == {"categories": 0, "topics": 0, "posts": 0}
    assert (Category.objects.count(), Topic.objects.count(), Post.objects.count()) == before
    assert Reaction.objects.count() == reactions


def test_demo_lounge_is_invisible_to_learners_in_search(seeded: str) -> None:
    learner = User.objects.get(username="otieno_brian")
    facilitator = User.objects.get(username="chinwe.eze")
    q = {"q": "workshops slow connections"}
    for viewer, expected in ((learner, 0), (facilitator, 1)):
        params = search_params_clean(viewer=viewer, data=q)
        assert forum_search(viewer=viewer, params=params).count() == expected
    assert not access.topics_visible_to(learner).filter(category__slug="facilitators-lounge")
