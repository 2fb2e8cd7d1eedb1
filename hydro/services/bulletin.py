"""The daily hydrological bulletin: the table both national services publish every morning
(one row per gauge, lines for the reservoirs), computed from the store for any day and
knowledge time.

    from hydro.services.bulletin import bulletin
    frame = bulletin(store, config, dt.date(2024, 4, 21))            # what we know now
    frame = bulletin(store, config, dt.date(2024, 4, 21), as_of=T)   # what we knew at T

Gauges (``kind == "gauge"``, one row per reporting party):

* the stage at the morning term — the reading of the day (local date, the station's time
  zone) nearest to 08:00 local, cm above gauge zero — and the 24 h change: this morning's
  reading minus the previous day's morning reading (cm, signed; none when either is missing);
* the warning levels in force that day (``config/thresholds.toml``): Kazakhstan's one
  dangerous level ОУ (scheme ``kz_dangerous``), Russia's НЯ (adverse) and ОЯ (dangerous)
  (scheme ``ru_nya_oya``); the party's own scheme, else the other party's; where conflicting
  values of one level are in force, the lowest (the one reached first), marked by
  ``level_status``;
* cm remaining = level − stage (negative once exceeded), to the dangerous level and to НЯ;
* the ice phenomena code of the reading (``ice_cover``, ``ice_drift`` …) and whether the
  reading is ice-affected (QC ICE flag, ice cover, jam or frazil);
* the discharge of the day when one is stored, and the warning category of
  :func:`hydro.warning.classify_stage`.

Reservoirs (``kind == "reservoir"``): the daily level (m, Baltic system) of the day against
НПУ and ФПУ, inflow, total outflow, controlled release (outflow − spill, known when the spill
of the same day is), spill (m³/s), volume and free capacity in hm³: the volume of the
storage table at НПУ minus the current volume (the reported volume, or the table's volume at
the current level when none is reported); negative when the forced storage is in use.

Rows are grouped by basin (config order) and river (the basin's river list), and ordered
downstream (the network's topological order) within a river.  :func:`build_bulletin` is the
pure part (observations frame in, bulletin frame out).  Localised tables and words for the
CSV, HTML and PDF forms are in :mod:`hydro.services.bulletin_output`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import cast
from zoneinfo import ZoneInfo

import pandas as pd

from hydro.config import Config
from hydro.network import Gauge, Reservoir
from hydro.qc import ICE_PHENOMENA, QC
from hydro.services.context import Store
from hydro.store import api
from hydro.units import VARIABLE_DIMENSION, convert
from hydro.warning import classify_stage

#: the morning observation term of both services, local time
MORNING = dt.time(8, 0)
GAUGE_VARIABLES = ("stage", "discharge")
RESERVOIR_VARIABLES = ("level", "volume", "inflow", "outflow", "spill")
#: a party's own warning scheme
PARTY_SCHEME = {"KZ": "kz_dangerous", "RU": "ru_nya_oya"}

#: columns of the bulletin frame (gauge and reservoir rows share one frame; a column that
#: does not apply to the row's kind is empty)
COLUMNS = [
    "kind", "basin", "river", "station_id", "post_code", "name_kk", "name_ru", "name_en",
    "country", "party", "time", "local_time",
    # gauges
    "stage_cm", "previous_cm", "change_cm", "scheme", "dangerous_cm", "adverse_cm",
    "remaining_cm", "remaining_adverse_cm", "level_status", "phenomena", "ice", "qc_flags",
    "discharge_m3s", "status", "provisional",
    # reservoirs
    "level_m", "npu_m", "fpu_m", "to_npu_m", "volume_hm3", "volume_from_table",
    "npu_volume_hm3", "free_capacity_hm3", "inflow_m3s", "outflow_m3s", "release_m3s",
    "spill_m3s", "estimated",
]


def parse_as_of(value: object) -> dt.datetime | None:
    """A knowledge time from a URL or a command line: ISO date-time (naive UTC, or with an
    offset, converted to UTC) or an ISO date, meaning the end of that day in UTC.  ``None``
    for nothing or a value that is not a time."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, dt.date):
        return dt.datetime.combine(value + dt.timedelta(days=1), dt.time())
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
            t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def bulletin(store: Store, config: Config, day: dt.date,
             as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The bulletin of ``day`` as known at ``as_of`` (naive UTC; default: everything stored).

    Returns a frame with :data:`COLUMNS`, one row per gauge and party and one per reservoir
    of the network (a station without data that day has a row with empty values).
    ``frame.attrs`` holds ``day`` and ``as_of``.
    """
    net = config.network
    ids = [*net.gauges, *net.reservoirs]
    # the two local days (day - 1 and day) in every time zone of the network (UTC-12..+14)
    start = dt.datetime.combine(day - dt.timedelta(days=2), dt.time())
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time())
    obs = api.observations(store, stations=ids,
                           variables=[*GAUGE_VARIABLES, *RESERVOIR_VARIABLES],
                           start=start, end=end, as_of=as_of)
    frame = build_bulletin(config, obs, day)
    frame.attrs["as_of"] = as_of
    return frame


def default_day(store: Store, config: Config) -> dt.date | None:
    """The newest stored day: the local date (in the first gauge's time zone, else UTC) of
    the newest observation; ``None`` for an empty store."""
    _, last = api.data_period(store)
    if last is None:
        return None
    t = pd.Timestamp(last).to_pydatetime()
    zones = sorted({g.timezone for g in config.network.gauges.values()})
    if not zones:
        return t.date()
    return _local(t, zones[0]).date()


# --------------------------------------------------------------------------- pure part

def build_bulletin(config: Config, obs: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The bulletin frame of ``day`` from stored observations (pure).

    ``obs`` has the columns of :func:`hydro.store.api.observations` (station_id, variable,
    time naive UTC, value, unit, party, source, qc_flags, phenomena, revision); only its
    current values are expected.  Values are converted to the canonical units.
    """
    obs = _canonical(obs)
    by_station = {sid: part for sid, part in obs.groupby("station_id", sort=False)} \
        if not obs.empty else {}
    rows: list[dict] = []
    for station in ordered_stations(config):
        part = by_station.get(station.id)
        if part is not None:
            part = _with_local_time(part, station.timezone)
        if isinstance(station, Gauge):
            rows.extend(_gauge_rows(config, station, part, day))
        else:
            rows.append(_reservoir_row(station, part, day))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["day"] = day
    return frame


def ordered_stations(config: Config) -> list[Gauge | Reservoir]:
    """Gauges and reservoirs by basin (config order), river (the basin's river list, then
    any other river) and downstream (the network's topological order)."""
    net = config.network
    rank = {node_id: i for i, node_id in enumerate(net.order)}
    basins = list(net.basins)
    stations: list[Gauge | Reservoir] = [*net.gauges.values(), *net.reservoirs.values()]

    def key(s: Gauge | Reservoir) -> tuple:
        basin = net.basins.get(s.basin)
        rivers = basin.rivers if basin else []
        b = basins.index(s.basin) if s.basin in basins else len(basins)
        r = rivers.index(s.river) if s.river in rivers else len(rivers)
        return (b, r, s.river, rank.get(s.id, len(rank)), s.id)

    return sorted(stations, key=key)


def _canonical(obs: pd.DataFrame) -> pd.DataFrame:
    if obs.empty:
        return obs
    obs = obs.copy()
    values = obs["value"].astype(float).to_numpy(copy=True)
    for key, idx in obs.groupby(["variable", "unit"], sort=False).groups.items():
        variable, unit = cast(tuple[str, str], key)
        dimension = VARIABLE_DIMENSION.get(str(variable))
        if dimension is None:
            continue
        pos = obs.index.get_indexer(idx)
        values[pos] = convert(values[pos], str(unit), dimension)
    obs["value"] = values
    obs["time"] = pd.to_datetime(obs["time"])
    return obs


def _local(t: dt.datetime, zone: str) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _with_local_time(part: pd.DataFrame, zone: str) -> pd.DataFrame:
    local = (part["time"].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None))
    return part.assign(local_time=local, local_date=local.dt.date)


def _morning(part: pd.DataFrame | None, variable: str, party: str | None,
             day: dt.date) -> pd.Series | None:
    """The reading of ``variable`` on local ``day`` nearest to 08:00 (an earlier one on a
    tie; then the later source name and higher revision), or None."""
    if part is None or part.empty:
        return None
    sel = part[(part["variable"] == variable) & (part["local_date"] == day)
               & part["value"].notna()]
    if party is not None:
        sel = sel[sel["party"] == party]
    if sel.empty:
        return None
    target = pd.Timestamp(dt.datetime.combine(day, MORNING))
    distance = (sel["local_time"] - target).abs()
    sel = sel.assign(_d=distance, _late=sel["local_time"] > target)
    sel = sel.sort_values(["_d", "_late", "source", "revision"],
                          ascending=[True, True, False, False])
    return sel.iloc[0]


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _text(x) -> str | None:
    return x if isinstance(x, str) and x else None


def _levels(config: Config, gauge: Gauge, party: str, day: dt.date
            ) -> tuple[str | None, float | None, float | None, str | None]:
    """(scheme, dangerous cm, adverse cm, status) in force on ``day`` for ``party``'s rows."""
    valid = [t for t in config.thresholds_for(gauge.id) if t.valid_on(day)]
    schemes = [s for s in (PARTY_SCHEME.get(party), PARTY_SCHEME.get(gauge.country),
                           *PARTY_SCHEME.values())
               if s and any(t.scheme == s for t in valid)]
    if not schemes:
        return None, None, None, None
    scheme = schemes[0]
    mine = [t for t in valid if t.scheme == scheme]

    def lowest(level: str):
        hits = sorted((float(t.value.to("stage")), t.status) for t in mine if t.level == level)
        return hits[0] if hits else (None, None)

    dangerous, d_status = lowest("dangerous")
    adverse, a_status = lowest("adverse")
    statuses = {t.status for t in mine if t.level in ("dangerous", "adverse")}
    status = next((s for s in ("conflicting", "estimate", "synthetic") if s in statuses),
                  d_status or a_status)
    return scheme, dangerous, adverse, status


def _gauge_rows(config: Config, g: Gauge, part: pd.DataFrame | None,
                day: dt.date) -> list[dict]:
    reported = set(part["party"].unique()) if part is not None and not part.empty else set()
    parties = sorted(set(g.parties) | reported, key=lambda p: (p != g.country, p)) \
        or [g.country]
    thresholds = config.thresholds_for(g.id)
    out = []
    for party in parties:
        now = _morning(part, "stage", party, day)
        before = _morning(part, "stage", party, day - dt.timedelta(days=1))
        discharge = _morning(part, "discharge", party, day)
        stage = _num(now["value"]) if now is not None else None
        previous = _num(before["value"]) if before is not None else None
        flags = int(now["qc_flags"] or 0) if now is not None else 0
        phenomena = _text(now["phenomena"]) if now is not None else None
        ice = bool(flags & QC.ICE) or phenomena in ICE_PHENOMENA
        scheme, dangerous, adverse, level_status = _levels(config, g, party, day)
        classification = classify_stage(stage, thresholds, day, ice=ice)
        main = now if now is not None else discharge
        out.append({
            **_identity(g), "party": party,
            "time": main["time"].to_pydatetime() if main is not None else None,
            "local_time": main["local_time"].to_pydatetime() if main is not None else None,
            "stage_cm": stage, "previous_cm": previous,
            "change_cm": stage - previous if stage is not None and previous is not None
            else None,
            "scheme": scheme, "dangerous_cm": dangerous, "adverse_cm": adverse,
            "remaining_cm": dangerous - stage if dangerous is not None and stage is not None
            else None,
            "remaining_adverse_cm": adverse - stage
            if adverse is not None and stage is not None else None,
            "level_status": level_status, "phenomena": phenomena, "ice": ice,
            "qc_flags": flags,
            "discharge_m3s": _num(discharge["value"]) if discharge is not None else None,
            "status": classification.status.value,
            "provisional": classification.provisional,
        })
    return out


def _identity(s: Gauge | Reservoir) -> dict:
    return {
        "kind": s.kind, "basin": s.basin, "river": s.river, "station_id": s.id,
        "post_code": getattr(s, "post_code", None), "name_kk": s.names.kk,
        "name_ru": s.names.ru, "name_en": s.names.en, "country": s.country,
    }


def _reservoir_row(r: Reservoir, part: pd.DataFrame | None, day: dt.date) -> dict:
    reported = sorted(set(part["party"].unique()) if part is not None and not part.empty
                      else set(), key=lambda p: (p != r.country, p))
    party = reported[0] if reported else r.country
    got = {v: _morning(part, v, party, day) for v in RESERVOIR_VARIABLES}
    val = {v: (_num(x["value"]) if x is not None else None) for v, x in got.items()}
    level = val["level"]
    volume, from_table = val["volume"], False
    if volume is None and level is not None:
        volume, from_table = float(r.storage_table.volume_at(level)), True
    outflow, spill = val["outflow"], val["spill"]
    release = None
    if outflow is not None and spill is not None and got["outflow"] is not None \
            and got["spill"] is not None and got["outflow"]["time"] == got["spill"]["time"]:
        release = outflow - spill
    npu, fpu = float(r.npu.to("elevation")), float(r.fpu.to("elevation"))
    npu_volume = float(r.npu_volume_hm3)
    present = [x for x in got.values() if x is not None]
    main = got["level"] if got["level"] is not None else (
        max(present, key=lambda x: x["time"]) if present else None)
    status = None
    if level is not None:
        status = "dangerous" if level >= fpu else "adverse" if level > npu else "normal"
    return {
        **_identity(r), "party": party,
        "time": main["time"].to_pydatetime() if main is not None else None,
        "local_time": main["local_time"].to_pydatetime() if main is not None else None,
        "ice": False, "qc_flags": 0,
        "status": status or ("no_data" if main is None else "not_assessed"),
        "provisional": bool({"npu", "fpu"} & set(r.estimated)),
        "level_m": level, "npu_m": npu, "fpu_m": fpu,
        "to_npu_m": npu - level if level is not None else None,
        "volume_hm3": volume, "volume_from_table": from_table,
        "npu_volume_hm3": npu_volume,
        "free_capacity_hm3": npu_volume - volume if volume is not None else None,
        "inflow_m3s": val["inflow"], "outflow_m3s": outflow, "release_m3s": release,
        "spill_m3s": spill, "estimated": ",".join(r.estimated),
    }


def gauges(frame: pd.DataFrame) -> pd.DataFrame:
    """The gauge rows of a bulletin frame."""
    return frame[frame["kind"] == "gauge"]


def reservoirs(frame: pd.DataFrame) -> pd.DataFrame:
    """The reservoir rows of a bulletin frame."""
    return frame[frame["kind"] == "reservoir"]


def group_rows(frame: pd.DataFrame) -> Iterable[tuple[str, str, pd.DataFrame]]:
    """(basin, river, rows) in the frame's order."""
    if frame.empty:
        return []
    keys = list(dict.fromkeys(zip(frame["basin"], frame["river"], strict=True)))
    b = frame["basin"].to_numpy()
    r = frame["river"].to_numpy()
    return [(basin, river, frame[(b == basin) & (r == river)]) for basin, river in keys]


__all__ = ["COLUMNS", "MORNING", "bulletin", "build_bulletin", "default_day", "gauges",
           "group_rows", "ordered_stations", "parse_as_of", "reservoirs"]
