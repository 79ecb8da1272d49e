"""A self-contained HTML report for planners: ``impactsim report A.yaml [B.yaml ...]``.

One file, images embedded as base64 PNG, no scripts or styles from the network. It opens
with a plain-language summary per strategy, then the comparison table, the figures, the
sources the scenario files state for their values, and the full resolved scenarios.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from impactsim import plots
from impactsim._version import __version__
from impactsim.compare import (
    NO_PROGRAMME,
    CompareError,
    CompareResult,
    compare,
    compare_runs,
    icer_metric,
)
from impactsim.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    check_language,
    gettext_for,
    money,
    number,
    percent,
)
from impactsim.io import write_text
from impactsim.loading import dump_scenario, load_scenario
from impactsim.rundir import RunDir, load_run_dir
from impactsim.runner import RunResult, run
from impactsim.scenario import Scenario
from impactsim.scenario.labels import shown_name, value_label, words
from impactsim.stakeholders import stakeholder_rows
from impactsim.tables import ALL, PLACE_COLUMN, interval, select

#: Marks the page after loading so a headless browser can check it: number of images that
#: failed to decode, and the page width (the page should not scroll sideways at 1366 px).
LOAD_CHECK = (
    "<script>addEventListener('load',function(){var b=0;for(var i=0;i<document.images.length;i++)"
    "{var m=document.images[i];if(!(m.complete&&m.naturalWidth>0))b++;}"
    "document.body.setAttribute('data-broken-images',b);"
    "document.body.setAttribute('data-scroll-width',document.documentElement.scrollWidth);});</script>"
)

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; } h2 { font-size: 1.3rem; margin-top: 2.2rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin-bottom: 4px; }
.meta { color: #57606a; font-size: 0.9rem; }
.summary { background: #f6f8fa; border-left: 4px solid #0072B2; padding: 10px 16px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #d8dee4; padding: 5px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f8fa; }
td.text, th.text { text-align: left; }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 18px; }
figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { font-size: 0.85rem; color: #57606a; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 0.8rem; }
.scroll { overflow-x: auto; }
"""


def _png(fig: Figure, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig: Figure, caption: str) -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _mean(summary: pd.DataFrame, metric: str, **where: str) -> float:
    vals = select(summary, metric, **where)["value"]
    return float(vals.mean()) if len(vals) else float("nan")


def plain_summary(label: str, result: RunResult, lang: str = DEFAULT_LANGUAGE) -> str:
    """One plain-language paragraph for a strategy (reach, cases, returns, chance)."""
    _ = gettext_for(lang)
    s = result.summary
    years = result.scenario.simulation.months / 12
    per_year = _mean(s, "case_years_prevented") / years if years > 0 else float("nan")
    horizon = (_("{n} year") if years == 1 else _("{n} years")).format(n=number(years, lang, 0))
    parts = [
        _(
            "<b>{label}</b> reaches {reach} of parents in {horizon} and prevents about {cases} "
            "problem cases a year (prevalence {impact} percentage points lower at the end than "
            "without the programmes)."
        ).format(
            label=html.escape(label),
            reach=percent(_mean(s, "reach_cumulative"), lang, 0),
            horizon=horizon,
            cases=number(per_year, lang, 0),
            impact=number(_mean(s, "public_impact_pp"), lang, 1),
        )
    ]
    outcomes = result.scenario.outcome_list
    if len(outcomes) > 1:
        changes = [
            _("{outcome} {impact} percentage points").format(
                outcome=html.escape(shown_name(o)),
                impact=number(_mean(s, "public_impact_pp", outcome=o.name), lang, 1),
            )
            for o in outcomes
        ]
        parts.append(
            _("Per outcome, the share above the cut-off falls by: {changes}.").format(
                changes="; ".join(changes)
            )
        )
    bcr = _mean(s, "bcr")
    if bcr == bcr and _mean(s, "cost_pv") > 0:
        parts.append(
            _(
                "It returns {bcr} per euro spent; the chance that benefits exceed costs is "
                "{chance}."
            ).format(
                bcr=money_cents(bcr, lang),
                chance=percent(_mean(s, "p_benefit_exceeds_cost"), lang, 0),
            )
        )
    return " ".join(parts)


