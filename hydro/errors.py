"""The exception hierarchy: every user-facing error names what was wrong and where."""

from __future__ import annotations

from typing import Any


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


def _error_key(raw: object, loc: tuple[object, ...] | list[object]) -> str:
    """Render a pydantic error location as the key a user wrote: list items are named by
    their ``id`` (or ``station``, ``name``) where they have one, keys holding ``:`` or ``.``
    are quoted, and the tags pydantic adds for unions and validators are left out."""
    parts: list[str] = []
    node: object = raw
    for pos, item in enumerate(loc):
        last = pos == len(loc) - 1
        if isinstance(item, int):
            ident = None
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                ident = (node[item].get("id") or node[item].get("station")
                         or node[item].get("name"))
            label = f"[id={ident}]" if ident else f"[{item}]"
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            node = node[item] if isinstance(node, list) and 0 <= item < len(node) else None
            continue
        key = str(item)
        if key.startswith("function-"):
            continue
        if isinstance(node, dict) and key not in node and not last:
            continue  # a union's tag or a validator's name, not a key of the file
        parts.append(f'"{key}"' if ":" in key or "." in key else key)
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def validate(model: type[Any], raw: object, source: object) -> Any:
    """Validate ``raw`` (a parsed file) with the pydantic ``model``; every error becomes one
    line ``<source>: <key>: <message>`` of a single :class:`ConfigError`.  The one formatter
    of validation errors for config, scenario and model files."""
    from pydantic import ValidationError

    try:
        return model.model_validate(raw)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelt?)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{source}: {_error_key(raw, err['loc']) or '<top>'}: {msg}")
        raise ConfigError("\n".join(lines)) from None
