"""What the upload tests share (not a test module): a Kazhydromet daily-levels CSV and a
deployment of their own (a copy of config/ and an empty SQLite store).

    from upload_support import HEADER_KZ, kz_line, open_deployment

``HEADER_KZ`` and :func:`kz_line` write the columns of config/sources.toml's
``kazhydromet`` source (stage in cm at gauge 19071, Ural at Uralsk); files are encoded
cp1251 as the branch sends them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

HEADER_KZ = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
             "Расход воды, м3/с;Ледовые явления\r\n")


def kz_line(day: str, stage_cm: str) -> str:
    """One row of gauge 19071 at 08:00 on ``day`` (DD.MM.YYYY), stage ``stage_cm`` as
    written in the file (cm)."""
    return f"19071;р. Урал – г. Уральск;{day};08:00;{stage_cm};;;\r\n"


def open_deployment(config_copy: Path, tmp_path: Path) -> Iterator[tuple]:
    """For a fixture (``yield from``): the config of ``config_copy`` and a new store in
    ``tmp_path``, disposed of afterwards."""
    from hydro.config import load_config
    from hydro.store.db import open_store

    config = load_config(config_copy)
    engine = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", config.network)
    yield config, engine
    engine.dispose()
