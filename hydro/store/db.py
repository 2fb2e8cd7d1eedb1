"""Open the store: engine, SQLite pragmas (WAL), schema creation and upgrade."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, Table, create_engine, event, inspect, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hydro.errors import StoreError
from hydro.store.models import Base, SchemaVersion, Station

#: Bump with every schema change and add the step to ``_UPGRADES``.
SCHEMA_VERSION = 13  # 11 release plans, 12 scenario runs, 13 source labels

# declarative classes with a __tablename__ are mapped to a Table (typed FromClause)
_SCHEMA_VERSION = cast(Table, SchemaVersion.__table__)
_STATIONS = cast(Table, Station.__table__)


def _to_segments(engine: Engine) -> None:
    from hydro.store.segments import upgrade_from_rows

    upgrade_from_rows(engine)


def _to_owned_jobs_and_alert_history(engine: Engine) -> None:
    from hydro.store.alerts import upgrade_alert_events
    from hydro.store.jobs import upgrade_job_status

    upgrade_job_status(engine)
    upgrade_alert_events(engine)


def _job_status_of_an_old_worker(engine: Engine) -> None:
    """A job_status table an old worker made before the schema existed (create_all left it
    alone) gets the columns of today's."""
    from hydro.store.jobs import upgrade_job_status

    upgrade_job_status(engine)


def _to_alert_lifecycle(engine: Engine) -> None:
    from hydro.store.alerts import upgrade_alert_lifecycle

    upgrade_alert_lifecycle(engine)


def _to_notification_outbox(engine: Engine) -> None:
    from hydro.store.notifications import upgrade_notifications

    upgrade_notifications(engine)


def _to_forecasts(engine: Engine) -> None:
    from hydro.store.forecasts import upgrade_forecasts

    upgrade_forecasts(engine)


def _to_forecast_members(engine: Engine) -> None:
    from hydro.store.forecasts import upgrade_forecast_members

    upgrade_forecast_members(engine)


# version reached -> function(engine) that upgrades from version - 1 to it
def _to_forecast_skill(engine: Engine) -> None:
    from hydro.store.forecasts import upgrade_forecast_skill

    upgrade_forecast_skill(engine)


def _to_exchange_acknowledgements(engine: Engine) -> None:
    from hydro.store.exchange import upgrade_exchange

    upgrade_exchange(engine)


def _to_accounts(engine: Engine) -> None:
    from hydro.store.accounts import upgrade_accounts

    upgrade_accounts(engine)


def _to_release_plans(engine: Engine) -> None:
    from hydro.store.plans import upgrade_release_plans

    upgrade_release_plans(engine)


def _to_scenario_runs(engine: Engine) -> None:
    from hydro.store.scenario_runs import upgrade_scenario_runs

    upgrade_scenario_runs(engine)


def _to_source_labels(engine: Engine) -> None:
    from hydro.store.source_labels import upgrade_source_labels

    upgrade_source_labels(engine)


_UPGRADES: dict[int, object] = {
    2: _to_segments,  # observations as packed segments (hydro.store.segments)
    # job_status is the store's (the worker declared it before; it gains next_run_at, rows
    # kept) and alerts get their history (alert_events, filled from the alerts' columns)
    3: _to_owned_jobs_and_alert_history,
    # the alert lifecycle of the rules (hydro.services.alert_evaluation): alerts gain kind,
    # escalation, standing, known_at, last and peak values; events gain severity, value
    # and known_at; alert_evaluations records each evaluation (rows kept)
    4: _to_alert_lifecycle,
    # the notification outbox, its enqueue markers and dead letters (existing alert
    # events are marked as looked at, never sent: hydro.store.notifications)
    5: _to_notification_outbox,
    # stored forecasts with their issue time (hydro.store.forecasts; rows kept)
    6: _to_forecasts,
    # the members of ensemble forecasts (the process model; hydro.store.forecasts; rows kept)
    7: _to_forecast_members,
    # the skill tables of stored backtests, which every view of a forecast marks from
    # (hydro.store.forecasts; rows kept)
    8: _to_forecast_skill,
    # the exchange log's acknowledgements of each delivery (hydro.store.exchange; rows kept)
    9: _to_exchange_acknowledgements,
    # dashboard accounts and the audit log (hydro.store.accounts; rows kept)
    10: _to_accounts,
    # saved release plans of the scenario lab, versioned (hydro.store.plans; rows kept)
    11: _to_release_plans,
    # the scenario lab's kept runs (hydro.store.scenario_runs; rows kept)
    12: _to_scenario_runs,
    # values ingested without --source under their format's name get the configured
    # source's: reservoir -> reservoirs, netcdf -> exchange-nc; a series held under both
    # is merged, every revision kept (hydro.store.source_labels)
    13: _to_source_labels,
}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


