"""Water quality per site and year for the dashboard's quality page: the class under both
national systems side by side, the limiting parameters of each, the marks that qualify a
class, trends per parameter, and each parameter's series against its limits.

    rows = site_years(store, config)                       # every site and year
    rows = site_years(store, config, until=dt.datetime(2024, 5, 1), as_of=...)
    trends = parameter_trends(store, config, "KZ:19073")
    series = parameter_series(store, config, "KZ:19073", "oil_products")

A site-year is classified exactly as ``hydrorisk report quality`` does
(:func:`hydro.services.reports.quality_report`): the year's samples are put in the form of
:func:`hydro.quality.samples_from_long`, the KZ class of each edition is that of the year's
mean concentrations (:func:`hydro.quality.period_mean`, :func:`hydro.quality.classify_kz`)
and the RU class the УКИЗВ of the samples (:func:`hydro.quality.ukizv`), with the
deployment's tables.

Marks (:attr:`SiteYear.marks`):

``tables``
    a table row used is not official (every class on the bundled tables; see
    ``config/quality/SOURCES.md``): :attr:`KzClassResult.provisional`,
    :attr:`UkizvResult.provisional`.
``few_samples``
    fewer than :data:`MIN_SAMPLES_PER_YEAR` samples in the year (or in the part of it known
    at the date shown): the annual class is provisional.  Four — one per hydrological
    season — is this project's rule; no minimum was found in the KZ orders or in
    RD 52.24.643-2002.
``incomplete``
    the УКИЗВ lacks mandatory ingredients (:attr:`UkizvResult.incomplete`, RD 52.24.643-2002).
``kz_missing``
    parameters of the KZ table were not analysed (:attr:`KzClassResult.missing`): the class
    is the worst among those that were.
``bounded``
    a result below a detection limit above a class limit leaves the KZ class a range.
``no_ukizv``
    no ingredient with an MPC could be judged: no УКИЗВ.

A class with any mark but ``tables`` is *incomplete*; with any mark it is *provisional*.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hydro.config import Config
from hydro.quality import (
    Censored,
    KzClassResult,
    QualityError,
    UkizvResult,
    classify_kz,
    kz_edition_for,
    period_mean,
    samples_from_long,
    ukizv,
)
from hydro.services.context import Store
from hydro.trend import mann_kendall

#: fewest samples in a year for an annual class that is not marked provisional (one per
#: hydrological season; a project rule, see the module docstring)
MIN_SAMPLES_PER_YEAR = 4
KZ_EDITIONS = ("kz2016", "kz2025")
#: mark keys, in the order they are shown
MARKS = ("few_samples", "incomplete", "kz_missing", "bounded", "no_ukizv", "tables")
#: fewest years for a trend test (hydro.trend.MIN_VALUES is the test's own minimum)
MIN_TREND_YEARS = 5
#: leading characters a spreadsheet reads as a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------- reading

def samples(store: Store, sites: Sequence[str] | None = None,
            until: dt.datetime | None = None, as_of: dt.datetime | None = None
            ) -> pd.DataFrame:
    """Water-quality results: site_id, time, parameter, value, censored (bool).

    ``until`` (naive UTC) keeps samples taken before it; ``as_of`` (naive UTC) gives what had
    been received by then (the highest revision received by then); by default the current
    revision of every result.
    """
    from hydro.store import alerts as store_alerts
    from hydro.store import api

    if as_of is not None:
        site_list = list(sites) if sites is not None else \
            [str(x) for x in api.stations(store)["id"]]
        frame = store_alerts.quality_samples_as_of(store, site_list, as_of)
        if until is not None:
            frame = frame[frame["time"] < until]
    else:
        frame = api.quality_samples(store)
        if sites is not None:
            frame = frame[frame["site_id"].isin(list(sites))]
        if until is not None:
            frame = frame[frame["time"] < until]
    frame = frame[["site_id", "time", "parameter", "value", "censored"]].copy()
    frame["time"] = pd.to_datetime(frame["time"])
    frame["censored"] = frame["censored"].astype(bool)
    return frame.sort_values(["site_id", "time", "parameter"], kind="stable") \
        .reset_index(drop=True)


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    """The form of :func:`hydro.services.reports.quality_report`: time, parameter, value
    (a censored value as the text ``"<DL"``)."""
    return pd.DataFrame({
        "time": frame["time"].to_numpy(), "parameter": frame["parameter"].to_numpy(),
        "value": [f"<{v:g}" if c else v
                  for v, c in zip(frame["value"], frame["censored"], strict=True)],
    })


# --------------------------------------------------------------------------- classes

def kz_edition(year: int) -> str:
    """The edition of the KZ unified classification in force at the end of ``year``
    (:func:`hydro.quality.kz_edition_for`): an annual class is judged by it."""
    return kz_edition_for(dt.date(year, 12, 31))


@dataclass(frozen=True)
class SiteYear:
    """One site's water quality in one calendar year under both national systems."""

    site_id: str
    year: int
    n_samples: int
    first: dt.date
    last: dt.date
    means: Mapping[str, float | Censored]
    kz: Mapping[str, KzClassResult]
    ukizv: UkizvResult | None
    ukizv_error: str | None = None

    @property
    def kz_edition(self) -> str:
        """The KZ edition in force in the year (:func:`kz_edition`)."""
        return kz_edition(self.year)

    @property
    def kz_in_force(self) -> KzClassResult:
        return self.kz[self.kz_edition]

    @property
    def ukizv_limiting(self) -> tuple[str, ...]:
        """The ingredients with the highest generalized score S_i (none when no ingredient
        exceeds its MPC): those that set the УКИЗВ's class."""
        if self.ukizv is None:
            return ()
        scores = {n: s.score for n, s in self.ukizv.partial_scores.items()}
        top = max(scores.values(), default=0.0)
        if top <= 0:
            return ()
        return tuple(sorted((n for n, s in scores.items() if math.isclose(s, top)),
                            key=lambda n: -self._multiplicity(n)))

    def _multiplicity(self, name: str) -> float:
        assert self.ukizv is not None
        return self.ukizv.partial_scores[name].multiplicity or 0.0

    @property
    def few_samples(self) -> bool:
        return self.n_samples < MIN_SAMPLES_PER_YEAR

    @property
    def marks(self) -> tuple[str, ...]:
        """The marks of :data:`MARKS` that apply (see the module docstring)."""
        kz = self.kz_in_force
        on = {
            "few_samples": self.few_samples,
            "incomplete": self.ukizv is not None and self.ukizv.incomplete,
            "kz_missing": bool(kz.missing),
            "bounded": any(r.bounded for r in self.kz.values()),
            "no_ukizv": self.ukizv is None,
            "tables": any(r.provisional for r in self.kz.values())
            or (self.ukizv is not None and self.ukizv.provisional),
        }
        return tuple(m for m in MARKS if on[m])

    @property
    def provisional(self) -> bool:
        return bool(self.marks)

    @property
    def incomplete(self) -> bool:
        return any(m != "tables" for m in self.marks)


