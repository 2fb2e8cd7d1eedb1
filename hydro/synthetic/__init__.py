"""Seeded generator of the bundled *synthetic* demonstration series.

Nothing produced here is a measurement.  The generator builds a daily climate for each
basin, turns it into lateral inflow at every network node with a degree-day snowmelt and
frozen-soil runoff model, routes it through the reaches and reservoirs of
``config/basins.toml`` in topological order, converts discharge to stage through each gauge's
rating, and writes the exchange formats that ingest reads.  See ``docs/synthetic-data.md``.

May import: the science modules (it runs the same ``hydro.reservoirs.operate`` and
``hydro.routing`` as the scenario engine) and hydro.config.  Never readers, store,
services, the worker or the CLI.
"""

#: seed of the bundled data set (data/gauges/MANIFEST.sha256 holds the hashes it gives)
DEFAULT_SEED = 20240405
