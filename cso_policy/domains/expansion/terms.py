"""The expansion module of a policy (``expansion.toml``): Section 9 and Table 9, the packs,
each tier's included deployments, hours per deployment or per pack (I-6), the allowed and
disallowed uses, renewal-only purchases (I-10) and no carry-forward."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from ...core.model import PackKind
from ...policy.registry import Policy, TermsError, structured

MODULE = "expansion"
PER_DEPLOYMENT = "deployment"
PER_PACK = "pack"


@frozen(kw_only=True)
class PackTerms:
    hours: float


@frozen(kw_only=True)
class TierPacks:
    deployments: int
    pack: PackKind | None = None
    cell: str | None = None  # the terms' own Table 9 cell, for `policies show`


@frozen(kw_only=True)
class Uses:
    allowed: dict[str, str]
    disallowed: dict[str, str]


@frozen(kw_only=True)
class ExpansionTerms:
    clause: str
    table: str
    hours_per: Literal["deployment", "pack"]
    inside_section_1_hours: bool
    carry_forward: bool
    purchase_only_at_renewal: bool
    packs: dict[PackKind, PackTerms]
    tiers: dict[str, TierPacks]
    uses: Uses

    def tier(self, tier: str) -> TierPacks | None:
        """The tier's included packs, or None when it has none (Table 9: '–')."""
        packs = self.tiers.get(tier)
        return packs if packs is not None and packs.deployments > 0 and packs.pack is not None else None


def expansion_terms(policy: Policy) -> ExpansionTerms | None:
    """The policy's expansion module; None when the policy has none."""
    return policy.terms(MODULE)


def load(tables: dict, policy: Policy) -> ExpansionTerms:
    """The structured tables; a tier the core module does not name, or a pack no [packs] row
    defines, is a TermsError naming the key (a tier left out has no packs: Table 9 "–")."""
    terms = structured(tables, ExpansionTerms)
    tiers = policy.tiers
    unknown = [t for t in terms.tiers if t not in tiers]
    if unknown:
        raise TermsError("$.tiers", f"unknown tier(s) {', '.join(unknown)} (expected one of {', '.join(tiers)})")
    for tier, packs in terms.tiers.items():
        if packs.pack is not None and packs.pack not in terms.packs:
            raise TermsError(f"$.tiers.{tier}.pack", f"names pack {packs.pack!r}, which [packs] does not define "
                             f"(defined: {', '.join(terms.packs) or 'none'})")
    return terms
