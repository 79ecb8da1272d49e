"""Field types shared by the sections of a scenario: names, probabilities, rates, euros.

Each is an ``Annotated`` type whose bounds pydantic checks and whose constraints
``docs/scenario.md`` lists.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from impactsim.i18n import Message
from impactsim.tables import ALL

#: The five adopter categories of Rogers' diffusion of innovations, in order.
ADOPTER_CATEGORIES: tuple[str, ...] = (
    "innovators",
    "early_adopters",
    "early_majority",
    "late_majority",
    "laggards",
)


def _not_reserved(name: str) -> str:
    """Refuse the name that marks totals in every tidy table (any case, to avoid confusion)."""
    if name.lower() == ALL:
        raise ValueError(
            Message(
                "'{name}' is reserved: '{all}' marks the totals in impactsim's tables, so a "
                "segment, channel, programme, provider, stakeholder or linked outcome of that "
                "name would be mixed up with them; choose another name",
                name=name,
                all=ALL,
            )
        )
    return name


Name = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$",
        description=(
            "identifier: a letter, then letters, digits, '_' or '-' (at most 64); "
            "not 'all', which marks totals"
        ),
    ),
    AfterValidator(_not_reserved),
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
#: Monthly hazards are capped: a rate of 1000 per month is already 'at once' for any step.
RatePerMonth = Annotated[float, Field(ge=0.0, le=1000.0)]
Month = Annotated[float, Field(ge=0.0, le=1200.0)]

#: Euro amounts: non-negative, at most ten billion (a typo guard).
Euro = Annotated[float, Field(ge=0.0, le=1e10)]
#: Coefficient of variation of a gamma-distributed amount (SD / mean).
CoefficientOfVariation = Annotated[float, Field(ge=0.0, le=5.0)]
