"""Compile a validated scenario into plain arrays and scalars for the kernels.

Indices used throughout the engine: ``S`` segments, ``A = 5`` adopter categories,
``C`` channels (plus two pseudo-channels: ``C`` = word of mouth, ``C + 1`` =
follow-up referral), ``K`` offered interventions (in the order of the strategy's
offers), ``NP`` provider organisations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from impactsim import population as pop
from impactsim.engine.layout import NEVER
from impactsim.engine.places import cell_fields
from impactsim.population import segment_means
from impactsim.rng import gamma_multiplier, stream_generator, stream_key
from impactsim.scenario import ADOPTER_CATEGORIES, Scenario
from impactsim.scenario.outcomes import correlation_matrix, lower_factor


def step_probability(rate_per_month: np.ndarray | float, dt_months: float) -> np.ndarray:
    """Per-step probability of an event with a constant hazard: ``1 - exp(-rate * dt)``."""
    return -np.expm1(-np.asarray(rate_per_month, dtype=np.float64) * dt_months)


def _steps(month: float | None, per_month: int, default: int) -> int:
    if month is None:
        return default
    return round(month * per_month)


@dataclass(frozen=True)
class ModelSpec:
    """Everything the kernels need that does not change between replicates."""

    n_parents: int
    n_steps: int
    steps_per_month: int
    n_months: int
    dt: float
    segment_names: list[str]
    neighbourhood_names: list[str]  # empty without neighbourhoods
    channel_names: list[str]
    intervention_names: list[str]
    provider_type_names: list[str]
    # population
    # the per-segment arrays below run over cells (neighbourhood, segment), cell h * S + s
    # (engine.places); without neighbourhoods the cells are the segments
    seg_cum: np.ndarray  # [H, cells] cumulative cell shares per neighbourhood
    cell_segment: np.ndarray  # [cells] segment of each cell
    cell_nbh: np.ndarray  # [cells] neighbourhood of each cell
    nbh_share: np.ndarray  # [H] share of the family slots per neighbourhood
    cat_cum: np.ndarray  # [S, A] cumulative adopter-category shares
    seg_mu: np.ndarray  # [S] latent score means
    seg_rank: np.ndarray  # [S] advantage rank
    target: np.ndarray  # [S] bool, segment in the target population
    relative_degree: np.ndarray  # [S]
    network_kind: str
    mean_degree: float
    homophily: float
    rewiring: float
    between_neighbourhoods: float
    p_turnover: float
    cutoff: float
    mic: float
    # the outcomes after the primary (O - 1 of them; none with one outcome)
    outcome_names: list[str]  # [O] the primary first
    x_mu: np.ndarray  # [O - 1, S] latent score means
    x_cutoff: np.ndarray  # [O - 1]
    x_mic: np.ndarray  # [O - 1]
    out_chol: np.ndarray  # [O, O] lower Cholesky factor of the scores' correlation
    # adopter categories
    cat_ch_mult: np.ndarray  # [A]
    cat_im_mult: np.ndarray  # [A]
    cat_threshold: np.ndarray  # [A]
    # channels
    contact_hz: np.ndarray  # [S, C] contacts per month
    chan_ref: np.ndarray  # [C + 2] referral hazard per month (pseudo-channels 0)
    chan_ref_cv: np.ndarray  # [C] its uncertainty between replicates (gamma CV)
    chan_start: np.ndarray  # [C] first active step
    chan_end: np.ndarray  # [C] first inactive step
    promotes: np.ndarray  # [C, K] bool: channel promotes intervention
    chan_cat: np.ndarray  # [C, A] bool: channel contacts adopter category
    # interventions
    offer_start: np.ndarray  # [K] steps
    offer_end: np.ndarray  # [K] steps
    dur_steps: np.ndarray  # [K] int
    p_drop: np.ndarray  # [K, S] per-step dropout probability
    eff_mean: np.ndarray  # [K] Cohen's d mean
    eff_sd: np.ndarray  # [K]
    eff_mult: np.ndarray  # [K, S]
    x_eff_mean: np.ndarray  # [O - 1, K] Cohen's d mean on the further outcomes (0: not moved)
    x_eff_sd: np.ndarray  # [O - 1, K]
    decay_tab: np.ndarray  # [K, n_steps + 1] effect remaining after a lag of j steps
    spill_decay_step: np.ndarray  # [K] multiplicative decay of spillover gain per step
    sleeper_steps: np.ndarray  # [K]
    q_imit: np.ndarray  # [K] per month
    spill: np.ndarray  # [K]
    max_wait_steps: np.ndarray  # [K]
    elig_seg: np.ndarray  # [K, S] bool
    elig_min_score: np.ndarray  # [K] (-inf when none)
    follow_after: np.ndarray  # [K] index of prerequisite (-1 none)
    follow_delay_steps: np.ndarray  # [K]
    follow_ref_hz: np.ndarray  # [K] per month
    gamma: np.ndarray  # [K, K] symmetric interaction
    # providers
    prov_type: np.ndarray  # [NP] provider type index
    prov_alpha: np.ndarray  # [NP] innovation hazard per month
    prov_beta: np.ndarray  # [NP] imitation hazard per month
    prov_p_stop: np.ndarray  # [NP] per-step discontinuation probability
    prov_cap_step: np.ndarray  # [NP] places per step (inf = unlimited)
    prov_init_share: np.ndarray  # [NP]
    prov_fid_mean: np.ndarray  # [NP]
    prov_fid_sd: np.ndarray  # [NP]
    prov_may_offer: np.ndarray  # [NP, K] bool
    type_counts: np.ndarray  # [P] organisations per type
    type_adopt_cv: np.ndarray  # [P] uncertainty of adoption rates between replicates (CV)

    @property
    def n_segments(self) -> int:
        """Number of segments S."""
        return len(self.segment_names)

    @property
    def n_cells(self) -> int:
        """Number of cells (neighbourhood, segment): the engine's segment axis."""
        return len(self.cell_segment)

    @property
    def nbh_slot(self) -> np.ndarray:
        """Neighbourhood of each family slot ([N] int8, :func:`population.neighbourhood_slots`)."""
        return pop.neighbourhood_slots(self.nbh_share, self.n_parents)

    @property
    def n_interventions(self) -> int:
        """Number of offered interventions K."""
        return len(self.intervention_names)

    @property
    def n_channels(self) -> int:
        """Number of real channels C (pseudo-channels excluded)."""
        return len(self.channel_names)


