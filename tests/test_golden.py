"""Golden digests: the engine's recordings and final states, bit for bit, on 1, 2 and 3 threads.

The expected values are the SHA-256 digests in ``tests/golden/digests.json``, written by
``make golden`` (``tests/golden/harness.py``) from the engine as it was when they were last
rewritten on purpose. Any changed bit of any recorded or final-state array of any variant
fails :func:`test_digests_unchanged`, naming the arrays that moved; a commit that means to
move them says why and runs ``make golden``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

import harness  # noqa: E402

THREADS = (1, 2, 3)


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The digests recomputed now, in a process with 3 numba threads (fixed at numba's start)."""
    out = tmp_path_factory.mktemp("golden") / "digests.json"
    env = os.environ | {"NUMBA_NUM_THREADS": str(max(THREADS))}
    cmd = [sys.executable, str(GOLDEN / "harness.py"), "--threads", *map(str, THREADS)]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def _moved(expected: dict, actual: dict) -> list[str]:
    """``variant/replicate/array`` of every digest that differs, is missing or is new."""
    moved = []
    for variant in sorted(expected.keys() | actual.keys()):
        exp_v, act_v = expected.get(variant, {}), actual.get(variant, {})
        for rep in sorted(exp_v.keys() | act_v.keys()):
            exp_r, act_r = exp_v.get(rep, {}), act_v.get(rep, {})
            moved += [
                f"{variant}/{rep}/{name}"
                for name in sorted(exp_r.keys() | act_r.keys())
                if exp_r.get(name) != act_r.get(name)
            ]
    return moved


def test_identical_on_1_2_and_3_threads(computed: dict) -> None:
    runs = computed["threads"]
    assert sorted(runs) == [str(n) for n in THREADS]
    for n in THREADS[1:]:
        moved = _moved(runs["1"], runs[str(n)])
        assert not moved, f"{n} threads differ from 1 thread in: {moved[:20]}"


def test_every_variant_exercises_its_mechanisms(computed: dict) -> None:
    missing = [
        f"{variant}: {tag}"
        for variant, tags in computed["evidence"].items()
        for tag, seen in tags.items()
        if not seen
    ]
    assert not missing, f"variants no longer exercise what they are for: {missing}"
    tags = {tag for v in harness.VARIANTS for tag in v.exercises}
    for mechanism in (
        "turnover",
        "network",
        "waiting_give_up",
        "follow_up",
        "sleeper",
        "interaction",
        "spillover",
        "indicated",
        "sub_month_steps",
        "fully_mixed",
        "several_outcomes",
    ):
        assert mechanism in tags, f"no golden variant exercises {mechanism}"
    assert len(harness.VARIANTS) >= 12


def test_digests_unchanged(computed: dict) -> None:
    golden = json.loads((GOLDEN / "digests.json").read_text(encoding="utf-8"))
    moved = _moved(golden["variants"], computed["threads"]["1"])
    if not moved:
        return
    then, now = golden["environment"], computed["environment"]
    changed = {
        k: (then.get(k), now.get(k)) for k in now.keys() | then.keys() if then.get(k) != now.get(k)
    }
    if changed:
        # a compiler or processor change can move a float's last bit without any engine change
        pytest.skip(
            f"the golden digests were made in another environment ({changed}); "
            f"{len(moved)} arrays differ, which cannot be told from a change of the engine "
            "here. Check the engine on the recorded environment, or run `make golden` "
            "and say in the commit that only the environment changed."
        )
    pytest.fail(
        f"{len(moved)} golden arrays changed (first: {moved[:20]}). If this change is "
        "meant to move results, run `make golden` and say why in the commit."
    )
