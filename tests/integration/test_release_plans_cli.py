"""``hydrorisk scenario plan …`` and the scenario CLI defects of issue #14: a copied
scenario file runs under its file name, a negative or unit-less ``--release`` is refused,
``drawdown`` needs no ``--reservoir``, gauges are printed with their names, and the
search's objective is stated in words and units (bundled SYNTHETIC scenarios)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, store: Path | None = None) -> subprocess.CompletedProcess:
    """The command in a new process (for the slow end-to-end runs)."""
    env = dict(os.environ)
    if store is not None:
        env["HYDRORISK_DB_URL"] = f"sqlite:///{store}"
    return subprocess.run([sys.executable, "-m", "hydro.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """``hydrorisk`` in this process (hydro.cli.main: exit status and one-line errors as the
    console script), its store in ``tmp_path``."""
    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return call


@pytest.mark.parametrize("release, words", [("-5 m3/s", "cannot be negative"),
                                            ("900", "missing unit")])
def test_release_refuses_negative_and_unitless(cli, release, words):
    r = cli("scenario", "release", "ural-2024-style", "--reservoir", "RU:IRIKLINSK",
            f"--release={release}", "--from", "2024-03-20")
    assert r.returncode == 2, r.stdout
    assert words in r.stderr and "Traceback" not in r.stderr


def test_a_copied_scenario_runs_under_its_file_name(cli, config_copy):
    folder = config_copy / "scenarios"
    shutil.copy(folder / "ural-2024-style.toml", folder / "my-copy.toml")
    r = cli("--config", str(config_copy), "scenario", "list")
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("my-copy [synthetic]") for line in r.stdout.splitlines())
    assert any(line.startswith("ural-2024-style [synthetic]") for line in r.stdout.splitlines())
    assert "note:" in r.stderr and "'my-copy' (the file name)" in r.stderr
    shutil.copy(folder / "ural-2024-style.toml", folder / "My copy.toml")
    r = cli("--config", str(config_copy), "scenario", "list")
    assert r.returncode == 2 and "rename the file" in r.stderr


def test_plan_save_show_export(cli, tmp_path):
    good = tmp_path / "irik.csv"
    good.write_text("date;release (m³/s)\n2024-03-01;15\n2024-03-10;201\n2024-04-01;15\n",
                    encoding="utf-8")
    r = cli("scenario", "plan", "save", "ural-2024-style", "march-201", "--reservoir",
            "RU:IRIKLINSK", "--csv", str(good), "--note", "2025 practice", "--author", "anna")
    assert r.returncode == 0, r.stderr
    assert "saved ural-2024-style/march-201@1 by anna" in r.stdout
    assert "Iriklinsk reservoir (RU:IRIKLINSK): 3 rows" in r.stdout
    r = cli("scenario", "plan", "save", "ural-2024-style", "march-201", "--reservoir",
            "RU:VERKHNEURALSK", "--csv", str(good))
    assert r.returncode == 0, r.stderr
    assert "march-201@2" in r.stdout and "kept from the previous version: Iriklinsk" in r.stdout
    r = cli("scenario", "plan", "show", "ural-2024-style/march-201@1")
    assert r.returncode == 0, r.stderr
    assert "Verkhneuralsk reservoir (RU:VERKHNEURALSK)" in r.stdout
    assert "follows the rule of plan 'default'" in r.stdout
    assert "2024-03-10           201" in r.stdout and "SYNTHETIC" in r.stdout
    r = cli("scenario", "plan", "list", "ural-2024-style")
    assert "ural-2024-style/march-201@2" in r.stdout and "ural-2024-style/early-prerelease" \
        in r.stdout
    out = tmp_path / "back.csv"
    r = cli("scenario", "plan", "export", "ural-2024-style/march-201@1", "--reservoir",
            "RU:IRIKLINSK", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "date,release_m3s\n2024-03-01,15.0\n2024-03-10,201.0\n" \
                              "2024-04-01,15.0\n"
    r = cli("scenario", "plan", "export", "ural-2024-style/early-prerelease", "--reservoir",
            "RU:IRIKLINSK")
    assert r.stdout.splitlines()[2] == "2024-03-12,1000.0"
    bad = tmp_path / "bad.csv"
    bad.write_text("date,release\n2024-03-01,-5\n")
    r = cli("scenario", "plan", "save", "ural-2024-style", "bad", "--reservoir",
            "RU:IRIKLINSK", "--csv", str(bad))
    assert r.returncode == 2
    assert "bad.csv, line 1, column 'release': the column does not name its unit" in r.stderr


def test_the_search_objective_is_stated_in_words_and_units():
    from hydro.cli.scenario import objective_text

    text = " ".join(objective_text("RU:IRIKLINSK", 2700.0, 0.9))
    assert "points, lower is better" in text
    assert "per metre the peak stage rises above the dangerous level" in text
    assert "2700 hm3 in 90 % of members" in text and "Kazakh" in text


@pytest.mark.slow
def test_drawdown_without_reservoir_checks_each_and_compare_names_gauges():
    r = run("scenario", "drawdown", "ural-2024-style", "--members", "2")
    assert r.returncode == 0, r.stderr
    assert "drawdown check of Verkhneuralsk reservoir (RU:VERKHNEURALSK)" in r.stdout
    assert "drawdown check of Iriklinsk reservoir (RU:IRIKLINSK)" in r.stdout
    r = run("scenario", "compare", "ural-2024-style", "default", "early-prerelease",
            "--members", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any("KZ:19071" in ln and "Ural at Uralsk (Oral)" in ln for ln in lines)
    adverse = [ln for ln in lines if ln.strip().startswith("days_over_adverse")
               and "KZ:19072" in ln]
    assert adverse and adverse[0].rstrip().endswith("no adverse level")
    assert "0.0" not in adverse[0]