def money_cents(amount: float, lang: str) -> str:
    """Euros with cents (``€1.12``; ``€ 1,12``), for returns per euro."""
    return f"{'€ ' if lang == 'nl' else '€'}{number(amount, lang, 2)}"


HEADLINE = [
    ("reach_cumulative", N_("reach (any programme)"), "pct"),
    ("public_impact_pp", N_("public impact (percentage points)"), "num"),
    (
        "differential_impact_gap_pp",
        N_("impact gap least − most advantaged (percentage points)"),
        "num",
    ),
    ("case_years_prevented", N_("problem case-years prevented"), "int"),
    ("cost_pv", N_("costs (present value)"), "eur"),
    ("benefit_pv", N_("benefits (present value)"), "eur"),
    ("npv", N_("net present value"), "eur"),
    ("bcr", N_("benefit-cost ratio"), "ratio"),
    ("roi", N_("return on investment (B − C) / C"), "ratio"),
    ("p_benefit_exceeds_cost", N_("chance benefits exceed costs"), "pct"),
]


def fmt(x: float, kind: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number as the report's and the app's tables show it.

    Args:
        x: the number (NaN: ``n/a``).
        kind: ``pct`` (a share, 43.9 %), ``prob`` (a chance, 44 %), ``pp`` (percentage
            points with their unit, two decimals), ``int`` (whole number), ``eur`` (euros,
            in millions from a million), ``num`` or ``ratio`` (two decimals).
        lang: language.
    """
    _ = gettext_for(lang)
    if x != x:
        return _("n/a")
    if kind == "pct":
        return percent(x, lang, 1)
    if kind == "prob":
        return percent(x, lang, 0)
    if kind == "pp":
        unit = _("pp")  # percentage points
        return f"{number(x, lang, 2)} {unit}"
    if kind == "eur":
        return money(x, lang, millions=True)
    return number(x, lang, 0 if kind == "int" else 2)


def cell(
    mean: float,
    lo: float,
    hi: float,
    kind: str,
    lang: str = DEFAULT_LANGUAGE,
    *,
    attrs: Mapping[str, str] | None = None,
    between: str = ", ",
) -> str:
    """A table cell: the mean, and its interval below when there is one (``lo`` not NaN).

    Args:
        mean: the mean.
        lo: the interval's lower end (NaN: no interval).
        hi: the interval's upper end.
        kind: how the numbers are written (:func:`fmt`).
        lang: language.
        attrs: attributes of the ``<td>`` (the app marks its cells with the metric and
            strategy they show).
        between: what separates the interval's ends (the app writes ``; ``: a Dutch
            number has a decimal comma).
    """
    tag = "td" + "".join(f' {k}="{html.escape(v)}"' for k, v in (attrs or {}).items())
    if lo != lo:
        return f"<{tag}>{fmt(mean, kind, lang)}</td>"
    return (
        f"<{tag}>{fmt(mean, kind, lang)}<br><small>[{fmt(lo, kind, lang)}{between}"
        f"{fmt(hi, kind, lang)}]</small></td>"
    )


def headline_stats(result: RunResult, metric: str) -> tuple[float, float, float]:
    """Mean and 95 % interval of a headline metric (a chance has no interval: NaN)."""
    iv = interval(select(result.summary, metric)["value"])
    lo = float("nan") if metric.startswith("p_") else iv["lo"]
    return iv["mean"], lo, iv["hi"]


def _table(head: str, corner: str, rows: list[str]) -> str:
    return (
        f'<div class="scroll"><table><tr><th>{html.escape(corner)}</th>{head}</tr>'
        f"{''.join(rows)}</table></div>"
    )


def headline_table(runs: dict[str, RunResult], lang: str = DEFAULT_LANGUAGE) -> str:
    """HTML table: rows = metrics (mean and 95 % interval), columns = strategies."""
    _ = gettext_for(lang)
    head = "".join(f"<th>{html.escape(label)}</th>" for label in runs)
    rows = []
    for metric, label, kind in HEADLINE:
        cells = []
        for res in runs.values():
            cells.append(cell(*headline_stats(res, metric), kind, lang))
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{''.join(cells)}</tr>")
    return _table(head, _("metric (mean, 95 % interval)"), rows)


#: Columns of the neighbourhood table: metric, heading, format (:func:`fmt`).
PLACE_COLUMNS = (
    ("reach_cumulative", N_("reach"), "pct"),
    ("public_impact_pp", N_("public impact"), "pp"),
    ("cost_pv", N_("costs (present value)"), "eur"),
    ("npv", N_("net present value"), "eur"),
)


def neighbourhoods_in(runs: Mapping[str, RunResult]) -> list[str]:
    """The neighbourhoods the runs' summaries have rows for, in order, without ``all``.

    Empty when no run's scenario has neighbourhoods.
    """
    return list(
        dict.fromkeys(
            str(p)
            for r in runs.values()
            if PLACE_COLUMN in r.summary.columns
            for p in r.summary[PLACE_COLUMN].unique()
            if p != ALL
        )
    )


def neighbourhood_stats(result: RunResult, metric: str, place: str) -> tuple[float, float, float]:
    """Mean and 95 % interval of a metric's totals in one neighbourhood (``all``: everywhere).

    NaN when the run has no such rows (a metric given for the municipality only).
    """
    iv = interval(select(result.summary, metric, neighbourhood=place)["value"])
    return iv["mean"], iv["lo"], iv["hi"]


def neighbourhood_table(runs: Mapping[str, RunResult], lang: str = DEFAULT_LANGUAGE) -> str:
    """HTML section: reach, public impact, costs and net present value per neighbourhood.

    Rows: the municipality (``all``) and each neighbourhood; columns: the four for each
    strategy (mean, 95 % interval; euros as present values). Empty when no strategy's
    scenario has neighbourhoods.
    """
    _ = gettext_for(lang)
    placed = {k: r for k, r in runs.items() if PLACE_COLUMN in r.summary.columns}
    if not placed:
        return ""
    places = neighbourhoods_in(placed)
    head = "".join(
        f"<th>{html.escape(label)}: {html.escape(_(what))}</th>"
        for label in placed
        for _metric, what, _kind in PLACE_COLUMNS
    )
    rows = []
    for place in [ALL, *places]:
        cells = []
        for res in placed.values():
            for metric, _what, kind in PLACE_COLUMNS:
                cells.append(cell(*neighbourhood_stats(res, metric, place), kind, lang))
        name = _("all") if place == ALL else words(place)
        rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return (
        "<h2>"
        + _("By neighbourhood")
        + "</h2>"
        + _table(head, _("neighbourhood (mean, 95 % interval)"), rows)
    )


def comparison_table(
    cmp: CompareResult, labels: Mapping[str, str], lang: str = DEFAULT_LANGUAGE
) -> str:
    """HTML table of paired differences against the baseline.

    Args:
        cmp: the comparison.
        labels: the label shown for each strategy (see :func:`strategy_labels`).
        lang: language of the text.
    """
    _ = gettext_for(lang)
    others = [s for s in cmp.runs if s != cmp.baseline]
    head = "".join(f"<th>{html.escape(labels[s])}</th>" for s in others)
    rows = []
    for metric, label, kind in differences(cmp):
        cells = []
        for s in others:
            stats = difference_stats(cmp, s, metric)
            cells.append("<td>" + _("n/a") + "</td>" if stats is None else cell(*stats, kind, lang))
        rows.append(f"<tr><td>{html.escape(_(label))}</td>{''.join(cells)}</tr>")
    title = _("Difference from the baseline ({baseline}), paired replicates").format(
        baseline=labels[cmp.baseline]
    )
    return (
        f"<h3>{html.escape(title)}</h3>"
        + _table(head, _("difference (mean, 95 % interval)"), rows)
        + frontier_sentence(cmp, labels, lang)
    )


#: The paired differences from the baseline: comparison metric, label, kind (:func:`fmt`).
DIFFERENCES = (
    ("diff_public_impact_pp", N_("public impact (percentage points)"), "num"),
    ("diff_reach_cumulative", N_("reach (share of parents)"), "pct"),
    ("diff_cost_pv", N_("costs (present value)"), "eur"),
    ("diff_npv", N_("net present value"), "eur"),
    ("p_better_impact", N_("chance of more impact"), "pct"),
    ("p_better_npv", N_("chance of a higher net present value"), "pct"),
)


def differences(cmp: CompareResult) -> list[tuple[str, str, str]]:
    """The rows of the differences table: :data:`DIFFERENCES` and the comparison's ICER."""
    icer = (
        N_("extra cost per prevented case-year (ICER, €)")
        if cmp.effect == "case_years_prevented_pv"
        else N_("extra cost per percentage point of impact (ICER, €)")
    )
    return [*DIFFERENCES, (icer_metric(cmp.effect), icer, "eur")]


