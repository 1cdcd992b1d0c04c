"""HTML forms for the member directory and profile editing (no JavaScript needed)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from community.languages import SPOKEN_LANGUAGES
from community.models import CompetencyArea, Profile, Role, SkillLevel, Visibility
from community.selectors import MemberFilters, catalogue_areas
from community.widgets import CompactSelect


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    skill = forms.ChoiceField(label=_("Skill"), required=False)
    level = forms.TypedChoiceField(
        label=_("At least level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any level")), *SkillLevel.choices],
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *SPOKEN_LANGUAGES]
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("Any role")), *Role.choices]
    )

    def __init__(self, *args: Any, areas: list[CompetencyArea] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        areas = areas if areas is not None else list(catalogue_areas())
        skill_field: Any = self.fields["skill"]
        skill_field.choices = [
            ("", _("Any skill")),
            *[(area.name, [(s.slug, s.name) for s in area.skills.all()]) for area in areas],
        ]
        country_field: Any = self.fields["country"]
        country_field.choices = [("", _("Any country")), *list(countries)]

    def filters(self) -> MemberFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return MemberFilters(
            q=data.get("q") or "",
            skill=data.get("skill") or "",
            min_level=data.get("level"),
            country=data.get("country") or "",
            language=data.get("language") or "",
            role=data.get("role") or "",
        )


class ProfileForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Moderator and staff rights are granted by the hub team."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you speak"),
        choices=SPOKEN_LANGUAGES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or Cmd) to choose more than one."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), widget=CompactSelect)
    visibility = forms.ChoiceField(
        label=_("Who can see your profile"), choices=Visibility.choices, widget=forms.RadioSelect
    )

    class Meta:
        model = Profile
        fields = ["display_name", "headline", "organisation", "country", "time_zone", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"bio": _("Markdown: **bold**, *italic*, lists and links.")}

    def __init__(self, *args: Any, areas: list[CompetencyArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from community.models import time_zone_names

        tz_field: Any = self.fields["time_zone"]
        tz_field.choices = [(name, name) for name in sorted(time_zone_names())]
        profile: Profile = self.instance
        levels = {ps.skill_id: ps.level for ps in profile.skill_levels.all()}
        self.initial.setdefault("roles", profile.roles)
        self.initial.setdefault("languages", [lang.code for lang in profile.languages.all()])
        self.initial.setdefault("visibility", profile.visibility)
        self.skill_areas: list[tuple[CompetencyArea, list[str]]] = []
        level_choices = [("", _("—")), *SkillLevel.choices]
        for area in areas:
            names = []
            for skill in area.skills.all():
                name = f"skill_{skill.slug}"
                self.fields[name] = forms.TypedChoiceField(
                    label=skill.name,
                    choices=level_choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                    initial=levels.get(skill.pk),
                    help_text=skill.description,
                    widget=CompactSelect,
                )
                names.append(name)
            self.skill_areas.append((area, names))

    def skill_fieldsets(self) -> list[tuple[CompetencyArea, list[forms.BoundField]]]:
        return [(area, [self[name] for name in names]) for area, names in self.skill_areas]

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {field: self.cleaned_data[field] for field in self.Meta.fields}
        data["roles"] = self.cleaned_data["roles"]
        data["languages"] = self.cleaned_data["languages"]
        data["visibility"] = self.cleaned_data["visibility"]
        data["skills"] = {
            name.removeprefix("skill_"): value
            for _area, names in self.skill_areas
            for name in names
            if (value := self.cleaned_data.get(name))
        }
        return data
