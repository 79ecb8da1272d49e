"""The reference model's vocabulary: statuses, mutations and the rules of a programme.

Comments cite the sections of ``docs/model.md`` (``§4`` = section 4).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist

from impactsim.scenario import Channel, Scenario
from impactsim.scenario.outcomes import correlation_matrix, lower_factor

ALL = "all"

# Status of a parent for one programme (§3-§6).
NOT_AWARE = "not_aware"
AWARE = "aware"  # made aware by a channel, not (yet) asked for a place
WAITING = "waiting"  # asked for a place, on the waiting list
ENROLLED = "enrolled"
COMPLETED = "completed"
DROPPED = "dropped"
GAVE_UP = "gave_up"  # left the waiting list without a place
#: Statuses that count as "took part" (reach, word of mouth).
TOOK_PART = frozenset({ENROLLED, COMPLETED, DROPPED})

# State of a provider organisation for one programme (§5).
NOT_OFFERING = "not_offering"
OFFERING = "offering"
STOPPED = "stopped"

#: Pseudo-channels recorded as the channel of first contact (§3).
WORD_OF_MOUTH = "word_of_mouth"
FOLLOW_UP = "follow_up"

#: Deliberately wrong rules, for checking that the equivalence tests can fail.
MUTATIONS: dict[str, str] = {
    "double_decay": "the decay factor of the own effect is applied twice (§7)",
    "no_dropout_dose": "dropouts keep the full effect instead of the dose (j - 1)/D (§6)",
    "same_step_referral": "a parent made aware by a channel may ask for a place in the same step (§3)",
}


def step_probability(rate_per_month: float, dt: float) -> float:
    """Probability that an event with a constant hazard happens within one step (§2).

    Args:
        rate_per_month: hazard (per month).
        dt: step length (months).

    Returns:
        ``1 - exp(-rate * dt)``.
    """
    return -math.expm1(-rate_per_month * dt)


def ratio(num: float, den: float) -> float:
    """``num / den``, NaN when the denominator is zero (as in :mod:`impactsim.metrics`)."""
    return num / den if den > 0 else math.nan


@dataclass
class Programme:
    """The rules of one offered intervention, converted to steps (§3-§7).

    Attributes mirror the scenario fields; ``*_steps`` are whole numbers of steps
    (``round(months / dt)``), ``end_step`` is ``math.inf`` for "never".
    """

    name: str
    start_step: int
    end_step: float
    channels: list[Channel]
    provider_types: list[str]
    duration_steps: int
    dropout_probability: dict[str, float]  # per segment, per attended step
    effect_multiplier: dict[str, float]  # per segment
    half_life_months: float | None
    sleeper_steps: int
    imitation_rate: float
    spillover_fraction: float
    spillover_decay: float  # factor per step
    max_wait_steps: int
    eligible_segments: set[str]
    min_problem_score: float | None
    follow_up_after: str | None
    follow_up_delay_steps: int
    follow_up_rate: float
    effect_size_mean: float
    effect_size_sd: float
    # §1 the neighbourhoods whose families may take part (the offer's, those its providers
    # serve); None: everywhere
    neighbourhoods: set[str] | None = None


@dataclass
class Participation:
    """A parent's history with one programme.

    Attributes:
        status: one of the status constants (``NOT_AWARE`` ... ``GAVE_UP``).
        since: step of the last status change (awareness, asking, enrolment, completion,
            dropout, giving up).
        channel: referral channel (the channel that made the parent aware), if any.
        effect: effect delivered (Cohen's d x multiplier x fidelity, x dose after a dropout).
        unit: the same per unit of d (multiplier x fidelity x dose), for the outcomes after
            the primary: their effect is their d times this.
    """

    status: str = NOT_AWARE
    since: int = 0
    channel: Channel | None = None
    effect: float = 0.0
    unit: float = 0.0


def further_outcomes(
    scenario: Scenario, programmes: list[Programme], rng: random.Random
) -> tuple[list, dict[str, dict[str, float]], list[list[float]], dict[str, dict[str, float]]]:
    """§7 the outcomes after the primary, for the reference model.

    Returns:
        ``(outcomes, score mean per outcome and segment, lower Cholesky factor of the
        outcomes' correlation (rows of lists), d_k,o per outcome and programme)``; the
        effect sizes are drawn from ``rng`` (only those with an SD above 0).
    """
    outs = scenario.outcome_list
    further = outs[1:]
    means = {
        o.name: {
            s.name: o.problem_cutoff + NormalDist().inv_cdf((o.baseline_prevalence or {})[s.name])
            for s in scenario.population.segments
        }
        for o in further
    }
    names = [o.name for o in outs]
    chol = lower_factor(correlation_matrix(names, scenario.outcome_correlation)).tolist()
    sizes = {iv.name: iv.effect_sizes for iv in scenario.interventions}
    d_by: dict[str, dict[str, float]] = {o.name: {} for o in further}
    for o in further:
        for p in programmes:
            size = sizes[p.name].get(o.name)
            d = 0.0 if size is None else size.mean
            if size is not None and size.sd > 0:
                d += size.sd * rng.gauss(0.0, 1.0)
            d_by[o.name][p.name] = d
    return further, means, chol, d_by
