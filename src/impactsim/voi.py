"""Value of information: EVPI and EVPPI of a comparison, by non-parametric regression.

The expected value of perfect information (EVPI) is what the municipality should at most
pay to remove all uncertainty before choosing among the options; the expected value of
partial perfect information (EVPPI) is the same for one group of uncertain parameters,
such as the effect sizes. With net benefit ``NB_d(θ)`` of option ``d``:

    EVPI     = E_θ[max_d NB_d(θ)] − max_d E_θ[NB_d(θ)]
    EVPPI(φ) = E_φ[max_d E[NB_d | φ]] − max_d E[NB_d]

The EVPPI's inner conditional expectations are estimated, as in Strong, Oakley & Brennan
(2014, *Medical Decision Making* 34:311–326), by regressing each option's incremental net
benefit (against a reference option) on the group's parameters over the Monte Carlo
replicates: the fitted values ``g_d`` give ``EVPPI = mean_r(max_d g_d) − max_d mean_r(g_d)``.
The regression is a Gaussian process (scikit-learn, the default) or a penalised regression
spline (GAM). The standard error follows Strong et al.: draws of the fitted values from
the regression's posterior, each over a bootstrap resample of the replicates, the EVPPI
recomputed for each draw.

The first part is pure: :func:`evpi`, :func:`evppi` work on per-replicate tables from any
source (a comparison, a sweep, another model). The second part reads a
:class:`~impactsim.compare.CompareResult`: :func:`replicate_parameters` recomputes each
replicate's uncertain parameters from the replicate keys (the engine's effect-size and
fidelity draws, the economics' cost and value multipliers), :func:`net_benefit` builds
the options' net benefit and :func:`voi_table` puts it together. Formulas, method and
numbers: ``docs/economics.md``, section "Value of information".
"""

from __future__ import annotations

import html
import math
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from impactsim.compare import NO_PROGRAMME, CompareResult
from impactsim.economics import INTERVENTION_COST_ITEMS, value_items
from impactsim.engine.spec import draw_replicate
from impactsim.i18n import DEFAULT_LANGUAGE, N_, gettext_for, money, number
from impactsim.rng import gamma_multiplier, replicate_key
from impactsim.scenario import Scenario
from impactsim.tables import eur
from impactsim.voi_regression import GAM_MAX_TENSOR, fit_gam, fit_gp

Method = Literal["gp", "gam"]
METHODS: tuple[str, ...] = ("gp", "gam")

#: Draws from the regression's posterior for the standard error (Strong et al. 2014).
POSTERIOR_DRAWS = 500


class VOIWarning(UserWarning):
    """An estimate of the value of information that should be read with care."""


# --------------------------------------------------------------------------- pure functions
def evpi(net_benefit: pd.DataFrame | np.ndarray) -> float:
    """Expected value of perfect information from per-replicate net benefits.

    ``EVPI = mean_r(max_d NB[r, d]) − max_d mean_r(NB[r, d])``: the expected gain of
    choosing the best option in every replicate rather than the best option on average.

    Args:
        net_benefit: one row per replicate, one column per option (euros).

    Returns:
        The EVPI (euros, >= 0).
    """
    nb = np.asarray(net_benefit, dtype=np.float64)
    if nb.ndim != 2 or nb.shape[0] == 0 or nb.shape[1] == 0:
        raise ValueError("net_benefit needs at least one replicate (row) and one option (column)")
    return max(float(nb.max(axis=1).mean() - nb.mean(axis=0).max()), 0.0)


