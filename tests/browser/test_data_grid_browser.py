"""A data grid in headless Chromium (issue 13, item 10): on /data-status, typing into the
station column's floating filter of the freshness grid leaves fewer rows, and the grid's
export button downloads a CSV of exactly those rows (numbers as numbers, times in ISO).

The store: the Kazhydromet 2024 table of the Ural, so a few stations have data and the
others of the network have none.
"""

from __future__ import annotations

import csv
import io

import pytest
from browser_support import (
    allow_downloads,
    dashboard_in_browser,
    dashboard_server,
    page_wait,
    wait_for_downloads,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SERVER = dashboard_server([("agency/kazhydromet/ural_2024.csv", "kazhydromet")])

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

    with dashboard_in_browser(tmp_path, SERVER, timeout=180) as (driver, base):
        downloads = allow_downloads(driver, tmp_path / "downloads")
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
        (path,) = wait_for_downloads(downloads)
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
