"""Water-quality classification with the deployment's tables, and installing an agency's
official table into them."""

from __future__ import annotations

from pathlib import Path

from hydro.config import Config
from hydro.config.quality_tables import ImportReport, import_table


def install_table(config: Config, src: str | Path, system: str | None = None,
                  out: str | Path | None = None, force: bool = False) -> ImportReport:
    """Validate ``src`` as a table of ``system`` and write it into the deployment's
    ``config/quality`` (or ``out``); a bad table raises an error naming file, line, field."""
    return import_table(src, system=system, out=out, quality_dir=config.quality_dir,
                        force=force)
