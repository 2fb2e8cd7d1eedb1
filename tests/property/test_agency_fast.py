"""The fast agency-table reading path against the exact line-by-line path.

The fast path (hydro.readers.agency._rows_fast) reads the raw cp1251/UTF-8 bytes with
pyarrow and converts each distinct text once; on anything irregular it hands the file to the
exact path.  Every file the fast path takes -- the bundled tables, large hourly tables like
the ingest benchmark's, and odd variants of them -- must give the same observations (same
columns, dtypes, order and bits) or the same error message as the exact line-by-line path
(forced by hiding pyarrow.csv, as in test_ingest_robustness.py).  Each comparison first
checks that the fast path did take the file (hydro.readers.agency.read_fast is not None):
it declines silently, and a declined file would only compare the exact path with itself.
The files it must decline are listed as such, and the tests check that it declines them.

The time-zone conversion (hydro.readers.common.local_to_utc) and the frame assembly are
shared by both paths, so they are also checked against straightforward reference versions
of themselves.
"""

import re
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hydro.errors import IngestError
from hydro.readers import agency, read_file
from hydro.readers.common import StationResolver, local_to_utc, order_series

AGENCY = ROOT / "data" / "gauges" / "agency"
BANNER = "# SYNTHETIC TEST DATA (tests/test_agency_fast.py); NOT measurements.\r\n" * 2
HEADER_KZ = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
             "Расход воды, м3/с;Ледовые явления")
HEADER_RU = "Индекс поста;Название поста;Дата;Время;Уровень, см над нулём поста;Явления"


# --------------------------------------------------------------------------- helpers

def _outcome(path, config, source, data):
    """The observations, or the error message."""
    try:
        return read_file(path, config, source_id=source, data=data).observations
    except IngestError as e:
        return f"IngestError: {e}"


def _fast_outcome(path, config, source, data):
    """The observations by the fast path alone, its error message, or None when it
    declines the file."""
    src = config.source(source)
    try:
        batch = agency.read_fast(path, data, config, config.layout(src.layout), party=src.party)
    except IngestError as e:
        return f"IngestError: {e}"
    return None if batch is None else batch.observations


def _exact_outcome(path, config, source, data, monkeypatch):
    """The outcome through read_file with pyarrow hidden: the exact line-by-line path."""
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "pyarrow.csv", None)  # no pyarrow: the exact path
        assert _fast_outcome(path, config, source, data) is None
        return _outcome(path, config, source, data)


def _both(path, config, source, data, monkeypatch):
    """(outcome of the fast path, which must take the file; outcome of the exact
    line-by-line path)."""
    fast = _fast_outcome(path, config, source, data)
    assert fast is not None, "the fast path declined the file"
    return fast, _exact_outcome(path, config, source, data, monkeypatch)


def _assert_identical(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    pd.testing.assert_frame_equal(a, b, check_dtype=True, check_exact=True)
    assert isinstance(a.index, pd.RangeIndex) and isinstance(b.index, pd.RangeIndex)
    for c in a.columns:
        if isinstance(a[c].dtype, pd.CategoricalDtype):  # the string columns
            assert a[c].dtype == b[c].dtype, c           # same categories, same order
            assert np.array_equal(a[c].cat.codes, b[c].cat.codes), c
            assert all(type(x) is str for x in a[c].cat.categories), c
            continue
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind in "fMi":  # the same bits, not only equal values
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), c
        else:
            assert x.dtype == object and y.dtype == object, c
            assert all(type(p) is type(q) and p == q for p, q in zip(x, y, strict=True)), c


def _same_both_ways(tmp_path, config, source, data, monkeypatch, name="t.csv"):
    p = tmp_path / name
    p.write_bytes(data)
    fast, exact = _both(p, config, source, data, monkeypatch)
    _assert_identical(fast, exact)
    return fast


def _kz_posts(config):
    return [(g.post_code, g.timezone) for g in config.network.gauges.values()
            if g.country == "KZ" and g.post_code]


