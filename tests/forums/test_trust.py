"""Trust limits: new members are limited, the limits lift with participation, moderators
are exempt, and a limit is a clear error that changes nothing."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.forums.models import MemberStats, Post, Topic
from community.forums.services import trust
from community.forums.services.posting import post_create, post_edit, topic_create
from community.models import User
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits_on(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True


def _age(user: User, days: float) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - dt.timedelta(days=days))
    return User.objects.get(pk=user.pk)


def test_new_member_posts_per_minute_then_a_clear_error_with_retry_after() -> None:
    topic = make_topic()
    newbie = make_member().user
    for i in range(3):
        post_create(author=newbie, topic=topic, body=f"Reply number {i}")
    with pytest.raises(trust.TrustLimitExceeded) as exc:
        post_create(author=newbie, topic=topic, body="One too many")
    assert exc.value.retry_after is not None
    assert 1 <= exc.value.retry_after <= 60
    assert "__all__" in exc.value.message_dict
    assert Post.objects.filter(author=newbie).count() == 3
    # Once the minute has passed the member may post again.
    Post.objects.filter(author=newbie).update(created_at=timezone.now() - dt.timedelta(seconds=61))
    post_create(author=newbie, topic=topic, body="Later on")


def test_new_member_topics_per_day() -> None:
    category = make_category()
    newbie = make_member().user
    for i in range(3):
        topic_create(author=newbie, category=category, title=f"My topic number {i}", body="Body")
        Post.objects.filter(author=newbie).update(
            created_at=timezone.now() - dt.timedelta(minutes=5)
        )
    with pytest.raises(trust.TrustLimitExceeded) as exc:
        topic_create(author=newbie, category=category, title="My fourth topic", body="Body")
    assert exc.value.retry_after
    assert exc.value.retry_after > 3600
    assert Topic.objects.filter(author=newbie).count() == 3


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        ("See https://a.example and https://b.example", True),
        ("See https://a.example, https://b.example and https://c.example", False),
        ("Three forum links [a](/forums/t/1/x/) [b](/forums/t/2/y/) [c](/forums/p/3/)", True),
    ],
)
def test_links_per_post_count_only_links_to_other_sites(body: str, allowed: bool) -> None:
    topic = make_topic()
    newbie = make_member().user
    if allowed:
        post_create(author=newbie, topic=topic, body=body)
        return
    with pytest.raises(ValidationError) as exc:
        post_create(author=newbie, topic=topic, body=body)
    assert "body" in exc.value.message_dict
    assert getattr(exc.value, "retry_after", None) is None
    assert not Post.objects.filter(author=newbie).exists()


def test_mentions_per_post_and_on_edit() -> None:
    for name in ("m1", "m2", "m3"):
        make_member(name)
    topic = make_topic()
    newbie = make_member().user
    with pytest.raises(ValidationError) as exc:
        post_create(author=newbie, topic=topic, body="Hey @m1 @m2 @m3")
    assert "body" in exc.value.message_dict
    reply = post_create(author=newbie, topic=topic, body="Hey @m1 @m2")
    with pytest.raises(ValidationError):
        post_edit(editor=newbie, post=reply, body="Hey @m1 @m2 @m3")
    assert Post.objects.get(pk=reply.pk).body == "Hey @m1 @m2"


def test_moderators_are_exempt() -> None:
    topic = make_topic()
    moderator = make_moderator()
    for i in range(6):
        post_create(author=moderator, topic=topic, body=f"Moderator note {i} https://x{i}.example")
    assert Post.objects.filter(author=moderator).count() == 6


def test_levels_rise_with_posts_and_days_or_reactions() -> None:
    member = _age(make_member().user, days=3)
    topic = make_topic()
    for i in range(3):
        post_create(author=member, topic=topic, body=f"Contribution {i}")
    Post.objects.filter(author=member).update(created_at=timezone.now() - dt.timedelta(days=2))
    for i in range(2):
        post_create(author=member, topic=topic, body=f"More {i}")
    assert MemberStats.objects.get(user=member).trust_level == 1
    # At level 1, four posts in a minute are fine.
    for i in range(4):
        post_create(author=member, topic=topic, body=f"Quick {i}")

    liked = make_member().user  # a day-old account, but others found its posts useful
    stats = MemberStats.objects.create(user=liked, reactions_received=5)
    assert trust.trust_level_of(stats=stats, date_joined=liked.date_joined) == 1


def test_level_two_and_levels_are_never_taken_away(settings: Any) -> None:
    settings.FORUM_TRUST_LEVELS = {1: {"posts": 3}, 2: {"posts": 3, "days": 0, "reactions": 1}}
    member = _age(make_member().user, days=30)
    MemberStats.objects.create(user=member, post_count=2, reactions_received=1)
    post_create(author=member, topic=make_topic(), body="My third post")
    stats = MemberStats.objects.get(user=member)
    assert stats.trust_level == 2
    stats.reactions_received = 0
    stats.save()
    trust.member_stats_refresh(user=member)
    assert MemberStats.objects.get(user=member).trust_level == 2


def test_limits_can_be_set_in_settings(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS = {0: {"posts_per_minute": 1}}
    topic = make_topic()
    newbie = make_member().user
    post_create(author=newbie, topic=topic, body="Only one")
    with pytest.raises(trust.TrustLimitExceeded):
        post_create(author=newbie, topic=topic, body="Second")


def test_switched_off_limits_do_not_apply(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = False
    topic = make_topic()
    newbie = make_member().user
    for i in range(5):
        post_create(
            author=newbie,
            topic=topic,
            body=f"Reply {i} https://{i}.example https://b.example https://c.example",
        )
    assert Post.objects.filter(author=newbie).count() == 5


def test_new_member_reactions_per_day_then_a_clear_error(settings: Any) -> None:
    from community.forums.models import Reaction
    from community.forums.services.social import reaction_set

    settings.FORUM_TRUST_LIMITS = {0: {"reactions_per_day": 2}}
    topic = make_topic(replies=4)
    posts = list(topic.posts.order_by("number"))
    newbie = make_member().user
    reaction_set(user=newbie, post=posts[0], kind="like")
    reaction_set(user=newbie, post=posts[1], kind="like")
    reaction_set(user=newbie, post=posts[1], kind="like")  # already given: not counted again
    with pytest.raises(trust.TrustLimitExceeded) as exc:
        reaction_set(user=newbie, post=posts[2], kind="thanks")
    assert "kind" in exc.value.message_dict
    assert "2 reactions today" in exc.value.messages[0]
    assert exc.value.retry_after is not None
    assert exc.value.retry_after > 3600
    assert Reaction.objects.filter(user=newbie).count() == 2
    assert Post.objects.get(pk=posts[2].pk).reaction_counts == {}
    # taking one back is never limited, and frees a reaction for today
    reaction_set(user=newbie, post=posts[1], kind="like", active=False)
    reaction_set(user=newbie, post=posts[2], kind="thanks")
    # a day later the count starts again
    Reaction.objects.filter(user=newbie).update(
        created_at=timezone.now() - dt.timedelta(days=1, seconds=1)
    )
    reaction_set(user=newbie, post=posts[3], kind="like")
    # moderators are exempt; a member's level lifts the limit (level 1: 100 a day)
    moderator = make_moderator()
    for post in posts[:4]:
        reaction_set(user=moderator, post=post, kind="same")
    assert trust.limits_for_level(trust.MEMBER).reactions_per_day == 100
    assert trust.limits_for_level(trust.REGULAR).reactions_per_day == 300
