"""The page's language beyond the catalog: a refused file's reason (dashboard/reasons.py)
and plotly's own texts and notation (dashboard/plotly_locale.py)."""

from __future__ import annotations

import pytest

from dashboard.plotly_locale import DICTIONARY, graph_config
from dashboard.reasons import reason_text


def _text(parts) -> str:
    return "".join(p if isinstance(p, str) else p.children for p in parts)


@pytest.mark.parametrize(("lang", "expected"), [
    ("ru", "bad.csv, строка 1: нет столбца «volume_hm3»"),
    ("kk", "bad.csv, 1-жол: «volume_hm3» бағаны жоқ"),
    ("en", "/in/bad.csv, line 1: missing column 'volume_hm3'"),
])
def test_a_known_reason_is_translated(lang, expected):
    # the message hydro.readers.common.IngestError gives for a file without the column
    assert _text(reason_text("/in/bad.csv, line 1: missing column 'volume_hm3'", lang)) \
        == expected


def test_an_unknown_reason_is_quoted_as_english_after_a_translated_lead():
    parts = reason_text("/in/x.nc: unexpected dimension 'depth' of length 3", "ru")
    assert parts[0] == "x.nc: "
    assert parts[1].startswith("Файл отклонён")
    quoted = parts[2]
    assert quoted.lang == "en" and quoted.children == "unexpected dimension 'depth' of length 3"


def test_unknown_station_with_its_id():
    text = _text(reason_text("f.csv, line 7: unknown station 'RU:NOWHERE' (not in "
                             "config/basins.toml)", "kk"))
    assert text == "f.csv, 7-жол: белгісіз бекет «RU:NOWHERE» (config/basins.toml тізімінде жоқ)"


def test_plotly_speaks_the_page_language():
    assert "locales" not in graph_config("en")       # plotly's own English
    config = graph_config("ru", scrollZoom=False)
    assert config["locale"] == "ru" and config["scrollZoom"] is False
    ru = config["locales"]["ru"]
    # CLDR's stand-alone Russian month names; plotly's weeks start on Sunday
    assert ru["format"]["months"][3] == "апрель" and ru["format"]["shortDays"][0] == "вс"
    assert ru["format"]["decimal"] == ","
    assert ru["dictionary"]["Zoom in"] == "Увеличить"
    assert set(ru["dictionary"]) == set(DICTIONARY)
    kk = graph_config("kk")["locales"]["kk"]
    assert kk["format"]["months"][3] == "Сәуір"
    assert kk["dictionary"]["Download plot as a PNG"] == "Графикті PNG түрінде жүктеп алу"
