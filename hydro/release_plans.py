"""Release plans as tables: a reservoir's schedule as date → release (m³/s) or date →
target level (m), its CSV form, its live checks against the reservoir's physics, and its
conversion to and from the scenario engine's release rules.

Pure: no file, database or clock access (reading uploads and storing plans is
:mod:`hydro.services.release_plans`').  Units: discharge m³/s, level m (Baltic system),
volume hm³, dates are local calendar days of the season.

A :class:`ReservoirSchedule` is either

* a **table** of :class:`ScheduleRow` — a release from each date until the next
  (piecewise constant, as :class:`hydro.scenarios.DailyReleaseSpec`), or a level to reach
  on each date (linear in between, as :class:`hydro.scenarios.TargetLevelSpec`); all rows
  of one table are of the same kind; or
* a **rule** the engine knows, by name: the name of a plan of the scenario file
  (``default``, ``rule-curve``, ``flood-control`` …) whose release rule for this
  reservoir is followed (a flood-control rule, a rule curve …), or ``pass_inflow`` (the
  reservoir passes its inflow).  The scenario file's rules are resolved by the service,
  which knows the file; here a rule arrives as its :class:`hydro.scenarios.ReleaseRule`.

The CSV form (``date,release_m3s`` or ``date,target_level_m``; ``;`` separators and decimal
commas accepted as Russian and Kazakh spreadsheets write them) is read by
:func:`parse_schedule_csv` and written by :func:`schedule_csv`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hydro.errors import IngestError

_V = TypeVar("_V")

__all__ = [
    "ScheduleRow",
    "ReservoirSchedule",
    "ScheduleIssue",
    "ISSUE_KINDS",
    "PASS_INFLOW",
    "MAX_ROWS",
    "MAX_BYTES",
    "RELEASE_COLUMN",
    "LEVEL_COLUMN",
    "parse_schedule_csv",
    "schedule_csv",
    "to_spec",
    "to_plan",
    "from_spec",
    "check_schedule",
]

#: the rule name of "pass the inflow" (:class:`hydro.scenarios.PassInflowSpec`)
PASS_INFLOW: Final = "pass_inflow"
#: most rows a schedule file may have (a daily table of five years is 1 826)
MAX_ROWS: Final = 2000
#: largest schedule file, bytes (2 000 rows of ``2024-03-01;12345,5`` are ~40 kB)
MAX_BYTES: Final = 200_000
#: canonical column names (what :func:`schedule_csv` writes)
RELEASE_COLUMN: Final = "release_m3s"
LEVEL_COLUMN: Final = "target_level_m"

#: header spellings accepted (case, spaces and the unit's superscript normalised)
_RELEASE_HEADERS: Final = {"release_m3s", "release (m3/s)", "release(m3/s)", "release m3/s",
                           "release_m3/s"}
_LEVEL_HEADERS: Final = {"target_level_m", "target_level (m)", "target_level(m)",
                         "target level (m)", "target_level m"}
_UNITLESS: Final = {"release", "discharge", "q", "target_level", "target level", "level"}


# =========================================================================== the table

@dataclass(frozen=True)
class ScheduleRow:
    """One row of a schedule table: from ``date`` a release (m³/s), or on ``date`` a target
    level (m, Baltic system).  Exactly one of the two is given."""

    date: dt.date
    release_m3s: float | None = None
    target_level_m: float | None = None

    def __post_init__(self) -> None:
        if (self.release_m3s is None) == (self.target_level_m is None):
            raise ValueError(f"{self.date}: give exactly one of release_m3s and "
                             "target_level_m")
        v = self.value
        if not math.isfinite(v):
            raise ValueError(f"{self.date}: value must be a finite number, got {v}")
        if self.release_m3s is not None and self.release_m3s < 0:
            raise ValueError(f"{self.date}: release must not be negative "
                             f"({self.release_m3s:g} m3/s)")

    @property
    def kind(self) -> Literal["release", "target_level"]:
        return "release" if self.release_m3s is not None else "target_level"

    @property
    def value(self) -> float:
        """The release (m³/s) or the target level (m)."""
        return float(self.release_m3s if self.release_m3s is not None
                     else self.target_level_m)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReservoirSchedule:
    """A reservoir's schedule in a plan: a table (``rows``) or a rule by name (``rule``:
    a plan of the scenario file whose rule for this reservoir is followed, or
    :data:`PASS_INFLOW`).  See the module docstring."""

    reservoir: str
    rows: tuple[ScheduleRow, ...] = ()
    rule: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(self.rows))
        if bool(self.rows) == (self.rule is not None):
            raise ValueError(f"{self.reservoir}: a schedule is either a table of rows or a "
                             "rule, not both and not neither")
        if self.rows:
            _check_rows(self.rows, str(self.reservoir))

    @property
    def kind(self) -> Literal["release", "target_level", "rule"]:
        """``"release"``, ``"target_level"`` (a table) or ``"rule"``."""
        return "rule" if self.rule is not None else self.rows[0].kind

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (dates ISO, units in the keys)."""
        return {"rule": self.rule,
                "rows": [{"date": r.date.isoformat(),
                          **({RELEASE_COLUMN: r.release_m3s} if r.release_m3s is not None
                             else {LEVEL_COLUMN: r.target_level_m})} for r in self.rows]}

    @classmethod
    def from_json(cls, reservoir: str, data: Mapping[str, Any]) -> ReservoirSchedule:
        """Inverse of :meth:`to_json`."""
        rows = tuple(ScheduleRow(dt.date.fromisoformat(r["date"]),
                                 release_m3s=r.get(RELEASE_COLUMN),
                                 target_level_m=r.get(LEVEL_COLUMN))
                     for r in data.get("rows") or [])
        return cls(reservoir, rows, data.get("rule"))


