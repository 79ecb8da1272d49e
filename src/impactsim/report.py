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

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from impactsim import plots
from impactsim._version import __version__
from impactsim.compare import NO_PROGRAMME, CompareError, CompareResult, compare, icer_metric
from impactsim.io import write_text
from impactsim.loading import dump_scenario, load_scenario
from impactsim.runner import RunResult, run
from impactsim.scenario import Scenario
from impactsim.scenario.labels import value_label, words
from impactsim.tables import eur, interval, select

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


def plain_summary(label: str, result: RunResult) -> str:
    """One plain-language paragraph for a strategy (reach, cases, returns, chance)."""
    s = result.summary
    years = result.scenario.simulation.months / 12
    reach = _mean(s, "reach_cumulative")
    per_year = _mean(s, "case_years_prevented") / years if years > 0 else float("nan")
    bcr = _mean(s, "bcr")
    p_gain = _mean(s, "p_benefit_exceeds_cost")
    impact = _mean(s, "public_impact_pp")
    horizon = f"{years:g} year{'s' if years != 1 else ''}"
    parts = [
        f"<b>{html.escape(label)}</b> reaches {100 * reach:.0f} % of parents in {horizon} "
        f"and prevents about {per_year:,.0f} problem cases a year "
        f"(prevalence {impact:.1f} percentage points lower at the end than without the programmes)."
    ]
    if bcr == bcr and _mean(s, "cost_pv") > 0:
        parts.append(
            f"It returns €{bcr:.2f} per euro spent; the chance that "
            f"benefits exceed costs is {100 * p_gain:.0f} %."
        )
    return " ".join(parts)


HEADLINE = [
    ("reach_cumulative", "reach (any programme)", "pct"),
    ("public_impact_pp", "public impact (pp)", "num"),
    ("differential_impact_gap_pp", "impact gap least − most advantaged (pp)", "num"),
    ("case_years_prevented", "problem case-years prevented", "int"),
    ("cost_pv", "costs (present value)", "eur"),
    ("benefit_pv", "benefits (present value)", "eur"),
    ("npv", "net present value", "eur"),
    ("bcr", "benefit-cost ratio", "num"),
    ("roi", "ROI (B − C) / C", "num"),
    ("p_benefit_exceeds_cost", "chance benefits exceed costs", "pct"),
]


def _fmt(x: float, kind: str) -> str:
    if x != x:
        return "n/a"
    return {
        "pct": f"{100 * x:.1f} %",
        "num": f"{x:.2f}",
        "int": f"{x:,.0f}",
        "eur": eur(x, millions=True),
    }[kind]


