"""``cso-policy rules``: the rule catalogue."""

from __future__ import annotations

import json

import click

from . import catalogue, handle_errors, warn_plugin_problems


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def command(fmt):
    """List every rule: id, level, clause and title."""
    cat = catalogue()
    warn_plugin_problems(cat)
    if fmt == "json":
        rows = [
            {"id": r.id, "level": str(r.level), "clause": r.clause, "title": r.title, "plugin": r.plugin,
             "description": r.description}
            for r in cat.rules
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r.id) for r in cat.rules)
    for r in cat.rules:
        origin = f"  ({r.plugin})" if r.plugin else ""
        click.echo(f"{r.id:<{width}}  {str(r.level):<7}  {r.clause:<14}  {r.title}{origin}")
