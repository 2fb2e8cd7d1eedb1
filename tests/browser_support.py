"""Helpers for browser and subprocess-server tests (not a test module).

    from browser_support import (chrome_driver, dashboard_in_browser, dashboard_server,
                                 free_port, serve_in_subprocess)

    # the usual case: a dashboard server script (``SERVER`` with {root}/{config}/{tests}
    # fields, argv: store path, port; dashboard_server() writes the usual one: a store of
    # bundled files, the account, the app), a browser logged in as "browser"
    SERVER = dashboard_server([("agency/kazhydromet/ural_2024.csv", "kazhydromet")])
    with dashboard_in_browser(tmp_path, SERVER, timeout=120) as (driver, base):
        driver.get(base + "/?lang=ru")
        wait = page_wait(driver)                  # ignores stale elements
        save_screenshot(driver, screenshot_dir(tmp_path) / "screenshot-x.png")

    # by hand
    port = free_port()
    cmd = [sys.executable, "-m", "hydro.cli", "serve", "--port", str(port)]
    with serve_in_subprocess(cmd, port, env={"HYDRORISK_HOME": str(tmp_path)}) as base_url:
        driver = chrome_driver()          # skips, or fails in CI, without Chromium
        try:
            driver.get(base_url)
        finally:
            driver.quit()

Browser availability: when /usr/bin/chromium, /usr/bin/chromedriver or selenium is
missing the test is skipped, unless HYDRORISK_REQUIRE_BROWSER is set (CI), in which
case it fails with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from conftest import ROOT, env_flag

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW_SIZE = (1400, 1000)
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often have a tiny /dev/shm; Chromium then crashes on bigger pages.
    "--disable-dev-shm-usage",
)

SERVE_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def browser_required() -> bool:
    return env_flag("HYDRORISK_REQUIRE_BROWSER")


def _browser_unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(
            f"{reason} (HYDRORISK_REQUIRE_BROWSER is set, so this is an error, not a skip; "
            "install with: apt-get install -y chromium chromium-driver && pip install selenium)",
            pytrace=False,
        )
    pytest.skip(f"{reason}; set up Chromium to run browser tests")


def require_browser() -> None:
    """Skip (or fail under HYDRORISK_REQUIRE_BROWSER) unless Chromium can be driven."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            _browser_unavailable(f"{path} not found")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _browser_unavailable("selenium is not installed")


