"""Load files into the store: one transaction per file, idempotent, nothing half-loaded.

* A file is read whole (:func:`hydro.readers.read_file`) before anything is written.
* Its rows are written in one transaction: a value not seen before becomes revision 1; a
  value that differs from the current revision becomes the next revision (the earlier one
  stays readable); an identical value is skipped — so re-ingesting a file changes nothing.
* A file that fails parsing or validation is put in quarantine with a ``.reason.txt``
  beside it, and nothing of it reaches the store.
* Every attempt is recorded in ``ingest_runs`` (file, content hash, rows, flags, outcome).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, insert, select, update

from hydro.config import Config
from hydro.errors import IngestError
from hydro.readers import Batch, read_file
from hydro.store.models import IngestRun, Observation, QualitySample


@dataclass
class IngestResult:
    path: str
    outcome: str              # loaded | unchanged | rejected
    rows_read: int = 0
    rows_written: int = 0
    flags_raised: int = 0
    message: str = ""
    run_id: int | None = None
    seconds: float = 0.0
    quarantined_to: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _source_label(config: Config, batch: Batch, source_id: str | None) -> str:
    if source_id:
        return source_id
    if batch.format == "agency_csv":
        return batch.path.parent.name if batch.path.parent.name else "agency"
    return batch.format.removesuffix("_csv")


def _new_revisions(existing: pd.DataFrame, incoming: pd.DataFrame, keys: list[str]
                   ) -> pd.DataFrame:
    """Rows of ``incoming`` to write, each with its revision number."""
    if existing.empty:
        return incoming.assign(revision=1)
    old = existing.rename(columns={c: f"{c}_old" for c in existing.columns if c not in keys})
    merged = incoming.merge(old, on=keys, how="left")
    new = merged["revision_old"].isna()
    same_value = np.isclose(merged["value"], merged["value_old"], rtol=0, atol=1e-9) | (
        merged["value"].isna() & merged["value_old"].isna())
    same = ~new & same_value
    if "censored" in merged:
        same &= merged["censored"] == merged["censored_old"]
    if "qc_flags" in merged and "qc_flags_old" in merged:
        same &= merged["qc_flags"] == merged["qc_flags_old"]
        same &= merged["phenomena"].fillna("") == merged["phenomena_old"].fillna("")
    out = merged[~same].copy()
    out["revision"] = np.where(out["revision_old"].isna(), 1,
                               out["revision_old"].fillna(0) + 1).astype(int)
    return out[[c for c in incoming.columns] + ["revision"]]


def _current_observations(conn, station: str, variable: str, party: str, source: str,
                          tmin, tmax) -> pd.DataFrame:
    o = Observation
    cur = (select(o.time, func.max(o.revision).label("revision"))
           .where(o.station_id == station, o.variable == variable, o.party == party,
                  o.source == source, o.time >= tmin, o.time <= tmax)
           .group_by(o.time).subquery())
    q = (select(o.time, o.value, o.qc_flags, o.phenomena, o.revision)
         .join(cur, and_(o.time == cur.c.time, o.revision == cur.c.revision))
         .where(o.station_id == station, o.variable == variable, o.party == party,
                o.source == source))
    return pd.DataFrame(conn.execute(q).all(),
                        columns=["time", "value", "qc_flags", "phenomena", "revision"])


def _current_quality(conn, site: str, party: str, source: str, tmin, tmax) -> pd.DataFrame:
    q_ = QualitySample
    cur = (select(q_.time, q_.parameter, func.max(q_.revision).label("revision"))
           .where(q_.site_id == site, q_.party == party, q_.source == source,
                  q_.time >= tmin, q_.time <= tmax)
           .group_by(q_.time, q_.parameter).subquery())
    q = (select(q_.time, q_.parameter, q_.value, q_.censored, q_.revision)
         .join(cur, and_(q_.time == cur.c.time, q_.parameter == cur.c.parameter,
                         q_.revision == cur.c.revision))
         .where(q_.site_id == site, q_.party == party, q_.source == source))
    return pd.DataFrame(conn.execute(q).all(),
                        columns=["time", "parameter", "value", "censored", "revision"])


def _records(frame: pd.DataFrame, columns: list[str], extra: dict) -> list[dict]:
    sub = frame[columns].copy()
    sub["time"] = pd.to_datetime(sub["time"]).dt.to_pydatetime()
    recs = sub.astype(object).where(sub.notna(), None).to_dict("records")
    for r in recs:
        r.update(extra)
    return recs


def write_batch(conn, batch: Batch, source: str, run_id: int, received_at: dt.datetime
                ) -> tuple[int, int]:
    """Write a batch inside an open transaction; returns (rows written, flags raised)."""
    written = flags = 0
    obs = batch.observations
    if len(obs):
        for (station, variable, party), grp in obs.groupby(["station_id", "variable", "party"],
                                                           sort=False):
            existing = _current_observations(conn, station, variable, party, source,
                                             grp["time"].min().to_pydatetime(),
                                             grp["time"].max().to_pydatetime())
            if len(existing):
                existing["time"] = pd.to_datetime(existing["time"])
            incoming = grp[["time", "value", "unit", "qc_flags", "phenomena"]].reset_index(drop=True)
            rows = _new_revisions(existing, incoming, ["time"])
            if rows.empty:
                continue
            recs = _records(rows, ["time", "value", "unit", "qc_flags", "phenomena", "revision"],
                            dict(station_id=station, variable=variable, party=party,
                                 source=source, received_at=received_at, ingest_run_id=run_id))
            for r in recs:
                r["revision"] = int(r["revision"])
                r["qc_flags"] = int(r["qc_flags"])
            conn.execute(insert(Observation), recs)
            written += len(recs)
            flags += int((rows["qc_flags"] != 0).sum())
    qual = batch.quality
    if len(qual):
        for (site, party), grp in qual.groupby(["site_id", "party"], sort=False):
            existing = _current_quality(conn, site, party, source,
                                        grp["time"].min().to_pydatetime(),
                                        grp["time"].max().to_pydatetime())
            if len(existing):
                existing["time"] = pd.to_datetime(existing["time"])
                existing["censored"] = existing["censored"].astype(bool)
            incoming = grp[["time", "parameter", "value", "censored", "unit"]].reset_index(drop=True)
            rows = _new_revisions(existing, incoming, ["time", "parameter"])
            if rows.empty:
                continue
            recs = _records(rows, ["time", "parameter", "value", "censored", "unit", "revision"],
                            dict(site_id=site, party=party, source=source,
                                 received_at=received_at, ingest_run_id=run_id))
            for r in recs:
                r["revision"] = int(r["revision"])
                r["censored"] = bool(r["censored"])
            conn.execute(insert(QualitySample), recs)
            written += len(recs)
            flags += int(rows["censored"].sum())
    return written, flags


def quarantine(path: Path, reason: str, quarantine_dir: Path, move: bool) -> Path:
    """Keep a rejected file whole in quarantine with a reason file beside it."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    target = quarantine_dir / f"{stamp}_{path.name}"
    if move:
        shutil.move(str(path), target)
    else:
        shutil.copy2(path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {path}\nrejected at: {utcnow():%Y-%m-%d %H:%M:%S} UTC\nreason: {reason}\n"
        f"{'moved here from the inbox' if move else 'copied here; the original was left in place'}\n",
        encoding="utf-8")
    return target


