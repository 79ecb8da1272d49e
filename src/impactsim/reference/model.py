"""The agents of the reference model and the Mesa model that drives them.

Comments cite the sections of ``docs/model.md`` (``§4`` = section 4).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

try:
    import mesa
except ImportError as exc:  # an extra: the engine, the CLI and the library do not need it
    raise ImportError(
        "the Mesa reference model needs Mesa: pip install 'impactsim[reference]'"
    ) from exc
import numpy as np
import pandas as pd

from impactsim.reference.network import neighbourhoods, random_network, small_world_network
from impactsim.reference.rules import (
    AWARE,
    COMPLETED,
    DROPPED,
    ENROLLED,
    FOLLOW_UP,
    GAVE_UP,
    MUTATIONS,
    NOT_AWARE,
    NOT_OFFERING,
    OFFERING,
    STOPPED,
    TOOK_PART,
    WAITING,
    WORD_OF_MOUTH,
    Participation,
    Programme,
    further_outcomes,
    ratio,
    step_probability,
)
from impactsim.reference.summary import horizon_summary
from impactsim.scenario import ADOPTER_CATEGORIES, AdopterCategory, Channel, Provider, Scenario


def _served(offer: Any, scenario: Scenario) -> set[str] | None:
    """§1 where an offer is open: its own neighbourhoods and those its providers serve."""
    where = None if offer.neighbourhoods is None else set(offer.neighbourhoods)
    for kind in scenario.providers:
        if kind.name in offer.providers and kind.neighbourhoods is not None:
            where = set(kind.neighbourhoods) if where is None else where & set(kind.neighbourhoods)
    return where


# ------------------------------------------------------------------------ agents
class Parent(mesa.Agent):
    """A family occupying one place of the social network (§1).

    A family is created at a *place* (slot); when it leaves (turnover), an entrant
    created at the same place takes over the place's network ties.
    """

    def __init__(self, model: ReferenceModel, place: int) -> None:
        """Draw a new family: segment, adopter category and latent problem score (§1).

        Args:
            model: the model.
            place: index of the place in the social network.
        """
        super().__init__(model)
        self.place = place
        hoods = model.scenario.population.neighbourhoods
        self.neighbourhood = hoods[model.place_neighbourhood[place]].name if hoods else None
        self.present = True
        # §1 segment by the mix of the place's neighbourhood (the segment shares without
        # neighbourhoods), category by the segment's adopter shares
        mix = model.neighbourhood_mix[model.place_neighbourhood[place]]
        seg = self.random.choices(model.segments, weights=mix)[0]
        self.segment: str = seg.name
        self.category: str = self.random.choices(
            ADOPTER_CATEGORIES, weights=seg.adopter_shares.as_tuple()
        )[0]
        self.behaviour: AdopterCategory = model.category_behaviour[self.category]
        # §1 latent problem score z ~ Normal(mu_s, 1), mu_s = c + Phi^-1(pi_s)
        self.score: float = self.random.gauss(model.segment_mean[self.segment], 1.0)
        # §7 several outcomes: z_o = mu_o,s + sum_{j<=o} L_oj e_j, e_0 the primary's normal
        normals = [self.score - model.segment_mean[self.segment]]
        normals += [self.random.gauss(0.0, 1.0) for _ in model.further]
        self.further_score = {
            o.name: model.further_mean[o.name][self.segment]
            + sum(model.chol[i + 1][j] * normals[j] for j in range(i + 2))
            for i, o in enumerate(model.further)
        }
        self.unit_spillover: dict[str, float] = {p.name: 0.0 for p in model.programmes}
        self.first_channel: str | None = None
        self.history: dict[str, Participation] = {p.name: Participation() for p in model.programmes}
        self.spillover: dict[str, float] = {p.name: 0.0 for p in model.programmes}

    # ---------------------------------------------------------------- effects (§7)
    def programme_effect(self, prog: Programme, end_of_step: int, d: float | None = None) -> float:
        """Effect of one programme at the end of a step (§7 decay and sleeper effect).

        ``g = e * 2^(-(t - t_e - L) dt / H)`` once ``t - t_e >= L``, where ``t_e`` is the
        step of completion (or dropout); 0 before, and 0 while enrolled. ``d``: the
        effect size on an outcome after the primary (``e = d * unit``); None: the primary.
        """
        rec = self.history[prog.name]
        if rec.status not in (COMPLETED, DROPPED):
            return 0.0
        lag = end_of_step - rec.since - prog.sleeper_steps
        if lag < 0:
            return 0.0
        remaining = 1.0
        if prog.half_life_months is not None:
            remaining = 2.0 ** (-lag * self.model.dt / prog.half_life_months)
            if self.model.mutation == "double_decay":
                remaining *= remaining
        return (rec.effect if d is None else d * rec.unit) * remaining

    def gain(self, end_of_step: int, outcome: str | None = None) -> float:
        """Total reduction of the problem score G_i (§7 combinations and spillover).

        ``sum_k g_k + sum_{k<l} gamma_kl min(g_k, g_l) + sum_k S_k``; the interaction
        counts only when both effects are positive. ``S_k`` is the current spillover gain.
        ``outcome``: an outcome after the primary (its effect sizes d_k,o); None: the primary.
        """
        model = self.model
        if outcome is None:
            g = {p.name: self.programme_effect(p, end_of_step) for p in model.programmes}
            spill = sum(self.spillover.values())
        else:
            d = model.further_d[outcome]
            g = {p.name: self.programme_effect(p, end_of_step, d[p.name]) for p in model.programmes}
            spill = sum(d[k] * u for k, u in self.unit_spillover.items())
        total = sum(g.values()) + spill
        for (a, b), gamma in model.interactions.items():
            if g[a] > 0.0 and g[b] > 0.0:
                total += gamma * min(g[a], g[b])
        return total

    # ---------------------------------------------------------------- one step (§2 phase 2)
    def step(self) -> None:
        """Phase (2) of a step: turnover, attendance, awareness and the decision to ask."""
        model = self.model
        # §7 spillover gains decay at the programme's half-life, step by step
        for prog in model.programmes:
            if self.spillover[prog.name] != 0.0:
                self.spillover[prog.name] *= prog.spillover_decay
            self.unit_spillover[prog.name] *= prog.spillover_decay
        # §1 turnover: the family leaves and an entrant takes its place (acts next step)
        if self.random.random() < model.p_turnover:
            model.replace_family(self)
            return
        # programmes in the order of the strategy's offers
        for prog in model.programmes:
            rec = self.history[prog.name]
            if rec.status == ENROLLED:
                self.attend(prog, rec)
            elif rec.status in (NOT_AWARE, AWARE):
                if model.is_offered(prog) and self.is_eligible(prog):
                    self.consider(prog, rec)

    def attend(self, prog: Programme, rec: Participation) -> None:
        """§6 one attended step: dropout first, otherwise completion after D steps.

        Enrolled in step ``e``, the parent attends steps ``e+1 .. e+D``; a dropout in
        attended step ``j`` keeps the dose ``(j - 1)/D`` of the effect.
        """
        model = self.model
        t = model.t
        j = t - rec.since  # number of this attended step, 1..D
        if self.random.random() < prog.dropout_probability[self.segment]:
            if model.mutation != "no_dropout_dose":
                rec.effect *= (j - 1) / prog.duration_steps
                rec.unit *= (j - 1) / prog.duration_steps
            rec.status, rec.since = DROPPED, t
            model.flows[("dropouts", prog.name, self.segment)] += 1
        elif j >= prog.duration_steps:
            rec.status, rec.since = COMPLETED, t
            model.flows[("completions", prog.name, self.segment)] += 1
            model.completers_this_step.append((self, prog))

    def is_eligible(self, prog: Programme) -> bool:
        """§6 eligibility: segment, follow-up after completion + delay, indicated score."""
        t = self.model.t
        if self.segment not in prog.eligible_segments:
            return False
        if prog.neighbourhoods is not None and self.neighbourhood not in prog.neighbourhoods:
            return False
        if prog.follow_up_after is not None:
            before = self.history.get(prog.follow_up_after)
            if before is None or before.status != COMPLETED:
                return False  # (a prerequisite that is not offered is never completed)
            # §2 completed before this step (state at the start of the step), §6 and at
            # least the delay ago
            if before.since >= t or t < before.since + prog.follow_up_delay_steps:
                return False
        if prog.min_problem_score is not None:
            # current score z - G: the effects as at the end of the previous step
            if self.score - self.gain(t - 1) <= prog.min_problem_score:
                return False
        return True

    def consider(self, prog: Programme, rec: Participation) -> None:
        """§2-§4 and §6: competing hazards of awareness, referral, word of mouth, follow-up."""
        model = self.model
        # §3 awareness through the active channels that promote the programme
        contacts = []
        if rec.status == NOT_AWARE:
            contacts = model.contacts_now[(prog.name, self.segment, self.category)]
        # §3 a channel contacts only the adopter categories it targets (default all), and
        # only the families of its neighbourhoods (default all)
        contacts = [
            (ch, rate)
            for ch, rate in contacts
            if (
                ch.target_adopter_categories is None
                or self.category in ch.target_adopter_categories
            )
            and (ch.neighbourhoods is None or self.neighbourhood in ch.neighbourhoods)
        ]
        h_aware = sum(rate for _, rate in contacts)
        # §3 an aware parent asks for a place: m_ch[a] * rho_c of the referral channel
        h_channel = 0.0
        if rec.status == AWARE:
            h_channel = self.behaviour.channel_multiplier * model.referral(rec.channel)
        # §4 word of mouth: m_im[a] * q_k * f if f >= theta[a] and f > 0
        h_wom = 0.0
        if prog.imitation_rate > 0.0:
            f = model.participating_share(self, prog)
            if f > 0.0 and f >= self.behaviour.social_threshold:
                h_wom = self.behaviour.imitation_multiplier * prog.imitation_rate * f
        # §6 follow-up referral by the first programme's provider
        h_follow = prog.follow_up_rate if prog.follow_up_after is not None else 0.0
        # §2 competing risks: one uniform decides whether and which event happens
        total = h_aware + h_channel + h_wom + h_follow
        if total <= 0.0:
            return
        p_any = step_probability(total, model.dt)
        u = self.random.random()
        if u >= p_any:
            return
        x = u / p_any * total  # position along the stacked hazards
        if x < h_aware:
            channels, rates = zip(*contacts, strict=True)
            rec.channel = self.random.choices(channels, weights=rates)[0]
            rec.status, rec.since = AWARE, model.t
            if self.first_channel is None:
                self.first_channel = rec.channel.name
            if model.mutation == "same_step_referral":
                h = self.behaviour.channel_multiplier * model.referral(rec.channel)
                if self.random.random() < step_probability(h, model.dt):
                    self.ask_for_place(prog, rec, rec.channel.name)
            return  # an aware parent may ask for a place from the next step on
        if x < h_aware + h_channel:
            self.ask_for_place(prog, rec, rec.channel.name)
        elif x < h_aware + h_channel + h_wom:
            self.ask_for_place(prog, rec, WORD_OF_MOUTH)  # aware and asking at once
        else:
            self.ask_for_place(prog, rec, FOLLOW_UP)

    def ask_for_place(self, prog: Programme, rec: Participation, via: str) -> None:
        """§5 join the programme's waiting list (places are allocated in phase 3)."""
        if self.first_channel is None:
            self.first_channel = via
        rec.status, rec.since = WAITING, self.model.t
        self.model.joined_this_step[prog.name].append(self)

    # ---------------------------------------------------------------- measurement (§8, §9)
    def measure(self) -> None:
        """Add this parent to the model's tally at a month end (scenario and counterfactual)."""
        model = self.model
        tally, s, a = model.tally, self.segment, self.category
        g = self.gain(model.t - 1)  # the end of the step just finished
        tally[("present", s)] += 1
        tally[("present_category", a, s)] += 1
        if self.score > model.cutoff:  # §8 counterfactual: the same family, no programme
            tally[("cases_counterfactual", s)] += 1
        if self.score - g > model.cutoff:
            tally[("cases", s)] += 1
        if g >= model.minimal_important_change:
            tally[("realized", s)] += 1
        tally[("gain", s)] += g
        took_part = False
        for prog in model.programmes:
            status = self.history[prog.name].status
            if status in TOOK_PART:
                tally[("reach_direct", prog.name, s)] += 1
                took_part = True
            elif status == WAITING:
                tally[("waiting", prog.name, s)] += 1
        if took_part:
            tally[("reach_any", s)] += 1
            tally[("reach_any_category", a, s)] += 1
        elif any(v != 0.0 for v in self.spillover.values()):
            tally[("reach_indirect", s)] += 1
        for o in model.further:  # §8 each further outcome and its counterfactual
            z, g_o = self.further_score[o.name], self.gain(model.t - 1, o.name)
            tally[("cases_counterfactual", o.name, s)] += z > o.problem_cutoff
            tally[("cases", o.name, s)] += z - g_o > o.problem_cutoff
            tally[("realized", o.name, s)] += g_o >= o.minimal_important_change
            tally[("gain", o.name, s)] += g_o


