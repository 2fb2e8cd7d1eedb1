"""CF-NetCDF ensemble forecasts of river discharge at points (e.g. GloFAS extracts at gauges).

Not an observation format (nothing here is ingested into the observations): the reader of
:mod:`hydro.services.external_forecasts`, which bias-corrects the members to the national
gauges.  Layout read (CF-1.8; the names GloFAS files use are accepted beside the CF ones)::

    dimensions:  realization  a coordinate with standard_name "realization", or a dimension
                              named realization | number | member | ensemble_member
                 lead         standard_name "forecast_period", or named step | lead_time |
                              forecast_period | leadtime (timedelta, or numbers with units
                              of time: "hours", "days" ...); whole days, strictly increasing.
                              Or, instead, a valid-time dimension (standard_name "time",
                              or named valid_time | time) with one forecast reference time.
                 issue        optional: the forecast reference time (standard_name
                              "forecast_reference_time", or named time |
                              forecast_reference_time | reference_time | issue_time) as a
                              dimension (a reforecast file: several issues) or a scalar
                 station      CF discrete sampling geometry "timeSeries": the dimension of
                              the cf_role = "timeseries_id" variable, or one named station
    station_id(station)       matched to the gauges of config/basins.toml (id, id without
                              the country prefix, or post code)
    lat(station), lon(station)  (standard_name latitude / longitude): else the nearest gauge
                              within MATCH_TOLERANCE_KM
    dis24(issue, lead, realization, station)  river discharge: the variable named dis24 |
                              dis | dis06 | discharge | river_discharge, or the one with
                              standard_name water_volume_transport_in_river_channel; units
                              of discharge (m3 s-1, m**3 s**-1 ...), converted to m³/s

Errors (:class:`hydro.errors.IngestError`, naming the file and the variable or station): no
realization or lead dimension, a lead that is not whole days or not increasing, no units
or units that are not a discharge, a negative or infinite discharge, a member with no value
at a station, a station that matches no gauge.

Times: the reference times are UTC.  A daily value at lead L (GloFAS ``dis24``: the mean
of the 24 h before the step) is labelled by the UTC date of ``reference + L`` minus a
moment, so a 00 UTC issue's lead 1 d is the mean of its issue date
(:meth:`EnsembleForecast.valid_dates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError, UnitError
from hydro.readers.common import StationResolver
from hydro.readers.netcdf import _cf_unit_to_hydro, _open, _strings
from hydro.units import factor

__all__ = ["MATCH_TOLERANCE_KM", "StationMatch", "EnsembleForecast", "read_ensemble"]

#: a file station without a known id is the nearest gauge within this great-circle
#: distance (GloFAS places its points on the 0.05° river network, 3-6 km from the gauge)
MATCH_TOLERANCE_KM = 10.0
_REALIZATION_NAMES = ("realization", "number", "member", "ensemble_member")
_LEAD_NAMES = ("forecast_period", "step", "lead_time", "leadtime")
_REFERENCE_NAMES = ("forecast_reference_time", "time", "reference_time", "issue_time")
_VALID_NAMES = ("valid_time", "time")
_DISCHARGE_NAMES = ("dis24", "dis", "dis06", "discharge", "river_discharge")
_DISCHARGE_STANDARD_NAME = "water_volume_transport_in_river_channel"
_TIME_UNITS = {"days": "D", "day": "D", "d": "D", "hours": "h", "hour": "h", "h": "h",
               "hr": "h", "minutes": "m", "minute": "m", "min": "m", "seconds": "s",
               "second": "s", "s": "s"}
_DAY = np.timedelta64(1, "D")
_EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class StationMatch:
    """How a station of the file was matched to a gauge: ``by`` "id" or "nearest" (the
    great-circle ``distance_km`` from the gauge; None when matched by id)."""

    file_id: str
    gauge: str
    by: str
    distance_km: float | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass
class EnsembleForecast:
    """An ensemble discharge forecast (or reforecast) at gauges, in m³/s.

    ``values`` has dims (issue, station, lead, member); ``stations`` are gauge ids in the
    order of the file's station dimension; ``reference_times`` naive UTC datetime64[ns];
    ``lead_days`` whole days.
    """

    path: Path
    variable: str
    stations: list[str]
    matches: list[StationMatch]
    reference_times: np.ndarray
    lead_days: np.ndarray
    members: np.ndarray
    values: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_members(self) -> int:
        return int(self.values.shape[3])

    def station_values(self, gauge: str) -> np.ndarray:
        """(issue, lead, member) discharge of one gauge, m³/s."""
        return self.values[:, self.stations.index(gauge)]

    def valid_dates(self) -> np.ndarray:
        """(issue, lead) the date (datetime64[D], UTC) each daily value is the mean of."""
        ref = self.reference_times.astype("datetime64[ns]")[:, None]
        end = ref + self.lead_days.astype("timedelta64[D]")[None, :].astype("timedelta64[ns]")
        return (end - np.timedelta64(1, "ns")).astype("datetime64[D]")

    def issue_dates(self) -> np.ndarray:
        """(issue,) the day before the first valid date: lead h is valid on issue date + h."""
        return (self.valid_dates()[:, 0] - self.lead_days[0].astype("timedelta64[D]"))

    def describe(self) -> str:
        """A line of provenance: title / source / institution of the file."""
        parts = [str(self.attrs[k]) for k in ("title", "source", "institution")
                 if self.attrs.get(k)]
        return "; ".join(dict.fromkeys(parts)) or self.path.name


# --------------------------------------------------------------------------- dimensions

def _std(ds, name: str) -> str:
    return str(ds[name].attrs.get("standard_name", "")) if name in ds.variables else ""


def _find(ds, standard_name: str, names: tuple[str, ...], dims_only: bool = True
          ) -> str | None:
    """A dimension (or, with ``dims_only`` False, any variable) by standard name, then name."""
    pool = list(ds.dims) if dims_only else list(ds.variables)
    for d in pool:
        if _std(ds, d) == standard_name:
            return str(d)
    for n in names:
        if n in pool:
            return n
    return None


def _timedelta(path: Path, ds, name: str) -> np.ndarray:
    """A coordinate of lead times as timedelta64[ns] (decoded, or numbers with time units)."""
    v = ds[name]
    if np.issubdtype(v.dtype, np.timedelta64):
        return v.to_numpy().astype("timedelta64[ns]")
    units = str(v.attrs.get("units", "")).strip().lower()
    unit = _TIME_UNITS.get(units.split(" since ")[0].strip()) if units else None
    if unit is None or v.dtype.kind not in "fiu":
        raise IngestError(path, f"lead time units '{units or '(none)'}' are not a duration "
                          "(expected e.g. 'hours' or 'days')", column=name)
    x = np.asarray(v.to_numpy(), dtype=float)
    if not np.isfinite(x).all():
        raise IngestError(path, "a lead time is missing", column=name)
    ns = {"D": 86400e9, "h": 3600e9, "m": 60e9, "s": 1e9}[unit]
    return np.round(x * ns).astype("int64").astype("timedelta64[ns]")


def _datetimes(path: Path, ds, name: str) -> np.ndarray:
    v = ds[name]
    if not np.issubdtype(v.dtype, np.datetime64):
        units = v.encoding.get("units", v.attrs.get("units", "?"))
        raise IngestError(path, f"time units '{units}' cannot be read as UTC times (use a "
                          "standard calendar)", column=name)
    t = np.atleast_1d(v.to_numpy()).astype("datetime64[ns]")
    if np.isnat(t).any():
        raise IngestError(path, "a time is missing", column=name)
    return t


def _lead_days(path: Path, name: str, leads: np.ndarray) -> np.ndarray:
    if leads.size > 1 and not (np.diff(leads) > np.timedelta64(0, "ns")).all():
        i = int(np.flatnonzero(np.diff(leads) <= np.timedelta64(0, "ns"))[0]) + 1
        raise IngestError(path, f"lead times are not strictly increasing at index {i} "
                          f"({pd.Timedelta(leads[i])} after {pd.Timedelta(leads[i - 1])})",
                          column=name)
    days = leads / _DAY.astype("timedelta64[ns]")
    bad = np.flatnonzero((np.abs(days - np.round(days)) > 1e-9) | (np.round(days) < 1))
    if bad.size:
        raise IngestError(path, f"lead time {pd.Timedelta(leads[bad[0]])} is not a whole "
                          "number of days of at least 1 (daily means expected)", column=name)
    return np.round(days).astype(int)


# --------------------------------------------------------------------------- stations

def _distance_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _coordinate(ds, sdim: str, standard_name: str, names: tuple[str, ...]) -> np.ndarray | None:
    for v in ds.variables.values():
        if v.dims == (sdim,) and v.attrs.get("standard_name") == standard_name:
            return np.asarray(v.to_numpy(), dtype=float)
    for n in names:
        if n in ds.variables and ds[n].dims == (sdim,):
            return np.asarray(ds[n].to_numpy(), dtype=float)
    return None


def _match_stations(path: Path, ds, sdim: str, config: Config, tolerance_km: float
                    ) -> list[StationMatch]:
    n = int(ds.sizes[sdim])
    role = [k for k, v in ds.variables.items()
            if v.attrs.get("cf_role") == "timeseries_id" and v.dims == (sdim,)]
    id_name = "station_id" if "station_id" in ds.variables and ds["station_id"].dims == (
        sdim,) else (str(role[0]) if role else None)
    codes = _strings(ds[id_name].to_numpy()) if id_name else [f"{sdim}[{i}]" for i in range(n)]
    lat = _coordinate(ds, sdim, "latitude", ("lat", "latitude"))
    lon = _coordinate(ds, sdim, "longitude", ("lon", "longitude"))
    resolver = StationResolver(config)
    gauges = list(config.network.gauges.values())
    glat = np.array([g.lat for g in gauges], dtype=float)
    glon = np.array([g.lon for g in gauges], dtype=float)
    out: list[StationMatch] = []
    for i, code in enumerate(codes):
        la = float(lat[i]) if lat is not None and np.isfinite(lat[i]) else None
        lo = float(lon[i]) if lon is not None and np.isfinite(lon[i]) else None
        sid = resolver.resolve(code) if id_name else None
        if sid is not None and sid in config.network.gauges:
            out.append(StationMatch(code, sid, "id", None, la, lo))
            continue
        where = f"station '{code}'" + (f" ({id_name}[{i}])" if id_name else "")
        if la is None or lo is None:
            raise IngestError(path, f"{where} is not a gauge of config/basins.toml and has no "
                              "latitude/longitude to match it by", column=id_name or sdim)
        d = _distance_km(la, lo, glat, glon)
        k = int(np.argmin(d))
        if d[k] > tolerance_km:
            raise IngestError(path, f"{where} at {la:.4f}N {lo:.4f}E matches no gauge: the "
                              f"nearest, {gauges[k].id}, is {d[k]:.1f} km away (more than "
                              f"{tolerance_km:g} km)", column=id_name or sdim)
        out.append(StationMatch(code, gauges[k].id, "nearest", float(d[k]), la, lo))
    seen: dict[str, str] = {}
    for m in out:
        if m.gauge in seen:
            raise IngestError(path, f"stations '{seen[m.gauge]}' and '{m.file_id}' both match "
                              f"gauge {m.gauge}", column=id_name or sdim)
        seen[m.gauge] = m.file_id
    return out


# --------------------------------------------------------------------------- reading

def _discharge_variable(path: Path, ds, needed: set[str]) -> str:
    candidates = [str(n) for n, v in ds.data_vars.items()
                  if v.attrs.get("standard_name") == _DISCHARGE_STANDARD_NAME]
    candidates += [n for n in _DISCHARGE_NAMES if n in ds.data_vars and n not in candidates]
    for n in candidates:
        if needed <= set(ds[n].dims):
            return n
    if candidates:
        raise IngestError(path, f"the discharge variable lacks dimension(s) "
                          f"{', '.join(sorted(needed - set(ds[candidates[0]].dims)))} "
                          f"(has {', '.join(map(str, ds[candidates[0]].dims))})",
                          column=candidates[0])
    raise IngestError(path, "no river discharge variable (expected dis24, discharge or "
                      f"standard_name {_DISCHARGE_STANDARD_NAME})")


def read_ensemble(path: str | Path, config: Config, *,
                  tolerance_km: float = MATCH_TOLERANCE_KM,
                  data: bytes | None = None) -> EnsembleForecast:
    """Read a CF-NetCDF ensemble discharge forecast at points (module docs).

    Parameters
    ----------
    path : path
        The file (named in every error).
    config : Config
        The gauges the stations are matched to.
    tolerance_km : float
        Largest distance of a station matched by its coordinates.
    data : bytes, optional
        The file's content (default: read ``path``).
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise IngestError(path, f"cannot read the file: {e.strerror or e}") from None
    ds = _open(path, data)
    try:
        return _read(path, ds, config, tolerance_km)
    finally:
        ds.close()


