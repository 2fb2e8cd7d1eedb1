"""Browser test of the overview map (issue 13, item 1): it renders offline with the shipped
rivers and border, and a click on a station opens /station/<id> with the language and date.

Same server as test_dashboard_browser.py (the test store; the bundled demonstration data with
HYDRORISK_SCREENSHOT set, which also writes the screenshots to docs/ instead of tmp).
"""

from __future__ import annotations

import os

import pytest
from browser_support import dashboard_in_browser, page_wait, screenshot_dir
from test_dashboard_browser import SERVER  # the sibling browser test's server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: the page's plotly graph, its axes and a station's pixel position in it (relative to the
#: graph's top-left corner)
POSITION_JS = """
const gd = document.querySelector('#stations-map .js-plotly-plot');
const id = arguments[0];
for (const trace of gd._fullData) {
  if (!String(trace.meta || '').startsWith('state:')) continue;
  const i = (trace.customdata || []).indexOf(id);
  if (i < 0) continue;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return [xa._offset + xa.l2p(trace.x[i]), ya._offset + ya.l2p(trace.y[i]),
          gd.clientWidth, gd.clientHeight];
}
return null;
"""
#: every resource the page loaded (scripts, styles, fonts, XHR/fetch, images)
RESOURCES_JS = "return performance.getEntriesByType('resource').map(e => e.name);"


def test_map_renders_offline_and_a_click_opens_the_station(tmp_path):
    screenshot_mode = bool(os.environ.get("HYDRORISK_SCREENSHOT"))
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    shots = screenshot_dir(tmp_path)
    with dashboard_in_browser(tmp_path, SERVER,
                              timeout=240 if screenshot_mode else 60) as (driver, base):
        driver.get(base + "/?lang=ru&date=2024-04-12")
        wait = page_wait(driver, 30)
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#stations-map .scatterlayer .point")))
        # the geometry traces are drawn: rivers and border are line traces with paths
        wait.until(lambda d: d.execute_script(
            "const gd = document.querySelector('#stations-map .js-plotly-plot');"
            "return gd && gd._fullData && gd._fullData.map(t => t.meta).join(',');")
            .startswith("rivers,border"))
        lines = driver.find_elements(By.CSS_SELECTOR, "#stations-map .scatterlayer .js-line")
        assert len(lines) >= 2 and all(el.get_attribute("d") for el in lines[:2])
        legend = driver.find_element(By.CSS_SELECTOR, "#stations-map .legend").text
        for entry in ("Реки", "Граница РК–РФ", "Гидропост", "Водохранилище", "Опасно"):
            assert entry in legend, (entry, legend)
        if not screenshot_mode:
            assert "Влияние льда" in legend        # the test store's ice jam at Cherlak

        map_el = driver.find_element(By.ID, "stations-map")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", map_el)
        assert driver.save_screenshot(str(shots / "screenshot-map.png"))
        map_el.screenshot(str(shots / "screenshot-map-detail.png"))

        # nothing but the app was asked for: no tiles, no topojson, no CDN
        resources = driver.execute_script(RESOURCES_JS)
        assert resources, "no resources recorded"
        foreign = [u for u in resources
                   if not u.startswith((base, "data:", "blob:"))]
        assert not foreign, foreign

        # click Karatomar's mark (a reservoir the map lacked before)
        x, y, width, height = driver.execute_script(POSITION_JS, "KZ:KARATOMAR")
        graph = driver.find_element(By.CSS_SELECTOR, "#stations-map .js-plotly-plot")
        ActionChains(driver).move_to_element_with_offset(
            graph, int(x - width / 2), int(y - height / 2)).pause(0.3).click().perform()
        wait.until(lambda d: "/station/KZ:KARATOMAR" in d.current_url)
        assert "lang=ru" in driver.current_url and "date=2024-04-12" in driver.current_url
        title = wait.until(EC.presence_of_element_located((By.ID, "station-title")))
        wait.until(lambda d: "Каратомарское" in d.find_element(By.ID, "station-title").text)
        facts = driver.find_element(By.ID, "station-facts").text
        assert "Тобол" in facts and "Казахстан" in facts
        assert title.is_displayed()
        driver.save_screenshot(str(shots / "screenshot-station-reservoir.png"))

        # a gauge with data: its stage hydrograph is drawn
        driver.get(base + "/station/RU:ORENBURG?lang=en&date=2024-04-12")
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#station-stage .scatterlayer .trace")))
        assert "Ural at Orenburg" in driver.find_element(By.ID, "station-title").text
        driver.save_screenshot(str(shots / "screenshot-station.png"))

        # an unknown id says so
        driver.get(base + "/station/XX:NOPE?lang=en")
        unknown = wait.until(EC.presence_of_element_located((By.ID, "station-unknown")))
        assert "XX:NOPE" in unknown.text
        foreign = [u for u in driver.execute_script(RESOURCES_JS)
                   if not u.startswith((base, "data:", "blob:"))]
        assert not foreign, foreign
    for name in ("screenshot-map.png", "screenshot-station.png"):
        assert (shots / name).stat().st_size > 10_000
