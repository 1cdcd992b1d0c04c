"""django-allauth integration: the signup form, the adapter, and the lockout key."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from community.models import User, time_zone_names
from community.services import profile_create
from realtime.events import session_revoked


class MemberSignupForm(forms.Form):
    """Extra fields on allauth's signup form; allauth calls ``signup`` after saving."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("How other members see you, e.g. “Amina Okafor”."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        initial="UTC",
        help_text=_("An IANA zone such as Africa/Nairobi; you can change it later."),
    )

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value not in time_zone_names():
            raise forms.ValidationError(
                _("Enter a time zone such as Africa/Lagos or Asia/Kolkata.")
            )
        return value

    def signup(self, request: HttpRequest, user: User) -> None:
        profile_create(
            user=user,
            display_name=self.cleaned_data["display_name"],
            time_zone=self.cleaned_data["time_zone"],
        )


class AccountAdapter(DefaultAccountAdapter):
    def logout(self, request: HttpRequest) -> None:
        user_id = request.user.pk if request.user.is_authenticated else None
        session_key = request.session.session_key
        super().logout(request)
        if user_id is not None and session_key:
            # Sockets opened with this session close: logging out revokes them.
            session_revoked(user_id=user_id, session_key=session_key)


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a failed attempt was for: allauth passes ``email`` or ``username``.

    An e-mail address is resolved to its account's username, so that failures count
    against the account whichever of the two is typed.
    """
    credentials = credentials or {}
    login = next(
        (str(credentials[k]) for k in ("email", "username", "login") if credentials.get(k)), None
    )
    if login is None and request is not None:
        login = request.POST.get("login")
    if not login:
        return None
    if "@" in login:
        username = (
            User.objects.filter(email__iexact=login).values_list("username", flat=True).first()
        )
        login = username or login
    return login.lower()


def _session_member(backend: ModelBackend, user_id: Any) -> User | None:
    """``ModelBackend.get_user`` that loads the member's profile in the same query: every
    signed-in request reads it (the time-zone middleware, the forums' roles)."""
    user = User._default_manager.select_related("profile").filter(pk=user_id).first()
    return user if user is not None and backend.user_can_authenticate(user) else None


class MemberBackend(ModelBackend):
    """Django's model backend; the session's member comes with their profile."""

    def get_user(self, user_id: Any) -> User | None:
        return _session_member(self, user_id)

    async def aget_user(self, user_id: Any) -> User | None:
        return await sync_to_async(_session_member)(self, user_id)


class MemberAccountBackend(AuthenticationBackend):
    """allauth's backend (login by e-mail or username); the member comes with their
    profile."""

    def get_user(self, user_id: Any) -> User | None:
        return _session_member(self, user_id)

    async def aget_user(self, user_id: Any) -> User | None:
        return await sync_to_async(_session_member)(self, user_id)
