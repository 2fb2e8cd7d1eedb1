"""Browser test of the scenario lab (/scenarios, issue 14, "Done when"): on the bundled
SYNTHETIC Ural 2024-style season a forecaster edits Iriklinsk's schedule (a release above
the outlet capacity is flagged beside the table), uploads a bad CSV and sees the message
naming its line and column, saves the plan, runs 20 members in the background (progress
bar), runs a second plan, compares the two, reloads the page and finds the run still there,
and downloads the results (CSV, PDF, NetCDF).  A screenshot of each step goes to tmp (to
docs/ with HYDRORISK_SCREENSHOT set)."""

from __future__ import annotations

import textwrap
import time

import pytest
from auth_support import urlopen_as
from browser_support import dashboard_in_browser, page_wait, save_screenshot, screenshot_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: a store with the browser's account; runs and background jobs in the test's folder; the
#: scenario's climatology built before serving (the run jobs are forked from the server)
SERVER = textwrap.dedent("""
    import dataclasses, os, sys
    from pathlib import Path
    sys.path[:0] = [{root!r}]
    store = Path(sys.argv[1])
    os.environ["HYDRORISK_JOB_CACHE"] = str(store.parent / "jobs")
    from hydro.config import load_config
    from hydro.store.db import open_store
    from dashboard.app import create_app
    from hydro.services import release_plans as P, scenario_runs as R

    config = load_config({config!r})
    paths = config.settings.paths.model_copy(update={{"runs": str(store.parent / "runs")}})
    config = dataclasses.replace(config, settings=config.settings.model_copy(
        update={{"paths": paths}}))
    engine = open_store("sqlite:///" + str(store), config.network)
    from hydro.services.accounts import add_account
    add_account(engine, 'browser', 'correct horse battery staple', 'forecaster', 'RU')
    P.check(config, "ural-2024-style", P.plan_table(config, "ural-2024-style"))
    R.cached_context(config, "ural-2024-style", engine)
    create_app(config, engine=engine).run(host="127.0.0.1", port=int(sys.argv[2]),
                                          debug=False)
""")


def _click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except Exception:  # noqa: BLE001 - an overlay on a slow machine: click from script
        driver.execute_script("arguments[0].click()", element)


def _members(driver, n: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "scenarios-members")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(n))