def classify_site_year(frame: pd.DataFrame, config: Config, site_id: str, year: int
                       ) -> SiteYear:
    """Classify one site's results of one year (rows of :func:`samples`), as
    :func:`hydro.services.reports.quality_report` does."""
    long = _long(frame)
    sample_list = samples_from_long(long)
    means = period_mean(sample_list)
    kz = {ed: classify_kz(means, edition=ed, table=config.quality_table(ed))
          for ed in KZ_EDITIONS}
    u: UkizvResult | None
    error = None
    try:
        u = ukizv(sample_list, mpc=config.quality_table("ru"),
                  scoring=config.quality_table("ru-ukizv"))
    except QualityError as e:
        u, error = None, str(e)
    times = pd.to_datetime(frame["time"])
    return SiteYear(site_id, year, len(sample_list), times.min().date(), times.max().date(),
                    means, kz, u, error)


def site_years(store: Store, config: Config, until: dt.datetime | None = None,
               as_of: dt.datetime | None = None, sites: Sequence[str] | None = None
               ) -> list[SiteYear]:
    """Every site and year with samples taken before ``until`` and received by ``as_of``
    (naive UTC; both optional), ordered by site then year."""
    return classify(samples(store, sites, until, as_of), config)


def classify(frame: pd.DataFrame, config: Config) -> list[SiteYear]:
    """:func:`classify_site_year` of every site and year in ``frame`` (rows of
    :func:`samples`), ordered by site then year; a site-year with no parameter of the KZ
    tables is left out."""
    out: list[SiteYear] = []
    if frame.empty:
        return out
    key = (_fingerprint(frame), id(config))
    cached = _CACHE.get(key)
    if cached is not None:
        return list(cached)
    years = frame["time"].dt.year
    for (site, year), group in frame.groupby([frame["site_id"], years], sort=True):
        try:
            out.append(classify_site_year(group, config, str(site),
                                          int(year)))  # type: ignore[call-overload]
        except QualityError:
            continue  # no parameter of the KZ table: nothing to classify
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = tuple(out)
    return out


#: classifications of the last few sample sets (the page and its CSV ask for the same one);
#: keyed by the samples' content and the configuration object, whose tables do not change
#: while it lives
_CACHE: dict[tuple[int, int], tuple[SiteYear, ...]] = {}
_CACHE_SIZE = 8


def _fingerprint(frame: pd.DataFrame) -> int:
    cols = frame[["site_id", "time", "parameter", "value", "censored"]]
    return hash((len(cols), int(pd.util.hash_pandas_object(cols, index=False).sum())))


