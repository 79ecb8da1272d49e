"""Write the corpus of malformed and hostile input files to tests/bad_inputs/.

Every case is a scenario or sweep file that ``impactsim validate`` must refuse with exit
code 2, a message naming the file (and, for a field error, the field path and the value)
and no traceback. ``tests/test_bad_inputs.py`` imports :data:`CASES` from this script,
checks that the files on disk are exactly what it writes, and runs every one of them.

Usage::

    python scripts/make_bad_inputs.py            # (re)write tests/bad_inputs/ and its README

Binary and non-UTF-8 files are generated here (deterministically) so that they can be
reviewed and regenerated; the files themselves are committed too.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "bad_inputs"

#: The entry that is a directory, not a file (git keeps it through a .gitkeep inside).
DIRECTORY_CASE = "is_a_directory.yaml"


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        name: file name in tests/bad_inputs/.
        content: the file's bytes (None: a directory).
        checks: what the case checks (for the README).
        expect: substrings the validation message must contain (field path, value, ...).
        kind: 'scenario', 'sweep' or 'unreadable' (not a YAML document that can be told
            apart: the message names the file only).
    """

    name: str
    content: bytes | None
    checks: str
    expect: list[str] = field(default_factory=list)
    kind: str = "scenario"


def mini() -> dict[str, Any]:
    """A small valid scenario: two segments, one channel, one provider, one programme."""
    return {
        "name": "bad-input-test",
        "population": {
            "size": 500,
            "segments": [
                {
                    "name": "higher_ses",
                    "share": 0.6,
                    "baseline_prevalence": 0.1,
                    "contact_rates": {"online": 0.2},
                },
                {
                    "name": "lower_ses",
                    "share": 0.4,
                    "baseline_prevalence": 0.2,
                    "advantage_rank": 2,
                    "contact_rates": {"online": 0.1},
                },
            ],
        },
        "channels": [{"name": "online", "kind": "online", "referral_strength": 0.5}],
        "providers": [
            {"name": "platform", "count": 2, "capacity_per_month": None, "initial_offer_share": 1.0}
        ],
        "interventions": [
            {"name": "course", "duration_months": 2, "effect_size": {"mean": 0.3, "sd": 0.05}}
        ],
        "strategy": {
            "offers": [
                {"intervention": "course", "channels": ["online"], "providers": ["platform"]}
            ]
        },
        "simulation": {"months": 12, "replicates": 2, "seed": 1},
    }


def mini_sweep() -> dict[str, Any]:
    """A small valid sweep with the scenario of :func:`mini` inline."""
    return {
        "name": "bad-sweep",
        "base": mini(),
        "parameters": [
            {"path": "interventions.course.effect_size.mean", "name": "effect", "range": [0.1, 0.5]}
        ],
        "sampler": {"method": "grid", "levels": 2},
        "replicates": 2,
    }


def _dump(data: Any, comment: str) -> bytes:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"# {comment}\n{text}".encode()


def _text(text: str, comment: str) -> bytes:
    return f"# {comment}\n{text}".encode()


def _scenario(comment: str, change: Any) -> bytes:
    d = mini()
    change(d)
    return _dump(d, comment)


def _scenario_written(comment: str, change: Any, written: str) -> bytes:
    """A scenario whose value set by ``change`` to :data:`PLACEHOLDER` is written ``written``."""
    return _scenario(comment, change).replace(str(PLACEHOLDER).encode(), written.encode())


#: A number no scenario holds, replaced in the text by a form YAML 1.1 misreads.
PLACEHOLDER = 987654321


def _sweep(comment: str, change: Any) -> bytes:
    d = mini_sweep()
    change(d)
    return _dump(d, comment)


def _set(*path_value: Any) -> Any:
    """A change that sets d[p0][p1]... = value (the last argument)."""
    *path, value = path_value

    def change(d: dict[str, Any]) -> None:
        node: Any = d
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _del(*path: Any) -> Any:
    def change(d: dict[str, Any]) -> None:
        node: Any = d
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


