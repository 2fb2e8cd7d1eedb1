"""The dependency runs dashboard -> hydro only (DESIGN.md, Layout)."""

import ast

from conftest import ROOT


def test_hydro_never_imports_the_dashboard():
    offenders = []
    for path in sorted((ROOT / "hydro").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}"
                          for n in names if n == "dashboard" or n.startswith("dashboard.")]
    assert offenders == []


def test_serve_reaches_the_cli_through_the_entry_point():
    from importlib.metadata import entry_points

    from hydro.cli import COMMAND_GROUP

    eps = {e.name: e.value for e in entry_points(group=COMMAND_GROUP)}
    assert eps.get("serve") == "dashboard.cli:add_commands"
