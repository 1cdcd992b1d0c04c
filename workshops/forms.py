"""HTML forms for the workshop pages (they all work without JavaScript)."""

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.languages import SPOKEN_LANGUAGES
from community.models import CompetencyArea, time_zone_names
from workshops.models import Workshop
from workshops.selectors import WorkshopFilters
from workshops.services import MAX_CAPACITY


def _skill_choices(areas: list[CompetencyArea]) -> list[Any]:
    return [(area.name, [(s.slug, s.name) for s in area.skills.all()]) for area in areas]


class WorkshopFilterForm(forms.Form):
    skill = forms.ChoiceField(label=_("Skill"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *SPOKEN_LANGUAGES]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, areas: list[CompetencyArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        skill_field: Any = self.fields["skill"]
        skill_field.choices = [("", _("Any skill")), *_skill_choices(areas)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data

    def filters(self) -> WorkshopFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return WorkshopFilters(
            skill=data.get("skill") or "",
            language=data.get("language") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            time_zone=timezone.get_current_timezone_name(),
        )


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, kept naive: the form's time zone field says where."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        for fmt in self.input_formats:
            try:
                return dt.datetime.strptime(str(value).strip(), fmt)
            except ValueError:
                continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def prepare_value(self, value: Any) -> Any:
        return value


class WorkshopForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Markdown: **bold**, *italic*, lists and links. Say what participants "
            "will learn and what to prepare."
        ),
    )
    starts_at = LocalDateTimeField(
        label=_("Starts"), help_text=_("Date and time in the time zone below.")
    )
    ends_at = LocalDateTimeField(
        label=_("Ends"), help_text=_("Date and time in the time zone below.")
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("The zone you enter the times in; each participant sees them in theirs."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=SPOKEN_LANGUAGES, initial="en")
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=MAX_CAPACITY, initial=50)
    registration_required = forms.BooleanField(
        label=_("Registration required"),
        required=False,
        initial=True,
        help_text=_("Untick to let any signed-in member join the live room without a seat."),
    )
    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (or Cmd) to choose more than one."),
    )
    facilitators = forms.CharField(
        label=_("Co-facilitators"),
        required=False,
        max_length=500,
        help_text=_("Usernames, separated by commas. You facilitate it too."),
    )

    def __init__(
        self,
        *args: Any,
        areas: list[CompetencyArea],
        default_zone: str = "UTC",
        workshop: Workshop | None = None,
        actor_username: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        skill_field: Any = self.fields["skills"]
        skill_field.choices = _skill_choices(areas)
        zone_field: Any = self.fields["time_zone"]
        zone_field.choices = [(name, name) for name in sorted(time_zone_names())]
        self.initial.setdefault("time_zone", default_zone)
        if workshop is not None:
            zone = workshop.time_zone if workshop.time_zone in time_zone_names() else "UTC"
            local = zoneinfo.ZoneInfo(zone)
            others = [u.username for u in workshop.facilitators.all()]
            others = [name for name in others if name != actor_username]
            self.initial.update(
                {
                    "title": workshop.title,
                    "description": workshop.description,
                    "starts_at": workshop.starts_at.astimezone(local).strftime("%Y-%m-%dT%H:%M"),
                    "ends_at": workshop.ends_at.astimezone(local).strftime("%Y-%m-%dT%H:%M"),
                    "time_zone": zone,
                    "language": workshop.language,
                    "capacity": workshop.capacity,
                    "registration_required": workshop.registration_required,
                    "skills": [s.slug for s in workshop.skills.all()],
                    "facilitators": ", ".join(others),
                }
            )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["facilitators"] = [
            name.strip().lstrip("@")
            for name in data.get("facilitators", "").replace(";", ",").split(",")
            if name.strip()
        ]
        return data


class CancelWorkshopForm(forms.Form):
    reason = forms.CharField(
        label=_("Message to registered members (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
