"""Every data table of the dashboard is a sortable, filterable grid with a CSV export of the
rows its filters leave (issue 13, item 10): dashboard.components.data_grid on the
data-status, commission, quality, station and scenario pages; one pattern-matching
callback serves every grid's export button, for a viewer too (it changes nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from test_commission import ural  # noqa: F401  (the module's store fixture)

from dashboard.components import DATA_GRID, DATA_GRID_EXPORT


@pytest.fixture
def app(ural, config):  # noqa: F811
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=ural, clock=lambda: dt.datetime(2019, 7, 2, 9)),
                     ural)


def _nodes(node, found: list[dict]) -> list[dict]:
    """Every component (as JSON) of a rendered layout."""
    if isinstance(node, list):
        for x in node:
            _nodes(x, found)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            found.append(node)
        for v in (node.get("props", node)).values():
            _nodes(v, found)
    return found


def _grids(layout) -> tuple[list[dict], set[str]]:
    """The data grids of a layout and the grids its export buttons name."""
    nodes = _nodes(layout, [])
    grids = [n for n in nodes if n["type"] == "AgGrid"
             and isinstance(n["props"].get("id"), dict)
             and n["props"]["id"].get("type") == DATA_GRID]
    buttons = {n["props"]["id"]["index"] for n in nodes
               if isinstance(n["props"].get("id"), dict)
               and n["props"]["id"].get("type") == DATA_GRID_EXPORT}
    return grids, buttons


def _check(grids: list[dict], buttons: set[str], lang: str) -> None:
    from dashboard.components import grid_locale_text

    assert grids
    for g in grids:
        p = g["props"]
        name = p["id"]["index"]
        assert name in buttons, f"{name}: no export button"
        d = p["defaultColDef"]
        assert d["sortable"] is True and d["filter"] is True and d["floatingFilter"] is True
        assert d["autoHeight"] is True
        # the grid's own words (filters, "no rows") in the page's language
        assert p["dashGridOptions"]["localeText"] == grid_locale_text(lang), name
        export = p["csvExportParams"]
        assert export["fileName"].endswith(".csv")
        assert export["processCellCallback"] == {"function": "hydroriskCsvCell(params)"}
        fields = {c["field"] for c in p["columnDefs"]}
        for c in p["columnDefs"]:
            if c.get("filter") == "agNumberColumnFilter":   # a number column shows its text
                assert c["valueFormatter"]["function"] == f"params.data.{c['field']}_text"
                assert all(r.get(c["field"]) is None
                           or isinstance(r[c["field"]], (int, float)) for r in p["rowData"])
        assert all(set(r) >= {f for f in fields if f in r} for r in p["rowData"])


@pytest.mark.parametrize(("path", "search", "expected"), [
    ("/data-status", "?lang=ru", {"data-status-by-party", "data-status-freshness",
                                  "data-status-runs"}),
    ("/commission", "?lang=kk&date=2019-04-30",
     {"commission-volumes-table", "commission-trends-table", "commission-completeness-table",
      "commission-quality-table", "commission-exchange-table"}),
    ("/quality", "?lang=en&date=2019-12-31", {"quality-table"}),
])
def test_each_page_s_tables_are_data_grids_with_an_export(app, path, search, expected):
    from test_dashboard_shell import render_page

    client = app.server.test_client()
    grids, buttons = _grids(render_page(client, path, search))
    _check(grids, buttons, search[6:8])
    names = {g["props"]["id"]["index"] for g in grids}
    assert expected <= names, expected - names
    # no plain html table is left on these pages
    assert not [n for n in _nodes(render_page(client, path, search), [])
                if n["type"] == "Table"]


def test_the_commission_grids_keep_numbers_for_sorting(app):
    from test_dashboard_shell import render_page

    client = app.server.test_client()
    grids, _ = _grids(render_page(client, "/commission", "?lang=ru&date=2019-04-30"))
    exchange = next(g for g in grids if g["props"]["id"]["index"] == "commission-exchange-table")
    rows = exchange["props"]["rowData"]
    assert rows and all(isinstance(r["run"], int) and r["received"][:4] == "2019" for r in rows)
    # not acknowledged yet: the row is highlighted and says so in words
    assert all(r["row_class"] == "warning" and r["ack"] == "не подтверждено" for r in rows)
    volumes = next(g for g in grids if g["props"]["id"]["index"] == "commission-volumes-table")
    row = next(r for r in volumes["props"]["rowData"] if r["volume"] is not None)
    # the number sorted and exported, the text in the Russian notation (decimal comma)
    assert "," in row["volume_text"] and float(row["volume_text"].replace("\u00a0", "")
                                               .replace(" ", "").replace(",", ".")) \
        == pytest.approx(row["volume"], abs=0.05)


def test_the_station_page_and_scenario_tables_are_data_grids(app, ural, config):  # noqa: F811
    from dashboard.provider import StoreProvider
    from dashboard.views.scenario_common import _table
    from dashboard.views.station import render

    provider = StoreProvider(config, ural)
    page = render(provider, "KZ:19073", "en", "2019-04-30").to_plotly_json()
    import json

    from plotly.utils import PlotlyJSONEncoder

    layout = json.loads(json.dumps(page, cls=PlotlyJSONEncoder))
    grids, buttons = _grids(layout)
    assert {g["props"]["id"]["index"] for g in grids} >= {"station-revisions-table"}
    _check(grids, buttons, "en")
    # a scenario table: numbers as the page writes them sort as numbers; a column with a
    # sentence among them stays text
    table = json.loads(json.dumps(_table(["Gauge", "Peak", "P"],
                                         [["A", "1\u00a0234,5", "12 %"], ["B", "−3", "no level"]],
                                         [False, True, True], "scenarios-test", "ru")
                                  .to_plotly_json(), cls=PlotlyJSONEncoder))
    grids, buttons = _grids(table)
    _check(grids, buttons, "ru")
    rows = grids[0]["props"]["rowData"]
    assert [r["c1"] for r in rows] == [1234.5, -3.0]
    assert [r["c1_text"] for r in rows] == ["1\u00a0234,5", "−3"]
    assert [r["c2"] for r in rows] == ["12 %", "no level"]


def test_the_export_callback_answers_a_viewer(ural, config):  # noqa: F811
    from auth_support import client_for

    from dashboard import auth
    from dashboard.app import create_app

    app = create_app(config, engine=ural, clock=lambda: dt.datetime(2019, 7, 2, 9))
    client = client_for(app, ural, "viewer")
    client.get("/")
    key = next(k for k in app.callback_map if DATA_GRID in k and "exportDataAsCsv" in k)
    assert auth.callback_role(app, key) == auth.READ
    grid = {"type": DATA_GRID, "index": "data-status-runs"}
    button = {"type": DATA_GRID_EXPORT, "index": "data-status-runs"}
    resp = client.post("/_dash-update-component", json={
        "output": key, "outputs": {"id": grid, "property": "exportDataAsCsv"},
        "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f'{{"index":"data-status-runs","type":"{DATA_GRID_EXPORT}"}}'
                           ".n_clicks"],
        "state": []})
    assert resp.status_code == 200, resp.data[:300]
    assert list(resp.get_json()["response"].values()) == [{"exportDataAsCsv": True}]