def difference_stats(
    cmp: CompareResult, strategy: str, metric: str
) -> tuple[float, float, float] | None:
    """Mean and 95 % interval of a strategy's difference from the baseline.

    A chance and the ICER have no interval (NaN); None when the comparison has no value.
    """
    df = cmp.comparison
    sel = df[
        (df["scenario"] == strategy) & (df["metric"] == metric) & (df["versus"] == cmp.baseline)
    ]
    if sel.empty:
        return None
    r = sel.iloc[0]
    lo = float("nan") if metric.startswith(("p_", "icer")) else r["lo"]
    return r["mean"], lo, r["hi"]


#: What each place on the cost-effectiveness frontier means, in words.
FRONTIER_WORDS = {
    "efficient": N_("efficient (no other option, or mix of two, gives more for the money)"),
    "dominated": N_("dominated (another option costs no more and achieves at least as much)"),
    "extendedly dominated": N_("extendedly dominated (a mix of two other options would do better)"),
}


def frontier_sentence(
    cmp: CompareResult, labels: Mapping[str, str], lang: str = DEFAULT_LANGUAGE
) -> str:
    """One paragraph: each option's place on the cost-effectiveness frontier, in words."""
    _ = gettext_for(lang)
    frontier = cmp.frontier
    if "status" not in frontier.columns:
        return ""
    shown = {**labels, NO_PROGRAMME: _("no programme")}
    items = "; ".join(
        f"<b>{html.escape(shown.get(r['scenario'], words(str(r['scenario']))))}</b>: "
        f"{html.escape(_(FRONTIER_WORDS.get(r['status'], str(r['status']))))}"
        for _row, r in frontier.iterrows()
    )
    return (
        "<p>"
        + _("Costs against prevented problem case-years: {items}.").format(items=items)
        + "</p>"
    )


