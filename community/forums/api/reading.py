"""Reading API under /api/v1/forums/: categories, topic lists, a topic with a page of
its posts, read positions, bookmarks. Thin views over ``selectors.reading`` and
``services.reading``; every list runs a constant number of queries."""

from typing import Any

from django.http import Http404
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.forums.models import Bookmark, Category, Post, Topic, TopicKind
from community.forums.selectors import reading as sel
from community.forums.services import reading as svc
from community.models import User
from config.api import error_responses, paginated, validated

TAGS = ["forums"]


def _me(request: Request) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _member(request: Request) -> User:
    user = _me(request)
    if user is None:
        raise exceptions.NotAuthenticated()
    return user


# --- shapes ------------------------------------------------------------------------------------
class _CategoryRef(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class _AuthorRef(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user: User) -> str:
        profile = getattr(user, "profile", None)
        return getattr(profile, "display_name", "") or user.username


class _SkillRef(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class SubcategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    required_role = serializers.CharField(help_text='A role ("facilitator" ...) or "".')
    topic_count = serializers.IntegerField()
    post_count = serializers.IntegerField()
    last_posted_at = serializers.DateTimeField(allow_null=True)
    last_topic_id = serializers.IntegerField(allow_null=True)
    last_topic_title = serializers.CharField(allow_null=True)
    unread_count = serializers.IntegerField(
        allow_null=True, help_text="Your topics with unread posts (null when not signed in)."
    )
    new_count = serializers.IntegerField(
        allow_null=True, help_text="New topics for you (null when not signed in)."
    )


class CategorySerializer(SubcategorySerializer):
    subcategories = SubcategorySerializer(many=True)


class TopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    kind = serializers.ChoiceField(choices=TopicKind.choices)
    category = _CategoryRef()
    author = _AuthorRef()
    skills = _SkillRef(many=True, source="skills.all")
    created_at = serializers.DateTimeField()
    last_posted_at = serializers.DateTimeField()
    last_post_number = serializers.IntegerField()
    reply_count = serializers.IntegerField()
    reaction_count = serializers.IntegerField()
    view_count = serializers.IntegerField()
    is_pinned = serializers.BooleanField()
    is_locked = serializers.BooleanField()
    is_closed = serializers.BooleanField()
    is_solved = serializers.BooleanField()
    last_read_number = serializers.SerializerMethodField(
        help_text="Your read position (null: never opened, or not signed in)."
    )
    unread_count = serializers.SerializerMethodField(help_text="Null when not signed in.")
    is_new = serializers.SerializerMethodField(help_text="Null when not signed in.")

    def _member(self) -> bool:
        return bool(self.context.get("member"))

    def get_last_read_number(self, topic: Topic) -> int | None:
        return getattr(topic, "my_last_read", None)

    def get_unread_count(self, topic: Topic) -> int | None:
        return getattr(topic, "unread_count", 0) if self._member() else None

    def get_is_new(self, topic: Topic) -> bool | None:
        return bool(getattr(topic, "is_new", False)) if self._member() else None


class TopicDetailSerializer(TopicSerializer):
    accepted_post_id = serializers.IntegerField(allow_null=True)
    last_seq = serializers.IntegerField(help_text="The live stream's last seq (websocket resume).")
    first_unread_number = serializers.IntegerField(allow_null=True)
    first_unread_page = serializers.IntegerField(allow_null=True)
    can_reply = serializers.BooleanField()
    can_accept = serializers.BooleanField()
    can_verify = serializers.BooleanField()
    is_moderator = serializers.BooleanField()
    watch_level = serializers.CharField(help_text='Your watch level, or "".')


class PostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    url = serializers.CharField(source="get_absolute_url")
    author = _AuthorRef()
    reply_to_number = serializers.IntegerField(allow_null=True)
    html = serializers.CharField(source="body_html")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    is_hidden = serializers.BooleanField()
    is_accepted = serializers.BooleanField()
    expert_verified_by = serializers.CharField(
        source="expert_verified_by.username", allow_null=True, default=None
    )
    reaction_counts = serializers.DictField(child=serializers.IntegerField())
    my_reactions = serializers.SerializerMethodField()
    is_bookmarked = serializers.BooleanField()
    can_edit = serializers.BooleanField()

    def get_my_reactions(self, post: Post) -> list[str]:
        return sorted(getattr(post, "my_reactions", ()))


class TopicPageSerializer(serializers.Serializer):
    topic = TopicDetailSerializer()
    count = serializers.IntegerField(help_text="Posts you can see in the topic.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PostSerializer(many=True)


class _PostRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    url = serializers.CharField(source="get_absolute_url")
    topic_id = serializers.IntegerField()
    topic_title = serializers.CharField(source="topic.title")
    category = _CategoryRef(source="topic.category")
    author = _AuthorRef()
    excerpt = serializers.SerializerMethodField()

    def get_excerpt(self, post: Post) -> str:
        text = " ".join(post.body_text.split())
        return text[:200]


class BookmarkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = _PostRef()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class TopicListInput(serializers.Serializer):
    sort = serializers.ChoiceField(choices=sel.Sort.choices, default=sel.Sort.LATEST)
    filter = serializers.ChoiceField(
        choices=sel.ListFilter.choices,
        required=False,
        help_text="Only your new or unread topics (signed in only).",
    )
    category = serializers.SlugField(required=False, help_text="Category slug (with children).")
    tag = serializers.SlugField(required=False, help_text="Skill slug from the catalogue.")


class CategoryTopicsInput(serializers.Serializer):
    sort = serializers.ChoiceField(choices=sel.Sort.choices, default=sel.Sort.LATEST)


class TopicPageInput(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)


class ReadPositionInput(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, help_text="The last post number you read.")


class ReadPositionSerializer(serializers.Serializer):
    topic = serializers.IntegerField(source="topic_id")
    last_read_number = serializers.IntegerField()


class BookmarkCreateInput(serializers.Serializer):
    post = serializers.IntegerField(min_value=1, help_text="The post's id.")
    note = serializers.CharField(
        max_length=svc.NOTE_MAX, required=False, allow_blank=True, trim_whitespace=True
    )


class BookmarkUpdateInput(serializers.Serializer):
    note = serializers.CharField(max_length=svc.NOTE_MAX, allow_blank=True)


# --- categories --------------------------------------------------------------------------------
def _category_counts(categories: list[Category], member: bool) -> None:
    for category in categories:
        if not member:
            category.unread_count = category.new_count = None  # type: ignore[attr-defined]
        _category_counts(getattr(category, "subcategories", []), member)


class CategoryListView(APIView):
    @extend_schema(
        operation_id="forums_categories_list",
        summary="Categories you can read, in order, with subcategories and your unread/new counts",
        responses={200: CategorySerializer(many=True), **error_responses(429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        categories = sel.category_index(request.user)
        _category_counts(categories, _me(request) is not None)
        return Response(CategorySerializer(categories, many=True).data)


def _topics_page(view: GenericAPIView[Any], request: Request, qs: Any) -> Response:
    member = _me(request) is not None

    def context(page: list[Topic]) -> dict[str, Any]:
        sel.topics_mark_for_reader(page, request.user)
        return {"member": member}

    return paginated(view, qs, TopicSerializer, context=context)


class CategoryTopicsView(GenericAPIView[Any]):
    serializer_class = TopicSerializer

    @extend_schema(
        operation_id="forums_category_topics",
        summary="A category's topics (and its subcategories'), pinned first, then by sort",
        parameters=[CategoryTopicsInput],
        responses={200: TopicSerializer(many=True), **error_responses(400, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        params = validated(CategoryTopicsInput, request.query_params)
        category = sel.category_get_for_user(slug=slug, user=request.user)
        qs = sel.topic_list(
            user=request.user, sort=params["sort"], category=category, pinned_first=True
        )
        return _topics_page(self, request, qs)


class TopicListView(GenericAPIView[Any]):
    serializer_class = TopicSerializer

    @extend_schema(
        operation_id="forums_topics_list",
        summary="Topics you can read: latest, top or unanswered; optionally your new/unread",
        description=(
            "new: topics you have not opened, not yours, created in the last "
            f"{sel.NEW_TOPIC_DAYS} days and since you joined. unread: topics you opened "
            "with posts after your read position. Muted topics are left out of both."
        ),
        parameters=[TopicListInput],
        responses={200: TopicSerializer(many=True), **error_responses(400, 401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = validated(TopicListInput, request.query_params)
        if params.get("filter") and _me(request) is None:
            raise exceptions.NotAuthenticated()
        category = skill = None
        if params.get("category"):
            try:
                category = sel.category_get_for_user(slug=params["category"], user=request.user)
            except Http404:
                raise exceptions.ValidationError({"category": [_("No such category.")]}) from None
        if params.get("tag"):
            try:
                skill = sel.skill_get(slug=params["tag"])
            except Http404:
                raise exceptions.ValidationError({"tag": [_("No such tag.")]}) from None
        qs = sel.topic_list(
            user=request.user,
            sort=params["sort"],
            list_filter=params.get("filter", ""),
            category=category,
            skill=skill,
        )
        return _topics_page(self, request, qs)


# --- a topic -----------------------------------------------------------------------------------
class _PostsPagination(PageNumberPagination):
    """Pages of a topic's posts: FORUM_POSTS_PER_PAGE, like the topic page."""

    def get_page_size(self, request: Request) -> int:
        return sel.posts_per_page()


class TopicDetailView(GenericAPIView[Any]):
    serializer_class = TopicPageSerializer
    pagination_class = _PostsPagination

    @extend_schema(
        operation_id="forums_topic_retrieve",
        summary="A topic and one page of its posts (FORUM_POSTS_PER_PAGE a page)",
        description=(
            "Reading here does not move your read position: POST t/{id}/read/ does. "
            "first_unread_number/first_unread_page say where a returning reader resumes."
        ),
        parameters=[TopicPageInput],
        responses={200: TopicPageSerializer, **error_responses(400, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        params = validated(TopicPageInput, request.query_params)
        user = request.user
        topic = sel.topic_get_for_user(pk=pk, user=user, reader_state=True)
        counts = sel.topic_post_counts(
            topic=topic, user=user, last_read=sel.read_position(topic=topic, user=user)
        )
        tp = sel.topic_page(
            topic=topic, user=user, page=params["page"], visible_count=counts.visible
        )
        if tp.page_obj.number != params["page"]:
            raise exceptions.NotFound(
                _("There is no page %(page)d: the topic has %(pages)d.")
                % {"page": params["page"], "pages": tp.page_obj.paginator.num_pages}
            )
        number, page = counts.first_unread_number, counts.unread_page
        topic.my_last_read = tp.last_read  # type: ignore[attr-defined]
        sel.topics_mark_for_reader([topic], user)
        for key, value in {
            **tp.perms,
            "first_unread_number": number,
            "first_unread_page": page if number is not None else None,
            "watch_level": tp.watch_level,
        }.items():
            setattr(topic, key, value)
        paginator = self.paginator
        assert isinstance(paginator, _PostsPagination)
        paginator.page = tp.page_obj
        paginator.request = request
        body = {
            "topic": TopicDetailSerializer(
                topic, context={"member": _me(request) is not None}
            ).data,
            "count": tp.page_obj.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": PostSerializer(tp.posts, many=True).data,
        }
        return Response(body)


class ReadPositionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_topic_read",
        summary="Move your read position in a topic forward (it never moves back)",
        request=ReadPositionInput,
        responses={200: ReadPositionSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _member(request)
        topic = sel.topic_get_for_user(pk=pk, user=user)
        data = validated(ReadPositionInput, request.data)
        state = svc.read_position_update(user=user, topic=topic, number=data["number"])
        return Response(ReadPositionSerializer(state).data)


# --- bookmarks ---------------------------------------------------------------------------------
class BookmarkListView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = BookmarkSerializer

    @extend_schema(
        operation_id="forums_bookmarks_list",
        summary="Your bookmarks on posts you can still see, newest first",
        responses={200: BookmarkSerializer(many=True), **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return paginated(self, sel.bookmarks_for_user(user=_member(request)), BookmarkSerializer)

    @extend_schema(
        operation_id="forums_bookmarks_create",
        summary="Bookmark a post (again: keeps one bookmark and replaces its note if given)",
        request=BookmarkCreateInput,
        responses={
            201: BookmarkSerializer,
            200: BookmarkSerializer,
            **error_responses(400, 401, 403, 404, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        user = _member(request)
        data = validated(BookmarkCreateInput, request.data)
        try:
            post = sel.post_get_for_user(pk=data["post"], user=user)
        except Http404:
            raise exceptions.ValidationError({"post": [_("No such post.")]}) from None
        existed = Bookmark.objects.filter(user=user, post=post).exists()
        bookmark = svc.bookmark_add(user=user, post=post, note=data.get("note"))
        bookmark = sel.bookmark_get_for_user(pk=bookmark.pk, user=user)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(BookmarkSerializer(bookmark).data, status=code)


class BookmarkDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forums_bookmark_retrieve",
        summary="One of your bookmarks",
        responses={200: BookmarkSerializer, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        bookmark = sel.bookmark_get_for_user(pk=pk, user=_member(request))
        return Response(BookmarkSerializer(bookmark).data)

    @extend_schema(
        operation_id="forums_bookmark_update",
        summary="Change a bookmark's note",
        request=BookmarkUpdateInput,
        responses={200: BookmarkSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        user = _member(request)
        bookmark = sel.bookmark_get_for_user(pk=pk, user=user)
        data = validated(BookmarkUpdateInput, request.data)
        svc.bookmark_update(user=user, bookmark=bookmark, note=data["note"])
        return Response(BookmarkSerializer(bookmark).data)

    @extend_schema(
        operation_id="forums_bookmark_destroy",
        summary="Remove a bookmark",
        responses={204: None, **error_responses(401, 403, 404, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int) -> Response:
        user = _member(request)
        bookmark = sel.bookmark_get_for_user(pk=pk, user=user)
        svc.bookmark_remove(user=user, post=bookmark.post)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("categories/", CategoryListView.as_view(), name="api-forums-categories"),
    path("c/<slug:slug>/", CategoryTopicsView.as_view(), name="api-forums-category-topics"),
    path("topics/", TopicListView.as_view(), name="api-forums-topics"),
    path("t/<int:pk>/", TopicDetailView.as_view(), name="api-forums-topic"),
    path("t/<int:pk>/read/", ReadPositionView.as_view(), name="api-forums-topic-read"),
    path("bookmarks/", BookmarkListView.as_view(), name="api-forums-bookmarks"),
    path("bookmarks/<int:pk>/", BookmarkDetailView.as_view(), name="api-forums-bookmark"),
]
