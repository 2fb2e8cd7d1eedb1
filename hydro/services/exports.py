"""Exports for exchange between the parties: a store selection as CF-NetCDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hydro.config import Config
from hydro.readers.netcdf import write_netcdf
from hydro.services.context import Store
from hydro.store import api


def export_store(store: Store, path: str | Path, config: Config,
                 stations: list[str] | None = None,
                 variables: tuple[str, ...] = ("stage", "discharge"),
                 start: dt.datetime | None = None, end: dt.datetime | None = None,
                 party: str | None = None, sources: list[str] | None = None,
                 as_of: dt.datetime | None = None) -> Path:
    """Write a store selection (current values, or as known at ``as_of``) as a CF-1.8
    timeSeries NetCDF file; ``ValueError`` when the selection is empty."""
    obs = api.observations(store, stations=stations, variables=variables, start=start,
                           end=end, party=party, sources=sources, as_of=as_of)
    if obs.empty:
        raise ValueError("the selection holds no observations")
    return write_netcdf(obs, path, config)
