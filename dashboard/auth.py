"""Who may see and change what: login, sessions, CSRF, roles, the audit page.

:func:`install` puts all of it on a Dash app's Flask server (``create_app`` calls it):

* **Login** (``/login``, ``/logout``; kk, ru, en; server-rendered, no JavaScript needed):
  flask-login sessions over Flask's signed session cookie (http-only, SameSite=Lax, and
  ``Secure`` when ``HYDRORISK_HTTPS=1`` says the dashboard is served over https — set it
  behind a TLS reverse proxy, or the browser will not send the cookie back over plain
  http).  Passwords are checked by :func:`hydro.services.accounts.authenticate` (argon2);
  failed logins are limited by flask-limiter (in memory, per process: :data:`LOGIN_LIMIT`
  per address and name, :data:`LOGIN_LIMIT_ADDRESS` per address).
* **Everything else needs a session.**  A request without one gets the login page: HTTP 302
  to ``/login`` for a page (or any GET), HTTP 401 JSON for Dash's endpoints (``/_dash-…``,
  callbacks, layout, dependencies) and for any other method.  Only ``/assets/`` (CSS and
  scripts of the project), ``/_favicon.ico`` and the login page itself are public.
* **CSRF**: a double-submit token.  Each session holds a random token; it is sent to the
  browser in the ``_csrf_token`` cookie (readable by scripts, SameSite=Lax), which Dash's
  renderer already copies into the ``X-CSRFToken`` header of every callback request, and
  as a hidden field of the login and logout forms.  A ``before_request`` hook refuses (HTTP
  403) every POST/PUT/PATCH/DELETE whose header or form field does not match the session's
  token.  Chosen over Flask-WTF's ``CSRFProtect`` because it needs no change to Dash's
  renderer, no form library and no token expiry that would break a dashboard left open
  for hours; another site can neither read the cookie nor set the header.
* **Roles** (:data:`hydro.services.accounts.ROLES`): every Dash callback is declared, by
  its outputs, in :data:`OUTPUT_ROLES` (``"component-id.property"`` patterns →
  :data:`READ` for a read-only callback, or the role a state-changing one needs).  A
  ``before_request`` hook on ``/_dash-update-component`` looks up the callback the request
  names, and refuses it (HTTP 403, audited) when the session's role is below the highest
  role of its outputs, or when it is not declared at all (fail closed;
  ``tests/integration/test_accounts.py`` asserts that every registered callback is
  declared).  A state-changing callback also checks inside its function with
  :func:`require` (or the :func:`requires` decorator), so the check does not depend on the
  hook alone.

**Declaring a new callback**: give it an output of its own and add that output to
:data:`OUTPUT_ROLES` (``READ`` when it changes nothing), or call :func:`declare` from the
view's ``register_callbacks``; in a callback that changes state, call
``account = auth.require("operator")`` first and use ``account.name`` / ``account.party``
as "who", never a name typed into the page.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hmac
import html
import json
import os
import secrets
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
import flask
import flask_login
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response as HttpResponse

from dashboard import i18n
from hydro.services import accounts, audit
from hydro.services.accounts import Account
from hydro.services.context import Store

READ = "read"
#: callback outputs (``id.property``, fnmatch patterns) -> role a callback writing them
#: needs (READ: none beyond being logged in).  A callback needs the highest role of its
#: outputs; a callback with an output matching no pattern is refused.
OUTPUT_ROLES: dict[str, str] = {
    # Dash Pages' router and the shell
    "_pages_content.children": READ, "_pages_store.data": READ,
    "shell-tagline.children": READ, "shell-nav-*.*": READ, "shell-lang-*.*": READ,
    "shell-lang.data": READ, "shell-time-banners.children": READ,
    "shell-navigate.href": READ, "shell-user.children": READ,
    "_pages_dummy.children": READ,
    # stations
    # every data grid's CSV export (dashboard.components.data_grid, one MATCH callback)
    "data-grid.exportDataAsCsv": READ,
    "stations-*-table.exportDataAsCsv": READ, "stations-body.children": READ,
    "stations-status-filter.data": READ, "stations-*-table.filterModel": READ,
    "stations-summary.className": READ, "stations-filter-note.children": READ,
    # the overview's alerts panel: opening the dialog reads; confirming acknowledges (only
    # that callback writes alerts-ack-done.data; it also calls dashboard.context.acting_user)
    "alerts-panel-list.children": READ, "alerts-last-look.data": READ,
    "alerts-ack-modal.is_open": READ, "alerts-ack-target.data": READ,
    "alerts-ack-title.children": READ, "alerts-ack-alert.children": READ,
    "alerts-ack-message.children": READ, "alerts-ack-note.value": READ,
    "alerts-ack-done.data": "operator",
    # station page
    "station-stage-graph.figure": READ, "station-discharge-graph.figure": READ,
    "station-download.data": READ,
    # water quality
    "quality-site-panel.children": READ, "quality-site.value": READ,
    # commission: the exchange log's acknowledgement changes the store
    "commission-ack-message.children": "operator", "commission-exchange.children": READ,
    # upload: checks and ingests a series file (dashboard.views.upload)
    "upload-result.children": "operator",
}
#: login attempts (POST /login) that fail, per address and account name / per address
LOGIN_LIMIT = "5/minute"
LOGIN_LIMIT_ADDRESS = "30/minute"
SESSION_HOURS = 12
CSRF_COOKIE = "_csrf_token"     # the name Dash's renderer reads (config.csrf_token_name)
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
_SESSION_CSRF = "hydrorisk_csrf"
_PUBLIC_PREFIXES = ("/assets/",)
_PUBLIC_PATHS = ("/login", "/_favicon.ico", "/favicon.ico")
_APP_ATTRIBUTE = "hydrorisk_auth"

#: the words of the login and audit pages, per language: the keys ``auth.*``, ``account.role.*``
#: and ``account.party.*`` of the dashboard's gettext catalogs (dashboard/locale), read-only
ROLE_NAMES: Mapping[str, Mapping[str, str]] = i18n.CATALOGS.section("account.role")
PARTY_NAMES: Mapping[str, Mapping[str, str]] = i18n.CATALOGS.section("account.party")
TEXT: dict[str, Mapping[str, str]] = {lang: i18n.CATALOGS.in_language("auth", lang)
                                      for lang in i18n.LANGUAGES}


def text(key: str, lang: str, **fields: str) -> str:
    return i18n.t(f"auth.{key}", lang, **fields)


def role_name(role: str, lang: str) -> str:
    return ROLE_NAMES.get(role, {}).get(lang, role)


def party_name(party: str, lang: str) -> str:
    return PARTY_NAMES.get(party, {}).get(lang, party)


# --------------------------------------------------------------------------- the user

class SessionUser(flask_login.UserMixin):
    """flask-login's view of an :class:`~hydro.services.accounts.Account`."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return str(self.account.id)


