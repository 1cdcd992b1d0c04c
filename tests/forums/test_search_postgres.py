"""Forum search on PostgreSQL: the GIN index is used, stemming, the stored vector
follows edits. Skipped (with the reason) on SQLite."""

import pytest
from django.db import connection

from community.forums.models import Post
from community.forums.selectors.search import (
    DOC_INDEX,
    DOC_TABLE,
    forum_search,
    search_params_clean,
    search_plan,
)
from tests.factories import make_member
from tests.forums.factories import make_post, make_topic

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _found(viewer, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    params = search_params_clean(viewer=viewer, data={"q": q, "group": "post"})
    results = forum_search(viewer=viewer, params=params)
    return [hit.post.pk for hit in results[0:50]]


def _bulk_corpus(topics: int = 300, per_topic: int = 10) -> None:
    """Many posts, quickly (bulk inserts; the counters do not matter here), over words
    that never include the ones searched for, then fresh planner statistics."""
    import random

    from django.utils import timezone

    from community.forums.models import Topic
    from tests.forums.factories import make_category

    rng = random.Random(5)
    words = [
        "buffer",
        "column",
        "titre",
        "feed",
        "pump",
        "valve",
        "probe",
        "sample",
        "batch",
        "record",
        "shift",
    ]
    author = make_member().user
    category = make_category()
    now = timezone.now()
    made = Topic.objects.bulk_create(
        Topic(category=category, author=author, title=f"Topic {i}", slug=f"topic-{i}",
              last_posted_at=now, last_post_number=per_topic)
        for i in range(topics)
    )  # fmt: skip
    Post.objects.bulk_create(
        Post(topic=t, number=n, author=author, body="x", body_html="x",
             body_text=" ".join(rng.choices(words, k=40)))
        for t in made for n in range(1, per_topic + 1)
    )  # fmt: skip
    with connection.cursor() as cursor:
        # fresh GIN entries wait in a pending list the planner costs as a scan: flush it
        cursor.execute(f"SELECT gin_clean_pending_list('{DOC_INDEX}')")
        cursor.execute("ANALYZE forums_post")
        cursor.execute(f"ANALYZE {DOC_TABLE}")
        cursor.execute("ANALYZE forums_topic")
        cursor.execute("ANALYZE forums_category")


def test_the_search_query_uses_the_gin_index() -> None:
    """The planner finds the matches through the GIN index on the search documents (not
    by walking the posts' primary key backwards, which read the whole posts table for a
    rare word). A few thousand posts give it real statistics; a test-sized table is still
    cheapest to scan whole, so sequential scans are switched off for the EXPLAIN (the
    benchmark shows the plan at 100,000)."""
    _bulk_corpus()
    viewer = make_member().user
    make_topic(title="Chromatography resin reuse", body="Cycles and cleaning.")
    for group in ("topic", "post"):
        params = search_params_clean(viewer=viewer, data={"q": "resin cleaning", "group": group})
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search_plan(viewer=viewer, params=params)
        assert f"Bitmap Index Scan on {DOC_INDEX}" in plan, plan
        assert f"Seq Scan on {DOC_TABLE}" not in plan, plan
        assert "forums_post " not in plan, plan  # the wide posts table is not read
        assert "forums_post_pkey" not in plan, plan
        assert forum_search(viewer=viewer, params=params).count() == 1


def test_stemming_finds_other_forms_of_a_word() -> None:
    viewer = make_member().user
    topic = make_topic(title="Shake flask question", body="The cultures were contaminated.")
    opening = topic.posts.get(number=1)
    assert _found(viewer, "culture contamination") == [opening.pk]
    assert _found(viewer, "the and of") == []  # only stop words: nothing, and no error


def test_websearch_syntax() -> None:
    viewer = make_member().user
    a = make_topic(title="Resin lifetime for protein A", body="Cycles counted.").posts.get(number=1)
    b = make_topic(title="Resin lifetime for CEX", body="Cation exchange.").posts.get(number=1)
    assert _found(viewer, "resin -protein") == [b.pk]
    assert set(_found(viewer, '"protein a" or cation')) == {a.pk, b.pk}


def test_the_stored_vector_follows_edits() -> None:
    viewer = make_member().user
    reply = make_post(topic=make_topic(title="Harvest day choice"), body="We harvest on day 12.")
    assert _found(viewer, "centrifuge") == []
    Post.objects.filter(pk=reply.pk).update(body_text="We switched to a disc-stack centrifuge.")
    assert _found(viewer, "centrifuge") == [reply.pk]


def test_title_words_outrank_body_words() -> None:
    viewer = make_member().user
    in_body = make_topic(title="A question on scale", body="Mixing time and kla at scale-up.")
    in_title = make_topic(title="Mixing time at 2000 L", body="How do you measure it?")
    found = _found(viewer, "mixing")
    assert found == [in_title.posts.get(number=1).pk, in_body.posts.get(number=1).pk]


# --- the search documents (migration 0003) follow every write to the posts ----------------
def _documents_match_posts() -> None:
    """The search documents are exactly the posts that are neither deleted nor hidden,
    with their current topic, author, date, verified and accepted flags, vector, and
    their topic's category and liveness."""
    expected = """
        SELECT p.id, p.topic_id, p.author_id, t.category_id, p.created_at,
               p.expert_verified_at IS NOT NULL, coalesce(t.accepted_post_id = p.id, false),
               NOT t.is_deleted AND t.merged_into_id IS NULL, p.search_vector
        FROM forums_post p JOIN forums_topic t ON t.id = p.topic_id
        WHERE NOT p.is_deleted AND NOT p.is_hidden
    """
    actual = f"""
        SELECT post_id, topic_id, author_id, category_id, created_at, is_verified,
               is_accepted, topic_live, search_vector FROM {DOC_TABLE}
    """  # noqa: S608 - constant table name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (({expected} EXCEPT {actual}) UNION ALL "  # noqa: S608
            f"({actual} EXCEPT {expected})) difference"
        )
        assert cursor.fetchone()[0] == 0


