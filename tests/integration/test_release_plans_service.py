"""The release-plan service (hydro.services.release_plans) on the bundled (SYNTHETIC)
scenarios and a fresh store: plans as tables, checks, saved versions with their audit
record, uploads, and a saved plan run through the ensemble engine."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import inspect

from hydro.errors import IngestError
from hydro.release_plans import ReservoirSchedule, ScheduleRow
from hydro.services import audit
from hydro.services import release_plans as P

SC = "ural-2024-style"
IRIK = "RU:IRIKLINSK"


def _irik(*rows: tuple[str, float]) -> ReservoirSchedule:
    return ReservoirSchedule(IRIK, tuple(ScheduleRow(dt.date.fromisoformat(d), release_m3s=v)
                                         for d, v in rows))


def test_schema_11_has_the_plans_table(store):
    from hydro.store.db import SCHEMA_VERSION, current_version

    assert current_version(store) == SCHEMA_VERSION >= 11
    assert "release_plans" in inspect(store).get_table_names()


def test_a_schema_10_store_is_upgraded_to_keep_plans(tmp_path, config):
    from sqlalchemy import text

    from hydro.store.db import current_version, make_engine, open_store

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    open_store(url, config.network).dispose()
    raw = make_engine(url)
    with raw.begin() as conn:
        conn.execute(text("DROP TABLE release_plans"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(10, '2026-01-01 00:00:00')"))
    raw.dispose()
    store = open_store(url, config.network)
    try:
        assert current_version(store) >= 11
        saved = P.save_plan(store, config, SC, "after-upgrade",
                            {IRIK: _irik(("2024-03-01", 15.0))}, author="t")
        assert P.get_plan(store, saved.id).version == 1
    finally:
        store.dispose()


def test_scenario_choices_name_reservoirs_and_plans(config):
    choices = {c.id: c for c in P.scenario_choices(config)}
    ural = choices[SC]
    assert ural.synthetic and ural.days == 120 and ural.start == dt.date(2024, 3, 1)
    assert ural.plan_names[0] == "default" and "early-prerelease" in ural.plans
    assert ural.reservoirs[IRIK]["ru"].startswith("Ириклинское")
    assert list(ural.reservoirs) == ["RU:VERKHNEURALSK", IRIK]          # upstream first
    assert ural.rules[IRIK][0] == "default" and ural.rules[IRIK][-1] == "pass_inflow"
    assert set(choices["tobol-2024-style"].reservoirs) == {"KZ:VERKHNETOBOLSK", "KZ:KARATOMAR"}


def test_plan_table_of_the_file(config):
    t = P.plan_table(config, SC, "early-prerelease")
    assert t["RU:VERKHNEURALSK"].rule == "default"       # not named by the plan
    assert [(r.date.isoformat(), r.value) for r in t[IRIK].rows] == [
        ("2024-03-01", 15.0), ("2024-03-12", 1000.0), ("2024-03-28", 1100.0),
        ("2024-04-20", 100.0)]
    assert P.plan_table(config, SC)[IRIK].rule == "default"
    lv = P.plan_table(config, "tobol-2024-style", "deep-drawdown")["KZ:KARATOMAR"]
    assert lv.kind == "target_level" and lv.rows[0].target_level_m == 180.0
    with pytest.raises(P.PlanError, match="unknown plan 'nope'"):
        P.plan_table(config, SC, "nope")


def test_checks_use_the_control_member(config):
    """The documented early pre-release asks 1100 m³/s through the flood; in the control
    season the reservoir is drawn down so far by then that its outlets cannot pass it,
    and the jumps from 15 to 1000 m³/s are ramp-limited (213 m³/s a day)."""
    t = P.plan_table(config, SC, "early-prerelease")
    issues = P.check(config, SC, {IRIK: t[IRIK]})
    kinds = {(i.kind, i.date.isoformat()) for i in issues[IRIK]}
    assert ("ramp", "2024-03-12") in kinds
    assert any(k == "outlet_capacity" for k, _ in kinds)
    ok = P.check(config, SC, {IRIK: _irik(("2024-03-01", 15.0), ("2024-03-10", 201.0),
                                          ("2024-04-01", 15.0))})
    assert all(i.kind not in ("outlet_capacity", "ramp") for i in ok[IRIK])
    with pytest.raises(P.PlanError, match="not a reservoir of scenario"):
        P.check(config, SC, {"KZ:KARATOMAR": t[IRIK]})


def test_save_twice_gives_two_versions_and_audit_records(config, store):
    a = _irik(("2024-03-01", 15.0), ("2024-03-10", 201.0))
    b = _irik(("2024-03-01", 15.0), ("2024-03-10", 400.0))
    v1 = P.save_plan(store, config, SC, "march-201", {IRIK: a}, author="forecaster1",
                     note="2025 practice")
    v2 = P.save_plan(store, config, SC, "march-201", {IRIK: b}, author="forecaster2",
                     note="more", party="KZ")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.id == v2.id == f"{SC}/march-201" and v2.ref == f"{SC}/march-201@2"
    first = P.get_plan(store, v1.ref)
    assert first.schedules[IRIK] == a and first.author == "forecaster1"
    assert first.note == "2025 practice" and first.party is None
    latest = P.get_plan(store, v1.id)
    assert latest.version == 2 and latest.schedules[IRIK] == b and latest.party == "KZ"
    assert P.get_plan(store, v1.id, version=1).schedules[IRIK] == a
    assert [p.ref for p in P.list_plans(store, SC)] == [v1.ref, v2.ref]
    assert [p.ref for p in P.list_plans(store, latest_only=True)] == [v2.ref]
    rows = [r for r in audit.events(store) if r["action"] == "plan_save"]
    assert [(r["user_name"], r["target"]) for r in rows] == [
        ("forecaster2", v2.ref), ("forecaster1", v1.ref)]
    assert P.plan_table(config, SC, v1.ref, store=store)[IRIK] == a
    assert P.plan_table(config, SC, v1.ref, store=store)["RU:VERKHNEURALSK"].rule == "default"
    with pytest.raises(P.PlanError, match="no version 3"):
        P.get_plan(store, f"{v1.id}@3")


def test_save_refuses_what_it_cannot_keep(config, store):
    a = _irik(("2024-03-01", 15.0))
    with pytest.raises(P.PlanError, match="plan name"):
        P.save_plan(store, config, SC, "My Plan", {IRIK: a}, author="x")
    with pytest.raises(P.PlanError, match="plan of the scenario file"):
        P.save_plan(store, config, SC, "default", {IRIK: a}, author="x")
    with pytest.raises(P.PlanError, match="not a reservoir"):
        P.save_plan(store, config, SC, "p", {"KZ:KARATOMAR": a}, author="x")
    with pytest.raises(P.PlanError, match="author"):
        P.save_plan(store, config, SC, "p", {IRIK: a}, author=" ")
    with pytest.raises(P.PlanError, match="unknown rule"):
        P.save_plan(store, config, SC, "p", {IRIK: ReservoirSchedule(IRIK, rule="x")},
                    author="x")
    assert P.list_plans(store) == []
    assert not [r for r in audit.events(store) if r["action"] == "plan_save"]


def test_uploads_are_csv_only(config):
    rows = P.parse_upload("date;release (m³/s)\n2024-03-01;15\n2024-03-10;201,5\n"
                          .encode("utf-8-sig"), "../../etc/план.csv")
    assert [r.value for r in rows] == [15.0, 201.5]
    with pytest.raises(IngestError, match="spreadsheet workbook"):
        P.parse_upload(b"PK\x03\x04rest", "plan.xlsx")
    with pytest.raises(IngestError, match="only CSV"):
        P.parse_upload(b"date,release_m3s\n2024-03-01,1\n", "plan.exe")
    with pytest.raises(IngestError, match="bytes"):
        P.parse_upload(b"x" * (P.MAX_UPLOAD_BYTES + 1), "plan.csv")
    with pytest.raises(IngestError) as e:
        P.parse_upload(b"date,release_m3s\n2024-03-01,-5\n", "C:\\Users\\me\\bad.csv")
    assert str(e.value).startswith("bad.csv, line 2, column 'release_m3s'")
    with pytest.raises(IngestError, match="unit"):
        P.parse_upload(b"date,release\n2024-03-01,5\n", "bad.csv")


def test_saved_plan_runs_through_the_engine(config, store):
    """A saved plan of 300 m³/s at Iriklinsk from 1 March runs through run_ensemble: the
    release is 300 m³/s wherever the reservoir's physics allow it."""
    from hydro.services import scenarios as S

    saved = P.save_plan(store, config, SC, "steady-300", {IRIK: _irik(("2024-03-01", 300.0))},
                        author="t")
    plan = P.plan_for_engine(config, store, SC, saved.ref)
    assert plan.reservoirs[IRIK].kind == "daily_release"
    assert plan.reservoirs["RU:VERKHNEURALSK"].kind == "flood_control"   # default's
    assert "steady-300@1" in plan.description
    ctx = S.context(config, SC)
    sc = P.scenario_with_plan(ctx.scenario, saved.ref, plan)
    ds = S.run_ensemble(config.network, sc, ctx.climatology, saved.ref, members=3)
    rel = ds["release"].sel(reservoir=IRIK).values
    flags = ds["deviation_flags"].sel(reservoir=IRIK).values
    assert ds.attrs["plan"] == saved.ref and ds.sizes["member"] == 3
    assert (flags == 0).any()
    np.testing.assert_allclose(rel[flags == 0], 300.0)
    assert P.plan_for_engine(config, store, SC, "early-prerelease").reservoirs[IRIK].kind == \
        "prerelease"
    with pytest.raises(P.PlanError, match="store is needed"):
        P.plan_for_engine(config, None, SC, saved.ref)
