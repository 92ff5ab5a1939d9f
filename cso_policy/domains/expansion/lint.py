"""Lint checks of the expansion domain: a contract's expansion purchases (renewal only, a
package and pack kind that has packs) and the expansion module of a policy version."""

from __future__ import annotations

from ...core.model import Contract, Level
from ...lint.catalogue import LintProblem, LintProblems, LintRule
from ...lint.files import structured
from ...policy.registry import Policy
from .terms import ExpansionTerms, expansion_terms

LINT_RULES = (
    LintRule(id="contract.expansion_purchase_timing", level=Level.ERROR,
             title="Expansion hours bought other than at the start of a renewal term", clause="Section 9"),
    LintRule(id="contract.expansion_pack_kind", level=Level.ERROR,
             title="An expansion purchase for a package or pack kind the tier does not include", clause="Table 9"),
)


def lint_contract(contract: Contract, policy: Policy | None) -> list[LintProblem]:
    found = LintProblems()
    add = found.add

    packages = {p.id: p for p in contract.packages}
    for i, purchase in enumerate(contract.expansion_purchases):
        where = f"$.expansion_purchases[{i}]"
        if contract.renewal_of is None:
            add("contract.expansion_purchase_timing",
                f"expansion hours bought on {purchase.purchased_on}, but the contract is not a renewal "
                "(no renewal_of): additional hours can be purchased only upon renewal (Section 9)", f"{where}.purchased_on")
        elif purchase.purchased_on != contract.term.start:
            add("contract.expansion_purchase_timing",
                f"expansion hours bought on {purchase.purchased_on}, not at the start of the renewal term "
                f"{contract.term.start} (Section 9)", f"{where}.purchased_on")
        package = packages.get(purchase.package)
        if package is None:
            add("contract.expansion_pack_kind", f"expansion purchase names no package of this contract: {purchase.package!r}",
                f"{where}.package")
            continue
        tier = policy.resolve_tier(package.tier) if policy is not None else None
        terms = expansion_terms(policy) if tier is not None else None
        if terms is None:
            continue
        packs = terms.tier(tier)
        if packs is None:
            add("contract.expansion_pack_kind",
                f"the {tier} package {package.id!r} includes no expansion packs ({terms.table}: '–')", f"{where}.package")
        elif purchase.kind != packs.pack:
            add("contract.expansion_pack_kind",
                f"pack kind {purchase.kind!r}: the {tier} package {package.id!r} has {packs.pack} deployments ({terms.table})",
                f"{where}.kind")
    return found


def lint_module(tables: dict, tiers: list[str]) -> list[LintProblem]:
    """The expansion.toml of a policy version: every tier has an entry, deployments name a pack."""
    terms, problems = structured(tables, ExpansionTerms, "policy.schema")
    if terms is None:
        return problems
    if not tiers:  # entitlement.toml unreadable: reported there, no tier list to compare with
        return []
    found = LintProblems()
    add = found.add

    missing = [t for t in tiers if t not in terms.tiers]
    if missing:
        add("policy.tier_coverage", f"$.tiers has no entry for {', '.join(missing)}", "$.tiers")
    for tier, packs in terms.tiers.items():
        if tier not in tiers:
            add("policy.tier_coverage", f"$.tiers names unknown tier {tier!r}", f"$.tiers.{tier}")
        if packs.deployments > 0 and (packs.pack is None or packs.pack not in terms.packs):
            add("policy.unknown_term", f"$.tiers.{tier}: {packs.deployments} deployment(s) need a pack kind of [packs]",
                f"$.tiers.{tier}")
    both = set(terms.uses.allowed) & set(terms.uses.disallowed)
    if both:
        add("policy.unknown_term", f"uses both allowed and disallowed: {', '.join(sorted(both))}", "$.uses")
    return found
