"""The workshops API, under /api/v1/workshops/."""

from django.urls import include, path

from workshops.api import views

urlpatterns = [
    path("", views.WorkshopListView.as_view(), name="api-workshops"),
    path(
        "registrations/",
        views.MyRegistrationsView.as_view(),
        name="api-workshop-registrations",
    ),
    path("calendar-feed/", views.CalendarFeedView.as_view(), name="api-workshop-calendar-feed"),
    path("<int:pk>/", views.WorkshopDetailView.as_view(), name="api-workshop"),
    path("<int:pk>/cancel/", views.WorkshopCancelView.as_view(), name="api-workshop-cancel"),
    path(
        "<int:pk>/registration/",
        views.RegistrationView.as_view(),
        name="api-workshop-registration",
    ),
    path(
        "<int:pk>/calendar.ics",
        views.WorkshopCalendarView.as_view(),
        name="api-workshop-calendar",
    ),
    path("<int:pk>/attendance/", views.AttendanceView.as_view(), name="api-workshop-attendance"),
    path("<int:pk>/room/", include("workshops.room.api_urls")),
]
