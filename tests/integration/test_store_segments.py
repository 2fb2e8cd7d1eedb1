"""Observation segments: what is written is read back exactly, as rows; current and as-of
reads and the latest value agree with a brute-force answer over all revisions; a schema-1
store (one row per revision) is upgraded without losing anything."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, inspect, text

from hydro.store import api, segments
from hydro.store.db import SCHEMA_VERSION, current_version, open_store
from hydro.store.models import IngestRun

T0 = dt.datetime(2024, 3, 1)
STATIONS = ["KZ:19073", "KZ:19071", "RU:ORSK"]
COLUMNS = ["station_id", "variable", "time", "value", "unit", "party", "source", "qc_flags",
           "phenomena", "revision", "received_at", "ingest_run_id"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, config):
    eng = open_store(f"sqlite:///{tmp_path_factory.mktemp('seg') / 's.sqlite'}",
                     config.network)
    yield eng
    eng.dispose()


def _clear(engine):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM observation_segments"))
        conn.execute(text("DELETE FROM observation_series"))
        conn.execute(text("DELETE FROM ingest_runs"))


def _run(conn, received: dt.datetime) -> int:
    return int(conn.execute(insert(IngestRun).values(
        path="test", source="test", format="test", content_hash="", started_at=received,
        outcome="loaded")).inserted_primary_key[0])


@st.composite
def batches(draw):
    """Writes of revisions: each batch (one run) gives some keys a new revision."""
    n_batches = draw(st.integers(1, 4))
    revision: dict[tuple, int] = {}
    out = []
    for b in range(n_batches):
        rows = []
        keys = draw(st.lists(st.tuples(st.sampled_from(STATIONS), st.sampled_from(["KZ", "RU"]),
                                       st.sampled_from(["a", "b"]),
                                       st.integers(0, 30)), min_size=1, max_size=25,
                             unique=True))
        regular = draw(st.booleans())
        for i, (station, party, source, hour) in enumerate(keys):
            if regular:  # evenly spaced within each series: the compact time encoding
                hour = i
            k = (station, party, source, hour)
            revision[k] = revision.get(k, 0) + 1
            rows.append(dict(
                station_id=station, variable="stage", time=T0 + dt.timedelta(hours=hour),
                value=draw(st.one_of(st.just(float("nan")), st.floats(-1e6, 1e6))),
                unit="cm", party=party, source=source,
                qc_flags=draw(st.sampled_from([0, 1, 2, 129, 40000])),
                phenomena=draw(st.sampled_from([None, "ice_cover", "ice_jam"])),
                revision=revision[k]))
        out.append((T0 + dt.timedelta(days=b + 1), pd.DataFrame(rows).drop_duplicates(
            ["station_id", "party", "source", "time"], keep="last")))
    return out


def _expected(written: list[pd.DataFrame]) -> pd.DataFrame:
    df = pd.concat(written, ignore_index=True)
    return df.sort_values(["station_id", "variable", "party", "source", "time", "revision"]
                          ).reset_index(drop=True)


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    df = df[COLUMNS].copy()
    df["phenomena"] = df["phenomena"].astype(object).where(df["phenomena"].notna(), None)
    df["ingest_run_id"] = df["ingest_run_id"].astype("Int64")
    df["time"] = df["time"].astype("datetime64[ns]")
    df["received_at"] = df["received_at"].astype("datetime64[ns]")
    return df.reset_index(drop=True)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches())
def test_written_revisions_read_back_exactly_and_current_is_the_highest(engine, batches):
    _clear(engine)
    written = []
    with engine.begin() as conn:
        for received, rows in batches:
            run = _run(conn, received)
            segments.write(conn, rows, received, run)
            written.append(rows.assign(received_at=received, ingest_run_id=run))
    everything = _expected(written)
    got = api.observations(engine, revisions="all")
    pd.testing.assert_frame_equal(_norm(got), _norm(everything))
    assert api.observation_count(engine) == len(everything)

    # current: the highest revision of each key, and as known at each time of receipt
    key = ["station_id", "variable", "party", "source", "time"]
    for as_of in [None, *[r for r, _ in batches]]:
        known = everything if as_of is None else everything[everything["received_at"] <= as_of]
        want = known.sort_values([*key, "revision"]).drop_duplicates(key, keep="last")
        got = api.observations(engine, as_of=as_of)
        pd.testing.assert_frame_equal(_norm(got), _norm(want))

    # the latest current value of every (station, variable, party), at several times
    for at in [None, T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=17)]:
        cur = everything.sort_values([*key, "revision"]).drop_duplicates(key, keep="last")
        if at is not None:
            cur = cur[cur["time"] <= at]
        want = (cur.sort_values(["station_id", "variable", "party", "time", "revision",
                                 "source"])
                .drop_duplicates(["station_id", "variable", "party"], keep="last"))
        got = api.latest(engine, at=at)
        cols = ["station_id", "variable", "party", "time", "value", "source", "revision"]
        pd.testing.assert_frame_equal(
            got[cols].reset_index(drop=True).astype({"time": "datetime64[ns]"}),
            want[cols].reset_index(drop=True).astype({"time": "datetime64[ns]"}),
            check_dtype=False)


def test_a_time_window_cuts_inside_segments(engine):
    _clear(engine)
    times = pd.date_range("2024-01-01", periods=48, freq="h")
    rows = pd.DataFrame(dict(station_id="KZ:19071", variable="stage", time=times,
                             value=np.arange(48.0), unit="cm", party="KZ", source="k",
                             qc_flags=0, phenomena=None, revision=1))
    with engine.begin() as conn:
        segments.write(conn, rows, T0, _run(conn, T0))
    s = api.series(engine, "KZ:19071", "stage", start=times[10].to_pydatetime(),
                   end=times[12].to_pydatetime())
    assert s["value"].tolist() == [10.0, 11.0, 12.0]
    assert api.data_period(engine) == (times[0].to_pydatetime(), times[-1].to_pydatetime())


def test_a_series_keeps_its_unit(engine):
    _clear(engine)
    rows = pd.DataFrame([dict(station_id="KZ:19071", variable="stage", time=T0, value=1.0,
                              unit="cm", party="KZ", source="k", qc_flags=0, phenomena=None,
                              revision=1)])
    with engine.begin() as conn:
        segments.write(conn, rows, T0, None)
    with pytest.raises(ValueError, match="stored in 'cm', not 'm'"), engine.begin() as conn:
        segments.write(conn, rows.assign(unit="m", revision=2), T0, None)


# --------------------------------------------------------------------------- upgrade

V1_OBSERVATIONS = """
CREATE TABLE observations (
    id INTEGER NOT NULL PRIMARY KEY, station_id VARCHAR(64) NOT NULL REFERENCES stations (id),
    variable VARCHAR(16) NOT NULL, time DATETIME NOT NULL, value FLOAT,
    unit VARCHAR(16) NOT NULL, party VARCHAR(2) NOT NULL, source VARCHAR(64) NOT NULL,
    qc_flags INTEGER NOT NULL, phenomena VARCHAR(32), revision INTEGER NOT NULL,
    received_at DATETIME NOT NULL, ingest_run_id INTEGER REFERENCES ingest_runs (id),
    CONSTRAINT uq_observation_revision UNIQUE (station_id, variable, time, party, source,
                                               revision))
