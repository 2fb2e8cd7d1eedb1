"""Logging tests in (not a test module): every dashboard route needs a session (issue 15).

    from auth_support import logged_in, login_client, browser_login

    app = logged_in(create_app(config, engine=store), store, role="operator", party="KZ")
    client = app.server.test_client()     # already logged in; POSTs carry the CSRF header

``logged_in`` creates the account (argon2-hashed, in the app's store) and makes every
``app.server.test_client()`` of that app log in through ``POST /login`` as the browser
does, then send the session's CSRF token as ``X-CSRFToken`` on each POST (the header
Dash's renderer sends from the ``_csrf_token`` cookie).  ``browser_login`` does the same
with Selenium through the login page.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"


def add_user(store, name: str = "tester", role: str = "admin", party: str = "commission",
             password: str = PASSWORD) -> str:
    """Create the account unless it exists; returns its name."""
    from hydro.services import accounts
    from hydro.store import accounts as stored

    if stored.user_by_name(store, name) is None:
        accounts.add_account(store, name, password, role, party, by="tests")
    return name


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the login form"
    return m.group(1)


class _LoggedInClient(FlaskClient):
    """A test client that logs in on creation (``application.hydrorisk_test_login``) and
    sends the CSRF header with every request."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.csrf: str | None = None
        credentials = getattr(self.application, "hydrorisk_test_login", None)
        if not credentials:
            return
        # log in once per app (argon2 is slow on purpose); later clients reuse the session
        saved = getattr(self.application, "hydrorisk_test_session", None)
        if saved and saved[0] == credentials:
            for key, value in saved[1].items():
                self.set_cookie(key, value)
            self.csrf = saved[1].get("_csrf_token")
            return
        login_client(self, *credentials)
        cookies = {key: c.value for key in ("hydrorisk_session", "_csrf_token")
                   if (c := self.get_cookie(key)) is not None}
        self.application.hydrorisk_test_session = (credentials, cookies)

    def open(self, *args, **kwargs):
        if self.csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def login_client(client, name: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the login form; returns (and keeps) the CSRF token."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login", data={"name": name, "password": password,
                                       "csrf_token": token, "next": "/"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    # a new session: the token changes at login (read it from the cookie Dash reads)
    cookie = client.get_cookie("_csrf_token")
    token = cookie.value if cookie is not None else token
    if isinstance(client, _LoggedInClient):
        client.csrf = token
    return token


def logged_in(app, store, role: str = "admin", party: str = "commission",
              name: str | None = None):
    """``app`` whose test clients are logged in as a new account of ``role``/``party``, made
    the thread's current app: Dash (4.x) keeps the first app whose layout was read in a
    thread's context (``dash.get_app``), so a page layout called directly in a later test
    would otherwise read an earlier test's store."""
    from dash._get_app import app_context

    name = add_user(store, name or f"test-{role}-{party}".lower(), role, party)
    app.server.test_client_class = _LoggedInClient
    app.server.hydrorisk_test_login = (name, PASSWORD)
    app_context.set(app)
    return app


def client_for(app, store, role: str, party: str = "commission"):
    """A fresh test client of ``app`` logged in as ``role``/``party``."""
    name = add_user(store, f"test-{role}-{party}".lower(), role, party)
    app.server.test_client_class = _LoggedInClient
    client = app.server.test_client()
    login_client(client, name)
    return client


def browser_login(driver, base_url: str, name: str, password: str = PASSWORD,
                  timeout: float = 30) -> None:
    """Log a Selenium browser in through the login page (then it is on ``/``)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base_url + "/login")
    wait = WebDriverWait(driver, timeout)
    wait.until(EC.presence_of_element_located((By.ID, "login-name"))).send_keys(name)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: "/login" not in d.current_url)


#: lines a browser test's server script runs before serving, to create the account
#: ``browser_login`` uses (``engine`` is the script's store)
SERVER_ACCOUNT = (
    "from hydro.services.accounts import add_account\n"
    "add_account(engine, 'browser', " + repr(PASSWORD) + ", 'admin', 'commission')\n"
)


def browser_logout(driver, base_url: str, timeout: float = 30) -> None:
    """Log the browser out through the logout page's form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base_url + "/logout")
    WebDriverWait(driver, timeout).until(
        EC.element_to_be_clickable((By.ID, "logout-submit"))).click()
    WebDriverWait(driver, timeout).until(lambda d: "/login" in d.current_url)


def urlopen_as(driver, url: str, timeout: float = 60):
    """``urllib.request.urlopen(url)`` with the browser's session cookies (a download the
    page links, fetched outside the browser)."""
    import urllib.request

    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(request, timeout=timeout)
