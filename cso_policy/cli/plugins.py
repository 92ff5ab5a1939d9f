"""``cso-policy plugins``: what is registered and what each plugin adds."""

from __future__ import annotations

from pathlib import Path

import click

from ..inputs.workspace import load_workspace
from . import catalogue, handle_errors


@click.command("plugins")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@handle_errors
def command(workspace):
    """List plugins: origin and version, hooks, and the rules, record kinds, sources and formats each adds."""
    ws = load_workspace(workspace) if workspace is not None else None
    cat = catalogue(ws)
    adds: dict[str, list[str]] = {}
    for (what, name), plugin in sorted(cat.origins.items()):
        adds.setdefault(plugin, []).append(f"{what} {name}")
    for name, plugin in cat.pm.list_name_plugin():
        info = cat.pm.plugin_info(name)
        hooks = sorted(h.name for h in cat.pm.get_hookcallers(plugin) or ())
        version = f" {info.version}" if info.version else ""
        click.echo(f"{name}{version} ({info.origin})")
        click.echo(f"  hooks: {', '.join(hooks) or '-'}")
        for line in adds.get(name, ()):
            click.echo(f"  {line}")
    for problem in cat.pm.problems:
        click.echo(f"FAILED {problem}")
