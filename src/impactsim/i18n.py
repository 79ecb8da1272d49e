"""Planner-facing text in Dutch and English: gettext catalogues and numbers per language.

Text shown to planners (report, app, CLI summary) is written in English in the source,
marked with ``_("...")`` where it is used or ``N_("...")`` where it is defined ahead of
use, and translated at run time by gettext from the catalogues
``impactsim/locale/<lang>/LC_MESSAGES/impactsim.po``, compiled in memory by Babel when a
language is first used (no compiled file to fall out of step). ``make translations``
extracts the messages and updates the catalogues; a test checks that every message has
a translation and keeps its placeholders.

Numbers follow the language's conventions through Babel: ``1,234.5`` and ``43.9 %`` in
English, ``1.234,5`` and ``43,9 %`` in Dutch; money is always in euros.

Example::

    _ = gettext_for("nl")
    _("public impact")            # 'publieke impact'
    percent(0.439, "nl")          # '43,9 %'
    money(-6260.0, "nl")          # '−€ 6.260'

Checks below the app (a scenario's cross-field checks) word their findings as
:class:`Message`: English text, as the command line prints it, that keeps its catalogue
template and values, so a page can show it in the planner's language
(:func:`in_language`).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

Language = Literal["en", "nl"]
LANGUAGES: tuple[Language, ...] = ("en", "nl")
DEFAULT_LANGUAGE: Language = "en"
DOMAIN = "impactsim"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Babel locale of each language (number formats).
LOCALES = {"en": "en_GB", "nl": "nl_NL"}
#: Language names, each in its own language (for a language switch).
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}
MINUS = "\u2212"


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; translate it where it is shown."""
    return message


#: Messages of this module, marked for the catalogue.
NOT_AVAILABLE = N_("n/a")
MILLION = N_("million")


def check_language(lang: str) -> Language:
    """``lang`` if it is a supported language.

    Raises:
        ValueError: naming the languages there are.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    return lang  # type: ignore[return-value]


def catalogue_path(lang: str) -> Path:
    """The ``.po`` catalogue of a language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext catalogue of a language (English: the messages as written)."""
    lang = check_language(lang)
    if lang == "en":
        return gettext.NullTranslations()
    with catalogue_path(lang).open("rb") as fh:
        catalogue = read_po(fh, locale=LOCALES[lang])
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str) -> Callable[[str], str]:
    """The translate function ``_`` of a language."""
    return translations(lang).gettext


def number(value: float, lang: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals and the language's separators; NaN as ``n/a``."""
    if value != value:
        return gettext_for(lang)(NOT_AVAILABLE)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(abs(value), format=pattern, locale=LOCALES[check_language(lang)])
    return f"{MINUS}{text}" if value < 0 and text.strip("0.,") else text


def percent(share: float, lang: str, digits: int = 1) -> str:
    """A share (0.439) as a percentage (``43.9 %``, ``43,9 %``)."""
    return f"{number(100.0 * share, lang, digits)} %" if share == share else number(share, lang)


def money(amount: float, lang: str, *, millions: bool = False) -> str:
    """Euros, rounded to whole euros (``€6,260``; ``€ 6.260`` in Dutch).

    Args:
        amount: euros; NaN gives ``n/a``.
        lang: language.
        millions: write amounts of a million or more as ``€1.23 million`` / ``€ 1,23 miljoen``.
    """
    if amount != amount:
        return gettext_for(lang)(NOT_AVAILABLE)
    sign = MINUS if amount < 0 else ""
    euro = "€ " if check_language(lang) == "nl" else "€"
    if millions and abs(amount) >= 1e6:
        text = number(abs(amount) / 1e6, lang, 2)
        return f"{sign}{euro}{text} {gettext_for(lang)(MILLION)}"
    return f"{sign}{euro}{number(abs(amount), lang, 0)}"


class Message(str):
    """A catalogue message with its values: the English text, translatable later.

    It is the English text (``str``), so code that prints or compares it sees exactly the
    text it always did; :func:`in_language` gives it in another language: the template
    translated through the catalogue, the same values filled in, themselves translated
    when they are messages, numbers written with the language's separators.

    The template is a catalogue message (``update_translations.py`` extracts
    ``Message("...")`` like ``N_("...")``), with ``str.format`` fields named by keyword.

    Example::

        m = Message("must be after start_month ({start})", start=6)
        str(m)                 # 'must be after start_month (6)'
        in_language(m, "nl")   # 'moet na de startmaand (6) liggen'
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Message:
        """The message ``template`` with ``values`` filled in (``str.format``)."""
        self = super().__new__(cls, template.format(**values))
        self.template, self.values = template, values
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickled as template and values
        return (_rebuilt, (type(self), self.template, self.values))


def _rebuilt(cls: type[Message], template: str, values: dict[str, Any]) -> Message:
    return cls(template, **values)


class _LocalNumber:
    """A number that formats with a format spec, then with the language's separators."""

    def __init__(self, value: float, lang: str):
        locale = LOCALES[lang]
        self.value = value
        self.table = str.maketrans({".": get_decimal_symbol(locale), ",": get_group_symbol(locale)})

    def __format__(self, spec: str) -> str:
        return format(self.value, spec).translate(self.table)

    def __str__(self) -> str:
        return format(self, "")


def in_language(text: str, lang: str) -> str:
    """A text in a language: a :class:`Message` translated, any other text as it is."""
    if not isinstance(text, Message) or check_language(lang) == DEFAULT_LANGUAGE:
        return str(text)

    def value(v: Any) -> Any:
        if isinstance(v, Message):
            return in_language(v, lang)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return _LocalNumber(v, lang)
        return v

    template = gettext_for(lang)(text.template)
    return template.format(**{k: value(v) for k, v in text.values.items()})
