"""Read-only commands do not write (issue 15, item 6): ``report``, ``alerts`` (list, show,
verify), ``forecast`` (show, skill without ``--write``, external ``--no-write``) and
``outlook`` (show, issue without ``--write``) open the store read-only, so they answer while
another process holds the SQLite write lock, and leave the store's files untouched.

A command that tried to write would wait for the lock (busy timeout 30 s) and then fail with
"database is locked"; each group below must finish well within that, with exit status 0.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, short_busy_timeout

from hydro.cli import main

DATA = ROOT / "data" / "gauges"
CONFIG = str(ROOT / "config")
RECEIVED = dt.datetime(2024, 1, 1)
URAL = ["KZ_19073", "KZ_19198", "KZ_19071", "KZ_19072"]


@pytest.fixture(scope="module")
def db(tmp_path_factory, config) -> Iterator[Path]:
    """A store with the Ural's discharge, the Iriklinsk reservoir, evaluated alerts, one
    stored forecast and one stored outlook (each written by its own command)."""
    from hydro.services.ingest import ingest_files
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("readonly")
    path = tmp / "store.sqlite"
    engine = open_store(f"sqlite:///{path}", config.network)
    files = [DATA / "predictors" / "basin_means.nc",
             *(DATA / "grdc" / f"{n}_Q_Day.Cmd.txt" for n in URAL),
             *sorted((DATA / "agency" / "kazhydromet").glob("ural_*.csv")),
             DATA / "reservoirs" / "RU_IRIKLINSK.csv"]
    for r in ingest_files(engine, config, files, received_at=RECEIVED,
                          quarantine_dir=tmp / "q"):
        assert r.outcome == "loaded", r.message
    engine.dispose()
    old = os.environ.get("HYDRORISK_DB_URL")
    os.environ["HYDRORISK_DB_URL"] = f"sqlite:///{path}"
    try:
        for cmd in (["alerts", "evaluate", "--as-of", "2024-04-20"],
                    ["forecast", "run", "--station", "KZ:19071", "--method", "persistence",
                     "--issue-time", "2024-04-10T06:00", "--horizon", "3"],
                    ["outlook", "issue", "--date", "2024-03-01", "--station", "KZ:19071",
                     "--write"]):
            assert main(["--config", CONFIG, *cmd]) == 0, cmd
        yield path
    finally:
        if old is None:
            os.environ.pop("HYDRORISK_DB_URL", None)
        else:
            os.environ["HYDRORISK_DB_URL"] = old


def _files(path: Path) -> dict[str, tuple[int, int] | None]:
    """(size, mtime) of the store and its WAL and shared-memory files."""
    out: dict[str, tuple[int, int] | None] = {}
    for suffix in ("", "-wal"):
        f = Path(str(path) + suffix)
        out[suffix] = (f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else None
    return out


def _under_write_lock(db: Path, capsys, commands: list[list[str]]) -> list[str]:
    """Run each command while another connection holds the write lock; each must exit 0
    in well under the 30 s busy timeout, and the store's files must not change."""
    capsys.readouterr()
    lock = sqlite3.connect(db, timeout=0.1)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("UPDATE stations SET name_en = name_en")
    outs = []
    try:
        before = _files(db)
        for cmd in commands:
            t0 = time.monotonic()
            code = main(["--config", CONFIG, *cmd])
            out, err = capsys.readouterr()
            assert code == 0, (cmd, err)
            assert time.monotonic() - t0 < 20, cmd
            assert "locked" not in err, (cmd, err)
            outs.append(out)
        assert _files(db) == before
    finally:
        lock.rollback()
        lock.close()
    return outs


def test_report_commands_only_read(db, capsys, tmp_path):
    outs = _under_write_lock(db, capsys, [
        ["report", "border", "--basin", "ural"],
        ["report", "reservoir", "RU:IRIKLINSK"],
        ["report", "return-levels", "KZ:19071"],
        ["report", "exchange"],
        ["report", "bulletin", "--date", "2024-04-10", "--lang", "en"],
        ["report", "commission", "--month", "2024-04", "--format", "xlsx",
         "--out", str(tmp_path / "c.xlsx")],
    ])
    assert "Volume crossing each border" in outs[0]
    assert "KZ:19071" in outs[4] or "19071" in outs[4]
    assert (tmp_path / "c.xlsx").stat().st_size > 0


def test_alerts_read_commands_only_read(db, capsys):
    outs = _under_write_lock(db, capsys, [
        ["alerts", "list", "--which", "all"],
        ["alerts", "show", "1"],
        ["alerts", "verify", "--start", "2024-03-01", "--end", "2024-05-31"],
    ])
    assert "#1" in outs[1] or "1" in outs[1].splitlines()[0]


def test_alerts_evaluate_still_writes(db, capsys, monkeypatch):
    """The commands that change the store are not opened read-only: under the lock an
    evaluation fails on the lock (after a busy timeout shortened to 0.2 s), naming it."""
    short_busy_timeout(monkeypatch, 200)
    capsys.readouterr()
    lock = sqlite3.connect(db, timeout=0.1)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("UPDATE stations SET name_en = name_en")
    try:
        code = main(["--config", CONFIG, "alerts", "evaluate", "--as-of", "2024-04-21"])
        _, err = capsys.readouterr()
        assert code != 0 and "locked" in err, err
    finally:
        lock.rollback()
        lock.close()


def test_forecast_read_commands_only_read(db, capsys):
    outs = _under_write_lock(db, capsys, [
        ["forecast", "show", "KZ:19071"],
        ["forecast", "skill", "--start", "2024-04-01", "--end", "2024-04-15",
         "--station", "KZ:19071", "--method", "persistence", "--horizon", "2"],
        ["forecast", "external", str(DATA / "external" /
                                     "glofas_like_forecast_2024-04-05_SYNTHETIC.nc"),
         "--reforecast", str(DATA / "external" / "glofas_like_reforecast_SYNTHETIC.nc"),
         "--station", "KZ:19071", "--no-write"],
    ])
    assert "Issued for 2024-04-10" in outs[0]
    assert "Skill of the daily discharge forecasts" in outs[1]
    assert "not stored (--no-write)" in outs[2]


def test_outlook_read_commands_only_read(db, capsys):
    outs = _under_write_lock(db, capsys, [
        ["outlook", "show"],
        ["outlook", "issue", "--date", "2024-03-01", "--station", "KZ:19071"],
    ])
    assert "KZ:19071" in outs[0] or "Uralsk" in outs[0]
    assert "Stored" not in outs[1]
