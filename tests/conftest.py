import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# CI (.ci/run) sets HYPOTHESIS_PROFILE=ci: the same examples on every run, so a landing is
# never decided by which random examples were drawn; locally the examples are random.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
# the dashboard signs its session cookies with this key in tests (and in the servers they
# start), instead of generating var/secret_key in the repository (dashboard.auth)
os.environ.setdefault("HYDRORISK_SECRET_KEY", "tests-only-not-a-secret")


def env_flag(name: str) -> bool:
    """Whether an environment variable is set to something other than empty/0/false/no
    (HYDRORISK_REQUIRE_PG, HYDRORISK_REQUIRE_BROWSER: CI turns skips into failures)."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


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


def short_busy_timeout(monkeypatch, ms: int) -> None:
    """SQLite connections of the store opened from now on wait ``ms`` milliseconds for
    another process's lock instead of 30 s (the same code path as a long lock, shorter)."""
    import hydro.store.db as db

    real_pragmas = db._sqlite_pragmas

    def short(conn, record):
        real_pragmas(conn, record)
        cur = conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(ms)}")
        cur.close()

    monkeypatch.setattr(db, "_sqlite_pragmas", short)


@pytest.fixture(scope="module")
def scenario_lab(tmp_path_factory, config):
    """``(app, config, store)`` for the scenario lab's tests: a dashboard app over a new
    SQLite store whose scenario runs (``paths.runs``) and background jobs
    (HYDRORISK_JOB_CACHE) go to a temporary folder of the test module."""
    import dataclasses

    from dashboard.app import create_app
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("scenario-lab")
    os.environ["HYDRORISK_JOB_CACHE"] = str(tmp / "jobs")
    paths = config.settings.paths.model_copy(update={"runs": str(tmp / "runs")})
    cfg = dataclasses.replace(config, settings=config.settings.model_copy(
        update={"paths": paths}))
    store = open_store(f"sqlite:///{tmp / 'store.sqlite'}", cfg.network)
    app = create_app(cfg, engine=store, secret_key="test-secret", demo=False)
    yield app, cfg, store
    os.environ.pop("HYDRORISK_JOB_CACHE", None)
    store.dispose()