class ProviderOrganisation(mesa.Agent):
    """One organisation of a provider type (§5): adopts, offers, stops; creates places."""

    def __init__(self, model: ReferenceModel, kind: Provider) -> None:
        """Create an organisation; its fidelity is drawn per replicate when it varies.

        Args:
            model: the model.
            kind: the provider type it belongs to.
        """
        super().__init__(model)
        self.kind = kind
        # §5 fidelity: the type's value, or Beta with that mean and SD
        self.fidelity = kind.fidelity
        if kind.fidelity_sd > 0:
            m, sd = kind.fidelity, kind.fidelity_sd
            common = m * (1.0 - m) / sd**2 - 1.0
            self.fidelity = self.random.betavariate(m * common, (1.0 - m) * common)
        self.programmes = [p for p in model.programmes if kind.name in p.provider_types]
        self.state = {p.name: NOT_OFFERING for p in self.programmes}
        self.fraction = {p.name: 0.0 for p in self.programmes}  # accumulated part of a place

    def step(self) -> None:
        """§5 Bass adoption among same-type organisations, initial share, discontinuation."""
        model, t, kind = self.model, self.model.t, self.kind
        for prog in self.programmes:
            state = self.state[prog.name]
            if t < prog.start_step:
                continue
            if t >= prog.end_step:  # the offer ended: every organisation stops
                if state == OFFERING:
                    self.state[prog.name] = STOPPED
                continue
            if state == NOT_OFFERING:
                if t == prog.start_step and self.random.random() < kind.initial_offer_share:
                    self.state[prog.name] = OFFERING
                    continue
                share = model.offering_share_at_start[(kind.name, prog.name)]
                rates = kind.innovation_rate_per_month + kind.imitation_rate_per_month * share
                hazard = model.adoption_multiplier[kind.name] * rates
                if self.random.random() < step_probability(hazard, model.dt):
                    self.state[prog.name] = OFFERING
            elif state == OFFERING:
                p_stop = step_probability(kind.discontinuation_rate_per_month, model.dt)
                if self.random.random() < p_stop:
                    self.state[prog.name] = STOPPED

    def new_places(self, prog: Programme) -> float:
        """§5 places created this step: capacity x dt, fractions accumulate, whole places used.

        Returns:
            Whole places available this step (``inf`` for unlimited capacity). Places not
            used in the step lapse; only the fraction of a place carries over.
        """
        if self.kind.capacity_per_month is None:
            return math.inf
        self.fraction[prog.name] += self.kind.capacity_per_month * self.model.dt
        whole = math.floor(self.fraction[prog.name] + 1e-9)
        self.fraction[prog.name] -= whole
        return whole


