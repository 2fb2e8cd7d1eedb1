"""CF-NetCDF time series: the exchange format, read at ingest and written for partners.

Layout (CF-1.8 discrete sampling geometry, ``featureType = "timeSeries"``, orthogonal
multidimensional representation), built by :func:`to_dataset` and read by :func:`read`::

    dimensions:  station (one per reported series: a station as reported by one party),
                 time (UTC)
    station_id(station)   str   "KZ:19073"  the gauge or reservoir id of config/basins.toml
    party(station)        str   "KZ" | "RU" who reported the series
    series_id(station)    str   "KZ:19073 KZ"  cf_role = "timeseries_id"
    station_name(station), lat(station), lon(station)       (when the config is given)
    time(time)            minutes since 1970-01-01 00:00:00 UTC, standard calendar
    stage(station, time)  cm, standard_name water_surface_height_above_reference_datum
    discharge(station, time)  m3 s-1, standard_name water_volume_transport_in_river_channel
    level, volume, inflow, outflow, spill, evaporation  (reservoirs; see VARIABLES)
    <var>_qc(station, time)          QC flag bits (flag_masks / flag_meanings of hydro.qc.QC)
    <var>_phenomena(station, time)   ice phenomena (flag_values / flag_meanings), 0 = none

A border gauge reported by both parties is two entries of the ``station`` dimension with
the same ``station_id``: both series are kept, as in the store.

Reading accepts this layout and CF time-series files from elsewhere: the instance
dimension is the one of the ``cf_role = "timeseries_id"`` variable; stations are resolved
like any file's codes (id, id without the country prefix, or post code); variables are
recognised by name or ``standard_name``; units are converted to the canonical units of
:mod:`hydro.units` (a unit of the wrong dimension is an error naming the variable); of the
QC bits only those that belong to the reading itself (ICE, CENSORED) are taken -- the
series and cross checks are recomputed at ingest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hydro.errors import HydroriskError, IngestError, UnitError
from hydro.qc import ICE_PHENOMENA, QC, READER_FLAGS, VARIABLE_DIMENSION
from hydro.readers.common import Batch, StationResolver, TimeWindow
from hydro.units import CANONICAL, factor

#: variable -> (CF units, standard_name or None, long_name)
VARIABLES: dict[str, tuple[str, str | None, str]] = {
    "stage": ("cm", "water_surface_height_above_reference_datum",
              "stage (water level above gauge zero)"),
    "discharge": ("m3 s-1", "water_volume_transport_in_river_channel", "river discharge"),
    "level": ("m", "water_surface_height_above_reference_datum",
              "reservoir water level (Baltic height system)"),
    "volume": ("hm3", None, "reservoir volume"),
    "inflow": ("m3 s-1", None, "reservoir inflow"),
    "outflow": ("m3 s-1", None, "reservoir outflow (release and spill)"),
    "spill": ("m3 s-1", None, "reservoir spill"),
    "evaporation": ("m3 s-1", None, "reservoir evaporation"),
    "air_temperature": ("degC", "air_temperature", "daily mean air temperature"),
    "precipitation": ("mm", "lwe_thickness_of_precipitation_amount",
                      "daily total precipitation"),
    "snow_water_equivalent": ("mm", "lwe_thickness_of_surface_snow_amount",
                              "snow water equivalent on the ground"),
    "soil_moisture": ("1", "volume_fraction_of_condensed_water_in_soil",
                      "volumetric soil water of the top layer (0-7 cm)"),
    "frost_depth": ("cm", None, "depth of frozen soil below the surface"),
}
#: the canonical unit of each variable as stored (hydro.units spelling)
STORE_UNIT = {v: CANONICAL[d] for v, d in VARIABLE_DIMENSION.items()}
PHENOMENA_CODES = ["ice_cover", "ice_drift", "ice_jam", "frazil", "shore_ice", "ice_on_bank",
                   "open_water"]
TIME_UNITS = "minutes since 1970-01-01 00:00:00"
_STANDARD_NAME_TO_VAR = {
    "water_volume_transport_in_river_channel": "discharge",
    "water_surface_height_above_reference_datum": "stage",
    "surface_water_level": "stage",  # not a CF standard name, but seen in the wild
    "lwe_thickness_of_surface_snow_amount": "snow_water_equivalent",
    "volume_fraction_of_condensed_water_in_soil": "soil_moisture",
}


def _cf_unit_to_hydro(unit: str) -> str:
    """CF/UDUNITS spellings of the units we store -> the spelling hydro.units knows."""
    u = unit.strip().replace("**", "").replace("^", "")
    compact = u.replace(" ", "").replace(".", "")
    if compact in ("m3s-1", "m3/s", "m3/sec", "cumecs"):
        return "m3/s"
    if compact in ("ls-1", "l/s"):
        return "l/s"
    if compact in ("hm3", "106m3", "1e6m3"):
        return "hm3"
    if compact in ("km3",):
        return "km3"
    if u.lower() in ("meter", "meters", "metre", "metres"):
        return "m"
    if u.lower() in ("centimeter", "centimeters", "centimetre", "centimetres"):
        return "cm"
    return u


# --------------------------------------------------------------------------- writing

def to_dataset(observations: pd.DataFrame, config: Any = None, title: str | None = None):
    """The exchange / analysis :class:`xarray.Dataset` of a long table of observations.

    Parameters
    ----------
    observations : DataFrame
        ``station_id, variable, time, value, party`` and optionally ``unit`` (converted to
        the variable's canonical unit if given), ``qc_flags``, ``phenomena``; times naive UTC.
        One value per (station, variable, party, time): filter sources first.
    config : Config, optional
        Adds station names, coordinates and time zones.
    """
    import xarray as xr

    obs = observations.copy()
    for c in obs.columns:  # readers give string columns as categoricals: plain strings here
        if isinstance(obs[c].dtype, pd.CategoricalDtype):
            obs[c] = obs[c].astype(object).where(obs[c].notna(), None)
    need = {"station_id", "variable", "time", "value", "party"}
    missing = need - set(obs.columns)
    if missing:
        raise ValueError(f"observations lack column(s) {sorted(missing)}")
    unknown = sorted(set(obs["variable"]) - set(VARIABLES))
    if unknown:
        raise ValueError(f"no CF mapping for variable(s) {unknown} (known: {list(VARIABLES)})")
    if "unit" in obs:
        for key, idx in obs.groupby(["variable", "unit"]).groups.items():
            assert isinstance(key, tuple)  # grouped by two columns: (variable, unit)
            var, unit = key
            if unit != STORE_UNIT[var]:
                f = factor(unit, VARIABLE_DIMENSION[var])
                obs.loc[idx, "value"] = obs.loc[idx, "value"] * f
    obs["time"] = pd.to_datetime(obs["time"])
    dup = obs.duplicated(["station_id", "variable", "party", "time"], keep=False)
    if dup.any():
        r = obs[dup].iloc[0]
        raise ValueError(f"{r['station_id']} {r['variable']} of party {r['party']} has two "
                         f"values at {r['time']} (several sources?): select one source first")
    series = (obs[["station_id", "party"]].drop_duplicates()
              .sort_values(["station_id", "party"]).reset_index(drop=True))
    times = np.sort(obs["time"].unique()).astype("datetime64[ns]")
    s_index = pd.MultiIndex.from_frame(series)
    si = s_index.get_indexer(pd.MultiIndex.from_frame(obs[["station_id", "party"]]))
    ti = np.searchsorted(times, obs["time"].to_numpy(dtype="datetime64[ns]"))
    ns, nt = len(series), len(times)
    coords = {
        "time": ("time", times, {"standard_name": "time", "long_name": "time (UTC)",
                                 "axis": "T"}),
        "station_id": ("station", series["station_id"].to_numpy(dtype=object),
                       {"long_name": "station id (config/basins.toml)"}),
        "party": ("station", series["party"].to_numpy(dtype=object),
                  {"long_name": "reporting party (KZ or RU)"}),
        "series_id": ("station", (series["station_id"] + " " + series["party"])
                      .to_numpy(dtype=object),
                      {"cf_role": "timeseries_id",
                       "long_name": "series id: station id and reporting party"}),
    }
    if config is not None:
        net = config.network
        nodes = [net.gauges.get(s) or net.reservoirs.get(s) for s in series["station_id"]]
        coords["station_name"] = ("station", np.array(
            [n.names.en if n is not None else "" for n in nodes], dtype=object),
            {"long_name": "station name"})
        coords["lat"] = ("station", np.array(
            [getattr(n, "lat", None) if n is not None and getattr(n, "lat", None) is not None
             else np.nan for n in nodes], dtype=float),
            {"standard_name": "latitude", "units": "degrees_north"})
        coords["lon"] = ("station", np.array(
            [getattr(n, "lon", None) if n is not None and getattr(n, "lon", None) is not None
             else np.nan for n in nodes], dtype=float),
            {"standard_name": "longitude", "units": "degrees_east"})
        coords["timezone"] = ("station", np.array(
            [n.timezone if n is not None else "" for n in nodes], dtype=object),
            {"long_name": "station time zone (IANA); daily values are labelled by local date"})
    data_vars: dict[str, Any] = {}
    qc_meanings = " ".join(f.name.lower() for f in QC if f.name)
    qc_masks = np.array([int(f) for f in QC if f.name], dtype=np.int32)
    for var, grp in obs.groupby("variable", sort=True):
        assert isinstance(var, str)  # every variable is a key of VARIABLES (checked above)
        units, std, long_name = VARIABLES[var]
        pos = obs.index.get_indexer(grp.index)
        values = np.full((ns, nt), np.nan)
        values[si[pos], ti[pos]] = grp["value"].to_numpy(dtype=float)
        attrs = {"units": units, "long_name": long_name, "coordinates": "series_id station_id "
                 "party" + (" lat lon" if config is not None else ""),
                 "ancillary_variables": f"{var}_qc" + (" " + f"{var}_phenomena"
                                                       if var == "stage" else "")}
        if std:
            attrs["standard_name"] = std
        if var == "stage":
            attrs["reference_datum"] = "gauge zero (the zero of the staff gauge)"
        if var == "level":
            attrs["reference_datum"] = "Baltic height system"
        data_vars[var] = (("station", "time"), values, attrs)
        flags = np.full((ns, nt), -1, dtype=np.int32)
        qc = grp["qc_flags"] if "qc_flags" in grp else pd.Series(0, index=grp.index)
        flags[si[pos], ti[pos]] = qc.fillna(0).to_numpy(dtype=np.int64).astype(np.int32)
        qc_attrs: dict[str, Any] = {
            "long_name": f"quality flags of {var}", "flag_masks": qc_masks,
            "flag_meanings": qc_meanings, "comment": "hydro.qc.QC bits; 0 = no flag"}
        data_vars[f"{var}_qc"] = (("station", "time"), flags, qc_attrs)
        if var == "stage":
            phen = np.full((ns, nt), -1, dtype=np.int8)
            ph = grp["phenomena"] if "phenomena" in grp else pd.Series(None, index=grp.index)
            code = {c: i + 1 for i, c in enumerate(PHENOMENA_CODES)}
            phen[si[pos], ti[pos]] = np.array([code.get(p, 0) if isinstance(p, str) else 0
                                               for p in ph], dtype=np.int8)
            ph_attrs: dict[str, Any] = {
                "long_name": "ice phenomena at the time of the stage reading",
                "flag_values": np.arange(1, len(PHENOMENA_CODES) + 1, dtype=np.int8),
                "flag_meanings": " ".join(PHENOMENA_CODES), "comment": "0 = none reported"}
            data_vars["stage_phenomena"] = (("station", "time"), phen, ph_attrs)
    ds = xr.Dataset(data_vars=data_vars, coords=coords)
    ds.attrs = {
        "Conventions": "CF-1.8",
        "featureType": "timeSeries",
        "title": title or "Hydrological observations (hydrorisk exchange file)",
        "source": "hydrorisk store (observations, current revisions)",
        "history": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} written by "
                   "hydro.readers.netcdf.write_netcdf",
        "comment": "Times are UTC. Stage in cm above gauge zero; a border gauge reported by "
                   "both parties appears once per party (station_id repeats, series_id is "
                   "unique).",
    }
    return ds


def _encoding(ds) -> dict:
    enc: dict[str, dict] = {"time": {"units": TIME_UNITS, "calendar": "standard",
                                     "dtype": "float64"}}
    for name, da in ds.data_vars.items():
        if da.dtype.kind == "f":
            enc[name] = {"zlib": True, "complevel": 4, "_FillValue": np.nan}
        else:
            enc[name] = {"zlib": True, "complevel": 4, "_FillValue": -1}
    return enc


def write_netcdf(observations: pd.DataFrame, path: str | Path, config: Any = None,
                 title: str | None = None) -> Path:
    """Write observations as a CF-1.8 NetCDF-4 time-series file (see the module docs).

    Parameters
    ----------
    observations : DataFrame
        As for :func:`to_dataset` (e.g. a reader's ``Batch.observations`` or
        :func:`hydro.store.api.observations`).
    path : path
        The file to write (replaced if it exists).
    config : Config, optional
        Adds station names, coordinates and time zones.
    """
    _need_netcdf4()
    path = Path(path)
    ds = to_dataset(observations, config, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=_encoding(ds))
    tmp.replace(path)
    return path



# --------------------------------------------------------------------------- reading

def _need_netcdf4():
    try:
        import netCDF4  # noqa: F401
    except ImportError:  # pragma: no cover - netCDF4 is a dependency
        raise HydroriskError("writing NetCDF needs the netCDF4 package "
                             "(pip install netCDF4)") from None


def _open(path: Path, data: bytes):
    import xarray as xr

    try:
        import netCDF4
    except ImportError:  # pragma: no cover
        raise IngestError(path, "reading NetCDF needs the netCDF4 package "
                          "(pip install netCDF4)") from None
    if not data:
        raise IngestError(path, "the file is empty")
    try:
        nc = netCDF4.Dataset(path.name or "memory.nc", mode="r", memory=data)
    except (OSError, RuntimeError, ValueError) as e:
        raise IngestError(path, f"not a readable NetCDF file (truncated or not NetCDF?): "
                          f"{e}") from None
    try:
        return xr.open_dataset(xr.backends.NetCDF4DataStore(nc), decode_times=True,
                               mask_and_scale=True)
    except (ValueError, OverflowError, TypeError, OSError, RuntimeError) as e:
        nc.close()
        raise IngestError(path, f"cannot decode the NetCDF file as CF: {e}") from None


def _strings(values: np.ndarray) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        out.append(str(v).strip())
    return out


def read(path: Path, data: bytes, config: Any, party: str | None = None) -> Batch:
    """Read a CF-NetCDF time-series file into a Batch of observations in canonical units.

    ``party`` (the ingest source's) applies to series without a ``party`` variable or
    global ``reporting_party`` attribute; without any of these a series is the station
    country's.
    """
    ds = _open(path, data)
    try:
        return _read_dataset(path, ds, config, party)
    except (RuntimeError, OSError, KeyError, IndexError, TypeError, OverflowError) as e:
        # the data are read lazily: a damaged chunk fails only now (netCDF4 raises
        # RuntimeError "NetCDF: HDF error"); an IngestError, never a crash of the ingest
        raise IngestError(path, f"cannot read the NetCDF data (damaged or truncated file?): "
                          f"{type(e).__name__}: {e}") from None
    finally:
        ds.close()


def _read_dataset(path: Path, ds, config: Any, party: str | None) -> Batch:
    role = [n for n, v in ds.variables.items() if v.attrs.get("cf_role") == "timeseries_id"]
    if not role:
        raise IngestError(path, "no variable with cf_role = 'timeseries_id' (expected a CF "
                          "discrete-sampling-geometry timeSeries file)")
    id_var = ds[role[0]]
    if id_var.ndim != 1:
        raise IngestError(path, f"the timeseries_id variable '{role[0]}' must be "
                          "one-dimensional", column=role[0])
    inst = id_var.dims[0]
    if "time" not in ds.variables:
        raise IngestError(path, "no 'time' coordinate variable")
    time_var = ds["time"]
    if time_var.ndim != 1:
        raise IngestError(path, "the 'time' variable must be one-dimensional (orthogonal "
                          "multidimensional representation)", column="time")
    tdim = time_var.dims[0]
    if not np.issubdtype(time_var.dtype, np.datetime64):
        raise IngestError(path, f"time units '{time_var.encoding.get('units', '?')}' or "
                          f"calendar '{time_var.encoding.get('calendar', '?')}' cannot be read "
                          "as UTC times (use a standard calendar)", column="time")
    raw_times = time_var.to_numpy()
    if np.isnat(raw_times).any():
        raise IngestError(path, f"time[{int(np.flatnonzero(np.isnat(raw_times))[0])}] is "
                          "missing", column="time")
    # at the decoded resolution, before any conversion to nanoseconds (which would wrap a
    # year 3024 around to 1855)
    window = TimeWindow.of(config)
    secs = raw_times.astype("datetime64[s]")
    outside = (secs < window.earliest.astype("datetime64[s]")) | (
        secs > window.latest.astype("datetime64[s]"))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise IngestError(path, f"time[{i}] '{secs[i]}' {window.problem(secs[i])}",
                          column="time")
    times = raw_times.astype("datetime64[ns]")
    if np.isnat(times).any():
        raise IngestError(path, f"time[{int(np.flatnonzero(np.isnat(times))[0])}] is missing",
                          column="time")
    if times.size > 1 and not (np.diff(times) > np.timedelta64(0, "ns")).all():
        i = int(np.flatnonzero(np.diff(times) <= np.timedelta64(0, "ns"))[0]) + 1
        raise IngestError(path, f"time is not strictly increasing at index {i} "
                          f"({pd.Timestamp(times[i])} after {pd.Timestamp(times[i - 1])})",
                          column="time")
    code_name = "station_id" if "station_id" in ds.variables and ds["station_id"].dims == (
        inst,) else role[0]
    codes = _strings(ds[code_name].to_numpy())
    resolver = StationResolver(config)
    stations = []
    for i, c in enumerate(codes):
        sid = resolver.resolve(c)
        if sid is None:
            raise IngestError(path, f"unknown station '{c}' (not in config/basins.toml)",
                              column=f"{code_name}[{i}]")
        stations.append(sid)
    if "party" in ds.variables and ds["party"].dims == (inst,):
        parties = _strings(ds["party"].to_numpy())
    else:
        default = ds.attrs.get("reporting_party") or party
        parties = [default or resolver.country(s) for s in stations]
    for i, p in enumerate(parties):
        if p not in ("KZ", "RU"):
            raise IngestError(path, f"unknown party '{p}' (expected KZ or RU)",
                              column=f"party[{i}]")
    seen: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(stations, parties, strict=True)):
        if key in seen:
            raise IngestError(path, f"station {key[0]} of party {key[1]} appears twice (at "
                              f"{inst} {seen[key]} and {i})", column=f"{code_name}[{i}]")
        seen[key] = i
    found = _data_variables(path, ds, inst, tdim, stations, config)
    if not found:
        raise IngestError(path, "no known data variable (expected one of "
                          f"{', '.join(VARIABLES)} or a CF standard_name such as "
                          "water_volume_transport_in_river_channel)")
    parts = []
    ns, nt = len(stations), times.size
    st_arr = np.array(stations, dtype=object)
    pa_arr = np.array(parties, dtype=object)
    for var, name in found:
        da = ds[name].transpose(inst, tdim)
        units = da.attrs.get("units")
        if not units:
            raise IngestError(path, "no units attribute", column=name)
        try:
            f = factor(_cf_unit_to_hydro(str(units)), VARIABLE_DIMENSION[var])
        except UnitError as e:
            raise IngestError(path, f"units '{units}': {e}", column=name) from None
        values = np.asarray(da.to_numpy(), dtype=float) * f
        present = ~np.isnan(values)
        if np.isinf(values).any():
            i, j = np.argwhere(np.isinf(values))[0]
            raise IngestError(path, f"infinite value at {codes[i]} {pd.Timestamp(times[j])}",
                              column=f"{name}[{i},{j}]")
        si, ti = np.nonzero(present)
        qc = np.zeros(si.size, dtype=np.int64)
        qname = f"{name}_qc"
        if qname in ds.variables:
            q = np.asarray(ds[qname].transpose(inst, tdim).to_numpy(), dtype=float)[si, ti]
            qc = np.where(np.isnan(q), 0, q).astype(np.int64) & READER_FLAGS
        phen = np.full(si.size, None, dtype=object)
        pname = f"{name}_phenomena"
        if pname in ds.variables:
            pv = ds[pname]
            meanings = str(pv.attrs.get("flag_meanings", "")).split()
            fvals = np.atleast_1d(pv.attrs.get("flag_values", np.arange(1, len(meanings) + 1)))
            lookup = {int(v): m for v, m in zip(fvals, meanings, strict=False)}
            raw = np.asarray(pv.transpose(inst, tdim).to_numpy(), dtype=float)[si, ti]
            phen = np.array([None if np.isnan(c) or int(c) == 0 else lookup.get(int(c))
                             for c in raw], dtype=object)
            phen[phen == "open_water"] = None
        if var == "stage":
            ice = np.isin(phen, list(ICE_PHENOMENA))
            qc = np.where(ice, qc | int(QC.ICE), qc)
        parts.append(pd.DataFrame({
            "station_id": st_arr[si], "variable": var, "time": times[ti],
            "value": values[si, ti], "unit": STORE_UNIT[var], "party": pa_arr[si],
            "phenomena": phen if var == "stage" else None, "qc_flags": qc,
            "line": si * nt + ti + 1}))
    out = pd.concat(parts, ignore_index=True)
    del ns
    out = out.sort_values(["station_id", "variable", "party", "time"], kind="stable")
    return Batch(path, "netcdf", observations=out.reset_index(drop=True))


def _data_variables(path: Path, ds, inst: str, tdim: str, stations: list[str], config: Any
                    ) -> list[tuple[str, str]]:
    """(stored variable, NetCDF variable name) of each data variable the file carries."""
    all_res = all(s in config.network.reservoirs for s in stations)
    out: list[tuple[str, str]] = []
    taken: set[str] = set()
    for name, da in ds.data_vars.items():
        if set(da.dims) != {inst, tdim} or da.dtype.kind not in "fiu":
            continue
        if name.endswith(("_qc", "_phenomena")) or "flag_meanings" in da.attrs:
            continue
        var = name if name in VARIABLES else None
        if var is None:
            var = _STANDARD_NAME_TO_VAR.get(str(da.attrs.get("standard_name", "")))
            if var == "stage" and all_res:
                var = "level"
        if var is None:
            continue
        if var in taken:
            raise IngestError(path, f"two variables carry {var} (one is '{name}')", column=name)
        taken.add(var)
        out.append((var, name))
    return out
