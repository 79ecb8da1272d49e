"""Keyed random numbers: reproducible, thread-independent, common across scenarios.

Every replicate's randomness derives from ``numpy.random.SeedSequence(seed,
spawn_key=(replicate,))``. Inside that replicate each *named stream* (the
population, the channel ``online``, the intervention ``triple_p_group``...) gets its
own 64-bit key, hashed from the replicate key and the stream's name. The engine
then draws ``uniform(key, parent, step)`` with a counter-based generator (the
SplitMix64 finaliser applied to the counter), so a draw depends only on *what*
it is for, *who* it is for and *when*: never on thread scheduling, on the
order parents are visited, or on which other interventions a scenario has.

That is what makes common random numbers work: a scenario and its
counterfactual, or two strategies for the same municipality, see identical
draws for everything they share (families, problem scores, turnover, network,
each shared intervention and channel by name).

Why a hand-written generator: numpy's bit generators are sequential streams and
cannot be indexed by (parent, step) inside a numba kernel; counter-based keyed
hashing is the standard answer (Salmon et al. 2011, "Parallel random numbers:
as easy as 1, 2, 3"). SplitMix64's finaliser passes BigCrush as a counter hash.
"""

from __future__ import annotations

import hashlib

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STEP_MULT = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijective avalanche hash of a 64-bit word."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True, inline="always")
def uniform(key: np.uint64, who: np.int64, when: np.int64) -> float:
    """Uniform draw in [0, 1) for (stream key, parent or item index, step).

    Args:
        key: stream key from :func:`stream_key`.
        who: index of the parent, provider or item.
        when: time step (or any second counter).

    Returns:
        A float64 in [0, 1) with 53 random bits.
    """
    x = mix64(key + np.uint64(who) * _GOLDEN)
    x = mix64(x ^ (np.uint64(when) * _STEP_MULT + _GOLDEN))
    return float(x >> _S11) * _INV53


def _name_hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def replicate_key(seed: int, replicate: int) -> int:
    """64-bit key of one replicate, from ``SeedSequence(seed, spawn_key=(replicate,))``."""
    state = np.random.SeedSequence(seed, spawn_key=(replicate,)).generate_state(2, np.uint64)
    return int(state[0]) ^ (int(state[1]) << 1 & 0xFFFFFFFFFFFFFFFF)


def stream_key(rep_key: int, *name: str) -> np.uint64:
    """Key of a named stream inside a replicate (e.g. ``("intervention", "vvg", "uptake")``).

    Args:
        rep_key: the replicate key from :func:`replicate_key`.
        *name: parts of the stream name; joined with '/'.

    Returns:
        A numpy uint64 key for :func:`uniform`.
    """
    h = _name_hash("/".join(name))
    with np.errstate(over="ignore"):
        k = mix64(np.uint64(rep_key) ^ np.uint64(h))
    return np.uint64(k)


def stream_generator(rep_key: int, *name: str) -> np.random.Generator:
    """A numpy Generator for a named stream (for vectorised set-up draws).

    Seeded from ``SeedSequence`` with the replicate key and the stream name hash,
    so set-up draws (network, effect sizes, provider fidelity) are reproducible
    and shared between scenarios that share the stream's name.
    """
    ss = np.random.SeedSequence(
        [rep_key & 0xFFFFFFFF, rep_key >> 32, *_split(_name_hash("/".join(name)))]
    )
    return np.random.Generator(np.random.PCG64(ss))


def _split(h: int) -> tuple[int, int]:
    return h & 0xFFFFFFFF, h >> 32


@nb.njit(cache=True, nogil=True)
def uniforms(key: np.uint64, who: np.ndarray, when: np.int64) -> np.ndarray:
    """Vectorised :func:`uniform` over an index array (for set-up and tests)."""
    out = np.empty(who.shape[0], np.float64)
    for j in range(who.shape[0]):
        out[j] = uniform(key, who[j], when)
    return out


def gamma_multiplier(rep_key: int, cv: float, *name: str) -> float:
    """Per-replicate uncertainty multiplier: gamma with mean 1 and coefficient of variation ``cv``.

    Drawn from the named stream ``stream_generator(rep_key, *name)``, so two strategies
    that share a cost item (same name) draw the same multiplier (common random numbers).
    Shape ``k = 1 / cv**2``, scale ``cv**2``; ``cv = 0`` gives exactly 1.

    Args:
        rep_key: replicate key from :func:`impactsim.rng.replicate_key`.
        cv: coefficient of variation (SD / mean), >= 0.
        *name: stream name parts, e.g. ``("cost", "intervention", "vvg", "per_completer_eur")``.

    Returns:
        The multiplier (> 0).
    """
    if cv < 0:
        raise ValueError(f"coefficient of variation must be non-negative (got {cv})")
    if cv == 0:
        return 1.0
    g = stream_generator(rep_key, *name)
    return float(g.gamma(shape=1.0 / cv**2, scale=cv**2))
