"""Time the small-world network of 2 million families: build and statistics (issue 35).

Usage (from the repository root)::

    .venv/bin/python benchmarks/small_world.py [--families 2000000] [--repeat 3]

Four neighbourhoods (30/30/20/20 %), three segments drawn at random, degree 10, rewiring
0.1, 5 % of ties between neighbourhoods, homophily 0.6. Prints the seconds of each build
(:func:`impactsim.small_world.build_small_world`) and of the statistics run.json records
(:func:`impactsim.network_stats.network_stats`), after one small call that compiles both.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from impactsim.network_stats import network_stats
from impactsim.population import neighbourhood_slots
from impactsim.small_world import SmallWorld, build_small_world


def main() -> None:
    """Build the network ``--repeat`` times and print the timings and the statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.families
    nbh = neighbourhood_slots(np.array([0.3, 0.3, 0.2, 0.2]), n)
    seg = np.random.default_rng(1).integers(0, 3, n).astype(np.int8)
    settings = SmallWorld(10, 0.1, 0.05, 0.6)
    network_stats(
        *build_small_world(seg[:1000], nbh[:1000], settings, np.uint64(1)), seg[:1000], nbh[:1000]
    )
    print(f"{n:,} families, {numba.get_num_threads()} numba threads")
    for r in range(args.repeat):
        t0 = time.perf_counter()
        off, nbrs = build_small_world(seg, nbh, settings, np.uint64(7 + r))
        t1 = time.perf_counter()
        stats = network_stats(off, nbrs, seg, nbh)
        t2 = time.perf_counter()
        print(f"build {t1 - t0:.2f} s, statistics {t2 - t1:.2f} s: {stats}")


if __name__ == "__main__":
    main()
