"""Which gauges a forecast or an outlook is made at: every gauge of config/basins.toml, or
the ones asked for, each checked (one function, shared by :mod:`hydro.services.forecasts`
and :mod:`hydro.services.outlook`)."""

from __future__ import annotations

from collections.abc import Iterable

from hydro.config import Config
from hydro.errors import HydroriskError


def chosen_gauges(config: Config, stations: Iterable[str] | None,
                  error: type[HydroriskError], made: str) -> list[str]:
    """Every gauge id of the network (``stations`` None) or ``stations`` in the order given,
    duplicates dropped; an unknown id is ``error`` naming it and what is ``made`` there
    ("forecasts", "outlooks")."""
    known = list(config.network.gauges)
    if stations is None:
        return known
    chosen = list(dict.fromkeys(stations))
    unknown = [s for s in chosen if s not in config.network.gauges]
    if unknown:
        raise error(f"unknown gauge(s) {', '.join(unknown)}; {made} are made at the gauges "
                    f"of config/basins.toml ({len(known)} of them)")
    return chosen
