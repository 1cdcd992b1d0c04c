"""HTML forms for the mentoring pages (they all work without JavaScript)."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from community.languages import SPOKEN_LANGUAGES
from community.mentoring.availability import Window
from community.mentoring.models import (
    AvailabilityWindow,
    MentoringProfile,
    ProgrammeRole,
    TargetSkill,
    Weekday,
)
from community.mentoring.services import MAX_WINDOWS
from community.models import CompetencyArea, SkillLevel
from community.widgets import CompactSelect

BLANK = ("", _("—"))
TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")


def _skill_choices(areas: list[CompetencyArea], empty_label: Any) -> list[Any]:
    return [
        ("", empty_label),
        *[(area.name, [(s.slug, s.name) for s in area.skills.all()]) for area in areas],
    ]


class MentorFilterForm(forms.Form):
    skill = forms.ChoiceField(label=_("Skill"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *SPOKEN_LANGUAGES]
    )
    country = forms.ChoiceField(label=_("Country"), required=False)

    def __init__(self, *args: Any, areas: list[CompetencyArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        skill_field: Any = self.fields["skill"]
        skill_field.choices = _skill_choices(areas, _("Any skill"))
        country_field: Any = self.fields["country"]
        country_field.choices = [("", _("Any country")), *list(countries)]

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) or "" for name in ("skill", "language", "country")}


class MentorshipRequestForm(forms.Form):
    mentor = forms.CharField(widget=forms.HiddenInput, max_length=150)
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Introduce yourself and say why you would like this mentor."),
    )
    goals = forms.CharField(
        label=_("Goals"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One goal per line; they become your shared goals once accepted."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.TextInput,
    )


class GoalForm(forms.Form):
    title = forms.CharField(label=_("New goal"), max_length=200)


class GoalProgressForm(forms.Form):
    progress = forms.IntegerField(
        label=_("Progress (%)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": 5}),
    )


class SessionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    next_steps = forms.CharField(
        label=_("Next steps"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("1 = poor, 5 = excellent."),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- settings ----------------------------------------------------------------------------------
class QuarterHourField(forms.Field):
    """A time of day on a quarter hour, typed or picked (``<input type="time">``).
    ``24:00`` is read as midnight, stored as 00:00."""

    widget = forms.TimeInput(attrs={"type": "time", "step": 900})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> dt.time | None:
        value = str(value or "").strip()
        if not value:
            return None
        match = TIME_RE.fullmatch(value)
        hour, minute = (int(match[1]), int(match[2])) if match else (99, 99)
        if (hour, minute) == (24, 0):
            return dt.time(0, 0)
        if hour > 23 or minute > 59:
            raise forms.ValidationError(_("Enter a time as HH:MM, for example 09:30."))
        if minute % 15:
            raise forms.ValidationError(_("Use quarter hours (:00, :15, :30, :45)."))
        return dt.time(hour, minute)


class AvailabilityRowForm(forms.Form):
    """One weekly window; a row left blank is ignored."""

    weekday = forms.TypedChoiceField(
        label=_("Weekday"),
        choices=[BLANK, *Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=CompactSelect,
    )
    start = QuarterHourField(label=_("From"))
    end = QuarterHourField(label=_("Until"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        values = [data.get("weekday"), data.get("start"), data.get("end")]
        filled = [v is not None for v in values]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Choose a weekday, a start and an end, or none."))
        if all(filled):
            start, end = data["start"], data["end"]
            end_minutes = end.hour * 60 + end.minute or 24 * 60
            if end_minutes <= start.hour * 60 + start.minute:
                raise forms.ValidationError(_("The window must end after it starts."))
            data["window"] = Window(data["weekday"], start, end)
        return data


class BaseAvailabilityFormSet(forms.BaseFormSet):
    def windows(self) -> list[Window]:
        return [form.cleaned_data["window"] for form in self.forms if "window" in form.cleaned_data]

    def clean(self) -> None:
        if any(self.errors):
            return
        if len(self.windows()) > MAX_WINDOWS:
            raise forms.ValidationError(_("At most %d windows.") % MAX_WINDOWS)


AvailabilityFormSet = forms.formset_factory(
    AvailabilityRowForm,
    formset=BaseAvailabilityFormSet,
    extra=7,
    max_num=MAX_WINDOWS + 7,
    absolute_max=MAX_WINDOWS + 7,
    validate_max=True,
)


def availability_formset(data: Any, windows: list[AvailabilityWindow]) -> BaseAvailabilityFormSet:
    initial = [
        {
            "weekday": w.weekday,
            "start": f"{w.start:%H:%M}",
            "end": f"{w.end:%H:%M}",
        }
        for w in windows
    ]
    formset = AvailabilityFormSet(data, initial=initial, prefix="availability")
    assert isinstance(formset, BaseAvailabilityFormSet)
    return formset


class MentoringSettingsForm(forms.ModelForm):
    """The mentoring settings, the skills one mentors and the skills one wants to grow."""

    capacity = forms.IntegerField(
        label=_("Active mentees at most"),
        min_value=1,
        max_value=10,
        help_text=_("From 1 to 10."),
    )
    goals = forms.CharField(
        label=_("Your goals as a mentee"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you want to learn or achieve; it fills in the goals of your requests."),
    )

    class Meta:
        model = MentoringProfile
        fields = [
            "accepts_mentees",
            "capacity",
            "offers_video",
            "offers_chat",
            "offers_async",
            "seeking_mentor",
            "goals",
        ]
        labels = {
            "accepts_mentees": _("I accept mentees"),
            "offers_video": _("Video calls"),
            "offers_chat": _("Chat"),
            "offers_async": _("Asynchronous (messages, document review)"),
            "seeking_mentor": _("I am looking for a mentor"),
        }

    def __init__(
        self,
        *args: Any,
        areas: list[CompetencyArea],
        mentor_levels: dict[int, int],
        targets: list[TargetSkill],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        target_map = {t.skill_id: t for t in targets}
        # Translated once here rather than once per option of some 250 selects.
        levels = [(value, str(label)) for value, label in SkillLevel.choices]
        level_choices = [("", str(BLANK[1])), *levels]
        current_choices = [(0, str(_("None yet"))), *levels[:3]]
        self.mentor_areas: list[tuple[CompetencyArea, list[str]]] = []
        self.target_areas: list[tuple[CompetencyArea, list[tuple[Any, str, str]]]] = []
        for area in areas:
            mentor_names: list[str] = []
            target_rows: list[tuple[Any, str, str]] = []
            for skill in area.skills.all():
                name = f"mentor_{skill.slug}"
                self.fields[name] = forms.TypedChoiceField(
                    label=skill.name,
                    choices=level_choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    initial=mentor_levels.get(skill.pk),
                    widget=CompactSelect,
                )
                mentor_names.append(name)
                target = target_map.get(skill.pk)
                current_name, target_name = f"current_{skill.slug}", f"target_{skill.slug}"
                self.fields[current_name] = forms.TypedChoiceField(
                    label=_("Your level now"),
                    choices=current_choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    initial=target.current_level if target else 0,
                    widget=CompactSelect,
                )
                self.fields[target_name] = forms.TypedChoiceField(
                    label=_("Level you want"),
                    choices=level_choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    initial=target.target_level if target else None,
                    widget=CompactSelect,
                )
                target_rows.append((skill, current_name, target_name))
            self.mentor_areas.append((area, mentor_names))
            self.target_areas.append((area, target_rows))

    @staticmethod
    def _open(fields: list[forms.BoundField]) -> bool:
        """Show an area unfolded when it holds a choice or an error."""
        return any(f.errors or f.value() not in (None, "", 0, "0") for f in fields)

    def mentor_fieldsets(self) -> list[tuple[CompetencyArea, list[forms.BoundField], bool]]:
        result = []
        for area, names in self.mentor_areas:
            fields = [self[n] for n in names]
            result.append((area, fields, self._open(fields)))
        return result

    def target_fieldsets(self) -> list[tuple[CompetencyArea, list[tuple[Any, Any, Any]], bool]]:
        result = []
        for area, rows in self.target_areas:
            bound = [(skill, self[cur], self[tgt]) for skill, cur, tgt in rows]
            fields = [f for _s, cur, tgt in bound for f in (cur, tgt)]
            result.append((area, bound, self._open(fields)))
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for _area, rows in self.target_areas:
            for _skill, cur, tgt in rows:
                target = data.get(tgt)
                if target is not None and target <= (data.get(cur) or 0):
                    self.add_error(tgt, _("The target level must be above your current level."))
        return data

    def service_data(self, windows: list[Window]) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["mentor_skills"] = {
            name.removeprefix("mentor_"): level
            for _area, names in self.mentor_areas
            for name in names
            if (level := self.cleaned_data.get(name))
        }
        data["target_skills"] = {
            skill.slug: (self.cleaned_data.get(cur) or 0, target)
            for _area, rows in self.target_areas
            for skill, cur, tgt in rows
            if (target := self.cleaned_data.get(tgt))
        }
        data["availability"] = windows
        return data


# --- programmes --------------------------------------------------------------------------------
class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ProgrammeMemberForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=ProgrammeRole.choices)
    capacity = forms.IntegerField(
        label=_("Places (mentors)"),
        min_value=1,
        max_value=10,
        initial=1,
        help_text=_("How many mentees a mentor takes in this programme."),
    )


class MatchAdjustForm(forms.Form):
    mentee = forms.IntegerField(widget=forms.HiddenInput)
    mentor = forms.TypedChoiceField(label=_("Mentor"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, mentors: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["mentor"]
        field.choices = [("", _("Leave unmatched")), *mentors]
