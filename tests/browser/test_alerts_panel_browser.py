"""Browser test of the overview's active-alerts panel (issue 13, item 1): acknowledge an
alert in headless Chromium and see it marked, mark the alerts as seen, and filter the
tables with a status tile.

The app runs in a subprocess on a store of the bundled Ural 2024 files with the rules
evaluated on five April mornings (as ``tests/integration/test_alerts_panel.py`` builds
it).  The screenshot goes to the test's tmp dir, or with HYDRORISK_SCREENSHOT set to
docs/screenshot-alerts-panel.png.
"""

from __future__ import annotations

import os

import pytest
from browser_support import dashboard_in_browser, dashboard_server, page_wait
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SERVER = dashboard_server([("agency/kazhydromet/ural_2024.csv", "kazhydromet"),
                           ("agency/roshydromet/ural_2024.csv", "roshydromet"),
                           ("reservoirs/RU_IRIKLINSK.csv", None)],
                          alert_days=(1, 5, 9, 11, 12))


def test_acknowledge_an_alert_in_the_panel(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    with dashboard_in_browser(tmp_path, SERVER, timeout=120) as (driver, base):
        driver.get(base + "/?date=2024-04-12")
        wait = page_wait(driver, 30)
        panel = wait.until(EC.presence_of_element_located((By.ID, "alerts-panel")))
        wait.until(lambda d: "Open at" in panel.text and "Ural at Orsk" in panel.text)
        # the first look starts the browser's "last look"
        wait.until(lambda d: "New since your last look" in
                   d.find_element(By.ID, "alerts-new-count").text)
        assert driver.execute_script(
            "return window.localStorage.getItem('alerts-last-look')")

        # acknowledge the first alert that can be: the dialog, a note, confirm
        button = wait.until(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, "#alerts-panel .alert-ack-button")))
        item = button.find_element(By.XPATH, "./ancestor::li[1]")
        item_id = item.get_attribute("id")
        button.click()
        modal = wait.until(EC.visibility_of_element_located((By.ID, "alerts-ack-modal")))
        assert item_id.split("-")[1] in modal.text
        name = driver.find_element(By.ID, "alerts-ack-name")
        if name.is_displayed() and name.is_enabled():
            name.clear()
            name.send_keys("browser")
        driver.find_element(By.ID, "alerts-ack-note").send_keys("Called the post")
        driver.find_element(By.ID, "alerts-ack-confirm").click()
        wait.until(EC.invisibility_of_element_located((By.ID, "alerts-ack-modal")))
        wait.until(lambda d: "alert-acknowledged" in
                   d.find_element(By.ID, item_id).get_attribute("class"))
        marked = driver.find_element(By.ID, item_id).text
        assert "browser" in marked and "Called the post" in marked, marked
        assert "acknowledged" in driver.find_element(By.ID, "alerts-ack-feedback").text

        # a status tile filters the tables; the filter is shown
        driver.find_element(By.ID, "summary-dangerous").click()
        wait.until(lambda d: "Tables filtered" in
                   d.find_element(By.ID, "stations-filter-note").text)
        wait.until(lambda d: "filter-dangerous" in
                   d.find_element(By.ID, "stations-summary").get_attribute("class"))
        def filtered(d):
            # the note updates before the grid redraws: wait for the rows themselves
            rows = d.find_elements(By.CSS_SELECTOR, "#stations-gauge-table "
                                   ".ag-center-cols-container .ag-row")
            texts = [r.text for r in rows]
            return texts if texts and all("Dangerous" in t for t in texts) else False

        try:
            wait.until(filtered)
        except Exception:
            rows = driver.find_elements(By.CSS_SELECTOR, "#stations-gauge-table "
                                        ".ag-center-cols-container .ag-row")
            raise AssertionError([r.text for r in rows]) from None

        shot = (ROOT / "docs" / "screenshot-alerts-panel.png") \
            if os.environ.get("HYDRORISK_SCREENSHOT") \
            else (tmp_path / "screenshot-alerts-panel.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        driver.set_window_size(1400, 1600)
        driver.execute_script("window.scrollTo(0, 0)")
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        # and the tables, filtered, with the filter named above them
        driver.set_window_size(1400, 2600)        # the whole page, tables included
        wait.until(lambda d: d.find_element(By.ID, "stations-gauge-table").is_displayed())
        assert driver.save_screenshot(str(shot.with_name("screenshot-alerts-panel-filter.png")))

        # "Show all" beside the note: every station again
        driver.find_element(By.ID, "stations-filter-clear").click()
        wait.until(lambda d: "Tables filtered" not in
                   d.find_element(By.ID, "stations-filter-note").text)
