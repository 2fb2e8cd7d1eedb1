"""Schema 13: the source labels of values ingested before sources came from config.

Before issue 15 a file ingested without ``--source`` was stored under its format's name:
reservoir tables under ``reservoir`` and CF-NetCDF exchange files under ``netcdf``.  Today
the source is the configured one reading that format (config/sources.toml): ``reservoirs``
and ``exchange-nc``.  This upgrade renames the old labels in every table that carries one
(``observation_series``, whose segments hold the values and revisions; ``quality_samples``;
``ingest_runs``), so a correction loaded today replaces the value loaded then, and a series
is never shown twice.

Where a station's series exists under both labels (a file loaded once without and once
with ``--source``) the two are merged into the new label's series.  Nothing is dropped:
every stored revision is kept with its run, time of receipt, flags and phenomena, and the
revisions of each time are renumbered 1, 2, ... in the order they were received
(``received_at``, then the order of writing), so the newest received value is the current
one and an ``as_of`` read still returns what was known then.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, delete, inspect, select, update

from hydro.store.models import IngestRun, ObservationSegment, ObservationSeries, QualitySample
from hydro.store.segments import decode_revisions, decode_times, encode_revisions

#: old label -> the configured source that reads that format today
RENAMED: dict[str, str] = {"reservoir": "reservoirs", "netcdf": "exchange-nc"}


def upgrade_source_labels(engine: Engine) -> dict[str, int]:
    """Rename :data:`RENAMED` labels everywhere, merging series held under both; one
    transaction.  Returns counts: series renamed, series merged, quality rows relabelled,
    ingest runs relabelled."""
    counts = {"series_renamed": 0, "series_merged": 0, "quality_rows": 0, "ingest_runs": 0}
    tables = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for old, new in RENAMED.items():
            if "observation_series" in tables:
                renamed, merged = _series(conn, old, new)
                counts["series_renamed"] += renamed
                counts["series_merged"] += merged
            if "quality_samples" in tables:
                counts["quality_rows"] += _quality(conn, old, new)
            if "ingest_runs" in tables:
                counts["ingest_runs"] += conn.execute(
                    update(cast(Table, IngestRun.__table__))
                    .where(IngestRun.source == old).values(source=new)).rowcount or 0
    return counts


# --------------------------------------------------------------------------- observations

def _series(conn: Connection, old: str, new: str) -> tuple[int, int]:
    s = ObservationSeries
    rows = conn.execute(select(s.id, s.station_id, s.variable, s.party, s.source, s.unit)
                        .where(s.source.in_([old, new]))).all()
    by_key: dict[tuple[str, str, str], dict[str, tuple[int, str]]] = {}
    for r in rows:
        by_key.setdefault((r.station_id, r.variable, r.party), {})[r.source] = (r.id, r.unit)
    renamed = merged = 0
    series_table = cast(Table, s.__table__)
    for key, labels in by_key.items():
        if old not in labels:
            continue
        old_id, old_unit = labels[old]
        if new not in labels:
            conn.execute(update(series_table).where(s.id == old_id).values(source=new))
            renamed += 1
            continue
        new_id, new_unit = labels[new]
        if old_unit != new_unit:
            raise ValueError(f"series {'/'.join(key)} is stored in {old_unit!r} under "
                             f"source {old!r} and in {new_unit!r} under {new!r}: cannot "
                             "merge them")
        _merge_series(conn, old_id, new_id)
        conn.execute(delete(series_table).where(s.id == old_id))
        merged += 1
    return renamed, merged


def _merge_series(conn: Connection, old_id: int, new_id: int) -> None:
    """Move the segments of series ``old_id`` into ``new_id``, renumbering the revisions
    of every time by the order the values were received.

    Received order is ``received_at``; among revisions received together (one run wrote
    into both series: its cross-source QC re-flagged the other series' value) a revision
    that only re-flags a value its series already held ranks before one that changes the
    value, so the run's new value stays current; then the order of writing."""
    g = ObservationSegment
    segs = conn.execute(select(g.id, g.series_id, g.received_at, g.n, g.times, g.values,
                               g.revisions)
                        .where(g.series_id.in_([old_id, new_id]))
                        .order_by(g.received_at, g.id)).all()
    if not segs:
        return
    # one entry per stored revision: its segment (position in received order), index in
    # the segment, series, time, value, old revision
    seg_pos = np.repeat(np.arange(len(segs)), [r.n for r in segs])
    idx = np.concatenate([np.arange(r.n) for r in segs])
    series = np.repeat(np.array([r.series_id for r in segs], dtype=np.int64),
                       [r.n for r in segs])
    t = np.concatenate([decode_times(r.times, r.n) for r in segs])
    v = np.concatenate([np.frombuffer(r.values, "<f8") for r in segs])
    rev = np.concatenate([decode_revisions(r.revisions, r.n) for r in segs])
    # within its own series: does a revision change the value of the one before it?
    own = np.lexsort((rev, seg_pos, t, series))
    s_o, t_o, v_o = series[own], t[own], v[own]
    same_slot = np.r_[False, (s_o[1:] == s_o[:-1]) & (t_o[1:] == t_o[:-1])]
    same_value = np.r_[False, (v_o[1:] == v_o[:-1]) | (np.isnan(v_o[1:]) & np.isnan(v_o[:-1]))]
    changes = np.empty(len(t), dtype=np.int64)
    changes[own] = ~(same_slot & same_value)
    received = np.array([np.datetime64(r.received_at, "ns") for r in segs]).view("i8")[seg_pos]
    order = np.lexsort((rev, seg_pos, changes, received, t))
    t_s = t[order]
    first = np.r_[True, t_s[1:] != t_s[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(t_s)), 0))
    new_rev = np.empty(len(t_s), dtype=np.int64)
    new_rev[order] = np.arange(len(t_s)) - group_start + 1
    frame = pd.DataFrame({"seg": seg_pos, "idx": idx, "rev": new_rev})
    seg_table = cast(Table, g.__table__)
    for pos, part in frame.groupby("seg", sort=True):
        r = segs[int(cast(int, pos))]
        blob = encode_revisions(part.sort_values("idx")["rev"].to_numpy(dtype=np.int64))
        values: dict[str, object] = {"series_id": new_id}
        if blob != r.revisions:
            values["revisions"] = blob
        conn.execute(update(seg_table).where(g.id == r.id).values(**values))


