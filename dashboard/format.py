"""Numbers and dates written for the page's language, with Babel (CLDR data, offline).

    number(1234.5, "ru", 1)      -> "1 234,5"   (no-break space, decimal comma)
    number(-40, "kk")            -> "−40"       (a true minus sign, U+2212)
    number(31, "en", signed=True)-> "+31"
    date(dt.date(2024, 4, 12), "ru")          -> "12.04.2024"
    date(dt.date(2024, 4, 12), "ru", "long")  -> "12 апреля 2024 г."

Missing values (None, NaN) are written as an em dash.  Numbers in the warning-level
columns (stage in cm) have no grouping separator by default so that "ОЯ 930" and
"1134" read as the bulletins write them; ``group=True`` groups thousands.
"""

from __future__ import annotations

import datetime as dt
import math

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

#: Babel locale of each dashboard language
LOCALES: dict[str, str] = {"kk": "kk_KZ", "ru": "ru_RU", "en": "en"}
MINUS = "\u2212"
DASH = "—"


def locale(lang: str) -> str:
    """The Babel locale for ``lang`` (English for an unknown language)."""
    return LOCALES.get(lang, "en")


def number(value: float | None, lang: str, decimals: int = 0, signed: bool = False,
           group: bool = False) -> str:
    """``value`` rounded to ``decimals`` places in ``lang``'s notation (decimal comma in kk
    and ru), with a minus sign (U+2212), ``+`` for a positive value when ``signed``, and
    thousands grouped when ``group``; an em dash for None or NaN."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return DASH
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0"
    pattern = ("#,##0" if group else "0") + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(abs(rounded), format=pattern, locale=locale(lang),
                          decimal_quantization=True)
    if rounded < 0:
        return MINUS + text
    return ("+" + text) if signed and rounded > 0 else text


def date(value: dt.date | dt.datetime | None, lang: str, style: str = "short") -> str:
    """A day in ``lang``'s notation: ``style`` "short" (12.04.2024 in ru, 12.04.24 in kk,
    2024-04-12 in en: ISO, which every reader of the English page can read unambiguously),
    "medium" or "long" (month names); an em dash for None."""
    if value is None:
        return DASH
    day = value.date() if isinstance(value, dt.datetime) else value
    if style == "short":
        if lang == "en":
            return day.isoformat()
        return format_date(day, "dd.MM.yyyy", locale=locale(lang))
    return format_date(day, style, locale=locale(lang))


def date_time(value: dt.datetime | None, lang: str) -> str:
    """A time of day after the day (``12.04.2024 08:00``; ISO in en); a value at midnight
    (a daily value) as the day alone; an em dash for None."""
    if value is None:
        return DASH
    if value.time() == dt.time():
        return date(value, lang)
    if lang == "en":
        return value.strftime("%Y-%m-%d %H:%M")
    return format_datetime(value, "dd.MM.yyyy HH:mm", locale=locale(lang))
