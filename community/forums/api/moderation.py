"""Moderation API, under /api/v1/forums/: flag a post; the review queue and a decision
on a flagged post; a moderator's actions on a topic; the moderation log."""

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.forums.models import (
    Category,
    Flag,
    FlagReason,
    FlagStatus,
    ModerationAction,
    ModerationLog,
    Post,
    Topic,
)
from community.forums.selectors import moderation as selectors
from community.forums.services import moderation as services
from community.models import User
from config.api import StrictInput, error_responses, paginated, validated

TAGS = ["forums"]


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return getattr(profile, "display_name", "") or user.username


# --- shapes --------------------------------------------------------------------------------
class FlagInput(StrictInput):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.NOTE_MAX,
        help_text="Required when the reason is “other”.",
    )


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id")
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=FlagStatus.choices)
    created_at = serializers.DateTimeField()


class FlagDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    by = serializers.CharField(source="flagged_by.username")
    by_name = serializers.SerializerMethodField()
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_by_name(self, flag: Flag) -> str:
        return _name(flag.flagged_by)


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    text = serializers.CharField(source="label", help_text="The reason, in words.")
    count = serializers.IntegerField()


class TopicRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    category = serializers.CharField(source="category.slug")


class PostStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    topic = TopicRefSerializer()
    author = serializers.CharField(source="author.username")
    is_hidden = serializers.BooleanField()
    is_deleted = serializers.BooleanField()


class ReviewItemSerializer(serializers.Serializer):
    post = PostStateSerializer(source="*")
    excerpt = serializers.SerializerMethodField()
    open_flag_count = serializers.IntegerField()
    first_flagged_at = serializers.DateTimeField()
    reasons = ReasonCountSerializer(many=True, source="reason_counts")
    flags = FlagDetailSerializer(many=True, source="open_flags")

    def get_excerpt(self, post: Post) -> str:
        text = post.body_text or ""
        return text if len(text) <= 300 else text[:299] + "…"


class ReviewInput(StrictInput):
    action = serializers.ChoiceField(choices=sorted(services.REVIEW_ACTIONS))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=services.REASON_MAX)


