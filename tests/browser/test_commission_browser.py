"""Browser test of the commission page (issue 13, item 5): it opens from the navbar in
Russian, shows the border volumes, the disagreement of spring 2019 at the Ural border post
and the exchange log; a delivery is acknowledged through the form (and refused to its own
party); the monthly report downloads as PDF and XLSX.  Screenshots go to tmp (to docs/
with HYDRORISK_SCREENSHOT set)."""

from __future__ import annotations

import textwrap

import pytest
from auth_support import browser_login, browser_logout, urlopen_as
from browser_support import dashboard_in_browser, page_wait, screenshot_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: the Ural border gauge's discharge, both parties' 2019 stage tables, the Ural samples
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
    for path in (data / "grdc" / "KZ_19073_Q_Day.Cmd.txt",
                 data / "agency" / "kazhydromet" / "ural_2019.csv",
                 data / "agency" / "roshydromet" / "ural_2019.csv",
                 data / "quality" / "ural.csv"):
        ingest_file(engine, config, path, received_at=dt.datetime(2019, 5, 2, 6),
                    quarantine_dir=store.parent / "quarantine")
    from hydro.services.accounts import add_account  # the account browser_login uses
    add_account(engine, 'browser', 'correct horse battery staple', 'admin', 'commission')
    add_account(engine, 'П. Петров', 'correct horse battery staple', 'operator', 'RU')
    add_account(engine, 'А. Абенов', 'correct horse battery staple', 'operator', 'KZ')
    create_app(config, engine=engine, clock=lambda: dt.datetime(2019, 5, 2, 9)).run(
        host="127.0.0.1", port=int(sys.argv[2]), debug=False)
""")


def _choose(driver, wait, select_id: str, typed: str) -> None:
    """Pick the option of a select whose label contains ``typed``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select

    box = wait.until(EC.presence_of_element_located((By.ID, select_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    select = Select(box)
    label = next(o.text for o in select.options if typed in o.text)
    select.select_by_visible_text(label)


def _click(driver, element_id: str) -> None:
    """Click the button; if something lies over it (a slow CI machine can click before the
    page's reflow settles), scroll it to the middle and click it from the page's script."""
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.ID, element_id)
    try:
        button.click()
    except ElementClickInterceptedException:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        driver.execute_script("arguments[0].click()", button)


def test_commission_page(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER, timeout=180,
                              user="П. Петров") as (driver, base):
        # an RU operator: the ack form acknowledges as them, for RU
        wait = page_wait(driver, 40)
        driver.get(base + "/?lang=ru&date=2019-04-30")
        # the navbar is drawn in the default language, then the URL's
        wait.until(lambda d: d.find_element(By.ID, "shell-nav-commission").text == "Комиссия")
        link = wait.until(EC.element_to_be_clickable((By.ID, "shell-nav-commission")))
        assert link.text == "Комиссия"
        link.click()
        wait.until(lambda d: "/commission" in d.current_url)
        assert "lang=ru" in driver.current_url and "date=2019-04-30" in driver.current_url
        wait.until(lambda d: "р. Урал: граница РФ – РК" in
                   d.find_element(By.ID, "commission-volumes").text)
        # the grids draw their rows after the page: wait for them
        wait.until(lambda d: "01.03.2019" in d.find_element(By.ID, "commission-periods").text)
        wait.until(lambda d: "ural_2019.csv" in d.find_element(By.ID,
                                                               "commission-exchange").text)
        log = driver.find_element(By.ID, "commission-exchange").text
        assert "ural_2019.csv" in log and "не подтверждено" in log

        # the RU delivery: refused to the RU operator, stored for the KZ one; who and
        # for which party come from the account (the fields show it, not editable)
        wait.until(lambda d: d.find_element(By.ID, "commission-ack-name")
                   .get_attribute("value") == "П. Петров")
        assert not driver.find_element(By.ID, "commission-ack-name").is_enabled()
        _choose(driver, wait, "commission-ack-run", "(РФ")   # the party as pages write it
        _click(driver, "commission-ack-button")
        wait.until(lambda d: "Отклонено" in
                   d.find_element(By.ID, "commission-ack-message").text)
        browser_logout(driver, base)
        browser_login(driver, base, "А. Абенов")
        driver.get(base + "/commission?lang=ru&date=2019-04-30")
        _choose(driver, wait, "commission-ack-run", "(РФ")   # the party as pages write it
        wait.until(lambda d: d.find_element(By.ID, "commission-ack-party")
                   .get_attribute("value") == "KZ")
        driver.find_element(By.ID, "commission-ack-note").send_keys("получено полностью")
        _click(driver, "commission-ack-button")
        wait.until(lambda d: "сохранено" in
                   d.find_element(By.ID, "commission-ack-message").text)
        wait.until(lambda d: "А. Абенов" in d.find_element(By.ID,
                                                           "commission-exchange").text)
        # stamped with the app's clock, shown in the page's notation
        assert "02.05.2019 09:00" in driver.find_element(By.ID, "commission-exchange").text
        driver.set_window_size(1400, 3600)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(shots / "screenshot-commission.png"))

        for fmt, magic, kind in (("pdf", b"%PDF-", "application/pdf"),
                                 ("xlsx", b"PK", "spreadsheetml")):
            href = driver.find_element(By.ID, f"commission-download-{fmt}") \
                .get_attribute("href")
            assert "date=2019-04-30" in href and "lang=ru" in href
            with urlopen_as(driver, href, timeout=120) as resp:
                assert kind in resp.headers["Content-Type"]
                assert resp.read(len(magic)) == magic
    assert (shots / "screenshot-commission.png").stat().st_size > 10_000
