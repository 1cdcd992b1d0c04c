"""Forum search API: GET /api/v1/forums/search/?q=... with the page's filters."""

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from community.forums.models import TopicKind
from community.forums.selectors.search import (
    GROUPS,
    ORDERS,
    PAGE_SIZE,
    QUERY_MAX,
    STATUSES,
    SearchHit,
    forum_search,
    page_window,
    search_params_clean,
)
from config.api import error_responses

TAGS = ["forums"]


class SearchInput(serializers.Serializer):
    """The query string (documentation: the selector checks the values, with the same
    messages as the search page)."""

    q = serializers.CharField(
        max_length=QUERY_MAX,
        help_text='Words (all must match), "a phrase", a or b, -excluded. Required.',
    )
    category = serializers.SlugField(required=False, help_text="Category slug (with its children).")
    tag = serializers.SlugField(required=False, help_text="Skill slug from the catalogue.")
    author = serializers.CharField(required=False, help_text="Username of the posts' author.")
    status = serializers.ChoiceField(
        choices=STATUSES,
        required=False,
        help_text="Question topics with or without an accepted answer.",
    )
    kind = serializers.ChoiceField(choices=TopicKind.choices, required=False)
    after = serializers.DateField(required=False, help_text="Posted on or after (YYYY-MM-DD).")
    before = serializers.DateField(required=False, help_text="Posted on or before (YYYY-MM-DD).")
    group = serializers.ChoiceField(
        choices=GROUPS, required=False, help_text="One result per topic (default) or per post."
    )
    order = serializers.ChoiceField(choices=ORDERS, required=False, help_text="Default relevance.")


class _SearchCategoryRef(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class _SearchAuthorRef(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class SearchTopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    kind = serializers.ChoiceField(choices=TopicKind.choices)
    is_solved = serializers.BooleanField()
    reply_count = serializers.IntegerField()
    category = _SearchCategoryRef()
    tags = serializers.ListField(child=serializers.CharField(), help_text="Skill slugs.")


class SearchPostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    url = serializers.CharField()
    author = _SearchAuthorRef()
    created_at = serializers.DateTimeField()
    is_accepted = serializers.BooleanField()
    is_verified = serializers.BooleanField()


class SearchHitSerializer(serializers.Serializer):
    topic = SearchTopicSerializer()
    post = SearchPostSerializer()
    rank = serializers.FloatField()
    title_html = serializers.CharField(help_text="The title, escaped, matches in <mark>.")
    excerpt_html = serializers.CharField(help_text="Text around the matches, escaped, in <mark>.")


def _hit_data(hit: SearchHit) -> dict[str, Any]:
    post, topic = hit.post, hit.topic
    profile = getattr(post.author, "profile", None)
    return {
        "topic": {
            "id": topic.pk,
            "title": topic.title,
            "url": topic.get_absolute_url(),
            "kind": topic.kind,
            "is_solved": topic.is_solved,
            "reply_count": topic.reply_count,
            "category": {"slug": topic.category.slug, "name": topic.category.name},
            "tags": [skill.slug for skill in hit.skills],
        },
        "post": {
            "id": post.pk,
            "number": post.number,
            "url": post.get_absolute_url(),
            "author": {
                "username": post.author.username,
                "display_name": getattr(profile, "display_name", "") or post.author.username,
            },
            "created_at": post.created_at,
            "is_accepted": topic.accepted_post_id == post.pk,
            "is_verified": post.expert_verified_at is not None,
        },
        "rank": round(hit.rank, 6),
        "title_html": str(hit.title_html),
        "excerpt_html": str(hit.excerpt_html),
    }


class SearchView(GenericAPIView[Any]):
    permission_classes = [AllowAny]
    serializer_class = SearchHitSerializer

    @extend_schema(
        operation_id="forums_search",
        summary="Search forum topics and posts you may read, best match first",
        parameters=[SearchInput],
        responses={200: SearchHitSerializer(many=True), **error_responses(400, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = search_params_clean(viewer=request.user, data=request.query_params)
        size = getattr(self.paginator, "page_size", None) or PAGE_SIZE
        window = page_window(request.query_params.get("page") or 1, size)
        results = forum_search(viewer=request.user, params=params, window=window)
        page = self.paginate_queryset(results) or []  # type: ignore[arg-type]
        data = SearchHitSerializer([_hit_data(hit) for hit in page], many=True).data
        return self.get_paginated_response(data)


urlpatterns: list[URLPattern] = [
    path("search/", SearchView.as_view(), name="api-forums-search"),
]
