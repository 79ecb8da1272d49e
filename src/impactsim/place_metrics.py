"""Results by neighbourhood: the tidy tables of a scenario with neighbourhoods.

The engine records its counts per cell (neighbourhood, segment;
:mod:`impactsim.engine.places`). The municipality's rows (``neighbourhood`` ``all``) are
the metrics of the counts added up over the neighbourhoods, cell by segment; the rows of
neighbourhood ``h`` are the same metrics of its own cells alone, so each neighbourhood
gets its reach, prevalence, public impact and the differential impact between its
segments, and its participant months (:data:`PLACE_METRICS`). Metrics of organisations
and of the whole run (use, effectiveness, realized adopter categories) are given for the
municipality only; the economics by neighbourhood are :mod:`impactsim.place_economics`'s.
``neighbourhood_impact_gap_pp`` is the public impact of the neighbourhood with the highest
impact minus that of the one with the lowest.

Without neighbourhoods the tables are :func:`impactsim.metrics.summarise`'s, unchanged
and without a ``neighbourhood`` column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from impactsim.engine.simulate import Recording
from impactsim.engine.spec import ModelSpec
from impactsim.metrics import summarise
from impactsim.tables import ALL, PLACE_COLUMN

#: Recording fields whose last axis runs over cells.
CELL_FIELDS = (
    "n",
    "prev",
    "prev_cf",
    "realized",
    "gain_sum",
    "ever",
    "completed",
    "dropped",
    "enrolled",
    "waiting",
    "gave_up",
    "any_ever",
    "any_ever_cat",
    "any_ever_channel",
    "indirect",
    "n_cat",
    "enrol_new",
    "complete_new",
    "dropout_new",
    "gaveup_new",
    "x_prev_cf",
    "x_prev",
    "x_realized",
    "x_gain_sum",
    "participant_months",
)

#: Metrics given per neighbourhood: those of the families' own counts.
PLACE_METRICS = frozenset(
    {
        "families",
        "reach_direct",
        "reach_cumulative",
        "reach_by_channel",
        "reach_indirect",
        "enrolments",
        "completions",
        "dropouts",
        "gave_up_waiting",
        "waiting",
        "enrolled",
        "completion_rate",
        "participant_months",
        "prevalence",
        "prevalence_counterfactual",
        "public_impact_pp",
        "cases_prevented",
        "realized_effect_share",
        "mean_gain_sd",
        "differential_impact_gap_pp",
        "differential_impact_ratio",
    }
)

#: Between neighbourhoods: highest minus lowest public impact (percentage points).
GAP_METRIC = "neighbourhood_impact_gap_pp"


def by_segment(rec: Recording, spec: ModelSpec) -> Recording:
    """The recording with its cells added up by segment (the municipality's counts)."""
    n_seg, n_h = spec.n_segments, spec.n_cells // spec.n_segments
    return dataclasses.replace(
        rec,
        **{
            # explicit sizes: a one-outcome scenario's further-outcome arrays are empty
            f: getattr(rec, f).reshape(*getattr(rec, f).shape[:-1], n_h, n_seg).sum(axis=-2)
            for f in CELL_FIELDS
        },
    )


def in_neighbourhood(rec: Recording, spec: ModelSpec, h: int) -> Recording:
    """The recording of neighbourhood ``h``'s cells alone (one per segment)."""
    cells = slice(h * spec.n_segments, (h + 1) * spec.n_segments)
    return dataclasses.replace(rec, **{f: getattr(rec, f)[..., cells] for f in CELL_FIELDS})


def segment_view(spec: ModelSpec) -> ModelSpec:
    """The spec with its per-cell target and ranks cut to one neighbourhood's (per segment)."""
    n_seg = spec.n_segments
    return dataclasses.replace(spec, target=spec.target[:n_seg], seg_rank=spec.seg_rank[:n_seg])


def summarise_places(
    recordings: Sequence[Recording], spec: ModelSpec, scenario: str, replicates: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary and time series with a ``neighbourhood`` column (see the module docstring).

    Args:
        recordings: one recording per replicate (per cell).
        spec: the compiled scenario.
        scenario: scenario name.
        replicates: replicate numbers matching ``recordings``.

    Returns:
        ``(summary, timeseries)`` as :func:`impactsim.metrics.summarise`, plus the rows of
        each neighbourhood when the scenario has neighbourhoods.
    """
    if not spec.neighbourhood_names:
        return summarise(recordings, spec, scenario, replicates)
    view = segment_view(spec)
    summary, series = summarise(
        [by_segment(r, spec) for r in recordings], view, scenario, replicates
    )
    summaries, serieses = [placed(summary, ALL)], [placed(series, ALL)]
    for h, name in enumerate(spec.neighbourhood_names):
        part = [in_neighbourhood(r, spec, h) for r in recordings]
        s_h, t_h = summarise(part, view, scenario, replicates)
        summaries.append(placed(s_h[s_h["metric"].isin(PLACE_METRICS)], name))
        serieses.append(placed(t_h[t_h["metric"].isin(PLACE_METRICS)], name))
    summaries.append(_impact_gap(summaries[1:]))
    return categorical(pd.concat(summaries, ignore_index=True)), categorical(
        pd.concat(serieses, ignore_index=True)
    )


def placed_totals(rows: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Rows for the whole municipality (economics), labelled as ``like``'s rows are.

    With ``neighbourhood`` ``all`` when ``like`` has that column, else unchanged.
    """
    return placed(rows, ALL) if PLACE_COLUMN in like.columns else rows


def categorical(df: pd.DataFrame) -> pd.DataFrame:
    """The neighbourhood column as categorical labels, like the other label columns."""
    if PLACE_COLUMN in df.columns:
        df[PLACE_COLUMN] = pd.Categorical(df[PLACE_COLUMN].astype(object))
    return df


def placed(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """A copy of ``df`` with a ``neighbourhood`` column ``name`` before ``value``."""
    out = df.copy()
    out.insert(out.columns.get_loc("value"), PLACE_COLUMN, name)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    return out


def _impact_gap(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Per replicate: highest minus lowest public impact over the neighbourhoods."""
    rows = pd.concat(parts, ignore_index=True)
    impact = rows[
        (rows["metric"] == "public_impact_pp")
        & (rows["segment"] == ALL)
        & (rows["intervention"] == ALL)
        & (rows["channel"] == ALL)
        & (rows["adopter_category"] == ALL)
    ]
    first = impact.groupby("replicate", sort=False).head(1).set_index("replicate")
    spread = impact.groupby("replicate")["value"].agg(lambda v: np.nanmax(v) - np.nanmin(v))
    out = first.loc[spread.index].reset_index()
    out["metric"] = GAP_METRIC
    out[PLACE_COLUMN] = ALL
    out["value"] = spread.to_numpy()
    return out[parts[0].columns]