def current_account() -> Account | None:
    """The logged-in account of the current request (None outside a request or when
    nobody is logged in)."""
    if not flask.has_request_context():
        return None
    user = flask_login.current_user
    if not getattr(user, "is_authenticated", False):
        return None
    return user.account


class Forbidden(Exception):
    """Raised by :func:`require` outside a request's callback dispatch."""


def require(role: str, party: str | None = None) -> Account:
    """The logged-in account if its role includes ``role`` (and, given ``party``, it acts
    for that party); otherwise the request ends with HTTP 403 (audited ``forbidden``).
    Call it first thing in a callback or route that changes state."""
    account = current_account()
    if account is None:
        flask.abort(flask.make_response(_json({"error": "login required",
                                                "login": "/login"}), 401))
    assert account is not None
    if not account.has_role(role) or (party is not None and account.party != party):
        _audit_forbidden(account, f"needs {role}" + (f" for {party}" if party else ""))
        lang = _lang()
        message = text("forbidden", lang, role=role_name(account.role, lang),
                       required=role_name(role, lang)) if not account.has_role(role) else \
            text("forbidden.party", lang, party=party_name(account.party, lang))
        flask.abort(flask.make_response(_json({"error": "forbidden", "message": message,
                                               "required": role}), 403))
    return account


