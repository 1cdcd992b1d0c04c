"""Two members on one forum topic in two browsers: a reply with a mention appears live
for the asker, the mention's notification arrives, and the accepted answer shows live
for the one who answered (issue 3, "Done when")."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from community.forums.models import Draft, ReadState, Topic
from community.models import User
from tests.browser.helpers import log_in, off_thread
from tests.conftest import LiveServer
from tests.factories import make_member
from tests.forums.factories import make_category, make_post, make_topic

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TOPIC_SOCKET_OPEN = "() => !!(window.hub && window.hub.topic) && hub.topic.readyState === 1"
NOTIFICATIONS_OPEN = (
    "() => !!(window.hub && window.hub.notifications) && hub.notifications.readyState === 1"
)
# Set on the page's window: still there later means the page was never reloaded.
MARK = "() => { window.stillTheSamePage = true; }"
SAME_PAGE = "() => window.stillTheSamePage === true"


def _open_topic(page: Page, server: LiveServer, topic: Topic) -> None:
    page.goto(server.url + topic.get_absolute_url())
    page.wait_for_function(TOPIC_SOCKET_OPEN)
    page.wait_for_function(NOTIFICATIONS_OPEN)
    page.evaluate(MARK)


def test_reply_with_mention_appears_live_and_the_accepted_answer_follows(
    transactional_db: None, live_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Bisi asks; Ama replies "@bisi ..." (picked from the autocomplete) through the
    page; Bisi's open page shows the reply and the mention notification without a
    reload, and moves her read position; Bisi marks it accepted; Ama's open page shows
    it accepted without a reload."""
    asker = make_member("bisi", display_name="Bisi Adeyemi").user
    make_member("bisimwa", display_name="Bisimwa Bello")  # also matches "@bisi"
    make_member("ama", display_name="Ama Owusu")
    category = make_category(slug="upstream", name="Upstream processing")
    topic = make_topic(
        author=asker,
        category=category,
        title="Why does CHO viability drop on day 9?",
        body="My fed-batch loses 20% viability between day 8 and day 9.",
        kind="question",
    )

    bisi: Page = new_context().new_page()
    ama: Page = new_context().new_page()
    log_in(bisi, live_daphne, "bisi")
    log_in(ama, live_daphne, "ama")
    _open_topic(bisi, live_daphne, topic)
    _open_topic(ama, live_daphne, topic)

    # Ama writes her answer, mentioning Bisi through the autocomplete (keyboard only);
    # Escape closes the list without choosing.
    box = ama.get_by_role("textbox", name="Your reply")
    box.click()
    box.press_sequentially("@bis")
    listbox0 = ama.get_by_role("listbox", name="Members")
    expect(listbox0).to_be_visible()
    box.press("Escape")
    expect(listbox0).to_be_hidden()
    box.press_sequentially("i")
    listbox = ama.get_by_role("listbox", name="Members")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
    usernames = listbox.get_by_role("option").evaluate_all(
        "options => options.map(o => o.dataset.username)"
    )
    assert sorted(usernames) == ["bisi", "bisimwa"], usernames
    # Arrow keys move the active option (wrapping around); Enter picks it.
    for _ in range(len(usernames) + usernames.index("bisi")):
        box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert ama.locator(f"#{active}").get_attribute("data-username") == "bisi"
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    # What she types is saved as her draft for this topic (debounced PUT).
    with ama.expect_response(
        lambda r: (
            r.url.endswith(f"/api/v1/forums/drafts/t/{topic.pk}/") and r.request.method == "PUT"
        )
    ) as saved:
        box.press_sequentially("check the **glucose** feed on day 7.")
    assert saved.value.status == 200
    expect(ama.get_by_text("Draft saved.")).to_be_visible()
    expect(box).to_have_value("@bisi check the **glucose** feed on day 7.")
    draft = Draft.objects.get(user__username="ama", topic=topic)
    assert draft.body == "@bisi check the **glucose** feed on day 7."
    # The live preview renders the Markdown.
    expect(ama.locator(".post-preview strong")).to_have_text("glucose")

    with bisi.expect_response(lambda r: r.url.endswith(f"/forums/t/{topic.pk}/read/")) as read:
        ama.get_by_role("button", name="Post reply").click()
        # Bisi's page: the reply appears, built from the live event ...
        reply = bisi.locator("#post-2")
        expect(reply.locator(".post-body")).to_contain_text("check the glucose feed on day 7.")
        expect(reply.locator(".post-body strong")).to_have_text("glucose")
        expect(reply.locator(".post-author")).to_contain_text("Ama Owusu")
        # ... and then gets Bisi's own controls from the server, in place
        expect(reply.get_by_role("button", name=re.compile(r"^Like"))).to_be_visible()
        # ... and so does the notification of the mention, on the notifications socket.
        expect(bisi.locator("#live-status")).to_contain_text("Ama Owusu mentioned you")
    assert read.value.status == 200
    assert bisi.evaluate(SAME_PAGE), "Bisi's page was reloaded"
    assert not Draft.objects.filter(user__username="ama", topic=topic).exists()  # posted
    assert ReadState.objects.get(user__username="bisi", topic=topic).last_read_number == 2

    # Ama's own page is the redirect after posting; Bisi accepts through her page.
    ama.wait_for_function(TOPIC_SOCKET_OPEN)
    expect(ama.locator("#post-2")).to_be_visible()
    ama.evaluate(MARK)
    # The live reply on Bisi's page came with her controls (fetched from the server),
    # so she accepts it without a reload.
    assert bisi.evaluate(SAME_PAGE), "Bisi's page was reloaded"
    bisi.locator("#post-2").get_by_role("button", name="Mark as accepted answer").click()
    expect(bisi.locator("#post-2").get_by_text("Accepted answer").first).to_be_visible()

    accepted = ama.locator("#post-2")
    expect(accepted).to_have_class(re.compile(r"\bis-accepted\b"))
    expect(accepted.locator("[data-accepted]")).to_contain_text("Accepted answer")
    expect(ama.locator(".topic-badges .badge.solved")).to_have_text("Solved")
    assert ama.evaluate(SAME_PAGE), "Ama's page was reloaded"


