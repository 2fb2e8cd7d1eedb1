"""Translations of hydrorisk: extract, update, compile and check the gettext catalogs with Babel.

    python scripts/i18n.py extract   # code -> dashboard/locale/dashboard.pot, hydro/locale/hydro.pot
    python scripts/i18n.py update    # .pot -> each .po (new keys get an empty msgstr to fill in)
    python scripts/i18n.py compile   # .po -> .mo (the app reads only the .mo)
    python scripts/i18n.py check     # exit 1 on any problem; warnings for unused keys

Two domains: ``dashboard`` (``dashboard/locale/{kk,ru,en}/LC_MESSAGES/dashboard.po``) and
``hydro`` (``hydro/locale/.../hydro.po``).  Message ids are stable keys (``stations.title``);
every language, English included, is a translation (see :mod:`hydro.services.i18n`).

Extraction reads the Python sources of the domain and takes the first argument of
``t(...)``, ``t_or(...)``, ``has(...)`` and ``N_(...)`` (also as ``module.t(...)``) when it is a
string literal.  :func:`extract_keys` is a Babel extraction method (it parses with :mod:`ast`:
Babel's token-based ``python`` method takes ``"qc."`` from ``t_or("qc." + flag, ...)`` and
misreads ``t["key"].format(...)`` where ``t`` is a dict).  Keys that code builds at run time are listed with ``N_()`` in
``dashboard/i18n_keys.py`` and ``hydro/services/i18n_keys.py`` (:attr:`Domain.keys_module`).  In
hydro, the modules whose own helper takes a short key (``text("title", lang)`` in the bulletin and in dashboard/auth.py,
``_t(lang, "title.open")`` in hydro/cli/alerts.py) have their prefix in
:data:`LOCAL_PREFIXES`.

``check`` fails when a key lacks a non-empty, non-fuzzy translation in kk, ru or en, when the
catalogs of one domain hold different keys, when a ``{field}`` differs between the languages
of a key, when a ``.mo`` is stale, i.e. does not carry exactly the translated, non-fuzzy
entries of its ``.po`` (contents are compared, not time stamps, which a checkout does not
keep, nor bytes, which differ between msgfmt and Babel), or when the code uses a key that no catalog
has.  A catalog key that no code uses is reported as a warning.
"""

from __future__ import annotations

import argparse
import ast
import io
import string
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("kk", "ru", "en")
#: functions whose first argument, when a string literal, is a message id
KEYWORDS: dict[str, tuple[int, ...] | None] = {"t": (1,), "t_or": (1,), "has": (1,), "N_": None}
#: modules whose own helper takes a key without its prefix:
#: file -> {function: (prefix, position of the key among the arguments, from 1)}
LOCAL_PREFIXES: dict[str, dict[str, tuple[str, int]]] = {
    "dashboard/auth.py": {"text": ("auth.", 1)},
    "hydro/services/bulletin_output.py": {"text": ("bulletin.", 1)},
    "hydro/services/commission.py": {"text": ("commission.", 1)},
    "hydro/services/notification_text.py": {"t": ("notification.", 1)},
    "hydro/services/scenario_run_outputs.py": {"text": ("scenario_run.", 1)},
    "hydro/cli/alerts.py": {"_t": ("cli.alerts.", 2)},
}
WIDTH = 96


@dataclass(frozen=True)
class Domain:
    name: str
    source: Path      #: the package whose code uses the keys
    locale_dir: Path
    #: the module that lists the keys built at run time with ``N_()`` (named in warnings)
    keys_module: Path | None = None

    @property
    def pot(self) -> Path:
        return self.locale_dir / f"{self.name}.pot"

    def po(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.name}.po"

    def mo(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.name}.mo"


DOMAINS: tuple[Domain, ...] = (
    Domain("dashboard", ROOT / "dashboard", ROOT / "dashboard" / "locale",
           ROOT / "dashboard" / "i18n_keys.py"),
    Domain("hydro", ROOT / "hydro", ROOT / "hydro" / "locale",
           ROOT / "hydro" / "services" / "i18n_keys.py"),
)


# --------------------------------------------------------------------------- extract

