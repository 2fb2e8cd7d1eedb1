"""Scenario forcing: the daily basin temperature and precipitation that drive the snowmelt
model (calibration, season climatology), from a source chosen in config.

The choice is ``config/scenarios/_forcing.toml`` (without the file: the synthetic
demonstration climate)::

    [forcing]
    source = "synthetic"          # one of FORCING_SOURCES: synthetic, store, netcdf

    [forcing.synthetic]           # the seeded climate behind the bundled demonstration data
    seed = 20240405               # optional; default: the generator's seed

    [forcing.store]               # station series in the observations store
    stations = { ural = ["RU:ORENBURG", "KZ:19071"], tobol = ["KZ:12008"] }
    temperature_variable = "air_temperature"    # default
    precipitation_variable = "precipitation"    # default
    party = "KZ"                  # optional: only this party's series
    sources = ["kazhydromet"]     # optional: only these ingest sources, in order of preference
    max_gap_days = 2              # optional (default 2)
    synthetic = false             # whether the stored series are synthetic
    description = "..."           # optional provenance text

    [forcing.netcdf]              # a CF-NetCDF file of basin-mean daily series
    path = "data/forcing/basins.nc"   # relative to the project root
    temperature = "air_temperature"   # variable name (default) ...
    precipitation = "precipitation"   # ... or, per basin, <name>_<basin>
    basin_dimension = "basin"         # default
    max_gap_days = 2
    synthetic = false             # optional; default: the file's global attribute

Each source is a class registered in :data:`FORCING_SOURCES` (``@forcing_source("kind")``)
whose fields are its table's keys and whose :meth:`ForcingSource.load` returns a
:class:`hydro.scenarios.HistoricalForcing`; a new source is one new class.

Store source.  The series are the store variables ``air_temperature`` (°C, daily mean) and
``precipitation`` (mm, daily total) of the stations listed per basin (any node of
config/basins.toml: the store keeps series of known stations only; ingest them like any
other series, e.g. as a CF-NetCDF exchange file with variables ``air_temperature`` and
``precipitation``).  Each station's values are aggregated to its local dates (temperature:
mean, precipitation: sum); where a station is reported by several parties or sources, the
series of ``party`` (default: the station's country first) and of the first of ``sources``
(default: alphabetical) that has the day is taken.  The basin's value is the mean over its
stations of those that have the day.

NetCDF source (the expected layout)::

    dimensions:  time (daily), basin
    time(time)              CF time (standard calendar); one step per local date
    basin(basin)            str, basin ids of config/basins.toml (ural, irtysh, tobol, ishim)
    air_temperature(basin, time) or (time, basin)
                            units degC (also "celsius", "K"), daily mean; found by name or
                            standard_name "air_temperature"
    precipitation(basin, time) or (time, basin)
                            units mm (also "mm d-1", "kg m-2", "kg m-2 d-1", "m";
                            fluxes "kg m-2 s-1", "mm s-1" are multiplied by 86400), daily
                            total; found by name or standard_name precipitation_amount,
                            lwe_thickness_of_precipitation_amount or precipitation_flux

or, without a ``basin`` dimension, one variable per basin: ``air_temperature_ural(time)``,
``precipitation_ural(time)``, …  Global attributes ``title``/``source`` go into the
provenance; ``synthetic = "yes"`` marks synthetic forcing.  :func:`write_forcing_netcdf`
writes this layout.

Gaps.  Every source gives complete series: gaps of at most ``max_gap_days`` days are filled
(temperature linearly, precipitation with zero); a longer gap, or requested dates the data
do not cover, is an error naming the basin, the variable and the first missing day.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import Field, create_model

from hydro.config import Config, read_toml
from hydro.errors import ConfigError, validate
from hydro.network import Strict
from hydro.scenarios import HistoricalForcing
from hydro.services.context import Store
from hydro.units import VARIABLE_DIMENSION

SCENARIO_DIR = "scenarios"
FORCING_FILE = "_forcing.toml"
DEFAULT_SOURCE = "synthetic"

#: the synthetic demonstration world's forcing (hydro.synthetic) — a stand-in for the
#: station or reanalysis temperature and precipitation a deployment would supply
DEMO_FORCING_DESCRIPTION = (
    "SYNTHETIC: daily basin temperature and precipitation of the synthetic demonstration "
    "world (hydro.synthetic.climate.basin_climate, seed {seed}), the forcing behind the "
    "bundled data in data/gauges; not observations")


# =========================================================================== registry

#: forcing source kind -> class (filled by :func:`forcing_source`)
FORCING_SOURCES: dict[str, type[ForcingSource]] = {}

SourceT = TypeVar("SourceT", bound="type[ForcingSource]")


def forcing_source(kind: str) -> Callable[[SourceT], SourceT]:
    """Register a :class:`ForcingSource` subclass as ``[forcing] source = "<kind>"``."""

    def register(cls: SourceT) -> SourceT:
        if kind in FORCING_SOURCES and FORCING_SOURCES[kind] is not cls:
            raise ValueError(f"forcing source '{kind}' is already registered")
        cls.kind = kind
        FORCING_SOURCES[kind] = cls
        return cls

    return register


class ForcingSource(Strict):
    """A source of daily basin forcing; its fields are the keys of ``[forcing.<kind>]``."""

    kind: ClassVar[str] = ""
    #: whether :meth:`load` reads the observations store
    needs_store: ClassVar[bool] = False

    def check(self, config: Config) -> list[tuple[str, str]]:
        """Problems against the deployment (unknown basins, stations…) as (key, message)."""
        return []

    def load(self, config: Config, store: Store | None,
             dates: pd.DatetimeIndex | None) -> HistoricalForcing:
        """Daily forcing of every basin the source covers, on ``dates`` (default: every
        day the source has for all of them)."""
        raise NotImplementedError


# =========================================================================== helpers

def _select(temp: Mapping[str, pd.Series], precip: Mapping[str, pd.Series],
            wanted: pd.DatetimeIndex | None, where: str, max_gap_days: int
            ) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Series indexed by date -> complete arrays on ``wanted`` (or the common period)."""
    if wanted is None:
        firsts, lasts = [], []
        for table in (temp, precip):
            for s in table.values():
                ok = s.dropna()
                if ok.empty:
                    continue
                firsts.append(ok.index[0])
                lasts.append(ok.index[-1])
        if not firsts or max(firsts) > min(lasts):
            raise ConfigError(f"{where}: the series have no period in common")
        wanted = pd.date_range(max(firsts), min(lasts), freq="D")
    else:
        wanted = pd.DatetimeIndex(wanted).normalize()
    t_out: dict[str, np.ndarray] = {}
    p_out: dict[str, np.ndarray] = {}
    for name, table, out in (("temperature", temp, t_out), ("precipitation", precip, p_out)):
        for basin, s in table.items():
            out[basin] = _fill(s.reindex(wanted), name, max_gap_days,
                               f"{where}: basin '{basin}', {name}")
    return wanted, t_out, p_out