def _hourly_kz(config, start="2024-02-20", days=20, stations=None, seed=1, discharge=False):
    """Lines of an hourly Kazhydromet table like bench/ingest.py writes (through the
    1 March 2024 clock change of Asia/Almaty and Asia/Qostanay), header included."""
    rng = np.random.default_rng(seed)
    posts = [c for c, _ in _kz_posts(config)][:stations]
    hours = pd.date_range(start, periods=24 * days, freq="h")
    blocks = []
    for i, code in enumerate(posts):
        stage = np.rint(150 + 50 * i + np.cumsum(rng.normal(0, 1, len(hours)))).astype(int)
        change = np.r_[np.full(24, np.nan), stage[24:] - stage[:-24]]
        blocks.append(pd.DataFrame({
            "code": code, "name": f"р. Урал – пост {code}", "date": hours.strftime("%d.%m.%Y"),
            "clock": hours.strftime("%H:%M"), "stage": stage.astype(str),
            "change": [f"{c:+.0f}" if c == c else "" for c in change],
            "q": [f"{v:.1f}".replace(".", ",") for v in stage / 7] if discharge else "",
            "phen": np.where(hours.month <= 3, "ледостав", "")}))
    frame = pd.concat(blocks).sort_index(kind="stable")
    body = frame.to_csv(sep=";", header=False, index=False, lineterminator="\n")
    return [HEADER_KZ, *body.splitlines()]


def _hourly_ru(days=3):
    """Lines of an hourly Roshydromet table through the clock change of 26 October 2014
    (Yekaterinburg and Omsk); the Orsk logger writes 01:00 twice."""
    lines = [HEADER_RU]
    hours = pd.date_range("2014-10-25", periods=24 * days, freq="h")
    for k, h in enumerate(hours):
        for j, code in enumerate(["ORSK", "OMSK", "ISHIM"]):
            lines.append(f"{code};р. {code.title()};{h:%Y-%m-%d};{h:%H:%M};{300 + k + j};")
            if code == "ORSK" and h == pd.Timestamp("2014-10-26 01:00"):
                lines.append(f"{code};р. {code.title()};{h:%Y-%m-%d};{h:%H:%M};{301 + k};")
    return lines


def _bytes(lines, encoding="cp1251", eol="\r\n", banner=BANNER, final=True):
    return (banner + eol.join(lines) + (eol if final else "")).encode(encoding)


# --------------------------------------------------------------------------- good files

@pytest.mark.parametrize("folder", ["kazhydromet", "kazhydromet-kk", "roshydromet"])
def test_bundled_tables_read_the_same_both_ways(config, monkeypatch, folder):
    files = sorted((AGENCY / folder).glob("*.csv"))
    assert files
    for f in files:
        data = f.read_bytes()
        fast, exact = _both(f, config, folder, data, monkeypatch)  # the fast path takes it
        _assert_identical(fast, exact)
        assert len(fast) > 0


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig"])
def test_benchmark_style_hourly_table_reads_the_same_both_ways(config, tmp_path, monkeypatch,
                                                               encoding):
    """A year of hourly stage of every KZ post, one term after another (bench/ingest.py)."""
    lines = _hourly_kz(config, start="2024-01-01", days=366, discharge=encoding == "utf-8")
    data = _bytes(lines, encoding=encoding)
    obs = _same_both_ways(tmp_path, config, "kazhydromet", data, monkeypatch, "b.csv")
    n_posts = len(_kz_posts(config))
    assert len(obs) == 24 * 366 * n_posts * (2 if encoding == "utf-8" else 1)
    resolver = StationResolver(config)
    first_seen = [resolver.resolve(c) for c, _ in _kz_posts(config)]
    assert list(pd.unique(obs["station_id"])) == first_seen  # series in first-seen order
    assert obs["qc_flags"].sum() > 0


def test_hourly_table_through_a_clock_change_reads_the_same_both_ways(config, tmp_path,
                                                                      monkeypatch):
    data = _bytes(_hourly_ru(), encoding="utf-8")
    obs = _same_both_ways(tmp_path, config, "roshydromet", data, monkeypatch)
    orsk = obs[obs["station_id"] == "RU:ORSK"]
    assert orsk["time"].is_monotonic_increasing and orsk["time"].is_unique


def test_irregular_times_read_the_same_both_ways(config, tmp_path, monkeypatch):
    """Readings at odd minutes over a year: far more (date, term) pairs than rows."""
    rng = np.random.default_rng(5)
    lines = [HEADER_KZ]
    for code, _ in _kz_posts(config)[:3]:
        minutes = np.sort(rng.choice(366 * 24 * 60, 700, replace=False))
        for t in pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min"):
            lines.append(f"{code};п;{t:%d.%m.%Y};{t:%H:%M};{rng.integers(100, 400)};;;")
    data = _bytes(lines)
    obs = _same_both_ways(tmp_path, config, "kazhydromet", data, monkeypatch)
    assert len(obs) == 2100


# --------------------------------------------------------------------------- broken files

def _set(lines, i, col, value):
    out = list(lines)
    f = out[i].split(";")
    f[col] = value
    out[i] = ";".join(f)
    return out


