"""Discussion forums: categories, topics tagged with catalogue skills, posts, and what
members do around them (reactions, bookmarks, read positions, watching, flags).

Counters shown on list pages (post counts, reaction counts, unread numbers) are kept on
the rows they describe and updated by the services in the same transaction as the write,
so that lists and topic pages run a constant number of queries.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from community.models import Role, Skill


class Category(models.Model):
    """A place for topics. Optionally nested one level (a parent has no parent), and
    optionally restricted to members holding a role (a facilitators' lounge)."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    required_role = models.CharField(
        _("only for"),
        max_length=20,
        choices=Role.choices,
        blank=True,
        help_text=_("Leave empty for a category every member can read and post in."),
    )
    topic_count = models.PositiveIntegerField(default=0, editable=False)
    post_count = models.PositiveIntegerField(default=0, editable=False)
    last_posted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("forums:category", kwargs={"slug": self.slug})

    @property
    def is_restricted(self) -> bool:
        return bool(self.required_role)


class TopicKind(models.TextChoices):
    DISCUSSION = "discussion", _("Discussion")
    QUESTION = "question", _("Question")


class Topic(models.Model):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="topics", verbose_name=_("category")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="forum_topics",
        verbose_name=_("author"),
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, allow_unicode=False)
    kind = models.CharField(
        _("kind"), max_length=12, choices=TopicKind.choices, default=TopicKind.DISCUSSION
    )
    skills: models.ManyToManyField[Skill, "TopicSkill"] = models.ManyToManyField(
        Skill, through="TopicSkill", related_name="forum_topics", verbose_name=_("skills")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    last_posted_at = models.DateTimeField(_("last activity"), db_index=True)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Posts are numbered 1, 2, 3 ... within the topic (1 is the opening post) under a
    # lock on this row; ``last_post_number`` is the highest number given.
    last_post_number = models.PositiveIntegerField(default=0, editable=False)
    # Visible replies (not deleted, not hidden): for lists, "unanswered" and "top".
    reply_count = models.PositiveIntegerField(default=0, editable=False)
    reaction_count = models.PositiveIntegerField(default=0, editable=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    accepted_post = models.ForeignKey(
        "Post",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted answer"),
    )
    is_pinned = models.BooleanField(_("pinned"), default=False)
    is_locked = models.BooleanField(
        _("locked"), default=False, help_text=_("Only moderators can post.")
    )
    is_closed = models.BooleanField(_("closed"), default=False, help_text=_("No new replies."))
    is_deleted = models.BooleanField(_("deleted"), default=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The live stream of this topic's events (new posts, edits, reactions ...):
    # TopicEvent.seq is last_seq + 1, given under a lock on this row.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-is_pinned", "-last_posted_at"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [
            models.Index(fields=["category", "-last_posted_at"], name="topic_cat_latest"),
            models.Index(fields=["-last_posted_at"], name="topic_latest"),
            models.Index(fields=["-reaction_count", "-reply_count"], name="topic_top"),
            models.Index(fields=["author", "-created_at"], name="topic_author"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forums:topic", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def is_question(self) -> bool:
        return self.kind == TopicKind.QUESTION

    @property
    def is_solved(self) -> bool:
        return self.accepted_post_id is not None


class TopicSkill(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="skill_tags")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="forum_tags")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "skill"], name="topic_skill_unique"),
        ]
        indexes = [models.Index(fields=["skill", "topic"], name="topicskill_skill")]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.skill_id}"


