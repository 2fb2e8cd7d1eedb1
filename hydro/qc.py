"""Quality control: flags stored with every observation; nothing is ever deleted.

A flag is a bit in ``observations.qc_flags`` (:class:`QC`).  Flags fall in three groups by
what they depend on, which decides where they are computed:

* **reader flags** (:data:`READER_FLAGS`: ICE, CENSORED) come with the value's own record
  in the file -- the ice-phenomena code (ice jam, ice cover, frazil: stage under ice is not
  comparable with open-water warning levels) or a ``<DL`` detection-limit marker;
* **series flags** (:data:`SERIES_FLAGS`: RANGE, SPIKE, FLAT, GAP) depend on one series --
  one (station, variable, party, source) -- around the value: :func:`series_flags`.  At
  ingest they are computed over the file *and the stored values around it*, so a spike
  across two files is caught;
* **cross flags** (:data:`CROSS_FLAGS`: DUPLICATE_CONFLICT, PARTY_DISAGREE, RATING) compare
  series at the same gauge: two sources of one party reporting the same time with
  different values, the two parties' readings of a border gauge, stage against discharge
  through the gauge's rating: :func:`cross_flags`.

Every function here is pure (arrays and frames in, flags out); the store-side bookkeeping
(which stored values to re-flag, writing a revision when a flag changes) is in
:mod:`hydro.services.ingest`.

Limits and their defaults
-------------------------
Each test reads its limits from a :class:`Limits` per (station, variable), resolved by
:func:`resolve_limits` from, in increasing priority: the defaults below; for reservoirs, the
level and volume range of the configured storage table; ``[qc.defaults.<variable>]`` in
``config/sources.toml``; and a ``[[qc.stations]]`` entry for the station.  The string
``"off"`` switches a test off.

==========  =====================  ==========  ============  ==========  =====================
variable    physical range         max change  flat line     gap after   same-time tolerance
                                   per day     for at least              (parties / sources)
==========  =====================  ==========  ============  ==========  =====================
stage       -300 .. 2000 cm        500 cm      40 d          36 h        5 cm / 0.5 cm
discharge   0 .. 50 000 m3/s       off         30 d          36 h        max(1 m3/s, 5 %) /
                                                                         max(0.01 m3/s, 1 %)
level       storage table range    1 m         off           36 h        0.05 m / 0.005 m
volume      storage table range    off         off           36 h        max(0.5 hm3, 1 %) /
                                                                         max(0.01 hm3, 0.1 %)
inflow,     0 .. 50 000 m3/s       off         off           36 h        as discharge
outflow,
spill,
evaporation
==========  =====================  ==========  ============  ==========  =====================

Stage against the rating: flagged when the observed stage differs from the rating's stage
for the observed discharge by more than 15 cm, pairing each stage with the nearest discharge
within 12 h (so an 08:00 reading meets the daily mean labelled 00:00 of the same day);
ice-flagged stages are skipped (the rating holds for open water only), as are times before
the rating's ``valid_from``.

Why these defaults: the largest stage on these rivers is about 13 m (Petropavl, 2024);
ice jams raise stage by metres within a day, so the default daily-change limit is wide
(5 m) and meant to be narrowed per station; a daily manual gauge under ice or on a
regulated reach can read the same centimetre for weeks, so a flat line is flagged only
after 40 days (set ``flat_for = "6 h"`` or so for an automatic hourly sensor); two observers
reading one staff gauge at one term differ by one or two centimetres each; a discharge
spike limit depends on the river's size (1 to 10 000 m3/s across the network), so it is
off unless configured per station.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

import numpy as np
import pandas as pd

from hydro.units import VARIABLE_DIMENSION


class QC(IntFlag):
    """QC flag bits.  A value of 0 means "no flag raised"."""

    ICE = 1                 # read under ice cover, frazil or behind an ice jam
    RANGE = 2               # outside the physical range
    SPIKE = 4               # rate of change beyond the station's limit
    FLAT = 8                # flat line
    GAP = 16                # first value after a gap
    DUPLICATE_CONFLICT = 32 # same time reported by two sources of one party, values differ
    RATING = 64             # stage and discharge disagree with the rating
    PARTY_DISAGREE = 128    # the two parties' readings of a border gauge disagree
    CENSORED = 256          # below the detection limit (water quality)


#: phenomena codes that make a stage reading ice-affected
ICE_PHENOMENA = frozenset({"ice_cover", "ice_jam", "frazil"})

READER_FLAGS = int(QC.ICE | QC.CENSORED)
SERIES_FLAGS = int(QC.RANGE | QC.SPIKE | QC.FLAT | QC.GAP)
CROSS_FLAGS = int(QC.DUPLICATE_CONFLICT | QC.PARTY_DISAGREE | QC.RATING)



def describe(flags: int) -> list[str]:
    """Names of the flags set in ``flags``, e.g. ``["ICE", "SPIKE"]``."""
    return [f.name for f in QC if f.name and flags & f]


# --------------------------------------------------------------------------- limits

@dataclass(frozen=True)
class Limits:
    """QC limits of one variable at one station, in the variable's canonical unit.

    ``None`` switches a test off.  Durations are in hours.
    """

    minimum: float | None = None
    maximum: float | None = None
    max_change_per_day: float | None = None
    flat_hours: float | None = None
    max_gap_hours: float | None = None
    party_tolerance: float | None = None
    party_relative: float = 0.0
    duplicate_tolerance: float | None = None
    duplicate_relative: float = 0.0
    rating_tolerance: float | None = None
    rating_window_hours: float | None = None

    def series_reach(self) -> float:
        """Hours back from a value within which its series flags are decided.

        The series flags of a value at t depend only on values of its series in
        [t - reach, t] (:func:`series_flags`: the two values before it for a spike, the run
        back to ``flat_for`` and one step for a flat line, the previous value for a gap).
        """
        gap = self.max_gap_hours or 0.0
        reach = 2.0 * gap
        if self.flat_hours is not None:
            reach = max(reach, self.flat_hours + gap)
        return reach

    def cross_reach(self) -> float:
        """Hours either side of a value within which its cross flags are decided (the
        rating pairs a stage with the nearest discharge within ``rating_window``; which one
        is nearest depends on discharges up to twice that far)."""
        return 2.0 * (self.rating_window_hours or 0.0)

    def context_hours(self) -> float:
        """Hours either side of changed values that must be read to re-flag every value
        the change can affect: series flags change up to :meth:`series_reach` after the
        change and depend on values that far before them; cross flags change up to
        :meth:`cross_reach` either side and depend on values that far beyond."""
        return max(self.series_reach(), 2.0 * self.cross_reach())


_OFF = None
DEFAULTS: dict[str, Limits] = {
    "stage": Limits(minimum=-300.0, maximum=2000.0, max_change_per_day=500.0,
                    flat_hours=40 * 24.0, max_gap_hours=36.0, party_tolerance=5.0,
                    duplicate_tolerance=0.5, rating_tolerance=15.0, rating_window_hours=12.0),
    "discharge": Limits(minimum=0.0, maximum=50_000.0, max_change_per_day=_OFF,
                        flat_hours=30 * 24.0, max_gap_hours=36.0, party_tolerance=1.0,
                        party_relative=0.05, duplicate_tolerance=0.01,
                        duplicate_relative=0.01, rating_window_hours=12.0),
    "level": Limits(max_change_per_day=1.0, max_gap_hours=36.0, party_tolerance=0.05,
                    duplicate_tolerance=0.005),
    "volume": Limits(minimum=0.0, max_gap_hours=36.0, party_tolerance=0.5,
                     party_relative=0.01, duplicate_tolerance=0.01,
                     duplicate_relative=0.001),
}
for _v in ("inflow", "outflow", "spill", "evaporation"):
    DEFAULTS[_v] = Limits(minimum=0.0, maximum=50_000.0, max_gap_hours=36.0,
                          party_tolerance=1.0, party_relative=0.05, duplicate_tolerance=0.01,
                          duplicate_relative=0.01)
# daily meteorological forcing (basin means or station series)
DEFAULTS["air_temperature"] = Limits(minimum=-60.0, maximum=50.0, max_change_per_day=_OFF,
                                     max_gap_hours=36.0, party_tolerance=0.5,
                                     duplicate_tolerance=0.05)
DEFAULTS["precipitation"] = Limits(minimum=0.0, maximum=300.0, max_gap_hours=36.0,
                                   party_tolerance=0.5, party_relative=0.1,
                                   duplicate_tolerance=0.05)
# winter predictors of the seasonal outlook (daily basin means): snow water equivalent up
# to 1 m of water, volumetric soil water between 0 and its porosity, frost to 4 m
DEFAULTS["snow_water_equivalent"] = Limits(minimum=0.0, maximum=1000.0, max_gap_hours=36.0,
                                           party_tolerance=2.0, party_relative=0.1,
                                           duplicate_tolerance=0.1)
DEFAULTS["soil_moisture"] = Limits(minimum=0.0, maximum=0.6, max_gap_hours=36.0,
                                   party_tolerance=0.02, duplicate_tolerance=0.001)
DEFAULTS["frost_depth"] = Limits(minimum=0.0, maximum=400.0, max_gap_hours=36.0,
                                 party_tolerance=5.0, duplicate_tolerance=0.5)

#: config key (``[qc...]`` in sources.toml) -> Limits field, and how to read its value
_CONFIG_FIELDS = {
    "min": ("minimum", "value"),
    "max": ("maximum", "value"),
    "max_change_per_day": ("max_change_per_day", "value"),
    "flat_for": ("flat_hours", "duration"),
    "max_gap": ("max_gap_hours", "duration"),
    "party_tolerance": ("party_tolerance", "value"),
    "party_relative_tolerance": ("party_relative", "fraction"),
    "duplicate_tolerance": ("duplicate_tolerance", "value"),
    "duplicate_relative_tolerance": ("duplicate_relative", "fraction"),
    "rating_tolerance": ("rating_tolerance", "stage"),
    "rating_window": ("rating_window_hours", "duration"),
}


def _apply(base: Limits, entry: Any, variable: str) -> Limits:
    """Overlay one config entry (a ``QCLimits`` model or None) onto ``base``."""
    if entry is None:
        return base
    from hydro.units import factor

    changes: dict[str, Any] = {}
    for key, (fname, kind) in _CONFIG_FIELDS.items():
        raw = getattr(entry, key, None)
        if raw is None:
            continue
        if isinstance(raw, str) and raw.strip().lower() == "off":
            changes[fname] = 0.0 if kind == "fraction" else None
        elif kind == "fraction":
            changes[fname] = float(raw)
        elif kind == "duration":
            changes[fname] = raw.to("duration") / factor("h", "duration")
        elif kind == "stage":
            changes[fname] = raw.to("stage")
        else:
            changes[fname] = raw.to(VARIABLE_DIMENSION[variable])
    return dataclasses.replace(base, **changes)


def resolve_limits(config: Any, station_id: str, variable: str) -> Limits:
    """The limits of ``variable`` at ``station_id``: defaults, reservoir storage table,
    ``[qc.defaults]`` and ``[[qc.stations]]`` of config/sources.toml, in that order."""
    lim = DEFAULTS.get(variable, Limits(max_gap_hours=36.0))
    res = config.network.reservoirs.get(station_id) if config is not None else None
    if res is not None and variable in ("level", "volume"):
        table = res.storage_table
        arr = table.levels_m if variable == "level" else table.volumes_hm3
        lim = dataclasses.replace(lim, minimum=float(arr[0]), maximum=float(arr[-1]))
    qc_cfg = getattr(getattr(config, "sources", None), "qc", None)
    if qc_cfg is None:
        return lim
    lim = _apply(lim, getattr(qc_cfg.defaults, variable, None), variable)
    for st in qc_cfg.stations:
        if st.station == station_id:
            lim = _apply(lim, getattr(st, variable, None), variable)
    return lim


# --------------------------------------------------------------------------- helpers

def group_ids(*columns) -> np.ndarray:
    """One integer 0..k-1 per distinct combination of the columns' values.

    Integer and categorical columns are combined arithmetically (no hashing); the ids are
    then dense in the order of that combined code.  Other columns are factorised first.
    """
    n = len(columns[0])
    code = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        if isinstance(getattr(col, "dtype", None), pd.CategoricalDtype):
            col = labels(col)[0]
        arr = np.asarray(col) if not isinstance(col, pd.Series) else col.to_numpy()
        if arr.dtype.kind in "iub" and n:
            k = arr.astype(np.int64) - int(arr.min())
            m = int(k.max()) + 1
        else:
            k, u = pd.factorize(arr)
            k, m = k + 1, len(u) + 1
        if size * m >= 2 ** 62:           # keep the combined code in range
            code, size = _dense(code, size)
        code = code * m + k
        size *= m
    return _dense(code, size)[0]


def _dense(code: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Renumber codes in [0, size) to 0..k-1 (a lookup table when size allows)."""
    if len(code) == 0:
        return code, 1
    if size <= max(4 * len(code), 1 << 16):
        used = np.zeros(size, dtype=bool)
        used[code] = True
        remap = np.cumsum(used) - 1
        return remap[code], int(remap[-1]) + 1
    ids = pd.factorize(code)[0].astype(np.int64)
    return ids, int(ids.max()) + 1


