"""Dependency audit: every installed distribution checked against a local advisory database.

``python scripts/audit_dependencies.py [--db PATH] [--online]``

Why not plain ``pip-audit``: pip-audit asks a vulnerability service (PyPI's JSON API or
OSV) for every package, and the machines hydrorisk is built and tested on reach only a
package mirror, which has no vulnerability API (``pip-audit`` then reports every package
as "not found on PyPI" and checks nothing).  So the check that ``make test`` (and with it
``.ci/run``) runs is offline:

* the database is PyUp's ``safety-db`` (``insecure.json``: package → vulnerable version
  specifiers), installed from the package index with the ``test`` extra;
* every distribution in this environment (``importlib.metadata``) is matched against it
  with :mod:`packaging.specifiers` (PEP 440);
* a match fails the audit (exit 1), naming the package, version, specifier and the
  advisory text of ``insecure_full.json`` — unless ``scripts/audit_accepted.toml``
  accepts exactly that package and range, with the reason and the mitigation in the code
  (printed as ACCEPTED on every run).

**Its limit, stated every run:** the public ``safety-db`` is a snapshot (its ``$meta``
timestamp is printed); advisories published after it are not checked.  ``--online``
also runs ``pip-audit`` (OSV) where that service is reachable, which covers them; its
failure to reach the service is reported, not hidden.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    specifier: str
    advisory: str


class AdvisoryDatabaseError(Exception):
    """The advisory database is missing or not in the expected form."""


def default_db() -> Path:
    """The folder of the installed ``safety_db`` package."""
    # Located, not imported: safety_db's own __init__ opens a path relative to the cwd.
    spec = importlib.util.find_spec("safety_db")
    if spec is None or spec.origin is None:
        raise AdvisoryDatabaseError(
            "no advisory database: install it with `pip install -e '.[test]'` (safety-db) "
            "or pass --db FOLDER holding insecure.json and insecure_full.json")
    return Path(spec.origin).parent


def load_db(folder: Path) -> tuple[dict[str, list[str]], dict[str, list[dict]], dt.datetime]:
    """``insecure.json`` (name → specifiers), ``insecure_full.json`` (name → advisories)
    and the snapshot time of ``folder``."""
    out = []
    for name in ("insecure.json", "insecure_full.json"):
        path = folder / name
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise AdvisoryDatabaseError(f"{path}: file not found") from None
        except json.JSONDecodeError as e:
            raise AdvisoryDatabaseError(f"{path}: line {e.lineno}: not JSON ({e.msg})") from None
    short, full = out
    meta = short.pop("$meta", {})
    full.pop("$meta", None)
    if "timestamp" not in meta:
        raise AdvisoryDatabaseError(f"{folder / 'insecure.json'}: field '$meta.timestamp' missing")
    when = dt.datetime.fromtimestamp(int(meta["timestamp"]), tz=dt.UTC)
    return ({canonicalize_name(k): v for k, v in short.items()},
            {canonicalize_name(k): v for k, v in full.items()}, when)


def installed() -> dict[str, str]:
    """Every distribution of this environment: canonical name → version."""
    out: dict[str, str] = {}
    for d in metadata.distributions():
        name = d.metadata["Name"]
        if name:
            out[canonicalize_name(name)] = d.version
    return out


def audit(packages: Mapping[str, str], vulnerable: Mapping[str, Iterable[str]],
          advisories: Mapping[str, list[dict]] | None = None) -> list[Finding]:
    """Installed ``packages`` (name → version) whose version lies in a vulnerable range.

    A specifier the database writes that PEP 440 cannot parse, or a version that is not
    PEP 440, is skipped (and so is not a finding) — :func:`main` reports how many.
    """
    findings: list[Finding] = []
    for name, version in sorted(packages.items()):
        specs = vulnerable.get(canonicalize_name(name))
        if not specs:
            continue
        try:
            v = Version(version)
        except InvalidVersion:
            continue
        for spec in specs:
            try:
                hit = v in SpecifierSet(spec, prereleases=True)
            except InvalidSpecifier:
                continue
            if hit:
                text = next((a.get("advisory", "") for a in (advisories or {}).get(
                    canonicalize_name(name), []) if a.get("v") == spec), "")
                findings.append(Finding(name, version, spec, text))
    return findings


ACCEPTED_FILE = Path(__file__).with_name("audit_accepted.toml")


def load_accepted(path: Path) -> dict[tuple[str, str], str]:
    """Reviewed advisories: (package, version range) → reason (``audit_accepted.toml``)."""
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise AdvisoryDatabaseError(f"{path}: {e}") from None
    out: dict[tuple[str, str], str] = {}
    for i, entry in enumerate(raw.get("accepted", []), start=1):
        for key in ("package", "range", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise AdvisoryDatabaseError(f"{path}: [[accepted]] entry {i}: field '{key}' "
                                            "missing or empty")
        out[(canonicalize_name(entry["package"]), entry["range"])] = entry["reason"].strip()
    return out


def _online() -> int:
    try:
        r = subprocess.run([sys.executable, "-m", "pip_audit", "--vulnerability-service", "osv",
                            "--progress-spinner", "off"], capture_output=True, text=True,
                           timeout=600, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as e:
        print(f"pip-audit (OSV): not run: {e}")
        return 0
    print(r.stdout.strip() or r.stderr.strip())
    return r.returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, default=None,
                   help="folder with insecure.json and insecure_full.json (default: safety-db)")
    p.add_argument("--online", action="store_true", help="also run pip-audit against OSV")
    p.add_argument("--accepted", type=Path, default=ACCEPTED_FILE,
                   help="reviewed advisories (default: scripts/audit_accepted.toml)")
    args = p.parse_args(argv)
    try:
        vulnerable, full, when = load_db(args.db or default_db())
        accepted = load_accepted(args.accepted)
    except AdvisoryDatabaseError as e:
        print(f"dependency audit: {e}", file=sys.stderr)
        return 2
    packages = installed()
    found = audit(packages, vulnerable, full)
    findings = [f for f in found if (canonicalize_name(f.package), f.specifier) not in accepted]
    print(f"dependency audit: {len(packages)} installed distributions against "
          f"{len(vulnerable)} packages with advisories (safety-db snapshot of {when:%Y-%m-%d}; "
          "advisories published later are not checked here — see --online)")
    for f in found:
        reason = accepted.get((canonicalize_name(f.package), f.specifier))
        if reason is not None:
            print(f"  ACCEPTED {f.package} {f.version} (advisory range {f.specifier}): "
                  f"{reason.splitlines()[0]} …")
    for f in findings:
        print(f"  VULNERABLE {f.package} {f.version} (advisory range {f.specifier}): "
              f"{f.advisory[:200]}")
    rc = 1 if findings else 0
    if args.online:
        rc = max(rc, _online())
    print("dependency audit: " + ("FAILED" if rc else "no known vulnerable version installed"))
    return rc


if __name__ == "__main__":
    sys.exit(main())
