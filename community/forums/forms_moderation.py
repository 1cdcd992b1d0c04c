"""HTML forms for flagging and moderation (they all work without JavaScript)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from community.forums.models import Category, FlagReason, ModerationAction
from community.forums.services.moderation import NOTE_MAX, REASON_MAX


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this post?"),
        choices=FlagReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why you are flagging this post.")},
    )
    note = forms.CharField(
        label=_("Note for the moderators"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you choose “Something else”."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == FlagReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Tell the moderators what is wrong with this post."))
        return data


REVIEW_CHOICES = [
    ("hide", _("Hide the post")),
    ("restore", _("Show the post again")),
    ("delete", _("Delete the post")),
    ("dismiss", _("Dismiss the flags")),
]

TOPIC_CHOICES = [
    ("pin", _("Pin")),
    ("unpin", _("Unpin")),
    ("lock", _("Lock")),
    ("unlock", _("Unlock")),
    ("close", _("Close")),
    ("reopen", _("Reopen")),
    ("delete", _("Delete the topic")),
]


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Reason (optional, kept in the log)"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", REASON_MAX)
        super().__init__(**kwargs)


class ReviewForm(forms.Form):
    action = forms.ChoiceField(label=_("Decision"), choices=REVIEW_CHOICES)
    reason = ReasonField()


class TopicActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=TOPIC_CHOICES)
    reason = ReasonField()


class MoveForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Move to category"),
        queryset=Category.objects.none(),
        to_field_name="slug",
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("No such category."),
        },
    )
    reason = ReasonField()

    def __init__(self, *args: Any, categories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["category"]
        field.queryset = categories


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Merge into topic number"),
        min_value=1,
        help_text=_("The number in the other topic's address: /forums/t/<number>/…"),
        error_messages={"required": _("Give the number of the topic to merge into.")},
    )
    reason = ReasonField()


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *ModerationAction.choices],
    )
    moderator = forms.CharField(label=_("Moderator (username)"), required=False, max_length=150)
