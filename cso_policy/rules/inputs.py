"""Input rules: records that cannot be read, or that name something that does not exist."""

from __future__ import annotations

from ..context import Audit
from ..expansion import reference_problems
from ..model import Level, Violation
from .. import hookimpl
from ..rule import Rule, rule
from .sla import invalid_timeline

invalid_record = Rule(
    id="input.invalid_record",
    title="A record that cannot be decoded or structured",
    clause="SPEC §2",
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

REF_ITEMS = {"expense": "expense", "additional_service": "delivery", "deliverable": "delivery", "surcharge": "delivery"}


@rule(
    "input.unknown_reference",
    "A record names a contract, line of business, package or record that does not exist",
    "SPEC §2",
    Level.ERROR,
    finish=True,
)
def unknown_reference(audit: Audit):
    """Raised by the evaluator for an unknown contract, LOB or package; here for invoice lines
    whose ref names no delivery or expense of the contract, and for work whose expansion names
    no expansion scope of the contract (or a scope of another package)."""
    for view in audit.contracts.values():
        yield from reference_problems(view)
        for line in view.invoice_lines:
            wanted = REF_ITEMS.get(line.item)
            if wanted is None:
                continue
            if line.ref is None:
                yield Violation(record=line, message=f"a {line.item} line needs a ref to the {wanted} it bills")
                continue
            known = view.expense_ids if wanted == "expense" else view.delivery_status
            if line.ref not in known:
                yield Violation(record=line, message=f"ref {line.ref!r} names no {wanted} of contract {view.id}")


RULES = (invalid_record, unknown_reference, plugin_error)


@hookimpl
def cso_policy_rules():
    return RULES
