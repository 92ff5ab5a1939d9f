"""``cso-policy explain``: findings explained for a person."""

from __future__ import annotations

import sys

import click

from ..core.explain import explain_target
from . import handle_errors
from .run import inputs_options, run


@click.command("explain")
@click.argument("target", metavar="RULE-OR-RECORD")
@inputs_options
@handle_errors
def command(target, **inputs):
    """Explain findings for a person: rule, clause text, terms that applied, contributing
    records and the computed amount. RULE-OR-RECORD is a rule id (or glob) or a record id.

    A rule with no finding in this run is explained from its clause, what it checks and the
    terms that apply; a record with no finding is said to have none. Exit 0, or 2 when
    RULE-OR-RECORD names no rule and no record of the run.
    """
    done = run(**inputs)
    explain_target(done.report.findings, done.context, target, sys.stdout)
