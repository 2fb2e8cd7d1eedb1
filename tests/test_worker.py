"""The scheduled ingest job: inbox -> store -> archive; poisoned files to quarantine."""

import shutil

import pytest

from conftest import ROOT


@pytest.fixture
def project(config_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    return config_copy


def test_poll_inbox_archives_and_quarantines(project):
    from hydro.config import load_config
    from hydro.store import api
    from hydro.store.db import open_store
    from hydro.worker import poll_inbox

    root = project.parent
    inbox = root / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    shutil.copy(ROOT / "data/gauges/agency/kazhydromet/tobol_2024.csv", inbox / "tobol_2024.csv")
    (inbox / "poison.csv").write_bytes("Код поста;Дата;Уровень воды, см\r\n12008;01.04.2024;abc\r\n".encode("cp1251"))
    results = poll_inbox(str(project), "kazhydromet")
    assert sorted(r.outcome for r in results) == ["loaded", "rejected"]
    assert not any(p.is_file() for p in inbox.iterdir())
    assert (root / "data/archive/kazhydromet/tobol_2024.csv").exists()
    kept = list((root / "data/quarantine/kazhydromet").glob("*poison.csv"))
    assert len(kept) == 1
    assert "is not a number" in kept[0].with_name(kept[0].name + ".reason.txt").read_text()
    config = load_config(project)
    engine = open_store(config.store_url, config.network)
    assert len(api.series(engine, "KZ:12008", "stage")) == 366
    # the next poll finds nothing and the job keeps running
    assert poll_inbox(str(project), "kazhydromet") == []


def test_jobs_derive_from_config_and_sync_idempotently(project):
    from hydro.config import load_config
    from hydro.worker import build_scheduler, sync_jobs

    config = load_config(project)
    sched = build_scheduler(config, str(project))
    sched.start(paused=True)
    try:
        added, removed = sync_jobs(sched, config, str(project))
        assert set(added) == {f"ingest:{s.id}" for s in config.sources.sources} and removed == []
        again = sync_jobs(sched, config, str(project))
        assert again == ([], [])
        assert all(j.coalesce for j in sched.get_jobs())
        text = (project / "sources.toml").read_text(encoding="utf-8")
        start = text.index('[[sources]]\nid = "quality"')
        (project / "sources.toml").write_text(text[:start] + text[start:].split("\n\n", 1)[1],
                                              encoding="utf-8")
        added, removed = sync_jobs(sched, load_config(project), str(project))
        assert added == [] and removed == ["ingest:quality"]
    finally:
        sched.shutdown(wait=False)
