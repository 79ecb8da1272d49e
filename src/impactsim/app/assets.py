"""Put the browser files of Solara's page into Solara's asset folder, from the npm registry.

    python -m impactsim.app.assets          # fetch what is missing (needs `npm`)
    python -m impactsim.app.assets --check  # exit 1 if something is missing

(``scripts/app_assets.py`` and ``make app-assets`` run the same.)

Solara's page loads its JavaScript and CSS from a CDN unless they are in its asset folder
(``<environment>/share/solara/cdn``, the folder its server looks in first). The
``solara-assets`` package on PyPI fills that folder, but only for older Solara releases;
this module reads which packages and versions the installed Solara's page asks for and
unpacks each npm package (``npm pack``) there, so the app runs without the internet.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import solara.server.settings as solara_settings

TEMPLATE = Path(solara_settings.__file__).parent / "templates" / "solara.html.j2"
_PACKAGE = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+)/")


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
    """The wanted packages not yet in the asset folder."""
    return [p for p in wanted() if not (folder() / p / "package.json").exists()]


def fetch(package: str) -> None:
    """Unpack one npm package into the asset folder."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", package, "--silent", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        target = folder() / package
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "package"), target)


def main() -> int:
    """Fetch the missing packages, or with --check only report them (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; fetch nothing")
    args = parser.parse_args()
    todo = missing()
    if args.check:
        for package in todo:
            print(f"missing: {package} (run: python -m impactsim.app.assets)")
        return 1 if todo else 0
    if todo and shutil.which("npm") is None:
        print(
            "error: npm is needed to fetch Solara's page files (Debian package 'npm')",
            file=sys.stderr,
        )
        return 1
    for package in todo:
        print(f"fetching {package} into {folder()}")
        fetch(package)
    return 0


if __name__ == "__main__":
    sys.exit(main())
