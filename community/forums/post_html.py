"""The posts of a topic page as HTML, built in Python.

The topic page shows up to 20 posts, each with its author, body and the viewer's
controls (reactions, accept/verify, reply/quote/edit/delete/history links, flag and the
moderator's hide/show, bookmark). As Django templates those were ~1,100 template nodes
per post: about 3 ms a post, 60 ms of a page that has to answer in well under 50 ms
(``make bench-forum``). Here the same markup is built with plain string operations:
everything the page shares (the CSRF field, the ``next`` paths, the translated labels,
the URL shapes) is prepared once per page in ``PostPage``, and each post costs a few
dozen string joins.

Every piece of member text is escaped (``escape``); ``body_html`` is the shared
renderer's sanitised output and goes in as it is, as the template's ``|safe`` did.
The markup is the page's contract with forum.js, the CSS and the tests: classes, ids,
``data-*`` attributes and form fields are the same as the templates had. Strings go
through ``gettext``/``ngettext`` and are translated like the templates' were.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.forums.models import Post, ReactionKind, Topic
from community.models import Role

_PK = 2147483647  # a stand-in pk: URLs are reversed once per page and the pk put in


@functools.lru_cache(maxsize=64)
def _url_shape(name: str, prefix: str, urlconf: str) -> tuple[str, str]:
    """(before, after) the pk in the URL of ``name`` (under the script ``prefix``, in
    ``urlconf``: both are in the cache key)."""
    url = reverse(name, kwargs={"pk": _PK})
    before, after = url.split(str(_PK), 1)
    return before, after


def _csrf_field(token: Any) -> str:
    """``{% csrf_token %}``'s output for the page's token ('' when there is none)."""
    if not token or token == "NOTPROVIDED":  # noqa: S105 - not a password
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


@dataclass
class PostPage:
    """What every post of one topic page shares: the viewer, their permissions, the
    request's paths, the CSRF field, translated labels and URL shapes."""

    topic: Topic
    user: Any
    request: Any = None
    csrf_token: Any = None
    is_moderator: bool = False
    can_reply: bool = False
    can_accept: bool = False
    can_verify: bool = False
    first_unread_number: int | None = None
    back: str | None = None  # where the forms return to, if not the request's page

    def __post_init__(self) -> None:
        self.is_member = bool(getattr(self.user, "is_authenticated", False))
        self.user_pk = self.user.pk if self.is_member else None
        self.csrf = _csrf_field(self.csrf_token)
        request = self.request
        full_path = request.get_full_path() if request is not None else None
        path = request.path if request is not None else ""
        if self.back is not None:
            full_path, path = self.back, urlsplit(self.back).path
        self.full_path = escape(full_path) if full_path is not None else None
        self.path = escape(path)
        self.path_quoted = escape(quote(path))  # ``{{ request.path|urlencode }}``
        self.reactions = [(str(kind), escape(str(label))) for kind, label in ReactionKind.choices]
        prefix, urlconf = get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF)
        self.url: dict[str, tuple[str, str]] = {
            name: _url_shape(f"forums:{name}", prefix, urlconf)
            for name in (
                "post",
                "post_react",
                "post_verify",
                "post_edit",
                "post_delete",
                "post_history",
                "post_bookmark",
                "flag",
                "review_post",
            )
        }
        topic_pk = self.topic.pk
        self.reply_url = reverse("forums:reply", kwargs={"pk": topic_pk})
        self.accept_url = reverse("forums:topic_accept", kwargs={"pk": topic_pk})
        self.member_url = _member_url_shape(prefix, urlconf)
        self.t = {
            "unread": escape(_("Unread posts start here")),
            "edited": escape(_("edited")),
            "hidden_notice": escape(
                _("This post is hidden by a moderator. Only you and the moderators can see it.")
            ),
            "accepted": escape(_("Accepted answer")),
            "reactions": escape(_("Reactions")),
            "unaccept": escape(_("Unmark accepted answer")),
            "accept": escape(_("Mark as accepted answer")),
            "unverify": escape(_("Remove expert verification")),
            "verify": escape(_("Verify as expert")),
            "reply": escape(_("Reply")),
            "quote": escape(_("Quote")),
            "edit": escape(_("Edit")),
            "delete": escape(_("Delete")),
            "you_flagged": escape(_("You flagged this post")),
            "flag": escape(_("Flag")),
            "show_again": escape(_("Show again")),
            "hide": escape(_("Hide")),
            "bookmarked": escape(_("Bookmarked")),
            "remove_bookmark": escape(_("remove the bookmark")),
            "bookmark": escape(_("Bookmark")),
            "bookmark_note": escape(_("Note (optional)")),
            "bookmark_this": escape(_("Bookmark this post")),
        }
        # per-post strings: translated once here, the number put in per post
        self.f = {
            "to_post": _("to post %(n)s"),
            "post": _("post %(n)s"),
            "of_post": _("of post %(n)s"),
            "post_hash": _("post #%(number)s"),
            "link": _("Link to post %(n)s"),
            "in_reply": _("in reply to #%(n)s"),
            "verified_by": _("Verified by %(name)s"),
        }
        self.role_badges = {
            role: f'<span class="badge role">{escape(str(label))}</span>'
            for role, label in Role.choices
        }
        # ``|date:"j M Y, H:i"``: the month abbreviations as Django's "M" gives them
        self.months = {n: str(MONTHS_3[n]).title() for n in MONTHS_3}

    def post_url(self, name: str, pk: int) -> str:
        before, after = self.url[name]
        return f"{before}{pk}{after}"

    def next_field(self, number: int) -> str:
        """The hidden ``next`` back to this page at the post (``request.get_full_path``)."""
        if self.full_path is None:
            return ""
        return f'<input type="hidden" name="next" value="{self.full_path}#post-{number}">'