def compile_scenario(sc: Scenario) -> ModelSpec:
    """Turn a validated scenario into a :class:`ModelSpec` of arrays.

    Args:
        sc: validated scenario.

    Returns:
        The compiled specification.
    """
    sim = sc.simulation
    per_month = sim.steps_per_month
    dt = 1.0 / per_month
    seg_index = {s.name: j for j, s in enumerate(sc.population.segments)}
    ch_index = {c.name: j for j, c in enumerate(sc.channels)}
    iv_index = {iv.name: k for k, iv in enumerate(sc.offered_interventions)}
    fields = {
        **_population_fields(sc, dt, seg_index),
        **_outcome_fields(sc, seg_index, list(iv_index)),
        **_channel_fields(sc, per_month, ch_index, len(iv_index)),
        **_intervention_fields(sc, per_month, seg_index, iv_index),
        **_provider_fields(sc, dt, len(iv_index)),
    }
    return ModelSpec(
        n_parents=sc.population.size,
        n_steps=sim.months * per_month,
        steps_per_month=per_month,
        n_months=sim.months,
        dt=dt,
        segment_names=list(seg_index),
        neighbourhood_names=[h.name for h in sc.population.neighbourhoods],
        channel_names=list(ch_index),
        intervention_names=list(iv_index),
        provider_type_names=[p.name for p in sc.providers],
        **(fields | cell_fields(sc, fields)),
    )


def _prevalences(given: dict[str, float] | None, segs: list) -> np.ndarray:
    """Baseline prevalence per segment: an outcome's own, else the segments'."""
    if given is None:
        return np.array([s.baseline_prevalence for s in segs])
    return np.array([given[s.name] for s in segs])


