"""``cso-policy audit``: audit records against contracts and write reports."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from .. import exitcodes
from ..core.explain import explain_target
from ..errors import CsoPolicyError
from ..core.pipeline import SMALL_INPUT_MB
from ..reports.text import write_summary
from ..history import DEFAULT_URL as DEFAULT_STORE
from . import handle_errors, write_all, write_to
from .run import inputs_options, run


@click.command("audit")
@inputs_options
@click.option("--format", "formats", multiple=True, default=("text",), show_default=True,
              help="Report format (repeatable): text, json, sarif, junit, csv, markdown, html, or a plugin's.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here instead of stdout.")
@click.option("--output-dir", type=click.Path(path_type=Path), help="Write one report.<ext> per --format here.")
@click.option("--fail-on", type=click.Choice(exitcodes.FAIL_ON_CHOICES), default="error", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes to share the contracts out to (default: one per core for inputs over "
                   f"{SMALL_INPUT_MB} MB, else 1). The report is the same whatever N.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Audit on this Dask cluster (tcp://HOST:PORT); its workers must see the same files at the "
                   "same paths. Needs cso-policy[dask].")
@click.option("--store", "store", is_flag=False, flag_value=DEFAULT_STORE, default=None, metavar="URL",
              help=f"Keep this run in a history store (SQLite or PostgreSQL URL; without a URL: {DEFAULT_STORE}). "
                   "With it, --baseline last compares with the last run kept of this workspace.")
@click.option("--explain", "target", metavar="RULE-OR-RECORD", help="Explain the findings of a rule (glob) or record.")
@handle_errors
def command(formats, output, output_dir, fail_on, jobs, scheduler, store, target, **inputs):
    """Audit engagement records against contracts; exit 1 on findings at or above --fail-on.

    WORKSPACE is a folder with a cso-policy.toml; --contracts and --records replace
    what it lists. Waived findings are reported but never fail the run.
    """
    if len(formats) > 1 and output_dir is None:
        raise click.UsageError("several --format values need --output-dir")
    if output is not None and output_dir is not None:
        raise click.UsageError("give --output or --output-dir, not both")
    if target and (output is not None or output_dir is not None):
        raise click.UsageError("--explain prints an explanation instead of a report: drop --output/--output-dir, "
                               "or run the audit again without --explain for the report")
    done = run(**inputs, jobs=jobs, scheduler=scheduler, record="json" in formats, store=store)
    cat, report = done.catalogue, done.report
    unknown = [f for f in formats if f not in cat.formats]
    if unknown:
        raise click.UsageError(f"unknown --format {unknown[0]!r} (known: {', '.join(sorted(cat.formats))})")
    if target:
        explain_target(report.findings, done.context, target, sys.stdout)
    elif output_dir is not None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = "not a folder" if isinstance(exc, (FileExistsError, NotADirectoryError)) else (exc.strerror or exc)
            raise CsoPolicyError(f"{output_dir}: cannot make the output folder ({reason})") from None
        files = [(output_dir / file_name, functools.partial(cat.formats[name].write, report))
                 for name, file_name in output_names(dict.fromkeys(formats), cat.formats).items()]
        write_all(files, what=f"{', '.join(formats)} report")
        # the files are the report: say where they went, and what they say in short
        click.echo("wrote " + ", ".join(str(path) for path, _ in files))
        write_summary(report, sys.stdout)
    else:
        write_to(output, functools.partial(cat.formats[formats[0]].write, report), what=f"{formats[0]} report")
    sys.exit(exitcodes.for_findings(report.findings, fail_on))


def output_names(formats, known) -> dict[str, str]:
    """format -> its file in --output-dir: ``report.EXT``; a format whose file another chosen
    format already takes (a plugin's format with the extension ``json``) is ``report.NAME.EXT``."""
    names: dict[str, str] = {}
    for name in formats:
        file_name = known[name].file_name
        if file_name in names.values():
            stem, _, extension = file_name.rpartition(".")
            file_name = f"{stem}.{name}.{extension}"
        names[name] = file_name
    return names