#: connections a file SQLite store keeps open (the dashboard's threads, and some to spare)
SQLITE_POOL = 20


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL mode and their folder is created."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # a file SQLite store keeps up to SQLITE_POOL connections open: the dashboard serves
    # from 16 threads, and SQLAlchemy's default (5, plus 10 opened and closed again per
    # use) had the busiest requests opening a connection -- and setting its pragmas, which
    # waits on an ingest's write lock -- on every request under load (bench/load.py)
    pool = {"pool_size": SQLITE_POOL, "max_overflow": 2 * SQLITE_POOL} \
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:" else {}
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"),
                               **pool)
    except (SQLAlchemyError, ModuleNotFoundError, ValueError) as e:
        raise StoreError(f"cannot use store URL {display_url(url)!r}: "
                         f"{redact(str(e), url)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def current_version(engine: Engine) -> int | None:
    if not inspect(engine).has_table("schema_version"):
        return None
    with engine.connect() as conn:
        return conn.execute(select(SchemaVersion.version).order_by(SchemaVersion.version.desc())
                            ).scalars().first()


def upgrade(engine: Engine) -> int:
    """Create the schema on an empty database or apply pending upgrades; return the version."""
    version = current_version(engine)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if version is None:
        Base.metadata.create_all(engine)
        _job_status_of_an_old_worker(engine)
        with engine.begin() as conn:
            conn.execute(_SCHEMA_VERSION.insert().values(version=SCHEMA_VERSION,
                                                                 applied_at=now))
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store is at schema version {version} but this hydrorisk knows only up to "
            f"{SCHEMA_VERSION}; upgrade hydrorisk"
        )
    for v in range(version + 1, SCHEMA_VERSION + 1):
        _UPGRADES[v](engine)  # type: ignore[operator]
        with engine.begin() as conn:
            conn.execute(_SCHEMA_VERSION.insert().values(version=v, applied_at=now))
    return SCHEMA_VERSION


def sync_stations(engine: Engine, network) -> int:
    """Mirror every network node, and each basin's basin-mean series (``BASIN:<id>``,
    kind ``basin``), into ``stations`` (insert new, update changed names)."""
    from hydro.network import BASIN_STATION_TIMEZONE

    rows = []
    for table in (network.gauges, network.reservoirs, network.nodes):
        for n in table.values():
            rows.append(dict(
                id=n.id, kind=n.kind, country=getattr(n, "country", None), basin=n.basin,
                river=getattr(n, "river", None), name_en=n.names.en, name_ru=n.names.ru,
                name_kk=n.names.kk, lat=getattr(n, "lat", None), lon=getattr(n, "lon", None),
                timezone=getattr(n, "timezone", None)))
    for b in network.basins.values():      # basin-mean series (the outlook's predictors)
        rows.append(dict(
            id=network.basin_station(b.id), kind="basin", country=None, basin=b.id,
            river=None, name_en=b.names.en, name_ru=b.names.ru, name_kk=b.names.kk,
            lat=None, lon=None, timezone=BASIN_STATION_TIMEZONE))
    with engine.begin() as conn:
        existing = set(conn.execute(select(Station.id)).scalars())
        new = [r for r in rows if r["id"] not in existing]
        if new:
            conn.execute(_STATIONS.insert(), new)
        for r in rows:
            if r["id"] in existing:
                conn.execute(_STATIONS.update().where(Station.id == r["id"]).values(**r))
    return len(rows)


def display_url(url: str) -> str:
    """A store URL with its password hidden, for printing (``url`` itself if it cannot be
    parsed)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def redact(message: str, url: str) -> str:
    """``message`` with the password of ``url`` (and any ``scheme://user:password@`` in
    it) replaced by ``***``: store errors are printed and logged."""
    import re

    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:
        m = re.search(r"://[^:/@]*:([^@]*)@", url)
        password = m.group(1) if m else None
    if password:
        message = message.replace(str(password), "***")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", message)


def open_store(url: str, network=None) -> Engine:
    """Engine for ``url`` with the schema created/upgraded and stations synced from config."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        if network is not None:
            sync_stations(engine, network)
    except OperationalError as e:
        raise StoreError(f"cannot open the store at {display_url(url)!r}: "
                         f"{redact(str(e.orig), url)}") from None
    return engine