def _select(driver, wait, select_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    wait.until(lambda d: value in [o.get_attribute("value") for o in
                                   Select(d.find_element(By.ID, select_id)).options])
    Select(driver.find_element(By.ID, select_id)).select_by_value(value)


def _run_and_wait(driver, wait, before: str | None) -> str:
    """Click Run; wait for the progress bar, then for the results of a new run; its id."""
    from selenium.webdriver.common.by import By

    _click(driver, driver.find_element(By.ID, "scenarios-run"))
    wait.until(lambda d: d.find_elements(By.ID, "scenarios-run-started")
               or d.find_elements(By.ID, "scenarios-run-error"))
    assert not driver.find_elements(By.ID, "scenarios-run-error"), \
        driver.find_element(By.ID, "scenarios-run-error").text
    wait.until(lambda d: (d.find_element(By.ID, "scenarios-run-select")
                          .get_attribute("value") or before) != before
               and d.find_elements(By.ID, "scenarios-fan"))
    return driver.find_element(By.ID, "scenarios-run-select").get_attribute("value")


def test_scenario_lab(tmp_path):
    started = time.monotonic()
    shots = screenshot_dir(tmp_path)
    bad = tmp_path / "iriklinsk-bad.csv"
    bad.write_text("date,release\n2024-03-10,201\n2024-04-01,15\n", encoding="utf-8")
    with dashboard_in_browser(tmp_path, SERVER, timeout=180) as (driver, base):
        try:
            _lab(driver, base, shots, bad)
        except Exception:
            driver.save_screenshot(str(shots / "screenshot-scenarios-failure.png"))
            raise
    elapsed = time.monotonic() - started
    assert elapsed < 240, f"the lab's browser test took {elapsed:.0f} s"
    print(f"scenario lab browser test: {elapsed:.0f} s")


def _lab(driver, base: str, shots, bad) -> None:
    from selenium.webdriver.common.by import By

    wait = page_wait(driver, 60)
    driver.set_window_size(1400, 2200)
    driver.get(base + "/?lang=en")
    link = wait.until(lambda d: d.find_element(By.ID, "shell-nav-scenarios"))
    assert link.text == "Scenarios"
    _click(driver, link)
    wait.until(lambda d: d.find_elements(By.ID, "scenarios-grid"))
    _select(driver, wait, "scenarios-scenario", "ural-2024-style")   # reloads the page
    wait.until(lambda d: "scenario=ural-2024-style" in d.current_url
               and d.find_elements(By.ID, "scenarios-grid")
               and "Iriklinsk" in d.find_element(By.ID, "scenarios-start").text)
    start = driver.find_element(By.ID, "scenarios-start").text
    assert "snow water equivalent" in start and "Iriklinsk" in start
    assert "SYNTHETIC" in driver.find_element(By.CLASS_NAME, "synthetic-banner").text
    save_screenshot(driver, shots / "screenshot-scenarios-1-start.png")

    # 1. edit Iriklinsk's schedule: a release table, then 5000 m³/s from 2 March
    _members(driver, 20)
    _select(driver, wait, "scenarios-reservoir", "RU:IRIKLINSK")
    wait.until(lambda d: d.find_element(By.ID, "scenarios-rule").get_attribute("value")
               == "default")
    mode = driver.find_element(
        By.XPATH, "//div[@id='scenarios-mode']//label[contains(., 'release')]")
    _click(driver, mode)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                             "#scenarios-grid .ag-center-cols-container .ag-row")) == 1)
    _click(driver, driver.find_element(By.ID, "scenarios-add-row"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                             "#scenarios-grid .ag-center-cols-container .ag-row")) == 2)
    cell = driver.find_element(By.CSS_SELECTOR, "#scenarios-grid .ag-center-cols-container "
                                                ".ag-row[row-index='1'] [col-id='value']")
    _click(driver, cell)
    editor = wait.until(lambda d: d.find_element(By.CSS_SELECTOR,
                                                 "#scenarios-grid .ag-cell-inline-editing input"))
    from selenium.webdriver.common.keys import Keys

    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys("5000", Keys.ENTER)
    # beside the table: from 2 March the ramp limit, then the outlet capacity as the
    # reservoir is drawn down
    wait.until(lambda d: any(
        "2024-03-02" in e.text and "ramp limit" in e.text
        for e in d.find_elements(By.CSS_SELECTOR, "#scenarios-checks .check-ramp")))
    assert "outlet capacity" in driver.find_element(
        By.CSS_SELECTOR, "#scenarios-checks .check-outlet_capacity").text
    save_screenshot(driver, shots / "screenshot-scenarios-2-edited.png")

    # 2. a bad CSV: the message names the line and the column; the table is kept
    upload = driver.find_element(By.CSS_SELECTOR, "#scenarios-upload input[type=file]")
    upload.send_keys(str(bad))
    wait.until(lambda d: d.find_elements(By.ID, "scenarios-upload-error"))
    message = driver.find_element(By.ID, "scenarios-upload-error").text
    assert "line 1" in message and "column «release»" in message, message
    assert "unit" in message
    assert len(driver.find_elements(By.CSS_SELECTOR, "#scenarios-grid "
                                    ".ag-center-cols-container .ag-row")) == 2
    save_screenshot(driver, shots / "screenshot-scenarios-3-bad-csv.png")

    # 3. save the plan: a version with a link to share
    driver.find_element(By.ID, "scenarios-plan-name").send_keys("browser-plan")
    driver.find_element(By.ID, "scenarios-plan-note").send_keys("5000 m3/s from 2 March")
    _click(driver, driver.find_element(By.ID, "scenarios-save"))
    share = wait.until(lambda d: d.find_element(By.ID, "scenarios-plan-link"))
    assert "plan=ural-2024-style/browser-plan&version=1" in share.get_attribute("href")

    # 4. run 20 members in the background: progress, then the results
    run_a = _run_and_wait(driver, wait, None)
    assert "20 members" in driver.find_element(By.ID, "scenarios-run-describe").text
    assert "browser-plan@1" in driver.find_element(By.ID, "scenarios-run-describe").text
    assert driver.find_elements(By.ID, "scenarios-exceedance")
    wait.until(lambda d: "no adverse level" in d.find_element(By.ID,
                                                              "scenarios-exceedance").text)
    save_screenshot(driver, shots / "screenshot-scenarios-4-results.png")

    # 5. a second plan of the file, the same 20 members, then the two compared
    _select(driver, wait, "scenarios-plan", "early-prerelease")
    wait.until(lambda d: "plan=early-prerelease" in d.current_url
               and d.find_elements(By.ID, "scenarios-members"))
    wait.until(lambda d: d.find_element(By.ID, "scenarios-run-select").get_attribute("value"))
    # the ensemble size is in the address (?members=): the other plan kept it
    assert "members=20" in driver.current_url, driver.current_url
    assert driver.find_element(By.ID, "scenarios-members").get_attribute("value") == "20"
    _members(driver, 20)
    run_b = _run_and_wait(driver, wait, run_a)
    assert run_b != run_a
    _select(driver, wait, "scenarios-compare-a", run_a)
    _select(driver, wait, "scenarios-compare-b", run_b)
    _click(driver, driver.find_element(By.ID, "scenarios-compare"))
    # the grid draws its rows after the table's box: wait for them
    wait.until(lambda d: "Orenburg" in d.find_element(By.ID, "scenarios-compare-gauges").text)
    assert "Paired comparison" in driver.find_element(By.ID, "scenarios-compare-result").text
    driver.execute_script("document.getElementById('scenarios-compare-panel')"
                          ".scrollIntoView()")
    save_screenshot(driver, shots / "screenshot-scenarios-5-compare.png")

    # 6. reload: the run is still there (its id is in the address)
    assert f"run={run_b}" in driver.current_url
    driver.refresh()
    wait.until(lambda d: d.find_elements(By.ID, "scenarios-run-describe")
               and run_b in d.find_element(By.ID, "scenarios-run-describe").text)
    assert driver.find_element(By.ID, "scenarios-members").get_attribute("value") == "20"
    driver.execute_script("window.scrollTo(0, 0)")
    save_screenshot(driver, shots / "screenshot-scenarios-6-reloaded.png")

    # 7. the downloads
    for fmt, magic, kind in (("csv", None, "text/csv"), ("pdf", b"%PDF-", "application/pdf"),
                             ("nc", None, "netcdf")):
        href = driver.find_element(By.ID, f"scenarios-download-{fmt}").get_attribute("href")
        with urlopen_as(driver, href, timeout=120) as resp:
            assert kind in resp.headers["Content-Type"], resp.headers["Content-Type"]
            body = resp.read()
        assert len(body) > 500
        if magic:
            assert body.startswith(magic)