def _sources(domain: Domain) -> Iterator[Path]:
    for path in sorted(domain.source.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def extract_keys(fileobj: io.BufferedIOBase, keywords: Mapping[str, object],
                 comment_tags: Collection[str], options: Mapping[str, object]
                 ) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method: ``(lineno, funcname, key, [])`` for each call of a function
    in ``keywords`` (by name or as an attribute) whose key argument (the first, or the n-th
    for a keyword spec ``(n,)``) is a string literal."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else None
        if name not in keywords:
            continue
        spec = keywords[name]
        position = spec[0] if isinstance(spec, tuple) and spec else 1
        if len(node.args) < position:
            continue
        arg = node.args[position - 1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield node.lineno, name, arg.value, []


def extracted(domain: Domain) -> dict[str, set[str]]:
    """Every key the code of ``domain`` uses literally -> the files that use it."""
    keys: dict[str, set[str]] = {}
    for path in _sources(domain):
        rel = path.relative_to(ROOT).as_posix()
        local = LOCAL_PREFIXES.get(rel, {})
        with path.open("rb") as f:
            keywords = {**KEYWORDS, **{name: (pos,) for name, (_, pos) in local.items()}}
            for _lineno, funcname, key, _comments in extract_keys(f, keywords, (), {}):
                if key:
                    prefix = local[funcname][0] if funcname in local else ""
                    keys.setdefault(prefix + key, set()).add(rel)
    return keys


def _new_catalog(domain: Domain, lang: str | None) -> Catalog:
    what = f"{lang} translation" if lang else "translation template"
    return Catalog(locale=lang, domain=domain.name, project="hydrorisk", version="",
                   msgid_bugs_address="", copyright_holder="", fuzzy=False,
                   last_translator="hydrorisk developers", language_team="hydrorisk",
                   header_comment=f"# The {domain.name} texts of hydrorisk: {what}.\n"
                                  "# Message ids are stable keys; made and checked with "
                                  "scripts/i18n.py (README, 'Translations').")


def extract(domain: Domain) -> Path:
    """Write ``domain``'s .pot from the code (sorted, file names without line numbers, so it
    changes only when keys do)."""
    template = _new_catalog(domain, None)
    for key, files in sorted(extracted(domain).items()):
        template.add(key, "", locations=[(f, None) for f in sorted(files)])
    buf = io.BytesIO()
    write_po(buf, template, width=WIDTH, sort_output=True, include_lineno=False)
    domain.pot.parent.mkdir(parents=True, exist_ok=True)
    domain.pot.write_bytes(_strip_dates(buf.getvalue()))
    return domain.pot


_DROPPED_HEADERS = (b'"POT-Creation-Date:', b'"PO-Revision-Date: YEAR',
                    b'"Report-Msgid-Bugs-To: EMAIL')


def _strip_dates(data: bytes) -> bytes:
    """Drop the creation date (so that re-extracting the same keys gives the same bytes) and
    Babel's placeholder header lines."""
    data = data.replace(b'"Project-Id-Version: hydrorisk VERSION', b'"Project-Id-Version: hydrorisk')
    return b"".join(line for line in data.splitlines(keepends=True)
                    if not line.startswith(_DROPPED_HEADERS))


# --------------------------------------------------------------------------- update, compile

def read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=path.stem)


def write(path: Path, catalog: Catalog) -> None:
    buf = io.BytesIO()
    write_po(buf, catalog, width=WIDTH, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_strip_dates(buf.getvalue()))


def update(domain: Domain) -> list[str]:
    """Merge the .pot into each .po: new keys get an empty msgstr (to translate), keys the
    .pot no longer has become obsolete (``#~``).  Returns the new "key:lang" entries."""
    template = read(domain.pot)
    new: list[str] = []
    for lang in LANGUAGES:
        path = domain.po(lang)
        catalog = read(path, lang) if path.exists() else _new_catalog(domain, lang)
        notes = {m.id: list(m.auto_comments) for m in catalog if m.id}
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        for m in catalog:
            if m.id and not m.auto_comments:      # keep the notes for translators
                m.auto_comments = notes.get(m.id, [])
        new += [f"{m.id}:{lang}" for m in catalog if m.id and m.id not in notes]
        write(path, catalog)
    return new


def compiled(po: Path, lang: str) -> bytes:
    """The .mo of ``po`` (fuzzy and untranslated entries left out)."""
    buf = io.BytesIO()
    write_mo(buf, read(po, lang), use_fuzzy=False)
    return buf.getvalue()


def compile_domain(domain: Domain) -> list[Path]:
    out = []
    for lang in LANGUAGES:
        domain.mo(lang).write_bytes(compiled(domain.po(lang), lang))
        out.append(domain.mo(lang))
    return out


# --------------------------------------------------------------------------- check

def fields(text: str) -> list[str]:
    """The ``str.format`` fields of ``text``, sorted (``"{n} of {total}"`` -> [n, total])."""
    try:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text)
                      if name is not None)
    except ValueError as exc:
        return [f"<malformed: {exc}>"]


