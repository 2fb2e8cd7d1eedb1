"""Message ids of hydro that are built at run time, marked with ``N_()`` for extraction.

``python scripts/i18n.py extract`` finds keys only where they are written as a literal in a
call of ``t``, ``N_`` or a module's own helper (``text("title", lang)`` in the bulletin,
see ``LOCAL_PREFIXES`` in scripts/i18n.py).  Keys that code puts together at run time
(``text(f"kind.{k}", lang)``) or names in a tuple of keys are listed here, grouped by where
they are used, so that extraction sees them and ``scripts/i18n.py check`` can tell a used
key from a dead one.  Add a key here when you add a string that is built at run time.
Nothing imports this module at run time.
"""

from __future__ import annotations

from hydro.services.i18n import N_

#: every key below, for extraction (see the module docstring)
KEYS: tuple[str, ...] = (
    # column headers, named in tuples of keys passed to text() in hydro/services/bulletin_output.py
    #   (CSV_COLUMNS, the HTML/PDF tables)
    N_("bulletin.col.adverse"), N_("bulletin.col.basin"), N_("bulletin.col.change"),
    N_("bulletin.col.code"), N_("bulletin.col.dangerous"), N_("bulletin.col.discharge"),
    N_("bulletin.col.fpu"), N_("bulletin.col.free"), N_("bulletin.col.ice"),
    N_("bulletin.col.inflow"), N_("bulletin.col.kind"), N_("bulletin.col.level"),
    N_("bulletin.col.npu"), N_("bulletin.col.outflow"), N_("bulletin.col.party"),
    N_("bulletin.col.post"), N_("bulletin.col.release"), N_("bulletin.col.remaining"),
    N_("bulletin.col.remaining_adverse"), N_("bulletin.col.reservoir"), N_("bulletin.col.river"),
    N_("bulletin.col.spill"), N_("bulletin.col.stage"), N_("bulletin.col.time"),
    N_("bulletin.col.to_npu"), N_("bulletin.col.volume"),
    # built as f"kind.{kind}" in hydro/services/bulletin_output.py
    N_("bulletin.kind.gauge"), N_("bulletin.kind.reservoir"),
    # built as f"party.{code}" in hydro/services/bulletin_output.py
    N_("bulletin.party.KZ"), N_("bulletin.party.RU"),
    # group headings, text("basin"|"river", lang, name=...) in hydro/services/bulletin_output.py
    N_("bulletin.basin"), N_("bulletin.river"),
    # column headers, named in tuples of keys passed to text() in hydro/services/commission.py
    #   and dashboard/views/commission.py
    N_("commission.party.KZ"), N_("commission.party.RU"),
    N_("commission.col.ack"), N_("commission.col.days"), N_("commission.col.delivered_by"),
    N_("commission.col.exceed"), N_("commission.col.file"), N_("commission.col.flagged"),
    N_("commission.col.from"), N_("commission.col.gauge"), N_("commission.col.kz"),
    N_("commission.col.marks"), N_("commission.col.maxdiff"), N_("commission.col.meandiff"),
    N_("commission.col.norm"), N_("commission.col.p"), N_("commission.col.party"),
    N_("commission.col.pct"), N_("commission.col.period"), N_("commission.col.received"),
    N_("commission.col.rows"), N_("commission.col.ru"), N_("commission.col.run"),
    N_("commission.col.samples"), N_("commission.col.share"), N_("commission.col.site"),
    N_("commission.col.slope"), N_("commission.col.source"), N_("commission.col.to"),
    N_("commission.col.trend"), N_("commission.col.variable"), N_("commission.col.volume"),
    N_("commission.col.year"),
    # built as 'mark.' + code in hydro/services/commission.py, dashboard/views/commission.py
    N_("commission.mark.bounded"), N_("commission.mark.few_samples"),
    N_("commission.mark.incomplete"), N_("commission.mark.kz_missing"),
    N_("commission.mark.no_ukizv"), N_("commission.mark.tables"),
    # built as 'period.' + period in hydro/services/commission.py
    N_("commission.period.month"), N_("commission.period.season"),
    N_("commission.period.water_year"),
    # built as f"season.{group}" in hydro/services/commission.py
    N_("commission.season.spring_flood"), N_("commission.season.summer_autumn"),
    N_("commission.season.winter"),
    # built as 'trend.' + trend in hydro/services/commission.py, dashboard/views/commission.py
    N_("commission.trend.decreasing"), N_("commission.trend.increasing"),
    N_("commission.trend.no trend"), N_("commission.trend.none"),
    # built as 'var.' + variable in hydro/services/commission.py, dashboard/views/commission.py
    N_("commission.var.discharge"), N_("commission.var.stage"),
    # the subtitle, text("subtitle", lang, month=...) in hydro/services/commission.py
    N_("commission.subtitle"),
    # ice phenomena, read through bulletin_output.PHENOMENA = i18n.section("ice")
    N_("ice.frazil"), N_("ice.ice_cover"), N_("ice.ice_drift"), N_("ice.ice_jam"),
    N_("ice.ice_on_bank"), N_("ice.open_water"), N_("ice.shore_ice"),
    # built as f"event.{kind}" in hydro/services/notification_text.py, hydro/cli/alerts.py
    N_("notification.event.acknowledged"), N_("notification.event.closed"),
    N_("notification.event.deescalated"), N_("notification.event.escalated"),
    N_("notification.event.opened"), N_("notification.event.updated"),
    # built as f"severity.{severity}" in hydro/services/notification_text.py
    N_("notification.severity.adverse"), N_("notification.severity.dangerous"),
    N_("notification.severity.info"), N_("notification.severity.low_water_dangerous"),
    # built as f"standing.{code}" in hydro/services/notification_text.py
    N_("notification.standing.ice_affected"), N_("notification.standing.provisional"),
    N_("notification.standing.qc_flagged"), N_("notification.standing.single_party"),
    # river names, read through bulletin_output.RIVERS = i18n.section("river")
    N_("river.Ilek"), N_("river.Irtysh"), N_("river.Ishim"), N_("river.Kara Irtysh"),
    N_("river.Or"), N_("river.Sakmara"), N_("river.Shagan"), N_("river.Tobol"), N_("river.Ural"),
    # units, read through notification_text.UNITS = i18n.section("unit")
    N_("unit.%"), N_("unit.cm"), N_("unit.cm/d"), N_("unit.d"), N_("unit.h"), N_("unit.hm3"),
    N_("unit.km3"), N_("unit.m"), N_("unit.m3/s"), N_("unit.mg/l"),
    # HydroSOS classes, built as f"hydrosos.{code}" in hydro/services/labels.py
    N_("hydrosos.low"), N_("hydrosos.below_normal"), N_("hydrosos.normal"),
    N_("hydrosos.above_normal"), N_("hydrosos.high"),
    # marks of a water-quality result, named in a tuple of keys in
    #   hydro.services.labels._with_marker
    N_("quality.provisional"), N_("quality.incomplete"),
    # reasons a release was not honoured, built as f"reservoir.reason.{name}" in
    #   hydro/services/labels.py (reason_text, REASON_TEXT)
    N_("reservoir.reason.OUTLET_CAPACITY"), N_("reservoir.reason.MIN_RELEASE"),
    N_("reservoir.reason.RAMP"), N_("reservoir.reason.DEAD_STORAGE"),
    N_("reservoir.reason.FORCED_SPILL"),
    # built as f'change.{change}' in hydro/cli/alerts.py
    N_("cli.alerts.change.closed"), N_("cli.alerts.change.deescalated"),
    N_("cli.alerts.change.escalated"), N_("cli.alerts.change.opened"),
    N_("cli.alerts.change.updated"),
    # field labels named in (key, value) pairs in hydro/cli/alerts.py (alerts show)
    N_("cli.alerts.f.acknowledged"), N_("cli.alerts.f.basin"), N_("cli.alerts.f.closed"),
    N_("cli.alerts.f.data"), N_("cli.alerts.f.escalated"), N_("cli.alerts.f.known"),
    N_("cli.alerts.f.last"), N_("cli.alerts.f.note"), N_("cli.alerts.f.observed"),
    N_("cli.alerts.f.opened"), N_("cli.alerts.f.peak"), N_("cli.alerts.f.rule"),
    N_("cli.alerts.f.station"), N_("cli.alerts.f.threshold"), N_("cli.alerts.f.value"),
    # built as f"state.{state}" in hydro/cli/alerts.py
    N_("cli.alerts.state.acknowledged"), N_("cli.alerts.state.closed"),
    N_("cli.alerts.state.open"),
    # built as f'title.{which}' in hydro/cli/alerts.py
    N_("cli.alerts.title.acknowledged"), N_("cli.alerts.title.all"),
    N_("cli.alerts.title.closed"), N_("cli.alerts.title.open"),
    N_("cli.alerts.title.unacknowledged"),
    # units of a duration, chosen at run time in hydro/cli/alerts.py
    N_("cli.alerts.day"), N_("cli.alerts.days"),
    # warning levels, read through hydro.cli.alerts.LEVEL_WORDS
    N_("cli.level.adverse"), N_("cli.level.dangerous"), N_("cli.level.low_water_dangerous"),
    # read as QUALITY_TEXT[lang][key] in hydro/cli/reports.py (report quality)
    N_("cli.quality.alternative"), N_("cli.quality.background"), N_("cli.quality.bounded"),
    N_("cli.quality.col_exceed"), N_("cli.quality.col_kz2016"), N_("cli.quality.col_mean"),
    N_("cli.quality.col_parameter"), N_("cli.quality.col_score"), N_("cli.quality.col_unit"),
    N_("cli.quality.incomplete"), N_("cli.quality.indeterminate"), N_("cli.quality.kz"),
    N_("cli.quality.mg/l"), N_("cli.quality.mgO/l"), N_("cli.quality.mgO2/l"),
    N_("cli.quality.pH"), N_("cli.quality.provisional"), N_("cli.quality.synthetic"),
    N_("cli.quality.title"), N_("cli.quality.ukizv"), N_("cli.quality.unjudged"),
    # column headers, h(key) = text(f"h.{key}") in hydro/services/scenario_run_outputs.py
    N_("scenario_run.h.absorbed"), N_("scenario_run.h.change_cm"), N_("scenario_run.h.country"),
    N_("scenario_run.h.days"), N_("scenario_run.h.days90"), N_("scenario_run.h.end50"),
    N_("scenario_run.h.extra"), N_("scenario_run.h.flood_start"), N_("scenario_run.h.fpu"),
    N_("scenario_run.h.gauge"), N_("scenario_run.h.level"), N_("scenario_run.h.level_cm"),
    N_("scenario_run.h.level_start"), N_("scenario_run.h.maxlev"), N_("scenario_run.h.npu"),
    N_("scenario_run.h.npu_vol"), N_("scenario_run.h.p_fpu"), N_("scenario_run.h.peak_reg"),
    N_("scenario_run.h.peak_unreg"), N_("scenario_run.h.probability"), N_("scenario_run.h.q10"),
    N_("scenario_run.h.q50"), N_("scenario_run.h.q90"), N_("scenario_run.h.required"),
    N_("scenario_run.h.reservoir"), N_("scenario_run.h.spill"), N_("scenario_run.h.travel"),
    N_("scenario_run.h.verdict"),
    # built as f"level.{level}" and chosen as "yes"/"no" in hydro/services/scenario_run_outputs.py
    N_("scenario_run.level.adverse"), N_("scenario_run.level.dangerous"),
    N_("scenario_run.yes"), N_("scenario_run.no"),
)
