"""Social API, under /api/v1/forums/: reactions on a post, the accepted answer of a
question, expert verification, watch levels for topics, categories and tags, and the
list of what you follow. Same services as the pages."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.forums.api.limits import trust_limits
from community.forums.models import Post, ReactionKind, WatchLevel
from community.forums.selectors import social as selectors
from community.forums.services import following, social
from community.models import User
from config.api import StrictInput, error_responses, validated

TAGS = ["forums"]
T = TypeVar("T")


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _found(get: Callable[[], T]) -> T:
    """Run a fetch or a service; a missing or invisible object is a 404."""
    try:
        return get()
    except ObjectDoesNotExist:
        raise exceptions.NotFound() from None


# --- shapes --------------------------------------------------------------------------------
class ReactionInput(StrictInput):
    kind = serializers.ChoiceField(choices=ReactionKind.choices)
    active = serializers.BooleanField(
        required=False, default=True, help_text="true gives the reaction, false takes it back."
    )


class ReactionKindSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReactionKind.choices)
    name = serializers.CharField(help_text="What the reaction says, in your language.")
    count = serializers.IntegerField()
    mine = serializers.BooleanField()


class ReactionsSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The post.")
    number = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="{kind: n}")
    mine = serializers.ListField(child=serializers.CharField(), help_text="Kinds you gave.")
    reactions = ReactionKindSerializer(many=True)
    can_react = serializers.BooleanField()


class AcceptInput(StrictInput):
    post = serializers.IntegerField(
        min_value=1, allow_null=True, help_text="The reply to accept; null unmarks the answer."
    )


class AcceptedSerializer(serializers.Serializer):
    topic = serializers.IntegerField()
    post_id = serializers.IntegerField(allow_null=True)
    number = serializers.IntegerField(allow_null=True)


class VerifyInput(StrictInput):
    verified = serializers.BooleanField()


class VerifiedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    verified = serializers.BooleanField()
    verified_by = serializers.CharField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class LevelInput(StrictInput):
    level = serializers.ChoiceField(choices=WatchLevel.choices)


class LevelSerializer(serializers.Serializer):
    level = serializers.CharField(
        help_text="watching, tracking, normal or muted; for a topic, empty when never set."
    )


class TopicWatchSerializer(serializers.Serializer):
    topic = serializers.IntegerField(source="topic_id")
    title = serializers.CharField(source="topic.title")
    url = serializers.CharField(source="topic.get_absolute_url")
    level = serializers.CharField()


class CategoryWatchSerializer(serializers.Serializer):
    category = serializers.CharField(source="category.slug")
    name = serializers.CharField(source="category.name")
    level = serializers.CharField()


class TagWatchSerializer(serializers.Serializer):
    tag = serializers.CharField(source="skill.slug")
    name = serializers.CharField(source="skill.name")
    level = serializers.CharField()


class FollowingSerializer(serializers.Serializer):
    topics = TopicWatchSerializer(many=True)
    categories = CategoryWatchSerializer(many=True)
    tags = TagWatchSerializer(many=True)


# --- views ---------------------------------------------------------------------------------
def _reactions(request: Request, post: Post) -> Response:
    mine = selectors.my_reactions(user=request.user, post_ids=[post.pk])[post.pk]
    user = request.user
    data = {
        "id": post.pk,
        "number": post.number,
        "counts": dict(post.reaction_counts or {}),
        "mine": [k for k in ReactionKind.values if k in mine],
        "reactions": selectors.reaction_summary(post, mine),
        "can_react": bool(
            getattr(user, "is_authenticated", False)
            and post.author_id != user.pk
            and not post.is_hidden
        ),
    }
    return Response(ReactionsSerializer(data).data)


class PostReactionsView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        operation_id="forums_post_reactions_retrieve",
        summary="A post's reactions: counts per kind and the ones you gave",
        responses={200: ReactionsSerializer, **error_responses(404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        post = _found(lambda: selectors.post_get_for_user(pk=pk, user=request.user))
        return _reactions(request, post)

    @extend_schema(
        operation_id="forums_post_reactions_set",
        summary="Give or take back a reaction (idempotent; not on your own posts)",
        request=ReactionInput,
        responses={200: ReactionsSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ReactionInput, request.data)
        post = _found(lambda: selectors.post_get_for_user(pk=pk, user=request.user))
        with trust_limits():
            _found(
                lambda: social.reaction_set(
                    user=_me(request), post=post, kind=data["kind"], active=data["active"]
                )
            )
        post.refresh_from_db(fields=["reaction_counts"])
        return _reactions(request, post)


class TopicAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_topic_accept",
        summary="Mark (post id) or unmark (null) the accepted answer of a question",
        description="The asker or a moderator; a reply of this topic, not the question.",
        request=AcceptInput,
        responses={200: AcceptedSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(AcceptInput, request.data)
        topic = _found(lambda: selectors.topic_get_for_user(pk=pk, user=request.user))
        if data["post"] is None:
            topic = _found(lambda: social.answer_unaccept(user=_me(request), topic=topic))
            return Response(
                AcceptedSerializer({"topic": topic.pk, "post_id": None, "number": None}).data
            )
        try:
            post = selectors.post_get_for_user(pk=data["post"], user=request.user)
        except Post.DoesNotExist:
            post = None
        if post is None or post.topic_id != topic.pk:
            raise serializers.ValidationError({"post": [_("That post is not in this topic.")]})
        topic = _found(lambda: social.answer_accept(user=_me(request), post=post))
        return Response(
            AcceptedSerializer({"topic": topic.pk, "post_id": post.pk, "number": post.number}).data
        )


class PostVerifyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_post_verify",
        summary="Mark or unmark a reply to a question as expert-verified",
        description="Members with the mentor role and moderators; not your own post.",
        request=VerifyInput,
        responses={200: VerifiedSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(VerifyInput, request.data)
        post = _found(lambda: selectors.post_get_for_user(pk=pk, user=request.user))
        post = _found(
            lambda: social.post_verify_set(user=_me(request), post=post, verified=data["verified"])
        )
        by = post.expert_verified_by
        return Response(
            VerifiedSerializer(
                {
                    "id": post.pk,
                    "number": post.number,
                    "verified": post.expert_verified_at is not None,
                    "verified_by": by.username if by else None,
                    "verified_at": post.expert_verified_at,
                }
            ).data
        )


def _level_schema(what: str, method: str) -> Any:
    if method == "get":
        return extend_schema(
            operation_id=f"forums_{what}_watch_retrieve",
            summary=f"Your watch level for a {what}",
            responses={200: LevelSerializer, **error_responses(401, 404, 429)},
            tags=TAGS,
        )
    return extend_schema(
        operation_id=f"forums_{what}_watch_update",
        summary=f"Set your watch level for a {what}",
        request=LevelInput,
        responses={200: LevelSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )


def _watch_view(
    what: str,
    *,
    load: Callable[[Request, Any], Any],
    read: Callable[[Any, Any], str],
    write: Callable[[User, Any, str], object],
) -> type[APIView]:
    """GET/PUT the member's watch level on one ``what`` (topic, category or tag): the
    thing is loaded once per request (404 for missing and invisible ones), then its
    level read, or set and read back."""

    class WatchView(APIView):
        permission_classes = [IsAuthenticated]

        @_level_schema(what, "get")
        def get(self, request: Request, **kwargs: Any) -> Response:
            target = load(request, *kwargs.values())
            return Response(LevelSerializer({"level": read(request.user, target)}).data)

        @_level_schema(what, "put")
        def put(self, request: Request, **kwargs: Any) -> Response:
            target = load(request, *kwargs.values())
            data = validated(LevelInput, request.data)
            write(_me(request), target, data["level"])
            return Response(LevelSerializer({"level": read(request.user, target)}).data)

    WatchView.__name__ = WatchView.__qualname__ = f"{what.title()}WatchView"
    return WatchView


TopicWatchView = _watch_view(
    "topic",
    load=lambda request, pk: _found(lambda: selectors.topic_get_for_user(pk=pk, user=request.user)),
    read=lambda user, topic: selectors.topic_watch_level(user=user, topic=topic),
    write=lambda user, topic, level: following.topic_watch_set(user=user, topic=topic, level=level),
)
CategoryWatchView = _watch_view(
    "category",
    load=lambda request, slug: _found(
        lambda: selectors.category_get_for_user(slug=slug, user=request.user)
    ),
    read=lambda user, category: selectors.category_watch_level(user=user, category=category),
    write=lambda user, category, level: following.category_watch_set(
        user=user, category=category, level=level
    ),
)
TagWatchView = _watch_view(
    "tag",
    load=lambda request, slug: _found(lambda: selectors.tag_get(slug=slug)),
    read=lambda user, skill: selectors.tag_watch_level(user=user, skill=skill),
    write=lambda user, skill, level: following.tag_watch_set(user=user, skill=skill, level=level),
)


class FollowingView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_following_retrieve",
        summary="What you follow or muted: categories, tags, and your latest 200 topics",
        responses={200: FollowingSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        found = selectors.following_for_user(user=_me(request))
        return Response(
            FollowingSerializer(
                {"topics": found.topics, "categories": found.categories, "tags": found.tags}
            ).data
        )


urlpatterns = [
    path("p/<int:pk>/react/", PostReactionsView.as_view(), name="api-forums-post-react"),
    path("t/<int:pk>/accept/", TopicAcceptView.as_view(), name="api-forums-topic-accept"),
    path("p/<int:pk>/verify/", PostVerifyView.as_view(), name="api-forums-post-verify"),
    path("t/<int:pk>/watch/", TopicWatchView.as_view(), name="api-forums-topic-watch"),
    path("c/<slug:slug>/watch/", CategoryWatchView.as_view(), name="api-forums-category-watch"),
    path("tags/<slug:slug>/watch/", TagWatchView.as_view(), name="api-forums-tag-watch"),
    path("settings/", FollowingView.as_view(), name="api-forums-following"),
]
