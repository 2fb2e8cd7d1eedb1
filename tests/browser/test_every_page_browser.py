"""Every page in every language in headless Chromium (issue 13, "Done when"): each page of
:data:`PAGES` opens in kk, ru and en without an error, a traceback, "Error loading layout"
or a failed callback (the console's errors); ``<html lang>`` is the page's language; a
screenshot of each is saved; the home page links every page; and the kk and ru pages are
scanned for English (:func:`english_leaks`): the visible text, the title, aria-label,
placeholder and alt attributes, the charts' texts (legend, axes, hover texts) and the
date picker's month and day names.  Then the bulletin's PDF and the commission's report
are downloaded by clicking their links.

The store (built in the server process in a few seconds): the Ural's 2024 agency tables of
both parties, the GRDC discharge of the Ural border gauge, Iriklinsk and Verkhneuralsk, the
bundled water-quality files, one refused file, and the alert rules evaluated on five
April mornings.  Screenshots: ``<tmp>/walk/<lang>/<page>.png`` (``docs/walk/<lang>/`` with
HYDRORISK_SCREENSHOT set).

To add a page, add a line to :data:`PAGES`: its path and a CSS selector that is present
once its content has rendered.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from auth_support import browser_login
from browser_support import (
    GAUGES,
    allow_downloads,
    console_errors,
    dashboard_in_browser,
    dashboard_server,
    page_wait,
    save_screenshot,
    screenshot_dir,
    wait_for_downloads,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DAY = "2024-04-12"
LANGS = ("kk", "ru", "en")

#: (name of the screenshot, path, selector present once the page has rendered)
PAGES: list[tuple[str, str, str]] = [
    ("overview", "/", "#stations-gauge-table .ag-row"),
    # a chart is ready once its traces are drawn (an empty plot has no .trace)
    ("station-gauge", "/station/KZ:19071", "#station-stage .scatterlayer .trace .js-line"),
    ("station-reservoir", "/station/RU:IRIKLINSK", "#station-level .scatterlayer .trace .js-line"),
    ("quality", "/quality", "#quality-table .ag-row"),
    ("commission", "/commission", "#commission-volumes"),
    ("bulletin", "/bulletin", "#bulletin-gauges"),
    ("data-status", "/data-status", "#data-status-runs .ag-row"),
    ("scenarios", "/scenarios", "#_pages_content > div"),
    ("upload", "/upload", "#_pages_content > div"),
    ("audit", "/audit", "table"),
    ("not-found", "/no-such-page", ".not-found-page"),
]
#: pages with English that is known and owned elsewhere: page name -> why.  The walk fails
#: on English anywhere else, and reports these as an expected failure (xfail) while they
#: last; remove an entry when its page is clean.
KNOWN_GAPS: dict[str, str] = {}
#: pages seen before logging in
LOGGED_OUT_PAGES: list[tuple[str, str, str]] = [("login", "/login", "#login-form")]

SERVER = dashboard_server(
    [("agency/kazhydromet/ural_2024.csv", "kazhydromet"),
     ("agency/roshydromet/ural_2024.csv", "roshydromet"),
     ("grdc/KZ_19073_Q_Day.Cmd.txt", None),
     ("reservoirs/RU_IRIKLINSK.csv", None),
     ("reservoirs/RU_VERKHNEURALSK.csv", None),
     *((f"quality/{p.name}", None) for p in sorted((GAUGES / "quality").glob("*.csv")))],
    then="""
        bad = store.parent / "bad.csv"
        bad.write_text("station;date;level_m\\nRU:NOWHERE;2024-04-01;1\\n", encoding="utf-8")
        ingest_file(engine, config, bad, quarantine_dir=store.parent / "q")
    """,
    alert_days=(1, 5, 9, 11, 12))

#: what a page shows when something broke
ERROR_MARKS = ("Traceback", "Error loading layout", "Error loading dependencies",
               "Callback error", "Internal Server Error", "Exception:")

#: every text of the page a reader meets: the visible text, the attributes a pointer or a
#: screen reader shows, and the charts' own texts (legend, titles, axes, hover texts)
TEXTS_JS = r"""
// text quoted in English on purpose (lang="en": a reader's original message, a config's
// provenance note) is not the page's own words
let body = document.body.innerText;
for (const q of document.querySelectorAll('body [lang="en"]')) {
  if (q.innerText) body = body.split(q.innerText).join(' ');
}
const out = [body, document.title];
for (const el of document.querySelectorAll('[title],[aria-label],[placeholder],[alt]')) {
  for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
    const v = el.getAttribute(a);
    if (v) out.push(v);
  }
}
const strip = s => String(s).replace(/%\{[^}]*\}/g, ' ').replace(/<[^>]+>/g, ' ');
for (const gd of document.querySelectorAll('.js-plotly-plot')) {
  for (const tr of (gd.data || [])) {
    for (const key of ['name', 'hovertemplate', 'text', 'hovertext', 'legendgrouptitle']) {
      let v = tr[key];
      if (v && typeof v === 'object' && !Array.isArray(v)) v = v.text;
      if (Array.isArray(v)) { for (const x of v.slice(0, 400)) if (x) out.push(strip(x)); }
      else if (v) out.push(strip(v));
    }
  }
  const lay = gd.layout || {};
  const titleOf = t => t && (typeof t === 'string' ? t : t.text);
  for (const k of Object.keys(lay)) {
    const part = lay[k];
    if (part && typeof part === 'object' && part.title) out.push(strip(titleOf(part.title) || ''));
  }
  if (lay.title) out.push(strip(titleOf(lay.title) || ''));
  for (const a of (lay.annotations || [])) if (a.text) out.push(strip(a.text));
}
return out.join('\n');
"""

#: Latin words that are names, codes or units, not English: the product, formats, methods
ALLOWED_WORDS = {
    "hydrorisk", "NetCDF", "CSV", "PDF", "XLSX", "HTML", "SARIMAX", "HydroSOS", "GRDC",
    "UTC", "QC", "kazhydromet", "roshydromet", "grdc", "quality", "Qazaqstan",
}


def english_texts() -> dict[str, str]:
    """Key -> English text of the dashboard's catalogs (gettext when converted, else the
    CATALOG dict) and of the login and audit pages (:data:`dashboard.auth.TEXT`)."""
    from dashboard import auth, i18n

    if hasattr(i18n, "catalog_texts"):
        texts = dict(i18n.catalog_texts("en"))
    else:  # before the gettext catalogs
        texts = {k: v["en"] for k, v in i18n.CATALOG.items()}  # type: ignore[attr-defined]
    texts.update({f"auth.{k}": v for k, v in auth.TEXT["en"].items()})
    return texts


def translated_texts(lang: str) -> dict[str, str]:
    from dashboard import auth, i18n

    if hasattr(i18n, "catalog_texts"):
        texts = dict(i18n.catalog_texts(lang))
    else:
        texts = {k: v[lang] for k, v in i18n.CATALOG.items()}  # type: ignore[attr-defined]
    texts.update({f"auth.{k}": v for k, v in auth.TEXT[lang].items()})
    return texts


def catalog_fragments(lang: str) -> list[str]:
    """The English catalog's literal pieces (between ``{fields}``) of two or more words or
    six or more letters, that the ``lang`` text of the same key does not contain too (a
    product or format name is the same in every language)."""
    english, local = english_texts(), translated_texts(lang)
    out = set()
    for key, text in english.items():
        for piece in re.split(r"\{[^}]*\}", text):
            piece = piece.strip(" \t\n:;,.()—–-·/")
            words = re.findall(r"[A-Za-z]+", piece)
            if not words or not (len(words) >= 2 or len(words[0]) >= 6):
                continue
            if all(len(w) <= 2 for w in words):                 # a unit: m³/s, cm, m
                continue
            if re.search(r"[\u0400-\u04FF]", piece):     # Cyrillic inside: not English
                continue
            if piece in local.get(key, ""):
                continue
            out.add(piece)
    return sorted(out, key=len, reverse=True)


def _strip_allowed(text: str) -> str:
    """``text`` without what is data, not words: station ids, file names, e-mail and web
    addresses, the allowed words."""
    text = re.sub(r"\b[A-Z]{2}:[A-Z0-9_.-]+(?:/[A-Z]{2})?", " ", text)        # RU:IRIKLINSK
    text = re.sub(r"\S+\.(?:csv|txt|nc|pdf|xlsx|html|json|toml|sqlite)\b", " ", text)
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)
    text = re.sub(r"\b\w+=\S+", " ", text)                  # key=value records (audit)
    text = re.sub(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b", " ", text)  # column names: release_m3s
    allowed = "|".join(map(re.escape, ALLOWED_WORDS))
    return re.sub(rf"\b(?:{allowed})\b", " ", text)


def english_leaks(text: str, fragments: list[str]) -> list[str]:
    """English in a kk or ru page's ``text``: any of the catalog's English ``fragments``
    found verbatim (as whole words), and any run of two or more dictionary-like Latin
    words (``Word word``) outside the allowed names, ids and file names."""
    found = []
    clean = _strip_allowed(text)
    for piece in fragments:
        if re.search(r"(?<![A-Za-z])" + re.escape(piece) + r"(?![A-Za-z])", clean):
            found.append(f"catalog: {piece!r}")
    for line in clean.splitlines():
        # words in one cell: a tab separates a table's cells
        for m in re.finditer(r"\b[A-Za-z][a-z]+(?: +[A-Za-z][a-z]+)+\b", line):
            found.append(f"words: {m.group(0)!r} in {line.strip()[:100]!r}")
    return sorted(set(found))


def _page_texts(driver) -> str:
    """:data:`TEXTS_JS`, plus the month and day names of the page's first date picker
    (opened and closed again)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    text = driver.execute_script(TEXTS_JS)
    pickers = driver.find_elements(By.CSS_SELECTOR, ".SingleDatePickerInput input")
    if pickers and pickers[0].is_displayed():
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", pickers[0])
        pickers[0].click()
        page_wait(driver, 10).until(lambda d: d.find_elements(
            By.CSS_SELECTOR, ".CalendarMonth_caption"))
        text += "\n" + driver.execute_script(
            "return [...document.querySelectorAll('.DayPicker')]"
            ".map(e => e.innerText).join('\\n')")
        pickers[0].send_keys(Keys.ESCAPE)
    return text