def _ins(lines, i, line):
    return lines[:i] + [line] + lines[i:]


def _swap_with_next_of_station(lines, i):
    """Line i swapped with the next line of the same station (its time goes backwards)."""
    code = lines[i].split(";")[0]
    j = next(k for k in range(i + 1, len(lines)) if lines[k].split(";")[0] == code)
    out = list(lines)
    out[i], out[j] = out[j], out[i]
    return out


# name -> (lines -> bytes); line 0 is the header, lines 1.. are data (3 banner lines first)
KZ_CASES = {
    "regular": lambda ls: _bytes(ls),
    "stations one after another": lambda ls: _bytes(
        [ls[0]] + sorted(ls[1:], key=lambda x: x.split(";")[0])),
    "text in the stage column": lambda ls: _bytes(_set(ls, 40, 4, "abc")),
    "decimal point in a decimal-comma layout": lambda ls: _bytes(_set(ls, 40, 4, "250.5")),
    "decimal comma": lambda ls: _bytes(_set(ls, 40, 4, "250,5")),
    "number with spaces": lambda ls: _bytes(_set(ls, 40, 4, " 250 ")),
    "exponent, sign, infinity": lambda ls: _bytes(
        _set(_set(_set(ls, 40, 4, "2,5e2"), 41, 4, "+251"), 42, 4, "inf")),
    "nan is not a number": lambda ls: _bytes(_set(ls, 40, 4, "nan")),
    "empty stage cells": lambda ls: _bytes(_set(_set(ls, 40, 4, ""), 77, 4, "")),
    "every stage empty": lambda ls: _bytes([ls[0]] + [_set([x], 0, 4, "")[0] for x in ls[1:]]),
    "one stage throughout": lambda ls: _bytes([ls[0]] + [_set([x], 0, 4, "250")[0]
                                                         for x in ls[1:]]),
    "one discharge throughout": lambda ls: _bytes([ls[0]] + [_set([x], 0, 6, "12,5")[0]
                                                             for x in ls[1:]]),
    "short line": lambda ls: _bytes(ls[:50] + [ls[50].rsplit(";", 1)[0]] + ls[51:]),
    "long line": lambda ls: _bytes(_ins(ls, 50, ls[50] + ";x")),
    "blank line": lambda ls: _bytes(_ins(ls, 30, "")),
    "blank line at the end": lambda ls: _bytes(ls + [""]),
    "blank line at the end, not terminated": lambda ls: _bytes(ls + [""], final=False),
    "whitespace line": lambda ls: _bytes(_ins(ls, 30, "  \t")),
    "line of empty fields": lambda ls: _bytes(_ins(ls, 30, ";" * 7)),
    "comment line in the body": lambda ls: _bytes(_ins(ls, 30, "# note")),
    "last line not terminated": lambda ls: _bytes(ls, final=False),
    "LF line ends": lambda ls: _bytes(ls, eol="\n", banner=BANNER.replace("\r\n", "\n")),
    "mixed line ends": lambda ls: _bytes(ls[:20]) + "\n".join(ls[20:]).encode("cp1251"),
    "CR line ends (old Mac)": lambda ls: _bytes(ls, eol="\r", banner=BANNER.replace("\r\n", "\r")),
    "a lone CR in the body": lambda ls: _bytes(ls[:60] + [ls[60] + "\r" + ls[61]] + ls[62:]),
    "a lone CR in the banner": lambda ls: _bytes(ls, banner="# a\rb\r\n" + BANNER),
    "CR CR LF": lambda ls: _bytes(ls[:60] + [ls[60] + "\r"] + ls[61:]),
    "CR CR LF at the end": lambda ls: _bytes(ls[:-1] + [ls[-1] + "\r"]),
    "blank lines and spaces at the end": lambda ls: _bytes(ls + ["", " ", ""]),
    "times go backwards": lambda ls: _bytes(_swap_with_next_of_station(ls, 40)),
    "a repeated time with another value": lambda ls: _bytes(
        _ins(ls, 41, _set([ls[40]], 0, 4, "999")[0])),
    "a repeated time with the same value": lambda ls: _bytes(_ins(ls, 41, ls[40])),
    "unknown station": lambda ls: _bytes(_set(ls, 40, 0, "99999")),
    "station code with spaces": lambda ls: _bytes(_set(ls, 40, 0, " " + ls[40].split(";")[0])),
    "station code with a no-break space": lambda ls: _bytes(
        _set(ls, 40, 0, ls[40].split(";")[0] + "\xa0")),
    "one station under its id and its post code": lambda ls: _bytes(
        [_set([x], 0, 0, "KZ:" + x.split(";")[0])[0] if i % 3 == 0 and i else x
         for i, x in enumerate(ls)]),
    "no station code": lambda ls: _bytes(_set(ls, 40, 0, "")),
    "unknown ice phenomenon": lambda ls: _bytes(_set(ls, 40, 7, "льдина")),
    "phenomena in capitals and open water": lambda ls: _bytes(
        _set(_set(ls, 40, 7, " Ледостав "), 41, 7, "чисто")),
    "not a date": lambda ls: _bytes(_set(ls, 40, 2, "32.01.2024")),
    "not a time": lambda ls: _bytes(_set(ls, 40, 3, "8h00")),
    "empty time (the 08:00 term)": lambda ls: _bytes(_set(ls, 40, 3, "")),
    "one term written two ways": lambda ls: _bytes(
        ls[:40] + [_set([x], 0, 3, x.split(";")[3].removeprefix("0"))[0] for x in ls[40:400]]
        + ls[400:]),
    "one date written two ways": lambda ls: _bytes(
        ls[:40] + [_set([x], 0, 2, x.split(";")[2].removeprefix("0"))[0] for x in ls[40:400]]
        + ls[400:]),
    "stage in metres": lambda ls: _bytes(
        [ls[0]] + [_set([x], 0, 4, f"{int(x.split(';')[4]) / 100:.2f}".replace(".", ","))[0]
                   for x in ls[1:]]),
    "quotes in a name": lambda ls: _bytes(_set(ls, 40, 1, '"р. Урал, г. Орск"')),
    "quote opening a code": lambda ls: _bytes(_set(ls, 40, 0, '"' + ls[40].split(";")[0])),
    "0x98 (undefined in cp1251)": lambda ls: _bytes(ls).replace("р. ".encode("cp1251"),
                                                               b"\x98", 1),
    "UTF-8 where cp1251 is usual": lambda ls: _bytes(ls, encoding="utf-8"),
    "UTF-8 with a byte order mark": lambda ls: _bytes(ls, encoding="utf-8-sig"),
    "UTF-8 cut inside a character": lambda ls: _bytes(ls, encoding="utf-8")[:-3],
    "header only": lambda ls: _bytes(ls[:1]),
    "header only, not terminated": lambda ls: _bytes(ls[:1], final=False),
    "no header": lambda ls: BANNER.encode("cp1251"),
    "empty file": lambda ls: b"",
    "blank file": lambda ls: b" \r\n\r\n",
    "no station column": lambda ls: _bytes([ls[0].replace("Код поста", "Код")] + ls[1:]),
    "an unused header name twice": lambda ls: _bytes(
        [ls[0].replace("Изменение за сутки, см", "Пост")] + ls[1:]),
    "trailing delimiter in the header": lambda ls: _bytes([ls[0] + ";"] + ls[1:]),
    "trailing delimiter everywhere": lambda ls: _bytes([x + ";" for x in ls]),
    "tab-separated": lambda ls: _bytes([x.replace(";", "\t") for x in ls]),
}


