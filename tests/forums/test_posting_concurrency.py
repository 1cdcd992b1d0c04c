"""Replies sent at the same moment get contiguous numbers and stream seqs (PostgreSQL)."""

import pytest

from community.forums.models import Category, Post, Topic, TopicEvent
from community.forums.services.posting import post_create
from tests.conftest import Race
from tests.factories import make_member
from tests.forums.factories import make_topic

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_replies_at_once_are_numbered_and_sequenced_without_gaps(race: Race) -> None:
    topic = make_topic()
    members = [make_member(f"racer{i}").user for i in range(10)]
    results = race(
        [
            lambda m=member: post_create(author=m, topic=topic, body=f"Reply from {m.username}")
            for member in members
        ]
    )
    assert all(isinstance(r, Post) for r in results), results
    numbers = sorted(Post.objects.filter(topic=topic).values_list("number", flat=True))
    assert numbers == list(range(1, 12))
    seqs = list(
        TopicEvent.objects.filter(topic=topic).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 11))
    fresh = Topic.objects.get(pk=topic.pk)
    assert (fresh.last_post_number, fresh.reply_count, fresh.last_seq) == (11, 10, 10)
    assert Category.objects.get(pk=topic.category_id).post_count == 11


def test_the_same_reply_retried_at_once_is_stored_once(race: Race) -> None:
    import uuid

    topic = make_topic()
    member = make_member("retrier").user
    client_id = uuid.uuid4()
    results = race(
        [lambda: post_create(author=member, topic=topic, body="Once", client_id=client_id)] * 5
    )
    assert all(isinstance(r, Post) for r in results), results
    assert len({r.pk for r in results if isinstance(r, Post)}) == 1
    assert Post.objects.filter(topic=topic, author=member).count() == 1
    assert Topic.objects.get(pk=topic.pk).reply_count == 1
