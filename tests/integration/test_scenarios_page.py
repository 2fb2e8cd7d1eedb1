"""The scenario lab page (/scenarios, issue 14) on the bundled SYNTHETIC Ural 2024-style
scenario: the page and its start state, the schedule editor's live checks and its CSV
upload (a bad file named by line and column), plans saved as versions with a shareable
link, the roles (a viewer's direct POST to the save and run callbacks is refused), a kept
20-member run reopened with its results, two plans compared, and the downloads."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from auth_support import client_for

from dashboard.context import of_app
from dashboard.views import scenarios as view
from dashboard.views.scenarios import ScenariosPage as S

SCENARIO = "ural-2024-style"
IRIKLINSK = "RU:IRIKLINSK"


def _state(cfg, lang: str = "en", plan: str = "default") -> dict:
    """The page's state store as render() writes it."""
    from hydro.services import release_plans as P

    base = view.schedules_to_json(P.plan_table(cfg, SCENARIO, plan))
    return {"lang": lang, "scenario": SCENARIO, "plan": plan, "base": base,
            "start": "2024-03-01", "days": 120}


def _payload(output: str, inputs: list[dict], state: list[dict] | None = None) -> dict:
    ids = output.strip(".").split("...")
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in ids]
    return {"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
            "state": state or []}


# --------------------------------------------------------------------------- the page

def test_page_renders_scenario_start_state_and_editor(scenario_lab):
    app, cfg, store = scenario_lab
    client = client_for(app, store, "viewer")
    assert client.get("/scenarios?lang=ru").status_code == 200
    page = str(view.render(of_app(app), "ru", SCENARIO))
    assert "СИНТЕТИЧЕСКИЕ" in page                             # synthetic scenario: banner
    assert "Урал: половодье по типу 2024 года" in page
    assert "запас воды в снеге" in page and "0,05" in page      # 95th percentile: P = 0.05
    assert "Ириклинское" in page or "Iriklinsk" in page
    # all three at once if independent: 0.05 · 0.03 · 0.03 = 4.5e-5, one season in 22 222
    assert "0,000045" in page and "22\\xa0222" in page
    # the default plan of Iriklinsk is a flood-control rule (a rule, not a table)
    assert "'value': 'default'" in page or "value='default'" in page
    # a shareable plan link opens that plan; an unknown plan says so and shows default
    unknown = str(view.render(of_app(app), "en", SCENARIO, "ural-2024-style/nope"))
    assert "cannot be opened" in unknown


def test_every_lab_callback_is_declared(scenario_lab):
    from dashboard import auth

    app = scenario_lab[0]
    mine = [k for k in app.callback_map if "scenarios-" in k]
    assert len(mine) >= 10
    roles = {k: auth.callback_role(app, k) for k in mine}
    assert None not in roles.values(), roles
    for key in ("scenarios-save-message.children", "scenarios-run-done.data",
                "scenarios-cancel-message.children", "scenarios-search-result.children"):
        assert roles[key] == "forecaster"
    assert roles["..scenarios-run-id.data...scenarios-run-message.children.."] == "forecaster"
    # the run executes as a Dash background callback on the diskcache job manager
    bg = app.callback_map["scenarios-run-done.data"]["background"]
    assert type(bg["manager"]).__name__ == "DiskcacheManager" and bg["progress"]


def test_a_viewer_cannot_save_or_run_by_posting_to_the_callbacks(scenario_lab):
    from hydro.services import audit
    from hydro.services import release_plans as P

    app, cfg, store = scenario_lab
    client = client_for(app, store, "viewer")
    save = _payload("scenarios-save-message.children",
                    [{"id": S.SAVE, "property": "n_clicks", "value": 1}],
                    [{"id": S.PLAN_NAME, "property": "value", "value": "sneaky"},
                     {"id": S.PLAN_NOTE, "property": "value", "value": ""},
                     {"id": S.SCHEDULES, "property": "data", "value": {}},
                     {"id": S.STATE, "property": "data", "value": _state(cfg)}])
    resp = client.post("/_dash-update-component", json=save)
    assert resp.status_code == 403 and "forecaster" in resp.get_data(True)
    run = _payload("..scenarios-run-id.data...scenarios-run-message.children..",
                   [{"id": S.RUN, "property": "n_clicks", "value": 1},
                    {"id": S.QUICK, "property": "n_clicks", "value": None}])
    assert client.post("/_dash-update-component", json=run).status_code == 403
    execute = _payload("scenarios-run-done.data",
                       [{"id": S.RUN_ID, "property": "data", "value": "any"}])
    assert client.post("/_dash-update-component", json=execute).status_code == 403
    assert not [p for p in P.list_plans(store, SCENARIO) if p.name == "sneaky"]
    assert any(e["action"] == "forbidden" for e in audit.events(store, limit=20))


