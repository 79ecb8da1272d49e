"""Run one replicate: build the population, step through time, record counts.

The recorded state (:class:`Recording`) is plain arrays of counts per month; the
metrics layer turns it into tidy tables. The counterfactual (no-programme world)
is evaluated in the same pass from the same population and the same random
numbers: a family's problem score, segment, turnover and network never depend on
the programme, so the counterfactual prevalence is the share with ``z > cutoff``
among the very same families.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from impactsim.engine.clocks import start_clocks, step_probabilities
from impactsim.engine.counts import classify_adoption as _classify_adoption
from impactsim.engine.counts import count_all, record_month
from impactsim.engine.families import draw_population, replicate_network, replicate_population
from impactsim.engine.layout import (
    N_X_ROWS,
    X_CF,
    X_PREV,
    X_REALIZED,
    chunk_count,
    count_rows,
    decode_count_rows,
    initial_queue_capacity,
)
from impactsim.engine.spec import ModelSpec, ReplicateDraws, draw_replicate, replicate_rates
from impactsim.engine.state import (
    PARENT_LAYOUT,
    Channels,
    Interventions,
    Network,
    Parents,
    Population,
    Providers,
    Queues,
    Records,
    Step,
)
from impactsim.engine.steps import new_scratch, run_steps, step_parents, step_sequential
from impactsim.population import draw_outcome_scores_all

#: Below this many parents a step is too short for a parallel region to pay: waking worker
#: threads costs more than the work, and on a busy machine far more (measured: 200 parents,
#: 360 steps took 0.07 s on one thread and 0.7-2.7 s on two). Results do not depend on it.
PARALLEL_MIN_PARENTS = 10_000

#: Steps run in one kernel call: about this many parent-steps (0.05-0.5 s of work), so the
#: interpreter's per-call cost is negligible and Ctrl-C is still handled promptly.
BLOCK_PARENT_STEPS = 4_000_000


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
    return np.linspace(0, n, chunk_count(n) + 1).astype(np.int64)


@dataclass
class Recording:
    """Counts recorded for one replicate.

    Stocks are measured at the end of each month ``m = 0..M`` (index 0 = start);
    flows are summed over the steps of month ``m`` (index 0 unused, zero).
    Axes: S segments (cells (neighbourhood, segment) when the scenario has neighbourhoods,
    :mod:`impactsim.engine.places`), K interventions, A adopter categories, C channels (+
    word of mouth, + follow-up referral), NP provider organisations.
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
    participant_months: np.ndarray  # [M+1, K, S] flow, parent-months enrolled
    providers_offering: np.ndarray  # [M+1, K] stock, organisations offering
    provider_adopt_new: np.ndarray  # [M+1, K] flow
    provider_offer_months: np.ndarray  # [M+1, NP, K] flow: months each organisation offered k
    provider_enrol: np.ndarray  # [NP, K] enrolments per organisation over the run
    fidelity: np.ndarray  # [NP] fidelity of each organisation in this replicate
    effect_d: np.ndarray  # [K] effect sizes drawn for this replicate
    exits: np.ndarray  # [M+1] families leaving in month m (flow)
    adoption_realized: np.ndarray  # [A, 5] assigned category x realized Rogers category
    # the outcomes after the primary (O - 1 of them; empty with one outcome)
    x_prev_cf: np.ndarray  # [M+1, O-1, S] cases, counterfactual
    x_prev: np.ndarray  # [M+1, O-1, S] cases, scenario
    x_realized: np.ndarray  # [M+1, O-1, S] parents with gain >= the outcome's MIC
    x_gain_sum: np.ndarray  # [M+1, O-1, S] summed gain (SD units)
    x_effect_d: np.ndarray  # [O-1, K] effect sizes drawn for this replicate


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