REFUSED, READ = "refused", "read"

#: the files the fast path must decline, and what the exact path then makes of them: it
#: refuses them, or reads them as it reads the regular table (line numbers aside).  Every
#: other case must be taken by the fast path.
DECLINED = {
    "text in the stage column": REFUSED,
    "decimal point in a decimal-comma layout": REFUSED,
    "nan is not a number": REFUSED,
    "exponent, sign, infinity": REFUSED,   # 'inf' is not a number (issue 15)
    "short line": REFUSED,
    "long line": REFUSED,
    "blank line": READ,
    "whitespace line": READ,
    "line of empty fields": REFUSED,
    "comment line in the body": REFUSED,
    "CR line ends (old Mac)": READ,
    "a lone CR in the banner": REFUSED,
    "CR CR LF": READ,
    "blank lines and spaces at the end": READ,
    "unknown station": REFUSED,
    "no station code": REFUSED,
    "unknown ice phenomenon": REFUSED,
    "not a date": REFUSED,
    "not a time": REFUSED,
    "stage in metres": REFUSED,
    "quote opening a code": REFUSED,
    "0x98 (undefined in cp1251)": REFUSED,
    "UTF-8 cut inside a character": REFUSED,
    "header only": REFUSED,
    "header only, not terminated": REFUSED,
    "no header": REFUSED,
    "empty file": REFUSED,
    "blank file": REFUSED,
    "no station column": REFUSED,
    "an unused header name twice": READ,
    "trailing delimiter in the header": REFUSED,
    "tab-separated": REFUSED,
}
FAST_CASES = [c for c in KZ_CASES if c not in DECLINED]