def chrome_driver():
    """Return a headless ``selenium.webdriver.Chrome`` on Debian's Chromium.

    Each driver gets a fresh temporary profile (``--user-data-dir``) that is deleted
    by ``driver.quit()``. Always call ``quit()`` (try/finally or a fixture).
    """
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    class _Chrome(webdriver.Chrome):
        _profile_dir: str | None = None

        def quit(self) -> None:
            try:
                super().quit()
            finally:
                if self._profile_dir:
                    shutil.rmtree(self._profile_dir, ignore_errors=True)
                    self._profile_dir = None

    profile_dir = tempfile.mkdtemp(prefix="hydrorisk-chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument("--window-size={},{}".format(*WINDOW_SIZE))
    # the page's console errors (a callback's HTTP 500) for console_errors()
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    # An explicit driver path keeps Selenium Manager (which wants the internet) out of it.
    service = Service(executable_path=CHROMEDRIVER)
    try:
        driver = _Chrome(options=options, service=service)
    except BaseException:
        shutil.rmtree(profile_dir, ignore_errors=True)
        raise
    driver._profile_dir = profile_dir
    driver.set_page_load_timeout(60)
    driver.set_window_size(*WINDOW_SIZE)
    return driver


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Never send requests for 127.0.0.1 through an http_proxy from the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with _NO_PROXY_OPENER.open(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _stop_process(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group, SIGKILL it if still alive after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)  # the process leads its own group (start_new_session)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def _read_tail(fh, limit: int = 20_000) -> str:
    fh.flush()
    fh.seek(0)
    text = fh.read().decode("utf-8", errors="replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


@contextlib.contextmanager
def serve_in_subprocess(
    args: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = SERVE_TIMEOUT,
    cwd: str | os.PathLike[str] | None = None,
    path: str = "/",
) -> Iterator[str]:
    """Run ``args`` as a server and yield ``http://127.0.0.1:{port}`` once it is up.

    ``env`` is added to (overrides) the current environment. Ready means
    ``GET http://127.0.0.1:{port}{path}`` answers HTTP 200 within ``timeout`` seconds;
    otherwise the process is stopped, its stdout/stderr printed and RuntimeError raised.
    On exit the process group gets SIGTERM, then SIGKILL after 10 s.
    """
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    if env:
        full_env.update(env)
    base_url = f"http://127.0.0.1:{port}"
    url = base_url + path

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(args),
            env=full_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            last_status: int | None = None
            while True:
                if proc.poll() is not None:
                    problem = f"exited with code {proc.returncode} before serving {url}"
                    break
                last_status = _http_status(url)
                if last_status == 200:
                    problem = None
                    break
                if time.monotonic() >= deadline:
                    problem = (
                        f"did not serve HTTP 200 at {url} within {timeout:.0f} s "
                        f"(last status: {last_status or 'no connection'})"
                    )
                    break
                time.sleep(0.25)

            if problem is not None:
                _stop_process(proc)
                stdout, stderr = _read_tail(out), _read_tail(err)
                print(
                    f"--- server command {list(args)!r} {problem}\n"
                    f"--- stdout:\n{stdout}\n--- stderr:\n{stderr}\n--- end",
                    file=sys.stderr,
                )
                raise RuntimeError(f"server {list(args)!r} {problem}\nstderr:\n{stderr[-4000:]}")

            yield base_url
        finally:
            _stop_process(proc)


# --------------------------------------------------------------------------- dashboard tests
# What every dashboard browser test repeats: the server script, the login, waits that
# survive re-renders, and where screenshots go.

#: the account the dashboard browser tests log in as (the server scripts create it)
BROWSER_USER = "browser"
#: the smallest screenshot that is not a blank page, bytes
MIN_SCREENSHOT_BYTES = 10_000


def screenshot_mode() -> bool:
    """Whether HYDRORISK_SCREENSHOT is set: screenshots go to docs/ (and some servers load
    the bundled demonstration data)."""
    return bool(os.environ.get("HYDRORISK_SCREENSHOT"))


def screenshot_dir(tmp_path: os.PathLike[str] | str) -> Path:
    """docs/ in screenshot mode, else ``tmp_path`` (created)."""
    folder = (ROOT / "docs") if screenshot_mode() else Path(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(driver, path: os.PathLike[str] | str,
                    min_bytes: int = MIN_SCREENSHOT_BYTES) -> Path:
    """Save the window as PNG at ``path`` and check it is not blank (> ``min_bytes``)."""
    path = Path(path)
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > min_bytes, (path, path.stat().st_size)
    return path


def page_wait(driver, timeout: float = 30):
    """A ``WebDriverWait`` that ignores elements gone stale (Dash re-renders pages)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def wait_text(driver, css: str, text: str, timeout: float = 30) -> None:
    """Wait until the element at ``css`` shows ``text``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    page_wait(driver, timeout).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def console_errors(driver) -> list[str]:
    """The page's SEVERE console messages since the last call (failed callbacks, script
    errors); favicon misses are not errors."""
    try:
        entries = driver.get_log("browser")
    except Exception:  # a driver without the log capability
        return []
    return [e["message"] for e in entries
            if e.get("level") == "SEVERE" and "favicon" not in e.get("message", "")]


def allow_downloads(driver, folder: os.PathLike[str] | str) -> Path:
    """Let the browser save what a page downloads in ``folder`` (created), without asking;
    returns the folder (see :func:`wait_for_downloads`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(folder)})
    return folder


def wait_for_downloads(folder: Path, before: Collection[Path] = (),
                       timeout: float = 20.0) -> list[Path]:
    """The files saved in ``folder`` that are not in ``before``, sorted, once one is there
    and none is still being written (Chromium's ``*.crdownload``); after ``timeout``
    seconds, the complete ones so far (maybe none)."""
    deadline = time.monotonic() + timeout
    while True:
        new = set(folder.iterdir()) - set(before)
        done = sorted(p for p in new if not p.name.endswith(".crdownload"))
        if (done and len(done) == len(new)) or time.monotonic() >= deadline:
            return done
        time.sleep(0.2)


#: the bundled gauge data (data/gauges): :func:`dashboard_server` takes paths below it
GAUGES = ROOT / "data" / "gauges"


def dashboard_server(files: Sequence[tuple[str, str | None]] = (), *, bundled: bool = False,
                     then: str = "", alert_days: Sequence[int] = ()) -> str:
    """The source of a dashboard server script for :func:`dashboard_in_browser` (arguments:
    the store's path, the port): a new SQLite store with, in this order,

    - ``files``: each ``(path below data/gauges, source id or None)`` ingested as received
      on 1 January 2024, refused files to ``q/`` beside the store;
    - with ``bundled``, every bundled demonstration file
      (:func:`hydro.services.ingest.bundled_files`, received now, refused files to
      ``quarantine/``);
    - ``then``: more Python run in the script (plain code, no format fields; the names
      ``dt``, ``Path``, ``config``, ``engine``, ``store`` (its path) and ``data``
      (data/gauges) are set);
    - the alert rules evaluated at 06:00 UTC on each of ``alert_days`` of April 2024;

    then the account :func:`auth_support.browser_login` uses, and the app served on
    127.0.0.1."""
    from auth_support import SERVER_ACCOUNT

    code = [textwrap.dedent("""\
        import datetime as dt, sys
        from pathlib import Path
        sys.path[:0] = [{root!r}]
        from hydro.config import load_config
        from hydro.services import alert_evaluation as ae
        from hydro.services.ingest import bundled_files, ingest_file
        from hydro.store.db import open_store
        from dashboard.app import create_app

        config = load_config({config!r})
        store = Path(sys.argv[1])
        engine = open_store("sqlite:///" + str(store), config.network)
        data = Path({root!r}) / "data" / "gauges"
        """)]
    if files:
        code.append(textwrap.dedent("""\
            for path, source in FILES:
                ingest_file(engine, config, data / path, source_id=source,
                            received_at=dt.datetime(2024, 1, 1),
                            quarantine_dir=store.parent / "q")
            """).replace("FILES", repr(tuple(files))))
    if bundled:
        code.append(textwrap.dedent("""\
            for path in bundled_files(config):
                ingest_file(engine, config, path, quarantine_dir=store.parent / "quarantine")
            """))
    if then:
        code.append(textwrap.dedent(then).strip("\n") + "\n")
    if alert_days:
        code.append(textwrap.dedent("""\
            for day in DAYS:
                ae.evaluate(engine, config, as_of=dt.datetime(2024, 4, day, 6), on_time=True)
            """).replace("DAYS", repr(tuple(alert_days))))
    escaped = [part.replace("{", "{{").replace("}", "}}") for part in code[1:]]
    return "".join([code[0], *escaped, SERVER_ACCOUNT, 'create_app(config, engine=engine).run('
                    'host="127.0.0.1", port=int(sys.argv[2]), debug=False)\n'])


def write_server(tmp_path: os.PathLike[str] | str, source: str, **fields: str) -> Path:
    """Write a server script (``source`` with ``{root}``, ``{config}``, ``{tests}`` and
    ``fields`` filled in) to ``tmp_path/serve.py``."""
    script = Path(tmp_path) / "serve.py"
    script.write_text(source.format(root=str(ROOT), config=str(ROOT / "config"),
                                    tests=str(ROOT / "tests"), **fields), encoding="utf-8")
    return script


@contextlib.contextmanager
def dashboard_in_browser(tmp_path: os.PathLike[str] | str, source: str, *,
                         user: str | None = BROWSER_USER, timeout: float = SERVE_TIMEOUT,
                         driver=None) -> Iterator[tuple[object, str]]:
    """Serve the dashboard script ``source`` (see :func:`write_server`; it gets the store
    path and the port as arguments) and yield ``(driver, base_url)``, the browser logged in
    as ``user`` (None: not logged in).  The driver (a new one unless given) is quit on
    exit."""
    from auth_support import browser_login

    driver = driver or chrome_driver()  # skips (or fails under HYDRORISK_REQUIRE_BROWSER)
    try:
        script = write_server(tmp_path, source)
        port = free_port()
        cmd = [sys.executable, str(script), str(Path(tmp_path) / "store.sqlite"), str(port)]
        with serve_in_subprocess(cmd, port, cwd=str(ROOT), timeout=timeout) as base:
            if user:
                browser_login(driver, base, user)
            yield driver, base
    finally:
        driver.quit()