def _outcome_fields(sc: Scenario, seg_index: dict[str, int], iv_names: list[str]) -> dict:
    """The outcomes after the primary: score means, cut-offs, effect sizes, correlation."""
    outs = sc.outcome_list
    segs = sc.population.segments
    by_name = {iv.name: iv for iv in sc.interventions}
    x_mean = np.zeros((len(outs) - 1, len(iv_names)))
    x_sd = np.zeros_like(x_mean)
    for o, out in enumerate(outs[1:]):
        for k, name in enumerate(iv_names):
            size = by_name[name].effect_sizes.get(out.name)
            if size is not None:
                x_mean[o, k], x_sd[o, k] = size.mean, size.sd
    names = [o.name for o in outs]
    corr = correlation_matrix(names, sc.outcome_correlation)
    return {
        "outcome_names": names,
        "x_mu": np.array(
            [
                segment_means(_prevalences(o.baseline_prevalence, segs), o.problem_cutoff)
                for o in outs[1:]
            ]
        ).reshape(len(outs) - 1, len(segs)),
        "x_cutoff": np.array([o.problem_cutoff for o in outs[1:]]),
        "x_mic": np.array([o.minimal_important_change for o in outs[1:]]),
        "out_chol": lower_factor(corr),
        "x_eff_mean": x_mean,
        "x_eff_sd": x_sd,
    }


def _population_fields(sc: Scenario, dt: float, seg_index: dict[str, int]) -> dict[str, Any]:
    """Segments, adopter categories, network, turnover and outcome (ModelSpec fields)."""
    pop = sc.population
    segs = pop.segments
    shares = np.array([s.share for s in segs])
    cat_cum = np.array([np.cumsum(s.adopter_shares.as_tuple()) for s in segs])
    target = np.ones(len(segs), bool)
    if sc.outcome.target_segments is not None:
        target[:] = False
        for name in sc.outcome.target_segments:
            target[seg_index[name]] = True
    cats = pop.adopter_categories.ordered()
    assert len(cats) == len(ADOPTER_CATEGORIES)
    return {
        **_neighbourhood_fields(sc, shares),
        "cat_cum": cat_cum / cat_cum[:, -1:],
        "seg_mu": segment_means(
            _prevalences(sc.outcome_list[0].baseline_prevalence, segs),
            sc.outcome.problem_cutoff,
        ),
        "seg_rank": np.array([s.advantage_rank for s in segs], np.int64),
        "target": target,
        "relative_degree": np.array([s.relative_degree for s in segs]),
        "network_kind": pop.network.kind,
        "mean_degree": pop.network.mean_degree,
        "homophily": pop.network.homophily,
        "rewiring": pop.network.rewiring,
        "between_neighbourhoods": pop.network.between_neighbourhoods,
        "p_turnover": float(step_probability(pop.turnover_rate_per_month, dt)),
        "cutoff": sc.outcome.problem_cutoff,
        "mic": sc.outcome.minimal_important_change,
        "cat_ch_mult": np.array([c.channel_multiplier for c in cats]),
        "cat_im_mult": np.array([c.imitation_multiplier for c in cats]),
        "cat_threshold": np.array([c.social_threshold for c in cats]),
    }


def _neighbourhood_fields(sc: Scenario, shares: np.ndarray) -> dict[str, Any]:
    """Each slot's neighbourhood and each neighbourhood's segment mix (one row without)."""
    hoods = sc.population.neighbourhoods
    names = [s.name for s in sc.population.segments]
    mixes = [
        np.array([h.segment_mix.get(n, 0.0) for n in names]) if h.segment_mix else shares
        for h in hoods
    ] or [shares]
    hood_shares = np.array([h.share for h in hoods]) if hoods else np.ones(1)
    return {
        "seg_cum": np.array([np.cumsum(m) / m.sum() for m in mixes]),
        "nbh_share": hood_shares,
    }


def _channel_fields(
    sc: Scenario, per_month: int, ch_index: dict[str, int], n_iv: int
) -> dict[str, Any]:
    """Channels: contact rates, referral, activity, what they promote (ModelSpec fields)."""
    channels, segs = sc.channels, sc.population.segments
    n_ch = len(channels)
    contact = np.zeros((len(segs), n_ch))
    for j, s in enumerate(segs):
        for name, rate in s.contact_rates.items():
            contact[j, ch_index[name]] = rate
    chan_ref = np.zeros(n_ch + 2)
    chan_ref[:n_ch] = [c.referral_strength for c in channels]
    chan_cat = np.ones((n_ch, len(ADOPTER_CATEGORIES)), bool)
    for j, c in enumerate(channels):
        if c.target_adopter_categories is not None:
            chan_cat[j] = [a in c.target_adopter_categories for a in ADOPTER_CATEGORIES]
    promotes = np.zeros((n_ch, n_iv), bool)
    for k, o in enumerate(sc.strategy.offers):
        for name in o.channels:
            promotes[ch_index[name], k] = True
    return {
        "contact_hz": contact,
        "chan_ref": chan_ref,
        "chan_ref_cv": np.array([c.referral_strength_cv for c in channels], np.float64),
        "chan_start": np.array([_steps(c.start_month, per_month, 0) for c in channels], np.int32),
        "chan_end": np.array([_steps(c.end_month, per_month, NEVER) for c in channels], np.int32),
        "promotes": promotes,
        "chan_cat": chan_cat,
    }