def stakeholder_section(runs: Mapping[str, RunResult], lang: str = DEFAULT_LANGUAGE) -> str:
    """Each stakeholder's costs, benefits and net position per strategy (HTML)."""
    _ = gettext_for(lang)

    def draw(stats: tuple[float, float, float], metric: str, strategy: str) -> str:
        return cell(*stats, "eur", lang)

    intro = _(
        "Present values over the horizon: the costs each party pays, the benefits it "
        "receives (prevented problem case-years and linked outcomes, valued), and the "
        "difference. A party that pays while others receive is the 'wrong pocket'."
    )
    head = "".join(f"<th>{html.escape(label)}</th>" for label in runs)
    rows = stakeholder_rows(runs, lang, draw)
    return f"<p>{intro}</p>" + _table(head, _("present value (mean, 95 % interval)"), rows)


def strategy_labels(scenarios: Mapping[str, Scenario]) -> dict[str, str]:
    """The label shown for each strategy: its ``strategy.name``, else its name in words.

    Two strategies with the same label are told apart by their scenario names in words.
    """
    out = {
        name: sc.strategy.name if sc.strategy.name != "strategy" else words(name)
        for name, sc in scenarios.items()
    }
    shared = {v for v in out.values() if list(out.values()).count(v) > 1}
    return {k: f"{v} ({words(k)})" if v in shared else v for k, v in out.items()}