def sort_order(groups: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Indices that sort rows by group, then time (stable); no sort when they already are
    (the usual case: readers emit series after series, each in time order)."""
    g = np.asarray(groups)
    t = np.asarray(times)
    if len(g) < 2:
        return np.arange(len(g))
    dg = g[1:] - g[:-1] if g.dtype.kind in "iu" else None
    if dg is not None and (dg >= 0).all() and ((dg > 0) | (t[1:] >= t[:-1])).all():
        return np.arange(len(g))
    return np.lexsort((t, g))


def labels(column) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes, object labels) of a string column; -1 codes a missing value.

    A categorical column gives its own codes (no hashing of strings)."""
    if isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
        if isinstance(column, pd.Series):
            cat = column.array
            assert isinstance(cat, pd.Categorical)  # the array of a categorical dtype
        else:
            cat = column  # a Categorical or CategoricalIndex
        return cat.codes.astype(np.int64), np.asarray(cat.categories, dtype=object)
    codes, uniq = pd.factorize(np.asarray(column, dtype=object))
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


# --------------------------------------------------------------------------- series tests

def _hours(times: np.ndarray) -> np.ndarray:
    """datetime64 array -> float hours since the epoch."""
    t = np.asarray(times, dtype="datetime64[ns]")
    return t.astype("int64") / 3.6e12


def range_flags(values: np.ndarray, minimum: float | None, maximum: float | None
                ) -> np.ndarray:
    """True where a value lies outside ``[minimum, maximum]`` (either bound may be None)."""
    v = np.asarray(values, dtype=float)
    out = np.zeros(v.shape, dtype=bool)
    if minimum is not None:
        out |= v < minimum
    if maximum is not None:
        out |= v > maximum
    return out


def gap_flags(times: np.ndarray, max_gap_hours: float | None) -> np.ndarray:
    """True for the first value after more than ``max_gap_hours`` without a value.

    The first value of the series is not flagged: nothing is known before it.
    """
    h = _hours(times)
    out = np.zeros(h.shape, dtype=bool)
    if max_gap_hours is not None and h.size > 1:
        out[1:] = np.diff(h) > max_gap_hours
    return out


def spike_flags(times: np.ndarray, values: np.ndarray, max_change_per_day: float | None,
                max_gap_hours: float | None) -> np.ndarray:
    """True where the rate of change from the previous value exceeds the limit.

    The allowed change between two values ``dt`` apart is ``max_change_per_day * dt / 24 h``
    (``dt`` at least one hour); steps across a gap (longer than ``max_gap_hours``) are not
    tested.  The return from a one-value excursion is not flagged: in ``100, 400, 101`` only
    the 400 is a spike, while in ``100, 400, 401`` the 400 is flagged as a jump.  The flag of
    a value depends only on the two values before it.
    """
    h = _hours(times)
    v = np.asarray(values, dtype=float)
    n = v.size
    out = np.zeros(n, dtype=bool)
    if max_change_per_day is None or n < 2:
        return out
    gap = np.inf if max_gap_hours is None else max_gap_hours
    dt = np.diff(h)
    dv = np.diff(v)
    allowed = max_change_per_day * np.maximum(dt, 1.0) / 24.0
    exceeds = np.zeros(n, dtype=bool)            # exceeds[i]: step i-1 -> i too fast
    exceeds[1:] = (dt <= gap) & (np.abs(dv) > allowed + 1e-9)
    step_sign = np.zeros(n)
    step_sign[1:] = np.sign(dv)
    # excursion[i]: value i jumped away and value i+1 jumped back
    excursion = np.zeros(n, dtype=bool)
    excursion[1:-1] = exceeds[1:-1] & exceeds[2:] & (step_sign[1:-1] * step_sign[2:] < 0)
    back = np.zeros(n, dtype=bool)               # value i returns to value i-2
    if n > 2:
        dt2 = h[2:] - h[:-2]
        ok = (dt[:-1] <= gap) & (dt[1:] <= gap)
        back[2:] = ok & (np.abs(v[2:] - v[:-2])
                         <= max_change_per_day * np.maximum(dt2, 1.0) / 24.0 + 1e-9)
    returned = np.zeros(n, dtype=bool)
    returned[2:] = excursion[1:-1] & back[2:]
    return exceeds & ~returned


def flat_flags(times: np.ndarray, values: np.ndarray, flat_hours: float | None,
               max_gap_hours: float | None) -> np.ndarray:
    """True where the value has not changed for at least ``flat_hours``.

    A run of identical values (broken by a change or by a gap longer than
    ``max_gap_hours``) is flagged from the value ``flat_hours`` after the run's first value
    onwards; the earlier values of the run are not (they were fine when read).
    """
    h = _hours(times)
    v = np.asarray(values, dtype=float)
    n = v.size
    out = np.zeros(n, dtype=bool)
    if flat_hours is None or n < 2:
        return out
    gap = np.inf if max_gap_hours is None else max_gap_hours
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (v[1:] != v[:-1]) | (np.diff(h) > gap)
    run_id = np.cumsum(new_run) - 1
    start = h[new_run][run_id]
    return (h - start) >= flat_hours - 1e-9


def series_flags(times: np.ndarray, values: np.ndarray, limits: Limits) -> np.ndarray:
    """RANGE | SPIKE | FLAT | GAP flags of one series sorted by time (times unique)."""
    v = np.asarray(values, dtype=float)
    flags = np.zeros(v.size, dtype=np.int64)
    flags[range_flags(v, limits.minimum, limits.maximum)] |= int(QC.RANGE)
    flags[spike_flags(times, v, limits.max_change_per_day, limits.max_gap_hours)] |= int(QC.SPIKE)
    flags[flat_flags(times, v, limits.flat_hours, limits.max_gap_hours)] |= int(QC.FLAT)
    flags[gap_flags(times, limits.max_gap_hours)] |= int(QC.GAP)
    return flags


# --------------------------------------------------------------------------- cross tests

def _differs(a: np.ndarray, b: np.ndarray, tol: float | None, rel: float) -> np.ndarray:
    """|a - b| > max(tol, rel * max(|a|, |b|)); False where the tolerance is off."""
    if tol is None:
        return np.zeros(np.shape(a), dtype=bool)
    scale = np.maximum(np.abs(a), np.abs(b))
    return np.abs(a - b) > np.maximum(tol, rel * scale) + 1e-9


def disagreement(a: np.ndarray, b: np.ndarray, tol: float | None, rel: float = 0.0
                 ) -> np.ndarray:
    """True where two readings of the same quantity differ by more than the tolerance."""
    return _differs(np.asarray(a, float), np.asarray(b, float), tol, rel)


def rating_inconsistent(stage_cm: np.ndarray, discharge_m3s: np.ndarray, rating: Any,
                        tolerance_cm: float) -> np.ndarray:
    """True where a stage and a discharge disagree through the rating.

    Compared in stage: the observed stage against ``rating.stage(discharge)``; this is robust
    at low flow, where a centimetre of stage is a large fraction of the discharge.  A zero
    discharge is consistent with any stage up to the cease-to-flow stage plus the tolerance.
    """
    h = np.asarray(stage_cm, dtype=float)
    q = np.asarray(discharge_m3s, dtype=float)
    expected = np.asarray(rating.stage(q), dtype=float)
    bad = np.abs(h - expected) > tolerance_cm + 1e-9
    dry = q <= 0
    if dry.any():
        h0 = float(rating.h0.to("stage"))
        bad = np.where(dry, h > h0 + tolerance_cm + 1e-9, bad)
    return bad


def _nearest(t_from: np.ndarray, t_to: np.ndarray, window: float) -> np.ndarray:
    """Index into sorted ``t_to`` of the nearest time within ``window`` (hours), or -1.

    Ties go to the earlier time.
    """
    if t_to.size == 0:
        return np.full(t_from.size, -1)
    pos = np.searchsorted(t_to, t_from)
    lo = np.clip(pos - 1, 0, t_to.size - 1)
    hi = np.clip(pos, 0, t_to.size - 1)
    d_lo = np.abs(t_from - t_to[lo])
    d_hi = np.abs(t_to[hi] - t_from)
    pick = np.where(d_hi < d_lo, hi, lo)
    dist = np.minimum(d_lo, d_hi)
    return np.where(dist <= window + 1e-9, pick, -1)


def cross_flags(frame: pd.DataFrame, limits: Callable[[str, str], Limits],
                ratings: Mapping[str, Any]) -> np.ndarray:
    """DUPLICATE_CONFLICT | PARTY_DISAGREE | RATING flags of every row of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        Current values at one or more gauges: ``station_id, variable, time, party, source,
        value`` (canonical units) and ``flags`` (the value's other flags; ICE-flagged stages
        are left out of the rating test).  One row per (station, variable, time, party,
        source).
    limits : callable
        ``limits(station_id, variable) -> Limits``.
    ratings : mapping
        station id -> rating object with ``.stage(q)``, ``.h0`` and ``.valid_from``.

    Notes
    -----
    * DUPLICATE_CONFLICT: two *sources* of one party give the same station, variable and
      time different values (beyond ``duplicate_tolerance``); every value of the group is
      flagged.  (Two files of one source are a correction, kept as a revision.)
    * PARTY_DISAGREE: a value differs from a value of another party at the same station,
      variable and time by more than ``party_tolerance``; both sides are flagged.
    * RATING: see :func:`rating_inconsistent`; each stage is paired with the nearest
      discharge of the same party (each discharge source separately) within
      ``rating_window``; both the stage and the discharge are flagged.
    """
    n = len(frame)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    # string columns as (codes, labels): categorical columns cost nothing to group
    st_c, st_l = labels(frame["station_id"])
    var_c, var_l = labels(frame["variable"])
    party_c, party_l = labels(frame["party"])
    src_c, _ = labels(frame["source"])
    value = frame["value"].to_numpy(dtype=float)
    t = np.asarray(frame["time"].to_numpy(), dtype="datetime64[ns]")
    flags = frame["flags"].to_numpy(dtype=np.int64)
    gauge_var = group_ids(st_c, var_c)
    sid = group_ids(gauge_var, party_c, src_c)
    # rows whose gauge and variable carry more than one series (party or source)
    series_of = np.zeros(int(sid.max()) + 1, dtype=np.int64)
    series_of[sid] = gauge_var                      # the gauge/variable of each series
    per_gauge_var = np.bincount(series_of, minlength=int(gauge_var.max()) + 1)
    shared = per_gauge_var[gauge_var] > 1
    if shared.any():
        idx = np.flatnonzero(shared)
        sub = pd.DataFrame({"s": st_l[st_c[idx]], "v": var_l[var_c[idx]], "t": t[idx],
                            "p": party_l[party_c[idx]], "val": value[idx], "i": idx})
        for (s, v), g in sub.groupby(["s", "v"], sort=False):
            # the keys are station and variable labels: strings (st_l, var_l)
            assert isinstance(s, str) and isinstance(v, str)
            lim = limits(s, v)
            # same party, several sources
            grp = g.groupby(["t", "p"], sort=False)["val"]
            lo, hi = grp.transform("min").to_numpy(), grp.transform("max").to_numpy()
            dup = _differs(lo, hi, lim.duplicate_tolerance, lim.duplicate_relative)
            out[g["i"].to_numpy()[dup]] |= int(QC.DUPLICATE_CONFLICT)
            # other parties at the same time
            parties = g["p"].unique()
            if len(parties) > 1 and lim.party_tolerance is not None:
                bad = np.zeros(len(g), dtype=bool)
                vals = g["val"].to_numpy()
                for p in parties:
                    mine = (g["p"] == p).to_numpy()
                    other = g[~mine].groupby("t")["val"].agg(["min", "max"])
                    j = other.reindex(g["t"][mine])
                    omin, omax = j["min"].to_numpy(), j["max"].to_numpy()
                    has = ~np.isnan(omin)
                    d = np.zeros(mine.sum(), dtype=bool)
                    d[has] = (_differs(vals[mine][has], omin[has], lim.party_tolerance,
                                       lim.party_relative)
                              | _differs(vals[mine][has], omax[has], lim.party_tolerance,
                                         lim.party_relative))
                    bad[np.flatnonzero(mine)[d]] = True
                out[g["i"].to_numpy()[bad]] |= int(QC.PARTY_DISAGREE)
    # stage against discharge through the rating
    is_stage = np.isin(var_c, np.flatnonzero(var_l == "stage"))
    is_q = np.isin(var_c, np.flatnonzero(var_l == "discharge"))
    if is_stage.any() and is_q.any():
        hours = _hours(t)
        for sc in np.unique(st_c[is_stage]):
            s = st_l[sc]
            rating = ratings.get(s)
            if rating is None:
                continue
            lim = limits(s, "stage")
            if lim.rating_tolerance is None or lim.rating_window_hours is None:
                continue
            valid_from = np.datetime64(getattr(rating, "valid_from", "1900-01-01"), "ns")
            at = st_c == sc
            for p in np.unique(party_c[at & is_stage]):
                hs = np.flatnonzero(at & is_stage & (party_c == p) & (t >= valid_from)
                                    & ((flags & int(QC.ICE)) == 0))
                if hs.size == 0:
                    continue
                qrows = np.flatnonzero(at & is_q & (party_c == p))
                for o in np.unique(src_c[qrows]):
                    qs = qrows[src_c[qrows] == o]
                    qs = qs[np.argsort(hours[qs], kind="stable")]
                    k = _nearest(hours[hs], hours[qs], lim.rating_window_hours)
                    ok = k >= 0
                    if not ok.any():
                        continue
                    h_i, q_i = hs[ok], qs[k[ok]]
                    bad = rating_inconsistent(value[h_i], value[q_i], rating,
                                              lim.rating_tolerance)
                    out[h_i[bad]] |= int(QC.RATING)
                    out[q_i[bad]] |= int(QC.RATING)
    return out
