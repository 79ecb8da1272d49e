"""An optimisation in plain language: the summary, and the section of the HTML report."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from impactsim.i18n import gettext_for, money, number, percent
from impactsim.optimize.finalists import Finalist, summary_row
from impactsim.optimize.words import metric_label, metric_value, mix_words

if TYPE_CHECKING:
    from impactsim.optimize.result import OptimizationResult, Stage


def _budget_text(result: OptimizationResult, amount: float, lang: str) -> str:
    _ = gettext_for(lang)
    if result.opt.spec.budget.per_year_eur is not None:
        return _("{amount} a year").format(amount=money(amount, lang, millions=True))
    return money(amount, lang, millions=True)


def _estimate(result: OptimizationResult, f: Finalist, lang: str) -> str:
    metric = result.opt.spec.objectives[0]
    row = summary_row(f, metric, result.info["finalist_seed"])
    return "{mean} [{lo} – {hi}]".format(
        mean=metric_value(metric, row["mean"], lang),
        lo=metric_value(metric, row["ci_low"], lang),
        hi=metric_value(metric, row["ci_high"], lang),
    )


def _effect_sentence(result: OptimizationResult, stage: Stage, best: Finalist, lang: str) -> str:
    _ = gettext_for(lang)
    metric = result.opt.spec.objectives[0]
    cost = money(best.evaluation.mean(stage.limits.metric), lang, millions=True)
    if metric == "case_years_prevented":
        return _(
            "It prevents {estimate} (95 % interval of the mean), at a cost of {cost} "
            "(present value over the horizon)."
        ).format(estimate=_estimate(result, best, lang), cost=cost)
    case_years = best.evaluation.mean("case_years_prevented")
    return _(
        "It prevents {case_years} and its {objective} is {estimate} (95 % interval of the "
        "mean), at a cost of {cost} (present value over the horizon)."
    ).format(
        case_years=metric_value("case_years_prevented", case_years, lang),
        objective=metric_label(metric, lang),
        estimate=_estimate(result, best, lang),
        cost=cost,
    )


def stage_sentences(result: OptimizationResult, stage: Stage, lang: str) -> list[str]:
    """What a stage found, in plain sentences."""
    _ = gettext_for(lang)
    opt = result.opt
    budget = _budget_text(result, stage.budget, lang)
    best = stage.best
    if best is None:
        costs = [r.evaluation.mean(stage.limits.metric) for r in stage.trials if r.evaluation.ok]
        cheapest = money(min(costs), lang, millions=True) if costs else _("unknown")
        return [
            _(
                "No mix that was searched fits within {budget}: the cheapest mix evaluated "
                "costs {cheapest} (present value). Raise the budget, or allow smaller or "
                "fewer programmes."
            ).format(budget=budget, cheapest=cheapest)
        ]
    metric = opt.spec.objectives[0]
    out = [
        _("With {budget} the best mix found is: {mix}.").format(
            budget=budget, mix="; ".join(mix_words(opt, best.values, lang))
        ),
        _effect_sentence(result, stage, best, lang),
        _(
            "In the search it was estimated at {search}; on {n} fresh replicates it is {fresh}. "
            "The recommendation uses the fresh numbers, because the best of many noisy "
            "estimates is optimistic by chance."
        ).format(
            search=metric_value(metric, best.screening, lang),
            n=opt.spec.finalists.replicates,
            fresh=metric_value(metric, best.evaluation.mean(metric), lang),
        ),
        _("The chance that it is the best of the {k} finalists is {p}.").format(
            k=len(stage.finalists), p=percent(best.p_best, lang, 0)
        ),
    ]
    runner = [f for f in stage.finalists if f.feasible and f is not best]
    if runner:
        r = max(runner, key=lambda f: f.p_best)
        out.append(
            _("The runner-up ({mix}) gives {estimate} at a cost of {cost}.").format(
                mix="; ".join(mix_words(opt, r.values, lang)),
                estimate=_estimate(result, r, lang),
                cost=money(r.evaluation.mean(stage.limits.metric), lang, millions=True),
            )
        )
    return out


def _html_table(head: list[str], rows: list[list[str]], text_column: int = 1) -> str:
    """A table: escaped headings, cells as given (HTML), one column of text left-aligned."""
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{c}</td>' if j == text_column else f"<td>{c}</td>"
            for j, c in enumerate(cells)
        )
        + "</tr>"
        for cells in rows
    )
    return f'<div class="scroll"><table><tr>{header}</tr>{body}</table></div>'


def _mix_cell(result: OptimizationResult, values: dict, lang: str) -> str:
    return "<br>".join(html.escape(w) for w in mix_words(result.opt, values, lang))


def _finalists_table(result: OptimizationResult, stage: Stage, lang: str) -> str:
    _ = gettext_for(lang)
    metric = result.opt.spec.objectives[0]
    head = [
        _("rank"),
        _("mix"),
        metric_label(metric, lang),
        _("cost (present value)"),
        _("chance within budget"),
        _("chance best"),
    ]
    rows = []
    for i, f in enumerate(stage.finalists, start=1):
        best = _("not within the limits") if not f.feasible else percent(f.p_best, lang, 0)
        rows.append(
            [
                str(i),
                _mix_cell(result, f.values, lang),
                html.escape(_estimate(result, f, lang)),
                money(f.evaluation.mean(stage.limits.metric), lang, millions=True),
                percent(f.p_within_budget, lang, 0),
                best,
            ]
        )
    return _html_table(head, rows)


def _curve_table(result: OptimizationResult, lang: str) -> str:
    _ = gettext_for(lang)
    metric = result.opt.spec.objectives[0]
    head = [
        _("budget"),
        _("best mix found"),
        metric_label(metric, lang),
        _("problem case-years prevented"),
    ]
    rows = []
    for st in sorted(result.curve, key=lambda s: s.budget):
        if st.best is None:
            rows.append([_budget_text(result, st.budget, lang), _("nothing fits"), "", ""])
        else:
            rows.append(
                [
                    _budget_text(result, st.budget, lang),
                    _mix_cell(result, st.best.values, lang),
                    html.escape(_estimate(result, st.best, lang)),
                    number(st.best.evaluation.mean("case_years_prevented"), lang, 0),
                ]
            )
    return _html_table(head, rows)


def optimization_section(result: OptimizationResult, lang: str = "en") -> str:
    """The report's section on an optimisation (HTML)."""
    from impactsim.optimize.plots import figures
    from impactsim.report import _img

    _ = gettext_for(lang)
    body = ["<h2>" + html.escape(_("The best mix for the budget")) + "</h2>"]
    body.append(
        '<p class="summary">'
        + html.escape(" ".join(stage_sentences(result, result.main, lang)))
        + "</p>"
    )
    body.append(
        "<p>"
        + html.escape(
            _(
                "{n} mixes were evaluated with {r} replicates each (the same random numbers for "
                "every mix); the best {k} were run again with {f} fresh replicates."
            ).format(
                n=len(result.main.trials),
                r=result.opt.spec.replicates,
                k=len(result.main.finalists),
                f=result.opt.spec.finalists.replicates,
            )
        )
        + "</p>"
    )
    if result.main.finalists:
        body += [
            "<h3>" + html.escape(_("Finalists")) + "</h3>",
            _finalists_table(result, result.main, lang),
        ]
    if result.curve:
        body += [
            "<h3>" + html.escape(_("What each budget buys")) + "</h3>",
            _curve_table(result, lang),
        ]
    if result.comparison is not None:
        from impactsim.voi import voi_section

        labels = {
            name: _("finalist {rank}").format(rank=name.split("-")[1])
            for name in result.comparison.runs
        }
        body.append(voi_section(result.comparison, lang, figure=_img, labels=labels))
    captions = {
        "convergence": _("Search progress"),
        "pareto": _("Candidates: cost and effect"),
        "curve": _("What each budget buys"),
    }
    figs = "".join(_img(fig, captions[name]) for name, fig in figures(result, lang).items())
    body.append(f'<div class="figs">{figs}</div>')
    return "".join(body)


def render(result: OptimizationResult, lang: str = "en") -> str:
    """A self-contained HTML page with the optimisation's section."""
    from impactsim.report import CSS, LOAD_CHECK

    _ = gettext_for(lang)
    title = html.escape(_("impactsim optimisation: {name}").format(name=result.opt.name))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head>"
        f"<body><main><h1>{title}</h1>{optimization_section(result, lang)}</main>"
        f"{LOAD_CHECK}</body></html>\n"
    )


def summary_markdown(result: OptimizationResult, lang: str = "en") -> str:
    """A short plain-language summary (Markdown)."""
    _ = gettext_for(lang)
    title = _("impactsim optimisation: {name}").format(name=result.opt.name)
    lines = [f"# {title}", ""]
    lines += stage_sentences(result, result.main, lang)
    for st in sorted(result.curve, key=lambda s: s.budget):
        lines += [
            "",
            f"## {_budget_text(result, st.budget, lang)}",
            *stage_sentences(result, st, lang),
        ]
    return "\n".join(lines) + "\n"
