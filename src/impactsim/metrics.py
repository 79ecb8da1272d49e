"""Metrics: pure functions from recorded counts to tidy pandas tables.

Long format, one row per (scenario, replicate, [month,] metric, segment,
intervention, channel, adopter_category). Totals use the label ``all``. Shares are
fractions of the *target population* present at that time (segments listed in
``outcome.target_segments``, default all); ``public_impact_pp`` is in percentage
points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactsim.engine.simulate import Recording
from impactsim.engine.spec import ModelSpec
from impactsim.scenario import ADOPTER_CATEGORIES
from impactsim.tables import ALL, PSEUDO_CHANNELS
from impactsim.tables import interval_table as interval_table  # re-exported

ID_COLUMNS = [
    "scenario",
    "replicate",
    "metric",
    "segment",
    "intervention",
    "channel",
    "adopter_category",
    "outcome",
]

#: Metric names and what they mean (units). Used in docs and the CLI summary.
METRICS: dict[str, str] = {
    "reach_direct": "share of the target population that ever enrolled (fraction)",
    "reach_cumulative": "share that ever enrolled in any offered intervention (fraction)",
    "reach_by_channel": "reach_cumulative split by channel of first contact (fraction)",
    "reach_indirect": "share that never took part but received a spillover gain (fraction)",
    "enrolments": "enrolments over the whole run, including families who left (count)",
    "completions": "completions over the run (count)",
    "dropouts": "dropouts over the run (count)",
    "gave_up_waiting": "parents who left a waiting list without a place, over the run (count)",
    "waiting": "parents on a waiting list at the horizon (count)",
    "completion_rate": "completions / (completions + dropouts) (fraction)",
    "participant_months": "months enrolled, summed over parents (parent-months)",
    "prevalence": "share of the target population above the problem cut-off (fraction)",
    "prevalence_counterfactual": "the same without any programme, same families (fraction)",
    "public_impact_pp": "prevalence_counterfactual - prevalence (percentage points)",
    "cases_prevented": "counterfactual cases - scenario cases at the horizon (count)",
    "realized_effect_share": "share whose problem score improved by >= the minimal important change",
    "mean_gain_sd": "mean improvement of the problem score (SD units)",
    "differential_impact_gap_pp": "public impact in the least minus the most advantaged segment (pp)",
    "differential_impact_ratio": "public impact in the least over the most advantaged segment",
    "efficacy_d": "effect size drawn for this replicate (Cohen's d)",
    "effectiveness_d": "efficacy x mean fidelity of the organisations that delivered (Cohen's d)",
    "use_provider_share": (
        "share of eligible organisations offering at the horizon (fraction); monthly in the "
        "time series"
    ),
    "adopter_category_realized_share": "share of adopters by Rogers category of adoption time",
}


@dataclass(frozen=True)
class Labels:
    """Names along each axis of a recording."""

    scenario: str
    segments: list[str]
    interventions: list[str]
    channels: list[str]  # real channels + pseudo-channels
    target: np.ndarray  # [S] bool
    rank: np.ndarray  # [S] advantage rank


def labels_for(spec: ModelSpec, scenario: str) -> Labels:
    """Axis labels for a compiled scenario."""
    return Labels(
        scenario=scenario,
        segments=list(spec.segment_names),
        interventions=list(spec.intervention_names),
        channels=[*spec.channel_names, *PSEUDO_CHANNELS],
        target=spec.target,
        rank=spec.seg_rank,
    )


#: Families present (the denominator of every share): target population, per segment and
#: per adopter category. A share whose denominator is 0 is not defined (NaN).
FAMILIES = "families"


def _div(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(b) > 0, np.asarray(a, dtype=float) / np.asarray(b), np.nan)


class _Rows:
    """Collects column arrays and builds one DataFrame at the end (fast)."""

    def __init__(self, with_month: bool):
        self.with_month = with_month
        self.cols: dict[str, list[np.ndarray]] = {
            c: []
            for c in (
                [*ID_COLUMNS[:2], "month", *ID_COLUMNS[2:], "value"]
                if with_month
                else [*ID_COLUMNS, "value"]
            )
        }

    def add(
        self,
        scenario: str,
        replicate: int,
        metric: str,
        values: np.ndarray,
        months: np.ndarray | None = None,
        segment: str = ALL,
        intervention: str = ALL,
        channel: str = ALL,
        adopter_category: str = ALL,
        outcome: str = ALL,
    ) -> None:
        values = np.atleast_1d(np.asarray(values, dtype=np.float64))
        n = values.shape[0]
        self.cols["scenario"].append(np.full(n, scenario, dtype=object))
        self.cols["replicate"].append(np.full(n, replicate, dtype=np.int64))
        if self.with_month:
            self.cols["month"].append(np.asarray(months, dtype=np.int64))
        for col, val in (
            ("metric", metric),
            ("segment", segment),
            ("intervention", intervention),
            ("channel", channel),
            ("adopter_category", adopter_category),
            ("outcome", outcome),
        ):
            self.cols[col].append(np.full(n, val, dtype=object))
        self.cols["value"].append(values)

    def frame(self) -> pd.DataFrame:
        data = {}
        for col, parts in self.cols.items():
            arr = np.concatenate(parts) if parts else np.zeros(0)
            if col in (
                "scenario",
                "metric",
                "segment",
                "intervention",
                "channel",
                "adopter_category",
                "outcome",
            ):
                data[col] = pd.Categorical(arr)
            else:
                data[col] = arr
        return pd.DataFrame(data)


@dataclass(frozen=True)
class OutcomeView:
    """One outcome's recorded counts (axes as in :class:`Recording`)."""

    name: str  # outcome identifier (``ALL``: the primary, as with one outcome)
    prev: np.ndarray  # [M+1, S] cases
    prev_cf: np.ndarray  # [M+1, S] cases without programmes
    realized: np.ndarray  # [M+1, S] parents with a realized change
    gain_sum: np.ndarray  # [M+1, S] summed gain (SD units)
    effect_d: np.ndarray  # [K] effect sizes of the replicate


