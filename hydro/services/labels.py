"""Words for the codes that hydro's science returns, in Kazakh, Russian and English.

The science modules (directly in ``hydro/``) are pure: they return what they know — a
:class:`~hydro.hydrosos.HydroSOSStatus`, the :class:`~hydro.reservoirs.Reason` a release was
not honoured, a water-quality class with its edition and its provisional/incomplete flags —
and never read a catalog.  This module, an edge, turns those codes into the words of hydro's
gettext catalogs (:mod:`hydro.services.i18n`, ``hydro/locale``) for the reports, the CLI and
the dashboard:

* HydroSOS classes: :func:`hydrosos_label`, :data:`HYDROSOS_LABELS` (keys ``hydrosos.<code>``);
* reservoir deviations: :func:`reason_text`, :data:`REASON_TEXT`, :func:`deviation_summary`
  (keys ``reservoir.reason.<name>``);
* water quality (KZ unified classification, both editions; the RU УКИЗВ, RD 52.24.643-2002):
  :func:`kz_class_label`, :func:`ukizv_class_label`, :func:`quality_label`,
  :func:`quality_display`, :func:`quality_dict` (keys ``quality.class*``,
  ``quality.provisional``, ``quality.incomplete``, ``quality.other_rule``).

Keys built here at run time are listed with ``N_()`` in :mod:`hydro.services.i18n_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from hydro.hydrosos import HydroSOSStatus
from hydro.quality import KzClassResult, UkizvAlternative, UkizvResult
from hydro.reservoirs import Deviations, Reason
from hydro.services import i18n

__all__ = [
    "HYDROSOS_LABELS",
    "LANGUAGES",
    "REASON_TEXT",
    "deviation_summary",
    "hydrosos_label",
    "kz_class_label",
    "quality_dict",
    "quality_display",
    "quality_label",
    "reason_text",
    "ukizv_class_label",
]

LANGUAGES: Final = i18n.LANGUAGES

# --------------------------------------------------------------------------- HydroSOS

#: user-visible names of the HydroSOS classes, per language (read on access)
HYDROSOS_LABELS: Final[dict[str, Mapping[HydroSOSStatus, str]]] = {
    lang: i18n.in_language("hydrosos", lang, {s: s.value for s in HydroSOSStatus})
    for lang in LANGUAGES}  # hydro/locale: hydrosos.*


def hydrosos_label(status: HydroSOSStatus | str, lang: str) -> str:
    """The name of a HydroSOS class (``"low"`` ... ``"high"``) in ``lang``.

    Raises
    ------
    ValueError
        For a code that is not a HydroSOS class.
    """
    return i18n.t(f"hydrosos.{HydroSOSStatus(status).value}", lang)


# --------------------------------------------------------------------------- reservoirs

#: reason -> {language: description} of why a requested release was not honoured
REASON_TEXT: Final[Mapping[Reason, Mapping[str, str]]] = i18n.section(
    "reservoir.reason", {r: str(r.name) for r in Reason})  # hydro/locale: reservoir.reason.*


def reason_text(reason: Reason | str, lang: str) -> str:
    """The description of a :class:`~hydro.reservoirs.Reason` (a member or its name, as in
    the ``reason`` column of :meth:`Deviations.summary`) in ``lang``."""
    name = reason.name if isinstance(reason, Reason) else Reason[reason].name
    return i18n.t(f"reservoir.reason.{name}", lang)


def deviation_summary(deviations: Deviations, lang: str) -> pd.DataFrame:
    """:meth:`Deviations.summary` (one row per reason that occurred: reason, members
    affected, first step, count) with a ``description`` column of each reason in ``lang``
    (English for an unknown language)."""
    rows = deviations.summary()
    rows["description"] = [reason_text(r, lang) for r in rows["reason"]]
    return rows


# --------------------------------------------------------------------------- water quality

#: KZ 2025 edition: classes I-VI; the 2016 edition writes 1-5 and "above class 5" (6)
_ROMAN: Final = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
#: УКИЗВ subclasses are written with Cyrillic letters in kk and ru (4b -> 4б)
_CYRILLIC_SUBCLASS: Final = {"a": "а", "b": "б", "c": "в", "d": "г"}


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")


def kz_class_label(klass: int, edition: str) -> dict[str, str]:
    """Name of a KZ class (1-6; 6 = "above class 5" in the 2016 edition, class VI in the
    2025 one) of ``edition`` (``"kz2016"`` or ``"kz2025"``) in Kazakh, Russian and English."""
    if edition == "kz2016" and klass == 6:
        return {lang: i18n.t("quality.class.above_5", lang) for lang in LANGUAGES}
    name = str(klass) if edition == "kz2016" else _ROMAN[klass - 1]
    return {lang: i18n.t("quality.class", lang, klass=name) for lang in LANGUAGES}


def ukizv_class_label(klass: str, names: Mapping[str, str]) -> dict[str, str]:
    """An УКИЗВ class (``"1"`` ... ``"5"``, ``"3a"``, ``"4b"``, ...) and its name from the
    scoring table (``names``: language -> e.g. "dirty") in Kazakh, Russian and English."""
    cyr = klass[0] + _CYRILLIC_SUBCLASS.get(klass[1:], "")   # 4b -> 4б in kk and ru
    return {lang: i18n.t("quality.class.ukizv", lang, klass=klass if lang == "en" else cyr,
                         name=names[lang]) for lang in LANGUAGES}


def quality_label(result: KzClassResult | UkizvResult | UkizvAlternative) -> dict[str, str]:
    """The class of a water-quality result in Kazakh, Russian and English (no marks)."""
    if isinstance(result, KzClassResult):
        return kz_class_label(result.klass, result.edition)
    return ukizv_class_label(result.klass, result.names)


def _with_marker(text: str, provisional: bool, lang: str, incomplete: bool = False) -> str:
    markers = [i18n.t(key, lang) for key, on in (("quality.provisional", provisional),
                                                 ("quality.incomplete", incomplete)) if on]
    return f"{text} ({'; '.join(markers)})" if markers else text


def quality_display(result: KzClassResult | UkizvResult, lang: str = "en") -> str:
    """A water-quality result as shown to users in ``lang``.

    KZ: the class, marked provisional where it is.  УКИЗВ: class and index, marked
    provisional and/or incomplete (mandatory ingredients missing: never a plain class) where
    it is, with the class under another reading of the critical-indicator rule where that
    class differs.

    Raises
    ------
    ValueError
        For a language other than kk, ru or en.
    """
    _check_lang(lang)
    if isinstance(result, KzClassResult):
        return _with_marker(quality_label(result)[lang], result.provisional, lang)
    text = f"{quality_label(result)[lang]} (УКИЗВ {result.index:.2f})"
    for a in result.class_alternatives:
        text += "; " + i18n.t("quality.other_rule", lang, rule=a.rule,
                              label=quality_label(a)[lang])
    return _with_marker(text, result.provisional, lang, result.incomplete)


def quality_dict(result: KzClassResult | UkizvResult) -> dict[str, Any]:
    """The result's plain, JSON-ready form (its ``to_dict()``) with its words: ``label``
    (language -> class) and ``display`` (language -> :func:`quality_display`), and for an
    УКИЗВ each alternative's ``label``."""
    out = result.to_dict()
    out["label"] = quality_label(result)
    out["display"] = {lang: quality_display(result, lang) for lang in LANGUAGES}
    if isinstance(result, UkizvResult):
        for a, d in zip(result.alternatives, out["alternatives"], strict=True):
            d["label"] = quality_label(a)
    return out
