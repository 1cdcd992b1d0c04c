"""community.markup: the one Markdown renderer members' writing goes through."""

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from community.markup import markdown_to_text, render_markdown

PAYLOADS = [
    line
    for line in (Path(__file__).parent / "xss_payloads.txt").read_text(encoding="utf-8").split("\n")
    if line.strip()
]
ALLOWED_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcset"}
FORBIDDEN_ATTRIBUTES = {"style", "srcdoc", "formaction"}
# What the renderer may emit at all (lite, for chat, has no headings, rules or tables).
EXPECTED_FULL_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
EXPECTED_LITE_TAGS = EXPECTED_FULL_TAGS - {"h1", "h2", "h3", "h4", "h5", "h6", "hr", "table",
                                           "thead", "tbody", "tr", "th", "td"}  # fmt: skip


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [(name, value or "") for name, value in attrs]))

    handle_startendtag = handle_starttag


def parse(rendered: str) -> list[tuple[str, list[tuple[str, str]]]]:
    collector = TagCollector()
    collector.feed(rendered)
    collector.close()
    return collector.tags


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in a URL attribute; None for a relative URL."""
    cleaned = html.unescape(value)
    cleaned = "".join(ch for ch in cleaned if not (ch.isspace() or ord(ch) < 0x20 or
                                                   0x7F <= ord(ch) <= 0x9F))  # fmt: skip
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else None


def test_corpus_is_large_enough() -> None:
    """The XSS corpus holds at least 50 payloads."""
    assert len(PAYLOADS) >= 50


@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{i:03d}" for i in range(len(PAYLOADS))])
def test_xss_payload_renders_harmless(payload: str, lite: bool) -> None:
    """No payload yields a disallowed tag, event handler, style, or dangerous URL."""
    rendered = str(render_markdown(payload, lite=lite))
    allowed = EXPECTED_LITE_TAGS if lite else EXPECTED_FULL_TAGS
    for tag, attrs in parse(rendered):
        assert tag in allowed, f"tag <{tag}> in {rendered!r}"
        for name, value in attrs:
            name = name.lower()
            assert not name.startswith("on"), f"{name} on <{tag}> in {rendered!r}"
            assert name not in FORBIDDEN_ATTRIBUTES, f"{name} on <{tag}> in {rendered!r}"
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value)
                assert scheme is None or scheme in ALLOWED_SCHEMES, f"{value!r} in {rendered!r}"
            unescaped = html.unescape(value).lower()
            assert "<script" not in unescaped, f"{name}={value!r} in {rendered!r}"
            assert "javascript:" not in unescaped, f"{name}={value!r} in {rendered!r}"
    # Everything between tags is text: "<script" can only survive escaped.
    assert "<script" not in rendered.lower()


def test_payload_corpus_in_a_bio_is_harmless_on_the_member_page(client: Client, db: None) -> None:
    """The whole corpus as a bio leaves the member page with only the hub's own script."""
    from tests.factories import make_member

    make_member("mallory", display_name="Mallory", bio="\n\n".join(PAYLOADS)[:5000])
    page = client.get("/members/mallory/").content.decode()
    start = page.index('<div class="markdown">')
    about = page[start : page.index("</section>", start)]
    assert "&lt;script&gt;" in about
    for tag, attrs in parse(about):
        assert tag in EXPECTED_FULL_TAGS | {"div"}
        assert not any(name.startswith("on") for name, _ in attrs)
    scripts = [dict(attrs) for tag, attrs in parse(page) if tag == "script"]
    assert scripts
    assert all(s.get("src", "").startswith("/static/") for s in scripts)


# --- ordinary Markdown ------------------------------------------------------------------
@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
def test_basic_markdown_renders(lite: bool) -> None:
    """Bold, italics, strikethrough, lists, inline code and code blocks render as HTML."""
    text = (
        "**bold** and *italic* and ~~gone~~\n\n"
        "- one\n- two\n\n"
        "1. first\n2. second\n\n"
        "Use `kubectl` now.\n\n"
        "```\nprint('hi')\n```\n\n"
        "> quoted"
    )
    rendered = str(render_markdown(text, lite=lite))
    assert "<strong>bold</strong>" in rendered
    assert "<em>italic</em>" in rendered
    assert "<s>gone</s>" in rendered or "<del>gone</del>" in rendered
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in rendered
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in rendered
    assert "<code>kubectl</code>" in rendered
    assert "<pre><code>print(&#39;hi&#39;)\n</code></pre>" in rendered or (
        "<pre><code>print('hi')\n</code></pre>" in rendered
    )
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in rendered