def headline_table(runs: dict[str, RunResult]) -> str:
    """HTML table: rows = metrics (mean and 95 % interval), columns = strategies."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in runs)
    rows = []
    for metric, label, kind in HEADLINE:
        cells = []
        for res in runs.values():
            iv = interval(select(res.summary, metric)["value"])
            m, lo, hi = iv["mean"], iv["lo"], iv["hi"]
            if metric.startswith("p_"):
                cells.append(f"<td>{_fmt(m, kind)}</td>")
            else:
                cells.append(
                    f"<td>{_fmt(m, kind)}<br><small>[{_fmt(lo, kind)}, {_fmt(hi, kind)}]</small></td>"
                )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><tr><th>metric (mean, 95 % interval)</th>{head}</tr>{"".join(rows)}</table></div>'


def comparison_table(cmp: CompareResult, labels: Mapping[str, str]) -> str:
    """HTML table of paired differences against the baseline.

    Args:
        cmp: the comparison.
        labels: the label shown for each strategy (see :func:`strategy_labels`).
    """
    df = cmp.comparison
    per = "case-year" if cmp.effect == "case_years_prevented_pv" else "percentage point"
    want = [
        ("diff_public_impact_pp", "public impact (percentage points)", "num"),
        ("diff_reach_cumulative", "reach (share of parents)", "pct"),
        ("diff_cost_pv", "costs (present value)", "eur"),
        ("diff_npv", "net present value", "eur"),
        ("p_better_impact", "chance of more impact", "pct"),
        ("p_better_npv", "chance of a higher net present value", "pct"),
        (icer_metric(cmp.effect), f"extra cost per prevented {per} (ICER, €)", "eur"),
    ]
    others = [s for s in cmp.runs if s != cmp.baseline]
    head = "".join(f"<th>{html.escape(labels[s])}</th>" for s in others)
    rows = []
    for metric, label, kind in want:
        cells = []
        for s in others:
            sel = df[
                (df["scenario"] == s) & (df["metric"] == metric) & (df["versus"] == cmp.baseline)
            ]
            if sel.empty:
                cells.append("<td>n/a</td>")
                continue
            r = sel.iloc[0]
            if metric.startswith(("p_", "icer")) or r["lo"] != r["lo"]:
                cells.append(f"<td>{_fmt(r['mean'], kind)}</td>")
            else:
                cells.append(
                    f"<td>{_fmt(r['mean'], kind)}<br><small>[{_fmt(r['lo'], kind)}, {_fmt(r['hi'], kind)}]</small></td>"
                )
        rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    return (
        f"<h3>Difference from the baseline ({html.escape(labels[cmp.baseline])}), paired "
        "replicates</h3>"
        f'<div class="scroll"><table><tr><th>difference (mean, 95 % interval)</th>{head}</tr>{"".join(rows)}</table></div>'
        + frontier_sentence(cmp, labels)
    )


#: What each place on the cost-effectiveness frontier means, in words.
FRONTIER_WORDS = {
    "efficient": "efficient (no other option, or mix of two, gives more for the money)",
    "dominated": "dominated (another option costs no more and achieves at least as much)",
    "extendedly dominated": "extendedly dominated (a mix of two other options would do better)",
}


def frontier_sentence(cmp: CompareResult, labels: Mapping[str, str]) -> str:
    """One paragraph: each option's place on the cost-effectiveness frontier, in words."""
    frontier = cmp.frontier
    if "status" not in frontier.columns:
        return ""
    shown = {**labels, NO_PROGRAMME: "no programme"}
    items = "; ".join(
        f"<b>{html.escape(shown.get(r['scenario'], words(str(r['scenario']))))}</b>: "
        f"{html.escape(FRONTIER_WORDS.get(r['status'], str(r['status'])))}"
        for _, r in frontier.iterrows()
    )
    return f"<p>Costs against prevented problem case-years: {items}.</p>"


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


def sources_table(scenario: Scenario) -> str:
    """HTML table of the scenario's ``sources``: value, amount, source or assumption, note.

    Assumptions come first: they are the numbers to replace with local data.
    """
    entries = sorted(scenario.sources.items(), key=lambda kv: not kv[1].assumption)
    rows = []
    for path, src in entries:
        shown = value_label(scenario, path)
        origin = "<b>assumption</b>" if src.assumption else html.escape(src.citation)
        if src.assumption and src.citation:
            origin += f" ({html.escape(src.citation)})"
        rows.append(
            f'<tr><td class="text">{html.escape(shown.label)}</td>'
            f"<td>{html.escape(shown.value)}</td>"
            f'<td class="text">{origin}</td><td class="text">{html.escape(src.note)}</td></tr>'
        )
    if not rows:
        return "<p>This scenario file states no sources for its values.</p>"
    return (
        '<div class="scroll"><table><tr><th class="text">value</th><th>amount</th>'
        '<th class="text">source</th><th class="text">note</th></tr>'
        + "".join(rows)
        + "</table></div>"
    )


