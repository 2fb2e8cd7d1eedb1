"""Opening a deployment: its validated config and its store (schema created or
upgraded, stations mirrored).  Every front-end starts here."""

from __future__ import annotations

from pathlib import Path

from hydro.config import Config, load_config
from hydro.store import Engine

#: the handle front-ends pass back into the services (a SQLAlchemy engine; front-ends
#: never use it for SQL themselves)
Store = Engine


def load(config_dir: str | Path | None = None) -> Config:
    """The validated config of ``config_dir`` (default: ``$HYDRORISK_CONFIG``, ./config,
    or the repository's config/)."""
    return load_config(config_dir)


def open_store(config: Config) -> Store:
    """The store of ``config``, schema created or upgraded, stations synced."""
    from hydro.store.db import open_store as _open

    return _open(config.store_url, config.network)


def open_store_readonly(config: Config) -> Store:
    """The existing store of ``config`` for reading only: its schema version checked,
    nothing created, upgraded or synced (:mod:`hydro.store.readonly`)."""
    from hydro.store.readonly import open_store_readonly as _open

    return _open(config.store_url)


def safe_url(url: str) -> str:
    """A store URL with its password hidden, for printing."""
    from hydro.store.db import display_url

    return display_url(url)
