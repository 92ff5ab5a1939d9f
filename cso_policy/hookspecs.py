"""Hook specifications: the reference manual for plugins.

A plugin is a module or object with functions named like the hooks below,
marked with ``cso_policy.hookimpl``. Built-in rules, record sources, report
formats and policy data are plugins of exactly this kind (see
``cso_policy.plugins.DEFAULT_PLUGINS``); third-party ones are found through the
``cso_policy`` entry-point group.

Every hook here returns a list of what it adds (pluggy collects one result per
plugin); none is ``firstresult``.
"""

from __future__ import annotations

import pluggy

from . import PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def cso_policy_rules():
    """Return the rules this plugin adds: an iterable of :class:`cso_policy.rule.Rule`.

    A rule is data plus pure functions: ``check(record, contract, pool, audit)``
    runs for each record of one of ``kinds`` (``work``, ``delivery``, ``ticket``,
    ``expense``, ``expansion_scope``, ``invoice_line``) and ``finish(audit)``
    once after the last record; both yield :class:`cso_policy.model.Violation`.
    Rule ids are unique across all plugins; keep any run state in
    ``audit.state``, ``contract.state`` or ``pool.state``, never on the rule.
    Rules that read one shared measurement of a record may name the same
    ``gate(record, contract, pool, audit) -> bool`` (``@rule(..., gate=fn)``):
    it runs once per record for all of them, and their checks run only when
    it returns true.

    Not firstresult: every plugin's rules are collected.

    Example::

        from cso_policy import hookimpl
        from cso_policy.model import Level, Violation
        from cso_policy.rule import rule

        @rule("acme.long_work", "Work entries over 10 h", "Addendum 2", Level.WARNING, kinds=("work",))
        def long_work(record, contract, pool, audit):
            if record.hours > 10:
                yield Violation(record=record, message=f"{record.hours} h in one entry")

        @hookimpl
        def cso_policy_rules():
            return [long_work]
    """


@hookspec
def cso_policy_record_sources():
    """Return the record sources (readers, adapters) this plugin adds: an iterable of
    :class:`cso_policy.sources.RecordSource`.

    A source has a ``name`` (used as ``source = "name"`` in ``cso-policy.toml``
    ``[[records]]`` tables), the file ``suffixes`` it reads by default, and
    ``read(path, options)`` returning an iterator of ``(file, line, obj)``
    triples: ``obj`` is a dict in the record format of SPEC §2 (with ``kind``),
    or :class:`cso_policy.evaluator.BadLine` for input it could not decode.
    ``file``/``line`` are where the record came from, for findings. A timestamp
    is an ISO 8601 string with a UTC offset or ``Z``, or an aware ``datetime``;
    one in a zone with daylight saving time is kept at its instant with that
    instant's fixed offset.

    Not firstresult: every plugin's sources are collected; names are unique.

    Example::

        @hookimpl
        def cso_policy_record_sources():
            def read(path, options):
                for n, row in enumerate(csv.DictReader(open(path)), start=2):
                    yield str(path), n, {"kind": "work", "id": row["id"], ...}
            return [RecordSource(name="acme-csv", suffixes=(".csv",), read=read)]
    """


@hookspec
def cso_policy_report_formats():
    """Return the report formats this plugin adds: an iterable of
    :class:`cso_policy.reporters.ReportFormat` (``name``, ``write(report, stream)``).

    ``report`` is a :class:`cso_policy.reporters.Report` (findings, summary,
    rules, contracts); ``stream`` is a text stream. The name is what
    ``--format`` takes.

    Not firstresult: every plugin's formats are collected; names are unique.

    Example::

        @hookimpl
        def cso_policy_report_formats():
            def write(report, stream):
                for f in report.findings:
                    stream.write(f"{f.rule}\\t{f.record}\\n")
            return [ReportFormat(name="tsv", write=write)]
    """


@hookspec
def cso_policy_policy_paths():
    """Return folders to search for policy data: an iterable of :class:`pathlib.Path`.

    Each folder holds ``<policy-id>/<version>/manifest.toml`` trees. Folders
    given with ``--policies`` or in ``cso-policy.toml`` come first, then these
    in plugin order; the first folder holding an ``id@version`` wins.

    Not firstresult: every plugin's folders are collected.

    Example::

        @hookimpl
        def cso_policy_policy_paths():
            return [Path(__file__).parent / "policies"]
    """


@hookspec
def cso_policy_configure(options, root):
    """Check this plugin's own options before a run; return a list of problems (strings).

    ``options`` is the whole ``[plugins]`` table of ``cso-policy.toml`` (a dict
    of plugin name -> dict); read your own section, e.g. ``options.get("acme",
    {})``. ``root`` is the workspace folder (a :class:`pathlib.Path`) or None
    when the run has no workspace. Any problem returned stops the run with exit
    code 2 and the message. Rules read the same options during the audit as
    ``audit.options.get("acme", {})``; record sources get
    ``[plugins.<source name>]`` merged under each ``[[records]]`` entry's own
    options.

    Not firstresult: every plugin is asked.

    Example::

        @hookimpl
        def cso_policy_configure(options, root):
            mine = options.get("acme", {})
            if "max_hours" in mine and not isinstance(mine["max_hours"], (int, float)):
                return ["[plugins.acme] max_hours: expected a number"]
            return []
    """


@hookspec(firstresult=True)
def cso_policy_adjust_finding(finding, audit):
    """Adjust or suppress one finding before it is reported.

    Return a replacement :class:`cso_policy.model.Finding` (e.g. with
    ``attrs.evolve(finding, level=Level.WARNING)``), ``False`` to suppress it,
    or None to leave it alone. ``audit`` is the :class:`cso_policy.context.Audit`
    (contracts, options, as_of).

    firstresult: the first plugin that returns something other than None decides.

    Example::

        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            if finding.rule == "entitlement.channel_not_included" and finding.contract == "CT-2026":
                return False  # Contoso has a phone-support side letter
            return None
    """
