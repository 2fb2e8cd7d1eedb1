"""Browser test of the bulletin and data-status pages (issue 13, items 6 and 7): both open
from the navbar in Russian, the bulletin's PDF link downloads a PDF, the data-status page
lists the refused file with its reason.  Screenshots go to tmp (to docs/ with
HYDRORISK_SCREENSHOT set)."""

from __future__ import annotations

import textwrap

import pytest
from auth_support import urlopen_as
from browser_support import dashboard_in_browser, page_wait, screenshot_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: a store of the Ural's 2024 agency tables, Iriklinsk and one refused file
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
    for path in (data / "agency" / "kazhydromet" / "ural_2024.csv",
                 data / "agency" / "roshydromet" / "ural_2024.csv",
                 data / "reservoirs" / "RU_IRIKLINSK.csv",
                 data / "reservoirs" / "RU_VERKHNEURALSK.csv"):
        ingest_file(engine, config, path, received_at=dt.datetime(2024, 1, 1),
                    quarantine_dir=store.parent / "quarantine")
    bad = store.parent / "bad.csv"
    bad.write_text("station;date;level_m\\nRU:NOWHERE;2024-04-01;1\\n", encoding="utf-8")
    ingest_file(engine, config, bad, quarantine_dir=store.parent / "quarantine")
    from hydro.services.accounts import add_account  # the account browser_login uses
    add_account(engine, 'browser', 'correct horse battery staple', 'admin', 'commission')
    create_app(config, engine=engine).run(host="127.0.0.1", port=int(sys.argv[2]), debug=False)
""")


def test_bulletin_and_data_status_pages(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER, timeout=120) as (driver, base):
        wait = page_wait(driver, 30)
        driver.get(base + "/?lang=ru&date=2024-04-21")
        # the navbar is drawn in the default language, then the URL's
        wait.until(lambda d: d.find_element(By.ID, "shell-nav-bulletin").text == "Бюллетень")
        link = wait.until(EC.element_to_be_clickable((By.ID, "shell-nav-bulletin")))
        assert link.text == "Бюллетень"
        link.click()
        wait.until(lambda d: "/bulletin" in d.current_url)
        assert "lang=ru" in driver.current_url and "date=2024-04-21" in driver.current_url
        table = wait.until(EC.presence_of_element_located((By.ID, "bulletin-gauges")))
        wait.until(lambda d: "р. Урал – г. Уральск" in
                   d.find_element(By.ID, "bulletin-gauges").text)
        assert "Ириклинское" in driver.find_element(By.ID, "bulletin-reservoirs").text
        assert table.is_displayed()
        driver.save_screenshot(str(shots / "screenshot-bulletin.png"))

        href = driver.find_element(By.ID, "bulletin-download-pdf").get_attribute("href")
        assert "date=2024-04-21" in href and "lang=ru" in href
        with urlopen_as(driver, href, timeout=60) as resp:
            assert resp.headers["Content-Type"] == "application/pdf"
            assert resp.read(5) == b"%PDF-"

        driver.find_element(By.ID, "shell-nav-data-status").click()
        wait.until(lambda d: "/data-status" in d.current_url)
        quarantine = wait.until(EC.presence_of_element_located(
            (By.ID, "data-status-quarantine")))
        wait.until(lambda d: "bad.csv" in d.find_element(By.ID,
                                                        "data-status-quarantine").text)
        assert "нет столбца «volume_hm3»" in quarantine.text   # the reason, in Russian
        assert "Свежесть данных" in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(shots / "screenshot-data-status.png"))
    for name in ("screenshot-bulletin.png", "screenshot-data-status.png"):
        assert (shots / name).stat().st_size > 10_000
