"""cso-policy record source for Zendesk: tickets and their metric events, from an export
file or the live incremental export API, as cso-policy ticket records.

One source, ``zendesk``: a ``[[records]]`` entry with a ``path`` reads that export file;
an entry without ``path`` reads the live API. Options: see README.md and
:class:`cso_policy_zendesk.options.ZendeskOptions` (the core structures and checks them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

__version__ = "0.1.0"

from cso_policy import hookimpl  # noqa: E402
from cso_policy import ConfigError  # noqa: E402
from cso_policy import RawRecord  # noqa: E402
from cso_policy import RecordSource  # noqa: E402

from . import api, export  # noqa: E402
from .mapping import records  # noqa: E402
from .options import NAME, ZendeskOptions  # noqa: E402


def read(path: Path | None, cfg: ZendeskOptions, *, sleep=time.sleep, env: dict | None = None) -> Iterator[RawRecord]:
    """Ticket records from the export file at *path*, or from the live API when *path* is None.

    ``sleep`` (waiting out HTTP 429 and retries) and ``env`` (where credentials are looked up, default
    ``os.environ``) are injectable for tests."""
    if path is None:
        ds, file = api.load(cfg, sleep=sleep, env=env)
    else:
        ds, problems = export.load(Path(path))
        file = str(path)
        yield from export.pages_problems(file, problems)
        if ds.tickets and cfg.require_metric_events and not ds.has_events and not ds.has_comments:
            raise ConfigError(
                f"{path}: this Zendesk export has tickets but no ticket_metric_events (nor audits or comments): "
                "first responses, updates and solve times cannot be known. Add the metric events to the export, "
                "or set require_metric_events = false to read it anyway"
            )
    yield from records(ds, cfg, file)


SOURCE = RecordSource(
    name=NAME,
    read=read,
    suffixes=(),
    description="Zendesk tickets + ticket metric events: an incremental-export file (path), or the live API (no path)",
    options=ZendeskOptions,
)


@hookimpl
def cso_policy_record_sources():
    return [SOURCE]

