"""The words of a notification in Kazakh, Russian and English, and the renderer that turns
an alert event (as the plain, JSON-able ``data`` of an outbox row) into a subject and a
plain-text body in the subscriber's language.

The renderer is pure: the same ``data``, language and key give the same text, so what
:mod:`hydro.services.notifications` stores at enqueue time is exactly what is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hydro.alert_rules import KIND_UNITS, Standing
from hydro.services import i18n

LANGUAGES = ("kk", "ru", "en")

#: every user-visible string, per language: the keys ``notification.*`` of hydro's gettext
#: catalogs (hydro/locale), read-only
TEXT: Mapping[str, Mapping[str, str]] = i18n.section("notification")

#: units as written in each language (stored units are ASCII, as hydro.units spells them)
UNITS: Mapping[str, Mapping[str, str]] = i18n.section("unit")


def t(name: str, lang: str, **fields: object) -> str:
    """The string ``name`` in ``lang`` (English when the language is unknown)."""
    return i18n.t(f"notification.{name}", lang, **fields)


def severity_word(severity: str, lang: str) -> str:
    """The severity as a word in ``lang`` (the code itself when it has no translation)."""
    key = f"severity.{severity}"
    return t(key, lang) if key in TEXT else severity


def unit_word(unit: str | None, lang: str) -> str:
    """``unit`` as written in ``lang`` ('' for none)."""
    if not unit:
        return ""
    return UNITS.get(unit, {}).get(lang, unit)


def number(x: float) -> str:
    """A value for people: at most two decimals, no trailing zeros, no grouping of
    thousands (agencies copy these numbers into forms)."""
    if not math.isfinite(x):
        return "—"
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(x: float, unit: str | None, lang: str) -> str:
    u = unit_word(unit, lang)
    return f"{number(x)} {u}" if u else number(x)


def stamp(iso: str | None) -> str:
    """``2024-04-05T06:00:00Z`` (as stored in ``data``) as ``2024-04-05 06:00 UTC``."""
    if not iso:
        return "—"
    return f"{iso[:10]} {iso[11:16]} UTC"


def standing_text(standing: Any, lang: str, rule_raised: bool = True) -> str | None:
    """The data's standing in ``lang``.

    ``standing`` as the store keeps it: the bits of :class:`hydro.alert_rules.Standing`
    (0 = a confirmed value, shown only for an alert a rule raised), or a list or
    comma-separated text of its codes (``provisional``, ``qc_flagged`` …); a free text is
    kept as it is."""
    if standing is None or standing == "" or standing == []:
        return None
    if isinstance(standing, bool):
        return None
    if isinstance(standing, int):
        codes = Standing(standing).names
        if not codes:
            return t("standing.confirmed", lang) if rule_raised else None
    elif isinstance(standing, (list, tuple)):
        codes = [str(c) for c in standing]
    else:
        codes = [c.strip() for c in str(standing).replace(";", ",").split(",") if c.strip()]
    words = [t(f"standing.{c}", lang) if f"standing.{c}" in TEXT else c for c in codes]
    return ", ".join(words) or None



def render(data: dict[str, Any], lang: str, key: str) -> tuple[str, str]:
    """(subject, body) of the notification ``data`` in ``lang`` ("kk", "ru" or "en").

    ``data`` is what :func:`hydro.services.notifications.event_data` builds: ``alert``
    (id, rule, kind, severity, value, threshold, observed_at, standing, note), ``event``
    (id, kind, at, by, note, and the severity and value after the step), ``station`` (id,
    names per language, river) and ``basin`` (id, names).  Times are ISO UTC strings; the body shows them as ``YYYY-MM-DD HH:MM UTC``."""
    a, e, st, b = data["alert"], data["event"], data["station"], data.get("basin") or {}
    station_name = (st.get("names") or {}).get(lang) or st["id"]
    basin_name = (b.get("names") or {}).get(lang) or b.get("id")
    sev = severity_word(e.get("severity") or a["severity"], lang)
    what = t(f"event.{e['kind']}", lang) if f"event.{e['kind']}" in TEXT else e["kind"]
    unit = a.get("unit") or KIND_UNITS.get(a.get("kind") or "")
    value = e["value"] if e.get("value") is not None else a.get("value")
    head = f"{sev}: {station_name}"
    if value is not None:
        head += f" — {quantity(value, unit, lang)}"
    subject = f"[hydrorisk] {what}. {head}"

    lines = [f"{what}: {sev}", "",
             f"{t('label.station', lang)}: {station_name} ({st['id']})"]
    if st.get("river"):
        lines.append(f"{t('label.river', lang)}: {st['river']}")
    if basin_name:
        lines.append(f"{t('label.basin', lang)}: {basin_name}")
    lines.append(f"{t('label.rule', lang)}: {a['rule']}")
    lines.append(f"{t('label.severity', lang)}: {sev}")
    if value is not None:
        line = f"{t('label.value', lang)}: {quantity(value, unit, lang)}"
        if a.get("threshold") is not None:
            diff = value - a["threshold"]
            sign = "+" if diff > 0 else ""
            line += (f" ({t('label.threshold', lang)} {quantity(a['threshold'], unit, lang)}"
                     f", {t('label.difference', lang)} {sign}{quantity(diff, unit, lang)})")
        lines.append(line)
    if a.get("observed_at"):
        lines.append(f"{t('label.observed_at', lang)}: {stamp(a['observed_at'])}")
    event_at = f"{t('label.event_at', lang)}: {stamp(e.get('at'))}"
    if e.get("by"):
        event_at += f" ({t('label.by', lang)}: {e['by']})"
    lines.append(event_at)
    standing = standing_text(a.get("standing"), lang, rule_raised=bool(a.get("kind")))
    if standing:
        lines.append(f"{t('label.standing', lang)}: {standing}")
    for note in dict.fromkeys(n for n in (e.get("note"), a.get("note")) if n):
        lines.append(f"{t('label.note', lang)}: {note}")
    lines += ["", f"{t('label.alert', lang)} {a['id']}, {t('label.event', lang)} {e['id']}.",
              t("footer", lang, key=key)]
    return subject, "\n".join(lines) + "\n"
