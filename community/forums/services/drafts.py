"""Drafts kept on the server: one per member per topic (a reply) and one per member for
a new topic. Saved by the forms' "Save draft" button (no JavaScript) and by the API
(JavaScript autosave); restored when the member opens the form again; deleted by the
posting services when the post is sent."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import Category, Draft, Post, Topic, TopicKind
from community.models import Skill, User

BODY_MAX = 20000
TITLE_MAX = 200
MAX_SKILLS = 5


def _clean(
    *,
    user: User,
    topic: Topic | None,
    category: Category | None,
    title: str,
    kind: str,
    skills: Iterable[str],
    reply_to: Post | None,
    body: str,
) -> dict[str, object]:
    errors: dict[str, str] = {}
    if len(body) > BODY_MAX:
        errors["body"] = _("Keep a post under %(n)d characters.") % {"n": BODY_MAX}
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        errors["title"] = _("Keep the title under %(n)d characters.") % {"n": TITLE_MAX}
    if kind and kind not in TopicKind.values:
        errors["kind"] = _("Choose discussion or question.")
    slugs = list(dict.fromkeys(s.strip() for s in skills if s and s.strip()))
    if len(slugs) > MAX_SKILLS:
        errors["skills"] = _("Tag a topic with at most %(n)d skills.") % {"n": MAX_SKILLS}
    elif slugs:
        known = set(
            Skill.objects.filter(slug__in=slugs, is_active=True).values_list("slug", flat=True)
        )
        if unknown := [s for s in slugs if s not in known]:
            errors["skills"] = _("Unknown skills: %(slugs)s.") % {"slugs": ", ".join(unknown)}
    if category is not None and not access.can_see_category(user, category):
        errors["category"] = _("Choose a category from the list.")
    if reply_to is not None and (topic is None or reply_to.topic_id != topic.pk):
        errors["reply_to"] = _("That post is not in this topic.")
    if errors:
        raise ValidationError(errors)
    if topic is not None:
        # A reply draft carries only the text and the post replied to.
        return {"body": body, "reply_to": reply_to}
    return {"body": body, "title": title, "kind": kind, "category": category, "skills": slugs}


def draft_save(
    *,
    user: User,
    topic: Topic | None = None,
    body: str = "",
    title: str = "",
    kind: str = "",
    category: Category | None = None,
    skills: Iterable[str] = (),
    reply_to: Post | None = None,
) -> Draft | None:
    """Keep the member's unsent text (``topic`` None: the new-topic draft). Saving an
    empty draft deletes it and returns None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Log in to keep drafts."))
    if topic is not None and not access.can_see_topic(user, topic):
        raise PermissionDenied(_("You cannot reply in this topic."))
    body = (body or "").rstrip()
    fields = _clean(
        user=user,
        topic=topic,
        category=category,
        title=title or "",
        kind=kind or "",
        skills=skills,
        reply_to=reply_to,
        body=body,
    )
    if not body.strip() and not fields.get("title"):
        draft_delete(user=user, topic=topic)
        return None
    for _attempt in range(2):
        try:
            with transaction.atomic():
                draft, _created = Draft.objects.update_or_create(
                    user=user, topic=topic, defaults=fields
                )
            return draft
        except IntegrityError:  # two saves at once: the second updates the first's row
            continue
    raise ValidationError({"body": _("The draft could not be saved; try again.")})


def draft_delete(*, user: User, topic: Topic | None = None) -> bool:
    """Discard the member's draft for ``topic`` (None: the new-topic draft). True if
    there was one."""
    deleted, _per_model = Draft.objects.filter(user=user, topic=topic).delete()
    return bool(deleted)
