"""The bundles in which the engine's state and parameters travel between kernels.

Each bundle is a named tuple of arrays and scalars, built once per replicate by
:mod:`impactsim.engine.simulate` (:class:`Step` once per step by
:func:`impactsim.engine.steps.run_steps`) and passed to the kernels whole, so a kernel
takes a handful of named bundles instead of dozens of positional arrays that could be
swapped without an error. numba types a named tuple by its fields, so a kernel compiles
once per bundle layout.

The arrays inside a bundle are changed in place; the bundles themselves are immutable.
A parallel loop (``prange``) must not write through a bundle's field (numba issues 7135
and 5872): a parallel kernel binds the arrays it writes to locals before its loop, or
calls an ordinary kernel per chunk that takes the bundle.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Each per-parent array of :class:`Parents`: its dtype, whether it has a column per
#: intervention (shape [N, K] rather than [N]) and the value it starts at (None: drawn,
#: the families' segment, category and score). The replicate's set-up allocates from this
#: table and the memory estimate (:func:`impactsim.resources.estimate_memory`) counts
#: its bytes from it.
PARENT_LAYOUT: dict[str, tuple[type, bool, int | None]] = {
    "segment": (np.int8, False, None),
    "category": (np.int8, False, None),
    "score": (np.float32, False, None),
    "first_channel": (np.int8, False, -1),
    "adopt_step": (np.int16, False, -1),
    "status": (np.int8, True, 0),
    "t_event": (np.int16, True, 0),
    "ref_channel": (np.int8, True, -1),
    "effect": (np.float32, True, 0),
    "spill": (np.float32, True, 0),
    "wom_count": (np.int16, True, 0),
    "exit_mask": (np.uint16, False, 0),
    "has_gain": (np.uint8, False, 0),
    "eff_on": (np.uint16, False, 0),
    "t_exit": (np.int16, False, 0),
    "t_next": (np.int16, True, 0),
    "t_due": (np.int16, False, 0),
}


def parent_bytes(names: tuple[str, ...] | None = None) -> tuple[int, int]:
    """Bytes of per-parent state: ``(per parent, per parent and intervention)``.

    Args:
        names: the arrays of :data:`PARENT_LAYOUT` to count (default all).
    """
    per_n = per_nk = 0
    for name, (dtype, by_iv, _) in PARENT_LAYOUT.items():
        if names is None or name in names:
            size = np.dtype(dtype).itemsize
            per_nk += size if by_iv else 0
            per_n += 0 if by_iv else size
    return per_n, per_nk


class Parents(NamedTuple):
    """Per-parent state, one row per parent slot (K: interventions)."""

    segment: np.ndarray  # [N] int8
    category: np.ndarray  # [N] int8 adopter category
    score: np.ndarray  # [N] float32 latent problem score
    first_channel: np.ndarray  # [N] int8 channel of first contact (-1 none)
    adopt_step: np.ndarray  # [N] int16 step of first enrolment (-1 none)
    status: np.ndarray  # [N, K] int8 (layout.NONE .. GAVE_UP)
    t_event: np.ndarray  # [N, K] int16 step of the last change of status
    ref_channel: np.ndarray  # [N, K] int8 channel that made the parent aware
    effect: np.ndarray  # [N, K] float32 effect of k on the parent
    spill: np.ndarray  # [N, K] float32 spillover gain from k
    wom_count: np.ndarray  # [N, K] int16 neighbours who took part in k
    exit_mask: np.ndarray  # [N] uint16 programmes a leaver took part in (pushes)
    has_gain: np.ndarray  # [N] uint8 1 once the parent may have a gain
    eff_on: np.ndarray  # [N] uint16 bit k: completed or dropped out of k
    t_exit: np.ndarray  # [N] int16 step of leaving (turnover)
    t_next: np.ndarray  # [N, K] int16 next scheduled step per intervention
    t_due: np.ndarray  # [N] int16 earliest of t_exit and t_next
    # the outcomes after the primary (docs/model.md, "Several outcomes"); with one
    # outcome these have no rows (shape [0, N], [0, K]) and no kernel touches them
    x_score: np.ndarray  # [O - 1, N] float32 latent score of each further outcome
    unit_effect: np.ndarray  # [NU, K] float32 effect of k per unit of d (NU = N, or 0: one outcome)
    unit_spill: np.ndarray  # [NU, K] float32 spillover from k per unit of d


#: Bytes per parent of each outcome after the primary (its score, float32), and per
#: parent and intervention once there is more than one outcome (``unit_effect`` and
#: ``unit_spill``, float32 each); counted by :func:`impactsim.resources.estimate_memory`.
OUTCOME_BYTES_PER_PARENT = 4
OUTCOME_BYTES_PER_PARENT_IV = 8

#: The fields of :class:`Parents` after those of :data:`PARENT_LAYOUT`: the state of the
#: outcomes after the primary, allocated by the outcomes' count.
OUTCOME_FIELDS: tuple[str, ...] = ("x_score", "unit_effect", "unit_spill")


class Population(NamedTuple):
    """Families, their adopter categories and the outcome's cut-offs."""

    turn_rate: float  # turnover rate per step
    pop_keys: np.ndarray  # [5] uint64 keys: segment, category, za, zb, turnover
    seg_cum: np.ndarray  # [H, S] cumulative shares of the cells per neighbourhood
    nbh: np.ndarray  # [N] int8 neighbourhood of each family slot
    cat_cum: np.ndarray  # [S, A] cumulative adopter-category shares
    seg_mu: np.ndarray  # [S] latent score means
    cat_ch_mult: np.ndarray  # [A] channel multipliers
    cat_im_mult: np.ndarray  # [A] imitation multipliers
    cat_threshold: np.ndarray  # [A] social-proof thresholds
    cutoff: float  # problem cut-off (SD units)
    mic: float  # minimal important change (SD units)
    dt: float  # months per step
    per_month: int  # steps per month
    x_keys: np.ndarray  # [O - 1, 2] uint64 keys of the further outcomes' normals (a, b)
    x_mu: np.ndarray  # [O - 1, S] their latent score means
    out_chol: np.ndarray  # [O, O] lower Cholesky factor of the outcomes' correlation
    x_cutoff: np.ndarray  # [O - 1] their cut-offs (SD units)
    x_mic: np.ndarray  # [O - 1] their minimal important changes (SD units)


