"""How the command modules print for people (shared by them, as :mod:`hydro.cli.args` is):
stations by name and id, numbers to a sensible precision, probabilities in %, a blank as
``—`` (never NaN or NaT), plain aligned tables, and the synthetic-data note."""

from __future__ import annotations

import math
from typing import Any

DASH = "—"


def station_label(config: Any, station: str) -> str:
    """``"Ural at Kushum (KZ:19072)"``: the English name and the id (the id alone when the
    config does not know it)."""
    try:
        node = config.network.node(station)
    except KeyError:
        return station
    return f"{node.names.en} ({station})"


def number(x: Any, unit: str = "") -> str:
    """A value to a precision that suits it: whole numbers from 100 (and any stage in cm),
    one decimal from 10, two below; ``—`` for a missing or non-finite one."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(v):
        return DASH
    if unit == "cm" or abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def percent(p: Any) -> str:
    """A probability (0..1) in whole per cent; "<1 %" and ">99 %" rather than a misleading
    0 or 100 for a small but real chance."""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(v):
        return DASH
    return "<1 %" if 0 < v < 0.005 else ">99 %" if 0.995 < v < 1 else f"{100 * v:.0f} %"


def table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Columns aligned to their widest cell; the columns in ``right`` right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def print_synthetic_note(store: Any) -> None:
    """The line that says the store holds the bundled synthetic data, when it does."""
    from hydro.services.observations import synthetic_note

    note = synthetic_note(store)
    if note:
        print(note)
