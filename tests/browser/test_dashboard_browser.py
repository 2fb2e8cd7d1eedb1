"""Browser smoke test of the stations page: one whole flow in headless Chromium.

The app runs in a subprocess on a temporary store (the rows of ``test_dashboard.TEST_ROWS``).
With HYDRORISK_SCREENSHOT set, the store holds the bundled demonstration data instead and
the screenshot is written to docs/screenshot-stations.png (otherwise to the test's tmp dir).
"""

from __future__ import annotations

import os
import textwrap

import pytest
from browser_support import dashboard_in_browser, page_wait, wait_text
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SERVER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path[:0] = [{root!r}, {tests!r}, {tests!r} + "/integration"]  # not installed? (pip install -e)
    from hydro.config import load_config
    from dashboard.app import create_app

    config = load_config({config!r})
    store = Path(sys.argv[1])
    if os.environ.get("HYDRORISK_SCREENSHOT"):
        from hydro.services.ingest import bundled_files, ingest_file
        from hydro.store.db import open_store
        engine = open_store("sqlite:///" + str(store), config.network)
        for path in bundled_files(config):
            ingest_file(engine, config, path, quarantine_dir=store.parent / "quarantine")
    else:
        from test_dashboard import build_store
        engine = build_store(store, config.network)
    from hydro.services.accounts import add_account  # the account browser_login uses
    add_account(engine, 'browser', 'correct horse battery staple', 'admin', 'commission')
    create_app(config, engine=engine).run(host="127.0.0.1", port=int(sys.argv[2]), debug=False)
""")


def test_stations_page_flow(tmp_path):
    screenshot_mode = bool(os.environ.get("HYDRORISK_SCREENSHOT"))
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    with dashboard_in_browser(tmp_path, SERVER,
                              timeout=240 if screenshot_mode else 60) as (driver, base):
        driver.get(base + "/")
        # the page re-renders on navigation: elements found before it may go stale
        wait = page_wait(driver, 30)
        table = wait.until(EC.presence_of_element_located((By.ID, "stations-gauge-table")))
        assert "Ural at Orenburg" in table.text
        banner = driver.find_element(By.ID, "stations-synthetic-banner")
        assert "SYNTHETIC DEMONSTRATION DATA" in banner.text

        # the 2024 flood: a dangerous status renders, and the URL carries the date
        driver.find_element(By.ID, "stations-flood-2024").click()
        wait.until(lambda d: "date=2024-04-12" in d.current_url)
        wait.until(lambda d: d.find_element(By.ID, "stations-date")
                   .get_attribute("value") == "2024-04-12")
        wait_text(driver, "#stations-gauge-table .state-badge.state-dangerous",
                   "Dangerous")
        orenburg = '#stations-gauge-table .ag-row[row-id="RU:ORENBURG/RU"]'
        wait_text(driver, orenburg, "Dangerous")
        wait_text(driver, orenburg, "ОЯ 930")
        # Iriklinsk: release (outflow − spill) and spill in their own columns (issue 10)
        iriklinsk = '#stations-reservoir-table .ag-row[row-id="RU:IRIKLINSK/"]'
        wait_text(driver, "#stations-reservoir-table .ag-header", "Spill, m³/s")
        if not screenshot_mode:  # the test store: 2315 m³/s out, of which 765 spill
            release = driver.find_element(By.CSS_SELECTOR,
                                          iriklinsk + ' .ag-cell[col-id="release"]')
            spill = driver.find_element(By.CSS_SELECTOR,
                                        iriklinsk + ' .ag-cell[col-id="spill"]')
            assert (release.text, spill.text) == ("1550", "765")
        assert driver.find_elements(By.CSS_SELECTOR, "#stations-map .scatterlayer .point")

        shot = (ROOT / "docs" / "screenshot-stations.png") if screenshot_mode \
            else (tmp_path / "screenshot-stations.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        if screenshot_mode:
            driver.set_window_size(1400, 1900)
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000

        # switch the language in the navbar: same day, Russian texts
        driver.find_element(By.ID, "shell-lang-ru").click()
        wait.until(lambda d: "lang=ru" in d.current_url and "date=2024-04-12" in d.current_url)
        wait_text(driver, "#stations-gauge-table", "р. Урал – г. Оренбург")
        wait_text(driver, "#stations-gauge-table .state-badge.state-dangerous", "Опасно")
        # the tagline is hidden below 1700 px (the page links take its room): its text
        wait.until(lambda d: "Трансграничные реки" in (d.find_element(
            By.ID, "shell-tagline").get_attribute("textContent") or ""))
        assert "active" in driver.find_element(By.ID, "shell-lang-ru").get_attribute("class")

        # pick another day in the date field: the URL follows, keeping the language
        field = driver.find_element(By.ID, "stations-date")
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys("11.04.2024", Keys.ENTER)         # the Russian notation
        wait.until(lambda d: "date=2024-04-11" in d.current_url and "lang=ru" in d.current_url)
        if not screenshot_mode:  # the test store's Orenburg stage on 11 April
            wait_text(driver, orenburg, "970")
