"""Readers: find the format of a file, read it and harmonise names and units.

Every reader returns a :class:`~hydro.readers.common.Batch` whose values are already in
canonical units (hydro.units) with station ids resolved against the configured network,
or raises :class:`~hydro.errors.IngestError` naming the file, line and column.  Formats:
GRDC exports, agency CSV layouts (config/sources.toml), reservoir operations and
water-quality CSVs, and CF-NetCDF time series (``.nc``, :mod:`hydro.readers.netcdf`), each
behind the registry of :mod:`hydro.readers.registry`.

May import: the science modules and hydro.config.  Never the store, services, the CLI or
the worker.
"""

from hydro.readers.common import Batch  # noqa: F401
from hydro.readers.registry import (  # noqa: F401
    Reader,
    detect_format,
    formats,
    read_file,
    reader,
    register,
)