def _fill(s: pd.Series, name: str, max_gap_days: int, where: str) -> np.ndarray:
    """Fill gaps of at most ``max_gap_days`` (temperature linearly, precipitation with 0);
    a longer gap, or a missing first or last day, is a ConfigError."""
    values = s.to_numpy(dtype=float)
    missing = np.isnan(values)
    if not missing.any():
        return values
    # runs of missing days: start index and length
    edges = np.diff(np.r_[0, missing.astype(int), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if a == 0 or b == len(values) or b - a > max_gap_days:
            raise ConfigError(
                f"{where}: no value on {pd.Timestamp(s.index[a]).date()} ({b - a} day(s) "
                f"missing from there; gaps of up to max_gap_days = {max_gap_days} inside "
                "the period are filled)")
    if name == "temperature":
        return s.interpolate(limit_area="inside").to_numpy(dtype=float)
    return np.where(missing, 0.0, values)


def _forcing(dates: pd.DatetimeIndex, temp: dict[str, np.ndarray],
             precip: dict[str, np.ndarray], synthetic: bool, description: str
             ) -> HistoricalForcing:
    return HistoricalForcing(dates.to_numpy().astype("datetime64[D]"), temp, precip,
                             synthetic, description)


def _check_basins(config: Config, basins: Sequence[str], key: str) -> list[tuple[str, str]]:
    return [(key, f"unknown basin '{b}' (known: {', '.join(config.network.basins)})")
            for b in basins if b not in config.network.basins]


def station_timezone(config: Config, station: str) -> str:
    """The station's IANA time zone (a node without one takes a gauge's of its basin)."""
    net = config.network
    node = net.node(station)
    tz = getattr(node, "timezone", None)
    if tz:
        return str(tz)
    for g in net.gauges.values():
        if g.basin == node.basin:
            return g.timezone
    return "UTC"


def station_daily(frame: pd.DataFrame, timezone: str, how: str = "mean",
                  party_order: Sequence[str] = (), source_order: Sequence[str] = ()
                  ) -> pd.Series:
    """One station's variable as a daily series by local date.

    ``frame`` holds the rows of :func:`hydro.store.api.observations` for one station and
    variable (any parties and sources).  Values are aggregated per local date (``how``:
    ``mean`` or ``sum``); where several (party, source) series have a day, the first in
    the preference order (``party_order`` then ``source_order``; others after, in
    alphabetical order) is taken.
    """
    if frame.empty:
        return pd.Series(dtype=float)
    frame = frame[np.isfinite(frame["value"].to_numpy(dtype=float))]
    if frame.empty:
        return pd.Series(dtype=float)
    time = pd.DatetimeIndex(pd.to_datetime(frame["time"]))
    if time.tz is None:
        time = time.tz_localize("UTC")
    local = time.tz_convert(timezone).tz_localize(None).normalize()
    keyed = pd.DataFrame({"date": local, "value": frame["value"].to_numpy(dtype=float),
                          "party": frame["party"].astype(str).to_numpy(),
                          "source": frame["source"].astype(str).to_numpy()})

    def rank(key: tuple[str, str]) -> tuple[int, int, str, str]:
        party, source = key
        p = list(party_order).index(party) if party in party_order else len(party_order)
        s = list(source_order).index(source) if source in source_order else len(source_order)
        return (p, s, party, source)

    pairs = keyed[["party", "source"]].drop_duplicates().itertuples(index=False)
    out: pd.Series | None = None
    for party, source in sorted(((str(a), str(b)) for a, b in pairs), key=rank):
        grp = keyed[(keyed["party"] == party) & (keyed["source"] == source)]
        daily = grp.groupby("date")["value"].agg(how)
        out = daily if out is None else out.combine_first(daily)
    assert out is not None
    out.index.name = "date"
    return out.sort_index()


# =========================================================================== sources

def demo_forcing(config: Config, seed: int | None = None) -> HistoricalForcing:
    """The basin forcing of the bundled synthetic demonstration data (2010–2024), drawn
    with ``seed`` (default: the generator's, the one behind data/gauges)."""
    from hydro.synthetic.climate import demo_basin_climate
    from hydro.synthetic.generate import DEFAULT_SEED, END, START

    seed = DEFAULT_SEED if seed is None else seed
    days = pd.date_range(START, END, freq="D")
    temp, precip = {}, {}
    for b in sorted(config.network.basins):
        temp[b], precip[b] = demo_basin_climate(b, days, seed)
    return HistoricalForcing(days.to_numpy().astype("datetime64[D]"), temp, precip, True,
                             DEMO_FORCING_DESCRIPTION.format(seed=seed))


@forcing_source("synthetic")
class SyntheticForcing(ForcingSource):
    """The seeded climate of the synthetic demonstration world (:mod:`hydro.synthetic`),
    the forcing behind the bundled data — for the demonstration only."""

    seed: int | None = Field(default=None, ge=0)

    def load(self, config: Config, store: Store | None,
             dates: pd.DatetimeIndex | None) -> HistoricalForcing:
        f = demo_forcing(config, self.seed)   # always drawn over its whole period
        if dates is None:
            return f
        have = pd.DatetimeIndex(f.dates)
        wanted = pd.DatetimeIndex(dates).normalize()
        pos = have.get_indexer(wanted)
        if (pos < 0).any():
            missing = wanted[pos < 0][0]
            raise ConfigError(f"synthetic forcing covers {have[0].date()}..{have[-1].date()} "
                              f"only, not {missing.date()}")
        return _forcing(wanted, {b: np.asarray(v)[pos] for b, v in f.temp_c.items()},
                        {b: np.asarray(v)[pos] for b, v in f.precip_mm.items()},
                        f.synthetic, f.description)


@forcing_source("store")
class StoreForcing(ForcingSource):
    """Station series of air temperature and precipitation in the observations store,
    averaged over the stations listed for each basin (see the module docs)."""

    needs_store: ClassVar[bool] = True

    stations: dict[str, list[str]] = Field(min_length=1)
    temperature_variable: str = "air_temperature"
    precipitation_variable: str = "precipitation"
    party: Literal["KZ", "RU"] | None = None
    sources: list[str] | None = None
    max_gap_days: int = Field(default=2, ge=0, le=31)
    synthetic: bool = False
    description: str = ""

    def check(self, config: Config) -> list[tuple[str, str]]:
        errors = _check_basins(config, list(self.stations), "stations")
        net = config.network
        for b, ids in self.stations.items():
            if not ids:
                errors.append((f"stations.{b}", "give at least one station"))
            for sid in ids:
                if sid not in net.gauges and sid not in net.reservoirs and sid not in net.nodes:
                    errors.append((f"stations.{b}", f"unknown station '{sid}' (not in "
                                   "config/basins.toml)"))
        for key, dim in (("temperature_variable", "temperature"),
                         ("precipitation_variable", "depth")):
            var = getattr(self, key)
            if VARIABLE_DIMENSION.get(var) != dim:
                known = [v for v, d in VARIABLE_DIMENSION.items() if d == dim]
                errors.append((key, f"'{var}' is not a stored {dim} variable "
                               f"(known: {', '.join(known)})"))
        return errors

    def load(self, config: Config, store: Store | None,
             dates: pd.DatetimeIndex | None) -> HistoricalForcing:
        from hydro.store import api

        if store is None:
            raise ConfigError("forcing source 'store' needs the observations store")
        ids = sorted({s for v in self.stations.values() for s in v})
        start = end = None
        if dates is not None and len(dates):
            # local dates of stations east of Greenwich start the day before in UTC
            start = (pd.Timestamp(dates[0]) - pd.Timedelta(days=1)).to_pydatetime()
            end = (pd.Timestamp(dates[-1]) + pd.Timedelta(days=2)).to_pydatetime()
        obs = api.observations(store, stations=ids,
                               variables=[self.temperature_variable,
                                          self.precipitation_variable],
                               start=start, end=end, party=self.party, sources=self.sources)
        temp: dict[str, pd.Series] = {}
        precip: dict[str, pd.Series] = {}
        where = "forcing source 'store'"
        for basin, stations in self.stations.items():
            for var, how, out in ((self.temperature_variable, "mean", temp),
                                  (self.precipitation_variable, "sum", precip)):
                per_station = []
                for sid in stations:
                    rows = obs[(obs["station_id"] == sid) & (obs["variable"] == var)]
                    node = config.network.node(sid)
                    country = getattr(node, "country", None)
                    parties = [self.party or country or ""]
                    s = station_daily(rows, station_timezone(config, sid), how,
                                      parties, self.sources or ())
                    if not s.empty:
                        per_station.append(s.rename(sid))
                if not per_station:
                    raise ConfigError(f"{where}: no '{var}' values in the store for basin "
                                      f"'{basin}' (stations {', '.join(stations)})"
                                      + ("" if dates is None or not len(dates) else
                                         f" between {dates[0].date()} and {dates[-1].date()}"))
                out[basin] = pd.concat(per_station, axis=1).mean(axis=1, skipna=True)
        day_index, t, p = _select(temp, precip, dates, where, self.max_gap_days)
        text = (f"station series in the store ({self.temperature_variable}, "
                f"{self.precipitation_variable}), basin mean of "
                + "; ".join(f"{b}: {', '.join(s)}" for b, s in self.stations.items()))
        if self.description:
            text += f"; {self.description}"
        if self.synthetic:
            text = "SYNTHETIC: " + text
        return _forcing(day_index, t, p, self.synthetic, text)


@forcing_source("netcdf")
class NetCDFForcing(ForcingSource):
    """Basin-mean daily series in a CF-NetCDF file (layout in the module docs)."""

    path: str
    temperature: str = "air_temperature"
    precipitation: str = "precipitation"
    basin_dimension: str = "basin"
    max_gap_days: int = Field(default=2, ge=0, le=31)
    synthetic: bool | None = None

    def load(self, config: Config, store: Store | None,
             dates: pd.DatetimeIndex | None) -> HistoricalForcing:
        path = config.resolve(self.path)
        days, temp, precip, attrs = read_forcing_netcdf(
            path, temperature=self.temperature, precipitation=self.precipitation,
            basin_dimension=self.basin_dimension)
        unknown = [b for b in temp if b not in config.network.basins]
        if unknown:
            raise ConfigError(f"{path}: unknown basin '{unknown[0]}' (known: "
                              f"{', '.join(config.network.basins)})")
        t = {b: pd.Series(v, index=days) for b, v in temp.items()}
        p = {b: pd.Series(v, index=days) for b, v in precip.items()}
        day_index, t_arr, p_arr = _select(t, p, dates, str(path), self.max_gap_days)
        synthetic = self.synthetic
        if synthetic is None:
            synthetic = str(attrs.get("synthetic", "")).strip().lower() in ("yes", "true", "1")
        about = attrs.get("title") or attrs.get("source") or ""
        text = f"basin-mean daily forcing from {path.name}" + (f" ({about})" if about else "")
        if synthetic:
            text = "SYNTHETIC: " + text
        return _forcing(day_index, t_arr, p_arr, synthetic, text)


# =========================================================================== NetCDF files

_TEMPERATURE_NAMES = ("air_temperature",)
_PRECIPITATION_NAMES = ("precipitation_amount", "lwe_thickness_of_precipitation_amount",
                        "precipitation_flux")


def _unit_conversion(kind: str, units: str) -> Callable[[np.ndarray], np.ndarray] | None:
    u = units.strip().replace("**", "").replace("^", "").replace("·", " ")
    c = u.replace(" ", "").replace(".", "").lower()
    if kind == "temperature":
        if c in ("degc", "celsius", "deg_c", "degreec", "degreesc", "degree_celsius",
                 "degrees_celsius", "°c", "c"):
            return lambda v: v
        if c in ("k", "kelvin", "degk", "deg_k"):
            return lambda v: v - 273.15
        return None
    if c in ("mm", "mmd-1", "mm/d", "mm/day", "kgm-2", "kg/m2", "kgm-2d-1", "kg/m2/d",
             "kg/m2/day"):
        return lambda v: v
    if c in ("kgm-2s-1", "kg/m2/s", "mms-1", "mm/s"):
        return lambda v: v * 86400.0
    if c in ("m", "md-1", "m/d", "m/day"):
        return lambda v: v * 1000.0
    return None


def read_forcing_netcdf(path: Path, *, temperature: str = "air_temperature",
                        precipitation: str = "precipitation", basin_dimension: str = "basin"
                        ) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray],
                                   dict[str, np.ndarray], dict[str, Any]]:
    """Read basin-mean daily temperature (°C) and precipitation (mm/day) from a CF-NetCDF
    file laid out as the module docs describe.

    Returns the dates (every day from the first to the last; NaN where the file has no
    value), the temperature and precipitation per basin, and the global attributes.
    Raises :class:`ConfigError` naming the file and variable on any layout problem.
    """
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: forcing file not found")
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError, RuntimeError) as e:
        raise ConfigError(f"{path}: not a readable NetCDF file: {e}") from None
    with ds:
        if "time" not in ds.variables or ds["time"].ndim != 1:
            raise ConfigError(f"{path}: no one-dimensional 'time' coordinate")
        if not np.issubdtype(ds["time"].dtype, np.datetime64):
            raise ConfigError(f"{path}: time: cannot be read as dates (use CF units such as "
                              "'days since 2010-01-01' and a standard calendar)")
        tdim = str(ds["time"].dims[0])
        days = pd.DatetimeIndex(ds["time"].to_numpy()).normalize()
        if days.has_duplicates:
            raise ConfigError(f"{path}: time: {days[days.duplicated()][0].date()} appears "
                              "twice (expected one value per day)")
        if not days.is_monotonic_increasing:
            raise ConfigError(f"{path}: time: not increasing")
        full = pd.date_range(days[0], days[-1], freq="D") if len(days) else days
        out: dict[str, dict[str, np.ndarray]] = {"temperature": {}, "precipitation": {}}
        for kind, name, std in (("temperature", temperature, _TEMPERATURE_NAMES),
                                ("precipitation", precipitation, _PRECIPITATION_NAMES)):
            arrays = _forcing_arrays(ds, path, kind, name, std, basin_dimension, tdim)
            for basin, (values, units) in arrays.items():
                conv = _unit_conversion(kind, units)
                if conv is None:
                    raise ConfigError(f"{path}: {name} ({basin}): units '{units}' are not a "
                                      f"{kind} unit this reader knows (see "
                                      "hydro.services.forcing)")
                series = pd.Series(conv(np.asarray(values, dtype=float)), index=days)
                out[kind][basin] = series.reindex(full).to_numpy()
        if set(out["temperature"]) != set(out["precipitation"]):
            only = set(out["temperature"]) ^ set(out["precipitation"])
            raise ConfigError(f"{path}: basin(s) {', '.join(sorted(only))} have only one of "
                              f"{temperature} and {precipitation}")
        return full, out["temperature"], out["precipitation"], dict(ds.attrs)


