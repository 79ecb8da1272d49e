"""Sweep files: dotted paths, validation messages, designs (no simulation here)."""

import copy

import numpy as np
import pytest
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol
from scipy import stats

from helpers import base_dict
from impactsim.loading import ScenarioError
from impactsim.sweep.paths import PathError, resolve, split_path
from impactsim.sweep.sampling import TAIL, design, point_changes, point_seed, unit_design
from impactsim.sweep.spec import parse_sweep


def two_segments() -> dict:
    d = base_dict(size=500, months=6)
    seg = copy.deepcopy(d["population"]["segments"][0])
    d["population"]["segments"][0]["share"] = 0.6
    seg.update(name="lower_ses", share=0.4, baseline_prevalence=0.25, advantage_rank=2)
    d["population"]["segments"].append(seg)
    return d


def sweep_dict(**over) -> dict:
    d = {
        "name": "t",
        "base": two_segments(),
        "parameters": [
            {"path": "interventions.prog.effect_size.mean", "name": "effect", "range": [0.1, 0.6]},
            {
                "path": "population.segments.lower_ses.contact_rates.campaign",
                "name": "contact",
                "range": [1.0, 100.0],
            },
        ],
        "sampler": {"method": "grid", "levels": 3},
        "replicates": 2,
    }
    d.update(over)
    return d


def problems(d: dict) -> list:
    with pytest.raises(ScenarioError) as info:
        parse_sweep(d, "sweep.yaml")
    return info.value.problems


# --------------------------------------------------------------------------- paths
def test_split_path_forms():
    assert split_path("a.b[2].c") == ["a", "b", 2, "c"]
    assert split_path("a.b.2.c") == ["a", "b", 2, "c"]
    with pytest.raises(PathError):
        split_path("a..b")


def test_resolve_by_name_index_and_new_mapping_key():
    data = parse_sweep(sweep_dict()).base
    assert resolve(data, "population.segments.lower_ses.share") == (
        "population",
        "segments",
        1,
        "share",
    )
    assert resolve(data, "population.segments[1].share") == resolve(
        data, "population.segments.1.share"
    )
    # contact_rates is a mapping with free keys: a new channel key may be added
    assert resolve(data, "population.segments.lower_ses.contact_rates.school")[-1] == "school"
    with pytest.raises(PathError, match="did you mean 'size'"):
        resolve(data, "population.sise")
    with pytest.raises(PathError, match=r"no item named 'lower' .*Allowed: all_parents, lower_ses"):
        resolve(data, "population.segments.lower.share")
    with pytest.raises(PathError, match="out of range"):
        resolve(data, "population.segments[5].share")


# --------------------------------------------------------------------------- messages
def test_unknown_path_names_file_field_value_and_allowed_keys():
    d = sweep_dict()
    d["parameters"][0]["path"] = "interventions.prog.efect_size.mean"
    (p,) = problems(d)
    assert p.file == "sweep.yaml"
    assert p.path == "parameters[0:interventions.prog.efect_size.mean].path"
    assert p.value == "'interventions.prog.efect_size.mean'"
    assert "unknown key 'efect_size'" in p.message
    assert "did you mean 'effect_size'" in p.message
    assert "Allowed keys:" in p.message and "duration_months" in p.message


def test_bad_ranges():
    d = sweep_dict()
    d["parameters"][0]["range"] = [0.6, 0.1]
    (p,) = problems(d)
    assert p.path.endswith(".range")
    assert "low < high" in p.message
    d = sweep_dict()
    d["parameters"][0]["range"] = [0.1, 7.0]  # effect_size.mean is at most 5
    (p,) = problems(d)
    assert p.path == "parameters[0:interventions.prog.effect_size.mean].range"
    assert p.value == "7.0"
    assert "less than or equal to 5" in p.message


def test_unknown_sampler_and_sampler_keys():
    (p,) = problems(sweep_dict(sampler={"method": "sobl", "samples": 8}))
    assert p.path == "sampler.method"
    assert p.value == "'sobl'"
    assert "did you mean 'sobol'" in p.message
    assert "grid, latin_hypercube, sobol, morris, one_way" in p.message
    (p,) = problems(sweep_dict(sampler={"method": "sobol", "samples": 6}))
    assert p.path == "sampler.samples"
    assert "power of 2" in p.message and "4 or 8" in p.message
    (p,) = problems(sweep_dict(sampler={"method": "grid", "levles": 3}))
    assert p.path == "sampler.levles"
    assert "did you mean 'levels'" in p.message
    (p,) = problems(sweep_dict(sampler={"method": "morris", "trajectories": 4, "levels": 3}))
    assert p.path == "sampler.levels" and "even" in p.message


