"""``cso-policy verify REPORT.json``: run the audit a json report records again, and say whether
its findings are the same, and what changed if not."""

from __future__ import annotations

import io
import os
import stat
from datetime import datetime
from pathlib import Path

import click
import orjson
from attrs import frozen

from .. import exitcodes
from ..core.convert import StructureError, structure
from ..errors import ConfigError
from ..history import DEFAULT_URL
from ..inputs.toml import decode_utf8
from ..plugins import TRUST_WORKSPACE_ENV, get_plugin_manager
from ..reports.json import write_json
from . import handle_errors, trust_plugins
from .provenance import RECORD_VERSION, compare
from .run import AuditSpec, run_spec

SHOWN = 10  # findings listed per kind of difference


@frozen(kw_only=True)
class RecordedCommand:
    """``run.command``: what ``provenance.run_record`` writes; every key is there."""

    workspace: str | None
    contracts: list[str]
    records: list[str]
    policies: list[str]
    select: list[str]
    ignore: list[str]
    waivers: str | None
    baseline: str | None
    plugins: list[str]
    as_of: str
    baseline_run: int | None


@frozen(kw_only=True)
class RecordedTool:
    name: str
    version: str


@frozen(kw_only=True)
class RecordedPlugin:
    name: str
    version: str | None
    origin: str | None


@frozen(kw_only=True)
class RecordedPolicy:
    ref: str
    content: str
    lock: str | None


@frozen(kw_only=True)
class RecordedFile:
    """A file's digest (``provenance.file_digest``), or why it could not be read."""

    path: str
    sha256: str | None = None
    bytes: int | None = None
    error: str | None = None


@frozen(kw_only=True)
class RecordedInput:
    source: str
    input: str
    records: int
    sha256: str | None = None
    bytes: int | None = None
    error: str | None = None


@frozen(kw_only=True)
class RunRecord:
    """The ``run`` record of a json report (``provenance.run_record``), checked at the edge:
    :func:`compare` and the audit made again only meet values of these types."""

    version: int
    tool: RecordedTool
    plugins: list[RecordedPlugin]
    command: RecordedCommand
    workspace_file: RecordedFile | None
    options_sha256: str
    policies: list[RecordedPolicy]
    contracts: list[RecordedFile]
    inputs: list[RecordedInput]
    waivers: RecordedFile | None
    baseline: RecordedFile | None


def _recorded(path: Path) -> tuple[dict, RecordedCommand, list[dict]]:
    """The run record (as read, and its command checked) and the findings of the report *path*."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: cannot read (is a folder)")
        if not stat.S_ISREG(mode):  # a FIFO would block
            raise ConfigError(f"{path}: cannot read (not a regular file)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        document = orjson.loads(decode_utf8(raw, path, "report"))
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None
    record = document.get("run") if isinstance(document, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("command"), dict):
        raise ConfigError(f"{path}: no run record (a json report of `cso-policy audit --format json` has one)")
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise ConfigError(f"{path}: no findings list")
    for index, finding in enumerate(findings):
        if not isinstance(finding, dict):
            raise ConfigError(f"{path} $.findings[{index}]: expected an object, got {_kind(finding)}")
        try:
            _key(finding)
        except orjson.JSONEncodeError:  # deeper than orjson writes (it reads deeper)
            raise ConfigError(f"{path} $.findings[{index}]: nested too deeply") from None
    version = record.get("version")
    if type(version) is int and version != RECORD_VERSION:  # a newer format: its keys would not check
        raise ConfigError(f"{path} $.run.version: a run record of version {version}; this cso-policy "
                          f"reads version {RECORD_VERSION}")
    try:
        checked = structure(record, RunRecord)
    except StructureError as exc:
        where, msg = exc.problems[0]
        raise ConfigError(f"{path} $.run{where[1:]}: {msg}") from None
    return record, checked.command, findings


def _kind(value) -> str:
    return {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(type(value), "a number")


def _spec(command: RecordedCommand, store: str | None, where: Path) -> AuditSpec:
    try:
        as_of = datetime.fromisoformat(command.as_of)
    except ValueError:
        as_of = None
    if as_of is None or as_of.tzinfo is None:
        raise ConfigError(f"{where} $.run.command.as_of: expected an ISO 8601 timestamp with a UTC offset, "
                          f"got {command.as_of[:40]!r}")
    optional = lambda value: Path(value) if value else None  # noqa: E731
    baseline_run = command.baseline_run
    if baseline_run is not None and store is None:
        raise ConfigError(f"the run compared its findings with run {baseline_run} of a history store: give --store")
    return AuditSpec(workspace=optional(command.workspace), contract_paths=tuple(command.contracts),
                     record_paths=tuple(command.records), policy_paths=tuple(Path(p) for p in command.policies),
                     as_of=as_of, select=tuple(command.select), ignore=tuple(command.ignore),
                     waivers_path=optional(command.waivers), baseline_path=optional(command.baseline),
                     plugins=tuple(command.plugins), cwd=os.getcwd(), store=store if baseline_run is not None else None,
                     baseline_run=baseline_run)


def _same_plugin(spec: str) -> str:
    """How two names of one local plugin compare: a file by its real path, a module by name."""
    try:
        return os.path.realpath(spec) if spec.endswith(".py") else spec
    except (OSError, ValueError):  # a NUL byte or a name too long: it names no file
        return spec


def _consent(path: Path, specs: list[str]) -> None:
    """The local plugins the report names are code chosen by whoever wrote the report: they load
    only when the user names them again (``-p``) or trusts them (``--allow-workspace-plugins``,
    or the environment); installed (entry-point) plugins load as for any command."""
    if not specs:
        return
    root = click.get_current_context().find_root().obj or {}
    given = {_same_plugin(str(s)) for s in root.get("plugins", ())}
    pm = get_plugin_manager(load_entrypoints=True)
    foreign = [s for s in specs if _same_plugin(s) not in given
               and not pm.has_plugin(Path(s).stem if s.endswith(".py") else s)]
    if not foreign:
        return
    many = len(foreign) > 1
    trust_plugins(
        foreign,
        f"{path}: the run loaded plugin{'s' if many else ''} {', '.join(foreign)}, which {'are' if many else 'is'} "
        f"code: pass {' '.join(f'-p {s}' for s in foreign)} or --allow-workspace-plugins (or set "
        f"{TRUST_WORKSPACE_ENV}=1) to load {'them' if many else 'it'} again",
        lambda spec: f"cso-policy: running plugin {spec} named by {path}")


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
    record, command_record, findings = _recorded(report_path)
    spec = _spec(command_record, store, report_path)
    _consent(report_path, command_record.plugins)
    done = run_spec(spec, jobs=jobs, record=True)
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