def _channel_regimes(
    spec: ModelSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Channel activity by regime: stretches of steps with the same channels and offers.

    Returns:
        ``(regime_of_step [T], promote_now [R, C, K], aw_hz [R, S, A, K], offered [R, K])``.
    """
    cuts = {0}
    for arr in (spec.chan_start, spec.chan_end, spec.offer_start, spec.offer_end):
        cuts.update(int(v) for v in np.asarray(arr).ravel() if 0 <= v < spec.n_steps)
    starts = np.array(sorted(cuts), dtype=np.int64)
    regime_of_step = np.searchsorted(starts, np.arange(spec.n_steps), side="right") - 1
    parts = [_channel_arrays(spec, int(t)) for t in starts]
    return (
        regime_of_step.astype(np.int64),
        np.stack([p[0] for p in parts]),
        np.stack([p[1] for p in parts]),
        np.stack([p[2] for p in parts]),
    )


def _kernel_ready(kernel: numba.core.registry.CPUDispatcher) -> bool:
    """Whether a kernel is compiled in this process or has an entry in numba's cache index.

    The index is empty when the cache is missing or stale (the source changed); ``False``
    if it cannot be read.
    """
    if kernel.overloads:
        return True
    try:
        return bool(kernel._cache._cache_file._load_index())
    except Exception:  # numba's cache internals: unreadable means not ready
        return False


def engine_compiled() -> bool:
    """Whether the time loop's kernels are ready: compiled in this process or in numba's cache.

    A fresh installation compiles the engine on its first run (about half a minute);
    callers use this to say so before they start (:func:`warm_up`). It reads numba's
    cache index of :func:`~impactsim.engine.steps.run_steps`.
    """
    return _kernel_ready(run_steps)


#: Families in the replicate :func:`warm_up` simulates (enough for every kernel to run).
WARM_UP_PARENTS = 400

#: Seconds :func:`warm_up` waits at most for its helper process (then it goes on alone).
HELPER_TIMEOUT_S = 900

#: What :func:`warm_up`'s helper process runs (the scenario comes pickled on its stdin).
HELPER_CODE = "from impactsim.engine.simulate import compile_helper_main; compile_helper_main()"


def warm_up(spec: ModelSpec) -> None:
    """Compile (or load from numba's cache) every kernel a run of ``spec`` calls.

    Simulates one replicate of the same scenario with :data:`WARM_UP_PARENTS` families:
    the kernels are compiled for argument types, not sizes, so the run that follows
    calls no kernel that is not ready, and its replicates, side by side in threads, do
    not wait for one another's compilation.

    numba compiles on one thread, so when :func:`~impactsim.engine.steps.step_sequential`
    is not in the cache yet, a helper process (:func:`compile_helper_main`) compiles it
    and the kernels that build a replicate into numba's cache while this process
    compiles :func:`~impactsim.engine.steps.step_parents` and
    :func:`~impactsim.engine.counts.record_month` (the two largest kernels,
    ``step_parents`` and ``step_sequential``, do not call each other); the replicate
    then loads the helper's kernels from the cache. If the helper fails, this process
    compiles them itself.
    """
    small = dataclasses.replace(spec, n_parents=min(spec.n_parents, WARM_UP_PARENTS))
    helper = None if _kernel_ready(step_sequential) else _start_helper(small)
    if helper is not None:
        try:
            _start_threads()
            par, _, rec = loop_arguments(small)
            step_parents.compile(_types(par))
            record_month.compile(_types(rec))
        except BaseException:
            helper.kill()
            raise
        finally:
            try:
                helper.wait(timeout=HELPER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                helper.kill()
    simulate_replicate(small, 0)


def _start_threads() -> None:
    """Start numba's thread pool (if not yet), before compiling kernels explicitly.

    A parallel kernel loaded from numba's cache refers to the thread pool's scheduling
    functions, which exist only once the pool has started; calling a kernel starts it,
    ``Dispatcher.compile`` does not (without this, a helper whose kernels' callees are in
    the cache aborts: "LLVM ERROR: Symbol not found: allocate_sched").
    """
    numba.get_num_threads()


def _types(args: tuple) -> tuple:
    """The numba types of a kernel's arguments."""
    return tuple(numba.typeof(a) for a in args)


def _start_helper(spec: ModelSpec) -> subprocess.Popen | None:
    """Start :func:`compile_helper_main` in a new process with ``spec``; None if it cannot."""
    if not sys.executable:
        return None
    # the same interpreter and environment, so the same impactsim and the same numba cache
    # (should it import another copy of impactsim, its cache entries are only unused)
    devnull = subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", HELPER_CODE],
            stdin=subprocess.PIPE,
            stdout=devnull,
            stderr=devnull,
        )
    except OSError:
        return None
    try:
        proc.stdin.write(pickle.dumps(spec))
        proc.stdin.close()
    except OSError:
        proc.kill()
        return None
    return proc


def compile_helper_main() -> None:
    """The helper process of :func:`warm_up`: compile kernels into numba's cache.

    Reads a pickled :class:`ModelSpec` from stdin, compiles
    :func:`~impactsim.engine.steps.step_sequential` (with all it calls) for the argument
    types :func:`loop_arguments` gives, as :func:`~impactsim.engine.steps.run_steps`
    passes them, and builds the scenario's first replicate (its families, network,
    clocks and counts: the kernels :func:`simulate_replicate` calls before the steps).
    """
    spec = pickle.load(sys.stdin.buffer)
    _start_threads()
    step_sequential.compile(_types(loop_arguments(spec)[1]))
    _new_replicate(spec, 0)


def loop_arguments(spec: ModelSpec) -> tuple[tuple, tuple, tuple]:
    """Arguments of step_parents, step_sequential and record_month, for compiling them.

    Of the types :func:`~impactsim.engine.steps.run_steps` and
    :func:`simulate_replicate` pass, not of any replicate: one family, no network, zeros
    of the engine's dtypes, made without running the families' or the network's kernels,
    so that a process can compile any of the three first (:func:`warm_up`).
    """
    draws = draw_replicate(spec, 0)
    population = replicate_population(spec, draws)
    n_seg, n_iv = spec.n_cells, spec.n_interventions
    drawn = {name: np.zeros(1, PARENT_LAYOUT[name][0]) for name in ("segment", "category", "score")}
    no_ties = np.zeros(2, np.int64), np.zeros(0, np.int32)
    parents, network = _assemble_parents(spec, drawn, *no_ties, False)
    channels, interventions = _channels_and_interventions(spec, draws, False)
    providers = _new_providers(spec, draws)
    bounds = chunk_bounds(1)
    records = _new_records(spec, bounds)
    scratch = new_scratch(bounds.shape[0] - 1, n_iv, n_seg, len(spec.outcome_names) - 1)
    c = channels
    step = Step(
        0,
        c.r_aw_hz[0],
        c.r_p_aw[0],
        c.r_promote[0],
        c.r_offered[0],
        np.zeros((n_seg, n_iv)),
        np.full(n_iv, -1, np.int64),
        False,
    )
    queues = Queues(
        np.zeros((n_iv, 1), np.int32), np.zeros((n_iv, 1), np.int16), np.zeros(n_iv, np.int64)
    )
    new = np.zeros((n_iv, n_seg), np.int64)
    s_cnt = records.s_cnt
    bundles = (parents, population, network, channels, interventions, providers)
    par = (step, bounds, *bundles, scratch, s_cnt, 1)
    seq = (
        0,
        bounds,
        parents,
        network,
        interventions,
        providers,
        queues,
        scratch,
        s_cnt,
        new,
        new,
        1,
    )
    rec = (
        spec.n_steps,
        bounds,
        parents,
        population,
        interventions,
        s_cnt,
        providers.prov_state,
        records.rec_cnt[0],
        records.rec_gain[0],
        records.rec_x_cnt[0],
        records.rec_x_gain[0],
        records.providers_offering[0],
        False,
    )
    return par, seq, rec


class Cancelled(Exception):
    """A replicate stopped between two blocks of steps because its ``cancel`` was set."""


def simulate_replicate(
    spec: ModelSpec,
    rep_key: int,
    final_state: dict | None = None,
    cancel: threading.Event | None = None,
) -> Recording:
    """Simulate one replicate of a compiled scenario.

    Small populations run on one numba thread (see :data:`PARALLEL_MIN_PARENTS`); the
    results are the same for any number of threads.

    Args:
        spec: compiled scenario.
        rep_key: replicate key from :func:`impactsim.rng.replicate_key`.
        final_state: if a dict is given, the final per-parent state arrays and the network are
            stored in it (for invariant checks and debugging).
        cancel: when it is set, the replicate stops at its next block of steps (a replicate
            running in another thread cannot be interrupted by Ctrl-C).

    Returns:
        The replicate's :class:`Recording`.

    Raises:
        Cancelled: ``cancel`` was set.
    """
    if spec.n_parents < PARALLEL_MIN_PARENTS:
        with numba_threads(1):
            return _simulate_replicate(spec, rep_key, final_state, cancel)
    return _simulate_replicate(spec, rep_key, final_state, cancel)


def candidate_rates(spec: ModelSpec, r_aw_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounding rates per step of the candidate processes of awareness and enrolment.

    A parent who is not aware of intervention k can become aware through the channels
    (at most the largest awareness hazard of any regime) or enrol through word of mouth
    (at most ``im_mult_a * q_k``, all neighbours having taken part) or a follow-up
    referral; an aware parent can enrol through the channel that made it aware, word of
    mouth or a follow-up referral. The bound of each state is rounded up to a power of
    two, so that two scenarios whose hazards differ a little (a compared strategy) mostly
    share their candidate steps and keep their common random numbers; ineligible segments
    get rate 0 (no candidates).

    Returns:
        ``(cand_none [S, A, K], cand_aware [A, C + 2, K])``: rates per step (``B * dt``).
    """
    wom = spec.cat_im_mult[:, None] * np.where(spec.q_imit > 0, spec.q_imit, 0.0)[None, :]
    follow = np.where(spec.follow_after >= 0, spec.follow_ref_hz, 0.0)
    none = r_aw_hz.max(axis=0) + wom[None, :, :] + follow[None, None, :]  # over the regimes
    none = none * spec.elig_seg.T[:, None, :]
    aware = (
        spec.cat_ch_mult[:, None, None] * spec.chan_ref[None, :, None]
        + wom[:, None, :]
        + follow[None, None, :]
    )

    def rung(rate: np.ndarray) -> np.ndarray:
        up = np.exp2(np.ceil(np.log2(np.where(rate > 0, rate, 1.0))))
        return np.where(rate > 0, up, 0.0) * spec.dt

    return rung(none), rung(aware)


def score_gate(spec: ModelSpec, effect_d: np.ndarray) -> np.ndarray:
    """Problem score at or below which a parent can never enter an indicated programme.

    An indicated programme k admits a parent only while ``z - gain > min_score_k``. When
    no parent's gain can be negative in this replicate, a parent with ``z <= min_score_k``
    never passes, and the engine gives it no candidate steps for k (they would all be
    rejected: the result is the same, only faster). The gain is
    ``sum_k (g_k + spill_k) + sum_{k<m} gamma_km min(g_k, g_m)`` (both positive). Each
    ``g_k`` and ``spill_k`` has the sign of the effect size ``d_k`` drawn for the replicate
    (multipliers, fidelity, dose and decay are >= 0), and ``min(g_k, g_m) <= (g_k + g_m)/2``,
    so ``gain >= sum_k g_k (1 + sum_{m != k} min(gamma_km, 0) / 2)``: the gain is >= 0
    when every ``d_k >= 0`` and every bracket is positive (with a margin, so that rounding
    cannot make a sum of zero negative).

    Returns:
        ``[K]``: ``min_score_k`` where that holds, else ``-inf`` (no parent is left out).
    """
    neg = np.minimum(spec.gamma, 0.0)
    nonneg = bool(np.all(effect_d >= 0.0)) and bool(np.all(1.0 + 0.5 * neg.sum(axis=1) > 1e-3))
    if not nonneg:
        return np.full(spec.n_interventions, -np.inf)
    return spec.elig_min_score.astype(np.float64)  # a copy


def _simulate_replicate(
    spec: ModelSpec,
    rep_key: int,
    final_state: dict | None = None,
    cancel: threading.Event | None = None,
    work_split: int | None = None,
) -> Recording:
    """The body of :func:`simulate_replicate`, on the current numba thread count.

    ``work_split`` is the number of parts the kernels split the parents' pass and the
    network pushes into (default: the current numba thread count, one part a thread).
    The results do not depend on it; the tests check that with more parts than threads.
    """
    state = _new_replicate(spec, rep_key)
    draws, population, parents, network, channels, interventions, providers = state[:7]
    bounds, records = state[7:]
    n, n_iv = spec.n_parents, spec.n_interventions
    # waiting lists start small and grow (doubling) inside the kernel when needed
    q_cap = initial_queue_capacity(n)
    q_id = np.zeros((n_iv, q_cap), np.int32)
    q_t = np.zeros((n_iv, q_cap), np.int16)
    q_len = np.zeros(n_iv, np.int64)
    # blocks of steps of about BLOCK_PARENT_STEPS parent-steps each: the interpreter
    # returns between blocks (Ctrl-C and ``cancel`` are handled there) but does no work
    # per step
    block = max(1, BLOCK_PARENT_STEPS // max(n, 1))
    for t_begin in range(0, spec.n_steps, block):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"replicate cancelled at step {t_begin} of {spec.n_steps}")
        q_id, q_t = run_steps(
            t_begin,
            min(spec.n_steps, t_begin + block),
            bounds,
            parents,
            population,
            network,
            channels,
            interventions,
            providers,
            q_id,
            q_t,
            q_len,
            records,
            numba.get_num_threads() if work_split is None else work_split,
        )
    # the state after the last step
    record_month(
        spec.n_steps,
        bounds,
        parents,
        population,
        interventions,
        records.s_cnt,
        providers.prov_state,
        records.rec_cnt[spec.n_months],
        records.rec_gain[spec.n_months],
        records.rec_x_cnt[spec.n_months],
        records.rec_x_gain[spec.n_months],
        records.providers_offering[spec.n_months],
        False,  # no step follows: the spillover gains stay as they are
    )
    rec = _recording(spec, records, providers, draws)
    _classify_adoption(rec, parents.adopt_step, parents.category, spec.dt)
    if final_state is not None:
        final_state.update(parents._asdict())
        final_state.update(
            nbr_off=network.nbr_off,
            nbrs=network.nbrs,
            mf_count=network.mf_count,
            prov_state=providers.prov_state,
            q_len=q_len,
            q_id=q_id,
            q_t=q_t,
        )
    return rec


def _new_replicate(spec: ModelSpec, rep_key: int) -> tuple:
    """A replicate's state before its first step: families, network, clocks, stock counts.

    Returns:
        ``(draws, population, parents, network, channels, interventions, providers,
        bounds, records)``.
    """
    draws: ReplicateDraws = draw_replicate(spec, rep_key)
    spec = replicate_rates(spec, draws)  # uncertain referral and adoption rates, if any
    population = replicate_population(spec, draws)
    parents, network = _new_parents(spec, draws, population)
    channels, interventions = _channels_and_interventions(spec, draws, network.fully_mixed)
    providers = _new_providers(spec, draws)
    bounds = chunk_bounds(spec.n_parents)
    records = _new_records(spec, bounds)
    start_clocks(
        parents.segment,
        parents.category,
        parents.score,
        parents.t_exit,
        parents.t_next,
        parents.t_due,
        population.turn_rate,
        population.pop_keys[4],
        interventions.follow_after,
        interventions.score_gate,
        interventions.cand_none,
        interventions.cand_aware,
        interventions.iv_keys,
    )
    # stock counts per chunk (+ one slot for the sequential phase), kept up to date at events
    count_all(
        bounds,
        parents.segment,
        parents.category,
        parents.score,
        parents.first_channel,
        parents.status,
        spec.cutoff,
        spec.mic,
        records.s_cnt,
    )
    return draws, population, parents, network, channels, interventions, providers, bounds, records


def _new_parents(
    spec: ModelSpec, draws: ReplicateDraws, population: Population
) -> tuple[Parents, Network]:
    """The families (segment, category, score), their network and their empty state.

    Structure of arrays, allocated as :data:`~impactsim.engine.state.PARENT_LAYOUT` says.
    """
    drawn = draw_population(spec, draws, population)
    nbr_off, nbrs = replicate_network(spec, draws, drawn["segment"], population.nbh)
    fully_mixed = spec.network_kind == "fully_mixed"
    parents, network = _assemble_parents(spec, drawn, nbr_off, nbrs, fully_mixed)
    if parents.x_score.shape[0] > 0:
        keys = population.pop_keys
        draw_outcome_scores_all(
            keys[2],
            keys[3],
            draws.x_keys,
            spec.out_chol,
            spec.x_mu,
            drawn["segment"],
            parents.x_score,
        )
    return parents, network


def _assemble_parents(
    spec: ModelSpec, drawn: dict, nbr_off: np.ndarray, nbrs: np.ndarray, fully_mixed: bool
) -> tuple[Parents, Network]:
    """The parents' bundles around their drawn families and network (:func:`_new_parents`)."""
    n, n_seg, n_iv = drawn["segment"].shape[0], spec.n_cells, spec.n_interventions
    segment = drawn["segment"]
    n_x = len(spec.outcome_names) - 1
    n_unit = n if n_x > 0 else 0
    parents = Parents(
        **{
            name: drawn[name] if fill is None else np.full((n, n_iv) if by_iv else n, fill, dtype)
            for name, (dtype, by_iv, fill) in PARENT_LAYOUT.items()
        },
        x_score=np.zeros((n_x, n), np.float32),
        unit_effect=np.zeros((n_unit, n_iv), np.float32),
        unit_spill=np.zeros((n_unit, n_iv), np.float32),
    )
    network = Network(
        nbr_off,
        nbrs,
        fully_mixed,
        spec.homophily,
        np.zeros((n_seg, n_iv), np.int64),
        np.bincount(segment, minlength=n_seg).astype(np.int64),
    )
    return parents, network


def _channels_and_interventions(
    spec: ModelSpec, draws: ReplicateDraws, fully_mixed: bool
) -> tuple[Channels, Interventions]:
    """Channel regimes and the interventions' parameters, with the candidate bounds."""
    spill_on = spec.spill > 0
    regime_of_step, r_promote, r_aw_hz, r_offered = _channel_regimes(spec)
    p_ch = step_probabilities(spec.cat_ch_mult[:, None] * spec.chan_ref[None, :], spec.dt)
    channels = Channels(
        regime_of_step,
        r_promote,
        r_aw_hz,
        step_probabilities(r_aw_hz, spec.dt),
        r_offered,
        spec.contact_hz,
        spec.chan_cat,
        spec.chan_ref,
        p_ch,
    )
    cand_none, cand_aware = candidate_rates(spec, r_aw_hz)
    interventions = Interventions(
        spec.dur_steps,
        -np.log1p(-spec.p_drop),
        spec.elig_seg,
        spec.elig_min_score,
        score_gate(spec, draws.effect_d),
        spec.follow_after,
        spec.follow_delay_steps,
        spec.follow_ref_hz,
        spec.q_imit,
        spill_on,
        spec.spill,
        spec.spill_decay_step,
        spec.decay_tab,
        spec.sleeper_steps,
        spec.gamma,
        bool(np.any(spec.gamma != 0)),
        bool(spill_on.any()) and not fully_mixed,
        draws.iv_keys,
        draws.effect_d,
        spec.eff_mult,
        spec.max_wait_steps,
        cand_none,
        cand_aware,
        step_probabilities(cand_none, 1.0),
        step_probabilities(cand_aware, 1.0),
        draws.x_effect_d,
    )
    return channels, interventions


def _new_providers(spec: ModelSpec, draws: ReplicateDraws) -> Providers:
    """The provider organisations, none offering yet, with the replicate's fidelity."""
    n_prov, n_iv = spec.prov_type.shape[0], spec.n_interventions
    return Providers(
        np.zeros((n_prov, n_iv), np.int8),
        np.zeros((n_prov, n_iv), np.float64),
        np.zeros((n_prov, n_iv), np.int64),
        spec.prov_type,
        spec.type_counts,
        spec.prov_may_offer,
        spec.offer_start,
        spec.offer_end,
        spec.prov_alpha,
        spec.prov_beta,
        spec.prov_p_stop,
        spec.prov_init_share,
        draws.prov_keys,
        spec.prov_cap_step,
        draws.fidelity,
    )


def _new_records(spec: ModelSpec, bounds: np.ndarray) -> Records:
    """Empty records: month-end stocks and monthly flows, and the chunks' stock counts."""
    n_seg, n_iv = spec.n_cells, spec.n_interventions
    n_prov = spec.prov_type.shape[0]
    m1 = spec.n_months + 1
    n_rows = count_rows(n_iv, 5, spec.n_channels + 2)[-1]
    n_chunks = bounds.shape[0] - 1
    return Records(
        np.zeros((n_chunks + 1, n_rows, n_seg), np.int64),
        np.zeros((m1, n_rows, n_seg), np.int64),
        np.zeros((m1, n_seg)),
        *(np.zeros((m1, n_iv, n_seg), np.int64) for _ in range(4)),
        np.zeros((m1, n_iv, n_seg)),
        np.zeros((m1, n_iv), np.int64),
        np.zeros((m1, n_iv), np.int64),
        np.zeros((m1, n_prov, n_iv)),
        np.zeros(m1, np.int64),
        np.zeros((m1, len(spec.outcome_names) - 1, N_X_ROWS, n_seg), np.int64),
        np.zeros((m1, len(spec.outcome_names) - 1, n_seg)),
    )


def _recording(
    spec: ModelSpec, records: Records, providers: Providers, draws: ReplicateDraws
) -> Recording:
    """The replicate's :class:`Recording`: the count rows decoded, the flows as they are."""
    rows = decode_count_rows(records.rec_cnt, spec.n_interventions, spec.n_channels + 2)
    return Recording(
        **rows,
        gain_sum=records.rec_gain,
        enrol_new=records.enrol_new,
        complete_new=records.complete_new,
        dropout_new=records.dropout_new,
        gaveup_new=records.gaveup_new,
        participant_months=records.participant_months,
        providers_offering=records.providers_offering,
        provider_adopt_new=records.provider_adopt_new,
        provider_offer_months=records.provider_offer_months,
        provider_enrol=providers.prov_enrol,
        fidelity=draws.fidelity,
        effect_d=draws.effect_d,
        exits=records.exits,
        adoption_realized=np.zeros((5, 5), np.int64),
        x_prev_cf=records.rec_x_cnt[:, :, X_CF],
        x_prev=records.rec_x_cnt[:, :, X_PREV],
        x_realized=records.rec_x_cnt[:, :, X_REALIZED],
        x_gain_sum=records.rec_x_gain,
        x_effect_d=draws.x_effect_d,
    )
