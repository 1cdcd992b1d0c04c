"""Thin API views over the community services and selectors."""

from typing import Any

from allauth.account.models import EmailAddress
from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from community.api.serializers import (
    AreaSerializer,
    MemberDetailSerializer,
    MemberListInput,
    MemberSerializer,
    MeSerializer,
    ProfileUpdateInput,
    SkillListInput,
    SkillSerializer,
    TokenInput,
    TokenOutput,
)
from community.models import Profile, User
from community.selectors import (
    MemberFilters,
    catalogue_areas,
    member_get_for_user,
    member_list,
    skill_list,
)
from community.services import profile_get_or_create, profile_update
from config.api import error_responses, paginated, validated

# Other apps' API modules still import the error schema helper from here.
_errors = error_responses


class AreaListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="catalogue_areas_list",
        summary="The competency catalogue: every area with its skills",
        responses={200: AreaSerializer(many=True), **error_responses(429)},
        tags=["catalogue"],
    )
    def get(self, request: Request) -> Response:
        return Response(AreaSerializer(catalogue_areas(), many=True).data)


class SkillListView(GenericAPIView[Any]):
    permission_classes = [AllowAny]
    serializer_class = SkillSerializer

    @extend_schema(
        operation_id="catalogue_skills_list",
        summary="Skills in the catalogue, optionally in one area",
        parameters=[OpenApiParameter("area", str, description="An area slug.")],
        responses={200: SkillSerializer(many=True), **error_responses(400, 404, 429)},
        tags=["catalogue"],
    )
    def get(self, request: Request) -> Response:
        params = validated(SkillListInput, request.query_params)
        return paginated(self, skill_list(area=params["area"]), SkillSerializer)


class MemberListView(GenericAPIView[Any]):
    permission_classes = [AllowAny]
    serializer_class = MemberSerializer

    @extend_schema(
        operation_id="members_list",
        summary="The member directory (public profiles, or all when signed in)",
        parameters=[MemberListInput],
        responses={200: MemberSerializer(many=True), **error_responses(400, 404, 429)},
        tags=["members"],
    )
    def get(self, request: Request) -> Response:
        data = validated(MemberListInput, request.query_params)
        filters = MemberFilters(
            q=data.get("q", ""),
            skill=data.get("skill", ""),
            min_level=data.get("level"),
            country=data.get("country", ""),
            language=data.get("language", ""),
            role=data.get("role", ""),
        )
        return paginated(self, member_list(viewer=request.user, filters=filters), MemberSerializer)


class MemberDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="members_retrieve",
        summary="One member's profile",
        responses={200: MemberDetailSerializer, **error_responses(404, 429)},
        tags=["members"],
    )
    def get(self, request: Request, username: str) -> Response:
        try:
            profile = member_get_for_user(username=username, viewer=request.user)
        except Profile.DoesNotExist:
            raise exceptions.NotFound(_("No such member.")) from None
        return Response(MemberDetailSerializer(profile).data)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    def _me(self, user: User) -> Profile:
        profile_get_or_create(user=user)
        return member_get_for_user(username=user.username, viewer=user)

    @extend_schema(
        operation_id="me_retrieve",
        summary="Your own profile",
        responses={200: MeSerializer, **error_responses(401, 429)},
        tags=["members"],
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        return Response(MeSerializer(self._me(request.user)).data)

    @extend_schema(
        operation_id="me_partial_update",
        summary="Edit your own profile (send only the fields to change)",
        request=ProfileUpdateInput,
        responses={200: MeSerializer, **error_responses(400, 401, 403, 429)},
        tags=["members"],
    )
    def patch(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        # Not partial: every field is optional already, and partial=True would also let a
        # skill through without its level.
        data = validated(ProfileUpdateInput, request.data)
        profile = profile_get_or_create(user=request.user)
        profile_update(actor=request.user, profile=profile, data=data)
        return Response(MeSerializer(self._me(request.user)).data)


class TokenView(APIView):
    """Exchange a login and password for an API token, or revoke yours."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Get an API token (send it as `Authorization: Token <token>`)",
        request=TokenInput,
        responses={200: TokenOutput, **error_responses(400, 401, 403, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = validated(TokenInput, request.data)
        login = data["login"].strip()
        credentials = {"email" if "@" in login else "username": login}
        user = authenticate(request._request, password=data["password"], **credentials)
        if user is None and getattr(request._request, "axes_locked_out", False):
            # Answer a lockout in the API's error format, not with django-axes' HTML page.
            setattr(request._request, "axes_locked_out", False)  # noqa: B010
            cool_off = get_cool_off(request._request)
            raise exceptions.Throttled(
                wait=cool_off.total_seconds() if cool_off else None,
                detail=_("Too many failed log-in attempts. Try again later."),
            )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("Wrong login or password."))
        if not EmailAddress.objects.filter(user=user, verified=True).exists():
            raise exceptions.PermissionDenied(_("Confirm your e-mail address first."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="Revoke your API token",
        request=None,
        responses={204: None, **error_responses(401, 403, 429)},
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
