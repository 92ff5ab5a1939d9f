"""The entitlement domain (Section 1, Tables 2-6 and 10): the ``work``, ``delivery``,
``expense`` and ``invoice_line`` record kinds, the ``entitlement`` policy module (which every
policy has: it names the tiers), hours and delivery ledgers, and the ``entitlement.*`` and
``billing.*`` rules.

A default plugin: it registers exactly like a third-party one.
"""

from ...core.kinds import RecordKind
from ...markers import hookimpl
from ...policy.registry import PolicyModule
from . import billing, explain, ledger, lint, rules, show, terms
from .records import Delivery, Expense, InvoiceLine, Work


@hookimpl
def cso_policy_record_kinds():
    return [
        RecordKind(name="work", cls=Work, dated_by="date", observe=ledger.observe_work, check=ledger.check_work,
                   description="hours worked for a line of business on a service"),
        RecordKind(name="delivery", cls=Delivery, dated_by="date", observe=ledger.observe_delivery,
                   check=ledger.check_delivery, description="a delivered deliverable"),
        RecordKind(name="expense", cls=Expense, dated_by="date", observe=ledger.observe_expense,
                   description="travel and expenses with the customer's approval"),
        RecordKind(name="invoice_line", cls=InvoiceLine, observe=ledger.observe_invoice_line,
                   check=ledger.check_invoice_line, description="a line of the draft invoice"),
    ]


@hookimpl
def cso_policy_policy_modules():
    return [PolicyModule(name=terms.MODULE, load=terms.load, lint=lint.lint_module, show=show.policy_lines, required=True)]


@hookimpl
def cso_policy_rules():
    return rules.RULES + billing.RULES


@hookimpl
def cso_policy_lint_rules():
    return lint.LINT_RULES


@hookimpl
def cso_policy_lint_contract(contract, policy):
    return lint.lint_contract(contract, policy)


@hookimpl
def cso_policy_entitlements(pool, moment):
    return show.sections(pool, moment)


@hookimpl
def cso_policy_report_sections(audit):
    return {"hours": ledger.hours_burn(audit.contracts)}


@hookimpl
def cso_policy_explain_terms(contract, pool):
    return explain.terms_lines(contract, pool)
