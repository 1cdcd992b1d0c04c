"""The room page and its forms, under /workshops/<pk>/room/ (included by workshops/urls.py,
so the names live in the "workshops" namespace: reverse "workshops:room_page")."""

from django.urls import path

from workshops.room import views

urlpatterns = [
    path("", views.room_page, name="room_page"),
    path("chat/", views.room_chat, name="room_chat"),
    path("chat/lock/", views.room_chat_lock, name="room_chat_lock"),
    path("chat/slow-mode/", views.room_slow_mode, name="room_slow_mode"),
    path(
        "chat/<int:message_id>/delete/",
        views.room_message_delete,
        name="room_message_delete",
    ),
    path("session/start/", views.room_session, {"action": "start"}, name="room_session_start"),
    path("session/end/", views.room_session, {"action": "end"}, name="room_session_end"),
    path("polls/new/", views.room_poll_create, name="room_poll_create"),
    path("polls/<int:poll_id>/vote/", views.room_vote, name="room_vote"),
    *[
        path(
            f"polls/<int:poll_id>/{action}/",
            views.room_poll_action,
            {"action": action},
            name=f"room_poll_{action}",
        )
        for action in ("open", "close", "reveal")
    ],
    path(
        "participants/<int:user_id>/mute/",
        views.room_participant_mute,
        name="room_participant_mute",
    ),
    path(
        "participants/<int:user_id>/remove/",
        views.room_participant_remove,
        name="room_participant_remove",
    ),
]
