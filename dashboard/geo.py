"""The overview map's geometry, shipped in ``dashboard/geodata`` (see its SOURCES.md).

:func:`lines` reads one of the GeoJSON files into plain (lon, lat) polylines; nothing is
fetched from the internet.  The files are made by ``scripts/make_map_geometry.py``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

GEODATA_DIR = Path(__file__).resolve().parent / "geodata"
RIVERS = "rivers"
BORDER = "border_kz_ru"
#: the region the files cover: (lon_min, lat_min, lon_max, lat_max), degrees
REGION = (46.0, 45.0, 88.0, 60.0)

Polyline = tuple[tuple[float, float], ...]


@cache
def lines(name: str) -> tuple[Polyline, ...]:
    """The (lon, lat) polylines of ``geodata/<name>.geojson`` (LineString and
    MultiLineString features); an empty tuple when the file is missing."""
    path = GEODATA_DIR / f"{name}.geojson"
    if not path.is_file():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    out: list[Polyline] = []
    for feature in data.get("features", []):
        geometry = feature.get("geometry") or {}
        parts = geometry.get("coordinates", [])
        if geometry.get("type") == "LineString":
            parts = [parts]
        elif geometry.get("type") != "MultiLineString":
            continue
        for part in parts:
            out.append(tuple((float(p[0]), float(p[1])) for p in part))
    return tuple(out)
