"""The app's page: municipality, strategies, knobs, run, results, downloads.

Every text is an English catalogue message translated with ``_ = gettext_for(lang)``
when the component renders, so switching the language re-renders the page in the other
language at once, edits and results kept.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping
from typing import Any

import solara

from impactsim.app import results, state
from impactsim.app.bestmix import BestMixPanel
from impactsim.app.jobs import (
    NEIGHBOURHOOD_FIGURE,
    Analysis,
    Cancelled,
    Plan,
    figures_in,
    library_strategies,
    plans_by_neighbourhood,
    read_upload,
    report_html,
    strategy_in,
)
from impactsim.app.knobs import (
    BUDGET,
    GROUPS,
    STRATEGY_GROUPS,
    Knob,
    KnobError,
    check_value,
    edited_scenario,
    knobs_for,
    problem_location,
    problems_by_knob,
)
from impactsim.app.upload import ScenarioUpload
from impactsim.compare import CompareError
from impactsim.i18n import LANGUAGE_NAMES, LANGUAGES, N_, gettext_for, in_language, number
from impactsim.inputs import Problem, ScenarioError
from impactsim.loading import dump_scenario
from impactsim.report import plain_summary, strategy_labels
from impactsim.resources import MemoryLimitError
from impactsim.scenario import Scenario
from impactsim.scenario.labels import SEPARATOR, location_parts, words

CSS = """
.impactsim h1 { font-size: 1.6rem; margin: 0; }
.impactsim h2 { font-size: 1.15rem; margin: 14px 0 6px; }
.impactsim table.results { border-collapse: collapse; width: 100%; font-size: 0.86rem; }
.impactsim table.results th, .impactsim table.results td { border-bottom: 1px solid #d8dee4;
  padding: 4px 6px; text-align: right; vertical-align: top; }
