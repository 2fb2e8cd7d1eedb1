"""Water-quality classification tables: the objects the classification engines in
:mod:`hydro.quality` take as input.  Reading, validating and importing the table files is
:mod:`hydro.config.quality_tables`; this module does no I/O.

The classification engines in :mod:`hydro.quality` are driven entirely by tables that
live in ``config/quality/`` (one file per system or edition):

===================  ==========================  =============================================
system               file                        content
===================  ==========================  =============================================
``kz2016``           ``kz2016_classes.csv``      KZ unified classification, 2016 edition:
                                                 per-parameter limits of classes 1-5
``kz2025``           ``kz2025_classes.csv``      KZ unified classification in force from 2025
                                                 (order No. 70 of 2024): limits of I-V, VI worse
``ru``               ``ru_fishery_mpc.csv``      RU fishery MPC (ПДК рыбохозяйственные) used by
                                                 the УКИЗВ
``ru-ukizv``         ``ru_ukizv_scoring.toml``   УКИЗВ scoring (RD 52.24.643-2002): partial
                                                 scores, critical indicators, class bounds
===================  ==========================  =============================================

Every row (every scoring element) carries a ``source`` and a ``status``: ``official`` (read
from the legal act or the RD itself), ``secondary`` (from a secondary source that quotes it)
or ``estimate`` (not found; set for this project so the engine runs).  A result computed from
any non-official row is *provisional*.

Validation errors name the file, the line and the field (:class:`QualityTableError`).  Limits
are converted once, at load, to the canonical unit of the parameter declared in
``config/quality/parameters.toml`` (mg/l for concentrations).

Table CSV format (comma or semicolon separated; ``#`` lines are comments; UTF-8 or cp1251;
a decimal comma is accepted):

* KZ: ``parameter, unit, direction, class1 … class5, natural_origin, source, status, note``.
  ``direction`` is ``max`` (a class holds values up to and including its limit; limits must
  not decrease from class 1 to class 5) or ``min`` (dissolved oxygen, the lower side of pH: a
  class holds values down to and including its limit; limits must not increase).  A parameter
  may have one ``max`` and one ``min`` row (pH).  ``natural_origin`` (``yes``/``no``, default
  ``no``) marks ions of natural origin that are judged against the site's background class.
* RU: ``parameter, unit, direction, mpc, mandatory, source, status, note``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from hydro.errors import ConfigError, located

STATUSES: Final = ("official", "secondary", "estimate")
DIRECTIONS: Final = ("max", "min")

#: system -> bundled file name in config/quality/
TABLE_FILES: Final[dict[str, str]] = {
    "kz2016": "kz2016_classes.csv",
    "kz2025": "kz2025_classes.csv",
    "ru": "ru_fishery_mpc.csv",
    "ru-ukizv": "ru_ukizv_scoring.toml",
}
KZ_EDITIONS: Final = ("kz2016", "kz2025")
#: number of class-limit columns of each KZ edition; the worst class is one more
KZ_LIMIT_COLUMNS: Final[dict[str, int]] = {"kz2016": 5, "kz2025": 5}
#: the УКИЗВ classes of RD 52.24.643-2002, best to worst
UKIZV_CLASSES: Final = ("1", "2", "3a", "3b", "4a", "4b", "4c", "4d", "5")

_TRUE = {"yes", "y", "true", "1", "да", "иә"}
_FALSE = {"no", "n", "false", "0", "", "нет", "жоқ"}


class QualityTableError(ConfigError):
    """A classification table is invalid; the message names file, line and field."""

    def __init__(self, path: object, message: str, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(located(path, message, line, field, field_label="field"))


# --------------------------------------------------------------------------- table objects

@dataclass(frozen=True)
class KzLimitRow:
    """Class limits of one parameter in one direction (canonical unit of the parameter)."""

    parameter: str
    direction: str
    limits: tuple[float, ...]
    unit: str
    natural_origin: bool
    source: str
    status: str
    note: str = ""
    line: int | None = None

    @property
    def official(self) -> bool:
        return self.status == "official"


@dataclass(frozen=True)
class KzTable:
    """One edition of the Kazakh unified classification (class limits per parameter)."""

    edition: str
    rows: tuple[KzLimitRow, ...]
    path: str = ""

    @property
    def n_limits(self) -> int:
        return KZ_LIMIT_COLUMNS[self.edition]

    @property
    def worst_class(self) -> int:
        """The class beyond the last limit: 6 (2016: "above class 5"; 2025: class VI)."""
        return self.n_limits + 1

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.parameter for r in self.rows))

    def rows_for(self, parameter: str) -> tuple[KzLimitRow, ...]:
        return tuple(r for r in self.rows if r.parameter == parameter)

    def status_counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.rows) for s in STATUSES}


@dataclass(frozen=True)
class MpcRow:
    """A fishery maximum permissible concentration (canonical unit of the parameter)."""

    parameter: str
    direction: str
    mpc: float
    unit: str
    mandatory: bool
    source: str
    status: str
    note: str = ""
    line: int | None = None


@dataclass(frozen=True)
class MpcTable:
    rows: tuple[MpcRow, ...]
    path: str = ""

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(r.parameter for r in self.rows)

    def row(self, parameter: str) -> MpcRow | None:
        return next((r for r in self.rows if r.parameter == parameter), None)

    def status_counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.rows) for s in STATUSES}


@dataclass(frozen=True)
class Sourced:
    """A scoring element of the УКИЗВ method with its provenance."""

    source: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class ScoreCurve(Sourced):
    """A piecewise-linear score table: ``points`` are (x, score), x increasing."""

    points: tuple[tuple[float, float], ...] = ()

    def __call__(self, x: float) -> float:
        """Score at ``x``: linear between points, held constant beyond the ends."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1] or math.isinf(x):
            return ys[-1]
        for (x0, y0), (x1, y1) in zip(self.points[:-1], self.points[1:], strict=True):
            if x0 <= x <= x1:
                return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        return ys[-1]  # pragma: no cover - unreachable for sorted points