class Network(NamedTuple):
    """The social network (CSR), or the mean-field counts of a fully mixed population."""

    nbr_off: np.ndarray  # [N + 1] int64 offsets into nbrs
    nbrs: np.ndarray  # [E] int32 neighbours
    fully_mixed: bool
    homophily: float
    mf_count: np.ndarray  # [S, K] present (former) participants (fully mixed)
    n_seg_now: np.ndarray  # [S] parents present per segment


class Channels(NamedTuple):
    """Channels, by regime (a stretch of steps with the same channels and offers)."""

    regime_of_step: np.ndarray  # [T] regime of each step
    r_promote: np.ndarray  # [R, C, K] bool channel promotes k now
    r_aw_hz: np.ndarray  # [R, S, A, K] awareness hazard per month
    r_p_aw: np.ndarray  # [R, S, A, K] its step probability
    r_offered: np.ndarray  # [R, K] bool
    contact_hz: np.ndarray  # [S, C] contacts per month
    chan_cat: np.ndarray  # [C, A] bool channel contacts category
    chan_ref: np.ndarray  # [C + 2] referral hazard per month
    p_ch: np.ndarray  # [A, C + 2] step probability of channel referral


class Interventions(NamedTuple):
    """Interventions: participation, eligibility, follow-ups, effects, candidate bounds."""

    dur_steps: np.ndarray  # [K] int
    drop_rate: np.ndarray  # [K, S] dropout hazard per step
    elig_seg: np.ndarray  # [K, S] bool
    elig_min_score: np.ndarray  # [K] (-inf when none)
    score_gate: np.ndarray  # [K] scores at or below it can never pass the threshold
    follow_after: np.ndarray  # [K] prerequisite (-1 none)
    follow_delay_steps: np.ndarray  # [K]
    follow_ref_hz: np.ndarray  # [K] per month
    q_imit: np.ndarray  # [K] imitation hazard per month
    spill_on: np.ndarray  # [K] bool
    spill_frac: np.ndarray  # [K]
    spill_decay_step: np.ndarray  # [K] multiplicative decay per step
    decay_tab: np.ndarray  # [K, T + 1] effect remaining after a lag of j steps
    sleeper_steps: np.ndarray  # [K]
    gamma: np.ndarray  # [K, K] interactions
    has_gamma: bool
    any_spill: bool
    iv_keys: np.ndarray  # [K, 6] uint64 keys
    effect_d: np.ndarray  # [K] effect sizes drawn for the replicate
    eff_mult: np.ndarray  # [K, S] effect multipliers
    max_wait_steps: np.ndarray  # [K]
    cand_none: np.ndarray  # [S, A, K] candidate rate per step, not aware
    cand_aware: np.ndarray  # [A, C + 2, K] candidate rate per step, aware via a channel
    pmax_none: np.ndarray  # [S, A, K] step probability of cand_none
    pmax_aware: np.ndarray  # [A, C + 2, K] step probability of cand_aware
    x_effect_d: np.ndarray  # [O - 1, K] effect sizes on the further outcomes, this replicate


