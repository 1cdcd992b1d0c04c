from django.urls import path

from realtime.consumers.notifications import NotificationsConsumer
from realtime.consumers.room import RoomConsumer
from realtime.consumers.topic import TopicConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/workshops/<int:workshop_id>/", RoomConsumer.as_asgi()),
    path("ws/forums/topics/<int:topic_id>/", TopicConsumer.as_asgi()),
]