.impactsim table.results th:first-child, .impactsim table.results td:first-child { text-align: left; }
.impactsim .summary { background: #f6f8fa; border-left: 4px solid #0072B2; padding: 8px 12px; }
.impactsim .problem { color: #b00020; font-size: 0.85rem; margin: 2px 0; }
.impactsim .scroll { overflow-x: auto; }
.impactsim .knob { margin-bottom: 2px; }
.impactsim .v-input__details { display: none; }
.impactsim .knob-input .v-input__details { display: flex; }
.impactsim .v-selection-control { min-height: 30px; }
.impactsim .v-checkbox .v-selection-control { min-height: 30px; }
.impactsim .figs img { width: 100%; height: auto; border: 1px solid #eaeef2; }
.impactsim table.results td.text { text-align: left; }
"""

#: How the page names pydantic's own messages (English text) in plain words. The checks'
#: own messages are :class:`~impactsim.i18n.Message` s, translated as they are.
_PLAIN = (
    (re.compile(r"^Input should be greater than or equal to (.+)$"), N_("must be at least {0}")),
    (re.compile(r"^Input should be less than or equal to (.+)$"), N_("must be at most {0}")),
    (re.compile(r"^Input should be greater than (.+)$"), N_("must be more than {0}")),
    (re.compile(r"^Input should be less than (.+)$"), N_("must be less than {0}")),
    (re.compile(r"^Input should be a valid (number|integer).*$"), N_("must be a number")),
    (re.compile(r"^Input should be a finite number$"), N_("must be a number")),
    (re.compile(r"^Input should be a valid string.*$"), N_("must be text")),
    (re.compile(r"^Input should be a valid list.*$"), N_("must be a list")),
    (re.compile(r"^Input should be a valid boolean.*$"), N_("must be true or false")),
    (
        re.compile(r"^Input should be a valid dictionary.*$"),
        N_("must be a mapping of keys to values"),
    ),
    (re.compile(r"^Input should be (('[^']*'(, | or )?)+)$"), N_("must be one of: {0}")),
    (re.compile(r"^List should have at most (\d+) items.*$"), N_("may hold at most {0} items")),
    (re.compile(r"^List should have at least (\d+) items?.*$"), N_("must hold at least {0} items")),
    (
        re.compile(r"^String should have at most (\d+) characters.*$"),
        N_("may hold at most {0} characters"),
    ),
    (
        re.compile(r"^String should match pattern.*$"),
        N_("is not a valid name: a letter, then letters, digits, '_' or '-' (at most 64)"),
    ),
    (re.compile(r"^Field required$"), N_("is missing")),
    (re.compile(r"^unknown key '([^']*)'.*$"), N_("'{0}' is not a known setting here")),
)


def plain_problem(problem: Problem, data: Any, lang: str) -> str:
    """A problem in words: where (labels, not paths), what is wrong, the value given."""
    _ = gettext_for(lang)
    where = problem.path or _("the file as a whole")
    if problem.path and isinstance(data, dict):
        try:
            names, what, _unit = location_parts(Scenario, data, problem_location(problem.path))
            names = [in_language(n, lang) for n in names]
            where = SEPARATOR.join([*names, _(what)] if what else names) or where
        except (KeyError, IndexError, TypeError, ValueError):
            where = words(problem.path)
    message = in_language(problem.message, lang)
    for pattern, template in _PLAIN:
        match = pattern.match(problem.message)
        if match:
            # pydantic lists allowed values as 'a', 'b' or 'c': "or" in the page's language
            said = (match.groups() or ("",))[0].replace("' or '", "' " + _("or") + " '")
            message = _(template).format(said)
            break
    got = _(" (given: {value})").format(value=problem.value) if problem.value else ""
    return _("{field}: {message}{got}").format(field=where, message=message, got=got)


@solara.component
def Problems(problems: list[Problem], data: Any, test_id: str = "problems") -> None:
    """Problems as short red lines."""
    lang = state.lang.value
    with solara.Div(classes=["problems", test_id]):
        for p in problems:
            solara.Text(plain_problem(p, data, lang), classes=["problem"])


@solara.component
def Header() -> None:
    """Title and the language switch."""
    _ = gettext_for(state.lang.value)
    with solara.Row(justify="space-between", style={"align-items": "center"}):
        solara.HTML(tag="h1", unsafe_innerHTML=html.escape(_("impactsim: parenting programmes")))
        with solara.Div(classes=["language-switch"]):
            solara.ToggleButtonsSingle(
                value=state.lang,
                children=[solara.Button(LANGUAGE_NAMES[code], value=code) for code in LANGUAGES],
            )


@solara.component
def MunicipalityCard() -> None:
    """Choose the municipality: the one the app started with, or an uploaded file."""
    lang = state.lang.value
    _ = gettext_for(lang)
    start = state.given_scenarios()[0]
    up: state.Upload | None = state.upload.value

    def on_file(name: str, raw: bytes) -> None:
        scenario, problems, data = read_upload(raw, name)
        state.upload.value = state.Upload(name, scenario, tuple(problems), data)
        if scenario is not None:
            state.reset_for(state.UPLOADED)

    with solara.Card(_("Municipality")):
        options = {state.DEFAULT: _("as started: {name}").format(name=words(start.name))}
        if up is not None and up.scenario is not None:
            options[state.UPLOADED] = _("uploaded: {name}").format(name=up.name)
        solara.ToggleButtonsSingle(
            value=state.source.value,
            on_value=state.reset_for,
            children=[solara.Button(text, value=key) for key, text in options.items()],
        )
        ScenarioUpload(
            label=_("Upload a scenario file"),
            hint=_("a YAML file like those of impactsim scenarios list"),
            on_file=on_file,
        )
        if up is not None and up.problems:
            solara.Text(
                _("{file} cannot be used: {count} problem(s).").format(
                    file=up.name, count=len(up.problems)
                ),
                classes=["problem"],
            )
            Problems(list(up.problems), up.data, "upload-problems")
        sc = state.municipality()
        solara.Text(
            _("{families} families, {months} months, strategy: {strategy}").format(
                families=number(sc.population.size, lang, 0),
                months=number(sc.simulation.months, lang, 0),
                strategy=sc.strategy.name,
            )
        )


@solara.component
def StrategiesCard() -> None:
    """Choose strategies from the library to compare with the municipality's own."""
    _ = gettext_for(state.lang.value)
    chosen = set(state.chosen.value)

    def toggle(name: str) -> Callable[[bool], None]:
        def on(value: bool) -> None:
            now = [n for n in state.chosen.value if n != name]
            state.chosen.value = tuple([*now, name] if value else now)

        return on

    with solara.Card(_("Strategies from the library")):
        solara.Text(_("Compared with the municipality's own strategy, on the same families."))
        for name in library_strategies():
            solara.Checkbox(label=words(name), value=name in chosen, on_value=toggle(name))


def _range(knob: Knob, lang: str) -> str:
    _ = gettext_for(lang)
    if knob.lo is None or knob.hi is None:
        return ""
    digits = 0 if float(knob.lo).is_integer() and float(knob.hi).is_integer() else 2
    return _("allowed: {lo} to {hi}").format(
        lo=number(knob.lo, lang, digits), hi=number(knob.hi, lang, digits)
    )


def _origin(knob: Knob, lang: str) -> str:
    """Where the knob's value comes from, in words: the citation, or "assumption"."""
    _ = gettext_for(lang)
    src = knob.source
    if src is None:
        return ""
    if src.assumption:
        text = _("assumption: replace with local data")
        return f"{text} ({src.note})" if src.note else text
    return _("source: {citation}").format(citation=src.citation)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@solara.component
def KnobInput(knob: Knob, problems: list[Problem], data: Any, owner: str = state.OWN) -> None:
    """One knob of a strategy (``owner``): its label with unit, its range, what is wrong."""
    lang = state.lang.value
    _ = gettext_for(lang)
    current = state.edits_of(owner).get(knob.key, knob.value)
    text, set_text = solara.use_state(_shown(current), key=knob.key)
    error, set_error = solara.use_state("", key=knob.key + ":error")
    label = SEPARATOR.join(x for x in (knob.item, _(knob.what)) if x)
    css = ["knob", "knob-" + re.sub(r"[^a-z0-9]+", "-", knob.key.lower())]

    def edit(value: Any) -> None:
        state.set_edit(owner, knob.key, value)

    with solara.Div(classes=css):
        if knob.kind == "toggle":
            solara.Checkbox(label=label, value=bool(current), on_value=edit)
        else:

            def on_text(new: str | None) -> None:
                set_text(new or "")
                try:
                    value = check_value(knob, new)
                except KnobError as err:
                    set_error(_(err.message).format(**err.values))
                    return
                set_error("")
                edit(value)

            messages = [error] if error else [plain_problem(p, data, lang) for p in problems]
            solara.InputText(
                label=label,
                value=text,
                on_value=on_text,
                suffix=_(knob.unit) if knob.unit else None,
                error=messages[0] if messages else False,
                message=" · ".join(x for x in (_range(knob, lang), _origin(knob, lang)) if x),
                classes=["knob-input"],
            )
        if knob.kind == "toggle":
            for p in problems:
                solara.Text(plain_problem(p, data, lang), classes=["problem"])


@solara.component
def KnobGroups(
    base: Scenario, problems: list[Problem], owner: str, groups: tuple[str, ...]
) -> None:
    """A strategy's knobs in groups; problems of its edited scenario at their knobs."""
    _ = gettext_for(state.lang.value)
    knobs = knobs_for(base)
    mine, rest = problems_by_knob(base, state.edits_of(owner), problems)
    data = base.model_dump(mode="json")
    for group in groups:
        with solara.Details(summary=_(GROUPS[group]), expand=group in ("providers", "run")):
            for knob in (k for k in knobs if k.group == group):
                KnobInput(knob, mine.get(knob.key, []), data, owner).key(
                    f"{owner}:{base.name}:{knob.key}"
                )
    if rest:
        Problems(rest, data, "scenario-problems")


@solara.component
def LibraryKnobs(municipality: Scenario, name: str) -> None:
    """The knobs of a chosen library strategy, as put into the municipality."""
    edits = state.edits_of(name)
    base, _misfit = solara.use_memo(lambda: library_in(municipality, name), [municipality, name])

    def edited() -> tuple[Scenario | None, list[Problem]]:
        return (None, []) if base is None else edited_scenario(base, edits)

    _edited, problems = solara.use_memo(edited, [base, edits])
    if base is not None:  # one that does not fit is said under the strategies
        KnobGroups(base, problems, name, STRATEGY_GROUPS)


def library_in(municipality: Scenario, name: str) -> tuple[Scenario | None, list[Problem]]:
    """A library strategy put into the municipality, or the problems why it does not fit."""
    try:
        return strategy_in(municipality, library_strategies()[name]), []
    except ScenarioError as err:
        return None, list(err.problems)


@solara.component
def KnobsCard(base: Scenario, problems: list[Problem]) -> None:
    """The main knobs of the municipality's strategy or of a chosen library strategy."""
    _ = gettext_for(state.lang.value)
    chosen = [n for n in state.chosen.value if n in library_strategies()]
    editing = state.editing.value if state.editing.value in chosen else state.OWN
    with solara.Card(_("Change the main settings")):
        if chosen:
            options = {state.OWN: _("own strategy: {name}").format(name=base.strategy.name)}
            options.update({n: words(n) for n in chosen})
            with solara.Div(classes=["settings-of"]):
                solara.Text(_("Settings of"))
                solara.ToggleButtonsSingle(
                    value=editing,
                    on_value=state.editing.set,
                    children=[solara.Button(text, value=key) for key, text in options.items()],
                )
        if editing == state.OWN:
            KnobGroups(base, problems, state.OWN, tuple(GROUPS)).key("own")
        else:
            solara.Text(
                _(
                    "Replicates, seed and budget are the municipality's; these settings "
                    "change this library strategy only."
                )
            )
            LibraryKnobs(base, editing).key(f"library:{editing}")


def _error_text(exc: BaseException | None, lang: str) -> str:
    _ = gettext_for(lang)
    if isinstance(exc, CompareError):
        return _("These strategies cannot be compared: {why}").format(why="; ".join(exc.problems))
    if isinstance(exc, MemoryLimitError):
        return _("Too large for this computer: {why}").format(why=str(exc))
    if isinstance(exc, ScenarioError):
        return "; ".join(plain_problem(p, None, lang) for p in exc.problems)
    return _("The simulation failed: {why}").format(why=f"{type(exc).__name__}: {exc}")


def build_plan(
    edited: Scenario,
    chosen: tuple[str, ...],
    others: tuple[Scenario, ...],
    edits: dict[str, Any],
    lang: str,
    library_edits: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[Plan | None, list[tuple[str, list[Problem]]], list[str]]:
    """The run the page would start: the edited scenario, the others given, the chosen ones.

    Args:
        edited: the municipality with its edited strategy.
        chosen: library strategies chosen, by name.
        others: further strategies given on the command line.
        edits: the municipality's knob edits (for the budget).
        lang: the page's language.
        library_edits: knob edits of the chosen library strategies, by name.

    Returns:
        ``(plan, [], [])``; or ``(None, misfits, refused)``: ``misfits`` the chosen
        library strategies that do not fit the municipality, with their problems,
        ``refused`` those whose edits the scenario checks refuse (shown at their knobs).
    """
    scenarios = {edited.name: edited}
    for sc in others:
        scenarios.setdefault(sc.name, sc)
    misfits: list[tuple[str, list[Problem]]] = []
    refused: list[str] = []
    for name in chosen:
        if name not in library_strategies():
            continue
        sc, problems = library_in(edited, name)
        if sc is None:
            misfits.append((name, problems))
            continue
        if (library_edits or {}).get(name):
            sc, problems = edited_scenario(sc, (library_edits or {})[name])
            if sc is None:
                refused.append(name)
                continue
        if sc.name in scenarios:
            sc = sc.model_copy(update={"name": f"{sc.name}-library"})
        scenarios[sc.name] = sc
    budget = edits.get(BUDGET)
    sim = edited.simulation
    plan = Plan(scenarios, sim.replicates, sim.seed, budget, lang)
    return (None if misfits or refused else plan), misfits, refused


@solara.component
def RunCard(plan: Plan | None) -> None:
    """Run and cancel, with progress."""
    _ = gettext_for(state.lang.value)
    task = state.run_task
    with solara.Card(_("Run")):
        with solara.Row():
            solara.Button(
                _("Run"),
                color="primary",
                disabled=plan is None or task.pending,
                on_click=lambda: state.start(plan) if plan is not None else None,
                classes=["run-button"],
            )
            solara.Button(
                _("Cancel"),
                disabled=not task.pending,
                on_click=state.stop,
                classes=["cancel-button"],
            )
        if task.pending:
            if state.waiting.value:
                solara.Text(
                    _(
                        "Waiting: the server is loading the simulation engine or running another simulation…"
                    )
                )
            share = task.progress or 0.0
            solara.ProgressLinear(value=share if share > 0 else True)
            solara.Text(
                _("Simulating: {done} done").format(done=f"{share:.0f} %"), classes=["progress"]
            )
        elif task.cancelled:
            solara.Info(_("Run cancelled."))
        elif task.error:
            if isinstance(task.exception, Cancelled):
                solara.Info(_("Run cancelled."))
            else:
                solara.Error(_error_text(task.exception, state.lang.value), classes=["run-error"])


@solara.component
def Figures(analysis: Analysis, labels: dict[str, str]) -> None:
    """The figures; per strategy, the one chosen."""
    _ = gettext_for(state.lang.value)
    names = list(analysis.runs)
    which, set_which = solara.use_state(names[0])
    if which not in names:
        which = names[0]
    solara.HTML(tag="h2", unsafe_innerHTML=html.escape(_("Figures")))
    lang = state.lang.value
    drawn = solara.use_thread(lambda: figures_in(analysis, lang), [id(analysis), lang])
    if drawn.value is None:
        solara.ProgressLinear(True)
        solara.Text(_("Drawing the figures…"))
        return
    figures = [f for f in drawn.value if f[0] != NEIGHBOURHOOD_FIGURE]  # shown by neighbourhood
    shown = [f for f in figures if not f[1]]
    if len(names) > 1:
        solara.ToggleButtonsSingle(
            value=which,
            on_value=set_which,
            children=[solara.Button(labels[n], value=n) for n in names],
        )
    shown += [f for f in figures if f[1] == which]
    with solara.GridFixed(columns=2):
        for _key, strategy, caption, png in shown:
            with solara.Div(classes=["figs"]):
                solara.Image(png)
                text = f"{labels[strategy]}: {_(caption)}" if strategy else _(caption)
                solara.Text(text)


@solara.component
def Neighbourhoods(analysis: Analysis, labels: dict[str, str]) -> None:
    """Results by neighbourhood (wijk): shown only when the scenarios have neighbourhoods.

    Per strategy and neighbourhood reach and public impact, the gap between the
    neighbourhoods, the paired differences from the baseline, and the figures.
    """
    lang = state.lang.value
    _ = gettext_for(lang)
    drawn = solara.use_thread(lambda: figures_in(analysis, lang), [id(analysis), lang])
    table = results.neighbourhood_table(analysis, labels, lang)
    if not table:
        return
    with solara.Div(classes=["by-neighbourhood"]):
        solara.HTML(tag="h2", unsafe_innerHTML=html.escape(_("By neighbourhood")))
        solara.Text(
            _(
                "Reach and public impact in each neighbourhood (wijk), for each strategy: the "
                "whole municipality first, then each neighbourhood, then the gap between them."
            )
        )
        solara.HTML(tag="div", unsafe_innerHTML=table)
        cmp = analysis.comparison
        if cmp is not None:
            diffs = results.neighbourhood_comparison_table(cmp, analysis, labels, lang)
            if diffs:
                solara.HTML(tag="div", unsafe_innerHTML=diffs)
                solara.Text(results.gap_note(cmp, labels, lang), classes=["gap-note"])
        if drawn.value is None:
            solara.ProgressLinear(True)
            return
        with solara.GridFixed(columns=2):
            for key, strategy, caption, png in drawn.value:
                if key == NEIGHBOURHOOD_FIGURE:
                    with solara.Div(classes=["figs"]):
                        solara.Image(png)
                        solara.Text(f"{labels[strategy]}: {_(caption)}")


@solara.component
def Downloads(analysis: Analysis, labels: dict[str, str]) -> None:
    """The report and the edited scenario file."""
    lang = state.lang.value
    _ = gettext_for(lang)
    plan = Plan(
        analysis.plan.scenarios,
        analysis.plan.replicates,
        analysis.plan.seed,
        analysis.plan.budget,
        lang,
    )
    first = next(iter(analysis.plan.scenarios.values()))
    # one function per result and language: a new one would reset the download button
    report = solara.use_memo(lambda: functools.partial(report_html, plan), [id(analysis), lang])
    with solara.Row(classes=["downloads"]):
        solara.FileDownload(
            report,
            filename="impactsim-report.html",
            label=_("Download the report (HTML)"),
            mime_type="text/html",
        )
        solara.FileDownload(
            dump_scenario(first),
            filename=f"{first.name}.yaml",
            label=_("Download the edited scenario (YAML)"),
            mime_type="text/yaml",
        )
    solara.Text(
        _(
            "The report simulates again with the same seed and replicates, so it shows the "
            "same numbers; `impactsim run {file}` reproduces those of {strategy}."
        ).format(file=f"{first.name}.yaml", strategy=labels[first.name])
    )


@solara.component
def Results(analysis: Analysis) -> None:
    """Summary, tables, results by neighbourhood, who pays and who benefits, figures."""
    lang = state.lang.value
    _ = gettext_for(lang)
    labels = strategy_labels(analysis.plan.scenarios)

    def h2(text: str) -> None:
        solara.HTML(tag="h2", unsafe_innerHTML=html.escape(text))

    with solara.Div(classes=["results"]):
        h2(_("Summary"))
        for name, res in analysis.runs.items():
            solara.HTML(
                tag="p",
                unsafe_innerHTML=plain_summary(labels[name], res, lang),  # the report's
                classes=["summary"],
            )
        for line in results.budget_lines(analysis, labels, lang):
            solara.Text(line, classes=["budget"])
        solara.Text(
            _(
                "{families} families, {replicates} replicates, seed {seed}; computed in "
                "{seconds} s. Intervals are the 2.5–97.5 % range across replicates."
            ).format(
                families=number(
                    next(iter(analysis.runs.values())).scenario.population.size, lang, 0
                ),
                replicates=analysis.plan.replicates,
                seed=analysis.plan.seed,
                seconds=number(analysis.seconds, lang, 1),
            ),
            classes=["meta"],
        )
        h2(_("Comparison"))
        solara.HTML(tag="div", unsafe_innerHTML=results.headline_table(analysis, labels, lang))
        if analysis.comparison is not None:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=results.comparison_table(analysis.comparison, labels, lang),
            )
            for line in results.frontier_text(analysis.comparison, labels, lang):
                solara.Text(line)
        Neighbourhoods(analysis, labels)
        h2(_("Who pays and who benefits"))
        solara.HTML(tag="div", unsafe_innerHTML=results.stakeholder_table(analysis, labels, lang))
        Downloads(analysis, labels)
        Figures(analysis, labels)


#: Panels shown under Run, each called with the plan the page would run (None while it
#: cannot run): "find the best mix for my budget" (``docs/app.md``).
PANELS: list[Callable[[Plan | None], Any]] = [BestMixPanel]


@solara.component
def Page() -> None:
    """The whole app."""
    lang = state.lang.value
    _ = gettext_for(lang)
    base = state.municipality()
    edits, library_edits = state.edits.value, state.library_edits.value
    # validating and building the plan take a while: only when what they read changes
    edited, problems = solara.use_memo(lambda: edited_scenario(base, edits), [base, edits])
    chosen, others = state.chosen.value, state.others_given()

    def plan_of() -> tuple[Plan | None, list[tuple[str, list[Problem]]], list[str]]:
        if edited is None:
            return None, [], []
        return build_plan(edited, chosen, others, edits, lang, library_edits)

    plan, misfits, refused = solara.use_memo(
        plan_of, [edited, chosen, others, edits, lang, library_edits]
    )
    solara.Title(_("impactsim: parenting programmes"))
    solara.Style(CSS)
    with solara.Div(classes=["impactsim"], style={"padding": "12px 20px"}):
        Header()
        with solara.Columns([4, 8]):
            with solara.Column():
                MunicipalityCard()
                StrategiesCard()
                for name, found in misfits:
                    solara.Text(
                        _("{strategy} does not fit this municipality:").format(
                            strategy=words(name)
                        ),
                        classes=["problem"],
                    )
                    Problems(found, None, "strategy-problems")
                    if not base.population.neighbourhoods and plans_by_neighbourhood(
                        library_strategies()[name]
                    ):
                        solara.Text(
                            _(
                                "{strategy} plans by neighbourhood (wijk). To use it, upload "
                                "its file as the municipality: `impactsim scenarios copy "
                                "{name} .` gives you the file."
                            ).format(strategy=words(name), name=name),
                            classes=["problem", "by-neighbourhood-hint"],
                        )
                for name in refused:
                    solara.Text(
                        _("The settings of {strategy} are not possible; see its settings.").format(
                            strategy=words(name)
                        ),
                        classes=["problem"],
                    )
                KnobsCard(base, problems).key(f"knobs:{state.source.value}:{base.name}")
            with solara.Column():
                RunCard(plan)
                for panel in PANELS:
                    panel(plan)
                if state.shown.value is not None:
                    Results(state.shown.value)
                else:
                    solara.Info(
                        _("Choose a municipality and strategies, change settings, then press Run.")
                    )
