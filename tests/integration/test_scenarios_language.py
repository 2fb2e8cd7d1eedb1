"""The scenario lab in the page's language (issues 13/14) on the bundled SYNTHETIC
scenarios: plan descriptions in kk/ru/en from the scenario files, refused schedule uploads
and the services' notes (compare, run status) said in Kazakh and Russian with the English
kept for the CLI, ``?members=`` kept in the address, the search audited with its author;
and the small language gaps of other pages (the station window's dates, the parties'
names, the audit page's date field)."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from auth_support import client_for

from dashboard.context import of_app
from dashboard.views import scenarios as view
from dashboard.views.scenarios import ScenariosPage as S

SCENARIO = "ural-2024-style"
IRIKLINSK = "RU:IRIKLINSK"
#: two or more Latin words in a row: English prose on a kk or ru page
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?: +[A-Za-z][a-z]+)+\b")


def _state(cfg, lang: str) -> dict:
    from hydro.services import release_plans as P

    base = view.schedules_to_json(P.plan_table(cfg, SCENARIO, "default"))
    return {"lang": lang, "scenario": SCENARIO, "plan": "default", "base": base,
            "start": "2024-03-01", "days": 120}


def _text(component) -> str:
    """The visible strings of a Dash component tree (children only)."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


# --------------------------------------------------------------------------- descriptions

def test_every_file_plan_has_a_kazakh_russian_and_english_description(config):
    from hydro.services import release_plans as P

    choices = P.scenario_choices(config)
    assert {c.id for c in choices} >= {"ural-2024-style", "tobol-2024-style"}
    for c in choices:
        for plan in c.plans:
            kk, ru, en = (c.plan_description(plan, lang) for lang in ("kk", "ru", "en"))
            # the CLI's description is the English one; kk and ru are Cyrillic prose
            assert en == c.plans[plan] and en
            for text in (kk, ru):
                assert text != en and re.search(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]{4}", text)
                assert not ENGLISH.search(text), (c.id, plan, text)
    ural = next(c for c in choices if c.id == "ural-2024-style")
    assert "Ириклинского водохранилища" in ural.plan_description("early-prerelease", "ru")
    assert "1000 м³/с" in ural.plan_description("early-prerelease", "ru")
    assert "Ириклин" in ural.plan_description("early-prerelease", "kk")
    assert ural.plan_description("unregulated", "ru") == \
        "Оба водохранилища пропускают приток (река без них)."


def test_a_plan_needs_a_description_and_english_is_the_fallback():
    from pydantic import ValidationError

    from hydro.scenarios import Plan

    both = Plan.model_validate({"descriptions": {"kk": "ереже", "ru": "правило",
                                                 "en": "the rule"}})
    assert both.description == "the rule" and both.description_in("ru") == "правило"
    only = Plan.model_validate({"description": "the rule"})
    assert only.description_in("kk") == "the rule"          # no translation: as written
    with pytest.raises(ValidationError, match="description"):
        Plan.model_validate({"reservoirs": {}})


def test_the_page_shows_the_plan_description_in_its_language(scenario_lab):
    app, cfg, store = scenario_lab
    ru = str(view.render(of_app(app), "ru", SCENARIO, "early-prerelease"))
    kk = str(view.render(of_app(app), "kk", SCENARIO, "early-prerelease"))
    en = str(view.render(of_app(app), "en", SCENARIO, "early-prerelease"))
    assert "Более ранняя предпаводковая сработка Ириклинского водохранилища" in ru
    assert "Ириклин су қоймасынан ертерек алдын ала су жіберу" in kk
    assert "Earlier pre-release at Iriklinsk" in en
    assert "Earlier pre-release" not in ru + kk


# --------------------------------------------------------------------------- messages

@pytest.mark.parametrize("content, ru, kk", [
    (b"date,release\n2024-03-10,201\n", "нет единицы измерения", "өлшем бірлігі жоқ"),
    (b"date,release_m3s\n2024-03-10,201\n2024-03-11,-5\n",
     "сброс не может быть отрицательным (-5 м³/с)", "су жіберу теріс бола алмайды"),
    (b"date,release_m3s\n2024-03-11,201\n2024-03-10,5\n",
     "даты должны строго возрастать: 2024-03-10 идёт после 2024-03-11", "қатаң өсу"),
    (b"date,foo\n", "неизвестный столбец", "белгісіз баған"),
    (b"date,release_m3s\n", "нет строк с данными", "деректер жоқ"),
])
def test_a_refused_upload_is_said_in_the_page_language(scenario_lab, content, ru, kk):
    app, cfg, store = scenario_lab
    upload = "data:text/csv;base64," + base64.b64encode(content).decode()
    for lang, expected in (("ru", ru), ("kk", kk)):
        state = _state(cfg, lang)
        out = view.edit_schedules(cfg, state, S.UPLOAD, IRIKLINSK, "rule", None, [], [],
                                  upload, "plan.csv", state["base"])
        text = _text(out["message"])
        assert expected in text, text
        assert not ENGLISH.search(text), text                # no English sentence left
        assert "plan.csv" in text


