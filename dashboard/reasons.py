"""Why a file was refused, in the page's language.

hydro's readers refuse a file with an English message, ``"<path>, line <n>: <problem>"``
(:class:`hydro.readers.common.IngestError`), kept in the store and in the quarantine's
``.reason.txt`` for the operator's log.  The data-status page shows it through
:func:`reason_text`: the problems the readers raise most (a missing or unknown column, an
unknown station or party, an empty or unreadable file, a value that is not a number or a
date, a line with the wrong number of fields, ...) are translated from their pattern; any
other problem is introduced in the page's language and quoted as the original English
message, marked ``lang="en"``.

    reason_text("/in/bad.csv, line 1: missing column 'volume_hm3'", "ru")
    # ['bad.csv, строка 1: нет столбца «volume_hm3»']

The same patterns translate the scenario lab's refused schedule uploads
(:func:`hydro.release_plans.parse_schedule_csv`), and :func:`coded_text` says a service's
keyed message (:class:`hydro.messages.Coded`: run status notes, compare and results notes)
in the page's language.
"""

from __future__ import annotations

import re

from dash import html

from dashboard.format import DASH
from dashboard.i18n import N_, t

#: ``<path>, line <n>: <problem>`` or ``<path>: <problem>``
_PREFIX = re.compile(r"^(?P<path>[^\n]*?\.\w{1,8})(?:, line (?P<line>\d+))?: (?P<problem>.+)$",
                     re.S)

#: a reader's problem -> catalog key (its named groups are the key's fields)
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), key) for pattern, key in (
        (r"missing column '(?P<column>[^']+)'", N_("reason.missing_column")),
        (r"no '(?P<column>[^']+)' column", N_("reason.missing_column")),
        (r"unknown column '(?P<column>[^']+)'", N_("reason.unknown_column")),
        (r"unknown station '(?P<station>[^']+)'", N_("reason.unknown_station")),
        (r"unknown party '(?P<party>[^']+)'", N_("reason.unknown_party")),
        (r"unknown parameter '(?P<parameter>[^']+)'", N_("reason.unknown_parameter")),
        (r"the file is empty", N_("reason.empty")),
        (r"no data lines after the header", N_("reason.no_data")),
        (r"'(?P<value>[^']*)' is not a number", N_("reason.not_number")),
        (r"'(?P<value>[^']*)' is not a date", N_("reason.not_date")),
        (r"expected (?P<expected>\d+) fields, found (?P<found>\d+)", N_("reason.fields")),
        (r"only CSV files are accepted", N_("reason.only_csv")),
        (r"cannot decode the file as", N_("reason.encoding")),
        (r"cannot read", N_("reason.unreadable")),
        (r"more than the limit of", N_("reason.too_large")),
        (r"not a readable NetCDF file", N_("reason.not_netcdf")),
        (r"station (?P<station>\S+) of party (?P<party>\S+) appears twice",
         N_("reason.duplicate")),
        # release-plan schedules (hydro.release_plans.parse_schedule_csv, the lab's upload)
        (r"the date column is given twice", N_("reason.date_twice")),
        (r"give one value column", N_("reason.one_value_column")),
        (r"the column does not name its unit", N_("reason.no_unit")),
        (r"empty column name", N_("reason.empty_column_name")),
        (r"unknown column \(expected 'date'", N_("reason.schedule_column")),
        (r"no value column", N_("reason.no_value_column")),
        (r"more than (?P<limit>\d+) rows", N_("reason.too_many_rows")),
        (r"(?P<found>\d+) cells, the header has (?P<expected>\d+)", N_("reason.fields")),
        (r"empty cell; every row needs a date", N_("reason.empty_date")),
        (r"dates must be strictly increasing: (?P<day>\S+) follows (?P<previous>\S+)",
         N_("reason.not_increasing")),
        (r"empty cell; give a number", N_("reason.empty_number")),
        (r"'(?P<value>[^']*)' is not a finite number", N_("reason.not_finite")),
        (r"a release cannot be negative \((?P<value>\S+) m3/s\)",
         N_("reason.negative_release")),
        (r"the file has a header but no rows", N_("reason.no_data")),
        (r"this is a spreadsheet workbook", N_("reason.workbook")),
        (r"the file is binary", N_("reason.binary")),
        (r"the file is not text", N_("reason.encoding")),
        # the lab's plans (hydro.services.release_plans.PlanError)
        (r"plan name '(?P<name>[^']*)': use 1", N_("reason.plan_name")),
        (r"'(?P<name>[^']+)' is a plan of the scenario file", N_("reason.plan_name_taken")),
        (r"a plan needs the schedule of at least one reservoir", N_("reason.plan_empty")),
    ))


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _original(text: str) -> html.Q:
    """``text`` quoted as the original English message (``lang="en"``: a reader and the
    page's language scan know it is not the page's own words)."""
    return html.Q(text, lang="en", className="reason-original")


def translate_problem(problem: str, lang: str) -> str | None:
    """``problem`` (a reader's message without its file and line) in ``lang``; None when
    it follows none of :data:`PATTERNS`."""
    for pattern, key in PATTERNS:
        match = pattern.search(problem)
        if match:
            return t(key, lang, **match.groupdict())
    return None


def reason_text(message: str, lang: str) -> list:
    """The refusal ``message`` for a page in ``lang``: the file's name, the line and the
    problem translated; an untranslated problem is quoted (``lang="en"``) after a sentence
    in ``lang`` that says so.  English pages show the message as it is."""
    if lang == "en" or not message:
        return [message]
    prefix = _PREFIX.match(message.strip())
    problem = prefix.group("problem") if prefix else message.strip()
    translated = translate_problem(problem, lang)
    if translated is None:
        lead = t("reason.original", lang)
        body: list = [lead + " ", _original(problem)]
    else:
        body = [translated]
    if prefix is None:
        return body
    name = _file_name(prefix.group("path"))
    where = (t("reason.where_line", lang, file=name, line=prefix.group("line"))
             if prefix.group("line") else name)
    return [where + ": ", *body]


def coded_text(message: str, lang: str) -> list:
    """A service's message in ``lang``: a :class:`hydro.messages.Coded` by its key and
    fields, an ``error`` field (an English exception text) quoted after it (``lang="en"``);
    a plain string by :data:`PATTERNS`, else quoted after ``reason.original_message``.
    English pages show the message as it is."""
    if lang == "en" or not message:
        return [str(message)]
    key = getattr(message, "key", None)
    if key is None:
        translated = translate_problem(str(message), lang)
        if translated is not None:
            return [translated]
        return [t("reason.original_message", lang) + " ", _original(str(message))]
    values = dict(getattr(message, "values", {}))
    error = values.pop("error", None)
    text = t(key, lang, **{k: (DASH if v is None else v) for k, v in values.items()})
    if not error:
        return [text]
    translated = translate_problem(str(error), lang)
    if translated is not None:
        return [text + " " + translated]
    return [text + " ", _original(str(error))]