def test_other_file_errors():
    d = sweep_dict()
    d["parameters"][0] = {"path": "interventions.prog.effect_size", "range": [0, 1]}
    (p,) = problems(d)
    assert "is a section, not a single value" in p.message
    d = sweep_dict()
    d["parameters"][0] = {"path": "population.network.kind", "range": [0, 1]}
    (p,) = problems(d)
    assert "not a number; vary it with values" in p.message
    d = sweep_dict()
    d["parameters"][1]["name"] = "effect"
    (p,) = problems(d)
    assert p.path.endswith(".name") and "unique" in p.message
    d = sweep_dict(overrides={"population.sise": 10})
    (p,) = problems(d)
    assert p.path == "overrides.population.sise" and "did you mean 'size'" in p.message
    (p,) = problems(sweep_dict(base="missing.yaml"))
    assert p.path == "base" and "not found" in p.message
    d = sweep_dict()
    d["parameters"][0]["distribution"] = {"kind": "normal", "mean": 0.3, "sd": 0.1}
    (p,) = problems(d)
    assert "exactly one of range, distribution or values (got range, distribution)" in p.message


def test_every_problem_is_reported_at_once():
    d = sweep_dict(sampler={"method": "sobl", "samples": 64})
    d["parameters"][0]["path"] = "interventions.prog.efect_size.mean"
    d["parameters"][1] = {"path": "interventions.prog.effect_size.sd", "range": [0.0, 7.0]}
    found = {(p.path, p.message.split(";")[0].split(":")[0]) for p in problems(d)}
    assert found == {
        ("sampler.method", "unknown sampler 'sobl'"),
        (
            "parameters[0:interventions.prog.efect_size.mean].path",
            "unknown key 'efect_size' in 'interventions.prog'",
        ),
        (
            "parameters[1:interventions.prog.effect_size.sd].range",
            "value not allowed for 'interventions.prog.effect_size.sd'",
        ),
    }


def test_sweep_messages_share_the_scenario_hints():
    """One translator: a sweep file gets the same hints and value display as a scenario."""
    (p,) = problems(sweep_dict(replicates="10"))
    assert p.path == "replicates" and p.message.endswith("; write it without quotes")
    (p,) = problems(sweep_dict(replicates=None))
    assert p.value == "null"
    (p,) = problems(sweep_dict(outputs={3: "x"}))
    assert p.message == "keys must be text, not int" and p.value == "key 3"


def test_combination_errors_are_left_to_the_points():
    # adopter shares must sum to 1: each value alone is a valid number, so the file loads
    d = sweep_dict()
    d["parameters"] = [
        {
            "path": "population.segments.all_parents.adopter_shares.innovators",
            "values": [0.025, 0.05],
        }
    ]
    sweep = parse_sweep(d)
    assert len(sweep.parameters) == 1


# --------------------------------------------------------------------------- designs
def test_grid_is_the_full_factorial_with_exact_end_points():
    sweep = parse_sweep(sweep_dict())
    pts = design(sweep)
    assert len(pts) == 9
    assert sorted(set(pts["effect"])) == pytest.approx([0.1, 0.35, 0.6], abs=1e-12)
    assert sorted(set(pts["contact"])) == pytest.approx([1.0, 50.5, 100.0], abs=1e-12)
    pairs = {(round(a, 9), round(b, 9)) for a, b in zip(pts["effect"], pts["contact"], strict=True)}
    assert len(pairs) == 9


def test_latin_hypercube_one_point_per_stratum():
    sweep = parse_sweep(sweep_dict(sampler={"method": "latin_hypercube", "samples": 10}))
    u = unit_design(sweep)
    assert u.shape == (10, 2)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * 10).astype(int)) == list(range(10))
    pts = design(sweep)
    assert pts["effect"].between(0.1, 0.6).all()
    np.testing.assert_allclose(pts["effect"], 0.1 + 0.5 * u[:, 0], rtol=0, atol=1e-12)