def _check_rows(rows: Sequence[ScheduleRow], where: str) -> None:
    kinds = {r.kind for r in rows}
    if len(kinds) > 1:
        raise ValueError(f"{where}: a table holds releases or target levels, not both")
    for a, b in zip(rows, rows[1:], strict=False):
        if b.date <= a.date:
            raise ValueError(f"{where}: dates must be strictly increasing ({a.date} then "
                             f"{b.date})")


# =========================================================================== CSV

def _norm_header(h: str) -> str:
    h = h.strip().strip('"').strip().lower().replace("³", "3").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", h)


def _parse_date(text: str) -> dt.date:
    t = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return dt.date.fromisoformat(t)
        m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", t)
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError as e:
        raise ValueError(f"'{text}' is not a date ({e})") from None
    raise ValueError(f"'{text}' is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def _parse_number(text: str) -> float:
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in t and "." not in t:
        t = t.replace(",", ".")           # decimal comma (ru/kk spreadsheets)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        if t.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            raise ValueError(f"'{text}' is not a finite number")
        raise ValueError(f"'{text}' is not a number")
    return float(t)


def _read_cell(text: str, parse: Callable[[str], _V], source: str, line: int, column: str,
               empty: str) -> _V:
    """``parse(text)`` of one cell; an empty cell (message ``empty``) or one ``parse``
    refuses is an :class:`IngestError` naming ``source``, ``line`` and ``column``."""
    if not text.strip():
        raise IngestError(source, empty, line, column)
    try:
        return parse(text)
    except ValueError as e:
        raise IngestError(source, str(e), line, column) from None


def parse_schedule_csv(text: str, source: str) -> list[ScheduleRow]:
    """Read a schedule table from CSV text.

    The header names the date column ``date`` and one value column whose name carries its
    unit: ``release_m3s``, ``release (m3/s)`` or ``release (m³/s)`` (m³/s), or
    ``target_level_m`` or ``target_level (m)`` (m, Baltic system).  Separator ``,`` or
    ``;`` (the header's decides); with ``;`` a decimal comma (``12,5``) is read as in
    Russian and Kazakh spreadsheets.  Dates ``YYYY-MM-DD`` (or ``DD.MM.YYYY``), strictly
    increasing.  Blank lines are skipped.  At most :data:`MAX_ROWS` rows and
    :data:`MAX_BYTES` bytes.

    Raises
    ------
    hydro.errors.IngestError
        ``<source>, line N, column '<name>': <what is wrong>`` — for missing, unknown or
        unit-less columns, a value that is not a date or not a finite number, an empty cell,
        a negative release, dates not increasing, and a file over a size limit.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise IngestError(source, f"the file has {size} bytes, more than the limit of "
                                  f"{MAX_BYTES} bytes for a schedule")
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise IngestError(source, "the file is empty; expected a header such as "
                                  "'date,release_m3s'", line=1)
    sep = ";" if ";" in lines[first] else ","
    reader = csv.reader(lines[first:], delimiter=sep)
    header_line = first + 1
    header = next(reader)
    names = [_norm_header(h) for h in header]
    date_col = value_col = None
    kind: str | None = None
    for j, (raw, h) in enumerate(zip(header, names, strict=True)):
        col = raw.strip() or f"#{j + 1}"
        if h == "date":
            if date_col is not None:
                raise IngestError(source, "the date column is given twice", header_line, col)
            date_col = j
        elif h in _RELEASE_HEADERS or h in _LEVEL_HEADERS:
            if value_col is not None:
                raise IngestError(source, "give one value column: release_m3s or "
                                          "target_level_m, not both", header_line, col)
            value_col, kind = j, ("release" if h in _RELEASE_HEADERS else "target_level")
        elif h in _UNITLESS or h.startswith(("release", "target")):
            raise IngestError(source, "the column does not name its unit; write "
                                      "'release_m3s' (or 'release (m3/s)') for a release, "
                                      "'target_level_m' (or 'target_level (m)') for a level",
                              header_line, col)
        elif h == "":
            raise IngestError(source, "empty column name", header_line, col)
        else:
            raise IngestError(source, "unknown column (expected 'date' and one of "
                                      "'release_m3s', 'target_level_m')", header_line, col)
    if date_col is None:
        raise IngestError(source, "no 'date' column (header: "
                                  f"{sep.join(h.strip() for h in header)})", header_line)
    if value_col is None or kind is None:
        raise IngestError(source, "no value column: add 'release_m3s' or 'target_level_m'",
                          header_line)
    date_name = header[date_col].strip()
    value_name = header[value_col].strip()
    rows: list[ScheduleRow] = []
    for k, cells in enumerate(reader):
        line = header_line + 1 + k
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise IngestError(source, f"more than {MAX_ROWS} rows, the limit for a schedule",
                              line)
        if len(cells) != len(header):
            raise IngestError(source, f"{len(cells)} cells, the header has {len(header)}"
                              + (" (a decimal comma needs ';' as the separator)"
                                 if sep == "," and len(cells) > len(header) else ""), line)
        d_text, v_text = cells[date_col], cells[value_col]
        day = _read_cell(d_text, _parse_date, source, line, date_name,
                         "empty cell; every row needs a date")
        if rows and day <= rows[-1].date:
            raise IngestError(source, f"dates must be strictly increasing: {day} follows "
                                      f"{rows[-1].date}", line, date_name)
        v = _read_cell(v_text, _parse_number, source, line, value_name,
                       "empty cell; give a number")
        if kind == "release" and v < 0:
            raise IngestError(source, f"a release cannot be negative ({v:g} m3/s)", line,
                              value_name)
        rows.append(ScheduleRow(day, release_m3s=v) if kind == "release"
                    else ScheduleRow(day, target_level_m=v))
    if not rows:
        raise IngestError(source, "the file has a header but no rows", header_line + 1)
    return rows


def schedule_csv(rows: Sequence[ScheduleRow]) -> str:
    """The CSV text of a schedule table (``date,release_m3s`` or ``date,target_level_m``;
    ISO dates, ``,`` separator, numbers with ``repr`` precision): :func:`parse_schedule_csv`
    reads it back to the same rows."""
    if not rows:
        raise ValueError("a schedule table needs at least one row")
    _check_rows(rows, "schedule")
    col = RELEASE_COLUMN if rows[0].kind == "release" else LEVEL_COLUMN
    out = io.StringIO()
    out.write(f"date,{col}\n")
    for r in rows:
        out.write(f"{r.date.isoformat()},{r.value!r}\n")
    return out.getvalue()


# =========================================================================== engine specs

def to_spec(schedule: ReservoirSchedule) -> Any:
    """The engine's release rule of a table: :class:`hydro.scenarios.DailyReleaseSpec`
    (``release_unit = "m3/s"``) or :class:`hydro.scenarios.TargetLevelSpec`
    (``level_unit = "m"``).  A rule schedule has no spec of its own (``ValueError``):
    the scenario file's plan it names has it."""
    from hydro.scenarios import DailyReleaseSpec, TargetLevelSpec

    if schedule.rule is not None:
        raise ValueError(f"{schedule.reservoir}: rule '{schedule.rule}' is resolved by the "
                         "scenario file, not by a table")
    dates = [r.date for r in schedule.rows]
    if schedule.kind == "release":
        return DailyReleaseSpec(kind="daily_release", dates=dates, release_unit="m3/s",
                                release=[r.value for r in schedule.rows])
    return TargetLevelSpec(kind="target_level", dates=dates, level_unit="m",
                           level=[r.value for r in schedule.rows])


def to_plan(schedules: Mapping[str, ReservoirSchedule], description: str, base: Any,
            rules: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """A :class:`hydro.scenarios.Plan` of the tables in ``schedules``; reservoirs not given
    follow ``base`` (a Plan, normally the scenario's ``default``).

    ``rules`` maps a rule name to the specs of that plan by reservoir (the scenario file's
    plans: ``{plan: {reservoir: spec}}``), resolving rule schedules; ``pass_inflow`` is
    known without it.
    """
    from hydro.scenarios import PassInflowSpec, Plan

    out = dict(base.reservoirs)
    for rid, sch in schedules.items():
        if sch.rule is None:
            out[rid] = to_spec(sch)
        elif sch.rule == PASS_INFLOW:
            out[rid] = PassInflowSpec(kind="pass_inflow")
        elif rules is not None and rid in rules.get(sch.rule, {}):
            out[rid] = rules[sch.rule][rid]
        else:
            known = sorted({PASS_INFLOW, *(p for p, r in (rules or {}).items() if rid in r)})
            raise ValueError(f"{rid}: unknown rule '{sch.rule}' (known: {', '.join(known)})")
    return Plan(description=description, reservoirs=out)


def from_spec(spec: Any, dates: pd.DatetimeIndex, *, reservoir: str = "",
              plan: str | None = None) -> ReservoirSchedule:
    """A scenario file's release rule as a :class:`ReservoirSchedule`: a ``daily_release``
    or ``target_level`` spec as its rows; a ``prerelease`` spec (a piecewise-constant
    release in four phases) as the rows where its release changes within ``dates``; any
    other rule by name — ``plan`` (the plan it came from) or, without one, its kind."""
    from hydro import reservoirs as R
    from hydro.scenarios import DailyReleaseSpec, PrereleaseSpec, TargetLevelSpec

    if isinstance(spec, DailyReleaseSpec):
        f = _factor(spec.release_unit, "discharge")
        return ReservoirSchedule(reservoir, tuple(
            ScheduleRow(d, release_m3s=float(v) * f) for d, v in zip(spec.dates, spec.release,
                                                                      strict=True)))
    if isinstance(spec, TargetLevelSpec):
        f = _factor(spec.level_unit, "elevation")
        return ReservoirSchedule(reservoir, tuple(
            ScheduleRow(d, target_level_m=float(v) * f) for d, v in zip(spec.dates, spec.level,
                                                                         strict=True)))
    if isinstance(spec, PrereleaseSpec):
        built = spec.build(dates)
        assert isinstance(built, R.DailyRelease)
        q = np.asarray(built.release_m3s, dtype=float)
        keep = np.flatnonzero(np.r_[True, np.diff(q) != 0])
        return ReservoirSchedule(reservoir, tuple(
            ScheduleRow(dates[int(i)].date(), release_m3s=float(q[i])) for i in keep))
    return ReservoirSchedule(reservoir, rule=plan if plan is not None else spec.kind)


def _factor(unit: str, dimension: str) -> float:
    from hydro.units import factor

    return float(factor(unit, dimension))


# =========================================================================== checks

#: issue kind -> the reservoir-operation reason it comes from (where it does)
ISSUE_KINDS: Final = ("outlet_capacity", "ramp", "minimum_release", "fpu", "below_umo")


@dataclass(frozen=True)
class ScheduleIssue:
    """A problem of a schedule: ``kind`` (one of :data:`ISSUE_KINDS`) from ``date`` (the
    first day) over ``values["days"]`` consecutive days to ``values["until"]`` (ISO);
    ``message_key`` is the dashboard's i18n key (``plan.issue.<kind>``), formatted with
    ``values`` (numbers in m³/s, m, hm³ as the key names say); :attr:`text_en` is the
    English text for the CLI."""

    date: dt.date
    kind: str
    message_key: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def text_en(self) -> str:
        return issue_text(self, "en")


#: English message of each issue (the CLI's; the dashboard's are in its i18n catalog under
#: the same keys)
ISSUE_TEXT_EN: Final = {
    "plan.issue.outlet_capacity": (
        "{span}: the requested release (up to {requested_m3s:.0f} m3/s) is above the outlet "
        "capacity at the level the reservoir would have ({capacity_m3s:.0f} m3/s at "
        "{level_m:.2f} m); it would release {actual_m3s:.0f} m3/s"),
    "plan.issue.ramp": (
        "{span}: the release changes faster than the ramp limit of {ramp_m3s_per_day:.0f} "
        "m3/s a day; it would reach the requested {requested_m3s:.0f} m3/s only gradually "
        "(released {actual_m3s:.0f} m3/s)"),
    "plan.issue.minimum_release": (
        "{span}: the requested release ({requested_m3s:.0f} m3/s) is below the minimum "
        "environmental release of {min_release_m3s:.0f} m3/s"),
    "plan.issue.fpu": (
        "{span}: the level reaches ФПУ ({fpu_m:.2f} m; highest {level_m:.2f} m), "
        "uncontrolled spill up to {spill_m3s:.0f} m3/s"),
    "plan.issue.fpu_target": (
        "{span}: target level {target_m:.2f} m is above ФПУ ({fpu_m:.2f} m)"),
    "plan.issue.below_umo": (
        "{span}: target level {target_m:.2f} m is below УМО ({umo_m:.2f} m, dead storage)"),
    "plan.issue.dead_storage": (
        "{span}: the release would draw the reservoir below УМО ({umo_m:.2f} m); it is cut "
        "to {actual_m3s:.0f} m3/s"),
}


def issue_text(issue: ScheduleIssue, lang: str = "en") -> str:
    """The English text of an issue (``lang`` other than ``"en"`` is the dashboard's, from
    its catalog)."""
    v = dict(issue.values)
    until = v.get("until")
    v["span"] = (f"{issue.date}" if not until or until == issue.date.isoformat()
                 else f"{issue.date} to {until} ({v.get('days', '?')} days)")
    return ISSUE_TEXT_EN[issue.message_key].format(**v)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def check_schedule(schedule: ReservoirSchedule, reservoir: Any, dates: pd.DatetimeIndex,
                   start_volume_hm3: float, inflow_m3s: ArrayLike | None, *,
                   initial_release_m3s: float | None = None, rule_spec: Any = None,
                   evaporation_mm_per_day: ArrayLike | None = None) -> list[ScheduleIssue]:
    """Check a schedule against the reservoir's physics over the season ``dates``.

    The schedule is operated by :func:`hydro.reservoirs.operate` from ``start_volume_hm3``
    (hm³) on ``inflow_m3s`` (m³/s, shape (T,): one inflow series, e.g. the scenario's
    control member; ``None`` = no inflow, which leaves the ФПУ check silent), and every
    run of days where the operated release differs from the requested one becomes an
    issue by its :class:`hydro.reservoirs.Reason`:

    * ``outlet_capacity`` — the request is above the outlet capacity at the level the
      reservoir has then (OUTLET_CAPACITY);
    * ``ramp`` — the request changes by more than ``max_ramp_per_day`` (RAMP; anchored by
      ``initial_release_m3s`` on the first day when given);
    * ``minimum_release`` — the request is below the minimum environmental release
      (MIN_RELEASE);
    * ``fpu`` — the level reaches ФПУ and water spills uncontrolled (FORCED_SPILL), or a
      target level lies above ФПУ;
    * ``below_umo`` — a target level lies below УМО (dead storage), or a release would draw
      the reservoir below it (DEAD_STORAGE, message ``plan.issue.dead_storage``).

    Targets outside [УМО, ФПУ] are reported and then clipped to it for the simulation.  A
    rule schedule is checked through ``rule_spec`` (its :class:`hydro.scenarios.ReleaseRule`).
    One member, daily steps: a 120-day season takes a few milliseconds.
    """
    from hydro import reservoirs as R

    n = len(dates)
    if n == 0:
        return []
    issues: list[ScheduleIssue] = []
    umo, fpu = reservoir.umo.to("elevation"), reservoir.fpu.to("elevation")
    if schedule.rule is not None:
        if rule_spec is None:
            return []
        spec = rule_spec
    else:
        spec = to_spec(schedule)
    if schedule.kind == "target_level":
        for r in schedule.rows:
            t = r.value
            if t < umo - 1e-9:
                issues.append(ScheduleIssue(r.date, "below_umo", "plan.issue.below_umo",
                                            {"target_m": t, "umo_m": umo,
                                             "until": r.date.isoformat(), "days": 1}))
            elif t > fpu + 1e-9:
                issues.append(ScheduleIssue(r.date, "fpu", "plan.issue.fpu_target",
                                            {"target_m": t, "fpu_m": fpu,
                                             "until": r.date.isoformat(), "days": 1}))
        spec = spec.model_copy(update={"level": [min(max(v, umo), fpu) for v in spec.level]})
    built = spec.build(dates, reservoir=reservoir)
    inflow = np.zeros(n) if inflow_m3s is None else np.asarray(inflow_m3s, dtype=float)
    if inflow.shape != (n,):
        raise ValueError(f"inflow_m3s must have shape ({n},), got {inflow.shape}")
    if not isinstance(built, R.DailyRelease | R.TargetLevel | R.RuleCurve | R.FloodControl):
        built = R.unregulated(inflow)        # pass_inflow
    v0 = min(max(float(start_volume_hm3), reservoir.dead_volume_hm3),
             reservoir.fpu_volume_hm3)
    res = R.operate(reservoir, inflow, built, start_day_of_year=int(dates[0].day_of_year),
                    initial_volume_hm3=v0, initial_release_m3s=initial_release_m3s,
                    evaporation_mm_per_day=evaporation_mm_per_day)
    flags = res.deviations.flags[0]
    req, got = res.requested_m3s[0], res.release_m3s[0]
    level_end = res.level_m[0]
    level_start = np.r_[reservoir.storage_table.level_at(v0), level_end[:-1]]
    spill = res.spill_m3s[0]
    ramp = reservoir.max_ramp_per_day.to("discharge")
    min_rel = reservoir.min_release.to("discharge")

    def span(a: int, b: int) -> dict[str, Any]:
        return {"until": dates[b].date().isoformat(), "days": b - a + 1}

    def add(kind: str, key: str, mask: np.ndarray, values: Any) -> None:
        for a, b in _runs(mask):
            issues.append(ScheduleIssue(dates[a].date(), kind, key,
                                        {**values(a, b), **span(a, b)}))

    add("outlet_capacity", "plan.issue.outlet_capacity",
        (flags & int(R.Reason.OUTLET_CAPACITY)) != 0,
        lambda a, b: {"requested_m3s": float(req[a:b + 1].max()),
                      "actual_m3s": float(got[a:b + 1].min()),
                      "capacity_m3s": float(np.min(reservoir.outlet_capacity.at(
                          level_start[a:b + 1]))),
                      "level_m": float(level_start[a:b + 1].min())})
    add("ramp", "plan.issue.ramp", (flags & int(R.Reason.RAMP)) != 0,
        lambda a, b: {"requested_m3s": float(req[b]), "actual_m3s": float(got[b]),
                      "ramp_m3s_per_day": ramp})
    add("minimum_release", "plan.issue.minimum_release",
        (flags & int(R.Reason.MIN_RELEASE)) != 0,
        lambda a, b: {"requested_m3s": float(req[a:b + 1].min()), "min_release_m3s": min_rel})
    add("fpu", "plan.issue.fpu",
        ((flags & int(R.Reason.FORCED_SPILL)) != 0) | (level_end >= fpu - 1e-6),
        lambda a, b: {"fpu_m": fpu, "level_m": float(level_end[a:b + 1].max()),
                      "spill_m3s": float(spill[a:b + 1].max())})
    add("below_umo", "plan.issue.dead_storage", (flags & int(R.Reason.DEAD_STORAGE)) != 0,
        lambda a, b: {"umo_m": umo, "actual_m3s": float(got[a:b + 1].min())})
    issues.sort(key=lambda i: (i.date, ISSUE_KINDS.index(i.kind)))
    return issues