def _translations(catalog: Catalog) -> dict[str, str]:
    """msgid -> msgstr of the entries a .mo carries (translated, not fuzzy)."""
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def check(domains: Iterable[Domain] = DOMAINS) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the catalogs; see the module docstring."""
    errors: list[str] = []
    warnings: list[str] = []
    for domain in domains:
        catalogs: dict[str, Catalog] = {}
        for lang in LANGUAGES:
            path = domain.po(lang)
            if not path.exists():
                errors.append(f"{path}: missing")
                continue
            catalogs[lang] = read(path, lang)
        if len(catalogs) < len(LANGUAGES):
            continue
        texts = {lang: {m.id: m for m in cat if m.id} for lang, cat in catalogs.items()}
        keys = set().union(*(set(v) for v in texts.values()))
        for key in sorted(keys):
            for lang in LANGUAGES:
                m = texts[lang].get(key)
                where = f"{domain.po(lang).relative_to(ROOT)}: msgid \"{key}\""
                if m is None:
                    errors.append(f"{where}: missing")
                elif not str(m.string).strip():
                    errors.append(f"{where}: empty msgstr (untranslated)")
                elif m.fuzzy:
                    errors.append(f"{where}: fuzzy")
            found = {lang: fields(str(texts[lang][key].string)) for lang in LANGUAGES
                     if key in texts[lang] and str(texts[lang][key].string).strip()}
            if len({tuple(v) for v in found.values()}) > 1:
                errors.append(f"{domain.name}: msgid \"{key}\": {{fields}} differ between "
                              "languages: " + ", ".join(f"{lang} {v}" for lang, v in
                                                        found.items()))
        for lang in LANGUAGES:
            mo = domain.mo(lang)
            if not mo.exists():
                errors.append(f"{mo.relative_to(ROOT)}: missing; run `scripts/i18n.py compile`")
            else:
                want = _translations(read(domain.po(lang), lang))
                with mo.open("rb") as f:
                    have = _translations(read_mo(f))
                if have != want:
                    stale = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
                    errors.append(f"{mo.relative_to(ROOT)}: differs from its .po (stale); run "
                                  f"`scripts/i18n.py compile` (e.g. msgid \"{stale[0]}\")")
        used = extracted(domain)
        for key in sorted(set(used) - keys):
            errors.append(f"{domain.name}: msgid \"{key}\" used in "
                          f"{', '.join(sorted(used[key]))} is in no catalog")
        listing = (domain.keys_module.relative_to(ROOT).as_posix() if domain.keys_module
                   else f"{domain.source.name}/i18n_keys.py")
        for key in sorted(keys - set(used)):
            warnings.append(f"{domain.name}: msgid \"{key}\" is used by no code (or built at "
                            f"run time without N_() in {listing})")
    return errors, warnings


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("extract", "update", "compile", "check"))
    parser.add_argument("--domain", choices=[d.name for d in DOMAINS],
                        help="only this domain (default: all)")
    args = parser.parse_args(argv)
    domains = [d for d in DOMAINS if args.domain in (None, d.name)]
    if args.command == "extract":
        for d in domains:
            print(f"{extract(d).relative_to(ROOT)}: {len(read(d.pot))} keys")
    elif args.command == "update":
        for d in domains:
            new = update(d)
            print(f"{d.name}: {len(new)} new entries to translate"
                  + "".join(f"\n  {n}" for n in new))
    elif args.command == "compile":
        for d in domains:
            for path in compile_domain(d):
                print(f"{path.relative_to(ROOT)}")
    else:
        errors, warnings = check(domains)
        for w in warnings:
            print(f"warning: {w}")
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"{len(errors)} errors, {len(warnings)} warnings")
        return 1 if errors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
