"""config/notifications.toml validation (a bad file names the file and the key) and the
rendering of notifications in Kazakh, Russian and English."""

import pytest

from hydro.config.notifications import NotificationsFile, load_notifications
from hydro.errors import ConfigError
from hydro.services import notification_text as text

GOOD = """
[delivery]
interval = "30 s"
first_retry = "10 s"
max_retry = "5 min"

[sinks.email]
host = "127.0.0.1"
port = 2525
from = "alerts@hydro.example.kz"
username_env = "SMTP_USER"
password_env = "SMTP_PASSWORD"

[[subscribers]]
id = "kz-ural-duty"
name = "Duty officer"
language = "kk"
party = "KZ"
email = "duty@example.kz"
basins = ["ural"]
min_severity = "adverse"
"""


def _write(tmp_path, body):
    p = tmp_path / "notifications.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_the_shipped_file_is_valid_and_sends_nothing(config):
    n = config.notifications
    assert n.subscribers and not any(s.enabled for s in n.subscribers)
    assert n.sinks.email.sender == "hydrorisk@localhost"


def test_a_good_file_parses_with_durations_and_defaults(tmp_path, config):
    from hydro.config.notifications import DEFAULT_EVENTS, seconds

    n = load_notifications(_write(tmp_path, GOOD), config.network)
    assert seconds(n.delivery.interval) == pytest.approx(30)
    assert seconds(n.delivery.max_retry) == pytest.approx(300)
    assert n.delivery.max_attempts == 10
    s = n.subscriber("kz-ural-duty")
    assert s.sinks() == ["email"] and tuple(s.events) == DEFAULT_EVENTS
    assert (n.sinks.email.port, n.sinks.email.sender) == (2525, "alerts@hydro.example.kz")


def test_a_missing_file_means_no_subscribers(tmp_path):
    assert load_notifications(tmp_path / "absent.toml") == NotificationsFile()


@pytest.mark.parametrize("edit, where, what", [
    (('language = "kk"', 'language = "de"'), "subscribers[id=kz-ural-duty].language",
     "'kk', 'ru' or 'en'"),
    (('party = "KZ"', 'party = "CN"'), "subscribers[id=kz-ural-duty].party", "'KZ'"),
    (('min_severity = "adverse"', 'min_severity = "severe"'),
     "subscribers[id=kz-ural-duty].min_severity", "'info'"),
    (('email = "duty@example.kz"', 'email = "duty at example"'),
     "subscribers[id=kz-ural-duty].email", "is not an e-mail address"),
    (('email = "duty@example.kz"', 'webhook = "ftp://x"'),
     "subscribers[id=kz-ural-duty].webhook", "http:// or https://"),
    (('email = "duty@example.kz"', 'enabled = true'), "subscribers[id=kz-ural-duty]",
     "give an email address, a webhook URL or both"),
    (('basins = ["ural"]', 'basinz = ["ural"]'), "subscribers[id=kz-ural-duty].basinz",
     "unknown key (misspelt?)"),
    (('port = 2525', 'port = 70000'), "sinks.email.port", "less than or equal to 65535"),
    (('password_env = "SMTP_PASSWORD"', 'password_env = "hunter2!"'),
     "sinks.email.password_env", "is not an environment-variable name"),
    (('interval = "30 s"', 'interval = 30'), "delivery.interval", "missing unit"),
    (('max_retry = "5 min"', 'max_retry = "1 s"'), "delivery",
     "max_retry (1 s) is shorter than first_retry (10 s)"),
    (('first_retry = "10 s"', 'first_retry = "-1 s"'), "delivery.first_retry",
     "must be a positive duration"),
])
def test_a_bad_file_names_the_file_and_the_key(tmp_path, config, edit, where, what):
    p = _write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError) as e:
        load_notifications(p, config.network)
    msg = str(e.value)
    assert msg.startswith(f"{p}: {where}: "), msg
    assert what in msg, msg


def test_unknown_basin_station_and_duplicate_ids_are_named(tmp_path, config):
    p = _write(tmp_path, GOOD.replace('basins = ["ural"]', 'basins = ["volga"]'))
    with pytest.raises(ConfigError, match=r"subscribers\[id=kz-ural-duty\]\.basins: unknown "
                                          r"basin 'volga'"):
        load_notifications(p, config.network)
    p = _write(tmp_path, GOOD.replace('basins = ["ural"]', 'stations = ["RU:NOWHERE"]'))
    with pytest.raises(ConfigError, match=r"\.stations: unknown station 'RU:NOWHERE'"):
        load_notifications(p, config.network)
    sub = GOOD[GOOD.index("[[subscribers]]"):]
    p = _write(tmp_path, GOOD + sub)
    with pytest.raises(ConfigError, match=r"subscribers\[id=kz-ural-duty\]\.id: duplicate id"):
        load_notifications(p, config.network)


def test_a_claim_timeout_shorter_than_a_send_could_take_is_refused(tmp_path):
    p = _write(tmp_path, GOOD.replace('max_retry = "5 min"',
                                      'max_retry = "5 min"\nclaim_timeout = "1 min"'))
    with pytest.raises(ConfigError, match=r"notifications\.toml: delivery\.claim_timeout: 1 min "
                                          r"is too short for a sink time-out of 30 s"):
        load_notifications(p)


