"""The layering of DESIGN.md "Layout", checked with import-linter (contracts in
pyproject.toml, [tool.importlinter]): science imports no edge, services never import the
CLI, the dashboard goes through hydro.services, CLI command modules are independent, and
there are no import cycles."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"]


def _lint(cwd: Path, env_path: Path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, PYTHONPATH=str(env_path))
    return subprocess.run(LINT + [str(cwd / "pyproject.toml"), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_hold():
    r = _lint(ROOT, ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_every_module_directly_in_hydro_is_declared_science():
    """A new module in hydro/ is science and must be under the purity contract."""
    science = next(c for c in _contracts() if c["id"] == "science-is-pure")["source_modules"]
    top = sorted(f"hydro.{p.stem}" for p in (ROOT / "hydro").glob("*.py") if p.stem != "__init__")
    assert sorted(science) == top


def test_every_cli_command_module_is_under_the_independence_contract():
    declared = next(c for c in _contracts() if c["id"] == "cli-commands-independent")["modules"]
    found = sorted(f"hydro.cli.{p.stem}" for p in (ROOT / "hydro" / "cli").glob("*.py")
                   if p.stem not in ("__init__", "__main__", "args", "text"))
    assert sorted(declared) == found


@pytest.mark.slow
@pytest.mark.parametrize("module, line, contract", [
    ("routing.py", "import hydro.store.api\n", "Science (modules directly in hydro/)"),
    ("services/reports.py", "import hydro.cli.args\n", "services never import the CLI"),
    ("worker/__init__.py", "import sqlalchemy\n", "hydro.services and hydro.worker never"),
    ("cli/reports.py", "import hydro.cli.scenario\n", "CLI command modules never import"),
    ("readers/common.py", "import hydro.readers.registry\n", "No import cycles"),
    ("../dashboard/provider.py", "import hydro.store.api\n", "The dashboard reaches data"),
])
def test_a_violation_breaks_its_contract(tmp_path, module, line, contract):
    """The contracts are not vacuous: one forbidden import in a copy of the tree fails."""
    for pkg in ("hydro", "dashboard"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "hydro" / module
    target.write_text(line + target.read_text(encoding="utf-8"), encoding="utf-8")
    r = _lint(tmp_path, tmp_path)
    assert r.returncode != 0
    broken = r.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, r.stdout
