"""Check that Solara's page files are installed, so the page needs no CDN.

    python -m impactsim.app.assets --check  # exit 1, naming them, if some are missing

Solara's page loads its JavaScript and CSS from a CDN unless they are in its asset folder
(``<environment>/share/solara/cdn``, where its server looks first). The ``solara-assets``
package on PyPI fills that folder for the Solara release of the same version, so the
``app`` extra pins the two together (``solara==1.58.2``, ``solara-assets==1.58.2``) and
everything comes from PyPI; this module only checks, from the page template of the
installed Solara, that every file the page asks for is there.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import solara.server.settings as solara_settings

TEMPLATE = Path(solara_settings.__file__).parent / "templates" / "solara.html.j2"
_PACKAGE = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/")
INSTALL = "pip install 'impactsim[app]' (it pins solara and solara-assets to one version)"


def wanted() -> list[str]:
    """The npm packages (``name@version``) the page of the installed Solara loads."""
    found = set(_PACKAGE.findall(TEMPLATE.read_text(encoding="utf-8")))
    fontawesome = solara_settings.assets.fontawesome_path.strip("/").split("/")[0]
    found.add(fontawesome)
    return sorted(found)


def folder() -> Path:
    """Solara's asset folder."""
    return Path(solara_settings.assets.proxy_cache_dir)


def missing() -> list[str]:
    """The wanted packages not in the asset folder."""
    return [p for p in wanted() if not (folder() / p / "package.json").exists()]


def main() -> int:
    """Report the missing page files (exit 1) or say that all are there (exit 0)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check (the default)")
    parser.parse_args()
    todo = missing()
    for package in todo:
        print(f"missing: {package} in {folder()} ({INSTALL})")
    if not todo:
        print(f"all {len(wanted())} page files of Solara are in {folder()}")
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())
