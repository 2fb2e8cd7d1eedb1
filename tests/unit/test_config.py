"""Config validation: the real config loads; each kind of breakage gives one clear message
naming the file and the key."""

import re

import pytest

from hydro.config import load_config
from hydro.errors import ConfigError


def test_bundled_config_loads(config):
    net = config.network
    assert set(net.basins) == {"ural", "irtysh", "tobol", "ishim"}
    assert len(net.gauges) >= 20
    assert {g.country for g in net.gauges.values()} == {"KZ", "RU"}
    for name in ("Orsk", "Orenburg", "Uralsk", "Kushum", "Atyrau", "Ust-Kamenogorsk", "Semey",
                 "Pavlodar", "Omsk", "Kostanay", "Kurgan", "Astana", "Petropavl", "Ishim (city)"):
        assert any(name in g.names.en for g in net.gauges.values()), name
    rivers = {g.river for g in net.gauges.values()}
    assert {"Or", "Ilek", "Sakmara"} <= rivers
    for res in ("RU:IRIKLINSK", "RU:VERKHNEURALSK", "KZ:BUKHTARMA", "KZ:UST-KAMENOGORSK-RES",
                "KZ:SHULBA", "KZ:VERKHNETOBOLSK", "KZ:KARATOMAR", "KZ:SERGEEVKA",
                "KZ:ASTANA-RES", "KZ:PETROPAVLOVSK-RES"):
        assert res in net.reservoirs
    assert len(net.border_nodes()) >= 5
    # the network is a DAG ending in each basin's outlet
    for basin in net.basins.values():
        assert net.downstream_reach(basin.outlet) is None


def test_published_figures_are_not_marked_estimate(config):
    iriklinsk = config.network.reservoirs["RU:IRIKLINSK"]
    # reservoirs.csv: НПУ 245 m BS and 3257 hm3 at НПУ (medium-high)
    assert iriklinsk.npu.to("elevation") == 245.0
    assert abs(iriklinsk.npu_volume_hm3 - 3257.0) < 1.0
    assert "npu" not in iriklinsk.estimated and "fpu" in iriklinsk.estimated
    # kazhydromet_posts.csv: 19071 Ural - Uralsk at 51.18, 51.38
    uralsk = config.network.gauges["KZ:19071"]
    assert (uralsk.post_code, uralsk.lat, uralsk.lon) == ("19071", 51.18, 51.38)
    # every gauge datum is an estimate (no gauge zero found in the references)
    assert all(d.status == "estimate" for g in config.network.gauges.values() for d in g.datums)


def test_thresholds_from_reference(config):
    orsk = {t.level: t.value.to("stage") for t in config.thresholds_for("RU:ORSK")}
    assert orsk == {"adverse": 360.0, "dangerous": 700.0}  # warning_levels.csv
    assert [t.value.to("stage") for t in config.thresholds_for("KZ:19071")] == [850.0]
    est = [t for t in config.thresholds if t.status == "estimate"]
    assert {t.station for t in est} == {"KZ:12008"}


def test_kushum_dangerous_level_is_kazhydromets_published_850(config):
    # hydrology_facts.csv: dangerous_level, Kushum gauge, 850 cm, Kazhydromet via arasha.kz
    (kushum,) = config.thresholds_for("KZ:19072")
    assert (kushum.scheme, kushum.level) == ("kz_dangerous", "dangerous")
    assert kushum.value.to("stage") == 850.0
    assert kushum.status == "published" and "arasha.kz" in kushum.source
    assert "Kazhydromet" in kushum.set_by


def test_yanvartsevo_keeps_both_conflicting_dangerous_levels_with_their_sources(config):
    # warning_levels.csv: 850 cm (mgorod.kz, 11 Apr 2024); hydrology_facts.csv: 1250 cm
    # (arasha.kz, 28 Apr 2024) -- conflicting, keep both
    levels = sorted(config.thresholds_for("KZ:19073"), key=lambda t: t.value.to("stage"))
    assert [(t.scheme, t.level, t.value.to("stage"), t.status) for t in levels] == [
        ("kz_dangerous", "dangerous", 850.0, "conflicting"),
        ("kz_dangerous", "dangerous", 1250.0, "conflicting")]
    low, high = levels
    assert "mgorod.kz" in low.source and "arasha.kz" not in low.source
    assert "arasha.kz" in high.source and "mgorod.kz" not in high.source
    assert "1250" in low.note and "850" in high.note


def _edit(config_dir, file, old, new, count=1):
    p = config_dir / file
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    p.write_text(text.replace(old, new, count), encoding="utf-8")


