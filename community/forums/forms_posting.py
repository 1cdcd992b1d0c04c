"""Forms of the posting pages (new topic, reply, edit). They work without JavaScript:
one form, three buttons (send, preview, save draft), errors next to the fields, and
whatever the member typed is shown again on error."""

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from community.forums.models import Category, TopicKind
from community.forums.services.posting import BODY_MAX, MAX_SKILLS, TITLE_MAX
from community.models import CompetencyArea

MENTION_URL = "/api/v1/members/?q="


class GroupedSelectMultiple(forms.SelectMultiple):
    """A ``<select multiple>`` with one ``<optgroup>`` per catalogue area, rendered in
    Python (the catalogue has about a hundred skills; one template per option is slow)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = {str(v) for v in (value or [])}
        groups = []
        for group, options in self.choices:
            if isinstance(options, list | tuple):
                inner = format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((v, " selected" if str(v) in chosen else "", label) for v, label in options),
                )
                groups.append(format_html('<optgroup label="{}">{}</optgroup>', group, inner))
        final = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}" multiple{}>{}</select>',
            name,
            flatatt(final),
            format_html_join("", "{}", ((g,) for g in groups)),
        )


def body_field() -> forms.CharField:
    return forms.CharField(
        label=_("Your post"),
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "data-preview-url": reverse("forums:preview"),
                "data-mention-url": MENTION_URL,
            }
        ),
        help_text=_(
            "Markdown: **bold**, *italic*, `code`, > quote, - lists, [links](https://...). "
            "Mention a member with @username."
        ),
    )


def _category_label(category: Category) -> str:
    parent = category.parent if category.parent_id else None
    return f"{parent.name}: {category.name}" if parent else category.name


class TopicFieldsMixin(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=TopicKind.choices,
        initial=TopicKind.DISCUSSION,
        widget=forms.RadioSelect,
        help_text=_("A question can get an accepted answer."),
    )
    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        required=False,
        widget=GroupedSelectMultiple(attrs={"size": 8}),
        help_text=_(
            "Up to %(n)d skills from the competency catalogue, so the right people find "
            "your topic (hold Ctrl or Cmd to pick several)."
        )
        % {"n": MAX_SKILLS},
    )

    def set_skill_choices(self, areas: list[CompetencyArea]) -> None:
        field: Any = self.fields["skills"]
        field.choices = [
            (area.name, [(s.slug, s.name) for s in area.skills.all()]) for area in areas
        ]

    def clean_skills(self) -> list[str]:
        skills: list[str] = self.cleaned_data.get("skills") or []
        if len(skills) > MAX_SKILLS:
            raise forms.ValidationError(
                _("Tag a topic with at most %(n)d skills.") % {"n": MAX_SKILLS}
            )
        return skills


class TopicForm(TopicFieldsMixin):
    """A new topic."""

    category = forms.ChoiceField(label=_("Category"))
    field_order = ["category", "kind", "title", "skills", "body"]

    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        areas: list[CompetencyArea],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = body_field()
        self.order_fields(self.field_order)
        self.categories = {c.slug: c for c in categories}
        field: Any = self.fields["category"]
        field.choices = [
            ("", _("Choose a category")),
            *((c.slug, _category_label(c)) for c in categories),
        ]
        self.set_skill_choices(areas)

    def clean_category(self) -> Category:
        slug = self.cleaned_data["category"]
        if slug not in self.categories:
            raise forms.ValidationError(_("Choose a category from the list."))
        return self.categories[slug]


class ReplyForm(forms.Form):
    """A reply (to the topic, or to one of its posts)."""

    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = body_field()


class EditForm(TopicFieldsMixin):
    """An edit; the title, kind and skills only for the opening post."""

    reason = forms.CharField(
        label=_("Reason for the edit (optional)"), required=False, max_length=500
    )

    def __init__(
        self, *args: Any, is_opening: bool, areas: list[CompetencyArea], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = body_field()
        if is_opening:
            self.set_skill_choices(areas)
            self.order_fields(["kind", "title", "skills", "body", "reason"])
        else:
            for name in ("title", "kind", "skills"):
                del self.fields[name]
            self.order_fields(["body", "reason"])


class DeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)
