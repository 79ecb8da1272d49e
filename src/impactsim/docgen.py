"""Generate ``docs/scenario.md`` from the scenario schema.

Run ``python -m impactsim.docgen docs/scenario.md`` (or ``make docs``); a test fails
when the file is out of step with the schema.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from impactsim.scenario import Scenario
from impactsim.scenario.effect_bound import MAX_COMBINED_GAIN_SD
from impactsim.scenario.labels import field_constraints

HEADER = """# Scenario file reference

Generated from `src/impactsim/scenario/` by `python -m impactsim.docgen docs/scenario.md`;
a test keeps it in step with the schema. Do not edit by hand.

A scenario is a YAML file read with `yaml.safe_load` semantics (duplicate keys are an error;
numbers are read as a person reads them: `02000`, `1:30` and `0x1F`, which YAML 1.1 reads as
1024, 90 and 31, are refused where a number is expected) and validated with
`extra="forbid"`: unknown keys, NaN and infinities are rejected with a
message naming the file, the field path, the value and what is allowed
(`impactsim validate FILE`). Rates are hazards **per month**; the engine turns them into
per-step probabilities `1 - exp(-rate * dt_months)`. Effect sizes are Cohen's d on the latent
problem score (SD units). See `docs/model.md` for the equations.

Field limits are checked one field at a time; the checks across fields below refuse
settings that are each allowed but together void what the planner asked for
(`impactsim.scenario.contradictions`), each naming the fields concerned.

"""

CROSS_FIELD = f"""## Checks across fields

- **A segment must expect at least one family**: `share × population.size ≥ 1`. A smaller
  segment is empty in most replicates (with probability `(1 − share)^size`), so its reach,
  prevalence and impact would not be defined (`docs/model.md`, "When a value is not
  defined").
- **Something must be offered to someone**: `outcome.target_segments` and
  `eligibility.segments` may not be empty lists; an offer may not start at or after the
  horizon, nor rely only on providers with `count: 0`, nor follow (`follow_up.after`) a
  programme that is not offered; an interaction pair is given once.
- **Combined effects: at most {MAX_COMBINED_GAIN_SD:g} SD.** Each effect field has its own
  limit, but the gain of one parent adds them up (`docs/model.md` section 7). For every
  segment `s` the check computes the largest mean gain a completer can carry,

      G_s = Σ_k e_k,s + Σ_(k<l) max(γ_kl, 0) · min(e_k,s, e_l,s) + Σ_k σ_k · D_s · max_s' e_k,s'

  over the offered programmes `k` open to `s` (in one neighbourhood, when the population
  has neighbourhoods: an offer open only elsewhere does not count), with `e_k,s = (|mean_k| + 2 · sd_k) · μ_k,s`
  (the upper end of the effect a replicate may draw, times the segment's effect multiplier,
  at full fidelity and dose), the synergies `γ > 0` of the interactions (overlaps only lower
  the gain), and `D_s = mean_degree × relative_degree` neighbours who may each pass on the
  share `spillover_fraction` (σ) of their own effect (random and small-world networks). `G_s` may not
  exceed {MAX_COMBINED_GAIN_SD:g} SD. The reason: the problem score is standard normal, so
  {MAX_COMBINED_GAIN_SD:g} SD is already the limit of a single `effect_size.mean`; beyond it
  lies one parent in 3.5 million, and a larger gain moves every parent below any cut-off, so
  the results would show the end of the scale rather than the programmes. The largest
  effects in the source material are about 1 SD (positive parenting, d = 1.00, Spencer et
  al. 2019). The library's strategies stay below 2.7 SD.

"""


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation))
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in get_args(annotation))
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is tuple:
        return f"tuple of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        k, v = get_args(annotation)
        return f"mapping {_type_name(k)} → {_type_name(v)}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        return annotation.__name__
    return str(annotation)


def _constraints(field: Any) -> str:
    parts = []
    for meta in field_constraints(field):
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            val = getattr(meta, attr, None)
            if val is not None:
                parts.append(f"{sym} {val}")
        if getattr(meta, "min_length", None) is not None:
            parts.append(f"at least {meta.min_length} items")
    return ", ".join(parts)


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "see section"
        return f"`{value!r}`"
    if field.default is PydanticUndefined:
        return ""
    return f"`{field.default!r}`" if field.default is not None else "`null`"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for sub in _nested(field.annotation):
                visit(sub)

    visit(root)
    return seen


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(_nested(arg))
    return out


def render() -> str:
    """Return the Markdown reference of every scenario section."""
    lines = [HEADER, CROSS_FIELD]
    for model in _models(Scenario):
        lines.append(f"## {model.__name__}\n")
        doc = (model.__doc__ or "").strip()
        if doc:
            lines.append(doc + "\n")
        lines.append("| field | type | allowed | default | description (unit) |")
        lines.append("|---|---|---|---|---|")
        for name, field in model.model_fields.items():
            desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
            lines.append(
                f"| `{name}` | {_type_name(field.annotation)} | {_constraints(field)} | "
                f"{_default(field)} | {desc} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the reference to the path given (default docs/scenario.md)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("docs/scenario.md")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
