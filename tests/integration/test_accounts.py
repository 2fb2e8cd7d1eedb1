"""Accounts, roles, CSRF, the audit log and serving (issue 15, items 1-4), through direct
HTTP requests to the dashboard's Flask server (Flask test client), as a browser — or an
attacker without the page — would send them."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from auth_support import PASSWORD, add_user, client_for, login_client
from conftest import ROOT

DATA = ROOT / "data" / "gauges"
NOW = dt.datetime(2019, 7, 2, 9)
ROLES = ("viewer", "operator", "forecaster", "admin")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """A store with one delivery from each party (the 2019 Ural stage tables)."""
    from hydro.config import load_config
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    config = load_config(ROOT / "config")
    tmp = tmp_path_factory.mktemp("accounts")
    engine = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    runs = {}
    for party, rel in (("RU", "agency/roshydromet/ural_2019.csv"),
                       ("KZ", "agency/kazhydromet/ural_2019.csv")):
        result = ingest_file(engine, config, DATA / rel, received_at=dt.datetime(2019, 5, 2, 6),
                             quarantine_dir=tmp / "quarantine")
        assert result.outcome == "loaded"
        runs[party] = result.run_id
    yield engine, runs
    engine.dispose()


@pytest.fixture
def store(deliveries):
    return deliveries[0]


@pytest.fixture
def app(store, config):
    from dashboard.app import create_app

    return create_app(config, engine=store, clock=lambda: NOW, demo=False)


def _audit(store, action: str) -> list[dict]:
    from hydro.services import audit

    return [r for r in audit.events(store) if r["action"] == action]


# --------------------------------------------------------------------------- no session

@pytest.mark.parametrize("path", ["/", "/?lang=ru", "/commission?lang=kk&date=2019-04-30",
                                  "/station/KZ:19073", "/quality", "/bulletin",
                                  "/data-status", "/no/such/page",
                                  "/download/bulletin.pdf?date=2019-04-30",
                                  "/download/commission.xlsx", "/audit", "/audit.csv"])
def test_a_page_without_a_session_redirects_to_the_login_page(app, path):
    resp = app.server.test_client().get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")
    assert b"hydrorisk" not in resp.data or b"login" in resp.data


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"),
    ("POST", "/_dash-update-component"), ("POST", "/"), ("POST", "/logout"),
])
def test_dash_endpoints_without_a_session_answer_401(app, method, path):
    client = app.server.test_client()
    body = {"output": ".._pages_content.children..._pages_store.data..", "inputs": [],
            "state": [], "outputs": []}
    resp = client.open(path, method=method, json=body if method == "POST" else None)
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "login required", "login": "/login"}


def test_the_login_page_and_the_assets_are_public(app):
    client = app.server.test_client()
    for lang, words in (("kk", "Құпиясөз"), ("ru", "Пароль"), ("en", "Password")):
        resp = client.get(f"/login?lang={lang}")
        assert resp.status_code == 200 and f'<html lang="{lang}">' in resp.get_data(True)
        assert words in resp.get_data(True) and 'name="csrf_token"' in resp.get_data(True)
        assert "demo" not in resp.get_data(True).split("login-form")[0].lower().replace(
            "demonstration", "")
    assert client.get("/assets/bootstrap.min.css").status_code == 200


def test_the_login_page_says_how_to_log_in_to_the_demonstration(store, config):
    from dashboard.app import create_app

    app = create_app(config, engine=store, demo=True)
    page = app.server.test_client().get("/login?lang=ru").get_data(True)
    assert 'id="login-demo"' in page and "demo" in page


# --------------------------------------------------------------------------- logging in

def test_passwords_are_stored_as_argon2id_hashes(store):
    from hydro.services import accounts
    from hydro.store import accounts as stored

    add_user(store, "hash-check", "viewer")
    row = stored.user_by_name(store, "hash-check")
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert accounts.verify_password(row.password_hash, PASSWORD)
    assert not accounts.verify_password(row.password_hash, PASSWORD + "x")
    with pytest.raises(accounts.AccountError):
        accounts.add_account(store, "weak", "weak", "viewer", "KZ")          # its own name
    with pytest.raises(accounts.AccountError):
        accounts.add_account(store, "short", "abc", "viewer", "KZ")


def test_login_logout_and_their_audit_rows(app, store):
    client = app.server.test_client()
    name = add_user(store, "audited", "viewer", "RU")
    before_fail, before_ok = len(_audit(store, "login_failed")), len(_audit(store, "login"))
    token = login_client_form_token(client)
    bad = client.post("/login", data={"name": name, "password": "wrong password",
                                      "csrf_token": token})
    assert bad.status_code == 401 and "Wrong name or password" in bad.get_data(True)
    assert len(_audit(store, "login_failed")) == before_fail + 1
    token = login_client(client, name)
    assert len(_audit(store, "login")) == before_ok + 1
    assert _audit(store, "login")[0]["user_name"] == name
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("hydrorisk_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    # the account line of the navbar
    user = client.post("/_dash-update-component", headers={"X-CSRFToken": token}, json={
        "output": "shell-user.children", "outputs": {"id": "shell-user", "property": "children"},
        "inputs": [{"id": "_pages_location", "property": "search", "value": "?lang=ru"}],
        "changedPropIds": [], "state": []})
    assert user.status_code == 200
    assert "audited · наблюдатель · РФ" in json.dumps(user.get_json(), ensure_ascii=False)
    assert client.get("/logout").status_code == 200                # the confirmation
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and _audit(store, "logout")[0]["user_name"] == name
    assert client.get("/").status_code == 302


def login_client_form_token(client) -> str:
    from auth_support import csrf_from

    return csrf_from(client.get("/login").get_data(True))


def test_a_login_lasts_from_the_sign_in_and_its_cookie_is_not_resent(app, store):
    """The session cookie is issued at login, with the 12-hour lifetime counted from
    then; ordinary requests do not re-sign and re-send it (it would slide the expiry and
    cost every request a signature)."""
    client = app.server.test_client()
    login_client(client, add_user(store, "once", "viewer", "KZ"))
    cookie = client.get_cookie("hydrorisk_session")
    assert cookie is not None and cookie.expires is not None
    lifetime = cookie.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=11, minutes=59) < lifetime <= dt.timedelta(hours=12)
    page = client.get("/")
    assert page.status_code == 200
    assert not any("hydrorisk_session=" in h for h in page.headers.getlist("Set-Cookie"))


def test_an_open_redirect_after_login_is_refused(app, store):
    client = app.server.test_client()
    name = add_user(store, "redirected", "viewer")
    token = login_client_form_token(client)
    resp = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token,
                                       "next": "//evil.example/x"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/?")


def test_a_removed_account_is_logged_out_and_cannot_log_in(app, store):
    from hydro.services import accounts

    client = client_for(app, store, "viewer", "KZ")
    assert client.get("/").status_code == 200
    accounts.remove_account(store, "test-viewer-kz", by="tests")
    try:
        assert client.get("/").status_code == 302
        token = login_client_form_token(client)
        resp = client.post("/login", data={"name": "test-viewer-kz", "password": PASSWORD,
                                           "csrf_token": token})
        assert resp.status_code == 401
    finally:
        from hydro.store import accounts as stored

        stored.update_user(store, "test-viewer-kz", active=True)


def test_login_attempts_are_rate_limited_per_address_and_name(store, config):
    from dashboard.app import create_app

    app = create_app(config, engine=store, demo=False)       # its own limiter
    name = add_user(store, "limited", "viewer")
    client = app.server.test_client()
    token = login_client_form_token(client)
    for _ in range(5):
        resp = client.post("/login", data={"name": name, "password": "nope-nope",
                                           "csrf_token": token})
        assert resp.status_code == 401
    resp = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 429 and "Too many attempts" in resp.get_data(True)
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    # another account from the same address is not locked out by these
    other = add_user(store, "not-limited", "viewer")
    resp = client.post("/login", data={"name": other, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302


def test_csrf_tokens_are_checked(app, store):
    client = app.server.test_client()
    name = add_user(store, "csrf-check", "admin")
    resp = client.post("/login", data={"name": name, "password": PASSWORD})
    assert resp.status_code == 400 and "expired" in resp.get_data(True)     # no token
    token = login_client(client, name)
    payload = {"output": "shell-user.children",
               "outputs": {"id": "shell-user", "property": "children"},
               "inputs": [{"id": "_pages_location", "property": "search", "value": ""}],
               "changedPropIds": [], "state": []}
    assert client.post("/_dash-update-component", json=payload).status_code == 403
    assert client.post("/_dash-update-component", json=payload,
                       headers={"X-CSRFToken": "forged"}).status_code == 403
    assert client.post("/_dash-update-component", json=payload,
                       headers={"X-CSRFToken": token}).status_code == 200
    assert client.post("/logout").status_code == 403                  # no token: still in
    assert client.get("/").status_code == 200
    # the token reaches the page in the cookie Dash's renderer copies into X-CSRFToken
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None and cookie.value == token and cookie.same_site == "Lax"


# --------------------------------------------------------------------------- roles

def test_every_registered_callback_declares_its_role(app, store):
    from dashboard import auth

    client = client_for(app, store, "viewer")
    client.get("/")                       # Dash Pages registers its router on first request
    undeclared = [key for key in app.callback_map if auth.callback_role(app, key) is None]
    assert not undeclared, ("callbacks without a role in dashboard.auth.OUTPUT_ROLES "
                            f"(READ if they change nothing): {undeclared}")
    changing = {key: auth.callback_role(app, key) for key in app.callback_map
                if auth.callback_role(app, key) != auth.READ}
    assert any("commission-ack-message" in k for k in changing)
    assert any("alerts-ack-done" in k for k in changing)


@pytest.mark.parametrize("role", ROLES[:-1])
def test_every_state_changing_callback_refuses_the_roles_below_it(app, store, role):
    """Whatever callbacks exist (new ones included): a request naming one whose role is
    above the session's is refused before the callback runs, and so is an unknown one."""
    from dashboard import auth
    from hydro.services.accounts import role_at_least

    client = client_for(app, store, role)
    client.get("/")
    refused = 0
    for key in app.callback_map:
        need = auth.callback_role(app, key)
        if need == auth.READ or role_at_least(role, need):
            continue
        resp = client.post("/_dash-update-component", json={
            "output": key, "outputs": [], "inputs": [], "state": [], "changedPropIds": []})
        assert resp.status_code == 403, key
        refused += 1
    assert refused >= (2 if role == "viewer" else 0)
    resp = client.post("/_dash-update-component", json={
        "output": "no-such.children", "outputs": [], "inputs": [], "state": []})
    assert resp.status_code == 400