def requires(role: str) -> Callable:
    """Decorator form of :func:`require` for a callback or route function."""

    def wrap(fn: Callable) -> Callable:
        @wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            require(role)
            return fn(*args, **kwargs)

        inner.required_role = role  # type: ignore[attr-defined]
        return inner

    return wrap


def declare(app: dash.Dash, pattern: str, role: str) -> None:
    """Declare, for ``app``, that callbacks writing output ``pattern`` (``id.property``,
    fnmatch) need ``role`` (or :data:`READ`)."""
    if role != READ:
        accounts.check_role(role)
    _state(app).roles[pattern] = role


# --------------------------------------------------------------------------- install

class _AuthState:
    def __init__(self, store: Store, demo: bool) -> None:
        self.store = store
        self.demo = demo
        self.roles: dict[str, str] = dict(OUTPUT_ROLES)
        self.callback_roles: dict[str, str | None] = {}


def _state(app: dash.Dash | flask.Flask) -> _AuthState:
    server = app.server if isinstance(app, dash.Dash) else app
    return getattr(server, _APP_ATTRIBUTE)


def https() -> bool:
    """Whether cookies are marked ``Secure`` (``HYDRORISK_HTTPS`` set to 1/true/yes)."""
    return os.environ.get("HYDRORISK_HTTPS", "").strip().lower() in ("1", "true", "yes")


def install(app: dash.Dash, store: Store, secret_key: str, demo: bool | None = None,
            default_lang: str = "en") -> None:
    """Put login, CSRF, roles and the audit page on ``app``'s Flask server.  ``demo``
    (default: whether the demonstration account exists with its password) adds the
    demonstration note to the login page."""
    server = app.server
    server.secret_key = secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https(), SESSION_COOKIE_NAME="hydrorisk_session",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https(),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        # a login lasts SESSION_HOURS from the sign-in, not from the last click: the signed
        # cookie is issued at login (and when the session changes), not re-signed and
        # re-sent with every response (a tenth of a loaded server's time, bench/load.py)
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    if demo is None:
        demo = accounts.demo_account_active(store)
    state = _AuthState(store, demo)
    setattr(server, _APP_ATTRIBUTE, state)
    state.default_lang = default_lang  # type: ignore[attr-defined]

    manager = flask_login.LoginManager()
    manager.init_app(server)
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(user_id: str) -> SessionUser | None:
        try:
            account = accounts.get_account(store, int(user_id))
        except (TypeError, ValueError):
            return None
        return SessionUser(account) if account is not None and account.active else None

    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://",
                      default_limits=[], headers_enabled=True)
    server.extensions["hydrorisk_limiter"] = limiter

    def failed(response: flask.Response) -> bool:
        return response.status_code != 302

    login_view = limiter.limit(LOGIN_LIMIT_ADDRESS, methods=["POST"], deduct_when=failed)(
        limiter.limit(LOGIN_LIMIT, key_func=_login_key, methods=["POST"],
                      deduct_when=failed)(login))
    server.add_url_rule("/login", "hydrorisk_login", login_view, methods=["GET", "POST"])
    # browsers ask for /favicon.ico where a page names none; Dash's pages link the icon in
    # dashboard/assets (its /_favicon.ico is Plotly's own)
    server.add_url_rule("/favicon.ico", "hydrorisk_favicon",
                        lambda: flask.redirect("/assets/favicon.ico", 301))
    server.add_url_rule("/logout", "hydrorisk_logout", logout, methods=["GET", "POST"])
    server.add_url_rule("/audit", "hydrorisk_audit", audit_page)
    server.add_url_rule("/audit.csv", "hydrorisk_audit_csv", audit_csv)
    server.register_error_handler(429, too_many)
    server.before_request(guard)
    server.after_request(set_csrf_cookie)
    register_callbacks(app)


