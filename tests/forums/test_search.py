"""Forum search: matching, ranking, filters, visibility, excerpts, bad input, pages, API.

These run on both backends: SQLite (the term-search fallback) by default, PostgreSQL
full-text search with DATABASE_URL. PostgreSQL-only behaviour is in
test_search_postgres.py."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.forums.models import Post, Topic, TopicKind
from community.forums.selectors.search import (
    SearchParams,
    forum_search,
    marked_html,
    query_terms,
    search_params_clean,
    text_excerpt,
    uses_postgres,
)
from tests.api.helpers import assert_error
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db

URL = "/forums/search/"
API = "/api/v1/forums/search/"


def _search(viewer, **data):  # type: ignore[no-untyped-def]
    params = search_params_clean(viewer=viewer, data=data)
    results = forum_search(viewer=viewer, params=params)
    return results[0 : results.count()]


def _titles(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.topic.title for hit in hits]


# --- matching and ranking ----------------------------------------------------------------
def test_finds_topics_by_title_and_by_reply_text() -> None:
    viewer = make_member().user
    by_title = make_topic(title="Viability drop on day nine", body="Seen in two runs now.")
    by_reply = make_topic(title="Feeding strategy for fed-batch", body="Which feed do you use?")
    make_post(topic=by_reply, body="We saw a viability drop after switching feeds.")
    make_topic(title="Protein A resin lifetime", body="How many cycles do you get?")

    hits = _search(viewer, q="viability")
    assert {h.topic.pk for h in hits} == {by_title.pk, by_reply.pk}
    # the title match ranks first
    assert hits[0].topic.pk == by_title.pk
    assert hits[0].post.number == 1


def test_every_word_must_match() -> None:
    viewer = make_member().user
    both = make_topic(title="Lactate and ammonium in perfusion", body="Lactate climbs daily.")
    make_topic(title="Lactate shift in fed-batch runs", body="Only lactate here.")
    assert _titles(_search(viewer, q="lactate perfusion")) == [both.title]


def test_excluded_words_and_phrases() -> None:
    viewer = make_member().user
    keep = make_topic(title="Column packing asymmetry", body="Our HETP is poor after packing.")
    make_topic(title="Column packing for protein A", body="We pack protein A resin by hand.")
    assert _titles(_search(viewer, q="column packing -protein")) == [keep.title]
    assert _titles(_search(viewer, q='"protein a resin"')) == ["Column packing for protein A"]


def test_grouped_by_topic_or_one_result_per_post() -> None:
    viewer = make_member().user
    topic = make_topic(title="Sterile filtration of buffers", body="Which filter for buffers?")
    make_post(topic=topic, body="For buffers a 0.2 micron filter is standard.")
    make_post(topic=topic, body="Flush the filter before the buffers go through.")
    assert len(_search(viewer, q="buffers")) == 1
    per_post = _search(viewer, q="buffers", group="post")
    assert sorted(h.post.number for h in per_post) == [1, 2, 3]


def test_accepted_answer_ranks_above_an_equal_reply() -> None:
    viewer = make_member().user
    topic = make_topic(title="Question about seeding", body="How do we seed?", kind="question")
    plain = make_post(topic=topic, body="Endotoxin limits depend on the dose.")
    accepted = make_post(topic=topic, body="Endotoxin limits depend on the dose.")
    Topic.objects.filter(pk=topic.pk).update(accepted_post=accepted)
    hits = _search(viewer, q="endotoxin", group="post")
    assert [h.post.pk for h in hits] == [accepted.pk, plain.pk]


def test_newest_order() -> None:
    viewer = make_member().user
    old = make_topic(title="Osmolality drift in media", body="Osmolality rises.")
    new = make_topic(title="Osmolality of feeds", body="Osmolality again.")
    Post.objects.filter(topic=old).update(created_at=timezone.now() - dt.timedelta(days=3))
    assert _titles(_search(viewer, q="osmolality", order="newest")) == [new.title, old.title]


# --- filters ------------------------------------------------------------------------------
def test_category_filter_includes_its_children() -> None:
    viewer = make_member().user
    upstream = make_category(slug="upstream")
    cgt = make_category(slug="cgt", parent=upstream)
    other = make_category(slug="qc")
    in_parent = make_topic(category=upstream, title="Transfection efficiency low")
    in_child = make_topic(category=cgt, title="Transfection of AAV plasmids")
    make_topic(category=other, title="Transfection reagent QC testing")
    found = {h.topic.pk for h in _search(viewer, q="transfection", category="upstream")}
    assert found == {in_parent.pk, in_child.pk}
    assert _titles(_search(viewer, q="transfection", category="cgt")) == [in_child.title]


def test_tag_author_kind_and_status_filters() -> None:
    viewer = make_member().user
    asker = make_member("asker").user
    tagged = make_topic(
        title="Depth filter sizing question",
        author=asker,
        kind=TopicKind.QUESTION,
        skills=["depth-filtration-harvest-clarification"],
    )
    solved = make_topic(title="Depth filter capacity test", kind=TopicKind.QUESTION)
    answer = make_post(topic=solved, body="Run a Vmax test on the depth filter.")
    Topic.objects.filter(pk=solved.pk).update(accepted_post=answer)
    discussion = make_topic(title="Depth filter vendors compared")

    def found(**filters: str) -> set[int]:
        return {h.topic.pk for h in _search(viewer, q="depth filter", **filters)}

    assert found(tag="depth-filtration-harvest-clarification") == {tagged.pk}
    assert found(author="asker") == {tagged.pk}
    assert found(author="@asker") == {tagged.pk}
    assert found(kind="question") == {tagged.pk, solved.pk}
    assert found(kind="discussion") == {discussion.pk}
    assert found(status="solved") == {solved.pk}
    assert found(status="unsolved") == {tagged.pk}


def test_date_range_filter_is_inclusive() -> None:
    viewer = make_member().user
    topic = make_topic(title="Endotoxin spike recovery", body="Spike recovery failed.")
    reply = make_post(topic=topic, body="Spike recovery needs the right dilution.")
    Post.objects.filter(pk=topic.posts.get(number=1).pk).update(
        created_at=dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    )
    Post.objects.filter(pk=reply.pk).update(created_at=dt.datetime(2026, 2, 20, 9, tzinfo=dt.UTC))

    def numbers(**filters: str) -> list[int]:
        return sorted(h.post.number for h in _search(viewer, q="spike", group="post", **filters))

    assert numbers(after="2026-02-20") == [2]
    assert numbers(before="2026-01-10") == [1]
    assert numbers(after="2026-01-10", before="2026-02-20") == [1, 2]
    assert numbers(after="2026-01-11", before="2026-02-19") == []


# --- visibility ---------------------------------------------------------------------------
def test_restricted_categories_never_leak() -> None:
    lounge = make_category(slug="lounge", required_role="facilitator")
    facilitator = make_member(roles=("facilitator",)).user
    secret = make_topic(
        category=lounge, author=facilitator, title="Facilitator pay rates discussion"
    )
    make_post(topic=secret, author=facilitator, body="Pay rates for the next cohort.")
    public = make_topic(title="Pay rates for QC analysts in Nairobi")
    learner = make_member().user
    from django.contrib.auth.models import AnonymousUser

    for viewer in (learner, AnonymousUser()):
        assert {h.topic.pk for h in _search(viewer, q="pay rates", group="post")} == {public.pk}
        with pytest.raises(ValidationError) as exc:
            search_params_clean(viewer=viewer, data={"q": "pay", "category": "lounge"})
        assert "category" in exc.value.message_dict
    assert {h.topic.pk for h in _search(facilitator, q="pay rates")} == {secret.pk, public.pk}
    assert {h.topic.pk for h in _search(make_moderator(), q="pay rates")} == {
        secret.pk,
        public.pk,
    }


def test_deleted_and_hidden_posts_and_deleted_topics_are_never_found() -> None:
    author = make_member().user
    topic = make_topic(title="Cleaning validation swab sites")
    hidden = make_post(topic=topic, author=author, body="Rinse samples from the manway.")
    deleted = make_post(topic=topic, author=author, body="Rinse samples again please.")
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    Post.objects.filter(pk=deleted.pk).update(is_deleted=True)
    gone = make_topic(title="Rinse sampling recovery factors")
    Topic.objects.filter(pk=gone.pk).update(is_deleted=True)
    for viewer in (author, make_moderator(), make_member().user):
        assert _search(viewer, q="rinse") == []


# --- excerpts -----------------------------------------------------------------------------
def test_excerpts_escape_member_text_and_mark_matches() -> None:
    viewer = make_member().user
    make_topic(
        title="Chromatogram shows a <b>shoulder</b>",
        body='Peak `<script>alert("x")</script>` shoulder & tailing on the SEC column.',
    )
    (hit,) = _search(viewer, q="shoulder")
    assert "<script>" not in hit.excerpt_html
    assert "<b>" not in hit.title_html
    assert "&lt;b&gt;" in hit.title_html
    # PostgreSQL's ts_headline drops what its parser reads as tags; SQLite escapes them
    assert "&lt;script&gt;" in hit.excerpt_html or (
        uses_postgres() and "script" not in hit.excerpt_html and "alert" in hit.excerpt_html
    )
    assert "<mark>shoulder</mark>" in hit.excerpt_html.lower()
    assert "<mark>shoulder</mark>" in hit.title_html.lower()
    assert "&amp;" in hit.excerpt_html


def test_marked_html_balances_and_escapes() -> None:
    assert marked_html("a \x02<b>\x03 c \x02d") == "a <mark>&lt;b&gt;</mark> c <mark>d</mark>"
    assert marked_html("\x03x\x02\x02y") == "x<mark>y</mark>"


def test_text_excerpt_is_cut_around_the_first_match() -> None:
    text = " ".join(["filler"] * 100) + " the needle is here " + " ".join(["tail"] * 100)
    excerpt = text_excerpt(text, ["needle"])
    assert excerpt.startswith("… ")
    assert excerpt.endswith(" …")
    assert "<mark>needle</mark>" in excerpt
    assert len(excerpt) < 300


def test_query_terms() -> None:
    assert query_terms('Protein "A resin" -agarose or Cycles') == (
        ["protein", "a resin", "cycles"],
        ["agarose"],
    )


# --- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "-only -excluded"}, "q"),
        ({"q": "ok", "category": "nope"}, "category"),
        ({"q": "ok", "tag": "no-such-skill"}, "tag"),
        ({"q": "ok", "author": "nobody-here"}, "author"),
        ({"q": "ok", "status": "maybe"}, "status"),
        ({"q": "ok", "kind": "poll"}, "kind"),
        ({"q": "ok", "group": "category"}, "group"),
        ({"q": "ok", "order": "random"}, "order"),
        ({"q": "ok", "after": "31/12/2025"}, "after"),
        ({"q": "ok", "after": "2026-02-01", "before": "2026-01-01"}, "before"),
    ],
)
def test_bad_input_gets_a_clear_error(data: dict[str, str], field: str, client) -> None:  # type: ignore[no-untyped-def]
    viewer = make_member().user
    with pytest.raises(ValidationError) as exc:
        search_params_clean(viewer=viewer, data=data)
    assert list(exc.value.message_dict) == [field]
    error = assert_error(client.get(API, data), 400, "invalid", {field})
    assert error["fields"][field] == exc.value.message_dict[field]
    if data["q"]:  # the page: the form again, the error next to the field
        page = client.get(URL, data)
        assert page.status_code == 400
        html = page.content.decode()
        assert f'id="search-{field}-errors"' in html
        assert 'aria-invalid="true"' in html


def test_empty_query_shows_the_form_with_a_hint(client) -> None:  # type: ignore[no-untyped-def]
    for query in ({}, {"q": "   "}, {"q": "", "category": "nope"}):
        page = client.get(URL, query)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="search-hint"' in html
        assert '<form method="get"' in html
        assert 'name="q"' in html
        assert "errorlist" not in html


def test_overlong_query_keeps_what_was_typed(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get(URL, {"q": "viability " * 30})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Keep the search under 200 characters" in html
    assert "viability viability" in html


# --- pages and API --------------------------------------------------------------------------
def test_page_shows_results_with_marked_excerpts_and_filters_kept(client) -> None:  # type: ignore[no-untyped-def]
    category = make_category(slug="downstream", name="Downstream")
    topic = make_topic(category=category, title="Viral filtration flux decay", body="Flux decays.")
    page = client.get(URL, {"q": "flux", "category": "downstream"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 result" in html
    assert topic.get_absolute_url() in html
    assert "<mark>" in html
    assert '<option value="downstream" selected>' in html


def test_page_is_paginated(client) -> None:  # type: ignore[no-untyped-def]
    category = make_category()
    for i in range(23):
        make_topic(category=category, title=f"Bioburden excursion number {i}", body="Bioburden.")
    first = client.get(URL, {"q": "bioburden"}).content.decode()
    assert "23 results" in first
    assert 'rel="next"' in first
    assert first.count('class="card search-hit"') == 20
    second = client.get(URL, {"q": "bioburden", "page": 2}).content.decode()
    assert second.count('class="card search-hit"') == 3


def test_api_results_and_pagination(api_client) -> None:  # type: ignore[no-untyped-def]
    topic = make_topic(
        title="HCP ELISA coverage question",
        body="Is our HCP ELISA <coverage> enough?",
        skills=["host-cell-protein-and-residual-dna"],
    )
    response = api_client.get(API, {"q": "elisa", "page_size": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    (hit,) = body["results"]
    assert hit["topic"]["id"] == topic.pk
    assert hit["topic"]["url"] == topic.get_absolute_url()
    assert hit["topic"]["tags"] == ["host-cell-protein-and-residual-dna"]
    assert hit["post"]["number"] == 1
    assert "<mark>elisa</mark>" in hit["excerpt_html"].lower()
    assert "<coverage>" not in hit["excerpt_html"]
    assert_error(api_client.get(API, {"q": "elisa", "page": 9}), 404)


def test_search_params_filters_round_trip() -> None:
    viewer = make_member().user
    make_category(slug="qc")
    params = search_params_clean(
        viewer=viewer, data={"q": " too   many  spaces ", "category": "qc", "group": "post"}
    )
    assert isinstance(params, SearchParams)
    assert params.q == "too many spaces"
    assert params.filters() == {"category": "qc", "group": "post"}


# --- query counts ---------------------------------------------------------------------------
@pytest.mark.parametrize("topics", [2, 25])
def test_page_and_api_run_a_constant_number_of_queries(
    topics: int,
    client,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    category = make_category(slug="gmp")
    for i in range(topics):
        topic = make_topic(
            category=category,
            title=f"Deviation triage meeting {i}",
            skills=["deviation-investigation-and-capa"],
        )
        make_post(topic=topic, body="Deviation owners attend.")
    client.force_login(make_member().user)
    # session, user, time zone, permissions (2), roles, unread notifications; categories
    # and tags for the form; the category filter; count, page ids, the page's posts, tags
    with django_assert_max_num_queries(14):
        page = client.get(URL, {"q": "deviation", "category": "gmp"})
    assert page.status_code == 200
    with django_assert_max_num_queries(13):
        page = client.get(URL, {"q": "deviation", "group": "post"})
    assert page.status_code == 200
    with django_assert_max_num_queries(11):  # the page less the form and notifications
        response = client.get(API, {"q": "deviation", "tag": "deviation-investigation-and-capa"})
    assert response.status_code == 200
    assert response.json()["count"] == topics


def test_tag_options_come_from_a_cached_catalogue(client) -> None:  # type: ignore[no-untyped-def]
    """The form's tag list is the active skills, grouped by area, with the chosen one
    selected; it is cached (the catalogue rarely changes), so a second page does not read
    the skills again; saving or deleting a skill forgets the cache at once, a bulk change
    (no signals) shows once the entry expires."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.html import escape

    from community.forums.views.search import TAG_CACHE_KEY
    from community.models import Skill

    skill = Skill.objects.filter(is_active=True).select_related("area").first()
    assert skill is not None
    page = client.get(URL, {"q": "anything", "tag": skill.slug}).content.decode()
    assert f'<optgroup label="{escape(skill.area.name)}">' in page
    assert f'<option value="{skill.slug}" selected>' in page
    with CaptureQueriesContext(connection) as ctx:
        client.get(URL)
    assert not [q for q in ctx.captured_queries if "community_skill" in q["sql"]]
    Skill.objects.create(area=skill.area, slug="brand-new-skill", name="Brand new skill")
    page = client.get(URL).content.decode()
    assert '<option value="brand-new-skill">Brand new skill</option>' in page
    Skill.objects.filter(slug="brand-new-skill").update(name="Renamed in bulk")
    assert "Renamed in bulk" not in client.get(URL).content.decode()
    cache.delete(TAG_CACHE_KEY)  # what the timeout does
    assert (
        '<option value="brand-new-skill">Renamed in bulk</option>'
        in client.get(URL).content.decode()
    )
    Skill.objects.get(slug="brand-new-skill").delete()
    assert "brand-new-skill" not in client.get(URL).content.decode()
