"""Build hook: the package carries a copy of the repository's scenario library.

The repository's ``scenarios/`` folder is the source of the shipped strategies and sweeps;
``build_py`` copies it into the built package as ``impactsim/library/`` (read by
``impactsim.library``), so that an installed impactsim can list and copy them. Everything
else is declared in ``pyproject.toml``. A setuptools command is used because package data
must live inside the package, and no option copies a folder from outside it at build time.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LIBRARY = Path(__file__).resolve().parent / "scenarios"


class BuildPyWithLibrary(build_py):
    """``build_py`` that also copies ``scenarios/**/*.yaml`` into ``impactsim/library``."""

    def run(self) -> None:
        """Build the package as usual, then copy the library into it (not when editable)."""
        super().run()
        if self.editable_mode or not LIBRARY.is_dir():
            return  # an editable install reads the checkout's scenarios/ directly
        target = Path(self.build_lib) / "impactsim" / "library"
        for src in sorted(LIBRARY.rglob("*.yaml")):
            dst = target / src.relative_to(LIBRARY)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


setup(cmdclass={"build_py": BuildPyWithLibrary})
