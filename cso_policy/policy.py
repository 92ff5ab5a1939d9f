"""Policy data: versioned folders ``<root>/<policy-id>/<version>/`` of TOML files.

Every number of the terms is read from here; the code only knows what the
parameters mean.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from collections.abc import Callable
from typing import TypeVar

from attrs import define, field, frozen

from .convert import StructureError, structure
from . import hookimpl
from .errors import ConfigError

T = TypeVar("T")

NOT_INCLUDED = "not_included"
UNLIMITED = "unlimited"
LIMITED = "limited"
ADDITIONAL_COST = "additional_cost"
EXPANSION_SERVICE = "expansion"
# Section 1: billable overage of a contract year = max(sum of quarterly excess, annual excess)
OVERAGE_FORMULAS = ("max_quarterly_annual",)  # SPEC §2: work on an expansion scope


# ------------------------------------------------------------ file schemas


@frozen(kw_only=True)
class Reading:
    id: str
    parameter: str
    text: str


@frozen(kw_only=True)
class SourceRef:
    file: str
    sha256: str


@frozen(kw_only=True)
class Manifest:
    id: str
    version: str
    title: str
    effective: date
    modules: list[str]
    source: SourceRef
    example: bool = False
    readings: list[Reading] = field(factory=list)


@frozen(kw_only=True)
class FrequencyWord:
    max: int | None = None
    period: str | None = None
    unlimited: bool = False
    additional_cost: bool = False
    included: bool = True


@frozen(kw_only=True)
class Hours:
    clause: str
    per_quarter: dict[str, float]
    per_year: dict[str, float]
    count_additional_cost: bool = False


@frozen(kw_only=True)
class OverageTerms:
    clause: str
    formula: str
    requires_written_rate: bool = True


@frozen(kw_only=True)
class ExpenseTerms:
    clause: str
    requires_advance_approval: bool = True


@frozen(kw_only=True)
class Periods:
    anchor: str
    week_days: int = 7


@frozen(kw_only=True)
class AllowanceTerms:
    name: str
    clause: str
    period: str
    scope: str
    hours: dict[str, float]


@frozen(kw_only=True)
class ItemTerms:
    name: str
    clause: str
    cells: dict[str, str]
    allowance: str | None = None
    international_surcharge: bool = False


@frozen(kw_only=True)
class ChannelTerms:
    clause: str
    cells: dict[str, str]


@frozen(kw_only=True)
class SupportTerms:
    clause: str
    business_critical_24x7: dict[str, str]
    enhanced_sla: dict[str, str]


@frozen(kw_only=True)
class EntitlementTerms:
    tiers: list[str]
    hours: Hours
    overage: OverageTerms
    expenses: ExpenseTerms
    periods: Periods
    frequencies: dict[str, FrequencyWord]
    allowances: dict[str, AllowanceTerms]
    items: dict[str, ItemTerms]
    channels: dict[str, ChannelTerms]
    support: SupportTerms
    tier_aliases: dict[str, str] = field(factory=dict)


# ------------------------------------------------------------ resolved view


@frozen
class Cell:
    """What one tier gets of one item: the seed's word and what it means."""

    word: str
    status: str  # NOT_INCLUDED | UNLIMITED | LIMITED | ADDITIONAL_COST
    max: int | None = None
    period: str | None = None

    @property
    def included(self) -> bool:
        return self.status in (UNLIMITED, LIMITED)