def _open(driver, base: str, path: str, lang: str, ready: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By

    sep = "&" if "?" in path else "?"
    driver.get(f"{base}{path}{sep}lang={lang}&date={DAY}")
    wait = page_wait(driver, 60)
    try:
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ready))
    except TimeoutException:
        raise AssertionError(f"{path} ({lang}): {ready!r} never appeared; the page says:\n"
                             + driver.execute_script("return document.body.innerText")[:1500]
                             ) from None
    # Dash marks components whose callbacks are running; wait until none is, and until
    # the page stops changing (callbacks that fill it after the first render)
    wait.until(lambda d: not d.execute_script(
        "return document.querySelector('[data-dash-is-loading=\"true\"]')"))
    size = -1
    for _ in range(20):
        now = driver.execute_script("return document.body.innerHTML.length")
        if now == size:
            break
        size = now
        time.sleep(0.4)


def _is_failure(message: str) -> bool:
    """Whether a console error means the page failed: a request answered with an HTTP
    error (a callback's 500), or a script error nobody caught."""
    return bool(re.search(r"status of [45]\d\d|Uncaught|Callback error", message)) \
        and "/favicon" not in message


def _check(driver, name: str, lang: str, shots: Path, fragments: list[str],
           leaks: dict[str, list[str]]) -> None:
    body = driver.execute_script("return document.body.innerText")
    for mark in ERROR_MARKS:
        assert mark not in body, (name, lang, mark, body[:2000])
    errors = [e for e in console_errors(driver) if _is_failure(e)
              # the 404 page's own answer is the expected 404
              and not (name == "not-found" and e.startswith(driver.current_url))]
    assert not errors, (name, lang, errors)
    assert driver.execute_script("return document.documentElement.lang") == lang, (name, lang)
    save_screenshot(driver, shots / lang / f"{name}.png", min_bytes=5_000)
    if lang != "en":
        found = english_leaks(_page_texts(driver), fragments)
        if found:
            leaks[f"{lang} {name}"] = found


