"""Water-quality sample CSV: site;date;parameter;value;unit.

``<0.01`` is kept as a censored value at its detection limit (flag ``censored``), never
turned into a number or dropped.  Units are harmonised to each parameter's configured unit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError, UnitError
from hydro.readers.common import (
    Batch,
    StationResolver,
    TimeWindow,
    local_to_utc,
    parse_dates,
    read_semicolon_table,
    resolve_stations,
    to_number,
)
from hydro.units import convert_to, dimension_of

REQUIRED = ["site", "date", "parameter", "value", "unit"]


def read(path: Path, data: bytes, config: Config) -> Batch:
    frame, _, lines, _ = read_semicolon_table(path, data, ["utf-8-sig", "cp1251"], REQUIRED)
    empty = frame["unit"].str.strip() == ""
    if empty.any():
        pos = int(np.flatnonzero(empty.to_numpy())[0])
        raise IngestError(path, "missing unit (truncated line?)", line=int(lines[pos]),
                          column="unit")
    resolver = StationResolver(config)
    site = resolve_stations(path, frame["site"].str.strip(), resolver, lines, "site")
    params = frame["parameter"].str.strip()
    unknown = [p for p in params.unique() if p not in config.quality_parameters]
    if unknown:
        pos = int(np.flatnonzero(params.to_numpy() == unknown[0])[0])
        raise IngestError(path, f"unknown parameter '{unknown[0]}' (see "
                          "config/quality/parameters.toml)", line=int(lines[pos]),
                          column="parameter")
    raw = frame["value"].str.strip()
    censored = raw.str.startswith("<")
    values = to_number(path, raw.str.lstrip("<").str.strip(), lines, "value", decimal=".")
    if values.isna().any():
        pos = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise IngestError(path, "empty value", line=int(lines[pos]), column="value")
    units = frame["unit"].str.strip()
    converted = values.copy()
    out_unit = params.map(lambda p: config.quality_parameters[p].unit)
    for key, idx in pd.DataFrame({"p": params, "u": units}).groupby(["p", "u"]).groups.items():
        assert isinstance(key, tuple)  # grouped by two columns: (parameter, unit)
        param, unit = key
        target = config.quality_parameters[param].unit
        try:
            dim = dimension_of(target)
            converted.loc[idx] = convert_to(values.loc[idx], unit, target, dim)
        except UnitError as e:
            pos = int(np.flatnonzero((params == param).to_numpy() & (units == unit).to_numpy())[0])
            raise IngestError(path, f"unit '{unit}' cannot be used for {param} (expected "
                              f"{target}): {e}", line=int(lines[pos]), column="unit") from None
    dates = parse_dates(path, frame["date"], "%Y-%m-%d", lines, "date", TimeWindow.of(config))
    time_utc = local_to_utc(dates, site, resolver)
    out = pd.DataFrame({
        "site_id": site, "time": time_utc, "parameter": params, "value": converted,
        "censored": censored.to_numpy(), "unit": out_unit, "party": site.map(resolver.country),
        "line": lines})
    # a sample given twice: the later line is a correction (hydro.readers.common.order_series)
    out = out.drop_duplicates(["site_id", "time", "parameter"], keep="last")
    return Batch(path, "quality_csv", quality=out.reset_index(drop=True))