def _intervention_fields(
    sc: Scenario, per_month: int, seg_index: dict[str, int], iv_index: dict[str, int]
) -> dict[str, Any]:
    """Offers and interventions: timing, participation, effects, follow-ups (ModelSpec fields)."""
    offers, ivs = sc.strategy.offers, sc.offered_interventions
    dt = 1.0 / per_month
    n_iv, n_seg = len(ivs), len(seg_index)
    n_steps = sc.simulation.months * per_month
    drop_rate = np.zeros((n_iv, n_seg))
    eff_mult = np.ones((n_iv, n_seg))
    elig_seg = np.ones((n_iv, n_seg), bool)
    for k, iv in enumerate(ivs):
        drop_rate[k, :] = iv.dropout_rate_per_month
        for name, mult in iv.dropout_multiplier.items():
            drop_rate[k, seg_index[name]] *= mult
        for name, mult in iv.effect_multiplier.items():
            eff_mult[k, seg_index[name]] = mult
        if iv.eligibility.segments is not None:
            elig_seg[k, :] = False
            for name in iv.eligibility.segments:
                elig_seg[k, seg_index[name]] = True
    lags = np.arange(n_steps + 1) * dt
    decay = np.ones((n_iv, n_steps + 1), np.float32)
    spill_decay = np.ones(n_iv)
    for k, iv in enumerate(ivs):
        if iv.effect_half_life_months is not None:
            decay[k] = np.exp2(-lags / iv.effect_half_life_months)
            spill_decay[k] = math.exp2(-dt / iv.effect_half_life_months)
    return {
        "offer_start": np.array([_steps(o.start_month, per_month, 0) for o in offers], np.int32),
        "offer_end": np.array([_steps(o.end_month, per_month, NEVER) for o in offers], np.int32),
        "dur_steps": np.array(
            [max(1, round(iv.duration_months * per_month)) for iv in ivs], np.int32
        ),
        "p_drop": step_probability(drop_rate, dt),
        "eff_mean": np.array([iv.effect_size.mean for iv in ivs]),
        "eff_sd": np.array([iv.effect_size.sd for iv in ivs]),
        "eff_mult": eff_mult,
        "decay_tab": decay,
        "spill_decay_step": spill_decay,
        "sleeper_steps": np.array(
            [round(iv.sleeper_delay_months * per_month) for iv in ivs], np.int32
        ),
        "q_imit": np.array([iv.imitation_rate_per_month for iv in ivs]),
        "spill": np.array([iv.spillover_fraction for iv in ivs]),
        "max_wait_steps": np.array([round(iv.max_wait_months * per_month) for iv in ivs], np.int32),
        "elig_seg": elig_seg,
        "elig_min_score": np.array(
            [
                -np.inf
                if iv.eligibility.min_problem_score is None
                else iv.eligibility.min_problem_score
                for iv in ivs
            ]
        ),
        **_follow_up_fields(ivs, per_month, iv_index),
        "gamma": _interactions(sc, iv_index),
    }


def _follow_up_fields(
    ivs: list[Any], per_month: int, iv_index: dict[str, int]
) -> dict[str, np.ndarray]:
    """Follow-ups: prerequisite (-1 none, -2 not offered), delay and referral (ModelSpec fields)."""
    n_iv = len(ivs)
    follow_after = np.full(n_iv, -1, np.int32)
    follow_delay = np.zeros(n_iv, np.int32)
    follow_ref = np.zeros(n_iv)
    for k, iv in enumerate(ivs):
        fu = iv.follow_up
        if fu is not None:
            # a prerequisite that is not offered can never be completed
            follow_after[k] = iv_index.get(fu.after, -2)
            follow_delay[k] = round(fu.delay_months * per_month)
            follow_ref[k] = fu.referral_rate_per_month
    return {
        "follow_after": follow_after,
        "follow_delay_steps": follow_delay,
        "follow_ref_hz": follow_ref,
    }


