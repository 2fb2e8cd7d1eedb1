"""Stored forecasts: every statement of them (schema 6; ensemble members: schema 7).

Tables (:mod:`hydro.store.models`): ``forecast_runs`` (one row per station × variable ×
method × issue: when it was issued — the time of the last observation used —, what the
store had received when it was computed (``known_at``), when it was computed, its
parameters) and ``forecast_values`` (one row per lead: the valid local date, the value and
its interval).  Nothing is overwritten: a refresh adds runs, so any past forecast can be set
against what happened and replayed as of a date (:func:`current`).  An ensemble run (the
process model) also keeps its members in ``forecast_members`` (one row per lead × member;
:func:`members`); its values are then the ensemble median and quantile band.

Times are naive UTC; ``issue_date`` and ``valid_date`` are local dates (midnight), the
labels of the daily values they forecast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table, func, select

from hydro.store.models import ForecastMember, ForecastRun, ForecastSkill, ForecastValue

_RUNS = cast(Table, ForecastRun.__table__)
_VALUES = cast(Table, ForecastValue.__table__)
_SKILL = cast(Table, ForecastSkill.__table__)
#: columns of :func:`skill` (a stored backtest's lines), in order
SKILL_COLUMNS = ["backtest_id", "computed_at", "period_start", "period_end", "issues",
                 "station_id", "variable", "method", "lead_days", "n", "beats_persistence",
                 "scores"]
_MEMBERS = cast(Table, ForecastMember.__table__)

#: columns of :func:`runs`, in order
RUN_COLUMNS = ["id", "station_id", "variable", "unit", "method", "issue_time", "issue_date",
               "known_at", "created_at", "horizon_days", "alpha", "parameters", "note"]
#: columns of :func:`members`, in order
MEMBER_COLUMNS = ["run_id", "lead_days", "member", "value"]
#: columns of :func:`current` (a run's columns, then its values), in order
VALUE_COLUMNS = [*RUN_COLUMNS, "lead_days", "valid_date", "value", "lower", "upper"]
_RUN_FIELDS = [c for c in RUN_COLUMNS if c != "id"]


def _naive(t: Any) -> dt.datetime | None:
    if t is None:
        return None
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def _num(x: Any) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


def write_runs(engine: Engine, runs: Sequence[tuple[dict[str, Any], pd.DataFrame]
                                            | tuple[dict[str, Any], pd.DataFrame,
                                                    pd.DataFrame | None]]) -> list[int]:
    """Store forecast runs in one transaction; return their ids in order.

    Each run is ``(fields, values)`` or ``(fields, values, members)``: ``fields`` has
    every column of ``forecast_runs`` but the id (:data:`RUN_COLUMNS`; ``parameters`` and
    ``note`` may be None), ``values`` the columns ``lead_days``, ``valid_date``,
    ``value``, ``lower``, ``upper`` (NaN stored as NULL), and ``members`` (an ensemble
    run; None or absent for a deterministic one) the columns ``lead_days``, ``member``
    (0, 1, ...), ``value``.
    """
    ids: list[int] = []
    with engine.begin() as conn:
        for run in runs:
            fields, values = run[0], run[1]
            ensemble = run[2] if len(run) > 2 else None
            missing = [c for c in _RUN_FIELDS if c not in fields]
            if missing:
                raise ValueError(f"forecast run lacks {', '.join(missing)}")
            row = {c: fields[c] for c in _RUN_FIELDS}
            for c in ("issue_time", "issue_date", "known_at", "created_at"):
                row[c] = _naive(row[c])
            key = conn.execute(_RUNS.insert().values(**row)).inserted_primary_key
            assert key is not None
            run_id = int(key[0])
            rows = [{"run_id": run_id, "lead_days": int(lead), "valid_date": _naive(day),
                     "value": _num(v), "lower": _num(lo), "upper": _num(hi)}
                    for lead, day, v, lo, hi in zip(
                        values["lead_days"], values["valid_date"], values["value"],
                        values["lower"], values["upper"], strict=True)]
            if rows:
                conn.execute(_VALUES.insert(), rows)
            if ensemble is not None and len(ensemble):
                conn.execute(_MEMBERS.insert(), [
                    {"run_id": run_id, "lead_days": int(lead), "member": int(m),
                     "value": _num(v)}
                    for lead, m, v in zip(ensemble["lead_days"], ensemble["member"],
                                          ensemble["value"], strict=True)])
            ids.append(run_id)
    return ids


def members(engine: Engine, run_ids: int | Sequence[int]) -> pd.DataFrame:
    """The ensemble members of forecast runs (:data:`MEMBER_COLUMNS`, sorted by run, lead
    and member; empty for a deterministic run)."""
    ids = [int(run_ids)] if isinstance(run_ids, int | np.integer) else [int(i) for i in run_ids]
    m = _MEMBERS
    q = (select(*[m.c[c] for c in MEMBER_COLUMNS]).where(m.c.run_id.in_(ids))
         .order_by(m.c.run_id, m.c.lead_days, m.c.member))
    with engine.connect() as conn:
        out = pd.DataFrame(conn.execute(q).fetchall(), columns=MEMBER_COLUMNS)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out


def runs(engine: Engine, station_id: str | None = None, *, as_of: dt.datetime | None = None,
         limit: int | None = None) -> pd.DataFrame:
    """Forecast runs (:data:`RUN_COLUMNS`), newest issue first; ``as_of``: only those
    computed from what the store had received by then (``known_at <= as_of``)."""
    q = select(*[_RUNS.c[c] for c in RUN_COLUMNS])
    if station_id is not None:
        q = q.where(_RUNS.c.station_id == station_id)
    if as_of is not None:
        q = q.where(_RUNS.c.known_at <= _naive(as_of))
    q = q.order_by(_RUNS.c.issue_time.desc(), _RUNS.c.id.desc())
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).fetchall(), columns=RUN_COLUMNS)


def current(engine: Engine, station_id: str, *, as_of: dt.datetime | None = None,
            variable: str | None = None) -> pd.DataFrame:
    """The forecast of ``station_id`` that was current at ``as_of`` (default: the newest),
    one row per (variable, method, lead): :data:`VALUE_COLUMNS`.

    Current means: among the runs computed from what the store had received by ``as_of``
    (``known_at <= as_of``), those of the latest issue time; of several runs of one
    variable and method at that issue time, the one that knew most (latest ``known_at``,
    then the last stored).  A run made later — even of an earlier issue — is not seen at
    ``as_of``, so a replay shows what a duty officer saw then.  Seasonal outlooks (method
    ``outlook``) are not short-range forecasts and are left out (see :func:`runs`).
    """
    r = _RUNS
    cond = [r.c.station_id == station_id, r.c.method != "outlook"]
    if as_of is not None:
        cond.append(r.c.known_at <= _naive(as_of))
    if variable is not None:
        cond.append(r.c.variable == variable)
    newest = select(func.max(r.c.issue_time)).where(*cond).scalar_subquery()
    q = (select(*[r.c[c] for c in RUN_COLUMNS])
         .where(*cond, r.c.issue_time == newest))
    with engine.connect() as conn:
        meta = pd.DataFrame(conn.execute(q).fetchall(), columns=RUN_COLUMNS)
        if meta.empty:
            return pd.DataFrame(columns=VALUE_COLUMNS)
        meta = (meta.sort_values(["variable", "method", "known_at", "id"])
                .drop_duplicates(["variable", "method"], keep="last"))
        v = _VALUES
        vq = (select(v.c.run_id, v.c.lead_days, v.c.valid_date, v.c.value, v.c.lower,
                     v.c.upper).where(v.c.run_id.in_([int(i) for i in meta["id"]])))
        values = pd.DataFrame(conn.execute(vq).fetchall(),
                              columns=["run_id", "lead_days", "valid_date", "value", "lower",
                                       "upper"])
    out = meta.merge(values, left_on="id", right_on="run_id").drop(columns="run_id")
    for c in ("value", "lower", "upper"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return (out[VALUE_COLUMNS].sort_values(["variable", "method", "lead_days"])
            .reset_index(drop=True))


def upgrade_forecasts(engine: Engine) -> None:
    """Schema 5 -> 6: create ``forecast_runs`` and ``forecast_values`` (no existing row is
    touched).  Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_RUNS, _VALUES])


