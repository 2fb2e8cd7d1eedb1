"""The time of every page: ``?date=`` (the day shown) and ``?asof=`` (knowledge time).

    from dashboard.timequery import resolve

    when = resolve(provider, "ru", date="2024-04-12", asof="2024-04-13T06:00", now=clock())
    when.day           # the day to show: the requested one, clamped to the stored period
    when.received_by   # naive UTC, or None: what had been received by then (as-of replay)
    when.fixed         # a past day or a knowledge time is pinned by the URL (no auto-refresh)
    when.notices       # (key, fields, level) of every banner to show, see time_banners()

``date``: an ISO day (``2024-04-12``; a time after it is ignored).  Unparseable, absurd
(``9999-12-31``) or outside the stored period: the nearest stored day is shown and a
banner says so.  ``asof``: an ISO day or time, naive UTC; a day alone means its end
(everything received that day).  The store-age banner compares the newest data with
today (``now``, injectable for tests) and the ``[dashboard] data_old_after`` setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from dashboard import format as fmt
from dashboard.provider import DataProvider

#: notice levels, as Bootstrap alert colours
WARNING, INFO, DANGER = "warning", "info", "danger"


def utcnow() -> dt.datetime:
    """The current time, naive UTC (the store's convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Notice:
    key: str                  # catalog key of the text
    level: str                # WARNING, INFO or DANGER
    fields: dict[str, str] = field(default_factory=dict)
    link_key: str | None = None   # catalog key of a link's text
    link_changes: dict[str, str | None] = field(default_factory=dict)  # query changes


@dataclass(frozen=True)
class When:
    day: dt.date
    received_by: dt.datetime | None
    fixed: bool
    first: dt.date | None
    last: dt.date | None
    notices: list[Notice]


def parse_day(value: object) -> dt.date | None:
    """``2024-04-12`` (or the day of an ISO time) -> a date; None when not a day."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_asof(value: object) -> dt.datetime | None:
    """An ISO day (its end) or time (naive UTC; an offset is converted) -> naive UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T")
    if len(text) == 10:
        day = parse_day(text)
        return dt.datetime.combine(day, dt.time.max) if day else None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def resolve(provider: DataProvider, lang: str, date: str | None = None,
            asof: str | None = None, now: dt.datetime | None = None) -> When:
    """The day, knowledge time and banners for a page's ``?date=`` and ``?asof=``."""
    now = now or utcnow()
    today = now.date()
    first, last = provider.date_range()
    notices: list[Notice] = []

    received_by = parse_asof(asof) if asof else None
    if asof and received_by is None:
        notices.append(Notice("time.asof_invalid", WARNING, {"value": str(asof)[:40]},
                              "time.drop_asof", {"asof": None}))
    elif received_by is not None:
        notices.append(Notice("time.asof_shown", INFO,
                              {"asof": fmt.date_time(received_by.replace(microsecond=0),
                                                     lang)
                               if received_by.time() != dt.time.max
                               else fmt.date(received_by, lang)},
                              "time.drop_asof", {"asof": None}))

    day = parse_day(date) if date else None
    if date and day is None:
        notices.append(Notice("asof.invalid", WARNING, {"value": str(date)[:40]}))
    requested = day
    if day is not None and first is not None and last is not None \
            and not first <= day <= last:
        day = first if day < first else last
        notices.append(Notice("time.outside", WARNING,
                              {"date": fmt.date(requested, lang), "start": fmt.date(first, lang),
                               "end": fmt.date(last, lang), "shown": fmt.date(day, lang)}))
    if day is None:
        day = last or today
    if last is None:
        day = min(day, today) if day > dt.date(1900, 1, 1) else today

    old_after = provider.config.settings.dashboard.data_old_after.to("duration")  # days
    if last is not None and (today - last).days > old_after:
        notices.append(Notice("time.data_old", DANGER,
                              {"last": fmt.date(last, lang), "today": fmt.date(today, lang),
                               "days": str((today - last).days)}))
    fixed = received_by is not None or (requested is not None and requested != last)
    return When(day=day, received_by=received_by, fixed=fixed, first=first, last=last,
                notices=notices)
