"""hydrorisk: everything but the web app (nothing here imports Dash or the dashboard).

One rule, visible in the tree (DESIGN.md "Layout"; README "Layout"):

* a module directly in ``hydro/`` is **pure science** — arrays, frames and datasets in and
  out; no file, database, clock, environment, or randomness it was not given a seed for.
  ``hydro.network`` is the domain model (gauges, reservoirs, reaches, ratings, thresholds)
  that science takes as input;
* each subpackage is one **edge**: ``config`` (read and validate files, build the domain
  model), ``readers`` (exchange formats, behind a registry), ``store`` (every table and SQL
  statement), ``services`` (what the CLI and the dashboard both call), ``worker`` (the
  scheduler process), ``cli`` (argparse) and ``synthetic`` (the seeded demonstration data).

Each package's docstring says what it may import; the import contracts in pyproject.toml
are checked by tests/architecture.
"""

__version__ = "0.1.0"
