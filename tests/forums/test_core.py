"""The core of posting: numbering, counters, the topic stream, retries, access."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.forums import access
from community.forums.models import Category, MemberStats, Post, Topic, TopicEvent
from community.forums.services.posting import post_create, topic_create
from tests.factories import make_member
from tests.forums.factories import make_category, make_post, make_topic

pytestmark = pytest.mark.django_db


def test_topic_and_replies_are_numbered_and_counted() -> None:
    topic = make_topic(replies=2)
    assert list(topic.posts.values_list("number", flat=True)) == [1, 2, 3]
    assert topic.reply_count == 2
    assert topic.last_post_number == 3
    category = Category.objects.get(pk=topic.category_id)
    assert (category.topic_count, category.post_count) == (1, 3)
    opening = topic.posts.get(number=1)
    assert opening.body_text.startswith(topic.title)
    assert MemberStats.objects.get(user=topic.author).topic_count == 1


def test_replies_append_contiguous_stream_events() -> None:
    topic = make_topic()
    make_post(topic=topic)
    make_post(topic=topic)
    events = list(TopicEvent.objects.filter(topic=topic).values_list("seq", "type"))
    assert events == [(1, "post.created"), (2, "post.created")]
    assert Topic.objects.get(pk=topic.pk).last_seq == 2


def test_retry_with_same_client_id_returns_the_first_post() -> None:
    topic = make_topic()
    member = make_member().user
    cid = uuid.uuid4()
    first = post_create(author=member, topic=topic, body="Hello there", client_id=cid)
    again = post_create(author=member, topic=topic, body="Hello there", client_id=cid)
    assert first.pk == again.pk
    assert Post.objects.filter(topic=topic).count() == 2


def test_markdown_is_rendered_safely() -> None:
    topic = make_topic(body="**bold** <script>alert(1)</script>")
    html = topic.posts.get(number=1).body_html
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("short", "A fine body", "title"),
        ("A good long title", "", "body"),
        ("x" * 201, "ok ok", "title"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(title: str, body: str, field: str) -> None:
    category = make_category()
    with pytest.raises(ValidationError) as exc:
        topic_create(author=make_member().user, category=category, title=title, body=body)
    assert field in exc.value.message_dict
    assert not Topic.objects.exists()


def test_unknown_skill_is_refused() -> None:
    with pytest.raises(ValidationError):
        topic_create(
            author=make_member().user,
            category=make_category(),
            title="A good long title",
            body="Body text",
            skills=["no-such-skill"],
        )
    assert not Topic.objects.exists()


def test_restricted_category_is_invisible_and_closed_to_others() -> None:
    lounge = make_category(required_role="facilitator")
    facilitator = make_member(roles=("facilitator",)).user
    learner = make_member().user
    topic = make_topic(author=facilitator, category=lounge)
    assert not access.topics_visible_to(learner).filter(pk=topic.pk).exists()
    assert access.topics_visible_to(facilitator).filter(pk=topic.pk).exists()
    with pytest.raises(PermissionDenied):
        post_create(author=learner, topic=topic, body="Let me in")
    with pytest.raises(PermissionDenied):
        topic_create(author=learner, category=lounge, title="A good long title", body="Body")


def test_closed_topic_takes_no_replies() -> None:
    topic = make_topic()
    Topic.objects.filter(pk=topic.pk).update(is_closed=True)
    with pytest.raises(PermissionDenied):
        post_create(author=make_member().user, topic=topic, body="Too late")


def test_a_members_own_post_is_never_unread_to_them() -> None:
    from community.forums.models import ReadState

    topic = make_topic(replies=2)
    replier = make_member().user
    post = make_post(topic=topic, author=replier)
    assert ReadState.objects.get(user=replier, topic=topic).last_read_number == post.number
    assert ReadState.objects.get(user=topic.author, topic=topic).last_read_number == 1


def test_topic_page_reply_form_carries_a_retry_key(client: object) -> None:
    from django.test import Client

    topic = make_topic()
    member = make_member().user
    c = Client()
    c.force_login(member)
    html = c.get(topic.get_absolute_url()).content.decode()
    form = html[html.index('id="reply"') :]
    assert 'name="client_id" value="' in form
    cid = form.split('name="client_id" value="')[1].split('"')[0]
    for _ in range(2):  # the browser resends the same form
        c.post(
            f"/forums/t/{topic.pk}/reply/",
            {"body": "Check the osmolality", "client_id": cid, "action": "post"},
        )
    assert Post.objects.filter(topic=topic).count() == 2


def test_forum_nav_offers_new_topic_and_search_to_members() -> None:
    from django.test import Client

    category = make_category()
    c = Client()
    anon = c.get(category.get_absolute_url()).content.decode()
    assert "/forums/search/" in anon
    assert "/forums/new-topic/" not in anon
    c.force_login(make_member().user)
    page = c.get(category.get_absolute_url()).content.decode()
    assert f"/forums/new-topic/?category={category.slug}" in page
    form = c.get(f"/forums/new-topic/?category={category.slug}").content.decode()
    assert f'value="{category.slug}" selected' in form


def test_moderators_hold_the_permission_directly_or_through_a_group_and_stay_active(
    django_assert_max_num_queries: object,
) -> None:
    """``access.is_moderator`` agrees with ``has_perm``: the Moderators group, a direct
    grant, a superuser; a plain member, an inactive moderator and a visitor are not."""
    from django.contrib.auth.models import AnonymousUser, Group, Permission

    from community.models import User

    perm = Permission.objects.get(
        codename="moderate_community", content_type__app_label="community"
    )
    in_group = make_member().user
    in_group.groups.add(Group.objects.get(name="Moderators"))
    direct = make_member().user
    direct.user_permissions.add(perm)
    root = make_member().user
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    inactive = make_member().user
    inactive.groups.add(Group.objects.get(name="Moderators"))
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    plain = make_member().user
    cases = [(in_group, True), (direct, True), (root, True), (inactive, False), (plain, False)]
    for user, expected in cases:
        fresh = User.objects.get(pk=user.pk)
        with django_assert_max_num_queries(1):  # type: ignore[operator]
            assert access.is_moderator(fresh) is expected, user.username
        assert fresh.has_perm("community.moderate_community") is expected
    assert access.is_moderator(AnonymousUser()) is False