@pytest.mark.parametrize("discharge", [False, True], ids=["stage", "stage+discharge"])
@pytest.mark.parametrize("case", FAST_CASES, ids=FAST_CASES)
def test_odd_tables_taken_by_the_fast_path_give_the_same_outcome_both_ways(
        config, tmp_path, monkeypatch, case, discharge):
    data = KZ_CASES[case](_hourly_kz(config, days=12, discharge=discharge))
    fast = _same_both_ways(tmp_path, config, "kazhydromet", data, monkeypatch)
    # and read_file (hydro.readers.agency.read) gives the fast path's outcome
    _assert_identical(_outcome(tmp_path / "t.csv", config, "kazhydromet", data), fast)


@pytest.mark.parametrize("discharge", [False, True], ids=["stage", "stage+discharge"])
@pytest.mark.parametrize("case", list(DECLINED), ids=list(DECLINED))
def test_irregular_tables_are_declined_by_the_fast_path(config, tmp_path, case, discharge):
    lines = _hourly_kz(config, days=12, discharge=discharge)
    data = KZ_CASES[case](lines)
    p = tmp_path / "t.csv"
    p.write_bytes(data)
    assert _fast_outcome(p, config, "kazhydromet", data) is None
    got = _outcome(p, config, "kazhydromet", data)      # read_file: the exact path decides
    if DECLINED[case] == REFUSED:
        assert isinstance(got, str) and got.startswith("IngestError: "), got
    else:
        assert not isinstance(got, str), got
        regular = _fast_outcome(p, config, "kazhydromet", KZ_CASES["regular"](lines))
        _assert_identical(got.drop(columns="line"), regular.drop(columns="line"))


NAMED = {  # data line 40 is file line 43 (two banner lines, the header)
    "text in the stage column": r"line 43, column 'Уровень воды, см': 'abc' is not a number",
    "decimal point in a decimal-comma layout": r"line 43, column 'Уровень воды, см': '250\.5' "
                                               r"uses a decimal point but this layout writes "
                                               r"a decimal comma",
    "short line": r"line 53: expected 8 fields, found 7",
    "unknown station": r"line 43, column 'Код поста': unknown station '99999'",
    "exponent, sign, infinity": r"line 45, column 'Уровень воды, см': 'inf' is not a number",
    "stage in metres": r"column 'Уровень воды, см': stage values look like metres",
}


@pytest.mark.parametrize("case", list(NAMED))
def test_broken_variants_name_the_line(config, tmp_path, case):
    """The messages name the file's lines (the exact path's)."""
    data = KZ_CASES[case](_hourly_kz(config, days=12))
    p = tmp_path / "t.csv"
    p.write_bytes(data)
    with pytest.raises(IngestError, match=r"t\.csv, " + NAMED[case]):
        read_file(p, config, source_id="kazhydromet", data=data)


RU_CASES = {
    "regular": lambda ls: ls,
    "the repeated ambiguous hour written a third time": lambda ls: _ins(ls, 80, ls[78]),
    "a repeated ambiguous hour with another value": lambda ls: _ins(
        ls, 80, _set([ls[78]], 0, 4, "1")[0]),
    "a lone CR between lines": lambda ls: ls[:70] + [ls[70] + "\r" + ls[71]] + ls[72:],
}


@pytest.mark.parametrize("case", list(RU_CASES), ids=list(RU_CASES))
@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_clock_change_variants_give_the_same_outcome_both_ways(config, tmp_path, monkeypatch,
                                                               case, encoding):
    data = _bytes(RU_CASES[case](_hourly_ru()), encoding=encoding)
    _same_both_ways(tmp_path, config, "roshydromet", data, monkeypatch)


# --------------------------------------------------------------------------- random tables

# cells the fast path takes (odd spellings included) ...
CODES = ["19071", "19073", "KZ:19071", " 19132", "19195", "11003", "KZ:12009"]
DATES = {"29.02.2024": "2024-02-29", "01.03.2024": "2024-03-01", "1.3.2024": "2024-03-01",
         "02.03.2024": "2024-03-02"}
