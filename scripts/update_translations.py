"""Build the translation catalogues with Babel: extract and update.

    python scripts/update_translations.py          # rewrite impactsim.pot and <lang>.po
    python scripts/update_translations.py --check  # exit 1 if any of them is out of step

Messages come from two places: the code (``_("...")``, ``N_("...")`` and ``Message("...")`` in
``src/impactsim``, extracted by Babel) and the scenario schema (each field description's
label and unit, :func:`impactsim.scenario.labels.split_description`, which the report and
the app show next to a value). A message that disappears from the code is dropped from
the catalogues; a new one is added with an empty translation, which the test of the
catalogues reports until someone translates it.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "impactsim"
sys.path.insert(0, str(ROOT / "src"))

from impactsim.docgen import _models  # noqa: E402
from impactsim.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, LOCALES  # noqa: E402
from impactsim.scenario import Scenario  # noqa: E402
from impactsim.scenario.labels import split_description  # noqa: E402

#: A fixed date keeps the files' headers from changing on every run.
STAMP = datetime(2026, 12, 7, tzinfo=UTC)
HEADER = {
    "project": "impactsim",
    "copyright_holder": "the impactsim developers",
    "msgid_bugs_address": "the impactsim issue tracker",
    "last_translator": "the impactsim developers",
    "language_team": "the impactsim developers",
    "creation_date": STAMP,
    "revision_date": STAMP,
    "fuzzy": False,
}


def template() -> Catalog:
    """Every message of the code and the schema, with where it comes from."""
    cat = Catalog(**HEADER)
    found = extract_from_dir(
        str(SRC),
        method_map=[("**.py", "python")],
        keywords={"_": None, "N_": None, "Message": None},
    )
    for filename, lineno, message, _comments, context in found:
        cat.add(message, locations=[(f"impactsim/{filename}", lineno)], context=context)
    for model in _models(Scenario):
        for name, field in model.model_fields.items():
            what, unit = split_description(field.description or name)
            for text in (what, unit):
                if text and (msg := cat.get(text)) is None:
                    cat.add(text, auto_comments=[f"schema: {model.__name__}.{name}"])
                elif text and msg is not None and not msg.locations:
                    msg.auto_comments.append(f"schema: {model.__name__}.{name}")
    return cat


def updated(lang: str, tmpl: Catalog) -> Catalog:
    """The language's catalogue brought in step with the template (translations kept)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        with path.open("rb") as fh:
            cat = read_po(fh, locale=LOCALES[lang])
    else:
        cat = Catalog(locale=LOCALES[lang], **HEADER)
    cat.update(tmpl, no_fuzzy_matching=True)
    cat.obsolete.clear()
    cat.revision_date, cat.fuzzy = STAMP, False
    return cat


def _po_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    # file names without line numbers: moving code does not change the catalogues
    write_po(buf, cat, width=96, omit_header=False, sort_output=False, include_lineno=False)
    # the Babel version would change the file with every Babel release
    return re.sub(rb'"Generated-By: Babel [^"]*\\n"', rb'"Generated-By: Babel\\n"', buf.getvalue())


def files() -> dict[Path, bytes]:
    """Every catalogue file and the bytes it should hold."""
    tmpl = template()
    out = {LOCALE_DIR / f"{DOMAIN}.pot": _po_bytes(tmpl)}
    for lang in LANGUAGES:
        if lang == "en":
            continue  # the messages are written in English
        out[LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"] = _po_bytes(updated(lang, tmpl))
    return out


def main() -> int:
    """Write the catalogues, or with --check report those out of step (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; change nothing")
    args = parser.parse_args()
    stale = []
    for path, data in files().items():
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in stale:
        verb = "out of step" if args.check else "wrote"
        print(f"{verb}: {path.relative_to(ROOT)}")
    if args.check and stale:
        print("run `make translations`, translate the new messages and commit", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
