"""Reservoir operations CSV: station;date;level_m;volume_hm3;inflow_m3s;outflow_m3s;spill_m3s
[;evaporation_m3s].  Daily values labelled by local date; outflow includes spill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError
from hydro.readers.common import (
    Batch,
    StationResolver,
    TimeWindow,
    local_to_utc,
    order_series,
    parse_dates,
    read_semicolon_table,
    resolve_stations,
    to_number,
)

#: column -> (variable, canonical unit)
COLUMNS = {
    "level_m": ("level", "m"),
    "volume_hm3": ("volume", "hm3"),
    "inflow_m3s": ("inflow", "m3/s"),
    "outflow_m3s": ("outflow", "m3/s"),
    "spill_m3s": ("spill", "m3/s"),
    "evaporation_m3s": ("evaporation", "m3/s"),
}
REQUIRED = ["station", "date", "level_m", "volume_hm3", "inflow_m3s", "outflow_m3s"]


def read(path: Path, data: bytes, config: Config) -> Batch:
    frame, header, lines, skipped = read_semicolon_table(path, data, ["utf-8-sig"], REQUIRED)
    unknown = [c for c in header if c not in COLUMNS and c not in ("station", "date")]
    if unknown:
        raise IngestError(path, f"unknown column '{unknown[0]}' (units are part of the column "
                          f"name: {', '.join(COLUMNS)})", line=skipped + 1)
    short = (frame[header[-1]] == "") if len(frame) else pd.Series([], dtype=bool)
    if short.any() and header[-1] in REQUIRED:
        pos = int(np.flatnonzero(short.to_numpy())[0])
        raise IngestError(path, "incomplete line (truncated file?)", line=int(lines[pos]),
                          column=header[-1])
    resolver = StationResolver(config)
    station = resolve_stations(path, frame["station"].str.strip(), resolver, lines, "station")
    not_res = [s for s in station.unique() if s not in config.network.reservoirs]
    if not_res:
        pos = int(np.flatnonzero(station.to_numpy() == not_res[0])[0])
        raise IngestError(path, f"station '{not_res[0]}' is not a reservoir",
                          line=int(lines[pos]), column="station")
    dates = parse_dates(path, frame["date"], "%Y-%m-%d", lines, "date", TimeWindow.of(config))
    time_utc = local_to_utc(dates, station, resolver)
    parts = []
    for col in header:
        if col not in COLUMNS:
            continue
        var, unit = COLUMNS[col]
        values = to_number(path, frame[col], lines, col, decimal=".")
        if var != "level" and (values < 0).any():
            pos = int(np.flatnonzero((values < 0).to_numpy())[0])
            raise IngestError(path, f"negative {var} {values.iloc[pos]}", line=int(lines[pos]),
                              column=col)
        parts.append(pd.DataFrame({
            "station_id": station, "variable": var, "time": time_utc, "value": values,
            "unit": unit, "party": station.map(resolver.country), "phenomena": None,
            "qc_flags": 0, "line": lines}))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["value"].notna()]
    out = order_series(out.reset_index(drop=True), ["station_id", "variable"])
    return Batch(path, "reservoir_csv", observations=out)
