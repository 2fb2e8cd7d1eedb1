"""Ingest robustness: a killed ingest leaves no partial file and a re-run completes; the
order and repetition of overlapping files does not change the store; the fast reading path
and the exact line-by-line path agree; broken files are refused with file, line and column.

"The same store" (the property test below): for every key (station, variable, time, party,
source) the current revision has the same value, phenomena and QC flags; no key has two
consecutive revisions with the same (value, phenomena, flags); revisions of a key are
numbered 1..n; and a full store-level QC check afterwards changes nothing.  This holds for
files that agree where they overlap.  Files of one source that *disagree* are corrections:
the last ingested wins and the earlier value stays as a revision, so order matters there
by design.
"""

import datetime as dt
import os
import re
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from upload_support import HEADER_KZ, kz_hourly_file

from hydro.store import api

DATA = ROOT / "data" / "gauges"
HEADER_RU = "Индекс поста;Название поста;Дата;Время;Уровень, см над нулём поста;Явления\r\n"


def _kz_codes(config):
    return [g.post_code for g in config.network.gauges.values()
            if g.country == "KZ" and g.post_code]


# --------------------------------------------------------------------------- SIGKILL

CHILD = r"""
import sys
import time
import hydro.services.ingest as ing
real = ing._insert_observations

def spy(conn, rows, received_at, run_id):
    # write the first half of the file's values, say so, and wait to be killed before
    # writing the rest: the transaction is open with part of the file in it
    half = len(rows) // 2
    real(conn, rows.iloc[:half], received_at, run_id)
    print(f"INSERTED {half}", flush=True)
    time.sleep(0 if half < 20_000 else 120)
    real(conn, rows.iloc[half:], received_at, run_id)

ing._insert_observations = spy
from hydro.config import load_config
from hydro.store.db import open_store
config = load_config(sys.argv[1])
if sys.argv[2] == "worker":
    from hydro.worker import poll_inbox
    poll_inbox(sys.argv[1], "kazhydromet")
else:
    engine = open_store(config.store_url, config.network)
    ing.ingest_file(engine, config, sys.argv[3], source_id="kazhydromet")
print("DONE", flush=True)
"""


def _wait_for_line(proc, pattern, timeout):
    end = time.time() + timeout
    buf = ""
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if not r:
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        buf += line
        m = re.match(pattern, line)
        if m:
            return m
    raise AssertionError(f"child never printed {pattern!r}; output:\n{buf}\n"
                         f"{proc.stderr.read() if proc.poll() is not None else ''}")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ingest", "worker"])
