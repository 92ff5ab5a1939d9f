"""``cso-policy test``: run example cases, as ``opa test`` and ``semgrep --test`` do.

Without PATH it runs the examples of every loaded rule (built-in, installed and
``--plugin`` ones; ``--select`` narrows them). With PATH it runs case folders: each folder
holding an ``expect.toml`` (or ``expect.json``) is one case, with its contracts (``*.toml``,
or the files in ``contracts/``) and records (the files in ``records/``, or ``*.jsonl``)
beside it, and the findings they must and must not give::

    as_of = 2026-12-31T00:00:00Z        # optional (default: the end of 2026)
    select = ["entitlement.*"]          # optional: the rules to run (default: all)

    [[must]]                            # a finding that must be there
    rule = "entitlement.quarterly_hours"
    record = "w-12"                     # optional, like contract, period and count

    [[must_not]]                        # no finding may match this
    rule = "billing.*"
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click
from attrs import field, frozen

from .. import exitcodes
from ..core.convert import StructureError, structure
from ..core.model import Finding
from ..core.pipeline import Catalogue
from ..errors import ConfigError
from ..inputs.toml import read_toml, read_utf8
from ..inputs.workspace import RecordInput
from ..testing import EXAMPLE_AS_OF, Workspace, example_problem
from . import catalogue, handle_errors, warn_plugin_problems, write_to

EXPECT_FILES = ("expect.toml", "expect.json")


@frozen(kw_only=True)
class Expectation:
    """Findings that match: a rule id or glob, and optionally the record, contract and period."""

    rule: str
    record: str | None = None
    contract: str | None = None
    period: str | None = None
    count: int | None = None  # with must: exactly this many matching findings

    def matches(self, f: Finding) -> bool:
        return (fnmatch.fnmatchcase(f.rule, self.rule)
                and all(want is None or got == want for want, got in (
                    (self.record, f.record), (self.contract, f.contract), (self.period, f.period))))

    def __str__(self) -> str:
        keys = [f"{name} {value}" for name, value in (("record", self.record), ("contract", self.contract),
                                                      ("period", self.period)) if value is not None]
        return " ".join([self.rule, *keys])


@frozen(kw_only=True)
class CaseFile:
    as_of: datetime | None = None
    select: list[str] = field(factory=list)
    must: list[Expectation] = field(factory=list)
    must_not: list[Expectation] = field(factory=list)


@frozen
class Outcome:
    suite: str
    name: str
    problem: str | None  # None: passed
    seconds: float


def _case_file(path: Path) -> CaseFile:
    data = read_toml(path) if path.suffix == ".toml" else _read_json(path)
    if isinstance(data, dict) and isinstance(data.get("as_of"), str):
        data = {**data, "as_of": data["as_of"].replace("Z", "+00:00")}
    try:
        case = structure(data, CaseFile)
    except StructureError as exc:
        where, msg = exc.problems[0]
        raise ConfigError(f"{path} {where}: {msg}") from None
    if not case.must and not case.must_not:
        raise ConfigError(f"{path}: a case names findings it must or must not give ([[must]], [[must_not]])")
    return case


def _read_json(path: Path):
    """The JSON of *path*, read as ``read_toml`` reads TOML: one line naming the file otherwise."""
    text = read_utf8(path, "JSON file")
    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON (nested too deeply)") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid JSON ({exc})") from None


def find_cases(paths: list[Path]) -> list[Path]:
    """Every case folder (a folder with an expect file) at or below *paths*, sorted."""
    found: set[Path] = set()
    for given in paths:
        try:
            if not given.exists():
                raise ConfigError(f"{given}: no such file or folder")
            folder = given if given.is_dir() else given.parent
        except OSError as exc:  # a name too long
            raise ConfigError(f"{given}: cannot read ({exc.strerror or exc})") from None
        for name in EXPECT_FILES:
            found.update(p.parent for p in folder.rglob(name))
    if not found:
        raise ConfigError(f"no case folders (with {' or '.join(EXPECT_FILES)}) in {', '.join(map(str, paths))}")
    return sorted(found)


def _files(folder: Path, sub: str, pattern: str, skip: tuple[str, ...] = ()) -> list[Path]:
    inside = folder / sub
    if inside.is_dir():
        return sorted(p for p in inside.rglob("*") if p.is_file())
    return sorted(p for p in folder.glob(pattern) if p.name not in skip)


def run_case(folder: Path, plugins: list) -> str | None:
    """Why the case folder's findings are not what its expect file says; None when they are."""
    expect = next((folder / n for n in EXPECT_FILES if (folder / n).is_file()), None)
    if expect is None:  # an expect.toml that is a folder, a FIFO...
        raise ConfigError(f"{folder}: {' or '.join(EXPECT_FILES)} is not a file")
    case = _case_file(expect)
    contracts = _files(folder, "contracts", "*.toml", skip=EXPECT_FILES)
    if not contracts:
        raise ConfigError(f"{folder}: a case needs contracts (*.toml beside {expect.name}, or contracts/)")
    # the workspace reads its files relative to its root: paths that include the root would
    # name it twice when it is relative (cases/c1/cases/c1/...)
    ws = Workspace(folder, contract_files=[p.relative_to(folder) for p in contracts])
    inputs = [RecordInput(path=p.relative_to(folder)) for p in _files(folder, "records", "*.jsonl")]
    result = ws.audit(plugins=plugins, as_of=case.as_of or EXAMPLE_AS_OF, select=case.select, inputs=inputs)
    problems = []
    for want in case.must:
        hits = [f for f in result.findings if want.matches(f)]
        if not hits or (want.count is not None and len(hits) != want.count):
            got = ", ".join(sorted({f"{f.rule} {f.record or '-'}" for f in result.findings})) or "none"
            problems.append(f"must give {want}{f' x{want.count}' if want.count is not None else ''}: "
                            f"found {len(hits)} (findings: {got})")
    for unwanted in case.must_not:
        hits = [f for f in result.findings if unwanted.matches(f)]
        if hits:
            found = "; ".join(f"{f.record or '-'}: {f.message}" for f in hits)
            problems.append(f"must not give {unwanted}: found {found}")
    return "; ".join(problems) or None


