"""Summary tables of a run's economics: the acceptability curve and the WSIPP layout.

Pure functions of a run's summary table (the rows of :func:`impactsim.economics.economics_rows`);
formulas in ``docs/economics.md`` section 6.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from impactsim.scenario import Scenario
from impactsim.tables import ALL, interval_table, replicate_values, select


def ceac_table(summary: pd.DataFrame, wtp_grid: Sequence[float]) -> pd.DataFrame:
    """Cost-effectiveness acceptability curve against no programme.

    For each willingness to pay λ: ``NMB_r = λ · case_years_prevented_pv_r - cost_pv_r`` and
    ``p_cost_effective = share of replicates with NMB_r > 0``.

    Args:
        summary: a run's summary table (with ``cost_pv`` and ``case_years_prevented_pv``).
        wtp_grid: willingness-to-pay values (euros per prevented case-year).

    Returns:
        One row per (scenario, λ): ``wtp_eur_per_case_year``, ``p_cost_effective``,
        ``mean_nmb`` (euros), ``replicates``.
    """
    out = []
    for scenario, df in summary.groupby("scenario", observed=True):
        cost = replicate_values(df, "cost_pv")
        eff = replicate_values(df, "case_years_prevented_pv").reindex(cost.index)
        for lam in sorted(set(float(x) for x in wtp_grid)):
            nmb = lam * eff - cost
            out.append(
                {
                    "scenario": scenario,
                    "wtp_eur_per_case_year": lam,
                    "p_cost_effective": float((nmb > 0).mean()),
                    "mean_nmb": float(nmb.mean()),
                    "replicates": int(nmb.size),
                }
            )
    return pd.DataFrame(out)


def wsipp_table(summary: pd.DataFrame, scenario: Scenario, level: float = 0.95) -> pd.DataFrame:
    """Per-participant benefit-cost summary in the layout of WSIPP's benefit-cost results.

    Rows: benefits per participant by stakeholder, total benefits, costs, benefits minus
    costs (net present value), benefit-cost ratio, return on investment and the chance
    that benefits exceed costs, each with its mean and percentile interval over replicates.

    Args:
        summary: a run's summary table.
        scenario: the scenario (for its stakeholders and price year).
        level: central interval (0.95 gives 2.5-97.5 percentiles).

    Returns:
        DataFrame with columns ``scenario, item, stakeholder, unit, mean, lo, hi``.
    """
    price = scenario.economics.price_year
    eur = f"euros per participant ({price} prices, present value)"
    spec_rows: list[tuple[str, str, str, str]] = [
        ("benefits", sh, f"benefit_per_participant_{sh}", eur)
        for sh in scenario.economics.all_stakeholders
    ]
    spec_rows += [
        ("total benefits", ALL, "benefit_per_participant", eur),
        ("costs", ALL, "cost_per_participant", eur),
        ("benefits minus costs (net present value)", ALL, "net_benefit_per_participant", eur),
        ("benefit to cost ratio", ALL, "bcr", "ratio"),
        ("return on investment (B - C) / C", ALL, "roi", "ratio"),
        ("chance benefits will exceed costs", ALL, "p_benefit_exceeds_cost", "probability"),
    ]
    totals = select(interval_table(summary, level=level))
    out = []
    for sc_name, df in totals.groupby("scenario", observed=True):
        by_metric = df.set_index("metric")
        for item, sh, metric, unit in spec_rows:
            if metric not in by_metric.index:
                continue
            row = by_metric.loc[metric]
            prob = metric == "p_benefit_exceeds_cost"
            out.append(
                {
                    "scenario": sc_name,
                    "item": item,
                    "stakeholder": sh,
                    "metric": metric,
                    "unit": unit,
                    "mean": float(row["mean"]),
                    "lo": math.nan if prob else float(row["lo"]),
                    "hi": math.nan if prob else float(row["hi"]),
                }
            )
    return pd.DataFrame(out)
