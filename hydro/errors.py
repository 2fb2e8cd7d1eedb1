"""The exception hierarchy: every user-facing error names what was wrong and where."""

from __future__ import annotations


class HydroriskError(Exception):
    """Base class for errors the CLI reports as one line without a traceback."""


class ConfigError(HydroriskError, ValueError):
    """A configuration file is invalid; the message names the file and the key."""


class UnitError(HydroriskError, ValueError):
    """A quantity has a missing, unknown or incompatible unit."""


def located(path: object, message: str, line: int | None = None, field: str | None = None,
            field_label: str = "column") -> str:
    """``"<file>, line <n>, <field_label> '<field>': <message>"`` (parts given only)."""
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if field is not None:
        where += f", {field_label} '{field}'"
    return f"{where}: {message}"


class IngestError(HydroriskError, ValueError):
    """A data file cannot be read; the message names the file, line and column."""

    def __init__(self, path: object, message: str, line: int | None = None,
                 column: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(located(path, message, line, column))


class StoreError(HydroriskError, RuntimeError):
    """The store cannot be opened or is at a schema version this code cannot read."""
