"""The room API, under /api/v1/workshops/<pk>/room/ (``pk`` is the workshop's id)."""

from django.urls import path

from workshops.room import api

urlpatterns = [
    path("history/", api.RoomHistoryView.as_view(), name="api-room-history"),
    path("polls/", api.PollListView.as_view(), name="api-room-polls"),
    path("polls/<int:poll_id>/vote/", api.PollVoteView.as_view(), name="api-room-poll-vote"),
    path("polls/<int:poll_id>/open/", api.PollOpenView.as_view(), name="api-room-poll-open"),
    path("polls/<int:poll_id>/close/", api.PollCloseView.as_view(), name="api-room-poll-close"),
    path("polls/<int:poll_id>/reveal/", api.PollRevealView.as_view(), name="api-room-poll-reveal"),
]
