from django.urls import path

from community.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_inbox, name="list"),
    path("read/", views.notification_mark_read, name="mark_read"),
    path("settings/", views.notification_settings, name="settings"),
]
