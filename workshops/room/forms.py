"""The room page's forms (the no-JavaScript fallback). They only parse the POST; the
rules live in workshops.room.services."""

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workshops.models import PollKind, ResultsVisibility
from workshops.room.services import (
    CHAT_MAX_LENGTH,
    CLIENT_ID_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    SLOW_MODE_MAX_SECONDS,
)


def new_client_id() -> str:
    return uuid.uuid4().hex


class ChatForm(forms.Form):
    client_id = forms.CharField(widget=forms.HiddenInput, max_length=CLIENT_ID_MAX_LENGTH)
    body = forms.CharField(
        label=_("Your message"),
        # No max_length here: the service refuses an over-long message with its own error
        # and the page keeps the text so that it can be shortened.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": CHAT_MAX_LENGTH}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"client_id": new_client_id()})
        kwargs.setdefault("auto_id", "id_chat_%s")
        super().__init__(*args, **kwargs)
        self.fields["body"].required = False  # the service says what is missing
        # Interpolated here, per request, so that it is in the reader's language.
        self.fields["body"].help_text = gettext(
            "Markdown: **bold**, *italic*, `code`, links. At most %(n)d characters."
        ) % {"n": CHAT_MAX_LENGTH}


class SlowModeForm(forms.Form):
    seconds = forms.IntegerField(
        label=_("Seconds between messages per member (0 = off)"),
        min_value=0,
        max_value=SLOW_MODE_MAX_SECONDS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_slow_%s")
        super().__init__(*args, **kwargs)


class PollCreateForm(forms.Form):
    client_id = forms.CharField(widget=forms.HiddenInput, max_length=CLIENT_ID_MAX_LENGTH)
    question = forms.CharField(label=_("Question"), max_length=QUESTION_MAX_LENGTH)
    kind = forms.ChoiceField(label=_("Kind"), choices=PollKind.choices)
    options = forms.CharField(
        label=_("Options, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("2 to 10 options for single and multiple choice; none for a rating."),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous (nobody sees who voted what)"), required=False
    )
    results = forms.ChoiceField(
        label=_("Show results"), choices=ResultsVisibility.choices, initial=ResultsVisibility.LIVE
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"client_id": new_client_id()})
        kwargs.setdefault("auto_id", "id_poll_%s")
        super().__init__(*args, **kwargs)

    def option_labels(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]