@define
class Policy:
    """One loaded policy version."""

    manifest: Manifest
    path: Path
    entitlement: EntitlementTerms
    modules: dict[str, dict]  # raw TOML of every module, for plugins and later modules
    clauses: dict[str, str] = field(factory=dict)  # clause -> verbatim excerpt of the source
    _cells: dict[tuple[str, str], Cell] = field(factory=dict, init=False)
    _services: frozenset[str] = field(factory=frozenset, init=False)
    _derived: dict[str, object] = field(factory=dict, init=False)

    @property
    def ref(self) -> str:
        return f"{self.manifest.id}@{self.manifest.version}"

    @property
    def tiers(self) -> list[str]:
        return self.entitlement.tiers

    def resolve_tier(self, name: str) -> str | None:
        key = name.strip().lower()
        if key in self.entitlement.tiers:
            return key
        return self.entitlement.tier_aliases.get(key)

    def cell(self, tier: str, item: str) -> Cell | None:
        """The cell of *item* for *tier*, or None when the item is unknown."""
        key = (tier, item)
        cached = self._cells.get(key)
        if cached is None:
            terms = self.entitlement.items.get(item)
            if terms is None:
                return None
            cached = self._cells[key] = self.word_cell(terms.cells.get(tier, "–"))
        return cached

    def word_cell(self, word: str) -> Cell:
        meaning = self.entitlement.frequencies.get(word)
        if meaning is None:
            raise ConfigError(f"{self.ref}: unknown frequency word {word!r}")
        if not meaning.included:
            return Cell(word, NOT_INCLUDED)
        if meaning.additional_cost:
            return Cell(word, ADDITIONAL_COST)
        if meaning.unlimited:
            return Cell(word, UNLIMITED)
        return Cell(word, LIMITED, meaning.max, meaning.period)

    def channel_included(self, tier: str, channel: str) -> bool:
        key = ("channel", tier, channel)
        included = self._cells.get(key)
        if included is None:
            terms = self.entitlement.channels.get(channel)
            included = self._cells[key] = terms is not None and self.word_cell(terms.cells.get(tier, "–")).included
        return included

    def derived(self, key: str, build: Callable[[Policy], T]) -> T:
        """A value built once from this policy's data, e.g. a module's structured terms."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def clause_text(self, clause: str) -> list[tuple[str, str]]:
        """Excerpts for a clause reference: "Tables 2-5, 10" -> Table 2..5 and Table 10."""
        return [(ref, self.clauses[ref]) for ref in _clause_refs(clause) if ref in self.clauses]

    @property
    def services(self) -> frozenset[str]:
        """What a work record's ``service`` may name: every item, and expansion work."""
        return self._services

    def __attrs_post_init__(self):
        self._services = frozenset(self.entitlement.items) | {EXPANSION_SERVICE}


def _clause_refs(clause: str) -> list[str]:
    match = re.match(r"(Tables?|Sections?)\s+(.*)", clause.strip())
    if not match:
        return [clause]
    word = "Table" if match[1].startswith("Table") else "Section"
    refs = []
    for part in match[2].split(","):
        lo, _, hi = part.strip().partition("-")
        if lo.isdigit() and hi.isdigit():
            refs += [f"{word} {n}" for n in range(int(lo), int(hi) + 1)]
        elif lo.isdigit():
            refs.append(f"{word} {lo}")
    return refs


def read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None


def _structured(data: dict, cls, path: Path):
    try:
        return structure(data, cls)
    except StructureError as exc:
        path_, msg = exc.problems[0]
        raise ConfigError(f"{path} {path_}: {msg}") from None


def load_policy(folder: Path) -> Policy:
    manifest_path = folder / "manifest.toml"
    manifest = _structured(read_toml(manifest_path), Manifest, manifest_path)
    modules = {}
    for name in manifest.modules:
        module_path = folder / f"{name}.toml"
        if module_path.exists():
            modules[name] = read_toml(module_path)
    if "entitlement" not in modules:
        raise ConfigError(f"{folder}: policy has no entitlement.toml")
    entitlement = _structured(modules["entitlement"], EntitlementTerms, folder / "entitlement.toml")
    if entitlement.overage.formula not in OVERAGE_FORMULAS:
        raise ConfigError(f"{folder / 'entitlement.toml'} $.overage.formula: {entitlement.overage.formula!r} "
                          f"is not supported (known: {', '.join(OVERAGE_FORMULAS)})")
    clauses_path = folder / "clauses.toml"
    clauses = read_toml(clauses_path) if clauses_path.is_file() else {}
    return Policy(manifest=manifest, path=folder, entitlement=entitlement, modules=modules, clauses=clauses)


@define
class PolicyRegistry:
    """Finds policy versions on a search path; the first root holding an id@version wins."""

    roots: list[Path]
    _loaded: dict[str, Policy] = field(factory=dict, init=False)

    def available(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for root in self.roots:
            if not root.is_dir():
                continue
            for manifest in sorted(root.glob("*/*/manifest.toml")):
                ref = f"{manifest.parent.parent.name}@{manifest.parent.name}"
                found.setdefault(ref, manifest.parent)
        return found

    def get(self, ref: str) -> Policy:
        policy = self._loaded.get(ref)
        if policy is None:
            folder = self.available().get(ref)
            if folder is None:
                known = ", ".join(sorted(self.available())) or "none"
                raise ConfigError(f"unknown policy {ref!r} (available: {known})")
            policy = self._loaded[ref] = load_policy(folder)
        return policy


def builtin_policy_root() -> Path:
    """The bundled policies: inside the wheel, or the repository's policies/ folder."""
    here = Path(__file__).resolve().parent
    packaged = here / "_policies"
    return packaged if packaged.is_dir() else here.parent / "policies"


@hookimpl
def cso_policy_policy_paths():
    return [builtin_policy_root()]
