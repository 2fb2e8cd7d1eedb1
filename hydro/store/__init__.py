"""The system of record: SQLAlchemy models, engine set-up and the query API.

The dashboard reads through :mod:`hydro.store.api`; nothing outside ``hydro.store`` and
``hydro.ingest`` writes SQL.
"""

from hydro.store.db import open_store, SCHEMA_VERSION  # noqa: F401
