"""The ``cso-policy`` command line."""

from __future__ import annotations

import functools
import os
import sys
from zoneinfo import ZoneInfo
from datetime import datetime, timezone
from pathlib import Path

import click

from . import __version__, exitcodes
from .app import Catalogue, audit, make_report, record_day, record_streams
from .entitlements import entitlement_table, write_entitlements
from .errors import CsoPolicyError
from .baseline import load_baseline, new_since
from .explain import explain, matching
from .formats import EXTENSIONS
from .lint import lint_paths, write_lock
from .lintreport import write_lint
from .model import Level
from .plugins import get_plugin_manager, load_local_plugins
from .policy import builtin_policy_root
from .policydiff import format_diff
from .waivers import apply_waivers, load_waivers
from .workspace import RecordInput, Workspace, load_contracts, load_workspace


def _catalogue(ws: Workspace | None = None) -> Catalogue:
    """Built-in, entry-point, --plugin and workspace plugins; options checked by each plugin."""
    pm = get_plugin_manager(load_entrypoints=True)
    ctx = click.get_current_context(silent=True)
    specs = (ctx.find_root().obj or {}).get("plugins", ()) if ctx else ()
    load_local_plugins(pm, specs, Path("."))
    if ws is not None:
        load_local_plugins(pm, ws.plugins, ws.root)
    cat = Catalogue.from_plugins(pm)
    cat.configure(ws.plugin_options if ws else {}, ws.root if ws else None)
    return cat