def _read(path: Path, ds, config: Config, tolerance_km: float) -> EnsembleForecast:
    rdim = _find(ds, "realization", _REALIZATION_NAMES)
    if rdim is None:
        raise IngestError(path, "no realization dimension (an ensemble needs a coordinate "
                          "with standard_name 'realization', or a dimension named "
                          f"{' | '.join(_REALIZATION_NAMES)})")
    role = [v.dims[0] for v in ds.variables.values()
            if v.attrs.get("cf_role") == "timeseries_id" and v.ndim == 1]
    sdim = str(role[0]) if role else ("station" if "station" in ds.dims else None)
    if sdim is None:
        raise IngestError(path, "no station dimension (expected a CF timeSeries file: a "
                          "variable with cf_role = 'timeseries_id', or a 'station' dimension)")
    ldim = _find(ds, "forecast_period", _LEAD_NAMES)
    idim = _find(ds, "forecast_reference_time", _REFERENCE_NAMES, dims_only=False)
    if ldim is not None:
        leads = _timedelta(path, ds, ldim)
        if idim is None:
            raise IngestError(path, "no forecast reference time (standard_name "
                              "'forecast_reference_time', or a variable named "
                              f"{' | '.join(_REFERENCE_NAMES)})")
        refs = _datetimes(path, ds, idim)
    else:
        vdim = next((d for d in ds.dims if _std(ds, str(d)) == "time"
                     and str(d) != idim), None) or next(
            (n for n in _VALID_NAMES if n in ds.dims and n != idim), None)
        if vdim is None or idim is None or ds[idim].ndim != 0:
            raise IngestError(path, "no lead-time dimension (standard_name "
                              f"'forecast_period', or named {' | '.join(_LEAD_NAMES)}), nor a "
                              "valid-time dimension with one forecast reference time")
        refs = _datetimes(path, ds, idim)
        leads = _datetimes(path, ds, str(vdim)) - refs[0]
        ldim = str(vdim)
    lead_days = _lead_days(path, ldim, leads)
    issue_dim = idim if idim is not None and idim in ds.dims else None
    name = _discharge_variable(path, ds, {rdim, sdim, ldim})
    da = ds[name]
    extra = [d for d in da.dims if d not in (rdim, sdim, ldim, issue_dim)]
    for d in extra:
        if da.sizes[d] != 1:
            raise IngestError(path, f"unexpected dimension '{d}' of length {da.sizes[d]}",
                              column=name)
    da = da.squeeze(extra, drop=True) if extra else da
    if issue_dim is None:
        da = da.expand_dims("__issue__")
        issue_dim = "__issue__"
    units = da.attrs.get("units")
    if not units:
        raise IngestError(path, "no units attribute", column=name)
    try:
        f = factor(_cf_unit_to_hydro(str(units)), "discharge")
    except UnitError as e:
        raise IngestError(path, f"units '{units}': {e}", column=name) from None
    values = np.asarray(da.transpose(issue_dim, sdim, ldim, rdim).to_numpy(), dtype=float) * f
    matches = _match_stations(path, ds, sdim, config, tolerance_km)
    stations = [m.gauge for m in matches]
    members = np.asarray(ds[rdim].to_numpy()) if rdim in ds.variables else np.arange(
        values.shape[3])
    _check_values(path, name, values, matches, refs, lead_days, members)
    return EnsembleForecast(path, name, stations, matches, refs, lead_days, members, values,
                            {str(k): v for k, v in ds.attrs.items()})


