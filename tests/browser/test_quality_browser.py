"""Browser test of the water-quality page (issue 13, item 4): it opens from the navbar in
Russian, shows the class table and the class map, a click on a site of the map selects it in
the site panel, and the CSV link downloads the table.  Screenshots go to tmp (to docs/ with
HYDRORISK_SCREENSHOT set)."""

from __future__ import annotations

import textwrap

import pytest
from auth_support import urlopen_as
from browser_support import dashboard_in_browser, page_wait, screenshot_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: a store of the bundled water-quality files and the Ural's 2024 agency tables
SERVER = textwrap.dedent("""
    import datetime as dt, sys
    from pathlib import Path
    sys.path[:0] = [{root!r}]
    from hydro.config import load_config
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store
    from dashboard.app import create_app

    config = load_config({config!r})
    store = Path(sys.argv[1])
    data = Path({root!r}) / "data" / "gauges"
    engine = open_store("sqlite:///" + str(store), config.network)
    for path in [data / "agency" / "kazhydromet" / "ural_2024.csv",
                 *sorted((data / "quality").glob("*.csv"))]:
        ingest_file(engine, config, path, received_at=dt.datetime(2025, 1, 10),
                    quarantine_dir=store.parent / "quarantine")
    from hydro.services.accounts import add_account  # the account browser_login uses
    add_account(engine, 'browser', 'correct horse battery staple', 'admin', 'commission')
    create_app(config, engine=engine).run(host="127.0.0.1", port=int(sys.argv[2]), debug=False)
""")


def test_quality_page(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER, timeout=180) as (driver, base):
        wait = page_wait(driver, 60)
        driver.get(base + "/?lang=ru&date=2024-04-21")
        # the navbar is drawn in the default language, then the URL's
        wait.until(lambda d: d.find_element(By.ID, "shell-nav-quality").text == "Качество воды")
        link = wait.until(EC.element_to_be_clickable((By.ID, "shell-nav-quality")))
        assert link.text == "Качество воды"
        link.click()
        wait.until(lambda d: "/quality" in d.current_url)
        assert "lang=ru" in driver.current_url and "date=2024-04-21" in driver.current_url
        wait.until(lambda d: "р. Урал – пос. Январцево" in
                   d.find_element(By.ID, "quality-table").text)
        table = driver.find_element(By.ID, "quality-table").text
        assert "Класс РК" in table and "УКИЗВ" in table and "предварительно" in table
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "Traceback" not in body and "Error" not in body
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#quality-map-kz .scatterlayer .trace")))
        wait.until(EC.presence_of_element_located((By.ID, "quality-trends")))

        # a site of the map selects it in the site panel
        points = driver.find_elements(By.CSS_SELECTOR,
                                      "#quality-map-kz .scatterlayer .trace .point")
        assert len(points) >= 11
        before = driver.find_element(By.ID, "quality-site").text
        from selenium.webdriver.common.action_chains import ActionChains

        for point in points[-11:]:
            ActionChains(driver).move_to_element(point).click().perform()
            if driver.find_element(By.ID, "quality-site").text != before:
                break
        wait.until(lambda d: d.find_element(By.ID, "quality-site").text != before)

        href = driver.find_element(By.ID, "quality-download-csv").get_attribute("href")
        assert "lang=ru" in href and "date=2024-04-21" in href
        with urlopen_as(driver, href, timeout=60) as resp:
            assert resp.headers["Content-Type"].startswith("text/csv")
            assert "Класс РФ (УКИЗВ)" in resp.read().decode("utf-8")

        driver.set_window_size(1400, 3300)
        driver.get(base + "/quality?lang=ru&date=2023-12-31&site=KZ:19073")
        wait.until(lambda d: "р. Урал – пос. Январцево" in
                   d.find_element(By.ID, "quality-table").text)
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#quality-chart .scatterlayer .trace")))
        driver.save_screenshot(str(shots / "screenshot-quality.png"))
        driver.get(base + "/quality?lang=kk&date=2023-12-31&site=RU:ORSK")
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#quality-chart .scatterlayer .trace")))
        driver.save_screenshot(str(shots / "screenshot-quality-kk.png"))
    for name in ("screenshot-quality.png", "screenshot-quality-kk.png"):
        assert (shots / name).stat().st_size > 10_000