def test_sobol_and_morris_use_salib_designs():
    sweep = parse_sweep(sweep_dict(sampler={"method": "sobol", "samples": 8, "seed": 3}))
    u = unit_design(sweep)
    problem = {"num_vars": 2, "names": ["effect", "contact"], "bounds": [[0, 1]] * 2}
    expected = salib_sobol.sample(problem, 8, calc_second_order=False, seed=3)
    assert u.shape == (8 * (2 + 2), 2)
    np.testing.assert_array_equal(u, expected)

    sweep = parse_sweep(sweep_dict(sampler={"method": "morris", "trajectories": 5, "seed": 4}))
    u = unit_design(sweep)
    np.testing.assert_array_equal(u, salib_morris.sample(problem, 5, num_levels=4, seed=4))
    assert u.shape == (5 * 3, 2)
    # within a trajectory consecutive points differ in exactly one parameter
    for t in range(5):
        block = u[3 * t : 3 * t + 3]
        assert (np.count_nonzero(np.diff(block, axis=0), axis=1) == 1).all()


def test_one_way_design():
    d = sweep_dict(sampler={"method": "one_way"})
    d["parameters"][1]["base"] = 10.0
    pts = design(parse_sweep(d))
    assert len(pts) == 5
    assert pts["level"].tolist() == ["base", "low", "high", "low", "high"]
    assert pts["varied"].tolist() == ["", "effect", "effect", "contact", "contact"]
    # base values: the base scenario's (effect 0.4) and the given base (10)
    assert pts.loc[0, "effect"] == 0.4 and pts.loc[0, "contact"] == 10.0
    assert pts.loc[1, "effect"] == 0.1 and pts.loc[2, "effect"] == 0.6
    assert (pts.loc[1:2, "contact"] == 10.0).all()
    assert pts.loc[3, "contact"] == 1.0 and pts.loc[4, "contact"] == 100.0


def test_distributions_integers_and_values():
    d = sweep_dict(sampler={"method": "grid", "levels": 4})
    d["parameters"] = [
        {
            "path": "interventions.prog.effect_size.mean",
            "name": "effect",
            "distribution": {"kind": "normal", "mean": 0.4, "sd": 0.1},
        },
        {"path": "population.size", "range": [300, 700], "levels": 3},
        {"path": "population.network.kind", "values": ["fully_mixed", "random"]},
    ]
    sweep = parse_sweep(d)
    assert [p.integer for p in sweep.parameters] == [False, True, False]
    pts = design(sweep)
    assert len(pts) == 4 * 3 * 2
    # grid levels of a distribution: mid-quantiles (k + 0.5) / 4
    q = stats.norm(0.4, 0.1).ppf((np.arange(4) + 0.5) / 4)
    np.testing.assert_allclose(sorted(set(pts["effect"])), q, atol=1e-12)
    assert sorted(set(pts["population.size"])) == [300, 500, 700]
    assert pts["population.size"].dtype == np.int64
    assert set(pts["population.network.kind"]) == {"fully_mixed", "random"}
    # the edges of the unit cube map to the TAIL quantiles of an unbounded distribution
    m = copy.deepcopy(d)
    m["parameters"] = m["parameters"][:1]
    m["sampler"] = {"method": "morris", "trajectories": 4, "seed": 1}
    mp = design(parse_sweep(m))
    lo, hi = stats.norm(0.4, 0.1).ppf([TAIL, 1 - TAIL])
    assert mp["effect"].min() == pytest.approx(lo, abs=1e-12)
    assert mp["effect"].max() == pytest.approx(hi, abs=1e-12)


def test_point_changes_and_seeds():
    sweep = parse_sweep(sweep_dict())
    pts = design(sweep)
    row = pts.iloc[4]
    changes = point_changes(sweep, row.to_dict())
    assert changes == [
        (("interventions", 0, "effect_size", "mean"), row["effect"]),
        (("population", "segments", 1, "contact_rates", "campaign"), row["contact"]),
    ]
    assert point_seed(11, 0, True) == point_seed(11, 5, True) == 11
    own = [point_seed(11, i, False) for i in range(5)]
    assert len(set(own)) == 5 and own == [point_seed(11, i, False) for i in range(5)]
    assert all(0 <= s < 2**63 for s in own)


def test_fingerprint_tracks_what_determines_results():
    a = parse_sweep(sweep_dict())
    assert a.fingerprint() == parse_sweep(sweep_dict()).fingerprint()
    assert a.fingerprint() == parse_sweep(sweep_dict(description="other words")).fingerprint()
    assert a.fingerprint() != parse_sweep(sweep_dict(replicates=3)).fingerprint()
    assert a.fingerprint() != parse_sweep(sweep_dict(seed=99)).fingerprint()
    assert a.seed == 7  # the base scenario's simulation.seed
    assert a.replicates_per_task == 2
