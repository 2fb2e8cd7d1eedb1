"""The gettext catalogs of the dashboard and of hydro (issue 13 item 9).

``scripts/i18n.py check`` must pass on the tree; it must also catch each kind of fault it
promises to (checked on a small catalog written here); Kazakh and Russian are translations,
not copies of English; and :func:`t` reads the compiled catalogs.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from dashboard import i18n as dashboard_i18n
from hydro.services import i18n as services_i18n
from hydro.services import bulletin_output, commission, notification_text

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    if "i18n_tool" not in sys.modules:
        spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["i18n_tool"] = module
        spec.loader.exec_module(module)
    return sys.modules["i18n_tool"]


def test_the_catalogs_of_the_tree_pass_the_check():
    errors, _warnings = _tool().check()
    assert errors == []


MODULES = {"dashboard": dashboard_i18n, "hydro": services_i18n}


@pytest.mark.parametrize("domain", sorted(MODULES))
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_kazakh_and_russian_are_translations_not_copies_of_english(domain, lang):
    module = MODULES[domain]
    en, other = module.catalog_texts("en"), module.catalog_texts(lang)
    assert set(other) == set(en)
    same = sorted(k for k in en if other[k] == en[k])
    # a few texts are the same in every language: "SARIMAX", "QC", "GRDC", "p", "%", "{month}"
    assert len(same) <= 0.05 * len(en), same
    # Kazakh and Russian are written in Cyrillic: most texts carry Cyrillic letters
    cyrillic = [k for k, v in other.items() if re.search("[а-яёәғқңөұүһі]", v, re.I)]
    assert len(cyrillic) >= 0.8 * len(en)


@pytest.mark.parametrize("domain", sorted(MODULES))
def test_every_language_of_a_key_has_the_same_fields(domain):
    module = MODULES[domain]
    texts = {lang: module.catalog_texts(lang) for lang in ("kk", "ru", "en")}
    braces = re.compile(r"(?<!\{)\{([a-z_0-9]*)(?:[:!][^}]*)?\}(?!\})")
    differ = [key for key in texts["en"]
              if len({tuple(sorted(braces.findall(texts[lang][key]))) for lang in texts}) > 1]
    assert differ == []


def test_t_reads_the_compiled_catalogs():
    t = dashboard_i18n.t
    assert t("summary.title", "ru", n=44) == "Число постов (всего 44)"
    assert t("summary.title", "kk", n=44) == "Бекеттер саны (44 бекет)"
    assert t("summary.title", "en", n=44) == "Stations by status (44 in all)"
    assert t("nav.stations", "xx") == "Stations"          # unknown language -> English
    for lang in ("kk", "ru", "en"):
        texts = dashboard_i18n.catalog_texts(lang)
        assert all(t(key, lang) == text for key, text in texts.items() if "{" not in text)
    assert services_i18n.t("bulletin.title", "kk") == "Күнделікті гидрологиялық бюллетень"
    assert bulletin_output.text("river", "ru", name="Урал") == "р. Урал"
    assert bulletin_output.phenomenon("ice_jam", "ru") == "затор"
    assert commission.text("col.days", "en") == services_i18n.t("commission.col.days", "en")
    assert notification_text.t("event.opened", "kk") == "Жаңа ескерту"
    assert notification_text.quantity(12.0, "m3/s", "ru").endswith("м³/с")


def test_a_missing_key_is_an_error_in_tests_and_the_key_with_a_warning_in_production(
        monkeypatch, caplog):
    with pytest.raises(KeyError, match="no.such.key"):
        dashboard_i18n.t("no.such.key", "ru")
    with pytest.raises(KeyError, match="no.such.key"):
        services_i18n.t("no.such.key", "ru")
    monkeypatch.setenv("HYDRORISK_I18N_STRICT", "0")
    assert dashboard_i18n.t("no.such.key", "kk") == "no.such.key"
    assert "no.such.key" in caplog.text
    with pytest.raises(KeyError):                        # a missing field stays an error
        dashboard_i18n.t("summary.title", "en", m=1)
    with pytest.raises(TypeError, match="read-only"):
        dashboard_i18n.CATALOG.update({"x": {"en": "x"}})


def _write(domain, lang: str, entries: dict[str, tuple[str, bool]], *, mo: bool = True):
    catalog = Catalog(locale=lang, domain=domain.name, fuzzy=False)
    for key, (text, fuzzy) in entries.items():
        catalog.add(key, text, flags=("fuzzy",) if fuzzy else ())
    domain.po(lang).parent.mkdir(parents=True, exist_ok=True)
    with domain.po(lang).open("wb") as f:
        write_po(f, catalog)
    if mo:
        with domain.mo(lang).open("wb") as f:
            write_mo(f, catalog)


def test_the_check_reports_each_kind_of_fault(tmp_path, monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    source = tmp_path / "pkg"
    source.mkdir()
    (source / "view.py").write_text(
        "from hydro.services.i18n import N_, t\n"
        "t('a.ok', 'en')\nt('a.fuzzy', 'en')\nt('a.fields', 'en', n=1)\n"
        "t('a.empty', 'en')\nt('a.new', 'en')\nN_('a.listed')\n"
        "t_or('a.' + name, 'en', name)\n")            # built at run time: not a key
    domain = tool.Domain("pkg", source, source / "locale")
    good = {"a.ok": ("ok", False), "a.fuzzy": ("f", False), "a.fields": ("{n} x", False),
            "a.empty": ("e", False), "a.listed": ("l", False), "a.unused": ("u", False)}
    _write(domain, "en", good)
    _write(domain, "ru", {**good, "a.fuzzy": ("ф", True), "a.fields": ("{m} х", False)})
    _write(domain, "kk", {**good, "a.empty": ("", False)})
    with domain.po("kk").open("ab") as f:               # edited after compiling: stale .mo
        f.write(b'\nmsgid "a.late"\nmsgstr "kesh"\n')

    errors, warnings = tool.check([domain])
    text = "\n".join(errors)
    assert 'ru/LC_MESSAGES/pkg.po: msgid "a.fuzzy": fuzzy' in text
    assert 'kk/LC_MESSAGES/pkg.po: msgid "a.empty": empty msgstr' in text
    assert 'msgid "a.fields": {fields} differ' in text
    assert "kk/LC_MESSAGES/pkg.mo: differs from its .po" in text
    assert 'en/LC_MESSAGES/pkg.po: msgid "a.late": missing' in text
    assert 'msgid "a.new" used in pkg/view.py is in no catalog' in text
    assert not any('"a."' in e for e in errors)
    assert len(errors) == 7, errors                     # ... and a.late missing in ru
    assert [w.split('"')[1] for w in warnings] == ["a.late", "a.unused"]


def test_extract_update_compile_round_trip(tmp_path, monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    source = tmp_path / "pkg"
    source.mkdir()
    (source / "view.py").write_text("t('b.one', 'en')\nt('b.two', 'en')\n")
    domain = tool.Domain("pkg", source, source / "locale")
    one = {"b.one": ("one", False)}
    for lang in ("kk", "ru", "en"):
        _write(domain, lang, one)
    tool.extract(domain)
    assert tool.update(domain) == ["b.two:kk", "b.two:ru", "b.two:en"]
    errors, _ = tool.check([domain])
    assert sum("empty msgstr" in e for e in errors) == 3
    for lang, word in (("kk", "екі"), ("ru", "два"), ("en", "two")):
        po = domain.po(lang)
        po.write_text(po.read_text().replace('msgid "b.two"\nmsgstr ""',
                                             f'msgid "b.two"\nmsgstr "{word}"'))
    tool.compile_domain(domain)
    assert tool.check([domain]) == ([], [])
    catalogs = services_i18n.Catalogs("pkg", domain.locale_dir)
    assert catalogs.t("b.two", "kk") == "екі" and catalogs.t("b.one", "ru") == "one"
