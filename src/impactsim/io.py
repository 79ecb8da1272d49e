"""Output files: atomic writes of tables, the resolved scenario and run provenance.

Nothing partial is ever left behind: each file is written to a temporary file and renamed
into place (:func:`atomic_write`), and a run directory is written into a hidden staging
directory whose files are moved into place together at the end (:func:`staged_directory`),
with Ctrl-C and SIGTERM held back for those few renames. An interruption before that leaves
the previous outputs (or none) and no temporary files.

The command line turns SIGTERM into :class:`Terminated` (a ``KeyboardInterrupt``) with
:func:`install_signal_handlers`, so ``kill PID`` cleans up like Ctrl-C; the library itself
never installs signal handlers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd

#: Files every run directory holds (written by :func:`impactsim.runner.write_run_dir`).
RUN_FILES = (
    "summary.csv",
    "summary.parquet",
    "summary_stats.csv",
    "timeseries.parquet",
    "scenario.resolved.yaml",
    "run.json",
)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write a file via a temporary file in the same directory, then rename it into place.

    A crash or interruption leaves either the old file or none, never a half-written one.

    Args:
        path: final file path.
        write: called with the temporary path; must write the complete file there.

    Returns:
        The final path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


class OutputPathError(ValueError):
    """A folder inside an output directory is a symbolic link: files would go elsewhere."""


def planted_link(root: Path, *parts: str) -> Path | None:
    """The first of ``root/a``, ``root/a/b``, ... that is a symbolic link, or None.

    ``root`` itself is the user's choice and may be a link; a link *inside* it was put
    there by someone else and would send the files written through it out of the
    directory.
    """
    path = Path(root)
    for part in parts:
        path = path / part
        if path.is_symlink():
            return path
    return None


def refuse_planted_links(root: Path, *paths: tuple[str, ...]) -> None:
    """Check, before anything is written, that no folder on any of ``paths`` is a link.

    Args:
        root: the output directory (it may itself be a link: the user chose it).
        paths: folders below ``root``, each as its parts, e.g. ``("runs", "package")``.

    Raises:
        OutputPathError: a folder below ``root`` is a symbolic link.
    """
    for parts in paths:
        link = planted_link(root, *parts)
        if link is not None:
            raise OutputPathError(
                f"{link}: is a symbolic link (to {os.readlink(link)}) inside the output "
                f"directory {root}; files written through it would land elsewhere. Remove "
                "it, or choose another output directory"
            )


def inner_dir(root: Path, *parts: str) -> Path:
    """``root/parts...``, created, after checking that no folder on the way is a link.

    Raises:
        OutputPathError: a folder below ``root`` is a symbolic link.
    """
    refuse_planted_links(root, parts)
    path = Path(root).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Atomically write a UTF-8 text file."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as CSV (no index)."""
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def write_parquet(path: Path, df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet (pyarrow, no index)."""
    return atomic_write(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow"))


# --------------------------------------------------------------------------- staging
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for a short critical section; deliver them right after.

    While the block runs, a signal is only recorded; afterwards the previous handlers are
    restored and called for each recorded signal (so Ctrl-C still ends in
    ``KeyboardInterrupt``, just not half-way through the block). Has no effect outside the
    main thread, where Python cannot change signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    old = {s: signal.getsignal(s) for s in _HELD_SIGNALS}
    for s, handler in old.items():
        if handler != signal.SIG_IGN:
            signal.signal(s, record)
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for s in dict.fromkeys(pending):
            handler = old[s]
            if callable(handler):
                handler(s, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), s)


@contextlib.contextmanager
def staged_directory(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a directory's files into a hidden staging directory; move them in at the end.

    ``with staged_directory(out) as tmp:`` yields ``out``'s sibling ``.NAME.XXXX.tmp``;
    when the block ends normally, a new ``out`` is the staging directory renamed (one
    atomic step), and an existing ``out`` gets each staged file moved in (``os.replace``)
    with SIGINT/SIGTERM held back, so the directory never holds a mix of old and new
    files. When the block raises (including ``KeyboardInterrupt``), the staging directory
    is removed and ``out`` is untouched. Only regular files at the top level are staged.

    Args:
        out: the final directory.

    Yields:
        The staging directory to write into.
    """
    final = Path(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_umask())
        with signals_held():
            if not final.exists():
                os.rename(stage, final)
            else:
                for item in sorted(stage.iterdir()):
                    os.replace(item, final / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# --------------------------------------------------------------------------- signals
#: Exit status of a command stopped by a signal: 128 + the signal number (shell convention).
EXIT_SIGINT = 128 + int(signal.SIGINT)
EXIT_SIGTERM = 128 + int(signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives (after :func:`install_signal_handlers`)."""

    signum = int(signal.SIGTERM)


def interrupt_exit_code(exc: BaseException) -> int:
    """Exit status for an interruption: 143 for SIGTERM, 130 for Ctrl-C (SIGINT)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


#: Exit statuses of the interruptions a command reported (:func:`report_interruption`) since
#: the command line installed its signal handlers.
_REPORTED: list[int] = []


def report_interruption(exc: BaseException, note: str) -> int:
    """Tell the user, on stderr, that a signal stopped the command and what was kept.

    One line: ``interrupted; NOTE`` (Ctrl-C) or ``terminated (SIGTERM); NOTE``. The
    command line's entry point prints nothing more for an interruption reported here
    (:func:`interruption_reported`): one interruption, one message.

    Args:
        exc: the ``KeyboardInterrupt`` (or :class:`Terminated`) that stopped the command.
        note: what happened to the outputs, e.g. ``nothing was written to outputs/x``.

    Returns:
        The exit status to end with: 130 for Ctrl-C, 143 for SIGTERM.
    """
    code = interrupt_exit_code(exc)
    what = "terminated (SIGTERM)" if code == EXIT_SIGTERM else "interrupted"
    print(f"\n{what}; {note}", file=sys.stderr, flush=True)
    _REPORTED.append(code)
    return code


def interruption_reported() -> bool:
    """True when a command has reported an interruption (:func:`report_interruption`)."""
    return bool(_REPORTED)


def _inside_numba(frame: FrameType | None) -> bool:
    """True when the Python frame a signal interrupted is numba's own code."""
    name = frame.f_code.co_filename if frame is not None else ""
    return f"{os.sep}numba{os.sep}" in name


def install_signal_handlers() -> list[int]:
    """Make SIGINT and SIGTERM raise ``KeyboardInterrupt`` (:class:`Terminated` for SIGTERM).

    Used by the command line entry point (never at import time), so that an interrupted
    command unwinds through its ``finally`` blocks and leaves no temporary or partial files.
    The first signal raises; later ones are ignored while the command cleans up and exits.
    SIGINT is handled even when the process started with it ignored (a background job).

    Returns:
        A list that receives the number of the first signal handled.
    """
    fired: list[int] = []
    _REPORTED.clear()

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired:
            return
        if _inside_numba(frame):
            # numba called back into Python (e.g. to unpickle a constant); an exception
            # raised here would surface as a SystemError: deliver the signal again shortly
            threading.Timer(0.005, os.kill, (os.getpid(), signum)).start()
            return
        fired.append(signum)
        if signum == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return fired
