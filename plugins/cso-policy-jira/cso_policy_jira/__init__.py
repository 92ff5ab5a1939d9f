"""cso-policy record source ``jira``: Jira Service Management issues as cso-policy ticket records.

Reads an export file (a ``/rest/api/3/search/jql`` response, or a list of them)
when ``path`` is given, the live Jira Cloud REST API when it is not. See README.md
for the options.
"""

from __future__ import annotations

__version__ = "0.1.0"

from cso_policy import hookimpl  # noqa: E402
from cso_policy import RecordSource  # noqa: E402

from .options import NAME, JiraOptions  # noqa: E402
from .reader import read_jira  # noqa: E402

SOURCE = RecordSource(
    name=NAME,
    read=read_jira,
    suffixes=(),  # exports are .json like other systems' exports: choose it with source = "jira"
    description="Jira Service Management issues (search/jql export file, or the live REST API) as ticket records",
    options=JiraOptions,  # the core checks [plugins.jira] and each entry's options
)


@hookimpl
def cso_policy_record_sources():
    return [SOURCE]


__all__ = ["SOURCE", "read_jira", "JiraOptions", "cso_policy_record_sources"]
