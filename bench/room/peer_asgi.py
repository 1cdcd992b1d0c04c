"""ASGI application for the peer (the tutorial's asgi.py): ``ws/chat/<room_name>/``.

DJANGO_SETTINGS_MODULE=bench.room.peer_settings daphne bench.room.peer_asgi:application
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.room.peer_settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from bench.room.peer import ChatConsumer  # noqa: E402

websocket_urlpatterns = [path("ws/chat/<str:room_name>/", ChatConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