def test_an_unknown_problem_is_quoted_as_english_after_a_sentence_in_the_language():
    from dashboard.reasons import coded_text

    out = coded_text("something nobody translated", "ru")
    assert out[0] == "Сообщение программы на английском: "
    assert out[1].lang == "en" and out[1].children == "something nobody translated"
    assert coded_text("something nobody translated", "en") == ["something nobody translated"]


def test_compare_notes_keep_english_for_the_cli_and_carry_a_key():
    from dashboard.reasons import coded_text
    from hydro.messages import Coded

    # what compare_runs writes for runs of 50 and 20 members (hydro.services.scenario_runs)
    note = Coded("sc.note.not_paired", "not paired: A has 50 members (seed 1), B 20 "
                 "members (seed 7); ...", members_a=50, seed_a=1, members_b=20, seed_b=7)
    assert "not paired" in note                      # the CLI and the tests see English
    ru = coded_text(note, "ru")[0]
    assert ru.startswith("Непарное сравнение: в A 50 членов ансамбля (зерно 1), в B — 20 "
                         "(зерно 7)")
    assert coded_text(note, "kk")[0].startswith("Жұпталмаған: A-да 50 мүше")
    failed = Coded("sc.note.drawdown_failed", "drawdown check of RU:IRIKLINSK: boom",
                   reservoir="RU:IRIKLINSK", error="boom")
    out = coded_text(failed, "ru")
    assert out[0].startswith("Проверку предпаводковой сработки водохранилища RU:IRIKLINSK")
    assert out[1].lang == "en" and out[1].children == "boom"


def test_run_status_notes_are_said_in_the_page_language(scenario_lab):
    from hydro.services import scenario_runs as R
    from hydro.store import scenario_runs as stored

    app, cfg, store = scenario_lab
    run = R.start_run(cfg, store, SCENARIO, "default", 20, author="tester")
    R.request_cancel(store, run.run_id, "tester")        # cancelled before it ran
    assert R.get_run(store, run.run_id).error == "cancelled by tester"   # stored English
    ru = _text(view.runs_view(of_app(app), _state(cfg, "ru"), run.run_id)["results"])
    assert "Расчёт отменён пользователем tester до начала." in ru and "cancelled" not in ru
    kk = _text(view.runs_view(of_app(app), _state(cfg, "kk"), run.run_id)["results"])
    assert "Есептеуді ол басталмай тұрып tester тоқтатты." in kk
    # stopped between member chunks (what execute_run stores)
    other = R.start_run(cfg, store, SCENARIO, "default", 20, author="tester")
    stored.update_run(store, other.run_id, status="cancelled",
                      error=R.CANCELLED_BETWEEN_CHUNKS)
    ru = _text(view.runs_view(of_app(app), _state(cfg, "ru"), other.run_id)["results"])
    assert "Расчёт остановлен между частями ансамбля." in ru and "member" not in ru
    en = _text(view.runs_view(of_app(app), _state(cfg, "en"), other.run_id)["results"])
    assert "cancelled between member chunks" in en
    # the run list gives the time in the page's notation (ISO on the English page)
    made = R.get_run(store, other.run_id).created_at
    labels = [o["label"] for o in
              view.runs_view(of_app(app), _state(cfg, "ru"), None)["options"]]
    assert any(f"{made:%d.%m.%Y %H:%M} UTC" in label for label in labels), labels
    assert not any(f"{made:%Y-%m-%d}" in label for label in labels)


# --------------------------------------------------------------------------- members, search

def test_members_in_the_address_are_kept_and_bad_values_fall_back(scenario_lab):
    app, cfg, store = scenario_lab
    ctx = of_app(app)

    def members(page) -> object:
        found = []

        def walk(c):
            if getattr(c, "id", None) == S.MEMBERS:
                found.append(c.value)
            for child in (c if isinstance(c, list) else [getattr(c, "children", None)]):
                if child is not None and not isinstance(child, str | int | float):
                    walk(child)
        walk(page)
        return found[0]

    assert members(view.render(ctx, "ru", SCENARIO, members="137")) == 137
    default = members(view.render(ctx, "ru", SCENARIO))
    for bad in ("0", "999999", "abc", "-3", "2.5"):
        assert members(view.render(ctx, "ru", SCENARIO, members=bad)) == default
    assert "members" in view.MEMBERS_SYNC_JS and "replaceState" in view.MEMBERS_SYNC_JS
    roles = {k for k in app.callback_map if S.MEMBERS_SYNC in k}
    assert roles, "the members are written to the address by a clientside callback"