def test_a_forecaster_saves_versions_with_a_shareable_link(scenario_lab):
    from hydro.release_plans import ScheduleRow
    from hydro.services import release_plans as P

    app, cfg, store = scenario_lab
    client = client_for(app, store, "forecaster", "RU")
    rows = {IRIKLINSK: {"rule": None, "rows": [
        {"date": "2024-03-01", "release_m3s": 15.0},
        {"date": "2024-03-10", "release_m3s": 201.0},
        {"date": "2024-04-01", "release_m3s": 15.0}]}}
    for expected in (1, 2):
        save = _payload("scenarios-save-message.children",
                        [{"id": S.SAVE, "property": "n_clicks", "value": expected}],
                        [{"id": S.PLAN_NAME, "property": "value", "value": "drawdown-201"},
                         {"id": S.PLAN_NOTE, "property": "value", "value": "2025 practice"},
                         {"id": S.SCHEDULES, "property": "data", "value": rows},
                         {"id": S.STATE, "property": "data", "value": _state(cfg)}])
        resp = client.post("/_dash-update-component", json=save)
        assert resp.status_code == 200, resp.get_data(True)[:500]
        body = json.dumps(resp.get_json(), ensure_ascii=False)
        assert f"/scenarios?lang=en&plan=ural-2024-style/drawdown-201&version={expected}" in body
    saved = P.get_plan(store, "ural-2024-style/drawdown-201", 1)
    assert saved.author == "test-forecaster-ru" and saved.party == "RU"
    assert saved.schedules[IRIKLINSK].rows[1] == ScheduleRow(dt.date(2024, 3, 10),
                                                              release_m3s=201.0)
    assert P.get_plan(store, "ural-2024-style/drawdown-201").version == 2
    # the link opens that version of the plan, as a table in the editor
    page = str(view.render(of_app(app), "en", None, "ural-2024-style/drawdown-201", "1"))
    assert "2024-03-10" in page and "201.0" in page


# --------------------------------------------------------------------------- the editor

def test_editing_a_release_above_the_outlet_capacity_is_flagged_beside_the_table(scenario_lab):
    app, cfg, store = scenario_lab
    state = _state(cfg, "ru")
    # switch Iriklinsk to a release table, then ask for 5 000 m³/s from 20 March
    out = view.edit_schedules(cfg, state, S.MODE, IRIKLINSK, "release", None, [], [], None,
                              None, state["base"])
    assert out["rows"] == [{"date": "2024-03-01", "value": 15.0}]       # the minimum release
    rows = out["rows"] + [{"date": "2024-03-20", "value": "5000"}]
    out = view.edit_schedules(cfg, state, S.GRID, IRIKLINSK, "release", None, rows, [], None,
                              None, out["data"])
    text = str(out["checks"])
    assert "check-outlet_capacity" in text and "20.03.2024" in text
    assert "пропускной способности" in text                          # in Russian
    assert out["dirty"] is True
    # a negative release in the grid is refused, naming the row
    bad = out["rows"] + [{"date": "2024-04-01", "value": -5}]
    err = view.edit_schedules(cfg, state, S.GRID, IRIKLINSK, "release", None, bad, [], None,
                              None, out["data"])
    assert "Строка 3" in str(err["message"]) and "отрицательным" in str(err["message"])
    assert err["data"] is dash_no_update()


def dash_no_update():
    from dash import no_update

    return no_update


@pytest.mark.parametrize("content, line, column, reason", [
    (b"date,release\n2024-03-10,201\n", 1, "release", "does not name its unit"),
    (b"date,release_m3s\n2024-03-10,201\n2024-03-11,-5\n", 3, "release_m3s", "negative"),
    (b"date;release_m3s\n2024-03-10;201\n10.03.2024x;12,5\n", 3, "date", "not a date"),
])
def test_a_bad_csv_gets_a_message_naming_line_and_column(scenario_lab, content, line, column, reason):
    app, cfg, store = scenario_lab
    state = _state(cfg, "en")
    upload = "data:text/csv;base64," + base64.b64encode(content).decode()
    out = view.edit_schedules(cfg, state, S.UPLOAD, IRIKLINSK, "rule", None, [], [], upload,
                              "plan.csv", state["base"])
    msg = str(out["message"])
    assert "scenarios-upload-error" in msg
    assert f"line {line}" in msg and f"column «{column}»" in msg and reason in msg
    assert out["data"] is dash_no_update()          # the schedules are left as they were


def test_a_good_csv_with_decimal_commas_replaces_the_table(scenario_lab):
    app, cfg, store = scenario_lab
    state = _state(cfg, "kk")
    text = "date;release (m³/s)\n2024-03-10;201,0\n2024-04-01;15\n".encode()
    upload = "data:text/csv;base64," + base64.b64encode(text).decode()
    out = view.edit_schedules(cfg, state, S.UPLOAD, IRIKLINSK, "rule", None, [], [], upload,
                              "ирикла.csv", state["base"])
    assert "scenarios-upload-ok" in str(out["message"])
    assert out["rows"] == [{"date": "2024-03-10", "value": 201.0},
                           {"date": "2024-04-01", "value": 15.0}]
    assert out["mode"] == "release"
    # downloaded again, it is the same table
    from hydro.services import release_plans as P

    schedule = view.schedules_from_json(out["data"])[IRIKLINSK]
    assert P.parse_upload(P.export_csv(schedule).encode(), "x.csv") == list(schedule.rows)


