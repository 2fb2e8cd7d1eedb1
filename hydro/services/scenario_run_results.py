"""What :mod:`hydro.services.scenario_runs` hands to its callers about kept runs: the
results of one run and the comparison of two (plain data; the dashboard, the CLI and the
downloads of :mod:`hydro.services.scenario_run_outputs` read them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hydro import scenario_results as SR
from hydro.store.scenario_runs import RunRecord

#: member traces kept per gauge for a fan chart
MAX_TRACES = 100


@dataclass
class RunResults:
    """Everything the results view of a run shows.  Ids everywhere, with ``names`` (id ->
    {kk, ru, en}) and ``countries`` (id -> KZ/RU).

    gauges : the reported gauges, upstream to downstream
    fan : gauge -> DataFrame by day: ``stage_q10/q50/q90`` (cm), ``discharge_q10/q50/q90``
        (m³/s)
    traces : gauge -> DataFrame by day, one stage column per member (at most
        :data:`MAX_TRACES`, the first members)
    levels : gauge -> every scheme's levels (:class:`hydro.scenario_results.Level`)
    exceedance : :func:`hydro.scenario_results.exceedance_table` (blank where no level)
    reservoirs : reservoir -> DataFrame by day of level/volume/release/spill quantiles
    reservoir_limits : DataFrame per reservoir: НПУ, ФПУ, УМО (m) and their volumes (hm³),
        end-of-season storage and max level quantiles, spill volume median
    travel_times : :func:`hydro.scenario_results.travel_times`
    holdout_peaks, holdout_effects : :func:`hydro.schedules.reservoir_effects` of the
        control member against the river with every reservoir passing its inflow
    holdout : DataFrame per reservoir of the season holdout (inflow − outflow, hm³)
        quantiles over the members
    drawdown : DataFrame, one :func:`hydro.schedules.drawdown_check` row per reservoir
    summary : :func:`hydro.schedules.summary` of the evaluation
    """

    run: RunRecord
    synthetic: bool
    banner: str
    gauges: list[str]
    names: dict[str, dict[str, str]]
    countries: dict[str, str]
    fan: dict[str, pd.DataFrame]
    traces: dict[str, pd.DataFrame]
    levels: dict[str, list[SR.Level]]
    exceedance: pd.DataFrame
    reservoirs: dict[str, pd.DataFrame]
    reservoir_limits: pd.DataFrame
    travel_times: pd.DataFrame
    holdout_peaks: pd.DataFrame
    holdout_effects: pd.DataFrame
    holdout: pd.DataFrame
    drawdown: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)



@dataclass
class CompareTable:
    """Two runs side by side (B − A everywhere).

    gauges : per gauge (upstream to downstream, both sides of the border): ``gauge,
        country, name_kk/ru/en, peak_q50_a, peak_q50_b, peak_q50_diff, peak_q90_a,
        peak_q90_b, peak_q90_diff`` (cm)
    exceedance : per gauge and level: probabilities under A and B and their difference
        (:func:`hydro.scenario_results.compare_exceedance`; blank where no such level)
    storage : per reservoir: ``end_storage_q50_a, _b, _diff`` (hm³, water left in storage
        at the season's end, median over the members)
    paired : both runs are of the same scenario, members and seed (member i of A and of B
        saw the same weather): a paired comparison; otherwise ``notes`` says what differs
    """

    run_a: RunRecord
    run_b: RunRecord
    gauges: pd.DataFrame
    exceedance: pd.DataFrame
    storage: pd.DataFrame
    paired: bool
    notes: list[str]
    synthetic: bool
