"""The HTML report: self-contained, plain-language summary, renders in headless Chromium."""

import base64
import html
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import pytest
import yaml
from typer.testing import CliRunner

from helpers import base_dict
from impactsim.cli import app
from impactsim.compare import compare, icer_metric
from impactsim.loading import load_scenario
from impactsim.report import build_report
from impactsim.tables import eur

runner = CliRunner()
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1366,768",
]


def strategy(tmp_path, name: str, d: float, cost: float):
    data = base_dict(size=600, months=12)
    data["name"] = name
    data["population"]["segments"][0]["contact_rates"] = {"campaign": 0.05}
    seg = data["population"]["segments"][0]
    data["population"]["segments"] = [
        {
            **seg,
            "name": "advantaged",
            "share": 0.6,
            "baseline_prevalence": 0.1,
            "advantage_rank": 1,
        },
        {
            **seg,
            "name": "disadvantaged",
            "share": 0.4,
            "baseline_prevalence": 0.25,
            "advantage_rank": 2,
        },
    ]
    data["interventions"][0]["effect_size"] = {"mean": d, "sd": 0.05}
    data["interventions"][0]["costs"] = {"per_participant_month_eur": cost}
    data["sources"] = {
        "channels.campaign.referral_strength": {"assumption": True, "note": "instant uptake"},
        "interventions.prog.effect_size.mean": {"citation": "Trial et al. 2001", "note": "d"},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def strategy_files(tmp_path_factory):
    # identifiers with _ and - : the report must show them as words
    tmp = tmp_path_factory.mktemp("report")
    return [strategy(tmp, "light_touch", 0.2, 50), strategy(tmp, "intensive-course", 0.5, 400)]


@pytest.fixture(scope="module")
def report_file(strategy_files):
    out = strategy_files[0].parent / "report.html"
    build_report(strategy_files, out, replicates=4, seed=3, progress=False)
    return out


def _visible_text(page: str) -> str:
    """What a reader sees: the page without scripts, styles, images and the raw scenarios."""
    for tag in ("script", "style", "pre"):
        page = re.sub(rf"<{tag}\b.*?</{tag}>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def test_report_is_self_contained_with_valid_images(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text  # no external stylesheets
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) >= 8
    for data in images:
        pixels = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels.std() > 0.01  # not a blank image
    assert len(re.findall(r"<img ", text)) == len(images)


def test_report_opens_with_plain_language_summary(report_file):
    text = report_file.read_text(encoding="utf-8")
    summary = text.index("<h2>Summary</h2>")
    assert summary < text.index("<h2>Comparison</h2>") < text.index("<h2>Figures</h2>")
    assert (
        text.index("<h2>Figures</h2>")
        < text.index("<h2>Where the numbers come from</h2>")
        < text.index("<h2>Scenario details</h2>")
    )
    m = re.search(
        r"<b>intensive course</b> reaches (\d+) % of parents in 1 year and prevents about ([\d,]+) "
        r"problem cases a year .*? It returns €([\d.]+) per euro spent; the chance that benefits "
        r"exceed costs is (\d+) %",
        text,
    )
    assert m, "plain-language summary missing"
    assert 0 < int(m.group(1)) <= 100


def test_the_icer_row_shows_the_comparisons_value(report_file, strategy_files):
    # the report looked up a metric 'icer' that compare never writes: "n/a" for every strategy
    cmp = compare([load_scenario(p) for p in strategy_files], replicates=4, seed=3)
    icer = cmp.value("intensive-course", icer_metric(cmp.effect))["mean"]
    assert icer == icer and icer > 0  # defined: the intensive course costs more and does more
    row = re.search(
        r"<td>extra cost per prevented case-year \(ICER, €\)</td><td>(.*?)</td>",
        report_file.read_text(encoding="utf-8"),
    )
    assert row and row.group(1) == eur(icer, millions=True)


def test_the_report_says_who_pays_and_who_receives(report_file, strategy_files):
    # the municipality pays every cost here (no payer given) and receives the value of
    # its prevented case-years; the row's first cell is the mean of stakeholder_flows
    from impactsim.report import fmt
    from impactsim.stakeholders import stakeholder_flows

    cmp = compare([load_scenario(p) for p in strategy_files], replicates=4, seed=3)
    page = report_file.read_text(encoding="utf-8")
    assert "<h2>Who pays and who receives</h2>" in page
    for name, res in cmp.runs.items():
        flows = stakeholder_flows(res, "municipality")
        assert flows["pays"].mean() == pytest.approx(res.metric("cost_pv").mean())
        net = fmt(flows["net"].mean(), "eur")
        row = re.search(r"<td><b>municipality, net</b></td>(.*?)</tr>", page)
        assert row and net in row.group(1), name


def test_no_cell_reads_na_where_the_comparison_has_a_value(report_file, strategy_files):
    cmp = compare([load_scenario(p) for p in strategy_files], replicates=4, seed=3)
    page = report_file.read_text(encoding="utf-8")
    table = page[page.index("<h3>Difference from the baseline") :]
    table = table[: table.index("</table>")]
    defined = cmp.comparison.query("scenario == 'intensive-course'")["mean"].notna()
    assert defined.all()
    assert "n/a" not in table


def test_every_label_shown_is_a_label_not_an_identifier(report_file):
    seen = _visible_text(report_file.read_text(encoding="utf-8"))
    identifiers = re.findall(r"\b[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*_[a-z0-9]+\b", seen)
    assert identifiers == []
    for name in ("light_touch", "intensive-course", "no_programme"):
        assert name not in seen
    assert "no programme" in seen and "light touch" in seen


def test_the_sources_table_reads_the_scenarios_sources(report_file):
    page = _visible_text(report_file.read_text(encoding="utf-8"))
    assert re.search(
        r"campaign › hazard per month that a parent made aware through this channel enrols\s+"
        r"1,000 per month\s+assumption\s+instant uptake",
        page,
    )
    assert re.search(
        r"prog › effect size › mean effect size in completers\s+0.5 Cohen's d\s+"
        r"Trial et al. 2001\s+d",
        page,
    )


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    exe = chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs the Debian package 'chromium'")
        pytest.skip("chromium not installed (make test installs it when run as root)")
    return exe


def test_report_renders_in_headless_chromium(report_file, browser, tmp_path):
    shot = tmp_path / "shot.png"
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        [*common, f"--screenshot={shot}", report_file.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (768, 1366)
    gray = pixels[..., :3].mean(axis=2)
    assert gray.std() > 0.05, "screenshot is blank"
    assert (gray < 0.5).mean() > 0.005, "no text visible in the first screen"
    dom = subprocess.run(
        [*common, "--virtual-time-budget=10000", "--dump-dom", report_file.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    broken = re.search(r'data-broken-images="(\d+)"', dom)
    width = re.search(r'data-scroll-width="(\d+)"', dom)
    assert broken and width, "load check did not run"
    assert int(broken.group(1)) == 0, "some images did not load"
    assert int(width.group(1)) <= 1366, "page scrolls sideways at 1366 px"


def test_report_cli_and_bad_input(tmp_path):
    a = strategy(tmp_path, "only", 0.3, 100)
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(a), "--out", str(out), "-r", "2"])
    assert res.exit_code == 0, res.output
    assert out.is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    res = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "x.html")])
    assert res.exit_code == 2
    assert "population" in res.output
    assert not (tmp_path / "x.html").exists()


