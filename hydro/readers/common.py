"""Shared reading machinery: decoding, comment headers, station resolution, local time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError

OBS_COLUMNS = ["station_id", "variable", "time", "value", "unit", "party", "phenomena",
               "qc_flags", "line"]
QUALITY_COLUMNS = ["site_id", "time", "parameter", "value", "censored", "unit", "party", "line"]


@dataclass
class Batch:
    """What one file holds, in canonical units: observations or water-quality samples."""

    path: Path
    format: str
    observations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OBS_COLUMNS))
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))

    @property
    def rows(self) -> int:
        return len(self.observations) + len(self.quality)


def decode(path: Path, data: bytes, encodings: list[str]) -> str:
    """Decode with the first encoding that works; a clear error when none does."""
    if not data.strip():
        raise IngestError(path, "the file is empty")
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    # find the first undecodable line for the message
    first = data.decode(encodings[0], errors="replace").splitlines()
    bad = next((i + 1 for i, ln in enumerate(first) if "\ufffd" in ln), None)
    raise IngestError(path, f"cannot decode the file as {' or '.join(encodings)} "
                      "(wrong encoding?)", line=bad)


def split_comments(text: str) -> tuple[list[str], list[str], int]:
    """(comment lines, remaining lines, number of leading lines skipped)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return lines[:i], lines[i:], i


class StationResolver:
    """Maps the codes written in files to configured station ids."""

    def __init__(self, config: Config) -> None:
        net = config.network
        self._map: dict[str, str] = {}
        self._tz: dict[str, str] = {}
        self._country: dict[str, str] = {}
        for table in (net.gauges, net.reservoirs):
            for sid, obj in table.items():
                self._map[sid] = sid
                self._map.setdefault(sid.split(":", 1)[1], sid)
                code = getattr(obj, "post_code", None)
                if code:
                    self._map[code] = sid
                self._tz[sid] = obj.timezone
                self._country[sid] = obj.country

    def resolve(self, code: str) -> str | None:
        return self._map.get(code.strip())

    def timezone(self, station_id: str) -> str:
        return self._tz[station_id]

    def country(self, station_id: str) -> str:
        return self._country[station_id]

    def is_reservoir(self, config: Config, station_id: str) -> bool:
        return station_id in config.network.reservoirs


def resolve_stations(path: Path, codes: pd.Series, resolver: StationResolver,
                     lines: np.ndarray, column: str) -> pd.Series:
    """Vectorised code -> station id; the first unknown code is an error naming its line."""
    uniq = {c: resolver.resolve(c) for c in codes.unique()}
    unknown = [c for c, s in uniq.items() if s is None]
    if unknown:
        pos = int(np.flatnonzero(codes.to_numpy() == unknown[0])[0])
        raise IngestError(path, f"unknown station '{unknown[0]}' (not in config/basins.toml)",
                          line=int(lines[pos]), column=column)
    return codes.map(uniq)


def to_number(path: Path, text: pd.Series, lines: np.ndarray, column: str,
              decimal: str = ".") -> pd.Series:
    """Parse numbers; empty cells are NaN; text in a numeric column is an error."""
    s = text.fillna("").astype(str).str.strip()
    if decimal == ",":
        if s.str.contains(".", regex=False).any():
            pos = int(np.flatnonzero(s.str.contains(".", regex=False).to_numpy())[0])
            raise IngestError(path, f"'{s.iloc[pos]}' uses a decimal point but this layout "
                              "writes a decimal comma", line=int(lines[pos]), column=column)
        s = s.str.replace(",", ".", regex=False)
    elif s.str.contains(",", regex=False).any():
        pos = int(np.flatnonzero(s.str.contains(",", regex=False).to_numpy())[0])
        raise IngestError(path, f"'{s.iloc[pos]}' uses a decimal comma but this layout writes "
                          "a decimal point", line=int(lines[pos]), column=column)
    num = pd.to_numeric(s.where(s != ""), errors="coerce")
    bad = num.isna() & (s != "")
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(path, f"'{s.iloc[pos]}' is not a number", line=int(lines[pos]),
                          column=column)
    return num