@dataclass(frozen=True)
class UkizvClass(Sourced):
    """One УКИЗВ class: upper bound of the index (inclusive) before correction."""

    klass: str = ""
    upper: float | None = None
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CriticalRule(Sourced):
    """How a critical pollution indicator (КПЗ) is recognised.

    ``rule = "partial_scores"``: S_alpha >= ``min_frequency_score`` and
    S_beta >= ``min_multiplicity_score``; ``rule = "generalized_score"``: S_i >= ``min_score``.
    """

    rule: str = "partial_scores"
    min_frequency_score: float | None = None
    min_multiplicity_score: float | None = None
    min_score: float | None = None
    #: other readings of the rule where the sources conflict (``[[critical.alternatives]]``);
    #: the engine computes each and reports those that change the result
    alternatives: tuple[CriticalRule, ...] = ()

    def applies(self, s_alpha: float, s_beta: float) -> bool:
        """Whether an ingredient with these partial scores is a critical indicator."""
        if self.rule == "partial_scores":
            return (s_alpha >= (self.min_frequency_score or 0.0)
                    and s_beta >= (self.min_multiplicity_score or 0.0))
        return s_alpha * s_beta >= (self.min_score or 0.0)

    def describe(self) -> str:
        """The rule as a formula (language-neutral), e.g. ``S_alpha >= 2 and S_beta >= 3``."""
        if self.rule == "partial_scores":
            return (f"S_alpha >= {self.min_frequency_score or 0.0:g} & "
                    f"S_beta >= {self.min_multiplicity_score or 0.0:g}")
        return f"S_i >= {self.min_score or 0.0:g}"


@dataclass(frozen=True)
class Correction(Sourced):
    """Class-bound correction: bounds multiplied by k = max(1 - step * F, k_min)."""

    step: float = 0.1
    k_min: float = 0.5

    def coefficient(self, n_critical: int) -> float:
        return max(1.0 - self.step * n_critical, self.k_min)


@dataclass(frozen=True)
class UkizvScoring:
    """Everything of RD 52.24.643-2002 except the MPCs, with provenance per element."""

    frequency_score: ScoreCurve
    multiplicity_score: ScoreCurve
    generalized: Sourced          # S_i = S_alpha * S_beta
    index: Sourced                # УКИЗВ = sum(S_i) / N
    critical: CriticalRule
    correction: Correction
    classes: tuple[UkizvClass, ...]
    path: str = ""

    def elements(self) -> tuple[tuple[str, Sourced], ...]:
        """(name, element) of every scoring element, for provenance reporting."""
        out: list[tuple[str, Sourced]] = [
            ("frequency_score", self.frequency_score),
            ("multiplicity_score", self.multiplicity_score),
            ("generalized_score", self.generalized),
            ("index", self.index),
            ("critical", self.critical),
            *((f"critical (alternative {i})", a)
              for i, a in enumerate(self.critical.alternatives, start=1)),
            ("correction", self.correction),
        ]
        out += [(f"class {c.klass}", c) for c in self.classes]
        return tuple(out)

    def status_counts(self) -> dict[str, int]:
        return {s: sum(e.status == s for _, e in self.elements()) for s in STATUSES}


