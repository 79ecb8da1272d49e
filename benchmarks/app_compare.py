"""Time what the app computes for one press of Run: four library strategies, 20 replicates.

    python benchmarks/app_compare.py [--replicates 20] [--rounds 3] [--out FILE] [--browser]

The app's municipality is ``scenarios/free-market.yaml`` (20,000 families, 60 months) and
three more library strategies are put into it (:func:`impactsim.app.jobs.strategy_in`),
as a planner does by uploading one file and ticking three boxes. Each round calls
:func:`impactsim.app.jobs.analyse` exactly as the page's worker thread does: simulate
and compare with common random numbers, then draw the figures.

Printed per round: seconds from pressing Run to results (``analyse``); once per process:
seconds to load the engine from numba's cache (the app does this when it starts, before
a planner can press Run). With ``--browser``, the rounds are instead clicks in a real
page: the app is started on a free port, Playwright drives Debian's Chromium to tick the
three strategies, set the replicates and press Run, and the time runs until the
comparison table shows all four strategies. Run it with a warm cache (any earlier run of
this checkout) on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numba

from impactsim.app.jobs import Plan, analyse, library_strategies, strategy_in, warm_engine
from impactsim.engine.simulate import engine_compiled
from impactsim.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MUNICIPALITY = ROOT / "scenarios" / "free-market.yaml"
CHOSEN = ("package", "civil-society", "stepped-care")


def browser_rounds(replicates: int, rounds: int) -> list[float]:
    """Seconds from clicking Run to the four strategies' results, in a real page."""
    import socket
    import subprocess
    import sys
    import urllib.request

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "impactsim.cli", "app", str(MUNICIPALITY), "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(300_000)
            page.goto(url)
            for name in CHOSEN:
                page.get_by_text(name.replace("-", " "), exact=True).click()
            out = []
            for i in range(rounds + 1):  # the first round waits for the engine to load
                for knob, value in (("replicates", replicates if i else 1), ("seed", 100 + i)):
                    field = page.locator(f".knob-simulation-{knob} input")
                    field.fill(str(value))
                    field.press("Tab")
                page.wait_for_timeout(500)
                t = time.perf_counter()
                page.locator(".run-button").click()
                # this round's results: the line under the summary names its seed
                page.get_by_text(f"seed {100 + i};").wait_for()
                page.locator('td[data-metric="reach_cumulative"] .mean').nth(3).wait_for()
                if i:
                    out.append(time.perf_counter() - t)
                    print(f"browser round {i}: results on the page in {out[-1]:.1f} s")
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the numbers as JSON")
    parser.add_argument("--browser", action="store_true", help="time clicks in a real page")
    args = parser.parse_args()
    if args.browser:
        secs = browser_rounds(args.replicates, args.rounds)
        print(json.dumps({"browser_results_s": [round(x, 2) for x in secs]}))
        return
    if not engine_compiled():
        print("note: numba's cache is cold; the first round includes compiling the engine")
    home = load_scenario(MUNICIPALITY)
    library = library_strategies()
    scenarios = {home.name: home}
    for name in CHOSEN:
        sc = strategy_in(home, library[name])
        scenarios[sc.name] = sc
    t0 = time.perf_counter()
    warm_engine(home)  # as the app's server does when it starts
    load_s = time.perf_counter() - t0
    print(f"engine loaded from the cache in {load_s:.1f} s")
    rounds = []
    for i in range(args.rounds):
        plan = Plan(scenarios, replicates=args.replicates, seed=20201 + i)
        t = time.perf_counter()
        analysis = analyse(plan)
        wall = time.perf_counter() - t
        rounds.append(wall)
        print(
            f"round {i + 1}: {len(scenarios)} strategies x {args.replicates} replicates, "
            f"{home.population.size:,} families, {home.simulation.months} months: "
            f"results in {wall:.1f} s ({len(analysis.figures)} figures)"
        )
    result = {
        "strategies": list(scenarios),
        "replicates": args.replicates,
        "families": home.population.size,
        "months": home.simulation.months,
        "engine_load_s": round(load_s, 2),
        "results_s": [round(x, 2) for x in rounds],
        "numba_threads": numba.get_num_threads(),
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
    }
    print(json.dumps(result))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
