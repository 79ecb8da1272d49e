"""Translations and number formats of planner-facing text (impactsim.i18n)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from impactsim.i18n import check_language, gettext_for, money, number, percent

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("lang", "value", "digits", "shown"),
    [
        ("en", 1234.567, 1, "1,234.6"),
        ("nl", 1234.567, 1, "1.234,6"),
        ("en", -0.25, 2, "\u22120.25"),  # a true minus sign
        ("en", -0.001, 1, "0.0"),  # no minus before a rounded zero
        ("en", float("nan"), 1, "n/a"),
        ("nl", float("nan"), 1, "n.v.t."),
    ],
)
def test_number(lang, value, digits, shown):
    assert number(value, lang, digits) == shown


def test_percent_and_money_follow_the_language():
    assert (percent(0.439, "en"), percent(0.439, "nl")) == ("43.9 %", "43,9 %")
    assert (money(6260.4, "en"), money(-6260.4, "nl")) == ("€6,260", "\u2212€ 6.260")
    assert money(1_234_000, "en", millions=True) == "€1.23 million"
    assert money(999_999, "en", millions=True) == "€999,999"


def test_an_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown language 'de'; choose one of: en, nl"):
        check_language("de")
    assert gettext_for("en")("public impact") == "public impact"


def test_the_catalogues_are_in_step_with_the_code():
    # a message added or removed in the code without `make translations` fails here
    done = subprocess.run(
        [sys.executable, "scripts/update_translations.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_message_has_a_dutch_translation_with_its_placeholders():
    # the code's messages and the schema's labels and units alike
    import re

    from babel.messages.pofile import read_po

    from impactsim.i18n import catalogue_path

    with catalogue_path("nl").open("rb") as fh:
        catalogue = read_po(fh)
    fields = re.compile(r"\{[^{}]*\}")
    untranslated, broken = [], []
    for msg in catalogue:
        if not msg.id:
            continue
        if not msg.string or msg.fuzzy:
            untranslated.append(msg.id)
        elif sorted(fields.findall(msg.id)) != sorted(fields.findall(msg.string)):
            broken.append(msg.id)
    assert (untranslated, broken) == ([], [])
    assert gettext_for("nl")("Summary") == "Samenvatting"


def test_a_message_is_english_text_and_translates_with_its_values():
    import pickle

    from impactsim.i18n import Message, in_language

    m = Message("must be after start_month ({start})", start=6.5)
    assert m == "must be after start_month (6.5)" and isinstance(m, str)
    assert in_language(m, "en") == "must be after start_month (6.5)"
    assert in_language(m, "nl") == "moet na de startmaand liggen (6,5)"  # Dutch decimal comma
    nested = Message(
        "unknown channel '{name}' (allowed: {allowed})",
        name="tv",
        allowed=Message("no channels defined"),
    )
    assert in_language(nested, "nl") == "onbekend kanaal 'tv' (toegestaan: er zijn geen kanalen)"
    again = pickle.loads(pickle.dumps(nested))
    assert again == nested and in_language(again, "nl") == in_language(nested, "nl")
    assert in_language("plain text", "nl") == "plain text"
