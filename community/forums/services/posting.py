"""Writing in the forums: topics, replies, edits (with their revisions), soft deletes,
and the @mentions a post makes.

Every write locks the topic row (``select_for_update``) inside ``transaction.atomic``,
so post numbers and the topic's stream seqs are contiguous, and locks the author's
``MemberStats`` row while checking the trust limits (services/trust.py), so that posts
sent at once cannot slip under a limit together.

Deleting the opening post deletes the topic (it is soft-deleted with the post: the
topic disappears from lists, its replies are kept for moderators and for undelete).
"""

import re
import uuid
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import (
    Category,
    Draft,
    MemberStats,
    Mention,
    ModerationAction,
    ModerationLog,
    Post,
    PostRevision,
    ReadState,
    Topic,
    TopicKind,
    TopicSkill,
)
from community.forums.services import notify, trust
from community.forums.stream import topic_event_append
from community.markup import _parser, markdown_to_text, render_markdown
from community.models import Skill, User

TITLE_MIN = 8
TITLE_MAX = 200
BODY_MIN = 2
BODY_MAX = 20000
MAX_SKILLS = 5
# However trusted the member, a post names at most this many members (the trust limits
# are lower for new members).
MAX_MENTIONS = 50

# "@name" at the start or after a character that cannot be part of a name (so e-mail
# addresses are not mentions). Names are Django usernames: letters, digits, @.+-_;
# a trailing dot is punctuation ("thanks @amina.").
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]{1,150})")


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


# --- mentions ------------------------------------------------------------------------------
def mention_names(body: str) -> list[str]:
    """The @names a Markdown text mentions, lower-cased, in order, once each. Names in
    code (inline or blocks) and in quotes (a quoted post's mentions) do not count."""
    names: list[str] = []
    quote_depth = 0
    for token in _parser(False).parse(body or ""):
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "inline" and quote_depth == 0:
            text = " ".join(
                child.content for child in (token.children or []) if child.type == "text"
            )
            for match in _MENTION.finditer(text):
                name = match.group(1).rstrip(".").lower()
                if name and name not in names:
                    names.append(name)
    return names


def mentions_resolve(*, body: str, topic: Topic, author: User) -> list[User]:
    """The members ``body`` mentions who exist, are active and may read ``topic``
    (the author is never their own mention)."""
    names = mention_names(body)[:MAX_MENTIONS]
    if not names:
        return []
    users = (
        User.objects.annotate(lower_name=Lower("username"))
        .filter(lower_name__in=names, is_active=True)
        .exclude(pk=author.pk)
        .select_related("profile")
    )
    order = {name: i for i, name in enumerate(names)}
    found = sorted(users, key=lambda u: order.get(u.username.lower(), 0))
    return [user for user in found if access.can_see_topic(user, topic)]


def _mentions_store(post: Post, users: Sequence[User]) -> None:
    Mention.objects.bulk_create(
        [Mention(post=post, user=user) for user in users], ignore_conflicts=True
    )


# --- creating ------------------------------------------------------------------------------
def _stats_locked(user: User) -> MemberStats:
    """The member's stats row, locked until the end of the transaction."""
    MemberStats.objects.get_or_create(user=user)
    return MemberStats.objects.select_for_update().get(user=user)


