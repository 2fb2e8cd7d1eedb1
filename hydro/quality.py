"""Water-quality classification under both national systems of the border commission.

* :func:`classify_kz` — Kazakhstan's unified classification of water quality: classes 1–5 and
  "above class 5" (2016 edition) or classes I–VI (edition in force from January 2025), the
  limiting parameters, and the background class for ions of natural origin.
* :func:`ukizv` — Russia's specific combinatorial water pollution index (УКИЗВ,
  RD 52.24.643-2002) and its class 1, 2, 3a, 3b, 4a, 4b, 4c, 4d or 5.

Both engines are pure functions driven by tables (:mod:`hydro.quality_tables`, files in
``config/quality/``).  Every table row carries a source and a status; a result computed from
any row that is not ``official`` has ``provisional=True`` (and an УКИЗВ that lacks mandatory
ingredients ``incomplete``).  The results carry codes, not words: the class (1–6, "3a", ...),
the edition, the flags; their names and the marks "provisional"/"incomplete" in Kazakh, Russian
and English are made at the edges from hydro's catalogs (:mod:`hydro.services.labels`).  The
bundled tables are largely *estimates* (the official tables were not found; see
``config/quality/SOURCES.md``), so results on them are provisional until an agency imports its
official table with ``hydrorisk quality import-table``.

Concentrations are in mg/l (BOD5 mgO2/l, COD mgO/l; pH in pH units) — the canonical units of
``config/quality/parameters.toml``, in which ingest stores samples.

Values below the detection limit
--------------------------------
A value may be a number, :class:`Censored` (``Censored(0.02)`` = "below 0.02 mg/l"), the
tuple ``("<", 0.02)`` or the text ``"<0.02"`` as written in exchange files.

* KZ: a censored value lies in ``[lower, limit)``; its class is the range of classes over that
  interval.  If the detection limit is at or below the class-1 limit the value is class 1.  If
  it is above a class limit the parameter is *bounded*: ``klass`` is the best class the
  value can have (the usual reading of "not detected") and ``klass_upper`` the worst; the
  overall result carries both and ``bounded=True``.
* RU: a censored result counts as not exceeding the MPC when the detection limit is at or
  below the MPC; when the limit is above the MPC the result cannot be judged and is left out
  of that ingredient's count (``n_indeterminate``).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from hydro.errors import HydroriskError
from hydro.quality_tables import (
    KZ_EDITIONS,
    KzLimitRow,
    KzTable,
    MpcRow,
    MpcTable,
    UkizvScoring,
)

__all__ = [
    "Censored",
    "KzClassResult",
    "KzParameterClass",
    "QualityError",
    "UkizvAlternative",
    "UkizvParameterScore",
    "UkizvResult",
    "classify_kz",
    "kz_edition_for",
    "parse_value",
    "period_mean",
    "samples_from_long",
    "ukizv",
]

KZ2025_START: Final = date(2025, 1, 1)
#: other names users give the editions (the 2025 one was approved by order No. 70 of 2024)
_EDITION_ALIASES: Final[dict[str, str]] = {"2016": "kz2016", "2024": "kz2025", "2025": "kz2025",
                                           "kz2024": "kz2025"}


#: the classification takes its tables as arguments: this module reads no file
_NO_TABLE = ("{what} is needed: pass {arg}= (a deployment's: Config.quality_table('{system}'); "
             "the tables bundled with hydrorisk: "
             "hydro.config.quality_tables.default_table('{system}'))")


class QualityError(HydroriskError, ValueError):
    """A sample or series cannot be classified; the message says which value and why."""


# --------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Censored:
    """A concentration known only to lie in ``[lower, limit)`` (mg/l).

    ``Censored(0.02)`` is a result below the detection limit 0.02 mg/l.  A period mean over
    results some of which are censored is ``Censored(limit=mean with censored results at their
    limit, lower=mean with them at zero)``.
    """

    limit: float
    lower: float = 0.0

    def __post_init__(self) -> None:
        for name in ("limit", "lower"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise QualityError(f"Censored.{name} must be a finite number, got {v!r}")
        if self.limit <= 0:
            raise QualityError(f"a detection limit must be positive, got {self.limit!r}")
        if not 0 <= self.lower < self.limit:
            raise QualityError(f"Censored needs 0 <= lower < limit, got lower={self.lower!r}, "
                               f"limit={self.limit!r}")

    def __str__(self) -> str:
        return f"<{self.limit:g}"


Value = float | Censored


def parse_value(value: object, parameter: str = "value") -> float | Censored | None:
    """Read one concentration: a number, :class:`Censored`, ``("<", limit)`` or ``"<limit"``.

    Parameters
    ----------
    value : object
        The concentration (mg/l).  ``None``, NaN and empty text mean *missing*.
    parameter : str
        Name used in error messages.

    Returns
    -------
    float, Censored or None
        ``None`` when the value is missing.

    Raises
    ------
    QualityError
        For a negative, infinite or unreadable value.
    """
    if value is None:
        return None
    if isinstance(value, Censored):
        return value
    if isinstance(value, bool):
        raise QualityError(f"{parameter}: {value!r} is not a concentration")
    if isinstance(value, tuple):
        if len(value) == 2 and value[0] == "<":
            return Censored(_finite(value[1], parameter))
        raise QualityError(f"{parameter}: a censored value is written ('<', limit), "
                           f"got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            return None
        if text.startswith("<"):
            return Censored(_finite(text[1:].strip(), parameter))
        return _nonneg(_finite(text, parameter), parameter)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QualityError(f"{parameter}: cannot read {value!r} as a concentration") from None
    if math.isnan(x):
        return None
    return _nonneg(_finite(x, parameter), parameter)


def _finite(v: object, parameter: str) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QualityError(f"{parameter}: cannot read {v!r} as a number") from None
    if not math.isfinite(x):
        raise QualityError(f"{parameter}: {v!r} is not a finite number")
    return x


def _nonneg(x: float, parameter: str) -> float:
    if x < 0:
        raise QualityError(f"{parameter}: negative concentration {x:g}")
    return x


def _sample_items(sample: Mapping[str, object]) -> dict[str, float | Censored]:
    if not isinstance(sample, Mapping):
        raise QualityError(f"a sample is a mapping parameter -> concentration, got "
                           f"{type(sample).__name__}")
    out: dict[str, float | Censored] = {}
    for name, raw in sample.items():
        v = parse_value(raw, str(name))
        if v is not None:
            out[str(name)] = v
    return out


def period_mean(samples: Iterable[Mapping[str, object]]) -> dict[str, float | Censored]:
    """Mean concentration of each parameter over a period's samples (mg/l).

    Parameters
    ----------
    samples : iterable of mapping
        One mapping parameter -> concentration per sample; missing values are skipped.

    Returns
    -------
    dict
        Parameter -> mean.  Where some results are censored the mean is only known to lie
        between the mean with them at their lower bound (zero) and at their detection limit,
        and is returned as ``Censored(limit=upper mean, lower=lower mean)``.

    Notes
    -----
    Kazhydromet bulletins state the class of a water body for a period together with the
    period's concentration of the limiting parameter; classifying the period means is this
    module's reading of that practice (the order's text on aggregation was not found).
    """
    values: dict[str, list[float | Censored]] = {}
    for s in samples:
        for name, v in _sample_items(s).items():
            values.setdefault(name, []).append(v)
    out: dict[str, float | Censored] = {}
    for name, vs in values.items():
        lo = sum(v.lower if isinstance(v, Censored) else v for v in vs) / len(vs)
        hi = sum(v.limit if isinstance(v, Censored) else v for v in vs) / len(vs)
        out[name] = hi if not any(isinstance(v, Censored) for v in vs) else Censored(hi, lo)
    return out


def samples_from_long(frame: Any, parameter: str = "parameter",
                      value: str = "value") -> list[dict[str, float | Censored]]:
    """Turn a long table (one row per result) into samples (one mapping per sample).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``parameter`` and ``value`` (text such as ``"<0.02"`` or numbers, in the
        canonical units ingest stores); every other column except ``unit`` and ``line``
        (e.g. site, date) identifies a sample.
    parameter, value : str
        Names of the parameter and value columns.

    Returns
    -------
    list of dict
        Samples ordered by their identifying columns.
    """
    keys = [c for c in frame.columns if c not in (parameter, value, "unit", "line", "censored")]
    out: list[dict[str, float | Censored]] = []
    groups = frame.groupby(keys, sort=True) if keys else [((), frame)]
    for _, g in groups:
        sample: dict[str, float | Censored] = {}
        for p, raw in zip(g[parameter], g[value], strict=True):
            v = parse_value(raw, str(p))
            if v is not None:
                sample[str(p)] = v
        out.append(sample)
    return out


# --------------------------------------------------------------------------- KZ

def kz_edition_for(when: date | datetime | str) -> str:
    """The edition of the KZ unified classification in force on a date.

    ``"kz2025"`` (order No. 70 of 2024, applied by Kazhydromet from January 2025) from
    2025-01-01, else ``"kz2016"``.
    """
    d = date.fromisoformat(when[:10]) if isinstance(when, str) else when
    if isinstance(d, datetime):
        d = d.date()
    return "kz2025" if d >= KZ2025_START else "kz2016"


def _plain(v: float | Censored) -> float | str:
    return str(v) if isinstance(v, Censored) else v


def _row_class(row: KzLimitRow, x: float) -> int:
    """Class of ``x`` by one row: limits are inclusive on the better side."""
    if row.direction == "max":
        return bisect_left(row.limits, x) + 1
    return bisect_left([-v for v in row.limits], -x) + 1


def _row_bounds(row: KzLimitRow, v: float | Censored) -> tuple[int, int]:
    """(best, worst) class a value can have by one row."""
    if not isinstance(v, Censored):
        k = _row_class(row, v)
        return k, k
    if row.direction == "max":
        # values in [lower, limit): best at lower; worst is the class of values just below
        # the limit, which is the class of the limit itself (limits are inclusive)
        return _row_class(row, v.lower), _row_class(row, v.limit)
    best = bisect_right([-x for x in row.limits], -v.limit) + 1
    return best, _row_class(row, v.lower)


@dataclass(frozen=True)
class KzParameterClass:
    """The class of one parameter of a sample.

    ``klass``/``klass_upper`` are the best and worst class the value can have (equal unless it
    is censored above a class limit).  ``counted`` is False for an ion of natural origin within
    its background class, which then does not determine the overall class.
    """

    parameter: str
    value: float | Censored
    klass: int
    klass_upper: int
    natural_origin: bool
    background_class: int | None
    within_background: bool | None
    counted: bool
    status: str
    sources: tuple[str, ...]

    @property
    def provisional(self) -> bool:
        return self.status != "official"

    @property
    def bounded(self) -> bool:
        return self.klass_upper > self.klass


@dataclass(frozen=True)
class KzClassResult:
    """Overall KZ class of a sample and how it was reached.

    Attributes
    ----------
    klass : int
        Overall class, 1–6 (2016: 6 = "above class 5"; 2025: 6 = class VI).  With censored
        values above a class limit this is the best class the data allow.
    klass_upper : int
        Worst class the data allow (equals ``klass`` unless ``bounded``).
    limiting : tuple of str
        Parameters whose class is the overall class (empty for class 1).
    per_parameter : mapping
        :class:`KzParameterClass` of every classified parameter.
    edition : str
        ``"kz2016"`` or ``"kz2025"``.
    provisional : bool
        True when any table row used is not ``official``.
    sources : tuple of str
        Sources of the rows used.
    missing : tuple of str
        Table parameters absent from the sample (skipped).
    not_in_table : tuple of str
        Sample parameters the table has no limits for (skipped).
    notes : tuple of str
        Method notes (English), e.g. ions judged without a background class.
    """

    klass: int
    klass_upper: int
    limiting: tuple[str, ...]
    per_parameter: Mapping[str, KzParameterClass]
    edition: str
    provisional: bool
    sources: tuple[str, ...]
    missing: tuple[str, ...] = ()
    not_in_table: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        return self.klass_upper > self.klass

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form (censored values as text such as ``"<0.02"``); with the
        class's words: :func:`hydro.services.labels.quality_dict`."""
        return {
            "klass": self.klass, "klass_upper": self.klass_upper, "edition": self.edition,
            "provisional": self.provisional,
            "limiting": list(self.limiting), "sources": list(self.sources),
            "missing": list(self.missing), "not_in_table": list(self.not_in_table),
            "notes": list(self.notes),
            "per_parameter": {
                n: {"value": _plain(p.value), "klass": p.klass, "klass_upper": p.klass_upper,
                    "natural_origin": p.natural_origin, "background_class": p.background_class,
                    "within_background": p.within_background, "counted": p.counted,
                    "status": p.status, "sources": list(p.sources)}
                for n, p in self.per_parameter.items()},
        }


