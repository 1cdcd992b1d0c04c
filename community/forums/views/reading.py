"""Reading pages (HTML). Placeholder routes until the reading pages land."""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("Forums")


urlpatterns: list[URLPattern] = [
    path("", _todo, name="index"),
    path("c/<slug:slug>/", _todo, name="category"),
    path("t/<int:pk>/<slug:slug>/", _todo, name="topic"),
    path("p/<int:pk>/", _todo, name="post"),
]