BROKEN = [
    ("unknown station in a reach", "basins.toml",
     'upstream = "RU:ORSK"\ndownstream = "RU:ORENBURG"', 'upstream = "RU:ORSK"\ndownstream = "RU:ORENBRG"',
     r"basins\.toml: reaches\[id=orsk--orenburg\]\.downstream: unknown node 'RU:ORENBRG'"),
    ("cycle", "basins.toml",
     'upstream = "RU:KURGAN"\ndownstream = "OUTLET:tobol-lower"',
     'upstream = "RU:KURGAN"\ndownstream = "KZ:12001"',
     r"basins\.toml: reaches: the network has a cycle: .*RU:KURGAN"),
    ("non-monotone level-volume table", "basins.toml",
     "volume = [1.491,", "volume = [9999.0,",
     r"basins\.toml: reservoirs\[id=RU:VERKHNEURALSK\]\.storage_table: volume is not strictly increasing"),
    ("missing unit", "basins.toml", 'npu = "245.0 m"', "npu = 245.0",
     r"basins\.toml: reservoirs\[id=RU:IRIKLINSK\]\.npu: missing unit"),
    ("negative capacity", "basins.toml", "discharge = [450, 900,", "discharge = [-450, 900,",
     r"basins\.toml: reservoirs\[id=RU:IRIKLINSK\]\.outlet_capacity: negative capacity"),
    ("duplicate id", "basins.toml", 'id = "KZ:19072"', 'id = "KZ:19071"',
     r"basins\.toml: gauges\[id=KZ:19071\]\.id: duplicate id 'KZ:19071'"),
    ("unknown key", "basins.toml", 'npu = "245.0 m"', 'npu = "245.0 m"\nnpu_typo = 1',
     r"basins\.toml: reservoirs\[id=RU:IRIKLINSK\]\.npu_typo: unknown key"),
    ("unit of the wrong kind", "basins.toml", 'min_release = "15 m3/s"', 'min_release = "15 km"',
     r"reservoirs\[id=RU:IRIKLINSK\]\.min_release: .*not of discharge"),
    ("unknown time zone", "basins.toml", 'timezone = "Asia/Oral"', 'timezone = "Asia/Uralsk"',
     r"gauges\[id=KZ:19201\]\.timezone: unknown time zone"),
    ("threshold at unknown station", "thresholds.toml", 'station = "RU:ORSK"', 'station = "RU:ORKS"',
     r"thresholds\.toml: thresholds\[station=RU:ORKS\]\.station: unknown station"),
    ("bad cron", "sources.toml", 'cron = "0 6 * * *"', 'cron = "0 25 * * *"',
     r"sources\.toml: sources\[id=grdc\]\.schedule: invalid cron expression"),
]


@pytest.mark.parametrize("what,file,old,new,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_is_rejected_with_file_and_key(config_copy, what, file, old, new, message):
    _edit(config_copy, file, old, new)
    with pytest.raises(ConfigError) as exc:
        load_config(config_copy)
    text = str(exc.value)
    assert re.search(message, text), text
    assert len(text.splitlines()) == 1, text


def test_not_toml(config_copy):
    (config_copy / "thresholds.toml").write_text("[[thresholds]\nstation = ", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"thresholds\.toml: not valid TOML"):
        load_config(config_copy)


def test_datum_periods_must_not_overlap(config_copy):
    _edit(config_copy, "basins.toml",
          'datums = [{ zero = "188.0 m", valid_from = 1936-01-01, status = "estimate", note = "gauge zero not found in ../shared/reference; start date unknown" }]',
          'datums = [{ zero = "188.0 m", valid_from = 1936-01-01, status = "estimate" }, '
          '{ zero = "187.5 m", valid_from = 1990-01-01, status = "estimate" }]')
    with pytest.raises(ConfigError, match=r"gauges\[id=RU:ORSK\]\.datums: .*datum periods overlap"):
        load_config(config_copy)


def test_datum_change_is_resolved_by_date(config_copy):
    import datetime as dt

    _edit(config_copy, "basins.toml",
          'datums = [{ zero = "188.0 m", valid_from = 1936-01-01, status = "estimate", note = "gauge zero not found in ../shared/reference; start date unknown" }]',
          'datums = [{ zero = "188.0 m", valid_from = 1936-01-01, valid_to = 1990-01-01, status = "estimate" }, '
          '{ zero = "187.5 m", valid_from = 1990-01-01, status = "estimate" }]')
    g = load_config(config_copy).network.gauges["RU:ORSK"]
    assert g.datum_on(dt.date(1980, 1, 1)).zero.to("elevation") == 188.0
    assert g.datum_on(dt.date(2024, 4, 5)).zero.to("elevation") == 187.5