def _login_key() -> str:
    name = (flask.request.form.get("name") or "").strip().lower()[:200]
    return f"{get_remote_address()}|{name}"


def _lang() -> str:
    lang = flask.request.args.get("lang") or flask.request.form.get("lang") or ""
    if lang not in TEXT:
        state = getattr(flask.current_app, _APP_ATTRIBUTE, None)
        lang = getattr(state, "default_lang", "en")
    return lang if lang in TEXT else "en"


def _json(body: dict) -> flask.Response:
    return flask.Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _address() -> str | None:
    return flask.request.remote_addr


def client_address() -> str | None:
    """The client's address of the current request (behind ``HYDRORISK_PROXIES`` trusted
    proxies, from ``X-Forwarded-For``), as the audit log records it."""
    return _address()


def _audit_forbidden(account: Account | None, detail: str) -> None:
    state = getattr(flask.current_app, _APP_ATTRIBUTE)
    audit.record(state.store, "forbidden", account.name if account else None,
                 address=_address(), target=flask.request.path, detail=detail)


# --------------------------------------------------------------------------- CSRF

def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = flask.session.get(_SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session[_SESSION_CSRF] = token
    return str(token)


def _csrf_ok() -> bool:
    expected = flask.session.get(_SESSION_CSRF)
    given = flask.request.headers.get(CSRF_HEADER) or flask.request.form.get(CSRF_FIELD)
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def set_csrf_cookie(response: flask.Response) -> flask.Response:
    token = flask.session.get(_SESSION_CSRF)
    if token and flask.request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, str(token), httponly=False, samesite="Lax",
                            secure=https(), path="/")
    return response


# --------------------------------------------------------------------------- the guard

def _public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def guard() -> HttpResponse | None:
    """``before_request``: a session for everything but the public paths, the CSRF token
    on every state-changing method, the role of the callback a Dash request names."""
    request = flask.request
    path = request.path
    if _public(path):
        return None
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    account = current_account()
    if account is None:
        if request.method in ("GET", "HEAD") and not path.startswith("/_dash-"):
            target = request.full_path.rstrip("?")
            query = {"next": target} if target not in ("/", "") else {}
            if request.args.get("lang") in TEXT:
                query["lang"] = request.args["lang"]
            return flask.redirect("/login" + ("?" + urlencode(query) if query else ""), 302)
        return flask.make_response(_json({"error": "login required", "login": "/login"}),
                                   401)
    if unsafe and not _csrf_ok():
        return flask.make_response(_json({"error": "CSRF token missing or wrong"}), 403)
    if path == "/_dash-update-component" and request.method == "POST":
        return _callback_guard(account)
    return None


def callback_role(app: dash.Dash | flask.Flask, output: str) -> str | None:
    """The role the callback ``output`` (its key in ``app.callback_map``) needs: READ, a
    role, or None when one of its outputs is not declared."""
    state = _state(app)
    found = state.callback_roles.get(output)
    if found is not None:
        return found
    needed = READ
    for item in split_outputs(output):
        roles = [r for pattern, r in state.roles.items() if fnmatch.fnmatchcase(item, pattern)]
        if not roles:
            return None
        for r in roles:
            if r != READ and (needed == READ or accounts.role_rank(r) > accounts.role_rank(needed)):
                needed = r
    state.callback_roles[output] = needed
    return needed


def split_outputs(output: str) -> list[str]:
    """``id.property`` of each output of a callback key (``a.b`` or ``..a.b...c.d..``;
    ``@hash`` of duplicate outputs dropped; a pattern-matching id by its ``type``)."""
    key = output
    parts = key[2:-2].split("...") if key.startswith("..") and key.endswith("..") else [key]
    out = []
    for part in parts:
        part = part.split("@", 1)[0] if "@" in part and not part.startswith("{") else part
        if part.startswith("{"):
            end = part.rfind("}")
            try:
                ident = json.loads(part[:end + 1])
                name = str(ident.get("type", part[:end + 1]))
            except ValueError:
                name = part[:end + 1]
            prop = part[end + 2:].split("@", 1)[0]
            out.append(f"{name}.{prop}")
        else:
            out.append(part)
    return out