def _ack_delivery(client, run_id: int, party: str | None, name: str = "typed name"):
    return client.post("/_dash-update-component", json={
        "output": "..commission-ack-message.children...commission-exchange.children..",
        "outputs": [{"id": "commission-ack-message", "property": "children"},
                    {"id": "commission-exchange", "property": "children"}],
        "inputs": [{"id": "commission-ack-button", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["commission-ack-button.n_clicks"],
        "state": [{"id": "commission-ack-run", "property": "value", "value": str(run_id)},
                  {"id": "commission-ack-party", "property": "value", "value": party},
                  {"id": "commission-ack-name", "property": "value", "value": name},
                  {"id": "commission-ack-note", "property": "value", "value": "ok"},
                  {"id": "commission-state", "property": "data",
                   "value": {"lang": "en", "day": "2019-04-30", "asof": None}}],
    })


def _ack_alert(app, client, alert_id: int = 1):
    key = next(k for k in app.callback_map if "alerts-ack-done.data" in k)
    return client.post("/_dash-update-component", json={
        "output": key,
        "outputs": [{"id": "alerts-ack-message", "property": "children"},
                    {"id": "alerts-ack-done", "property": "data"},
                    {"id": "alerts-ack-modal", "property": "is_open"},
                    {"id": "alerts-ack-note", "property": "value"}],
        "inputs": [{"id": "alerts-ack-confirm", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["alerts-ack-confirm.n_clicks"],
        "state": [{"id": "alerts-ack-target", "property": "data", "value": alert_id},
                  {"id": "alerts-ack-name", "property": "value", "value": "typed name"},
                  {"id": "alerts-ack-note", "property": "value", "value": ""},
                  {"id": "_pages_location", "property": "search", "value": "?lang=en"}],
    })


@pytest.mark.parametrize("role", ROLES)
def test_each_role_through_the_callback_endpoint(app, deliveries, role):
    """viewer: refused every acknowledgement (403); operator and above: acknowledge for
    their own party only, as themselves whatever name the page sends."""
    store, runs = deliveries
    client = client_for(app, store, role, "KZ")
    forbidden_before = len(_audit(store, "forbidden"))
    ack = _ack_delivery(client, runs["RU"], "KZ")
    alert = _ack_alert(app, client)
    if role == "viewer":
        assert ack.status_code == 403 and ack.get_json()["required"] == "operator"
        assert alert.status_code == 403
        assert len(_audit(store, "forbidden")) == forbidden_before + 2
        return
    assert ack.status_code == 200, ack.data[:300]
    assert "ack-stored" in ack.get_data(True)
    row = _audit(store, "exchange_ack")[0]
    assert row["user_name"] == f"test-{role}-kz" and row["target"] == f"ingest run {runs['RU']}"
    from hydro.services.exchange import exchange_log
    from hydro.config import load_config

    log = exchange_log(store, load_config(ROOT / "config"))
    acks = [a for r in log["acknowledgements"] for a in r]
    assert {"acknowledged_by": f"test-{role}-kz", "party": "KZ"}.items() <= \
        [a for a in acks if a["acknowledged_by"] == f"test-{role}-kz"][0].items()
    assert not any(a["acknowledged_by"] == "typed name" for a in acks)
    # never on behalf of another party, never its own party's delivery
    assert _ack_delivery(client, runs["RU"], "RU").status_code == 403
    own = _ack_delivery(client, runs["KZ"], "KZ")
    assert own.status_code == 200 and "ack-refused" in own.get_data(True)
    # the alert acknowledgement passes the role check (no alert 1 in this store)
    assert alert.status_code == 200 and "ack-refused" in alert.get_data(True)


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_page_is_for_admins_only(app, store, role):
    client = client_for(app, store, role, "commission")
    page, csv_ = client.get("/audit?lang=ru"), client.get("/audit.csv")
    if role != "admin":
        assert page.status_code == 403 and csv_.status_code == 403
        return
    assert page.status_code == 200 and "Журнал аудита" in page.get_data(True)
    assert 'id="audit-table"' in page.get_data(True)
    assert csv_.status_code == 200 and csv_.mimetype == "text/csv"
    assert csv_.get_data(True).splitlines()[0] == "id,at,action,user_name,address,target,detail"


def test_the_guard_inside_a_callback_holds_without_the_hook(app, deliveries):
    """Declared read-only by mistake, the acknowledgement still refuses a viewer: the
    callback checks the role itself (dashboard.auth.require)."""
    from dashboard import auth

    store, runs = deliveries
    client = client_for(app, store, "viewer", "RU")
    state = auth._state(app)
    state.roles["commission-ack-message.children"] = auth.READ
    state.roles["alerts-ack-done.data"] = auth.READ
    state.callback_roles.clear()
    try:
        assert _ack_delivery(client, runs["KZ"], "RU").status_code == 403
        assert _ack_alert(app, client).status_code == 403
    finally:
        state.roles.update({"commission-ack-message.children": "operator",
                            "alerts-ack-done.data": "operator"})
        state.callback_roles.clear()


def test_csv_export_guards_formula_injection(store):
    from hydro.services import audit

    audit.record(store, "login_failed", "=HYPERLINK(\"http://x\")", address="1.2.3.4",
                 detail="+cmd|' /C calc'!A0")
    text = audit.to_csv(audit.events(store, limit=1))
    assert "'=HYPERLINK" in text and "'+cmd" in text
    assert audit.safe_cell("-1") == "'-1" and audit.safe_cell("@x") == "'@x"
    assert audit.safe_cell("plain") == "plain"


# --------------------------------------------------------------------------- the CLI

def test_the_user_commands_round_trip(tmp_path, monkeypatch, capsys):
    import io

    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    cfg = ["--config", str(ROOT / "config")]
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(cfg + ["user", "add", "aigerim", "--role", "operator", "--party", "KZ",
                       "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("weakling\n"))
    assert main(cfg + ["user", "add", "weakling", "--password-stdin"]) == 2   # its name
    assert "default" in capsys.readouterr().err
    assert main(cfg + ["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "aigerim" in out and "operator" in out and "KZ" in out and "weakling" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("another long secret\n"))
    assert main(cfg + ["user", "passwd", "aigerim", "--password-stdin"]) == 0
    assert main(cfg + ["user", "remove", "aigerim"]) == 0
    assert main(cfg + ["user", "remove", "aigerim"]) == 2
    capsys.readouterr()
    assert main(cfg + ["user", "audit", "--since", "2000-01-01"]) == 0
    out = capsys.readouterr().out
    for action in ("user_add", "user_passwd", "user_remove"):
        assert action in out
    csv_path = tmp_path / "audit.csv"
    assert main(cfg + ["user", "audit", "--csv", str(csv_path)]) == 0
    assert "user_add" in csv_path.read_text() and stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    from hydro.services import accounts
    from hydro.services.context import load, open_store

    store = open_store(load(ROOT / "config"))
    assert accounts.authenticate(store, "aigerim", "another long secret") is None  # removed
    store.dispose()


# --------------------------------------------------------------------------- serving

def test_serve_refuses_the_network_while_a_default_account_exists(tmp_path, monkeypatch,
                                                                  capsys):
    from dashboard.cli import is_loopback, refusal
    from hydro.cli import main
    from hydro.services import accounts
    from hydro.services.context import load, open_store

    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    store = open_store(load(ROOT / "config"))
    accounts.ensure_demo_account(store)
    assert accounts.default_accounts(store) == ["demo"]
    cfg = ["--config", str(ROOT / "config")]
    assert main(cfg + ["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "demo" in err
    assert main(cfg + ["--debug", "serve", "--host", "10.0.0.5", "--port", "1"]) == 2
    assert "refusing --debug" in capsys.readouterr().err
    assert main(cfg + ["serve", "--debug", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing --debug" in capsys.readouterr().err
    # with the demo account gone the network may be served (not started here)
    accounts.remove_account(store, "demo")
    assert accounts.default_accounts(store) == []
    assert refusal("0.0.0.0", False, []) is None
    assert refusal("127.0.0.1", True, ["demo"]) is None
    assert is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    store.dispose()


def test_the_secret_key_file_is_generated_private(tmp_path, monkeypatch, config_copy):
    from hydro.config import load_config
    from hydro.services.accounts import secret_key

    monkeypatch.delenv("HYDRORISK_SECRET_KEY", raising=False)
    config = load_config(config_copy)
    key = secret_key(config)
    path = config.resolve("var/secret_key")
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) >= 40
    assert secret_key(config) == key                                  # kept
    monkeypatch.setenv("HYDRORISK_SECRET_KEY", "from-the-environment")
    assert secret_key(config) == "from-the-environment"


def test_store_errors_do_not_print_the_password():
    from hydro.errors import StoreError
    from hydro.store.db import make_engine

    with pytest.raises(StoreError) as e:
        make_engine("postgresql+nosuchdriver://hydro:s3cr3t-pw@db.example/hydro")
    assert "s3cr3t-pw" not in str(e.value) and "***" in str(e.value)


def test_secure_cookies_over_https(store, config, monkeypatch):
    from dashboard.app import create_app

    monkeypatch.setenv("HYDRORISK_HTTPS", "1")
    app = create_app(config, engine=store, demo=False)
    assert app.server.config["SESSION_COOKIE_SECURE"] is True
    assert app.server.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.server.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    json.dumps(dict(os.environ))  # nothing else to check: the secret is never in config text