class ReviewQueueInput(StrictInput):
    reason = serializers.ChoiceField(choices=FlagReason.choices, required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


TOPIC_ACTIONS = [*services.TOPIC_TOGGLES, "move", "merge", "delete"]


class TopicModerateInput(StrictInput):
    action = serializers.ChoiceField(choices=TOPIC_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=services.REASON_MAX)
    category = serializers.SlugField(
        required=False, help_text="For move: the slug of the category to move to."
    )
    into = serializers.IntegerField(
        required=False, min_value=1, help_text="For merge: the id of the topic to merge into."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["action"] == "move":
            slug = data.get("category")
            if not slug:
                raise serializers.ValidationError({"category": [_("Choose a category.")]})
            category = Category.objects.filter(slug=slug).first()
            if category is None:
                raise serializers.ValidationError({"category": [_("No such category.")]})
            data["category"] = category
        elif data["action"] == "merge":
            pk = data.get("into")
            if pk is None:
                raise serializers.ValidationError(
                    {"into": [_("Give the id of the topic to merge into.")]}
                )
            into = Topic.objects.filter(pk=pk).first()
            if into is None:
                raise serializers.ValidationError({"into": [_("No such topic.")]})
            data["into"] = into
        return data


class TopicStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    category = serializers.CharField(source="category.slug")
    is_pinned = serializers.BooleanField()
    is_locked = serializers.BooleanField()
    is_closed = serializers.BooleanField()
    is_deleted = serializers.BooleanField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    reply_count = serializers.IntegerField()
    last_post_number = serializers.IntegerField()


class LogInput(StrictInput):
    action = serializers.ChoiceField(choices=ModerationAction.choices, required=False)
    moderator = serializers.CharField(required=False, max_length=150, help_text="A username.")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate_moderator(self, value: str) -> User:
        user = User.objects.filter(username__iexact=value.strip()).first()
        if user is None:
            raise serializers.ValidationError(
                _("No member is called “%(name)s”.") % {"name": value}
            )
        return user


class LogEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    moderator = serializers.CharField(source="moderator.username")
    automatic = serializers.SerializerMethodField()
    action = serializers.ChoiceField(choices=ModerationAction.choices)
    topic = serializers.IntegerField(source="topic_id", allow_null=True)
    topic_title = serializers.SerializerMethodField()
    post = serializers.IntegerField(source="post_id", allow_null=True)
    details = serializers.DictField()
    reason = serializers.CharField()

    def get_automatic(self, entry: ModerationLog) -> bool:
        return bool(entry.details.get("automatic"))

    def get_topic_title(self, entry: ModerationLog) -> str | None:
        return entry.topic.title if entry.topic is not None else None


# --- views ---------------------------------------------------------------------------------
class FlagCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_post_flag",
        summary="Flag a post for the moderators (one open flag per member and post)",
        request=FlagInput,
        responses={201: FlagSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        post = selectors.post_get_for_flagging(pk=pk, user=request.user)
        data = validated(FlagInput, request.data)
        flag = services.flag_create(
            user=_me(request), post=post, reason=data["reason"], note=data.get("note", "")
        )
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class ReviewQueueView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = ReviewItemSerializer

    @extend_schema(
        operation_id="forums_review_list",
        summary="The review queue: flagged posts, longest waiting first (moderators)",
        parameters=[ReviewQueueInput],
        responses={
            200: ReviewItemSerializer(many=True),
            **error_responses(400, 401, 403, 404, 429),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        selectors.require_moderator(request.user)
        params = validated(ReviewQueueInput, request.query_params)
        qs = selectors.review_queue(user=request.user, reason=params.get("reason", ""))
        page = list(self.paginate_queryset(qs) or [])
        selectors.review_attach_flags(page)
        return self.get_paginated_response(ReviewItemSerializer(page, many=True).data)


class ReviewPostView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_review_post",
        summary="Decide on a flagged post: hide, restore, delete or dismiss (moderators)",
        request=ReviewInput,
        responses={200: PostStateSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        post = selectors.post_get_for_review(pk=pk, user=request.user)
        data = validated(ReviewInput, request.data)
        post = services.post_review(
            moderator=_me(request),
            post=post,
            action=data["action"],
            reason=data.get("reason", ""),
        )
        fresh = Post.objects.select_related("topic__category", "author").get(pk=post.pk)
        return Response(PostStateSerializer(fresh).data)


class TopicModerateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_topic_moderate",
        summary="Pin, unpin, lock, unlock, close, reopen, move, merge or delete a topic "
        "(moderators)",
        request=TopicModerateInput,
        responses={200: TopicStateSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        topic = selectors.topic_get_for_moderation(pk=pk, user=request.user)
        data = validated(TopicModerateInput, request.data)
        moderator, action, reason = _me(request), data["action"], data.get("reason", "")
        if action == "move":
            result = services.topic_move(
                moderator=moderator, topic=topic, category=data["category"], reason=reason
            )
        elif action == "merge":
            result = services.topic_merge(
                moderator=moderator, topic=topic, into=data["into"], reason=reason
            )
        elif action == "delete":
            result = services.topic_delete(moderator=moderator, topic=topic, reason=reason)
        else:
            result = services.topic_moderate(
                moderator=moderator, topic=topic, action=action, reason=reason
            )
        fresh = Topic.objects.select_related("category").get(pk=result.pk)
        return Response(TopicStateSerializer(fresh).data)


class LogView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = LogEntrySerializer

    @extend_schema(
        operation_id="forums_moderation_log_list",
        summary="The moderation log, newest first (moderators)",
        parameters=[LogInput],
        responses={200: LogEntrySerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        selectors.require_moderator(request.user)
        params = validated(LogInput, request.query_params)
        qs = selectors.moderation_log(
            user=request.user, action=params.get("action", ""), moderator=params.get("moderator")
        )
        return paginated(self, qs, LogEntrySerializer)


urlpatterns = [
    path("p/<int:pk>/flag/", FlagCreateView.as_view(), name="api-forums-flag"),
    path("review/", ReviewQueueView.as_view(), name="api-forums-review"),
    path("review/p/<int:pk>/", ReviewPostView.as_view(), name="api-forums-review-post"),
    path("t/<int:pk>/moderate/", TopicModerateView.as_view(), name="api-forums-topic-moderate"),
    path("log/", LogView.as_view(), name="api-forums-moderation-log"),
]