def _callback_guard(account: Account) -> flask.Response | None:
    body = flask.request.get_json(silent=True) or {}
    output = body.get("output") if isinstance(body, dict) else None
    # the app serving this request (dashboard.context.attach registers it on its server)
    app = flask.current_app.extensions.get("hydrorisk_dash_app") or dash.get_app()
    if not isinstance(output, str) or output not in app.callback_map:
        return flask.make_response(_json({"error": "no such callback"}), 400)
    role = callback_role(app, output)
    if role is None:
        _audit_forbidden(account, f"undeclared callback {output[:150]}")
        return flask.make_response(_json({"error": "forbidden",
                                          "message": "callback has no declared role"}), 403)
    if role != READ and not account.has_role(role):
        _audit_forbidden(account, f"callback {output[:150]} needs {role}")
        lang = _lang()
        return flask.make_response(_json({
            "error": "forbidden", "required": role,
            "message": text("forbidden", lang, role=role_name(account.role, lang),
                            required=role_name(role, lang))}), 403)
    return None


# --------------------------------------------------------------------------- pages

def _safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/"
    return target


def _page(lang: str, title: str, body: str, status: int = 200) -> flask.Response:
    doc = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<title>{html.escape(title)} — hydrorisk</title>'
           f'<link rel="stylesheet" href="/assets/bootstrap.min.css">'
           f'<link rel="stylesheet" href="/assets/hydrorisk.css">'
           f'<link rel="icon" href="/assets/favicon.ico"></head>'
           f'<body><nav class="navbar navbar-dark bg-dark app-navbar"><div class="container-fluid">'
           f'<a class="navbar-brand brand" href="/?lang={lang}">hydrorisk</a>'
           f'<div class="lang-switch">{_lang_links(lang)}</div></div></nav>'
           f'<main class="container auth-page" style="max-width:40rem">{body}</main>'
           f'</body></html>')
    response = flask.Response(doc, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _lang_links(lang: str) -> str:
    args = {k: v for k, v in flask.request.args.items() if k != "lang"}
    links = []
    for code, name in (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")):
        href = flask.request.path + "?" + urlencode({**args, "lang": code})
        cls = "lang-link active" if code == lang else "lang-link"
        links.append(f'<a class="{cls}" href="{html.escape(href)}">{name}</a>')
    return " ".join(links)


def _form_page(lang: str, page: str, intro: str, fields: str, after_submit: str = "",
               status: int = 200) -> flask.Response:
    """The login or logout page (``page``: "login" or "logout"): its title, ``intro`` (HTML,
    escaped by the caller) and a POST form to ``/<page>`` holding the CSRF token, the
    language, ``fields`` and the submit button (``after_submit`` follows it)."""
    e = html.escape
    body = (f'<h1 class="page-title mt-4">{e(text(page + ".title", lang))}</h1>{intro}'
            f'<form method="post" action="/{page}" id="{page}-form">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{e(csrf_token())}">'
            f'<input type="hidden" name="lang" value="{e(lang)}">{fields}'
            f'<button class="btn btn-primary{" me-2" if after_submit else ""}" '
            f'id="{page}-submit" type="submit">{e(text(page + ".submit", lang))}</button>'
            f'{after_submit}</form>')
    return _page(lang, text(page + ".title", lang), body, status)


def _login_form(lang: str, message: str | None = None, level: str = "danger",
                status: int = 200, name: str = "") -> flask.Response:
    state = getattr(flask.current_app, _APP_ATTRIBUTE)
    e = html.escape
    nxt = _safe_next(flask.request.values.get("next"))
    alert = f'<div class="alert alert-{level}" role="alert" id="login-message">{e(message)}</div>' \
        if message else ""
    demo = f'<div class="alert alert-info" id="login-demo">{e(text("login.demo", lang))}</div>' \
        if state.demo else ""
    fields = (f'<input type="hidden" name="next" value="{e(nxt)}">'
              f'<div class="mb-3"><label class="form-label" for="login-name">'
              f'{e(text("login.name", lang))}</label>'
              f'<input class="form-control" id="login-name" name="name" autocomplete="username"'
              f' required maxlength="200" value="{e(name)}"></div>'
              f'<div class="mb-3"><label class="form-label" for="login-password">'
              f'{e(text("login.password", lang))}</label>'
              f'<input class="form-control" id="login-password" name="password" type="password"'
              f' autocomplete="current-password" required></div>')
    return _form_page(lang, "login",
                      f'<p class="text-muted">{e(text("login.intro", lang))}</p>{demo}{alert}',
                      fields, status=status)


def login() -> HttpResponse:
    """GET: the login form; POST: check the name and password, start the session."""
    lang = _lang()
    request = flask.request
    if request.method == "GET":
        if current_account() is not None:
            return flask.redirect(_safe_next(request.args.get("next")))
        done = text("logout.done", lang) if request.args.get("out") else None
        return _login_form(lang, done, "success")
    name = (request.form.get("name") or "").strip()
    if not _csrf_ok():
        return _login_form(lang, text("login.csrf", lang), status=400, name=name)
    state = getattr(flask.current_app, _APP_ATTRIBUTE)
    account = accounts.authenticate(state.store, name, request.form.get("password") or "",
                                    address=_address())
    if account is None:
        return _login_form(lang, text("login.failed", lang), status=401, name=name)
    flask.session.clear()                    # a new session (and CSRF token) per login
    flask.session.permanent = True
    flask_login.login_user(SessionUser(account))
    csrf_token()
    target = _safe_next(request.form.get("next"))
    if "lang=" not in target and lang:
        target += ("&" if "?" in target else "?") + f"lang={lang}"
    return flask.redirect(target, 302)


def too_many(_error: Exception) -> flask.Response:
    lang = _lang()
    if flask.request.path == "/login":
        response = _login_form(lang, text("login.limited", lang), status=429,
                               name=(flask.request.form.get("name") or "").strip())
    else:
        response = flask.make_response(_json({"error": "too many requests"}), 429)
    response.headers["Retry-After"] = "60"
    return response


def logout() -> HttpResponse:
    """GET: a confirmation with a POST form (a link alone could be triggered by another
    site); POST: end the session (audited)."""
    lang = _lang()
    account = current_account()
    if flask.request.method == "GET":
        e = html.escape
        name = account.name if account else ""
        return _form_page(lang, "logout",
                          f'<p>{e(text("logout.question", lang, name=name))}</p>', "",
                          after_submit=f'<a class="btn btn-outline-secondary" '
                                       f'href="/?lang={lang}">{e(text("logout.cancel", lang))}</a>')
    if account is not None:
        state = getattr(flask.current_app, _APP_ATTRIBUTE)
        audit.record(state.store, "logout", account.name, address=_address())
    flask_login.logout_user()
    flask.session.clear()
    return flask.redirect(f"/login?lang={lang}&out=1", 302)


def audit_page() -> flask.Response:
    """The audit log for admins: the newest 1000 rows (``?since=YYYY-MM-DD``) and CSV."""
    require("admin")
    lang = _lang()
    e = html.escape
    state = getattr(flask.current_app, _APP_ATTRIBUTE)
    since_text = (flask.request.args.get("since") or "").strip()
    since = _parse_since(since_text)
    rows = audit.events(state.store, since=since, limit=1000)
    # a plain text field in the page language's notation (a type="date" field follows the
    # browser's locale, not the page's); a date that cannot be read is said, not ignored
    since_bad = (f'<div class="alert alert-warning py-1" id="audit-since-bad">'
                 f'{e(text("audit.since_bad", lang, value=since_text))}</div>'
                 if since_text and since is None else "")
    head = "".join(f"<th>{e(text('audit.col.' + c, lang))}</th>" for c in audit.COLUMNS)
    body_rows = "".join(
        "<tr>" + "".join(f"<td>{e(_audit_cell(c, r[c], lang))}</td>" for c in audit.COLUMNS)
        + "</tr>"
        for r in rows) or f'<tr><td colspan="{len(audit.COLUMNS)}">{e(text("audit.none", lang))}</td></tr>'
    csv_href = "/audit.csv?" + urlencode({"since": since_text} if since_text else {})
    body = (f'<h1 class="page-title mt-4">{e(text("audit.title", lang))}</h1>'
            f'<form method="get" class="mb-2"><input type="hidden" name="lang" value="{lang}">'
            f'<label>{e(text("audit.since", lang))} <input type="text" name="since" '
            f'id="audit-since" size="12" maxlength="10" '
            f'placeholder="{e(text("audit.since_format", lang))}" '
            f'value="{e(since_text)}"> <span class="text-muted small">'
            f'{e(text("audit.since_format", lang))}</span></label> '
            f'<button class="btn btn-sm btn-secondary" '
            f'type="submit">{e(text("audit.show", lang))}</button> '
            f'<a class="btn btn-sm btn-outline-primary" id="audit-csv" href="{e(csv_href)}">'
            f'{e(text("audit.csv", lang))}</a></form>{since_bad}'
            f'<table class="table table-sm table-striped" id="audit-table"><thead><tr>{head}'
            f'</tr></thead><tbody>{body_rows}</tbody></table>')
    response = _page(lang, text("audit.title", lang), body)
    return response


def audit_csv() -> flask.Response:
    require("admin")
    state = getattr(flask.current_app, _APP_ATTRIBUTE)
    rows = audit.events(state.store, since=_parse_since(flask.request.args.get("since")))
    response = flask.Response(audit.to_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="hydrorisk-audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _parse_since(value: str | None) -> dt.datetime | None:
    """The audit page's ``since``: ``YYYY-MM-DD`` (or an ISO time) or ``DD.MM.YYYY`` (the
    kk and ru notation); None when empty or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(value, "%d.%m.%Y")
    except ValueError:
        return None


def _audit_cell(column: str, value: object, lang: str) -> str:
    """An audit row's cell for the page: the action in ``lang`` (the CSV keeps its code)."""
    if column == "action" and isinstance(value, str):
        return TEXT.get(lang, TEXT["en"]).get(f"audit.action.{value}", value)
    return _cell(value)


def _cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- navbar

USER_BOX = "shell-user"


def user_box(search: str | None) -> list:
    """The navbar's account line: name, role, party, the audit link (admins), log out."""
    from urllib.parse import parse_qsl

    from dash import html as dhtml

    account = current_account()
    if account is None:
        return []
    params = dict(parse_qsl((search or "").lstrip("?")))
    state = getattr(flask.current_app, _APP_ATTRIBUTE, None)
    lang = str(params.get("lang") if params.get("lang") in TEXT else
               getattr(state, "default_lang", "en"))
    items: list = [dhtml.Span(text("user.line", lang, name=account.name,
                                   role=role_name(account.role, lang),
                                   party=party_name(account.party, lang)),
                              className="user-line")]
    if account.has_role("admin"):
        items.append(dhtml.A(text("user.audit", lang), href=f"/audit?lang={lang}",
                             className="nav-page", id="shell-audit-link"))
    items.append(dhtml.A(text("user.logout", lang), href=f"/logout?lang={lang}",
                         className="nav-page", id="shell-logout-link"))
    return items


def register_callbacks(app: dash.Dash) -> None:
    from dash import Input, Output

    app.callback(Output(USER_BOX, "children"), Input("_pages_location", "search"))(user_box)


def record(action: str, target: str | None = None, detail: str | None = None) -> None:
    """Write ``action`` to the audit log as the logged-in account, from the request's
    address (nothing outside a request of an app with :func:`install`)."""
    if not flask.has_request_context():
        return
    state = getattr(flask.current_app, _APP_ATTRIBUTE, None)
    if state is None:
        return
    account = current_account()
    audit.record(state.store, action, account.name if account else None, address=_address(),
                 target=target, detail=detail)