def _check_values(path: Path, name: str, values: np.ndarray, matches: list[StationMatch],
                  refs: np.ndarray, lead_days: np.ndarray, members: np.ndarray) -> None:
    def where(i: int, s: int, j: int | None, k: int) -> str:
        lead = f", lead {lead_days[j]} d" if j is not None else ""
        return (f"station '{matches[s].file_id}' ({matches[s].gauge}), issue "
                f"{pd.Timestamp(refs[i]):%Y-%m-%d %H:%M}{lead}, member {members[k]}")

    if np.isinf(values).any():
        i, s, j, k = np.argwhere(np.isinf(values))[0]
        raise IngestError(path, f"infinite discharge at {where(i, s, j, k)}", column=name)
    with np.errstate(invalid="ignore"):
        neg = values < 0
    if neg.any():
        i, s, j, k = np.argwhere(neg)[0]
        raise IngestError(path, f"negative discharge {values[i, s, j, k]:g} m³/s at "
                          f"{where(i, s, j, k)}", column=name)
    empty = np.isnan(values).all(axis=2)
    if empty.any():
        i, s, k = np.argwhere(empty)[0]
        raise IngestError(path, f"member with no value (all NaN) at {where(i, s, None, k)}",
                          column=name)


def gauge_matches(forecast: EnsembleForecast) -> Mapping[str, StationMatch]:
    """gauge id -> how the file's station was matched."""
    return {m.gauge: m for m in forecast.matches}
