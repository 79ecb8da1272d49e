"""Providers (docs/model.md, "Providers").

Organisations adopt (innovation and imitation) and discontinue the programmes they may
offer.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from impactsim.engine.layout import INTERNAL, P_NOT, P_OFFERING, P_STOPPED
from impactsim.engine.state import Providers, Records
from impactsim.rng import uniform


@nb.njit(cache=True, nogil=True, **INTERNAL)
def step_providers(
    t: int,
    providers: Providers,
    dt: float,
    adopt_new: np.ndarray,
) -> None:
    """Provider organisations adopt (Bass among same-type organisations) or discontinue.

    Adoption hazard of a non-offering organisation of type p for intervention k:
    ``alpha_p + beta_p * (share of type p offering k)``; an offering organisation stops
    for good with per-step probability ``p_stop``. At the offer's start a share
    ``init_share`` of organisations already offers it. ``adopt_new[k]`` is incremented
    for each adoption.
    """
    prov_state = providers.prov_state
    prov_type = providers.prov_type
    type_counts = providers.type_counts
    prov_may_offer = providers.prov_may_offer
    offer_start = providers.offer_start
    offer_end = providers.offer_end
    alpha = providers.prov_alpha
    beta = providers.prov_beta
    p_stop = providers.prov_p_stop
    init_share = providers.prov_init_share
    prov_keys = providers.prov_keys
    n_prov, n_iv = prov_state.shape
    n_types = type_counts.shape[0]
    offering = np.zeros(n_types, np.int64)
    for k in range(n_iv):
        if t < offer_start[k]:
            continue
        if t >= offer_end[k]:
            for p in range(n_prov):
                if prov_state[p, k] == P_OFFERING:
                    prov_state[p, k] = P_STOPPED
            continue
        offering[:] = 0
        for p in range(n_prov):
            if prov_state[p, k] == P_OFFERING:
                offering[prov_type[p]] += 1
        for p in range(n_prov):
            if not prov_may_offer[p, k]:
                continue
            st = prov_state[p, k]
            if st == P_NOT:
                if t == offer_start[k] and uniform(prov_keys[k, 2], p, 0) < init_share[p]:
                    prov_state[p, k] = P_OFFERING
                    adopt_new[k] += 1
                    continue
                share = offering[prov_type[p]] / type_counts[prov_type[p]]
                hz = alpha[p] + beta[p] * share
                if hz > 0.0 and uniform(prov_keys[k, 0], p, t) < -math.expm1(-hz * dt):
                    prov_state[p, k] = P_OFFERING
                    adopt_new[k] += 1
            elif st == P_OFFERING:
                if p_stop[p] > 0.0 and uniform(prov_keys[k, 1], p, t) < p_stop[p]:
                    prov_state[p, k] = P_STOPPED


@nb.njit(cache=True, nogil=True, **INTERNAL)
def direct_providers(providers: Providers, q_len: np.ndarray, direct_prov: np.ndarray) -> None:
    """Programmes whose joiners are enrolled at once, and with which organisation.

    ``direct_prov[k] = p`` when nobody waits for k and a single organisation p, with
    unlimited places, offers it (step_sequential would enrol every joiner with p), else -1.
    """
    prov_state, prov_cap_step = providers.prov_state, providers.prov_cap_step
    for k in range(direct_prov.shape[0]):
        direct_prov[k] = -1
        n_open = 0
        for p in range(prov_state.shape[0]):
            if prov_state[p, k] == P_OFFERING:
                n_open += 1
                if math.isinf(prov_cap_step[p]):
                    direct_prov[k] = p
        if n_open != 1 or q_len[k] != 0:
            direct_prov[k] = -1


@nb.njit(cache=True, nogil=True, **INTERNAL)
def step_providers_and_record(
    t: int, month: int, providers: Providers, dt: float, records: Records
) -> None:
    """Phase 1: the organisations' adoptions and discontinuations, and their monthly flows."""
    prov_state = providers.prov_state
    n_prov, n_iv = prov_state.shape
    adopt_new = np.zeros(n_iv, np.int64)
    step_providers(t, providers, dt, adopt_new)
    for k in range(n_iv):
        records.provider_adopt_new[month, k] += adopt_new[k]
        for p in range(n_prov):
            records.provider_offer_months[month, p, k] += (
                dt if prov_state[p, k] == P_OFFERING else 0.0
            )
