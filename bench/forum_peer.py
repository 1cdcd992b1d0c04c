"""The benchmark's named peer: the forum written the naive way, served beside the real
one (``ROOT_URLCONF`` while the benchmark runs).

- topic page: the topic and a page of posts fetched with no ``select_related`` or
  ``prefetch_related``, so the template's author, profile, reaction and tag lookups
  each run one query per post (the N+1 pattern);
- topic list: the latest topics, with category, author and last poster looked up per row;
- search: every term ``icontains`` over ``body_text`` (no index can serve it), newest
  first, with the same visibility rules.

It renders small templates of its own with the same information; the difference that
matters is the queries.
"""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import URLPattern, URLResolver, path

from community.forums import access
from community.forums.models import Post, Topic
from config.urls import urlpatterns as site_urlpatterns

_TOPIC = """<h1>{{ topic.title }}</h1><p>{{ topic.category.name }}</p>
<ul>{% for s in topic.skills.all %}<li>{{ s.name }}</li>{% endfor %}</ul>
{% for post in posts %}<article id="post-{{ post.number }}">
<p>{{ post.author.profile.display_name|default:post.author.username }}
{{ post.created_at }} {{ post.reactions.count }}</p>
<div>{{ post.body_html|safe }}</div></article>{% endfor %}"""
_LIST = """<ol>{% for t in topics %}<li><a href="{{ t.get_absolute_url }}">{{ t.title }}</a>
{{ t.category.name }} {{ t.author.username }} {{ t.last_poster.username }}
{{ t.reply_count }}</li>{% endfor %}</ol>"""
_SEARCH = """<p>{{ count }}</p><ol>{% for p in posts %}<li>{{ p.topic.title }}
{{ p.body_text|truncatechars:240 }}</li>{% endfor %}</ol>"""


def _render(source: str, context: dict[str, object]) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(source).render(context))


def topic_page(request: HttpRequest, pk: int) -> HttpResponse:
    topic = Topic.objects.get(pk=pk)
    posts = Post.objects.filter(topic=topic, is_deleted=False, is_hidden=False).order_by("number")
    page = Paginator(posts, 20).get_page(request.GET.get("page"))
    return _render(_TOPIC, {"topic": topic, "posts": page.object_list})


def topic_list(request: HttpRequest) -> HttpResponse:
    topics = access.topics_visible_to(request.user).order_by("-last_posted_at")
    page = Paginator(topics, 30).get_page(request.GET.get("page"))
    return _render(_LIST, {"topics": page.object_list})


def search(request: HttpRequest) -> HttpResponse:
    posts = Post.objects.filter(
        is_deleted=False, is_hidden=False, topic__in=access.topics_visible_to(request.user)
    )
    for term in request.GET.get("q", "").split():
        posts = posts.filter(body_text__icontains=term.strip('"'))
    posts = posts.order_by("-created_at")
    return _render(_SEARCH, {"count": posts.count(), "posts": list(posts[:20])})


urlpatterns: list[URLPattern | URLResolver] = [
    path("peer/t/<int:pk>/", topic_page),
    path("peer/latest/", topic_list),
    path("peer/search/", search),
    *site_urlpatterns,
]
