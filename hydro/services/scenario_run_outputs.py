"""Downloads of a kept scenario run: the CSV of its gauge quantiles and exceedance table,
and the PDF summary for the commission in kk, ru or en.

The PDF is the commission report's: its :class:`hydro.services.commission.Report` of
sections rendered by :func:`hydro.services.commission.to_pdf` (A4 landscape, DejaVu Sans,
the SYNTHETIC stamp on every page of a synthetic scenario).  Every CSV cell a spreadsheet
would read as a formula is prefixed with ``'`` (:func:`hydro.services.audit.safe_cell`).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pandas as pd

from hydro.services import i18n
from hydro.services.audit import safe_cell
from hydro.services.scenario_run_results import RunResults

LANGUAGES = ("kk", "ru", "en")

CSV_COLUMNS = ["table", "site", "country", "name_en", "name_ru", "name_kk", "time",
               "variable", "unit", "q10", "q50", "q90", "scheme", "level", "level_cm",
               "probability", "days_mean", "days_q50", "days_q90", "note"]


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(round(v, 4))
    return safe_cell(v)


def to_csv(res: RunResults) -> str:
    """One CSV: ``run`` rows (the inputs, one per row in ``variable``/``note``; a
    SYNTHETIC row first where so), the ``exceedance`` rows (per
    gauge and level: probability and days at or above; blank where the gauge has no such
    level) and the ``quantiles`` rows (per gauge and day: stage cm and discharge m³/s,
    10/50/90 % over the members)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    run = res.run

    def row(**kw: Any) -> None:
        w.writerow([_cell(kw.get(c, "")) for c in CSV_COLUMNS])

    inputs = [("run_id", run.run_id), ("plan", run.plan_ref), ("members", run.members),
              ("seed", run.seed), ("forcing", run.forcing), ("author", run.author),
              ("created_utc", f"{run.created_at:%Y-%m-%d %H:%M}")]
    if res.synthetic:
        inputs.insert(0, ("synthetic", "SYNTHETIC: a demonstration of the method on "
                                       "synthetic data, not a forecast"))
    for key, value in inputs:
        row(table="run", site=run.scenario_id, variable=key, note=str(value))
    for r in res.exceedance.to_dict("records"):
        g = str(r["gauge"])
        row(table="exceedance", site=g, country=res.countries[g],
            **{f"name_{k}": v for k, v in res.names[g].items()}, scheme=r["scheme"],
            level=r["level"], level_cm=float(r["level_cm"]),
            probability=float(r["probability"]), days_mean=float(r["days_mean"]),
            days_q50=float(r["days_q50"]), days_q90=float(r["days_q90"]), note=r["note"])
    for g in res.gauges:
        fan = res.fan[g]
        names = {f"name_{k}": v for k, v in res.names[g].items()}
        for var, unit in (("stage", "cm"), ("discharge", "m3 s-1")):
            for t, a, b, c in zip(fan.index, fan[f"{var}_q10"], fan[f"{var}_q50"],
                                  fan[f"{var}_q90"], strict=True):
                row(table="quantiles", site=g, country=res.countries[g], **names,
                    time=f"{t:%Y-%m-%d}", variable=var, unit=unit, q10=float(a),
                    q50=float(b), q90=float(c))
    return out.getvalue()


# --------------------------------------------------------------------------- PDF

def text(key: str, lang: str, **fields: object) -> str:
    """The summary's word ``key`` in ``lang`` (kk, ru, en; catalog key
    ``scenario_run.<key>`` of hydro's gettext domain), ``str.format``-ed with ``fields``."""
    return i18n.t(f"scenario_run.{key}", lang, **fields)


def _pct(p: Any) -> float | None:
    x = float(p)
    return None if not math.isfinite(x) else 100.0 * x


def _level_label(scheme: str, level: str, lang: str) -> str:
    key = f"level.{level}"
    label = text(key, lang) if i18n.has(f"scenario_run.{key}") else level
    return f"{label} [{scheme}]" if scheme else label