def test_credentials_come_from_the_named_variables(tmp_path, monkeypatch):
    n = load_notifications(_write(tmp_path, GOOD))
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="environment variable SMTP_USER, SMTP_PASSWORD is "
                                          "not set"):
        n.sinks.email.credentials()
    monkeypatch.setenv("SMTP_USER", "hydro")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    assert n.sinks.email.credentials() == ("hydro", "s3cret")


def test_config_broken_in_the_folder_is_reported_through_config(config_copy):
    from hydro.config import load_config

    (config_copy / "notifications.toml").write_text(
        GOOD.replace('party = "KZ"', 'party = "XX"'), encoding="utf-8")
    cfg = load_config(config_copy)  # the other files are fine; the property raises
    with pytest.raises(ConfigError, match=r"notifications\.toml: subscribers\[id=kz-ural-duty\]"
                                          r"\.party"):
        _ = cfg.notifications


def test_severities_are_those_of_the_alerts():
    from typing import get_args

    from hydro.config.notifications import Severity
    from hydro.services.alerts import SEVERITIES

    assert get_args(Severity) == SEVERITIES


# --------------------------------------------------------------------------- rendering

DATA = {
    "event": {"id": 41, "kind": "opened", "at": "2024-04-05T08:00:00Z", "by": "rules",
              "note": None, "severity": "dangerous", "value": 812.0},
    "alert": {"id": 17, "rule": "orsk-stage", "kind": "stage_level", "severity": "dangerous",
              "value": 812.0, "threshold": 760.0, "observed_at": "2024-04-05T06:00:00Z",
              "standing": 1 | 8, "note": None},
    "station": {"id": "RU:ORSK", "river": "Ural",
                "names": {"kk": "Жайық – Орск қ.", "ru": "р. Урал – г. Орск",
                          "en": "Ural at Orsk"}},
    "basin": {"id": "ural", "names": {"kk": "Жайық", "ru": "Урал", "en": "Ural (Zhaiyk)"}},
}


@pytest.mark.parametrize("lang, subject, lines", [
    ("en", "[hydrorisk] New alert. Dangerous: Ural at Orsk — 812 cm",
     ["New alert: Dangerous", "Station: Ural at Orsk (RU:ORSK)", "Basin: Ural (Zhaiyk)",
      "Value: 812 cm (threshold 760 cm, difference +52 cm)",
      "Observed at: 2024-04-05 06:00 UTC", "Event time: 2024-04-05 08:00 UTC (by: rules)",
      "Data standing: provisional, reported by one party only", "Alert 17, event 41.",
      "This message was sent automatically by hydrorisk. Message key: k123"]),
    ("ru", "[hydrorisk] Новое предупреждение. Опасно: р. Урал – г. Орск — 812 см",
     ["Новое предупреждение: Опасно", "Пост: р. Урал – г. Орск (RU:ORSK)", "Бассейн: Урал",
      "Значение: 812 см (порог 760 см, разница +52 см)",
      "Время наблюдения: 2024-04-05 06:00 UTC",
      "Статус данных: предварительные, данные только одной стороны",
      "Предупреждение 17, событие 41."]),
    ("kk", "[hydrorisk] Жаңа ескерту. Қауіпті: Жайық – Орск қ. — 812 см",
     ["Жаңа ескерту: Қауіпті", "Бекет: Жайық – Орск қ. (RU:ORSK)", "Бассейн: Жайық",
      "Мән: 812 см (шекті мән 760 см, айырма +52 см)",
      "Өлшенген уақыты: 2024-04-05 06:00 UTC",
      "Деректердің мәртебесі: алдын ала, тек бір тарап хабарлаған",
      "Бұл хабарды hydrorisk автоматты түрде жіберді. Хабар кілті: k123"]),
])
def test_a_message_is_rendered_in_the_subscribers_language(lang, subject, lines):
    got_subject, body = text.render(DATA, lang, "k123")
    assert got_subject == subject
    for line in lines:
        assert line in body.splitlines(), (line, body)


def test_rendering_a_closing_with_other_units_and_no_threshold():
    data = {**DATA,
            "event": {**DATA["event"], "kind": "deescalated", "severity": "adverse",
                      "value": 431.5},
            "alert": {**DATA["alert"], "kind": "release_change", "threshold": None,
                      "standing": 0, "note": "raised five times in one day"}}
    subject, body = text.render(data, "en", "k")
    assert subject == "[hydrorisk] Alert de-escalated. Adverse: Ural at Orsk — 431.5 m³/s"
    assert "Value: 431.5 m³/s" in body.splitlines()
    assert "Data standing: confirmed" in body
    assert "Note: raised five times in one day" in body
    # an alert opened by hand (no rule kind) says nothing about a confirmed standing
    hand = {**data, "alert": {**data["alert"], "kind": None}}
    assert "standing" not in text.render(hand, "en", "k")[1]
    assert text.render(hand, "ru", "k")[0].endswith("— 431.5")  # no unit known: none shown


def test_every_string_exists_in_every_language():
    for key, entry in text.TEXT.items():
        assert set(entry) == set(text.LANGUAGES), key
        assert all(v.strip() for v in entry.values()), key
    for unit, entry in text.UNITS.items():
        assert set(entry) == set(text.LANGUAGES), unit


def test_numbers_and_times_for_people():
    assert [text.number(x) for x in (812.0, 812.5, 0.004, -0.0, 1234567.891)] == \
        ["812", "812.5", "0", "0", "1234567.89"]
    assert text.stamp("2024-04-05T06:00:00Z") == "2024-04-05 06:00 UTC"
    assert text.stamp(None) == "—"