class Post(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    number = models.PositiveIntegerField(_("number"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forum_posts"
    )
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), max_length=20000)
    body_html = models.TextField(editable=False)
    # Plain text of the post (topic title first for the opening post): search and excerpts.
    body_text = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(_("posted"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    edit_count = models.PositiveIntegerField(default=0, editable=False)
    # A retried "post" with the same client id returns the first post, never a second.
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_hidden = models.BooleanField(
        _("hidden"), default=False, help_text=_("Hidden by a moderator after flags.")
    )
    # {"like": 3, "thanks": 1}: kept by the reaction services with the Reaction rows.
    reaction_counts = models.JSONField(default=dict, blank=True, editable=False)
    expert_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expert_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["topic", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="post_number_unique"),
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="post_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="post_author_recent"),
            models.Index(fields=["-created_at"], name="post_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}#{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("forums:post", kwargs={"pk": self.pk})

    @property
    def is_visible(self) -> bool:
        return not (self.is_deleted or self.is_hidden)


class PostRevision(models.Model):
    """The text a post had before an edit: the visible edit history."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="post_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} v{self.number}"


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_mentions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="mention_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}@{self.user_id}"


class ReactionKind(models.TextChoices):
    LIKE = "like", _("Like")
    THANKS = "thanks", _("Thanks")
    INSIGHTFUL = "insightful", _("Insightful")
    SAME_PROBLEM = "same", _("I have this too")


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_reactions"
    )
    kind = models.CharField(max_length=12, choices=ReactionKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user", "kind"], name="reaction_unique"),
        ]
        # the trust limit counts a member's reactions of the last day
        indexes = [models.Index(fields=["user", "created_at"], name="reaction_user_created")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.post_id}"


class Draft(models.Model):
    """Unsent text kept on the server: one per member per topic (a reply), and one per
    member for a new topic (``topic`` empty)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_drafts"
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=TopicKind.choices, blank=True)
    skills = models.JSONField(default=list, blank=True)  # skill slugs
    reply_to = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(max_length=20000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic"],
                condition=models.Q(topic__isnull=False),
                name="draft_reply_unique",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(topic__isnull=True),
                name="draft_new_topic_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"draft {self.user_id}:{self.topic_id or 'new'}"


class ReadState(models.Model):
    """How far a member has read a topic (the highest post number seen)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_read_states"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="read_states")
    last_read_number = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="read_state_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.topic_id} to {self.last_read_number}"


class Bookmark(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_bookmarks"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="bookmark_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} bookmarked {self.post_id}"


class WatchLevel(models.TextChoices):
    WATCHING = "watching", _("Watching: tell me about every new post")
    TRACKING = "tracking", _("Tracking: count unread posts, tell me when I'm mentioned")
    NORMAL = "normal", _("Normal: tell me only when I'm mentioned or answered")
    MUTED = "muted", _("Muted: never tell me, hide it from my lists")


class TopicWatch(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_topic_watches"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="watches")
    level = models.CharField(max_length=10, choices=WatchLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="topic_watch_unique"),
        ]
        indexes = [models.Index(fields=["topic", "level"], name="topicwatch_topic_level")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} topic {self.topic_id}"


class CategoryWatch(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_category_watches"
    )
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="watches")
    level = models.CharField(max_length=10, choices=WatchLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="category_watch_unique"),
        ]
        indexes = [
            models.Index(fields=["category", "level"], name="categorywatch_cat_level"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} category {self.category_id}"


class TagWatch(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_tag_watches"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="forum_watches")
    level = models.CharField(max_length=10, choices=WatchLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="tag_watch_unique"),
        ]
        indexes = [models.Index(fields=["skill", "level"], name="tagwatch_skill_level")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} tag {self.skill_id}"


class TopicEvent(models.Model):
    """One event of a topic's live stream (post created, edited, deleted, reaction
    counts, accepted answer ...). ``seq`` is contiguous per topic, given in the same
    transaction as the write: a reader who reconnects asks for what follows its last
    seq and gets exactly that, from here."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["topic", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "seq"], name="topic_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.seq} {self.type}"


class MemberStats(models.Model):
    """A member's participation, kept by the services: what trust limits lift with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="forum_stats",
    )
    post_count = models.PositiveIntegerField(default=0)
    topic_count = models.PositiveIntegerField(default=0)
    reactions_received = models.PositiveIntegerField(default=0)
    accepted_answers = models.PositiveIntegerField(default=0)
    trust_level = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("member forum statistics")
        verbose_name_plural = _("member forum statistics")

    def __str__(self) -> str:
        return f"{self.user_id}: trust {self.trust_level}"


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    OFF_TOPIC = "off_topic", _("Off topic")
    ABUSIVE = "abusive", _("Abusive or disrespectful")
    OTHER = "other", _("Something else")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    HIDDEN = "hidden", _("Post hidden")
    RESTORED = "restored", _("Post restored")
    DELETED = "deleted", _("Post deleted")
    DISMISSED = "dismissed", _("Dismissed")


class Flag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_flags"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=FlagReason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "flagged_by"],
                condition=models.Q(status="open"),
                name="flag_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"flag {self.reason} on {self.post_id}"


class ModerationAction(models.TextChoices):
    HIDE = "hide", _("Hid a post")
    RESTORE = "restore", _("Restored a post")
    DELETE = "delete", _("Deleted a post")
    DISMISS = "dismiss", _("Dismissed flags")
    PIN = "pin", _("Pinned a topic")
    UNPIN = "unpin", _("Unpinned a topic")
    LOCK = "lock", _("Locked a topic")
    UNLOCK = "unlock", _("Unlocked a topic")
    CLOSE = "close", _("Closed a topic")
    REOPEN = "reopen", _("Reopened a topic")
    MOVE = "move", _("Moved a topic")
    MERGE = "merge", _("Merged topics")
    DELETE_TOPIC = "delete_topic", _("Deleted a topic")
    EDIT = "edit", _("Edited a member's post")
    ACCEPT = "accept", _("Chose an accepted answer")


class ModerationLog(models.Model):
    """Every moderator action, who took it and on what."""

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=ModerationAction.choices)
    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.moderator_id} {self.action}"
