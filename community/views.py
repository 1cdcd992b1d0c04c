"""Server-rendered pages for members, profiles and the catalogue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from community.forms import MemberFilterForm, ProfileForm
from community.models import Profile, User
from community.selectors import (
    catalogue_areas,
    community_stats,
    member_get_for_user,
    member_list,
)
from community.services import profile_get_or_create, profile_update

MEMBERS_PER_PAGE = 20


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"stats": community_stats()})


def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "community/catalogue.html", {"areas": catalogue_areas()})


def section(request: HttpRequest, *, name: str, title: str, summary: str) -> HttpResponse:
    """A section of the hub whose pages are still being built."""
    return render(
        request, "section.html", {"section": name, "title": _(title), "summary": _(summary)}
    )


def member_directory(request: HttpRequest) -> HttpResponse:
    areas = list(catalogue_areas())
    form = MemberFilterForm(request.GET or None, areas=areas)
    profiles = member_list(viewer=request.user, filters=form.filters())
    page = Paginator(profiles, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "community/member_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def member_detail(request: HttpRequest, username: str) -> HttpResponse:
    try:
        profile = member_get_for_user(username=username, viewer=request.user)
    except Profile.DoesNotExist:
        raise Http404(_("No such member.")) from None
    return render(
        request,
        "community/member_detail.html",
        {"profile": profile, "is_self": request.user.pk == profile.user_id},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    profile = profile_get_or_create(user=request.user)
    areas = list(catalogue_areas())
    form = ProfileForm(request.POST or None, instance=profile, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(actor=request.user, profile=profile, data=form.service_data())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect("community:member_detail", username=request.user.username)
    status = 400 if request.method == "POST" else 200
    return render(request, "community/profile_form.html", {"form": form}, status=status)
