"""The posting API under /api/v1/forums/: open a topic, reply, edit, delete (and
undelete, moderators), the edit history, a Markdown preview, and drafts (GET/PUT/DELETE,
for JavaScript autosave). Creating calls take a ``client_id``: a retry with the same id
returns the first result (200 instead of 201) and never posts twice.

A trust limit that is about rate (posts a minute, topics a day) answers 429 with a
Retry-After header; one about the post itself (too many links or mentions) answers 400
on the ``body`` field."""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.forums import access
from community.forums.api.limits import trust_limits
from community.forums.models import Draft, Post, Topic, TopicKind
from community.forums.selectors.posting import (
    categories_for_posting,
    draft_get,
    drafts_for_user,
    post_get_for_undelete,
    post_get_for_user,
    post_history,
    topic_get_for_posting,
)
from community.forums.services import drafts as draft_services
from community.forums.services import posting as services
from community.markup import render_markdown
from community.models import User
from config.api import error_responses, paginated, validated

TAGS = ["forums"]


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- shapes -----------------------------------------------------------------------------------
class PostingStrictInput(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error rather than a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class PostingPostSerializer(serializers.ModelSerializer[Post]):
    topic = serializers.IntegerField(source="topic_id")
    author = serializers.CharField(source="author.username")
    author_name = serializers.SerializerMethodField()
    reply_to = serializers.SerializerMethodField(help_text="The number of the post replied to.")
    html = serializers.CharField(source="body_html")
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Post
        fields = [
            "id",
            "topic",
            "number",
            "author",
            "author_name",
            "reply_to",
            "body",
            "html",
            "created_at",
            "edited_at",
            "edit_count",
            "is_deleted",
            "is_hidden",
            "url",
        ]

    def get_author_name(self, post: Post) -> str:
        profile = getattr(post.author, "profile", None)
        return getattr(profile, "display_name", "") or post.author.username

    def get_reply_to(self, post: Post) -> int | None:
        return post.reply_to.number if post.reply_to_id and post.reply_to else None


class PostingTopicSerializer(serializers.ModelSerializer[Topic]):
    category = serializers.CharField(source="category.slug")
    skills = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Topic
        fields = ["id", "title", "slug", "kind", "category", "skills", "url", "created_at"]

    def get_skills(self, topic: Topic) -> list[str]:
        return sorted(s.slug for s in topic.skills.all())


class PostingTopicCreatedSerializer(serializers.Serializer):
    topic = PostingTopicSerializer()
    post = PostingPostSerializer()


class PostingTopicCreateInput(PostingStrictInput):
    category = serializers.SlugField(help_text="The category's slug.")
    kind = serializers.ChoiceField(choices=TopicKind.choices, default=TopicKind.DISCUSSION)
    title = serializers.CharField(max_length=services.TITLE_MAX)
    skills = serializers.ListField(
        child=serializers.SlugField(), default=list, max_length=services.MAX_SKILLS
    )
    body = serializers.CharField(max_length=services.BODY_MAX)
    client_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class PostingReplyInput(PostingStrictInput):
    body = serializers.CharField(max_length=services.BODY_MAX)
    reply_to = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="A post id."
    )
    client_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class PostingEditInput(PostingStrictInput):
    body = serializers.CharField(max_length=services.BODY_MAX)
    title = serializers.CharField(
        max_length=services.TITLE_MAX, required=False, help_text="Opening post only."
    )
    kind = serializers.ChoiceField(
        choices=TopicKind.choices, required=False, help_text="Opening post only."
    )
    skills = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        max_length=services.MAX_SKILLS,
        help_text="Opening post only; replaces the topic's skills.",
    )
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class PostingReasonInput(PostingStrictInput):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class PostingPreviewInput(PostingStrictInput):
    body = serializers.CharField(
        max_length=services.BODY_MAX, allow_blank=True, trim_whitespace=False
    )


class PostingPreviewSerializer(serializers.Serializer):
    html = serializers.CharField()


class PostingVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField(help_text="The topic title then (opening post only).")
    body = serializers.CharField()
    editor = serializers.CharField(source="editor.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()


class PostingDraftSerializer(serializers.ModelSerializer[Draft]):
    topic = serializers.IntegerField(source="topic_id", allow_null=True)
    category = serializers.SerializerMethodField()
    reply_to = serializers.IntegerField(source="reply_to_id", allow_null=True)

    class Meta:
        model = Draft
        fields = ["topic", "category", "title", "kind", "skills", "reply_to", "body", "updated_at"]

    def get_category(self, draft: Draft) -> str | None:
        return draft.category.slug if draft.category_id and draft.category else None


class PostingDraftInput(PostingStrictInput):
    body = serializers.CharField(
        max_length=services.BODY_MAX, allow_blank=True, trim_whitespace=False, default=""
    )
    title = serializers.CharField(max_length=services.TITLE_MAX, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=TopicKind.choices, allow_blank=True, default="")
    category = serializers.SlugField(allow_blank=True, allow_null=True, default=None)
    skills = serializers.ListField(
        child=serializers.SlugField(), default=list, max_length=services.MAX_SKILLS
    )
    reply_to = serializers.IntegerField(allow_null=True, default=None, min_value=1)


# --- topics and posts -------------------------------------------------------------------------
def _post_out(post: Post) -> dict[str, Any]:
    fresh = Post.objects.select_related("author__profile", "reply_to").get(pk=post.pk)
    return dict(PostingPostSerializer(fresh).data)


def _retried(user: User, client_id: Any) -> bool:
    return bool(client_id) and Post.objects.filter(author=user, client_id=client_id).exists()


class TopicCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_topic_create",
        summary="Open a topic with its first post (a retried client_id returns the first)",
        request=PostingTopicCreateInput,
        responses={
            201: PostingTopicCreatedSerializer,
            200: OpenApiResponse(
                PostingTopicCreatedSerializer, description="A retry: the first topic"
            ),
            **error_responses(400, 401, 403, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = validated(PostingTopicCreateInput, request.data)
        user = _me(request)
        category = categories_for_posting(user).filter(slug=data["category"]).first()
        if category is None:
            raise ValidationError({"category": _("No such category.")})
        retried = _retried(user, data["client_id"])
        with trust_limits():
            topic = services.topic_create(
                author=user,
                category=category,
                title=data["title"],
                body=data["body"],
                kind=data["kind"],
                skills=data["skills"],
                client_id=data["client_id"],
            )
        topic = Topic.objects.select_related("category").prefetch_related("skills").get(pk=topic.pk)
        opening = topic.posts.get(number=1)
        body = {"topic": PostingTopicSerializer(topic).data, "post": _post_out(opening)}
        return Response(body, status=status.HTTP_200_OK if retried else status.HTTP_201_CREATED)


class ReplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_reply_create",
        summary="Reply in a topic, optionally to one of its posts",
        request=PostingReplyInput,
        responses={
            201: PostingPostSerializer,
            200: OpenApiResponse(PostingPostSerializer, description="A retry: the first post"),
            **error_responses(400, 401, 403, 404, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _me(request)
        topic = topic_get_for_posting(pk=pk, user=user)
        data = validated(PostingReplyInput, request.data)
        reply_to = None
        if data["reply_to"] is not None:
            reply_to = (
                Post.objects.filter(access.post_visible_q(user), pk=data["reply_to"], topic=topic)
                .select_related("topic")
                .first()
            )
            if reply_to is None:
                raise ValidationError({"reply_to": _("That post is not in this topic.")})
        retried = _retried(user, data["client_id"])
        with trust_limits():
            post = services.post_create(
                author=user,
                topic=topic,
                body=data["body"],
                reply_to=reply_to,
                client_id=data["client_id"],
            )
        if post.topic_id != topic.pk:  # a client_id reused for another topic
            raise ValidationError({"client_id": _("This id was used for another post.")})
        return Response(
            _post_out(post), status=status.HTTP_200_OK if retried else status.HTTP_201_CREATED
        )


class PostEditView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_post_edit",
        summary="Edit a post (its author or a moderator); the old text becomes a revision",
        request=PostingEditInput,
        responses={200: PostingPostSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        user = _me(request)
        post = post_get_for_user(pk=pk, user=user)
        data = validated(PostingEditInput, request.data)
        if not access.can_edit_post(user, post):
            raise exceptions.PermissionDenied(_("You cannot edit this post."))
        with trust_limits():
            services.post_edit(
                editor=user,
                post=post,
                body=data["body"],
                title=data.get("title"),
                kind=data.get("kind"),
                skills=data.get("skills"),
                reason=data["reason"],
            )
        return Response(_post_out(post))


class PostDeleteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_post_delete",
        summary="Delete a post (its author or a moderator); the opening post deletes the topic",
        request=PostingReasonInput,
        responses={200: PostingPostSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _me(request)
        post = post_get_for_user(pk=pk, user=user)
        data = validated(PostingReasonInput, request.data or {})
        if not access.can_edit_post(user, post):
            raise exceptions.PermissionDenied(_("You cannot delete this post."))
        services.post_delete(actor=user, post=post, reason=data["reason"])
        return Response(_post_out(post))


class PostUndeleteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_post_undelete",
        summary="Bring back a deleted post or topic (moderators)",
        request=PostingReasonInput,
        responses={200: PostingPostSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _me(request)
        post = post_get_for_undelete(pk=pk, user=user)
        data = validated(PostingReasonInput, request.data or {})
        services.post_undelete(actor=user, post=post, reason=data["reason"])
        return Response(_post_out(post))


class PostHistoryView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="forums_post_history",
        summary="Every version of a post, oldest first (the last is the current text)",
        responses={200: PostingVersionSerializer(many=True), **error_responses(404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        post = post_get_for_user(pk=pk, user=request.user)
        return Response(PostingVersionSerializer(post_history(post), many=True).data)


class PreviewView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_preview",
        summary="Render Markdown as a post would show it",
        request=PostingPreviewInput,
        responses={200: PostingPreviewSerializer, **error_responses(400, 401, 403, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = validated(PostingPreviewInput, request.data)
        return Response({"html": str(render_markdown(data["body"]))})


# --- drafts -----------------------------------------------------------------------------------
class DraftListView(GenericAPIView[Draft]):
    permission_classes = [IsAuthenticated]
    serializer_class = PostingDraftSerializer

    @extend_schema(
        operation_id="forums_drafts_list",
        summary="Your drafts, newest first",
        responses={200: PostingDraftSerializer(many=True), **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return paginated(self, drafts_for_user(_me(request)), PostingDraftSerializer)


class _DraftView(APIView):
    """GET, PUT (save; an empty draft is deleted) and DELETE one draft."""

    permission_classes = [IsAuthenticated]

    def _topic(self, request: Request, pk: int | None) -> Topic | None:
        return None if pk is None else topic_get_for_posting(pk=pk, user=request.user)

    def _get(self, request: Request, pk: int | None = None) -> Response:
        draft = draft_get(user=request.user, topic=self._topic(request, pk))
        if draft is None:
            raise Http404("No draft.")
        return Response(PostingDraftSerializer(draft).data)

    def _put(self, request: Request, pk: int | None = None) -> Response:
        user = _me(request)
        topic = self._topic(request, pk)
        data = validated(PostingDraftInput, request.data)
        category = None
        if data["category"]:
            category = categories_for_posting(user).filter(slug=data["category"]).first()
            if category is None:
                raise ValidationError({"category": _("No such category.")})
        reply_to = None
        if data["reply_to"] is not None:
            reply_to = Post.objects.filter(
                access.post_visible_q(user), pk=data["reply_to"], topic=topic
            ).first()
            if reply_to is None:
                raise ValidationError({"reply_to": _("That post is not in this topic.")})
        draft = draft_services.draft_save(
            user=user,
            topic=topic,
            body=data["body"],
            title=data["title"],
            kind=data["kind"],
            category=category,
            skills=data["skills"],
            reply_to=reply_to,
        )
        if draft is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(PostingDraftSerializer(draft).data)

    def _delete(self, request: Request, pk: int | None = None) -> Response:
        draft_services.draft_delete(user=_me(request), topic=self._topic(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _draft_schema(method: str, where: str) -> Callable[[Any], Any]:
    specs: dict[str, dict[str, Any]] = {
        "get": {
            "summary": f"Your draft for {where}",
            "responses": {200: PostingDraftSerializer, **error_responses(401, 404, 429)},
        },
        "put": {
            "summary": f"Save your draft for {where} (an empty one is deleted: 204)",
            "request": PostingDraftInput,
            "responses": {
                200: PostingDraftSerializer,
                204: OpenApiResponse(description="Empty: deleted"),
                **error_responses(400, 401, 403, 404, 429),
            },
        },
        "delete": {
            "summary": f"Discard your draft for {where}",
            "responses": {
                204: OpenApiResponse(description="Gone"),
                **error_responses(401, 403, 404, 429),
            },
        },
    }
    slug = "new_topic" if where == "a new topic" else "reply"
    return extend_schema(operation_id=f"forums_draft_{slug}_{method}", tags=TAGS, **specs[method])


class NewTopicDraftView(_DraftView):
    @_draft_schema("get", "a new topic")
    def get(self, request: Request) -> Response:
        return self._get(request)

    @_draft_schema("put", "a new topic")
    def put(self, request: Request) -> Response:
        return self._put(request)

    @_draft_schema("delete", "a new topic")
    def delete(self, request: Request) -> Response:
        return self._delete(request)


class ReplyDraftView(_DraftView):
    @_draft_schema("get", "a reply in this topic")
    def get(self, request: Request, pk: int) -> Response:
        return self._get(request, pk)

    @_draft_schema("put", "a reply in this topic")
    def put(self, request: Request, pk: int) -> Response:
        return self._put(request, pk)

    @_draft_schema("delete", "a reply in this topic")
    def delete(self, request: Request, pk: int) -> Response:
        return self._delete(request, pk)


urlpatterns: list[URLPattern] = [
    path("new-topic/", TopicCreateView.as_view(), name="api-forums-topic-create"),
    path("t/<int:pk>/reply/", ReplyView.as_view(), name="api-forums-reply"),
    path("p/<int:pk>/edit/", PostEditView.as_view(), name="api-forums-post-edit"),
    path("p/<int:pk>/delete/", PostDeleteView.as_view(), name="api-forums-post-delete"),
    path("p/<int:pk>/undelete/", PostUndeleteView.as_view(), name="api-forums-post-undelete"),
    path("p/<int:pk>/history/", PostHistoryView.as_view(), name="api-forums-post-history"),
    path("preview/", PreviewView.as_view(), name="api-forums-preview"),
    path("drafts/", DraftListView.as_view(), name="api-forums-drafts"),
    path("drafts/new-topic/", NewTopicDraftView.as_view(), name="api-forums-draft-new-topic"),
    path("drafts/t/<int:pk>/", ReplyDraftView.as_view(), name="api-forums-draft-reply"),
]
