"""Reading stored series for the front-ends: the stations, the latest values, the period
the store covers, and whether it holds the bundled synthetic data.  Thin on purpose: the
queries live in :mod:`hydro.store.api`; the dashboard and the CLI come through here so
that neither writes SQL nor depends on the store's internals."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hydro.services.context import Store
from hydro.store import api

#: folders of the bundled demonstration data, as recorded in the ingest runs
BUNDLED_FOLDERS = ("data/gauges", "data\\gauges")


def stations(store: Store) -> pd.DataFrame:
    """The stations mirrored from config (id, kind, country, basin, names)."""
    return api.stations(store)


def observation_count(store: Store) -> int:
    """Number of stored values (every revision counted)."""
    return api.observation_count(store)


def data_period(store: Store) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last observation time (UTC) in the store, or (None, None) when empty."""
    return api.data_period(store)


def latest(store: Store, variables: tuple[str, ...] = ("stage", "discharge", "level", "volume"),
           at: dt.datetime | None = None) -> pd.DataFrame:
    """The last current value of each series at or before ``at`` (default: now)."""
    return api.latest(store, variables=variables, at=at)


def previous_values(store: Store, keys: list[tuple[str, str, dt.datetime]], variable: str,
                    max_gap: dt.timedelta) -> pd.DataFrame:
    """For each (station, party, time), the value of ``variable`` before ``time``, no
    further back than ``max_gap`` (for the 24 h change)."""
    return api.previous_values(store, keys, variable, max_gap)


def series(store: Store, station_id: str, variable: str, start: dt.datetime | None = None,
           end: dt.datetime | None = None) -> pd.DataFrame:
    """Current values of one station's variable between ``start`` and ``end`` (UTC)."""
    return api.series(store, station_id, variable, start, end)


def ingested_from(store: Store, path_fragments: list[str]) -> bool:
    """Whether any ingest run read a file whose path contains one of ``path_fragments``."""
    return api.ingested_from(store, path_fragments)


def holds_bundled_data(store: Store) -> bool:
    """Whether the store holds the bundled SYNTHETIC demonstration data."""
    return api.ingested_from(store, list(BUNDLED_FOLDERS))


SYNTHETIC_NOTE = ("NOTE: the store holds the bundled SYNTHETIC demonstration data; these "
                  "figures are not measurements.")


def synthetic_note(store: Store) -> str | None:
    """The note every report prints when its figures come from the synthetic data."""
    return SYNTHETIC_NOTE if holds_bundled_data(store) else None


def latest_known(store: Store, variables: tuple[str, ...], at: dt.datetime,
                 as_of: dt.datetime, lookback: dt.timedelta = dt.timedelta(days=400)
                 ) -> pd.DataFrame:
    """Every value of ``variables`` with ``at - lookback <= time <= at`` as it was known at
    ``as_of`` (received by then; the revision current at that moment), for a replay of
    "what we knew at T".  Columns as :func:`hydro.store.api.observations`; the caller picks
    the last value of each series.  A series whose last value is older than ``lookback``
    is absent."""
    return api.observations(store, variables=list(variables), start=at - lookback, end=at,
                            as_of=as_of)