SEG0 = "population.segments[0:higher_ses]"
IV0 = "interventions[0:course]"


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(name: str, content: bytes | None, checks: str, *expect: str, kind: str = "scenario"):
        c.append(Case(name, content, checks, list(expect), kind))

    # ---------------------------------------------------------------- not YAML at all
    add("empty.yaml", b"", "an empty file", "file is empty", kind="unreadable")
    add(
        "only_comments.yaml",
        b"# nothing but a comment\n\n   \n# and another\n",
        "comments and blank lines only",
        "file is empty",
        kind="unreadable",
    )
    add(
        "binary_garbage.yaml",
        random.Random(20201).randbytes(4096),
        "4 KiB of random bytes",
        "not UTF-8",
        kind="unreadable",
    )
    add(
        "non_utf8_latin1.yaml",
        "# Latin-1 text\nname: caf\xe9-scenario\ndescription: cr\xe8che\n".encode("latin-1"),
        "Latin-1 bytes (not UTF-8)",
        "not UTF-8 text",
        kind="unreadable",
    )
    add(
        "utf16.yaml",
        "name: utf16-scenario\npopulation: {size: 10}\n".encode("utf-16"),
        "UTF-16 text with a byte-order mark",
        "not UTF-8 text",
        kind="unreadable",
    )
    add(
        "nul_bytes.yaml",
        b"name: nul\x00scenario\npopulation: {size: 10}\n",
        "a NUL byte inside otherwise valid text",
        "contains NUL bytes",
        kind="unreadable",
    )
    add(
        "control_characters.yaml",
        b"name: bell\x07scenario\n",
        "a control character YAML forbids",
        "invalid YAML",
        kind="unreadable",
    )
    add(
        DIRECTORY_CASE,
        None,
        "a directory where a file is expected",
        "is a directory",
        kind="unreadable",
    )
    add(
        "top_level_list.yaml",
        _text("- name: a\n- name: b\n", "a list at the top level"),
        "a list instead of a mapping",
        "expected a mapping of sections at the top level",
    )
    add(
        "top_level_scalar.yaml",
        _text("just some text\n", "a plain string"),
        "a single string instead of a mapping",
        "expected a mapping",
        "'just some text'",
    )
    add(
        "multiple_documents.yaml",
        _dump(mini(), "two YAML documents in one file") + b"---\nname: second\n",
        "two YAML documents in one file",
        "invalid YAML",
        "another document",
        kind="unreadable",
    )
    add(
        "syntax_unclosed_bracket.yaml",
        _text("name: x\npopulation: {size: 10, segments: [\n", "an unclosed flow collection"),
        "broken YAML syntax (unclosed bracket)",
        "invalid YAML: line",
        kind="unreadable",
    )
    add(
        "syntax_tab_indentation.yaml",
        _text("name: x\npopulation:\n\tsize: 10\n", "a tab used for indentation"),
        "a tab used for indentation",
        "invalid YAML: line 4",
        kind="unreadable",
    )
    add(
        "syntax_bad_indentation.yaml",
        _text("name: x\npopulation:\n  size: 10\n segments: []\n", "inconsistent indentation"),
        "inconsistent indentation",
        "invalid YAML: line",
        kind="unreadable",
    )
    # ---------------------------------------------------------------- hostile YAML
    add(
        "tag_python_object_apply.yaml",
        _text(
            "name: !!python/object/apply:os.system ['echo pwned > /tmp/impactsim-pwned']\n",
            "a PyYAML tag that would run a shell command with an unsafe loader",
        ),
        "!!python/object/apply (code execution with an unsafe loader)",
        "invalid YAML",
        "python/object/apply:os.system",
        kind="unreadable",
    )
    add(
        "tag_python_object_new.yaml",
        _text(
            "population: !!python/object/new:subprocess.Popen [['touch', '/tmp/impactsim-pwned']]\n",
            "a PyYAML tag that would start a process",
        ),
        "!!python/object/new (object construction)",
        "invalid YAML",
        "python/object/new:subprocess.Popen",
        kind="unreadable",
    )
    add(
        "tag_python_name.yaml",
        _text("name: !!python/name:os.system\n", "a reference to a Python function"),
        "!!python/name",
        "invalid YAML",
        "python/name:os.system",
        kind="unreadable",
    )
    add(
        "tag_custom.yaml",
        _text("name: !include secrets.yaml\n", "a custom (application) tag"),
        "an unknown custom tag (!include)",
        "invalid YAML",
        "!include",
        kind="unreadable",
    )
    add(
        "tag_binary.yaml",
        _scenario("a !!binary value where text is expected", _set("name", b"\x89PNG")),
        "a !!binary value (bytes) where a name is expected",
        "name:",
        "valid string",
        "b'\\x89PNG'",
    )
    add(
        "tag_set.yaml",
        _text(
            "name: set-scenario\npopulation: !!set {size, segments}\n",
            "a !!set where a mapping is expected",
        ),
        "a !!set where a section is expected",
        "population:",
        "expected a mapping",
    )
    add(
        "duplicate_key_top.yaml",
        _dump(mini(), "the simulation section twice") + b"simulation:\n  months: 6\n",
        "a duplicated top-level key",
        "duplicate key 'simulation'",
        kind="unreadable",
    )
    add(
        "duplicate_key_nested.yaml",
        _text(
            "name: dup\npopulation:\n  size: 100\n  segments:\n"
            "    - {name: all, share: 0.5, share: 1.0, baseline_prevalence: 0.1}\n",
            "a key repeated inside a segment",
        ),
        "a duplicated nested key",
        "duplicate key 'share'",
        kind="unreadable",
    )
    add(
        "unhashable_key.yaml",
        _text("name: x\n? [a, b]\n: 1\n", "a list used as a mapping key"),
        "a list used as a mapping key",
        "invalid YAML",
        "keys must be text or numbers",
        kind="unreadable",
    )
    add(
        "non_string_key.yaml",
        _scenario("a number used as a section name", _set(42, "answer")),
        "a number used as a top-level key",
        "42",
        "keys must be text",
    )
    add(
        "null_key.yaml",
        _text("name: x\n~: nothing\n", "null used as a key"),
        "null used as a key",
        "keys must be text",
        "key None",
    )
    deep_flow = "[" * 5000 + "]" * 5000
    add(
        "deep_nesting_flow.yaml",
        _text(f"name: deep\ndescription: {deep_flow}\n", "5000 nested flow lists"),
        "very deep nesting (5000 nested lists)",
        "nesting is too deep",
        kind="unreadable",
    )
    block = "".join("  " * i + f"level{i}:\n" for i in range(200)) + "  " * 200 + "end: 1\n"
    add(
        "deep_nesting_block.yaml",
        _text(block, "200 nested block mappings"),
        "very deep nesting (200 nested mappings)",
        "nesting is too deep",
        kind="unreadable",
    )
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        laughs.append(f"a{i}: &a{i} [{refs}]")
    add(
        "yaml_bomb.yaml",
        _text(
            "name: billion-laughs\n" + "\n".join(laughs) + "\ndescription: *a9\n",
            "'billion laughs': aliases that expand to 10^10 strings",
        ),
        "an alias bomb (expands to 10^10 values)",
        "document is too large",
        kind="unreadable",
    )
    add(
        "huge_integer.yaml",
        _text(
            yaml.safe_dump(mini(), sort_keys=False).replace("seed: 1", "seed: 1" + "0" * 4999),
            "a 5000-digit integer",
        ),
        "an integer of 5000 digits (beyond Python's int-to-text limit)",
        "invalid YAML value",
        kind="unreadable",
    )
    add(
        "invalid_date.yaml",
        _text("name: x\ndescription: 2020-13-45\n", "a date that does not exist"),
        "a timestamp that is not a date",
        "invalid YAML value",
        kind="unreadable",
    )
    # ---------------------------------------------------------------- wrong types
    add(
        "type_size_text.yaml",
        _scenario("population size as a word", _set("population", "size", "many")),
        "text where a whole number is expected",
        "population.size",
        "'many'",
        "valid integer",
    )
    add(
        "type_size_quoted_number.yaml",
        _scenario("a number in quotes", _set("population", "size", "2000")),
        "a quoted number (text) where a whole number is expected",
        "population.size",
        "'2000'",
        "without quotes",
    )
    add(
        "type_size_float.yaml",
        _scenario("a fractional family count", _set("population", "size", 2000.5)),
        "a fraction where a whole number is expected",
        "population.size",
        "2000.5",
    )
    add(
        "type_bool_as_number.yaml",
        _scenario(
            "yes (a YAML 1.1 boolean) as a share",
            _set("population", "segments", 0, "share", True),
        ),
        "true/false where a number is expected",
        f"{SEG0}.share",
        "True",
        "true/false is not accepted",
    )
    add(
        "type_quoted_float.yaml",
        _scenario(
            "an effect size in quotes",
            _set("interventions", 0, "effect_size", "mean", "0.3"),
        ),
        "a quoted decimal where a number is expected",
        f"{IV0}.effect_size.mean",
        "'0.3'",
    )
    add(
        "type_text_as_bool.yaml",
        _scenario(
            "'yes' in quotes where true/false is expected",
            _set("economics", {"extrapolation": {"enabled": "yes"}}),
        ),
        "quoted text where true/false is expected",
        "economics.extrapolation.enabled",
        "'yes'",
    )
    add(
        "type_list_for_mapping.yaml",
        _scenario("population as a list", _set("population", [1, 2, 3])),
        "a list where a section (mapping) is expected",
        "population:",
        "expected a mapping",
        "[1, 2, 3]",
    )
    add(
        "type_mapping_for_list.yaml",
        _scenario(
            "channels as a single mapping",
            _set("channels", {"name": "online", "referral_strength": 0.5}),
        ),
        "a mapping where a list is expected",
        "channels:",
        "valid list",
    )
    add(
        "type_name_number.yaml",
        _scenario("the scenario name as a number", _set("name", 12345)),
        "a number where a name is expected",
        "name:",
        "12345",
    )
    add(
        "type_null_required.yaml",
        _scenario("referral strength null", _set("channels", 0, "referral_strength", None)),
        "null where a number is required",
        "channels[0:online].referral_strength",
        "(got null)",
    )
    add(
        "type_contact_rate_text.yaml",
        _scenario(
            "a contact rate as text",
            _set("population", "segments", 1, "contact_rates", "online", "often"),
        ),
        "text inside a mapping of rates",
        "population.segments[1:lower_ses].contact_rates.online",
        "'often'",
    )
    add(
        "type_wrong_literal.yaml",
        _scenario("an unknown network kind", _set("population", "network", {"kind": "smallworld"})),
        "a value outside a fixed list of choices",
        "population.network.kind",
        "'smallworld'",
        "'random', 'fully_mixed' or 'small_world'",
    )
    # ---------------------------------------------------------------- out of range
    add(
        "probability_negative.yaml",
        _scenario("negative homophily", _set("population", "network", {"homophily": -0.2})),
        "a probability below 0",
        "population.network.homophily",
        "-0.2",
        "greater than or equal to 0",
    )
    add(
        "probability_above_one.yaml",
        _scenario(
            "prevalence of 150 %",
            _set("population", "segments", 0, "baseline_prevalence", 1.5),
        ),
        "a probability above 1",
        f"{SEG0}.baseline_prevalence",
        "1.5",
        "less than 1",
    )
    add(
        "probability_spillover_above_one.yaml",
        _scenario("spillover fraction 2", _set("interventions", 0, "spillover_fraction", 2)),
        "a fraction above 1 given as a whole number",
        f"{IV0}.spillover_fraction",
        "2",
        "less than or equal to 1",
    )
    add(
        "rate_negative.yaml",
        _scenario(
            "a negative dropout hazard",
            _set("interventions", 0, "dropout_rate_per_month", -0.1),
        ),
        "a negative rate",
        f"{IV0}.dropout_rate_per_month",
        "-0.1",
    )
    add(
        "segment_shares_do_not_sum.yaml",
        _scenario("segment shares sum to 1.2", _set("population", "segments", 1, "share", 0.6)),
        "segment shares that do not sum to 1",
        "population:",
        "segment shares must sum to 1 (they sum to 1.2)",
    )
    add(
        "adopter_shares_do_not_sum.yaml",
        _scenario(
            "adopter shares sum to 0.9",
            _set(
                "population",
                "segments",
                0,
                "adopter_shares",
                {
                    "innovators": 0.1,
                    "early_adopters": 0.2,
                    "early_majority": 0.2,
                    "late_majority": 0.2,
                    "laggards": 0.2,
                },
            ),
        ),
        "adopter shares that do not sum to 1",
        f"{SEG0}.adopter_shares",
        "adopter shares must sum to 1 (they sum to 0.9)",
    )
    add(
        "duration_zero.yaml",
        _scenario("a programme of zero months", _set("interventions", 0, "duration_months", 0)),
        "zero where a positive number is required",
        f"{IV0}.duration_months",
        "greater than 0",
    )
    add(
        "size_negative.yaml",
        _scenario("minus five families", _set("population", "size", -5)),
        "a negative count",
        "population.size",
        "-5",
    )
    add(
        "dt_not_dividing_a_month.yaml",
        _scenario("a time step of 0.3 months", _set("simulation", "dt_months", 0.3)),
        "a time step that does not divide a month",
        "simulation",
        "whole number of steps",
    )
    add(
        "fidelity_sd_infeasible.yaml",
        _scenario(
            "a fidelity spread a Beta distribution cannot have",
            _set("providers", 0, "fidelity_sd", 0.45),
        ),
        "an impossible combination of mean and SD",
        "providers[0:platform]",
        "too large for a Beta distribution",
    )
    add(
        "offer_ends_before_start.yaml",
        _scenario(
            "an offer that ends before it starts",
            _set(
                "strategy",
                "offers",
                0,
                {**mini()["strategy"]["offers"][0], "start_month": 6, "end_month": 3},
            ),
        ),
        "an end before the start",
        "strategy.offers[0].end_month",
        "must be after start_month",
    )
    # ---------------------------------------------------------------- NaN, infinities, absurd sizes
    add(
        "nan_effect.yaml",
        _scenario("NaN effect size", _set("interventions", 0, "effect_size", "mean", float("nan"))),
        "NaN (.nan)",
        f"{IV0}.effect_size.mean",
        "nan",
        "finite number",
    )
    add(
        "inf_rate.yaml",
        _scenario(
            "an infinite referral rate", _set("channels", 0, "referral_strength", float("inf"))
        ),
        "infinity (.inf)",
        "channels[0:online].referral_strength",
        "inf",
        "finite number",
    )
    add(
        "neg_inf_month.yaml",
        _scenario(
            "a start month of minus infinity", _set("channels", 0, "start_month", float("-inf"))
        ),
        "minus infinity (-.inf)",
        "channels[0:online].start_month",
        "-inf",
    )
    add(
        "float_overflow.yaml",
        _text(
            yaml.safe_dump(mini(), sort_keys=False).replace(
                "size: 500", "size: 500\n  turnover_rate_per_month: 1.0e+400"
            ),
            "a decimal beyond the float range (becomes infinity)",
        ),
        "a number that overflows to infinity",
        "population.turnover_rate_per_month",
        "inf",
    )
    add(
        "nan_in_rate_mapping.yaml",
        _scenario(
            "NaN inside a mapping of rates",
            _set("population", "segments", 0, "contact_rates", "online", float("nan")),
        ),
        "NaN inside a mapping",
        f"{SEG0}.contact_rates.online",
        "nan",
    )
    add(
        "absurd_population_size.yaml",
        _scenario("a trillion families", _set("population", "size", 10**12)),
        "an absurd population (10^12 families)",
        "population.size",
        "1000000000000",
        "less than or equal to 50000000",
    )
    add(
        "absurd_months.yaml",
        _scenario("a billion months", _set("simulation", "months", 10**9)),
        "an absurd horizon (10^9 months)",
        "simulation.months",
        "1000000000",
        "less than or equal to 1200",
    )
    add(
        "absurd_replicates.yaml",
        _scenario("10^9 replicates", _set("simulation", "replicates", 10**9)),
        "an absurd number of replicates",
        "simulation.replicates",
        "1000000000",
    )
    add(
        "absurd_seed.yaml",
        _scenario("a seed of 2^70", _set("simulation", "seed", 2**70)),
        "a seed beyond 64 bits",
        "simulation.seed",
        "1180591620717411303424",
    )
    add(
        "long_string.yaml",
        _scenario("a 50,000-character description", _set("description", "x" * 50_000)),
        "a 50 kB string where at most 5000 characters are allowed",
        "description:",
        "at most 5000 characters",
        "'xxxxxxxx",
    )
    add(
        "long_name.yaml",
        _scenario("a 1000-character name", _set("name", "n" * 1000)),
        "an identifier longer than 64 characters",
        "name:",
        "should match pattern",
    )
    add(
        "name_path_traversal.yaml",
        _scenario(
            "a name that would escape outputs/ if used as a directory name",
            _set("name", "../../etc/cron.d/x"),
        ),
        "a name with path separators (used for the output directory)",
        "name:",
        "'../../etc/cron.d/x'",
        "should match pattern",
    )
    add(
        "too_many_segments.yaml",
        _scenario(
            "100 segments (at most 64)",
            _set(
                "population",
                "segments",
                [{"name": f"s{i}", "share": 0.01, "baseline_prevalence": 0.1} for i in range(100)],
            ),
        ),
        "more segments than supported",
        "population.segments",
        "at most 64 items",
    )
    add(
        "too_many_interventions.yaml",
        _scenario(
            "20 interventions (at most 16)",
            _set(
                "interventions",
                [
                    {"name": f"iv{i}", "duration_months": 1, "effect_size": {"mean": 0.1}}
                    for i in range(20)
                ],
            ),
        ),
        "more interventions than supported",
        "interventions:",
        "at most 16 interventions",
    )
    # ---------------------------------------------------------------- unknown, misspelt, missing
    add(
        "unknown_top_level_key.yaml",
        _scenario("simulation misspelt", lambda d: d.update(simulaton=d.pop("simulation"))),
        "a misspelt section name",
        "simulaton:",
        "did you mean 'simulation'",
    )
    add(
        "unknown_nested_key.yaml",
        _scenario(
            "size misspelt", lambda d: d["population"].update(sise=d["population"].pop("size"))
        ),
        "a misspelt field inside a section",
        "population.sise",
        "did you mean 'size'",
        "Allowed keys:",
    )
    add(
        "unknown_reference.yaml",
        _scenario(
            "an offer through an undefined channel",
            _set("strategy", "offers", 0, "channels", ["campain"]),
        ),
        "a reference to a channel that does not exist",
        "strategy.offers[0].channels",
        "unknown channel 'campain'",
    )
    add(
        "missing_population.yaml",
        _scenario("no population section", _del("population")),
        "a missing required section",
        "population:",
        "required field is missing",
    )
    add(
        "missing_name.yaml",
        _scenario("no name", _del("name")),
        "a missing required field",
        "name:",
        "required field is missing",
    )
    add(
        "missing_segments.yaml",
        _scenario("a population without segments", _del("population", "segments")),
        "a missing nested required field",
        "population.segments",
        "required field is missing",
    )
    add(
        "empty_segments.yaml",
        _scenario("an empty list of segments", _set("population", "segments", [])),
        "an empty list where at least one item is needed",
        "population.segments",
        "at least 1 item",
    )
    add(
        "circular_follow_up.yaml",
        _scenario(
            "two programmes that each follow the other",
            _set(
                "interventions",
                [
                    {
                        "name": "a",
                        "duration_months": 1,
                        "effect_size": {"mean": 0.1},
                        "follow_up": {"after": "b"},
                    },
                    {
                        "name": "b",
                        "duration_months": 1,
                        "effect_size": {"mean": 0.1},
                        "follow_up": {"after": "a"},
                    },
                ],
            ),
        ),
        "a circular follow-up chain",
        "follow_up",
        "circular",
    )
    add(
        "duplicate_channel_names.yaml",
        _scenario(
            "two channels with the same name",
            _set("channels", [{"name": "online", "referral_strength": 0.5} for _ in range(2)]),
        ),
        "repeated names",
        "channels:",
        "names must be unique; repeated: online",
    )
    # ---------------------------------------------------------------- sweep files
    add(
        "sweep_unknown_sampler.yaml",
        _sweep("a misspelt sampler", _set("sampler", {"method": "latin_hypercub", "samples": 4})),
        "an unknown sampler method",
        "sampler.method",
        "'latin_hypercub'",
        "did you mean 'latin_hypercube'",
        kind="sweep",
    )
    add(
        "sweep_missing_parameters.yaml",
        _sweep("a sweep without parameters", _del("parameters")),
        "a sweep without its parameters",
        "parameters:",
        "required field is missing",
        kind="sweep",
    )
    add(
        "sweep_misspelt_key.yaml",
        _sweep("parameters misspelt", lambda d: d.update(paramters=d.pop("parameters"))),
        "a misspelt top-level sweep key",
        "paramters",
        "did you mean 'parameters'",
        kind="sweep",
    )
    add(
        "sweep_unknown_path.yaml",
        _sweep(
            "a parameter path into nothing",
            _set("parameters", 0, "path", "interventions.course.effect.mean"),
        ),
        "a parameter path that does not exist",
        "parameters[0:interventions.course.effect.mean].path",
        "unknown key 'effect'",
        kind="sweep",
    )
    add(
        "sweep_range_reversed.yaml",
        _sweep("range [0.5, 0.1]", _set("parameters", 0, "range", [0.5, 0.1])),
        "a range with low above high",
        "parameters[0:interventions.course.effect_size.mean].range",
        "low < high",
        kind="sweep",
    )
    add(
        "sweep_range_nan.yaml",
        _sweep("a NaN in a range", _set("parameters", 0, "range", [float("nan"), 0.5])),
        "NaN in a parameter range",
        "parameters[0:interventions.course.effect_size.mean].range",
        "nan",
        kind="sweep",
    )
    add(
        "sweep_range_text.yaml",
        _sweep("a range written as text", _set("parameters", 0, "range", "0.1-0.5")),
        "a range given as text",
        "parameters[0:interventions.course.effect_size.mean].range",
        "'0.1-0.5'",
        kind="sweep",
    )
    add(
        "sweep_range_outside_schema.yaml",
        _sweep(
            "a prevalence range reaching 1.5",
            _set(
                "parameters",
                [
                    {
                        "path": "population.segments.higher_ses.baseline_prevalence",
                        "range": [0.1, 1.5],
                    }
                ],
            ),
        ),
        "a parameter range the scenario schema does not allow",
        "parameters[0:population.segments.higher_ses.baseline_prevalence].range",
        "1.5",
        "less than 1",
        kind="sweep",
    )
    add(
        "sweep_distribution_inf.yaml",
        _sweep(
            "a distribution with an infinite bound",
            _set(
                "parameters",
                0,
                {
                    "path": "interventions.course.effect_size.mean",
                    "distribution": {"kind": "uniform", "low": 0.1, "high": float("inf")},
                },
            ),
        ),
        "infinity in a distribution",
        "parameters[0:interventions.course.effect_size.mean].distribution.high",
        "inf",
        kind="sweep",
    )
    add(
        "sweep_sobol_not_power_of_two.yaml",
        _sweep("Sobol with 100 samples", _set("sampler", {"method": "sobol", "samples": 100})),
        "a Sobol sample size that is not a power of 2",
        "sampler.samples",
        "100",
        "power of 2",
        kind="sweep",
    )
    add(
        "sweep_too_many_points.yaml",
        _sweep(
            "a grid of 1000^3 points",
            lambda d: d.update(
                parameters=[
                    {"path": p, "range": [0.1, 0.5], "levels": 1000}
                    for p in (
                        "interventions.course.effect_size.mean",
                        "interventions.course.effect_size.sd",
                        "population.segments.higher_ses.baseline_prevalence",
                    )
                ]
            ),
        ),
        "an absurd number of points (10^9)",
        "sampler",
        "too many points",
        kind="sweep",
    )
    add(
        "sweep_absurd_replicates.yaml",
        _sweep("10^12 replicates", _set("replicates", 10**12)),
        "an absurd number of replicates",
        "replicates:",
        "1000000000000",
        kind="sweep",
    )
    add(
        "sweep_values_mapping.yaml",
        _sweep(
            "a mapping among discrete values",
            _set(
                "parameters",
                0,
                {"path": "interventions.course.effect_size.mean", "values": [0.1, {"a": 1}]},
            ),
        ),
        "a mapping where a single value is expected",
        "parameters[0:interventions.course.effect_size.mean].values[1]",
        "{'a': 1}",
        kind="sweep",
    )
    add(
        "sweep_reserved_name.yaml",
        _sweep("a parameter named like a results column", _set("parameters", 0, "name", "value")),
        "a parameter name that clashes with a results column",
        "parameters[0:interventions.course.effect_size.mean].name",
        "'value'",
        "column of the results table",
        kind="sweep",
    )
    add(
        "sweep_invalid_inline_base.yaml",
        _sweep(
            "an inline base with a prevalence of 2",
            _set("base", "population", "segments", 0, "baseline_prevalence", 2.0),
        ),
        "an invalid inline base scenario",
        f"(base): {SEG0}.baseline_prevalence",
        "2.0",
        kind="sweep",
    )
    add(
        "sweep_override_absurd_size.yaml",
        _sweep("an override to 10^12 families", _set("overrides", {"population.size": 10**12})),
        "an override outside the schema",
        "overrides -> population.size",
        "1000000000000",
        kind="sweep",
    )
    add(
        "sweep_override_unknown_path.yaml",
        _sweep(
            "an override of a field that does not exist", _set("overrides", {"population.sise": 10})
        ),
        "an override of an unknown field",
        "overrides.population.sise",
        "did you mean 'size'",
        kind="sweep",
    )
    add(
        "sweep_base_absolute_path.yaml",
        _sweep("a base scenario at an absolute path", _set("base", "/etc/passwd")),
        "a base path that is absolute (could read any file)",
        "base:",
        "'/etc/passwd'",
        "absolute path is not allowed",
        kind="sweep",
    )
    add(
        "sweep_base_path_escape.yaml",
        _sweep("a base path climbing out of the project", _set("base", "../" * 12 + "etc/passwd")),
        "a base path escaping the sweep's directory tree with ..",
        "base:",
        "etc/passwd",
        "leads outside the sweep's directory tree",
        kind="sweep",
    )
    add(
        "sweep_base_missing.yaml",
        _sweep("a base scenario file that does not exist", _set("base", "no-such-scenario.yaml")),
        "a base file that does not exist",
        "base:",
        "'no-such-scenario.yaml'",
        "not found",
        kind="sweep",
    )
    add(
        "sweep_base_is_itself.yaml",
        _sweep(
            "a sweep whose base is the sweep file itself", _set("base", "sweep_base_is_itself.yaml")
        ),
        "a base that is a sweep file (itself)",
        "this is a sweep file",
        kind="sweep",
    )
    # ------------------------------------------- settings that together void a programme
    reach_nobody = "silently reach nobody"
    add(
        "target_segments_empty.yaml",
        _scenario("an empty target population", _set("outcome", {"target_segments": []})),
        "outcome.target_segments: [] (every headline would be n/a)",
        "outcome.target_segments",
        "no target population",
    )
    add(
        "eligibility_segments_empty.yaml",
        _scenario(
            "a programme nobody is eligible for",
            _set("interventions", 0, "eligibility", {"segments": []}),
        ),
        "an empty eligibility list",
        "interventions[0:course].eligibility.segments",
        reach_nobody,
    )
    add(
        "offer_after_horizon.yaml",
        _scenario(
            "an offer starting at the horizon",
            _set("strategy", "offers", 0, "start_month", 12),
        ),
        "an offer starting at or after simulation.months",
        "strategy.offers[0].start_month",
        reach_nobody,
    )
    add(
        "only_provider_count_zero.yaml",
        _scenario("the only provider has no organisations", _set("providers", 0, "count", 0)),
        "the only provider of a programme with count 0",
        "strategy.offers[0].providers",
        "count 0",
    )
    add(
        "follow_up_of_unoffered.yaml",
        _scenario(
            "a booster after a course that is not offered",
            lambda d: (
                d["interventions"].append(
                    {
                        "name": "booster",
                        "duration_months": 1,
                        "effect_size": {"mean": 0.1, "sd": 0.0},
                        "follow_up": {"after": "course"},
                    }
                ),
                d["strategy"].update(
                    offers=[{"intervention": "booster", "providers": ["platform"]}]
                ),
            ),
        ),
        "a follow-up of a programme that is never offered",
        "strategy.offers[0].intervention",
        "which is not offered",
    )
    add(
        "interaction_pair_twice.yaml",
        _scenario(
            "the same interaction twice with different gamma",
            lambda d: (
                d["interventions"].append(
                    {
                        "name": "visits",
                        "duration_months": 1,
                        "effect_size": {"mean": 0.2, "sd": 0.0},
                    }
                ),
                d["strategy"]["offers"].append(
                    {"intervention": "visits", "channels": ["online"], "providers": ["platform"]}
                ),
                d["strategy"].update(
                    interactions=[
                        {"interventions": ["course", "visits"], "gamma": 0.2},
                        {"interventions": ["visits", "course"], "gamma": -0.3},
                    ]
                ),
            ),
        ),
        "an interaction pair given twice (in either order)",
        "strategy.interactions[1].interventions",
        "already given",
    )
    # ------------------------------------------- names that would corrupt the totals
    add(
        "segment_named_all.yaml",
        _scenario("a segment named 'all'", _set("population", "segments", 0, "name", "all")),
        "a segment named 'all', the word that marks totals in the tables",
        "population.segments[0",
        "'all' is reserved",
    )
    add(
        "intervention_named_All.yaml",
        _scenario(
            "a programme named 'All'",
            lambda d: (
                d["interventions"][0].update(name="All"),
                d["strategy"]["offers"][0].update(intervention="All"),
            ),
        ),
        "a programme named 'All' (any case)",
        "interventions[0",
        "'All' is reserved",
    )
    add(
        "key_not_a_name.yaml",
        _scenario(
            "a contact-rate key with a non-ASCII letter",
            _set("population", "segments", 0, "contact_rates", {"online": 0.2, "café": 0.1}),
        ),
        "a mapping key that is text but not a valid name (was: 'keys must be text, not str')",
        "contact_rates.café",
        "not a valid key",
        "letters, digits",
    )
    # ------------------------------------------- numbers YAML 1.1 reads differently
    number = "not read as a number"
    add(
        "size_leading_zero.yaml",
        _scenario_written(
            "02000 families (YAML 1.1: octal 1024)",
            _set("population", "size", PLACEHOLDER),
            "02000",
        ),
        "a whole number with a leading zero (octal in YAML 1.1)",
        "population.size",
        number,
        "02000",
    )
    add(
        "count_leading_zero.yaml",
        _scenario_written(
            "012 organisations (YAML 1.1: octal 10)",
            _set("providers", 0, "count", PLACEHOLDER),
            "012",
        ),
        "a provider count with a leading zero",
        "providers[0:platform].count",
        number,
        "012",
    )
    add(
        "months_base_60.yaml",
        _scenario_written(
            "1:30 months (YAML 1.1: base 60, 90)",
            _set("simulation", "months", PLACEHOLDER),
            "1:30",
        ),
        "a sexagesimal (base-60) number",
        "simulation.months",
        number,
        "1:30",
    )
    add(
        "start_month_hex.yaml",
        _scenario_written(
            "0x1F as a start month",
            _set("strategy", "offers", 0, "start_month", PLACEHOLDER),
            "0x1F",
        ),
        "a hexadecimal number",
        "strategy.offers[0].start_month",
        number,
        "0x1F",
    )
    # ------------------------------------------- the same classes, other fields (issue 30)
    add(
        "channel_named_ALL.yaml",
        _scenario(
            "a channel named 'ALL', used by the segments and the offer",
            lambda d: (
                d["channels"][0].update(name="ALL"),
                [
                    s.update(contact_rates={"ALL": r})
                    for s, r in zip(d["population"]["segments"], (0.2, 0.1), strict=True)
                ],
                d["strategy"]["offers"][0].update(channels=["ALL"]),
            ),
        ),
        "a channel named 'ALL' (its reach rows would merge into the totals)",
        "channels[0",
        "'ALL' is reserved",
    )
    add(
        "provider_named_all.yaml",
        _scenario(
            "a provider type named 'all'",
            lambda d: (
                d["providers"][0].update(name="all"),
                d["strategy"]["offers"][0].update(providers=["all"]),
            ),
        ),
        "a provider type named 'all'",
        "providers[0",
        "'all' is reserved",
    )
    add(
        "linked_outcome_named_aLL.yaml",
        _scenario(
            "a linked outcome named 'aLL'",
            _set(
                "economics",
                {
                    "linked_outcomes": [
                        {
                            "name": "aLL",
                            "stakeholder": "municipality",
                            "cost_avoided_eur": 20000,
                            "probability_per_case_year": 0.01,
                        }
                    ]
                },
            ),
        ),
        "a linked outcome named 'aLL' (any case)",
        "economics.linked_outcomes[0",
        "'aLL' is reserved",
    )
    add(
        "stakeholder_named_All.yaml",
        _scenario(
            "a case-year value for a stakeholder named 'All'",
            _set(
                "economics",
                {
                    "stakeholders": ["All"],
                    "case_year_values": [{"stakeholder": "All", "eur_per_case_year": 1000}],
                },
            ),
        ),
        "a stakeholder named 'All'",
        "economics.stakeholders[0]",
        "'All' is reserved",
    )
    add(
        "replicates_leading_zero.yaml",
        _scenario_written(
            "010 replicates (YAML 1.1: octal 8)",
            _set("simulation", "replicates", PLACEHOLDER),
            "010",
        ),
        "a replicate count with a leading zero",
        "simulation.replicates",
        number,
        "010",
    )
    add(
        "seed_binary.yaml",
        _scenario_written(
            "0b1011 as the seed (YAML 1.1: binary 11)",
            _set("simulation", "seed", PLACEHOLDER),
            "0b1011",
        ),
        "a binary number",
        "simulation.seed",
        number,
        "0b1011",
    )
    add(
        "capacity_hex.yaml",
        _scenario_written(
            "0x20 places a month (YAML 1.1: 32)",
            _set("providers", 0, "capacity_per_month", PLACEHOLDER),
            "0x20",
        ),
        "a hexadecimal capacity",
        "providers[0:platform].capacity_per_month",
        number,
        "0x20",
    )
    add(
        "duration_base_60_float.yaml",
        _scenario_written(
            "2:30.5 months (YAML 1.1: base 60, 150.5)",
            _set("interventions", 0, "duration_months", PLACEHOLDER),
            "2:30.5",
        ),
        "a base-60 number with a fraction",
        f"{IV0}.duration_months",
        number,
        "2:30.5",
    )
    add(
        "advantage_rank_signed_octal.yaml",
        _scenario_written(
            "+012 as a rank (YAML 1.1: octal 10)",
            _set("population", "segments", 1, "advantage_rank", PLACEHOLDER),
            "+012",
        ),
        "a signed number with a leading zero",
        "population.segments[1:lower_ses].advantage_rank",
        number,
        "+012",
    )
    add(
        "eligibility_empty_indicated.yaml",
        _scenario(
            "an indicated programme with a score threshold and no eligible segment",
            _set("interventions", 0, "eligibility", {"segments": [], "min_problem_score": 0.5}),
        ),
        "an empty eligibility list next to a score threshold",
        f"{IV0}.eligibility.segments",
        reach_nobody,
    )
    add(
        "second_offer_after_horizon.yaml",
        _scenario(
            "a second programme starting half a month after a 6-month horizon",
            lambda d: (
                d["simulation"].update(months=6),
                d["interventions"].append(
                    {"name": "visits", "duration_months": 1, "effect_size": {"mean": 0.2, "sd": 0}}
                ),
                d["strategy"]["offers"].append(
                    {"intervention": "visits", "providers": ["platform"], "start_month": 6.5}
                ),
            ),
        ),
        "a later offer starting after the horizon (a fraction of a month)",
        "strategy.offers[1].start_month",
        reach_nobody,
    )
    add(
        "both_providers_count_zero.yaml",
        _scenario(
            "an offer whose two provider types both have no organisations",
            lambda d: (
                d["providers"][0].update(count=0),
                d["providers"].append({"name": "clinics", "count": 0, "capacity_per_month": 5}),
                d["strategy"]["offers"][0].update(providers=["platform", "clinics"]),
            ),
        ),
        "every provider of an offer with count 0 (two of them)",
        "strategy.offers[0].providers",
        "count 0",
    )
    add(
        "follow_up_of_defined_unoffered.yaml",
        _scenario(
            "a booster after 'visits', defined but never offered",
            lambda d: (
                d["interventions"].extend(
                    [
                        {
                            "name": "visits",
                            "duration_months": 3,
                            "effect_size": {"mean": 0.4, "sd": 0},
                        },
                        {
                            "name": "booster",
                            "duration_months": 1,
                            "effect_size": {"mean": 0.1, "sd": 0},
                            "follow_up": {"after": "visits"},
                        },
                    ]
                )
                or d["strategy"]["offers"].append(
                    {"intervention": "booster", "providers": ["platform"]}
                )
            ),
        ),
        "a follow-up of a defined programme that is not offered (another is)",
        "strategy.offers[1].intervention",
        "which is not offered",
    )
    add(
        "interaction_exact_duplicate.yaml",
        _scenario(
            "the same interaction twice, word for word",
            lambda d: (
                d["interventions"].append(
                    {"name": "visits", "duration_months": 1, "effect_size": {"mean": 0.2, "sd": 0}}
                ),
                d["strategy"]["offers"].append(
                    {"intervention": "visits", "channels": ["online"], "providers": ["platform"]}
                ),
                d["strategy"].update(
                    interactions=[
                        {"interventions": ["course", "visits"], "gamma": 0.1} for _ in range(2)
                    ]
                ),
            ),
        ),
        "an interaction given twice in the same order with the same gamma",
        "strategy.interactions[1].interventions",
        "already given",
    )
    add(
        "sweep_python_tag.yaml",
        _text(
            "name: tagged\nbase: !!python/object/apply:os.getcwd []\nparameters: []\n",
            "a sweep with a code-executing tag",
        ),
        "a code-executing tag in a sweep file",
        "invalid YAML",
        "python/object/apply:os.getcwd",
        kind="unreadable",
    )
    add(
        "sweep_duplicate_parameters_key.yaml",
        _dump(mini_sweep(), "the parameters key twice")
        + b"parameters:\n- {path: simulation.months, values: [6, 12]}\n",
        "a duplicated key in a sweep file",
        "duplicate key 'parameters'",
        kind="unreadable",
    )
    return c


