"""Input rules: records that cannot be read, or that name something that does not exist, and
plugins that fail. The evaluator raises most of these itself; the domains say which of their
references point nowhere (invoice refs, expansion scopes)."""

from __future__ import annotations

from ...core.context import Audit
from ...core.model import Level
from ...core.rule import NO_RECORD, Rule, fails, passes, rule
from ..entitlement.billing import unknown_refs
from ..expansion.ledger import reference_problems
from ..sla.rules import invalid_timeline

# Example records for the example contract (Premier package p1, line of business retail).
_TICKET = {"kind": "ticket", "id": "t1", "lob": "retail", "severity": "P2", "opened_at": "2026-03-02T09:00:00-05:00",
           "channel": "web", "first_response_at": "2026-03-02T09:30:00-05:00",
           "resolved_at": "2026-03-02T12:00:00-05:00", "is_bug": True}
_WORK = {"kind": "work", "id": "w1", "date": "2026-02-03", "lob": "retail", "hours": 2,
         "service": "general_account_consulting"}


def _with(record: dict, **fields) -> dict:
    return {**record, **fields}


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
    examples=(
        passes(_TICKET, _WORK, note="record format: a well-formed ticket and work record"),
        fails("{not json", flags=[NO_RECORD], note="record format: broken JSON; no record can be named"),
        fails(_with(_TICKET, severity="P4"), flags=[NO_RECORD],
              note="record format: severity is one of P1, P2, P3 (Table 7); 'P4' does not structure"),
        fails(_with(_TICKET, opened_at="2026-03-02T09:00:00"), flags=[NO_RECORD],
              note="record format: a timestamp without a UTC offset is ambiguous"),
        fails(_with(_WORK, service="expansion"), flags=["w1"],
              note="record format: work on service 'expansion' names the expansion scope it uses (Section 9); "
                   "the record structures, so the finding names it"),
        fails(_with(_TICKET, updates=["2026-03-02T11:00:00-05:00", "2026-03-02T10:00:00-05:00"]), flags=["t1"],
              note="record format: updates[1] 10:00 is before updates[0] 11:00 (never silently sorted); the "
                   "ticket is named and its update clock is not measured"),
    ),
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
    examples=[
        fails(_with(_WORK, contract="NOPE"), flags=["w1"], note="record format: contract 'NOPE' does not exist"),
        fails(_with(_WORK, lob="wholesale"), flags=["w1"],
              note="record format: no package of the contract covers line of business 'wholesale'"),
        fails(_with(_WORK, service="expansion", expansion="xs-9"), flags=["w1"],
              note="record format: work on expansion scope xs-9, which the contract does not have"),
        fails({"kind": "invoice_line", "id": "i1", "lob": "retail", "period": "2026-Q1", "item": "expense",
               "quantity": 1.0, "rate": 10.0, "amount": 10.0, "currency": "USD", "ref": "e9"}, flags=["i1"],
              note="record format: an expense invoice line whose ref names no expense of the contract"),
        passes(_WORK,
               {"kind": "expansion_scope", "id": "xs-1", "package": "p1", "pack": "intermediate",
                "use": "new_line_of_business", "hours": 60, "approved_at": "2026-02-02T10:00:00-05:00"},
               _with(_WORK, id="w2", service="expansion", expansion="xs-1"),
               {"kind": "expense", "id": "e1", "date": "2026-02-03", "lob": "retail", "amount": 10.0,
                "currency": "USD", "approved_at": "2026-02-01T10:00:00-05:00"},
               {"kind": "invoice_line", "id": "i1", "lob": "retail", "period": "2026-Q1", "item": "expense",
                "quantity": 1.0, "rate": 10.0, "amount": 10.0, "currency": "USD", "ref": "e1"},
               note="record format: contract, line of business, expansion scope and invoice ref all exist"),
    ],
)
def unknown_reference(audit: Audit):
    """Raised by the evaluator for an unknown contract, LOB or package; here for invoice lines
    whose ref names no delivery or expense of the contract, and for work whose expansion names
    no expansion scope of the contract (or a scope of another package)."""
    for view in audit.contracts.values():
        yield from reference_problems(view)
        yield from unknown_refs(view)


def _work(id: str, hours: float, date: str = "2026-02-02") -> dict:
    return {"kind": "work", "id": id, "date": date, "lob": "retail", "hours": hours,
            "service": "general_account_consulting"}


duplicate_record = Rule(
    id="input.duplicate_record",
    title="A record read again: the same contract, kind, id and content",
    clause="record format",
    level=Level.WARNING,
    description="A record is identified by its contract, kind and id. A later record with the same "
    "identity and the same content (an overlapping export) is counted once; the finding names "
    "both places.",
    examples=(
        fails(_work("w1", 5), _work("w2", 3), _work("w1", 5), flags=["w1"],
              note="w1 exported twice with the same content: counted once, 5 h not 10 h"),
        passes(_work("w1", 5), _work("w2", 5), note="two records, two ids"),
        passes(_work("w1", 5), {"kind": "delivery", "id": "w1", "date": "2026-02-02", "lob": "retail",
                                "deliverable": "customer_account_plan"},
               note="a work record and a delivery may share an id: the kind is part of the identity"),
    ),
)

conflicting_record = Rule(
    id="input.conflicting_record",
    title="A record with the contract, kind and id of another but other content",
    clause="record format",
    level=Level.ERROR,
    description="Of the records read with one identity, one is counted: the earliest dated, and on "
    "one date the smaller content (the line as written), then the smaller file and line, whatever "
    "the order the inputs are read in. Another read with other content (a corrected export) is "
    "not counted, and the finding names both places so that someone decides.",
    examples=(
        fails(_work("w1", 5), _work("w1", 6), flags=["w1"],
              note="w1 read with 5 h and with 6 h on one date: the smaller content (5 h) is counted, "
                   "the 6 h record is a conflict"),
        fails(_work("w1", 5), _work("w1", 5, date="2026-02-03"), flags=["w1"],
              note="the same id dated another day is other content; the earlier date is counted"),
        passes(_work("w1", 5), _work("w1", 5), note="the same content is a duplicate, not a conflict"),
    ),
)

incomplete_record = Rule(
    id="input.incomplete_record",
    title="A record its source could not give in full",
    clause="record format",
    level=Level.WARNING,
    description="A ticketing adapter says a record is incomplete (a truncated change history, a "
    "severity it cannot know when the ticket opened): the record is not audited, since any result "
    "would be a guess, and the finding says what is missing.",
)

RULES = (invalid_record, unknown_reference, duplicate_record, conflicting_record, incomplete_record, plugin_error)
