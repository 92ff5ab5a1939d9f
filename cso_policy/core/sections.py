"""What ``cso-policy entitlements`` shows of one package: sections that domains contribute
through the ``cso_policy_entitlements`` hook."""

from __future__ import annotations

from attrs import field, frozen


@frozen(kw_only=True)
class EntitlementSection:
    """One part of a package's entitlements.

    :param key: its key in the json output (``hours``, ``sla``...).
    :param data: its JSON-serialisable value (None: the policy has nothing of the kind).
    :param text: the lines the text output shows for it (indented by the section itself).
    """

    key: str
    data: object
    text: list[str] = field(factory=list)