TABLE = "| Step | Temp |\n|:-----|-----:|\n| Thaw | 37 |\n"


def test_tables_and_headings_render_in_full_mode() -> None:
    """Full mode renders tables (with alignment only), headings and rules."""
    rendered = str(render_markdown(TABLE + "\n# Title\n\n---\n"))
    assert "<table>" in rendered
    assert "<th" in rendered
    assert "<td" in rendered
    assert "Thaw" in rendered
    styles = re.findall(r'style="([^"]*)"', rendered)
    assert styles, rendered
    assert all(re.fullmatch(r"text-align:\s*(left|right|center);?", s) for s in styles)
    assert "<h1>Title</h1>" in rendered
    assert "<hr>" in rendered


def test_lite_mode_has_no_tables_headings_or_rules() -> None:
    """Lite mode (chat) leaves tables, headings and rules as plain text."""
    rendered = str(render_markdown(TABLE + "\n# Title\n\n---\n", lite=True))
    for tag in ("<table", "<th", "<td", "<h1", "<hr"):
        assert tag not in rendered
    assert "| Step | Temp |" in rendered
    assert "# Title" in rendered


@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[the guide](https://example.org/guide)", "https://example.org/guide"),
        ("see https://example.org/x for more", "https://example.org/x"),
        ("[write](mailto:qa@example.org)", "mailto:qa@example.org"),
        ("[relative](/members/amina/)", "/members/amina/"),
    ],
)
def test_links_get_nofollow_ugc_noopener(text: str, href: str, lite: bool) -> None:
    """Every link, written or auto-linked, keeps its target and gets rel="nofollow ugc noopener"."""
    tags = [(t, dict(a)) for t, a in parse(str(render_markdown(text, lite=lite)))]
    links = [attrs for tag, attrs in tags if tag == "a"]
    assert len(links) == 1
    assert links[0]["href"] == href
    assert links[0]["rel"] == "nofollow ugc noopener"


@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
def test_images_become_links(lite: bool) -> None:
    """An image is shown as a link to it, labelled with its alt text, never loaded."""
    rendered = str(render_markdown("![bioreactor photo](https://example.org/b.png)", lite=lite))
    assert "<img" not in rendered
    tags = [(t, dict(a)) for t, a in parse(rendered)]
    assert ("a", {"href": "https://example.org/b.png", "rel": "nofollow ugc noopener"}) in tags
    assert ">bioreactor photo</a>" in rendered
    untitled = str(render_markdown("![](https://example.org/c.png)", lite=lite))
    assert ">image</a>" in untitled


@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
def test_raw_html_is_shown_escaped(lite: bool) -> None:
    """HTML typed by a member is shown as text, not interpreted."""
    rendered = str(render_markdown('<b>bold?</b> <span class="x">hi</span>', lite=lite))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in rendered
    assert "&lt;span class=" in rendered
    assert "<b>" not in rendered
    assert "<span" not in rendered


def test_empty_text_renders_empty() -> None:
    """Empty input renders as an empty string."""
    assert render_markdown("") == ""
    assert render_markdown("", lite=True) == ""


# --- markdown_to_text -------------------------------------------------------------------
def test_markdown_to_text_strips_markup() -> None:
    """markdown_to_text gives the words without Markdown or HTML markup."""
    text = markdown_to_text("**Bold** and *italic* with `code` and [a link](https://x.org)")
    assert text == "Bold and italic with code and a link"
    assert markdown_to_text("un**believ**able") == "unbelievable"
    # Plain text, not HTML: the template that shows it does the escaping.
    assert markdown_to_text("a & b < c") == "a & b < c"


def test_markdown_to_text_drops_block_markers() -> None:
    """Headings, lists and quotes lose their Markdown markers in the plain text."""
    text = markdown_to_text("# Deviation review\n\n- first item\n- second item\n\n> quoted")
    assert text == "Deviation review first item second item quoted"


def test_markdown_to_text_collapses_whitespace() -> None:
    """Line breaks and runs of spaces become single spaces."""
    assert markdown_to_text("one\n\n   two\tthree") == "one two three"


def test_markdown_to_text_truncates_with_ellipsis() -> None:
    """Long text is cut to the limit, ending in an ellipsis; short text is left whole."""
    long = "word " * 100
    cut = markdown_to_text(long, limit=50)
    assert len(cut) <= 50
    assert cut.endswith("…")
    assert cut.startswith("word word")
    assert markdown_to_text("short text", limit=50) == "short text"
    assert len(markdown_to_text("x" * 300)) == 280
    assert markdown_to_text("") == ""
