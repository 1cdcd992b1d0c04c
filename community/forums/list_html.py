"""The rows of a topic list as HTML, built in Python (as the topic page's posts are:
see ``post_html``).

A topic list shows 30 rows; as a template each row was ~80 nodes, ten of them
translations, and the rows were half of the list page's time. Here the labels and the
URL shapes are prepared once per list and each row is a few string joins. The markup is
the template's (classes, badges, links, the stats list and the ``<time>`` element);
member text (titles, names, skill and category names) is escaped.
"""

import functools
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_PK, _SLUG = 2147483646, "slug-stand-in"


@functools.lru_cache(maxsize=32)
def _shapes(prefix: str, urlconf: str) -> dict[str, tuple[str, ...]]:
    """The URLs of a topic, a category and a tag, split where their pk and slug go
    (under the script ``prefix``, in ``urlconf``: both are in the cache key)."""
    topic = reverse("forums:topic", kwargs={"pk": _PK, "slug": _SLUG})
    before, rest = topic.split(str(_PK), 1)
    middle, after = rest.split(_SLUG, 1)
    category = reverse("forums:category", kwargs={"slug": _SLUG}).split(_SLUG, 1)
    tag = reverse("forums:tag", kwargs={"slug": _SLUG}).split(_SLUG, 1)
    return {"topic": (before, middle, after), "category": tuple(category), "tag": tuple(tag)}


def topic_rows_html(
    topics: Iterable[Any], *, show_category: bool, pinned_first: bool
) -> SafeString:
    """The ``<li class="topic-row">`` of each topic (loaded with its category, author's
    profile and skills, and marked by ``topics_mark_for_reader``)."""
    shapes = _shapes(get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF))
    tb, tm, ta = shapes["topic"]
    cb, ca = shapes["category"]
    gb, ga = shapes["tag"]
    t = {
        "pinned": escape(_("Pinned")),
        "new": escape(_("New")),
        "solved": escape(_("Solved")),
        "question": escape(_("Question")),
        "closed": escape(_("Closed")),
        "locked": escape(_("Locked")),
        "by": escape(_("by")),
        "replies": escape(_("Replies")),
        "views": escape(_("Views")),
        "activity": escape(_("Activity")),
    }
    zone = timezone.get_current_timezone()
    out: list[str] = []
    for topic in topics:
        pinned = bool(topic.is_pinned and pinned_first)
        url = f"{tb}{topic.pk}{tm}{topic.slug}{ta}"
        title = [f'<span class="badge pinned">{t["pinned"]}</span>'] if pinned else []
        title.append(f'<a href="{escape(url)}">{escape(topic.title)}</a>')
        if getattr(topic, "is_new", False):
            title.append(f'<span class="badge new">{t["new"]}</span>')
        unread = getattr(topic, "unread_count", 0)
        if unread:
            label = ngettext(
                '%(n)s unread<span class="visually-hidden"> post</span>',
                '%(n)s unread<span class="visually-hidden"> posts</span>',
                unread,
            ) % {"n": unread}
            title.append(f'<a class="badge unread" href="{escape(url)}">{label}</a>')
        meta: list[str] = []
        if topic.is_question:
            meta.append(
                f'<span class="badge solved">{t["solved"]}</span>'
                if topic.accepted_post_id
                else f'<span class="badge question">{t["question"]}</span>'
            )
        if topic.is_closed:
            meta.append(f'<span class="badge">{t["closed"]}</span>')
        if topic.is_locked:
            meta.append(f'<span class="badge">{t["locked"]}</span>')
        if show_category:
            category = topic.category
            meta.append(
                f'<a href="{escape(cb + category.slug + ca)}">{escape(category.name)}</a> ·'
            )
        author = topic.author
        profile = getattr(author, "profile", None)
        name = getattr(profile, "display_name", "") or author.username
        meta.append(f"{t['by']} {escape(name)}")
        tags = "".join(
            f'<a class="tag" href="{escape(gb + s.slug + ga)}">{escape(s.name)}</a>'
            for s in topic.skills.all()
        )
        if tags:
            meta.append(tags)
        when = timezone.localtime(topic.last_posted_at, zone)
        ago = _("%(ago)s ago") % {"ago": escape(timesince(topic.last_posted_at))}
        time = (
            f'<time datetime="{dateformat.format(when, "c")}" '
            f'title="{escape(formats.date_format(when, "DATETIME_FORMAT"))}">{ago}</time>'
        )
        out.append(
            f'<li class="topic-row{" is-pinned" if pinned else ""}">'
            f'<div class="topic-main"><h3 class="topic-title">{" ".join(title)}</h3>'
            f'<p class="meta">{" ".join(meta)}</p></div>'
            f'<dl class="topic-stats">'
            f"<div><dt>{t['replies']}</dt><dd>{topic.reply_count}</dd></div>"
            f"<div><dt>{t['views']}</dt><dd>{topic.view_count}</dd></div>"
            f"<div><dt>{t['activity']}</dt><dd>{time}</dd></div></dl></li>"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped above
