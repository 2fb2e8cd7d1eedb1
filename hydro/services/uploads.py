"""Series files uploaded through the dashboard: checked, kept under a name of our own, then
ingested exactly as a file from a source's inbox (revisioned, QC'd; a refused file goes to
quarantine with its reason) — issue #15, item 7.

What is checked before anything is written:

* **who**: the operator's party must be the source's (KZ staff load Kazhydromet's files,
  RU staff Roshydromet's); an admin may load any;
* **size**: at most :data:`MAX_UPLOAD_BYTES` (and not empty);
* **type**: the name's suffix is one the readers take (:data:`SUFFIXES`) and the content
  is what the suffix says — NetCDF starts with its signature (``CDF\\x01``, ``CDF\\x02``
  or HDF5's), a text file has no NUL bytes and decodes in one of the configured encodings;
* **name**: the name the browser sent is only ever shown (cut to its last component,
  control characters removed, at most 120 characters): the file is stored as
  ``<paths.uploads>/<source>/<UTC time>_<random>.<suffix>``, so no path, no overwrite.

The content check of the values themselves is the ingest's (the readers name file, line
and field); the messages name the upload by the name the user sent, not by our path.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.services import audit
from hydro.services.context import Store
from hydro.services.ingest import IngestResult, ingest_file

#: the largest series file accepted (bytes): a year of hourly values at every gauge of
#: a basin in agency CSV is about 3 MB
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: suffix → the kind of content it must hold
SUFFIXES: dict[str, str] = {".csv": "text", ".txt": "text", ".nc": "netcdf"}
NETCDF_SIGNATURES = (b"CDF\x01", b"CDF\x02", b"\x89HDF\r\n\x1a\n")
DISPLAY_NAME_LIMIT = 120


class UploadError(HydroriskError, ValueError):
    """An upload refused before ingest; ``key`` names the reason for translation."""

    def __init__(self, key: str, message: str, **fields: object) -> None:
        super().__init__(message)
        self.key = key
        self.fields = fields


@dataclass(frozen=True)
class UploadResult:
    """What became of an upload: the name the user sent, the source, the ingest's result
    (outcome ``loaded``, ``unchanged`` or ``rejected`` with its message)."""

    name: str
    source: str
    stored_as: str
    ingest: IngestResult


def display_name(filename: str | None) -> str:
    """The browser's file name made safe to show: its last path component (``/`` or
    ``\\``), without control characters, at most :data:`DISPLAY_NAME_LIMIT` characters."""
    raw = filename or ""
    last = PureWindowsPath(PurePosixPath(raw).name).name
    clean = "".join(c for c in last if unicodedata.category(c)[0] != "C").strip()
    clean = clean[:DISPLAY_NAME_LIMIT]
    return clean if clean not in ("", ".", "..") else "upload"


def uploadable_sources(config: Config, party: str | None, admin: bool = False) -> list[str]:
    """Ids of the sources an account of ``party`` may load files for (all for an admin)."""
    return [s.id for s in config.sources.sources if admin or s.party == party]


def check_upload(config: Config, content: bytes, filename: str | None, source: str,
                 party: str | None, admin: bool = False,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Refuse an upload that is too big, of a type no reader takes, not what its suffix
    says, or for a source of another party (:class:`UploadError`); returns its suffix."""
    name = display_name(filename)
    known = {s.id: s for s in config.sources.sources}
    if source not in known:
        raise UploadError("upload.unknown_source", f"{name}: unknown source '{source}' "
                          f"(sources: {', '.join(known)})", source=source)
    if not admin and known[source].party != party:
        raise UploadError("upload.other_party", f"{name}: source '{source}' reports for "
                          f"{known[source].party}; your account acts for {party or 'no party'}",
                          source=source, party=known[source].party)
    if not content:
        raise UploadError("upload.empty", f"{name}: the file is empty")
    if len(content) > max_bytes:
        raise UploadError("upload.too_big", f"{name}: {len(content)} bytes; the limit is "
                          f"{max_bytes} bytes", size=len(content), limit=max_bytes)
    suffix = Path(name).suffix.lower()
    kind = SUFFIXES.get(suffix)
    if kind is None:
        raise UploadError("upload.type", f"{name}: only {', '.join(SUFFIXES)} files are "
                          "accepted", types=", ".join(SUFFIXES))
    if kind == "netcdf" and not content.startswith(NETCDF_SIGNATURES):
        raise UploadError("upload.not_netcdf", f"{name}: not a NetCDF file (no NetCDF or "
                          "HDF5 signature at the start)")
    if kind == "text":
        if b"\x00" in content:
            raise UploadError("upload.not_text", f"{name}: not a text file (it holds NUL "
                              "bytes)")
        encodings = ["utf-8-sig"] + [e for lay in config.sources.layouts for e in lay.encodings]
        for enc in dict.fromkeys(encodings):
            try:
                content.decode(enc)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        else:
            raise UploadError("upload.encoding", f"{name}: the text is in none of the "
                              f"encodings {', '.join(dict.fromkeys(encodings))}")
    return suffix


def uploads_folder(config: Config) -> Path:
    """Where uploads are kept: ``[paths].uploads``."""
    return config.resolve(config.settings.paths.uploads)


def upload_series(store: Store, config: Config, content: bytes, filename: str | None,
                  source: str, user: str, party: str | None, admin: bool = False,
                  address: str | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
                  now: dt.datetime | None = None) -> UploadResult:
    """Check an uploaded series file (:func:`check_upload`), keep it under a new name and
    ingest it for ``source``; a file the ingest refuses is moved to quarantine with its
    reason.  Every upload — refused before ingest, rejected by it or loaded — is written to
    the audit log as ``upload``."""
    name = display_name(filename)
    try:
        suffix = check_upload(config, content, filename, source, party, admin, max_bytes)
    except UploadError as e:
        audit.record(store, "upload", user, address=address, target=source,
                     detail=f"refused: {e}")
        raise
    when = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    folder = uploads_folder(config) / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{when:%Y%m%dT%H%M%S}_{secrets.token_hex(6)}{suffix}"
    with open(path, "xb") as f:   # "x": never overwrite
        f.write(content)
    result = ingest_file(store, config, path, source_id=source, move_rejected=True)
    if result.message:
        result.message = result.message.replace(str(path), name)
    audit.record(store, "upload", user, address=address, target=source,
                 detail=f"{name} → {path.name}: {result.outcome}, {result.rows_written} of "
                        f"{result.rows_read} rows written" +
                        (f"; {result.message}" if result.message else ""))
    return UploadResult(name, source, str(path), result)
