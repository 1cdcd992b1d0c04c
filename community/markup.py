"""The one Markdown renderer for everything members write: posts, bios, docs, chat.

markdown-it-py turns Markdown into HTML with raw HTML switched off, then nh3 (the
ammonia sanitiser) keeps only an allow-list of tags, attributes and URL schemes and
gives every link ``rel="nofollow ugc noopener"``. Images are shown as links, not
loaded: they cost bandwidth on slow connections and would let any poster track readers.
"""

from collections.abc import Sequence
from functools import cache

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

LINK_REL = "nofollow ugc noopener"
URL_SCHEMES = {"http", "https", "mailto"}

FULL_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
LITE_TAGS = {
    "a",
    "p",
    "br",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
}


def _image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    return f'<a href="{escape(src)}">{escape(alt)}</a>'


@cache
def _parser(lite: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "strikethrough"])
    if lite:
        md.disable(["heading", "lheading", "hr"])
    else:
        md.enable("table")
    md.add_render_rule("image", _image_as_link)
    return md


def _clean(html: str, tags: set[str]) -> str:
    return nh3.clean(
        html,
        tags=tags,
        attributes={tag: attrs for tag, attrs in ATTRIBUTES.items() if tag in tags},
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def render_markdown(text: str, *, lite: bool = False) -> SafeString:
    """Render member-written Markdown to safe HTML.

    ``lite`` is for one-line contexts such as chat: no headings, rules or tables.
    """
    if not text:
        return mark_safe("")
    html = _parser(lite).render(text)
    return mark_safe(_clean(html, LITE_TAGS if lite else FULL_TAGS))  # noqa: S308


def markdown_to_text(text: str, limit: int = 280) -> str:
    """Plain-text excerpt of Markdown, for notifications, previews and meta tags."""
    # Parse blocks too, so that heading, list and quote markers are dropped, and join the
    # pieces of one paragraph without spaces, so that "un**believ**able" stays one word.
    parts: list[str] = []
    for token in _parser(False).parse(text or ""):
        if token.type == "inline":
            parts.append(
                "".join(
                    child.content if child.type in {"text", "code_inline"} else " "
                    for child in (token.children or [])
                    if child.type in {"text", "code_inline", "softbreak", "hardbreak"}
                )
            )
        elif token.type in {"fence", "code_block"}:
            parts.append(token.content)
    plain = " ".join(" ".join(parts).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