def _post_add(
    *,
    topic: Topic,
    author: User,
    body: str,
    reply_to: Post | None,
    client_id: uuid.UUID | None,
    is_opening: bool,
) -> Post:
    """Check the trust limits, number, render and store a post; bump the counters;
    store its mentions; append the stream event; tell notify; drop the author's draft.
    The caller holds the topic row lock."""
    stats = _stats_locked(author)
    html = str(render_markdown(body))
    mentioned = mentions_resolve(body=body, topic=topic, author=author)
    trust.trust_check_post(
        user=author,
        stats=stats,
        html=html,
        mention_count=len(mentioned),
        new_topic=is_opening,
        topic_id=topic.pk,
    )
    now = timezone.now()
    number = topic.last_post_number + 1
    text = markdown_to_text(body, limit=100_000)
    post = Post.objects.create(
        topic=topic,
        number=number,
        author=author,
        reply_to=reply_to,
        body=body,
        body_html=html,
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
    MemberStats.objects.filter(pk=stats.pk).update(
        post_count=F("post_count") + 1,
        **({"topic_count": F("topic_count") + 1} if is_opening else {}),
    )
    trust.member_stats_refresh(user=author, stats=stats)
    _mentions_store(post, mentioned)
    if not is_opening:
        topic_event_append(topic=topic, type="post.created", data=post_payload(post))
    # The author has read their own post: it never shows as unread to them. (The topic
    # lock is held and ``number`` is the topic's highest, so this only moves forward.)
    ReadState.objects.update_or_create(
        user=author, topic=topic, defaults={"last_read_number": number}
    )
    notify.on_post_created(post=post, mentioned=mentioned)
    Draft.objects.filter(user=author, topic=None if is_opening else topic).delete()
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
    topic the first call created. Sending it deletes the member's new-topic draft."""
    if not getattr(author, "is_active", False) or not access.can_see_category(author, category):
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
            topic.category = category
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
    ``client_id`` returns the first post. Sending it deletes the member's draft for
    the topic."""
    if (existing := _existing_post(author, client_id)) is not None:
        return existing
    body = _clean_body(body)
    try:
        with transaction.atomic():
            locked = (
                Topic.objects.select_for_update(of=("self",))
                .select_related("category")
                .get(pk=topic.pk)
            )
            if not access.can_post_in(author, locked):
                raise PermissionDenied(_("This topic does not take replies."))
            if reply_to is not None and not (
                Post.objects.filter(pk=reply_to.pk, topic=locked, is_deleted=False).exists()
            ):
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


# --- editing -------------------------------------------------------------------------------
def _locked_post(post: Post) -> tuple[Topic, Post]:
    """Lock the post's topic, then read the post fresh (the caller is in atomic)."""
    topic = (
        Topic.objects.select_for_update(of=("self",))
        .select_related("category")
        .get(pk=post.topic_id)
    )
    fresh = Post.objects.select_related("author__profile", "reply_to").get(pk=post.pk)
    fresh.topic = topic
    return topic, fresh


def post_edit(
    *,
    editor: User,
    post: Post,
    body: str,
    title: str | None = None,
    kind: str | None = None,
    skills: Iterable[str] | None = None,
    reason: str = "",
) -> Post:
    """Change a post's text (and, for the opening post, the topic's title, kind and
    skills). The previous text is kept as a ``PostRevision``; readers get "post.edited";
    members newly @mentioned are notified; a moderator editing someone else's post is
    logged. An edit that changes nothing stores nothing."""
    body = _clean_body(body)
    with transaction.atomic():
        topic, post_now = _locked_post(post)
        if not access.can_see_topic(editor, topic) or not access.can_edit_post(editor, post_now):
            raise PermissionDenied(_("You cannot edit this post."))
        is_opening = post_now.number == 1
        if not is_opening and (title is not None or kind is not None or skills is not None):
            raise ValidationError(
                {"title": _("Only the opening post carries the title, kind and skills.")}
            )
        new_title = _clean_title(title) if title is not None else topic.title
        new_kind = topic.kind if kind is None else kind
        if new_kind not in TopicKind.values:
            raise ValidationError({"kind": _("Choose discussion or question.")})
        old_skills = set(topic.skills.values_list("slug", flat=True)) if is_opening else set()
        skill_objs = _clean_skills(skills) if skills is not None else None
        new_skills = {s.slug for s in skill_objs} if skill_objs is not None else old_skills
        topic_changed = (new_title, new_kind, new_skills) != (topic.title, topic.kind, old_skills)
        if body == post_now.body and not topic_changed:
            return post_now

        html = str(render_markdown(body))
        mentioned = mentions_resolve(body=body, topic=topic, author=post_now.author)
        stats = _stats_locked(editor)
        trust.trust_check_post(
            user=editor,
            stats=stats,
            html=html,
            mention_count=len(mentioned),
            new_topic=False,
            rate=False,
        )
        revision = PostRevision.objects.create(
            post=post_now,
            number=post_now.edit_count + 1,
            editor=editor,
            title=topic.title if is_opening else "",
            body=post_now.body,
        )
        now = timezone.now()
        text = markdown_to_text(body, limit=100_000)
        post_now.body = body
        post_now.body_html = html
        post_now.body_text = f"{new_title}\n{text}" if is_opening else text
        post_now.edited_at = now
        post_now.edit_count = revision.number
        post_now.save(update_fields=["body", "body_html", "body_text", "edited_at", "edit_count"])
        if topic_changed:
            topic.title = new_title
            topic.slug = slugify(new_title)[:80] or "topic"
            topic.kind = new_kind
            topic.save(update_fields=["title", "slug", "kind"])
            if skill_objs is not None and new_skills != old_skills:
                TopicSkill.objects.filter(topic=topic).exclude(skill__slug__in=new_skills).delete()
                added = [s for s in skill_objs if s.slug not in old_skills]
                TopicSkill.objects.bulk_create([TopicSkill(topic=topic, skill=s) for s in added])

        before = set(Mention.objects.filter(post=post_now).values_list("user_id", flat=True))
        now_ids = {user.pk for user in mentioned}
        Mention.objects.filter(post=post_now).exclude(user_id__in=now_ids).delete()
        newly = [user for user in mentioned if user.pk not in before]
        _mentions_store(post_now, newly)

        if editor.pk != post_now.author_id and access.is_moderator(editor):
            ModerationLog.objects.create(
                moderator=editor,
                action=ModerationAction.EDIT,
                topic=topic,
                post=post_now,
                details={"revision": revision.number, "number": post_now.number},
                reason=reason[:500],
            )
        topic_event_append(topic=topic, type="post.edited", data=post_payload(post_now))
        if newly:
            notify.on_post_edited(post=post_now, newly_mentioned=newly)
    return post_now


# --- deleting ------------------------------------------------------------------------------
def _visible_posts_of(topic: Topic) -> int:
    return topic.posts.filter(is_deleted=False, is_hidden=False).count()


def post_delete(*, actor: User, post: Post, reason: str = "") -> Post:
    """Soft-delete a post (its author, or a moderator). Deleting the opening post
    deletes the topic: it leaves every list, and its replies go with it (kept, for
    moderators and undelete). Counters follow; readers get "post.deleted"; a moderator
    deleting someone else's post is logged."""
    with transaction.atomic():
        topic, post_now = _locked_post(post)
        if post_now.is_deleted:
            return post_now
        if not access.can_see_topic(actor, topic) or not access.can_edit_post(actor, post_now):
            raise PermissionDenied(_("You cannot delete this post."))
        was_visible = post_now.is_visible
        now = timezone.now()
        is_opening = post_now.number == 1
        if is_opening:
            # The topic goes; the category loses the topic and every post still shown.
            shown = _visible_posts_of(topic)
            Topic.objects.filter(pk=topic.pk).update(is_deleted=True)
            topic.is_deleted = True
            Category.objects.filter(pk=topic.category_id).update(
                topic_count=F("topic_count") - 1, post_count=F("post_count") - shown
            )
        elif was_visible:
            Topic.objects.filter(pk=topic.pk).update(reply_count=F("reply_count") - 1)
            Category.objects.filter(pk=topic.category_id).update(post_count=F("post_count") - 1)
        post_now.is_deleted = True
        post_now.deleted_at = now
        post_now.deleted_by = actor
        post_now.save(update_fields=["is_deleted", "deleted_at", "deleted_by"])
        MemberStats.objects.filter(user_id=post_now.author_id, post_count__gt=0).update(
            post_count=F("post_count") - 1
        )
        if topic.accepted_post_id == post_now.pk:
            Topic.objects.filter(pk=topic.pk).update(accepted_post=None)
            topic.accepted_post_id = None
            topic_event_append(
                topic=topic, type="topic.accepted", data={"post_id": None, "number": None}
            )
        if actor.pk != post_now.author_id and access.is_moderator(actor):
            ModerationLog.objects.create(
                moderator=actor,
                action=ModerationAction.DELETE_TOPIC if is_opening else ModerationAction.DELETE,
                topic=topic,
                post=post_now,
                details={"number": post_now.number},
                reason=reason[:500],
            )
        topic_event_append(
            topic=topic, type="post.deleted", data={"id": post_now.pk, "number": post_now.number}
        )
    return post_now


def post_undelete(*, actor: User, post: Post, reason: str = "") -> Post:
    """Bring back a deleted post (moderators only); the opening post brings back its
    topic. Counters follow; readers get "post.restored"; the action is logged."""
    if not access.is_moderator(actor):
        raise PermissionDenied(_("Only moderators can bring back deleted posts."))
    with transaction.atomic():
        topic, post_now = _locked_post(post)
        if not post_now.is_deleted:
            return post_now
        post_now.is_deleted = False
        post_now.deleted_at = None
        post_now.deleted_by = None
        post_now.save(update_fields=["is_deleted", "deleted_at", "deleted_by"])
        if post_now.number == 1:
            Topic.objects.filter(pk=topic.pk).update(is_deleted=False)
            topic.is_deleted = False
            shown = _visible_posts_of(topic)
            Category.objects.filter(pk=topic.category_id).update(
                topic_count=F("topic_count") + 1, post_count=F("post_count") + shown
            )
        elif post_now.is_visible:
            Topic.objects.filter(pk=topic.pk).update(reply_count=F("reply_count") + 1)
            Category.objects.filter(pk=topic.category_id).update(post_count=F("post_count") + 1)
        MemberStats.objects.filter(user_id=post_now.author_id).update(
            post_count=F("post_count") + 1
        )
        ModerationLog.objects.create(
            moderator=actor,
            action=ModerationAction.RESTORE,
            topic=topic,
            post=post_now,
            details={"number": post_now.number, "undeleted": True},
            reason=reason[:500],
        )
        topic_event_append(
            topic=topic, type="post.restored", data={"id": post_now.pk, "number": post_now.number}
        )
    return post_now


def quote_markdown(post: Post) -> str:
    """A Markdown blockquote of ``post`` and its author, to start a reply with; the
    link back is inside the forum, so it counts against no link limit."""
    profile = getattr(post.author, "profile", None)
    name = getattr(profile, "display_name", "") or post.author.username
    name = re.sub(r"([\\`*_{}\[\]()#+\-.!<>|@])", r"\\\1", name)
    lines = (post.body or "").strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
    return f"> **{name}** [wrote]({post.get_absolute_url()}):\n>\n{quoted}\n\n"