def evpi_interval(
    net_benefit: pd.DataFrame | np.ndarray, draws: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Bootstrap standard error and 2.5–97.5 % interval of :func:`evpi` over replicates.

    Returns:
        ``(se, lo, hi)`` in euros.
    """
    nb = np.asarray(net_benefit, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, nb.shape[0], size=(draws, nb.shape[0]))
    boot = nb[idx]  # [B, R, D]
    values = np.maximum(boot.max(axis=2).mean(axis=1) - boot.mean(axis=1).max(axis=1), 0.0)
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(values.std(ddof=1)), float(lo), float(hi)


def _evppi_from_fits(g: np.ndarray) -> np.ndarray:
    """EVPPI from fitted incremental net benefits ``g[..., r, d]`` (reference column 0).

    Never negative (the mean of a maximum is at least the maximum of the means): rounding
    is clipped at 0.
    """
    return np.maximum(g.max(axis=-1).mean(axis=-1) - g.mean(axis=-2).max(axis=-1), 0.0)


FITS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {"gp": fit_gp, "gam": fit_gam}


def _evppi_group(
    x: np.ndarray, inb: np.ndarray, method: str, draws: int, rng: np.random.Generator
) -> dict[str, float]:
    """EVPPI of parameters ``x`` [R, P] for incremental net benefits ``inb`` [R, D-1]."""
    n = inb.shape[0]
    if x.shape[1] == 0:
        return {"n_parameters": 0, "evppi": 0.0, "se": 0.0, "lo": 0.0, "hi": 0.0, "n_replicates": n}
    fitted = np.zeros((n, inb.shape[1] + 1))
    sample = np.zeros((draws, n, inb.shape[1] + 1))
    for d in range(inb.shape[1]):
        fitted[:, d + 1], sample[:, :, d + 1] = FITS[method](x, inb[:, d], draws, rng)
    # each draw: the regression's posterior and a bootstrap of the replicates together
    boot = rng.integers(0, n, size=(draws, n))
    values = _evppi_from_fits(sample[np.arange(draws)[:, None], boot])
    lo, hi = np.percentile(values, [2.5, 97.5])
    return {
        "n_parameters": x.shape[1],
        "evppi": float(_evppi_from_fits(fitted)),
        "se": float(values.std(ddof=1)),
        "lo": float(lo),
        "hi": float(hi),
        "n_replicates": n,
    }


def evppi(
    net_benefit: pd.DataFrame,
    parameters: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    method: Method = "gp",
    *,
    reference: str | None = None,
    draws: int = POSTERIOR_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """EVPPI of groups of parameters by non-parametric regression (Strong et al. 2014).

    For each option ``d`` other than the reference, the incremental net benefit
    ``NB_d − NB_ref`` is regressed on the group's parameters; with fitted values ``g_d``
    (``g_ref = 0``), ``EVPPI = mean_r(max_d g_d) − max_d mean_r(g_d)``. The standard error
    and interval come from ``draws`` draws of the fitted values from the regression's
    posterior (Strong et al. 2014), each over a bootstrap resample of the replicates, so
    that they hold both the regression's error and the Monte Carlo error of a finite
    sample of parameter values.

    Args:
        net_benefit: one row per replicate, one column per option (euros).
        parameters: one row per replicate (same index), one column per parameter.
        groups: group name -> parameter columns.
        method: ``"gp"`` (Gaussian process, any number of parameters) or ``"gam"``
            (penalised regression splines; best for up to 4 parameters).
        reference: option the increments are taken against; default the first column.
        draws: posterior draws for the standard error.
        seed: seed of the optimiser restarts and the draws.

    Returns:
        One row per group: ``group, n_parameters, evppi, se, lo, hi, n_replicates, method``
        (euros). A group whose parameters do not vary gets 0 with no regression (nothing to learn).

    Raises:
        ValueError: unknown method or parameter, misaligned tables, fewer than 2 options.
    """
    if method not in FITS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    if net_benefit.shape[1] < 2:
        raise ValueError("the value of information needs at least two options")
    if not net_benefit.index.equals(parameters.index):
        raise ValueError("net_benefit and parameters need the same replicates (index)")
    ref = net_benefit.columns[0] if reference is None else reference
    inb = net_benefit.sub(net_benefit[ref], axis=0).drop(columns=ref).to_numpy(np.float64)
    rows = []
    # small matrices: one BLAS thread is much faster than several competing for the cores
    with threadpool_limits(limits=1, user_api="blas"):
        for group, cols in groups.items():
            missing = [c for c in cols if c not in parameters.columns]
            if missing:
                raise ValueError(f"group {group!r}: unknown parameters {', '.join(missing)}")
            x = parameters[list(cols)].to_numpy(np.float64)
            x = x[:, x.std(axis=0) > 0] if x.size else x
            if method == "gam" and x.shape[1] > GAM_MAX_TENSOR:
                warnings.warn(
                    f"group {group!r} has {x.shape[1]} parameters: the GAM fits them additively "
                    f"(interactions ignored) above {GAM_MAX_TENSOR}; method 'gp' fits them "
                    "jointly",
                    VOIWarning,
                    stacklevel=2,
                )
            rng = np.random.default_rng([seed, zlib.crc32(str(group).encode())])
            rows.append(
                {"group": group, **_evppi_group(x, inb, method, draws, rng), "method": method}
            )
    return pd.DataFrame(
        rows, columns=["group", "n_parameters", "evppi", "se", "lo", "hi", "n_replicates", "method"]
    )


# --------------------------------------------------------------------------- a comparison
Measure = Literal["nmb", "npv"]
METHOD_NAMES = {
    "gp": "Gaussian-process regression",
    "gam": "penalised regression splines (GAM)",
    "replicates": "replicates directly",
}

#: Fewer replicates than this give a warning: the regression cannot tell a parameter's
#: signal from the Monte Carlo noise well (docs/economics.md, "how many replicates").
MIN_REPLICATES = 200

#: Row of the table with the EVPI from the replicates themselves.
EVPI = "evpi"
#: Row of the table with the EVPPI of every uncertain parameter together.
ALL_PARAMETERS = "all_parameters"

#: Parameter groups: key -> label (marked for translation).
GROUP_LABELS: dict[str, str] = {
    EVPI: N_("all uncertainty"),
    ALL_PARAMETERS: N_("all uncertain parameters together"),
    "effect_sizes": N_("effect sizes"),
    "costs": N_("costs"),
    "values": N_("values per case-year and linked outcomes"),
    "provider_fidelity": N_("provider fidelity"),
    "channel_rates": N_("channel and referral rates"),
    "provider_adoption": N_("provider adoption"),
}

#: Groups the model draws per replicate (parameter uncertainty), in table order.
DRAWN_GROUPS: tuple[str, ...] = (
    "effect_sizes",
    "costs",
    "values",
    "provider_fidelity",
    "channel_rates",
    "provider_adoption",
)

TABLE_COLUMNS = [
    "group",
    "label",
    "n_parameters",
    "parameters",
    "evppi_eur",
    "se_eur",
    "lo_eur",
    "hi_eur",
    "share_of_evpi",
    "decisions",
    "total_eur",
    "n_replicates",
    "method",
    "measure",
    "wtp_eur",
    "best_option",
    "note",
]


def cost_streams(scenario: Scenario) -> list[tuple[tuple[str, ...], float]]:
    """Stream name and CV of every cost multiplier :func:`impactsim.economics.cost_flows` draws.

    One per cost item with a positive amount: intervention × item (offered interventions),
    channel × item, and the strategy's coordination.
    """
    econ = scenario.economics

    def cv_of(cv: float | None) -> float:
        return econ.cost_cv if cv is None else cv

    out: list[tuple[tuple[str, ...], float]] = []
    for iv in scenario.offered_interventions:
        for item in INTERVENTION_COST_ITEMS:
            if getattr(iv.costs, item) > 0:
                out.append((("cost", "intervention", iv.name, item), cv_of(iv.costs.cv)))
    for ch in scenario.channels:
        for item in ("per_month_active_eur", "per_contact_eur"):
            if getattr(ch.costs, item) > 0:
                out.append((("cost", "channel", ch.name, item), cv_of(ch.costs.cv)))
    sc = scenario.strategy.costs
    if sc.coordination_per_year_eur > 0:
        out.append((("cost", "strategy", "coordination"), cv_of(sc.cv)))
    return out


def _value_stream(label: str) -> str:
    kind, _sep, name = label.partition(":")
    return f"value/{'case_year' if kind == 'case_year' else 'linked_outcome'}/{name}"


def _strategy_parameters(res: Any, replicates: Sequence[int]) -> dict[str, dict[str, np.ndarray]]:
    """One strategy's per-replicate parameters by group: ``{group: {name: values}}``."""
    sc: Scenario = res.scenario
    keys = [replicate_key(res.seed, r) for r in replicates]
    out: dict[str, dict[str, np.ndarray]] = {g: {} for g in DRAWN_GROUPS}
    draws = [draw_replicate(res.spec, k) for k in keys]
    ivs = {iv.name: iv for iv in sc.interventions}
    for j, name in enumerate(res.spec.intervention_names):
        if ivs[name].effect_size.sd > 0:
            out["effect_sizes"][f"intervention/{name}/effect_size"] = np.array(
                [d.effect_d[j] for d in draws]
            )
        # the effect sizes on the outcomes after the primary (their own streams)
        for o, outcome in enumerate(res.spec.outcome_names[1:]):
            if res.spec.x_eff_sd[o, j] > 0:
                out["effect_sizes"][f"intervention/{name}/effect_size/{outcome}"] = np.array(
                    [d.x_effect_d[o, j] for d in draws]
                )
    used = {p for o in sc.strategy.offers for p in o.providers}
    for p, prov in enumerate(sc.providers):
        sel = res.spec.prov_type == p
        if prov.fidelity_sd > 0 and sel.any() and prov.name in used:
            out["provider_fidelity"][f"provider/{prov.name}/fidelity"] = np.array(
                [float(d.fidelity[sel].mean()) for d in draws]
            )
    promoting = {c for o in sc.strategy.offers for c in o.channels}
    for c, ch in enumerate(sc.channels):
        if ch.referral_strength_cv > 0 and ch.name in promoting:
            out["channel_rates"][f"channel/{ch.name}/referral_strength"] = np.array(
                [d.referral_mult[c] for d in draws]
            )
    for p, prov in enumerate(sc.providers):
        if prov.adoption_rate_cv > 0 and prov.name in used:
            out["provider_adoption"][f"provider/{prov.name}/adoption_rate"] = np.array(
                [d.adoption_mult[p] for d in draws]
            )
    for name, cv in cost_streams(sc):
        if cv > 0:
            out["costs"]["/".join(name)] = np.array([gamma_multiplier(k, cv, *name) for k in keys])
    for j, item in enumerate(value_items(sc.economics, keys[0]) if keys else []):
        values = np.array([value_items(sc.economics, k)[j].multiplier for k in keys])
        if values.std() > 0:
            out["values"][_value_stream(item.label)] = values
    return out


def replicate_parameters(cmp: CompareResult) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Each replicate's uncertain parameters in a comparison, recomputed from its key.

    Effect sizes (``intervention/<name>/effect_size``, Cohen's d, and
    ``intervention/<name>/effect_size/<outcome>`` on the outcomes after the primary), the
    mean fidelity of each provider type's organisations (``provider/<name>/fidelity``), and
    the multipliers of channels' referral strengths (``channel/<name>/referral_strength``)
    and of provider types' adoption rates (``provider/<name>/adoption_rate``) are the
    engine's own draws (:func:`impactsim.engine.spec.draw_replicate`); cost and value
    multipliers are :func:`impactsim.rng.gamma_multiplier` draws named by their streams
    (``cost/intervention/<name>/<item>``, ``value/case_year/<stakeholder>``, ...). Only
    parameters that vary are kept. Strategies share a parameter of the same name (common
    random numbers); one that differs between strategies gets ``@<strategy>`` appended.

    Returns:
        ``(parameters, groups)``: one row per replicate, one column per parameter; and
        group key -> its columns (groups of :data:`DRAWN_GROUPS`, possibly empty).
    """
    first = next(iter(cmp.runs.values()))
    replicates = sorted(int(r) for r in first.metric("cost_pv").index)
    columns: dict[str, np.ndarray] = {}
    groups: dict[str, list[str]] = {g: [] for g in DRAWN_GROUPS}
    for label, res in cmp.runs.items():
        for group, params in _strategy_parameters(res, replicates).items():
            for name, values in params.items():
                if name in columns and np.allclose(columns[name], values, rtol=0, atol=1e-12):
                    continue
                key = name if name not in columns else f"{name}@{label}"
                columns[key] = values
                groups[group].append(key)
    table = pd.DataFrame(columns, index=pd.Index(replicates, name="replicate"))
    return table, groups


def net_benefit(
    cmp: CompareResult,
    wtp: float | None = None,
    measure: Measure = "nmb",
    include_no_programme: bool = True,
) -> pd.DataFrame:
    """Per-replicate net benefit of every option of a comparison (euros, municipality level).

    Args:
        cmp: the comparison.
        wtp: willingness to pay per unit of the comparison's effect; default
            ``economics.willingness_to_pay_eur_per_case_year`` (effect in case-years).
        measure: ``"nmb"``: net monetary benefit ``wtp × effect − cost_pv``; ``"npv"``:
            monetised benefits minus costs, ``benefit_pv − cost_pv``.
        include_no_programme: add the option of offering nothing (net benefit 0), first.

    Returns:
        One row per replicate, one column per option.
    """
    if measure not in ("nmb", "npv"):
        raise ValueError(f"measure must be 'nmb' or 'npv' (got {measure!r})")
    lam = _wtp(cmp, wtp)
    wide = {
        str(name): df.set_index("replicate")
        for name, df in cmp.outcomes.groupby("scenario", sort=False)
    }
    cols = {}
    for name in cmp.runs:
        df = wide[name]
        cols[name] = df["npv"] if measure == "npv" else lam * df[cmp.effect] - df["cost_pv"]
    nb = pd.DataFrame(cols)
    nb.index = nb.index.astype(int)
    if include_no_programme:
        nb.insert(0, NO_PROGRAMME, 0.0)
    return nb.sort_index()


def _wtp(cmp: CompareResult, wtp: float | None) -> float:
    if wtp is not None:
        return float(wtp)
    if cmp.effect != "case_years_prevented_pv":
        raise ValueError(
            f"give the willingness to pay per unit of {cmp.effect}: the scenario's "
            "willingness_to_pay_eur_per_case_year is per prevented case-year"
        )
    first = next(iter(cmp.runs.values()))
    return float(first.scenario.economics.willingness_to_pay_eur_per_case_year)


_NO_DRAWS = {
    "effect_sizes": "no uncertainty in this run: every offered programme's effect_size.sd is 0",
    "costs": "no uncertainty in this run: economics.cost_cv and every cost item's cv are 0",
    "values": "no uncertainty in this run: economics.value_cv and every value's cv are 0",
    "provider_fidelity": "no uncertainty in this run: fidelity_sd is 0 for every provider used",
    "channel_rates": (
        "no uncertainty in this run: referral_strength_cv is 0 for every channel that promotes "
        "an offered programme (contact rates are fixed inputs)"
    ),
    "provider_adoption": (
        "no uncertainty in this run: adoption_rate_cv is 0 for every provider type used"
    ),
}
_NOT_IN_NMB = (
    "does not enter the net monetary benefit, which values effects at the willingness to "
    "pay (measure 'npv' counts the monetised values)"
)
_EVPI_NOTE = (
    "from the replicates directly: includes the chance differences between replicates "
    "with the same parameters (which families take part, when), which no study can "
    "resolve, so it is an upper bound of the value of learning the parameters"
)


def voi_table(
    cmp: CompareResult,
    wtp: float | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    method: Method = "gp",
    *,
    measure: Measure = "nmb",
    decisions: float = 1.0,
    include_no_programme: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """EVPI and EVPPI per group of uncertain parameters of a comparison (euros).

    The options are the compared strategies and, by default, no programme. Their net
    benefit is the municipality's (the whole simulated municipality): the net monetary
    benefit at ``wtp`` by default. Rows: ``evpi`` (from the replicates, bootstrap
    interval), ``all_parameters`` (EVPPI of every uncertain parameter together, the EVPI
    without the replicates' chance variation), then one row per group.

    Args:
        cmp: the comparison.
        wtp: willingness to pay per prevented case-year; default the scenario's.
        groups: group name -> parameter columns of :func:`replicate_parameters`; default
            its groups (a group without uncertain parameters gets no value and a note why).
        method: ``"gp"`` or ``"gam"`` (see :func:`evppi`).
        measure: ``"nmb"`` or ``"npv"`` (see :func:`net_benefit`).
        decisions: how many decisions the information serves (say, yearly commissioning
            rounds); ``total_eur = evppi_eur × decisions`` is the population EVPPI.
        include_no_programme: count offering nothing as an option.
        seed: seed of the regression's optimiser, the draws and the bootstrap.

    Returns:
        Tidy table with :data:`TABLE_COLUMNS`.

    Warns:
        VOIWarning: fewer than :data:`MIN_REPLICATES` replicates.
    """
    nb = net_benefit(cmp, wtp, measure, include_no_programme)
    params, found = replicate_parameters(cmp)
    chosen = found if groups is None else {str(k): list(v) for k, v in groups.items()}
    n = len(nb)
    if n < MIN_REPLICATES:
        warnings.warn(
            f"the value of information rests on {n} replicates; with fewer than "
            f"{MIN_REPLICATES} the regression separates the parameters' effect from the "
            "replicates' chance variation poorly: treat the amounts as rough and rerun with "
            "more replicates",
            VOIWarning,
            stacklevel=2,
        )
    skip = {"values"} if measure == "nmb" else set()
    regress = {g: c for g, c in chosen.items() if c and g not in skip}
    every = [c for cols in regress.values() for c in cols]
    if every:
        regress = {ALL_PARAMETERS: list(dict.fromkeys(every)), **regress}
    fits = evppi(nb, params, regress, method, seed=seed).set_index("group")
    total = evpi(nb)
    se, lo, hi = evpi_interval(nb, seed=seed)
    common = {
        "decisions": decisions,
        "n_replicates": n,
        "measure": measure,
        "wtp_eur": _wtp(cmp, wtp) if measure == "nmb" else math.nan,
        "best_option": str(nb.mean().idxmax()),
    }
    rows = [
        {
            "group": EVPI,
            "n_parameters": len(every),
            "parameters": "",
            "evppi_eur": total,
            "se_eur": se,
            "lo_eur": lo,
            "hi_eur": hi,
            "method": "replicates",
            "note": _EVPI_NOTE,
        }
    ]
    for group in [*(g for g in fits.index if g == ALL_PARAMETERS), *chosen]:
        cols = regress.get(group, chosen.get(group, []))
        row: dict[str, Any] = {"group": group, "n_parameters": len(cols)}
        row["parameters"] = "; ".join(cols)
        if group in fits.index:
            f = fits.loc[group]
            row.update(evppi_eur=f["evppi"], se_eur=f["se"], lo_eur=f["lo"], hi_eur=f["hi"])
            row.update(method=method, note="")
        elif group in skip and cols:
            row.update(
                evppi_eur=0.0, se_eur=0.0, lo_eur=0.0, hi_eur=0.0, method="", note=_NOT_IN_NMB
            )
        else:
            row.update(method="", note=_NO_DRAWS.get(group, "no uncertain parameters"))
        rows.append(row)
    table = pd.DataFrame(rows)
    for col, value in common.items():
        table[col] = value
    table["label"] = table["group"].map(lambda g: GROUP_LABELS.get(g, g))
    table["share_of_evpi"] = table["evppi_eur"] / total if total > 0 else math.nan
    table["total_eur"] = table["evppi_eur"] * decisions
    return table.reindex(columns=TABLE_COLUMNS)


def _has_value(row: pd.Series) -> bool:
    return bool(row["evppi_eur"] == row["evppi_eur"]) and not row["note"]


def format_voi(table: pd.DataFrame) -> str:
    """The VOI table in plain words (English), for the command line."""
    first = table.iloc[0]
    how = (
        f"net monetary benefit at {eur(first['wtp_eur'])} per prevented case-year"
        if first["measure"] == "nmb"
        else "net present value (monetised benefits minus costs)"
    )
    method = next((m for m in table["method"] if m in METHODS), "gp")
    lines = [
        f"Value of information for the municipality, per decision ({how}; "
        f"{int(first['n_replicates'])} replicates; {METHOD_NAMES[method]}):"
    ]
    for _i, row in table.iterrows():
        label = "all uncertainty (EVPI)" if row["group"] == EVPI else row["label"]
        if row["evppi_eur"] == row["evppi_eur"]:
            amount = f"{eur(row['evppi_eur']):>12}  [{eur(row['lo_eur'])}, {eur(row['hi_eur'])}]"
            extra = f"  ({row['note']})" if row["note"] and row["group"] != EVPI else ""
            lines.append(f"  {label:<44} {amount}{extra}")
        else:
            lines.append(f"  {label:<44} {row['note']}")
    groups = table[~table["group"].isin([EVPI, ALL_PARAMETERS])]
    best = groups[groups.apply(_has_value, axis=1)]
    if not first["evppi_eur"] > 0:
        lines.append(
            f"The best option is {first['best_option']} in every replicate: resolving the "
            "uncertainty is worth nothing before deciding (EVPI €0)."
        )
    elif not best.empty:
        top = best.loc[best["evppi_eur"].idxmax()]
        lines.append(
            f"Resolving the uncertainty about {top['label']} is worth up to "
            f"{eur(top['evppi_eur'])} before deciding (EVPPI; EVPI "
            f"{eur(first['evppi_eur'])} for all uncertainty)."
        )
    if first["decisions"] != 1:
        lines.append(
            f"Over {number(first['decisions'], 'en', 0)} decisions: EVPI "
            f"{eur(first['total_eur'])} (population EVPI)."
        )
    if first["n_replicates"] < MIN_REPLICATES:
        lines.append(
            f"Rough: only {int(first['n_replicates'])} replicates (at least "
            f"{MIN_REPLICATES} advised)."
        )
    return "\n".join(lines)


def plot_voi(table: pd.DataFrame, ax: Any = None) -> Any:
    """EVPPI per group as horizontal bars (95 % interval), EVPI as a reference line (euros).

    Args:
        table: a :func:`voi_table`.
        ax: matplotlib axes to draw on.

    Returns:
        The matplotlib Figure.
    """
    from impactsim import plots

    fig, ax = plots._axes(ax, (8.0, 4.2))
    rows = table[table["group"] != EVPI].iloc[::-1]
    y = np.arange(len(rows))
    value = rows["evppi_eur"].fillna(0.0).to_numpy() / 1000
    err = np.vstack(
        [
            np.clip(value - rows["lo_eur"].fillna(0.0).to_numpy() / 1000, 0, None),
            np.clip(rows["hi_eur"].fillna(0.0).to_numpy() / 1000 - value, 0, None),
        ]
    )
    colours = [plots.PALETTE[2] if g == ALL_PARAMETERS else plots.PALETTE[0] for g in rows["group"]]
    ax.barh(y, value, xerr=err, color=colours, capsize=3, label="EVPPI (95 % interval)")
    for j, (_i, row) in enumerate(rows.iterrows()):
        if row["evppi_eur"] != row["evppi_eur"]:
            why = "no uncertainty in this run"
        elif row["note"]:
            why = "not part of this net benefit"
        else:
            continue
        ax.text(0, j, "  " + why, va="center", fontsize=8, color="#57606a")
    ax.set_yticks(y, list(rows["label"]))
    total = float(table.loc[table["group"] == EVPI, "evppi_eur"].iloc[0])
    ax.axvline(total / 1000, color=plots.PALETTE[3], ls="--", label="EVPI (all uncertainty)")
    ax.set_xlim(left=0)
    ax.set_xlabel("thousand € per decision, for the municipality")
    ax.set_title("Value of information by group of parameters")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return fig


def write_voi(cmp: CompareResult, out: str | Path, **options: Any) -> pd.DataFrame:
    """Compute the VOI table of a comparison and write ``voi.csv`` and ``voi.png`` to ``out``.

    Args:
        cmp: the comparison.
        out: directory (the comparison's output directory).
        **options: passed to :func:`voi_table` (``method``, ``measure``, ``decisions``...).

    Returns:
        The table.
    """
    import matplotlib.pyplot as plt

    from impactsim.io import atomic_write, write_csv

    table = voi_table(cmp, **options)
    folder = Path(out)
    write_csv(folder / "voi.csv", table)
    fig = plot_voi(table)
    atomic_write(folder / "voi.png", lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
    return table


# --------------------------------------------------------------------------- the report
def voi_section(
    cmp: CompareResult,
    lang: str = DEFAULT_LANGUAGE,
    figure: Callable[[Any, str], str] | None = None,
    labels: Mapping[str, str] | None = None,
    wtp: float | None = None,
) -> str:
    """The report's value-of-information paragraph (HTML), translated; empty unless useful.

    Shown when at least two strategies have costs and the effect is prevented case-years.

    Args:
        cmp: the comparison.
        lang: language.
        figure: draws a figure into the report, ``figure(fig, caption) -> html``.
        labels: strategy name -> label shown (default the names).
        wtp: willingness to pay per prevented case-year; default the scenario's.
    """
    costed = [r for r in cmp.runs.values() if float(r.metric("cost_pv").mean()) > 0]
    if len(costed) < 2 or cmp.effect != "case_years_prevented_pv":
        return ""
    _ = gettext_for(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOIWarning)  # the paragraph says so itself
        table = voi_table(cmp, wtp=wtp)
    first = table.iloc[0]
    intro = _(
        "What it would be worth to the municipality to know more before choosing between "
        "these strategies and no programme, valuing a prevented problem case-year at "
        "{wtp} ({n} replicates)."
    ).format(wtp=money(first["wtp_eur"], lang), n=int(first["n_replicates"]))
    parts = ["<h3>" + _("Value of information") + "</h3>", f"<p>{intro}</p>"]
    rows = table[~table["group"].isin([EVPI, ALL_PARAMETERS])]
    if not first["evppi_eur"] > 0:
        shown = {**(labels or {}), NO_PROGRAMME: _("no programme")}
        best = shown.get(first["best_option"], first["best_option"])
        parts.append(
            "<p>"
            + _(
                "The best choice is {option} in every replicate, so resolving the uncertainty "
                "is worth nothing before deciding (EVPI {amount})."
            ).format(option=html.escape(best), amount=money(0.0, lang))
            + "</p>"
        )
    else:
        items = [
            _(
                "Resolving the uncertainty about {group} is worth up to {amount} before "
                "deciding (EVPPI; EVPI {evpi} for all uncertainty)."
            ).format(
                group=_(row["label"]),
                amount=money(row["evppi_eur"], lang),
                evpi=money(first["evppi_eur"], lang),
            )
            for _i, row in rows.sort_values("evppi_eur", ascending=False).iterrows()
            if _has_value(row)
        ]
        parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    fixed = [_(r["label"]) for _i, r in rows.iterrows() if r["evppi_eur"] != r["evppi_eur"]]
    if fixed:
        text = _("No uncertainty in this run, so no value: {groups}.")
        parts.append("<p>" + text.format(groups=", ".join(fixed)) + "</p>")
    if first["n_replicates"] < MIN_REPLICATES:
        text = _(
            "Estimated from only {n} replicates: treat these amounts as rough (at least "
            "{minimum} are advised)."
        )
        parts.append(
            "<p>" + text.format(n=int(first["n_replicates"]), minimum=MIN_REPLICATES) + "</p>"
        )
    if figure is not None and first["evppi_eur"] > 0:
        parts.append(figure(plot_voi(table), _("Value of information by group of parameters")))
    return "".join(parts)
