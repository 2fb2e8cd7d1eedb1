"""The hydrorisk command line as a user meets it."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT


def run(*args, env=None, cwd=ROOT):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "hydro.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=full, timeout=300)


def test_help_for_every_command():
    for cmd in ("init", "ingest", "serve", "worker", "demo", "check-config", "generate-demo-data"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and "usage: hydrorisk " + cmd in r.stdout


def test_check_config_summarises():
    r = run("check-config")
    assert r.returncode == 0, r.stderr
    assert "gauges" in r.stdout and "34" in r.stdout and "reservoirs" in r.stdout
    assert "scenarios      2" in r.stdout and "forcing: synthetic" in r.stdout


def test_check_config_validates_the_scenario_files(config_copy):
    forcing = config_copy / "scenarios" / "_forcing.toml"
    forcing.write_text('[forcing]\nsource = "reanalysis"\n', encoding="utf-8")
    r = run("--config", str(config_copy), "check-config")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "_forcing.toml" in r.stderr and "reanalysis" in r.stderr
    assert "synthetic" in r.stderr  # the error lists the known sources


def test_user_error_is_one_line_without_traceback(config_copy):
    (config_copy / "basins.toml").write_text(
        (config_copy / "basins.toml").read_text(encoding="utf-8").replace(
            'npu = "245.0 m"', "npu = 245.0"), encoding="utf-8")
    r = run("--config", str(config_copy), "check-config")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "basins.toml: reservoirs[id=RU:IRIKLINSK].npu: missing unit" in lines[0]


def test_missing_path_and_unknown_source(tmp_path):
    env = {"HYDRORISK_DB_URL": f"sqlite:///{tmp_path / 's.sqlite'}"}
    r = run("ingest", str(tmp_path / "nope.csv"), env=env)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = run("ingest", "--source", "nosuch", str(ROOT / "data/gauges/quality/ural.csv"), env=env)
    assert r.returncode == 2 and "unknown source 'nosuch'" in r.stderr


def test_init_and_ingest_print_a_summary(tmp_path, config_copy):
    # a copy of the config: the rejected file's quarantine is under the copy, not the repo
    env = {"HYDRORISK_DB_URL": f"sqlite:///{tmp_path / 's.sqlite'}"}
    r = run("--config", str(config_copy), "init", env=env)
    # 58 network nodes and the 4 basins' mean series (BASIN:<id>)
    assert r.returncode == 0 and "stations 62" in r.stdout, r.stdout + r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("site;date;parameter;value;unit\nKZ:19071;2024-01-01;mercuryy;1;mg/l\n")
    r = run("--config", str(config_copy), "ingest",
            str(ROOT / "data/gauges/reservoirs/KZ_SERGEEVKA.csv"), str(bad), env=env)
    assert r.returncode == 1
    assert "quarantined" in r.stdout and "unknown parameter 'mercuryy'" in r.stdout
    head, values = r.stdout.splitlines()[:2]
    assert head.split()[:4] == ["files", "loaded", "unchanged", "quarantined"]
    assert values.split()[:4] == ["2", "1", "0", "1"]


@pytest.mark.slow
def test_demo_serves_dashboard_and_stops_on_ctrl_c(tmp_path):
    """`hydrorisk demo`: init, ingest bundled data, worker + dashboard; SIGINT stops both."""
    import signal
    import time
    import urllib.parse
    import urllib.request

    from browser_support import free_port

    port = free_port()
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}",
               PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "hydro.cli", "demo", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        deadline = time.time() + 240
        status = None
        while time.time() < deadline and status != 200:
            assert proc.poll() is None, proc.stdout.read()
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status
            except OSError:
                time.sleep(1)
        assert status == 200
        # every page needs a login: the login page tells how to log in to the demonstration,
        # and demo/demo works (issue 15)
        import http.cookiejar
        import re

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                             urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            login = resp.read().decode()
            assert resp.url.endswith("/login") and 'id="login-demo"' in login
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"name": "demo", "password": "demo",
                                       "csrf_token": token}).encode()
        with opener.open(f"http://127.0.0.1:{port}/login", data=form, timeout=30) as resp:
            assert resp.status == 200 and not resp.url.endswith("/login")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert "SYNTHETIC" in out and "demo stopped (worker and dashboard)" in out
        assert "log in as 'demo' with the password 'demo'" in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_export_netcdf_qc_check_and_jobs(tmp_path):
    import xarray as xr

    env = {"HYDRORISK_DB_URL": f"sqlite:///{tmp_path / 's.sqlite'}"}
    kz = ROOT / "data/gauges/agency/kazhydromet/ural_2019.csv"
    ru = ROOT / "data/gauges/agency/roshydromet/ural_2019.csv"
    assert run("ingest", str(kz), str(ru), env=env).returncode == 0
    out = tmp_path / "x.nc"
    r = run("export-netcdf", str(out), "--station", "KZ:19073", "--start", "2019-03-01",
            "--end", "2019-03-31", env=env)
    assert r.returncode == 0, r.stderr
    with xr.open_dataset(out) as ds:
        assert ds.attrs["Conventions"].startswith("CF-1.8")
        assert ds.sizes["station"] == 2  # the border post as reported by KZ and by RU
    r = run("export-netcdf", str(out), "--station", "KZ:NOPE", env=env)
    assert r.returncode == 2 and "unknown station 'KZ:NOPE'" in r.stderr
    r = run("qc-check", env=env)
    assert r.returncode == 0 and "values checked" in r.stdout
    r = run("jobs", env=env)
    assert r.returncode == 0 and "no job has run yet" in r.stdout
