"""Write the notebooks in notebooks/ (stored without outputs; executed by tests/test_notebooks.py).

Notebooks are generated from this script so that their code stays reviewable in diffs.
Each notebook reads the environment variable IMPACTSIM_NOTEBOOK_SIZE (families) and
IMPACTSIM_NOTEBOOK_REPLICATES so CI can execute it at small size.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SIZE = """\
import os

# CI runs the notebooks small; set these (or edit) for real analyses
SIZE = int(os.environ.get("IMPACTSIM_NOTEBOOK_SIZE", "5000"))
REPLICATES = int(os.environ.get("IMPACTSIM_NOTEBOOK_REPLICATES", "20"))
"""

NOTEBOOKS = {
    "01-quickstart": [
        new_markdown_cell(
            "# impactsim quick start\n\nSimulate the built-in synthetic municipality, look at "
            "reach and public impact with uncertainty, and plot the population effect over time."
        ),
        new_code_cell(SIZE),
        new_code_cell(
            "import matplotlib.pyplot as plt\n\nimport impactsim\nfrom impactsim import plots\n\n"
            "scenario = impactsim.default_scenario()\n"
            "scenario = scenario.model_copy(\n"
            '    update={"population": scenario.population.model_copy(update={"size": SIZE})}\n'
            ")\n"
            "result = impactsim.run(scenario, replicates=REPLICATES, seed=1)"
        ),
        new_markdown_cell("## Headline metrics (mean and 95 % interval across replicates)"),
        new_code_cell(
            "stats = result.summary_stats()\n"
            'totals = stats[(stats.segment == "all") & (stats.intervention == "all")\n'
            '               & (stats.channel == "all") & (stats.adopter_category == "all")]\n'
            'totals[totals.metric.isin(["reach_cumulative", "prevalence", "prevalence_counterfactual",\n'
            '                           "public_impact_pp", "npv", "bcr"])][["metric", "mean", "lo", "hi"]]'
        ),
        new_markdown_cell("## Public impact over time, overall and per segment"),
        new_code_cell("plots.public_impact_over_time(result);"),
        new_markdown_cell("## Or by hand, in three lines of pandas and matplotlib"),
        new_code_cell(
            "ts = result.timeseries_stats()\n"
            'pi = ts[(ts.metric == "public_impact_pp") & (ts.segment == "all")]\n'
            "fig, ax = plt.subplots(figsize=(7, 4))\n"
            'ax.plot(pi.month, pi["mean"])\n'
            "ax.fill_between(pi.month, pi.lo, pi.hi, alpha=0.3)\n"
            'ax.set(xlabel="month", ylabel="public impact (percentage points)");'
        ),
    ],
    "02-compare-upscaling-strategies": [
        new_markdown_cell(
            "# Compare upscaling strategies\n\nThe source report names four ways to bring parenting "
            "programmes into a municipality: a free market, a package, embedding in broader "
            "programmes, and civil society. All four scenario files describe the same synthetic "
            "municipality, so `impactsim.compare` runs them with common random numbers and the "
            "differences are paired, replicate by replicate."
        ),
        new_code_cell(SIZE),
        new_code_cell(
            "from pathlib import Path\n\nimport impactsim\nfrom impactsim import plots\n\n"
            'root = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent\n'
            'names = ["free-market", "package", "embedding", "civil-society"]\n'
            "strategies = {}\n"
            "for name in names:\n"
            '    sc = impactsim.load_scenario(root / "scenarios" / f"{name}.yaml")\n'
            "    strategies[name] = sc.model_copy(\n"
            '        update={"population": sc.population.model_copy(update={"size": SIZE})}\n'
            "    )\n"
            'cmp = impactsim.compare(strategies, baseline="free-market", replicates=REPLICATES, seed=1)\n'
            "print(cmp.table())"
        ),
        new_markdown_cell("## Public impact and reach by strategy"),
        new_code_cell("plots.public_impact_comparison(cmp.runs);"),
        new_code_cell('plots.public_impact_comparison(cmp.runs, metric="reach_cumulative");'),
        new_markdown_cell(
            "## Costs against effects, and the chance each strategy is cost-effective"
        ),
        new_code_cell("plots.cost_effectiveness_plane(cmp.runs, wtp_eur=20_000);"),
        new_code_cell("plots.ceac(cmp.runs);"),
        new_markdown_cell("## Who benefits? Differential impact of the package"),
        new_code_cell('plots.differential_impact(cmp.runs["package"]);'),
        new_markdown_cell("## The comparison table as a DataFrame"),
        new_code_cell(
            'cmp.comparison[cmp.comparison.metric.isin(["diff_public_impact_pp", "diff_npv", "p_better_npv"])]'
        ),
    ],
    "03-sweep-and-sensitivity": [
        new_markdown_cell(
            "# Sweep and sensitivity\n\nWhich levers move public impact? A one-way sweep "
            "(tornado diagram) over six inputs of the package strategy, then the same "
            "results as a tidy table. For global sensitivity (Sobol, Morris) and for running on "
            "a Dask cluster, see `docs/sweeps.md` and `scenarios/sweeps/example.yaml`."
        ),
        new_code_cell(SIZE),
        new_code_cell(
            "import tempfile\nfrom pathlib import Path\n\nimport yaml\n\n"
            "from impactsim.sweep import analyze, load_results, parse_sweep, run_sweep\n"
            "from impactsim.sweep.plots import plot_tornado\n\n"
            'root = Path.cwd() if (Path.cwd() / "scenarios").is_dir() else Path.cwd().parent\n'
            'sweep_file = root / "scenarios" / "sweeps" / "tornado.yaml"\n'
            "data = yaml.safe_load(sweep_file.read_text())\n"
            'data["overrides"]["population.size"] = SIZE          # smaller for a quick look\n'
            'data["replicates"] = data["replicates_per_task"] = max(2, REPLICATES // 4)\n'
            "sweep = parse_sweep(data, str(sweep_file), base_dir=sweep_file.parent)\n"
            'out = Path(tempfile.mkdtemp()) / "tornado"\n'
            "report = run_sweep(sweep, out, workers=0, progress=False)   # 0 = in this process\n"
            "report"
        ),
        new_markdown_cell("## Results as one tidy table"),
        new_code_cell('results = load_results(out)\nresults.outcome("public_impact_pp").head()'),
        new_markdown_cell(
            "## Tornado diagram: public impact at the low and high end of each input"
        ),
        new_code_cell(
            'tables = analyze(results, ["public_impact_pp"])\n'
            'plot_tornado(tables["public_impact_pp"]);'
        ),
    ],
}


def main() -> None:
    """Write every notebook without outputs."""
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        }
        nb.metadata["language_info"] = {"name": "python"}
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