@functools.lru_cache(maxsize=8)
def _member_url_shape(prefix: str, urlconf: str) -> tuple[str, str]:
    """(before, after) the username in a member's page URL (cached like ``_url_shape``)."""
    marker = "username-stand-in"
    url = reverse("community:member_detail", args=[marker])
    before, after = url.split(marker, 1)
    return before, after


def _author_name(author: Any) -> tuple[str, Any]:
    """(display name or username, profile or None)."""
    try:
        profile = author.profile
    except ObjectDoesNotExist:  # no profile row: the username stands in, as the templates did
        profile = None
    name = (profile.display_name if profile is not None else "") or author.username
    return name, profile


def _time(page: PostPage, value: Any) -> str:
    """``<time datetime="{{ v|date:'c' }}">{{ v|date:"j M Y, H:i" }}</time>`` in the
    current time zone."""
    local = timezone.localtime(value)
    shown = f"{local.day} {page.months[local.month]} {local.year:04d}, {local:%H:%M}"
    return f'<time datetime="{local.isoformat()}">{escape(shown)}</time>'


def post_actions_html(page: PostPage, post: Post) -> str:
    """Reactions (one form, a button per kind) and the accept / verify forms of a post.
    Reads ``post.my_reactions`` and ``post.is_accepted`` (set by the topic page's
    selector); no query."""
    counts = post.reaction_counts or {}
    mine = set(getattr(post, "my_reactions", None) or ())
    number = post.number
    out = [f'<div class="post-social" data-post-social="{post.pk}">']
    if page.is_member and page.user_pk != post.author_id and not post.is_hidden:
        out.append(
            f'<form method="post" action="{page.post_url("post_react", post.pk)}" '
            f'class="reaction-form">{page.csrf}{page.next_field(number)}'
            f'<ul class="reactions" aria-label="{page.t["reactions"]}">'
        )
        for kind, name in page.reactions:
            pressed = kind in mine
            out.append(
                f'<li><button type="submit" name="reaction" value="{kind}:{0 if pressed else 1}" '
                f'class="reaction" data-kind="{kind}" '
                f'aria-pressed="{"true" if pressed else "false"}">{name} '
                f'<span class="count" data-count>{int(counts.get(kind, 0))}</span></button></li>'
            )
        out.append("</ul></form>")
    else:
        out.append(f'<ul class="reactions" aria-label="{page.t["reactions"]}">')
        for kind, name in page.reactions:
            count = int(counts.get(kind, 0))
            if count:
                out.append(
                    f'<li><span class="reaction" data-kind="{kind}">{name} '
                    f'<span class="count" data-count>{count}</span></span></li>'
                )
        out.append("</ul>")
    if page.topic.is_question and number > 1 and not post.is_hidden:
        if page.can_accept:
            accepted = bool(getattr(post, "is_accepted", False))
            action, label = ("unaccept", "unaccept") if accepted else ("accept", "accept")
            out.append(
                f'<form method="post" action="{page.accept_url}" class="accept-form">'
                f'{page.csrf}<input type="hidden" name="post" value="{post.pk}">'
                f"{page.next_field(number)}"
                f'<input type="hidden" name="action" value="{action}">'
                f'<button type="submit" class="button secondary" '
                f'aria-pressed="{"true" if accepted else "false"}">{page.t[label]}</button></form>'
            )
        if page.can_verify and post.author_id != page.user_pk:
            verified = post.expert_verified_at is not None
            out.append(
                f'<form method="post" action="{page.post_url("post_verify", post.pk)}" '
                f'class="verify-form">{page.csrf}{page.next_field(number)}'
                f'<input type="hidden" name="verified" value="{0 if verified else 1}">'
                f'<button type="submit" class="button secondary" '
                f'aria-pressed="{"true" if verified else "false"}">'
                f"{page.t['unverify' if verified else 'verify']}</button></form>"
            )
    out.append("</div>")
    return "".join(out)