def rule_examples(cat: Catalogue, select: tuple[str, ...], plugins: list) -> Iterator[Outcome]:
    rules = cat.select(select) if select else cat.rules
    with tempfile.TemporaryDirectory(prefix="cso-policy-test-") as tmp:
        for rule in rules:
            for number, example in enumerate(rule.examples, start=1):
                started = time.perf_counter()
                problem = example_problem(rule, example, Path(tmp) / f"{rule.id}-{number}", plugins)
                name = f"{rule.id} example {number} ({'fails' if example.fails else 'passes'})"
                yield Outcome(rule.plugin or "cso-policy", name, problem, time.perf_counter() - started)


def cases(folders: list[Path], plugins: list) -> Iterator[Outcome]:
    for folder in folders:
        started = time.perf_counter()
        problem = run_case(folder, plugins)
        yield Outcome("cases", str(folder), problem, time.perf_counter() - started)


def write_text(outcomes: list[Outcome], stream) -> None:
    for o in outcomes:
        stream.write(f"{'PASS' if o.problem is None else 'FAIL'}  {o.name}\n")
        if o.problem is not None:
            stream.write(f"      {o.problem}\n")
    failed = sum(o.problem is not None for o in outcomes)
    stream.write(f"{len(outcomes) - failed} passed, {failed} failed\n")


def write_junit(outcomes: list[Outcome], stream) -> None:
    suites = ET.Element("testsuites", name="cso-policy test", tests=str(len(outcomes)),
                        failures=str(sum(o.problem is not None for o in outcomes)))
    by_suite: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_suite.setdefault(o.suite, []).append(o)
    for name, members in by_suite.items():
        suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(members)),
                              failures=str(sum(o.problem is not None for o in members)), errors="0",
                              time=f"{sum(o.seconds for o in members):.3f}")
        for o in members:
            case = ET.SubElement(suite, "testcase", classname=name, name=o.name, time=f"{o.seconds:.3f}")
            if o.problem is not None:
                ET.SubElement(case, "failure", message=o.problem).text = o.problem
    ET.indent(suites)
    stream.write(ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Without PATH: only the examples of rules matching this id glob (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "junit"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the results here instead of stdout.")
@handle_errors
def command(paths, select, fmt, output):
    """Run example cases: every loaded rule's examples, or the case folders under PATH.

    A case folder holds contracts, records and an expect.toml (or expect.json) naming
    the findings they must and must not give. Exit 0 all pass, 1 a case failed, 2 usage.
    """
    cat = catalogue()
    warn_plugin_problems(cat)
    plugins = [plugin for name, plugin in cat.pm.list_name_plugin() if cat.pm.plugin_info(name).origin != "builtin"]
    outcomes = list(cases(find_cases(list(paths)), plugins) if paths else rule_examples(cat, select, plugins))
    if not outcomes:
        raise ConfigError("no rule examples to run" + (f" for --select {', '.join(select)}" if select else ""))
    write_to(output, lambda stream: (write_junit if fmt == "junit" else write_text)(outcomes, stream))
    sys.exit(exitcodes.FINDINGS if any(o.problem is not None for o in outcomes) else exitcodes.OK)
