"""community/compiled.py: a queryset compiled once gives what the queryset gives, for any
values of the same shape, in one query, on SQLite and PostgreSQL."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.test.utils import CaptureQueriesContext

from community import compiled
from community.forums.models import Bookmark, Post, Topic
from community.models import Skill, User
from tests.factories import make_member
from tests.forums.factories import make_post, make_topic

pytestmark = pytest.mark.django_db


def _counting(
    build: Callable[..., QuerySet[Any]],
) -> tuple[Callable[..., QuerySet[Any]], list[int]]:
    calls: list[int] = []

    def counted(**values: Any) -> QuerySet[Any]:
        calls.append(1)
        return build(**values)

    return counted, calls


def _topic_with_people(*, pk: int, uid: int) -> QuerySet[Topic]:
    return (
        Topic.objects.select_related("category__parent", "author__profile")
        .annotate(
            replies=F("reply_count"),
            has_mine=Exists(Post.objects.filter(topic=OuterRef("pk"), author_id=uid)),
        )
        .filter(pk=pk)
        .order_by()
    )


def test_model_rows_match_the_queryset_with_related_objects_and_annotations() -> None:
    first, second = make_topic(replies=2), make_topic(replies=1)
    build, calls = _counting(_topic_with_people)
    for topic in (first, second):
        (expected,) = _topic_with_people(pk=topic.pk, uid=topic.author_id)
        category, name = expected.category.name, expected.author.profile.display_name
        with CaptureQueriesContext(connection) as ctx:
            got = compiled.run("test.topic", build, {"pk": topic.pk, "uid": topic.author_id})
        assert len(ctx.captured_queries) == 1
        (one,) = got
        assert one.pk == expected.pk == topic.pk
        with CaptureQueriesContext(connection) as ctx:
            assert one.category.name == category
            assert one.author.profile.display_name == name
            assert (one.replies, one.has_mine) == (expected.replies, expected.has_mine)
            assert (one.replies, one.has_mine) == (topic.reply_count, True)
        assert not ctx.captured_queries  # select_related populated them in the same row
    assert len(calls) == 1  # built (and compiled) once for both topics
    (other,) = compiled.run("test.topic", build, {"pk": first.pk, "uid": second.author_id})
    assert other.has_mine is False
    assert compiled.run("test.topic", build, {"pk": 0, "uid": first.author_id}) == []


def _people(*, ids: list[int]) -> QuerySet[User]:
    return User.objects.filter(pk__in=ids).select_related("profile").defer("profile__bio")


def test_list_values_compile_once_per_length() -> None:
    users = [make_member().user for _ in range(4)]
    build, calls = _counting(_people)
    for chosen in ([users[0], users[1]], [users[2], users[3]], [users[0], users[2], users[3]]):
        ids = [u.pk for u in chosen]
        got = compiled.run("test.people", build, {"ids": ids})
        assert sorted(u.pk for u in got) == sorted(ids)
        assert all(u.get_deferred_fields() == set() for u in got)
        assert {u.profile.get_deferred_fields() == {"bio"} for u in got} == {True}
    assert len(calls) == 2  # lengths 2 and 3


def _posts(*, topic: int) -> QuerySet[Post]:
    return Post.objects.filter(topic_id=topic).defer("body").order_by("number")


def test_a_window_is_a_slice_with_limit_and_offset_as_parameters() -> None:
    topic = make_topic(replies=6)  # posts 1..7
    build, calls = _counting(_posts)
    pages = [
        compiled.run("test.posts", build, {"topic": topic.pk}, window=(o, 3)) for o in (0, 3, 6)
    ]
    assert [[p.number for p in page] for page in pages] == [[1, 2, 3], [4, 5, 6], [7]]
    assert [p.number for p in _posts(topic=topic.pk)[3:6]] == [4, 5, 6]
    assert len(calls) == 1
    assert pages[0][0].get_deferred_fields() == {"body"}


def test_values_and_unions_give_tuples() -> None:
    """The topic page's marks: a union of values_list querysets."""
    from community.forums.selectors.reading import _marks_query
    from community.forums.services.social import reaction_set

    topic = make_topic(replies=2)
    reader = make_member().user
    second, third = topic.posts.filter(number__gt=1).order_by("number")
    reaction_set(user=reader, post=second, kind="like")
    Bookmark.objects.create(user=reader, post=third)
    ids = [second.pk, third.pk]
    got = compiled.run("test.marks", _marks_query, {"uid": reader.pk, "ids": ids})
    assert (
        sorted(got)
        == sorted(_marks_query(uid=reader.pk, ids=ids))
        == sorted([(second.pk, "like"), (third.pk, "+bookmarked")])
    )


def test_a_value_that_does_not_reach_the_parameters_is_refused() -> None:
    def forgets(*, pk: int, uid: int) -> QuerySet[Topic]:
        return Topic.objects.filter(pk=pk)  # uid is not used: it cannot be bound later

    with pytest.raises(ValueError, match="uid"):
        compiled.run("test.forgets", forgets, {"pk": 1, "uid": 2})

    def prefetches(*, pk: int) -> QuerySet[Topic]:
        return Topic.objects.filter(pk=pk).prefetch_related(Prefetch("skills", Skill.objects.all()))

    with pytest.raises(ValueError, match="prefetch"):
        compiled.run("test.prefetches", prefetches, {"pk": 1})

    def flat(*, pk: int) -> QuerySet[Any]:
        return Topic.objects.filter(pk=pk).values_list("pk", flat=True)

    with pytest.raises(ValueError, match="not flat"):
        compiled.run("test.flat", flat, {"pk": 1})


@pytest.mark.django_db(transaction=True)
def test_other_threads_run_it_on_their_own_connection() -> None:
    topic = make_topic(replies=1)
    make_post(topic=topic)
    compiled.run("test.posts.thread", _posts, {"topic": topic.pk})  # compiled here
    out: list[Any] = []

    def elsewhere() -> None:
        from django.db import connection as theirs

        try:
            out.append(
                [p.number for p in compiled.run("test.posts.thread", _posts, {"topic": topic.pk})]
            )
        finally:
            theirs.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(10)
    assert out == [[1, 2, 3]]
