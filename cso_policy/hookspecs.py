"""Hook specifications: the reference manual for plugins.

A plugin is a module or object with functions named like the hooks below, marked with
``cso_policy.hookimpl``. The built-in domains (entitlement, sla, expansion, inputs,
waivers), the JSON Lines source, the report formats and the bundled policy data are plugins
of exactly this kind (``cso_policy.plugins.DEFAULT_PLUGINS``); third-party ones are found
through the ``cso_policy`` entry-point group. A function named ``cso_policy_*`` that matches
no hook here is an error (``plugin.error``), not silently ignored.

Hooks that add things return an iterable of what they add (:func:`cso_policy_report_sections`
a dict); pluggy collects one result per plugin. Only :func:`cso_policy_adjust_finding` is ``firstresult``:
the first plugin that returns something other than None decides. Everything a hook receives
or returns is importable from ``cso_policy`` (see its ``__all__``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .markers import hookspec

if TYPE_CHECKING:
    from .core.context import Audit, ContractView, Pool
    from .core.kinds import KindObserver, RecordKind
    from .core.model import Contract, Finding
    from .core.rule import Rule
    from .core.sections import EntitlementSection
    from .inputs.sources import RecordSource
    from .lint.catalogue import LintProblem, LintRule
    from .policy.registry import Policy, PolicyModule
    from .reports import ReportFormat


@hookspec
def cso_policy_rules() -> Iterable[Rule]:
    """Return the rules this plugin adds.

    A :class:`cso_policy.Rule` is data plus pure functions, usually made with the
    :func:`cso_policy.rule` decorator: ``check(record, contract, pool, audit)`` runs for each
    record of one of its ``kinds``; ``finish(audit)`` runs once after the last record; both
    yield :class:`cso_policy.Violation` (one with a wrong field, a message that is not text or an
    impact that is not a finite number, is left out and is a ``plugin.error`` naming the rule and
    the field). A rule carries ``examples`` (records that must and must
    not give its finding, :func:`cso_policy.fails` and :func:`cso_policy.passes`), which the
    test kit and ``cso-policy test`` run. Rule ids are unique across all plugins; keep run
    state in ``audit.state``, ``contract.state`` or ``pool.state``, never on the rule.

    Not firstresult: every plugin's rules are collected.

    Example::

        from cso_policy import Level, Violation, fails, hookimpl, passes, rule

        @rule("acme.long_work", "Work entries over 10 h", "Addendum 2", Level.WARNING, kinds=("work",),
              examples=[fails({"kind": "work", "id": "w1", "date": "2026-02-02", "lob": "retail",
                               "hours": 11, "service": "general_account_consulting"}, flags=["w1"])])
        def long_work(record, contract, pool, audit):
            if record.hours > 10:
                yield Violation(record=record, message=f"{record.hours:g} h in one entry")

        @hookimpl
        def cso_policy_rules():
            return [long_work]
    """


@hookspec
def cso_policy_record_kinds() -> Iterable[RecordKind | KindObserver]:
    """Return the record kinds this plugin adds, and observers of kinds other plugins own.

    A :class:`cso_policy.RecordKind` names the value of ``kind`` in the input, the attrs
    record class it structures to (a subclass of :class:`cso_policy.Record`), the input field
    that dates it, and optionally ``observe(record, contract, pool)`` (enter it in the
    plugin's running state before rules see it) and ``check(record, contract)`` (a
    ``(field path, message)`` when the contract's policy cannot audit it: an
    ``input.invalid_record``). A :class:`cso_policy.KindObserver` adds an ``observe`` and a
    ``check`` to a kind another plugin defines. Kind names are unique.

    Not firstresult: every plugin's kinds are collected.

    Example::

        from attrs import define
        from cso_policy import Record, RecordKind, hookimpl

        @define(kw_only=True)
        class Training(Record):
            date: date
            lob: str
            attendees: int
            kind = "training"

        @hookimpl
        def cso_policy_record_kinds():
            return [RecordKind(name="training", cls=Training, dated_by="date")]
    """


@hookspec
def cso_policy_record_sources() -> Iterable[RecordSource]:
    """Return the record sources (readers, adapters) this plugin adds.

    A :class:`cso_policy.RecordSource` has a ``name`` (what ``source = "name"`` in a
    ``[[records]]`` table of ``cso-policy.toml`` names), the file ``suffixes`` it reads by
    default, and ``read(path, options)`` returning an iterator of ``(file, line, obj)``
    triples: ``obj`` is a record dict (with ``kind``; see docs/plugins.md for the fields of
    each kind), or :class:`cso_policy.BadLine` for input it could not decode. ``file`` and
    ``line`` are where the record came from, for findings. ``path`` is None for an entry with a
    ``source`` and no ``path`` (a live API). ``options`` is the ``[plugins.<source name>]``
    table overlaid with the entry's own keys. A timestamp is an ISO 8601 string with a UTC
    offset or ``Z``, or an aware ``datetime``. Raise :class:`cso_policy.ConfigError` for
    options or input it cannot use (exit 2 with that one line).

    Not firstresult: every plugin's sources are collected; names are unique.

    Example::

        import csv
        from cso_policy import RecordSource, hookimpl

        def read(path, options):
            with open(path, newline="", encoding="utf-8") as fh:
                rows = csv.DictReader(fh)
                for row in rows:
                    yield str(path), rows.line_num, {"kind": "work", "id": row["id"], ...}

        @hookimpl
        def cso_policy_record_sources():
            return [RecordSource(name="acme-csv", suffixes=(".csv",), read=read)]
    """


@hookspec
def cso_policy_report_formats() -> Iterable[ReportFormat]:
    """Return the report formats this plugin adds.

    A :class:`cso_policy.ReportFormat` has a ``name`` (what ``--format`` takes), an
    ``extension`` (``--output-dir`` writes ``report.<extension>``) and ``write(report,
    stream)``: ``report`` is a :class:`cso_policy.Report` (findings, summary, rules), ``stream``
    a text stream.

    Not firstresult: every plugin's formats are collected; names are unique.

    Example::

        from cso_policy import ReportFormat, hookimpl

        def write(report, stream):
            for f in report.findings:
                stream.write(f"{f.rule}\\t{f.record}\\n")

        @hookimpl
        def cso_policy_report_formats():
            return [ReportFormat(name="tsv", extension="tsv", write=write)]
    """


@hookspec
def cso_policy_policy_paths() -> Iterable[Path]:
    """Return folders to search for policy data.

    Each folder holds ``<policy-id>/<version>/manifest.toml`` trees. Folders given with
    ``--policies`` or in ``cso-policy.toml`` come first, then these in plugin order; the first
    folder holding an ``id@version`` wins.

    Not firstresult: every plugin's folders are collected.

    Example::

        from pathlib import Path
        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_policy_paths():
            return [Path(__file__).parent / "policies"]
    """


@hookspec
def cso_policy_policy_modules() -> Iterable[PolicyModule]:
    """Return the policy modules this plugin reads: the tables of ``<name>.toml`` in a version.

    A :class:`cso_policy.PolicyModule` has a ``name`` (listed in the manifest's ``modules``),
    ``load(tables, policy)`` returning the structured terms (``policy.terms(name)`` gives them
    to rules; raise :class:`cso_policy.TermsError` with a field path for a bad table), and
    optionally ``lint(tables, tiers)`` returning :class:`cso_policy.LintProblem` for
    ``cso-policy lint`` and ``show(terms, policy)`` returning the lines ``cso-policy policies
    show`` prints.

    Not firstresult: every plugin's modules are collected; names are unique.

    Example::

        from cso_policy import PolicyModule, TermsError, hookimpl

        def load(tables, policy):
            if tables.get("max_attendees", 0) <= 0:
                raise TermsError("$.max_attendees", "expected a number above 0")
            return tables

        @hookimpl
        def cso_policy_policy_modules():
            return [PolicyModule(name="training", load=load)]
    """


@hookspec
def cso_policy_lint_rules() -> Iterable[LintRule]:
    """Return the lint rules this plugin's lint checks report (id, level, title, clause).

    Not firstresult: every plugin's lint rules are collected; ids are unique.

    Example::

        from cso_policy import Level, LintRule, hookimpl

        @hookimpl
        def cso_policy_lint_rules():
            return [LintRule(id="contract.acme_owner", level=Level.WARNING, title="A contract without an owner")]
    """


@hookspec
def cso_policy_lint_contract(contract: Contract, policy: Policy | None) -> Iterable[LintProblem]:
    """Check one contract file for ``cso-policy lint``; return its problems.

    :param contract: the contract as read (a :class:`cso_policy.Contract`).
    :param policy: the policy version it pins, or None when that version does not exist
        (already reported as ``contract.unknown_policy``).

    Each :class:`cso_policy.LintProblem` names a lint rule (declared with
    :func:`cso_policy_lint_rules`), a message and the key path (``$.packages[0].tier``), which
    lint turns into file:line:col.

    Not firstresult: every plugin is asked.

    Example::

        from cso_policy import LintProblem, hookimpl

        @hookimpl
        def cso_policy_lint_contract(contract, policy):
            if not contract.customer.strip():
                return [LintProblem(rule="contract.acme_owner", message="no customer name", path="$.customer")]
            return []
    """


@hookspec
def cso_policy_entitlements(pool: Pool, moment: datetime) -> Iterable[EntitlementSection]:
    """What ``cso-policy entitlements`` shows of one package, as sections.

    :param pool: the package (a :class:`cso_policy.Pool`), with the records up to *moment* observed.
    :param moment: the as-of time; the current period is the one holding it.

    Each :class:`cso_policy.EntitlementSection` has a ``key`` and JSON-serialisable ``data``
    (for ``--format json``) and the ``text`` lines shown for it. A wrong one is left out with a
    warning on stderr.

    Not firstresult: every plugin's sections are shown, in plugin order.

    Example::

        from cso_policy import EntitlementSection, hookimpl

        @hookimpl
        def cso_policy_entitlements(pool, moment):
            held = pool.state.get("acme", 0)
            return [EntitlementSection(key="acme", data={"trainings": held}, text=[f"  trainings held: {held}"])]
    """


@hookspec
def cso_policy_explain_terms(contract: ContractView, pool: Pool | None) -> Iterable[str]:
    """Lines that ``cso-policy explain`` shows under "terms that applied" for a finding.

    :param contract: the finding's contract (a :class:`cso_policy.ContractView`).
    :param pool: the package of the finding's line of business, or None.

    Not firstresult: every plugin's lines are shown, in plugin order.

    Example::

        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_explain_terms(contract, pool):
            return [f"training addendum: {contract.contract.customer}"] if pool is not None else []
    """


@hookspec
def cso_policy_report_sections(audit: Audit) -> dict:
    """Return summary sections to add to the report (key -> JSON-serialisable value).

    :param audit: the finished run (a :class:`cso_policy.Audit`): its contracts and their state.

    Sections appear under ``summary`` in the json report and in ``Report.sections``. Each must be
    plain JSON (text keys, finite numbers) and named unlike what the summary has already (``hours``,
    ``inputs``, ``by_level``...); another is left out and is a ``plugin.error``.

    With ``--jobs``, each process returns the sections of its own contracts and they are
    merged: lists of rows that each name their ``contract`` in contract order, numbers added,
    tables merged key by key; any other value is the first process's.

    Not firstresult: every plugin's sections are merged.

    Example::

        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_report_sections(audit):
            return {"trainings": sum(v.state.get("acme", 0) for v in audit.contracts.values())}
    """


@hookspec
def cso_policy_configure(options: dict, root: Path | None) -> Iterable[str]:
    """Check this plugin's own options before a run; return a list of problems (strings).

    :param options: the whole ``[plugins]`` table of ``cso-policy.toml`` (plugin name -> dict);
        read your own section, e.g. ``options.get("acme", {})``.
    :param root: the workspace folder, or None when the run has no workspace.

    Any problem returned stops the run with exit code 2 and the message. Rules read the same
    options during the audit as ``audit.options.get("acme", {})``; record sources get
    ``[plugins.<source name>]`` merged under each ``[[records]]`` entry's own options.

    Not firstresult: every plugin is asked.

    Example::

        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_configure(options, root):
            mine = options.get("acme", {})
            if "max_hours" in mine and not isinstance(mine["max_hours"], (int, float)):
                return ["[plugins.acme] max_hours: expected a number"]
            return []
    """


@hookspec(firstresult=True)
def cso_policy_adjust_finding(finding: Finding, audit: Audit) -> Finding | bool | None:
    """Adjust or suppress one finding before it is reported.

    :param finding: the finding (a :class:`cso_policy.Finding`).
    :param audit: the run (a :class:`cso_policy.Audit`: contracts, options, as_of).

    Return a replacement :class:`cso_policy.Finding` (e.g. with ``attrs.evolve(finding,
    level=Level.WARNING)``), ``False`` to suppress it, ``True`` to keep it, or None to leave
    it to the next plugin. Any other answer (a Finding with a field of the wrong type too), or
    raising (``sys.exit`` too), keeps the finding and is one ``plugin.error`` naming the plugin.
    Findings come as the rules give them, not sorted.

    firstresult: the first plugin that returns something other than None decides.

    Example::

        from cso_policy import hookimpl

        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            if finding.rule == "entitlement.channel_not_included" and finding.contract == "CT-2026":
                return False  # Contoso has a phone-support side letter
            return None
    """
