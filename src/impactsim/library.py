"""The shipped scenario library: the strategies and sweeps of the repository's ``scenarios/``.

The repository's ``scenarios/`` folder is the source. A built package carries a copy as
``impactsim/library/`` (made by the build, see ``setup.py``), so a user who installed
impactsim can list the strategies and copy one to edit (``impactsim scenarios list``,
``impactsim scenarios copy NAME DIR``). Run from a source checkout (an editable install),
the library is the repository's ``scenarios/`` itself.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

#: Where a source checkout keeps the library (``src/impactsim/library.py`` -> ``scenarios``).
_CHECKOUT = Path(__file__).resolve().parents[2] / "scenarios"


class LibraryError(ValueError):
    """A library entry that does not exist, or a copy that would overwrite a file."""


@dataclass(frozen=True)
class Entry:
    """One file of the library.

    Attributes:
        name: how to ask for it: the file's stem, ``sweeps/STEM`` for a sweep.
        path: the file.
        kind: ``"scenario"`` or ``"sweep"``.
        summary: the first sentence of its description (empty when it has none).
    """

    name: str
    path: Path
    kind: str
    summary: str


def library_dir() -> Path:
    """The folder of the shipped library (the package's copy, else the checkout's)."""
    packaged = Path(str(resources.files("impactsim") / "library"))
    if packaged.is_dir():
        return packaged
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    raise LibraryError("the scenario library is not installed with this copy of impactsim")


def _summary(path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    text = " ".join(str(data.get("description", "")).split()) if isinstance(data, dict) else ""
    first = text.split(". ")[0]
    return first if first.endswith(".") or not first else first + "."


def entries() -> list[Entry]:
    """Every scenario, then every sweep, of the library, by name."""
    root = library_dir()
    found = [Entry(p.stem, p, "scenario", _summary(p)) for p in sorted(root.glob("*.yaml"))]
    found += [
        Entry(f"sweeps/{p.stem}", p, "sweep", _summary(p))
        for p in sorted((root / "sweeps").glob("*.yaml"))
    ]
    return found


def copy(name: str, target: Path, overwrite: bool = False) -> list[Path]:
    """Copy a library entry into the folder ``target`` (created if needed).

    A sweep is copied to ``target/sweeps/`` together with the scenario it is based on
    (``base: ../x.yaml``), and ``target`` is marked as a project folder
    (``.impactsim-root``, see :func:`impactsim.sweep.spec.allowed_root`), so that the
    sweep may read its base there and runs where it lands.

    Returns:
        The files written.

    Raises:
        LibraryError: no entry of that name (the message lists them), or a file would be
            overwritten without ``overwrite``.
    """
    by_name = {e.name: e for e in entries()}
    entry = by_name.get(name.removesuffix(".yaml"))
    if entry is None:
        raise LibraryError(f"no scenario '{name}' in the library; there are: {', '.join(by_name)}")
    plan = [(entry.path, target / entry.path.relative_to(library_dir()))]
    if entry.kind == "sweep":
        base = yaml.safe_load(entry.path.read_text(encoding="utf-8")).get("base")
        if isinstance(base, str):
            src = (entry.path.parent / base).resolve()
            plan.append((src, (target / "sweeps" / base).resolve()))
    clash = [str(dst) for _, dst in plan if dst.exists()]
    if clash and not overwrite:
        raise LibraryError(f"would overwrite {', '.join(clash)}; remove it or copy elsewhere")
    written = []
    for src, dst in plan:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    marker = target / ".impactsim-root"
    if entry.kind == "sweep" and not marker.exists():
        marker.write_text("", encoding="utf-8")
        written.append(marker)
    return written