CLOCKS = {"00:00": 0, "08:00": 8, "": 8, " 08:00": 8, "8:00": 8, "23:30": 23.5, "24:00": 24}
BIG_STAGES = ["250", "251", "250,5", "+251", "2,5e2", "1e3"]
STAGES = [*BIG_STAGES, "", "-3", "0", " 7 ", "2,50"]
DISCHARGES = ["", "", "1,5", "0,75"]
PHEN = ["", "ледостав", "Ледостав", " Ледостав ", "чисто", "шуга"]
NAMES = ["р. Урал", "", '"р. Урал, г. Орск"']
# ... and what makes it decline a file: (field, bad cells); the exact path refuses them all
BAD_CELLS = {"unknown station": (0, ["99999", "", '"19071']),
             "not a date": (2, ["32.01.2024", "2024-03-01", ""]),
             "not a time": (3, ["x", "8h00"]),
             "not a number": (4, ["abc", "12.5", "nan", "inf", "1e309"]),
             "discharge not a number": (6, ["x"]),
             "unknown ice phenomenon": (7, ["мусор"])}
REFUSING = [*BAD_CELLS, "short or long line", "stage in metres"]
# declined too, but the exact path reads them as the table without them (lines aside)
HARMLESS = ["irregular line in the body", "CR line ends"]


@st.composite
def _tables(draw):
    """(file bytes, the same table made regular, why the fast path must decline it: empty
    for most tables)."""
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        rows.append([draw(st.sampled_from(CODES)), draw(st.sampled_from(NAMES)),
                     draw(st.sampled_from(list(DATES))), draw(st.sampled_from(list(CLOCKS))),
                     draw(st.sampled_from(BIG_STAGES if i == 0 else STAGES)),  # not metres
                     draw(st.sampled_from(["", "+1"])), draw(st.sampled_from(DISCHARGES)),
                     draw(st.sampled_from(PHEN))])

    def when(r):
        return pd.Timestamp(DATES[r[2]]) + pd.Timedelta(hours=CLOCKS[r[3]])

    if draw(st.sampled_from([True, True, True, False])):  # one reading per station and time
        first = {}                                         # (else often a conflicting one)
        for r in rows:
            first.setdefault((r[0].strip().removeprefix("KZ:"), when(r)), r)
        rows = list(first.values())
        n = len(rows)
    if draw(st.sampled_from([True, True, True, False])):  # in time order (else often not)
        rows.sort(key=when)
    enc = draw(st.sampled_from(["cp1251", "utf-8", "utf-8-sig"]))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    trailing = [""] * draw(st.sampled_from([0, 0, 0, 1, 2]))  # blank lines at the end
    final = draw(st.booleans())                                # the last line ended

    def encode(rows, eol, inserted=()):
        lines = [";".join(r) for r in rows]
        for at, line in sorted(inserted, reverse=True):
            lines.insert(at, line)
        text = BANNER.replace("\r\n", eol) + eol.join([HEADER_KZ, *lines, *trailing])
        return (text + eol if final else text).encode(enc)

    regular = encode(rows, eol)
    why = []
    if draw(st.sampled_from([False] * 5 + [True])):  # one table in six the fast path declines
        why = draw(st.lists(st.sampled_from(REFUSING + HARMLESS), min_size=1, max_size=2,
                            unique=True))
    rows = [list(r) for r in rows]
    inserted = []
    for reason in sorted(why, key=lambda r: r == "short or long line"):  # cells first
        i = draw(st.integers(0, n - 1))
        if reason in BAD_CELLS:
            col, cells = BAD_CELLS[reason]
            rows[i][col] = draw(st.sampled_from(cells))
        elif reason == "short or long line":
            rows[i] = rows[i][:-1] if draw(st.booleans()) else [*rows[i], "9"]
        elif reason == "stage in metres":
            for r in rows:
                r[4] = draw(st.sampled_from(["1,25", "2,5", "0,5", "12,62"]))
        elif reason == "irregular line in the body":
            line = draw(st.sampled_from(["", " ", "  \t", ";" * 7]))
            if line == ";" * 7:      # a row of empty fields: no station, refused
                why = [*why, "unknown station"]
            inserted.append((i, line))   # before data line i: never among those at the end
        else:
            eol = "\r"
    return encode(rows, eol, inserted), regular, why


def _without_lines(outcome):
    return (re.sub(r", line \d+", "", outcome) if isinstance(outcome, str)
            else outcome.drop(columns="line"))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=_tables())