def test_sigkill_mid_file_leaves_no_partial_file_and_a_rerun_completes(config_copy, tmp_path,
                                                                       monkeypatch, how):
    from hydro.config import load_config
    from hydro.services.ingest import ingest_file
    from hydro.store import api
    from hydro.store.db import open_store
    from hydro.worker import poll_inbox

    url = f"sqlite:///{tmp_path / 'kill.sqlite'}"
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    config = load_config(config_copy)
    engine = open_store(url, config.network)
    first = ingest_file(engine, config, DATA / "agency" / "kazhydromet" / "ural_2024.csv",
                        quarantine_dir=tmp_path / "q")
    before = api.observation_count(engine)
    assert first.outcome == "loaded" and before == first.rows_written
    engine.dispose()

    if how == "worker":
        inbox = config_copy.parent / "data/inbox/kazhydromet"
        inbox.mkdir(parents=True)
        big = inbox / "big.csv"
    else:
        big = tmp_path / "big.csv"
    n = kz_hourly_file(big, _kz_codes(config), 2022)  # far from the stored 2024 data
    assert n > 150_000
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(config_copy), how, str(big)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    try:
        m = _wait_for_line(proc, r"INSERTED (\d+)", timeout=120)
        while int(m.group(1)) < 20_000:  # the big file, half of it written
            m = _wait_for_line(proc, r"INSERTED (\d+)", timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    engine = open_store(url, config.network)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert api.observation_count(engine) == before          # nothing of the killed file
    runs = api.ingest_runs(engine)
    assert len(runs) == 1 and not runs["path"].str.contains("big").any()

    if how == "worker":
        claimed = list((inbox / ".processing").iterdir())
        assert [p.name.rsplit("_", 1)[-1] for p in claimed] == ["big.csv"]
        results = poll_inbox(str(config_copy), "kazhydromet")  # recovers the dead claim
        assert [r.outcome for r in results] == ["loaded"]
        r = results[0]
    else:
        r = ingest_file(engine, config, big, source_id="kazhydromet",
                        quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded" and r.rows_read == r.rows_written == n
    assert api.observation_count(engine) == before + n
    engine.dispose()


# --------------------------------------------------------------------------- property

@pytest.fixture(scope="module")
def strict_config(tmp_path_factory):
    """The project config with tight QC limits, so random files raise many flags."""
    import shutil

    from hydro.config import load_config

    root = tmp_path_factory.mktemp("qcproj")
    shutil.copytree(ROOT / "config", root / "config")
    with open(root / "config" / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[qc.defaults.stage]\nmax_change_per_day = "100 cm"\nflat_for = "3 d"\n')
    return load_config(root / "config")


N_DAYS = 24
STATION = "KZ:19073"  # Yanvartsevo: a border post both parties report


@st.composite
def scenarios(draw):
    steps = draw(st.lists(st.sampled_from([-2, -1, 0, 0, 0, 0, 1, 2, 250, -250]),
                          min_size=N_DAYS, max_size=N_DAYS))
    kz = (300 + np.cumsum(steps)).tolist()
    offset = draw(st.lists(st.sampled_from([0, 0, 1, -2, 12]), min_size=N_DAYS,
                           max_size=N_DAYS))
    ru = [a + b for a, b in zip(kz, offset, strict=True)]
    ice = draw(st.lists(st.booleans(), min_size=N_DAYS, max_size=N_DAYS))
    files = []
    for _ in range(draw(st.integers(2, 5))):
        party = draw(st.sampled_from(["KZ", "RU"]))
        start = draw(st.integers(0, N_DAYS - 1))
        length = draw(st.integers(1, N_DAYS - start))
        keep = draw(st.lists(st.booleans(), min_size=length, max_size=length))
        days = [start + i for i in range(length) if keep[i]] or [start]
        files.append((party, days))
    order = draw(st.permutations(list(range(len(files)))))
    extra = draw(st.lists(st.integers(0, len(files) - 1), max_size=len(files)))
    return kz, ru, ice, files, list(order) + extra


def _write(tmp, k, copy, party, days, kz, ru, ice):
    d0 = dt.date(2024, 3, 1)
    if party == "KZ":
        head, rows = HEADER_KZ, [
            f"19073;пост;{d0 + dt.timedelta(days=i):%d.%m.%Y};08:00;{kz[i]};;;"
            f"{'ледостав' if ice[i] else ''}\r\n" for i in days]
        enc = "cp1251"
    else:
        head, rows = HEADER_RU, [
            f"19073;пост;{d0 + dt.timedelta(days=i):%Y-%m-%d};08:00;{ru[i]};"
            f"{'ледостав' if ice[i] else ''}\r\n" for i in days]
        enc = "utf-8"
    p = tmp / f"f{k}_{copy}.csv"
    p.write_bytes((f"# copy {copy}\r\n" + head + "".join(rows)).encode(enc))
    return p


def _state(engine):
    df = api.observations(engine, revisions="all")[
        ["station_id", "variable", "time", "party", "source", "revision", "value",
         "phenomena", "qc_flags"]]
    df["phenomena"] = df["phenomena"].fillna("")
    return df.sort_values(["station_id", "variable", "time", "party", "source", "revision"])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(scenarios())
def test_overlapping_files_in_any_order_any_number_of_times_give_the_same_store(
        strict_config, tmp_path_factory, scenario):
    from hydro.services.ingest import check_store, ingest_file
    from hydro.store.db import open_store

    kz, ru, ice, files, order = scenario
    tmp = tmp_path_factory.mktemp("prop")
    source = {"KZ": "kazhydromet", "RU": "roshydromet"}

    def run(sequence):
        engine = open_store("sqlite:///:memory:", strict_config.network)
        seen: dict[int, int] = {}
        for k in sequence:
            seen[k] = seen.get(k, 0) + 1
            party, days = files[k]
            p = _write(tmp, k, seen[k], party, days, kz, ru, ice)
            r = ingest_file(engine, strict_config, p, source_id=source[party],
                            quarantine_dir=tmp / "q")
            assert r.outcome in ("loaded", "unchanged"), r.message
        return engine

    reference = run(range(len(files)))
    shuffled = run(order)
    ref, got = _state(reference), _state(shuffled)
    key = ["station_id", "variable", "time", "party", "source"]
    current = lambda df: (df.drop_duplicates(key, keep="last")  # noqa: E731
                          .drop(columns="revision").reset_index(drop=True))
    pd.testing.assert_frame_equal(current(ref), current(got))
    for df in (ref, got):
        g = df.groupby(key, sort=False)
        assert (g["revision"].transform(lambda r: list(range(1, len(r) + 1)) == list(r))).all()
        prev = g[["value", "phenomena", "qc_flags"]].shift()
        same = ((df["value"] == prev["value"]) & (df["phenomena"] == prev["phenomena"])
                & (df["qc_flags"] == prev["qc_flags"]))
        assert not same.any(), df[same]
    assert check_store(shuffled, strict_config).revisions_written == 0
    reference.dispose()
    shuffled.dispose()


# --------------------------------------------------------------------------- reading paths

@pytest.mark.parametrize("name", ["kazhydromet/ural_2024.csv", "kazhydromet-kk/irtysh_2019.csv",
                                  "roshydromet/ishim_2016.csv"])
def test_fast_and_exact_reading_paths_agree(config, monkeypatch, name):
    from hydro.readers import read_file

    fast = read_file(DATA / "agency" / name, config).observations
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)  # no pyarrow: the exact path
    exact = read_file(DATA / "agency" / name, config).observations
    pd.testing.assert_frame_equal(fast, exact, check_dtype=False)


def test_blank_lines_keep_line_numbers_right(config, tmp_path):
    """A blank line sends the file down the exact path: later errors still name the
    right line."""
    from hydro.errors import IngestError
    from hydro.readers import read_file

    text = (DATA / "agency" / "kazhydromet" / "ural_2024.csv").read_bytes().decode("cp1251")
    lines = text.splitlines()
    lines.insert(10, "")
    lines[20] = lines[20].replace(";08:00;", ";08:00;x")
    p = tmp_path / "blank.csv"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    with pytest.raises(IngestError, match=r"line 21, column 'Уровень воды, см': 'x\d+' is "
                                          r"not a number"):
        read_file(p, config, source_id="kazhydromet")


def test_truncated_large_file_names_the_cut_line(config, tmp_path):
    from hydro.errors import IngestError
    from hydro.readers import read_file

    big = tmp_path / "big.csv"
    kz_hourly_file(big, _kz_codes(config)[:5], 2023)
    data = big.read_bytes()
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b";") - 3]  # in the middle of a line
    big.write_bytes(cut)
    n_lines = cut.count(b"\n") + 1
    with pytest.raises(IngestError, match=rf"big\.csv, line {n_lines}: expected 8 fields"):
        read_file(big, config, source_id="kazhydromet")


