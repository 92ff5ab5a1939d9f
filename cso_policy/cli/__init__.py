"""The ``cso-policy`` command line: the ``main`` group, and one module per command."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click

from .. import exitcodes
from .._version import __version__
from ..core.convert import out_of_range
from ..core.pipeline import Catalogue
from ..errors import CsoPolicyError, UsageError
from ..inputs.workspace import Workspace
from ..plugins import (TRUST_WORKSPACE_ENV, get_plugin_manager, load_local_plugins, plugin_output_to_stderr,
                       workspace_plugins_allowed)


def plugin_specs() -> tuple[str, ...]:
    """What ``--plugin`` named on this command line."""
    ctx = click.get_current_context(silent=True)
    return tuple((ctx.find_root().obj or {}).get("plugins", ())) if ctx else ()


def catalogue(ws: Workspace | None = None, specs: tuple[str, ...] | None = None) -> Catalogue:
    """Built-in, entry-point, --plugin (*specs*, default this command line's) and workspace
    plugins; options checked by each plugin. A workspace's own plugins are code it brings: they
    run only when the user trusts it (``--allow-workspace-plugins``, or
    ``CSO_POLICY_TRUST_WORKSPACE_PLUGINS=1``), with a notice on stderr of what runs; otherwise
    this is a UsageError (exit 2) naming them."""
    pm = get_plugin_manager(load_entrypoints=True)
    load_local_plugins(pm, plugin_specs() if specs is None else specs, Path("."))
    ctx = click.get_current_context(silent=True)
    # what is already registered (built-in, installed, --plugin) is not the workspace's code
    foreign = [s for s in (ws.plugins if ws is not None else ())
               if not pm.has_plugin(Path(s).stem if s.endswith(".py") else s)]
    if foreign and ctx is not None:
        # Outside a command line (a --scheduler worker setting up a run the command line already
        # allowed, or a program calling this) the caller has decided.
        trust_plugins(
            foreign,
            f"{ws.root / 'cso-policy.toml'} names workspace plugin{'s' if len(foreign) > 1 else ''} "
            f"{', '.join(foreign)}, which would run as code: pass --allow-workspace-plugins "
            f"(or set {TRUST_WORKSPACE_ENV}=1) if you trust this workspace",
            lambda spec: f"cso-policy: running workspace plugin {spec}")
    if ws is not None:
        load_local_plugins(pm, ws.plugins, ws.root, confine=True)
    pm.check_hooks()
    with plugin_output_to_stderr():  # hooks run here: what they print is not the command's output
        cat = Catalogue.from_plugins(pm)
        cat.configure(ws.plugin_options if ws else {}, ws.root if ws else None)
    return cat


def trust_plugins(foreign: list[str], refusal: str, notice) -> None:
    """Local plugins that a file names (a workspace, a report) are code its author chose: they
    load only when the user trusts them (``--allow-workspace-plugins`` or the environment), with
    ``notice(plugin)`` on stderr for each; otherwise *refusal* is a UsageError."""
    ctx = click.get_current_context(silent=True)
    flag = bool(((ctx.find_root().obj or {}) if ctx is not None else {}).get("allow_workspace_plugins"))
    if not workspace_plugins_allowed(flag):
        raise UsageError(refusal)
    for spec in foreign:
        click.echo(notice(spec), err=True)


def warn_plugin_problems(cat: Catalogue) -> None:
    """Commands without a findings report say on stderr which plugins failed (``audit``
    reports them as ``plugin.error`` findings instead)."""
    for problem in cat.pm.problems:
        click.echo(f"cso-policy: warning: {problem}", err=True)


def handle_errors(fn):
    """Usage, config and input errors: one line on stderr, exit 2, never a traceback. An
    interrupt (Ctrl-C, also from a plugin) is exit 130 with one line and no partial report
    (reports are moved into place only when whole); any other unexpected exception is an
    internal error: one line, exit 2. A ``sys.exit`` keeps only the codes cso-policy uses."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CsoPolicyError as exc:
            click.echo(f"cso-policy: error: {one_line(exc)}", err=True)
            sys.exit(exitcodes.USAGE)
        except KeyboardInterrupt:
            click.echo("cso-policy: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except SystemExit as exc:
            if exc.code is None or exc.code in _EXIT_CODES:
                raise
            click.echo(f"cso-policy: error: internal error: SystemExit: exit code {exc.code!r} "
                       f"({REPORT_HINT})", err=True)
            sys.exit(exitcodes.USAGE)
        except OSError as exc:  # the machine, not a bug: a full disk, a closed pipe, a name too long
            where = exc.filename if exc.filename is not None else "standard output or a file"
            click.echo(f"cso-policy: error: {one_line(where)}: cannot read or write ({exc.strerror or exc})", err=True)
            sys.exit(exitcodes.USAGE)
        except Exception as exc:
            click.echo(f"cso-policy: error: internal error: {type(exc).__name__}: {one_line(exc)} ({REPORT_HINT})",
                       err=True)
            sys.exit(exitcodes.USAGE)

    return wrapper


INTERRUPTED = 130  # as a shell reports a command stopped by SIGINT
_EXIT_CODES = (exitcodes.OK, exitcodes.FINDINGS, exitcodes.USAGE, INTERRUPTED)
REPORT_HINT = f"this is a bug in cso-policy {__version__} or a plugin: please report it with the command that gave it"


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
        problem = out_of_range(parsed)
        if problem is not None:
            self.fail(f"{value!r}: {problem}", param, ctx)
        return parsed


def write_to(output: Path | None, write, what: str = "report") -> None:
    """Call *write(stream)* with stdout, or with *output* opened for writing. What *write*
    raises is one line and exit 2, and leaves no partial output: it writes to a temporary file
    first, moved into place (or copied to stdout) only when it is whole."""
    write_all([(output, write)], what)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_all(outputs: list[tuple[Path | None, object]], what: str = "report") -> None:
    """``write_to`` for several outputs: either every file is written, or none is.

    Every output's folder must exist (a missing or read-only folder, a folder given as the
    output, are one line naming the path before anything is written). An existing output that
    is not a regular file (``/dev/null``, a FIFO) is written in place once the report is whole;
    a regular file is replaced atomically."""
    import stat as _stat

    def _output_problem(output: Path) -> str | None:
        """Why *output* cannot be written, seen before anything is: its folder is missing or not a
        folder, or it is itself a folder. None when it looks writable."""
        folder = output.parent
        if not folder.exists():
            return f"{output}: cannot write (folder {folder} does not exist)"
        if not folder.is_dir():
            return f"{output}: cannot write ({folder} is not a folder)"
        if output.is_dir():
            return f"{output}: cannot write (is a folder)"
        return None


    def _special(output: Path | None) -> bool:
        """Whether *output* is an existing file that is not a regular one (``/dev/null``, a FIFO,
        ``/dev/stdout``): written in place, never replaced."""
        if output is None:
            return False
        try:
            return not _stat.S_ISREG(os.stat(output).st_mode) and not _stat.S_ISDIR(os.stat(output).st_mode)
        except OSError:
            return False

    for output, _ in outputs:
        problem = _output_problem(output) if output is not None else None
        if problem is not None:
            raise CsoPolicyError(problem)
    done: list[tuple[Path | None, object]] = []
    try:
        for output, write in outputs:
            folder = output.parent if output is not None and not _special(output) else None
            try:
                stream = tempfile.NamedTemporaryFile("w+", encoding="utf-8", newline="\n", dir=folder,
                                                     prefix=".cso-policy-", suffix=".part", delete=False)
            except OSError as exc:
                raise CsoPolicyError(f"{output}: cannot write ({exc.strerror or exc})") from None
            done.append((output, stream))
            try:
                write(stream)
            except CsoPolicyError:
                raise
            except OSError as exc:
                raise CsoPolicyError(f"{output or 'stdout'}: cannot write ({exc.strerror or exc})") from None
            except RecursionError:
                raise CsoPolicyError(f"writing the {what} failed: a value is nested too deeply") from None
            except Exception as exc:  # a report format's bug: one line, exit 2, nothing half-written
                raise CsoPolicyError(f"writing the {what} failed: {type(exc).__name__}: {exc}") from None
        for output, stream in done:
            stream.close()
            if output is not None and output.is_dir():
                raise CsoPolicyError(f"{output}: cannot write (is a folder)")
        for output, stream in done:
            if output is None or _special(output):
                try:
                    with open(stream.name, encoding="utf-8") as written:
                        if output is None:
                            shutil.copyfileobj(written, sys.stdout)
                        else:
                            with open(output, "w", encoding="utf-8", newline="\n") as target:
                                shutil.copyfileobj(written, target)
                except OSError as exc:
                    raise CsoPolicyError(f"{output or 'stdout'}: cannot write ({exc.strerror or exc})") from None
                with contextlib.suppress(OSError):
                    os.unlink(stream.name)
            else:
                try:
                    os.chmod(stream.name, 0o666 & ~_umask())  # as open() would have made it
                    os.replace(stream.name, output)
                except OSError as exc:
                    raise CsoPolicyError(f"{output}: cannot write ({exc.strerror or exc})") from None
        done = []
    finally:
        for _, stream in done:  # not moved into place: something failed
            stream.close()
            with contextlib.suppress(OSError):
                os.unlink(stream.name)


class CommandLine(click.Group):
    """The ``cso-policy`` group: every usage error is one line on stderr and exit 2, with a hint
    naming the help to read (``cso-policy: error: No such option '--bogus' (see 'cso-policy
    audit --help')``), instead of click's usage block; no command at all prints the help on
    stdout and exits 0."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            exit_code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help(), color=exc.ctx.color)
            sys.exit(exitcodes.OK)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"cso-policy: error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exitcodes.USAGE)
        except click.ClickException as exc:
            click.echo(f"cso-policy: error: {one_line(exc.format_message())}", err=True)
            sys.exit(exitcodes.USAGE if exc.exit_code not in _EXIT_CODES else exc.exit_code)
        except click.exceptions.Abort:  # Ctrl-C or end of input at a prompt
            click.echo("cso-policy: interrupted", err=True)
            sys.exit(INTERRUPTED)
        # a command that returns went well; click hands back the code of ctx.exit() (--help, --version)
        sys.exit(exit_code if isinstance(exit_code, int) else exitcodes.OK)


def one_line(text: str) -> str:
    """*text* as one line: line breaks and runs of spaces become one space."""
    return " ".join(str(text).split())


@click.group(cls=CommandLine)
@click.version_option(__version__, prog_name="cso-policy")
@click.option("--plugin", "-p", "plugins", multiple=True, metavar="MODULE|FILE.py",
              help="Load a local plugin (repeatable). Set CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD=1 to skip entry points.")
@click.option("--allow-workspace-plugins", is_flag=True,
              help="Run the plugins the workspace's cso-policy.toml names (they are code: only for a "
                   f"workspace you trust). {TRUST_WORKSPACE_ENV}=1 in your environment does the same.")
@click.pass_context
def main(ctx, plugins, allow_workspace_plugins):
    """Audit customer-success engagement records against contract terms (policy as code)."""
    ctx.obj = {"plugins": plugins, "allow_workspace_plugins": allow_workspace_plugins}


def _add_commands() -> None:
    from . import audit, entitlements, explain, history, lint, plugins, policies, rules, schema, test, verify

    for module in (audit, verify, history, explain, rules, entitlements, policies, lint, plugins, schema, test):
        main.add_command(module.command)


_add_commands()