def test_search_documents_follow_hiding_deleting_edits_and_moves() -> None:
    from django.utils import timezone

    from community.forums.models import Topic
    from tests.forums.factories import make_category

    viewer = make_member().user
    topic = make_topic(title="Harvest day choice", body="Opening words.")
    reply = make_post(topic=topic, body="A centrifuge question.")
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == [reply.pk]

    Post.objects.filter(pk=reply.pk).update(is_hidden=True)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []
    Post.objects.filter(pk=reply.pk).update(is_hidden=False)
    assert _found(viewer, "centrifuge") == [reply.pk]

    Post.objects.filter(pk=reply.pk).update(expert_verified_at=timezone.now())
    _documents_match_posts()
    Topic.objects.filter(pk=topic.pk).update(accepted_post=reply)
    _documents_match_posts()
    Topic.objects.filter(pk=topic.pk).update(accepted_post=topic.posts.get(number=1))
    _documents_match_posts()
    Topic.objects.filter(pk=topic.pk).update(accepted_post=None)
    _documents_match_posts()

    # the topic moves, is deleted, merged away, restored
    lounge = make_category(slug="lounge", required_role="facilitator")
    Topic.objects.filter(pk=topic.pk).update(category=lounge)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []
    Topic.objects.filter(pk=topic.pk).update(category=topic.category)
    assert _found(viewer, "centrifuge") == [reply.pk]
    Topic.objects.filter(pk=topic.pk).update(is_deleted=True)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []
    other = make_topic(title="Another topic")
    Topic.objects.filter(pk=topic.pk).update(is_deleted=False, merged_into=other)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []
    Topic.objects.filter(pk=topic.pk).update(merged_into=None)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == [reply.pk]

    # moved (as a merge does) into a topic in a category the viewer may not read
    facilitator = make_member(roles=("facilitator",)).user
    hidden_topic = make_topic(category=lounge, author=facilitator, title="Facilitators only")
    Post.objects.filter(pk=reply.pk).update(topic=hidden_topic, number=7)
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []
    assert _found(facilitator, "centrifuge") == [reply.pk]

    # the reactions counter and similar columns do not touch the document
    Post.objects.filter(pk=reply.pk).update(reaction_counts={"+1": 2})
    _documents_match_posts()

    Post.objects.filter(pk=reply.pk).update(is_deleted=True)
    _documents_match_posts()
    Post.objects.filter(pk=reply.pk).update(is_deleted=False, topic=topic, number=2)
    assert _found(viewer, "centrifuge") == [reply.pk]

    Topic.objects.filter(pk=hidden_topic.pk).delete()  # hard delete: its posts go too
    Post.objects.filter(pk=reply.pk).delete()
    _documents_match_posts()
    assert _found(viewer, "centrifuge") == []


def test_search_documents_follow_bulk_inserts_and_truncate() -> None:
    _bulk_corpus(topics=20, per_topic=5)
    _documents_match_posts()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DOC_TABLE}")  # noqa: S608 - constant
        assert cursor.fetchone()[0] == Post.objects.count() == 100
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
        cursor.execute("TRUNCATE forums_post CASCADE")
        cursor.execute(f"SELECT count(*) FROM {DOC_TABLE}")  # noqa: S608 - constant
        assert cursor.fetchone()[0] == 0


def test_a_page_is_two_queries_with_the_window_and_other_slices_still_work(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    """With the page it will ask for, the search counts and ranks it in one statement,
    then fetches its posts; another slice of the same search gives what a search without
    a window gives."""
    from community.forums.selectors.search import page_window

    viewer = make_member().user
    for i in range(7):
        make_topic(title=f"Resin cleaning cycle {i}", body="Cleaning in place with NaOH.")
    params = search_params_clean(viewer=viewer, data={"q": "resin cleaning", "group": "post"})
    plain = forum_search(viewer=viewer, params=params)
    expected = [hit.post.pk for hit in plain[0:7]]
    assert len(expected) == 7
    assert page_window("2", 3) == (3, 6)
    assert page_window("x", 3) == page_window("0", 3) == (0, 3)
    windowed = forum_search(viewer=viewer, params=params, window=page_window("2", 3))
    with django_assert_num_queries(2):
        assert windowed.count() == 7
        assert [hit.post.pk for hit in windowed[3:6]] == expected[3:6]
    assert [hit.post.pk for hit in windowed[0:3]] == expected[0:3]  # not the window
    empty = search_params_clean(viewer=viewer, data={"q": "centrifuge"})
    nothing = forum_search(viewer=viewer, params=empty, window=(0, 20))
    assert nothing.count() == 0
    assert nothing[0:20] == []
