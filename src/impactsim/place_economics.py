"""Economics by neighbourhood: each neighbourhood's costs, benefits and ratios.

The municipality's economics (:mod:`impactsim.economics`, neighbourhood ``all``) are
divided over the neighbourhoods so that, replicate by replicate, the neighbourhoods' costs,
benefits, case-years and participants add up to the municipality's. With ``h`` a
neighbourhood, ``cells(h)`` its cells (one per segment) and every amount the
municipality's with its own uncertainty multipliers (the same draws as the totals):

* participant-driven intervention costs (``per_participant_month_eur``,
  ``per_enrolment_eur``, ``per_completer_eur``): the neighbourhood's own volumes,
  ``C_k,h(m) = c · g · Σ_{s ∈ cells(h)} V_k[m, s]``;
* provider-driven intervention costs (``per_provider_adoption_eur``,
  ``per_provider_year_eur``, ``per_place_month_eur``): ``C_k,h = w_k,h · C_k``, with
  ``w_k,h`` zero outside the neighbourhoods the offer is open to
  (:func:`impactsim.engine.places.offer_neighbourhoods`: those its providers serve) and,
  among those, proportional to the offer's participant-months in ``h`` over the run, or to
  the families of ``h`` when it had none;
* channel costs: ``per_contact_eur`` by the neighbourhood's own expected contacts
  (:func:`impactsim.economics.expected_contacts` of its cells, as for the totals);
  ``per_month_active_eur`` shared in proportion to the channel's expected contacts in ``h``
  over its active months (a channel restricted to one neighbourhood charges all of it
  there), or to the families of the channel's neighbourhoods when it made none;
* coordination costs: shared in proportion to the families (mean present at the ends of
  months 1..M);
* benefits and case-years: the neighbourhood's own prevented cases (its target cells; the
  primary outcome and any further outcome), valued with the totals' value multipliers;
  after the horizon they decay with the municipality's half-life, so the parts add up;
* ratios (``bcr``, ``roi``, ``cost_per_participant``, ``nmb``, ``p_cost_effective`` ...):
  :meth:`impactsim.economics.ReplicateEconomics.metrics` of the neighbourhood's own totals.

Formulas and an example in ``docs/economics.md``, "By neighbourhood".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from impactsim.economics import (
    INTERVENTION_COST_ITEMS,
    CostFlows,
    ReplicateEconomics,
    add_economics_rows,
    channel_active_months,
    channel_cost_items,
    cost_flows,
    economics_of,
    economics_rows,
    expected_contacts,
    extrapolation_half_life_years,
    intervention_cost_items,
)
from impactsim.engine.places import offer_neighbourhoods
from impactsim.engine.simulate import Recording
from impactsim.engine.spec import ModelSpec
from impactsim.metrics import _Rows
from impactsim.place_metrics import in_neighbourhood, placed, placed_totals
from impactsim.rng import replicate_key
from impactsim.scenario import Scenario

#: Intervention cost items paid per participant: charged where the participants live.
PARTICIPANT_ITEMS = ("per_participant_month_eur", "per_enrolment_eur", "per_completer_eur")
#: Intervention cost items paid per organisation: shared by the offer's neighbourhoods.
PROVIDER_ITEMS = tuple(i for i in INTERVENTION_COST_ITEMS if i not in PARTICIPANT_ITEMS)
#: Recording fields of the outcomes after the primary whose last axis runs over cells.
FURTHER_OUTCOME_FIELDS = ("x_prev_cf", "x_prev", "x_realized", "x_gain_sum")


@dataclasses.dataclass(frozen=True)
class Shares:
    """How one replicate's shared costs are divided over the neighbourhoods.

    Each column adds up to 1 over the neighbourhoods (axis 0).

    Attributes:
        offer: ``[H, K]`` provider-driven costs of intervention ``k`` in neighbourhood ``h``.
        channel: ``[H, C]`` ``per_month_active_eur`` of channel ``c`` in ``h``.
        families: ``[H]`` coordination costs: mean families present.
    """

    offer: np.ndarray
    channel: np.ndarray
    families: np.ndarray


def cells(spec: ModelSpec, h: int) -> slice:
    """The cells of neighbourhood ``h`` (cell ``h * S + s`` for segment ``s``)."""
    return slice(h * spec.n_segments, (h + 1) * spec.n_segments)


def neighbourhood_views(rec: Recording, spec: ModelSpec, h: int) -> tuple[Recording, ModelSpec]:
    """The recording and the spec cut to neighbourhood ``h``'s cells.

    The recording keeps its cells' counts (:func:`impactsim.place_metrics.in_neighbourhood`,
    and the further outcomes' counts); the spec its cells' target, ranks and contact
    rates. Arrays without cells (organisations, the run) are the municipality's.
    """
    part = in_neighbourhood(rec, spec, h)
    where = cells(spec, h)
    part = dataclasses.replace(
        part, **{f: getattr(rec, f)[..., where] for f in FURTHER_OUTCOME_FIELDS}
    )
    view = dataclasses.replace(
        spec,
        target=spec.target[where],
        seg_rank=spec.seg_rank[where],
        contact_hz=spec.contact_hz[where],
    )
    return part, view


def _proportional(weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``weights`` scaled to add up to 1; ``fallback``'s when they add up to 0 (then equal)."""
    for w in (weights, fallback):
        if w.sum() > 0:
            return w / w.sum()
    return np.full(weights.size, 1.0 / weights.size)


