import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config():
    from hydro.config import load_config

    return load_config(ROOT / "config")


@pytest.fixture
def config_copy(tmp_path):
    """A writable copy of config/ (and its project root) for tests that edit it."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "config", root / "config")
    return root / "config"


@pytest.fixture
def store(tmp_path, config):
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", config.network)
    yield engine
    engine.dispose()
