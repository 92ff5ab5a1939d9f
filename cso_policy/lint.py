"""`cso-policy lint`: contract and policy files, as a pre-commit hook.

A TOML file is a contract when it has ``policy`` and ``packages``; it is policy
data when it sits in a version folder (beside a ``manifest.toml``); ``LOCK``
files hold the content hashes of published versions. Folders are searched
recursively.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from attrs import frozen

from .calendar import PERIOD_KINDS
from .convert import StructureError, structure
from .errors import ConfigError
from .expansion import ExpansionTerms, expansion_terms
from .sla import sla_problems
from .model import Contract, Level
from .policy import OVERAGE_FORMULAS, EntitlementTerms, Manifest, PolicyRegistry

LOCK_NAME = "LOCK"


@frozen(kw_only=True)
class LintRule:
    id: str
    level: Level
    title: str
    clause: str = "SPEC §1"


LINT_RULES = {
    r.id: r
    for r in (
        LintRule(id="contract.invalid_toml", level=Level.ERROR, title="The file is not valid TOML"),
        LintRule(id="contract.schema", level=Level.ERROR, title="A field is missing, unknown or of the wrong type", clause="SPEC §2"),
        LintRule(id="contract.unknown_tier", level=Level.ERROR, title="A package tier the policy does not know", clause="Section 1"),
        LintRule(id="contract.unknown_policy", level=Level.ERROR, title="The pinned policy id@version does not exist"),
        LintRule(id="contract.lob_in_two_packages", level=Level.ERROR, title="A line of business in more than one package", clause="Section 1"),
        LintRule(id="contract.package_without_lobs", level=Level.ERROR, title="A package with no lines of business", clause="Section 1"),
        LintRule(id="contract.duplicate_package", level=Level.ERROR, title="Two packages with the same id"),
        LintRule(id="contract.term_order", level=Level.ERROR, title="The term does not end after it starts"),
        LintRule(id="contract.timezone", level=Level.ERROR, title="The time zone is not an IANA name", clause="Section 8"),
        LintRule(id="contract.holidays", level=Level.ERROR, title="Holiday country or subdivision unknown to the holidays package", clause="Section 8"),
        LintRule(id="contract.overage_incomplete", level=Level.ERROR, title="Overage without rate, currency or written agreement", clause="Section 1"),
        LintRule(id="contract.expansion_purchase_timing", level=Level.ERROR, title="Expansion hours bought other than at the start of a renewal term", clause="Section 9"),
        LintRule(id="contract.expansion_pack_kind", level=Level.ERROR, title="An expansion purchase for a package or pack kind the tier does not include", clause="Table 9"),
        LintRule(id="contract.not_recognised", level=Level.ERROR, title="A file given to lint is neither a contract nor policy data"),
        LintRule(id="policy.invalid_toml", level=Level.ERROR, title="A policy file is not valid TOML"),
        LintRule(id="policy.schema", level=Level.ERROR, title="A policy table is missing, unknown or of the wrong type"),
        LintRule(id="policy.manifest", level=Level.ERROR, title="The manifest is incomplete or does not match its folder"),
        LintRule(id="policy.source_hash", level=Level.ERROR, title="The source text's sha256 does not match the manifest"),
        LintRule(id="policy.tier_coverage", level=Level.ERROR, title="A table does not cover every tier"),
        LintRule(id="policy.unknown_term", level=Level.ERROR, title="An unknown frequency word, period unit or reference"),
        LintRule(id="policy.inconsistent_caps", level=Level.WARNING, title="Quarterly hours x 4 differ from the annual hours", clause="Section 1"),
        LintRule(id="policy.locked_version_changed", level=Level.ERROR, title="A locked (published) policy version changed"),
    )
}


@frozen(kw_only=True)
class LintFinding:
    rule: str
    file: str
    message: str
    path: str | None = None  # key path, e.g. $.packages[1].tier
    line: int | None = None
    column: int | None = None

    @property
    def level(self) -> Level:
        return LINT_RULES[self.rule].level

    def location(self) -> str:
        """file:line:col where the key was found; the message names the key path anyway."""
        return f"{self.file}:{self.line}:{self.column or 1}" if self.line else self.file

    def as_dict(self) -> dict:
        return {"rule": self.rule, "level": str(self.level), "file": self.file, "line": self.line,
                "column": self.column, "path": self.path, "message": self.message}


# ------------------------------------------------------------------ locating keys


_PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)(?:\[(\d+)\])?")


def locate(text: str, key_path: str) -> tuple[int, int] | None:
    """Best-effort line and column of a ``$.a[1].b`` key path in TOML text (tomllib keeps no
    positions): ``[a]``/``[[a]]`` and dotted ``[a.b]`` headers, ``key =`` lines, inline tables."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    found = None
    table: list[str] = []  # the dotted name of the table the search is in
    for name, index in _PATH_PART.findall(key_path or ""):
        dotted = ".".join([*table, name])
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(dotted)}\s*\]\]?\s*(#.*)?$")
        hits = [i for i in range(len(lines)) if header.match(lines[i])]
        if hits:
            n = int(index) if index else 0
            if n >= len(hits):
                return found
            head = hits[n]
            start = head + 1
            end = next((i for i in range(start, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
            found, table = (head + 1, 1), dotted.split(".")
            continue
        key = re.compile(rf"^\s*{re.escape(name)}\s*=|[{{,]\s*{re.escape(name)}\s*=")
        hit = next((i for i in range(start, end) if key.search(lines[i])), None)
        if hit is None:
            if any(line.lstrip().startswith(f"[{dotted}.") for line in lines):
                table = dotted.split(".")  # an implicit table: only its sub-tables have headers
                continue
            return found
        match = key.search(lines[hit])
        col = match.start() + 1
        found = (hit + 1, col if lines[hit][col - 1] not in "{," else col + 2)
        start = hit
    return found


class _Collector:
    def __init__(self, file: Path, text: str = ""):
        self.file, self.text = str(file), text
        self.found: list[LintFinding] = []

    def add(self, rule: str, message: str, path: str | None = None) -> None:
        where = locate(self.text, path) if path else None
        line, column = where if where else (None, None)
        self.found.append(LintFinding(rule=rule, file=self.file, message=message, path=path, line=line, column=column))


def _read(path: Path, col: _Collector, rule: str) -> dict | None:
    try:
        col.text = path.read_text(encoding="utf-8")
        return tomllib.loads(col.text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+), column (\d+)", str(exc))
        col.found.append(LintFinding(rule=rule, file=str(path), message=f"invalid TOML: {exc}",
                                     line=int(match[1]) if match else None, column=int(match[2]) if match else None))
        return None


def _key_of(field_path: str, msg: str) -> str:
    """Point an unknown-field problem at the first unknown key, not at its table."""
    prefix = "unknown field(s): "
    if msg.startswith(prefix):
        return f"{field_path}.{msg[len(prefix):].split(',')[0].strip()}"
    return field_path


def _suggest(word: str, choices: Iterable[str]) -> str:
    by_lower = {c.lower(): c for c in choices}  # compare case-insensitively, suggest the real spelling ("us" -> 'US')
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


# ------------------------------------------------------------------ contracts


def lint_contract(path: Path, registry: PolicyRegistry, data: dict | None = None, col: _Collector | None = None) -> list[LintFinding]:
    col = col or _Collector(path)
    if data is None:
        data = _read(path, col, "contract.invalid_toml")
        if data is None:
            return col.found
    try:
        contract: Contract = structure(data, Contract)
    except StructureError as exc:
        for field_path, msg in exc.problems:
            col.add("contract.schema", f"{field_path}: {msg}", _key_of(field_path, msg))
        return col.found
    try:
        policy = registry.get(contract.policy)
    except ConfigError:
        available = ", ".join(sorted(registry.available())) or "none"
        col.add("contract.unknown_policy", f"unknown policy {contract.policy!r} (available: {available})", "$.policy")
        policy = None
    _lint_packages(contract, policy, col)
    _lint_term_and_place(contract, col)
    _lint_overage(contract, col)
    _lint_purchases(contract, policy, col)
    return col.found


def _lint_packages(contract: Contract, policy, col: _Collector) -> None:
    owner: dict[str, str] = {}
    ids: set[str] = set()
    for i, package in enumerate(contract.packages):
        where = f"$.packages[{i}]"
        if policy is not None and policy.resolve_tier(package.tier) is None:
            names = list(policy.tiers) + list(policy.entitlement.tier_aliases)
            col.add("contract.unknown_tier",
                    f"unknown tier {package.tier!r} (expected one of {', '.join(policy.tiers)}){_suggest(package.tier, names)}",
                    f"{where}.tier")
        if package.id in ids:
            col.add("contract.duplicate_package", f"duplicate package id {package.id!r}", f"{where}.id")
        ids.add(package.id)
        if not package.lines_of_business:
            col.add("contract.package_without_lobs", f"package {package.id!r} lists no lines of business", f"{where}.lines_of_business")
        for lob in package.lines_of_business:
            if lob in owner:
                col.add("contract.lob_in_two_packages",
                        f"line of business {lob!r} is in packages {owner[lob]!r} and {package.id!r}", f"{where}.lines_of_business")
            owner.setdefault(lob, package.id)


def _lint_term_and_place(contract: Contract, col: _Collector) -> None:
    term = contract.term
    if term.end <= term.start:
        col.add("contract.term_order", f"term end {term.end} is not after its start {term.start}", "$.term")
    try:
        ZoneInfo(contract.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        col.add("contract.timezone", f"{contract.timezone!r} is not an IANA time zone name (e.g. America/New_York)", "$.timezone")
    if contract.holidays is not None:
        supported = holidays_lib.list_supported_countries()
        if contract.holidays not in supported:
            col.add("contract.holidays",
                    f"holiday country {contract.holidays!r} is unknown to the holidays package{_suggest(contract.holidays.upper(), supported)}",
                    "$.holidays")
        elif contract.holidays_subdiv is not None and contract.holidays_subdiv not in supported[contract.holidays]:
            col.add("contract.holidays",
                    f"subdivision {contract.holidays_subdiv!r} is not one of {contract.holidays}'s: {', '.join(supported[contract.holidays][:12])}…",
                    "$.holidays_subdiv")
    elif contract.holidays_subdiv is not None:
        col.add("contract.holidays", "holidays_subdiv is given without a holidays country", "$.holidays_subdiv")


def _lint_overage(contract: Contract, col: _Collector) -> None:
    overage = contract.overage
    if overage is None:
        return
    missing = [name for name in ("rate", "currency", "agreement") if not getattr(overage, name)]
    if missing:
        col.add("contract.overage_incomplete",
                f"overage needs a rate agreed in writing: missing {', '.join(missing)} (Section 1)", "$.overage")


def _lint_purchases(contract: Contract, policy, col: _Collector) -> None:
    packages = {p.id: p for p in contract.packages}
    for i, purchase in enumerate(contract.expansion_purchases):
        where = f"$.expansion_purchases[{i}]"
        if contract.renewal_of is None:
            col.add("contract.expansion_purchase_timing",
                    f"expansion hours bought on {purchase.purchased_on}, but the contract is not a renewal "
                    "(no renewal_of): additional hours can be purchased only upon renewal (Section 9)", f"{where}.purchased_on")
        elif purchase.purchased_on != contract.term.start:
            col.add("contract.expansion_purchase_timing",
                    f"expansion hours bought on {purchase.purchased_on}, not at the start of the renewal term "
                    f"{contract.term.start} (Section 9)", f"{where}.purchased_on")
        package = packages.get(purchase.package)
        if package is None:
            col.add("contract.expansion_pack_kind", f"expansion purchase names no package of this contract: {purchase.package!r}", f"{where}.package")
            continue
        tier = policy.resolve_tier(package.tier) if policy is not None else None
        terms = expansion_terms(policy) if tier is not None else None
        if terms is None:
            continue
        packs = terms.tier(tier)
        if packs is None:
            col.add("contract.expansion_pack_kind",
                    f"the {tier} package {package.id!r} includes no expansion packs ({terms.table}: '–')", f"{where}.package")
        elif purchase.kind != packs.pack:
            col.add("contract.expansion_pack_kind",
                    f"pack kind {purchase.kind!r}: the {tier} package {package.id!r} has {packs.pack} deployments ({terms.table})",
                    f"{where}.kind")


# ------------------------------------------------------------------ policies


def content_hash(folder: Path) -> str:
    """sha256 over every file of a version folder (relative path and content)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
    return "sha256:" + digest.hexdigest()


def read_lock(root: Path) -> dict[str, str]:
    lock = root / LOCK_NAME
    if not lock.is_file():
        return {}
    try:
        return dict(tomllib.loads(lock.read_text()).get("versions", {}))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{lock}: invalid TOML ({exc})") from None


def write_lock(root: Path) -> tuple[list[str], list[str]]:
    """Lock every version under *root*: returns (newly locked, refused because changed)."""
    locked = read_lock(root)
    added, refused = [], []
    for manifest in sorted(root.glob("*/*/manifest.toml")):
        folder = manifest.parent
        ref = f"{folder.parent.name}@{folder.name}"
        current = content_hash(folder)
        if ref not in locked:
            locked[ref] = current
            added.append(ref)
        elif locked[ref] != current:
            refused.append(ref)
    lines = ["# Content hashes of published policy versions: a locked version never changes.",
             "# Written by `cso-policy policies lock`; new terms go in a new version folder.", "", "[versions]"]
    lines += [f'"{ref}" = "{h}"' for ref, h in sorted(locked.items())]
    (root / LOCK_NAME).write_text("\n".join(lines) + "\n")
    return added, refused


def _lint_expansion(data: dict, tiers: list[str], col: _Collector) -> None:
    try:
        terms: ExpansionTerms = structure(data, ExpansionTerms)
    except StructureError as exc:
        for field_path, msg in exc.problems:
            col.add("policy.schema", f"{field_path}: {msg}", field_path)
        return
    if not tiers:  # entitlement.toml unreadable: reported there, no tier list to compare with
        return
    missing = [t for t in tiers if t not in terms.tiers]
    if missing:
        col.add("policy.tier_coverage", f"$.tiers has no entry for {', '.join(missing)}", "$.tiers")
    for tier, packs in terms.tiers.items():
        if tier not in tiers:
            col.add("policy.tier_coverage", f"$.tiers names unknown tier {tier!r}", f"$.tiers.{tier}")
        if packs.deployments > 0 and (packs.pack is None or packs.pack not in terms.packs):
            col.add("policy.unknown_term", f"$.tiers.{tier}: {packs.deployments} deployment(s) need a pack kind of [packs]", f"$.tiers.{tier}")
    both = set(terms.uses.allowed) & set(terms.uses.disallowed)
    if both:
        col.add("policy.unknown_term", f"uses both allowed and disallowed: {', '.join(sorted(both))}", "$.uses")


def _lint_sla(data: dict, tiers: list[str], col: _Collector) -> None:
    if not tiers:
        return
    for field_path, msg in sla_problems(data, tiers):
        col.add("policy.schema", f"{field_path}: {msg}", field_path)


MODULE_LINTERS: dict[str, Callable[[dict, list[str], _Collector], None]] = {
    "expansion": _lint_expansion,
    "sla": _lint_sla,
}
"""Checks of each policy module's own tables, by module name."""


def lint_policy_version(folder: Path) -> list[LintFinding]:
    found: list[LintFinding] = []
    manifest_path = folder / "manifest.toml"
    col = _Collector(manifest_path)
    data = _read(manifest_path, col, "policy.invalid_toml")
    found += col.found
    if data is None:
        return found
    try:
        manifest: Manifest = structure(data, Manifest)
    except StructureError as exc:
        for field_path, msg in exc.problems:
            col.add("policy.manifest", f"{field_path}: {msg}", field_path)
        return found + col.found[len(found):]
    if (manifest.id, manifest.version) != (folder.parent.name, folder.name):
        col.add("policy.manifest", f"manifest says {manifest.id}@{manifest.version} but the folder is "
                f"{folder.parent.name}/{folder.name}", "$.id")
    source = folder / manifest.source.file
    if not source.is_file():
        col.add("policy.source_hash", f"source file {manifest.source.file} is missing", "$.source.file")
    elif hashlib.sha256(source.read_bytes()).hexdigest() != manifest.source.sha256:
        col.add("policy.source_hash", f"sha256 of {manifest.source.file} is {hashlib.sha256(source.read_bytes()).hexdigest()}, "
                f"manifest says {manifest.source.sha256}", "$.source.sha256")
    for name in manifest.modules:
        if not (folder / f"{name}.toml").is_file():
            col.add("policy.manifest", f"module {name!r} is listed but {name}.toml is missing", "$.modules")
    lock = read_lock(folder.parent.parent)
    ref = f"{folder.parent.name}@{folder.name}"
    if ref in lock and lock[ref] != content_hash(folder):
        col.add("policy.locked_version_changed",
                f"{ref} is locked (published) but its files changed; revert them and add the new terms as a new version folder")
    found = col.found
    tiers: list[str] = []
    ent_path = folder / "entitlement.toml"
    if ent_path.is_file():
        ent_col = _Collector(ent_path)
        ent = _read(ent_path, ent_col, "policy.invalid_toml")
        if ent is not None:
            tiers = _lint_entitlement(ent, ent_col)
        found += ent_col.found
    for name in manifest.modules:
        linter = MODULE_LINTERS.get(name)
        path = folder / f"{name}.toml"
        if linter is None or not path.is_file():
            continue
        mod_col = _Collector(path)
        mod = _read(path, mod_col, "policy.invalid_toml")
        if mod is not None:
            linter(mod, tiers, mod_col)
        found += mod_col.found
    return found


def _lint_entitlement(data: dict, col: _Collector) -> list[str]:
    try:
        terms: EntitlementTerms = structure(data, EntitlementTerms)
    except StructureError as exc:
        for field_path, msg in exc.problems:
            col.add("policy.schema", f"{field_path}: {msg}", field_path)
        return list(data.get("tiers", []))
    tiers = terms.tiers

    def cover(table: dict, path: str) -> None:
        missing = [t for t in tiers if t not in table]
        extra = [t for t in table if t not in tiers]
        if missing:
            col.add("policy.tier_coverage", f"{path} has no value for {', '.join(missing)}", path)
        if extra:
            col.add("policy.tier_coverage", f"{path} names unknown tier(s) {', '.join(extra)}", path)

    def known_word(word: str, path: str) -> None:
        if word not in terms.frequencies:
            col.add("policy.unknown_term", f"{path}: unknown frequency word {word!r}{_suggest(word, terms.frequencies)}", path)

    cover(terms.hours.per_quarter, "$.hours.per_quarter")
    cover(terms.hours.per_year, "$.hours.per_year")
    for name, item in terms.items.items():
        cover(item.cells, f"$.items.{name}.cells")
        for word in item.cells.values():
            known_word(word, f"$.items.{name}.cells")
        if item.allowance is not None and item.allowance not in terms.allowances:
            col.add("policy.unknown_term", f"$.items.{name}.allowance names no allowance: {item.allowance!r}", f"$.items.{name}.allowance")
    for name, channel in terms.channels.items():
        cover(channel.cells, f"$.channels.{name}.cells")
        for word in channel.cells.values():
            known_word(word, f"$.channels.{name}.cells")
    cover(terms.support.enhanced_sla, "$.support.enhanced_sla")
    cover(terms.support.business_critical_24x7, "$.support.business_critical_24x7")
    for word, meaning in terms.frequencies.items():
        if meaning.period is not None and meaning.period not in PERIOD_KINDS:
            col.add("policy.unknown_term", f"frequency {word!r}: unknown period {meaning.period!r} (known: {', '.join(PERIOD_KINDS)})",
                    "$.frequencies")
        if meaning.included and not (meaning.unlimited or meaning.additional_cost) and (meaning.max is None or meaning.period is None):
            col.add("policy.unknown_term", f"frequency {word!r} needs max and period", "$.frequencies")
    for name, allowance in terms.allowances.items():
        if allowance.period not in PERIOD_KINDS:
            col.add("policy.unknown_term", f"allowance {name}: unknown period {allowance.period!r}", f"$.allowances.{name}.period")
        if allowance.scope not in ("shared", "per_service"):
            col.add("policy.unknown_term", f"allowance {name}: scope must be shared or per_service", f"$.allowances.{name}.scope")
        extra = [t for t in allowance.hours if t not in tiers]
        if extra:
            col.add("policy.tier_coverage", f"$.allowances.{name}.hours names unknown tier(s) {', '.join(extra)}", f"$.allowances.{name}.hours")
    if terms.overage.formula not in OVERAGE_FORMULAS:
        col.add("policy.unknown_term", f"overage.formula {terms.overage.formula!r} is not supported "
                f"({', '.join(OVERAGE_FORMULAS)})", "$.overage.formula")
    if terms.periods.anchor != "term_start":
        col.add("policy.unknown_term", f"periods.anchor {terms.periods.anchor!r} is not supported (term_start)", "$.periods.anchor")
    for tier in tiers:
        quarterly, annual = terms.hours.per_quarter.get(tier), terms.hours.per_year.get(tier)
        if quarterly is not None and annual is not None and quarterly * 4 != annual:
            col.add("policy.inconsistent_caps",
                    f"{tier}: {quarterly:g} h/quarter x 4 = {quarterly * 4:g} h, but the annual cap is {annual:g} h; "
                    "the audit applies both caps", "$.hours.per_year")
    return tiers


# ------------------------------------------------------------------ walking


def _version_folder(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    return folder if (folder / "manifest.toml").is_file() else None


def lint_paths(paths: Iterable[Path], registry: PolicyRegistry) -> list[LintFinding]:
    """Lint files and folders (recursively); policy version folders are linted once each."""
    found: list[LintFinding] = []
    versions: set[Path] = set()
    for given in paths:
        if not given.exists():
            raise ConfigError(f"{given}: no such file or folder")
        files = sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]
        for path in files:
            explicit = not given.is_dir()
            if path.name == LOCK_NAME:
                for manifest in sorted(path.parent.glob("*/*/manifest.toml")):
                    versions.add(manifest.parent)
                continue
            if path.suffix != ".toml" or path.name == "cso-policy.toml":
                if explicit and path.name != "cso-policy.toml":
                    found.append(LintFinding(rule="contract.not_recognised", file=str(path), message="not a TOML file"))
                continue
            version = _version_folder(path)
            if version is not None:
                versions.add(version)
                continue
            found += _lint_toml_file(path, registry, explicit)
    for folder in sorted(versions):
        found += lint_policy_version(folder)
    return found


def _lint_toml_file(path: Path, registry: PolicyRegistry, explicit: bool) -> list[LintFinding]:
    col = _Collector(path)
    data = _read(path, col, "contract.invalid_toml")
    if data is None:
        return col.found
    if "policy" in data or "packages" in data:
        return lint_contract(path, registry, data, col)
    if explicit:
        col.add("contract.not_recognised", "neither a contract (no policy/packages) nor policy data (no manifest.toml beside it)")
    return col.found

