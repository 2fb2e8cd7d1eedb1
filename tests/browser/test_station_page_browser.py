"""Browser test of the station and reservoir pages (issue 13, items 2 and 3): the bundled
demonstration data (15 years, both parties at the border gauges) with a stored short-range
forecast; opens Uralsk on 25 April 2024 and Iriklinsk, checks the hydrographs, the level
lines and the CSV download, and saves screenshots (to docs/ with HYDRORISK_SCREENSHOT set,
else to the test's tmp folder).
"""

from __future__ import annotations

import time

import pytest
from browser_support import (
    allow_downloads,
    dashboard_in_browser,
    dashboard_server,
    page_wait,
    screenshot_dir,
    wait_for_downloads,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SERVER = dashboard_server(bundled=True, then="""
    from hydro.services import forecasts
    forecasts.run(engine, config, issue_time=dt.datetime(2024, 4, 20, 12),
                  stations=["KZ:19071"], methods=("persistence", "sarimax"), on_time=True)
""")


def _graph_meta(driver, component_id: str) -> list[str]:
    return driver.execute_script(
        "const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return gd && gd._fullData ? gd._fullData.map(t => String(t.meta || '')) : [];",
        component_id)


def test_station_and_reservoir_pages(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER, timeout=240) as (driver, base):
        downloads = allow_downloads(driver, tmp_path / "downloads")
        wait = page_wait(driver, 60)
        driver.set_window_size(1400, 2600)
        driver.get(base + "/station/KZ:19071?date=2024-04-25")
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#station-stage .js-plotly-plot .scatterlayer")))
        wait.until(lambda d: "observed:KZ" in _graph_meta(d, "station-stage"))
        stage = _graph_meta(driver, "station-stage")
        assert "level" in stage and "band" in stage        # ОУ / return periods, HydroSOS
        legend = driver.find_element(By.CSS_SELECTOR, "#station-stage .legend").text
        assert "ОУ 850" in legend
        assert "SARIMAX" in driver.find_element(By.ID, "station-forecasts").text
        assert "Error" not in driver.find_element(By.TAG_NAME, "body").text[:2000]
        time.sleep(1.0)
        assert driver.save_screenshot(str(shots / "screenshot-station-KZ-19071.png"))

        driver.find_element(By.ID, "station-download-button").click()
        (csv,) = wait_for_downloads(downloads)
        assert csv.read_text().startswith("series,variable,party,time_utc,value")

        driver.get(base + "/station/RU:IRIKLINSK?date=2024-04-25")
        wait.until(lambda d: "observed:RU" in _graph_meta(d, "station-level"))
        legend = driver.find_element(By.CSS_SELECTOR, "#station-level .legend").text
        for entry in ("НПУ", "ФПУ", "УМО"):
            assert entry in legend, (entry, legend)
        state = driver.find_element(By.ID, "station-reservoir-state").text
        assert "Free capacity to НПУ" in state and "Days to ФПУ" in state
        time.sleep(1.0)
        assert driver.save_screenshot(str(shots / "screenshot-station-RU-IRIKLINSK.png"))
