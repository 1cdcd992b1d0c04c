from django.urls import include, path

from workshops import views

app_name = "workshops"

urlpatterns = [
    path("", views.workshop_list_page, name="list"),
    path("new/", views.workshop_new, name="new"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("<int:pk>/", views.workshop_detail, name="detail"),
    path("<int:pk>/edit/", views.workshop_edit, name="edit"),
    path("<int:pk>/cancel/", views.workshop_cancel, name="cancel"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/unregister/", views.unregister, name="unregister"),
    path("<int:pk>/workshop.ics", views.workshop_calendar_file, name="ics"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/attendance.csv", views.attendance_csv, name="attendance_csv"),
    path("<int:pk>/room/", include("workshops.room.urls")),
]