def _hidden(text: str) -> str:
    return f'<span class="visually-hidden"> {escape(text)}</span>'


def post_links_html(page: PostPage, post: Post) -> str:
    """Reply, quote, edit, delete and history links of a post (``post.can_edit``)."""
    number = post.number
    out = ['<ul class="post-links">']
    if page.can_reply and not post.is_hidden:
        out.append(
            f'<li><a href="{page.reply_url}?reply_to={post.pk}">{page.t["reply"]}'
            f"{_hidden(page.f['to_post'] % {'n': number})}</a></li>"
            f'<li><a href="{page.reply_url}?quote={post.pk}">{page.t["quote"]}'
            f"{_hidden(page.f['post'] % {'n': number})}</a></li>"
        )
    if getattr(post, "can_edit", False):
        label = _hidden(page.f["post"] % {"n": number})
        out.append(
            f'<li><a href="{page.post_url("post_edit", post.pk)}">{page.t["edit"]}{label}</a></li>'
            f'<li><a href="{page.post_url("post_delete", post.pk)}">{page.t["delete"]}'
            f"{label}</a></li>"
        )
    if post.edit_count:
        history = ngettext(
            "Edited once: history", "Edited %(n)s times: history", post.edit_count
        ) % {"n": post.edit_count}
        out.append(
            f'<li><a href="{page.post_url("post_history", post.pk)}">{escape(history)}'
            f"{_hidden(page.f['of_post'] % {'n': number})}</a></li>"
        )
    out.append("</ul>")
    return "".join(out)


def post_flag_html(page: PostPage, post: Post) -> str:
    """The flag link of a post, or "You flagged this post"; a moderator's hide / show."""
    if not page.is_member:
        return ""
    number = post.number
    label = _hidden(page.f["post_hash"] % {"number": number})
    out = ['<div class="post-flag">']
    if getattr(post, "my_flagged", False):
        out.append(f'<span class="meta">{page.t["you_flagged"]}</span>')
    elif post.author_id != page.user_pk and not post.is_deleted:
        out.append(
            f'<a class="flag-link" href="{page.post_url("flag", post.pk)}?next='
            f'{page.path_quoted}%23post-{number}" rel="nofollow">{page.t["flag"]}{label}</a>'
        )
    if page.is_moderator and not post.is_deleted:
        action, text = ("restore", "show_again") if post.is_hidden else ("hide", "hide")
        out.append(
            f'<form method="post" action="{page.post_url("review_post", post.pk)}" '
            f'class="inline-form">{page.csrf}'
            f'<input type="hidden" name="next" value="{page.path}#post-{number}">'
            f'<input type="hidden" name="action" value="{action}">'
            f'<button type="submit" class="button secondary">{page.t[text]}{label}</button></form>'
        )
    out.append("</div>")
    return "".join(out)


