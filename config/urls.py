from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_noop

from community import views as community_views
from config.health import healthz

SECTIONS = [
    (
        "projects",
        gettext_noop("Projects"),
        gettext_noop("Group projects with members, task boards, milestones and documents."),
    ),
]

urlpatterns = [
    path("", community_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("community.urls")),
    path("notifications/", include("community.notifications.urls")),
    path("mentoring/", include("community.mentoring.urls")),
    path("workshops/", include("workshops.urls")),
    path("forums/", include("community.forums.urls")),
    *[
        path(
            f"{name}/",
            community_views.section,
            {"name": name, "title": title, "summary": summary},
            name=name,
        )
        for name, title, summary in SECTIONS
    ],
]