def outcome_views(rec: Recording, spec: ModelSpec) -> list[OutcomeView]:
    """The outcomes whose rows a replicate writes, each with its ``outcome`` label.

    First the primary outcome labelled ``all`` (the rows every reader of one outcome
    reads); with several outcomes then every outcome by name, the primary included, so
    that each outcome's rows are selected the same way (``outcome=<name>``).
    """
    primary = (rec.prev, rec.prev_cf, rec.realized, rec.gain_sum, rec.effect_d)
    views = [OutcomeView(ALL, *primary)]
    names = spec.outcome_names
    if len(names) > 1:
        views.append(OutcomeView(names[0], *primary))
        for o, name in enumerate(names[1:]):
            views.append(
                OutcomeView(
                    name,
                    rec.x_prev[:, o],
                    rec.x_prev_cf[:, o],
                    rec.x_realized[:, o],
                    rec.x_gain_sum[:, o],
                    rec.x_effect_d[o],
                )
            )
    return views


def _rank_extremes(lab: Labels) -> tuple[int, int] | None:
    """Indices of the most and the least advantaged target segments (None if only one rank)."""
    idx = np.flatnonzero(lab.target)
    if idx.size < 2:
        return None
    ranks = lab.rank[idx]
    if ranks.min() == ranks.max():
        return None
    return int(idx[np.argmin(ranks)]), int(idx[np.argmax(ranks)])


