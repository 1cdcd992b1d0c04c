"""What reading changes: read positions, the view counter, bookmarks."""

import hashlib

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import Bookmark, Post, ReadState, Topic
from community.models import User

NOTE_MAX = 200
VIEW_WINDOW_SECONDS = 60 * 60


def read_position_advance(*, user: User, topic: Topic, number: int) -> bool:
    """Move ``user``'s read position in ``topic`` forward to post ``number`` (clamped to
    the topic's last post), in one statement; say whether it moved. Never moves it back:
    reading an old page again, or a late request from another tab, leaves a further
    position as it is."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValidationError({"number": _("Give a post number of 1 or more.")})
    if not access.can_see_topic(user, topic):
        raise PermissionDenied(_("You cannot read this topic."))
    number = min(number, max(topic.last_post_number, 1))
    # Insert the position, or move it forward: the conditional upsert keeps it monotonic
    # under concurrent requests (no read-modify-write, no race between two first
    # reads). Same SQL on PostgreSQL and SQLite (3.35+).
    table = connection.ops.quote_name(ReadState._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, topic_id, last_read_number, updated_at) "  # noqa: S608 - our table
            "VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, topic_id) DO UPDATE SET "
            "last_read_number = excluded.last_read_number, updated_at = excluded.updated_at "
            f"WHERE {table}.last_read_number < excluded.last_read_number RETURNING id",
            [user.pk, topic.pk, number, now],
        )
        return cursor.fetchone() is not None


def read_position_update(*, user: User, topic: Topic, number: int) -> ReadState:
    """``read_position_advance``, then the position as it now is."""
    read_position_advance(user=user, topic=topic, number=number)
    return ReadState.objects.get(user=user, topic=topic)


def topic_view_record(*, topic: Topic, viewer_key: str) -> bool:
    """Count a view of ``topic`` by one viewer (a member id or a client address) at most
    once an hour. Returns whether it counted."""
    digest = hashlib.sha256(viewer_key.encode()).hexdigest()[:24]
    if not cache.add(f"forums:view:{topic.pk}:{digest}", 1, VIEW_WINDOW_SECONDS):
        return False
    Topic.objects.filter(pk=topic.pk).update(view_count=F("view_count") + 1)
    return True


def _clean_note(note: str | None) -> str:
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": _("Keep a bookmark note under %(n)d characters.") % {"n": NOTE_MAX}}
        )
    return note


def _check_post(user: User, post: Post) -> None:
    visible = not post.is_deleted and (
        not post.is_hidden or post.author_id == user.pk or access.is_moderator(user)
    )
    if not visible or not access.can_see_topic(user, post.topic):
        raise PermissionDenied(_("You cannot bookmark this post."))


def bookmark_add(*, user: User, post: Post, note: str | None = None) -> Bookmark:
    """Bookmark ``post`` for ``user``. Bookmarking it again keeps one bookmark and, if a
    ``note`` is given, replaces its note."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Log in to bookmark posts."))
    clean = _clean_note(note)
    _check_post(user, post)
    try:
        with transaction.atomic():
            bookmark, created = Bookmark.objects.get_or_create(
                user=user, post=post, defaults={"note": clean}
            )
    except IntegrityError:
        bookmark, created = Bookmark.objects.get(user=user, post=post), False
    if not created and note is not None and bookmark.note != clean:
        bookmark.note = clean
        bookmark.save(update_fields=["note"])
    return bookmark


def bookmark_update(*, user: User, bookmark: Bookmark, note: str) -> Bookmark:
    if bookmark.user_id != user.pk:
        raise PermissionDenied(_("This is not your bookmark."))
    bookmark.note = _clean_note(note)
    bookmark.save(update_fields=["note"])
    return bookmark


def bookmark_remove(*, user: User, post: Post) -> bool:
    """Remove ``user``'s bookmark on ``post``; False if there was none."""
    deleted, _rows = Bookmark.objects.filter(user=user, post=post).delete()
    return bool(deleted)
