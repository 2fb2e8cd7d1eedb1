"""Fuzzing every reader (issue 15, item 8).

Two properties, for the agency tables (three layouts), GRDC, reservoir operations, water
quality and CF-NetCDF:

* **nothing but the documented error escapes**: a file made from a valid one by breaking a
  field (with the values the attack used: inf, 1e309, 25:00, 01.04.3024 ...), cutting it,
  dropping, repeating or swapping lines or inserting bytes is either read -- and then holds
  only finite values at plausible times -- or refused with an
  :class:`~hydro.errors.IngestError` (a :class:`~hydro.errors.HydroriskError`);
* **round trip**: a file written from random values is read back with exactly those values
  at exactly those times (local time converted to UTC by the IANA zone, checked here with
  :mod:`zoneinfo`, not with the reader's own conversion), and -- through a store -- stored
  exactly so.

Bounded: every test has its own ``max_examples`` and ``deadline``; the CI profile
(tests/conftest.py) derandomises them.  The store round trip is marked slow.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.errors import HydroriskError
from hydro.readers import read_file

DATA = ROOT / "data" / "gauges"
FUZZ = settings(max_examples=60, deadline=5000,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
ROUND = settings(max_examples=40, deadline=5000,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])

# what the attack typed into numeric, date and time fields, and more
NASTY = ["inf", "-inf", "nan", "NaN", "Infinity", "1e309", "-1e309", "1e308", "", " ", "0x10",
         "1_000", "١٢٣", "１２３", "12,5", "12.5", "1e-400", "9" * 400, "25:00", "24:30",
         "24:00", "-1:00", "99.99.9999", "01.04.3024", "01.04.1024", "3024-04-01",
         "1024-04-01", "0000-00-00", "2024-02-30", "31.02.2024", '"', "'", ";", "\x00",
         "\ufeff", "\u00a0", "\r", "--:--", "-999", "<", "<inf", "<-1", "ледостав", "NULL"]

LOCAL_START = dt.datetime(2015, 1, 1)         # no clock changes in KZ or RU after 2014 ...
LOCAL_END = dt.datetime(2023, 12, 31)         # ... until Kazakhstan's of 1 March 2024


def _utc(local: dt.datetime, zone: str) -> pd.Timestamp:
    aware = local.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return pd.Timestamp(aware.astimezone(dt.UTC).replace(tzinfo=None))


def _check_outcome(path, config, source):
    """Read; anything but a Batch or a HydroriskError fails.  An accepted file holds only
    finite values at plausible times."""
    from hydro.readers.common import TimeWindow

    try:
        batch = read_file(path, config, source_id=source)
    except HydroriskError:
        return None
    window = TimeWindow.of(config)
    for frame in (batch.observations, batch.quality):
        if len(frame):
            assert np.isfinite(frame["value"].to_numpy(dtype=float)).all()
            t = frame["time"].to_numpy(dtype="datetime64[ns]")
            # local dates are checked; UTC may lie up to a day either side
            assert (t >= window.earliest - np.timedelta64(1, "D")).all()
            assert (t <= window.latest + np.timedelta64(1, "D")).all()
    return batch


# --------------------------------------------------------------------------- generators

@st.composite
def _times(draw, n_max=12, hourly=True):
    """Distinct local times (datetime), unsorted."""
    n = draw(st.integers(1, n_max))
    days = draw(st.lists(st.integers(0, (LOCAL_END - LOCAL_START).days), min_size=n,
                         max_size=n, unique=True))
    out = []
    for d in days:
        hour = draw(st.integers(0, 23)) if hourly else 0
        minute = draw(st.sampled_from([0, 30])) if hourly else 0
        out.append(LOCAL_START + dt.timedelta(days=d, hours=hour, minutes=minute))
    return out


def _number(draw, lo, hi, places):
    return round(draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False)), places)


AGENCY = {  # source -> (header, encoding, date format, decimal, station codes, zone check)
    "kazhydromet": (("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
                     "Расход воды, м3/с;Ледовые явления"), "cp1251", "%d.%m.%Y", ","),
    "kazhydromet-kk": (("Бекет коды;Бекет;Күні;Мерзімі;Су деңгейі, см;Тәулік ішіндегі "
                        "өзгеріс, см;Су шығыны, м3/с;Мұз құбылыстары"), "utf-8", "%d.%m.%Y",
                       ","),
    "roshydromet": ("Индекс поста;Название поста;Дата;Время;Уровень, см над нулём поста;"
                    "Расход, м3/с;Явления", "utf-8", "%Y-%m-%d", ","),
}


def _gauges(config, country):
    return [g for g in config.network.gauges.values()
            if g.country == country and (g.post_code or country == "RU")]


@st.composite
def agency_files(draw, config):
    """(source, file bytes, expected rows: (station id, variable, UTC time, value))."""
    source = draw(st.sampled_from(list(AGENCY)))
    header, enc, fmt, dec = AGENCY[source]
    country = "RU" if source == "roshydromet" else "KZ"
    gauges = draw(st.lists(st.sampled_from(_gauges(config, country)), min_size=1, max_size=3,
                           unique_by=lambda g: g.id))
    lines, want = [header], []
    for g in gauges:
        code = g.id.split(":", 1)[1] if country == "RU" else g.post_code
        for t in sorted(draw(_times())):
            stage = _number(draw, 30, 1500, 1)
            q = draw(st.one_of(st.none(), st.floats(0, 5000, allow_nan=False).map(
                lambda x: round(x, 2))))
            s_text = f"{stage:.1f}".replace(".", dec)
            q_text = "" if q is None else f"{q:.2f}".replace(".", dec)
            if source == "roshydromet":
                cells = [code, "пост", t.strftime(fmt), t.strftime("%H:%M"), s_text, q_text, ""]
            else:
                cells = [code, "пост", t.strftime(fmt), t.strftime("%H:%M"), s_text, "", q_text,
                         ""]
            lines.append(";".join(cells))
            when = _utc(t, g.timezone)
            want.append((g.id, "stage", when, stage))
            if q is not None:
                want.append((g.id, "discharge", when, q))
    text = "\r\n".join(lines) + "\r\n"
    return source, text.encode(enc), want


GRDC_HEAD = (DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt").read_text(encoding="utf-8").split(
    "# Data lines:")[0]


@st.composite
def grdc_files(draw, config):
    zone = config.network.gauges["KZ:19071"].timezone
    days = sorted(draw(_times(n_max=20, hourly=False)))
    values = [draw(st.one_of(st.just(-999.0), st.floats(0, 20000, allow_nan=False).map(
        lambda x: round(x, 3)))) for _ in days]
    body = [f"{t:%Y-%m-%d};--:--;{v:11.3f}" for t, v in zip(days, values, strict=True)]
    text = (GRDC_HEAD + f"# Data lines: {len(body)}\n# DATA\nYYYY-MM-DD;hh:mm; Value\n"
            + "\n".join(body) + "\n")
    want = [("KZ:19071", "discharge", _utc(t, zone), v)
            for t, v in zip(days, values, strict=True) if v != -999.0]
    return "grdc", text.encode("utf-8"), want


RES_COLS = ["level_m", "volume_hm3", "inflow_m3s", "outflow_m3s", "spill_m3s",
            "evaporation_m3s"]
RES_VARS = ["level", "volume", "inflow", "outflow", "spill", "evaporation"]


@st.composite
def reservoir_files(draw, config):
    res = draw(st.sampled_from(sorted(config.network.reservoirs)))
    zone = config.network.reservoirs[res].timezone
    days = sorted(draw(_times(n_max=10, hourly=False)))
    lines, want = ["station;date;" + ";".join(RES_COLS)], []
    for t in days:
        vals = [_number(draw, 50, 500, 3)] + [_number(draw, 0, 50000, 3) for _ in RES_COLS[1:]]
        lines.append(f"{res};{t:%Y-%m-%d};" + ";".join(f"{v:.3f}" for v in vals))
        want += [(res, var, _utc(t, zone), v) for var, v in zip(RES_VARS, vals, strict=True)]
    return "reservoirs", ("\n".join(lines) + "\n").encode("utf-8"), want


@st.composite
def quality_files(draw, config):
    site = draw(st.sampled_from(["KZ:19073", "KZ:19071", "RU:ORSK"]))
    zone = config.network.gauges[site].timezone
    params = sorted(config.quality_parameters)
    lines, want = ["site;date;parameter;value;unit"], []
    for t in sorted(draw(_times(n_max=6, hourly=False))):
        for p in draw(st.lists(st.sampled_from(params), min_size=1, max_size=3, unique=True)):
            v = _number(draw, 0, 1000, 3)
            censored = draw(st.booleans())
            unit = config.quality_parameters[p].unit
            lines.append(f"{site};{t:%Y-%m-%d};{p};{'<' if censored else ''}{v:.3f};{unit}")
            want.append((site, p, _utc(t, zone), v))
    return "quality", ("\n".join(lines) + "\n").encode("utf-8"), want


def _any_text_file(config):
    return st.one_of(agency_files(config), grdc_files(config), reservoir_files(config),
                     quality_files(config))


def _got(batch):
    if len(batch.quality):
        q = batch.quality
        return sorted(zip(q["site_id"], q["parameter"], q["time"], q["value"], strict=True))
    o = batch.observations
    return sorted(zip(o["station_id"].astype(str), o["variable"].astype(str), o["time"],
                      o["value"], strict=True))


def _close(got, want):
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, sorted(want), strict=True):
        assert g[:3] == w[:3], (g, w)
        assert g[3] == pytest.approx(w[3], rel=1e-12, abs=1e-9), (g, w)


# --------------------------------------------------------------------------- round trips

@ROUND
@given(data=st.data())
def test_a_valid_file_reads_back_exactly_the_values_it_holds(config, tmp_path, data):
    source, raw, want = data.draw(_any_text_file(config))
    p = tmp_path / "f.txt"
    p.write_bytes(raw)
    batch = read_file(p, config, source_id=source)
    _close(_got(batch), want)


@ROUND
@given(data=st.data())
def test_a_netcdf_file_reads_back_exactly_the_values_it_holds(config, tmp_path, data):
    from hydro.readers.netcdf import write_netcdf

    gauges = data.draw(st.lists(st.sampled_from(sorted(config.network.gauges)), min_size=1,
                                max_size=3, unique=True))
    rows = []
    for g in gauges:
        for t in data.draw(_times(n_max=8)):
            for var in data.draw(st.lists(st.sampled_from(["stage", "discharge"]), min_size=1,
                                          max_size=2, unique=True)):
                v = _number(data.draw, 0, 1500, 2)
                rows.append({"station_id": g, "variable": var, "time": pd.Timestamp(t),
                             "value": v, "unit": "cm" if var == "stage" else "m3/s",
                             "party": g.split(":")[0], "phenomena": None, "qc_flags": 0})
    obs = pd.DataFrame(rows)
    path = write_netcdf(obs, tmp_path / "f.nc", config)
    batch = read_file(path, config)
    want = list(zip(obs["station_id"], obs["variable"], obs["time"], obs["value"], strict=True))
    _close(_got(batch), want)


# --------------------------------------------------------------------------- mutations

@st.composite
def _mutated(draw, config):
    source, raw, _ = draw(_any_text_file(config))
    enc = "cp1251" if source == "kazhydromet" else "utf-8"
    text = raw.decode(enc)
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "field", "cut", "drop", "repeat",
                                     "swap", "bytes"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "field" and lines:
            cells = lines[i].split(";")
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(st.sampled_from(NASTY) | st.text(max_size=12))
            lines[i] = ";".join(cells)
        elif kind == "cut":
            joined = "\n".join(lines)
            lines = joined[:draw(st.integers(0, len(joined)))].split("\n")
        elif kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "repeat":
            lines.insert(i, lines[i])
        elif kind == "swap" and len(lines) > 1:
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif kind == "bytes":
            lines[i] += draw(st.sampled_from(NASTY))
    try:
        out = "\n".join(lines).encode(enc)
    except UnicodeEncodeError:
        out = "\n".join(lines).encode("utf-8")
    return source, out


@FUZZ
@given(data=st.data())
def test_a_broken_text_file_is_read_or_refused_never_crashes(config, tmp_path, data):
    source, raw = data.draw(_mutated(config))
    p = tmp_path / "f.txt"
    p.write_bytes(raw)
    _check_outcome(p, config, source)       # as the worker reads an inbox (source given)
    _check_outcome(p, config, None)         # as `hydrorisk ingest FILE` does (detected)


@FUZZ
@given(value=st.sampled_from(NASTY + ["1e5", "-0", "+7", ".5", "5."]),
       field=st.sampled_from(["date", "time", "value"]),
       source=st.sampled_from(["kazhydromet", "roshydromet", "grdc", "reservoirs", "quality"]))
def test_one_nasty_field_is_refused_or_read_as_written(config, tmp_path, value, field, source):
    """Each attack value in each kind of field of each format: refused with an IngestError
    naming the line, or read as the number it is."""
    from hydro.errors import IngestError

    templates = {
        "kazhydromet": (AGENCY["kazhydromet"][0] + "\r\n19071;п;{date};{time};{value};;;\r\n",
                        "01.04.2020", "08:00", "cp1251"),
        "roshydromet": (AGENCY["roshydromet"][0] + "\r\nORSK;п;{date};{time};{value};;\r\n",
                        "2020-04-01", "08:00", "utf-8"),
        "grdc": (GRDC_HEAD + "# Data lines: 1\n# DATA\nYYYY-MM-DD;hh:mm; Value\n"
                 "{date};{time};{value}\n", "2020-04-01", "--:--", "utf-8"),
        "reservoirs": ("station;date;level_m;volume_hm3;inflow_m3s;outflow_m3s\n"
                       "KZ:SERGEEVKA;{date};{value};600;10;10\n", "2020-04-01", None, "utf-8"),
        "quality": ("site;date;parameter;value;unit\nKZ:19073;{date};dissolved_oxygen;{value};"
                    "mg/l\n", "2020-04-01", None, "utf-8"),
    }
    text, date, clock, enc = templates[source]
    cells = {"date": date, "time": clock, "value": "400"}
    if field == "time" and clock is None:
        return
    cells[field] = value
    p = tmp_path / "f.txt"
    try:
        p.write_bytes(text.format(**cells).encode(enc))
    except UnicodeEncodeError:
        return
    try:
        batch = read_file(p, config, source_id=source)
    except IngestError as e:
        assert e.line is not None or e.column is not None, str(e)
        return
    frame = batch.quality if len(batch.quality) else batch.observations
    text_value = value.strip().lstrip("<").strip().replace(",", ".")
    if field == "value" and len(frame) and text_value:
        assert frame["value"].iloc[0] == pytest.approx(float(text_value)), value
        assert np.isfinite(frame["value"]).all()


@settings(max_examples=25, deadline=10000,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), flip=st.integers(0, 10_000))
def test_a_truncated_or_damaged_netcdf_is_refused_never_crashes(config, tmp_path, cut, flip):
    from hydro.readers.netcdf import write_netcdf

    obs = read_file(DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt", config).observations.head(30)
    raw = write_netcdf(obs, tmp_path / "ok.nc", config).read_bytes()
    damaged = raw[:cut % max(len(raw), 1)]
    p = tmp_path / "bad.nc"
    p.write_bytes(damaged)
    _check_outcome(p, config, "exchange-nc")
    if len(raw) > 2000:   # a byte flipped in the data, past the header: read or refused
        b = bytearray(raw)
        at = 1500 + flip % (len(raw) - 1500)
        b[at] ^= 0xFF
        p.write_bytes(bytes(b))
        _check_outcome(p, config, "exchange-nc")


# --------------------------------------------------------------------------- store

@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_an_accepted_file_is_stored_with_exactly_its_values(config, tmp_path_factory, data):
    from hydro.services.ingest import ingest_file
    from hydro.store import api
    from hydro.store.db import open_store

    source, raw, want = data.draw(st.one_of(agency_files(config), grdc_files(config),
                                            reservoir_files(config)))
    folder = tmp_path_factory.mktemp("round")
    engine = open_store(f"sqlite:///{folder / 's.sqlite'}", config.network)
    try:
        p = folder / "f.txt"
        p.write_bytes(raw)
        r = ingest_file(engine, config, p, source_id=source, quarantine_dir=folder / "q")
        assert r.outcome == ("loaded" if want else "unchanged"), r.message
        obs = api.observations(engine)
        got = sorted(zip(obs["station_id"], obs["variable"], obs["time"], obs["value"],
                         strict=True))
        _close(got, want)
        assert set(obs["source"]) <= {source}
    finally:
        engine.dispose()
