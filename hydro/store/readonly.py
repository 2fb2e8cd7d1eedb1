"""Open the store for reading only: no schema creation, no upgrade, no station sync.

Read-only commands (``hydrorisk jobs``, reports, exports) open the store here, so they
never take a write lock: they work while an ingest or the worker holds one, and they never
change a store another version of hydrorisk is using.  A store that does not exist yet, or
needs an upgrade, is a clear :class:`~hydro.errors.StoreError` asking for ``hydrorisk
init``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hydro.errors import StoreError
from hydro.store.db import SCHEMA_VERSION, current_version, display_url, make_engine


def open_store_readonly(url: str) -> Engine:
    """An engine on the existing store at ``url`` whose schema is this hydrorisk's; nothing
    is written (an SQLite file that does not exist is not created)."""
    shown = display_url(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        file = Path(url.removeprefix("sqlite:///"))
        if not file.exists():
            raise StoreError(f"no store at {shown}: create it with `hydrorisk init`")
    engine = make_engine(url)
    try:
        version = current_version(engine)
    except SQLAlchemyError as e:
        engine.dispose()
        raise StoreError(f"cannot read the store at {shown}: "
                         f"{getattr(e, 'orig', None) or e}") from None
    if version is None:
        engine.dispose()
        raise StoreError(f"the store at {shown} has no hydrorisk schema: create it with "
                         "`hydrorisk init`")
    if version < SCHEMA_VERSION:
        engine.dispose()
        raise StoreError(f"the store at {shown} is at schema version {version} and needs an "
                         f"upgrade to {SCHEMA_VERSION}: run `hydrorisk init` (this command "
                         "only reads, it does not upgrade)")
    if version > SCHEMA_VERSION:
        engine.dispose()
        raise StoreError(f"the store at {shown} is at schema version {version} but this "
                         f"hydrorisk knows only up to {SCHEMA_VERSION}; upgrade hydrorisk")
    return engine
