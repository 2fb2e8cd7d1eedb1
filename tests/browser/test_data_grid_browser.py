"""A data grid in headless Chromium (issue 13, item 10): on /data-status, typing into the
station column's floating filter of the freshness grid leaves fewer rows, and the grid's
export button downloads a CSV of exactly those rows (numbers as numbers, times in ISO).

The store: the Kazhydromet 2024 table of the Ural, so a few stations have data and the
others of the network have none.
"""

from __future__ import annotations

import csv
import io
import textwrap
import time

import pytest
from auth_support import SERVER_ACCOUNT
from browser_support import dashboard_in_browser, page_wait

pytestmark = [pytest.mark.slow, pytest.mark.browser]

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
    engine = open_store("sqlite:///" + str(store), config.network)
    data = Path({root!r}) / "data" / "gauges"
    ingest_file(engine, config, data / "agency" / "kazhydromet" / "ural_2024.csv",
                source_id="kazhydromet", received_at=dt.datetime(2024, 1, 1),
                quarantine_dir=store.parent / "q")
""") + SERVER_ACCOUNT + textwrap.dedent("""
    create_app(config, engine=engine).run(host="127.0.0.1", port=int(sys.argv[2]), debug=False)
""")

GRID = "#data-status-freshness"


def _rows(driver) -> list[list[str]]:
    """The visible rows of the freshness grid, as their cells' texts."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + "
        "' .ag-center-cols-container .ag-row')).map(r => Array.from("
        "r.querySelectorAll('.ag-cell')).map(c => c.innerText.trim()));", GRID)


def test_a_floating_filter_narrows_the_rows_and_the_export_writes_them(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with dashboard_in_browser(tmp_path, SERVER, timeout=180) as (driver, base):
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        wait = page_wait(driver, 60)
        driver.set_window_size(1400, 2000)
        driver.get(base + "/data-status?lang=en&date=2024-04-21")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, GRID + " .ag-row")))
        before = _rows(driver)
        assert len(before) > 3
        # the station column's floating filter (the first of the grid's header row)
        box = driver.find_element(By.CSS_SELECTOR, GRID + " .ag-floating-filter input")
        box.send_keys("Uralsk")
        wait.until(lambda d: 0 < len(_rows(d)) < len(before))
        shown = _rows(driver)
        assert all("uralsk" in r[0].lower() for r in shown), shown   # "contains", any case

        driver.find_element(By.CSS_SELECTOR, GRID + " .grid-export").click()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
                list(downloads.glob("*.csv")) and not list(downloads.glob("*.crdownload"))):
            time.sleep(0.2)
        (path,) = downloads.glob("*.csv")
        assert path.name == "hydrorisk-data-status-freshness.csv"
        table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8").lstrip("\ufeff"))))
        header, body = table[0], table[1:]
        assert header[:3] == ["Station", "Reported by", "Last value, UTC"], header
        assert [r[0] for r in body] == [r[0] for r in shown]
        # the time in ISO and the age as a number, not as the page writes them
        for r in body:
            if r[2]:
                assert r[2][:4] == "2024" and "T" in r[2], r
                float(r[3])
        # a cell a spreadsheet would read as a formula gets a leading ' (as the server's
        # CSVs: hydro.services.audit.safe_cell); a link cell is written as its text
        cell = ("return window.dashAgGridFunctions.hydroriskCsvCell("
                "{value: arguments[0], column: {getColDef: () => ({cellRenderer: arguments[1]})}})")
        for value, renderer, written in (("=cmd|' /C calc'!A0", None, "'=cmd|' /C calc'!A0"),
                                         ("@SUM(1+1)", None, "'@SUM(1+1)"),
                                         ("+1", None, "'+1"), ("-1", None, "'-1"),
                                         ("\tx", None, "'\tx"), ("Uralsk", None, "Uralsk"),
                                         ("[Show \\[1\\]](/station/X?asof=1)", "markdown",
                                          "Show [1]")):
            assert driver.execute_script(cell, value, renderer) == written, value
        assert driver.execute_script(cell, 3.5, None) == 3.5