"""


def test_schema_1_store_is_upgraded_to_segments_with_every_revision(tmp_path, config):
    """A store written by hydrorisk before segments (schema 1: a row per revision)."""
    url = f"sqlite:///{tmp_path / 'v1.sqlite'}"
    eng = open_store(url, config.network)
    rows = []
    for i in range(30):
        rows.append(dict(station_id="KZ:19071", variable="stage",
                         time=f"2024-04-0{1 + i // 10} 0{i % 10}:00:00.000000", value=100.0 + i,
                         unit="cm", party="KZ", source="kazhydromet", qc_flags=i % 3,
                         phenomena="ice_cover" if i < 5 else None, revision=1,
                         received_at="2024-04-05 08:00:00.000000", ingest_run_id=1))
    rows.append(dict(rows[3], value=150.0, revision=2, qc_flags=0,
                     received_at="2024-04-06 08:00:00.000000", ingest_run_id=2))
    rows.append(dict(rows[4], station_id="RU:ORSK", party="RU", source="roshydromet",
                     value=None, ingest_run_id=None))
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE observation_segments"))
        conn.execute(text("DROP TABLE observation_series"))
        conn.execute(text(V1_OBSERVATIONS))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version VALUES (1, '2025-01-01 00:00:00')"))
        for run in (1, 2):
            conn.execute(text(
                "INSERT INTO ingest_runs (id, path, content_hash, started_at, outcome, "
                "rows_read, rows_written, flags_raised) VALUES (:i, 'f', '', "
                "'2024-04-05 08:00:00', 'loaded', 0, 0, 0)"), {"i": run})
        conn.execute(text(
            "INSERT INTO observations (station_id, variable, time, value, unit, party, "
            "source, qc_flags, phenomena, revision, received_at, ingest_run_id) VALUES "
            "(:station_id, :variable, :time, :value, :unit, :party, :source, :qc_flags, "
            ":phenomena, :revision, :received_at, :ingest_run_id)"), rows)
    eng.dispose()
    assert current_version(open_store.__globals__["make_engine"](url)) == 1

    eng = open_store(url, config.network)          # upgrades
    assert current_version(eng) == SCHEMA_VERSION >= 2
    assert not inspect(eng).has_table("observations")
    got = api.observations(eng, revisions="all")
    want = pd.DataFrame(rows)
    for c in ("time", "received_at"):
        want[c] = pd.to_datetime(want[c])
    want["value"] = want["value"].astype(float)
    want["ingest_run_id"] = want["ingest_run_id"].astype("Int64")
    want = want.sort_values(["station_id", "variable", "party", "source", "time", "revision"])
    pd.testing.assert_frame_equal(_norm(got), _norm(want))
    # the correction is the current value; as of the first receipt, the original
    s = api.series(eng, "KZ:19071", "stage")
    assert s.loc[s["time"] == pd.Timestamp("2024-04-01 03:00"), "value"].item() == 150.0
    s = api.series(eng, "KZ:19071", "stage", as_of=dt.datetime(2024, 4, 5, 12))
    assert s.loc[s["time"] == pd.Timestamp("2024-04-01 03:00"), "value"].item() == 103.0
    eng.dispose()
