"""Shared parts of bench/dashboard.py and bench/load.py: a dashboard server in a child
process on loopback, logged-in HTTP clients, the Dash callback requests of the pages, and
latency percentiles.

The server is waitress when it is installed, else Werkzeug's threaded development server
(what ``hydrorisk serve`` runs today) in a thread of the child process; :func:`server_kind`
says which.  The child also answers ``GET /_bench/static`` with fixed bytes (a captured
station-page response) through a plain Flask route: the same HTTP path and size with no
work behind it, the baseline the benches print beside the pages.

Not a test and never run by the test suite.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench-viewer", "bench-viewer-Pa55word!"


def server_kind() -> str:
    try:
        import waitress  # noqa: F401
    except ImportError:
        return "werkzeug threaded dev server (waitress not installed)"
    from dashboard.cli import THREADS

    return f"waitress, {THREADS} threads (as `hydrorisk serve`)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- the server

def serve_main(argv: list[str]) -> int:
    """Child process: ``serve CONFIG_DIR STORE_URL PORT CACHE(0|1)``."""
    cfg_dir, url, port, use_cache = argv[0], argv[1], int(argv[2]), argv[3] == "1"
    sys.path.insert(0, str(ROOT))
    os.environ["HYDRORISK_NO_CACHE"] = "0" if use_cache else "1"
    import flask

    from dashboard.app import create_app
    from hydro.config import load_config
    from hydro.services import cache
    from hydro.store.db import open_store

    cache.set_enabled(use_cache)
    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N"
    config = load_config(cfg_dir)
    engine = open_store(url, config.network)
    app = create_app(config, engine=engine, secret_key="bench-secret-key-not-for-production")
    static = {"body": b"{}"}

    @app.server.route("/_bench/static")
    def _static():  # a plain Flask route: fixed bytes, no work
        return flask.Response(static["body"], mimetype="application/json")

    @app.server.route("/_bench/set-static", methods=["POST"])
    def _set_static():
        static["body"] = flask.request.get_data()
        return "ok"

    try:
        import waitress
    except ImportError:
        from werkzeug.serving import make_server

        srv = make_server("127.0.0.1", port, app.server, threaded=True)
        print("ready", flush=True)
        srv.serve_forever()
    else:
        from dashboard.cli import THREADS   # as `hydrorisk serve` runs it

        print("ready", flush=True)
        waitress.serve(app.server, host="127.0.0.1", port=port, threads=THREADS, _quiet=True)
    return 0


@dataclass
class Server:
    proc: subprocess.Popen
    base: str

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(cfg_dir: Path, url: str, use_cache: bool, settle: float = 0.0) -> Server:
    port = free_port()
    env = dict(os.environ, HYDRORISK_CACHE_SETTLE=str(settle))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve",
                             str(cfg_dir), url, str(port), "1" if use_cache else "0"],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/login", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return Server(proc, base)


def ensure_user(cfg_dir: Path, url: str) -> None:
    """The viewer account the clients log in with (accounts exist since issue 15)."""
    sys.path.insert(0, str(ROOT))
    from hydro.config import load_config
    from hydro.services import accounts
    from hydro.store.db import open_store

    engine = open_store(url, load_config(cfg_dir).network)
    try:
        if not any(a.name == USER for a in accounts.list_accounts(engine)):
            accounts.add_account(engine, USER, PASSWORD, role="viewer")
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- clients

class Client:
    """A logged-in browser-like session: page GETs and Dash callback POSTs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.s = requests.Session()
        form = self.s.get(base + "/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        data = {"name": USER, "password": PASSWORD}
        if token:
            data["csrf_token"] = token.group(1)
        r = self.s.post(base + "/login", data=data, allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise SystemExit(f"login failed: HTTP {r.status_code}")

    def headers(self) -> dict[str, str]:
        token = self.s.cookies.get("_csrf_token")
        return {"X-CSRFToken": token} if token else {}

    def get(self, path: str) -> requests.Response:
        return self.s.get(self.base + path, timeout=120)

    def post(self, payload: dict) -> requests.Response:
        return self.s.post(self.base + "/_dash-update-component", json=payload,
                           headers=self.headers(), timeout=120)


def page_payload(path: str, search: str) -> dict:
    """Dash Pages' router callback: the page's layout for ``path`` and ``search``."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def shell_payload(client: Client, path: str, search: str) -> dict:
    """The shell's callback (navbar, language links, time banners) for the URL."""
    deps = client.get("/_dash-dependencies").json()
    dep = next(d for d in deps if "shell-tagline.children" in d["output"])
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outputs.append({"id": cid, "property": prop})
    return {"output": dep["output"], "outputs": outputs,
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def zoom_payload(graph_id: str, path: str, search: str, lo: str, hi: str) -> dict:
    """The station page's resample-on-zoom callback of one hydrograph."""
    return {"output": f"{graph_id}.figure",
            "outputs": {"id": graph_id, "property": "figure"},
            "inputs": [{"id": graph_id, "property": "relayoutData",
                        "value": {"xaxis.range[0]": lo, "xaxis.range[1]": hi}}],
            "changedPropIds": [f"{graph_id}.relayoutData"],
            "state": [{"id": "_pages_location", "property": "pathname", "value": path},
                      {"id": "_pages_location", "property": "search", "value": search}]}


# --------------------------------------------------------------------------- measuring

@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)   # seconds
    errors: list[str] = field(default_factory=list)
    bytes: int = 0
    wall: float = 0.0
    by_kind: dict[int, list[float]] = field(default_factory=dict)  # request index -> s

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1e3 if self.latencies else float("nan")


Request = Callable[[Client], requests.Response]


def run(clients: list[Client], requests_: list[Request], per_client: int | None = None,
        until: Callable[[], bool] | None = None) -> Result:
    """Each client in its own thread sends ``requests_`` round-robin, ``per_client`` times
    (or until ``until()``); every response must be HTTP 200 with a body."""
    res = Result()
    lock = threading.Lock()

    def worker(i: int, c: Client) -> None:
        k = i  # clients start at different requests
        n = 0
        while (per_client is None or n < per_client) and not (until and until()):
            kind = k % len(requests_)
            req = requests_[kind]
            k += 1
            n += 1
            t0 = time.perf_counter()
            try:
                r = req(c)
                dt_ = time.perf_counter() - t0
                ok = r.status_code == 200 and r.content and b"Traceback" not in r.content
                with lock:
                    res.latencies.append(dt_)
                    res.by_kind.setdefault(kind, []).append(dt_)
                    res.bytes += len(r.content)
                    if not ok:
                        res.errors.append(f"HTTP {r.status_code}: {r.text[:120]!r}")
            except requests.RequestException as e:
                with lock:
                    res.errors.append(f"{type(e).__name__}: {e}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res.wall = time.perf_counter() - t0
    return res


def fmt_row(label: str, r: Result, base: Result | None = None, width: int = 46) -> str:
    ratio = ""
    if base is not None and base.latencies:
        ratio = f"{r.pct(95) / base.pct(95):10.1f}"
    return (f"{label:{width}s}{len(r.latencies):6d}{len(r.errors):5d}{r.pct(50):9.0f}"
            f"{r.pct(95):9.0f}{ratio}")


def header(width: int = 46, ratio: str = "p95 x base") -> str:
    return f"{'':{width}s}{'n':>6s}{'err':>5s}{'p50 ms':>9s}{'p95 ms':>9s}{ratio:>10s}"


def dumps(obj) -> bytes:
    import plotly.io as pio

    return pio.to_json(obj, validate=False).encode() if hasattr(obj, "to_plotly_json") \
        else json.dumps(obj).encode()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        sys.exit(serve_main(sys.argv[2:]))
    print(__doc__)
