"""Issue 15, item 7: series files uploaded through the dashboard — size, type and content
checked before anything is written, the browser's name never used as a path, the party's
own sources only, the values ingested (or the file quarantined) as from an inbox, and
every upload in the audit log."""

from __future__ import annotations

import pytest
from upload_support import HEADER_KZ, kz_line, open_deployment

from hydro.services import audit
from hydro.services.uploads import UploadError, check_upload, display_name, upload_series
from hydro.store import api

GOOD = (HEADER_KZ + kz_line("01.04.2024", "400") + kz_line("02.04.2024", "412")).encode("cp1251")


@pytest.fixture
def deployment(config_copy, tmp_path):
    yield from open_deployment(config_copy, tmp_path)


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\aigerim\\Desktop\\уровни.csv", "уровни.csv"),
    ("a\x00b\nc.csv", "abc.csv"),
    ("..", "upload"), ("", "upload"), (None, "upload"),
    ("x" * 300 + ".csv", "x" * 120),
])
def test_the_browsers_name_is_only_shown_never_a_path(raw, shown):
    assert display_name(raw) == shown


def test_a_good_file_is_kept_under_our_name_ingested_and_audited(deployment):
    config, engine = deployment
    r = upload_series(engine, config, GOOD, "../../secret/Урал.csv", "kazhydromet",
                      "aigerim", "KZ")
    assert r.ingest.outcome == "loaded" and r.ingest.rows_written == 2
    assert r.source == "kazhydromet" == r.ingest.source
    stored = config.resolve(config.settings.paths.uploads) / "kazhydromet"
    assert [p.name for p in stored.iterdir()] == [r.stored_as.rsplit("/", 1)[-1]]
    assert "secret" not in r.stored_as and "Урал" not in r.stored_as
    s = api.series(engine, "KZ:19071", "stage")
    assert list(s["value"]) == [400.0, 412.0] and set(s["source"]) == {"kazhydromet"}
    last = audit.events(engine)[0]
    assert last["action"] == "upload" and last["user_name"] == "aigerim"
    assert "Урал.csv" in last["detail"] and "loaded" in last["detail"]


def test_bad_values_are_rejected_by_the_ingest_named_by_the_upload_and_quarantined(deployment):
    config, engine = deployment
    bad = (HEADER_KZ + kz_line("01.04.2024", "inf")).encode("cp1251")
    r = upload_series(engine, config, bad, "levels.csv", "kazhydromet", "aigerim", "KZ")
    assert r.ingest.outcome == "rejected"
    assert "levels.csv" in r.ingest.message and "line 2" in r.ingest.message
    assert "'inf' is not a number" in r.ingest.message
    assert r.ingest.quarantined_to is not None
    quarantine = config.resolve(config.settings.paths.quarantine)
    assert any(p.suffix == ".csv" for p in quarantine.iterdir())
    assert not list((config.resolve(config.settings.paths.uploads) / "kazhydromet").iterdir())
    assert api.series(engine, "KZ:19071", "stage").empty


@pytest.mark.parametrize("content, name, source, party, key", [
    (GOOD, "a.csv", "roshydromet", "KZ", "upload.other_party"),
    (GOOD, "a.csv", "no-such", "KZ", "upload.unknown_source"),
    (b"", "a.csv", "kazhydromet", "KZ", "upload.empty"),
    (GOOD, "a.exe", "kazhydromet", "KZ", "upload.type"),
    (GOOD, "a.xlsx", "kazhydromet", "KZ", "upload.type"),
    (b"PK\x03\x04 zip", "a.nc", "exchange-nc", "KZ", "upload.not_netcdf"),
    (b"a;b\x00c", "a.csv", "kazhydromet", "KZ", "upload.not_text"),
    (b"x" * 1001, "a.csv", "kazhydromet", "KZ", "upload.too_big"),
])
def test_refused_before_anything_is_written(deployment, content, name, source, party, key):
    config, engine = deployment
    with pytest.raises(UploadError) as e:
        upload_series(engine, config, content, name, source, "ivan", party, max_bytes=1000)
    assert e.value.key == key
    assert name.rsplit("/", 1)[-1] in str(e.value)
    assert not config.resolve(config.settings.paths.uploads).exists()
    last = audit.events(engine)[0]
    assert last["action"] == "upload" and last["detail"].startswith("refused")
    assert api.data_period(engine) == (None, None)


def test_an_admin_may_load_for_either_party(deployment):
    config, _ = deployment
    assert check_upload(config, GOOD, "a.csv", "roshydromet", "KZ", admin=True) == ".csv"
