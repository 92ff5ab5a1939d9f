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
from ..core.pipeline import Catalogue
from ..errors import CsoPolicyError
from ..inputs.workspace import Workspace
from ..plugins import get_plugin_manager, load_local_plugins


def plugin_specs() -> tuple[str, ...]:
    """What ``--plugin`` named on this command line."""
    ctx = click.get_current_context(silent=True)
    return tuple((ctx.find_root().obj or {}).get("plugins", ())) if ctx else ()


def catalogue(ws: Workspace | None = None, specs: tuple[str, ...] | None = None) -> Catalogue:
    """Built-in, entry-point, --plugin (*specs*, default this command line's) and workspace
    plugins; options checked by each plugin."""
    pm = get_plugin_manager(load_entrypoints=True)
    load_local_plugins(pm, plugin_specs() if specs is None else specs, Path("."))
    if ws is not None:
        load_local_plugins(pm, ws.plugins, ws.root)
    pm.check_hooks()
    cat = Catalogue.from_plugins(pm)
    cat.configure(ws.plugin_options if ws else {}, ws.root if ws else None)
    return cat


def warn_plugin_problems(cat: Catalogue) -> None:
    """Commands without a findings report say on stderr which plugins failed (``audit``
    reports them as ``plugin.error`` findings instead)."""
    for problem in cat.pm.problems:
        click.echo(f"cso-policy: warning: {problem}", err=True)


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
    """``write_to`` for several outputs: either every file is written, or none is."""
    done: list[tuple[Path | None, object]] = []
    try:
        for output, write in outputs:
            folder = output.parent if output is not None else None
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
            except Exception as exc:  # a report format's bug: one line, exit 2, nothing half-written
                raise CsoPolicyError(f"writing the {what} failed: {type(exc).__name__}: {exc}") from None
        for output, stream in done:
            stream.close()
            if output is not None and output.is_dir():
                raise CsoPolicyError(f"{output}: cannot write (is a folder)")
        for output, stream in done:
            if output is None:
                with open(stream.name, encoding="utf-8") as written:
                    shutil.copyfileobj(written, sys.stdout)
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


@click.group()
@click.version_option(__version__, prog_name="cso-policy")
@click.option("--plugin", "-p", "plugins", multiple=True, metavar="MODULE|FILE.py",
              help="Load a local plugin (repeatable). Set CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD=1 to skip entry points.")
@click.pass_context
def main(ctx, plugins):
    """Audit customer-success engagement records against contract terms (policy as code)."""
    ctx.obj = {"plugins": plugins}


def _add_commands() -> None:
    from . import audit, entitlements, explain, history, lint, plugins, policies, rules, schema, test, verify

    for module in (audit, verify, history, explain, rules, entitlements, policies, lint, plugins, schema, test):
        main.add_command(module.command)


_add_commands()
