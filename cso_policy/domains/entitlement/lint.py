"""Lint checks of the entitlement domain: a contract's packages and overage, and the
entitlement module of a policy version (every table covers every tier, known frequency words
and period units, a reading for every blank cell (I-9), overrun levels of known tables (I-7),
Section 1 caps that agree)."""

from __future__ import annotations

from ...core.calendar import PERIOD_KINDS
from ...core.model import Contract, Level
from ...lint.catalogue import POLICY_FORMAT, LintProblem, LintProblems, LintRule, suggest
from ...lint.files import structured
from ...policy.registry import Policy
from .terms import BLANK, OVERAGE_FORMULAS, PERIOD_ANCHORS, EntitlementTerms, blank_cell_problems, entitlement_terms

LINT_RULES = (
    LintRule(id="contract.unknown_tier", level=Level.ERROR, title="A package tier the policy does not know", clause="Section 1"),
    LintRule(id="contract.lob_in_two_packages", level=Level.ERROR, title="A line of business in more than one package", clause="Section 1"),
    LintRule(id="contract.package_without_lobs", level=Level.ERROR, title="A package with no lines of business", clause="Section 1"),
    LintRule(id="contract.duplicate_package", level=Level.ERROR, title="Two packages with the same id"),
    LintRule(id="contract.overage_incomplete", level=Level.ERROR, title="Overage without rate, currency or written agreement", clause="Section 1"),
    LintRule(id="policy.tier_coverage", level=Level.ERROR, title="A table does not cover every tier", clause=POLICY_FORMAT),
    LintRule(id="policy.unknown_term", level=Level.ERROR, title="An unknown frequency word, period unit or reference", clause=POLICY_FORMAT),
    LintRule(id="policy.inconsistent_caps", level=Level.WARNING, title="Quarterly hours x 4 differ from the annual hours", clause="Section 1"),
)


def lint_contract(contract: Contract, policy: Policy | None) -> list[LintProblem]:
    """Package tiers (with a did-you-mean), ids and lines of business; the overage agreement."""
    found = LintProblems()
    add = found.add

    owner: dict[str, str] = {}
    ids: set[str] = set()
    for i, package in enumerate(contract.packages):
        where = f"$.packages[{i}]"
        if policy is not None and policy.resolve_tier(package.tier) is None:
            names = list(policy.tiers) + list(entitlement_terms(policy).tier_aliases)
            add("contract.unknown_tier",
                f"unknown tier {package.tier!r} (expected one of {', '.join(policy.tiers)}){suggest(package.tier, names)}",
                f"{where}.tier")
        if package.id in ids:
            add("contract.duplicate_package", f"duplicate package id {package.id!r}", f"{where}.id")
        ids.add(package.id)
        if not package.lines_of_business:
            add("contract.package_without_lobs", f"package {package.id!r} lists no lines of business", f"{where}.lines_of_business")
        for lob in package.lines_of_business:
            if lob in owner:
                add("contract.lob_in_two_packages",
                    f"line of business {lob!r} is in packages {owner[lob]!r} and {package.id!r}", f"{where}.lines_of_business")
            owner.setdefault(lob, package.id)
    overage = contract.overage
    if overage is not None:
        missing = [name for name in ("rate", "currency", "agreement") if not getattr(overage, name)]
        if missing:
            add("contract.overage_incomplete",
                f"overage needs a rate agreed in writing: missing {', '.join(missing)} (Section 1)", "$.overage")
    return found