def test_random_small_tables_give_the_same_outcome_both_ways(config, tmp_path, monkeypatch,
                                                             table):
    data, regular, why = table
    p = tmp_path / "t.csv"
    p.write_bytes(data)
    if not why:
        event("the fast path takes the table")
        fast, exact = _both(p, config, "kazhydromet", data, monkeypatch)
        _assert_identical(fast, exact)
        return
    event("the fast path declines the table")
    assert _fast_outcome(p, config, "kazhydromet", data) is None, why
    got = _outcome(p, config, "kazhydromet", data)      # read_file: the exact path decides
    if set(why) & set(REFUSING):
        assert isinstance(got, str) and got.startswith("IngestError: "), got
    else:                                               # blank lines, CR line ends
        want = _fast_outcome(p, config, "kazhydromet", regular)
        assert want is not None
        _assert_identical(_without_lines(got), _without_lines(want))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b";", b"\xd0\x96", b"\xed\xa0\x80", b"\xc0\x80",
                                 b"\xf4\x90\x80\x80", b"\xf0\x9f\x98\x80", b"\xe2\x82",
                                 b"\x80", b"\xff", b"\xef\xbb\xbf"]), max_size=40),
       st.integers(0, 5000))
def test_utf8_check_agrees_with_python(pieces, pad):
    import pyarrow as pa

    data = b"x" * pad + b"".join(pieces)
    try:
        data.decode("utf-8")
        ok = True
    except UnicodeDecodeError:
        ok = False
    assert agency._valid_utf8(data, pa) == ok


# --------------------------------------------------------------------------- shared steps

