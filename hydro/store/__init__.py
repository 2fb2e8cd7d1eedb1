"""The system of record: SQLAlchemy models, schema upgrades, segments and the query API —
every table and every SQL statement of hydrorisk.

May import: the science modules (hydro.qc, hydro.units, hydro.errors).  Never config
files, readers, services, the CLI or the worker.  Front-ends reach it only through
:mod:`hydro.services`.
"""

from hydro.store.db import SCHEMA_VERSION, open_store  # noqa: F401