def _allowed(names: Sequence[str], where: Sequence[str] | None) -> np.ndarray:
    """1.0 for the neighbourhoods in ``where`` (all when None), else 0.0."""
    return np.array([1.0 if where is None or n in where else 0.0 for n in names])


def cost_shares(rec: Recording, spec: ModelSpec, scenario: Scenario) -> Shares:
    """How one replicate's provider, channel-month and coordination costs are divided.

    Args:
        rec: the replicate's recording (per cell).
        spec: the compiled scenario (with neighbourhoods).
        scenario: the scenario (its offers' and channels' neighbourhoods).

    Returns:
        The :class:`Shares` (see the module docstring for the rules).
    """
    names = spec.neighbourhood_names
    n_h, n_s, M = len(names), spec.n_segments, spec.n_months
    families = rec.n[1:].reshape(M, n_h, n_s).sum(axis=2).mean(axis=0).astype(np.float64)
    pm = rec.participant_months[1:].reshape(M, spec.n_interventions, n_h, n_s).sum(axis=(0, 3))
    open_to = {
        o.intervention: where
        for o, where in zip(scenario.strategy.offers, offer_neighbourhoods(scenario), strict=True)
    }
    offer = np.zeros((n_h, spec.n_interventions))
    for k, name in enumerate(spec.intervention_names):
        allowed = _allowed(names, open_to.get(name))
        offer[:, k] = _proportional(pm[k] * allowed, families * allowed)
    active = channel_active_months(spec)[1:]  # [M, C]
    contacts = np.zeros((n_h, spec.n_channels))  # expected contacts in h while active
    for h in range(n_h):
        where = cells(spec, h)
        per_month = expected_contacts(
            rec.n_cat[1:, :, where], spec.contact_hz[where], spec.chan_cat
        )
        contacts[h] = (per_month * active).sum(axis=0)
    chans = {c.name: c for c in scenario.channels}
    channel = np.zeros((n_h, spec.n_channels))
    for c, name in enumerate(spec.channel_names):
        allowed = _allowed(names, chans[name].neighbourhoods)
        channel[:, c] = _proportional(contacts[:, c], families * allowed)
    return Shares(offer=offer, channel=channel, families=_proportional(families, families))