def _background_map(table: KzTable,
                    background_class: int | Mapping[str, int] | None) -> dict[str, int]:
    natural = [p for p in table.parameters if table.rows_for(p)[0].natural_origin]
    if background_class is None:
        return {}
    worst = table.worst_class
    if isinstance(background_class, Mapping):
        out = {}
        for name, b in background_class.items():
            if name not in natural:
                raise QualityError(
                    f"background class given for '{name}', which is not an ion of natural "
                    f"origin in the {table.edition} table (those are: {', '.join(natural)})")
            out[name] = b
    else:
        out = dict.fromkeys(natural, background_class)
    for name, b in out.items():
        if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= worst:
            raise QualityError(f"background class of {name} must be a class 1..{worst}, got {b!r}")
    return out


def classify_kz(sample: Mapping[str, object], *, edition: str | None = None,
                table: KzTable | None = None,
                background_class: int | Mapping[str, int] | None = None) -> KzClassResult:
    """Class of a water sample under Kazakhstan's unified classification of water quality.

    Parameters
    ----------
    sample : mapping
        Parameter name (as in ``config/quality/parameters.toml``) -> concentration in mg/l
        (BOD5 mgO2/l, COD mgO/l, pH in units): a number, :class:`Censored`, ``("<", DL)`` or
        ``"<DL"``.  ``None``/NaN mean missing.  For a period, pass :func:`period_mean`.
    edition : {"kz2016", "kz2025"}, optional
        Edition of the classification (default ``"kz2016"``, or that of ``table``); see
        :func:`kz_edition_for`.  ``2016``, ``2025`` and ``2024`` (the year of order No. 70)
        are accepted as aliases.
    table : KzTable, optional
        Class-limit table of the edition (required: this module reads no file; a deployment's
        is ``Config.quality_table(edition)``, the bundled one
        :func:`hydro.config.quality_tables.default_table`).
    background_class : int or mapping, optional
        The site's background class for ions of natural origin (one class for all of them, or
        per parameter).  Such an ion whose class does not exceed its background class does not
        determine the overall class.

    Returns
    -------
    KzClassResult
        Overall class 1–6, limiting parameters, per-parameter classes, provenance and
        ``provisional``.

    Raises
    ------
    QualityError
        For an unreadable value, a bad background class, or a sample with no parameter of the
        table.

    Notes
    -----
    Per parameter the class is the first class whose limit the value does not exceed
    (``max`` rows; limits inclusive) or does not fall below (``min`` rows: dissolved oxygen,
    the low side of pH); beyond the last limit it is 6.  A parameter with two rows (pH) takes
    the worse.  The overall class is the worst class among the counted parameters and the
    limiting parameters are those in it — the practice of Kazhydromet's bulletins ("class 5:
    oil products 0.234 mg/dm3"); the aggregation clause of the orders themselves was not found.
    Ions of natural origin are judged against the background class as described in the
    Ministry's statement on Lake Alakol (bestnews.kz 3975): a concentration within the
    background class is not counted as pollution.

    References: order No. 151 of 2016 (2016 edition, classes 1–5 and "above class 5"); order of
    the Ministry of Agriculture No. 70 of 20.03.2024 and methodological recommendations
    No. 275-p of 14.11.2024 (six classes from 2025; kazhydromet.kz/en/post/2920).
    """
    if edition is not None:
        edition = _EDITION_ALIASES.get(str(edition).lower(), str(edition))
    if table is None:
        edition = edition or "kz2016"
        if edition not in KZ_EDITIONS:
            raise ValueError(f"unknown edition '{edition}' (known: {', '.join(KZ_EDITIONS)})")
        raise QualityError(_NO_TABLE.format(what=f"the {edition} class-limit table",
                                            arg="table", system=edition))
    if edition is not None and edition != table.edition:
        raise ValueError(f"edition '{edition}' does not match the table's ({table.edition})")
    values = _sample_items(sample)
    background = _background_map(table, background_class)

    per: dict[str, KzParameterClass] = {}
    missing: list[str] = []
    eff: dict[str, tuple[int, int]] = {}
    for name in table.parameters:
        if name not in values:
            missing.append(name)
            continue
        rows = table.rows_for(name)
        bounds = [_row_bounds(r, values[name]) for r in rows]
        lo, hi = max(b[0] for b in bounds), max(b[1] for b in bounds)
        natural = rows[0].natural_origin
        b = background.get(name)
        within: bool | None = None
        if natural and b is not None:
            if hi <= b:
                within, eff[name] = True, (1, 1)
            elif lo > b:
                within, eff[name] = False, (lo, hi)
            else:
                eff[name] = (1, hi)
        else:
            eff[name] = (lo, hi)
        statuses = {r.status for r in rows}
        status = next(s for s in ("estimate", "secondary", "official") if s in statuses)
        per[name] = KzParameterClass(name, values[name], lo, hi, natural, b, within,
                                     within is not True, status,
                                     tuple(dict.fromkeys(r.source for r in rows)))
    if not per:
        raise QualityError(f"no parameter of the sample is in the {table.edition} table "
                           f"(sample: {', '.join(values) or 'empty'}; table: "
                           f"{', '.join(table.parameters)})")
    klass = max(e[0] for e in eff.values())
    klass_upper = max(e[1] for e in eff.values())
    limiting = tuple(n for n, e in eff.items() if e[0] == klass) if klass > 1 else ()
    notes = []
    unjudged = [n for n, p in per.items() if p.natural_origin and p.background_class is None]
    if unjudged:
        notes.append("ions of natural origin judged on the class limits alone (no background "
                     f"class given): {', '.join(unjudged)}")
    bounded = [n for n, e in eff.items() if e[1] > e[0]]
    if bounded:
        notes.append("detection limit above a class limit, class bounded: "
                     + ", ".join(f"{n} {per[n].value} (class {eff[n][0]}..{eff[n][1]})"
                                 for n in bounded))
    used_rows = [r for n in per for r in table.rows_for(n)]
    return KzClassResult(
        klass=klass, klass_upper=klass_upper, limiting=limiting,
        per_parameter=MappingProxyType(per), edition=table.edition,
        provisional=any(r.status != "official" for r in used_rows),
        sources=tuple(dict.fromkeys(r.source for r in used_rows)),
        missing=tuple(missing),
        not_in_table=tuple(n for n in values if n not in table.parameters),
        notes=tuple(notes))


