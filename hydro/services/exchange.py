"""The commission's exchange log: what each party delivered and when (the ingest runs), and
the other party's acknowledgement of each delivery.

A delivery is one ingest run: its file, source, the party whose values it wrote (for a run
that wrote none — unchanged or rejected — the party of its configured source), when it
was received and how many rows it held.  An acknowledgement is stored for good
(:mod:`hydro.store.exchange`, never updated or deleted); it must come from the other
party than the deliverer, or from the commission.  There are no user accounts yet: the
name of whoever acknowledges is taken as given (accounts, issue 15, will supply it).

Used by the dashboard's ``/commission`` page, ``hydrorisk report exchange`` and
``hydrorisk report exchange-ack``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PureWindowsPath
from typing import Any

import pandas as pd

from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.services.context import Store
from hydro.store import exchange as stored

#: who may acknowledge: either party, or the commission itself
ACK_PARTIES = ("KZ", "RU", "commission")
MAX_NAME = 200
MAX_NOTE = 2000

LOG_COLUMNS = ["run_id", "file", "path", "source", "party", "received_at", "rows_read",
               "rows_written", "outcome", "data_first", "data_last", "acknowledgements"]


class ExchangeError(HydroriskError, ValueError):
    """An acknowledgement that cannot be stored; ``code`` says why (``unknown_run``,
    ``bad_party``, ``no_name``, ``too_long``, ``own_delivery``) for a localised message,
    ``deliverer`` names the delivering party of an ``own_delivery`` refusal."""

    def __init__(self, code: str, message: str, deliverer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.deliverer = deliverer


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts (column -> value)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _file_name(path: str) -> str:
    return PureWindowsPath(str(path)).name  # handles both slashes


def _party_of(row: dict[str, Any], config: Config) -> str:
    parties = tuple(row["parties"])
    if parties:
        return ", ".join(parties)
    if isinstance(row["source"], str):
        try:
            return str(config.source(row["source"]).party)
        except KeyError:
            pass
    return ""


def month_bounds(month: str | dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-MM`` (or a day in it) -> (first instant, first instant of the next month)."""
    if isinstance(month, str):
        try:
            year, mon = (int(x) for x in month.split("-")[:2])
            start = dt.datetime(year, mon, 1)
        except (ValueError, TypeError):
            raise HydroriskError(f"'{month}' is not a month (YYYY-MM)") from None
    else:
        start = dt.datetime(month.year, month.month, 1)
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def exchange_log(store: Store, config: Config, month: str | dt.date | None = None,
                 received_by: dt.datetime | None = None) -> pd.DataFrame:
    """The deliveries, newest first, each with its acknowledgements.

    ``month`` (``YYYY-MM``) keeps the deliveries received in that month or whose values
    fall in it; ``received_by`` (naive UTC) keeps what had been received — and
    acknowledged — by then.  Columns :data:`LOG_COLUMNS`; ``party`` is the delivering
    party ("KZ, RU" for a file carrying both), ``acknowledgements`` a list of dicts
    (``id, party, acknowledged_by, acknowledged_at, note``), oldest first.
    """
    runs = stored.deliveries(store)
    if runs.empty:
        return pd.DataFrame(columns=LOG_COLUMNS)
    if received_by is not None:
        runs = runs[runs["received_at"] <= pd.Timestamp(received_by)]
    if month is not None:
        start, end = month_bounds(month)
        received = (runs["received_at"] >= start) & (runs["received_at"] < end)
        covers = (runs["data_first"] < end) & (runs["data_last"] >= start)
        runs = runs[received | covers.fillna(False)]
    acks = stored.acknowledgements(store, [int(r) for r in runs["run_id"]])
    if received_by is not None and not acks.empty:
        acks = acks[acks["acknowledged_at"] <= pd.Timestamp(received_by)]
    by_run: dict[int, list[dict]] = {}
    for a in records(acks):
        by_run.setdefault(int(a["run_id"]), []).append({
            "id": int(a["id"]), "party": a["party"], "acknowledged_by": a["acknowledged_by"],
            "acknowledged_at": pd.Timestamp(a["acknowledged_at"]).to_pydatetime(),
            "note": a["note"] if isinstance(a["note"], str) else None})
    out = pd.DataFrame({
        "run_id": runs["run_id"].astype(int).to_numpy(),
        "file": [_file_name(p) for p in runs["path"]],
        "path": runs["path"].to_numpy(),
        "source": runs["source"].to_numpy(),
        "party": [_party_of(r, config) for r in records(runs)],
        "received_at": runs["received_at"].to_numpy(),
        "rows_read": runs["rows_read"].fillna(0).astype(int).to_numpy(),
        "rows_written": runs["rows_written"].fillna(0).astype(int).to_numpy(),
        "outcome": runs["outcome"].to_numpy(),
        "data_first": runs["data_first"].to_numpy(),
        "data_last": runs["data_last"].to_numpy(),
    })
    out["acknowledgements"] = pd.Series([by_run.get(int(r), []) for r in out["run_id"]],
                                        index=out.index, dtype=object)
    return (out.sort_values(["received_at", "run_id"], ascending=False, kind="stable")
            .reset_index(drop=True)[LOG_COLUMNS])


def deliverer(store: Store, config: Config, run_id: int) -> tuple[str, ...]:
    """The parties whose delivery run ``run_id`` is (empty for an unknown run)."""
    runs = stored.deliveries(store)
    row = runs[runs["run_id"] == int(run_id)]
    if row.empty:
        return ()
    party = _party_of(records(row)[0], config)
    return tuple(p.strip() for p in party.split(",") if p.strip())


def acknowledge(store: Store, config: Config, run_id: int, party: str, by: str,
                note: str | None = None, at: dt.datetime | None = None) -> int:
    """Store ``party``'s acknowledgement of delivery ``run_id`` by the person ``by`` (with
    an optional ``note``) at ``at`` (default now, UTC); returns its id.

    Raises
    ------
    ExchangeError
        For an unknown run, a party that is not KZ, RU or commission, an empty name, a
        name or note too long, or a party acknowledging its own delivery.
    """
    party = (party or "").strip()
    if party.upper() in ("KZ", "RU"):
        party = party.upper()
    elif party.lower() == "commission":
        party = "commission"
    else:
        raise ExchangeError("bad_party", f"party must be KZ, RU or commission, not '{party}'")
    name = (by or "").strip()
    if not name:
        raise ExchangeError("no_name", "say who acknowledges (a name)")
    text = (note or "").strip() or None
    if len(name) > MAX_NAME or (text is not None and len(text) > MAX_NOTE):
        raise ExchangeError("too_long", f"the name is limited to {MAX_NAME} characters and "
                                        f"the note to {MAX_NOTE}")
    try:
        run = int(run_id)
    except (TypeError, ValueError):
        raise ExchangeError("unknown_run", f"'{run_id}' is not an ingest run id") from None
    if not stored.run_exists(store, run):
        raise ExchangeError("unknown_run", f"no ingest run {run} in the store")
    own = deliverer(store, config, run)
    if party in own:
        raise ExchangeError(
            "own_delivery", f"run {run} was delivered by {', '.join(own)}: the other party "
                            f"(or the commission) acknowledges it, not {party}",
            deliverer=", ".join(own))
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return stored.add_acknowledgement(store, run, name, party, when, text)
