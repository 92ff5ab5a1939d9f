"""``cso-policy explain``: findings explained for a person."""

from __future__ import annotations

import sys

import click

from ..core.explain import explain, matching
from . import handle_errors
from .run import inputs_options, run


@click.command("explain")
@click.argument("target", metavar="RULE-OR-RECORD")
@inputs_options
@handle_errors
def command(target, **inputs):
    """Explain findings for a person: rule, clause text, terms that applied, contributing
    records and the computed amount. RULE-OR-RECORD is a rule id (or glob) or a record id."""
    done = run(**inputs)
    found = matching(done.report.findings, target)
    if not found:
        click.echo(f"no finding matches {target!r}")
        return
    explain(found, done.context, sys.stdout)