def bookmark_form_html(page: PostPage, post: Post) -> str:
    """Bookmark a post with an optional note, or take the bookmark back."""
    if not page.is_member:
        return ""
    url = page.post_url("post_bookmark", post.pk)
    back = f'<input type="hidden" name="next" value="{page.full_path or ""}#post-{post.number}">'
    if getattr(post, "is_bookmarked", False):
        return (
            f'<form method="post" action="{url}" class="inline-form bookmark-form">{page.csrf}'
            f'<input type="hidden" name="action" value="remove">{back}'
            f'<button type="submit" class="button secondary small" aria-pressed="true">'
            f'{page.t["bookmarked"]}<span class="visually-hidden">: '
            f"{page.t['remove_bookmark']}</span></button></form>"
        )
    return (
        f'<details class="bookmark-form"><summary>{page.t["bookmark"]}</summary>'
        f'<form method="post" action="{url}">{page.csrf}'
        f'<input type="hidden" name="action" value="add">{back}'
        f'<label for="bookmark-note-{post.pk}">{page.t["bookmark_note"]}</label>'
        f'<input id="bookmark-note-{post.pk}" name="note" maxlength="200" autocomplete="off">'
        f'<button type="submit" class="button secondary small">{page.t["bookmark_this"]}</button>'
        "</form></details>"
    )


def post_html(page: PostPage, post: Post) -> str:
    """One post as an ``<article>``, with the unread divider before it if it is the
    first unread one."""
    number = post.number
    out = []
    if number == page.first_unread_number and number != 1:
        out.append(f'<p class="unread-divider" id="unread"><span>{page.t["unread"]}</span></p>')
    classes = "post"
    accepted = bool(getattr(post, "is_accepted", False))
    if accepted:
        classes += " is-accepted"
    if post.is_hidden:
        classes += " is-hidden"
    author = post.author
    name, profile = _author_name(author)
    if page.is_member or (profile is not None and profile.visibility == "public"):
        before, after = page.member_url
        shown = f'<a href="{before}{escape(author.username)}{after}">{escape(name)}</a>'
    else:
        shown = escape(name)
    roles = "".join(page.role_badges[role] for role in profile.roles) if profile else ""
    out.append(
        f'<article class="{classes}" id="post-{number}" data-post-id="{post.pk}" '
        f'data-number="{number}" aria-labelledby="post-{number}-by">'
        f'<header class="post-header"><p class="post-author" id="post-{number}-by">{shown}{roles}'
        f'</p><p class="meta"><a href="{page.post_url("post", post.pk)}" class="post-link" '
        f'aria-label="{escape(page.f["link"] % {"n": number})}">#{number}</a> '
        f"{_time(page, post.created_at)}"
    )
    if post.edited_at:
        out.append(f' <span class="edited">· {page.t["edited"]}</span>')
    reply_to_number = getattr(post, "reply_to_number", None)
    if reply_to_number and post.reply_to_id is not None:
        text = page.f["in_reply"] % {"n": reply_to_number}
        out.append(f' · <a href="{page.post_url("post", post.reply_to_id)}">{escape(text)}</a>')
    out.append("</p></header>")
    if post.is_hidden:
        out.append(f'<p class="notice">{page.t["hidden_notice"]}</p>')
    if accepted:
        out.append(f'<p class="badge solved">{page.t["accepted"]}</p>')
    if post.expert_verified_by_id:
        verifier = post.expert_verified_by
        verifier_name = _author_name(verifier)[0] if verifier is not None else ""
        text = page.f["verified_by"] % {"name": verifier_name}
        out.append(f'<p class="badge verified">{escape(text)}</p>')
    out.append(
        f'<div class="post-body">{post.body_html}</div><footer class="post-footer">'
        f"{post_actions_html(page, post)}{post_links_html(page, post)}"
        f"{post_flag_html(page, post)}{bookmark_form_html(page, post)}</footer></article>"
    )
    return "".join(out)


def posts_html(page: PostPage, posts: Iterable[Post]) -> SafeString:
    """The page's posts, in order."""
    # body_html is the shared renderer's sanitised output; everything else is escaped
    return mark_safe("\n".join(post_html(page, post) for post in posts))  # noqa: S308