def _forcing_arrays(ds: Any, path: Path, kind: str, name: str, standard_names: Sequence[str],
                    basin_dim: str, tdim: str) -> dict[str, tuple[np.ndarray, str]]:
    """basin -> (values along time, units) of one forcing variable, in either layout."""
    var = ds[name] if name in ds.data_vars else None
    if var is None:
        hits = [v for v in ds.data_vars.values()
                if v.attrs.get("standard_name") in standard_names and basin_dim in v.dims]
        var = hits[0] if len(hits) == 1 else None
    if var is not None:
        if set(var.dims) != {basin_dim, tdim}:
            raise ConfigError(f"{path}: {var.name}: dimensions {var.dims}, expected "
                              f"({basin_dim}, {tdim})")
        if basin_dim not in ds.variables:
            raise ConfigError(f"{path}: no '{basin_dim}' coordinate naming the basins")
        units = str(var.attrs.get("units", ""))
        if not units:
            raise ConfigError(f"{path}: {var.name}: no units attribute")
        basins = [b.decode() if isinstance(b, bytes) else str(b)
                  for b in ds[basin_dim].to_numpy()]
        data = var.transpose(basin_dim, tdim).to_numpy()
        return {b.strip(): (data[i], units) for i, b in enumerate(basins)}
    prefix = f"{name}_"
    per_basin = {k[len(prefix):]: v for k, v in ds.data_vars.items()
                 if str(k).startswith(prefix) and v.dims == (tdim,)}
    if not per_basin:
        raise ConfigError(f"{path}: no {kind} variable: expected '{name}' ({basin_dim}, "
                          f"{tdim}), a variable with standard_name "
                          f"{' or '.join(standard_names)}, or '{name}_<basin>' ({tdim})")
    out = {}
    for b, v in per_basin.items():
        units = str(v.attrs.get("units", ""))
        if not units:
            raise ConfigError(f"{path}: {prefix}{b}: no units attribute")
        out[b] = (v.to_numpy(), units)
    return out