# --------------------------------------------------------------------------- RU УКИЗВ

@dataclass(frozen=True)
class UkizvParameterScore:
    """Frequency, multiplicity and scores of one ingredient.

    ``frequency`` is alpha (% of judged results above the MPC), ``multiplicity`` beta (mean
    C/MPC over those results; MPC/C for dissolved oxygen; None without exceedances).
    """

    parameter: str
    mpc: float
    direction: str
    n: int
    n_exceed: int
    n_censored: int
    n_indeterminate: int
    frequency: float
    multiplicity: float | None
    s_alpha: float
    s_beta: float
    score: float
    critical: bool
    status: str
    source: str


@dataclass(frozen=True)
class UkizvAlternative:
    """The УКИЗВ class under another reading of the critical-indicator rule.

    The sources of the rule conflict (``[[critical.alternatives]]`` in the scoring file); the
    index is the same under every reading, the critical indicators, the correction and hence
    the class may differ.
    """

    rule: str
    klass: str
    names: Mapping[str, str]
    critical_indicators: tuple[str, ...]
    correction: float
    class_bounds: tuple[tuple[str, float | None], ...]
    status: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "klass": self.klass, "names": dict(self.names),
                "critical_indicators": list(self.critical_indicators),
                "correction": self.correction,
                "class_bounds": [[k, up] for k, up in self.class_bounds],
                "status": self.status, "source": self.source}