def report(res: RunResults, lang: str) -> Any:
    """The summary as a commission :class:`~hydro.services.commission.Report`."""
    from hydro.services.commission import Report, Section

    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    run = res.run

    def name(site: str) -> str:
        return res.names[site].get(lang) or res.names[site]["en"]

    exc_rows = []
    for r in res.exceedance.to_dict("records"):
        missing = not math.isfinite(float(r["level_cm"]))
        exc_rows.append([name(r["gauge"]), res.countries[r["gauge"]],
                         _level_label(r["scheme"], r["level"], lang),
                         text("no_level", lang) if missing else float(r["level_cm"]),
                         _pct(r["probability"]), None if missing else float(r["days_mean"]),
                         None if missing else float(r["days_q90"])])
    peaks = []
    for g in res.gauges:
        fan = res.fan[g]
        # the peak of each quantile curve is a bound, not a member's peak: use members
        tr = res.traces[g]
        if not tr.notna().any().any():
            continue
        pk = res.summary[(res.summary["quantity"] == "peak_stage") & (res.summary["site"] == g)]
        q = pk.iloc[0] if len(pk) else None
        peaks.append([name(g), res.countries[g],
                      float(q["q10"]) if q is not None else float(fan["stage_q10"].max()),
                      float(q["q50"]) if q is not None else float(fan["stage_q50"].max()),
                      float(q["q90"]) if q is not None else float(fan["stage_q90"].max())])
    res_rows = [[name(r["reservoir"]), float(r["npu_m"]), float(r["fpu_m"]),
                 float(r["npu_volume_hm3"]), float(r["end_storage_q50_hm3"]),
                 float(r["max_level_q90_m"]), _pct(r["p_above_fpu"]),
                 float(r["spill_volume_q90_hm3"])]
                for r in res.reservoir_limits.to_dict("records")]
    dd_rows = [[name(r["reservoir"]), r["flood_start"], float(r["level_at_start_m"]),
                _pct(r["p_absorbed"]), float(r["extra_space_hm3"]),
                float(r["required_level_m"]), text("yes" if r["ok"] else "no", lang)]
               for r in res.drawdown.to_dict("records")]
    hold_rows = [[name(r["gauge"]), r["country"], float(r["peak_regulated_m3s"]),
                  float(r["peak_unregulated_m3s"]), float(r["change_cm"])]
                 for r in res.holdout_peaks.to_dict("records")
                 if math.isfinite(float(r["change_cm"]))]
    travel = [[name(r["reservoir"]), name(r["gauge"]), res.countries[r["gauge"]],
               float(r["travel_time_d"])] for r in res.travel_times.to_dict("records")]
    h = lambda k: text(f"h.{k}", lang)  # noqa: E731
    sections = [
        Section("exceedance", text("sec.exceedance", lang),
                [h("gauge"), h("country"), h("level"), h("level_cm"), h("probability"),
                 h("days"), h("days90")], exc_rows, [None, None, None, 0, 0, 1, 1],
                text("note.exceedance", lang)),
        Section("peaks", text("sec.peaks", lang),
                [h("gauge"), h("country"), h("q10"), h("q50"), h("q90")], peaks,
                [None, None, 0, 0, 0]),
        Section("reservoirs", text("sec.reservoirs", lang),
                [h("reservoir"), h("npu"), h("fpu"), h("npu_vol"), h("end50"), h("maxlev"),
                 h("p_fpu"), h("spill")], res_rows, [None, 2, 2, 0, 0, 2, 0, 0]),
        Section("drawdown", text("sec.drawdown", lang),
                [h("reservoir"), h("flood_start"), h("level_start"), h("absorbed"),
                 h("extra"), h("required"), h("verdict")], dd_rows,
                [None, None, 2, 0, 0, 2, None]),
        Section("holdout", text("sec.holdout", lang),
                [h("gauge"), h("country"), h("peak_reg"), h("peak_unreg"), h("change_cm")],
                hold_rows, [None, None, 0, 0, 0]),
        Section("travel", text("sec.travel", lang),
                [h("reservoir"), h("gauge"), h("country"), h("travel")], travel,
                [None, None, None, 1], text("note.travel", lang)),
    ]
    return Report(
        lang=lang, month="", title=text("title", lang),
        subtitle=text("subtitle", lang, scenario=run.scenario_id, plan=run.plan_ref),
        knowledge=text("knowledge", lang, members=run.members, seed=run.seed,
                       forcing=run.forcing, author=run.author,
                       time=f"{run.created_at:%Y-%m-%d %H:%M}", run_id=run.run_id),
        synthetic=text("synthetic", lang) if res.synthetic else None, sections=sections)


def to_pdf(res: RunResults, lang: str) -> bytes:
    """The summary as PDF (:func:`hydro.services.commission.to_pdf`)."""
    from hydro.services.commission import to_pdf as commission_pdf

    return commission_pdf(report(res, lang))


def exceedance_frame(res: RunResults, lang: str) -> pd.DataFrame:
    """The exceedance table with the gauges' names in ``lang`` (for a page's grid)."""
    df = res.exceedance.copy()
    df.insert(1, "name", [res.names[g].get(lang) or res.names[g]["en"] for g in df["gauge"]])
    df.insert(2, "country", [res.countries[g] for g in df["gauge"]])
    return df
