"""The standing of the data, for the dashboard's ``/data-status`` page: what was ingested
and when, which files were refused and why, how the worker's scheduled jobs are doing, and
how fresh each station's data is per reporting party.

* :func:`ingest_runs` — every attempt to load a file, newest first (``ingest_runs`` table).
* :func:`quarantined` — refused files with their reason: the rejected runs of the store
  (their message and quarantine path) and any ``*.reason.txt`` in the quarantine folder
  (``settings.paths.quarantine``) that no run names (e.g. from another store).
* :func:`jobs` — the worker's jobs (:func:`hydro.services.jobs.job_status`).
* :func:`freshness` — per station and party: the time of the last value, its age at a
  reference time and whether the station is silent (older than
  ``settings.dashboard.stale_after_days``); :func:`freshness_by_party` sums it up per party.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

import pandas as pd

from hydro.config import Config
from hydro.network import Gauge, Reservoir
from hydro.services import jobs as _jobs
from hydro.services.context import Store
from hydro.services.observations import latest_known
from hydro.store import api
from hydro.store import exchange as stored_exchange

#: the variables whose last value says a station is alive
GAUGE_VARIABLES = ("stage", "discharge")
RESERVOIR_VARIABLES = ("level", "volume", "inflow", "outflow", "spill")
INGEST_COLUMNS = ["id", "file", "path", "source", "format", "outcome", "rows_read",
                  "rows_written", "flags_raised", "started_at", "finished_at", "message",
                  "quarantined_to"]
QUARANTINE_COLUMNS = ["file", "quarantined_to", "path", "source", "rejected_at", "reason",
                      "run_id"]
FRESHNESS_COLUMNS = ["station_id", "kind", "basin", "country", "party", "name_kk", "name_ru",
                     "name_en", "last_time", "age_days", "silent", "reported"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _name(path: object) -> str:
    text = str(path or "")
    return text.replace("\\", "/").rsplit("/", 1)[-1]


def ingest_runs(store: Store, limit: int = 200,
                received_by: dt.datetime | None = None) -> pd.DataFrame:
    """The last ``limit`` ingest runs, newest first: :data:`INGEST_COLUMNS` (``file`` is the
    file's name, ``path`` as given to the ingest; times naive UTC).

    ``received_by`` (naive UTC, as-of replay): only the runs received by then -- a run's
    receipt time is the one recorded with its values, else its start
    (:func:`hydro.store.exchange.deliveries`), so a replay matches the data it shows.
    """
    if received_by is None:
        runs = api.ingest_runs(store, limit=limit)
    else:
        runs = _runs_received_by(store, received_by).head(limit)
    if runs.empty:
        return pd.DataFrame(columns=INGEST_COLUMNS)
    runs = runs.assign(file=[_name(p) for p in runs["path"]])
    return runs[INGEST_COLUMNS].reset_index(drop=True)


def _runs_received_by(store: Store, received_by: dt.datetime) -> pd.DataFrame:
    """Every ingest run received by ``received_by``, newest first (columns of
    :func:`hydro.store.api.ingest_runs`)."""
    runs = api.ingest_runs(store, limit=10**9)
    if runs.empty:
        return runs
    received = stored_exchange.deliveries(store)[["run_id", "received_at"]]
    by_run = pd.to_datetime(received.set_index("run_id")["received_at"])
    when = pd.to_datetime(runs["id"].map(by_run)).fillna(pd.to_datetime(runs["started_at"]))
    return runs[(when <= pd.Timestamp(received_by)).to_numpy()].reset_index(drop=True)


def read_reason(reason_file: Path) -> dict[str, str]:
    """The fields (``file``, ``rejected at``, ``reason``) of a quarantine ``.reason.txt``."""
    out: dict[str, str] = {}
    try:
        lines = reason_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        key, sep, value = line.partition(": ")
        if sep and key in ("file", "rejected at", "reason") and key not in out:
            out[key] = value.strip()
    return out


def quarantined(store: Store, config: Config, limit: int = 200,
                received_by: dt.datetime | None = None) -> pd.DataFrame:
    """Refused files with their reasons, newest first: :data:`QUARANTINE_COLUMNS`.

    ``reason`` is the ``reason:`` line of the file's ``.reason.txt`` when it is still there,
    else the run's message; ``quarantined_to`` is empty for a file that could not be kept
    (it could not be read).  ``received_by`` (naive UTC, as-of replay): only the files
    refused by then.
    """
    runs = (api.ingest_runs(store, limit=max(limit * 10, 1000)) if received_by is None
            else _runs_received_by(store, received_by))
    rows = []
    seen: set[str] = set()
    if not runs.empty:
        for r in runs[runs["outcome"] == "rejected"].to_dict("records"):
            target = r.get("quarantined_to") or None
            reason = str(r.get("message") or "")
            if target:
                seen.add(Path(str(target)).name)
                fields = read_reason(Path(str(target) + ".reason.txt"))
                reason = fields.get("reason", reason)
            rows.append({"file": _name(r["path"]), "quarantined_to": target or "",
                         "path": r["path"], "source": r.get("source") or "",
                         "rejected_at": r.get("finished_at") or r.get("started_at"),
                         "reason": reason, "run_id": r["id"]})
    folder = config.resolve(config.settings.paths.quarantine)
    if folder.is_dir():
        for reason_file in sorted(folder.glob("*.reason.txt")):
            kept = reason_file.name.removesuffix(".reason.txt")
            if kept in seen:
                continue
            fields = read_reason(reason_file)
            when = pd.to_datetime(fields.get("rejected at", "").removesuffix(" UTC"),
                                  errors="coerce")
            rows.append({"file": _name(fields.get("file", kept)),
                         "quarantined_to": str(folder / kept),
                         "path": fields.get("file", ""), "source": "",
                         "rejected_at": None if pd.isna(when) else when.to_pydatetime(),
                         "reason": fields.get("reason", ""), "run_id": None})
    if not rows:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    frame = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    frame["rejected_at"] = pd.to_datetime(frame["rejected_at"])
    if received_by is not None:   # a reason file no run names: known from its own time
        frame = frame[frame["run_id"].notna()
                      | (frame["rejected_at"] <= pd.Timestamp(received_by))]
    return (frame.sort_values("rejected_at", ascending=False, na_position="last",
                              kind="stable").head(limit).reset_index(drop=True))


def jobs(store: Store) -> pd.DataFrame:
    """The worker's jobs: next and last run, outcome, last error (see
    :func:`hydro.store.api.job_status`); empty when no worker has run."""
    return _jobs.job_status(store)


def freshness(store: Store, config: Config, at: dt.datetime | None = None,
              received_by: dt.datetime | None = None) -> pd.DataFrame:
    """Per station and party, the last value at or before ``at`` (naive UTC; default now)
    and its age: :data:`FRESHNESS_COLUMNS`, in config order (basin, gauges then
    reservoirs).  A party a gauge expects (``parties``, else its country) that never
    reported has a row with no time, silent.  ``age_days`` is measured at ``at``.
    ``received_by`` (naive UTC, as-of replay): only values received by then count (looked
    back 400 days, as :func:`hydro.services.observations.latest_known`).
    """
    reference = at or utcnow()
    variables = GAUGE_VARIABLES + RESERVOIR_VARIABLES
    if received_by is None:
        latest = api.latest(store, variables=variables, at=reference)
    else:
        latest = latest_known(store, variables, reference, received_by)
    last: dict[tuple[str, str], dt.datetime] = {}
    if not latest.empty:
        grouped = latest.groupby(["station_id", "party"])["time"].max()
        for key, t in grouped.items():
            sid, party = cast(tuple[str, str], key)
            last[(str(sid), str(party))] = pd.Timestamp(t).to_pydatetime()
    stale = float(config.settings.dashboard.stale_after_days)
    net = config.network
    rows = []
    for basin in net.basins:
        stations: list[Gauge | Reservoir] = [*(g for g in net.gauges.values() if g.basin == basin),
                    *(r for r in net.reservoirs.values() if r.basin == basin)]
        for s in stations:
            expected = set(getattr(s, "parties", None) or []) or {s.country}
            reported = {p for (sid, p) in last if sid == s.id}
            for party in sorted(expected | reported, key=lambda p: (p != s.country, p)):
                t = last.get((s.id, party))
                age = (reference - t) / dt.timedelta(days=1) if t is not None else None
                rows.append({
                    "station_id": s.id, "kind": s.kind, "basin": s.basin,
                    "country": s.country, "party": party, "name_kk": s.names.kk,
                    "name_ru": s.names.ru, "name_en": s.names.en, "last_time": t,
                    "age_days": age, "silent": age is None or age > stale,
                    "reported": t is not None,
                })
    frame = pd.DataFrame(rows, columns=FRESHNESS_COLUMNS)
    frame.attrs.update(reference=reference, stale_after_days=stale)
    return frame


def freshness_by_party(frame: pd.DataFrame) -> pd.DataFrame:
    """Per party: stations, how many are silent, never reported, and the newest and oldest
    last value (columns party, stations, silent, never, newest, oldest)."""
    cols = ["party", "stations", "silent", "never", "newest", "oldest"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for party, part in frame.groupby("party", sort=True):
        times = part["last_time"].dropna()
        rows.append({"party": party, "stations": len(part),
                     "silent": int(part["silent"].sum()),
                     "never": int((~part["reported"].astype(bool)).sum()),
                     "newest": times.max() if len(times) else None,
                     "oldest": times.min() if len(times) else None})
    return pd.DataFrame(rows, columns=cols)
