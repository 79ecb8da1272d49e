"""Economics: pure functions from recorded counts to costs, benefits and ratios.

Nothing here runs inside the simulation kernels. A replicate's :class:`Recording`
(participant-months, enrolments, completions, provider adoptions and offer-months,
prevalence with and without the programme), the compiled :class:`ModelSpec` (when
channels and offers are active) and the scenario's cost and ``economics`` sections
give monthly cost and benefit flows; these are discounted and turned into tidy
summary rows (``cost_pv``, ``benefit_pv``, ``npv``, ``bcr``, ``roi``, ...).

Timing convention: amounts of simulated month ``m`` (1-based) fall at the middle of
the month, ``t_m = (m - 1/2) / 12`` years, and are discounted to the start of the run
with ``(1 + r) ** -t``. Every formula, default and source is in ``docs/economics.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from impactsim.engine.simulate import Recording
from impactsim.engine.spec import ModelSpec
from impactsim.metrics import _Rows
from impactsim.rng import gamma_multiplier, replicate_key
from impactsim.scenario import Economics, NamedOutcome, Scenario
from impactsim.tables import BREAKDOWN_COLUMNS

#: Intervention cost items (fields of InterventionCosts; also the names of their cost streams).
INTERVENTION_COST_ITEMS: tuple[str, ...] = (
    "per_participant_month_eur",
    "per_enrolment_eur",
    "per_completer_eur",
    "per_provider_adoption_eur",
    "per_provider_year_eur",
    "per_place_month_eur",
)

#: Economics metrics in the summary table and what they mean (units).
ECONOMICS_METRICS: dict[str, str] = {
    "cost_pv": (
        "present value of all costs, discounted at the cost rate (euros); also per "
        "intervention and per channel"
    ),
    "cost_pv_coordination": "present value of the strategy's coordination costs (euros)",
    "cost_nominal": "undiscounted sum of all costs over the horizon (euros)",
    "benefit_pv": "present value of all monetised benefits, discounted at the effect rate (euros)",
    "benefit_pv_<stakeholder>": "benefit_pv accruing to one stakeholder (euros)",
    "benefit_pv_beyond_horizon": "part of benefit_pv falling after the horizon (euros)",
    "cost_pv_paid_by_<stakeholder>": (
        "cost_pv paid by one stakeholder (each cost section's payer, default the "
        "municipality) (euros)"
    ),
    "net_pv_<stakeholder>": (
        "what one stakeholder receives minus what it pays: benefit_pv_<stakeholder> - "
        "cost_pv_paid_by_<stakeholder> (euros)"
    ),
    "case_years_prevented": "prevented problem-case-years within the horizon (case-years)",
    "case_years_prevented_pv": (
        "prevented case-years discounted at the effect rate, incl. extrapolation (case-years)"
    ),
    "npv": "net present value benefit_pv - cost_pv (euros)",
    "bcr": "benefit-cost ratio benefit_pv / cost_pv (dimensionless)",
    "roi": "return on investment (benefit_pv - cost_pv) / cost_pv (dimensionless)",
    "p_benefit_exceeds_cost": (
        "1 if benefit_pv > cost_pv in the replicate else 0; its mean over replicates is the "
        "probability that benefits exceed costs"
    ),
    "participants": "enrolments in any offered intervention, all segments (count)",
    "cost_per_participant": "cost_pv / participants (euros per participant)",
    "benefit_per_participant": "benefit_pv / participants (euros per participant)",
    "benefit_per_participant_<stakeholder>": "benefit_pv_<stakeholder> / participants (euros)",
    "net_benefit_per_participant": "npv / participants (euros per participant)",
    "cost_per_case_prevented": "cost_pv / cases_prevented at the horizon (euros per case)",
    "cost_per_case_year_prevented": (
        "cost_pv / case_years_prevented_pv: the ICER against no programme (euros per case-year)"
    ),
    "cost_per_pp_impact": "cost_pv / public_impact_pp at the horizon (euros per percentage point)",
    "nmb": "net monetary benefit WTP x case_years_prevented_pv - cost_pv (euros)",
    "p_cost_effective": (
        "1 if nmb > 0 at the configured willingness to pay else 0; its mean over replicates is "
        "the probability that the strategy is cost-effective against no programme"
    ),
}


# --------------------------------------------------------------------------- arithmetic
def discount_factor(years: np.ndarray | float, rate_per_year: float) -> np.ndarray:
    """Discount factor ``(1 + r) ** -t`` for amounts falling ``t`` years after the start.

    Args:
        years: time(s) in years since the start of the run (>= 0).
        rate_per_year: annual discount rate (fraction, e.g. 0.04).

    Returns:
        The factor(s), same shape as ``years``.
    """
    if rate_per_year < 0:
        raise ValueError(f"discount rate must be non-negative (got {rate_per_year})")
    return np.power(1.0 + rate_per_year, -np.asarray(years, dtype=np.float64))


def month_midpoints(n_months: int, first_month: int = 1) -> np.ndarray:
    """Times (years) of the middles of months ``first_month .. first_month + n_months - 1``.

    Month ``m`` (1-based) covers ``[(m - 1) / 12, m / 12)`` years; its amounts fall at
    ``(m - 1/2) / 12``.
    """
    m = np.arange(first_month, first_month + n_months, dtype=np.float64)
    return (m - 0.5) / 12.0


def present_value(monthly: np.ndarray, rate_per_year: float, first_month: int = 1) -> float:
    """Present value of monthly amounts, each discounted from the middle of its month.

    ``PV = sum_j a_j (1 + r) ** -((first_month + j - 1/2) / 12)``.

    Args:
        monthly: amounts of consecutive months (euros or case-years), months 1-based.
        rate_per_year: annual discount rate (fraction).
        first_month: number of the month of ``monthly[0]``.

    Returns:
        The present value at the start of the run.
    """
    a = np.asarray(monthly, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.dot(a, discount_factor(month_midpoints(a.size, first_month), rate_per_year)))


def benefit_cost_ratios(benefit_pv: float, cost_pv: float) -> dict[str, float]:
    """NPV, benefit-cost ratio and ROI from present values.

    Args:
        benefit_pv: present value of benefits B (euros).
        cost_pv: present value of costs C (euros).

    Returns:
        ``npv = B - C``, ``bcr = B / C`` and ``roi = (B - C) / C`` (NaN when C = 0), and
        ``p_benefit_exceeds_cost`` = 1.0 if B > C else 0.0.
    """
    npv = benefit_pv - cost_pv
    bcr = benefit_pv / cost_pv if cost_pv > 0 else math.nan
    roi = npv / cost_pv if cost_pv > 0 else math.nan
    return {
        "npv": npv,
        "bcr": bcr,
        "roi": roi,
        "p_benefit_exceeds_cost": float(benefit_pv > cost_pv),
    }


def _safe_div(a: float, b: float) -> float:
    """``a / b`` when ``b > 0``, else NaN (a cost per unit of a non-positive effect is undefined)."""
    return a / b if b > 0 else math.nan


# --------------------------------------------------------------------------- activity
def _step_months(spec: ModelSpec) -> np.ndarray:
    """Month (1-based) of each simulation step."""
    return np.arange(spec.n_steps) // spec.steps_per_month + 1


def offer_active_months(spec: ModelSpec) -> np.ndarray:
    """Months each offer runs within each month: ``[M + 1, K]`` (index 0 unused)."""
    t = np.arange(spec.n_steps)
    on = (spec.offer_start[None, :] <= t[:, None]) & (t[:, None] < spec.offer_end[None, :])
    out = np.zeros((spec.n_months + 1, spec.n_interventions))
    np.add.at(out, _step_months(spec), on * spec.dt)
    return out


def channel_active_months(spec: ModelSpec) -> np.ndarray:
    """Months each channel is active *and* promotes an offered intervention: ``[M + 1, C]``."""
    t = np.arange(spec.n_steps)
    chan_on = (spec.chan_start[None, :] <= t[:, None]) & (t[:, None] < spec.chan_end[None, :])
    offer_on = (spec.offer_start[None, :] <= t[:, None]) & (t[:, None] < spec.offer_end[None, :])
    promoting = (offer_on.astype(np.int64) @ spec.promotes.T.astype(np.int64)) > 0  # [T, C]
    out = np.zeros((spec.n_months + 1, spec.n_channels))
    np.add.at(out, _step_months(spec), (chan_on & promoting) * spec.dt)
    return out


def strategy_active_months(spec: ModelSpec) -> np.ndarray:
    """Months in which at least one intervention is offered, per month: ``[M + 1]``."""
    t = np.arange(spec.n_steps)
    on = ((spec.offer_start[None, :] <= t[:, None]) & (t[:, None] < spec.offer_end[None, :])).any(
        axis=1
    )
    out = np.zeros(spec.n_months + 1)
    np.add.at(out, _step_months(spec), on * spec.dt)
    return out


# --------------------------------------------------------------------------- one replicate
@dataclass
class CostFlows:
    """Nominal costs per month (euros), months 1..M at index 0..M-1, and who pays them."""

    intervention: dict[str, np.ndarray]
    channel: dict[str, np.ndarray]
    coordination: np.ndarray
    payer: dict[tuple[str, str], str] = field(default_factory=dict)

    def total(self) -> np.ndarray:
        """All costs per month (euros)."""
        out = self.coordination.copy()
        for arr in (*self.intervention.values(), *self.channel.values()):
            out += arr
        return out

    def by_payer(self) -> dict[str, np.ndarray]:
        """Costs per month of each paying stakeholder (euros)."""
        out: dict[str, np.ndarray] = {}
        parts = [
            *((("intervention", k), v) for k, v in self.intervention.items()),
            *((("channel", k), v) for k, v in self.channel.items()),
            (("strategy", "coordination"), self.coordination),
        ]
        for key, flow in parts:
            who = self.payer.get(key, "municipality")
            out[who] = out.get(who, 0.0) + flow
        return out


def expected_contacts(
    n_cat: np.ndarray, contact_hz: np.ndarray, chan_cat: np.ndarray
) -> np.ndarray:
    """Expected contacts each channel makes per month active: ``[M, C]``.

    ``Σ_{a,s} n_cat[m, a, s] · λ_{s,c} · 1[c contacts category a]``: the parents of cell
    ``s`` and adopter category ``a`` present at the end of month ``m`` times the channel's
    contact rate for ``s`` (contacts per parent per month), where it contacts ``a``.

    Args:
        n_cat: parents present per adopter category and cell, ``[M, A, S]``.
        contact_hz: contact rates, ``[S, C]`` (contacts per parent per month).
        chan_cat: whether channel ``c`` contacts category ``a``, ``[C, A]``.
    """
    return np.einsum(
        "mas,sc,ca->mc", n_cat.astype(np.float64), contact_hz, chan_cat.astype(np.float64)
    )


def intervention_cost_items(
    rec: Recording, spec: ModelSpec, scenario: Scenario, rep_key: int
) -> dict[str, dict[str, np.ndarray]]:
    """Monthly nominal costs of each intervention by cost item (euros, months 1..M).

    Only the items with a positive unit cost are given, in the order of
    :data:`INTERVENTION_COST_ITEMS`. The volumes of the participant items (participant
    months, enrolments, completions) are summed over the recording's cells; those of the
    provider items (adoptions, offer-months, places) are the organisations'.

    Args:
        rec: the replicate's recording.
        spec: the compiled scenario.
        scenario: the scenario (its interventions' ``costs`` and ``economics.cost_cv``).
        rep_key: replicate key (for the cost uncertainty draws).

    Returns:
        ``{intervention: {item: flow [M]}}``.
    """
    ivs = {iv.name: iv for iv in scenario.interventions}
    sl = slice(1, spec.n_months + 1)
    # funded places: each organisation's places per month while it offers k (0 if unlimited:
    # a place cost with unlimited places is refused when the scenario is read)
    places = np.where(np.isfinite(spec.prov_cap_step), spec.prov_cap_step / spec.dt, 0.0)
    place_months = np.einsum("mpk,p->mk", rec.provider_offer_months[sl], places)
    out: dict[str, dict[str, np.ndarray]] = {}
    for k, name in enumerate(spec.intervention_names):
        costs = ivs[name].costs
        cv = scenario.economics.cost_cv if costs.cv is None else costs.cv
        volume = {
            "per_participant_month_eur": rec.participant_months[sl, k, :].sum(axis=1),
            "per_enrolment_eur": rec.enrol_new[sl, k, :].sum(axis=1),
            "per_completer_eur": rec.complete_new[sl, k, :].sum(axis=1),
            "per_provider_adoption_eur": rec.provider_adopt_new[sl, k],
            "per_provider_year_eur": rec.provider_offer_months[sl, :, k].sum(axis=1) / 12.0,
            "per_place_month_eur": place_months[:, k],
        }
        out[name] = {}
        for item in INTERVENTION_COST_ITEMS:
            unit = getattr(costs, item)
            if unit > 0:
                mult = gamma_multiplier(rep_key, cv, "cost", "intervention", name, item)
                out[name][item] = unit * mult * volume[item].astype(np.float64)
    return out


def channel_cost_items(
    rec: Recording, spec: ModelSpec, scenario: Scenario, rep_key: int
) -> dict[str, dict[str, np.ndarray]]:
    """Monthly nominal costs of each channel by cost item (euros, months 1..M).

    ``per_month_active_eur``: the unit cost times the months active (and promoting an
    offered intervention); ``per_contact_eur``: the unit cost times the expected contacts
    (:func:`expected_contacts`, over the recording's cells) in the months active. Only the
    items with a positive unit cost are given.

    Args:
        rec: the replicate's recording.
        spec: the compiled scenario.
        scenario: the scenario (its channels' ``costs`` and ``economics.cost_cv``).
        rep_key: replicate key (for the cost uncertainty draws).

    Returns:
        ``{channel: {item: flow [M]}}``.
    """
    chans = {c.name: c for c in scenario.channels}
    sl = slice(1, spec.n_months + 1)
    active = channel_active_months(spec)[sl]  # [M, C]
    contacts_per_month = expected_contacts(rec.n_cat[sl], spec.contact_hz, spec.chan_cat)
    out: dict[str, dict[str, np.ndarray]] = {}
    for c, name in enumerate(spec.channel_names):
        costs = chans[name].costs
        cv = scenario.economics.cost_cv if costs.cv is None else costs.cv
        out[name] = {}
        if costs.per_month_active_eur > 0:
            mult = gamma_multiplier(rep_key, cv, "cost", "channel", name, "per_month_active_eur")
            out[name]["per_month_active_eur"] = costs.per_month_active_eur * mult * active[:, c]
        if costs.per_contact_eur > 0:
            mult = gamma_multiplier(rep_key, cv, "cost", "channel", name, "per_contact_eur")
            out[name]["per_contact_eur"] = (
                costs.per_contact_eur * mult * contacts_per_month[:, c] * active[:, c]
            )
    return out


def cost_flows(rec: Recording, spec: ModelSpec, scenario: Scenario, rep_key: int) -> CostFlows:
    """Monthly nominal costs of one replicate, by intervention, channel and coordination.

    Args:
        rec: the replicate's recording.
        spec: the compiled scenario.
        scenario: the scenario (its ``costs`` sections and ``economics.cost_cv``).
        rep_key: replicate key (for the cost uncertainty draws).

    Returns:
        The :class:`CostFlows` (euros per month, undiscounted).
    """
    M = spec.n_months
    ivs = {iv.name: iv for iv in scenario.interventions}
    chans = {c.name: c for c in scenario.channels}
    payer = {("strategy", "coordination"): scenario.strategy.costs.payer}
    payer |= {("intervention", n): ivs[n].costs.payer for n in spec.intervention_names}
    payer |= {("channel", n): chans[n].costs.payer for n in spec.channel_names}
    iv_items = intervention_cost_items(rec, spec, scenario, rep_key)
    ch_items = channel_cost_items(rec, spec, scenario, rep_key)
    sc = scenario.strategy.costs
    coord = np.zeros(M)
    if sc.coordination_per_year_eur > 0:
        cv = scenario.economics.cost_cv if sc.cv is None else sc.cv
        mult = gamma_multiplier(rep_key, cv, "cost", "strategy", "coordination")
        coord = sc.coordination_per_year_eur / 12.0 * mult * strategy_active_months(spec)[1:]
    return CostFlows(
        # each item added in turn to zeros, in the items' order
        intervention={name: sum(items.values(), np.zeros(M)) for name, items in iv_items.items()},
        channel={name: sum(items.values(), np.zeros(M)) for name, items in ch_items.items()},
        coordination=coord,
        payer=payer,
    )


def prevented_cases(rec: Recording, spec: ModelSpec) -> np.ndarray:
    """Prevented cases in the target population at the end of months 1..M (count).

    ``Δ_m = sum over target segments of (prev_cf[m] - prev[m])``.
    """
    T = spec.target
    return (rec.prev_cf[1:, T] - rec.prev[1:, T]).sum(axis=1).astype(np.float64)


def extrapolation_half_life_years(
    rec: Recording, spec: ModelSpec, scenario: Scenario
) -> float | None:
    """Half-life (years) of prevented cases after the horizon; None = no decay.

    The configured ``economics.extrapolation.half_life_years`` when set; otherwise the
    enrolment-weighted decay rate of the offered interventions,
    ``λ = Σ_k w_k ln 2 / H_k`` (``1 / H_k = 0`` without decay), gives ``ln 2 / λ``.
    """
    cfg = scenario.economics.extrapolation.half_life_years
    if cfg is not None:
        return cfg
    ivs = {iv.name: iv for iv in scenario.interventions}
    enrol = rec.enrol_new.sum(axis=(0, 2)).astype(np.float64)
    if enrol.sum() <= 0:
        return None
    w = enrol / enrol.sum()
    rate = 0.0
    for k, name in enumerate(spec.intervention_names):
        h = ivs[name].effect_half_life_months
        if h is not None:
            rate += w[k] * math.log(2.0) / (h / 12.0)
    return math.log(2.0) / rate if rate > 0 else None


def extrapolated_cases(
    delta_horizon: float, n_months: int, half_life_years: float | None
) -> np.ndarray:
    """Prevented cases in each of ``n_months`` months after the horizon.

    ``Δ_{M+j} = Δ_M · 2 ** (-j / (12 H))`` for ``j = 1 .. n_months``; constant without decay.
    """
    j = np.arange(1, n_months + 1, dtype=np.float64)
    if half_life_years is None:
        return np.full(n_months, float(delta_horizon))
    return float(delta_horizon) * np.exp2(-j / (12.0 * half_life_years))


@dataclass
class ValueItem:
    """One monetised benefit: ``eur × probability`` per prevented case-year, after ``lag`` years."""

    label: str
    stakeholder: str
    eur: float
    probability: float
    lag_years: float
    multiplier: float = 1.0


def value_items(
    econ: Economics, rep_key: int, outcome: NamedOutcome | None = None
) -> list[ValueItem]:
    """The monetised benefits of an outcome with this replicate's uncertainty multipliers.

    ``outcome`` None: the primary outcome's (``economics.case_year_values`` and
    ``linked_outcomes``); else an outcome after the primary's own, their multipliers
    keyed by the outcome's name too (so the primary's draws stay as they were).
    """
    out: list[ValueItem] = []
    values = econ.case_year_values if outcome is None else outcome.case_year_values
    linked = econ.linked_outcomes if outcome is None else outcome.linked_outcomes
    key = () if outcome is None else (outcome.name,)
    for v in values:
        cv = econ.value_cv if v.cv is None else v.cv
        mult = gamma_multiplier(rep_key, cv, "value", "case_year", *key, v.stakeholder)
        out.append(
            ValueItem(
                f"case_year:{v.stakeholder}", v.stakeholder, v.eur_per_case_year, 1.0, 0.0, mult
            )
        )
    for o in linked:
        cv = econ.value_cv if o.cv is None else o.cv
        mult = gamma_multiplier(rep_key, cv, "value", "linked_outcome", *key, o.name)
        out.append(
            ValueItem(
                f"linked:{o.name}",
                o.stakeholder,
                o.cost_avoided_eur,
                o.probability_per_case_year,
                o.lag_years,
                mult,
            )
        )
    return out


@dataclass
class ReplicateEconomics:
    """Costs, benefits and effects of one replicate (present values at the start of the run)."""

    cost_pv: float
    cost_pv_intervention: dict[str, float]
    cost_pv_channel: dict[str, float]
    cost_pv_coordination: float
    cost_nominal: float
    benefit_pv: float
    benefit_pv_stakeholder: dict[str, float]
    benefit_pv_beyond_horizon: float
    cost_pv_payer: dict[str, float]
    case_years_prevented: float
    case_years_prevented_pv: float
    participants: float
    cases_prevented: float
    public_impact_pp: float
    flows: CostFlows = field(repr=False)
    #: with several outcomes, per outcome (by name): benefit_pv, benefit_pv_<stakeholder>,
    #: case_years_prevented, case_years_prevented_pv; the totals above sum the money over
    #: outcomes, the case-years are the primary outcome's
    per_outcome: dict[str, dict[str, float]] = field(default_factory=dict)

    def metrics(self, wtp_eur_per_case_year: float) -> dict[str, float]:
        """Scalar summary metrics (totals), incl. ratios, per-participant figures and NMB."""
        out = {
            "cost_pv": self.cost_pv,
            "cost_pv_coordination": self.cost_pv_coordination,
            "cost_nominal": self.cost_nominal,
            "benefit_pv": self.benefit_pv,
        }
        for sh, v in self.benefit_pv_stakeholder.items():
            out[f"benefit_pv_{sh}"] = v
        out["benefit_pv_beyond_horizon"] = self.benefit_pv_beyond_horizon
        for sh, v in self.cost_pv_payer.items():
            out[f"cost_pv_paid_by_{sh}"] = v
        for sh, v in self.cost_pv_payer.items():
            out[f"net_pv_{sh}"] = self.benefit_pv_stakeholder[sh] - v
        out["case_years_prevented"] = self.case_years_prevented
        out["case_years_prevented_pv"] = self.case_years_prevented_pv
        out.update(benefit_cost_ratios(self.benefit_pv, self.cost_pv))
        n = self.participants
        out["participants"] = n
        out["cost_per_participant"] = _safe_div(self.cost_pv, n)
        out["benefit_per_participant"] = _safe_div(self.benefit_pv, n)
        for sh, v in self.benefit_pv_stakeholder.items():
            out[f"benefit_per_participant_{sh}"] = _safe_div(v, n)
        out["net_benefit_per_participant"] = _safe_div(self.benefit_pv - self.cost_pv, n)
        out["cost_per_case_prevented"] = _safe_div(self.cost_pv, self.cases_prevented)
        out["cost_per_case_year_prevented"] = _safe_div(self.cost_pv, self.case_years_prevented_pv)
        out["cost_per_pp_impact"] = _safe_div(self.cost_pv, self.public_impact_pp)
        nmb = wtp_eur_per_case_year * self.case_years_prevented_pv - self.cost_pv
        out["nmb"] = nmb
        out["p_cost_effective"] = float(nmb > 0)
        return out


def replicate_economics(
    rec: Recording, spec: ModelSpec, scenario: Scenario, rep_key: int
) -> ReplicateEconomics:
    """Costs, benefits and effects of one replicate.

    Args:
        rec: the replicate's recording.
        spec: the compiled scenario.
        scenario: the scenario (cost sections and ``economics``).
        rep_key: the replicate key (``impactsim.rng.replicate_key(seed, replicate)``).

    Returns:
        A :class:`ReplicateEconomics`; formulas in ``docs/economics.md``.
    """
    flows = cost_flows(rec, spec, scenario, rep_key)
    half_life = (
        extrapolation_half_life_years(rec, spec, scenario)
        if scenario.economics.extrapolation.enabled
        else None
    )
    return economics_of(flows, rec, spec, scenario, rep_key, half_life)


def economics_of(
    flows: CostFlows,
    rec: Recording,
    spec: ModelSpec,
    scenario: Scenario,
    rep_key: int,
    half_life_years: float | None,
) -> ReplicateEconomics:
    """Costs, benefits and effects from given cost flows and the recording's prevented cases.

    :func:`replicate_economics` of the municipality; :mod:`impactsim.place_economics` gives
    it a neighbourhood's flows and cells.

    Args:
        flows: the monthly cost flows to value.
        rec: the recording whose cells (``spec.target``) give the prevented cases,
            families and participants.
        spec: the compiled scenario (or a view of it with the cells' target).
        scenario: the scenario (``economics``).
        rep_key: the replicate key (for the value uncertainty draws).
        half_life_years: half-life of the prevented cases after the horizon (None: no
            decay), used when ``economics.extrapolation`` is on.

    Returns:
        A :class:`ReplicateEconomics`.
    """
    econ = scenario.economics
    M = spec.n_months
    r_c, r_e = econ.discount_rate_costs_per_year, econ.discount_rate_effects_per_year
    cost_iv = {k: present_value(v, r_c) for k, v in flows.intervention.items()}
    cost_ch = {k: present_value(v, r_c) for k, v in flows.channel.items()}
    cost_coord = present_value(flows.coordination, r_c)
    total_flow = flows.total()

    delta = prevented_cases(rec, spec)  # months 1..M
    primary = _outcome_benefits(delta, value_items(econ, rep_key), scenario, half_life_years)
    by_sh, beyond, case_years, t = primary
    per_outcome: dict[str, dict[str, float]] = {}
    outs = scenario.outcome_list
    if len(outs) > 1:
        per_outcome[outs[0].name] = _outcome_metrics(by_sh, delta, case_years, t, r_e)
        T = spec.target
        for o, out in enumerate(outs[1:]):
            d_o = (rec.x_prev_cf[1:, o][:, T] - rec.x_prev[1:, o][:, T]).sum(axis=1)
            d_o = d_o.astype(np.float64)
            items = value_items(econ, rep_key, out)
            sh_o, beyond_o, cy_o, t_o = _outcome_benefits(d_o, items, scenario, half_life_years)
            per_outcome[out.name] = _outcome_metrics(sh_o, d_o, cy_o, t_o, r_e)
            by_sh = {sh: v + sh_o[sh] for sh, v in by_sh.items()}
            beyond += beyond_o
    stakeholders = econ.all_stakeholders

    paid = flows.by_payer()
    T = spec.target
    n_t = float(rec.n[M, T].sum())
    cases_m = float((rec.prev_cf[M, T] - rec.prev[M, T]).sum())
    return ReplicateEconomics(
        cost_pv=float(sum(cost_iv.values()) + sum(cost_ch.values()) + cost_coord),
        cost_pv_intervention=cost_iv,
        cost_pv_channel=cost_ch,
        cost_pv_coordination=cost_coord,
        cost_nominal=float(total_flow.sum()),
        benefit_pv=float(sum(by_sh.values())),
        benefit_pv_stakeholder=by_sh,
        benefit_pv_beyond_horizon=beyond,
        cost_pv_payer={
            sh: present_value(paid[sh], r_c) if sh in paid else 0.0 for sh in stakeholders
        },
        case_years_prevented=float(delta.sum() / 12.0),
        case_years_prevented_pv=float(np.dot(case_years, discount_factor(t, r_e))),
        participants=float(rec.enrol_new.sum()),
        cases_prevented=cases_m,
        public_impact_pp=100.0 * cases_m / n_t if n_t > 0 else math.nan,
        flows=flows,
        per_outcome=per_outcome,
    )


def _outcome_benefits(
    delta: np.ndarray, items: list[ValueItem], scenario: Scenario, half_life: float | None
) -> tuple[dict[str, float], float, np.ndarray, np.ndarray]:
    """One outcome's monetised benefits from its prevented cases per month ``delta`` [M].

    Returns:
        ``(present value per stakeholder, of which after the horizon, case-years per
        counted month, the months' midpoints in years)``, with the extrapolation rule
        (prevented cases after the horizon halve every ``half_life`` years).
    """
    econ = scenario.economics
    M = delta.size
    r_e = econ.discount_rate_effects_per_year
    horizon_years = M / 12.0
    ext = econ.extrapolation
    end_years = counted_until_years(scenario)
    if ext.enabled:
        n_ext = round(ext.years * 12.0)
        delta_all = np.concatenate(
            [delta, extrapolated_cases(delta[-1] if M else 0.0, n_ext, half_life)]
        )
    else:
        delta_all = delta
    case_years = delta_all / 12.0
    t = month_midpoints(case_years.size)
    by_sh = dict.fromkeys(econ.all_stakeholders, 0.0)
    beyond = 0.0
    for item in items:
        when = t + item.lag_years
        counted = when <= end_years + 1e-9
        amounts = case_years * item.eur * item.probability * item.multiplier
        pv = amounts * discount_factor(when, r_e) * counted
        by_sh[item.stakeholder] += float(pv.sum())
        beyond += float(pv[when > horizon_years + 1e-9].sum())
    return by_sh, beyond, case_years, t


def _outcome_metrics(
    by_sh: dict[str, float], delta: np.ndarray, case_years: np.ndarray, t: np.ndarray, r_e: float
) -> dict[str, float]:
    """One outcome's rows of the economics table (money and case-years)."""
    out = {"benefit_pv": float(sum(by_sh.values()))}
    out |= {f"benefit_pv_{sh}": v for sh, v in by_sh.items()}
    out["case_years_prevented"] = float(delta.sum() / 12.0)
    out["case_years_prevented_pv"] = float(np.dot(case_years, discount_factor(t, r_e)))
    return out


# --------------------------------------------------------------------------- tables
def counted_until_years(scenario: Scenario) -> float:
    """Last year (since the start) whose benefits count: horizon + extrapolation years if on."""
    ext = scenario.economics.extrapolation
    horizon = scenario.simulation.months / 12.0
    return horizon + (round(ext.years * 12.0) / 12.0 if ext.enabled else 0.0)


def uncountable_linked_outcomes(scenario: Scenario) -> list[str]:
    """Linked outcomes whose lag puts all avoided costs after the last counted year."""
    first = 0.5 / 12.0  # middle of month 1, the earliest prevented case-year
    end = counted_until_years(scenario)
    return [o.name for o in scenario.economics.linked_outcomes if first + o.lag_years > end + 1e-9]


def economics_rows(
    recordings: Sequence[Recording],
    spec: ModelSpec,
    scenario: Scenario,
    seed: int,
    replicates: Sequence[int],
) -> pd.DataFrame:
    """Tidy per-replicate economics rows, in the layout of :func:`impactsim.metrics.summarise`.

    Args:
        recordings: one recording per replicate.
        spec: the compiled scenario.
        scenario: the (resolved) scenario.
        seed: base seed of the run (the replicate keys derive from it).
        replicates: replicate numbers matching ``recordings``.

    Returns:
        Long DataFrame (scenario, replicate, metric, segment, intervention, channel,
        adopter_category, outcome, value); ``cost_pv`` also per intervention and per channel.
    """
    rows = _Rows(with_month=False)
    sc = scenario.name
    wtp = scenario.economics.willingness_to_pay_eur_per_case_year
    for name in uncountable_linked_outcomes(scenario):
        warnings.warn(
            f"economics.linked_outcomes[{name}]: its lag puts every avoided cost after the last "
            "counted year (horizon + extrapolation), so it adds nothing; shorten the lag or "
            "enable economics.extrapolation with enough years",
            UserWarning,
            stacklevel=2,
        )
    for rep, rec in zip(replicates, recordings, strict=True):
        e = replicate_economics(rec, spec, scenario, replicate_key(seed, rep))
        add_economics_rows(rows, sc, rep, e, wtp)
    return rows.frame()


def add_economics_rows(
    rows: _Rows, scenario: str, replicate: int, e: ReplicateEconomics, wtp: float
) -> None:
    """Append one replicate's economics rows (the layout of :func:`economics_rows`).

    The metrics, ``cost_pv`` per intervention and per channel, and with several outcomes
    each outcome's money and case-years.

    Args:
        rows: the table being built (without a month column).
        scenario: scenario name.
        replicate: replicate number.
        e: the replicate's economics.
        wtp: willingness to pay (euros per prevented case-year), for ``nmb``.
    """
    for metric, value in e.metrics(wtp).items():
        rows.add(scenario, replicate, metric, value)
    for name, value in e.cost_pv_intervention.items():
        rows.add(scenario, replicate, "cost_pv", value, intervention=name)
    for name, value in e.cost_pv_channel.items():
        rows.add(scenario, replicate, "cost_pv", value, channel=name)
    for out, values in e.per_outcome.items():
        for metric, value in values.items():
            rows.add(scenario, replicate, metric, value, outcome=out)


def concat_long(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate long tables, keeping the label columns categorical."""
    df = pd.concat(list(frames), ignore_index=True)
    for col in ("scenario", "metric", *BREAKDOWN_COLUMNS):
        if col in df.columns:
            df[col] = pd.Categorical(df[col].astype(object))
    return df
