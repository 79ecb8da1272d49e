"""Run one replicate: build the population, step through time, record counts.

The recorded state (:class:`Recording`) is plain arrays of counts per month; the
metrics layer turns it into tidy tables. The counterfactual (no-programme world)
is evaluated in the same pass from the same population and the same random
numbers: a family's problem score, segment, turnover and network never depend on
the programme, so the counterfactual prevalence is the share with ``z > cutoff``
among the very same families.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from impactsim.engine import kernels as kn
from impactsim.engine.spec import ModelSpec, ReplicateDraws, draw_replicate
from impactsim.population import build_network, draw_families
from impactsim.rng import stream_generator

#: Below this many parents a step is too short for a parallel region to pay: waking worker
#: threads costs more than the work, and on a busy machine far more (measured: 200 parents,
#: 360 steps took 0.07 s on one thread and 0.7-2.7 s on two). Results do not depend on it.
PARALLEL_MIN_PARENTS = 10_000


@contextmanager
def numba_threads(n: int) -> Iterator[None]:
    """Temporarily use at most ``n`` numba threads in this thread."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, before)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def chunk_bounds(n: int) -> np.ndarray:
    """Fixed partition of parents into chunks (depends on n only, not on threads)."""
    n_chunks = max(1, min(512, n // 256))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)


@dataclass
class Recording:
    """Counts recorded for one replicate.

    Stocks are measured at the end of each month ``m = 0..M`` (index 0 = start);
    flows are summed over the steps of month ``m`` (index 0 unused, zero).
    Axes: S segments, K interventions, A adopter categories, C channels (+ word of
    mouth, + follow-up referral), NP provider organisations.
    """

    n: np.ndarray  # [M+1, S] parents present
    prev: np.ndarray  # [M+1, S] cases, scenario
    prev_cf: np.ndarray  # [M+1, S] cases, counterfactual
    realized: np.ndarray  # [M+1, S] parents with gain >= minimal important change
    gain_sum: np.ndarray  # [M+1, S] summed gain (SD units)
    ever: np.ndarray  # [M+1, K, S] present parents who ever enrolled in k
    completed: np.ndarray  # [M+1, K, S]
    dropped: np.ndarray  # [M+1, K, S]
    enrolled: np.ndarray  # [M+1, K, S] currently enrolled
    waiting: np.ndarray  # [M+1, K, S] currently waiting
    gave_up: np.ndarray  # [M+1, K, S]
    any_ever: np.ndarray  # [M+1, S] took part in any intervention
    any_ever_cat: np.ndarray  # [M+1, A, S]
    any_ever_channel: np.ndarray  # [M+1, C+2, S] by channel of first contact
    indirect: np.ndarray  # [M+1, S] non-participants with a spillover gain
    n_cat: np.ndarray  # [M+1, A, S] parents present per adopter category
    enrol_new: np.ndarray  # [M+1, K, S] flow
    complete_new: np.ndarray  # [M+1, K, S] flow
    dropout_new: np.ndarray  # [M+1, K, S] flow
    gaveup_new: np.ndarray  # [M+1, K, S] flow
    participant_months: np.ndarray  # [M+1, K] flow, parent-months enrolled
    providers_offering: np.ndarray  # [M+1, K] stock, organisations offering
    provider_adopt_new: np.ndarray  # [M+1, K] flow
    provider_offer_months: np.ndarray  # [M+1, NP, K] flow: months each organisation offered k
    provider_enrol: np.ndarray  # [NP, K] enrolments per organisation over the run
    fidelity: np.ndarray  # [NP] fidelity of each organisation in this replicate
    effect_d: np.ndarray  # [K] effect sizes drawn for this replicate
    exits: np.ndarray  # [M+1] families leaving in month m (flow)
    adoption_realized: np.ndarray  # [A, 5] assigned category x realized Rogers category


def _channel_arrays(spec: ModelSpec, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel activity at step t: promotes-now [C,K], awareness hazard [S,A,K], offered-now [K].

    The awareness hazard of a parent of segment s and adopter category a for intervention k
    sums the contact rates of the active channels that promote k and contact category a.
    """
    offered = (spec.offer_start <= t) & (t < spec.offer_end)
    active = (spec.chan_start <= t) & (t < spec.chan_end)
    promote_now = spec.promotes & active[:, None] & offered[None, :]
    aw_hz = np.einsum(
        "sc,ca,ck->sak",
        spec.contact_hz,
        spec.chan_cat.astype(np.float64),
        promote_now.astype(np.float64),
    )
    return promote_now, aw_hz, offered


def simulate_replicate(spec: ModelSpec, rep_key: int, final_state: dict | None = None) -> Recording:
    """Simulate one replicate of a compiled scenario.

    Small populations run on one numba thread (see :data:`PARALLEL_MIN_PARENTS`); the
    results are the same for any number of threads.

    Args:
        spec: compiled scenario.
        rep_key: replicate key from :func:`impactsim.rng.replicate_key`.
        final_state: if a dict is given, the final per-parent state arrays and the network are
            stored in it (for invariant checks and debugging).

    Returns:
        The replicate's :class:`Recording`.
    """
    if spec.n_parents < PARALLEL_MIN_PARENTS:
        with numba_threads(1):
            return _simulate_replicate(spec, rep_key, final_state)
    return _simulate_replicate(spec, rep_key, final_state)


def _simulate_replicate(
    spec: ModelSpec, rep_key: int, final_state: dict | None = None
) -> Recording:
    """The body of :func:`simulate_replicate`, on the current numba thread count."""
    draws: ReplicateDraws = draw_replicate(spec, rep_key)
    n = spec.n_parents
    n_seg, n_iv, n_ch = spec.n_segments, spec.n_interventions, spec.n_channels
    n_prov = spec.prov_type.shape[0]
    n_months, per_month = spec.n_months, spec.steps_per_month
    pop_keys = np.array(
        [draws.keys[k] for k in ("segment", "category", "za", "zb", "turnover")], dtype=np.uint64
    )
    segment, category, score = draw_families(
        pop_keys[0],
        pop_keys[1],
        pop_keys[2],
        pop_keys[3],
        n,
        spec.seg_cum,
        spec.cat_cum,
        spec.seg_mu,
    )
    fully_mixed = spec.network_kind == "fully_mixed"
    if fully_mixed:
        nbr_off, nbrs = np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    else:
        nbr_off, nbrs = build_network(
            segment,
            spec.mean_degree,
            spec.homophily,
            spec.relative_degree,
            stream_generator(rep_key, "population", "network"),
        )

    # structure-of-arrays state
    first_channel = np.full(n, -1, np.int8)
    adopt_step = np.full(n, -1, np.int16)
    status = np.zeros((n, n_iv), np.int8)
    t_event = np.zeros((n, n_iv), np.int16)
    ref_channel = np.full((n, n_iv), -1, np.int8)
    effect = np.zeros((n, n_iv), np.float32)
    spill = np.zeros((n, n_iv), np.float32)
    wom_count = np.zeros((n, n_iv), np.int16)
    exit_mask = np.zeros(n, np.uint16)
    done_mask = np.zeros(n, np.uint16)
    join_mask = np.zeros(n, np.uint16)
    q_id = np.zeros((n_iv, n), np.int32)
    q_t = np.zeros((n_iv, n), np.int16)
    q_len = np.zeros(n_iv, np.int64)
    scratch_id = np.zeros(n, np.int32)
    scratch_key = np.zeros(n, np.float64)
    prov_state = np.zeros((n_prov, n_iv), np.int8)
    prov_acc = np.zeros((n_prov, n_iv), np.float64)
    prov_enrol = np.zeros((n_prov, n_iv), np.int64)
    mf_count = np.zeros((n_seg, n_iv), np.int64)
    n_seg_now = np.bincount(segment, minlength=n_seg).astype(np.int64)

    bounds = chunk_bounds(n)
    n_chunks = bounds.shape[0] - 1
    c_complete = np.zeros((n_chunks, n_iv, n_seg), np.int64)
    c_drop = np.zeros((n_chunks, n_iv, n_seg), np.int64)
    c_enrolled = np.zeros((n_chunks, n_iv), np.int64)
    c_exit_sk = np.zeros((n_chunks, n_seg, n_iv), np.int64)
    c_seg_delta = np.zeros((n_chunks, n_seg), np.int64)
    c_flags = np.zeros((n_chunks, 4), np.int64)  # exits with history, spill, joins, exits

    m1 = n_months + 1
    rec = Recording(
        n=np.zeros((m1, n_seg), np.int64),
        prev=np.zeros((m1, n_seg), np.int64),
        prev_cf=np.zeros((m1, n_seg), np.int64),
        realized=np.zeros((m1, n_seg), np.int64),
        gain_sum=np.zeros((m1, n_seg)),
        ever=np.zeros((m1, n_iv, n_seg), np.int64),
        completed=np.zeros((m1, n_iv, n_seg), np.int64),
        dropped=np.zeros((m1, n_iv, n_seg), np.int64),
        enrolled=np.zeros((m1, n_iv, n_seg), np.int64),
        waiting=np.zeros((m1, n_iv, n_seg), np.int64),
        gave_up=np.zeros((m1, n_iv, n_seg), np.int64),
        any_ever=np.zeros((m1, n_seg), np.int64),
        any_ever_cat=np.zeros((m1, 5, n_seg), np.int64),
        any_ever_channel=np.zeros((m1, n_ch + 2, n_seg), np.int64),
        indirect=np.zeros((m1, n_seg), np.int64),
        n_cat=np.zeros((m1, 5, n_seg), np.int64),
        enrol_new=np.zeros((m1, n_iv, n_seg), np.int64),
        complete_new=np.zeros((m1, n_iv, n_seg), np.int64),
        dropout_new=np.zeros((m1, n_iv, n_seg), np.int64),
        gaveup_new=np.zeros((m1, n_iv, n_seg), np.int64),
        participant_months=np.zeros((m1, n_iv)),
        providers_offering=np.zeros((m1, n_iv), np.int64),
        provider_adopt_new=np.zeros((m1, n_iv), np.int64),
        provider_offer_months=np.zeros((m1, n_prov, n_iv)),
        provider_enrol=prov_enrol,
        fidelity=draws.fidelity,
        effect_d=draws.effect_d,
        exits=np.zeros(m1, np.int64),
        adoption_realized=np.zeros((5, 5), np.int64),
    )

    # measurement scratch (per chunk)
    m_shape_s = (n_chunks, n_seg)
    m_shape_ks = (n_chunks, n_iv, n_seg)
    meas = {
        "n": np.zeros(m_shape_s, np.int64),
        "prev": np.zeros(m_shape_s, np.int64),
        "prev_cf": np.zeros(m_shape_s, np.int64),
        "realized": np.zeros(m_shape_s, np.int64),
        "gain_sum": np.zeros(m_shape_s),
        "ever": np.zeros(m_shape_ks, np.int64),
        "completed": np.zeros(m_shape_ks, np.int64),
        "dropped": np.zeros(m_shape_ks, np.int64),
        "enrolled": np.zeros(m_shape_ks, np.int64),
        "waiting": np.zeros(m_shape_ks, np.int64),
        "gave_up": np.zeros(m_shape_ks, np.int64),
        "any_ever": np.zeros(m_shape_s, np.int64),
        "any_ever_cat": np.zeros((n_chunks, 5, n_seg), np.int64),
        "any_ever_channel": np.zeros((n_chunks, n_ch + 2, n_seg), np.int64),
        "indirect": np.zeros(m_shape_s, np.int64),
        "n_cat": np.zeros((n_chunks, 5, n_seg), np.int64),
    }
    has_gamma = bool(np.any(spec.gamma != 0))
    spill_on = spec.spill > 0
    any_spill = bool(spill_on.any()) and not fully_mixed
    iv_keys = draws.iv_keys
    prov_keys = draws.prov_keys
    target = spec.target

    def do_measure(month: int, now: int) -> None:
        for arr in meas.values():
            arr[...] = 0
        kn.measure(
            now,
            bounds,
            target,
            segment,
            category,
            score,
            first_channel,
            status,
            t_event,
            effect,
            spill,
            spec.decay_tab,
            spec.sleeper_steps,
            spec.gamma,
            has_gamma,
            spec.cutoff,
            spec.mic,
            meas["n"],
            meas["prev"],
            meas["prev_cf"],
            meas["realized"],
            meas["gain_sum"],
            meas["ever"],
            meas["completed"],
            meas["dropped"],
            meas["enrolled"],
            meas["waiting"],
            meas["gave_up"],
            meas["any_ever"],
            meas["any_ever_cat"],
            meas["any_ever_channel"],
            meas["indirect"],
            meas["n_cat"],
        )
        for name, arr in meas.items():
            getattr(rec, name)[month] = arr.sum(axis=0)
        rec.providers_offering[month] = (prov_state == kn.P_OFFERING).sum(axis=0)

    do_measure(0, 0)
    mf_share = np.zeros((n_seg, n_iv))
    adopt_new = np.zeros(n_iv, np.int64)
    enrol_new = np.zeros((n_iv, n_seg), np.int64)
    gaveup_new = np.zeros((n_iv, n_seg), np.int64)
    h = spec.homophily
    for t in range(spec.n_steps):
        month = t // per_month + 1
        promote_now, aw_hz, offered_now = _channel_arrays(spec, t)
        if fully_mixed and n_iv:
            # mean-field share of (former) participants seen by a parent of segment s
            own = mf_count / np.maximum(n_seg_now, 1)[:, None]
            overall = mf_count.sum(axis=0) / max(n, 1)
            mf_share = h * own + (1.0 - h) * overall[None, :]
        adopt_new[:] = 0
        kn.step_providers(
            t,
            prov_state,
            spec.prov_type,
            spec.type_counts,
            spec.prov_may_offer,
            spec.offer_start,
            spec.offer_end,
            spec.prov_alpha,
            spec.prov_beta,
            spec.prov_p_stop,
            spec.prov_init_share,
            prov_keys,
            spec.dt,
            adopt_new,
        )
        rec.provider_adopt_new[month] += adopt_new
        rec.provider_offer_months[month] += (prov_state == kn.P_OFFERING) * spec.dt
        for arr in (c_complete, c_drop, c_enrolled, c_exit_sk, c_seg_delta, c_flags):
            arr[...] = 0
        kn.step_parents(
            t,
            bounds,
            segment,
            category,
            score,
            first_channel,
            adopt_step,
            status,
            t_event,
            ref_channel,
            effect,
            spill,
            wom_count,
            exit_mask,
            done_mask,
            join_mask,
            nbr_off,
            fully_mixed,
            mf_share,
            spec.p_turnover,
            pop_keys,
            spec.seg_cum,
            spec.cat_cum,
            spec.seg_mu,
            spec.cat_ch_mult,
            spec.cat_im_mult,
            spec.cat_threshold,
            aw_hz,
            spec.contact_hz,
            spec.chan_cat,
            promote_now,
            spec.chan_ref,
            offered_now,
            spec.dur_steps,
            spec.p_drop,
            spec.elig_seg,
            spec.elig_min_score,
            spec.follow_after,
            spec.follow_delay_steps,
            spec.follow_ref_hz,
            spec.q_imit,
            spill_on,
            spec.spill_decay_step,
            spec.decay_tab,
            spec.sleeper_steps,
            spec.gamma,
            has_gamma,
            any_spill,
            iv_keys,
            spec.dt,
            c_complete,
            c_drop,
            c_enrolled,
            c_exit_sk,
            c_seg_delta,
            c_flags,
        )
        rec.complete_new[month] += c_complete.sum(axis=0)
        rec.dropout_new[month] += c_drop.sum(axis=0)
        rec.participant_months[month] += c_enrolled.sum(axis=0) * spec.dt
        seg_delta = c_seg_delta.sum(axis=0)
        n_seg_now += seg_delta
        rec.exits[month] += c_flags[:, 3].sum()
        if fully_mixed:
            mf_count -= c_exit_sk.sum(axis=0)
        enrol_new[...] = 0
        gaveup_new[...] = 0
        kn.step_sequential(
            t,
            bounds,
            c_flags,
            exit_mask,
            done_mask,
            join_mask,
            segment,
            adopt_step,
            status,
            t_event,
            effect,
            spill,
            wom_count,
            nbr_off,
            nbrs,
            fully_mixed,
            mf_count,
            spec.spill,
            q_id,
            q_t,
            q_len,
            scratch_id,
            scratch_key,
            prov_state,
            prov_acc,
            spec.prov_cap_step,
            draws.fidelity,
            draws.effect_d,
            spec.eff_mult,
            spec.max_wait_steps,
            iv_keys,
            enrol_new,
            gaveup_new,
            prov_enrol,
        )
        rec.enrol_new[month] += enrol_new
        rec.gaveup_new[month] += gaveup_new
        if (t + 1) % per_month == 0:
            do_measure(month, t + 1)

    _classify_adoption(rec, adopt_step, category, spec.dt)
    if final_state is not None:
        final_state.update(
            segment=segment,
            category=category,
            score=score,
            status=status,
            t_event=t_event,
            effect=effect,
            spill=spill,
            wom_count=wom_count,
            nbr_off=nbr_off,
            nbrs=nbrs,
            prov_state=prov_state,
            q_len=q_len,
            mf_count=mf_count,
            first_channel=first_channel,
        )
    return rec


def _classify_adoption(
    rec: Recording, adopt_step: np.ndarray, category: np.ndarray, dt: float
) -> None:
    """Classify realized adoption times into Rogers categories (cut-offs mean-2SD ... mean+SD).

    Adopters are the families present at the horizon that ever enrolled; their first
    enrolment time is compared with the mean and SD of all adopters' times.
    """
    took = adopt_step >= 0
    times = adopt_step[took].astype(np.float64) * dt
    if times.size < 2:
        return
    mu, sd = times.mean(), times.std()
    edges = np.array([mu - 2 * sd, mu - sd, mu, mu + sd])
    realized = np.searchsorted(edges, times, side="right") if sd > 0 else np.full(times.size, 2)
    np.add.at(rec.adoption_realized, (category[took].astype(np.int64), realized), 1)