def test_the_search_is_audited_with_the_logged_in_author(scenario_lab):
    from dashboard import auth
    from hydro.services import audit

    app, cfg, store = scenario_lab
    assert auth.callback_role(app, f"{S.SEARCH_REQUEST}.data") == "forecaster"
    client = client_for(app, store, "forecaster")
    payload = {"output": f"{S.SEARCH_REQUEST}.data",
               "outputs": {"id": S.SEARCH_REQUEST, "property": "data"},
               "inputs": [{"id": S.SEARCH, "property": "n_clicks", "value": 1}],
               "changedPropIds": [f"{S.SEARCH}.n_clicks"],
               "state": [{"id": S.STATE, "property": "data", "value": _state(cfg, "ru")},
                         {"id": S.FORCING, "property": "value", "value": "synthetic"}]}
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.get_data(True)
    rows = [e for e in audit.events(store, limit=20)
            if e["action"] == "scenario_run" and e["target"] == f"search:{SCENARIO}"]
    assert rows and rows[0]["user_name"] == "test-forecaster-commission"
    assert "synthetic" in rows[0]["detail"]
    viewer = client_for(app, store, "viewer")
    assert viewer.post("/_dash-update-component", json=payload).status_code == 403


# --------------------------------------------------------------------------- other pages

def test_the_audit_page_date_is_a_text_field_in_the_page_notation(scenario_lab):
    from dashboard.auth import _parse_since

    assert _parse_since("14.12.2023") == dt.datetime(2023, 12, 14)
    assert _parse_since("2023-12-14") == dt.datetime(2023, 12, 14)
    assert _parse_since("12/14/2023") is None and _parse_since("") is None
    app, cfg, store = scenario_lab
    admin = client_for(app, store, "admin")
    ru = admin.get("/audit?lang=ru&since=14.12.2023").get_data(True)
    assert 'type="date"' not in ru and 'placeholder="ДД.ММ.ГГГГ"' in ru
    assert 'value="14.12.2023"' in ru and "audit-since-bad" not in ru
    kk = admin.get("/audit?lang=kk&since=14/12/2023").get_data(True)
    assert "КК.АА.ЖЖЖЖ" in kk and "audit-since-bad" in kk


def test_parties_are_written_as_on_the_data_status_page():
    from dashboard.views.commission import _party_name
    from hydro.services.commission import _party

    assert [_party_name(p, "ru") for p in ("KZ", "RU")] == ["КЗ", "РФ"]
    assert [_party_name(p, "kk") for p in ("KZ", "RU")] == ["ҚЗ", "РФ"]
    assert [_party_name(p, "en") for p in ("KZ", "RU")] == ["KZ", "RU"]
    assert [_party(p, "ru") for p in ("KZ", "RU")] == ["КЗ", "РФ"]     # the report's tables
    assert _party("KZ", "kk") == "ҚЗ"


def test_the_station_window_is_written_in_the_page_notation():
    from dashboard.views.station import _controls

    params = {"span": "120", "asof": None, "date": "2024-04-12"}
    start = dt.datetime(2023, 12, 14)
    known = dt.datetime(2024, 4, 1, 8, 30)
    ru = _text(_controls("KZ:19071", params, "ru", known, start, dt.date(2024, 4, 12)))
    assert "14.12.2023" in ru and "12.04.2024" in ru and "01.04.2024 08:30" in ru
    assert "2023-12-14" not in ru and "2024-04-12" not in ru
    en = _text(_controls("KZ:19071", params, "en", None, start, dt.date(2024, 4, 12)))
    assert "2023-12-14" in en and "2024-04-12" in en       # ISO on the English page


def test_a_refused_save_is_said_in_the_page_language(scenario_lab):
    app, cfg, store = scenario_lab
    state = _state(cfg, "ru")
    out = _text(view.save_plan(of_app(app), "tester", None, state, "Bad Name!",
                               "", state["base"]))
    assert out.startswith("Не сохранено: название плана «Bad Name!»: используйте 1–64")
    out = _text(view.save_plan(of_app(app), "tester", None, _state(cfg, "kk"),
                               "early-prerelease", "", state["base"]))
    assert "«early-prerelease» — сценарий файлының жоспары" in out
    en = _text(view.save_plan(of_app(app), "tester", None, _state(cfg, "en"),
                              "Bad Name!", "", state["base"]))
    assert "plan name 'Bad Name!': use 1–64" in en
