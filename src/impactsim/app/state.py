"""Per-session state of the app and the background run.

Solara keeps each ``solara.reactive`` value per browser session (per virtual kernel):
two tabs have their own municipality, edits, language and run. The run is a Solara task
(:func:`run_task`) on a worker thread of its own; the page only starts and cancels it and
reads its progress and result.

The scenario files given on the command line reach the server process through the
environment (:data:`SCENARIOS_ENV`, :data:`LANG_ENV`), so the app also runs under
``solara run impactsim.app.main``.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import solara
import solara.lab

from impactsim.app.jobs import Analysis, Plan, analyse
from impactsim.i18n import DEFAULT_LANGUAGE, LANGUAGES
from impactsim.inputs import Problem
from impactsim.loading import default_scenario, load_scenario
from impactsim.scenario import Scenario

#: Scenario files to start with, separated by ``os.pathsep``; empty: the default municipality.
SCENARIOS_ENV = "IMPACTSIM_APP_SCENARIOS"
#: Language the app opens in (``en`` or ``nl``).
LANG_ENV = "IMPACTSIM_APP_LANG"

DEFAULT = "default"
UPLOADED = "uploaded"
#: The municipality's own strategy, as :data:`editing` names it (not a library file's
#: name; not empty, which the page's toggle buttons would take for "none").
OWN = "<own>"


@functools.cache
def given_scenarios() -> tuple[Scenario, ...]:
    """The scenarios the app was started with (validated by the command before)."""
    paths = [p for p in os.environ.get(SCENARIOS_ENV, "").split(os.pathsep) if p]
    return tuple(load_scenario(Path(p)) for p in paths) or (default_scenario(),)


def start_language() -> str:
    """The language the app opens in."""
    lang = os.environ.get(LANG_ENV, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Upload:
    """The last uploaded scenario file: the scenario, or the problems found in it."""

    name: str
    scenario: Scenario | None = None
    problems: tuple[Problem, ...] = ()
    data: Any = field(default=None, compare=False)


lang = solara.reactive(start_language())
#: ``DEFAULT`` (the scenario the app was started with) or ``UPLOADED``.
source = solara.reactive(DEFAULT)
upload = solara.reactive(None)  # Upload | None
#: Library strategies chosen to compare, by name.
chosen = solara.reactive(())  # tuple[str, ...]
#: Knob edits of the municipality's scenario: {knob key: value}.
edits = solara.reactive({})  # dict[str, Any]
#: Knob edits of chosen library strategies: {strategy name: {knob key: value}}.
library_edits = solara.reactive({})  # dict[str, dict[str, Any]]
#: Whose settings the knobs show: ``OWN`` (the municipality's strategy) or a library name.
editing = solara.reactive(OWN)
#: The cancel event of the run in progress.
cancel_event = solara.reactive(None)  # threading.Event | None
waiting = solara.reactive(False)


def municipality() -> Scenario:
    """The municipality (with its own strategy) the planner works on."""
    up = upload.value
    if source.value == UPLOADED and up is not None and up.scenario is not None:
        return up.scenario
    return given_scenarios()[0]


def others_given() -> tuple[Scenario, ...]:
    """Further strategies given on the command line (compared as they are)."""
    return given_scenarios()[1:] if source.value == DEFAULT else ()


def reset_for(new_source: str) -> None:
    """Switch municipality: edits and chosen strategies start afresh."""
    source.value = new_source
    edits.value = {}
    library_edits.value = {}
    editing.value = OWN


def edits_of(strategy: str) -> dict[str, Any]:
    """The knob edits of a strategy: ``OWN`` or a library strategy's name."""
    if strategy == OWN:
        return edits.value
    return library_edits.value.get(strategy, {})


def set_edit(strategy: str, key: str, value: Any) -> None:
    """Change one knob of a strategy (``OWN`` or a library strategy's name)."""
    if strategy == OWN:
        edits.value = {**edits.value, key: value}
    else:
        mine = {**library_edits.value.get(strategy, {}), key: value}
        library_edits.value = {**library_edits.value, strategy: mine}


#: The results shown: the last finished run's (kept while the next one runs).
shown = solara.reactive(None)  # Analysis | None

#: Seconds between two progress updates of the page (each re-renders the run card).
PROGRESS_EVERY_S = 0.25


@solara.lab.task
def run_task(plan: Plan) -> Analysis:
    """Run a plan on this session's worker thread, reporting progress to the page.

    Progress is passed on at most every :data:`PROGRESS_EVERY_S` seconds: the update
    renders the run card in this thread, time the simulation would otherwise lose.
    """
    waiting.value = False
    last = [0.0]
    closed = _closed_event()

    def progress(share: float) -> None:
        if closed is not None and closed.is_set():  # the tab was closed: stop, free the slot
            plan.cancel.set()
        now = time.monotonic()
        if share < 1.0 and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        waiting.value = False
        run_task.progress = 100.0 * share

    def wait() -> None:
        waiting.value = True

    run_task.progress = 0.0
    analysis = analyse(plan, progress, wait)
    if not plan.cancel.is_set():
        shown.value = analysis
    return analysis


def _closed_event() -> threading.Event | None:
    """The event Solara sets when this session ends (None where Solara has none)."""
    try:
        from solara.lifecycle import kernel_closed_event

        return kernel_closed_event()
    except (ImportError, RuntimeError):
        return None


def start(plan: Plan) -> None:
    """Start a run (a running one of this session is cancelled first)."""
    stop()
    cancel_event.value = plan.cancel
    run_task(plan)


def stop() -> None:
    """Cancel this session's run: it stops after the replicate in progress."""
    event: threading.Event | None = cancel_event.value
    if event is not None:
        event.set()
    if run_task.pending:
        run_task.cancel()