CASES: list[Case] = _cases()


def readme(cases: list[Case]) -> str:
    """The README of tests/bad_inputs/ listing every case."""
    lines = [
        "# Bad inputs",
        "",
        "Malformed and hostile scenario and sweep files. `impactsim validate FILE` must refuse",
        "each with exit code 2, a message naming the file (for field errors also the field path",
        "and the value) and no traceback; `tests/test_bad_inputs.py` runs every one and fails",
        "listing each miss. Generated by `python scripts/make_bad_inputs.py` (do not edit by",
        "hand; the test checks the files match the script).",
        "",
        "Also made by the test at run time (not committed): a 100 MB file (sparse), a named",
        "pipe, and sweeps whose base is a symbolic link or absolute path leading outside",
        "their directory tree.",
        "",
        f"{len(cases)} cases:",
        "",
        "| file | kind | what it checks | the message must contain |",
        "|---|---|---|---|",
    ]
    for case in cases:
        expect = " · ".join(f"`{e}`" for e in case.expect).replace("|", "\\|")
        shown = f"{case.name}/" if case.content is None else case.name
        lines.append(f"| `{shown}` | {case.kind} | {case.checks} | {expect} |")
    return "\n".join(lines) + "\n"


def write(out: Path = OUT) -> None:
    """(Re)write every case and the README into ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for case in CASES:
        path = out / case.name
        if case.content is None:
            path.mkdir()
            (path / ".gitkeep").write_bytes(b"")
        else:
            path.write_bytes(case.content)
    (out / "README.md").write_text(readme(CASES), encoding="utf-8")


def main() -> None:
    """Write tests/bad_inputs/."""
    write()
    print(f"wrote {len(CASES)} cases to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