def write_forcing_netcdf(forcing: HistoricalForcing, path: Path, title: str = "") -> Path:
    """Write basin forcing in the layout :class:`NetCDFForcing` reads (``basin``, ``time``;
    ``air_temperature`` in degC, ``precipitation`` in mm per day)."""
    import xarray as xr

    basins = sorted(forcing.temp_c)
    ds = xr.Dataset(
        {"air_temperature": (("basin", "time"), np.stack([forcing.temp_c[b] for b in basins]),
                             {"units": "degC", "standard_name": "air_temperature",
                              "long_name": "basin-mean daily mean air temperature"}),
         "precipitation": (("basin", "time"), np.stack([forcing.precip_mm[b] for b in basins]),
                           {"units": "mm",
                            "standard_name": "lwe_thickness_of_precipitation_amount",
                            "long_name": "basin-mean daily total precipitation"})},
        coords={"basin": ("basin", np.array(basins, dtype=object)),
                "time": ("time", pd.DatetimeIndex(forcing.dates).to_numpy())},
        attrs={"Conventions": "CF-1.8", "title": title or forcing.description,
               "synthetic": "yes" if forcing.synthetic else "no"})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path)
    return path


# =========================================================================== config

def forcing_path(config: Config) -> Path:
    return config.root / SCENARIO_DIR / FORCING_FILE


