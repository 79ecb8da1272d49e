"""Who pays and who receives: each stakeholder's costs, benefits and net position.

Costs are split by payer (``cost_pv_paid_by_<stakeholder>``; a run without the split is
paid for by the municipality), benefits by who receives them (``benefit_pv_<stakeholder>``),
both present values (``docs/economics.md``). The report and the app show the same rows.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from impactsim.i18n import N_, gettext_for
from impactsim.scenario.labels import words
from impactsim.tables import interval, replicate_values, select

#: Stakeholders of the default economics, in words (others are shown by name in words).
STAKEHOLDERS = {
    "municipality": N_("municipality"),
    "health_insurer": N_("health insurer"),
    "education": N_("education"),
    "justice": N_("justice"),
    "families": N_("families"),
}

#: The rows of "who pays and who receives" per stakeholder.
FLOWS = (
    ("pays", N_("{stakeholder} pays")),
    ("receives", N_("{stakeholder} receives")),
    ("net", N_("{stakeholder}, net")),
)


def stakeholder_label(holder: str, lang: str) -> str:
    """A stakeholder in words in a language (``health_insurer``: "health insurer")."""
    return gettext_for(lang)(STAKEHOLDERS[holder]) if holder in STAKEHOLDERS else words(holder)


def stakeholder_flows(result: Any, holder: str) -> dict[str, pd.Series]:
    """What one stakeholder pays, receives and nets, per replicate (present values).

    Args:
        result: a run (anything with a ``summary`` table).
        holder: the stakeholder.
    """
    s = result.summary
    receives = replicate_values(s, f"benefit_pv_{holder}")
    if len(select(s, f"cost_pv_paid_by_{holder}")):
        pays = replicate_values(s, f"cost_pv_paid_by_{holder}")
    elif holder == "municipality":
        pays = replicate_values(s, "cost_pv")
    else:
        pays = receives * 0.0
    if receives.empty:
        receives = pays * 0.0
    return {"pays": pays, "receives": receives, "net": receives - pays}


def mean_and_interval(values: pd.Series) -> tuple[float, float, float]:
    """Mean and 95 % interval across replicates."""
    iv = interval(values)
    return iv["mean"], iv["lo"], iv["hi"]


def stakeholder_rows(
    runs: Mapping[str, Any],
    lang: str,
    cell: Callable[[tuple[float, float, float], str, str], str],
) -> list[str]:
    """The table rows: per stakeholder with costs or benefits, pays, receives and net.

    Args:
        runs: the strategies' runs by name (their columns, in order).
        lang: language.
        cell: draws a cell from (mean, lo, hi), the row's metric name and the run's name.
    """
    _ = gettext_for(lang)
    first = next(iter(runs.values()))
    rows = []
    for holder in first.scenario.economics.all_stakeholders:
        flows = {n: stakeholder_flows(r, holder) for n, r in runs.items()}
        if all(not f["pays"].abs().sum() and not f["receives"].abs().sum() for f in flows.values()):
            continue
        who = stakeholder_label(holder, lang)
        for key, label in FLOWS:
            cells = "".join(
                cell(mean_and_interval(flows[n][key]), f"{key}_{holder}", n) for n in runs
            )
            text = html.escape(_(label).format(stakeholder=who))
            strong = f"<b>{text}</b>" if key == "net" else text
            rows.append(f"<tr><td>{strong}</td>{cells}</tr>")
    return rows
