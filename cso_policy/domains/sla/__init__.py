"""The SLA domain (Sections 7-8, Tables 7-8): the ``ticket`` record kind, the ``sla`` policy
module, business days, the clocks of a ticket, attainment and the ``sla.*`` rules.

A default plugin: it registers exactly like a third-party one.
"""

from ...markers import hookimpl
from ...policy.registry import PolicyModule
from ...core.kinds import RecordKind
from . import lint, rules, show, terms
from .records import Ticket


@hookimpl
def cso_policy_record_kinds():
    return [RecordKind(name="ticket", cls=Ticket, dated_by="opened_at",
                       description="a support ticket with its response, updates, resolution and RCA")]


@hookimpl
def cso_policy_policy_modules():
    return [PolicyModule(name=terms.MODULE, load=terms.load, lint=lint.lint_module, show=show.policy_lines)]


@hookimpl
def cso_policy_rules():
    return rules.RULES


@hookimpl
def cso_policy_entitlements(pool, moment):
    return show.sections(pool, moment)
