"""The topic page's posts and the topic lists' rows, built in Python (see
``community.forums.post_html`` and ``community.forums.list_html``)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from community.forums.list_html import topic_rows_html
from community.forums.post_html import PostPage, posts_html

register = template.Library()


@register.simple_tag(takes_context=True)
def topic_posts(context: template.Context, posts: list[Any]) -> SafeString:
    """The posts of the topic page, with the viewer's controls, from the page's context
    (``topic``, ``user``, ``request``, ``csrf_token``, the permissions and
    ``first_unread_number``). Runs no query: the selector loaded everything."""
    page = PostPage(
        topic=context["topic"],
        user=context.get("user"),
        request=context.get("request"),
        csrf_token=context.get("csrf_token"),
        is_moderator=bool(context.get("is_moderator")),
        can_reply=bool(context.get("can_reply")),
        can_accept=bool(context.get("can_accept")),
        can_verify=bool(context.get("can_verify")),
        first_unread_number=context.get("first_unread_number"),
    )
    return posts_html(page, posts)


@register.simple_tag(takes_context=True)
def topic_rows(context: template.Context, topics: Any) -> SafeString:
    """The rows of a topic list (``show_category`` and ``pinned_first`` from the
    context, as the list's include sets them)."""
    return topic_rows_html(
        topics,
        show_category=bool(context.get("show_category")),
        pinned_first=bool(context.get("pinned_first")),
    )
