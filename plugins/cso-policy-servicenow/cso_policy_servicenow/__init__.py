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
from .options import NAME, ServiceNowOptions
from .stream import IncidentStream

__version__ = "0.1.0"


def read(path: Path | None, options: ServiceNowOptions | dict | None = None) -> IncidentStream:
    """The ``read`` of the source: *options* are what the core structured and checked (a dict
    from a direct caller is checked by :meth:`ServiceNowOptions.of`); the records come lazily."""
    if not isinstance(options, ServiceNowOptions):
        options = ServiceNowOptions.of(options, path)
    if path is None:
        return live.read_live(options)
    return export.read_export(Path(path), options)


SOURCE = RecordSource(
    name=NAME,
    read=read,
    suffixes=(),  # a .json file is not necessarily a ServiceNow export: name the source
    description="ServiceNow incidents: a Table API export (with sys_journal_field and sys_audit rows) "
    "or the live Table API",
    options=ServiceNowOptions,
)


@hookimpl
def cso_policy_record_sources():
    return [SOURCE]