class Providers(NamedTuple):
    """Provider organisations: state, adoption parameters, places and fidelity."""

    prov_state: np.ndarray  # [NP, K] int8 (layout.P_NOT, P_OFFERING, P_STOPPED)
    prov_acc: np.ndarray  # [NP, K] accrued fractional places
    prov_enrol: np.ndarray  # [NP, K] enrolments over the run
    prov_type: np.ndarray  # [NP] provider type
    type_counts: np.ndarray  # [P] organisations per type
    prov_may_offer: np.ndarray  # [NP, K] bool
    offer_start: np.ndarray  # [K] step
    offer_end: np.ndarray  # [K] step
    prov_alpha: np.ndarray  # [NP] innovation hazard per month
    prov_beta: np.ndarray  # [NP] imitation hazard per month
    prov_p_stop: np.ndarray  # [NP] discontinuation probability per step
    prov_init_share: np.ndarray  # [NP]
    prov_keys: np.ndarray  # [K, 3] uint64: adopt, stop, initial
    prov_cap_step: np.ndarray  # [NP] places per step (inf: unlimited)
    fidelity: np.ndarray  # [NP]


class Records(NamedTuple):
    """The replicate's record: month-end stocks and monthly flows (index = month)."""

    s_cnt: np.ndarray  # [chunks + 1, rows, S] stock counts kept at events
    rec_cnt: np.ndarray  # [M + 1, rows, S]
    rec_gain: np.ndarray  # [M + 1, S]
    enrol_new: np.ndarray  # [M + 1, K, S]
    complete_new: np.ndarray  # [M + 1, K, S]
    dropout_new: np.ndarray  # [M + 1, K, S]
    gaveup_new: np.ndarray  # [M + 1, K, S]
    participant_months: np.ndarray  # [M + 1, K, S]
    providers_offering: np.ndarray  # [M + 1, K]
    provider_adopt_new: np.ndarray  # [M + 1, K]
    provider_offer_months: np.ndarray  # [M + 1, NP, K]
    exits: np.ndarray  # [M + 1]
    rec_x_cnt: np.ndarray  # [M + 1, O - 1, 3, S] further outcomes (X_CF, X_PREV, X_REALIZED)
    rec_x_gain: np.ndarray  # [M + 1, O - 1, S]


class ChunkScratch(NamedTuple):
    """Per-chunk outputs of the parents' pass, summed or visited by the sequential phase."""

    complete: np.ndarray  # [chunks, K, S] completions
    drop: np.ndarray  # [chunks, K, S] dropouts
    exit_sk: np.ndarray  # [chunks, S, K] leavers who had taken part
    seg_delta: np.ndarray  # [chunks, S] change of parents per segment
    flags: np.ndarray  # [chunks, N_FLAGS] events per kind (layout.EV_*)
    events: np.ndarray  # [chunks, 3, EVENT_LIST_CAPACITY] listed events
    direct: np.ndarray  # [chunks, K, S] direct enrolments
    wait: np.ndarray  # [chunks, K] joiners put on a waiting list
    m_cnt: np.ndarray  # [chunks, N_M_ROWS, S] month-end gain-dependent counts
    m_gain: np.ndarray  # [chunks, S] month-end summed gain
    x_m_cnt: np.ndarray  # [chunks, O - 1, 3, S] further outcomes: cases without, with, realized
    x_m_gain: np.ndarray  # [chunks, O - 1, S] further outcomes: summed gain


class Step(NamedTuple):
    """What one step of the parents' pass needs besides the bundles of the replicate."""

    t: int
    aw_hz: np.ndarray  # [S, A, K] awareness hazard per month, this regime
    p_aw: np.ndarray  # [S, A, K] its step probability
    promote_now: np.ndarray  # [C, K] bool
    offered_now: np.ndarray  # [K] bool
    mf_share: np.ndarray  # [S, K] mean-field share of participants (fully mixed)
    direct_prov: np.ndarray  # [K] organisation that enrols joiners at once (-1 none)
    measure_now: bool  # a month end: take the gain-dependent counts first


class Queues(NamedTuple):
    """The waiting lists: per programme, parents in order of joining (they grow by doubling)."""

    q_id: np.ndarray  # [K, capacity] int32 parent
    q_t: np.ndarray  # [K, capacity] int16 step of joining
    q_len: np.ndarray  # [K] entries in use


class Joiners(NamedTuple):
    """This step's joiners of the waiting lists, by programme, with their ordering keys."""

    start: np.ndarray  # [K + 1] programme k's joiners are start[k] .. start[k + 1] - 1
    parent: np.ndarray  # [J] int32
    key: np.ndarray  # [J] float64 keyed uniform ordering joiners of the same step


class MeasureWork(NamedTuple):
    """Work space of the month-end counts of one chunk (a worker's, reused chunk by chunk).

    Rows and columns beyond the chunk's parents are not read; the counts set those they
    use to zero first.
    """

    g: np.ndarray  # [K, chunk] effect of each intervention (decay table's dtype)
    gain: np.ndarray  # [chunk] float64 summed gain
    with_effect: np.ndarray  # [chunk] int64 parents with an effect flag
    spilled: np.ndarray  # [chunk] bool carries a spillover
