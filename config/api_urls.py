"""Everything under /api/v1/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from community.notifications import api as notification_api
from config.api import NotFoundView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("community.api.urls")),
    path("mentoring/", include("community.mentoring.api.urls")),
    path("workshops/", include("workshops.api.urls")),
    path("forums/", include("community.forums.api.urls")),
    path(
        "notifications/",
        notification_api.NotificationListView.as_view(),
        name="api-notifications",
    ),
    path(
        "notifications/settings/",
        notification_api.NotificationSettingsView.as_view(),
        name="api-notifications-settings",
    ),
    path(
        "notifications/read/",
        notification_api.NotificationMarkReadView.as_view(),
        name="api-notifications-read",
    ),
    # Last: unknown paths get a 404 in the error format. Only paths ending in a slash, so
    # that a missing trailing slash is still redirected to the real endpoint.
    re_path(r"^(?:.*/)?$", NotFoundView.as_view(), name="api-not-found"),
]
