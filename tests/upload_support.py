"""What the upload, ingest and worker tests share (not a test module): Kazhydromet CSVs
(a few daily levels, or a year of hourly stage of many posts) and a deployment of their
own (a copy of config/ and an empty SQLite store).

    from upload_support import HEADER_KZ, kz_hourly_file, kz_line, open_deployment

``HEADER_KZ``, :func:`kz_line` and :func:`kz_hourly_file` write the columns of
config/sources.toml's ``kazhydromet`` source (stage in cm; :func:`kz_line` at gauge 19071,
Ural at Uralsk); files are encoded cp1251 as the branch sends them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

HEADER_KZ = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
             "Расход воды, м3/с;Ледовые явления\r\n")


def kz_line(day: str, stage_cm: str) -> str:
    """One row of gauge 19071 at 08:00 on ``day`` (DD.MM.YYYY), stage ``stage_cm`` as
    written in the file (cm)."""
    return f"19071;р. Урал – г. Уральск;{day};08:00;{stage_cm};;;\r\n"


def kz_hourly_file(path: Path, codes: Sequence[str], year: int, seed: int = 7) -> int:
    """Write a large Kazhydromet table to ``path`` (cp1251): the hourly stage (cm, a random
    walk from 250 by -1, 0 or +1 cm an hour, drawn with ``seed``) of every post of
    ``codes`` through ``year``, the posts' rows interleaved hour by hour.  Returns the
    number of data rows."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")
    frames = []
    for code in codes:
        stage = 250 + np.cumsum(rng.integers(-1, 2, len(hours)))
        frames.append(pd.DataFrame({"c": code, "n": "пост", "d": hours.strftime("%d.%m.%Y"),
                                    "t": hours.strftime("%H:%M"), "v": stage, "ch": "",
                                    "q": "", "p": ""}))
    body = pd.concat(frames).sort_index(kind="stable").to_csv(
        sep=";", header=False, index=False, lineterminator="\r\n")
    path.write_bytes((HEADER_KZ + body).encode("cp1251"))
    return sum(len(f) for f in frames)


def open_deployment(config_copy: Path, tmp_path: Path) -> Iterator[tuple]:
    """For a fixture (``yield from``): the config of ``config_copy`` and a new store in
    ``tmp_path``, disposed of afterwards."""
    from hydro.config import load_config
    from hydro.store.db import open_store

    config = load_config(config_copy)
    engine = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", config.network)
    yield config, engine
    engine.dispose()