def lint_module(tables: dict, tiers: list[str]) -> list[LintProblem]:
    """The entitlement.toml of a policy version."""
    terms, problems = structured(tables, EntitlementTerms, "policy.schema")
    if terms is None:
        return problems
    tiers = terms.tiers
    found = LintProblems()
    add = found.add

    def cover(table: dict, path: str) -> None:
        missing = [t for t in tiers if t not in table]
        extra = [t for t in table if t not in tiers]
        if missing:
            add("policy.tier_coverage", f"{path} has no value for {', '.join(missing)}", path)
        if extra:
            add("policy.tier_coverage", f"{path} names unknown tier(s) {', '.join(extra)}", path)

    def known_word(word: str, path: str) -> None:
        if word not in terms.frequencies:
            add("policy.unknown_term", f"{path}: unknown frequency word {word!r}{suggest(word, terms.frequencies)}", path)

    cover(terms.hours.per_quarter, "$.hours.per_quarter")
    cover(terms.hours.per_year, "$.hours.per_year")
    for name, item in terms.items.items():
        cover(item.cells, f"$.items.{name}.cells")
        for word in item.cells.values():
            if word != BLANK:  # a blank cell is read through [blank_cells] (I-9), checked below
                known_word(word, f"$.items.{name}.cells")
    for path, message in blank_cell_problems(terms):
        add("policy.unknown_term", f"{path}: {message}", path)
    if terms.blank_cells is not None:
        for name, cells in terms.blank_cells.cells.items():
            for word in cells.values():
                known_word(word, f"$.blank_cells.cells.{name}")
    if terms.frequency_overrun is not None:
        clauses = {item.clause for item in terms.items.values()}
        for clause in terms.frequency_overrun.level:
            if clause not in clauses:
                add("policy.unknown_term", f"frequency_overrun.level names {clause!r}, the clause of no item "
                    f"(items are in {', '.join(sorted(clauses))})", "$.frequency_overrun.level")
        if item.allowance is not None and item.allowance not in terms.allowances:
            add("policy.unknown_term", f"$.items.{name}.allowance names no allowance: {item.allowance!r}", f"$.items.{name}.allowance")
    for name, channel in terms.channels.items():
        cover(channel.cells, f"$.channels.{name}.cells")
        for word in channel.cells.values():
            known_word(word, f"$.channels.{name}.cells")
    cover(terms.support.enhanced_sla, "$.support.enhanced_sla")
    cover(terms.support.business_critical_24x7, "$.support.business_critical_24x7")
    for word, meaning in terms.frequencies.items():
        if meaning.period is not None and meaning.period not in PERIOD_KINDS:
            add("policy.unknown_term", f"frequency {word!r}: unknown period {meaning.period!r} (known: {', '.join(PERIOD_KINDS)})",
                "$.frequencies")
        if meaning.included and not (meaning.unlimited or meaning.additional_cost) and (meaning.max is None or meaning.period is None):
            add("policy.unknown_term", f"frequency {word!r} needs max and period", "$.frequencies")
    for name, allowance in terms.allowances.items():
        if allowance.period not in PERIOD_KINDS:
            add("policy.unknown_term", f"allowance {name}: unknown period {allowance.period!r}", f"$.allowances.{name}.period")
        if allowance.scope not in ("shared", "per_service"):
            add("policy.unknown_term", f"allowance {name}: scope must be shared or per_service", f"$.allowances.{name}.scope")
        extra = [t for t in allowance.hours if t not in tiers]
        if extra:
            add("policy.tier_coverage", f"$.allowances.{name}.hours names unknown tier(s) {', '.join(extra)}", f"$.allowances.{name}.hours")
    if terms.overage.formula not in OVERAGE_FORMULAS:
        add("policy.unknown_term", f"overage.formula {terms.overage.formula!r} is not supported "
            f"({', '.join(OVERAGE_FORMULAS)})", "$.overage.formula")
    if terms.periods.anchor not in PERIOD_ANCHORS:
        add("policy.unknown_term", f"periods.anchor {terms.periods.anchor!r} is not supported ({', '.join(PERIOD_ANCHORS)})",
            "$.periods.anchor")
    for tier in tiers:
        quarterly, annual = terms.hours.per_quarter.get(tier), terms.hours.per_year.get(tier)
        if quarterly is not None and annual is not None and quarterly * 4 != annual:
            add("policy.inconsistent_caps",
                f"{tier}: {quarterly:g} h/quarter x 4 = {quarterly * 4:g} h, but the annual cap is {annual:g} h; "
                "the audit applies both caps", "$.hours.per_year")
    return found