def latest_year(rows: Iterable[SiteYear], year: int | None = None) -> dict[str, SiteYear]:
    """Per site, its row of ``year`` or, without one (or without ``year``), of its latest
    year not after ``year``."""
    out: dict[str, SiteYear] = {}
    for r in rows:
        if year is not None and r.year > year:
            continue
        if r.site_id not in out or r.year > out[r.site_id].year:
            out[r.site_id] = r
    return out


# --------------------------------------------------------------------------- trends

@dataclass(frozen=True)
class ParameterTrend:
    """Mann-Kendall test and Sen's slope of one parameter's annual means at a site."""

    parameter: str
    first_year: int | None
    last_year: int | None
    n_years: int
    trend: str | None          # "increasing", "decreasing", "no trend"; None: not tested
    significant: bool | None
    p: float | None
    slope_per_year: float | None   # the parameter's unit per year
    censored: bool = False     # annual means with results below a detection limit, taken at
    # the detection limit (the upper bound of the mean)
    note: str = ""


def annual_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Annual mean of each parameter (rows of :func:`samples`): index year, one column per
    parameter; a result below a detection limit counts at the limit.  ``attrs["censored"]``
    lists the parameters with such results."""
    if frame.empty:
        out = pd.DataFrame()
        out.attrs["censored"] = []
        return out
    year = frame["time"].dt.year.rename("year")
    out = frame.groupby([year, frame["parameter"]])["value"].mean().unstack("parameter")
    out.attrs["censored"] = sorted(frame.loc[frame["censored"], "parameter"].unique())
    return out


def parameter_trends(frame: pd.DataFrame, alpha: float = 0.05,
                     min_years: int = MIN_TREND_YEARS,
                     complete_years: Iterable[int] | None = None) -> list[ParameterTrend]:
    """Trend of each parameter at one site (``frame``: that site's rows of :func:`samples`)
    over its annual means (:func:`hydro.trend.mann_kendall`, two-sided, level ``alpha``).

    ``complete_years`` restricts the test to those years (e.g. the years that are not marked
    ``few_samples``); a parameter with fewer than ``min_years`` annual means is not tested
    (``note`` says why).
    """
    means = annual_means(frame)
    if complete_years is not None and not means.empty:
        means = means[means.index.isin(list(complete_years))]
    censored = set(means.attrs.get("censored", []))
    out = []
    for name in sorted(means.columns):
        s = means[name].dropna()
        first = int(s.index.min()) if len(s) else None
        last = int(s.index.max()) if len(s) else None
        if len(s) < min_years:
            out.append(ParameterTrend(name, first, last, int(len(s)), None, None, None, None,
                                      name in censored, f"fewer than {min_years} years"))
            continue
        r = mann_kendall(s.to_numpy(dtype=float), times=s.index.to_numpy(dtype=float),
                         alpha=alpha)
        out.append(ParameterTrend(name, first, last, r.n, r.trend, r.significant, r.p,
                                  r.slope, name in censored))
    return out


# --------------------------------------------------------------------------- limits

@dataclass(frozen=True)
class Limits:
    """One parameter's limits in the deployment's tables (canonical unit)."""

    parameter: str
    mpc: float | None = None
    mpc_direction: str | None = None
    #: edition -> [(direction, (limit of class 1, ..., limit of class 5))]
    kz: Mapping[str, list[tuple[str, tuple[float, ...]]]] = field(default_factory=dict)


def limits(config: Config, parameter: str) -> Limits:
    """The fishery MPC and the KZ class limits of both editions of ``parameter``."""
    row = config.quality_table("ru").row(parameter)
    kz: dict[str, list[tuple[str, tuple[float, ...]]]] = {}
    for ed in KZ_EDITIONS:
        table = config.quality_table(ed)
        if parameter in table.parameters:
            kz[ed] = [(r.direction, tuple(r.limits)) for r in table.rows_for(parameter)]
    return Limits(parameter, row.mpc if row is not None else None,
                  row.direction if row is not None else None, kz)


# --------------------------------------------------------------------------- CSV

def csv_safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (numbers are left
    as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV text (comma-separated, UTF-8 with a BOM so that spreadsheets read the Cyrillic
    letters) of ``rows`` under ``headers``, every text cell guarded by :func:`csv_safe`."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in headers])
    for row in rows:
        writer.writerow([csv_safe(c) for c in row])
    return "\ufeff" + buf.getvalue()


__all__ = ["KZ_EDITIONS", "MARKS", "MIN_SAMPLES_PER_YEAR", "Limits", "ParameterTrend",
           "SiteYear", "annual_means", "classify", "classify_site_year", "csv_safe", "kz_edition", "latest_year",
           "limits", "parameter_trends", "samples", "site_years", "to_csv"]
