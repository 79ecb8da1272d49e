"""Several outcomes: their definitions, their correlation and the checks across them.

A scenario names one ``outcome`` (the historical form) or a list ``outcomes``; one outcome
is a list of one. The first outcome of the list is the *primary* outcome: the one
``interventions[].effect_size`` moves, the one an indicated offer screens on
(``eligibility.min_problem_score``) and the one ``outcome`` stands for in code that knows
one outcome only. ``interventions[].effect_sizes`` gives the effects on the others.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field

from impactsim.scenario.economics import DEFAULT_STAKEHOLDERS, CaseYearValue, LinkedOutcome
from impactsim.scenario.fields import Name
from impactsim.scenario.raw import items, number, section, text
from impactsim.scenario.settings import Outcome

#: At most this many outcomes (each adds 4 bytes per parent; docs/robustness.md).
MAX_OUTCOMES = 8

#: Smallest eigenvalue accepted for a correlation matrix: rounding of entries typed with a
#: few decimals may leave a positive semidefinite matrix this little below zero.
PSD_TOLERANCE = 1e-9


#: Fields of an outcome of the list ``outcomes`` that the single ``outcome`` lacks.
LIST_ONLY_FIELDS = frozenset({"name", "label", "case_year_values", "linked_outcomes"})


class NamedOutcome(Outcome):
    """One outcome of a list ``outcomes``: the single outcome's fields with an identifier."""

    name: Name = Field(description="outcome identifier, e.g. behaviour")
    label: str = Field("", max_length=200, description="human-readable label")
    case_year_values: list[CaseYearValue] = Field(
        default_factory=list,
        max_length=64,
        description=(
            "outcomes after the first: value of a prevented case-year of this outcome per "
            "stakeholder (euros per case-year); empty = not monetised; the first outcome's "
            "are economics.case_year_values"
        ),
    )
    linked_outcomes: list[LinkedOutcome] = Field(
        default_factory=list,
        max_length=64,
        description=(
            "outcomes after the first: effect chains of this outcome, later costs avoided "
            "per prevented case-year; the first outcome's are economics.linked_outcomes"
        ),
    )


Correlation = dict[Name, dict[Name, Annotated[float, Field(ge=-1.0, le=1.0)]]]


def outcome_names(data: object) -> list[str]:
    """The outcomes' identifiers of a raw scenario document, in order (the primary first).

    A scenario with the single ``outcome`` has one outcome, named ``outcome``.
    """
    listed = items(data, "outcomes")
    if listed:
        return [x["name"] for _, x in listed if isinstance(x.get("name"), str)]
    return ["outcome"]


def correlation_matrix(names: list[str], given: dict[str, dict[str, float]]) -> np.ndarray:
    """The correlation matrix [O, O] of the outcomes ``names`` from the entries ``given``.

    An entry may be given as ``given[a][b]`` or ``given[b][a]``; entries not given are 0
    off the diagonal and 1 on it. The checks are :func:`correlation_problems`.
    """
    pos = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for a, row in given.items():
        for b, value in row.items():
            if a in pos and b in pos:
                r[pos[a], pos[b]] = r[pos[b], pos[a]] = value
    return r


