"""``cso-policy history [WORKSPACE]``: the runs kept in a history store."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..history import DEFAULT_URL
from . import handle_errors


@click.command("history")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@click.option("--store", default=DEFAULT_URL, show_default=True, metavar="URL", help="The history store (SQLite or PostgreSQL URL).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def command(workspace, store, fmt):
    """List the audit runs kept with `audit --store`: of WORKSPACE, or all of them.

    Each run: its number, when and by whom it ran, --as-of, findings (and waived), and the money
    the findings name (per currency)."""
    from ..history.store import HistoryStore, workspace_key

    runs = HistoryStore(store).runs(workspace_key(workspace, ()) if workspace is not None else None)
    if fmt == "json":
        sys.stdout.write(orjson.dumps(runs, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if not runs:
        click.echo("no runs kept yet (audit with --store to keep one)")
        return
    click.echo(f"{'run':>4}  {'ran at':<25}  {'by':<10}  {'as of':<25}  {'findings':>8}  {'waived':>6}  money")
    for run in runs:
        money = ", ".join(f"{c} {a:,.2f}" for c, a in run["amounts"].items()) or "-"
        click.echo(f"{run['id']:>4}  {run['ran_at']:<25}  {run['ran_by']:<10.10}  {run['as_of']:<25}  "
                   f"{run['findings']:>8}  {run['waived']:>6}  {money}")
    if workspace is None:
        click.echo(f"{len(runs)} run(s) of {len({r['workspace'] for r in runs})} workspace(s)")