@dataclass(frozen=True)
class UkizvResult:
    """УКИЗВ of a series of samples and how it was reached.

    Attributes
    ----------
    index : float
        УКИЗВ (specific combinatorial index, dimensionless) = ``combinatorial_index / n_parameters``.
    klass : str
        "1", "2", "3a", "3b", "4a", "4b", "4c", "4d" or "5".
    combinatorial_index : float
        КИЗВ, the sum of the generalized scores S_i.
    partial_scores : mapping
        :class:`UkizvParameterScore` per ingredient assessed.
    critical_indicators : tuple of str
        Critical pollution indicators (КПЗ).
    correction : float
        Coefficient k by which the class bounds were multiplied.
    class_bounds : tuple of (str, float or None)
        Corrected upper bound of each class.
    provisional : bool
        True when any MPC row or scoring element used is not ``official``.
    incomplete : bool
        True when a mandatory ingredient of the MPC table (its ``mandatory`` column) was not
        assessed.  The index is a mean over the ingredients analysed, so it is not comparable
        with a complete one (the same exceedances give class 2 among 16 ingredients and 4d
        among 2); its display (:func:`hydro.services.labels.quality_display`) never shows
        such a class plainly.
    missing : tuple of str
        The mandatory ingredients not assessed: absent from the samples
        (``missing_mandatory``) or with no result that could be judged (``indeterminate``).
    critical_rule : str
        The critical-indicator rule applied (e.g. ``S_alpha >= 2 & S_beta >= 3``).
    alternatives : tuple of UkizvAlternative
        Readings of the critical-indicator rule from conflicting sources whose critical
        indicators or class differ from this result's (empty when they all agree).
    """

    index: float
    klass: str
    names: Mapping[str, str]
    combinatorial_index: float
    n_parameters: int
    n_samples: int
    partial_scores: Mapping[str, UkizvParameterScore]
    critical_indicators: tuple[str, ...]
    correction: float
    class_bounds: tuple[tuple[str, float | None], ...]
    provisional: bool
    sources: tuple[str, ...]
    missing_mandatory: tuple[str, ...] = ()
    not_in_table: tuple[str, ...] = ()
    indeterminate: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = ()
    critical_rule: str = ""
    alternatives: tuple[UkizvAlternative, ...] = ()

    @property
    def incomplete(self) -> bool:
        """Whether a mandatory ingredient was not assessed (``missing`` is not empty)."""
        return bool(self.missing)

    @property
    def class_alternatives(self) -> tuple[UkizvAlternative, ...]:
        """The alternative readings that give another class."""
        return tuple(a for a in self.alternatives if a.klass != self.klass)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form; with the class's words:
        :func:`hydro.services.labels.quality_dict`."""
        return {
            "index": self.index, "klass": self.klass, "names": dict(self.names),
            "provisional": self.provisional,
            "combinatorial_index": self.combinatorial_index,
            "n_parameters": self.n_parameters, "n_samples": self.n_samples,
            "critical_indicators": list(self.critical_indicators),
            "correction": self.correction,
            "class_bounds": [[k, up] for k, up in self.class_bounds],
            "sources": list(self.sources), "missing_mandatory": list(self.missing_mandatory),
            "not_in_table": list(self.not_in_table), "indeterminate": list(self.indeterminate),
            "notes": list(self.notes), "incomplete": self.incomplete,
            "missing": list(self.missing), "critical_rule": self.critical_rule,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "partial_scores": {
                n: {k: getattr(sc, k) for k in UkizvParameterScore.__dataclass_fields__
                    if k != "parameter"}
                for n, sc in self.partial_scores.items()},
        }


def _judge(row: MpcRow, v: float | Censored) -> tuple[bool | None, float]:
    """(exceeds?, multiplicity) of one result; None when a censored result cannot be judged."""
    mpc = row.mpc
    if row.direction == "max":
        if not isinstance(v, Censored):
            return v > mpc, v / mpc
        if v.limit <= mpc:
            return False, 0.0
        if v.lower > mpc:
            return True, v.lower / mpc  # at least this many times the MPC
        return None, 0.0
    if not isinstance(v, Censored):
        return v < mpc, (mpc / v if v > 0 else math.inf)
    if v.lower >= mpc:
        return False, 0.0
    if v.limit <= mpc:
        return True, mpc / v.limit  # at least this many times below the MPC
    return None, 0.0


def _collect(samples: Any) -> list[dict[str, float | Censored]]:
    if hasattr(samples, "to_dict") and hasattr(samples, "columns"):
        records = samples.to_dict("records")
    elif isinstance(samples, Mapping):
        raise QualityError("ukizv takes a series of samples (a list of mappings or a "
                           "DataFrame with one row per sample), not one sample")
    else:
        records = list(samples)
    return [_sample_items(r) for r in records]


def _classify_index(index: float, scoring: UkizvScoring, n_critical: int
                    ) -> tuple[float, tuple[tuple[str, float | None], ...], Any]:
    """(k, corrected class bounds, class) of an index with ``n_critical`` critical indicators."""
    k = scoring.correction.coefficient(n_critical)
    bounds = tuple((c.klass, None if c.upper is None else c.upper * k) for c in scoring.classes)
    chosen = next(c for c, (_, up) in zip(scoring.classes, bounds, strict=True)
                  if up is None or index <= up)
    return k, bounds, chosen


def ukizv(samples: Iterable[Mapping[str, object]] | Any, *, mpc: MpcTable | None = None,
          scoring: UkizvScoring | None = None,
          on_incomplete: str = "mark") -> UkizvResult:
    """Specific combinatorial water pollution index (УКИЗВ) of a series of samples.

    Parameters
    ----------
    samples : iterable of mapping, or pandas.DataFrame
        The samples of one site over the assessment period (usually a year): each a mapping
        parameter -> concentration in mg/l (BOD5 mgO2/l, COD mgO/l), or a DataFrame with one
        row per sample and one column per parameter.  Values as in :func:`parse_value`.
    mpc : MpcTable
        Fishery MPCs (required; e.g. ``Config.quality_table("ru")``).
    scoring : UkizvScoring
        Partial-score tables, critical rule, correction and class bounds (required; e.g.
        ``Config.quality_table("ru-ukizv")``).
    on_incomplete : {"mark", "refuse"}
        What to do when a mandatory ingredient of the MPC table (``mandatory`` column) was
        not assessed: ``"mark"`` (default) returns the result with ``incomplete=True`` and
        the list ``missing``; ``"refuse"`` raises :class:`QualityError`.

    Returns
    -------
    UkizvResult
        Index, class 1 … 5, partial scores per ingredient, critical indicators, the
        class-bound correction, provenance, ``provisional``, ``incomplete``/``missing`` and
        the ``alternatives`` under other readings of the critical-indicator rule.

    Raises
    ------
    QualityError
        When no ingredient with an MPC has a result that can be judged, or when
        ``on_incomplete="refuse"`` and a mandatory ingredient was not assessed.

    Notes
    -----
    RD 52.24.643-2002, as far as its structure could be sourced (``config/quality/SOURCES.md``):
    for each ingredient with an MPC, alpha = 100·n'/n (n results judged, n' above the MPC), the
    multiplicity K = C/MPC (MPC/C for dissolved oxygen) averaged over the exceedances (beta);
    partial scores S_alpha(alpha), S_beta(beta) from the scoring tables; generalized score
    S_i = S_alpha·S_beta (0 without exceedances); КИЗВ = sum S_i; УКИЗВ = КИЗВ / N over the N
    ingredients assessed.  Critical indicators (КПЗ) follow the table's rule; with F of them
    the class bounds are multiplied by k = max(1 − step·F, k_min) and the class is the first
    whose corrected upper bound the index does not exceed.  A censored result counts as not
    exceeding when its detection limit is at or below the MPC, and is left out (``n``) when
    the limit is above it.

    Because the index is a mean over the ingredients *analysed*, the RD requires the
    mandatory list: an index without some of it is not comparable and is marked incomplete
    (or refused).  Where the sources of the critical-indicator rule conflict, every reading in
    the scoring file is computed and those giving other critical indicators or another class
    are returned in ``alternatives``.
    """
    if on_incomplete not in ("mark", "refuse"):
        raise ValueError(f"on_incomplete must be 'mark' or 'refuse', got {on_incomplete!r}")
    if mpc is None:
        raise QualityError(_NO_TABLE.format(what="the fishery MPC table", arg="mpc", system="ru"))
    if scoring is None:
        raise QualityError(_NO_TABLE.format(what="the УКИЗВ scoring table", arg="scoring",
                                            system="ru-ukizv"))
    records = _collect(samples)
    series: dict[str, list[float | Censored]] = {}
    for r in records:
        for name, v in r.items():
            series.setdefault(name, []).append(v)

    scores: dict[str, UkizvParameterScore] = {}
    indeterminate: list[str] = []
    for row in mpc.rows:
        vals = series.get(row.parameter)
        if not vals:
            continue
        judged = [_judge(row, v) for v in vals]
        exceed = [k for e, k in judged if e]
        n = sum(e is not None for e, _ in judged)
        n_ind = len(judged) - n
        if n == 0:
            indeterminate.append(row.parameter)
            continue
        alpha = 100.0 * len(exceed) / n
        beta = sum(exceed) / len(exceed) if exceed else None
        if beta is None:
            s_a = s_b = score = 0.0
        else:
            s_a, s_b = scoring.frequency_score(alpha), scoring.multiplicity_score(beta)
            score = s_a * s_b
        is_critical = beta is not None and scoring.critical.applies(s_a, s_b)
        scores[row.parameter] = UkizvParameterScore(
            row.parameter, row.mpc, row.direction, n, len(exceed),
            sum(isinstance(v, Censored) for v in vals), n_ind, alpha, beta, s_a, s_b, score,
            is_critical, row.status, row.source)
    if not scores:
        raise QualityError("no ingredient with an MPC has a result that can be judged "
                           f"(samples: {len(records)}; parameters: "
                           f"{', '.join(series) or 'none'}; MPC table: "
                           f"{', '.join(mpc.parameters)})")
    missing = tuple(r.parameter for r in mpc.rows
                    if r.mandatory and r.parameter not in scores)
    if missing and on_incomplete == "refuse":
        raise QualityError(
            "УКИЗВ refused: mandatory ingredients not assessed (RD 52.24.643-2002 averages "
            f"over the ingredients analysed): {', '.join(missing)} "
            f"({len(scores)} ingredients assessed: {', '.join(scores)})")
    kizv = sum(s.score for s in scores.values())
    index = kizv / len(scores)
    critical = tuple(n for n, s in scores.items() if s.critical)
    k, bounds, chosen = _classify_index(index, scoring, len(critical))
    alternatives = []
    for rule in scoring.critical.alternatives:
        alt_critical = tuple(n for n, s in scores.items()
                             if s.multiplicity is not None and rule.applies(s.s_alpha, s.s_beta))
        alt_k, alt_bounds, alt_chosen = _classify_index(index, scoring, len(alt_critical))
        if alt_critical != critical or alt_chosen.klass != chosen.klass:
            alternatives.append(UkizvAlternative(
                rule.describe(), alt_chosen.klass, MappingProxyType(dict(alt_chosen.names)),
                alt_critical, alt_k, alt_bounds, rule.status, rule.source))
    used_rows = [mpc.row(n) for n in scores]
    elements = [e for _, e in scoring.elements()]
    provisional = (any(r.status != "official" for r in used_rows if r is not None)
                   or any(e.status != "official" for e in elements))
    notes = []
    partial = [n for n, s in scores.items() if s.n_indeterminate]
    if partial:
        notes.append("results below a detection limit above the MPC left out: "
                     + ", ".join(f"{n} ({scores[n].n_indeterminate})" for n in partial))
    if missing:
        notes.append(f"incomplete: mandatory ingredients not assessed: {', '.join(missing)}; "
                     f"the index is a mean over {len(scores)} ingredients and not comparable "
                     "with a complete one")
    for a in alternatives:
        notes.append(f"critical-indicator rule uncertain: by '{a.rule}' the critical "
                     f"indicators are {', '.join(a.critical_indicators) or 'none'} and the "
                     f"class {a.klass} (by '{scoring.critical.describe()}': "
                     f"{', '.join(critical) or 'none'}, class {chosen.klass})")
    return UkizvResult(
        index=index, klass=chosen.klass, names=MappingProxyType(dict(chosen.names)),
        combinatorial_index=kizv, n_parameters=len(scores), n_samples=len(records),
        partial_scores=MappingProxyType(scores), critical_indicators=critical, correction=k,
        class_bounds=bounds, provisional=provisional,
        sources=tuple(dict.fromkeys([*(r.source for r in used_rows if r is not None),
                                     *(e.source for e in elements)])),
        missing_mandatory=tuple(r.parameter for r in mpc.rows
                                if r.mandatory and r.parameter not in scores
                                and r.parameter not in indeterminate),
        not_in_table=tuple(n for n in series if mpc.row(n) is None),
        indeterminate=tuple(indeterminate), notes=tuple(notes),
        missing=missing, critical_rule=scoring.critical.describe(),
        alternatives=tuple(alternatives))
