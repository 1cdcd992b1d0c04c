"""Merges and flags stay consistent under concurrent writers (PostgreSQL)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError

from community.forums.models import Category, Flag, Post, Topic
from community.forums.services import moderation as services
from community.forums.services.posting import post_create
from tests.conftest import Race
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_topic

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long each racer keeps its transaction open for the others to get as far; with
# locking the later ones wait on the topic rows. Not an assertion on time.
HOLD_SECONDS = 1.0


@pytest.fixture(autouse=True)
def _moderators_group(transactional_db: None) -> None:
    """Transactional tests flush the migration's Moderators group: put it back."""
    group, _created = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        Permission.objects.get(codename="moderate_community", content_type__app_label="community")
    )


def test_merge_racing_replies_loses_no_post_and_keeps_numbers_contiguous(race: Race) -> None:
    """Replies to both topics sent while A is merged into B: each reply to A either lands
    before the merge (and moves with it) or is refused after it; B's numbers stay 1..N."""
    moderator = make_moderator("racemod")
    category = make_category()
    source = make_topic(category=category, replies=2)
    into = make_topic(category=category, replies=1)
    writers = [make_member().user for _ in range(4)]
    results = race(
        [
            lambda: services.topic_merge(moderator=moderator, topic=source, into=into),
            lambda: post_create(author=writers[0], topic=source, body="Reply to A, first"),
            lambda: post_create(author=writers[1], topic=into, body="Reply to B, first"),
            lambda: post_create(author=writers[2], topic=source, body="Reply to A, second"),
            lambda: post_create(author=writers[3], topic=into, body="Reply to B, second"),
        ],
        hold=HOLD_SECONDS,
    )
    assert isinstance(results[0], Topic), results[0]
    for result in results[1:]:
        assert isinstance(result, Post | PermissionDenied), result
    created = [r for r in results[1:] if isinstance(r, Post)]
    assert isinstance(results[2], Post)
    assert isinstance(results[4], Post)

    fresh = Topic.objects.get(pk=into.pk)
    numbers = list(
        Post.objects.filter(topic=into).order_by("number").values_list("number", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    assert fresh.last_post_number == len(numbers)
    assert len(numbers) == 3 + 2 + len(created)  # A's 3, B's 2, every reply that went through
    assert set(
        Post.objects.filter(pk__in=[p.pk for p in created]).values_list("topic", flat=True)
    ) == {into.pk}
    assert not Post.objects.filter(topic=source).exists()
    assert Topic.objects.get(pk=source.pk).merged_into_id == into.pk
    assert fresh.reply_count == len(numbers) - 1
    counted = Category.objects.get(pk=category.pk)
    assert (counted.topic_count, counted.post_count) == (1, len(numbers))
    seqs = list(fresh.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, fresh.last_seq + 1))


def test_double_flag_submissions_make_one_flag(race: Race) -> None:
    """The same member flagging the same post twice at once: one flag, one clear error."""
    topic = make_topic(replies=1)
    post = Post.objects.get(topic=topic, number=2)
    flagger = make_member().user
    results = race(
        [
            lambda: services.flag_create(user=flagger, post=post, reason="spam"),
            lambda: services.flag_create(user=flagger, post=post, reason="abusive"),
        ],
        hold=HOLD_SECONDS,
    )
    assert sorted(type(r).__name__ for r in results) == ["Flag", "ValidationError"]
    error = next(r for r in results if isinstance(r, ValidationError))
    assert "already flagged" in str(error)
    assert Flag.objects.filter(post=post, flagged_by=flagger).count() == 1


def test_review_and_merge_racing_keep_counts(race: Race) -> None:
    """Hiding a post of A while A is merged into B: counts of B end right either way."""
    moderator = make_moderator("racemod2")
    category = make_category()
    source = make_topic(category=category, replies=2)
    into = make_topic(category=category, replies=1)
    post = Post.objects.get(topic=source, number=2)
    results = race(
        [
            lambda: services.topic_merge(moderator=moderator, topic=source, into=into),
            lambda: services.post_review(moderator=moderator, post=post, action="hide"),
        ],
        hold=HOLD_SECONDS,
    )
    assert isinstance(results[0], Topic), results[0]
    fresh = Topic.objects.get(pk=into.pk)
    visible = Post.objects.filter(topic=into, is_hidden=False, is_deleted=False).count()
    assert fresh.reply_count == visible - 1
    assert Category.objects.get(pk=category.pk).post_count == visible
    if isinstance(results[1], Post):
        assert Post.objects.get(pk=post.pk).is_hidden
    else:
        assert isinstance(results[1], ValidationError), results[1]
