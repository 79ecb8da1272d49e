"""The planners' app in a real browser: Playwright drives Debian's Chromium.

One app server (``impactsim app small.yaml``) runs in a subprocess on a free port for the
module. A planner's path through it, in Dutch: switch the language, give a knob a value
it refuses and then one it takes, run, compare the numbers on the page with
:func:`impactsim.run` on the same edited scenario and seed, download the edited scenario
(it loads as the same scenario) and the report, upload a bad scenario file and read the
problems at their fields (a value out of range, a contradiction), in Dutch. In a second
tab, a session of its own: ask for a run too large for the machine and read the error,
cancel a long run, and compare with a library strategy whose places per month it changes
(the page's numbers equal :func:`impactsim.compare`'s). In a third, upload a
municipality divided into neighbourhoods, compare it with the library's strategy
concentrated in the south, and read the results by neighbourhood (equal to
:func:`impactsim.compare`'s).

Screenshots at 1366x768 are checked not to be blank. ``IMPACTSIM_SCREENSHOTS=docs``
(``make app-screenshots``) also writes them to ``docs/figures/app-*.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import matplotlib.image as mpimg
import pytest
import yaml

import impactsim
from impactsim import compare_places, report
from impactsim.app import knobs
from impactsim.app.pages import library_in
from impactsim.loading import default_scenario, load_scenario

pytest.importorskip("solara")
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(impactsim.__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FIGURES = ROOT / "docs" / "figures"
EDIT = {"providers.community_centres.count": 2}
#: A knob of the library strategy free-market, changed in the second tab.
LIBRARY_KNOB = "providers.community_centres.capacity_per_month"
SEED = 11


def _skip_or_fail(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_scenario(path: Path) -> Path:
    """The default municipality with 1,000 families over 2 years, 3 replicates."""
    d = default_scenario().model_dump(mode="json")
    d["name"] = "small-town"
    d["population"]["size"] = 1000
    d["simulation"].update(months=24, replicates=3, seed=SEED)
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app on a free port; yields its address and the scenario it started with."""
    chromium = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if chromium is None:
        _skip_or_fail(
            "chromium is not installed (Debian package 'chromium'; make test installs it)"
        )
    check = subprocess.run(
        [sys.executable, "-m", "impactsim.app.assets", "--check"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        _skip_or_fail("Solara's page files are missing: " + check.stdout.strip())
    tmp = tmp_path_factory.mktemp("app")
    scenario = small_scenario(tmp / "small.yaml")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "impactsim.cli", "app", str(scenario), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the app did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.3)
    try:
        yield url, scenario
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    with playwright_api.sync_playwright() as p:
        exe = shutil.which("chromium") or CHROMIUM
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(".impactsim")
    return page


def screenshot(page, name: str, tmp_path: Path, at=None) -> Path:
    """A 1366x768 screenshot, checked not blank; also into docs/figures when asked.

    Args:
        page: the page.
        name: the file is ``app-NAME.png``.
        tmp_path: where to write it.
        at: a locator to scroll into view first; default the top of the page.
    """
    if at is None:
        page.evaluate("document.querySelector('.impactsim').scrollIntoView()")
    else:
        at.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    shot = tmp_path / f"app-{name}.png"
    page.screenshot(path=str(shot))
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (768, 1366)
    gray = pixels[..., :3].mean(axis=2)
    assert gray.std() > 0.05, f"screenshot {name} is blank"
    assert (gray < 0.5).mean() > 0.005, f"no text visible in screenshot {name}"
    if os.environ.get("IMPACTSIM_SCREENSHOTS") == "docs":
        FIGURES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, FIGURES / shot.name)
    return shot


def set_knob(page, key: str, text: str) -> None:
    css = ".knob-" + key.lower().replace(".", "-").replace("_", "-")
    field = page.locator(f"{css} input")
    field.fill(text)
    field.press("Tab")


