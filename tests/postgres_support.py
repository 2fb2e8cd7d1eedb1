"""Helpers for PostgreSQL tests (not a test module).

    from postgres_support import fresh_pg_url

    def test_something_on_postgres():
        url = fresh_pg_url()   # skips without HYDRORISK_TEST_PG_URL; schema public is empty
        ...

HYDRORISK_TEST_PG_URL is an SQLAlchemy URL, e.g.
postgresql+psycopg://postgres@127.0.0.1:55432/hydrorisk_test (what .ci/run exports).
When HYDRORISK_REQUIRE_PG is set, a missing URL or an unreachable server fails the
test instead of skipping it.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy
from conftest import env_flag
from sqlalchemy import exc as sa_exc


def pg_url_or_skip() -> str:
    """The test database URL; skip (or fail under HYDRORISK_REQUIRE_PG) if unset."""
    url = os.environ.get("HYDRORISK_TEST_PG_URL", "").strip()
    if url:
        return url
    if env_flag("HYDRORISK_REQUIRE_PG"):
        pytest.fail(
            "HYDRORISK_REQUIRE_PG is set but HYDRORISK_TEST_PG_URL is not "
            "(expected e.g. postgresql+psycopg://postgres@127.0.0.1:55432/hydrorisk_test)",
            pytrace=False,
        )
    pytest.skip("set HYDRORISK_TEST_PG_URL to run PostgreSQL tests")


def fresh_pg_url(url: str | None = None) -> str:
    """Empty schema ``public`` of the test database and return its URL.

    Runs ``DROP SCHEMA public CASCADE; CREATE SCHEMA public`` so each test starts
    with no tables. Uses ``pg_url_or_skip()`` when ``url`` is not given.
    """
    url = url or pg_url_or_skip()
    engine = sqlalchemy.create_engine(url)
    error = None
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sqlalchemy.text("CREATE SCHEMA public"))
    except sa_exc.SQLAlchemyError as exc:
        error = f"cannot reset schema public at {engine.url!r}: {exc}"
    finally:
        engine.dispose()
    if error is not None:
        # The URL was given explicitly, so an unusable server is an error, not a skip.
        pytest.fail(error, pytrace=False)
    return url
