"""The system of record: SQLAlchemy models, schema upgrades, segments and the query API —
every table and every SQL statement of hydrorisk.

May import: the science modules (hydro.qc, hydro.units, hydro.errors).  Never config
files, readers, services, the CLI or the worker.  Front-ends reach it only through
:mod:`hydro.services`.
"""

from sqlalchemy import Connection, Engine  # noqa: F401
from sqlalchemy.exc import OperationalError, SQLAlchemyError  # noqa: F401

from hydro.store.db import SCHEMA_VERSION, open_store  # noqa: F401

# ``Engine`` (the store handle), ``Connection`` (an open transaction) and the failures of
# the database (``SQLAlchemyError``, and ``OperationalError``: locked, unreachable, disk
# full) are re-exported for hydro.services and hydro.worker, which hold handles and
# transactions and catch store failures but never import SQLAlchemy themselves
# (pyproject.toml, contract "services-and-worker-without-sql").