def sources_table(scenario: Scenario, lang: str = DEFAULT_LANGUAGE) -> str:
    """HTML table of the scenario's ``sources``: value, amount, source or assumption, note.

    Assumptions come first: they are the numbers to replace with local data. Labels and
    units are translated; citations and notes are shown as the scenario file gives them.
    """
    _ = gettext_for(lang)
    entries = sorted(scenario.sources.items(), key=lambda kv: not kv[1].assumption)
    rows = []
    for path, src in entries:
        shown = value_label(scenario, path, lang)
        origin = "<b>" + _("assumption") + "</b>" if src.assumption else html.escape(src.citation)
        if src.assumption and src.citation:
            origin += f" ({html.escape(src.citation)})"
        rows.append(
            f'<tr><td class="text">{html.escape(shown.label)}</td>'
            f"<td>{html.escape(shown.value)}</td>"
            f'<td class="text">{origin}</td><td class="text">{html.escape(src.note)}</td></tr>'
        )
    if not rows:
        return "<p>" + _("This scenario file states no sources for its values.") + "</p>"
    head = "".join(
        f'<th class="text">{_(h)}</th>' if h != N_("amount") else f"<th>{_(h)}</th>"
        for h in (N_("value"), N_("amount"), N_("source"), N_("note"))
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def key_parameters(scenario: Scenario, lang: str = DEFAULT_LANGUAGE) -> str:
    """HTML table of each offered intervention's main parameters."""
    _ = gettext_for(lang)
    rows = []
    for iv in scenario.offered_interventions:
        costs = getattr(iv, "costs", None)
        monthly = getattr(costs, "per_participant_month_eur", None) if costs is not None else None
        half_life = iv.effect_half_life_months
        cells = [
            html.escape(shown_name(iv)),
            f"{number(iv.effect_size.mean, lang, 2)} ± {number(iv.effect_size.sd, lang, 2)}",
            number(iv.duration_months, lang, 1),
            number(iv.dropout_rate_per_month, lang, 2),
            _("none") if half_life is None else number(half_life, lang, 0),
            "" if monthly is None else money(monthly, lang, millions=True),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{_(h)}</th>"
        for h in (
            N_("programme"),
            N_("effect d (mean ± sd)"),
            N_("duration (months)"),
            N_("dropout (per month)"),
            N_("half-life (months)"),
            N_("cost per participant-month"),
        )
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def strategies(
    paths: Sequence[str | Path | RunDir],
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    progress: bool | None = None,
) -> tuple[dict[str, Any], CompareResult | None]:
    """The strategies of a report: run from scenario files, or read from run directories.

    Args:
        paths: scenario files, or run directories (paths or read with
            :func:`impactsim.rundir.load_run_dir`), one per strategy; not both kinds.
        replicates: replicates per strategy (scenario files only).
        seed: base seed (scenario files only).
        baseline: baseline strategy label for the comparison (default the first).
        progress: show progress bars.

    Returns:
        The runs by scenario name, and their comparison (with several).

    Raises:
        CompareError: both kinds given; ``replicates`` or ``seed`` with run directories;
            repeated scenario names; strategies that cannot be compared.
        impactsim.rundir.RunDirError: a run directory is refused.
    """
    dirs = [p for p in paths if isinstance(p, RunDir) or Path(p).is_dir()]
    if dirs and len(dirs) != len(paths):
        raise CompareError(["give scenario files or run directories, not both"])
    if dirs and (replicates is not None or seed is not None):
        raise CompareError(
            [
                "--replicates and --seed apply to scenario files; a run directory holds the "
                "replicates it was run with"
            ]
        )
    if dirs:
        read = [p if isinstance(p, RunDir) else load_run_dir(p) for p in dirs]
        loaded: list[tuple[Path, Any]] = [(r.path, r) for r in read]
    else:
        loaded = [(Path(p), load_scenario(Path(p))) for p in paths]  # type: ignore[arg-type]
    names = [_scenario(x).name for _, x in loaded]
    repeated = [
        f"{name} ({', '.join(str(f) for f, x in loaded if _scenario(x).name == name)})"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    if repeated:  # one would silently replace the other in the report
        raise CompareError(
            [f"strategies need distinct scenario names; repeated: {'; '.join(repeated)}"]
        )
    if dirs:
        runs: dict[str, Any] = {r.scenario.name: r for _, r in loaded}
        return runs, compare_runs(runs, baseline) if len(runs) > 1 else None
    scenarios = {sc.name: sc for _, sc in loaded}
    if len(scenarios) > 1:
        cmp = compare(
            scenarios, baseline=baseline, replicates=replicates, seed=seed, progress=progress
        )
        return dict(cmp.runs), cmp
    ((label, sc),) = scenarios.items()
    return {label: run(sc, replicates=replicates, seed=seed, progress=progress)}, None


def _scenario(x: Any) -> Scenario:
    return x if isinstance(x, Scenario) else x.scenario


def build_report(
    paths: Sequence[str | Path | RunDir],
    out: str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    progress: bool | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> Path:
    """Run the strategies, or read their run directories, and write one HTML report.

    Args:
        paths: scenario files (one per strategy); with several, they are compared with common
            random numbers (see :func:`impactsim.compare`). Or run directories, read without
            simulating again (several: paired runs, as ``impactsim compare`` writes them).
        out: HTML file to write.
        replicates: replicates per strategy (default: the first scenario's).
        seed: base seed (default: the first scenario's).
        baseline: baseline strategy label for the comparison (default the first).
        progress: show progress bars.
        lang: language of the report (``en`` or ``nl``).

    Returns:
        The written path.
    """
    check_language(lang)
    runs, cmp = strategies(paths, replicates, seed, baseline, progress)
    return write_text(Path(out), render_report(runs, cmp, lang))


def render_report(
    runs: Mapping[str, RunResult], cmp: CompareResult | None, lang: str = DEFAULT_LANGUAGE
) -> str:
    """The report's HTML for finished runs (keyed by scenario name) and their comparison."""
    _ = gettext_for(lang)
    labels = strategy_labels({k: r.scenario for k, r in runs.items()})
    shown = {labels[k]: r for k, r in runs.items()}
    first = next(iter(runs.values()))
    sc = first.scenario
    title = _("impactsim report: {strategies}").format(strategies=", ".join(shown))
    meta = _(
        "{families} families, {months} months, {replicates} replicates, seed {seed}; "
        "impactsim {version}, {date}. Outcome: {outcome}."
    ).format(
        families=number(sc.population.size, lang, 0),
        months=sc.simulation.months,
        replicates=first.replicates,
        seed=first.seed,
        version=__version__,
        date=dt.date.today().isoformat(),
        outcome=html.escape(sc.outcome.name),
    )
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{meta}</p>']
    body.append("<h2>" + _("Summary") + "</h2>")
    body += [f'<p class="summary">{plain_summary(k, r, lang)}</p>' for k, r in shown.items()]
    body.append(
        "<p>"
        + _(
            "Public impact is the fall in the share of parents above the problem cut-off, "
            "compared with the same families without the programmes (percentage points). "
            "Intervals are the 2.5–97.5 % range across Monte Carlo replicates and include the "
            "uncertainty in effect sizes and costs."
        )
        + "</p>"
    )
    body += ["<h2>" + _("Comparison") + "</h2>", headline_table(shown, lang)]
    if cmp is not None:
        from impactsim.voi import voi_section

        body.append(comparison_table(cmp, labels, lang))
        body.append(voi_section(cmp, lang, figure=_img, labels=labels))
    body.append(neighbourhood_table(shown, lang))
    body += ["<h2>" + _("Who pays and who receives") + "</h2>", stakeholder_section(shown, lang)]
    body += [
        "<h2>" + _("Figures") + "</h2>",
        f'<div class="figs">{"".join(_figures(shown, lang))}</div>',
    ]
    body.append("<h2>" + _("Where the numbers come from") + "</h2>")
    body.append(
        "<p>"
        + _(
            "Each value the scenario files document, with its source. Values marked "
            "<b>assumption</b> are not taken from a source: replace them with local data "
            "before drawing conclusions."
        )
        + "</p>"
    )
    for name, res in runs.items():
        body.append(f"<h3>{html.escape(labels[name])}</h3>{key_parameters(res.scenario, lang)}")
        body.append(sources_table(res.scenario, lang))
    body.append("<h2>" + _("Scenario details") + "</h2>")
    for label, res in shown.items():
        what = _("{strategy}: fully resolved scenario").format(strategy=label)
        body.append(
            f"<details><summary>{html.escape(what)}</summary>"
            f"<pre>{html.escape(dump_scenario(res.scenario))}</pre></details>"
        )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main>{LOAD_CHECK}</body></html>\n"
    )


def _figures(runs: Mapping[str, RunResult], lang: str) -> list[str]:
    """The report's figures, their texts and captions in the report's language."""
    _ = gettext_for(lang)
    figs = []
    if len(runs) > 1:
        figs.append(
            _img(
                plots.public_impact_comparison(dict(runs), lang=lang),
                _("Public impact by strategy (mean, 95 % interval)"),
            )
        )
        figs.append(
            _img(
                plots.public_impact_comparison(dict(runs), metric="reach_cumulative", lang=lang),
                _("Reach by strategy"),
            )
        )
    if any(len(r.scenario.outcome_list) > 1 for r in runs.values()):
        figs.append(
            _img(
                plots.impact_breadth(dict(runs), lang=lang),
                _("Breadth: public impact per outcome, by strategy (mean, 95 % interval)"),
            )
        )
    first = next(iter(runs.values()))
    if any(_mean(r.summary, "cost_pv") > 0 for r in runs.values()):
        wtp = first.scenario.economics.willingness_to_pay_eur_per_case_year
        figs.append(
            _img(
                plots.cost_effectiveness_plane(dict(runs), wtp_eur=wtp, lang=lang),
                _("Costs against prevented case-years, per replicate"),
            )
        )
        figs.append(
            _img(
                plots.ceac(dict(runs), lang=lang),
                _("Chance each strategy is cost-effective versus no programme"),
            )
        )
        figs.append(
            _img(
                plots.roi_distribution(dict(runs), lang=lang),
                _("Return on investment across replicates"),
            )
        )
    for label, res in runs.items():
        for draw, caption in (
            (plots.adoption_curves, N_("{strategy}: adoption over time by segment")),
            (plots.impact_funnel, N_("{strategy}: impact funnel")),
            (plots.differential_impact, N_("{strategy}: differential impact by segment")),
        ):
            figs.append(_img(draw(res, lang=lang), _(caption).format(strategy=label)))
        if PLACE_COLUMN in res.summary.columns:
            caption = _("{strategy}: reach and public impact by neighbourhood")
            if plots.has_place_costs(res.summary):
                caption = _("{strategy}: reach, public impact and costs by neighbourhood")
            figs.append(
                _img(plots.by_neighbourhood(res, lang=lang), caption.format(strategy=label))
            )
    return figs
