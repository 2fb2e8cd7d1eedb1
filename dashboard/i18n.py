"""Every user-visible string of the dashboard in Kazakh, Russian and English, from gettext.

The texts live in gettext catalogs, ``dashboard/locale/{kk,ru,en}/LC_MESSAGES/dashboard.po``
(compiled to ``.mo`` next to them, and both shipped as package data), made and checked with
Babel through ``scripts/i18n.py extract|update|compile|check`` (see the README section
"Translations").  :func:`t` looks a key up in the compiled catalog of a language and fills in
``str.format`` fields; the catalogs are read once per process.

Message ids are stable keys such as ``stations.title``, not English sentences.  English is a
translation like the other two (the ``en`` catalog carries it), so rewording an English
sentence changes one ``msgstr`` and does not orphan the Kazakh and Russian texts, and no
caller of :func:`t` changes when wording does.  Keys that the code builds at run time (for
example ``t(f"status.{code}", lang)``) are listed with ``N_()`` in :mod:`dashboard.i18n_keys`
so that extraction sees them.

Station and basin names come from ``config/basins.toml`` (their ``names`` tables), not from
here.  Terms follow the national bulletins: Kazhydromet's *қауіпті деңгей / опасный уровень*
(ОУ), Roshydromet's НЯ and ОЯ, and the ice-phenomena words of ``config/sources.toml``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from hydro.services.i18n import N_, Catalogs, strict

__all__ = ["CATALOG", "CATALOGS", "DOMAIN", "LANGUAGES", "LANGUAGE_NAMES", "LOCALE_DIR", "N_",
           "catalog_texts", "has", "missing_translations", "query_string", "resolve_lang",
           "strict", "t", "t_or"]

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
LANGUAGE_NAMES: dict[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

#: gettext domain and directory of the dashboard's catalogs
DOMAIN = "dashboard"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: the dashboard's compiled catalogs, each read once
CATALOGS = Catalogs(DOMAIN, LOCALE_DIR, LANGUAGES)


def catalog_texts(lang: str) -> dict[str, str]:
    """Every key (msgid) of the dashboard's catalog and its text in ``lang`` (msgstr)."""
    return CATALOGS.catalog_texts(lang)


def t(key: str, lang: str, /, **fields: object) -> str:
    """The text of ``key`` in ``lang`` (English for an unknown language), fields filled in.

    A key missing from the ``lang`` catalog falls back to English with a logged warning.  A key
    missing from every catalog is an error under test (:func:`hydro.services.i18n.strict`) and
    otherwise gives the key itself with a logged warning, so a forgotten string never takes a
    page down.

    Raises
    ------
    KeyError
        For a key missing from the catalogs under test, naming the key and the catalog; for a
        ``{field}`` of the text not given in ``fields``.
    """
    return CATALOGS.t(key, lang, **fields)


def has(key: str) -> bool:
    """Whether the catalogs have ``key``."""
    return CATALOGS.has(key)


def t_or(key: str, lang: str, fallback: str) -> str:
    """``t(key, lang)`` if the catalog has ``key``, else ``fallback`` (e.g. a river name from
    config that has no translation yet)."""
    return t(key, lang) if has(key) else fallback


class _CatalogView(Mapping[str, Mapping[str, str]]):
    """Read-only ``key -> {lang: text}`` view of the compiled catalogs (for checks)."""

    def __getitem__(self, key: str) -> Mapping[str, str]:
        if not has(key):
            raise KeyError(key)
        return {lang: text for lang in LANGUAGES if (text := CATALOGS.lookup(key, lang))}

    def __iter__(self) -> Iterator[str]:
        return CATALOGS.keys()

    def __len__(self) -> int:
        return sum(1 for _ in CATALOGS.keys())

    def update(self, *args: object, **kwargs: object) -> None:
        raise TypeError("dashboard.i18n.CATALOG is read-only: add strings to "
                        "dashboard/locale/*/LC_MESSAGES/dashboard.po and run "
                        "`python scripts/i18n.py compile` (README, 'Translations')")


#: ``key -> {lang: text}`` of the compiled catalogs, read-only
CATALOG: Mapping[str, Mapping[str, str]] = _CatalogView()


def resolve_lang(value: object, default: str) -> str:
    """``value`` if it is one of :data:`LANGUAGES`, else ``default`` (itself checked)."""
    if isinstance(value, str) and value.strip().lower() in LANGUAGES:
        return value.strip().lower()
    return default if default in LANGUAGES else "en"


def query_string(search: str | None, **changes: str | None) -> str:
    """``search`` (``"?a=1&b=2"``) with ``changes`` applied; ``None`` removes a key.

    Returns ``"?..."``, or ``""`` when nothing is left.
    """
    params: dict[str, str] = dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params, safe=":") if params else ""  # asof=...T06:00 readable


def missing_translations(catalog: Mapping[str, Mapping[str, str]] = CATALOG) -> list[str]:
    """``"key:lang"`` for every language that is absent or blank in ``catalog``."""
    return [f"{key}:{lang}" for key, entry in catalog.items() for lang in LANGUAGES
            if not str(entry.get(lang, "")).strip()]
