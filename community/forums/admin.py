"""The forums in the Django admin.

Categories are managed here (name, order, nesting, restriction). Topics, posts and
flags can be looked at and searched; their counters are read-only (the services keep
them), and moderation itself (hide, move, merge ...) goes through the moderation pages,
which log it. The moderation log is read-only.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from community.forums.models import (
    Category,
    Flag,
    MemberStats,
    ModerationLog,
    Post,
    Topic,
    TopicEvent,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position", "required_role", "topic_count",
                    "post_count", "last_posted_at"]  # fmt: skip
    list_editable = ["position"]
    list_filter = ["required_role", "parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["topic_count", "post_count", "last_posted_at"]


# Title, slug and kind are corrected in the admin; state changes (pin, lock, close, move,
# merge, delete) go through the moderation pages, which log them and tell readers.
_TOPIC_FIELDS = [
    "title", "slug", "kind", "category", "author", "created_at", "last_posted_at",
    "last_poster", "last_post_number", "reply_count", "reaction_count", "view_count",
    "last_seq", "accepted_post", "merged_into", "is_pinned", "is_locked", "is_closed",
    "is_deleted",
]  # fmt: skip


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "author", "kind", "reply_count", "last_posted_at",
                    "is_pinned", "is_locked", "is_closed", "is_deleted"]  # fmt: skip
    list_filter = ["category", "kind", "is_pinned", "is_locked", "is_closed", "is_deleted"]
    search_fields = ["title", "author__username"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "author"]
    fields = tuple(_TOPIC_FIELDS)
    readonly_fields = tuple(_TOPIC_FIELDS[3:])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # topics are opened through the forum, with their first post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "topic", "author", "created_at", "edit_count", "is_hidden",
                    "is_deleted"]  # fmt: skip
    list_filter = ["is_hidden", "is_deleted"]
    search_fields = ["body", "author__username", "topic__title"]
    list_select_related = ["topic", "author"]
    readonly_fields = [
        "topic", "number", "author", "reply_to", "body_html", "created_at", "edited_at",
        "edit_count", "client_id", "reaction_counts", "is_deleted", "deleted_at",
        "deleted_by", "is_hidden", "expert_verified_by", "expert_verified_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # posts are written through the forum, which numbers and counts them


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["post", "flagged_by", "reason", "status", "created_at", "resolved_by"]
    list_filter = ["status", "reason"]
    search_fields = ["note", "flagged_by__username"]
    list_select_related = ["post", "flagged_by", "resolved_by"]
    readonly_fields = ["post", "flagged_by", "reason", "note", "created_at", "status",
                       "resolved_by", "resolved_at"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModerationLog)
class ModerationLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "moderator", "action", "topic", "post", "reason"]
    list_filter = ["action"]
    search_fields = ["moderator__username", "reason", "topic__title"]
    list_select_related = ["moderator", "topic", "post"]
    date_hierarchy = "created_at"


@admin.register(MemberStats)
class MemberStatsAdmin(admin.ModelAdmin):
    list_display = ["user", "post_count", "topic_count", "reactions_received",
                    "accepted_answers", "trust_level"]  # fmt: skip
    search_fields = ["user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "post_count", "topic_count", "reactions_received",
                       "accepted_answers"]  # fmt: skip


@admin.register(TopicEvent)
class TopicEventAdmin(ReadOnlyAdmin):
    list_display = ["topic", "seq", "type", "created_at"]
    list_filter = ["type"]
    raw_id_fields = ["topic"]