def parse_forcing(raw: Mapping[str, Any], source: str, config: Config) -> ForcingSource:
    """Validate a ``_forcing.toml`` mapping; errors name the file and key; an unknown
    source lists the known ones."""
    table = raw.get("forcing", {}) if isinstance(raw, Mapping) else {}
    kind = table.get("source", DEFAULT_SOURCE) if isinstance(table, Mapping) else None
    if isinstance(table, Mapping) and kind not in FORCING_SOURCES:
        raise ConfigError(f"{source}: forcing.source: unknown forcing source '{kind}' "
                          f"(known: {', '.join(sorted(FORCING_SOURCES))})")
    raw = copy.deepcopy(dict(raw))
    if isinstance(raw.get("forcing"), dict):
        raw["forcing"].setdefault(kind, {})
    fields: dict[str, Any] = {k: (cls | None, None) for k, cls in FORCING_SOURCES.items()}
    table_model = create_model("ForcingTable", __base__=Strict,
                               source=(str, DEFAULT_SOURCE), **fields)
    file_model = create_model("ForcingFile", __base__=Strict, forcing=(table_model, ...))
    parsed = validate(file_model, raw, source)
    chosen: ForcingSource = getattr(parsed.forcing, str(kind))
    problems = chosen.check(config)
    if problems:
        raise ConfigError("\n".join(f"{source}: forcing.{kind}.{k}: {m}" for k, m in problems))
    return chosen


def load_forcing_source(config: Config) -> ForcingSource:
    """The forcing source of ``config/scenarios/_forcing.toml`` (synthetic without it)."""
    path = forcing_path(config)
    if not path.exists():
        return SyntheticForcing()
    return parse_forcing(read_toml(path), str(path), config)


def load_forcing(config: Config, store: Store | None = None,
                 dates: pd.DatetimeIndex | None = None,
                 source: ForcingSource | None = None) -> HistoricalForcing:
    """The deployment's forcing on ``dates`` (default: all it has).  A source that reads
    the store opens the deployment's store when ``store`` is not given."""
    src = source or load_forcing_source(config)
    if src.needs_store and store is None:
        from hydro.services.context import open_store

        engine = open_store(config)
        try:
            return src.load(config, engine, dates)
        finally:
            engine.dispose()
    return src.load(config, store, dates)
