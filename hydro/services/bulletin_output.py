"""The daily bulletin (:mod:`hydro.services.bulletin`) as the agencies publish it: localised
tables (Kazakh, Russian, English) and the CSV, HTML and PDF files, shared by the dashboard's
``/bulletin`` page and ``hydrorisk report bulletin``.

* CSV: UTF-8 with a byte-order mark (so Excel reads the Cyrillic), ``;`` between fields and
  a decimal comma in kk and ru, as the agencies' own tables; localised headers; plain
  numbers (no grouping) so that it reads back.
* HTML: one self-contained document (inline style, ``<html lang>``).
* PDF: ReportLab, A4 landscape, DejaVu Sans (shipped in ``hydro/fonts`` with its licence:
  it has the Cyrillic and Kazakh letters).  A store holding the bundled demonstration data
  gets a SYNTHETIC stamp and note on every page.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from pathlib import Path

import pandas as pd

from hydro.config import Config
from hydro.services import i18n
from hydro.services.bulletin import gauges, group_rows, reservoirs

LANGUAGES = ("kk", "ru", "en")
FORMATS = ("csv", "html", "pdf")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
               "pdf": "application/pdf"}
FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"

#: every word of the bulletin, per language: the keys ``bulletin.*`` of hydro's gettext
#: catalogs (hydro/locale), read-only
TEXT: Mapping[str, Mapping[str, str]] = i18n.section("bulletin")

#: ice-phenomena codes (config/sources.toml [phenomena]) in each language
PHENOMENA: Mapping[str, Mapping[str, str]] = i18n.section("ice")

#: river names of config/basins.toml in each language
RIVERS: Mapping[str, Mapping[str, str]] = i18n.section("river")


def text(key: str, lang: str, **fields: object) -> str:
    """The bulletin's word ``key`` in ``lang`` (kk, ru, en), ``str.format``-ed with ``fields``."""
    return i18n.t(f"bulletin.{key}", lang, **fields)


def phenomenon(code: str | None, lang: str) -> str:
    if not code:
        return ""
    return PHENOMENA.get(code, {}).get(lang, code)


def river(name: str, lang: str) -> str:
    return RIVERS.get(name, {}).get(lang, name)


def fmt(value: object, lang: str, decimals: int = 0, signed: bool = False,
        group: bool = False) -> str:
    """A number for a reader: decimal comma in kk and ru (and, with ``group``, a narrow
    space between thousands), a point in en; a true minus sign; ``""`` for nothing."""
    if value is None:
        return ""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    if decimals == 0:
        x = float(round(x))
        if x == 0:
            x = 0.0  # no "-0"
    s = f"{x:{'+' if signed and x != 0 else ''}{',' if group else ''}.{decimals}f}"
    if lang in ("kk", "ru"):
        s = s.replace(",", "\u202f").replace(".", ",")
    return s.replace("-", "−")


def fmt_day(day: dt.date, lang: str) -> str:
    return day.strftime("%d.%m.%Y") if lang in ("kk", "ru") else day.isoformat()


