"""Browser test of the app shell (issue 13, items 8-10) in headless Chromium: each language's
overview with ``<html lang>``, the decimal comma, the localised date picker, the grids'
filter and the language switch keeping ``date`` and ``asof``; one screenshot per language.

The app runs in a subprocess on the test store (``test_dashboard.TEST_ROWS``); screenshots
go to the test's tmp dir, or with HYDRORISK_SCREENSHOT set (the bundled demonstration data)
to docs/screenshot-overview-<lang>.png.
"""

from __future__ import annotations

import os

import pytest
from browser_support import dashboard_in_browser, page_wait, screenshot_dir, wait_text
from test_dashboard_browser import SERVER

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MONTH = {"kk": "Сәуір", "ru": "Апрель", "en": "April"}   # the calendar's April header


def test_overview_in_each_language(tmp_path):
    screenshot_mode = bool(os.environ.get("HYDRORISK_SCREENSHOT"))
    from selenium.webdriver.common.by import By

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER,
                              timeout=240 if screenshot_mode else 60) as (driver, base):
        wait = page_wait(driver, 30)
        for lang in ("kk", "ru", "en"):
            driver.get(f"{base}/?lang={lang}&date=2024-04-12")
            wait.until(lambda d: d.find_elements(
                By.CSS_SELECTOR, "#stations-reservoir-table .ag-row"))
            assert driver.execute_script("return document.documentElement.lang") == lang
            irik = '#stations-reservoir-table .ag-row[row-id="RU:IRIKLINSK/"]'
            if not screenshot_mode:
                wait_text(driver, irik + ' .ag-cell[col-id="level_m"]',
                           "245.50" if lang == "en" else "245,50")
            # the calendar's month name in the page's language
            driver.find_element(By.ID, "stations-date").click()
            month = MONTH[lang].lower()
            wait.until(lambda d, month=month: month in d.execute_script(
                "return document.body.innerText").lower())
            driver.find_element(By.CSS_SELECTOR, "h1").click()     # close it
            if screenshot_mode:
                driver.set_window_size(1400, 4600)     # the whole page, both grids
            shot = shots / f"screenshot-overview-{lang}.png"
            assert driver.save_screenshot(str(shot))
            assert shot.stat().st_size > 10_000

        # the language switch keeps the day and the knowledge time
        driver.get(f"{base}/?lang=en&date=2024-04-12&asof=2024-04-13T06:00")
        wait.until(lambda d: d.find_elements(By.ID, "time-asof_shown"))
        driver.find_element(By.ID, "shell-lang-kk").click()
        wait.until(lambda d: "lang=kk" in d.current_url
                   and "date=2024-04-12" in d.current_url
                   and "asof=2024-04-13T06:00" in d.current_url)
        wait.until(lambda d: d.execute_script("return document.documentElement.lang")
                   == "kk")
        # an unknown path: the localised page (the HTTP 404 is tested without a browser)
        driver.get(f"{base}/no-such-page?lang=ru")
        wait_text(driver, ".not-found-page", "Страница не найдена")
