"""``cso-policy schema``: the JSON Schema of the records, to validate an export before an audit."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from ..core.schema import dumps, record_schema, records_schema
from ..errors import UsageError
from . import catalogue, handle_errors, warn_plugin_problems


@click.command("schema")
@click.argument("kind", required=False)
@click.option("--policy", "policy_ref", metavar="ID@VERSION",
              help="Also list the names this policy version allows (services, deliverables, expansion uses) as enums.")
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path),
              help="Extra policy folder (repeatable).")
@handle_errors
def command(kind, policy_ref, policy_paths):
    """Print the JSON Schema (draft 2020-12) of KIND's records, or of any record.

    Record kinds of plugins are included. docs/records.md describes the same fields for people.
    """
    cat = catalogue()
    warn_plugin_problems(cat)
    policy = cat.registry(policy_paths).get(policy_ref) if policy_ref else None
    if kind is None:
        schema = records_schema(cat.kinds, policy=policy)
    else:
        entry = cat.kinds.get(kind)
        if entry is None:
            close = difflib.get_close_matches(kind, list(cat.kinds), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(f"unknown record kind {kind!r}{hint} (kinds: {', '.join(sorted(cat.kinds))})")
        schema = record_schema(entry, policy=policy)
    click.echo(dumps(schema), nl=False)
