"""Month-end counts and recording (docs/model.md, "Outputs").

The stock counts kept at every event, the gain-dependent counts taken at month ends, and
the month's record.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from impactsim.engine.layout import (
    DROPPED,
    ENROLLED,
    EV_ANY_EXIT,
    EV_BOUND,
    EV_JOIN,
    INTERNAL,
    M_INDIRECT,
    M_PREV,
    M_REALIZED,
    N_M_ROWS,
    N_X_ROWS,
    P_OFFERING,
    ROW_ANY,
    ROW_INDIRECT,
    ROW_N,
    ROW_PREV,
    ROW_PREV_CF,
    ROW_REALIZED,
    X_CF,
    X_PREV,
    X_REALIZED,
    count_rows,
    status_row,
)
from impactsim.engine.state import (
    ChunkScratch,
    Interventions,
    MeasureWork,
    Network,
    Parents,
    Population,
    Providers,
    Records,
)


@nb.njit(cache=True, inline="always")
def move_status(cnt: np.ndarray, c: int, k: int, n_iv: int, s: int, old: int, new: int) -> None:
    """Move one parent of segment s from status ``old`` to ``new`` (intervention k) in the counts."""
    cnt[c, status_row(old, k, n_iv), s] -= 1
    cnt[c, status_row(new, k, n_iv), s] += 1


@nb.njit(cache=True, inline="always")
def took_part(i: int, status: np.ndarray) -> bool:
    """Whether parent i is or was enrolled in any intervention (enrolled, completed, dropped)."""
    took = False
    for k in range(status.shape[1]):
        st = status[i, k]
        took |= (st >= ENROLLED) & (st <= DROPPED)
    return took


@nb.njit(cache=True, nogil=True, **INTERNAL)
def count_parent(
    i: int,
    c: int,
    sign: int,
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    status: np.ndarray,
    cutoff: float,
    mic: float,
    cnt: np.ndarray,
) -> None:
    """Add (``sign`` = 1) or remove (-1) parent i's contribution to the stock counts ``cnt[c]``.

    The stock counts are kept up to date at every event (entry, exit, change of status,
    first enrolment) instead of being counted from all parents each month. The rows that
    depend on the parent's gain, cases and realized change, hold the value at zero gain
    (``z > cutoff``, ``0 >= mic``), and the spillover-only row ``ROW_INDIRECT`` holds 0;
    the month-end pass adds the difference for parents with a gain and counts the
    spillover-only parents (:func:`measure_chunk`).
    """
    n_iv = status.shape[1]
    _, _, o_ncat, _, n_rows = count_rows(n_iv, 5, 0)
    n_pseudo = cnt.shape[1] - n_rows  # the channel block is last
    s = segment[i]
    a = category[i]
    z = score[i]
    cnt[c, ROW_N, s] += sign
    cnt[c, o_ncat + a, s] += sign
    case = sign * np.int64(z > cutoff)
    cnt[c, ROW_PREV_CF, s] += case
    cnt[c, ROW_PREV, s] += case
    cnt[c, ROW_REALIZED, s] += sign * np.int64(0.0 >= mic)
    for k in range(n_iv):
        cnt[c, status_row(status[i, k], k, n_iv), s] += sign
    if took_part(i, status):
        count_first_enrolment(i, c, sign, s, a, first_channel, n_iv, n_pseudo, cnt)


@nb.njit(cache=True, inline="always")
def count_first_enrolment(
    i: int,
    c: int,
    sign: int,
    s: int,
    a: int,
    first_channel: np.ndarray,
    n_iv: int,
    n_pseudo: int,
    cnt: np.ndarray,
) -> None:
    """Count parent i among those who took part: overall, by category and by first channel."""
    _, o_cat, _, o_ch, _ = count_rows(n_iv, 5, n_pseudo)
    cnt[c, ROW_ANY, s] += sign
    cnt[c, o_cat + a, s] += sign
    fc = first_channel[i]
    if fc >= 0 and fc < n_pseudo:
        cnt[c, o_ch + fc, s] += sign


@nb.njit(cache=True, parallel=True, nogil=True)
def count_all(
    bounds: np.ndarray,
    segment: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    first_channel: np.ndarray,
    status: np.ndarray,
    cutoff: float,
    mic: float,
    s_cnt: np.ndarray,
) -> None:
    """Stock counts of all parents, per chunk, into ``s_cnt`` [chunk (+ slots), row, S]."""
    n_chunks = bounds.shape[0] - 1
    for c in nb.prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            count_parent(
                i,
                np.int64(c),
                np.int64(1),
                segment,
                category,
                score,
                first_channel,
                status,
                cutoff,
                mic,
                s_cnt,
            )


# no reference counting (allocates nothing): as in the parents' pass that calls it
@nb.njit(cache=True, nogil=True, _nrt=False, **INTERNAL)
def measure_chunk(
    c: int,
    lo: int,
    hi: int,
    now: int,
    parents: Parents,
    population: Population,
    interventions: Interventions,
    m_cnt: np.ndarray,
    m_gain: np.ndarray,
    decay_now: bool,
    work: MeasureWork,
) -> None:
    """Gain-dependent counts of chunk ``c`` (parents ``lo .. hi - 1``) at time ``now``.

    The stock counts hold every parent at zero gain; this sets ``m_cnt[c]`` and
    ``m_gain[c]`` to the difference the chunk's gains make: per segment, the change in
    cases (``z - gain > cutoff`` against the counterfactual ``z > cutoff``, the same
    ``z``: common random numbers; row ``M_PREV``), the parents with ``gain >= mic`` (row
    ``M_REALIZED``, less those counted at zero gain), the parents who never took part
    but carry a spillover gain (row ``M_INDIRECT``; the stock counts hold none) and the
    summed gain. A parent's gain
    is :func:`parent_gain`: the effects of the interventions flagged in ``eff_on`` (bit
    k: completed or dropped out of k), then the spillover and interaction terms one
    intervention at a time over the chunk (loops without branches), added up for each
    parent in the same order, so the values are identical. Parents without a gain add 0
    to every count. With ``decay_now``, the spillover gains then decay by the step
    ``now`` (as :func:`step_parents` does in the other steps), while the chunk is in
    cache. The spillover of an intervention without ``spill_on`` is always 0 (no step
    sets it) and is not read: adding 0 to the float32 term leaves it as it is.
    """
    segment = parents.segment
    score = parents.score
    adopt_step = parents.adopt_step
    status = parents.status
    t_event = parents.t_event
    effect = parents.effect
    spill = parents.spill
    eff_on = parents.eff_on
    spill_on = interventions.spill_on
    spill_decay_step = interventions.spill_decay_step
    decay_tab = interventions.decay_tab
    sleeper_steps = interventions.sleeper_steps
    gamma = interventions.gamma
    has_gamma = interventions.has_gamma
    cutoff = population.cutoff
    mic = population.mic
    n_c = hi - lo
    n_iv = status.shape[1]
    for s in range(m_cnt.shape[2]):
        for r in range(N_M_ROWS):
            m_cnt[c, r, s] = 0
        m_gain[c, s] = 0.0
    # effect of each intervention (SD units), in the type effect_now returns (float32
    # effect times float32 decay table), so that each term is rounded as in parent_gain.
    # Only completers and dropouts have an effect: eff_on (one bit per intervention)
    # says which, so only parents with a bit set are visited (listed without branches,
    # as their statuses vary from parent to parent: a branch on them mispredicts), and
    # their terms are computed without branches, times 1 when the bit is set and the
    # lag reached, else times 0 (+0.0 or -0.0: the sums start at +0.0, and adding
    # -0.0 instead of +0.0 to them gives the same sums).
    # the work arrays (allocated once per worker and step: this kernel allocates nothing,
    # so it can run inside the parents' pass, which keeps no reference counts)
    g, gain, with_effect, spilled = work.g, work.gain, work.with_effect, work.spilled
    for j in range(n_c):
        gain[j] = 0.0
        spilled[j] = False
        for k in range(n_iv):
            g[k, j] = 0.0
    n_lag = decay_tab.shape[1]
    n_with = 0
    for j in range(n_c):
        with_effect[n_with] = j
        n_with += eff_on[lo + j] != 0
    for h in range(n_with):
        j = with_effect[h]
        m = np.int64(eff_on[lo + j])
        # effect_now, with the lag clamped into the table (the same value)
        for k in range(n_iv):
            lag = now - 1 - sleeper_steps[k] - np.int64(t_event[lo + j, k])
            dec = decay_tab[k, min(max(lag, 0), n_lag - 1)]
            g[k, j] = effect[lo + j, k] * dec * ((lag >= 0) & (((m >> k) & 1) != 0))
    # with decay_now each spillover decays by one step after it is read (a factor 1
    # leaves it exactly as it is); spilled[j]: parent j carries a spillover (before the
    # decay: the state the month records)
    for k in range(n_iv):
        if spill_on[k]:
            f_k = spill_decay_step[k] if decay_now else 1.0
            for j in range(n_c):
                x = spill[lo + j, k]
                gain[j] += g[k, j] + x
                spill[lo + j, k] = np.float32(x * f_k)
                spilled[j] |= x != 0.0
        else:
            for j in range(n_c):
                gain[j] += g[k, j]
        if has_gamma:
            for m in range(k + 1, n_iv):
                g_km = gamma[k, m]
                if g_km != 0.0:
                    for j in range(n_c):
                        gk = g[k, j]
                        gm = g[m, j]
                        gain[j] += g_km * min(gk, gm) * ((gk > 0.0) & (gm > 0.0))
    for j in range(n_c):
        s = segment[lo + j]
        z = score[lo + j]
        gj = gain[j]
        # comparisons add 0 or 1: no data-dependent branches (they mispredict)
        m_cnt[c, M_PREV, s] += np.int64(z - gj > cutoff) - np.int64(z > cutoff)
        m_cnt[c, M_REALIZED, s] += np.int64(gj >= mic) - np.int64(0.0 >= mic)
        m_gain[c, s] += gj
        # spillover only: never took part (adopt_step, the step of the first enrolment
        # since the family entered, is -1 exactly while no status is enrolled, completed
        # or dropped)
        m_cnt[c, M_INDIRECT, s] += np.int64(spilled[j] & (adopt_step[lo + j] < 0))


# no reference counting, as measure_chunk (it runs in the parents' pass too)
@nb.njit(cache=True, nogil=True, _nrt=False, **INTERNAL)
def measure_outcomes_chunk(
    c: int,
    lo: int,
    hi: int,
    now: int,
    parents: Parents,
    population: Population,
    interventions: Interventions,
    x_m_cnt: np.ndarray,
    x_m_gain: np.ndarray,
    decay_now: bool,
    work: MeasureWork,
) -> None:
    """Month-end counts of the outcomes after the primary, chunk ``c`` (parents ``lo .. hi - 1``).

    Outcome ``o`` (``o = 0`` the first after the primary) has, per parent, the gain
    ``G_o = sum_k d_ok u_k decay_k + sum_k d_ok U_k + sum_{k<m} gamma_km min(g_k, g_m)``
    over the effects ``g_k = d_ok u_k decay_k`` (the interaction term only when both are
    positive), with ``u`` the parent's unit effect (``parents.unit_effect``: multiplier,
    fidelity and dose, without ``d``) and ``U`` its unit spillover; the same rules as
    :func:`measure_chunk` for the primary outcome, with the outcome's effect sizes
    ``d_ok`` (``interventions.x_effect_d``). Counted from all the chunk's parents into
    ``x_m_cnt[c, o]``: cases without programmes (``z_o > cutoff_o``), cases
    (``z_o - G_o > cutoff_o``), realized change (``G_o >= mic_o``); ``x_m_gain[c, o]``
    the summed gain. An intervention with ``d_ok = 0`` adds exactly 0 to ``G_o``. With
    ``decay_now`` the unit spillover then decays by the step ``now``. Allocates nothing.
    """
    x_score, segment = parents.x_score, parents.segment
    unit_effect, unit_spill = parents.unit_effect, parents.unit_spill
    eff_on, t_event = parents.eff_on, parents.t_event
    x_d = interventions.x_effect_d
    decay_tab, sleeper_steps = interventions.decay_tab, interventions.sleeper_steps
    gamma, has_gamma = interventions.gamma, interventions.has_gamma
    spill_on, spill_decay_step = interventions.spill_on, interventions.spill_decay_step
    n_x, n_c, n_iv = x_score.shape[0], hi - lo, t_event.shape[1]
    n_seg = x_m_cnt.shape[3]
    g, gain, with_effect = work.g, work.gain, work.with_effect
    for o in range(n_x):
        for s in range(n_seg):
            for r in range(N_X_ROWS):
                x_m_cnt[c, o, r, s] = 0
            x_m_gain[c, o, s] = 0.0
    # the unit effects now (per unit of d), as measure_chunk takes the primary's
    for j in range(n_c):
        for k in range(n_iv):
            g[k, j] = 0.0
    n_lag = decay_tab.shape[1]
    n_with = 0
    for j in range(n_c):
        with_effect[n_with] = j
        n_with += eff_on[lo + j] != 0
    for h in range(n_with):
        j = with_effect[h]
        m = np.int64(eff_on[lo + j])
        for k in range(n_iv):
            lag = now - 1 - sleeper_steps[k] - np.int64(t_event[lo + j, k])
            dec = decay_tab[k, min(max(lag, 0), n_lag - 1)]
            g[k, j] = unit_effect[lo + j, k] * dec * ((lag >= 0) & (((m >> k) & 1) != 0))
    for o in range(n_x):
        for j in range(n_c):
            gain[j] = 0.0
        for k in range(n_iv):
            d_k = x_d[o, k]
            for j in range(n_c):
                gain[j] += d_k * g[k, j] + d_k * unit_spill[lo + j, k] * spill_on[k]
            if has_gamma:
                for m in range(k + 1, n_iv):
                    g_km = gamma[k, m]
                    if g_km != 0.0:
                        d_m = x_d[o, m]
                        for j in range(n_c):
                            gk = d_k * g[k, j]
                            gm = d_m * g[m, j]
                            gain[j] += g_km * min(gk, gm) * ((gk > 0.0) & (gm > 0.0))
        cutoff, mic = population.x_cutoff[o], population.x_mic[o]
        for j in range(n_c):
            s = segment[lo + j]
            z = x_score[o, lo + j]
            gj = gain[j]
            x_m_cnt[c, o, X_CF, s] += np.int64(z > cutoff)
            x_m_cnt[c, o, X_PREV, s] += np.int64(z - gj > cutoff)
            x_m_cnt[c, o, X_REALIZED, s] += np.int64(gj >= mic)
            x_m_gain[c, o, s] += gj
    if decay_now:
        for k in range(n_iv):
            if spill_on[k]:
                f_k = spill_decay_step[k]
                for j in range(n_c):
                    unit_spill[lo + j, k] = np.float32(unit_spill[lo + j, k] * f_k)


@nb.njit(cache=True, parallel=True, nogil=True, **INTERNAL)
def measure(
    bounds: np.ndarray,
    now: int,
    parents: Parents,
    population: Population,
    interventions: Interventions,
    m_cnt: np.ndarray,
    m_gain: np.ndarray,
    x_m_cnt: np.ndarray,
    x_m_gain: np.ndarray,
    decay_now: bool,
) -> None:
    """:func:`measure_chunk` of every chunk, in parallel (``m_cnt`` [chunk, N_M_ROWS, S]).

    With further outcomes also :func:`measure_outcomes_chunk` (``x_m_cnt``, ``x_m_gain``).

    In the steps, :func:`step_parents` measures each chunk just before handling its
    parents' events; this is for the state after the last step.
    """
    n_iv = parents.status.shape[1]
    for c in nb.prange(bounds.shape[0] - 1):
        n_c = bounds[c + 1] - bounds[c]
        work = MeasureWork(
            np.empty((n_iv, n_c), interventions.decay_tab.dtype),
            np.empty(n_c),
            np.empty(n_c, np.int64),
            np.empty(n_c, np.bool_),
        )
        measure_chunk(
            np.int64(c),
            bounds[c],
            bounds[c + 1],
            now,
            parents,
            population,
            interventions,
            m_cnt,
            m_gain,
            decay_now,
            work,
        )
        if parents.x_score.shape[0] > 0:
            measure_outcomes_chunk(
                np.int64(c),
                bounds[c],
                bounds[c + 1],
                now,
                parents,
                population,
                interventions,
                x_m_cnt,
                x_m_gain,
                decay_now,
                work,
            )


@nb.njit(cache=True, nogil=True)
def adoption_times(adopt_step: np.ndarray, dt: float) -> np.ndarray:
    """The first-enrolment times (months, ``adopt_step * dt``) of the parents who took part.

    In parent order; parents with ``adopt_step < 0`` never enrolled and are left out.
    """
    n_took = 0
    for i in range(adopt_step.shape[0]):
        n_took += adopt_step[i] >= 0
    # without branches (who took part varies from parent to parent): each parent is
    # written to the next slot, which only a parent who took part claims
    times = np.empty(n_took + 1)
    w = 0
    for i in range(adopt_step.shape[0]):
        times[w] = np.float64(adopt_step[i]) * dt
        w += adopt_step[i] >= 0
    return times[:n_took]


@nb.njit(cache=True, nogil=True)
def count_adoption_classes(
    adopt_step: np.ndarray, category: np.ndarray, dt: float, edges: np.ndarray, out: np.ndarray
) -> None:
    """Add each adopter to ``out[category, class]``, its class the number of ``edges`` <= its time.

    ``edges`` ascending (then the class is ``np.searchsorted(edges, time, side="right")``);
    the time is ``adopt_step * dt`` as in :func:`adoption_times`, and parents with
    ``adopt_step < 0`` are left out.
    """
    for i in range(adopt_step.shape[0]):
        x = np.float64(adopt_step[i]) * dt
        cls = 0
        for e in range(edges.shape[0]):
            cls += x >= edges[e]
        out[category[i], cls] += adopt_step[i] >= 0  # without branches, as above


@nb.njit(cache=True, nogil=True, **INTERNAL)
def record_stocks(
    s_cnt: np.ndarray, prov_state: np.ndarray, cnt: np.ndarray, offering: np.ndarray
) -> None:
    """The first part of a month's record: the stock counts and the offering organisations.

    Adds ``s_cnt`` summed over chunks to ``cnt`` [row, S] and the organisations offering
    each programme to ``offering`` [K]; :func:`add_measured` adds the gain-dependent counts.
    """
    for c in range(s_cnt.shape[0]):
        for r in range(s_cnt.shape[1]):
            for s in range(s_cnt.shape[2]):
                cnt[r, s] += s_cnt[c, r, s]
    for p in range(prov_state.shape[0]):
        for k in range(prov_state.shape[1]):
            offering[k] += prov_state[p, k] == P_OFFERING


@nb.njit(cache=True, nogil=True, **INTERNAL)
def add_measured(m_cnt: np.ndarray, m_gain: np.ndarray, cnt: np.ndarray, gain: np.ndarray) -> None:
    """The second part of a month's record: the chunks' gain-dependent counts.

    Adds the counts of every chunk (:func:`measure_chunk`) to the month's rows ``cnt``
    [row, S] and its summed gain to ``gain`` [S] (chunks added in order, so the sum is
    reproducible).
    """
    for c in range(m_cnt.shape[0]):
        for s in range(m_cnt.shape[2]):
            cnt[ROW_PREV, s] += m_cnt[c, M_PREV, s]
            cnt[ROW_REALIZED, s] += m_cnt[c, M_REALIZED, s]
            cnt[ROW_INDIRECT, s] += m_cnt[c, M_INDIRECT, s]
    for c in range(m_gain.shape[0]):
        for s in range(m_gain.shape[1]):
            gain[s] += m_gain[c, s]


@nb.njit(cache=True, nogil=True, **INTERNAL)
def add_measured_outcomes(
    x_m_cnt: np.ndarray, x_m_gain: np.ndarray, x_cnt: np.ndarray, x_gain: np.ndarray
) -> None:
    """The further outcomes' month-end counts of every chunk, summed in chunk order.

    ``x_cnt`` [O - 1, N_X_ROWS, S] and ``x_gain`` [O - 1, S] of the month.
    """
    for c in range(x_m_cnt.shape[0]):
        for o in range(x_m_cnt.shape[1]):
            for s in range(x_m_cnt.shape[3]):
                for r in range(N_X_ROWS):
                    x_cnt[o, r, s] += x_m_cnt[c, o, r, s]
                x_gain[o, s] += x_m_gain[c, o, s]


@nb.njit(cache=True, nogil=True)
def record_month(
    now: int,
    bounds: np.ndarray,
    parents: Parents,
    population: Population,
    interventions: Interventions,
    s_cnt: np.ndarray,
    prov_state: np.ndarray,
    cnt: np.ndarray,
    gain: np.ndarray,
    x_cnt: np.ndarray,
    x_gain: np.ndarray,
    offering: np.ndarray,
    decay_now: bool,
) -> None:
    """Record the state at time ``now`` (steps) into one month's rows (after the last step).

    ``cnt`` [row, S] gets the stock counts ``s_cnt`` summed over chunks plus the
    gain-dependent counts of :func:`measure`; ``gain`` [S] the summed gain (chunks added
    in order, so the sum is reproducible); ``offering`` [K] the organisations offering
    each programme. With ``decay_now`` the spillover gains then decay by the step ``now``
    (see :func:`measure_chunk`). Within the steps, :func:`run_steps` records the same
    values with the measuring done chunk by chunk in :func:`step_parents`.
    """
    n_chunks = bounds.shape[0] - 1
    m_cnt = np.empty((n_chunks, N_M_ROWS, s_cnt.shape[2]), np.int64)
    m_gain = np.empty((n_chunks, s_cnt.shape[2]))
    x_m_cnt = np.empty((n_chunks, x_cnt.shape[0], N_X_ROWS, s_cnt.shape[2]), np.int64)
    x_m_gain = np.empty((n_chunks, x_cnt.shape[0], s_cnt.shape[2]))
    record_stocks(s_cnt, prov_state, cnt, offering)
    measure(
        bounds, now, parents, population, interventions, m_cnt, m_gain, x_m_cnt, x_m_gain, decay_now
    )
    add_measured(m_cnt, m_gain, cnt, gain)
    add_measured_outcomes(x_m_cnt, x_m_gain, x_cnt, x_gain)


@nb.njit(cache=True, nogil=True, **INTERNAL)
def record_enrolments(
    month: int,
    direct_new: np.ndarray,
    direct_prov: np.ndarray,
    enrol_new: np.ndarray,
    gaveup_new: np.ndarray,
    network: Network,
    providers: Providers,
    records: Records,
) -> None:
    """Add the step's enrolments (direct and from the waiting lists) and give-ups to the month."""
    n_iv, n_seg = direct_new.shape
    for k in range(n_iv):
        for s in range(n_seg):
            direct = direct_new[k, s]
            if direct > 0:
                providers.prov_enrol[direct_prov[k], k] += direct
                if network.fully_mixed:
                    network.mf_count[s, k] += direct
            records.enrol_new[month, k, s] += enrol_new[k, s] + direct
            records.gaveup_new[month, k, s] += gaveup_new[k, s]