# ------------------------------------------------------------------------ model
class ReferenceModel(mesa.Model):
    """The impactsim rules as a Mesa model (one replicate).

    Args:
        scenario: a validated scenario (e.g. from :func:`impactsim.load_scenario`).
        seed: base seed.
        replicate: replicate number; the model's generators are seeded from
            ``numpy.random.SeedSequence(seed, spawn_key=(replicate,))``.
        mutation: ``None`` for the documented rules, or a key of :data:`MUTATIONS`.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int = 0,
        replicate: int = 0,
        mutation: str | None = None,
    ) -> None:
        """Build the population, network, organisations and data collector."""
        super().__init__(rng=np.random.SeedSequence(seed, spawn_key=(replicate,)))
        if mutation is not None and mutation not in MUTATIONS:
            raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(MUTATIONS)}")
        self.mutation = mutation
        self.scenario = scenario
        pop, sim = scenario.population, scenario.simulation
        # §2 time
        self.steps_per_month = sim.steps_per_month
        self.dt = 1.0 / self.steps_per_month
        self.n_steps = sim.months * self.steps_per_month
        self.t = 0  # the step being simulated
        # §1 population
        self.segments = list(pop.segments)
        self.segment_shares = [s.share for s in self.segments]
        self.place_neighbourhood, self.neighbourhood_mix = neighbourhoods(pop, self.segment_shares)
        self.cutoff = scenario.outcome.problem_cutoff
        self.minimal_important_change = scenario.outcome.minimal_important_change
        self.segment_mean = {
            s.name: self.cutoff + NormalDist().inv_cdf(s.baseline_prevalence) for s in self.segments
        }
        self.contact_rates = {s.name: dict(s.contact_rates) for s in self.segments}
        self.category_behaviour = dict(
            zip(ADOPTER_CATEGORIES, pop.adopter_categories.ordered(), strict=True)
        )
        self.p_turnover = step_probability(pop.turnover_rate_per_month, self.dt)
        targets = scenario.outcome.target_segments
        self.target = [s.name for s in self.segments if targets is None or s.name in targets]
        self.rank = {s.name: s.advantage_rank for s in self.segments}
        # §3-§7 the offered programmes
        self.programmes = self._programmes(scenario)
        self.effect_size = {  # §7 d_k drawn once per replicate
            p.name: p.effect_size_mean + p.effect_size_sd * self.random.gauss(0.0, 1.0)
            if p.effect_size_sd > 0
            else p.effect_size_mean
            for p in self.programmes
        }
        # §3, §5 uncertain referral strengths and adoption rates: one gamma multiplier
        # (mean 1) per channel and provider type and replicate, where a CV is given
        self.referral_multiplier = {
            c.name: self._gamma(c.referral_strength_cv) for c in scenario.channels
        }
        self.adoption_multiplier = {
            p.name: self._gamma(p.adoption_rate_cv) for p in scenario.providers
        }
        # §7 the outcomes after the primary (none: no draws, the one-outcome rules as they were)
        self.further, self.further_mean, self.chol, self.further_d = further_outcomes(
            scenario, self.programmes, self.random
        )
        offered = {p.name for p in self.programmes}
        self.interactions = {  # §7 gamma per unordered pair (a later entry replaces one)
            tuple(sorted(i.interventions)): i.gamma
            for i in scenario.strategy.interactions
            if set(i.interventions) <= offered
        }
        # §5 provider organisations
        self.organisations: dict[str, list[ProviderOrganisation]] = {}
        for kind in scenario.providers:
            self.organisations[kind.name] = [
                ProviderOrganisation(self, kind) for _ in range(kind.count)
            ]
        # §1 families, one per place; §4 the network of places
        self.occupant = [Parent(self, place) for place in range(pop.size)]
        self.fully_mixed = pop.network.kind == "fully_mixed"
        self.homophily = pop.network.homophily
        if self.fully_mixed:
            self.neighbours: list[list[int]] = []
        elif pop.network.kind == "small_world":
            self.neighbours = small_world_network(self)
        else:
            self.neighbours = random_network(self)
        # per-step bookkeeping
        self.joined_this_step: dict[str, list[Parent]] = {p.name: [] for p in self.programmes}
        self.completers_this_step: list[tuple[Parent, Programme]] = []
        self.waiting_lists: dict[str, deque[tuple[Parent, int]]] = {
            p.name: deque() for p in self.programmes
        }
        self.offering_share_at_start: dict[tuple[str, str], float] = {}
        self.took_part_at_start: dict[str, list[bool]] = {}
        self.mean_field_share: dict[tuple[str, str], float] = {}
        self.contacts_now: dict[tuple[str, str, str], list[tuple[Channel, float]]] = {}
        self.flows: Counter = Counter()  # enrolments, completions, dropouts, gave_up
        self.tally: Counter = Counter()
        # §9 measurement: counts per segment, collected at month ends
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.measure()  # month 0

    # ---------------------------------------------------------------- set-up
    def _gamma(self, cv: float) -> float:
        """A per-replicate multiplier: gamma with mean 1 and CV ``cv`` (exactly 1 when 0)."""
        return self.random.gammavariate(1.0 / cv**2, cv**2) if cv > 0 else 1.0

    def referral(self, channel: Any) -> float:
        """A channel's referral strength in this replicate (per month)."""
        return channel.referral_strength * self.referral_multiplier[channel.name]

    def _programmes(self, scenario: Scenario) -> list[Programme]:
        """The offered interventions with their rules in steps, in the order of the offers."""
        pm = self.steps_per_month
        channels = {c.name: c for c in scenario.channels}
        seg_names = [s.name for s in scenario.population.segments]
        out = []
        for offer, iv in zip(scenario.strategy.offers, scenario.offered_interventions, strict=True):
            drop = {
                s: step_probability(
                    iv.dropout_rate_per_month * iv.dropout_multiplier.get(s, 1.0), self.dt
                )
                for s in seg_names
            }
            hl = iv.effect_half_life_months
            fu = iv.follow_up
            out.append(
                Programme(
                    name=iv.name,
                    start_step=round(offer.start_month * pm),
                    end_step=math.inf if offer.end_month is None else round(offer.end_month * pm),
                    channels=[channels[c] for c in offer.channels],
                    provider_types=list(offer.providers),
                    duration_steps=max(1, round(iv.duration_months * pm)),
                    dropout_probability=drop,
                    effect_multiplier={s: iv.effect_multiplier.get(s, 1.0) for s in seg_names},
                    half_life_months=hl,
                    sleeper_steps=round(iv.sleeper_delay_months * pm),
                    imitation_rate=iv.imitation_rate_per_month,
                    spillover_fraction=iv.spillover_fraction,
                    spillover_decay=1.0 if hl is None else 2.0 ** (-self.dt / hl),
                    max_wait_steps=round(iv.max_wait_months * pm),
                    eligible_segments=set(
                        seg_names if iv.eligibility.segments is None else iv.eligibility.segments
                    ),
                    min_problem_score=iv.eligibility.min_problem_score,
                    follow_up_after=None if fu is None else fu.after,
                    follow_up_delay_steps=0 if fu is None else round(fu.delay_months * pm),
                    follow_up_rate=0.0 if fu is None else fu.referral_rate_per_month,
                    effect_size_mean=iv.effect_size.mean,
                    effect_size_sd=iv.effect_size.sd,
                    neighbourhoods=_served(offer, scenario),
                )
            )
        return out

    def _reporters(self) -> dict[str, Callable[[ReferenceModel], Any]]:
        """Model reporters: counts per segment (and per programme / category) at month ends."""
        keys: list[tuple[str, ...]] = []
        for s in self.segments:
            for what in (
                "present",
                "cases",
                "cases_counterfactual",
                "realized",
                "gain",
                "reach_any",
                "reach_indirect",
            ):
                keys.append((what, s.name))
            for a in ADOPTER_CATEGORIES:
                keys += [("present_category", a, s.name), ("reach_any_category", a, s.name)]
            for o in self.further:
                for what in ("cases", "cases_counterfactual", "realized", "gain"):
                    keys.append((what, o.name, s.name))
            for p in self.programmes:
                keys += [("reach_direct", p.name, s.name), ("waiting", p.name, s.name)]
                for flow in ("enrolments", "completions", "dropouts", "gave_up_waiting"):
                    keys.append((flow, p.name, s.name))
        reporters: dict[str, Callable[[ReferenceModel], Any]] = {}
        for key in keys:
            if key[0] in ("enrolments", "completions", "dropouts", "gave_up_waiting"):
                reporters["|".join(key)] = lambda m, key=key: m.flows[key]
            else:
                reporters["|".join(key)] = lambda m, key=key: m.tally[key]
        for p in self.programmes:
            reporters[f"offering|{p.name}"] = lambda m, name=p.name: m.organisations_offering(name)
        # shares of the target population, for time series plots
        reporters["reach"] = lambda m: ratio(m._target_sum("reach_any"), m._target_sum("present"))
        reporters["prevalence"] = lambda m: ratio(m._target_sum("cases"), m._target_sum("present"))
        reporters["prevalence_counterfactual"] = lambda m: ratio(
            m._target_sum("cases_counterfactual"), m._target_sum("present")
        )
        return reporters

    def _target_sum(self, what: str) -> float:
        return sum(self.tally[(what, s)] for s in self.target)

    # ---------------------------------------------------------------- helpers for agents
    def is_offered(self, prog: Programme) -> bool:
        """Whether the programme is offered in the current step (§3 offer window)."""
        return prog.start_step <= self.t < prog.end_step

    def active_contacts(
        self, prog: Programme, segment: str, category: str
    ) -> list[tuple[Channel, float]]:
        """§3 channels that promote ``prog``, are active now and reach the parent, with rates.

        A channel is active in ``[start_month, end_month)`` of the channel and of the offer,
        reaches a segment with a positive contact rate and contacts only its
        ``target_adopter_categories`` (all when not set).
        """
        out: list[tuple[Channel, float]] = []
        if not self.is_offered(prog):
            return out
        pm = self.steps_per_month
        for ch in prog.channels:
            start = round(ch.start_month * pm)
            end = math.inf if ch.end_month is None else round(ch.end_month * pm)
            rate = self.contact_rates[segment].get(ch.name, 0.0)
            targets = ch.target_adopter_categories
            if start <= self.t < end and rate > 0.0 and (targets is None or category in targets):
                out.append((ch, rate))
        return out

    def participating_share(self, parent: Parent, prog: Programme) -> float:
        """§4 share f of the parent's neighbours who take or took part (start of this step).

        With a fully mixed population: ``h P_s / N_s + (1 - h) P / N``.
        """
        took_part = self.took_part_at_start[prog.name]
        if self.fully_mixed:
            return self.mean_field_share[(parent.segment, prog.name)]
        nbrs = self.neighbours[parent.place]
        if not nbrs:
            return 0.0
        return sum(took_part[q] for q in nbrs) / len(nbrs)

    def replace_family(self, leaver: Parent) -> None:
        """§1 turnover: the leaver is removed and an entrant takes its place and its ties."""
        leaver.present = False
        leaver.remove()
        self.occupant[leaver.place] = Parent(self, leaver.place)

    def organisations_offering(self, name: str) -> int:
        """Organisations offering the programme now (§5 'use')."""
        return sum(
            org.state.get(name) == OFFERING for orgs in self.organisations.values() for org in orgs
        )

    # ---------------------------------------------------------------- the step (§2)
    def step(self) -> None:
        """One step: (1) providers, (2) parents, (3) network, waiting lists, places, (4) measure."""
        # (1) providers adopt/stop, seeing the shares offering at the start of the step
        self.offering_share_at_start = {
            (kind, p.name): sum(o.state.get(p.name) == OFFERING for o in orgs) / len(orgs)
            for kind, orgs in self.organisations.items()
            if orgs
            for p in self.programmes
        }
        if ProviderOrganisation in self.agents_by_type:
            self.agents_by_type[ProviderOrganisation].shuffle_do("step")
        # (2) parents decide on the state at the start of the step (synchronous update)
        self.contacts_now = {
            (p.name, s.name, a): self.active_contacts(p, s.name, a)
            for p in self.programmes
            for s in self.segments
            for a in ADOPTER_CATEGORIES
        }
        self._snapshot_participation()
        self.agents_by_type[Parent].shuffle_do("step")
        # (3) spillover from this step's completers, waiting lists and places
        self._pass_on_spillover()
        for prog in self.programmes:
            self._fill_places(prog)
        # (4) measurement at month ends
        self.t += 1
        if self.t % self.steps_per_month == 0:
            self.measure()
        if self.t >= self.n_steps:
            self.running = False

    def _snapshot_participation(self) -> None:
        """§4 who took part, per place, at the start of the step (word of mouth reads this)."""
        self.took_part_at_start = {}
        self.mean_field_share = {}
        for prog in self.programmes:
            if prog.imitation_rate <= 0.0:
                continue
            flags = [p.history[prog.name].status in TOOK_PART for p in self.occupant]
            self.took_part_at_start[prog.name] = flags
            if self.fully_mixed:
                n_all = len(self.occupant)
                total = sum(flags)
                for s in self.segments:
                    in_s = [
                        f for f, p in zip(flags, self.occupant, strict=True) if p.segment == s.name
                    ]
                    own = sum(in_s) / max(len(in_s), 1)
                    self.mean_field_share[(s.name, prog.name)] = (
                        self.homophily * own + (1.0 - self.homophily) * total / n_all
                    )

    def _pass_on_spillover(self) -> None:
        """§7 each completer passes sigma_k e_j,k to every network neighbour."""
        for parent, prog in self.completers_this_step:
            gift = prog.spillover_fraction * parent.history[prog.name].effect
            unit_gift = prog.spillover_fraction * parent.history[prog.name].unit
            if prog.spillover_fraction > 0.0 and not self.fully_mixed:
                for place in self.neighbours[parent.place]:
                    self.occupant[place].spillover[prog.name] += gift
                    self.occupant[place].unit_spillover[prog.name] += unit_gift
        self.completers_this_step = []

    def _fill_places(self, prog: Programme) -> None:
        """§5 waiting list (FIFO, same-step joiners in random order) and place allocation."""
        t = self.t
        queue = self.waiting_lists[prog.name]
        newcomers = self.joined_this_step[prog.name]
        self.random.shuffle(newcomers)
        queue.extend((parent, t) for parent in newcomers)
        self.joined_this_step[prog.name] = []
        # every offering organisation creates its places for this step
        places: dict[ProviderOrganisation, float] = {}
        for kind in prog.provider_types:
            for org in self.organisations.get(kind, []):
                if org.state[prog.name] == OFFERING:
                    n = org.new_places(prog)
                    if n > 0:
                        places[org] = n
        # organisations with free places take parents in turn, starting at a random one
        turn = deque(places)
        if turn:
            turn.rotate(-self.random.randrange(len(turn)))
        still_waiting: deque[tuple[Parent, int]] = deque()
        for parent, joined in queue:
            rec = parent.history[prog.name]
            if not parent.present or rec.status != WAITING:
                continue  # the family left
            if turn:
                org = turn.popleft()
                places[org] -= 1
                if places[org] > 0:
                    turn.append(org)
                self._enrol(parent, prog, org)
            elif t - joined >= prog.max_wait_steps:
                rec.status, rec.since = GAVE_UP, t
                self.flows[("gave_up_waiting", prog.name, parent.segment)] += 1
            else:
                still_waiting.append((parent, joined))
        self.waiting_lists[prog.name] = still_waiting

    def _enrol(self, parent: Parent, prog: Programme, org: ProviderOrganisation) -> None:
        """§5, §7 a place with ``org``: the effect is d_k mu_k,s phi_p."""
        rec = parent.history[prog.name]
        rec.status, rec.since = ENROLLED, self.t
        rec.effect = self.effect_size[prog.name] * prog.effect_multiplier[parent.segment]
        rec.effect *= org.fidelity
        rec.unit = prog.effect_multiplier[parent.segment] * org.fidelity
        self.flows[("enrolments", prog.name, parent.segment)] += 1

    def measure(self) -> None:
        """§8-§9 count every present family at the end of the step, then collect."""
        self.tally = Counter()
        self.agents_by_type[Parent].do("measure")
        self.datacollector.collect(self)

    # ---------------------------------------------------------------- summary (§9)
    def summary(self) -> list[dict[str, Any]]:
        """Horizon metrics with the definitions of :mod:`impactsim.metrics` (target population).

        Returns:
            Rows with keys metric, segment, intervention, adopter_category and value.
        """
        return horizon_summary(
            self.datacollector.get_model_vars_dataframe().iloc[-1],
            [s.name for s in self.segments],
            self.target,
            self.rank,
            self.programmes,
            {kind: len(orgs) for kind, orgs in self.organisations.items()},
            [o.name for o in self.scenario.outcome_list] if self.further else [],
        )


def run_reference(
    scenario: Scenario,
    replicates: int,
    seed: int,
    *,
    mutation: str | None = None,
    first_replicate: int = 0,
) -> pd.DataFrame:
    """Run the Mesa reference model for several replicates.

    Args:
        scenario: validated scenario.
        replicates: number of replicates.
        seed: base seed; replicate ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``.
        mutation: ``None`` for the documented rules, or a key of :data:`MUTATIONS`
            (a deliberately wrong rule, for power checks).
        first_replicate: number of the first replicate.

    Returns:
        A long table with columns replicate, metric, segment, intervention,
        adopter_category and value (totals labelled ``all``), with the definitions of
        :mod:`impactsim.metrics`.
    """
    rows = []
    for r in range(first_replicate, first_replicate + replicates):
        model = ReferenceModel(scenario, seed=seed, replicate=r, mutation=mutation)
        model.run_model()
        for row in model.summary():
            rows.append({"replicate": r, **row})
    return pd.DataFrame(
        rows,
        columns=[
            "replicate",
            "metric",
            "segment",
            "intervention",
            "adopter_category",
            "outcome",
            "value",
        ],
    )
