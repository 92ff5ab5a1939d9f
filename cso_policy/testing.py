"""The test kit for plugin authors: a pytest plugin, as ``pytester`` is for pytest.

Installed with cso-policy, it is loaded by pytest on its own (the ``pytest11`` entry point).
The ``cso_workspace`` fixture builds a workspace (contracts, records, options) in
``tmp_path``, runs an audit in process through the real pipeline and returns the findings::

    def test_weekend_work_is_flagged(cso_workspace):
        cso_workspace.contract(tier="expert")
        cso_workspace.records([{"kind": "work", "id": "w1", "date": "2026-01-03", "lob": "retail",
                                "hours": 2, "service": "general_account_consulting"}])
        result = cso_workspace.audit(plugins=[acme_rules], select=["acme.*"])
        assert result.flagged("acme.weekend_work") == ["w1"]

:func:`run_example` runs one of a rule's examples (:class:`cso_policy.Example`) the same way,
and :func:`check_example` raises AssertionError when the rule's findings are not the ones the
example names.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import sys
import types
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from attrs import define, field

from .core.convert import StructureError, record_structurer
from .core.model import Finding, Record
from .core.pipeline import Catalogue, audit, make_report
from .core.rule import NO_RECORD, Example, Rule
from .inputs.workspace import RecordInput, load_contracts
from .plugins import get_plugin_manager, load_local_plugins
from .reports import Report

EXAMPLE_CONTRACT_ID = "EX-2026"
EXAMPLE_LOB = "retail"
EXAMPLE_AS_OF = "2027-01-01T00:00:00Z"
EXAMPLE_CONTRACT = {
    "id": EXAMPLE_CONTRACT_ID,
    "customer": "Example Customer",
    "policy": "liveperson-cso@1.0",
    "term": {"start": date(2026, 1, 1), "end": date(2026, 12, 31)},
    "timezone": "America/New_York",
    "holidays": "US",
    "overage": {"rate": 240.0, "currency": "USD", "agreement": "SOW-1"},
    "packages": [{"id": "p1", "tier": "premier", "lines_of_business": [EXAMPLE_LOB]}],
}
"""The contract examples and :meth:`Workspace.contract` start from: one Premier package ``p1``
for line of business ``retail``, term 2026-01-01..2026-12-31 in New York with US public
holidays, overage agreed in writing at USD 240/h."""


def contract_data(**changes) -> dict:
    """The example contract with *changes*: any contract field (``overage=None`` removes it),
    and the shortcuts ``tier=`` and ``lobs=`` for the first package."""
    data = copy.deepcopy(EXAMPLE_CONTRACT)
    tier, lobs = changes.pop("tier", None), changes.pop("lobs", None)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    if tier is not None:
        data["packages"][0]["tier"] = tier
    if lobs is not None:
        data["packages"][0]["lines_of_business"] = list(lobs)
    return data


def toml_text(data: dict) -> str:
    """TOML for a contract dict (tables, arrays of tables, dates, strings, numbers, booleans)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items() if x is not None) + " }"
        raise TypeError(f"cannot write {v!r} as TOML")

    lines, tables = [], []
    for key, v in data.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((key, v))
        elif v is not None:
            lines.append(f"{key} = {value(v)}")
    for key, rows in tables:
        for row in rows:
            lines += ["", f"[[{key}]]"] + [f"{k} = {value(x)}" for k, x in row.items() if x is not None]
    return "\n".join(lines) + "\n"


@define
class AuditResult:
    """What an in-process audit gave: the findings (sorted, as reports show them) and the report."""

    findings: list[Finding]
    report: Report

    def of(self, rule_id: str) -> list[Finding]:
        """The findings of one rule."""
        return [f for f in self.findings if f.rule == rule_id]

    def flagged(self, rule_id: str) -> list[str]:
        """The record ids the rule's findings name, sorted (``"-"`` for a finding without one)."""
        return sorted(f.record if f.record is not None else NO_RECORD for f in self.of(rule_id))

    def rules(self) -> set[str]:
        """The ids of the rules that found something."""
        return {f.rule for f in self.findings}


