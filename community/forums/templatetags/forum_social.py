"""Template helpers for the social includes (reactions, watch levels). None queries:
they read what the topic page's selector attached to each post."""

from django import template

from community.forums.models import Post, WatchLevel
from community.forums.selectors.social import reaction_summary as _summary

register = template.Library()


@register.filter
def reaction_summary(post: Post) -> list[dict[str, object]]:
    """Every reaction kind of ``post`` with count and whether the viewer gave it
    (from ``post.my_reactions``, a set of kinds, when the page attached it)."""
    return _summary(post, set(getattr(post, "my_reactions", None) or ()))


@register.simple_tag
def watch_levels() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in WatchLevel.choices]
