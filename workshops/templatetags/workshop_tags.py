"""Small template helpers for the workshop pages."""

from django import template

from community.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    """The language's name for an ISO 639-1 code ("sw" -> "Swahili")."""
    return _language_name(code)