def upgrade_forecast_members(engine: Engine) -> None:
    """Schema 6 -> 7: create ``forecast_members`` (no existing row is touched).
    Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_MEMBERS])


def forecast_peaks(engine: Engine, stations: Sequence[str], *, variable: str, method: str,
                   start: dt.datetime | None, as_of: dt.datetime, within_days: float
                   ) -> pd.DataFrame:
    """The highest value each forecast run of ``stations`` gives within ``within_days`` of
    its issue (leads 1 .. within_days), for the runs computed from what the store had
    received by ``as_of`` and issued from ``start`` on: station_id, issue_time, known_at,
    value — of several runs of one issue, the one that knew most.  The input of the
    ``forecast_crossing`` alert rule."""
    r, v = _RUNS, _VALUES
    q = (select(r.c.id, r.c.station_id, r.c.issue_time, r.c.known_at,
                func.max(v.c.value).label("value"))
         .join(v, v.c.run_id == r.c.id)
         .where(r.c.station_id.in_(list(stations)), r.c.variable == variable,
                r.c.method == method, r.c.known_at <= _naive(as_of),
                v.c.lead_days >= 1, v.c.lead_days <= within_days)
         .group_by(r.c.id, r.c.station_id, r.c.issue_time, r.c.known_at))
    if start is not None:
        q = q.where(r.c.issue_time >= _naive(start))
    cols = ["id", "station_id", "issue_time", "known_at", "value"]
    with engine.connect() as conn:
        out = pd.DataFrame(conn.execute(q).fetchall(), columns=cols)
    if out.empty:
        return out.drop(columns="id")
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out = (out.dropna(subset=["value"]).sort_values(["station_id", "issue_time", "known_at", "id"])
           .drop_duplicates(["station_id", "issue_time"], keep="last"))
    return out.drop(columns="id").reset_index(drop=True)


def run_values(engine: Engine, run_id: int) -> pd.DataFrame:
    """The values of one forecast run by lead: lead_days, valid_date, value, lower, upper."""
    v = _VALUES
    q = (select(v.c.lead_days, v.c.valid_date, v.c.value, v.c.lower, v.c.upper)
         .where(v.c.run_id == int(run_id)).order_by(v.c.lead_days))
    with engine.connect() as conn:
        out = pd.DataFrame(conn.execute(q).fetchall(),
                           columns=["lead_days", "valid_date", "value", "lower", "upper"])
    for c in ("value", "lower", "upper"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def write_skill(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Store one backtest's skill lines (each with every column of :data:`SKILL_COLUMNS`,
    ``scores`` a JSON text) in one transaction under a new ``backtest_id``; return it."""
    with engine.begin() as conn:
        last = conn.execute(select(func.max(_SKILL.c.backtest_id))).scalar()
        backtest_id = int(last or 0) + 1
        if rows:
            conn.execute(_SKILL.insert(), [
                {**{c: r[c] for c in SKILL_COLUMNS if c != "backtest_id"},
                 "backtest_id": backtest_id,
                 **{c: _naive(r[c]) for c in ("computed_at", "period_start", "period_end")}}
                for r in rows])
    return backtest_id


def skill(engine: Engine, station_id: str | None = None, *, variable: str = "discharge",
          as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The skill lines of the newest stored backtest covering each station (computed by
    ``as_of`` when given): :data:`SKILL_COLUMNS`, ``scores`` a JSON text."""
    k = _SKILL
    cond = [k.c.variable == variable]
    if station_id is not None:
        cond.append(k.c.station_id == station_id)
    if as_of is not None:
        cond.append(k.c.computed_at <= _naive(as_of))
    newest = (select(k.c.station_id, func.max(k.c.backtest_id).label("b"))
              .where(*cond).group_by(k.c.station_id).subquery())
    q = (select(*[k.c[c] for c in SKILL_COLUMNS])
         .join(newest, (newest.c.station_id == k.c.station_id) & (newest.c.b == k.c.backtest_id))
         .where(*cond).order_by(k.c.station_id, k.c.method, k.c.lead_days))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).fetchall(), columns=SKILL_COLUMNS)


def upgrade_forecast_skill(engine: Engine) -> None:
    """Schema 7 -> 8: create ``forecast_skill`` (no existing row is touched).  Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_SKILL])
