"""Words of hydro's reports and messages in Kazakh, Russian and English, from gettext.

The texts live in gettext catalogs, ``hydro/locale/{kk,ru,en}/LC_MESSAGES/hydro.po``
(compiled to ``.mo`` next to them; both are package data), made and checked with Babel
through ``scripts/i18n.py extract|update|compile|check`` (README, "Translations").  The
dashboard has its own domain (``dashboard/locale``) and reads it with the same
:class:`Catalogs`; hydro never imports the dashboard.

Message ids are stable keys, prefixed with the part of hydro that owns them
(``bulletin.title``, ``commission.col.volume``, ``notification.event.opened``,
``ice.ice_jam``, ``river.Ural``, ``unit.m3/s``, ...), not English sentences.  English is a
translation like the others (the ``en`` catalog carries it): rewording an English sentence
changes one ``msgstr`` and orphans no Kazakh or Russian text, and callers never change when
wording does.  Keys built at run time are listed with ``N_()`` in
:mod:`hydro.services.i18n_keys` so that extraction sees them.

Reading the catalogs is file I/O, so this module is an edge (a service), not science: the
science modules return codes (a HydroSOS status, a :class:`hydro.reservoirs.Reason`, a water
quality class) and the edges turn them into words (:mod:`hydro.services.labels`).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from babel.messages.mofile import read_mo

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
#: gettext domain and directory of hydro's catalogs
DOMAIN = "hydro"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_log = logging.getLogger(__name__)
K = TypeVar("K")


def N_(key: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate"
    """Mark ``key`` for extraction without translating it (for keys used at run time)."""
    return key


def strict() -> bool:
    """Whether a missing key raises (under pytest, or ``HYDRORISK_I18N_STRICT=1``) rather
    than showing the key with a logged warning (``HYDRORISK_I18N_STRICT=0``, production)."""
    flag = os.environ.get("HYDRORISK_I18N_STRICT", "").strip().lower()
    if flag in ("1", "true", "yes"):
        return True
    if flag in ("0", "false", "no"):
        return False
    return "pytest" in sys.modules


class Catalogs:
    """The compiled gettext catalogs (``<locale_dir>/<lang>/LC_MESSAGES/<domain>.mo``) of one
    domain, each read once, on first use."""

    def __init__(self, domain: str, locale_dir: Path,
                 languages: tuple[str, ...] = LANGUAGES, fallback: str = "en") -> None:
        self.domain = domain
        self.locale_dir = Path(locale_dir)
        self.languages = languages
        self.fallback = fallback
        self._warned: set[str] = set()
        self._texts = functools.cache(self._read)

    def mo_path(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.domain}.mo"

    def po_path(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.domain}.po"

    def _read(self, lang: str) -> Mapping[str, str]:
        path = self.mo_path(lang)
        try:
            with path.open("rb") as f:
                catalog = read_mo(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: compiled catalog missing; run "
                                    "`python scripts/i18n.py compile`") from None
        return {str(m.id): str(m.string) for m in catalog if m.id and m.string}

    def catalog_texts(self, lang: str) -> dict[str, str]:
        """Every key (msgid) and its text (msgstr) in ``lang``."""
        if lang not in self.languages:
            raise ValueError(f"unknown language {lang!r}; expected one of "
                             f"{', '.join(self.languages)}")
        return dict(self._texts(lang))

    def lookup(self, key: str, lang: str) -> str | None:
        """The raw text of ``key`` in ``lang`` (no fallback, no fields), or None."""
        return self._texts(lang).get(key) if lang in self.languages else None

    def keys(self) -> Iterator[str]:
        """Every key of the catalogs (of the fallback language's, which has them all)."""
        return iter(self._texts(self.fallback))

    def has(self, key: str) -> bool:
        """Whether the catalogs have ``key``."""
        return key in self._texts(self.fallback)

    def _warn_once(self, what: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            _log.warning(what)

    def t(self, key: str, lang: str, /, **fields: object) -> str:
        """The text of ``key`` in ``lang`` (English for an unknown language), ``str.format``-ed
        with ``fields``.

        A key missing from the ``lang`` catalog falls back to English with a logged warning.
        A key missing from every catalog raises under :func:`strict` (tests) and otherwise
        gives the key itself with a logged warning.

        Raises
        ------
        KeyError
            For an unknown key under :func:`strict`, naming key and catalog; for a
            ``{field}`` of the text not given in ``fields``.
        """
        texts = self._texts(lang if lang in self.languages else self.fallback)
        text = texts.get(key)
        if text is None:
            text = self._texts(self.fallback).get(key)
            if text is None:
                if strict():
                    raise KeyError(f"no translation for '{key}' in "
                                   f"{self.po_path(self.fallback)} (domain {self.domain})")
                self._warn_once(f"{self.domain}: no translation for '{key}'; showing the key")
                return key
            self._warn_once(f"{self.domain}: '{key}' has no {lang} translation; "
                            "showing English")
        return text.format(**fields) if fields else text

    def section(self, prefix: str, keys: Mapping[K, str] | None = None
                ) -> Mapping[K, Mapping[str, str]]:
        """Read-only ``key -> {lang: text}`` of the catalog keys ``<prefix>.<key>``, read on
        access.  With ``keys`` (e.g. ``{member: member.name for member in SomeEnum}``), the
        mapping's keys are those of ``keys`` and ``keys[k]`` names the catalog key."""
        return _Section(self, prefix + ".", keys)

    def in_language(self, prefix: str, lang: str, keys: Mapping[K, str] | None = None
                    ) -> Mapping[K, str]:
        """Read-only ``key -> text in lang`` of the catalog keys ``<prefix>.<key>``; ``keys``
        as for :meth:`section`."""
        return _Language(self, prefix + ".", lang, keys)


class _Language(Mapping[K, str]):
    def __init__(self, catalogs: Catalogs, prefix: str, lang: str,
                 keys: Mapping[K, str] | None) -> None:
        self._catalogs, self._prefix, self._lang, self._keys = catalogs, prefix, lang, keys

    def __getitem__(self, key: K) -> str:
        sub = self._keys[key] if self._keys is not None else key
        if not isinstance(sub, str) or not self._catalogs.has(self._prefix + sub):
            raise KeyError(key)
        return self._catalogs.t(self._prefix + sub, self._lang)

    def __iter__(self) -> Iterator[K]:
        return _iter_keys(self._catalogs, self._prefix, self._keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Section(Mapping[K, Mapping[str, str]]):
    def __init__(self, catalogs: Catalogs, prefix: str, keys: Mapping[K, str] | None) -> None:
        self._catalogs, self._prefix, self._keys = catalogs, prefix, keys

    def __getitem__(self, key: K) -> Mapping[str, str]:
        sub = self._keys[key] if self._keys is not None else key
        if not isinstance(sub, str) or not self._catalogs.has(self._prefix + sub):
            raise KeyError(key)
        return {lang: self._catalogs.t(self._prefix + sub, lang)
                for lang in self._catalogs.languages}

    def __iter__(self) -> Iterator[K]:
        return _iter_keys(self._catalogs, self._prefix, self._keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _iter_keys(catalogs: Catalogs, prefix: str, keys: Mapping[K, str] | None) -> Iterator[K]:
    if keys is not None:
        return (k for k, sub in keys.items() if catalogs.has(prefix + sub))
    n = len(prefix)
    return (k[n:] for k in catalogs.keys() if k.startswith(prefix))  # type: ignore[misc]


#: hydro's catalogs
CATALOGS = Catalogs(DOMAIN, LOCALE_DIR)


def t(key: str, lang: str, /, **fields: object) -> str:
    """The text of hydro's ``key`` in ``lang``; see :meth:`Catalogs.t`."""
    return CATALOGS.t(key, lang, **fields)


def has(key: str) -> bool:
    """Whether hydro's catalogs have ``key``."""
    return CATALOGS.has(key)


def catalog_texts(lang: str) -> dict[str, str]:
    """Every key of hydro's catalog and its text in ``lang``."""
    return CATALOGS.catalog_texts(lang)


def section(prefix: str, keys: Mapping[K, str] | None = None) -> Mapping[K, Mapping[str, str]]:
    """Read-only ``key -> {lang: text}`` of hydro's keys ``<prefix>.<key>``; see
    :meth:`Catalogs.section`."""
    return CATALOGS.section(prefix, keys)


def in_language(prefix: str, lang: str, keys: Mapping[K, str] | None = None
                ) -> Mapping[K, str]:
    """Read-only ``key -> text in lang`` of hydro's keys ``<prefix>.<key>``."""
    return CATALOGS.in_language(prefix, lang, keys)
