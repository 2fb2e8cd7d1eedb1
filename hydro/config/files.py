"""Reading TOML files and turning validation errors into messages that name the file and
the key; the one formatter for every config and scenario file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hydro.errors import ConfigError


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a missing or malformed file is a ConfigError naming it."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
