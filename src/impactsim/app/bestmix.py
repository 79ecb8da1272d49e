"""The panel "find the best mix for my budget": the optimiser on the page's own strategy.

It searches the main knobs of the municipality's own (edited) strategy — places and
organisations per provider, which programmes are offered, which channels are used
(:func:`impactsim.optimize.presets.budget_optimization`) — for the largest public impact
within the budget set under Run, with a budget–impact curve at half and one and a half
times the budget. The search runs as Run does: a Solara task on the session's worker
thread that holds the server's simulation slot, reports progress after every batch of
candidates, and stops at the next batch when cancelled.
"""

from __future__ import annotations

import io
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import solara

from impactsim.app import state
from impactsim.app.jobs import SLOTS, Cancelled, Plan, wait_for_slot
from impactsim.i18n import gettext_for

#: Search size in the app: small enough for a few minutes on a 2-core server.
TRIALS = 16
REPLICATES = 3
CURVE = (0.5, 1.5)


@dataclass
class BestMix:
    """What the panel shows after a search."""

    sentences: dict[str, list[str]]  # per language, the recommendation in words
    curve_png: dict[str, bytes]  # per language, the budget–impact curve
    recommended_yaml: str | None  # the recommended mix as a scenario file
    evaluations: int


_STEP = re.compile(r"(\d+)/(\d+) candidates")


def _progress(on_progress: Callable[[float], None], stages: int) -> Callable[[str], None]:
    """A log callback turning the optimiser's lines into the share done (0-1)."""
    done = [0]

    def log(message: str) -> None:
        if message.endswith("finalists re-evaluated"):
            done[0] += 1
            on_progress(min(1.0, done[0] / stages))
            return
        m = _STEP.search(message)
        if m:
            on_progress(min(1.0, (done[0] + int(m[1]) / int(m[2]) * 0.8) / stages))

    return log


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def find_best_mix(plan: Plan, on_progress: Callable[[float], None] | None = None) -> BestMix:
    """Search the best mix of the plan's first strategy within its budget. Blocks.

    Raises:
        Cancelled: ``plan.cancel`` was set (checked after every batch of candidates).
        ValueError: the plan has no budget.
    """
    from impactsim.optimize import optimize, parse_optimization
    from impactsim.optimize.outputs import recommended_text
    from impactsim.optimize.plots import budget_curve
    from impactsim.optimize.presets import budget_optimization
    from impactsim.optimize.report import stage_sentences

    if plan.budget is None:
        raise ValueError("the plan has no budget")
    scenario = next(iter(plan.scenarios.values())).model_dump(mode="json")
    doc = budget_optimization(
        scenario, total_eur=plan.budget, trials=TRIALS, replicates=REPLICATES, curve=CURVE
    )
    doc["seed"] = plan.seed
    opt = parse_optimization(doc, "best mix")
    report = _progress(on_progress or (lambda _share: None), 1 + len(CURVE))

    def log(message: str) -> None:
        if plan.cancel.is_set():
            raise Cancelled
        report(message)

    wait_for_slot(plan, None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = optimize(opt, tmp, workers=0, log=log)
            best = result.main.best
            text = recommended_text(result, best) if best is not None else None
    finally:
        SLOTS.release()
    langs = ("en", "nl")
    return BestMix(
        sentences={lang: stage_sentences(result, result.main, lang) for lang in langs},
        curve_png={lang: _png(budget_curve(result, lang)) for lang in langs},
        recommended_yaml=text,
        evaluations=result.info["evaluations_run"],
    )


#: The cancel event of this session's search.
_cancel = solara.reactive(None)  # threading.Event | None


@solara.lab.task
def search_task(plan: Plan) -> BestMix:
    """Search on the session's worker thread, passing progress to the page."""
    search_task.progress = 0.0

    def progress(share: float) -> None:
        search_task.progress = 100.0 * share

    return find_best_mix(plan, progress)


def start_search(plan: Plan) -> None:
    """Start a search (a running one is cancelled first), with a cancel event of its own."""
    stop_search()
    own = Plan(plan.scenarios, plan.replicates, plan.seed, plan.budget, plan.lang)
    _cancel.value = own.cancel
    search_task(own)


def stop_search() -> None:
    """Cancel the search: it stops after the batch of candidates in progress."""
    event: threading.Event | None = _cancel.value
    if event is not None:
        event.set()
    if search_task.pending:
        search_task.cancel()


@solara.component
def BestMixResult(found: BestMix, lang: str) -> None:
    """The recommendation in words, the budget–impact curve, the scenario to download."""
    _ = gettext_for(lang)
    solara.Markdown(" ".join(found.sentences[lang]), classes=["bestmix-summary"])
    solara.Image(found.curve_png[lang])
    if found.recommended_yaml is not None:
        solara.FileDownload(
            found.recommended_yaml,
            filename="recommended.yaml",
            label=_("Download the recommended mix (scenario file)"),
        )


@solara.component
def BestMixPanel(plan: Plan | None) -> None:
    """Find the best mix for the budget set under Run."""
    lang = state.lang.value
    _ = gettext_for(lang)
    task = search_task
    with solara.Card(_("Find the best mix for my budget")):
        if plan is None or plan.budget is None:
            solara.Info(_("Set a budget under Run to search for the best mix within it."))
            return
        solara.Text(
            _(
                "Searches the places, organisations, programmes and channels of your own "
                "strategy for the largest public impact within the budget, and shows what "
                "half and one and a half times the budget would buy. This takes a few minutes."
            )
        )
        with solara.Row():
            solara.Button(
                _("Find the best mix"),
                color="primary",
                disabled=task.pending,
                on_click=lambda: start_search(plan),
                classes=["bestmix-button"],
            )
            solara.Button(
                _("Cancel"),
                disabled=not task.pending,
                on_click=stop_search,
                classes=["bestmix-cancel"],
            )
        if task.pending:
            share = task.progress or 0.0
            solara.ProgressLinear(value=share if share > 0 else True)
            solara.Text(_("Searching: {done} done").format(done=f"{share:.0f} %"))
        elif task.error and not isinstance(task.exception, Cancelled):
            solara.Error(str(task.exception))
        elif task.finished and task.value is not None:
            BestMixResult(task.value, lang)
