"""Mesa reference model: the rules of ``docs/model.md`` written plainly, agent by agent.

The fast engine (:mod:`impactsim.engine`) stores parents as arrays, pushes counters
along the network and draws keyed random numbers inside numba kernels. This module
states the *same rules* the way an agent-based modeller would write them in Mesa 3:

* :class:`Parent` agents (``mesa.Agent``) carry their segment, adopter category,
  latent problem score and one :class:`Participation` record per programme, and decide
  for themselves in :meth:`Parent.step`;
* :class:`ProviderOrganisation` agents adopt, offer and stop programmes in
  :meth:`ProviderOrganisation.step` and hand out places;
* :class:`ReferenceModel` (``mesa.Model``) drives them through Mesa's ``AgentSet``
  (``shuffle_do``), keeps the waiting lists and the social network, and measures with a
  ``mesa.DataCollector``.

It reads the same :class:`impactsim.scenario.Scenario` objects as the engine but shares
no code with it: no compiled spec, no keyed random numbers, no counters. Its random
numbers come from the model's own generators (``Model(rng=SeedSequence(seed,
spawn_key=(replicate,)))``, i.e. ``self.random`` and ``self.rng``), so it reproduces the
engine's *distributions*, not its individual draws. ``tests/test_reference_equivalence.py``
compares the two.

Comments cite the sections of ``docs/model.md`` (``§4`` = section 4). Time is counted in
steps ``t`` of ``dt`` months; step ``t`` covers ``[t dt, (t + 1) dt)``. A value "at the
end of step ``t``" is what a measurement after step ``t`` sees.

Two details ``docs/model.md`` leaves open follow the engine's reading: an aware parent keeps
the referral hazard of its channel after the channel's ``end_month``, and the indicated-offer
check (``min_problem_score``) uses the programme effects as at the end of the previous step
(with the spillover gain after this step's decay).

It is slow (pure Python, a few thousand parents at most) and meant for validation.

Modules: :mod:`~impactsim.reference.rules` (statuses, mutations, the per-programme rules
as steps), :mod:`~impactsim.reference.model` (the agents and the model) and
:mod:`~impactsim.reference.summary` (the horizon metrics); every public name is
importable from ``impactsim.reference``.
"""

from __future__ import annotations

from impactsim.reference.model import Parent, ProviderOrganisation, ReferenceModel, run_reference
from impactsim.reference.rules import (
    ALL,
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
    step_probability,
)

__all__ = [
    "ALL",
    "AWARE",
    "COMPLETED",
    "DROPPED",
    "ENROLLED",
    "FOLLOW_UP",
    "GAVE_UP",
    "MUTATIONS",
    "NOT_AWARE",
    "NOT_OFFERING",
    "OFFERING",
    "STOPPED",
    "TOOK_PART",
    "WAITING",
    "WORD_OF_MOUTH",
    "Parent",
    "Participation",
    "Programme",
    "ProviderOrganisation",
    "ReferenceModel",
    "run_reference",
    "step_probability",
]