def key_parameters(scenario: Scenario) -> str:
    """HTML table of each offered intervention's main parameters."""
    rows = []
    for iv in scenario.offered_interventions:
        costs = getattr(iv, "costs", None)
        monthly = getattr(costs, "per_participant_month_eur", None) if costs is not None else None
        rows.append(
            "<tr>"
            f"<td>{html.escape(iv.label or iv.name)}</td>"
            f"<td>{iv.effect_size.mean:.2f} ± {iv.effect_size.sd:.2f}</td>"
            f"<td>{iv.duration_months:g}</td>"
            f"<td>{iv.dropout_rate_per_month:g}</td>"
            f"<td>{'none' if iv.effect_half_life_months is None else f'{iv.effect_half_life_months:g}'}</td>"
            f"<td>{'' if monthly is None else eur(monthly, millions=True)}</td>"
            "</tr>"
        )
    return (
        '<div class="scroll"><table><tr><th>programme</th><th>effect d (mean ± sd)</th><th>duration (months)</th>'
        "<th>dropout (per month)</th><th>half-life (months)</th><th>cost per participant-month</th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


def build_report(
    paths: Sequence[str | Path],
    out: str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    progress: bool | None = None,
) -> Path:
    """Run the strategies and write one self-contained HTML report.

    Args:
        paths: scenario files (one per strategy); with several, they are compared with common
            random numbers (see :func:`impactsim.compare`).
        out: HTML file to write.
        replicates: replicates per strategy (default: the first scenario's).
        seed: base seed (default: the first scenario's).
        baseline: baseline strategy label for the comparison (default the first).
        progress: show progress bars.

    Returns:
        The written path.
    """
    files = [Path(p) for p in paths]
    loaded = [(f, load_scenario(f)) for f in files]
    names = [sc.name for _, sc in loaded]
    repeated = [
        f"{name} ({', '.join(str(f) for f, sc in loaded if sc.name == name)})"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    if repeated:  # one would silently replace the other in the report
        raise CompareError(
            [f"strategies need distinct scenario names; repeated: {'; '.join(repeated)}"]
        )
    scenarios = {sc.name: (f, sc) for f, sc in loaded}
    cmp: CompareResult | None = None
    if len(scenarios) > 1:
        cmp = compare(
            {k: v[1] for k, v in scenarios.items()},
            baseline=baseline,
            replicates=replicates,
            seed=seed,
            progress=progress,
        )
        runs = cmp.runs
    else:
        ((label, (_, sc)),) = scenarios.items()
        runs = {label: run(sc, replicates=replicates, seed=seed, progress=progress)}
    labels = strategy_labels({k: v[1] for k, v in scenarios.items()})
    runs = {labels[k]: r for k, r in runs.items()}  # shown by label from here on
    first = next(iter(runs.values()))
    title = "impactsim report: " + ", ".join(runs)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{first.scenario.population.size:,} families, '
        f"{first.scenario.simulation.months} months, {first.replicates} replicates, seed {first.seed}; "
        f"impactsim {__version__}, {dt.date.today().isoformat()}. Outcome: "
        f"{html.escape(first.scenario.outcome.name)}.</p>",
        "<h2>Summary</h2>",
    ]
    body += [f'<p class="summary">{plain_summary(label, res)}</p>' for label, res in runs.items()]
    body.append(
        "<p>Public impact is the fall in the share of parents above the problem cut-off, compared with "
        "the same families without the programmes (percentage points). Intervals are the 2.5–97.5 % "
        "range across Monte Carlo replicates and include the uncertainty in effect sizes and costs.</p>"
    )
    body += ["<h2>Comparison</h2>", headline_table(runs)]
    if cmp is not None:
        body.append(comparison_table(cmp, labels))
    figs = []
    if len(runs) > 1:
        figs.append(
            _img(
                plots.public_impact_comparison(runs),
                "Public impact by strategy (mean, 95 % interval)",
            )
        )
        figs.append(
            _img(
                plots.public_impact_comparison(runs, metric="reach_cumulative"), "Reach by strategy"
            )
        )
    has_costs = any(_mean(r.summary, "cost_pv") > 0 for r in runs.values())
    if has_costs:
        wtp = first.scenario.economics.willingness_to_pay_eur_per_case_year
        figs.append(
            _img(
                plots.cost_effectiveness_plane(runs, wtp_eur=wtp),
                "Costs against prevented case-years, per replicate",
            )
        )
        figs.append(
            _img(
                plots.ceac({k: r for k, r in runs.items()}),
                "Chance each strategy is cost-effective versus no programme",
            )
        )
        figs.append(_img(plots.roi_distribution(runs), "Return on investment across replicates"))
    for label, res in runs.items():
        figs.append(_img(plots.adoption_curves(res), f"{label}: adoption over time by segment"))
        figs.append(_img(plots.impact_funnel(res), f"{label}: impact funnel"))
        figs.append(
            _img(plots.differential_impact(res), f"{label}: differential impact by segment")
        )
    body += ["<h2>Figures</h2>", f'<div class="figs">{"".join(figs)}</div>']
    body.append("<h2>Where the numbers come from</h2>")
    body.append(
        "<p>Each value the scenario files document, with its source. Values marked "
        "<b>assumption</b> are not taken from a source: replace them with local data before "
        "drawing conclusions.</p>"
    )
    for name, (_, sc) in scenarios.items():
        body.append(f"<h3>{html.escape(labels[name])}</h3>{key_parameters(sc)}")
        body.append(sources_table(sc))
    body.append("<h2>Scenario details</h2>")
    for label, res in runs.items():
        body.append(
            f"<details><summary>{html.escape(label)}: fully resolved scenario</summary>"
            f"<pre>{html.escape(dump_scenario(res.scenario))}</pre></details>"
        )
    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main>{LOAD_CHECK}</body></html>\n"
    )
    target = Path(out)
    return write_text(target, doc)