def parse_dates(path: Path, text: pd.Series, fmt: str, lines: np.ndarray, column: str
                ) -> pd.Series:
    d = pd.to_datetime(text.str.strip(), format=fmt, errors="coerce")
    if d.isna().any():
        pos = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise IngestError(path, f"'{text.iloc[pos]}' is not a date in the form {fmt}",
                          line=int(lines[pos]), column=column)
    return d


def local_to_utc(local: pd.Series, station_ids: pd.Series, resolver: StationResolver
                 ) -> pd.Series:
    """Naive local times at each station -> naive UTC (per-station IANA time zone)."""
    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    for sid, idx in station_ids.groupby(station_ids).groups.items():
        tz = resolver.timezone(sid)
        out.loc[idx] = (local.loc[idx].dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
                        .dt.tz_convert("UTC").dt.tz_localize(None))
    return out


def check_order(path: Path, frame: pd.DataFrame, key: list[str], value_col: str = "value") -> None:
    """Times must not go backwards per series; a repeated time must repeat its value."""
    for _, grp in frame.groupby(key, sort=False):
        t = grp["time"].to_numpy()
        back = np.flatnonzero(t[1:] < t[:-1])
        if back.size:
            i = back[0] + 1
            raise IngestError(path, f"time goes backwards ({grp['time'].iloc[i]} after "
                              f"{grp['time'].iloc[i - 1]})", line=int(grp["line"].iloc[i]))
        same = np.flatnonzero(t[1:] == t[:-1])
        for j in same:
            a, b = grp[value_col].iloc[j], grp[value_col].iloc[j + 1]
            if not (a == b or (pd.isna(a) and pd.isna(b))):
                raise IngestError(path, f"duplicate time {grp['time'].iloc[j + 1]} with a "
                                  f"different value ({a} then {b})",
                                  line=int(grp["line"].iloc[j + 1]))


def detect_format(path: Path, head: str, config: Config) -> tuple[str, str | None]:
    """(format, layout id) from the first lines of a decoded file."""
    comments, rest, _ = split_comments(head)
    if any("GRDC STATION DATA FILE" in c for c in comments):
        return "grdc", None
    header = rest[0] if rest else ""
    if header.startswith("station;date;level_m"):
        return "reservoir_csv", None
    if header.startswith("site;date;parameter"):
        return "quality_csv", None
    for lay in config.sources.layouts:
        cols = [c.strip() for c in header.split(lay.delimiter)]
        if any(n in cols for n in lay.columns["station"]) and any(
                n in cols for n in lay.columns["date"]):
            return "agency_csv", lay.id
    raise IngestError(path, "unrecognised file layout (not GRDC, a configured agency CSV layout, "
                      "reservoir operations or water-quality CSV)", line=len(comments) + 1)


def read_file(path: str | Path, config: Config, source_id: str | None = None,
              data: bytes | None = None) -> Batch:
    """Read any supported file; the format comes from the source or is detected."""
    from hydro.readers import agency, grdc, quality, reservoir

    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise IngestError(path, f"cannot read the file: {e.strerror}") from None
    layout_id = None
    fmt = None
    if source_id is not None:
        src = config.source(source_id)
        fmt, layout_id = src.format, src.layout
    encodings = ["utf-8-sig"] + [e for lay in config.sources.layouts for e in lay.encodings]
    if fmt is None or (fmt == "agency_csv" and layout_id is None):
        head = decode(path, data, list(dict.fromkeys(encodings)))
        fmt, layout_id = detect_format(path, "\n".join(head.splitlines()[:60]), config)
    if fmt == "grdc":
        return grdc.read(path, data, config)
    if fmt == "agency_csv":
        party = None
        if source_id is not None:
            party = config.source(source_id).party
        else:  # the reporting party is that of the source using this layout
            users = [s for s in config.sources.sources if s.layout == layout_id]
            party = users[0].party if users else None
        return agency.read(path, data, config, config.layout(layout_id), party=party)
    if fmt == "reservoir_csv":
        return reservoir.read(path, data, config)
    if fmt == "quality_csv":
        return quality.read(path, data, config)
    raise IngestError(path, f"no reader for format '{fmt}'")
