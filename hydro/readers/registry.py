"""The registry of exchange formats: format name -> reader with ``detect`` and ``read``.

A new format is one new :class:`Reader` subclass decorated with :func:`register` (and its
module imported in :mod:`hydro.readers`); nothing else changes.  :func:`read_file` takes
the format from the ingest source (``config/sources.toml``) or asks each reader in
registration order whether it recognises the file.  An unknown format name is an error
that lists the known ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from hydro.config import Config, Source
from hydro.errors import IngestError
from hydro.readers import agency, grdc, netcdf, reservoir, water_quality
from hydro.readers.common import Batch, decode, split_comments

#: first bytes of a NetCDF file: classic / 64-bit offset / CDF-5, and HDF5 (NetCDF-4)
NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


class Reader(ABC):
    """One exchange format.  ``binary`` readers are asked with the raw bytes before any
    text is decoded; text readers get the first lines of the decoded file."""

    name: ClassVar[str]
    binary: ClassVar[bool] = False

    @abstractmethod
    def detect(self, path: Path, data: bytes, head: str, config: Config) -> str | None:
        """A layout id (or ``""`` when the format has none) if this reader recognises the
        file, else ``None``.  ``head`` is the decoded start of the file ('' for binary)."""

    @abstractmethod
    def read(self, path: Path, data: bytes, config: Config, layout: str | None,
             party: str | None) -> Batch:
        """The file as a :class:`Batch` in canonical units, or :class:`IngestError`."""


_READERS: dict[str, Reader] = {}


def register(cls: type[Reader]) -> type[Reader]:
    """Class decorator: add a reader to the registry under ``cls.name``."""
    if cls.name in _READERS:
        raise ValueError(f"format '{cls.name}' is registered twice")
    _READERS[cls.name] = cls()
    return cls


def formats() -> list[str]:
    """The registered format names, in detection order."""
    return list(_READERS)


def reader(name: str) -> Reader:
    """The reader of format ``name``; an unknown name lists the known ones."""
    try:
        return _READERS[name]
    except KeyError:
        raise IngestError("<config>", f"unknown format '{name}' "
                          f"(known: {', '.join(_READERS)})") from None


@register
class NetCDFReader(Reader):
    """CF-NetCDF time series (:mod:`hydro.readers.netcdf`)."""

    name = "netcdf"
    binary = True

    def detect(self, path, data, head, config):
        return "" if path.suffix.lower() == ".nc" or data.startswith(NETCDF_MAGIC) else None

    def read(self, path, data, config, layout, party):
        return netcdf.read(path, data, config, party=party)


@register
class GRDCReader(Reader):
    """GRDC station data files (:mod:`hydro.readers.grdc`)."""

    name = "grdc"

    def detect(self, path, data, head, config):
        comments, _, _ = split_comments(head)
        return "" if any("GRDC STATION DATA FILE" in c for c in comments) else None

    def read(self, path, data, config, layout, party):
        return grdc.read(path, data, config)


def _header(head: str) -> str:
    _, rest, _ = split_comments(head)
    return rest[0] if rest else ""


@register
class ReservoirReader(Reader):
    """Reservoir operations CSV (:mod:`hydro.readers.reservoir`)."""

    name = "reservoir_csv"

    def detect(self, path, data, head, config):
        return "" if _header(head).startswith("station;date;level_m") else None

    def read(self, path, data, config, layout, party):
        return reservoir.read(path, data, config)


@register
class QualityReader(Reader):
    """Water-quality samples CSV (:mod:`hydro.readers.water_quality`)."""

    name = "quality_csv"

    def detect(self, path, data, head, config):
        return "" if _header(head).startswith("site;date;parameter") else None

    def read(self, path, data, config, layout, party):
        return water_quality.read(path, data, config)


@register
class AgencyReader(Reader):
    """The national agencies' CSV layouts of ``config/sources.toml``
    (:mod:`hydro.readers.agency`); the layout is detected from the header."""

    name = "agency_csv"

    def detect(self, path, data, head, config):
        header = _header(head)
        for lay in config.sources.layouts:
            cols = [c.strip() for c in header.split(lay.delimiter)]
            if any(n in cols for n in lay.columns["station"]) and any(
                    n in cols for n in lay.columns["date"]):
                return lay.id
        return None

    def read(self, path, data, config, layout, party):
        if not layout:  # pragma: no cover - a source of agency_csv names its layout
            raise IngestError(path, "no agency layout for this file")
        if party is None:  # the reporting party is that of the source using this layout
            users = [s for s in config.sources.sources if s.layout == layout]
            party = users[0].party if users else None
        return agency.read(path, data, config, config.layout(layout), party=party)


def _head(data: bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes cut at a line end, so no character is split."""
    if len(data) <= size:
        return data
    cut = data.rfind(b"\n", 0, size)
    return data[: cut + 1] if cut > 0 else data[:size]


def detect_format(path: Path, head: str, config: Config) -> tuple[str, str | None]:
    """(format, layout id) of a text file from its first decoded lines."""
    for r in _READERS.values():
        if r.binary:
            continue
        found = r.detect(path, b"", head, config)
        if found is not None:
            return r.name, found or None
    comments, _, _ = split_comments(head)
    raise IngestError(path, "unrecognised file layout (none of the formats "
                      f"{', '.join(_READERS)} recognises it)", line=len(comments) + 1)


def read_file(path: str | Path, config: Config, source_id: str | None = None,
              data: bytes | None = None) -> Batch:
    """Read any supported file; the format comes from the source or is detected."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise IngestError(path, f"cannot read the file: {e.strerror}") from None
    src: Source | None = config.source(source_id) if source_id is not None else None
    party = src.party if src is not None else None
    if src is not None and not (src.format == "agency_csv" and src.layout is None):
        return reader(src.format).read(path, data, config, src.layout, party)
    for r in _READERS.values():
        if r.binary and r.detect(path, data, "", config) is not None:
            return r.read(path, data, config, None, party)
    if not data.strip():
        raise IngestError(path, "the file is empty")
    encodings = ["utf-8-sig"] + [e for lay in config.sources.layouts for e in lay.encodings]
    head = decode(path, _head(data), list(dict.fromkeys(encodings)))
    fmt, layout = detect_format(path, "\n".join(head.splitlines()[:60]), config)
    return reader(fmt).read(path, data, config, layout, party)