@define
class Workspace:
    """A workspace under construction in a folder: contracts, record files, ``[[records]]``
    entries read by a named source, plugin options."""

    root: Path
    contract_files: list[Path] = field(factory=list)
    record_files: list[Path] = field(factory=list)
    options: dict = field(factory=dict)
    record_entries: list[RecordInput] = field(factory=list)

    def contract(self, **changes) -> dict:
        """Write a contract (:func:`contract_data` with *changes*); returns its data."""
        data = contract_data(**changes)
        path = self.root / "contracts" / f"{data['id']}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(toml_text(data), encoding="utf-8")
        self.contract_files.append(path)
        return data

    def contract_file(self, path: str | Path) -> Path:
        """Add an existing contract file (a TOML fixture of your tests): it is copied into the
        workspace's ``contracts`` folder under its own name; returns the copy."""
        source = Path(path)
        target = self.root / "contracts" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if target not in self.contract_files:
            self.contract_files.append(target)
        return target

    def records(self, records: Iterable[dict | str], name: str = "records.jsonl") -> Path:
        """Write a JSON Lines file: a dict is one record (``contract`` defaults to the example
        contract), a str is written as the line itself."""
        path = self.root / "records" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for r in records:
                if isinstance(r, dict):
                    r = json.dumps({"contract": EXAMPLE_CONTRACT_ID, **r})
                fh.write(r + "\n")
        if path not in self.record_files:
            self.record_files.append(path)
        return path

    def plugin_options(self, name: str, **values) -> None:
        """Set ``[plugins.<name>]`` options for the run."""
        self.options.setdefault(name, {}).update(values)

    def source(self, name: str, path: str | Path | None = None, /, **options) -> None:
        """Add a ``[[records]]`` entry read by the record source *name*, as
        ``[[records]] source = "<name>"`` in ``cso-policy.toml``: *path* is its file, folder or
        glob (relative to the workspace root), or None for a source that reads no file (a live
        API); *options* are the entry's own keys, overlaid on ``[plugins.<name>]``
        (:meth:`plugin_options`) when the source reads them. Example::

            cso_workspace.source("acme-csv", data / "export.csv", contract="EX-2026", lob="retail")
            cso_workspace.source("acme-api", base_url=httpserver.url_for("/"))  # no file
        """
        self.record_entries.append(
            RecordInput(path=Path(path) if path is not None else None, source=name, options=dict(options))
        )

    def audit(
        self,
        *,
        plugins: Sequence[types.ModuleType | object | str | Path] = (),
        as_of: str | datetime | None = EXAMPLE_AS_OF,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        autoload: bool = False,
        policies: Iterable[Path] = (),
        inputs: Iterable[RecordInput] = (),
    ) -> AuditResult:
        """Audit the workspace in process. *plugins* are modules or objects to register, or paths
        of local plugin files, or ``(name, module)`` pairs (see :func:`catalogue`); *autoload*
        also loads installed entry-point plugins. With *as_of* None, open items (an SLA clock
        still running) are not measured."""
        if not self.contract_files:
            self.contract()
        cat = catalogue(plugins, autoload=autoload)
        cat.configure(self.options, self.root)
        rules = cat.select(select, ignore)
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00")) if isinstance(as_of, str) else as_of
        contracts = load_contracts([str(p) for p in self.contract_files], self.root)
        record_inputs = [RecordInput(path=p) for p in self.record_files] + self.record_entries + list(inputs)
        result, views = audit(cat, contracts, record_inputs, base=self.root, rules=rules, as_of=moment,
                              policy_roots=policies, plugin_options=self.options)
        report = make_report(cat, result, views, moment)
        return AuditResult(findings=report.findings, report=report)


