"""Following (services/following.py, watch pages, watch API, "what you follow")."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from community.forums.models import CategoryWatch, TagWatch, TopicWatch, WatchLevel
from community.forums.services.following import (
    category_watch_set,
    tag_watch_set,
    topic_watch_set,
)
from community.models import User
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_topic

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _api(user: User | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


# --- services ----------------------------------------------------------------------------
def test_topic_level_is_stored_and_changed() -> None:
    topic = make_topic()
    member = make_member().user
    topic_watch_set(user=member, topic=topic, level=WatchLevel.WATCHING)
    topic_watch_set(user=member, topic=topic, level=WatchLevel.NORMAL)
    assert TopicWatch.objects.get(user=member, topic=topic).level == WatchLevel.NORMAL


def test_bad_level_is_refused_and_changes_nothing() -> None:
    topic = make_topic()
    member = make_member().user
    topic_watch_set(user=member, topic=topic, level=WatchLevel.TRACKING)
    for call in (
        lambda: topic_watch_set(user=member, topic=topic, level="loud"),
        lambda: category_watch_set(user=member, category=topic.category, level=""),
        lambda: tag_watch_set(user=member, skill=SkillFactory(), level="WATCHING"),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert "level" in exc.value.message_dict
    assert TopicWatch.objects.get(user=member, topic=topic).level == WatchLevel.TRACKING
    assert not CategoryWatch.objects.exists()
    assert not TagWatch.objects.exists()


def test_category_and_tag_normal_removes_the_row() -> None:
    category, skill = make_category(), SkillFactory()
    member = make_member().user
    category_watch_set(user=member, category=category, level=WatchLevel.MUTED)
    tag_watch_set(user=member, skill=skill, level=WatchLevel.WATCHING)
    assert CategoryWatch.objects.get().level == WatchLevel.MUTED
    category_watch_set(user=member, category=category, level=WatchLevel.NORMAL)
    tag_watch_set(user=member, skill=skill, level=WatchLevel.NORMAL)
    assert not CategoryWatch.objects.exists()
    assert not TagWatch.objects.exists()


def test_restricted_category_and_its_topics_cannot_be_followed_by_outsiders() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    outsider = make_member().user
    with pytest.raises(PermissionDenied):
        category_watch_set(user=outsider, category=lounge, level=WatchLevel.WATCHING)
    with pytest.raises(PermissionDenied):
        topic_watch_set(user=outsider, topic=topic, level=WatchLevel.WATCHING)
    with pytest.raises(PermissionDenied):
        topic_watch_set(user=AnonymousUser(), topic=topic, level="watching")  # type: ignore[arg-type]
    assert not TopicWatch.objects.filter(user=outsider).exists()


# --- pages -------------------------------------------------------------------------------
def test_watch_pages_show_and_change_the_level() -> None:
    topic = make_topic()
    skill = SkillFactory()
    member = make_member().user
    c = _client(member)
    for url, check in (
        (f"/forums/t/{topic.pk}/watch/", lambda: TopicWatch.objects.get(user=member).level),
        (
            f"/forums/c/{topic.category.slug}/watch/",
            lambda: CategoryWatch.objects.get(user=member).level,
        ),
        (f"/forums/tags/{skill.slug}/watch/", lambda: TagWatch.objects.get(user=member).level),
    ):
        page = c.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'name="level" value="watching"' in html
        assert "csrfmiddlewaretoken" in html
        assert 'value="normal" checked' in html
        response = c.post(url, {"level": "watching"})
        assert response.status_code == 302
        assert check() == "watching"
        assert 'value="watching" checked' in c.get(url).content.decode()


def test_watch_page_bad_level_is_a_400_with_the_error_and_changes_nothing() -> None:
    topic = make_topic()
    member = make_member().user
    response = _client(member).post(f"/forums/t/{topic.pk}/watch/", {"level": "shout"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not TopicWatch.objects.filter(user=member).exists()


def test_watch_form_redirects_to_a_safe_next_only() -> None:
    topic = make_topic()
    c = _client(make_member().user)
    url = f"/forums/t/{topic.pk}/watch/"
    assert c.post(url, {"level": "muted", "next": "/forums/settings/"})["Location"] == (
        "/forums/settings/"
    )
    assert c.post(url, {"level": "muted", "next": "https://evil.example/"})["Location"] == (
        topic.get_absolute_url()
    )


def test_watch_pages_need_login_and_hide_restricted_things() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    response = Client().post(f"/forums/t/{topic.pk}/watch/", {"level": "watching"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    c = _client(make_member().user)
    assert c.get(f"/forums/t/{topic.pk}/watch/").status_code == 404
    assert c.post(f"/forums/c/{lounge.slug}/watch/", {"level": "watching"}).status_code == 404
    assert c.get("/forums/tags/no-such-tag/watch/").status_code == 404
    assert c.get("/forums/t/999999/watch/").status_code == 404
    assert not TopicWatch.objects.exclude(user=topic.author).exists()


def test_settings_page_lists_what_you_follow_in_constant_queries(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    member = make_member().user
    c = _client(member)

    def follow(n: int) -> None:
        for _ in range(n):
            topic = make_topic()
            topic_watch_set(user=member, topic=topic, level=WatchLevel.WATCHING)
            category_watch_set(user=member, category=topic.category, level=WatchLevel.MUTED)
            tag_watch_set(user=member, skill=SkillFactory(), level=WatchLevel.TRACKING)

    follow(2)
    c.get("/forums/settings/")
    with django_assert_max_num_queries(12) as small:
        c.get("/forums/settings/")
    follow(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = c.get("/forums/settings/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="watch-form"') == 24
    assert "/notifications/settings/" in html


def test_settings_page_leaves_out_topics_you_can_no_longer_read() -> None:
    member = make_member(roles=("facilitator",)).user
    lounge = make_category(required_role="facilitator")
    topic = make_topic(author=member, category=lounge, title="Facilitators only topic")
    assert "Facilitators only topic" in _client(member).get("/forums/settings/").content.decode()
    from community.models import Profile

    Profile.objects.filter(user=member).update(is_facilitator=False)
    member = User.objects.get(pk=member.pk)
    assert topic.title not in _client(member).get("/forums/settings/").content.decode()


# --- API ---------------------------------------------------------------------------------
def test_api_watch_levels() -> None:
    topic = make_topic()
    skill = SkillFactory()
    member = make_member().user
    api = _api(member)
    for url in (
        f"/api/v1/forums/t/{topic.pk}/watch/",
        f"/api/v1/forums/c/{topic.category.slug}/watch/",
        f"/api/v1/forums/tags/{skill.slug}/watch/",
    ):
        before = api.get(url).json()["level"]
        assert before in {"", "normal"}
        response = api.put(url, {"level": "muted"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json() == {"level": "muted"}
        bad = api.put(url, {"level": "loud"}, format="json")
        assert bad.status_code == 400
        assert "level" in bad.json()["error"]["fields"]
        extra = api.put(url, {"level": "muted", "levle": 1}, format="json")
        assert extra.status_code == 400
        assert api.get(url).json()["level"] == "muted"
        assert _api().get(url).status_code in {401, 403}
        assert _api().put(url, {"level": "muted"}, format="json").status_code in {401, 403}
    following = api.get("/api/v1/forums/settings/").json()
    assert following["topics"][0]["topic"] == topic.pk
    assert following["categories"][0]["category"] == topic.category.slug
    assert following["tags"][0] == {"tag": skill.slug, "name": skill.name, "level": "muted"}


def test_api_watch_of_restricted_or_missing_things_is_404() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    api = _api(make_member().user)
    for url in (
        f"/api/v1/forums/t/{topic.pk}/watch/",
        f"/api/v1/forums/c/{lounge.slug}/watch/",
        "/api/v1/forums/tags/nope/watch/",
        "/api/v1/forums/t/999999/watch/",
    ):
        assert api.get(url).status_code == 404
        response = api.put(url, {"level": "watching"}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