def neighbourhood_flows(
    rec: Recording,
    spec: ModelSpec,
    scenario: Scenario,
    rep_key: int,
    totals: CostFlows,
    shares: Shares,
    h: int,
) -> CostFlows:
    """Neighbourhood ``h``'s monthly nominal costs (euros), by the rules of the module.

    Args:
        rec: the recording cut to ``h`` (:func:`neighbourhood_views`).
        spec: the spec cut to ``h``.
        scenario: the scenario.
        rep_key: the replicate key (the same cost multipliers as the totals).
        totals: the municipality's cost flows (coordination and payers).
        shares: the replicate's :func:`cost_shares`.
        h: the neighbourhood's index.

    Returns:
        The :class:`~impactsim.economics.CostFlows` charged to ``h``.
    """
    intervention = {}
    for k, (name, items) in enumerate(
        intervention_cost_items(rec, spec, scenario, rep_key).items()
    ):
        flow = np.zeros(spec.n_months)
        for item, part in items.items():
            # participant items: the cut recording's own volumes; provider items: a share
            flow += part if item in PARTICIPANT_ITEMS else shares.offer[h, k] * part
        intervention[name] = flow
    channel = {}
    for c, (name, items) in enumerate(channel_cost_items(rec, spec, scenario, rep_key).items()):
        flow = np.zeros(spec.n_months)
        for item, part in items.items():
            flow += part if item == "per_contact_eur" else shares.channel[h, c] * part
        channel[name] = flow
    return CostFlows(
        intervention=intervention,
        channel=channel,
        coordination=shares.families[h] * totals.coordination,
        payer=totals.payer,
    )


def neighbourhood_economics(
    rec: Recording, spec: ModelSpec, scenario: Scenario, rep_key: int
) -> dict[str, ReplicateEconomics]:
    """One replicate's economics of each neighbourhood, by name.

    Args:
        rec: the replicate's recording (per cell).
        spec: the compiled scenario (with neighbourhoods).
        scenario: the scenario.
        rep_key: the replicate key (``impactsim.rng.replicate_key(seed, replicate)``).

    Returns:
        ``{neighbourhood: ReplicateEconomics}``; their additive quantities add up to
        :func:`impactsim.economics.replicate_economics`'s.
    """
    totals = cost_flows(rec, spec, scenario, rep_key)
    shares = cost_shares(rec, spec, scenario)
    half_life = (
        extrapolation_half_life_years(rec, spec, scenario)
        if scenario.economics.extrapolation.enabled
        else None
    )
    out = {}
    for h, name in enumerate(spec.neighbourhood_names):
        part, view = neighbourhood_views(rec, spec, h)
        flows = neighbourhood_flows(part, view, scenario, rep_key, totals, shares, h)
        out[name] = economics_of(flows, part, view, scenario, rep_key, half_life)
    return out


def place_economics_rows(
    recordings: Sequence[Recording],
    spec: ModelSpec,
    scenario: Scenario,
    seed: int,
    replicates: Sequence[int],
) -> pd.DataFrame:
    """Per-replicate economics rows of each neighbourhood (none without neighbourhoods).

    Args:
        recordings: one recording per replicate.
        spec: the compiled scenario.
        scenario: the (resolved) scenario.
        seed: base seed of the run.
        replicates: replicate numbers matching ``recordings``.

    Returns:
        The layout of :func:`impactsim.economics.economics_rows` with a ``neighbourhood``
        column before ``value``, the neighbourhoods in the scenario's order.
    """
    wtp = scenario.economics.willingness_to_pay_eur_per_case_year
    rows = {name: _Rows(with_month=False) for name in spec.neighbourhood_names}
    for rep, rec in zip(replicates, recordings, strict=True):
        parts = neighbourhood_economics(rec, spec, scenario, replicate_key(seed, rep))
        for name, e in parts.items():
            add_economics_rows(rows[name], scenario.name, rep, e, wtp)
    frames = [placed(r.frame(), name) for name, r in rows.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def economics_tables(
    recordings: Sequence[Recording],
    spec: ModelSpec,
    scenario: Scenario,
    seed: int,
    replicates: Sequence[int],
    like: pd.DataFrame,
) -> list[pd.DataFrame]:
    """The economics rows of a run: the municipality's and, with neighbourhoods, each one's.

    Args:
        recordings: one recording per replicate.
        spec: the compiled scenario.
        scenario: the (resolved) scenario.
        seed: base seed of the run.
        replicates: replicate numbers matching ``recordings``.
        like: the run's summary (with a ``neighbourhood`` column when it has neighbourhoods).

    Returns:
        :func:`impactsim.economics.economics_rows` labelled as ``like``'s rows (``all``),
        then :func:`place_economics_rows` when the scenario has neighbourhoods.
    """
    totals = placed_totals(economics_rows(recordings, spec, scenario, seed, replicates), like)
    if not spec.neighbourhood_names:
        return [totals]
    return [totals, place_economics_rows(recordings, spec, scenario, seed, replicates)]