def fmt_time(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- display model

#: a number formatter: (value, lang, decimals, signed=...) -> text
Number = Callable[..., str]


@dataclass
class Row:
    cells: list[str]
    status: str = ""          # warning category of the row (for colouring)


@dataclass
class Group:
    title: str                # "Ural basin — River Or"
    rows: list[Row] = field(default_factory=list)


@dataclass
class Table:
    key: str                  # "gauges" | "reservoirs"
    title: str
    headers: list[str]
    groups: list[Group]
    numeric: list[bool]       # right-aligned columns


@dataclass
class Document:
    lang: str
    title: str
    subtitle: str
    knowledge: str
    synthetic: str | None
    tables: list[Table]
    notes: list[str]


def _name(row, lang: str) -> str:
    return str(row.get(f"name_{lang}") or row.get("name_en") or row["station_id"])


def _party(code: str | None, lang: str) -> str:
    return TEXT.get(f"party.{code}", {}).get(lang, code or "") if code else ""


def _basin_name(config: Config, basin: str, lang: str) -> str:
    b = config.network.basins.get(basin)
    return b.names.get(lang) if b else basin


def _is(x: object) -> bool:
    """Not None, NaN or NaT."""
    return x is not None and not bool(pd.isna(cast(Any, x)))


def gauge_table(frame: pd.DataFrame, config: Config, lang: str, num: Number | None = None
                ) -> Table:
    """The gauge rows laid out in ``lang``; ``num`` formats the numbers (default
    :func:`fmt`)."""
    num = num or fmt
    headers = [text(k, lang) for k in (
        "col.post", "col.code", "col.party", "col.time", "col.stage", "col.change",
        "col.dangerous", "col.remaining", "col.adverse", "col.remaining_adverse", "col.ice",
        "col.discharge")]
    numeric = [False, False, False, False, True, True, True, True, True, True, False, True]
    groups = []
    for basin, riv, part in group_rows(gauges(frame)):
        group = Group(f"{_basin_name(config, basin, lang)} — {river(riv, lang)}")
        for r in part.to_dict("records"):
            mark = " *" if r["level_status"] not in (None, "published") and \
                _is(r["level_status"]) else ""
            has = _is(r["stage_cm"])
            ice = phenomenon(r["phenomena"] if _is(r["phenomena"]) else None, lang)
            if r["ice"]:
                ice = f"❄ {ice}".strip()
            local = r["local_time"]
            group.rows.append(Row([
                _name(r, lang),
                str(r["post_code"]) if _is(r["post_code"]) else "",
                _party(r["party"], lang),
                local.strftime("%H:%M") if _is(local) and has else "",
                num(r["stage_cm"], lang) if has else text("no_data", lang),
                num(r["change_cm"], lang, signed=True),
                num(r["dangerous_cm"], lang) + (mark if _is(r["dangerous_cm"]) else ""),
                num(r["remaining_cm"], lang, signed=False),
                num(r["adverse_cm"], lang) + (mark if _is(r["adverse_cm"]) else ""),
                num(r["remaining_adverse_cm"], lang),
                ice,
                num(r["discharge_m3s"], lang),
            ], status=str(r["status"]) if has else "no_data"))
        groups.append(group)
    return Table("gauges", text("section.gauges", lang), headers, groups, numeric)


def reservoir_table(frame: pd.DataFrame, config: Config, lang: str, num: Number | None = None
                    ) -> Table:
    """The reservoir rows laid out in ``lang``; ``num`` formats the numbers."""
    num = num or fmt
    headers = [text(k, lang) for k in (
        "col.reservoir", "col.party", "col.level", "col.npu", "col.fpu", "col.to_npu",
        "col.volume", "col.free", "col.inflow", "col.release", "col.spill")]
    numeric = [False, False] + [True] * 9
    groups = []
    for basin, riv, part in group_rows(reservoirs(frame)):
        group = Group(f"{_basin_name(config, basin, lang)} — {river(riv, lang)}")
        for r in part.to_dict("records"):
            est = set(str(r["estimated"] or "").split(","))
            has = _is(r["level_m"]) or _is(r["inflow_m3s"]) or _is(r["volume_hm3"])
            release = num(r["release_m3s"], lang)
            if not _is(r["release_m3s"]) and _is(r["outflow_m3s"]):
                release = "Σ " + num(r["outflow_m3s"], lang)
            group.rows.append(Row([
                _name(r, lang),
                _party(r["party"], lang),
                num(r["level_m"], lang, 2) if _is(r["level_m"]) else text("no_data", lang),
                num(r["npu_m"], lang, 2) + (" *" if "npu" in est else ""),
                num(r["fpu_m"], lang, 2) + (" *" if "fpu" in est else ""),
                num(r["to_npu_m"], lang, 2),
                num(r["volume_hm3"], lang),
                num(r["free_capacity_hm3"], lang) + (
                    " *" if "storage_table" in est and _is(r["free_capacity_hm3"]) else ""),
                num(r["inflow_m3s"], lang),
                release,
                num(r["spill_m3s"], lang),
            ], status=str(r["status"]) if has else "no_data"))
        groups.append(group)
    return Table("reservoirs", text("section.reservoirs", lang), headers, groups, numeric)


def document(frame: pd.DataFrame, config: Config, lang: str, synthetic: bool,
             as_of: dt.datetime | None = None, made_at: dt.datetime | None = None,
             num: Number | None = None) -> Document:
    """The bulletin laid out in ``lang``: titles, both tables, notes."""
    day: dt.date = frame.attrs["day"]
    knowledge = text("asof", lang, time=fmt_time(as_of)) if as_of else text("asof.all", lang)
    notes = [text("note.terms", lang), text("note.provisional", lang), text("note.ice", lang),
             text("note.reservoirs", lang)]
    if made_at is not None:
        notes.append(text("generated", lang, time=fmt_time(made_at)))
    return Document(lang, text("title", lang), text("subtitle", lang, date=fmt_day(day, lang)),
                    knowledge, text("synthetic", lang) if synthetic else None,
                    [gauge_table(frame, config, lang, num), reservoir_table(frame, config, lang, num)],
                    notes)


# --------------------------------------------------------------------------- CSV

#: CSV columns: (frame column, header key, kind: "text" | "int" | "float2" | "float0")
CSV_COLUMNS = [
    ("kind", "col.kind", "kind"), ("basin", "col.basin", "basin"),
    ("river", "col.river", "river"), ("name", "col.post", "text"),
    ("post_code", "col.code", "text"), ("party", "col.party", "party"),
    ("local_time", "col.time", "time"),
    ("stage_cm", "col.stage", "int"), ("change_cm", "col.change", "int"),
    ("dangerous_cm", "col.dangerous", "int"), ("remaining_cm", "col.remaining", "int"),
    ("adverse_cm", "col.adverse", "int"),
    ("remaining_adverse_cm", "col.remaining_adverse", "int"),
    ("phenomena", "col.ice", "phen"), ("discharge_m3s", "col.discharge", "float1"),
    ("level_m", "col.level", "float2"), ("npu_m", "col.npu", "float2"),
    ("fpu_m", "col.fpu", "float2"), ("to_npu_m", "col.to_npu", "float2"),
    ("volume_hm3", "col.volume", "float1"), ("free_capacity_hm3", "col.free", "float1"),
    ("inflow_m3s", "col.inflow", "float1"), ("release_m3s", "col.release", "float1"),
    ("spill_m3s", "col.spill", "float1"), ("outflow_m3s", "col.outflow", "float1"),
]


def csv_frame(frame: pd.DataFrame, config: Config, lang: str) -> pd.DataFrame:
    """The bulletin as a flat table with localised headers and words (numbers stay numbers)."""
    out: dict[str, object] = {}
    names = [_name(r, lang) for r in frame.to_dict("records")]
    for column, key, kind in CSV_COLUMNS:
        header = text(key, lang)
        if kind == "kind":
            out[header] = [text(f"kind.{k}", lang) for k in frame["kind"]]
        elif kind == "basin":
            out[header] = [_basin_name(config, b, lang) for b in frame["basin"]]
        elif kind == "river":
            out[header] = [river(x, lang) for x in frame["river"]]
        elif column == "name":
            out[header] = names
        elif kind == "party":
            out[header] = [_party(p, lang) for p in frame["party"]]
        elif kind == "time":
            out[header] = [fmt_time(t) if _is(t) else "" for t in frame["local_time"]]
        elif kind == "phen":
            out[header] = [phenomenon(p if _is(p) else None, lang) for p in frame["phenomena"]]
        elif kind == "text":
            out[header] = [str(x) if _is(x) else "" for x in frame[column]]
        elif kind == "int":
            out[header] = pd.array([round(float(x)) if _is(x) else None for x in frame[column]],
                                   dtype="Int64")
        else:
            digits = int(kind[-1])
            out[header] = [round(float(x), digits) if _is(x) else None for x in frame[column]]
    return pd.DataFrame(out)


def to_csv(frame: pd.DataFrame, config: Config, lang: str) -> bytes:
    """UTF-8 with BOM, ``;``-separated, decimal comma in kk and ru."""
    ordered = pd.concat([gauges(frame), reservoirs(frame)])
    table = csv_frame(ordered, config, lang)
    data = table.to_csv(sep=";", index=False, decimal="," if lang in ("kk", "ru") else ".",
                        lineterminator="\r\n")
    return ("\ufeff" + data).encode("utf-8")


# --------------------------------------------------------------------------- HTML

STATUS_COLOURS = {"dangerous": "#f8d0d0", "adverse": "#fdebc8",
                  "low_water_dangerous": "#f0d8f0", "no_data": "#f1f1f1"}


def to_html(doc: Document) -> str:
    """One self-contained HTML document."""
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"{doc.lang}\"><head><meta charset=\"utf-8\">",
             f"<title>{e(doc.title)} — {e(doc.subtitle)}</title>",
             "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:12px;margin:16px}"
             "table{border-collapse:collapse;margin-bottom:16px}"
             "th,td{border:1px solid #999;padding:2px 6px}th{background:#e8eef5}"
             "td.n{text-align:right;white-space:nowrap}tr.group td{background:#f4f4f4;"
             "font-weight:bold}.synthetic{color:#a00;font-weight:bold;border:2px solid #a00;"
             "padding:6px;margin:8px 0}</style></head><body>",
             f"<h1>{e(doc.title)}</h1><p><b>{e(doc.subtitle)}</b>; {e(doc.knowledge)}</p>"]
    if doc.synthetic:
        parts.append(f"<div class=\"synthetic\">{e(doc.synthetic)}</div>")
    for table in doc.tables:
        parts.append(table_html(table))
    parts.append("".join(f"<p>{e(n)}</p>" for n in doc.notes))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def table_html(table: Table) -> str:
    e = html.escape
    out = [f"<h2>{e(table.title)}</h2><table class=\"bulletin-{table.key}\"><thead><tr>"]
    out += [f"<th>{e(h)}</th>" for h in table.headers]
    out.append("</tr></thead><tbody>")
    for group in table.groups:
        out.append(f"<tr class=\"group\"><td colspan=\"{len(table.headers)}\">"
                   f"{e(group.title)}</td></tr>")
        for row in group.rows:
            colour = STATUS_COLOURS.get(row.status)
            style = f" style=\"background:{colour}\"" if colour else ""
            out.append(f"<tr{style}>" + "".join(
                f"<td class=\"n\">{e(c)}</td>" if num else f"<td>{e(c)}</td>"
                for c, num in zip(row.cells, table.numeric, strict=True)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# --------------------------------------------------------------------------- PDF

_fonts_registered = False


def _register_fonts() -> None:
    """Lock ReportLab down (no remote resources, :mod:`hydro.services.reportlab_policy`)
    and register the DejaVu fonts: every PDF builder calls this first."""
    global _fonts_registered
    from hydro.services.reportlab_policy import lock_down

    lock_down()
    if _fonts_registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    _fonts_registered = True


def to_pdf(doc: Document) -> bytes:
    """The bulletin as an A4 landscape PDF (ReportLab, DejaVu Sans)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    _register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=7, leading=8.5)
    title = ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18)
    h2 = ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14,
                        spaceBefore=6, spaceAfter=3)
    warn = ParagraphStyle("warn", parent=base, fontName=FONT_BOLD, fontSize=9, leading=11,
                          textColor=colors.HexColor("#a00000"), borderColor=colors.HexColor(
                              "#a00000"), borderWidth=1, borderPadding=4, spaceBefore=4,
                          spaceAfter=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9)
    e = html.escape

    story: list = [Paragraph(e(doc.title), title),
                   Paragraph(f"<b>{e(doc.subtitle)}</b>; {e(doc.knowledge)}", base)]
    if doc.synthetic:
        story.append(Paragraph(e(doc.synthetic), warn))
    story.append(Spacer(1, 3 * mm))
    width = landscape(A4)[0] - 20 * mm
    for table in doc.tables:
        story.append(Paragraph(e(table.title), h2))
        data: list[list] = [[Paragraph(e(h), head) for h in table.headers]]
        style = [
            ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
        for i, num in enumerate(table.numeric):
            if num:
                style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
        for group in table.groups:
            data.append([Paragraph(f"<b>{e(group.title)}</b>", cell)]
                        + [""] * (len(table.headers) - 1))
            r = len(data) - 1
            style += [("SPAN", (0, r), (-1, r)),
                      ("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f4f4f4"))]
            for row in group.rows:
                data.append([Paragraph(e(row.cells[0]), cell), *row.cells[1:]])
                colour = STATUS_COLOURS.get(row.status)
                if colour:
                    style.append(("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1),
                                  colors.HexColor(colour)))
        first = 0.24 if table.key == "gauges" else 0.2
        rest = (1 - first) / (len(table.headers) - 1)
        widths = [width * first] + [width * rest] * (len(table.headers) - 1)
        t = RLTable(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle(style))
        story.append(t)
    story.append(Spacer(1, 3 * mm))
    story += [Paragraph(e(n), base) for n in doc.notes]

    stamp = text("stamp", doc.lang) if doc.synthetic else None

    def decorate(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(landscape(A4)[0] - 10 * mm, 6 * mm,
                               f"{doc.subtitle} — {canvas.getPageNumber()}")
        if stamp:
            canvas.setFont(FONT_BOLD, 60)
            canvas.setFillColor(colors.Color(0.8, 0, 0, alpha=0.12))
            canvas.translate(landscape(A4)[0] / 2, landscape(A4)[1] / 2)
            canvas.rotate(25)
            canvas.drawCentredString(0, 0, stamp)
        canvas.restoreState()

    buf = io.BytesIO()
    pdf = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=10 * mm,
                            rightMargin=10 * mm, topMargin=10 * mm, bottomMargin=12 * mm,
                            title=f"{doc.title} — {doc.subtitle}", author="hydrorisk",
                            lang=doc.lang)
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()


# --------------------------------------------------------------------------- one call

def render(frame: pd.DataFrame, config: Config, lang: str, fmt_: str, synthetic: bool,
           as_of: dt.datetime | None = None, made_at: dt.datetime | None = None) -> bytes:
    """The bulletin ``frame`` as a ``csv``, ``html`` or ``pdf`` file in ``lang``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if fmt_ == "csv":
        return to_csv(frame, config, lang)
    doc = document(frame, config, lang, synthetic, as_of, made_at)
    if fmt_ == "html":
        return to_html(doc).encode("utf-8")
    if fmt_ == "pdf":
        return to_pdf(doc)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt_!r}")


def filename(day: dt.date, lang: str, fmt_: str) -> str:
    return f"bulletin-{day.isoformat()}-{lang}.{fmt_}"
