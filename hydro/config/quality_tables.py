"""Water-quality classification tables: read, validate and import the files of
``config/quality/`` (formats in :mod:`hydro.quality_tables`).

Which folder is read is always explicit: the deployment's ``<config>/quality`` (through
:meth:`hydro.config.Config.quality_table`), or the tables bundled with hydrorisk
(:data:`BUNDLED_QUALITY_DIR`), which :mod:`hydro.quality` falls back on when it is given no
table.  Nothing here looks at the environment or the working directory.
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from hydro.errors import UnitError
from hydro.quality_tables import (  # noqa: F401  (re-exported)
    _FALSE,
    _TRUE,
    DIRECTIONS,
    KZ_EDITIONS,
    KZ_LIMIT_COLUMNS,
    STATUSES,
    TABLE_FILES,
    UKIZV_CLASSES,
    Correction,
    CriticalRule,
    KzLimitRow,
    KzTable,
    MpcRow,
    MpcTable,
    QualityTableError,
    ScoreCurve,
    Sourced,
    UkizvClass,
    UkizvScoring,
)
from hydro.units import convert_to, dimension_of

#: the tables bundled with hydrorisk (estimates and secondary sources, see SOURCES.md there)
BUNDLED_QUALITY_DIR = Path(__file__).resolve().parents[2] / "config" / "quality"


# --------------------------------------------------------------------------- parameters

def default_quality_dir() -> Path:
    """The folder of the tables bundled with hydrorisk (not the environment's config)."""
    return BUNDLED_QUALITY_DIR


def known_parameters(quality_dir: str | Path | None = None) -> dict[str, str]:
    """Parameter name -> canonical unit, from ``parameters.toml`` of ``quality_dir``."""
    qdir = Path(quality_dir) if quality_dir is not None else default_quality_dir()
    path = qdir / "parameters.toml"
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise QualityTableError(path, "file not found (the list of known parameters)") from None
    except tomllib.TOMLDecodeError as e:
        raise QualityTableError(path, f"not valid TOML: {e}") from None
    try:
        return {str(p["name"]): str(p["unit"]) for p in raw["parameters"]}
    except (KeyError, TypeError):
        raise QualityTableError(path, "expected [[parameters]] with name and unit") from None


def _parameters_for(path: Path, parameters: Mapping[str, str] | None) -> Mapping[str, str]:
    if parameters is not None:
        return parameters
    if (path.parent / "parameters.toml").exists():
        return known_parameters(path.parent)
    return known_parameters()


# --------------------------------------------------------------------------- CSV reading

def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise QualityTableError(path, "file not found") from None
    except IsADirectoryError:
        raise QualityTableError(path, "is a folder, not a table file") from None
    if not data.strip():
        raise QualityTableError(path, "the file is empty")
    for enc in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise QualityTableError(path, "cannot decode the file as UTF-8 or cp1251")  # pragma: no cover


def _csv_records(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, record) pairs; ``#`` and blank lines are skipped."""
    text = _read_text(path)
    numbered = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
                if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        raise QualityTableError(path, "no header line (only comments?)")
    header_line, header_text = numbered[0]
    delim = ";" if header_text.count(";") > header_text.count(",") else ","
    header = [h.strip().lower() for h in next(csv.reader([header_text], delimiter=delim))]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise QualityTableError(path, f"column '{dup}' appears twice", line=header_line)
    records = []
    for lineno, ln in numbered[1:]:
        cells = next(csv.reader(io.StringIO(ln), delimiter=delim))
        if len(cells) != len(header):
            raise QualityTableError(
                path, f"{len(cells)} fields where the header has {len(header)} "
                f"(separator is '{delim}'; quote text that contains it)", line=lineno)
        records.append((lineno, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    return header, records


def _check_columns(path: Path, header: list[str], records: list, required: Iterable[str],
                   optional: Iterable[str]) -> None:
    required = list(required)
    known = set(required) | set(optional)
    missing = [c for c in required if c not in header]
    if missing:
        raise QualityTableError(path, f"missing column '{missing[0]}' (required: "
                                f"{', '.join(required)})")
    unknown = [c for c in header if c not in known]
    if unknown:
        raise QualityTableError(path, f"unknown column '{unknown[0]}' (misspelt?); known "
                                f"columns: {', '.join(sorted(known))}")
    if not records:
        raise QualityTableError(path, "no table rows after the header")


def _number(path: Path, text: str, line: int, fld: str) -> float:
    t = text.strip().replace(" ", "")
    if "," in t and "." not in t:
        t = t.replace(",", ".")
    if not t:
        raise QualityTableError(path, "empty value; every class limit must be given", line, fld)
    try:
        v = float(t)
    except ValueError:
        raise QualityTableError(path, f"'{text}' is not a number", line, fld) from None
    if not math.isfinite(v) or v < 0:
        raise QualityTableError(path, f"{text} is not a non-negative finite number", line, fld)
    return v


def _flag(path: Path, text: str, line: int, fld: str) -> bool:
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise QualityTableError(path, f"'{text}' is not yes/no", line, fld)


def _common(path: Path, rec: dict[str, str], line: int,
            parameters: Mapping[str, str]) -> tuple[str, str, str, float, str, str, str]:
    """Validate parameter, direction, unit, source, status; return them and the unit factor."""
    name = rec["parameter"]
    if name not in parameters:
        raise QualityTableError(path, f"unknown parameter '{name}' (known: "
                                f"{', '.join(parameters)}; see config/quality/parameters.toml)",
                                line, "parameter")
    direction = rec["direction"].lower()
    if direction not in DIRECTIONS:
        raise QualityTableError(path, f"direction '{rec['direction']}' must be max (higher is "
                                "worse) or min (lower is worse)", line, "direction")
    target = parameters[name]
    unit = rec["unit"]
    try:
        factor = float(convert_to(1.0, unit, target, dimension_of(target)))
    except UnitError as e:
        raise QualityTableError(path, f"unit '{unit}' cannot be used for {name} (expected "
                                f"{target}): {e}", line, "unit") from None
    status = rec["status"].lower()
    if status not in STATUSES:
        raise QualityTableError(path, f"status '{rec['status']}' must be one of "
                                f"{', '.join(STATUSES)}", line, "status")
    source = rec["source"]
    if not source:
        raise QualityTableError(path, "every row needs its source (a citation or 'none found')",
                                line, "source")
    return name, direction, target, factor, source, status, rec.get("note", "")


# --------------------------------------------------------------------------- KZ tables

def kz_columns(edition: str) -> list[str]:
    return [f"class{k}" for k in range(1, KZ_LIMIT_COLUMNS[edition] + 1)]


def load_kz_table(path: str | Path, edition: str,
                  parameters: Mapping[str, str] | None = None) -> KzTable:
    """Load and validate a KZ class-limit table.

    Parameters
    ----------
    path : path-like
        CSV file (format in the module docstring).
    edition : {"kz2016", "kz2025"}
        Edition of the unified classification the table belongs to.
    parameters : mapping, optional
        Known parameter name -> canonical unit; by default ``parameters.toml`` beside the
        file, else that of the default config folder.

    Returns
    -------
    KzTable
        Limits converted to the canonical unit of each parameter (mg/l for concentrations).

    Raises
    ------
    QualityTableError
        Naming the file, line and field of the first problem.
    """
    if edition not in KZ_EDITIONS:
        raise ValueError(f"unknown KZ edition '{edition}' (known: {', '.join(KZ_EDITIONS)})")
    path = Path(path)
    params = _parameters_for(path, parameters)
    header, records = _csv_records(path)
    cols = kz_columns(edition)
    _check_columns(path, header, records,
                   ["parameter", "unit", "direction", *cols, "source", "status"],
                   ["natural_origin", "note"])
    rows: list[KzLimitRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, rec in records:
        name, direction, unit, factor, source, status, note = _common(path, rec, line, params)
        if (name, direction) in seen:
            raise QualityTableError(path, f"{name} ({direction}) is already given on line "
                                    f"{seen[(name, direction)]}", line, "parameter")
        seen[(name, direction)] = line
        limits = [_number(path, rec[c], line, c) * factor for c in cols]
        for k in range(1, len(limits)):
            worse = limits[k] < limits[k - 1] if direction == "max" else limits[k] > limits[k - 1]
            if worse:
                want = "must not decrease" if direction == "max" else "must not increase"
                raise QualityTableError(
                    path, f"class limits {want} from class 1 to class {len(limits)} for a "
                    f"'{direction}' parameter: {cols[k - 1]} = {rec[cols[k - 1]]}, "
                    f"{cols[k]} = {rec[cols[k]]}", line, cols[k])
        natural = _flag(path, rec.get("natural_origin", ""), line, "natural_origin")
        rows.append(KzLimitRow(name, direction, tuple(limits), unit, natural, source, status,
                               note, line))
    for name in dict.fromkeys(r.parameter for r in rows):
        own = [r for r in rows if r.parameter == name]
        if len({r.natural_origin for r in own}) > 1:
            raise QualityTableError(path, f"{name}: natural_origin differs between its rows",
                                    own[-1].line, "natural_origin")
        if len(own) == 2:
            lo = next(r for r in own if r.direction == "min").limits[0]
            hi = next(r for r in own if r.direction == "max").limits[0]
            if lo > hi:
                raise QualityTableError(path, f"{name}: the class-1 range is empty (min limit "
                                        f"{lo:g} above max limit {hi:g})", own[-1].line, "class1")
    return KzTable(edition, tuple(rows), str(path))


def write_kz_table(table: KzTable, path: str | Path, header_comment: str = "") -> Path:
    """Write ``table`` in the bundled CSV format (canonical units)."""
    path = Path(path)
    buf = io.StringIO()
    for ln in header_comment.splitlines():
        buf.write(f"# {ln}\n" if ln else "#\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["parameter", "unit", "direction", *kz_columns(table.edition),
                "natural_origin", "source", "status", "note"])
    for r in table.rows:
        w.writerow([r.parameter, r.unit, r.direction, *(format(v, ".10g") for v in r.limits),
                    "yes" if r.natural_origin else "no", r.source, r.status, r.note])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- RU MPC

def load_mpc_table(path: str | Path, parameters: Mapping[str, str] | None = None) -> MpcTable:
    """Load and validate a fishery-MPC table (RU).

    Parameters
    ----------
    path : path-like
        CSV with ``parameter, unit, direction, mpc, mandatory, source, status, note``.
    parameters : mapping, optional
        Known parameter name -> canonical unit (default: ``parameters.toml``).

    Returns
    -------
    MpcTable
        MPCs in the canonical unit of each parameter (mg/l).
    """
    path = Path(path)
    params = _parameters_for(path, parameters)
    header, records = _csv_records(path)
    _check_columns(path, header, records,
                   ["parameter", "unit", "direction", "mpc", "source", "status"],
                   ["mandatory", "note"])
    rows: list[MpcRow] = []
    seen: dict[str, int] = {}
    for line, rec in records:
        name, direction, unit, factor, source, status, note = _common(path, rec, line, params)
        if name in seen:
            raise QualityTableError(path, f"{name} is already given on line {seen[name]}",
                                    line, "parameter")
        seen[name] = line
        mpc = _number(path, rec["mpc"], line, "mpc") * factor
        if mpc <= 0:
            raise QualityTableError(path, "an MPC must be positive", line, "mpc")
        mandatory = _flag(path, rec.get("mandatory", ""), line, "mandatory")
        rows.append(MpcRow(name, direction, mpc, unit, mandatory, source, status, note, line))
    return MpcTable(tuple(rows), str(path))


def write_mpc_table(table: MpcTable, path: str | Path, header_comment: str = "") -> Path:
    path = Path(path)
    buf = io.StringIO()
    for ln in header_comment.splitlines():
        buf.write(f"# {ln}\n" if ln else "#\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["parameter", "unit", "direction", "mpc", "mandatory", "source", "status", "note"])
    for r in table.rows:
        w.writerow([r.parameter, r.unit, r.direction, format(r.mpc, ".10g"),
                    "yes" if r.mandatory else "no", r.source, r.status, r.note])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- УКИЗВ scoring

def _sourced(path: Path, raw: object, key: str) -> dict:
    if not isinstance(raw, dict):
        raise QualityTableError(path, f"[{key}] must be a table", field=key)
    for k in ("source", "status"):
        if not raw.get(k):
            raise QualityTableError(path, f"required key '{k}' is missing", field=f"{key}.{k}")
    if raw["status"] not in STATUSES:
        raise QualityTableError(path, f"status '{raw['status']}' must be one of "
                                f"{', '.join(STATUSES)}", field=f"{key}.status")
    return raw


def _only(path: Path, raw: dict, key: str, allowed: set[str]) -> None:
    extra = sorted(set(raw) - allowed - {"source", "status", "note"})
    if extra:
        raise QualityTableError(path, f"unknown key '{extra[0]}' (misspelt?)",
                                field=f"{key}.{extra[0]}")


def _float(path: Path, raw: dict, key: str, name: str) -> float:
    v = raw.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise QualityTableError(path, f"must be a number, got {v!r}", field=f"{key}.{name}")
    return float(v)


def _curve(path: Path, raw: object, key: str, x_min: float) -> ScoreCurve:
    r = _sourced(path, raw, key)
    _only(path, r, key, {"points"})
    pts = r.get("points")
    if not isinstance(pts, list) or len(pts) < 2:
        raise QualityTableError(path, "points must be a list of at least two [x, score] pairs",
                                field=f"{key}.points")
    out: list[tuple[float, float]] = []
    for i, p in enumerate(pts):
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
            raise QualityTableError(path, f"point {i + 1} must be [x, score], got {p!r}",
                                    field=f"{key}.points")
        out.append((float(p[0]), float(p[1])))
    for i in range(1, len(out)):
        if out[i][0] <= out[i - 1][0]:
            raise QualityTableError(path, f"x must increase: point {i + 1} ({out[i][0]:g}) "
                                    f"after {out[i - 1][0]:g}", field=f"{key}.points")
        if out[i][1] < out[i - 1][1]:
            raise QualityTableError(path, f"scores must not decrease: point {i + 1} "
                                    f"({out[i][1]:g}) after {out[i - 1][1]:g}",
                                    field=f"{key}.points")
    if out[0][0] < x_min or out[0][1] <= 0:
        raise QualityTableError(path, f"the first point must have x >= {x_min:g} and a "
                                "positive score", field=f"{key}.points")
    return ScoreCurve(r["source"], r["status"], r.get("note", ""), tuple(out))


def _critical_rule(path: Path, r: dict, key: str) -> CriticalRule:
    """One reading of the critical-indicator rule (``[critical]`` or an alternative)."""
    if key != "critical":
        _only(path, r, key, {"rule", "min_frequency_score", "min_multiplicity_score",
                             "min_score"})
    if r.get("rule") == "partial_scores":
        return CriticalRule(r["source"], r["status"], r.get("note", ""), "partial_scores",
                            _float(path, r, key, "min_frequency_score"),
                            _float(path, r, key, "min_multiplicity_score"))
    if r.get("rule") == "generalized_score":
        return CriticalRule(r["source"], r["status"], r.get("note", ""), "generalized_score",
                            min_score=_float(path, r, key, "min_score"))
    raise QualityTableError(path, "rule must be \"partial_scores\" or \"generalized_score\"",
                            field=f"{key}.rule")


def load_ukizv_scoring(path: str | Path) -> UkizvScoring:
    """Load and validate the УКИЗВ scoring file (TOML).

    Parameters
    ----------
    path : path-like
        TOML with tables ``frequency_score``, ``multiplicity_score`` (``points`` =
        [[x, score], ...]), ``generalized_score`` (``rule = "product"``), ``index``
        (``rule = "mean"``), ``critical`` (optionally with ``[[critical.alternatives]]``:
        other readings of the rule where the sources conflict, each computed and reported),
        ``correction`` and ``[[classes]]`` (``klass``, ``upper``, ``names``), each with
        ``source`` and ``status``.

    Returns
    -------
    UkizvScoring
    """
    path = Path(path)
    try:
        raw = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as e:
        raise QualityTableError(path, f"not valid TOML: {e}") from None
    known = {"meta", "frequency_score", "multiplicity_score", "generalized_score", "index",
             "critical", "correction", "classes"}
    extra = sorted(set(raw) - known)
    if extra:
        raise QualityTableError(path, f"unknown key '{extra[0]}' (misspelt?)", field=extra[0])
    for k in sorted(known - {"meta"}):
        if k not in raw:
            raise QualityTableError(path, "required table is missing", field=k)
    freq = _curve(path, raw["frequency_score"], "frequency_score", 0.0)
    if freq.points[-1][0] > 100:
        raise QualityTableError(path, "a frequency is a percentage (0-100)",
                                field="frequency_score.points")
    mult = _curve(path, raw["multiplicity_score"], "multiplicity_score", 1.0)
    gen = _sourced(path, raw["generalized_score"], "generalized_score")
    _only(path, gen, "generalized_score", {"rule"})
    if gen.get("rule") != "product":
        raise QualityTableError(path, "only rule = \"product\" (S_i = S_alpha * S_beta) is "
                                "implemented", field="generalized_score.rule")
    idx = _sourced(path, raw["index"], "index")
    _only(path, idx, "index", {"rule"})
    if idx.get("rule") != "mean":
        raise QualityTableError(path, "only rule = \"mean\" (sum of S_i / N) is implemented",
                                field="index.rule")
    crit = _sourced(path, raw["critical"], "critical")
    _only(path, crit, "critical",
          {"rule", "min_frequency_score", "min_multiplicity_score", "min_score",
           "alternatives"})
    alts_raw = crit.get("alternatives", [])
    if not isinstance(alts_raw, list):
        raise QualityTableError(path, "must be a list of [[critical.alternatives]]",
                                field="critical.alternatives")
    alternatives = tuple(
        _critical_rule(path, _sourced(path, a, f"critical.alternatives[{i}]"),
                       f"critical.alternatives[{i}]")
        for i, a in enumerate(alts_raw))
    critical = replace(_critical_rule(path, crit, "critical"), alternatives=alternatives)
    cor = _sourced(path, raw["correction"], "correction")
    _only(path, cor, "correction", {"rule", "step", "k_min"})
    if cor.get("rule") != "linear":
        raise QualityTableError(path, "only rule = \"linear\" (k = 1 - step * F) is "
                                "implemented", field="correction.rule")
    step = _float(path, cor, "correction", "step")
    k_min = _float(path, cor, "correction", "k_min")
    if not (0 <= step < 1 and 0 < k_min <= 1):
        raise QualityTableError(path, "need 0 <= step < 1 and 0 < k_min <= 1",
                                field="correction")
    correction = Correction(cor["source"], cor["status"], cor.get("note", ""), step, k_min)
    classes_raw = raw["classes"]
    if not isinstance(classes_raw, list):
        raise QualityTableError(path, "must be a list of [[classes]]", field="classes")
    got = [str(c.get("klass", "")) if isinstance(c, dict) else "" for c in classes_raw]
    if got != list(UKIZV_CLASSES):
        raise QualityTableError(path, f"classes must be, in order, {', '.join(UKIZV_CLASSES)}; "
                                f"got {', '.join(got)}", field="classes")
    classes: list[UkizvClass] = []
    prev = 0.0
    for c in classes_raw:
        key = f"classes[klass={c['klass']}]"
        r = _sourced(path, c, key)
        _only(path, r, key, {"klass", "upper", "names"})
        names = r.get("names")
        if not isinstance(names, dict) or set(names) != {"kk", "ru", "en"}:
            raise QualityTableError(path, "names must give kk, ru and en", field=f"{key}.names")
        last = c["klass"] == UKIZV_CLASSES[-1]
        if last:
            if "upper" in r:
                raise QualityTableError(path, "the worst class has no upper bound",
                                        field=f"{key}.upper")
            upper = None
        else:
            upper = _float(path, r, key, "upper")
            if upper <= prev:
                raise QualityTableError(path, f"upper bounds must increase ({upper:g} after "
                                        f"{prev:g})", field=f"{key}.upper")
            prev = upper
        classes.append(UkizvClass(r["source"], r["status"], r.get("note", ""), c["klass"],
                                  upper, dict(names)))
    return UkizvScoring(freq, mult, Sourced(gen["source"], gen["status"], gen.get("note", "")),
                        Sourced(idx["source"], idx["status"], idx.get("note", "")), critical,
                        correction, tuple(classes), str(path))


# --------------------------------------------------------------------------- defaults

@lru_cache(maxsize=16)
def _load_cached(system: str, path: str, mtime_ns: int) -> object:
    del mtime_ns  # part of the cache key only: an imported table replaces a cached one
    p = Path(path)
    if system in KZ_EDITIONS:
        return load_kz_table(p, system)
    if system == "ru":
        return load_mpc_table(p)
    return load_ukizv_scoring(p)


def default_table(system: str, quality_dir: str | Path | None = None):
    """The table of ``system`` in ``config/quality`` (loaded once per file version).

    Parameters
    ----------
    system : {"kz2016", "kz2025", "ru", "ru-ukizv"}
    quality_dir : path-like, optional
        Folder holding the tables (default: ``quality/`` of the default config folder).
    """
    if system not in TABLE_FILES:
        raise ValueError(f"unknown system '{system}' (known: {', '.join(TABLE_FILES)})")
    qdir = Path(quality_dir) if quality_dir is not None else default_quality_dir()
    path = qdir / TABLE_FILES[system]
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise QualityTableError(path, "file not found (the bundled table is missing; restore "
                                "it or import one with 'hydrorisk quality import-table')") from None
    return _load_cached(system, str(path.resolve()), mtime)


# --------------------------------------------------------------------------- import

@dataclass(frozen=True)
class ImportReport:
    system: str
    written: Path
    rows: int
    status_counts: dict[str, int]
    natural_origin: tuple[str, ...] = ()


def detect_system(path: str | Path) -> str:
    """Guess the system of a table file: ``ru`` (an ``mpc`` column), ``ru-ukizv`` (TOML)."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        return "ru-ukizv"
    header, _ = _csv_records(path)
    if "mpc" in header:
        return "ru"
    raise QualityTableError(path, "cannot tell whether this is a kz2016 or a kz2025 table; "
                            "say which with --system kz2016 or --system kz2025")


def import_table(src: str | Path, system: str | None = None, out: str | Path | None = None,
                 quality_dir: str | Path | None = None, force: bool = False) -> ImportReport:
    """Validate an agency's table and write it where the engines read it.

    Parameters
    ----------
    src : path-like
        The agency's table (CSV; TOML for ``ru-ukizv``), format as in the module docstring.
    system : {"kz2016", "kz2025", "ru", "ru-ukizv"}, optional
        Which table it is; detected for ``ru`` and ``ru-ukizv``.
    out : path-like, optional
        Where to write it (default: the system's file in ``quality_dir``).
    quality_dir : path-like, optional
        ``config/quality`` folder whose ``parameters.toml`` names the known parameters.
    force : bool
        Replace an existing file at ``out``.

    Returns
    -------
    ImportReport
    """
    src = Path(src)
    system = system or detect_system(src)
    if system not in TABLE_FILES:
        raise ValueError(f"unknown system '{system}' (known: {', '.join(TABLE_FILES)})")
    qdir = Path(quality_dir) if quality_dir is not None else default_quality_dir()
    target = Path(out) if out is not None else qdir / TABLE_FILES[system]
    if target.exists() and not force:
        raise QualityTableError(target, "exists; add --force to replace it")
    if target.resolve() == src.resolve():
        raise QualityTableError(target, "source and destination are the same file")
    comment = (f"Imported with 'hydrorisk quality import-table' from {src.name} "
               f"(system {system}); units converted to the canonical unit of each parameter.")
    if system in KZ_EDITIONS:
        params = known_parameters(qdir)
        table = load_kz_table(src, system, params)
        write_kz_table(table, target, comment)
        load_kz_table(target, system, params)
        nat = tuple(dict.fromkeys(r.parameter for r in table.rows if r.natural_origin))
        return ImportReport(system, target, len(table.rows), table.status_counts(), nat)
    if system == "ru":
        params = known_parameters(qdir)
        mtable = load_mpc_table(src, params)
        write_mpc_table(mtable, target, comment)
        load_mpc_table(target, params)
        return ImportReport(system, target, len(mtable.rows), mtable.status_counts())
    scoring = load_ukizv_scoring(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_read_text(src), encoding="utf-8")
    return ImportReport(system, target, len(scoring.elements()), scoring.status_counts())