# --------------------------------------------------------------------------- runs

@pytest.fixture(scope="module")
def two_runs(scenario_lab):
    """Two kept 20-member runs of the same seed: the default plan and a saved plan with
    Iriklinsk's 2025 practice (201 m³/s from 10 to 31 March)."""
    from hydro.release_plans import ReservoirSchedule, ScheduleRow
    from hydro.services import release_plans as P
    from hydro.services import scenario_runs as R

    app, cfg, store = scenario_lab
    plan = P.save_plan(store, cfg, SCENARIO, "practice-2025", {IRIKLINSK: ReservoirSchedule(
        IRIKLINSK, (ScheduleRow(dt.date(2024, 3, 1), release_m3s=15.0),
                    ScheduleRow(dt.date(2024, 3, 10), release_m3s=201.0),
                    ScheduleRow(dt.date(2024, 4, 1), release_m3s=15.0)))}, "tester", "")
    out = []
    for ref in ("default", plan.ref):
        run = R.start_run(cfg, store, SCENARIO, ref, 20, author="tester")
        out.append(R.execute_run(cfg, store, run.run_id))
    assert [r.status for r in out] == ["done", "done"]
    return out


@pytest.mark.slow
def test_a_kept_run_reopens_with_its_results(scenario_lab, two_runs):
    app, cfg, store = scenario_lab
    run = two_runs[0]
    out = view.runs_view(of_app(app), _state(cfg, "ru"), run.run_id)
    assert out["poll_disabled"] is True and out["value"] == run.run_id
    assert run.run_id in [o["value"] for o in out["options"]]
    page = str(out["results"])
    for part in ("scenarios-fan", "scenarios-exceedance", "scenarios-storage-table",
                 "scenarios-travel", "scenarios-holdout", "scenarios-drawdown",
                 "scenarios-download-pdf"):
        assert part in page, part
    assert "нет уровня НЯ" in page          # a Kazakh gauge without an adverse level: blank
    assert "СИНТЕТИЧЕСКИЕ" in page
    # the fan chart has the members, the 10–90 % band, the median and the levels
    results = view._runs().run_results(cfg, store, run.run_id)
    fig = view.fan_figure(results, results.gauges[0], "en")
    names = {tr.name for tr in fig.data}
    assert {"members", "10–90 %", "median"} <= names
    assert len(fig.layout.shapes) == len(results.levels[results.gauges[0]])
    # the URL ?run= reopens it after a reload
    page = str(view.render(of_app(app), "en", SCENARIO, run=run.run_id))
    assert f"'value': '{run.run_id}'" in page or f"value='{run.run_id}'" in page


@pytest.mark.slow
def test_two_plans_compared_and_downloads(scenario_lab, two_runs):
    app, cfg, store = scenario_lab
    a, b = two_runs
    table = view._runs().compare_runs(cfg, store, a.run_id, b.run_id)
    page = str(view.compare_view(table, "en"))
    assert "Paired comparison" in page and "scenarios-compare-gauges" in page
    assert "Orenburg" in page and "(KZ:" in page                # both sides of the border
    client = client_for(app, store, "viewer")                      # viewing needs no role
    csv = client.get(f"/download/scenario-run/{a.run_id}.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "\n=" not in csv.get_data(True) and "\n+" not in csv.get_data(True)
    pdf = client.get(f"/download/scenario-run/{b.run_id}.pdf?lang=ru")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    nc = client.get(f"/download/scenario-run/{a.run_id}.nc")
    assert nc.status_code == 200 and nc.data[:3] in (b"CDF", b"\x89HD")
    assert client.get("/download/scenario-run/nope.csv").status_code == 404
    # logged out, nothing
    assert app.server.test_client().get(f"/download/scenario-run/{a.run_id}.csv"
                                        ).status_code in (302, 401)


@pytest.mark.slow
def test_the_search_states_its_objective_in_words_and_units(scenario_lab):
    app, cfg, store = scenario_lab
    out = view._runs().search_plain(cfg, store, SCENARIO, members=10, maxiter=2)
    page = str(view.search_view(cfg, SCENARIO, out, "en"))
    # the objective's weights as ObjectiveWeights gives them, with their units
    assert "1 points per metre of peak above the dangerous level" in page
    assert "0.01 per day at or above the adverse level" in page
    assert "hm³" in page and "lower is better" in page
    # each scored gauge's weight, Kazakh and Russian gauges alike
    assert "(RU:ORENBURG)" in page and "(KZ:19071)" in page
    assert "scenarios-search-best" in page and "RU:IRIKLINSK" in page


def test_a_cancelled_run_reopens_as_cancelled(scenario_lab):
    from hydro.services import scenario_runs as R

    app, cfg, store = scenario_lab
    run = R.start_run(cfg, store, SCENARIO, "default", 20, author="tester")
    R.request_cancel(store, run.run_id, "tester")           # what the Cancel button calls
    out = view.runs_view(of_app(app), _state(cfg, "kk"), run.run_id)
    assert "тоқтатылды" in str(out["results"]) and out["poll_disabled"] is True
    assert "scenarios-fan" not in str(out["results"])
