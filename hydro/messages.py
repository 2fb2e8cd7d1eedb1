"""Messages that carry a catalog key: English text for the CLI, the logs and the reports,
and a stable key with its fields so that a page can say the same in its own language.

:class:`Coded` is a ``str`` (the English text), so code that prints, joins or stores a
message is unchanged; a page translates it with ``t(message.key, lang, **message.values)``
(:func:`dashboard.reasons.coded_text`).

    note = Coded("compare.not_paired", "not paired: A has 50 members ...",
                 members_a=50, seed_a=1, members_b=20, seed_b=1)
    str(note)      # 'not paired: A has 50 members ...'
    note.key       # 'compare.not_paired'
"""

from __future__ import annotations

from typing import Any


class Coded(str):
    """English ``text`` with a catalog ``key`` and the key's ``values`` (its fields)."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, text: str, **values: Any) -> Coded:
        self = super().__new__(cls, text)
        self.key = key
        self.values = dict(values)
        return self

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.key, str(self), self.values))


def _rebuild(key: str, text: str, values: dict[str, Any]) -> Coded:
    return Coded(key, text, **values)


__all__ = ["Coded"]