def test_hourly_readings_through_a_clock_change_keep_both_repeated_hours(config, tmp_path):
    """Yekaterinburg moved its clocks back at 02:00 on 26 October 2014: an hourly logger
    writes 01:00 twice.  Both readings are kept, an hour apart in UTC."""
    from hydro.readers import read_file

    clock = ["00:00", "01:00", "01:00", "02:00", "03:00"]
    rows = [f"ORSK;р. Урал – г. Орск;2014-10-26;{c};{300 + i};\r\n" for i, c in enumerate(clock)]
    p = tmp_path / "orsk.csv"
    p.write_bytes((HEADER_RU + "".join(rows)).encode("utf-8"))
    obs = read_file(p, config, source_id="roshydromet").observations
    utc = obs["time"].dt.strftime("%H:%M").tolist()
    assert obs["value"].tolist() == [300, 301, 302, 303, 304]
    assert utc == ["18:00", "19:00", "20:00", "21:00", "22:00"]  # 25 Oct UTC, monotone


BROKEN_MORE = {
    "decimal comma in a decimal-point layout": (
        "reservoirs", "station;date;level_m;volume_hm3;inflow_m3s;outflow_m3s\n"
        "KZ:SERGEEVKA;2024-04-01;119,2;600.0;10.0;10.0\n", "utf-8",
        r"line 2, column 'level_m': '119,2' uses a decimal comma but this layout writes a "
        r"decimal point"),
    "header but no data": ("kazhydromet", HEADER_KZ, "cp1251",
                           r"no data lines after the header \(truncated file\?\)"),
    "cp1251 bytes in a UTF-8-only layout": (  # Kazakh letters are not in cp1251
        "kazhydromet-kk", "Бекет коды;Дата;Уровень\r\n11003;01.04.2024;400\r\n", "cp1251",
        r"cannot decode the file as utf-8-sig \(wrong encoding\?\)"),
    "an impossible clock time at one of several posts": (
        "kazhydromet", HEADER_KZ
        + "19071;п;01.04.2024;08:00;400;;;\r\n19073;п;01.04.2024;08:00;300;;;\r\n"
        + "19071;п;02.04.2024;08:00;401;;;\r\n19073;п;31.03.2024;24:30;301;;;\r\n",
        "cp1251", r"line 5, column 'Срок': '24:30' is not a time of day hh:mm"),
    "station code of another network": (
        "roshydromet", HEADER_RU + "ORSKK;р. Урал;2024-04-01;08:00;400;\r\n", "utf-8",
        r"line 2, column 'Индекс поста': unknown station 'ORSKK'"),
}


@pytest.mark.parametrize("case", list(BROKEN_MORE), ids=list(BROKEN_MORE))
def test_more_broken_files_are_rejected_and_the_store_untouched(store, config, tmp_path, case):
    from hydro.services.ingest import ingest_file
    from hydro.store import api

    ingest_file(store, config, DATA / "reservoirs" / "KZ_SERGEEVKA.csv",
                quarantine_dir=tmp_path / "q")
    before = api.observation_count(store)
    source, text, enc, message = BROKEN_MORE[case]
    p = tmp_path / "bad.csv"
    p.write_bytes(text.encode(enc))
    r = ingest_file(store, config, p, source_id=source, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected"
    assert re.search(message, r.message), r.message
    assert api.observation_count(store) == before
    assert len(list((tmp_path / "q").glob("*_bad.csv"))) == 1


def test_cr_only_line_ends_read_like_crlf(config, tmp_path):
    from hydro.readers import read_file

    crlf = DATA / "agency" / "kazhydromet" / "tobol_2020.csv"
    cr = tmp_path / "mac.csv"
    cr.write_bytes(crlf.read_bytes().replace(b"\r\n", b"\r"))
    a = read_file(crlf, config).observations
    b = read_file(cr, config, source_id="kazhydromet").observations
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