# --------------------------------------------------------------------------- quality

def _quality(conn: Connection, old: str, new: str) -> int:
    """Relabel quality samples; a determination held under both labels gets its revisions
    renumbered by the order received (the newest is the current one)."""
    q = QualitySample
    table = cast(Table, q.__table__)
    old_rows = conn.execute(select(q.site_id, q.time, q.parameter, q.party)
                            .where(q.source == old).distinct()).all()
    if not old_rows:
        return 0
    keys = {(r.site_id, r.time, r.parameter, r.party) for r in old_rows}
    sites = sorted({k[0] for k in keys})
    both = conn.execute(select(q.id, q.site_id, q.time, q.parameter, q.party, q.source,
                               q.revision, q.received_at)
                        .where(q.source.in_([old, new]), q.site_id.in_(sites))
                        .order_by(q.received_at, q.id)).all()
    clash = {(r.site_id, r.time, r.parameter, r.party) for r in both if r.source == new}
    clash &= keys
    plain = [r for r in both if r.source == old
             and (r.site_id, r.time, r.parameter, r.party) not in clash]
    for r in plain:
        conn.execute(update(table).where(q.id == r.id).values(source=new))
    merged = [r for r in both if (r.site_id, r.time, r.parameter, r.party) in clash]
    # renumber: first to negative revisions (no clash with the unique key on the way), then
    # flip the sign; rows are in received order
    seen: dict[tuple, int] = {}
    for r in merged:
        k = (r.site_id, r.time, r.parameter, r.party)
        seen[k] = seen.get(k, 0) + 1
        conn.execute(update(table).where(q.id == r.id)
                     .values(source=new, revision=-seen[k]))
    if merged:
        conn.execute(update(table).where(q.revision < 0).values(revision=-q.revision))
    return len(plain) + sum(1 for r in merged if r.source == old)
