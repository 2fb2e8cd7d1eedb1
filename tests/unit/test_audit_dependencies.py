"""scripts/audit_dependencies.py: installed versions matched against advisory ranges (PEP
440 specifiers, as PyUp's safety-db writes them), reviewed advisories accepted by exact
package and range only, bad database files named."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
A = importlib.util.module_from_spec(spec)
sys.modules["audit_dependencies"] = A  # dataclasses look their module up
spec.loader.exec_module(A)


def test_a_version_inside_a_range_is_found_and_one_outside_is_not():
    db = {"jinja2": ["<2.11.3", ">=3.0,<3.0.1"], "other": ["<1"]}
    full = {"jinja2": [{"v": "<2.11.3", "advisory": "ReDoS in urlize"}]}
    found = A.audit({"Jinja2": "2.10.1", "requests": "2.0"}, db, full)
    assert [(f.package, f.specifier, f.advisory) for f in found] == [
        ("Jinja2", "<2.11.3", "ReDoS in urlize")]
    assert A.audit({"jinja2": "2.11.3"}, db, full) == []
    assert [f.specifier for f in A.audit({"jinja2": "3.0.0"}, db, full)] == [">=3.0,<3.0.1"]


def test_unparseable_versions_and_ranges_are_skipped_not_crashing():
    assert A.audit({"pkg": "not-a-version"}, {"pkg": ["<2"]}) == []
    assert A.audit({"pkg": "1.0"}, {"pkg": ["<<2"]}) == []


def _write_db(folder: Path, short: object, full: object | None = None) -> Path:
    (folder / "insecure.json").write_text(json.dumps(short))
    (folder / "insecure_full.json").write_text(json.dumps(full if full is not None else {}))
    return folder


def test_main_fails_on_a_vulnerable_install_and_accepts_a_reviewed_one(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(A, "installed", lambda: {"demo-pkg": "1.0", "safe": "3.0"})
    db = _write_db(tmp_path, {"$meta": {"timestamp": 1625119201}, "demo-pkg": [">=0.0"]})
    none = tmp_path / "none.toml"
    assert A.main(["--db", str(db), "--accepted", str(none)]) == 1
    assert "VULNERABLE demo-pkg 1.0" in capsys.readouterr().out
    ok = tmp_path / "ok.toml"
    ok.write_text('[[accepted]]\npackage = "Demo_Pkg"\nrange = ">=0.0"\nreason = "reviewed"\n')
    assert A.main(["--db", str(db), "--accepted", str(ok)]) == 0
    out = capsys.readouterr().out
    assert "ACCEPTED demo-pkg" in out and "2021-07-01" in out
    other = tmp_path / "other.toml"  # an accepted range that differs does not hide it
    other.write_text('[[accepted]]\npackage = "demo-pkg"\nrange = "<0.5"\nreason = "x"\n')
    assert A.main(["--db", str(db), "--accepted", str(other)]) == 1


def test_bad_database_and_accepted_files_are_named(tmp_path, capsys):
    (tmp_path / "insecure.json").write_text("{not json")
    assert A.main(["--db", str(tmp_path)]) == 2
    assert "insecure.json: line 1" in capsys.readouterr().err
    db = _write_db(tmp_path, {"$meta": {"timestamp": 1}})
    bad = tmp_path / "acc.toml"
    bad.write_text('[[accepted]]\npackage = "x"\nrange = ">=0"\n')
    assert A.main(["--db", str(db), "--accepted", str(bad)]) == 2
    assert "entry 1: field 'reason'" in capsys.readouterr().err


def test_the_repository_audit_passes_with_its_reviewed_exceptions():
    """What `make test` runs, on this environment: the test extra installs safety-db, so
    its absence is a broken install, not a reason to skip."""
    assert importlib.util.find_spec("safety_db") is not None, (
        "safety-db missing: pip install -e '.[test]'")
    assert A.main([]) == 0
