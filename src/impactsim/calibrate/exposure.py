"""Channel use as a target: the share of parents a channel contacts, from the scenario.

Surveys report which channels parents use for parenting information (websites 60.7 %,
magazines 50.6 %, social media 25.9 % of 754 parents; Fierloos et al. 2020, in the CIKEO
report, section 4.5). In impactsim a channel contacts each parent of segment ``s`` at the
rate ``contact_rates[channel]`` per month (a Poisson process while the channel is active,
``start_month`` to ``end_month``), and only parents of the adopter categories it targets.
The share of parents contacted at least once in a window of months is then

    share = sum_s w_s sum_a p_sa [a targeted] (1 - exp(-rate_s * active months in window))

with ``w_s`` the segment's share of the target population (``outcome.target_segments``) or 1
for a named segment, and ``p_sa`` its adopter-category shares. The engine draws contacts
only as awareness of an offered programme and records no contacts of its own, so this
metric, ``channel_contact_share``, is computed from the scenario (a candidate's contact
rates), not from the simulated parents: the same for every replicate, and it ignores the
families that move in or out during the window.
"""

from __future__ import annotations

import math

from impactsim.scenario import ADOPTER_CATEGORIES, Scenario
from impactsim.tables import ALL

#: The metric name of a channel-use target.
CONTACT_SHARE = "channel_contact_share"


def active_months(scenario: Scenario, channel: str, first: int, last: int) -> float:
    """Months of the window ``(first - 1, last]`` in which the channel is active."""
    ch = next(c for c in scenario.channels if c.name == channel)
    lo, hi = max(first - 1, 0), last
    start = ch.start_month
    end = math.inf if ch.end_month is None else ch.end_month
    return max(0.0, min(hi, end) - max(lo, start))


def contact_share(
    scenario: Scenario, channel: str, segment: str = ALL, months: tuple[int, int] | None = None
) -> float:
    """Expected share of parents contacted at least once by ``channel`` in ``months``.

    Args:
        scenario: the scenario (a calibration candidate).
        channel: the channel's name.
        segment: a segment's name, or ``all`` for the target population.
        months: ``(first, last)``: the months ``first`` to ``last`` (month ``m`` is the
            time from ``m - 1`` to ``m``); None: the whole horizon.

    Returns:
        The share (0-1).
    """
    first, last = months if months is not None else (1, scenario.simulation.months)
    exposure = active_months(scenario, channel, first, last)
    ch = next(c for c in scenario.channels if c.name == channel)
    targeted = ch.target_adopter_categories
    segs = scenario.population.segments
    if segment != ALL:
        segs = [s for s in segs if s.name == segment]
    elif scenario.outcome.target_segments is not None:
        segs = [s for s in segs if s.name in scenario.outcome.target_segments]
    total = sum(s.share for s in segs)
    share = 0.0
    for s in segs:
        reached = -math.expm1(-s.contact_rates.get(channel, 0.0) * exposure)
        cats = dict(zip(ADOPTER_CATEGORIES, s.adopter_shares.as_tuple(), strict=True))
        in_reach = sum(p for a, p in cats.items() if targeted is None or a in targeted)
        share += s.share / total * in_reach / sum(cats.values()) * reached
    return share
