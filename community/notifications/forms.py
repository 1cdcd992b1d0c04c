from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from community.notifications.models import EmailMode


class NotificationSettingsForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("E-mail me about notifications"),
        choices=EmailMode.choices,
        widget=forms.RadioSelect,
    )
    digest_hour_utc = forms.TypedChoiceField(
        label=_("Send the daily digest at (UTC)"),
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        help_text=_("Only used for the daily digest."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["digest_hour_utc"].widget.attrs["aria-describedby"] = "id_digest_hour_utc_help"