def test_every_page_in_every_language(tmp_path):
    from selenium.webdriver.common.by import By

    shots = screenshot_dir(tmp_path) / "walk"
    for lang in LANGS:
        (shots / lang).mkdir(parents=True, exist_ok=True)
    fragments = {lang: catalog_fragments(lang) for lang in LANGS if lang != "en"}
    leaks: dict[str, list[str]] = {}
    started = time.monotonic()
    with dashboard_in_browser(tmp_path, SERVER, user=None, timeout=120) as (driver, base):
        driver.set_window_size(1400, 1600)
        for lang in LANGS:
            for name, path, ready in LOGGED_OUT_PAGES:
                _open(driver, base, path, lang, ready)
                _check(driver, name, lang, shots, fragments.get(lang, []), leaks)
        browser_login(driver, base, "browser")

        # the home page links every page (the navbar, a station, the audit log)
        _open(driver, base, "/", "en", PAGES[0][2])
        hrefs = {re.sub(r"\?.*", "", h.removeprefix(base)) for h in driver.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.href)")}
        for _name, path, _ready in PAGES:
            if path == "/no-such-page":
                continue
            wanted = "/station/" if path.startswith("/station/") else path
            assert any(h == wanted or (wanted == "/station/" and h.startswith(wanted))
                       for h in hrefs), (path, sorted(hrefs))
        navbar = {h.get_attribute("pathname")
                  for h in driver.find_elements(By.CSS_SELECTOR, ".nav-pages a")}
        assert navbar <= {p for _n, p, _r in PAGES}, \
            f"pages of the navbar missing from PAGES: {navbar - {p for _n, p, _r in PAGES}}"

        for lang in LANGS:
            for name, path, ready in PAGES:
                _open(driver, base, path, lang, ready)
                _check(driver, name, lang, shots, fragments.get(lang, []), leaks)

        _downloads(driver, base, tmp_path / "downloads")
    elapsed = time.monotonic() - started
    # about 2 to 3 minutes on two shared cores; the margin is for a busy CI machine
    assert elapsed < 300, f"the walk took {elapsed:.0f} s"
    report = "English on kk/ru pages:\n" + "\n".join(
        f"{page}: {leak}" for page, found in sorted(leaks.items()) for leak in found)
    known = {page for page in leaks if page.split(" ", 1)[1] in KNOWN_GAPS}
    assert not set(leaks) - known, report
    if known:  # only the listed gaps: shown as an expected failure, with what was found
        pytest.xfail("; ".join(f"{name}: {why}" for name, why in KNOWN_GAPS.items()
                               if any(page.endswith(" " + name) for page in known))
                     + "\n" + report)


def _downloads(driver, base: str, folder: Path) -> None:
    """Click the bulletin's PDF link and the commission's PDF and XLSX links: the browser
    saves each file."""
    from selenium.webdriver.common.by import By

    allow_downloads(driver, folder)
    for path, link, magic in (("/bulletin", "bulletin-download-pdf", b"%PDF-"),
                              ("/commission", "commission-download-pdf", b"%PDF-"),
                              ("/commission", "commission-download-xlsx", b"PK")):
        before = set(folder.iterdir())
        _open(driver, base, path, "ru", f"#{link}")
        element = driver.find_element(By.ID, link)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        new = wait_for_downloads(folder, before, timeout=60)
        assert new, f"{link}: nothing downloaded"
        assert new[0].read_bytes()[:len(magic)] == magic, (link, new[0])
