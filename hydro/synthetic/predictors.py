"""Synthetic winter predictors of the spring flood, per basin: daily basin means of snow water
equivalent, volumetric soil moisture, frost depth and precipitation, as an agency extracts
them from ERA5-Land and writes them in a CF-NetCDF basin-mean file.

They are computed from the *same* synthetic weather that drives the generator's runoff
(:func:`hydro.synthetic.climate.demo_basin_climate`), with the same snow routine, so they
carry the information the national services' outlook regressions use — and no more: the
weather after the issue date, each node's own climate and the reanalysis' errors (below)
are not in them.

* **Snow water equivalent** (mm): the degree-day snow routine of
  :mod:`hydro.synthetic.runoff` (snow below 0.5 °C, melt 3.0 mm °C⁻¹ d⁻¹) on the basin mean
  temperature and precipitation, times a per-season reanalysis error (lognormal, σ = 8 %).
* **Frost depth** (cm): Stefan's formula d = α √FDD with the freezing degree-days since
  1 October and α = 2.7 cm (°C d)^-½ (a moist loam under snow: Andersland & Ladanyi 2004,
  *Frozen Ground Engineering*, 2nd ed., §3.4 — the plain Stefan coefficient of about 5 cm
  halved for the insulation of the snow cover); thawing from the surface with the positive
  degree-days since 1 March at the same rate.
* **Soil moisture** (m³ m⁻³, the top layer like ERA5-Land's ``swvl1``): a 150 mm bucket
  filled by rain and melt while the soil is not frozen (frost depth under 5 cm), emptied by
  evaporation 0.12 mm °C⁻¹ d⁻¹ × the bucket's fill; θ = 0.08 + 0.32 × fill.  Once the soil
  freezes it keeps the autumn's wetness until the thaw — the autumn-wetness index of the
  regressions — plus a reanalysis error (σ = 0.01 m³ m⁻³).
* **Precipitation** (mm/day): the basin mean, times a daily reanalysis error (lognormal,
  σ = 15 %).

All of it is SYNTHETIC; the file says so in its title and comment.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.synthetic.runoff import DDF_MM_PER_DEGC_DAY, SNOW_THRESHOLD_C

#: the stored variables of the basin-mean file, in the order written
PREDICTOR_VARIABLES = ("snow_water_equivalent", "soil_moisture", "frost_depth", "precipitation")
#: Stefan coefficient, cm (°C d)^-1/2
STEFAN_ALPHA_CM = 2.7
#: soil bucket capacity (mm), evaporation per positive °C and day at a full bucket (mm)
BUCKET_MM = 150.0
EVAPORATION_MM_PER_DEGC_DAY = 0.12
#: frost deeper than this (cm) keeps water from entering the soil
FROZEN_CM = 5.0
#: CF packing of each variable (int16 with this scale factor): the file stays small
_SCALE = {"snow_water_equivalent": 0.1, "soil_moisture": 0.0001, "frost_depth": 0.1,
          "precipitation": 0.01}


def basin_predictors(days: pd.DatetimeIndex, temp: np.ndarray, precip: np.ndarray,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Daily basin means of the winter predictors (see the module docs) from the basin's
    daily mean air temperature ``temp`` (°C) and precipitation ``precip`` (mm/day).

    Returns a frame indexed by ``days`` with the columns of :data:`PREDICTOR_VARIABLES`:
    snow water equivalent (mm), soil moisture (m³ m⁻³), frost depth (cm), precipitation (mm).
    """
    n = days.size
    month = days.month.to_numpy()
    day = days.day.to_numpy()
    water_year = days.year.to_numpy() + (month >= 10)
    seasons = np.unique(water_year)
    swe_error = dict(zip(seasons, np.exp(rng.normal(0.0, 0.08, seasons.size)), strict=True))
    swe = np.empty(n)
    frost = np.empty(n)
    theta = np.empty(n)
    snowpack = 0.0
    fdd = tdd = 0.0
    bucket = 0.5 * BUCKET_MM
    for t in range(n):
        if month[t] == 10 and day[t] == 1:  # a new frost season
            fdd = tdd = 0.0
        tt, p = float(temp[t]), float(precip[t])
        snow = p if tt < SNOW_THRESHOLD_C else 0.0
        snowpack += snow
        melt = min(snowpack, DDF_MM_PER_DEGC_DAY * max(tt, 0.0))
        snowpack -= melt
        fdd += max(-tt, 0.0)
        if 3 <= month[t] <= 9:              # thawing from the surface, from 1 March
            tdd += max(tt, 0.0)
        depth = max(STEFAN_ALPHA_CM * (np.sqrt(fdd) - np.sqrt(tdd)), 0.0)
        if depth < FROZEN_CM:
            bucket += (p - snow) + melt
            bucket -= EVAPORATION_MM_PER_DEGC_DAY * max(tt, 0.0) * bucket / BUCKET_MM
            bucket = min(max(bucket, 0.0), BUCKET_MM)
        swe[t] = snowpack
        frost[t] = depth
        theta[t] = 0.08 + 0.32 * bucket / BUCKET_MM
    swe = swe * np.array([swe_error[y] for y in water_year])
    theta = np.clip(theta + rng.normal(0.0, 0.01, n), 0.02, 0.45)
    p_obs = precip * np.exp(rng.normal(0.0, 0.15, n))
    return pd.DataFrame({"snow_water_equivalent": swe, "soil_moisture": theta,
                         "frost_depth": frost, "precipitation": p_obs}, index=days)


