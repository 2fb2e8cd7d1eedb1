"""The /upload page (issue 15, item 7): an operator's file goes through the callback into
the store; a viewer's direct POST to the same callback is refused on the server (403) and
nothing is stored; the page is translated and shows no form to a viewer."""

from __future__ import annotations

import base64
import json

import pytest
from auth_support import logged_in
from upload_support import HEADER_KZ, kz_line, open_deployment

from hydro.store import api

GOOD = (HEADER_KZ + kz_line("01.04.2024", "400")).encode("cp1251")


@pytest.fixture
def deployment(config_copy, tmp_path):
    yield from open_deployment(config_copy, tmp_path)


def _app(deployment, role: str, party: str = "KZ"):
    from dashboard.app import create_app

    config, engine = deployment
    return logged_in(create_app(config, engine=engine, demo=False), engine, role=role,
                     party=party)


def _payload(content: bytes, name: str, source: str = "kazhydromet", lang: str = "ru"):
    data = "data:text/csv;base64," + base64.b64encode(content).decode()
    return {"output": "upload-result.children",
            "outputs": {"id": "upload-result", "property": "children"},
            "inputs": [{"id": "upload-file", "property": "contents", "value": data}],
            "changedPropIds": ["upload-file.contents"],
            "state": [{"id": "upload-file", "property": "filename", "value": name},
                      {"id": "upload-source", "property": "value", "value": source},
                      {"id": "upload-lang", "property": "data", "value": lang}]}


def test_an_operator_uploads_through_the_callback(deployment):
    app = _app(deployment, "operator")
    client = app.server.test_client()
    page = client.get("/upload?lang=ru")
    assert page.status_code == 200
    resp = client.post("/_dash-update-component", json=_payload(GOOD, "уровни.csv"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "уровни.csv" in body and "kazhydromet" in body and "сохранено 1" in body
    assert list(api.series(deployment[1], "KZ:19071", "stage")["value"]) == [400.0]


def test_a_refusal_is_shown_in_the_pages_language(deployment):
    client = _app(deployment, "operator").server.test_client()
    resp = client.post("/_dash-update-component",
                       json=_payload(GOOD, "levels.exe", lang="kk"))
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert resp.status_code == 200 and "тек .csv, .txt, .nc файлдары қабылданады" in body


def test_a_viewers_direct_post_is_refused_and_nothing_is_stored(deployment):
    client = _app(deployment, "viewer", party="commission").server.test_client()
    resp = client.post("/_dash-update-component", json=_payload(GOOD, "a.csv"))
    assert resp.status_code == 403
    assert api.series(deployment[1], "KZ:19071", "stage").empty


def test_an_operator_of_the_other_party_is_refused_by_the_service(deployment):
    client = _app(deployment, "operator", party="RU").server.test_client()
    resp = client.post("/_dash-update-component", json=_payload(GOOD, "a.csv", lang="en"))
    assert resp.status_code == 200
    assert "reports for KZ" in resp.get_data(as_text=True)
    assert api.series(deployment[1], "KZ:19071", "stage").empty
