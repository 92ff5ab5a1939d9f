"""Policy data: versioned folders ``<root>/<policy-id>/<version>/`` of TOML files.

A version folder holds ``manifest.toml`` (id, version, source hash, readings, the modules it
has), one TOML file per module and ``clauses.toml`` (verbatim excerpts of the terms). Each
module's tables belong to the domain that declares a :class:`PolicyModule` of that name
(``entitlement``, ``sla``, ``expansion``); the domain structures them and says what they
mean. Every number of the terms is read from here; the code only knows what the parameters
mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import define, field, frozen

from ..core.convert import StructureError, structure
from ..errors import ConfigError
from ..inputs.toml import read_toml

if TYPE_CHECKING:
    from ..lint.catalogue import LintProblem

# The module every policy has: it names the tiers (and their aliases) and the period anchor.
CORE_MODULE = "entitlement"


# ------------------------------------------------------------ manifest


@frozen(kw_only=True)
class Reading:
    """A named reading (I-n) of an ambiguous point of the terms, and the parameter that holds it."""

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


class TermsError(ValueError):
    """A problem in a module's tables: the field path and what is wrong."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


@frozen(kw_only=True)
class PolicyModule:
    """One module of policy data (``<name>.toml``), declared by the domain that owns its tables.

    :param name: the file stem, as listed in the manifest's ``modules``.
    :param load: ``load(tables, policy)`` -> the structured terms; raises :class:`TermsError`
        (field path, message) on the first problem. ``policy.terms(name)`` returns the result.
    :param lint: ``lint(tables, tiers)`` -> the :class:`cso_policy.LintProblem`
        of every problem, for ``cso-policy lint``; *tiers* are the policy's tier names ([] when
        the entitlement module could not be read).
    :param show: ``show(terms, policy)`` -> the lines ``cso-policy policies show`` prints for it.
    :param required: every policy version must have this module.
    """

    name: str
    load: Callable[[dict, Policy], object]
    lint: Callable[[dict, list[str]], Iterable[LintProblem]] | None = None
    show: Callable[[object, Policy], list[str]] | None = None
    required: bool = False


def structured(data: dict, cls):
    """cattrs-structure a module's tables, raising :class:`TermsError` at the first bad field."""
    try:
        return structure(data, cls)
    except StructureError as exc:
        raise TermsError(*exc.problems[0]) from None


# ------------------------------------------------------------ a loaded version


@define
class Policy:
    """One loaded policy version: its manifest, folder, each module's raw tables (``modules``)
    and structured terms (:meth:`terms`), and the clause excerpts of the source."""

    manifest: Manifest
    path: Path
    modules: dict[str, dict]  # raw TOML of every module, for plugins and later modules
    clauses: dict[str, str] = field(factory=dict)  # clause -> verbatim excerpt of the source
    _terms: dict[str, object] = field(factory=dict, init=False)

    @property
    def ref(self) -> str:
        return f"{self.manifest.id}@{self.manifest.version}"

    def terms(self, module: str):
        """The structured terms of *module* (None when this version has no such module)."""
        return self._terms.get(module)

    @property
    def tiers(self) -> list[str]:
        return self.terms(CORE_MODULE).tiers

    @property
    def periods(self):
        """How contract periods are counted (anchor, week length)."""
        return self.terms(CORE_MODULE).periods

    def resolve_tier(self, name: str) -> str | None:
        """The tier called *name* (any case, or an alias like ``Fundamental``), or None."""
        key = name.strip().lower()
        terms = self.terms(CORE_MODULE)
        if key in terms.tiers:
            return key
        return terms.tier_aliases.get(key)

    def clause_text(self, clause: str) -> list[tuple[str, str]]:
        """Excerpts for a clause reference: "Tables 2-5, 10" -> Table 2..5 and Table 10."""
        return [(ref, self.clauses[ref]) for ref in _clause_refs(clause) if ref in self.clauses]


def _clause_refs(clause: str) -> list[str]:
    match = re.match(r"(Tables?|Sections?)\s+(.*)", clause.strip())
    if not match:
        return [clause]
    word = "Table" if match[1].startswith("Table") else "Section"
    refs = []
    for part in match[2].split(","):
        lo, _, hi = part.strip().partition("-")
        if _number(lo) and _number(hi) and len(hi) <= 4:  # a range of real tables, not "1-99999999"
            refs += [f"{word} {n}" for n in range(int(lo), int(hi) + 1)]
        elif _number(lo):
            refs.append(f"{word} {lo}")
    return refs


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # not "²", which isdigit() also takes


def _structured(data: dict, cls, path: Path):
    try:
        return structure(data, cls)
    except StructureError as exc:
        path_, msg = exc.problems[0]
        raise ConfigError(f"{path} {path_}: {msg}") from None


def load_policy(folder: Path, modules: Mapping[str, PolicyModule] | None = None) -> Policy:
    """Read a version folder and structure each module a :class:`PolicyModule` declares
    (*modules*: name -> module; default: the built-in domains'). Any problem is a ConfigError
    naming the file and field path."""
    if modules is None:
        from ..plugins import builtin_policy_modules

        modules = builtin_policy_modules()
    manifest_path = folder / "manifest.toml"
    manifest = _structured(read_toml(manifest_path), Manifest, manifest_path)
    raw = {}
    for name in manifest.modules:
        module_path = folder / f"{name}.toml"
        if module_path.exists():
            raw[name] = read_toml(module_path)
    for name, module in modules.items():
        if module.required and name not in raw:
            raise ConfigError(f"{folder}: policy has no {name}.toml")
    clauses_path = folder / "clauses.toml"
    clauses = read_toml(clauses_path) if clauses_path.is_file() else {}
    policy = Policy(manifest=manifest, path=folder, modules=raw, clauses=clauses)
    # the core module first: the others may read its tiers
    for name in sorted(raw, key=lambda n: n != CORE_MODULE):
        module = modules.get(name)
        if module is None:
            continue
        try:
            policy._terms[name] = module.load(raw[name], policy)
        except TermsError as exc:
            raise ConfigError(f"{folder / f'{name}.toml'} {exc.path}: {exc.message}") from None
    return policy


@define
class PolicyRegistry:
    """Finds policy versions on a search path; the first root holding an id@version wins.
    *modules* are the policy modules the registered domains declare (default: the built-in ones)."""

    roots: list[Path]
    modules: Mapping[str, PolicyModule] | None = None
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
            policy = self._loaded[ref] = load_policy(folder, self.modules)
        return policy


def builtin_policy_root() -> Path:
    """The bundled policies: inside the wheel, or the repository's policies/ folder."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_policies"
    return packaged if packaged.is_dir() else here.parent / "policies"