def test_report_refuses_two_strategies_of_the_same_name(tmp_path):
    # two files with one scenario name: the report kept only the last (a strategy silently
    # dropped); compare refused them, and so does the report now, before simulating
    src = Path(__file__).parents[1] / "scenarios" / "package.yaml"
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(src.read_text())
    b.write_text(src.read_text())
    res = CliRunner().invoke(app, ["report", str(a), str(b), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert "distinct scenario names; repeated: package" in res.output
    assert "a.yaml" in res.output and "b.yaml" in res.output
    assert not (tmp_path / "r.html").exists()


def test_the_report_in_dutch(strategy_files, tmp_path):
    # --lang nl: headings, summary, table labels and number formats are Dutch
    out = tmp_path / "rapport.html"
    res = runner.invoke(
        app,
        [
            "report",
            *map(str, strategy_files),
            "-r",
            "4",
            "-s",
            "3",
            "--lang",
            "nl",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert '<html lang="nl">' in page
    for heading in ("Samenvatting", "Vergelijking", "Figuren", "Waar de getallen vandaan komen"):
        assert f"<h2>{heading}</h2>" in page
    m = re.search(
        r"<b>intensive course</b> bereikt (\d+) % van de ouders in 1 jaar en voorkomt ongeveer "
        r"([\d.]+) probleemgevallen per jaar \(een prevalentie die aan het eind (\d+,\d) "
        r"procentpunt lager is",
        page,
    )
    assert m, "Dutch plain-language summary missing"
    seen = _visible_text(page)
    assert "extra kosten per voorkomen probleemjaar (ICER, €)" in seen
    assert re.search(r"€ \d{1,3}(\.\d{3})*\b", seen)  # euros with Dutch thousands dots
    for english in ("reaches", "Summary", "net present value", "no programme"):
        assert english not in seen


def test_the_report_names_each_outcomes_change_and_shows_the_breadth(tmp_path):
    # issue 34: two strategies, each moving a different outcome more
    from test_outcome_engine import three_outcomes

    files = []
    for name, emotional in (("behaviour_first", 0.0), ("emotions_too", 0.5)):
        data = three_outcomes(size=2_000, months=3)
        data["name"] = name
        data["interventions"][0]["effect_sizes"]["emotional"] = {"mean": emotional}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        files.append(path)
    out = tmp_path / "report.html"
    build_report(files, out, replicates=2, seed=3, progress=False)
    text = _visible_text(out.read_text(encoding="utf-8"))
    found = re.findall(
        r"<b>(.*?)</b> reaches .*? Per outcome, the share above the cut-off falls by: "
        r"behaviour ([\d.]+) percentage points; emotional ([\d.]+) percentage points; "
        r"parent mental ([\d.]+) percentage points",
        out.read_text(encoding="utf-8"),
    )
    by_label = {label: tuple(map(float, rest)) for label, *rest in found}
    assert set(by_label) == {"behaviour first", "emotions too"}
    # d = 0.5 on emotional problems (prevalence 10 %): 10 - 100 Phi(Phi^-1(0.1) - 0.5) = 5.6 pp
    assert by_label["emotions too"][1] == pytest.approx(5.6, abs=1.5)
    assert by_label["behaviour first"][1] == 0.0  # it does not move emotional problems
    assert by_label["emotions too"][0] == by_label["behaviour first"][0]  # same behaviour d
    assert "Breadth: public impact per outcome, by strategy" in text