@nb.njit(cache=True, nogil=True, **INTERNAL)
def tally_parents_pass(
    month: int,
    dt: float,
    network: Network,
    scratch: ChunkScratch,
    records: Records,
    direct_new: np.ndarray,
) -> int:
    """Sum the chunks' outputs of the parents' pass into the month's flows.

    Records the exits, completions, dropouts and participant-months (per cell), updates
    the parents present per segment and (fully mixed) the participants per segment, and sets
    ``direct_new`` [K, S] to the parents the pass enrolled directly.

    Returns:
        The step's joiners (direct and waiting-list).

    Raises:
        RuntimeError: a candidate's hazard exceeded its bounding rate (a bug).
    """
    flags, s_cnt = scratch.flags, records.s_cnt
    n_chunks, n_iv, n_seg = scratch.complete.shape
    n_seg_now, mf_count = network.n_seg_now, network.mf_count
    n_join = 0
    for c in range(n_chunks):
        if flags[c, EV_BOUND] > 0:
            raise RuntimeError("internal error: a hazard exceeded its bounding rate")
        n_join += flags[c, EV_JOIN]
        records.exits[month] += flags[c, EV_ANY_EXIT]
        for s in range(n_seg):
            n_seg_now[s] += scratch.seg_delta[c, s]
    for k in range(n_iv):
        # parents of each cell enrolled during the step: those enrolled now (the stock
        # counts, before the waiting lists' enrolments) and those who completed or dropped
        # out in it
        row = status_row(ENROLLED, k, n_iv)
        for s in range(n_seg):
            enrolled = 0
            for c in range(n_chunks + 1):
                enrolled += s_cnt[c, row, s]
            done = 0
            drop = 0
            direct = 0
            for c in range(n_chunks):
                done += scratch.complete[c, k, s]
                drop += scratch.drop[c, k, s]
                direct += scratch.direct[c, k, s]
            direct_new[k, s] = direct
            # those enrolled directly in this step take part from the next one
            enrolled += done + drop - direct
            records.complete_new[month, k, s] += done
            records.dropout_new[month, k, s] += drop
            if network.fully_mixed:
                left = 0
                for c in range(n_chunks):
                    left += scratch.exit_sk[c, s, k]
                mf_count[s, k] -= left
            records.participant_months[month, k, s] += enrolled * dt
    return n_join


def classify_adoption(rec: Any, adopt_step: np.ndarray, category: np.ndarray, dt: float) -> None:
    """Classify realized adoption times into Rogers categories (cut-offs mean-2SD ... mean+SD).

    Adds to ``rec.adoption_realized`` [A, 5] (``rec``: a replicate's recording).

    Adopters are the families present at the horizon that ever enrolled; their first
    enrolment time is compared with the mean and SD of all adopters' times. The times
    are listed and counted by kernels (:func:`adoption_times`,
    :func:`count_adoption_classes`, one pass each over the parents); the mean and SD are
    numpy's, of the listed times.
    """
    times = adoption_times(adopt_step, dt)
    if times.size < 2:
        return
    mu, sd = times.mean(), times.std()
    if sd > 0:
        edges = np.array([mu - 2 * sd, mu - sd, mu, mu + sd])
    else:  # all at the same time: every adopter in the middle class (2)
        edges = np.full(2, -np.inf)
    count_adoption_classes(adopt_step, category, dt, edges, rec.adoption_realized)
