"""``cso-policy verify REPORT.json``: run the audit a json report records again, and say whether
its findings are the same, and what changed if not."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import click
import orjson

from .. import exitcodes
from ..errors import ConfigError
from ..history import DEFAULT_URL
from ..reports.json import write_json
from . import handle_errors
from .provenance import compare
from .run import AuditSpec, run_spec

SHOWN = 10  # findings listed per kind of difference


def _recorded(path: Path) -> tuple[dict, list[dict]]:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None
    record = document.get("run") if isinstance(document, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("command"), dict):
        raise ConfigError(f"{path}: no run record (a json report of `cso-policy audit --format json` has one)")
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise ConfigError(f"{path}: no findings list")
    return record, findings


def _spec(command: dict, store: str | None) -> AuditSpec:
    def paths(key):
        return tuple(command.get(key) or ())

    try:
        as_of = datetime.fromisoformat(command["as_of"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError("the run record has no valid as_of") from None
    optional = lambda key: Path(command[key]) if command.get(key) else None  # noqa: E731
    baseline_run = command.get("baseline_run")
    if baseline_run is not None and store is None:
        raise ConfigError(f"the run compared its findings with run {baseline_run} of a history store: give --store")
    return AuditSpec(workspace=optional("workspace"), contract_paths=paths("contracts"), record_paths=paths("records"),
                     policy_paths=tuple(Path(p) for p in paths("policies")), as_of=as_of, select=paths("select"),
                     ignore=paths("ignore"), waivers_path=optional("waivers"), baseline_path=optional("baseline"),
                     plugins=paths("plugins"), cwd=os.getcwd(), store=store if baseline_run is not None else None,
                     baseline_run=baseline_run)


def _key(finding: dict) -> bytes:
    return orjson.dumps(finding, option=orjson.OPT_SORT_KEYS)


@click.command("verify")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes for the audit (as for audit).")
@click.option("--store", is_flag=False, flag_value=DEFAULT_URL, default=None, metavar="URL",
              help=f"The history store of a run made with --baseline last (without a URL: {DEFAULT_URL}).")
@handle_errors
def command(report_path, jobs, store):
    """Run the audit REPORT.json records again (from the folder it was run in) and compare.

    Exit 0 when the findings are the same, 1 when they differ (what changed is listed: inputs,
    policies, tools; findings new and gone), 2 when the report cannot be used.
    """
    record, findings = _recorded(report_path)
    done = run_spec(_spec(record["command"], store), jobs=jobs, record=True)
    stream = io.StringIO()
    write_json(done.report, stream)
    now = orjson.loads(stream.getvalue())
    changed = compare(record, now["run"])
    before = {_key(f): f for f in findings}
    after = {_key(f): f for f in now["findings"]}
    gone = [before[k] for k in before if k not in after]
    new = [after[k] for k in after if k not in before]
    if not changed and not gone and not new:
        click.echo(f"verified: the same {len(findings)} finding(s) from the same inputs, policies and tools")
        raise SystemExit(exitcodes.OK)
    click.echo(f"{report_path}: the run gives other results now")
    for line in changed:
        click.echo(f"  changed: {line}")
    for label, items in (("new", new), ("gone", gone)):
        if items:
            click.echo(f"  {len(items)} finding(s) {label}:")
            for f in items[:SHOWN]:
                click.echo(f"    {f.get('rule')} {f.get('record') or '-'} {f.get('source') or '-'}: {f.get('message')}")
            if len(items) > SHOWN:
                click.echo(f"    ... and {len(items) - SHOWN} more")
    if not gone and not new:
        click.echo("  the findings are the same")
    raise SystemExit(exitcodes.DIFFERENT)