def _local_to_utc_reference(local, station_ids, resolver):
    """local_to_utc as it was first written: zone by zone, every distinct time of a zone."""
    values = np.asarray(local.to_numpy(), dtype="datetime64[ns]")
    st_codes, st_uniq = pd.factorize(station_ids.to_numpy())
    zones = np.array([resolver.timezone(s) for s in st_uniq], dtype=object)
    out = np.empty(values.shape, dtype="datetime64[ns]")
    for tz in pd.unique(zones):
        rows = np.flatnonzero(np.isin(st_codes, np.flatnonzero(zones == tz)))
        t_codes, t_uniq = pd.factorize(values[rows])
        di = pd.DatetimeIndex(t_uniq)
        conv = di.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        utc = np.asarray(conv.tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
        amb = np.flatnonzero(np.isnat(utc))
        if amb.size == 0:
            out[rows] = utc[t_codes]
            continue
        first = np.asarray(di[amb].tz_localize(tz, ambiguous=np.ones(amb.size, bool))
                           .tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
        second = np.asarray(di[amb].tz_localize(tz, ambiguous=np.zeros(amb.size, bool))
                            .tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
        utc[amb] = first
        res = utc[t_codes]
        is_amb = np.isin(t_codes, amb)
        sub = np.flatnonzero(is_amb)
        repeat = pd.DataFrame({"s": st_codes[rows][sub], "t": t_codes[sub]}).duplicated()
        rep = sub[repeat.to_numpy()]
        lookup = dict(zip(amb.tolist(), second, strict=True))
        res[rep] = [lookup[c] for c in t_codes[rep].tolist()]
        out[rows] = res
    return pd.Series(out, index=local.index)


STATIONS = ["RU:ORSK", "RU:OMSK", "KZ:19071", "KZ:19132", "KZ:19195", "RU:ISHIM"]
MOMENTS = pd.to_datetime(["2014-10-25 23:00", "2014-10-26 00:30", "2014-10-26 01:00",
                          "2014-10-26 01:30", "2014-10-26 02:00", "2024-02-29 23:00",
                          "2024-02-29 23:30", "2024-03-01 00:00", "2016-03-27 02:30",
                          "2011-03-27 02:30", "2024-06-01 08:00"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STATIONS), st.sampled_from(list(MOMENTS))),
                min_size=1, max_size=60))
def test_local_to_utc_matches_the_zone_by_zone_reference(config, rows):
    resolver = StationResolver(config)
    ids = pd.Series([s for s, _ in rows], dtype=object)
    local = pd.Series(pd.to_datetime([t for _, t in rows]))
    got = local_to_utc(local, ids, resolver)
    codes, uniq = pd.factorize(ids)
    got_codes = local_to_utc(local, None, resolver, codes=(np.asarray(uniq, dtype=object), codes))
    want = _local_to_utc_reference(local, ids, resolver)
    assert np.array_equal(got.to_numpy(), want.to_numpy())
    assert np.array_equal(got_codes.to_numpy(), want.to_numpy())


def test_local_to_utc_with_many_distinct_times_and_zones(config):
    """Every station in a zone of its own, every reading at a time of its own (the table
    over the (zone, time) pairs that occur rather than over every pair), and no rows."""
    resolver = StationResolver(config)
    by_zone = {}
    for sid, g in config.network.gauges.items():
        by_zone.setdefault(g.timezone, sid)
    assert len(by_zone) >= 5
    rng = np.random.default_rng(3)
    ids, times = [], []
    for sid in by_zone.values():
        t = pd.Timestamp("2014-10-20") + pd.to_timedelta(rng.integers(0, 40 * 24 * 60, 400),
                                                         unit="min")
        ids += [sid] * 400 + [sid] * len(MOMENTS)
        times += list(t) + list(MOMENTS)
    order = rng.permutation(len(ids))
    ids = pd.Series(np.array(ids, dtype=object)[order])
    local = pd.Series(pd.to_datetime(np.array(times, dtype="datetime64[ns]")[order]))
    want = _local_to_utc_reference(local, ids, resolver)
    assert np.array_equal(local_to_utc(local, ids, resolver).to_numpy(), want.to_numpy())
    empty = pd.Series(np.array([], dtype="datetime64[ns]"))
    assert len(local_to_utc(empty, pd.Series([], dtype=object), resolver)) == 0


def _as_objects(df):
    """String columns -- the reader's categoricals, or pandas 3's inferred str columns of a
    hand-built frame -- as object columns (None where missing)."""
    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            cat = df[c].array
            df[c] = pd.Series(np.append(np.asarray(cat.categories, dtype=object), None)[cat.codes],
                              index=df.index, dtype=object)
        elif isinstance(df[c].dtype, pd.StringDtype) or df[c].dtype == object:
            df[c] = pd.Series([None if x is None or (isinstance(x, float) and np.isnan(x))
                               else x for x in df[c]], index=df.index, dtype=object)
    return df


def _assemble_reference(path, rows, party, resolver):
    """The observations frame as the reader first built it: a frame per variable, concat,
    order_series (time order, the last line of a repeated time), then np.lexsort by
    (station, variable, time)."""
    from hydro.qc import ICE_PHENOMENA, QC

    n = len(rows.st_code)
    lines = (np.arange(rows.first_line, rows.first_line + n) if rows.lines is None
             else rows.lines)
    phen = (np.full(n, rows.phen_map[0], dtype=object) if rows.phen_code is None
            else rows.phen_map[rows.phen_code])
    ice = np.isin(phen, list(ICE_PHENOMENA))
    station = rows.st_names[rows.st_code]
    who = party or None
    country = np.array([resolver.country(x) for x in rows.st_names], dtype=object)[rows.st_code]
    parts = []
    for val in rows.values:
        v = val.num if val.codes is None else val.num[val.codes]
        keep = ~np.isnan(v)
        parts.append(pd.DataFrame({
            "station_id": station[keep], "variable": val.var, "time": rows.time[keep],
            "value": v[keep] * val.factor, "unit": "cm" if val.var == "stage" else "m3/s",
            "party": who if who else country[keep],
            "phenomena": phen[keep] if val.var == "stage" else None,
            "qc_flags": np.where(ice[keep] & (val.var == "stage"), int(QC.ICE), 0),
            "line": lines[keep], "_st": rows.st_code[keep], "_var": len(parts)}))
    out = pd.concat(parts, ignore_index=True)
    out = order_series(out, ["_st", "_var"])
    order = np.lexsort((out["time"].to_numpy(), out["_var"].to_numpy(), out["_st"].to_numpy()))
    return out.iloc[order].drop(columns=["_st", "_var"]).reset_index(drop=True)


@pytest.mark.parametrize("case", ["regular", "stations one after another",
                                  "a repeated time with the same value", "empty stage cells",
                                  "one station under its id and its post code",
                                  "phenomena in capitals and open water"])
@pytest.mark.parametrize("discharge", [False, True])
@pytest.mark.parametrize("party", ["KZ", None])
def test_assembly_matches_the_frame_by_frame_reference(config, tmp_path, case, discharge,
                                                       party):
    data = KZ_CASES[case](_hourly_kz(config, days=12, discharge=discharge))
    p = tmp_path / "t.csv"
    resolver = StationResolver(config)
    layout = config.layout("kazhydromet-ru")
    for fast in (True, False):
        rows = (agency._rows_fast(p, data, config, layout, resolver) if fast
                else agency._rows_exact(p, data, config, layout, resolver))
        assert rows is not None
        want = _as_objects(_assemble_reference(p, rows, party, resolver))
        got = _as_objects(agency._assemble(p, rows, party, resolver).observations)
        _assert_identical(got, want)