def summary_rows(rows: _Rows, rec: Recording, spec: ModelSpec, lab: Labels, replicate: int) -> None:
    """Append the horizon summary of one replicate to ``rows``."""
    M = spec.n_months
    T = lab.target
    sc = lab.scenario
    add = rows.add
    n_s = rec.n[M].astype(float)
    n_t = n_s[T].sum()
    segs = lab.segments

    def per_seg(
        metric: str, num_s: np.ndarray, den_s: np.ndarray = n_s, scale: float = 1.0, **kw: str
    ) -> None:
        add(sc, replicate, metric, scale * _div(num_s[T].sum(), den_s[T].sum()), **kw)
        for j, name in enumerate(segs):
            add(sc, replicate, metric, scale * _div(num_s[j], den_s[j]), segment=name, **kw)

    for k, iv in enumerate(lab.interventions):
        per_seg("reach_direct", rec.ever[M, k], intervention=iv)
        add(sc, replicate, "enrolments", rec.enrol_new[:, k][:, T].sum(), intervention=iv)
        add(sc, replicate, "completions", rec.complete_new[:, k][:, T].sum(), intervention=iv)
        add(sc, replicate, "dropouts", rec.dropout_new[:, k][:, T].sum(), intervention=iv)
        add(sc, replicate, "gave_up_waiting", rec.gaveup_new[:, k][:, T].sum(), intervention=iv)
        add(sc, replicate, "waiting", rec.waiting[M, k][T].sum(), intervention=iv)
        comp, drop = rec.complete_new[:, k][:, T].sum(), rec.dropout_new[:, k][:, T].sum()
        add(sc, replicate, "completion_rate", _div(comp, comp + drop), intervention=iv)
        add(
            sc, replicate, "participant_months", rec.participant_months[:, k].sum(), intervention=iv
        )
    per_seg("reach_cumulative", rec.any_ever[M])
    add(sc, replicate, FAMILIES, n_t)
    for j, name in enumerate(segs):
        add(sc, replicate, FAMILIES, n_s[j], segment=name)
    for a, cat in enumerate(ADOPTER_CATEGORIES):
        n_cat = rec.n_cat[M, a][T].sum()
        add(sc, replicate, FAMILIES, n_cat, adopter_category=cat)
        add(
            sc,
            replicate,
            "reach_cumulative",
            _div(rec.any_ever_cat[M, a][T].sum(), n_cat),
            adopter_category=cat,
        )
    for c, ch in enumerate(lab.channels):
        add(
            sc,
            replicate,
            "reach_by_channel",
            _div(rec.any_ever_channel[M, c][T].sum(), n_t),
            channel=ch,
        )
    per_seg("reach_indirect", rec.indirect[M])
    for view in outcome_views(rec, spec):
        _outcome_summary(rows, rec, spec, lab, replicate, view)
    # the funnel's use: organisations offering at the horizon
    allowed = spec.prov_may_offer.sum(axis=0).astype(float)  # [K]
    for k, iv in enumerate(lab.interventions):
        share = _div(rec.providers_offering[M, k], allowed[k])
        add(sc, replicate, "use_provider_share", share, intervention=iv)
    if lab.interventions:
        share = _div(rec.providers_offering[M].sum(), allowed.sum())
        add(sc, replicate, "use_provider_share", share)
    total_adopters = rec.adoption_realized.sum()
    for a, cat in enumerate(ADOPTER_CATEGORIES):
        add(
            sc,
            replicate,
            "adopter_category_realized_share",
            _div(rec.adoption_realized[:, a].sum(), total_adopters),
            adopter_category=cat,
        )


def _outcome_summary(
    rows: _Rows, rec: Recording, spec: ModelSpec, lab: Labels, replicate: int, view: OutcomeView
) -> None:
    """Append one outcome's horizon rows: prevalence, impact, realized change, funnel's d."""
    M = spec.n_months
    T = lab.target
    sc = lab.scenario
    n_s = rec.n[M].astype(float)
    out = view.name

    def add(metric: str, value: float | np.ndarray, **kw: str) -> None:
        rows.add(sc, replicate, metric, value, outcome=out, **kw)

    def per_seg(metric: str, num_s: np.ndarray, scale: float = 1.0) -> None:
        add(metric, scale * _div(num_s[T].sum(), n_s[T].sum()))
        for j, name in enumerate(lab.segments):
            add(metric, scale * _div(num_s[j], n_s[j]), segment=name)

    prev, prev_cf = view.prev[M], view.prev_cf[M]
    per_seg("prevalence", prev)
    per_seg("prevalence_counterfactual", prev_cf)
    per_seg("public_impact_pp", prev_cf - prev, scale=100.0)
    add("cases_prevented", (prev_cf - prev)[T].sum())
    per_seg("realized_effect_share", view.realized[M])
    per_seg("mean_gain_sd", view.gain_sum[M])
    ext = _rank_extremes(lab)
    if ext is not None:
        most, least = ext
        imp = 100.0 * _div(prev_cf - prev, n_s)
        add("differential_impact_gap_pp", imp[least] - imp[most])
        ratio = _div(imp[least], imp[most]) if imp[most] != 0 else np.nan
        add("differential_impact_ratio", ratio)
    # impact funnel: efficacy -> effectiveness (-> use -> reach -> public impact)
    enrol_k = rec.provider_enrol.sum(axis=0).astype(float)  # [K]
    eff_all, effv_all, w_all = 0.0, 0.0, 0.0
    for k, iv in enumerate(lab.interventions):
        d = view.effect_d[k]
        if enrol_k[k] > 0:
            fid = float((rec.provider_enrol[:, k] * rec.fidelity).sum() / enrol_k[k])
        else:
            sel = spec.prov_may_offer[:, k]
            fid = float(rec.fidelity[sel].mean()) if sel.any() else np.nan
        add("efficacy_d", d, intervention=iv)
        add("effectiveness_d", d * fid, intervention=iv)
        eff_all += d * enrol_k[k]
        effv_all += d * fid * enrol_k[k] if enrol_k[k] > 0 else 0.0
        w_all += enrol_k[k]
    if lab.interventions:
        add("efficacy_d", _div(eff_all, w_all))
        add("effectiveness_d", _div(effv_all, w_all))