def predictor_seed(seed: int, basin_id: str) -> list[int]:
    """The random stream of one basin's reanalysis errors."""
    return [seed, 23, zlib.crc32(basin_id.encode())]


def observations_table(predictors: dict[str, pd.DataFrame], station_of: dict[str, str],
                       party: str) -> pd.DataFrame:
    """The long table (station_id, variable, time, value, unit, party) of the basins'
    predictor frames, times at 00:00 UTC of each day."""
    from hydro.readers.netcdf import STORE_UNIT

    parts = []
    for basin, frame in sorted(predictors.items()):
        for var in PREDICTOR_VARIABLES:
            parts.append(pd.DataFrame({
                "station_id": station_of[basin], "variable": var, "time": frame.index,
                "value": np.round(frame[var].to_numpy(dtype=float) / _SCALE[var]) * _SCALE[var],
                "unit": STORE_UNIT[var], "party": party}))
    return pd.concat(parts, ignore_index=True)


def write_basin_means(path: Path, observations: pd.DataFrame, banner: str,
                      basin_names: dict[str, str]) -> Path:
    """Write the basin-mean predictors as a CF-1.8 timeSeries NetCDF-3 file (int16 packed,
    byte for byte reproducible: no time stamp in it).  ``observations`` is
    :func:`observations_table`'s; ``basin_names`` maps each station id to its name."""
    from hydro.readers.netcdf import TIME_UNITS, to_dataset

    ds = to_dataset(observations, None, title=f"Basin-mean winter predictors. {banner}")
    ds = ds.drop_vars([v for v in ds.data_vars if v.endswith("_qc")])
    ds = ds.assign_coords(station_name=("station", np.array(
        [basin_names[s] for s in ds["station_id"].to_numpy()], dtype=object),
        {"long_name": "basin (mean over its catchment)"}))
    for v in PREDICTOR_VARIABLES:
        ds[v].attrs.pop("ancillary_variables", None)
        ds[v].attrs["cell_methods"] = "area: mean time: mean"
    ds.attrs.update({
        "source": "SYNTHETIC: hydro.synthetic.predictors (in the manner of an ERA5-Land "
                  "basin-mean extract); NOT a reanalysis",
        "history": "written by hydrorisk generate-demo-data",
        "comment": f"{banner} Daily values labelled 00:00 UTC of each day (UTC days). "
                   "snow_water_equivalent and frost_depth are the state at the end of "
                   "the day, precipitation the day's total.",
        "reporting_party": str(observations["party"].iloc[0]),
    })
    encoding: dict[str, dict] = {"time": {"units": TIME_UNITS, "calendar": "standard",
                                          "dtype": "float64"}}
    for v in PREDICTOR_VARIABLES:
        encoding[v] = {"dtype": "int16", "scale_factor": _SCALE[v], "_FillValue": -32767}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    ds.to_netcdf(tmp, format="NETCDF3_64BIT", engine="scipy", encoding=encoding)
    tmp.replace(path)
    return path