def _reply_published_on_redis(topic_id: int, username: str, body: str) -> None:
    """A reply made in this process, its live event published on the server's Redis."""
    from django.test import override_settings

    from tests.browser.helpers import redis_channel_layers

    with override_settings(CHANNEL_LAYERS=redis_channel_layers()):
        make_post(
            topic=Topic.objects.get(pk=topic_id),
            author=User.objects.get(username=username),
            body=body,
        )


@pytest.mark.redis
def test_anonymous_reader_gets_a_new_replies_notice_and_resumes_after_going_offline(
    transactional_db: None, redis_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """A visitor reading the top of a long topic is told "1 new reply" and taken to it;
    after the connection drops, what was posted meanwhile appears once it is back."""
    asker = make_member("bisi", display_name="Bisi Adeyemi").user
    make_member("ama", display_name="Ama Owusu")
    topic = make_topic(author=asker, replies=12, title="Viability drop on day 9 of fed-batch")
    context = new_context()
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(redis_daphne.url + topic.get_absolute_url())
    page.wait_for_function(TOPIC_SOCKET_OPEN)
    page.evaluate(MARK)
    page.evaluate("() => window.scrollTo(0, 0)")
    assert sockets[-1].endswith(f"/ws/forums/topics/{topic.pk}/?after={topic.last_seq}")

    off_thread(_reply_published_on_redis, topic.pk, "ama", "Have you checked **ammonia**?")
    notice = page.get_by_role("button", name="1 new reply")
    expect(notice).to_be_visible()
    new_post = page.locator("#post-14")
    expect(new_post.locator(".post-body strong")).to_have_text("ammonia")
    expect(new_post).not_to_be_in_viewport()
    notice.click()
    expect(new_post).to_be_in_viewport()
    expect(notice).to_be_hidden()

    # The connection drops; a reply is posted meanwhile; it arrives when back online.
    context.set_offline(True)
    page.evaluate("() => window.hub.topic.close()")
    page.wait_for_function("() => window.hub.topic.readyState === 3")
    off_thread(_reply_published_on_redis, topic.pk, "ama", "Posted while you were away.")
    # Past the first reconnect delay (1 s): the attempt failed, the reply is not shown.
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.hub.topic.readyState") != 1
    expect(page.locator("#post-15")).to_have_count(0)
    context.set_offline(False)
    expect(page.locator("#post-15 .post-body")).to_have_text("Posted while you were away.")
    assert sockets[-1].endswith(f"?after={topic.last_seq + 1}"), sockets
    assert page.locator("article.post").count() == 15
    assert page.evaluate(SAME_PAGE), "the page was reloaded"


def _edit_published_on_redis(post_id: int, body: str) -> None:
    """An edit made in this process, its live event published on the server's Redis."""
    from django.test import override_settings

    from community.forums.models import Post
    from community.forums.services.posting import post_edit
    from tests.browser.helpers import redis_channel_layers

    post = Post.objects.select_related("author", "topic").get(pk=post_id)
    with override_settings(CHANNEL_LAYERS=redis_channel_layers()):
        post_edit(editor=post.author, post=post, body=body)


@pytest.mark.redis
def test_a_live_reply_edited_while_its_controls_load_shows_the_edit(
    transactional_db: None, redis_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """A signed-in reader's page fetches a live reply's markup (with her controls) from
    the server; when the author edits the reply while that fetch is under way, the
    answer is out of date: the page fetches it again rather than putting the old text
    back over the edit."""
    from playwright.sync_api import Route

    make_member("bisi", display_name="Bisi Adeyemi")
    make_member("ama", display_name="Ama Owusu")
    topic = make_topic(title="Viability drop on day 9 of fed-batch")
    page = new_context().new_page()
    log_in(page, redis_daphne, "bisi")
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/forums/p/\d+/html/"), hold_first)
    page.goto(redis_daphne.url + topic.get_absolute_url())
    page.wait_for_function(TOPIC_SOCKET_OPEN)
    page.evaluate(MARK)

    off_thread(_reply_published_on_redis, topic.pk, "ama", "Check the glucose feed.")
    reply = page.locator("#post-2")
    expect(reply.locator(".post-body")).to_contain_text("Check the glucose feed.")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page did not fetch the live reply's markup"
    stale = held[0].fetch()  # the reply as it is now, before the edit
    post_id = int(re.search(r"/forums/p/(\d+)/html/", held[0].request.url).group(1))  # type: ignore[union-attr]
    off_thread(_edit_published_on_redis, post_id, "Check the **ammonia** level too.")
    expect(reply.locator(".post-body strong")).to_have_text("ammonia")
    held[0].fulfill(response=stale)  # the out-of-date answer arrives after the edit
    expect(reply.get_by_role("button", name=re.compile(r"^Like"))).to_be_visible()
    expect(reply.locator(".post-body strong")).to_have_text("ammonia")
    expect(reply.locator(".post-body")).not_to_contain_text("glucose")
    assert page.evaluate(SAME_PAGE), "the page was reloaded"