def test_a_planners_path_through_the_app_in_dutch(server, browser, tmp_path):
    url, scenario_file = server
    page = open_page(browser, url)
    page.get_by_role("button", name="Nederlands").click()
    page.get_by_text("Gemeente", exact=True).wait_for()
    page.get_by_text("De belangrijkste instellingen wijzigen").wait_for()

    key = "providers.community_centres.count"
    set_knob(page, key, "-3")
    page.locator(".knob-providers-community-centres-count").get_by_text("minstens 0").wait_for()
    set_knob(page, key, "2")
    expect(page.locator(".knob-providers-community-centres-count")).not_to_contain_text(
        "minstens 0"
    )

    page.locator(".run-button").click()
    page.wait_for_selector("table.results", timeout=120_000)
    edited, problems = knobs.edited_scenario(load_scenario(scenario_file), EDIT)
    assert problems == [] and edited is not None
    api = impactsim.run(edited, replicates=3, seed=SEED, progress=False)
    for metric, _label, kind in report.HEADLINE:
        mean, lo, hi = report.headline_stats(api, metric)
        cell = page.locator(f'td[data-metric="{metric}"][data-strategy="{edited.name}"]').first
        shown = report.fmt(mean, kind, "nl")
        if lo == lo:
            shown += f"\n[{report.fmt(lo, kind, 'nl')}; {report.fmt(hi, kind, 'nl')}]"
        assert cell.inner_text() == shown, metric
    summary = page.locator("p.summary").first.inner_text()
    assert summary == re.sub(r"</?b>", "", report.plain_summary("package", api, "nl"))
    page.get_by_text("Wie betaalt en wie profiteert").wait_for()
    page.locator(".figs img").nth(3).wait_for()  # drawn in Dutch
    page.get_by_text("Impacttrechter").first.wait_for()
    screenshot(page, "results", tmp_path)

    with page.expect_download() as got:
        page.get_by_role("button", name="Gewijzigd scenario downloaden (YAML)").click()
    saved = tmp_path / "edited.yaml"
    got.value.save_as(saved)
    assert load_scenario(saved) == edited  # `impactsim run edited.yaml` gives these numbers

    with page.expect_download(timeout=120_000) as got:
        page.get_by_role("button", name="Rapport downloaden (HTML)").click()
    report_file = tmp_path / "report.html"
    got.value.save_as(report_file)
    text = report_file.read_text(encoding="utf-8")
    assert "package" in text and "small-town" in text

    bad = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
    bad["providers"][2]["count"] = -1
    bad["strategy"]["offers"][1]["start_month"] = 30  # a contradiction: after the horizon
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump(bad), encoding="utf-8")
    page.set_input_files("input[type=file]", str(bad_file))
    problem = page.locator(".upload-problems .problem").first
    problem.wait_for()
    assert "community centres" in problem.inner_text()
    assert "moet minstens 0 zijn (ingevuld: -1)" in problem.inner_text()
    late = page.locator(".upload-problems .problem").filter(has_text="maand 30")
    said = late.inner_text()
    assert said.startswith("aanbod van group parenting course")  # the field by its label
    assert (
        "› maand vanaf wanneer de interventie wordt aangeboden: maand 30 valt op of na het "
        "einde van de gesimuleerde periode (24 maanden" in said
    )
    screenshot(page, "upload-error", tmp_path, at=problem)


