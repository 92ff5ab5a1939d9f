"""Input rules: records that cannot be read, or that name something that does not exist, and
plugins that fail. The evaluator raises most of these itself; the domains say which of their
references point nowhere (invoice refs, expansion scopes)."""

from __future__ import annotations

from ...core.context import Audit
from ...core.model import Level
from ...core.rule import Rule, rule
from ..entitlement.billing import unknown_refs
from ..expansion.ledger import reference_problems
from ..sla.rules import invalid_timeline

invalid_record = Rule(
    id="input.invalid_record",
    title="A record that cannot be decoded or structured",
    clause="record format",
    level=Level.ERROR,
    kinds=("ticket",),
    check=invalid_timeline,
    description="Broken JSON, a missing or unknown field, a wrong type or value; the message names "
    "file:line and the field path. The audit goes on without that record. For tickets also "
    "timestamps out of order or before opened_at (never silently sorted).",
)

plugin_error = Rule(
    id="plugin.error",
    title="A plugin failed to import, or raised inside a hook or rule",
    clause="-",
    level=Level.ERROR,
    description="Names the plugin, the hook or rule, and the error. The run goes on without that "
    "plugin (or rule); every other finding is still reported.",
)


@rule(
    "input.unknown_reference",
    "A record names a contract, line of business, package or record that does not exist",
    "record format",
    Level.ERROR,
    finish=True,
)
def unknown_reference(audit: Audit):
    """Raised by the evaluator for an unknown contract, LOB or package; here for invoice lines
    whose ref names no delivery or expense of the contract, and for work whose expansion names
    no expansion scope of the contract (or a scope of another package)."""
    for view in audit.contracts.values():
        yield from reference_problems(view)
        yield from unknown_refs(view)


RULES = (invalid_record, unknown_reference, plugin_error)