def ingest_file(engine: Engine, config: Config, path: str | Path, source_id: str | None = None,
                received_at: dt.datetime | None = None, quarantine_dir: Path | None = None,
                move_rejected: bool = False) -> IngestResult:
    """Ingest one file atomically; never raises for bad content (see the result's outcome)."""
    path = Path(path)
    t0 = time.perf_counter()
    started = utcnow()
    received_at = received_at or started
    qdir = quarantine_dir or config.resolve(config.settings.paths.quarantine)
    try:
        data = path.read_bytes()
    except OSError as e:
        return _record_rejected(engine, path, source_id, "", started, t0,
                                f"{path}: cannot read the file: {e.strerror}", None)
    digest = hashlib.sha256(data).hexdigest()
    try:
        batch = read_file(path, config, source_id=source_id, data=data)
    except IngestError as e:
        target = quarantine(path, str(e), qdir, move_rejected) if path.exists() else None
        return _record_rejected(engine, path, source_id, digest, started, t0, str(e), target)
    source = _source_label(config, batch, source_id)
    with engine.begin() as conn:
        prior = conn.execute(
            select(func.count()).select_from(IngestRun).where(
                IngestRun.content_hash == digest, IngestRun.outcome.in_(["loaded", "unchanged"]),
                IngestRun.source == source)).scalar_one()
        run_id = conn.execute(insert(IngestRun).values(
            path=str(path), source=source, format=batch.format, content_hash=digest,
            started_at=started, outcome="running", rows_read=batch.rows)).inserted_primary_key[0]
        written, flags = (0, 0) if prior else write_batch(conn, batch, source, run_id, received_at)
        outcome = "loaded" if written else "unchanged"
        conn.execute(update(IngestRun).where(IngestRun.id == run_id).values(
            finished_at=utcnow(), outcome=outcome, rows_written=written, flags_raised=flags,
            message=("identical file already ingested" if prior else None)))
    return IngestResult(str(path), outcome, batch.rows, written, flags,
                        "identical file already ingested" if prior else "", run_id,
                        time.perf_counter() - t0)


def _record_rejected(engine, path, source_id, digest, started, t0, message, target
                     ) -> IngestResult:
    with engine.begin() as conn:
        run_id = conn.execute(insert(IngestRun).values(
            path=str(path), source=source_id, format=None, content_hash=digest,
            started_at=started, finished_at=utcnow(), outcome="rejected", rows_read=0,
            rows_written=0, flags_raised=0, message=message,
            quarantined_to=str(target) if target else None)).inserted_primary_key[0]
    return IngestResult(str(path), "rejected", message=message, run_id=run_id,
                        seconds=time.perf_counter() - t0,
                        quarantined_to=str(target) if target else None)


def bundled_files(config: Config) -> list[Path]:
    """The bundled demonstration files in a stable order (network data before quality)."""
    root = config.resolve(config.settings.paths.bundled)
    order = ["grdc/*.txt", "agency/*/*.csv", "reservoirs/*.csv", "quality/*.csv"]
    files: list[Path] = []
    for pattern in order:
        files.extend(sorted(root.glob(pattern)))
    return files
