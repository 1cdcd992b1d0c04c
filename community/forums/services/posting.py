"""Creating topics and posts."""

import uuid
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import Category, MemberStats, Post, Topic, TopicKind, TopicSkill
from community.forums.services import notify
from community.forums.stream import topic_event_append
from community.markup import markdown_to_text, render_markdown
from community.models import Skill, User

TITLE_MIN = 8
TITLE_MAX = 200
BODY_MIN = 2
BODY_MAX = 20000
MAX_SKILLS = 5


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < TITLE_MIN:
        raise ValidationError(
            {"title": _("Give the topic a title of at least %(n)d characters.") % {"n": TITLE_MIN}}
        )
    if len(title) > TITLE_MAX:
        raise ValidationError(
            {"title": _("Keep the title under %(n)d characters.") % {"n": TITLE_MAX}}
        )
    return title


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if len(body) < BODY_MIN:
        raise ValidationError({"body": _("Write something first.")})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": _("Keep a post under %(n)d characters.") % {"n": BODY_MAX}})
    return body


def _clean_skills(slugs: Iterable[str]) -> list[Skill]:
    slugs = list(dict.fromkeys(s.strip() for s in slugs if s and s.strip()))
    if len(slugs) > MAX_SKILLS:
        raise ValidationError(
            {"skills": _("Tag a topic with at most %(n)d skills.") % {"n": MAX_SKILLS}}
        )
    skills = list(Skill.objects.filter(slug__in=slugs, is_active=True))
    unknown = sorted(set(slugs) - {s.slug for s in skills})
    if unknown:
        raise ValidationError(
            {"skills": _("Unknown skills: %(slugs)s.") % {"slugs": ", ".join(unknown)}}
        )
    return skills


def post_payload(post: Post) -> dict[str, object]:
    """What a topic's live stream says about a (new or edited) post."""
    return {
        "id": post.pk,
        "number": post.number,
        "author": post.author.username,
        "author_name": getattr(getattr(post.author, "profile", None), "display_name", "")
        or post.author.username,
        "reply_to": post.reply_to.number if post.reply_to else None,
        "html": str(post.body_html),
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
    }


def _post_add(
    *,
    topic: Topic,
    author: User,
    body: str,
    reply_to: Post | None,
    client_id: uuid.UUID | None,
    is_opening: bool,
) -> Post:
    """Number, render and store a post; bump the counters; append the stream event.
    The caller holds the topic row lock."""
    now = timezone.now()
    number = topic.last_post_number + 1
    text = markdown_to_text(body, limit=100_000)
    post = Post.objects.create(
        topic=topic,
        number=number,
        author=author,
        reply_to=reply_to,
        body=body,
        body_html=str(render_markdown(body)),
        body_text=f"{topic.title}\n{text}" if is_opening else text,
        client_id=client_id,
    )
    Topic.objects.filter(pk=topic.pk).update(
        last_post_number=number,
        last_posted_at=now,
        last_poster=author,
        reply_count=F("reply_count") + (0 if is_opening else 1),
    )
    topic.last_post_number = number
    topic.last_posted_at = now
    topic.last_poster = author
    Category.objects.filter(pk=topic.category_id).update(
        post_count=F("post_count") + 1,
        last_posted_at=now,
        **({"topic_count": F("topic_count") + 1} if is_opening else {}),
    )
    stats, _created = MemberStats.objects.get_or_create(user=author)
    MemberStats.objects.filter(pk=stats.pk).update(
        post_count=F("post_count") + 1,
        **({"topic_count": F("topic_count") + 1} if is_opening else {}),
    )
    if not is_opening:
        topic_event_append(topic=topic, type="post.created", data=post_payload(post))
    notify.on_post_created(post=post, mentioned=())
    return post


def _existing_post(author: User, client_id: uuid.UUID | None) -> Post | None:
    if client_id is None:
        return None
    return Post.objects.select_related("topic").filter(author=author, client_id=client_id).first()


def topic_create(
    *,
    author: User,
    category: Category,
    title: str,
    body: str,
    kind: str = TopicKind.DISCUSSION,
    skills: Iterable[str] = (),
    client_id: uuid.UUID | None = None,
) -> Topic:
    """Open a topic with its first post. A retry with the same ``client_id`` returns the
    topic the first call created."""
    if not access.can_see_category(author, category):
        raise PermissionDenied(_("You cannot post in this category."))
    if (existing := _existing_post(author, client_id)) is not None:
        return existing.topic
    if kind not in TopicKind.values:
        raise ValidationError({"kind": _("Choose discussion or question.")})
    title = _clean_title(title)
    body = _clean_body(body)
    skill_objs = _clean_skills(skills)
    try:
        with transaction.atomic():
            topic = Topic.objects.create(
                category=category,
                author=author,
                title=title,
                slug=slugify(title)[:80] or "topic",
                kind=kind,
                last_posted_at=timezone.now(),
                last_poster=author,
            )
            TopicSkill.objects.bulk_create(
                [TopicSkill(topic=topic, skill=skill) for skill in skill_objs]
            )
            topic = Topic.objects.select_for_update().get(pk=topic.pk)
            _post_add(
                topic=topic,
                author=author,
                body=body,
                reply_to=None,
                client_id=client_id,
                is_opening=True,
            )
    except IntegrityError:
        if (existing := _existing_post(author, client_id)) is not None:
            return existing.topic
        raise
    return topic


def post_create(
    *,
    author: User,
    topic: Topic,
    body: str,
    reply_to: Post | None = None,
    client_id: uuid.UUID | None = None,
) -> Post:
    """Reply in a topic (optionally to one of its posts). A retry with the same
    ``client_id`` returns the first post."""
    if (existing := _existing_post(author, client_id)) is not None:
        return existing
    body = _clean_body(body)
    try:
        with transaction.atomic():
            locked = Topic.objects.select_for_update().select_related("category").get(pk=topic.pk)
            if not access.can_post_in(author, locked):
                raise PermissionDenied(_("This topic does not take replies."))
            if reply_to is not None and (reply_to.topic_id != locked.pk or reply_to.is_deleted):
                raise ValidationError({"reply_to": _("That post is not in this topic.")})
            post = _post_add(
                topic=locked,
                author=author,
                body=body,
                reply_to=reply_to,
                client_id=client_id,
                is_opening=False,
            )
    except IntegrityError:
        if (existing := _existing_post(author, client_id)) is not None:
            return existing
        raise
    topic.last_post_number = locked.last_post_number
    topic.last_posted_at = locked.last_posted_at
    return post