def test_failed_and_cancelled_runs_are_shown_and_the_app_keeps_serving(server, browser, tmp_path):
    url, scenario_file = server
    first = open_page(browser, url)
    second = open_page(browser, url)
    first.get_by_role("button", name="Nederlands").click()
    first.get_by_text("Gemeente", exact=True).wait_for()
    assert second.get_by_text("Municipality", exact=True).count() == 1  # its own session

    set_knob(second, "simulation.replicates", "1000000")
    second.locator(".run-button").click()
    error = second.locator(".run-error")
    error.wait_for()
    assert "Too large for this computer" in error.inner_text()

    set_knob(second, "simulation.replicates", "500")
    second.locator(".run-button").click()
    second.locator(".progress").wait_for()
    started = time.monotonic()
    second.locator(".cancel-button").click()
    second.get_by_text("Run cancelled.").wait_for()
    assert time.monotonic() - started < 10  # stops after the replicate in progress

    set_knob(second, "simulation.replicates", "2")
    second.get_by_text("free market", exact=True).click()  # a library strategy to compare
    # ... with a setting of its own changed
    second.locator(".settings-of").get_by_role("button", name="free market").click()
    second.get_by_text("these settings change this library strategy only").wait_for()
    set_knob(second, LIBRARY_KNOB, "2")
    second.locator(".run-button").click()
    second.locator('td[data-metric="diff_public_impact_pp"]').wait_for(timeout=120_000)
    assert second.locator(".run-error").count() == 0
    assert second.locator('td[data-metric="reach_cumulative"]').count() == 2
    home, _ = knobs.edited_scenario(load_scenario(scenario_file), {"simulation.replicates": 2})
    library, _ = library_in(home, "free-market")
    library, _ = knobs.edited_scenario(library, {LIBRARY_KNOB: 2})
    api = impactsim.compare(
        {home.name: home, library.name: library}, replicates=2, seed=SEED, progress=False
    )
    mean, _lo, _hi = report.headline_stats(api.runs["free-market"], "reach_cumulative")
    cell = second.locator('td[data-metric="reach_cumulative"][data-strategy="free-market"]')
    assert cell.inner_text().split("\n")[0] == report.fmt(mean, "pct", "en")
    screenshot(second, "compare", tmp_path)


def test_a_municipality_by_neighbourhood_shows_its_results_per_neighbourhood(
    server, browser, tmp_path
):
    url, _scenario_file = server
    page = open_page(browser, url)
    d = yaml.safe_load((ROOT / "scenarios" / "neighbourhoods.yaml").read_text(encoding="utf-8"))
    d["population"]["size"] = 800
    d["simulation"].update(months=24, replicates=3, seed=SEED)
    town_file = tmp_path / "wijken.yaml"
    town_file.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    page.set_input_files("input[type=file]", str(town_file))
    page.get_by_text("uploaded: wijken.yaml").wait_for()
    page.get_by_text("800 families, 24 months", exact=False).wait_for()  # the municipality now
    page.get_by_text("neighbourhoods south", exact=True).click()  # concentrated in the south
    page.locator(".settings-of").wait_for()  # chosen: the run has both strategies
    page.locator(".run-button").click()
    section = page.locator(".by-neighbourhood")
    section.get_by_role("heading", name="By neighbourhood").wait_for(timeout=120_000)

    town = load_scenario(town_file)
    south, _ = library_in(town, "neighbourhoods-south")
    api = impactsim.compare(
        {town.name: town, south.name: south}, replicates=3, seed=SEED, progress=False
    )
    levels, diffs = section.locator("table.results").nth(0), section.locator("table.results").nth(1)
    mean, lo, hi = report.neighbourhood_stats(api.runs[south.name], "reach_cumulative", "south")
    cell = levels.locator(
        f'td[data-metric="reach_cumulative"][data-strategy="{south.name}"][data-neighbourhood="south"]'
    )
    shown = [report.fmt(x, "pct", "en") for x in (mean, lo, hi)]
    assert cell.inner_text() == f"{shown[0]}\n[{shown[1]}; {shown[2]}]"
    assert "south (most deprived)" in levels.inner_text()
    gap = compare_places.gap_differences(api.runs, api.baseline).iloc[0]
    cell = diffs.locator(
        f'td[data-metric="neighbourhood_impact_gap_pp"][data-strategy="{south.name}"]'
    )
    assert cell.inner_text().split("\n")[0] == report.fmt(gap["mean"], "pp", "en")
    section.get_by_text("package concentrated in the south: Reach and public impact by").wait_for()
    screenshot(page, "neighbourhoods", tmp_path, at=levels)
