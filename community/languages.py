"""Languages members can say they speak (ISO 639-1 codes), named in English for now."""

from django.utils.translation import gettext_lazy as _

SPOKEN_LANGUAGES = [
    ("am", _("Amharic")),
    ("ar", _("Arabic")),
    ("bn", _("Bengali")),
    ("de", _("German")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fa", _("Persian")),
    ("fr", _("French")),
    ("ha", _("Hausa")),
    ("hi", _("Hindi")),
    ("id", _("Indonesian")),
    ("ig", _("Igbo")),
    ("it", _("Italian")),
    ("ja", _("Japanese")),
    ("ko", _("Korean")),
    ("ms", _("Malay")),
    ("nl", _("Dutch")),
    ("pl", _("Polish")),
    ("pt", _("Portuguese")),
    ("ru", _("Russian")),
    ("rw", _("Kinyarwanda")),
    ("sw", _("Swahili")),
    ("ta", _("Tamil")),
    ("th", _("Thai")),
    ("tl", _("Tagalog")),
    ("tr", _("Turkish")),
    ("uk", _("Ukrainian")),
    ("ur", _("Urdu")),
    ("vi", _("Vietnamese")),
    ("wo", _("Wolof")),
    ("yo", _("Yoruba")),
    ("zh", _("Chinese")),
    ("zu", _("Zulu")),
]
LANGUAGE_CODES = frozenset(code for code, _name in SPOKEN_LANGUAGES)
LANGUAGE_NAMES = dict(SPOKEN_LANGUAGES)


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))