def lower_factor(r: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L L^T = r`` for a positive semidefinite matrix ``r``.

    Cholesky's algorithm, row by row, so row ``o`` of ``L`` depends on ``r[:o+1, :o+1]``
    only: appending an outcome, or changing the correlations of a later outcome, leaves
    the earlier rows (and so the earlier outcomes' scores) as they were. A pivot that is
    zero within :data:`PSD_TOLERANCE` (a singular, still semidefinite matrix) gets a zero
    column below it.
    """
    n = r.shape[0]
    low = np.zeros_like(r, dtype=np.float64)
    for i in range(n):
        for j in range(i + 1):
            s = r[i, j] - low[i, :j] @ low[j, :j]
            if i == j:
                low[i, i] = math.sqrt(max(s, 0.0))
            elif low[j, j] > math.sqrt(PSD_TOLERANCE):
                low[i, j] = s / low[j, j]
    return low


def _entry_problems(names: list[str], corr: dict) -> list[tuple[str, str]]:
    """Unknown names, a diagonal other than 1 and asymmetric entries of ``outcome_correlation``."""
    out = []
    known = set(names)
    for a, row in corr.items():
        if not isinstance(row, dict):
            continue
        if a not in known:
            out.append((f"outcome_correlation.{a}", f"unknown outcome '{a}'"))
        for b, value in row.items():
            v = number(value)
            path = f"outcome_correlation.{a}.{b}"
            if b not in known:
                out.append((path, f"unknown outcome '{b}'"))
            elif v is None:
                continue
            elif a == b and v != 1.0:
                out.append((path, f"an outcome's correlation with itself must be 1 (got {v:g})"))
            elif isinstance(corr.get(b), dict) and number(corr[b].get(a)) not in (None, v):
                if names.index(a) < names.index(b):  # report each pair once
                    other = number(corr[b][a])
                    out.append((path, f"not symmetric: {a}.{b} = {v:g} but {b}.{a} = {other:g}"))
    return out


def correlation_problems(data: object) -> list[tuple[str, str]]:
    """Check ``outcome_correlation`` of a raw scenario document.

    It must name known outcomes, be symmetric with a unit diagonal and be positive
    semidefinite; a matrix that is not names the entries among the outcomes of the
    eigenvector of its most negative eigenvalue (the outcomes whose correlations
    contradict each other).

    Returns:
        ``(field path, message)`` pairs; empty when the matrix is valid or absent.
    """
    corr = section(data, "outcome_correlation")
    if not corr:
        return []
    names = outcome_names(data)
    if len(names) < 2:
        return [("outcome_correlation", "needs at least two outcomes in `outcomes`")]
    out = _entry_problems(names, corr)
    if out:
        return out
    clean = {
        a: {b: number(v) for b, v in row.items() if number(v) is not None}
        for a, row in corr.items()
        if isinstance(row, dict)
    }
    r = correlation_matrix(names, clean)
    values, vectors = np.linalg.eigh(r)
    if values[0] >= -PSD_TOLERANCE:
        return out
    involved = [names[i] for i in np.flatnonzero(np.abs(vectors[:, 0]) > 0.1)]
    entries = ", ".join(
        f"{a}.{b} = {r[names.index(a), names.index(b)]:g}"
        for i, a in enumerate(involved)
        for b in involved[i + 1 :]
    )
    return [
        (
            "outcome_correlation",
            "not a correlation matrix: it is not positive semidefinite (smallest eigenvalue "
            f"{values[0]:.3g}); these correlations contradict each other: {entries}",
        )
    ]


def outcome_problems(data: object) -> list[tuple[str, str]]:
    """Cross checks of several outcomes on a raw scenario document.

    ``outcome`` and ``outcomes`` exclude each other (unless ``outcome`` repeats the first
    of ``outcomes``, as a resolved scenario does); names are unique; each outcome after
    the first gives ``baseline_prevalence``, and a baseline prevalence names every segment,
    known segments (the first outcome's defaults to the segments'); ``effect_sizes`` name known outcomes other than the primary; the
    correlation is a correlation matrix (:func:`correlation_problems`).
    """
    if not isinstance(data, dict):
        return []
    out: list[tuple[str, str]] = []
    listed = items(data, "outcomes")
    names = outcome_names(data)
    segs = [text(x.get("name")) for _, x in items(section(data, "population"), "segments")]
    segs = [s for s in segs if s]
    if listed and isinstance(data.get("outcome"), dict):
        first = {k: v for k, v in listed[0][1].items() if k not in LIST_ONLY_FIELDS}
        single = {k: v for k, v in data["outcome"].items() if k != "name"}
        defaults = {k: f.default for k, f in Outcome.model_fields.items()}
        given = {k: v for k, v in single.items() if v != defaults.get(k)}
        if any(first.get(k, defaults.get(k)) != v for k, v in given.items()):
            out.append(("outcome", "give either `outcome` (one) or `outcomes` (a list), not both"))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        out.append(("outcomes", f"names must be unique; repeated: {', '.join(repeated)}"))
    if len(names) > MAX_OUTCOMES:
        out.append(("outcomes", f"at most {MAX_OUTCOMES} outcomes are supported"))
    given = [(f"outcomes[{i}:{x.get('name')}]", i, x) for i, x in listed]
    if not listed:
        given = [("outcome", 0, section(data, "outcome"))]
    for where, i, x in given:
        prev = x.get("baseline_prevalence")
        path = f"{where}.baseline_prevalence"
        if isinstance(prev, dict):
            unknown = sorted(set(prev) - set(segs))
            missing = [s for s in segs if s not in prev]
            if unknown:
                out.append((path, f"unknown segment(s): {', '.join(map(str, unknown))}"))
            if missing:
                out.append((path, f"missing segment(s): {', '.join(missing)}"))
        elif i > 0:
            out.append((path, "required for an outcome after the first: a prevalence per segment"))
    for i, iv in items(data, "interventions"):
        sizes = section(iv, "effect_sizes")
        for name in sizes:
            path = f"interventions[{i}:{iv.get('name')}].effect_sizes.{name}"
            if name == names[0]:
                out.append((path, f"'{name}' is the first outcome: give its effect as effect_size"))
            elif name not in names:
                out.append((path, f"unknown outcome '{name}' (allowed: {', '.join(names[1:])})"))
    return out + _value_problems(data, listed) + correlation_problems(data)


def _value_problems(data: dict, listed: list[tuple[int, dict]]) -> list[tuple[str, str]]:
    """The outcomes' own case-year values and linked outcomes: not on the first, known payers."""
    out = []
    econ = section(data, "economics")
    extra = econ.get("stakeholders") if isinstance(econ.get("stakeholders"), list) else []
    known = set(DEFAULT_STAKEHOLDERS) | {s for s in extra if isinstance(s, str)}
    for i, x in listed:
        where = f"outcomes[{i}:{x.get('name')}]"
        for key in ("case_year_values", "linked_outcomes"):
            entries = items(x, key)
            if entries and i == 0:
                out.append(
                    (f"{where}.{key}", f"the first outcome's are economics.{key}: give them there")
                )
            for j, item in entries:
                who = text(item.get("stakeholder"))
                if who is not None and who not in known:
                    allowed = ", ".join(sorted(known))
                    out.append(
                        (
                            f"{where}.{key}[{j}].stakeholder",
                            f"unknown stakeholder '{who}' (allowed: {allowed})",
                        )
                    )
    return out