def _interactions(sc: Scenario, iv_index: dict[str, int]) -> np.ndarray:
    """The symmetric interaction matrix gamma [K, K] of the offered interventions."""
    gamma = np.zeros((len(iv_index), len(iv_index)))
    for inter in sc.strategy.interactions:
        a, b = inter.interventions
        if a in iv_index and b in iv_index:
            gamma[iv_index[a], iv_index[b]] = gamma[iv_index[b], iv_index[a]] = inter.gamma
    return gamma


def _provider_fields(sc: Scenario, dt: float, n_iv: int) -> dict[str, Any]:
    """Provider organisations, one row per organisation (ModelSpec fields)."""
    types = sc.providers
    type_index = {p.name: j for j, p in enumerate(types)}
    counts = np.array([p.count for p in types], np.int64)
    prov_type = np.repeat(np.arange(len(types), dtype=np.int32), counts)

    def per_org(values: list[float]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), counts)

    cap = per_org(
        [math.inf if p.capacity_per_month is None else p.capacity_per_month * dt for p in types]
    )
    may_offer_type = np.zeros((len(types), n_iv), bool)
    for k, o in enumerate(sc.strategy.offers):
        for name in o.providers:
            may_offer_type[type_index[name], k] = True
    return {
        "prov_type": prov_type,
        "prov_alpha": per_org([p.innovation_rate_per_month for p in types]),
        "prov_beta": per_org([p.imitation_rate_per_month for p in types]),
        "prov_p_stop": step_probability(
            per_org([p.discontinuation_rate_per_month for p in types]), dt
        ),
        "prov_cap_step": cap,
        "prov_init_share": per_org([p.initial_offer_share for p in types]),
        "prov_fid_mean": per_org([p.fidelity for p in types]),
        "prov_fid_sd": per_org([p.fidelity_sd for p in types]),
        "prov_may_offer": (
            may_offer_type[prov_type] if len(prov_type) else np.zeros((0, n_iv), bool)
        ),
        "type_counts": counts,
        "type_adopt_cv": np.array([p.adoption_rate_cv for p in types], np.float64),
    }


@dataclass(frozen=True)
class ReplicateDraws:
    """Per-replicate random inputs drawn once before the time loop."""

    effect_d: np.ndarray  # [K] Cohen's d of this replicate
    fidelity: np.ndarray  # [NP] fidelity of each organisation
    keys: dict[str, np.uint64]  # population stream keys
    iv_keys: (
        np.ndarray
    )  # [K, 6] uint64: uptake, channel pick, dropout, queue order, alloc, provider
    prov_keys: np.ndarray  # [K, 3] uint64: adopt, stop, initial
    referral_mult: np.ndarray  # [C] multiplier of each channel's referral strength
    adoption_mult: np.ndarray  # [P] multiplier of each provider type's adoption rates
    x_effect_d: np.ndarray  # [O - 1, K] Cohen's d on the further outcomes
    x_keys: np.ndarray  # [O - 1, 2] uint64: the further outcomes' score normals (a, b)


def _rate_multipliers(rep_key: int, cvs: np.ndarray, kind: str, names, item: str) -> np.ndarray:
    """Per-replicate gamma multipliers (mean 1) of named rates; exactly 1 where the CV is 0."""
    return np.array(
        [
            gamma_multiplier(rep_key, float(cv), kind, n, item)
            for cv, n in zip(cvs, names, strict=True)
        ],
        dtype=np.float64,
    )


def replicate_rates(spec: ModelSpec, draws: ReplicateDraws) -> ModelSpec:
    """The spec with this replicate's referral strengths and adoption rates.

    The same object when every multiplier is 1 (no rate uncertainty), so that scenarios
    without it run exactly as before.
    """
    if (draws.referral_mult == 1.0).all() and (draws.adoption_mult == 1.0).all():
        return spec
    ref = spec.chan_ref.copy()
    ref[: len(draws.referral_mult)] *= draws.referral_mult
    per_org = draws.adoption_mult[spec.prov_type]
    return replace(
        spec, chan_ref=ref, prov_alpha=spec.prov_alpha * per_org, prov_beta=spec.prov_beta * per_org
    )