def catalogue(plugins: Sequence = (), *, autoload: bool = False) -> Catalogue:
    """The catalogue of the default plugins plus *plugins*: modules, objects or plugin file
    paths, registered under their module name (or file stem), or ``(name, module)`` pairs,
    registered under *name*: give the name the plugin has when installed (its entry-point
    name), since findings of its rules name it (``Finding.plugin``). Raises AssertionError
    when a plugin fails (an unknown hook...)."""
    pm = get_plugin_manager(load_entrypoints=autoload)
    for plugin in plugins:
        name = None
        if isinstance(plugin, tuple) and len(plugin) == 2 and isinstance(plugin[0], str):
            name, plugin = plugin
        if isinstance(plugin, (str, Path)):
            load_local_plugins(pm, [str(plugin)])
        elif not pm.is_registered(plugin):
            pm.register(plugin, name=name or getattr(plugin, "__name__", None))
    pm.check_hooks()
    problems = list(pm.problems)
    if problems:
        raise AssertionError("; ".join(str(p) for p in problems))
    return Catalogue.from_plugins(pm)


def structure_record(obj: dict, plugins: Sequence = ()) -> Record:
    """Structure one record dict as the core does (every kind of the default plugins and
    *plugins*); raises :class:`cso_policy.core.convert.StructureError` naming each bad field.
    For adapters: what a source yields must structure."""
    structure = _default_structurer() if not plugins else _structurer(catalogue(plugins))
    return structure(obj)


def _structurer(cat: Catalogue):
    return record_structurer({name: e.kind.cls for name, e in cat.kinds.items()})


@functools.cache
def _default_structurer():
    return _structurer(catalogue())


def run_example(rule: Rule, example: Example, root: Path, plugins: Sequence = ()) -> AuditResult:
    """Audit *example* in a workspace under *root* with *rule* and the input rules selected."""
    ws = Workspace(root)
    ws.contract(**example.contract)
    ws.records(example.records)
    for name, values in example.options.items():
        ws.plugin_options(name, **values)
    return ws.audit(plugins=plugins, as_of=example.as_of or EXAMPLE_AS_OF, select=[rule.id, "input.*"])


def example_problem(rule: Rule, example: Example, root: Path, plugins: Sequence = ()) -> str | None:
    """Why *rule*'s findings on *example* are not exactly the ones its ``flags`` name (or its
    records are not valid input); None when the example holds."""
    result = run_example(rule, example, root, plugins)
    if not rule.id.startswith("input."):
        bad = [f.message for f in result.findings if f.rule.startswith("input.")]
        if bad:
            return f"{rule.id}: the example's records are not valid input: {bad}"
    got = result.flagged(rule.id)
    want = sorted(example.flags)
    if got != want:
        return (f"{rule.id}: example {example.note or example.records!r} should flag {want or 'nothing'}, "
                f"got {got or 'nothing'}: {[f.message for f in result.of(rule.id)]}")
    return None


def check_example(rule: Rule, example: Example, root: Path, plugins: Sequence = ()) -> None:
    """Raise AssertionError unless *rule*'s findings on *example* name exactly its ``flags``
    (and its records are valid input)."""
    problem = example_problem(rule, example, root, plugins)
    if problem is not None:
        raise AssertionError(problem)


# The fixture is for pytest, which has loaded itself by the time it loads this plugin; the kit
# works without it (``cso-policy test`` uses it), and the command line need not import pytest.
pytest = sys.modules.get("pytest")

if pytest is not None:

    @pytest.fixture
    def cso_workspace(tmp_path) -> Workspace:
        """An empty :class:`Workspace` in ``tmp_path``; ``.contract()``, ``.records()`` and
        ``.audit()`` build and run it."""
        return Workspace(tmp_path / "workspace")


__all__ = [
    "EXAMPLE_AS_OF",
    "EXAMPLE_CONTRACT",
    "EXAMPLE_CONTRACT_ID",
    "EXAMPLE_LOB",
    "AuditResult",
    "StructureError",
    "Workspace",
    "catalogue",
    "check_example",
    "example_problem",
    "contract_data",
    "cso_workspace",
    "run_example",
    "structure_record",
    "toml_text",
]