def timeseries_rows(
    rows: _Rows, rec: Recording, spec: ModelSpec, lab: Labels, replicate: int
) -> None:
    """Append the monthly time series of one replicate to ``rows``."""
    T = lab.target
    sc = lab.scenario
    months = np.arange(spec.n_months + 1)
    n_s = rec.n.astype(float)  # [M+1, S]
    n_t = n_s[:, T].sum(axis=1)

    def series(
        metric: str, num: np.ndarray, per_segment: bool = True, scale: float = 1.0, **kw: str
    ) -> None:
        rows.add(sc, replicate, metric, scale * _div(num[:, T].sum(axis=1), n_t), months, **kw)
        if per_segment:
            for j, name in enumerate(lab.segments):
                rows.add(
                    sc,
                    replicate,
                    metric,
                    scale * _div(num[:, j], n_s[:, j]),
                    months,
                    segment=name,
                    **kw,
                )

    for k, iv in enumerate(lab.interventions):
        series("reach_direct", rec.ever[:, k, :], intervention=iv)
        rows.add(
            sc, replicate, "enrolled", rec.enrolled[:, k][:, T].sum(axis=1), months, intervention=iv
        )
        rows.add(
            sc, replicate, "waiting", rec.waiting[:, k][:, T].sum(axis=1), months, intervention=iv
        )
        rows.add(
            sc,
            replicate,
            "enrolments",
            rec.enrol_new[:, k][:, T].sum(axis=1),
            months,
            intervention=iv,
        )
        rows.add(
            sc,
            replicate,
            "providers_offering",
            rec.providers_offering[:, k],
            months,
            intervention=iv,
        )
    _provider_share_series(rows, rec, spec, lab, replicate)
    series("reach_cumulative", rec.any_ever)
    rows.add(sc, replicate, FAMILIES, n_t, months)
    for j, name in enumerate(lab.segments):
        rows.add(sc, replicate, FAMILIES, n_s[:, j], months, segment=name)
    for a, cat in enumerate(ADOPTER_CATEGORIES):
        n_cat = rec.n_cat[:, a][:, T].sum(axis=1)
        rows.add(sc, replicate, FAMILIES, n_cat, months, adopter_category=cat)
        rows.add(
            sc,
            replicate,
            "reach_cumulative",
            _div(rec.any_ever_cat[:, a][:, T].sum(axis=1), n_cat),
            months,
            adopter_category=cat,
        )
    for c, ch in enumerate(lab.channels):
        rows.add(
            sc,
            replicate,
            "reach_by_channel",
            _div(rec.any_ever_channel[:, c][:, T].sum(axis=1), n_t),
            months,
            channel=ch,
        )
    series("reach_indirect", rec.indirect, per_segment=False)
    for view in outcome_views(rec, spec):
        out = view.name
        series("prevalence", view.prev, outcome=out)
        series("prevalence_counterfactual", view.prev_cf, outcome=out)
        series("public_impact_pp", view.prev_cf - view.prev, scale=100.0, outcome=out)
        series("realized_effect_share", view.realized, per_segment=False, outcome=out)


def _provider_share_series(
    rows: _Rows, rec: Recording, spec: ModelSpec, lab: Labels, replicate: int
) -> None:
    """Monthly share of eligible organisations offering, per intervention and in all."""
    months = np.arange(spec.n_months + 1)
    allowed = spec.prov_may_offer.sum(axis=0).astype(float)  # [K]
    offering = rec.providers_offering.astype(float)  # [M+1, K]
    for k, iv in enumerate(lab.interventions):
        share = _div(offering[:, k], allowed[k])
        rows.add(lab.scenario, replicate, "use_provider_share", share, months, intervention=iv)
    if lab.interventions:
        share = _div(offering.sum(axis=1), allowed.sum())
        rows.add(lab.scenario, replicate, "use_provider_share", share, months)


def summarise(
    recordings: Sequence[Recording], spec: ModelSpec, scenario: str, replicates: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the per-replicate summary and time series tables.

    Args:
        recordings: one recording per replicate.
        spec: the compiled scenario they came from.
        scenario: scenario name for the ``scenario`` column.
        replicates: replicate numbers matching ``recordings``.

    Returns:
        ``(summary, timeseries)`` DataFrames in long format.
    """
    lab = labels_for(spec, scenario)
    srows, trows = _Rows(with_month=False), _Rows(with_month=True)
    for rep, rec in zip(replicates, recordings, strict=True):
        summary_rows(srows, rec, spec, lab, rep)
        timeseries_rows(trows, rec, spec, lab, rep)
    return srows.frame(), trows.frame()