def draw_replicate(spec: ModelSpec, rep_key: int) -> ReplicateDraws:
    """Draw a replicate's effect sizes, provider fidelities and stream keys.

    Effect sizes and stream keys are keyed by the intervention's *name*, so two
    scenarios offering the same intervention draw the same effect size and the same
    uptake random numbers for it (common random numbers).
    """
    d = np.empty(spec.n_interventions)
    for k, name in enumerate(spec.intervention_names):
        g = stream_generator(rep_key, "intervention", name, "effect_size")
        d[k] = spec.eff_mean[k] + spec.eff_sd[k] * g.standard_normal()
    fid = np.empty(spec.prov_type.shape[0])
    for p, name in enumerate(spec.provider_type_names):
        sel = spec.prov_type == p
        m = sel.sum()
        if m == 0:
            continue
        mean, sd = spec.prov_fid_mean[sel][0], spec.prov_fid_sd[sel][0]
        if sd > 0:
            g = stream_generator(rep_key, "provider", name, "fidelity")
            common = mean * (1 - mean) / sd**2 - 1
            fid[sel] = g.beta(mean * common, (1 - mean) * common, size=m)
        else:
            fid[sel] = mean
    keys = {
        "segment": stream_key(rep_key, *pop.STREAM_SEGMENT),
        "category": stream_key(rep_key, *pop.STREAM_CATEGORY),
        "za": stream_key(rep_key, *pop.STREAM_SCORE_A),
        "zb": stream_key(rep_key, *pop.STREAM_SCORE_B),
        "turnover": stream_key(rep_key, *pop.STREAM_TURNOVER),
        "network": stream_key(rep_key, *pop.STREAM_NETWORK),
        "small_world": stream_key(rep_key, *pop.STREAM_SMALL_WORLD),
    }
    parts = ("uptake", "channel_pick", "dropout", "queue_order", "allocation", "unused")
    iv_keys = np.array(
        [
            [stream_key(rep_key, "intervention", n, p) for p in parts]
            for n in spec.intervention_names
        ],
        dtype=np.uint64,
    ).reshape(spec.n_interventions, len(parts))
    prov_keys = np.array(
        [
            [stream_key(rep_key, "provider-adoption", n, p) for p in ("adopt", "stop", "initial")]
            for n in spec.intervention_names
        ],
        dtype=np.uint64,
    ).reshape(spec.n_interventions, 3)
    referral = _rate_multipliers(
        rep_key, spec.chan_ref_cv, "channel", spec.channel_names, "referral_strength"
    )
    adoption = _rate_multipliers(
        rep_key, spec.type_adopt_cv, "provider", spec.provider_type_names, "adoption_rate"
    )
    x_d, x_keys = _outcome_draws(spec, rep_key)
    return ReplicateDraws(
        effect_d=d,
        fidelity=fid,
        keys=keys,
        iv_keys=iv_keys,
        prov_keys=prov_keys,
        referral_mult=referral,
        adoption_mult=adoption,
        x_effect_d=x_d,
        x_keys=x_keys,
    )


def _outcome_draws(spec: ModelSpec, rep_key: int) -> tuple[np.ndarray, np.ndarray]:
    """The further outcomes' effect sizes [O - 1, K] and score keys [O - 1, 2].

    Keyed by the names of the intervention and the outcome, so adding an outcome or
    changing one leaves every other outcome's draws as they were. An effect size with
    SD 0 is its mean and draws nothing.
    """
    x_d = spec.x_eff_mean.copy()
    for o, out in enumerate(spec.outcome_names[1:]):
        for k, name in enumerate(spec.intervention_names):
            if spec.x_eff_sd[o, k] > 0:
                g = stream_generator(rep_key, "intervention", name, "effect_size", out)
                x_d[o, k] += spec.x_eff_sd[o, k] * g.standard_normal()
    x_keys = np.array(
        [
            [stream_key(rep_key, "population", "problem_score", out, part) for part in ("a", "b")]
            for out in spec.outcome_names[1:]
        ],
        dtype=np.uint64,
    ).reshape(len(spec.outcome_names) - 1, 2)
    return x_d, x_keys