def handle_errors(fn):
    """Usage, config and input errors: one line on stderr, exit 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CsoPolicyError as exc:
            click.echo(f"cso-policy: error: {exc}", err=True)
            sys.exit(exitcodes.USAGE)

    return wrapper


class AsOf(click.ParamType):
    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date or timestamp", param, ctx)
        if parsed.tzinfo is None:
            if "T" in value or " " in value:
                self.fail(f"{value!r} has no UTC offset (add Z or +hh:mm)", param, ctx)
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed


@click.group()
@click.version_option(__version__, prog_name="cso-policy")
@click.option("--plugin", "-p", "plugins", multiple=True, metavar="MODULE|FILE.py",
              help="Load a local plugin (repeatable). Set CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD=1 to skip entry points.")
@click.pass_context
def main(ctx, plugins):
    """Audit customer-success engagement records against contract terms (policy as code)."""
    ctx.obj = {"plugins": plugins}


def _inputs_options(fn):
    """The options every command that reads a workspace shares."""
    options = [
        click.argument("workspace", required=False, type=click.Path(path_type=Path)),
        click.option("--contracts", "contract_paths", multiple=True, help="Contract file, folder or glob (repeatable)."),
        click.option("--records", "record_paths", multiple=True, help="Record file, folder or glob (repeatable)."),
        click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable)."),
        click.option("--as-of", type=AsOf(), help="Measure open items up to this time (ISO 8601; default now)."),
        click.option("--select", multiple=True, help="Only rules matching this id glob (repeatable)."),
        click.option("--ignore", multiple=True, help="Skip rules matching this id glob (repeatable)."),
        click.option("--waivers", "waivers_path", type=click.Path(path_type=Path), help="Waivers file (default: the workspace's)."),
        click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Show only findings new since this json report."),
        click.option("--quiet", "-q", is_flag=True, help="No progress on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run(workspace, contract_paths, record_paths, policy_paths, as_of, select, ignore, waivers_path, baseline_path, quiet):
    """Load inputs, audit, apply waivers and baseline; returns (report, context for explain)."""
    if workspace is None and not (contract_paths and record_paths):
        workspace = Path(".")
        if not (workspace / "cso-policy.toml").is_file() and not (contract_paths or record_paths):
            raise click.UsageError("give a WORKSPACE folder with a cso-policy.toml, or --contracts and --records")
    ws = load_workspace(workspace) if workspace is not None else None
    cat = _catalogue(ws)
    rules = cat.select(select, ignore)
    contract_base = Path(".") if contract_paths or ws is None else ws.root
    record_base = Path(".") if record_paths or ws is None else ws.root
    contracts = load_contracts(contract_paths or (ws.contracts if ws else ()), contract_base)
    inputs = [RecordInput(path=Path(p)) for p in record_paths] if record_paths else list(ws.records if ws else ())
    roots = list(policy_paths) + list(ws.policies if ws else ())
    as_of = as_of or datetime.now(timezone.utc)  # open tickets are measured up to now by default
    options = ws.plugin_options if ws else None
    show_progress = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
    result, views = audit(
        cat, contracts, inputs, base=record_base, rules=rules, as_of=as_of, policy_roots=roots,
        plugin_options=options, wrap_streams=progress_streams if show_progress else None,
    )
    report = make_report(result, views, as_of)
    waivers_file = waivers_path or (ws.waivers if ws else None)
    if waivers_file is not None:
        selected = {r.id for r in rules}
        report.findings = [f for f in apply_waivers(report.findings, load_waivers(waivers_file), views, as_of)
                           if f.rule in selected]
    if baseline_path is not None:
        report.findings = new_since(report.findings, load_baseline(baseline_path))
    restream = lambda: record_streams(cat, inputs, record_base, options)  # noqa: E731
    return report, (cat, views, restream)


def progress_streams(streams: list) -> list:
    """Count files and records on stderr while they stream (a terminal only)."""
    count = [0]
    total = len(streams)

    def wrap(index, stream):
        for item in stream:
            count[0] += 1
            if count[0] % 20000 == 0:
                click.echo(f"\rauditing: file {index}/{total}, {count[0]:,} records", err=True, nl=False)
            yield item
        click.echo(f"\rauditing: file {index}/{total}, {count[0]:,} records", err=True, nl=index == total)

    return [wrap(i, s) for i, s in enumerate(streams, start=1)]


@main.command("audit")
@_inputs_options
@click.option("--format", "formats", multiple=True, default=("text",), show_default=True,
              help="Report format (repeatable): text, json, sarif, junit, csv, markdown, html, or a plugin's.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here instead of stdout.")
@click.option("--output-dir", type=click.Path(path_type=Path), help="Write one report.<ext> per --format here.")
@click.option("--fail-on", type=click.Choice(exitcodes.FAIL_ON_CHOICES), default="error", show_default=True)
@click.option("--explain", "explain_target", metavar="RULE-OR-RECORD", help="Explain the findings of a rule (glob) or record.")
@handle_errors
def audit_cmd(formats, output, output_dir, fail_on, explain_target, **inputs):
    """Audit engagement records against contracts; exit 1 on findings at or above --fail-on.

    WORKSPACE is a folder with a cso-policy.toml; --contracts and --records replace
    what it lists. Waived findings are reported but never fail the run.
    """
    if len(formats) > 1 and output_dir is None:
        raise click.UsageError("several --format values need --output-dir")
    if output is not None and output_dir is not None:
        raise click.UsageError("give --output or --output-dir, not both")
    report, (cat, views, restream) = _run(**inputs)
    unknown = [f for f in formats if f not in cat.formats]
    if unknown:
        raise click.UsageError(f"unknown --format {unknown[0]!r} (known: {', '.join(sorted(cat.formats))})")
    if explain_target:
        explain(matching(report.findings, explain_target), {r.id: r for r in cat.rules}, views, restream, sys.stdout)
    elif output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            _write(output_dir / f"report.{EXTENSIONS.get(fmt, fmt)}", lambda stream, fmt=fmt: cat.formats[fmt].write(report, stream))
    else:
        _write(output, lambda stream: cat.formats[formats[0]].write(report, stream))
    sys.exit(exitcodes.for_findings(report.findings, fail_on))


@main.command("explain")
@click.argument("target", metavar="RULE-OR-RECORD")
@_inputs_options
@handle_errors
def explain_cmd(target, **inputs):
    """Explain findings for a person: rule, clause text, terms that applied, contributing
    records and the computed amount. TARGET is a rule id (or glob) or a record id."""
    report, (cat, views, restream) = _run(**inputs)
    found = matching(report.findings, target)
    if not found:
        click.echo(f"no finding matches {target!r}")
        return
    explain(found, {r.id: r for r in cat.rules}, views, restream, sys.stdout)


def _write(output: Path | None, write) -> None:
    if output is None:
        write(sys.stdout)
        return
    try:
        with output.open("w", encoding="utf-8", newline="\n") as stream:
            write(stream)
    except OSError as exc:
        raise CsoPolicyError(f"{output}: cannot write ({exc.strerror or exc})") from None


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def rules_cmd(fmt):
    """List every rule: id, level, clause and title."""
    cat = _catalogue()
    if fmt == "json":
        import json

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


@main.command("entitlements")
@click.argument("contract", type=click.Path(path_type=Path))
@click.option("--records", "record_paths", multiple=True, help="Record file, folder or glob (repeatable).")
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path))
@click.option("--as-of", type=AsOf(), help="The current period is the one holding this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def entitlements_cmd(contract, record_paths, policy_paths, as_of, fmt):
    """What each package of CONTRACT (a contract file) is entitled to, used so far and left."""
    cat = _catalogue()
    contracts = load_contracts([contract], Path("."))
    inputs = [RecordInput(path=Path(p)) for p in record_paths]
    moment = as_of or datetime.now(timezone.utc)
    rules = [r for r in cat.rules if r.id.startswith("input.")]
    # "used so far": records dated after the as-of day are not counted
    last_day = moment.astimezone(ZoneInfo(contracts[0].timezone)).date().isoformat()
    until = lambda streams: [(raw for raw in s if record_day(raw) <= last_day) for s in streams]  # noqa: E731
    _, views = audit(cat, contracts, inputs, rules=rules, as_of=moment, policy_roots=policy_paths, wrap_streams=until)
    table = entitlement_table(views[contracts[0].id], moment)
    write_entitlements(table, sys.stdout, fmt)


@main.command("policies")
@click.argument("action", type=click.Choice(["list", "show", "diff", "lock"]), default="list")
@click.argument("refs", nargs=-1)
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable).")
@handle_errors
def policies_cmd(action, refs, policy_paths):
    """list | show ID@VER | diff A@V B@V | lock [ROOT]: policy versions, their readings and changes.

    `lock` records the content hash of every version under ROOT (default: the
    bundled policies/) in ROOT/LOCK; lint then fails when a locked version changes.
    """
    registry = _catalogue().registry(policy_paths)
    if action == "list":
        for name, folder in sorted(registry.available().items()):
            example = " [example]" if registry.get(name).manifest.example else ""
            click.echo(f"{name}  {folder}{example}")
    elif action == "show":
        if len(refs) != 1:
            raise click.UsageError("policies show needs one ID@VERSION")
        click.echo(show_policy(registry.get(refs[0])), nl=False)
    elif action == "diff":
        if len(refs) != 2:
            raise click.UsageError("policies diff needs two ID@VERSION")
        click.echo(format_diff(registry.get(refs[0]), registry.get(refs[1])), nl=False)
    else:
        root = Path(refs[0]) if refs else builtin_policy_root()
        added, refused = write_lock(root)
        for ref in added:
            click.echo(f"locked {ref}")
        for ref in refused:
            click.echo(f"refused {ref}: changed since it was locked; add a new version instead", err=True)
        if refused:
            sys.exit(exitcodes.FINDINGS)


def show_policy(policy) -> str:
    m = policy.manifest
    terms = policy.entitlement
    out = [f"{policy.ref}: {m.title} (effective {m.effective}){' [example, not LivePerson terms]' if m.example else ''}",
           f"source {m.source.file} sha256 {m.source.sha256}", "", "Section 1 hours"]
    for tier in policy.tiers:
        out.append(f"  {tier:<13} {terms.hours.per_quarter[tier]:>6g} h/quarter  {terms.hours.per_year[tier]:>6g} h/year")
    out += ["", "Deliverables and services (" + ", ".join(policy.tiers) + ")"]
    for item_id, item in terms.items.items():
        out.append(f"  {item_id:<38} {item.clause:<9} " + " | ".join(item.cells.get(t, "–") for t in policy.tiers))
    out += ["", "Allowances (hours per contract year)"]
    for name, allowance in terms.allowances.items():
        out.append(f"  {name:<38} {allowance.clause:<9} " + " | ".join(f"{allowance.hours[t]:g}" if t in allowance.hours else "–" for t in policy.tiers))
    out += ["", "Support channels"]
    for name, channel in terms.channels.items():
        out.append(f"  {name:<38} {channel.clause:<9} " + " | ".join(channel.cells.get(t, "–") for t in policy.tiers))
    out += ["", "Readings of ambiguous terms"]
    out += [f"  {r.id} ({r.parameter}): {r.text}" for r in m.readings]
    return "\n".join(out) + "\n"


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True)
@handle_errors
def lint_cmd(paths, policy_paths, fmt, output, fail_on):
    """Check contract and policy files (files or folders, recursively); the pre-commit hook.

    Exit 0 clean, 1 errors (or warnings with --fail-on warning), 2 usage.
    """
    if not paths:
        raise click.UsageError("give contract or policy files or folders to lint")
    registry = _catalogue().registry(policy_paths)
    found = lint_paths(paths, registry)
    _write(output, lambda stream: write_lint(found, stream, fmt))
    threshold = {"error": Level.ERROR, "warning": Level.WARNING}.get(fail_on)
    failing = threshold is not None and any(f.level >= threshold for f in found)
    sys.exit(exitcodes.FINDINGS if failing else exitcodes.OK)


@main.command("plugins")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@handle_errors
def plugins_cmd(workspace):
    """List plugins: origin and version, hooks, and the rules, sources and formats each adds."""
    ws = load_workspace(workspace) if workspace is not None else None
    cat = _catalogue(ws)
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
