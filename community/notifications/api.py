from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.views import _errors
from community.models import User
from community.notifications.models import EmailMode, Notification
from community.notifications.selectors import notification_list, notification_unread_count
from community.notifications.services import (
    notification_settings_get,
    notification_settings_update,
    notifications_mark_read,
)
from config.api import validated


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "count", "actor", "created_at", "read_at"]


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=500,
        help_text="Notification ids; omit to mark all read.",
    )


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were marked read now.")
    unread = serializers.IntegerField(help_text="How many are still unread.")


class NotificationListView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        parameters=[OpenApiParameter("unread", bool, description="Only unread ones.")],
        responses={200: NotificationSerializer(many=True), **_errors(401, 404, 429)},
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        unread = request.query_params.get("unread") in {"1", "true"}
        page = self.paginate_queryset(notification_list(user=request.user, unread_only=unread))
        response = self.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = notification_unread_count(user=request.user)
        return response


class NotificationMarkReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notifications_mark_read",
        summary="Mark notifications read",
        request=MarkReadInput,
        responses={200: MarkReadOutput, **_errors(400, 401, 403, 429)},
        tags=["notifications"],
    )
    def post(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response({"marked": marked, "unread": notification_unread_count(user=request.user)})


class NotificationSettingsSerializer(serializers.Serializer):
    email_mode = serializers.ChoiceField(
        choices=EmailMode.choices,
        help_text="immediate: one e-mail per notification; digest: one a day; off: none.",
    )
    digest_hour_utc = serializers.IntegerField(
        min_value=0, max_value=23, help_text="Hour (UTC) after which the daily digest is sent."
    )


class NotificationSettingsInput(serializers.Serializer):
    email_mode = serializers.ChoiceField(choices=EmailMode.choices, required=False)
    digest_hour_utc = serializers.IntegerField(min_value=0, max_value=23, required=False)


class NotificationSettingsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notifications_settings_retrieve",
        summary="How you are e-mailed about notifications",
        responses={200: NotificationSettingsSerializer, **_errors(401, 429)},
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        found = notification_settings_get(user=request.user)
        return Response(NotificationSettingsSerializer(found).data)

    @extend_schema(
        operation_id="notifications_settings_partial_update",
        summary="Choose how you are e-mailed: immediate, daily digest, or off",
        request=NotificationSettingsInput,
        responses={200: NotificationSettingsSerializer, **_errors(400, 401, 403, 429)},
        tags=["notifications"],
    )
    def patch(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        data = validated(NotificationSettingsInput, request.data)
        found = notification_settings_update(
            user=request.user,
            email_mode=data.get("email_mode"),
            digest_hour_utc=data.get("digest_hour_utc"),
        )
        return Response(NotificationSettingsSerializer(found).data)
