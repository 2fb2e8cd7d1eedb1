"""Message ids that the dashboard builds at run time, marked with ``N_()`` for extraction.

``python scripts/i18n.py extract`` finds keys only where they are written as a literal in a
call of ``t``, ``t_or``, ``has`` or ``N_``.  Keys the code puts together at run time
(``t(f"status.{code}", lang)``, ``t_or("qc." + flag, ...)``) or names in a tuple of keys
are listed here, grouped by where they are built, so that extraction sees them and
``scripts/i18n.py check`` can tell a used key from a dead one.  Add a key here when you add a
string that is built at run time.  Nothing imports this module at run time.
"""

from __future__ import annotations

from hydro.services.i18n import N_

#: every key below, for extraction (see the module docstring)
KEYS: tuple[str, ...] = (
    # keys named in a tuple or dict of keys in dashboard/views/alerts_panel.py
    N_("alerts.acked"), N_("alerts.acked_later"),
    # built as "alerts.kind.{...}" in dashboard/views/alerts_panel.py
    N_("alerts.kind.balance_residual"), N_("alerts.kind.border_min_flow"),
    N_("alerts.kind.forecast_crossing"), N_("alerts.kind.low_water"),
    N_("alerts.kind.pollution_class"), N_("alerts.kind.qc_burst"),
    N_("alerts.kind.rate_of_rise"), N_("alerts.kind.release_change"),
    N_("alerts.kind.reservoir_full"), N_("alerts.kind.silent"), N_("alerts.kind.spill_started"),
    N_("alerts.kind.stage_level"),
    # built as "alerts.standing.{...}" in dashboard/views/alerts_panel.py
    N_("alerts.standing.ice_affected"), N_("alerts.standing.provisional"),
    N_("alerts.standing.qc_flagged"), N_("alerts.standing.single_party"),
    # keys named in a tuple or dict of keys in dashboard/timequery.py
    N_("asof.invalid"),
    # built as "cm.ack.{...}" in dashboard/views/commission.py
    N_("cm.ack.no_name"), N_("cm.ack.own_delivery"), N_("cm.ack.too_long"),
    # keys named in a tuple or dict of keys in dashboard/components.py,
    #   dashboard/views/commission.py
    N_("col.basin"), N_("col.change"), N_("col.discharge"), N_("col.fpu"), N_("col.ice"),
    N_("col.inflow"), N_("col.level"), N_("col.level_m"), N_("col.npu"), N_("col.observed"),
    N_("col.party_diff"), N_("col.pct_npu"), N_("col.release"), N_("col.remaining"),
    N_("col.reservoir"), N_("col.spill"), N_("col.stage"), N_("col.to_npu"), N_("col.volume"),
    # built as f"{key}.help" (a grid column's tooltip) in dashboard/components.py
    N_("col.release.help"),
    # built as f"{key}.help" (a grid column's tooltip) in dashboard/components.py
    N_("col.spill.help"),
    # built as "country.{...}" in dashboard/components.py, dashboard/views/station.py
    N_("country.CN"), N_("country.KZ"), N_("country.RU"),
    # built as "ds.outcome.{...}" in dashboard/views/data_status.py
    N_("ds.outcome.error"), N_("ds.outcome.loaded"), N_("ds.outcome.missed"),
    N_("ds.outcome.ok"), N_("ds.outcome.rejected"), N_("ds.outcome.running"),
    N_("ds.outcome.unchanged"),
    # built as "grid.locale.{...}" in dashboard/components.py
    N_("grid.locale.andCondition"), N_("grid.locale.applyFilter"),
    N_("grid.locale.ariaColumnFilter"), N_("grid.locale.ariaFilterInput"),
    N_("grid.locale.ariaFilterList"), N_("grid.locale.ariaFilterValue"),
    N_("grid.locale.ariaFilteringOperator"), N_("grid.locale.ariaSearch"),
    N_("grid.locale.blank"), N_("grid.locale.cancelFilter"), N_("grid.locale.clearFilter"),
    N_("grid.locale.columnFilter"), N_("grid.locale.contains"), N_("grid.locale.endsWith"),
    N_("grid.locale.equals"), N_("grid.locale.filterOoo"), N_("grid.locale.greaterThan"),
    N_("grid.locale.greaterThanOrEqual"), N_("grid.locale.inRange"),
    N_("grid.locale.inRangeEnd"), N_("grid.locale.inRangeStart"), N_("grid.locale.lessThan"),
    N_("grid.locale.lessThanOrEqual"), N_("grid.locale.loadingOoo"),
    N_("grid.locale.noMatchingRows"), N_("grid.locale.noRowsToShow"), N_("grid.locale.notBlank"),
    N_("grid.locale.notContains"), N_("grid.locale.notEqual"), N_("grid.locale.orCondition"),
    N_("grid.locale.resetFilter"), N_("grid.locale.sortAscending"),
    N_("grid.locale.sortDescending"), N_("grid.locale.sortUnSort"), N_("grid.locale.startsWith"),
    N_("grid.locale.firstPage"), N_("grid.locale.lastPage"), N_("grid.locale.nextPage"),
    N_("grid.locale.previousPage"), N_("grid.locale.page"), N_("grid.locale.of"),
    N_("grid.locale.to"), N_("grid.locale.more"), N_("grid.locale.pageSizeSelectorLabel"),
    N_("grid.locale.ariaPageSizeSelectorLabel"), N_("grid.locale.ariaFilterMenuOpen"),
    # built as f"sv.source.{source}" in dashboard/views/data_status.py (a source of
    #   config/sources.toml)
    N_("sv.source.quality"), N_("sv.source.exchange-nc"),
    # built as f"audit.action.{action}" (auth's section of the catalog) in dashboard/auth.py
    N_("auth.audit.action.alert_ack"), N_("auth.audit.action.exchange_ack"),
    N_("auth.audit.action.forbidden"), N_("auth.audit.action.login"),
    N_("auth.audit.action.login_failed"), N_("auth.audit.action.logout"),
    N_("auth.audit.action.plan_save"), N_("auth.audit.action.scenario_run"),
    N_("auth.audit.action.upload"), N_("auth.audit.action.user_add"),
    N_("auth.audit.action.user_passwd"), N_("auth.audit.action.user_remove"),
    # built as "level.generic.{...}" in dashboard/components.py, dashboard/views/station.py
    N_("level.generic.adverse"), N_("level.generic.dangerous"), N_("level.generic.impact"),
    N_("level.generic.low_water_dangerous"),
    # built as f"level.{scheme}.{level}" in dashboard/components.py, dashboard/views/station.py
    N_("level.kz_dangerous.dangerous"),
    # built as f"level.{scheme}.{level}" in dashboard/components.py, dashboard/views/station.py
    N_("level.local_impact.impact"),
    # built as f"level.{scheme}.{level}" in dashboard/components.py, dashboard/views/station.py
    N_("level.percentile.adverse"), N_("level.percentile.dangerous"),
    # built as f"level.{scheme}.{level}" in dashboard/components.py, dashboard/views/station.py
    N_("level.return_period.adverse"), N_("level.return_period.dangerous"),
    # built as f"level.{scheme}.{level}" in dashboard/components.py, dashboard/views/station.py
    N_("level.ru_nya_oya.adverse"), N_("level.ru_nya_oya.dangerous"),
    N_("level.ru_nya_oya.low_water_dangerous"),
    # built as "map.country.{...}" in dashboard/views/stations.py
    N_("map.country.KZ"), N_("map.country.RU"),
    # built as "marker.{...}" in dashboard/components.py, dashboard/views/station.py
    N_("marker.conflicting"), N_("marker.published"), N_("marker.synthetic"),
    # built as "nav.{...}" in dashboard/app.py
    N_("nav.bulletin"), N_("nav.commission"), N_("nav.data_status"), N_("nav.quality"),
    N_("nav.upload"),
    # built as "party.{...}" in dashboard/components.py, dashboard/views/data_status.py,
    #   dashboard/views/station.py, dashboard/views/stations.py
    N_("party.KZ"), N_("party.RU"),
    # built as "phen.{...}" in dashboard/components.py
    N_("phen.frazil"), N_("phen.ice_cover"), N_("phen.ice_drift"), N_("phen.ice_jam"),
    N_("phen.ice_on_bank"), N_("phen.open_water"), N_("phen.shore_ice"),
    # built as "qc.{...}" in dashboard/components.py, dashboard/views/station.py,
    #   dashboard/views/stations.py
    N_("qc.CENSORED"), N_("qc.DUPLICATE_CONFLICT"), N_("qc.FLAT"), N_("qc.GAP"),
    N_("qc.PARTY_DISAGREE"), N_("qc.RANGE"), N_("qc.RATING"), N_("qc.SPIKE"),
    # built as "quality.edition.{...}" in dashboard/views/quality.py
    N_("quality.edition.kz2016"), N_("quality.edition.kz2025"),
    # built as "quality.mark.{...}" in dashboard/views/quality.py
    N_("quality.mark.no_ukizv"), N_("quality.mark.tables"),
    # built as "quality.trend.{...}" in dashboard/views/quality.py
    N_("quality.trend.decreasing"), N_("quality.trend.increasing"),
    # built as "quality.unit.{...}" in dashboard/views/quality.py
    N_("quality.unit.mg/l"), N_("quality.unit.mgO/l"), N_("quality.unit.mgO2/l"),
    N_("quality.unit.pH"),
    # keys named in a tuple or dict of keys in dashboard/views/station.py
    N_("res.inflow"), N_("res.m3s"), N_("res.release"), N_("res.spill"),
    # built as "reservoir.status.{...}" in dashboard/components.py
    N_("reservoir.status.adverse"), N_("reservoir.status.dangerous"),
    # built as "river.{...}" in dashboard/components.py
    N_("river.Ilek"), N_("river.Irtysh"), N_("river.Ishim"), N_("river.Kara Irtysh"),
    N_("river.Or"), N_("river.Sakmara"), N_("river.Shagan"), N_("river.Tobol"), N_("river.Ural"),
    # built as "setby.{...}" in dashboard/components.py
    N_("setby.Kazhydromet (North Kazakhstan branch)"),
    N_("setby.Kazhydromet (West Kazakhstan branch)"), N_("setby.Roshydromet (Ob-Irtysh UGMS)"),
    N_("setby.Roshydromet (Ob-Irtysh UGMS) / Tyumen oblast"),
    N_("setby.Roshydromet (Orenburg CGMS)"), N_("setby.Roshydromet (Ural UGMS)"),
    N_("setby.hydrorisk project (estimate)"),
    # built as "station.{...}" in dashboard/views/station.py
    N_("station.discharge"), N_("station.inflow"), N_("station.outflow"), N_("station.stage"),
    N_("station.title"),
    # built as "station.kind.{...}" in dashboard/views/station.py
    N_("station.kind.gauge"), N_("station.kind.reservoir"),
    # built as "status.{...}" in dashboard/components.py, dashboard/views/alerts_panel.py
    N_("status.adverse"), N_("status.dangerous"), N_("status.low_water_dangerous"),
    N_("status.no_data"), N_("status.normal"), N_("status.not_assessed"),
    # keys named in a tuple or dict of keys in dashboard/views/station.py
    N_("sv.col.forecast"), N_("sv.col.interval"), N_("sv.col.issue"), N_("sv.col.party"),
    N_("sv.col.qc"), N_("sv.col.received"), N_("sv.col.revision"), N_("sv.col.skill"),
    N_("sv.col.source"), N_("sv.col.target"), N_("sv.col.time"), N_("sv.col.value"),
    N_("sv.col.variable"),
    # built as "sv.forecast.{...}" in dashboard/views/station.py
    N_("sv.forecast.climatology"), N_("sv.forecast.persistence"), N_("sv.forecast.process"),
    N_("sv.forecast.sarimax"),
    # built as "sv.hydrosos.{...}" in dashboard/views/station.py
    N_("sv.hydrosos.above_normal"), N_("sv.hydrosos.below_normal"), N_("sv.hydrosos.high"),
    N_("sv.hydrosos.low"), N_("sv.hydrosos.normal"),
    # built as "sv.outlook.{...}" in dashboard/views/station.py
    N_("sv.outlook.flood_volume"), N_("sv.outlook.peak_discharge"), N_("sv.outlook.peak_stage"),
    # built as "sv.scheme.{...}" in dashboard/views/station.py
    N_("sv.scheme.kz_dangerous"), N_("sv.scheme.local_impact"), N_("sv.scheme.percentile"),
    N_("sv.scheme.return_period"), N_("sv.scheme.ru_nya_oya"),
    # built as "sv.source.{...}" in dashboard/views/station.py
    N_("sv.source.grdc"), N_("sv.source.kazhydromet"), N_("sv.source.kazhydromet-kk"),
    N_("sv.source.reservoir"), N_("sv.source.reservoirs"), N_("sv.source.roshydromet"),
    # built as "sv.span.{...}" in dashboard/views/station.py
    N_("sv.span.120"), N_("sv.span.1825"), N_("sv.span.365"), N_("sv.span.all"),
    # built as "sv.var.{...}" in dashboard/views/station.py
    N_("sv.var.discharge"), N_("sv.var.stage"),
    # keys named in a tuple or dict of keys in dashboard/timequery.py
    N_("time.asof_invalid"), N_("time.asof_shown"), N_("time.data_old"), N_("time.drop_asof"),
    N_("time.outside"),
    # keys named in a tuple or dict of keys in dashboard/provider.py, dashboard/views/upload.py
    N_("upload.empty"), N_("upload.encoding"), N_("upload.loaded"), N_("upload.no_store"),
    N_("upload.not_netcdf"), N_("upload.not_text"), N_("upload.other_party"),
    N_("upload.too_big"), N_("upload.type"), N_("upload.unchanged"), N_("upload.unknown_source"),
    # account roles and parties, read through dashboard.auth.ROLE_NAMES and PARTY_NAMES
    N_("account.role.viewer"), N_("account.role.operator"), N_("account.role.forecaster"),
    N_("account.role.admin"), N_("account.party.KZ"), N_("account.party.RU"),
    N_("account.party.commission"),
    # built as text("audit.col." + column) in dashboard/auth.py (hydro.services.audit.COLUMNS)
    N_("auth.audit.col.id"), N_("auth.audit.col.at"), N_("auth.audit.col.action"),
    N_("auth.audit.col.user_name"), N_("auth.audit.col.address"), N_("auth.audit.col.target"),
    N_("auth.audit.col.detail"),
    # keys of hydro.messages.Coded notes of hydro/services/scenario_runs.py (compare and
    #   results notes, run_error), said by dashboard.reasons.coded_text
    N_("sc.note.drawdown_no_warmup"), N_("sc.note.drawdown_failed"),
    N_("sc.note.different_scenarios"), N_("sc.note.not_paired"),
    N_("sc.note.different_forcing"), N_("sc.run_error.cancelled_chunks"),
    N_("sc.run_error.cancelled_by"), N_("sc.run_error.failed"),
)
