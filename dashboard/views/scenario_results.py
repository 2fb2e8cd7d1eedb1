"""The scenario lab's results (:mod:`dashboard.views.scenarios`): a finished run's fan
charts, exceedance table, reservoirs against НПУ/ФПУ, travel times, holdout and drawdown
check with its downloads; a run still going (its progress and first results); two runs
compared; the schedule search explained.  Pure: components from the service's results
(:class:`hydro.services.scenario_runs.RunResults`, ``CompareTable``, ``PlainSearch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashboard import components as ui
from dashboard import format as numfmt
from dashboard import scenario_figures as figs
from dashboard.i18n import t, t_or
from dashboard.reasons import coded_text
from dashboard.views.scenario_common import (
    ScenariosPage,
    _day,
    _node_name,
    _num,
    _panel,
    _pct,
    _runs,
    _scheme,
    _table,
)
from hydro.config import Config

def download_href(run_id: str, fmt_: str, lang: str) -> str:
    return f"/download/scenario-run/{quote(run_id, safe='')}.{fmt_}?lang={lang}"


def _downloads(run_id: str, lang: str) -> html.Div:
    links = [html.A(label, id=f"scenarios-download-{fmt_}",
                    href=download_href(run_id, fmt_, lang), download="",
                    className="btn btn-sm btn-outline-primary me-1")
             for fmt_, label in (("nc", "NetCDF"), ("csv", "CSV"),
                                 ("pdf", t("sc.download.pdf", lang)))]
    return html.Div([html.Span(t("sc.download", lang), className="me-2"), *links],
                    className="mb-2", id="scenarios-downloads")


def run_status_view(run: Any, lang: str) -> html.Div:
    """A run that is not done: its status, progress and (while it runs) the first chunk's
    results from the stored summary."""
    status = t_or(f"sc.status.{run.status}", lang, run.status)
    body: list = [html.P(t("sc.run.status", lang, run=run.run_id, status=status,
                           done=run.chunks_done, total=run.chunks_total or "?"),
                         id="scenarios-run-status")]
    if run.status in ("queued", "running"):
        body.append(dbc.Progress(value=round(100 * run.progress), className="mb-2",
                                 label=f"{round(100 * run.progress)} %"))
    error = _runs().run_error(run)
    if error is not None:
        body.append(dbc.Alert(coded_text(error, lang),
                              color="warning" if run.status == "cancelled" else "danger",
                              className="py-1", id="scenarios-run-error-note"))
    summary = _runs().run_summary(run)
    if summary and summary.get("gauges"):
        rows = [[g, _num(v.get("peak_q50_cm"), lang), _num(v.get("peak_q90_cm"), lang),
                 _pct(v.get("p_adverse"), lang), _pct(v.get("p_dangerous"), lang)]
                for g, v in summary["gauges"].items()]
        body += [html.Div(t("sc.partial", lang, members=summary.get("members", "")),
                          className="fw-semibold"),
                 _table([t("sc.col.gauge", lang), t("sc.col.peak_q50", lang),
                         t("sc.col.peak_q90", lang), t("sc.col.p_adverse", lang),
                         t("sc.col.p_dangerous", lang)], rows,
                        [False, True, True, True, True], "scenarios-partial", lang)]
    return _panel(t("sc.results", lang), body, "scenarios-results-panel")


def fan_figure(results: Any, gauge: str, lang: str) -> Any:
    """The fan chart of ``gauge``'s stage in a run (members, 10–90 %, median) against
    every level of every scheme."""
    fan = results.fan[gauge]
    members = results.traces.get(gauge)
    levels = [(f"{_scheme(lv.scheme, lv.level, lang)} {lv.value_cm:.0f}", lv.value_cm)
              for lv in results.levels.get(gauge, [])]
    return figs.fan_chart(
        fan.index, fan["stage_q10"], fan["stage_q50"], fan["stage_q90"],
        members.to_numpy().T if members is not None else None, levels, lang,
        t("sc.fan.title", lang, gauge=_node_name(results, gauge, lang),
          members=results.run.members),
        t("sc.axis.stage", lang),
        {"band": t("sc.fan.band", lang), "median": t("sc.fan.median", lang),
         "members": t("sc.fan.members", lang)})


def _exceedance_table(results: Any, lang: str) -> html.Div:
    rows = []
    for r in results.exceedance.to_dict("records"):
        none = not np.isfinite(r["level_cm"]) if r["level_cm"] is not None else True
        rows.append([_node_name(results, r["gauge"], lang), _scheme(r["scheme"], r["level"], lang)
                     + (f" ({t('sc.provisional', lang)})" if r.get("provisional") else ""),
                     "" if none else _num(r["level_cm"], lang),
                     t(f"sc.no_level.{r['level']}", lang) if none and r["level"] in (
                         "adverse", "dangerous") else _pct(r["probability"], lang),
                     "" if none else _num(r["days_mean"], lang, 1),
                     "" if none else _num(r["days_q90"], lang, 0)])
    return _table([t("sc.col.gauge", lang), t("sc.col.level", lang), t("sc.col.level_cm", lang),
                   t("sc.col.probability", lang), t("sc.col.days_mean", lang),
                   t("sc.col.days_q90", lang)], rows, [False, False, True, True, True, True],
                  "scenarios-exceedance", lang)


def _reservoir_section(results: Any, lang: str) -> list:
    out: list = []
    limits = {r["reservoir"]: r for r in results.reservoir_limits.to_dict("records")}
    labels = {"level": t("sc.res.level", lang), "band": t("sc.fan.band", lang),
              "release": t("sc.res.release", lang), "spill": t("sc.res.spill", lang),
              "npu": t("sc.col.npu", lang), "fpu": t("sc.col.fpu", lang),
              "y_level": t("sc.axis.level", lang), "y_flow": t("sc.axis.flow", lang)}
    for rid, traj in results.reservoirs.items():
        lim = limits.get(rid, {})
        fig = figs.storage_chart(
            traj.index, {q: traj[f"level_{q}"] for q in ("q10", "q50", "q90")
                         if f"level_{q}" in traj},
            lim.get("npu_m"), lim.get("fpu_m"), traj.get("release_q50"),
            traj.get("spill_q50"), lang, t("sc.res.title", lang,
                                           reservoir=_node_name(results, rid, lang)), labels)
        out.append(dcc.Graph(figure=fig, id=f"scenarios-storage-{rid.replace(':', '-')}",
                             config={"displaylogo": False}))
    rows = [[_node_name(results, r["reservoir"], lang), _num(r["end_storage_q50_hm3"], lang),
             f"{_num(r['end_storage_q10_hm3'], lang)}–{_num(r['end_storage_q90_hm3'], lang)}",
             _num(r["max_level_q50_m"], lang, 2), _pct(r["p_above_npu"], lang),
             _pct(r["p_above_fpu"], lang), _num(r["spill_volume_q50_hm3"], lang, 1)]
            for r in results.reservoir_limits.to_dict("records")]
    out.append(_table([t("sc.col.reservoir", lang), t("sc.col.end_storage", lang),
                       t("sc.col.end_storage_band", lang), t("sc.col.max_level", lang),
                       t("sc.col.p_npu", lang), t("sc.col.p_fpu", lang),
                       t("sc.col.spill_volume", lang)], rows,
                      [False, True, True, True, True, True, True], "scenarios-storage-table", lang))
    return out


def _travel_table(results: Any, lang: str) -> html.Div:
    rows = [[_node_name(results, r["reservoir"], lang), _node_name(results, r["gauge"], lang),
             _num(r["travel_time_d"], lang, 1), _num(r["reaches"], lang)]
            for r in results.travel_times.to_dict("records")]
    return _table([t("sc.col.reservoir", lang), t("sc.col.gauge", lang),
                   t("sc.col.travel_time", lang), t("sc.col.reaches", lang)], rows,
                  [False, False, True, True], "scenarios-travel", lang)


def _holdout_tables(results: Any, lang: str) -> list:
    peaks = [[_node_name(results, r["gauge"], lang), _num(r["peak_regulated_m3s"], lang),
              _num(r["peak_unregulated_m3s"], lang), _num(r["change_m3s"], lang, signed=True),
              _num(r["peak_stage_regulated_cm"], lang), _num(r["peak_stage_unregulated_cm"], lang),
              _num(r["change_cm"], lang, signed=True)]
             for r in results.holdout_peaks.to_dict("records")]
    effects = [[_node_name(results, r["reservoir"], lang), _node_name(results, r["gauge"], lang),
                t("sc.yes", lang) if r["across_border"] else "",
                _num(r["holdout_to_peak_hm3"], lang), _num(r["holdout_season_hm3"], lang),
                _num(r["change_m3s"], lang, signed=True), _num(r["change_cm"], lang, signed=True)]
               for r in results.holdout_effects.to_dict("records")]
    hold = [[_node_name(results, r["reservoir"], lang), _num(r["holdout_q10_hm3"], lang),
             _num(r["holdout_q50_hm3"], lang), _num(r["holdout_q90_hm3"], lang)]
            for r in results.holdout.to_dict("records")]
    return [
        html.P(t("sc.holdout.help", lang), className="text-muted small"),
        _table([t("sc.col.gauge", lang), t("sc.col.peak_regulated", lang),
                t("sc.col.peak_unregulated", lang), t("sc.col.change_m3s", lang),
                t("sc.col.stage_regulated", lang), t("sc.col.stage_unregulated", lang),
                t("sc.col.change_cm", lang)], peaks, [False] + [True] * 6, "scenarios-holdout", lang),
        _table([t("sc.col.reservoir", lang), t("sc.col.gauge", lang),
                t("sc.col.across_border", lang), t("sc.col.holdout_to_peak", lang),
                t("sc.col.holdout_season", lang), t("sc.col.change_m3s", lang),
                t("sc.col.change_cm", lang)], effects, [False, False, False] + [True] * 4,
               "scenarios-effects", lang),
        _table([t("sc.col.reservoir", lang), t("sc.col.holdout_q10", lang),
                t("sc.col.holdout_q50", lang), t("sc.col.holdout_q90", lang)], hold,
               [False, True, True, True], "scenarios-holdout-members", lang),
    ]


def _drawdown_table(results: Any, lang: str) -> html.Div:
    rows = [[_node_name(results, r["reservoir"], lang), _day(r["flood_start"], lang),
             _num(r["level_at_start_m"], lang, 2), _num(r["free_to_npu_hm3"], lang),
             _num(r["flood_volume_hm3"], lang), _pct(r["p_absorbed"], lang),
             _num(r["extra_space_hm3"], lang), _num(r["required_level_m"], lang, 2),
             t("sc.drawdown.ok", lang) if r["ok"] else t("sc.drawdown.not_ok", lang,
                                                          p=_pct(r["probability"], lang))]
            for r in results.drawdown.to_dict("records")]
    return _table([t("sc.col.reservoir", lang), t("sc.col.flood_start", lang),
                   t("sc.col.level_start", lang), t("sc.col.free_to_npu", lang),
                   t("sc.col.flood_volume", lang), t("sc.col.p_absorbed", lang),
                   t("sc.col.extra_space", lang), t("sc.col.required_level", lang),
                   t("sc.col.verdict", lang)], rows, [False, False] + [True] * 6 + [False],
                  "scenarios-drawdown", lang)


def results_view(results: Any, lang: str) -> html.Div:
    """Everything of a finished run (:class:`hydro.services.scenario_runs.RunResults`)."""
    run = results.run
    gauges = results.gauges
    gauge_options = [{"label": _node_name(results, g, lang), "value": g} for g in gauges]
    # the first gauge below a reservoir (the plan acts there), else the first one
    below = [g for g in results.travel_times["gauge"] if g in gauges] \
        if not results.travel_times.empty else []
    first = below[0] if below else (gauges[0] if gauges else None)
    head: list = [ui.synthetic_banner(lang)] if results.synthetic else []
    head += [html.P(t("sc.run.describe", lang, run=run.run_id, plan=run.plan_ref,
                      members=run.members, seed=run.seed,
                      forcing=t_or(f"sc.forcing.{run.forcing}", lang, run.forcing),
                      author=run.author,
                      when=f"{numfmt.date(run.created_at, lang)} {run.created_at:%H:%M} UTC"),
                    id="scenarios-run-describe"),
             _downloads(run.run_id, lang)]
    fan = [dbc.Select(id=ScenariosPage.GAUGE, options=gauge_options, value=first,
                      className="mb-2", style={"maxWidth": "30rem"}),
           dcc.Graph(id=ScenariosPage.FAN, figure=fan_figure(results, first, lang) if first
                     else {}, config={"displaylogo": False})]
    notes = [dbc.Alert(coded_text(n, lang), color="secondary", className="py-1 small")
             for n in results.notes]
    return html.Div([
        _panel(t("sc.results", lang), [*head, *fan], "scenarios-results-panel"),
        _panel(t("sc.exceedance", lang), [_exceedance_table(results, lang)],
               "scenarios-exceedance-panel", t("sc.exceedance.help", lang)),
        _panel(t("sc.storage", lang), _reservoir_section(results, lang),
               "scenarios-storage-panel"),
        _panel(t("sc.travel", lang), [_travel_table(results, lang)], "scenarios-travel-panel",
               t("sc.travel.help", lang)),
        _panel(t("sc.holdout", lang), _holdout_tables(results, lang), "scenarios-holdout-panel"),
        _panel(t("sc.drawdown", lang), [_drawdown_table(results, lang), *notes],
               "scenarios-drawdown-panel", t("sc.drawdown.help", lang)),
    ])


def compare_view(table: Any, lang: str) -> html.Div:
    """Two runs side by side per gauge (:class:`hydro.services.scenario_runs.CompareTable`;
    B − A)."""
    def name(r: Mapping[str, Any], key: str) -> str:
        return f"{r.get(f'name_{lang}') or r.get('name_en') or r[key]} ({r[key]})"

    head = [html.P(t("sc.compare.runs", lang, a=f"{table.run_a.plan_ref} ({table.run_a.run_id})",
                     b=f"{table.run_b.plan_ref} ({table.run_b.run_id})"))]
    if table.synthetic:
        head.insert(0, ui.synthetic_banner(lang))
    head.append(dbc.Alert(t("sc.compare.paired", lang), color="success", className="py-1 small")
                if table.paired else
                dbc.Alert([t("sc.compare.unpaired", lang), html.Ul([html.Li(coded_text(n, lang)) for n in table.notes])],
                          color="warning", className="py-1 small"))
    gauges = [[name(r, "gauge"), _num(r["peak_q50_a"], lang), _num(r["peak_q50_b"], lang),
               _num(r["peak_q50_diff"], lang, signed=True), _num(r["peak_q90_a"], lang),
               _num(r["peak_q90_b"], lang), _num(r["peak_q90_diff"], lang, signed=True)]
              for r in table.gauges.to_dict("records")]
    names = {r["gauge"]: name(r, "gauge") for r in table.gauges.to_dict("records")}
    exc = []
    for r in table.exceedance.to_dict("records"):
        none = r["level_cm"] is None or not np.isfinite(r["level_cm"])
        exc.append([names.get(r["gauge"], r["gauge"]), _scheme(r["scheme"], r["level"], lang),
                    t(f"sc.no_level.{r['level']}", lang) if none and r["level"] in
                    ("adverse", "dangerous") else _pct(r["probability_a"], lang),
                    "" if none else _pct(r["probability_b"], lang),
                    "" if none else _pct(r["probability_diff"], lang, signed=True),
                    "" if none else _num(r["days_mean_diff"], lang, 1, signed=True)])
    storage = [[name(r, "reservoir"), _num(r["end_storage_q50_a"], lang),
                _num(r["end_storage_q50_b"], lang),
                _num(r["end_storage_q50_diff"], lang, signed=True)]
               for r in table.storage.to_dict("records")]
    return html.Div([
        *head,
        _table([t("sc.col.gauge", lang), t("sc.col.peak_q50_a", lang), t("sc.col.peak_q50_b", lang),
                t("sc.col.diff", lang), t("sc.col.peak_q90_a", lang), t("sc.col.peak_q90_b", lang),
                t("sc.col.diff", lang)], gauges, [False] + [True] * 6, "scenarios-compare-gauges", lang),
        _table([t("sc.col.gauge", lang), t("sc.col.level", lang), t("sc.col.p_a", lang),
                t("sc.col.p_b", lang), t("sc.col.diff", lang), t("sc.col.days_diff", lang)],
               exc, [False, False, True, True, True, True], "scenarios-compare-exceedance", lang),
        _table([t("sc.col.reservoir", lang), t("sc.col.end_storage_a", lang),
                t("sc.col.end_storage_b", lang), t("sc.col.diff", lang)], storage,
               [False, True, True, True], "scenarios-compare-storage", lang),
    ], id="scenarios-compare-result")


def search_view(config: Config, scenario_id: str, out: Any, lang: str) -> html.Div:
    """The schedule search explained: the objective in words and units (the weights in the
    page's language), each gauge's weight, the documented and the best schedule's points,
    and the best schedule as a table."""
    from hydro.release_plans import from_spec
    from hydro.services.scenarios import load_scenario

    w = [float(x) for _, x, _ in out.terms]
    def weight(x: float) -> str:          # as many decimals as the weight has (0.001)
        return _num(x, lang, max(0, min(4, -int(np.floor(np.log10(abs(x)))))) if x else 0)

    text = t("sc.search.objective", lang, excess=weight(w[0]), dangerous=weight(w[1]),
             adverse=weight(w[2]), peak=weight(w[3]), storage=weight(w[4]),
             target=_num(out.storage_target_hm3, lang, 0),
             probability=_num(100 * out.storage_probability, lang, 0))
    rows = [[f"{r.get(f'name_{lang}') or r['gauge']} ({r['gauge']})", r["country"],
             _num(r["weight"], lang, 2)] for r in out.weights.to_dict("records")]
    sc = load_scenario(config, scenario_id)
    best = from_spec(out.best_plan.reservoirs[out.reservoir], sc.dates, reservoir=out.reservoir)
    best_rows = [[numfmt.date(r.date, lang), _num(r.value, lang, 0)] for r in best.rows]
    return html.Div([
        html.P(text, id="scenarios-search-objective"),
        _table([t("sc.col.gauge", lang), t("sc.col.country", lang), t("sc.col.weight", lang)],
               rows, [False, False, True], "scenarios-search-weights", lang),
        html.P(t("sc.search.outcome", lang, reservoir=out.reservoir,
                 documented=_num(out.documented_value, lang, 2),
                 best=_num(out.best_value, lang, 2), members=out.members,
                 evaluations=out.evaluations,
                 feasible=t("sc.yes", lang) if out.feasible else t("sc.no", lang))),
        _table([t("sc.col.date", lang), t("sc.col.release", lang)], best_rows, [False, True],
               "scenarios-search-best", lang) if best_rows else html.P(best.rule or ""),
    ])
