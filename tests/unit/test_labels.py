"""The words for the codes science returns (hydro.services.labels): HydroSOS classes, the
reasons a reservoir release was not honoured, and water-quality classes with their marks
(provisional, incomplete, another reading of the critical-indicator rule) in Kazakh, Russian
and English, from hydro's catalogs.  The science behind the codes is checked in
tests/reference (test_floods, test_reservoirs, test_quality)."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from hydro.config.quality_tables import (
    default_table,
    known_parameters,
    load_mpc_table,
    load_ukizv_scoring,
)
from hydro.hydrosos import HydroSOSStatus
from hydro.quality import classify_kz, period_mean, samples_from_long, ukizv
from hydro.quality_tables import KzLimitRow, KzTable, MpcRow, MpcTable
from hydro.reservoirs import Deviations, Reason
from hydro.services.labels import (
    HYDROSOS_LABELS,
    REASON_TEXT,
    deviation_summary,
    hydrosos_label,
    kz_class_label,
    quality_dict,
    quality_display,
    quality_label,
    reason_text,
)

DATA = ROOT / "tests" / "reference" / "data" / "quality"
PARAMS = known_parameters(ROOT / "config" / "quality")
KZ = {e: default_table(e) for e in ("kz2016", "kz2025")}
RU = {"mpc": default_table("ru"), "scoring": default_table("ru-ukizv")}
#: an official one-parameter KZ table (copper, mg/l): no provisional mark
COPPER = KzTable("kz2016", (KzLimitRow("copper", "max", (0.001, 0.01, 0.05, 0.5, 1.0),
                                       unit="mg/l", natural_origin=False, source="test",
                                       status="official"),))


# --------------------------------------------------------------------------- HydroSOS

def test_hydrosos_labels_every_class():
    for language in ("en", "ru", "kk"):
        assert set(HYDROSOS_LABELS[language]) == set(HydroSOSStatus)
    assert hydrosos_label(HydroSOSStatus.LOW, "ru") == HYDROSOS_LABELS["ru"][HydroSOSStatus.LOW]
    assert hydrosos_label("above_normal", "en") == \
        HYDROSOS_LABELS["en"][HydroSOSStatus.ABOVE_NORMAL]
    with pytest.raises(ValueError):
        hydrosos_label("dry", "en")


# --------------------------------------------------------------------------- reservoirs

def test_deviation_summary_describes_each_reason():
    # the deviations of tests/reference/test_reservoirs.py::test_deviation_summary: the
    # minimum release raised two of three members' requests, six (member, step) pairs
    m = int(Reason.MIN_RELEASE)
    flags = np.array([[0, 0, 0, 0], [m, 0, m, 0], [m, m, m, m]], dtype=np.uint8)
    s = deviation_summary(Deviations(flags), "ru")
    row = s.set_index("reason").loc["MIN_RELEASE"]
    assert (row.members_affected, row.first_step, row["count"]) == (2, 0, 6)
    assert row.description == REASON_TEXT[Reason.MIN_RELEASE]["ru"]
    assert reason_text("MIN_RELEASE", "ru") == reason_text(Reason.MIN_RELEASE, "ru") \
        == row.description
    assert set(REASON_TEXT) == set(Reason)
    assert all(set(t) == {"kk", "ru", "en"} for t in REASON_TEXT.values())
    none = deviation_summary(Deviations(np.zeros((1, 3), dtype=np.uint8)), "en")
    assert none.empty and list(none.columns) == ["reason", "members_affected", "first_step",
                                                 "count", "description"]


# --------------------------------------------------------------------------- water quality

def test_kz_class_labels_of_both_editions():
    assert quality_label(classify_kz({"copper": 2.0}, table=COPPER)) == {
        "kk": "5 сыныптан жоғары", "ru": "выше 5 класса", "en": "above class 5"}
    r = classify_kz({"oil_products": 0.234}, edition="kz2025", table=KZ["kz2025"])
    assert quality_label(r)["en"] == "class V" and quality_display(r, "ru") == \
        "V класс (предварительно)"
    assert quality_display(r, "kk") == "V сынып (алдын ала)"
    assert quality_label(classify_kz({"oil_products": 1.0}, edition="kz2025",
                                     table=KZ["kz2025"]))["en"] == "class VI"
    assert kz_class_label(3, "kz2025")["en"] == "class III"
    assert kz_class_label(r.klass, r.edition) == quality_label(r)


def test_an_official_kz_class_is_shown_plainly():
    r = classify_kz({"copper": 0.02}, table=COPPER)
    assert r.klass == 3 and r.provisional is False and quality_display(r) == "class 3"
    assert all("provisional" not in quality_display(r, lang) for lang in ("kk", "ru", "en"))


@pytest.fixture(scope="module")
def worked():
    ex = json.loads((DATA / "ukizv_worked_example.json").read_text(encoding="utf-8"))
    mpc = load_mpc_table(DATA / "worked_ukizv_mpc.csv", PARAMS)
    scoring = load_ukizv_scoring(DATA / "worked_ukizv_scoring.toml")
    return ex, ukizv(ex["samples"], mpc=mpc, scoring=scoring), mpc, scoring


def test_ukizv_labels_and_provisional_marker(worked):
    _, r, _, _ = worked
    assert r.provisional
    assert quality_label(r)["ru"] == "4б класс, грязная" and \
        quality_label(r)["en"] == "class 4b, dirty"
    # the worked example lacks nitrite, a mandatory ingredient: never a plain class
    assert r.incomplete and r.missing == ("nitrite",)
    assert quality_display(r, "en") == ("class 4b, dirty (УКИЗВ 5.65) "
                                        "(provisional; incomplete: mandatory ingredients missing)")
    assert quality_display(r, "kk").endswith(
        "(алдын ала; толық емес: міндетті ингредиенттер жоқ)")
    with pytest.raises(ValueError, match="language must be one of kk, ru, en"):
        quality_display(r, "de")


def test_an_incomplete_ukizv_with_official_tables_is_never_a_plain_class(worked):
    plain = replace(worked[1], provisional=False)
    assert plain.incomplete
    assert quality_display(plain, "en") == ("class 4b, dirty (УКИЗВ 5.65) "
                                            "(incomplete: mandatory ingredients missing)")


def test_the_json_form_carries_the_words(worked):
    r = worked[1]
    d = json.loads(json.dumps(quality_dict(r)))
    assert d["klass"] == "4b" and "(provisional; incomplete" in d["display"]["en"]
    assert d["label"] == quality_label(r) and d["incomplete"] is True
    k = json.loads(json.dumps(quality_dict(classify_kz({"copper": 0.02}, table=COPPER))))
    assert k["label"]["en"] == "class 3" and k["display"]["en"] == "class 3"


def _clean_and_polluted(n_samples=10, factor=10.0):
    """Samples with every ingredient of the bundled MPC table within its MPC except copper
    and total iron, both at ``factor`` x MPC in every sample (as in test_quality)."""
    mpc = RU["mpc"]
    clean = {r.parameter: (r.mpc * 1.5 if r.direction == "min" else r.mpc / 2)
             for r in mpc.rows}
    polluted = {"copper": mpc.row("copper").mpc * factor,
                "iron_total": mpc.row("iron_total").mpc * factor}
    return [{**clean, **polluted} for _ in range(n_samples)], polluted


def test_ukizv_incomplete_marks_in_every_language():
    full, polluted = _clean_and_polluted()
    complete = ukizv(**RU, samples=full)
    assert complete.incomplete is False
    for lang, word in (("en", "incomplete"), ("ru", "неполный"), ("kk", "толық емес")):
        assert word not in quality_display(complete, lang)
    only_two = ukizv(**RU, samples=[dict(polluted) for _ in full])
    assert only_two.incomplete is True
    assert quality_display(only_two, "en").endswith(
        "(provisional; incomplete: mandatory ingredients missing)")
    assert quality_display(only_two, "ru").endswith(
        "(предварительно; неполный: нет обязательных ингредиентов)")
    assert quality_display(only_two, "kk").endswith(
        "(алдын ала; толық емес: міндетті ингредиенттер жоқ)")


def _copper_only(factor):
    mpc = MpcTable((MpcRow("copper", "max", 0.001, "mg/l", False, "test", "official"),))
    return ukizv([{"copper": 0.001 * factor}] * 10, mpc=mpc, scoring=RU["scoring"])


def test_ukizv_critical_rule_readings_that_disagree_are_both_shown():
    # at 6x copper: class 4c under 'S_alpha >= 2 & S_beta >= 3', 5 under 'S_i >= 9'
    r = _copper_only(6.0)
    assert r.klass == "4c" and [a.klass for a in r.class_alternatives] == ["5"]
    assert quality_display(r, "en") == (
        "class 4c, very dirty (УКИЗВ 10.00); by the other critical-indicator rule "
        "(S_i >= 9): class 5, extremely dirty (provisional)")
    assert "по другому правилу критических показателей (S_i >= 9): 5 класс" in \
        quality_display(r, "ru")
    assert "сыни көрсеткіштердің басқа ережесі бойынша (S_i >= 9): 5 сынып" in \
        quality_display(r, "kk")
    d = json.loads(json.dumps(quality_dict(r)))
    assert d["alternatives"][0]["label"]["en"] == "class 5, extremely dirty"


def test_ukizv_critical_rule_readings_that_agree_show_one_class(worked):
    # at 20x both readings make copper critical: nothing to add
    r = _copper_only(20.0)
    assert r.class_alternatives == ()
    assert "other critical-indicator rule" not in quality_display(r, "en")
    # another reading with other critical indicators but the same class adds nothing either
    ex, _, mpc, scoring = worked
    alt = replace(scoring.critical, rule="generalized_score", min_score=9.0)
    both = replace(scoring, critical=replace(scoring.critical, alternatives=(alt,)))
    r = ukizv(ex["samples"], mpc=mpc, scoring=both)
    assert r.alternatives and r.class_alternatives == ()
    assert "other critical-indicator rule" not in quality_display(r)


def test_demo_border_site_display_golden_values():
    """The displays of tests/reference/data/quality/demo_kz19073_2023.json (the science of
    that site-year is checked in tests/reference/test_quality.py)."""
    exp = json.loads((DATA / "demo_kz19073_2023.json").read_text(encoding="utf-8"))
    raw = pd.read_csv(ROOT / "data" / "gauges" / "quality" / "ural.csv", sep=";", comment="#",
                      dtype=str)
    rows = raw[(raw.site == exp["site"]) & raw.date.str.startswith(str(exp["year"]))]
    samples = samples_from_long(rows)
    means = period_mean(samples)
    for edition in ("kz2016", "kz2025"):
        r = classify_kz(means, edition=edition, table=KZ[edition])
        assert r.provisional and quality_display(r, "en") == exp["kz"][edition]["display_en"]
    u = ukizv(**RU, samples=samples)
    assert u.provisional and quality_display(u, "ru").endswith("(предварительно)")
    assert quality_display(u, "ru") == exp["ukizv"]["display_ru"]
