"""cso-policy record source ``servicenow``: ServiceNow incidents as cso-policy ticket records.

With a ``path``, reads an export file: a Table API response ``{"result": [incident, ...]}``
with ``"sys_journal_field"``, ``"sys_audit"`` and ``"sys_user"`` arrays (or those in files named
by ``journal_path`` / ``audit_path`` / ``user_path``). Without one, reads the live Table API of ``base_url``.
See README.md for the options.
"""

from __future__ import annotations

from pathlib import Path

from cso_policy import hookimpl
from cso_policy import RecordSource

from . import export, live
from .options import NAME, check, parse
from .stream import IncidentStream

__version__ = "0.1.0"


def read(path: Path | None, options: dict | None = None) -> IncidentStream:
    """The ``read`` of the source: options are checked now (a ConfigError stops the run
    before any record is read); the records come lazily."""
    cfg = parse(options, live=path is None)
    if path is None:
        return live.read_live(cfg)
    return export.read_export(Path(path), cfg)


SOURCE = RecordSource(
    name=NAME,
    read=read,
    suffixes=(),  # a .json file is not necessarily a ServiceNow export: name the source
    description="ServiceNow incidents: a Table API export (with sys_journal_field and sys_audit rows) "
    "or the live Table API",
)


@hookimpl
def cso_policy_record_sources():
    return [SOURCE]


@hookimpl
def cso_policy_configure(options, root):
    mine = options.get(NAME)
    if mine is None:
        return []
    return check(mine, f"[plugins.{NAME}]")
