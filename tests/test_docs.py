"""docs/plugins.md stays true: every field it should list is there with its type, its code
imports only the public API, and its tagged examples run through the real pipeline.

A code block tagged ``<!-- test: NAME -->`` on the line before its fence is run here under
that name; the others are parsed (Python, TOML, JSON) and, when they implement hooks, loaded
as plugins.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import re
import sys
import textwrap
import tomllib
import typing
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

import cso_policy
from cso_policy import hookspecs, testing
from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from cso_policy.testing import Workspace, check_example, contract_data, toml_text

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
NORTHWIND = ROOT / "examples" / "northwind"
AS_OF = "2027-06-01T00:00:00Z"


# ---------------------------------------------------------------- reading the manual


@attrs.frozen
class Block:
    lang: str
    code: str
    tag: str | None
    line: int  # of the opening fence, for messages


def _blocks(text: str) -> list[Block]:
    """Fenced code blocks, indented ones (inside lists) included, with their test tag."""
    found, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^( *)```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = opening[1], opening[2]
        body, j = [], i + 1
        while not re.match(rf"^{indent}```\s*$", lines[j]):
            body.append(lines[j])
            j += 1
        before = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        tag = re.fullmatch(r"<!-- test: ([\w-]+) -->", before)
        found.append(Block(lang, textwrap.dedent("\n".join(body)) + "\n", tag[1] if tag else None, i + 1))
        i = j + 1
    return found


BLOCKS = _blocks(TEXT)
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def _tagged(tag: str) -> Block:
    found = [b for b in BLOCKS if b.tag == tag]
    assert len(found) == 1, f"docs/plugins.md has {len(found)} blocks tagged {tag!r}"
    return found[0]


def _prose() -> str:
    """The manual without its code blocks (headings inside code are not headings)."""
    return re.sub(r"^( *)```\w*\n.*?^\1```\s*$", "", TEXT, flags=re.S | re.M)


def _section(title: str) -> str:
    """The text under the heading *title*, up to the next heading of the same or a higher level."""
    lines = _prose().splitlines()
    for n, line in enumerate(lines):
        m = re.match(r"^(#+) (.*)$", line)
        if m and m[2].strip() == title:
            level = len(m[1])
            out = []
            for rest in lines[n + 1:]:
                h = re.match(r"^(#+) ", rest)
                if h and len(h[1]) <= level:
                    break
                out.append(rest)
            return "\n".join(out)
    raise AssertionError(f"docs/plugins.md has no heading {title!r}")


def _module(code: str, path: Path):
    """Write *code* to *path* and import it (as a plugin file would be)."""
    path.write_text(code, encoding="utf-8")
    name = f"docs_example_{path.stem.replace('-', '_')}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")


# ---------------------------------------------------------------- (a) the data model is complete


def _hints(cls) -> dict:
    """Field name -> resolved type, for the fields whose annotation resolves at run time (some
    name types imported only for type checkers)."""
    try:
        return typing.get_type_hints(cls)
    except NameError:
        namespace = vars(sys.modules[cls.__module__])
        out = {}
        for f in attrs.fields(cls):
            try:
                out[f.name] = eval(f.type, namespace) if isinstance(f.type, str) else f.type
            except NameError:
                pass
        return out


def _declared(cls, name: str) -> str:
    """The field's annotation as written in the class (attrs may have resolved ``field.type``)."""
    for klass in cls.__mro__:
        if name in vars(klass).get("__annotations__", {}):
            annotation = vars(klass)["__annotations__"][name]
            return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    raise AssertionError(f"{cls.__name__}.{name} has no annotation")


def _documented_classes() -> list[type]:
    """The public attrs classes, the record class of every registered kind, and the attrs classes
    a record or a contract file holds (a ticket's severity changes, a contract's term...)."""
    public = [getattr(cso_policy, n) for n in cso_policy.__all__ if attrs.has(getattr(cso_policy, n))]
    kinds = [entry.kind.cls for entry in testing.catalogue().kinds.values()]
    found = list(dict.fromkeys(public + kinds))
    queue = list(kinds) + [cso_policy.Contract]
    while queue:
        cls = queue.pop()
        for hint in _hints(cls).values():
            for t in [hint, *typing.get_args(hint)]:
                if attrs.has(t) and t.__module__.startswith("cso_policy") and t not in found:
                    found.append(t)
                    queue.append(t)
    return found


CLASSES = _documented_classes()


def _own_fields(cls) -> list[attrs.Attribute]:
    base = set() if cls is cso_policy.Record or not issubclass(cls, cso_policy.Record) else \
        {f.name for f in attrs.fields(cso_policy.Record)}
    return [f for f in attrs.fields(cls) if not f.name.startswith("_") and f.name not in base]


def _rows(section: str) -> dict[str, list[str]]:
    """field -> the cells of its table row (``\\|`` inside a cell is a literal bar)."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`")] = cells
    return rows


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_field_is_in_the_class_table_with_its_type(cls):
    section = _section(f"`{cls.__name__}`")
    rows = _rows(section)
    for f in _own_fields(cls):
        assert f.name in rows, f"{cls.__name__}.{f.name} is missing from its table in docs/plugins.md"
        declared = _declared(cls, f.name)
        assert rows[f.name][1] == f"`{declared}`", \
            f"{cls.__name__}.{f.name}: the manual says {rows[f.name][1]}, the class {declared}"
        hint = _hints(cls).get(f.name)
        for t in [hint, *typing.get_args(hint)]:
            if typing.get_origin(t) is typing.Literal:
                for value in typing.get_args(t):
                    assert f"`{value}`" in rows[f.name][3], f"{cls.__name__}.{f.name}: allowed value {value!r} not listed"
    extra = set(rows) - {f.name for f in _own_fields(cls)}
    assert not extra, f"{cls.__name__}: the manual lists fields the class does not have: {sorted(extra)}"


CONTEXT = [cso_policy.ContractView, cso_policy.Pool, cso_policy.Audit, cso_policy.Tally,
           cso_policy.ContractCalendar, cso_policy.Periods, cso_policy.Policy]


@pytest.mark.parametrize("cls", CONTEXT, ids=lambda c: c.__name__)
def test_every_property_and_method_of_what_rules_see_is_described(cls):
    section = _section(f"`{cls.__name__}`")
    members = [n for n, v in vars(cls).items()
               if not n.startswith("_") and (isinstance(v, property) or callable(v))]
    for name in members:
        assert re.search(rf"`(\w+\.)?{name}[`(]", section), f"{cls.__name__}.{name} is not described"


def test_every_table_row_has_as_many_cells_as_its_header():
    """An unescaped ``|`` inside a cell would split it."""
    width = None
    for n, line in enumerate(_prose().splitlines(), start=1):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line)) - 2
        if width is None:
            width = cells
        assert cells == width, f"docs/plugins.md table row {n} has {cells} cells, its header {width}: {line}"


def test_every_record_kind_is_listed_with_its_class_and_dating_field():
    rows = _rows(_section("Records"))
    for name, entry in testing.catalogue().kinds.items():
        assert name in rows, f"kind {name} is not in the kinds table"
        dated = f"`{entry.kind.dated_by}`" if entry.kind.dated_by else "(undated)"
        assert rows[name][1:3] == [f"`{entry.kind.cls.__name__}`", dated], rows[name]


def test_every_hook_is_in_the_table_and_only_adjust_finding_is_firstresult():
    hooks = sorted(n for n in dir(hookspecs) if n.startswith("cso_policy_"))
    table = _rows(_section("Hooks at a glance"))
    assert sorted(table) == hooks
    first = [h for h in hooks if getattr(hookspecs, h).cso_policy_spec["firstresult"]]
    assert first == ["cso_policy_adjust_finding"]
    assert "`cso_policy_adjust_finding` is the only `firstresult`" in " ".join(TEXT.split())


def test_no_internal_references():
    assert "SPEC" not in TEXT
    assert "specification" not in TEXT.lower()


# ---------------------------------------------------------------- (b) code imports the public API


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: f"line{b.line}")
def test_python_block_imports_only_the_public_api(block):
    tree = ast.parse(block.code)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cso_policy":
            assert node.module in ("cso_policy", "cso_policy.testing"), \
                f"line {block.line}: imports from {node.module}; use the names of cso_policy.__all__"
            public = cso_policy if node.module == "cso_policy" else testing
            for alias in node.names:
                assert alias.name in public.__all__, f"line {block.line}: {node.module}.{alias.name} is not public"
                assert hasattr(public, alias.name)
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name in ("cso_policy", "cso_policy.testing") or not alias.name.startswith("cso_policy"), \
                    f"line {block.line}: imports {alias.name}"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "cso_policy":
            assert node.attr in cso_policy.__all__, f"line {block.line}: cso_policy.{node.attr} is not public"
    if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)):
        # a block with imports is a whole file: every public name it uses, it imports
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        defined |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
        defined |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        missing = (used & set(cso_policy.__all__)) - imported - defined
        assert not missing, f"line {block.line}: uses {sorted(missing)} without importing them"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang in ("toml", "json")], ids=lambda b: f"line{b.line}")
def test_toml_and_json_blocks_parse(block):
    if block.lang == "toml":
        tomllib.loads(block.code)
    else:
        for line in block.code.splitlines():
            json.loads(line)


@pytest.mark.parametrize("block", [b for b in PYTHON if "@hookimpl" in b.code], ids=lambda b: f"line{b.line}")
def test_every_hook_example_loads_as_a_plugin(block, tmp_path):
    """Hook names and argument names match the hook specs, and each list hook returns what
    it should without raising."""
    path = tmp_path / "example_plugin.py"
    path.write_text(block.code, encoding="utf-8")
    cat = testing.catalogue([path])
    assert not cat.pm.problems, cat.pm.problems


# ---------------------------------------------------------------- (c) the examples run


def _write_five_minute(folder: Path) -> Path:
    code = _tagged("five-minute").code
    assert code.startswith("# acme_rules.py\n")
    path = folder / "acme_rules.py"
    path.write_text(code, encoding="utf-8")
    return path


def test_five_minute_rule_runs_on_the_northwind_example_as_shown(tmp_path):
    plugin = _write_five_minute(tmp_path)
    result = CliRunner().invoke(main, ["--plugin", str(plugin), "audit", str(NORTHWIND), "--select", "acme.*",
                                       "--format", "json", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output  # warnings only
    findings = json.loads(result.output)["findings"]
    expected = set()
    for line in (NORTHWIND / "records" / "work.jsonl").read_text().splitlines():
        work = json.loads(line)
        if work["hours"] >= 6 and not work.get("note"):
            expected.add(work["id"])
    assert expected, "the Northwind example no longer has long entries without a note"
    assert {f["record"] for f in findings} == expected
    assert {(f["rule"], f["level"], f["plugin"], f["clause"]) for f in findings} == {
        ("acme.undocumented_long_work", "warning", "acme_rules", "Addendum B §1")}
    shown = re.search(r"^ *(examples/northwind/records/work\.jsonl:(\d+): warning: acme\.\S+ .*)$", TEXT, re.M)
    assert shown and any(f["source"].endswith(f"work.jsonl:{shown[2]}") for f in findings)


def test_five_minute_rule_examples_hold_and_ship_under_its_entry_point(tmp_path):
    module = _module(_write_five_minute(tmp_path).read_text(), tmp_path / "acme_rules_mod.py")
    (rule_,) = module.cso_policy_rules()
    assert len(rule_.examples) == 3
    for i, example in enumerate(rule_.examples):
        check_example(rule_, example, tmp_path / f"ex{i}", plugins=[module])
    ship = [b for b in BLOCKS if b.lang == "toml" and "entry-points" in b.code]
    assert len(ship) == 1
    assert tomllib.loads(ship[0].code)["project"]["entry-points"]["cso_policy"] == {"acme": "acme_rules"}


CSV = (
    "id;date;lob;hours;service;note\n"                                   # line 1
    "w1;2026-02-02;retail;2;general_account_consulting;\n"                # line 2
    'w2;2026-02-03;retail;3;monthly_business_review;"two\nlines"\n'       # lines 3-4: one row
    "w3;2026-02-04;retail;lots;general_account_consulting;\n"             # line 5: bad hours
    "w4;2026-02-05;retail;1.5;general_account_consulting;plain\n"         # line 6
)


def _csv_workspace(root: Path, config: str) -> Path:
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "nw.toml").write_text(toml_text(contract_data(id="NW-2026")), encoding="utf-8")
    (root / "exports").mkdir()
    (root / "exports" / "work.csv").write_text(CSV, encoding="utf-8", newline="")
    (root / "acme_csv.py").write_text(_tagged("csv-source").code, encoding="utf-8")
    (root / "cso-policy.toml").write_text(config, encoding="utf-8")
    return root


def test_csv_source_reads_rows_with_options_and_reports_lines_right(tmp_path):
    ws = _csv_workspace(tmp_path / "ws", _tagged("csv-config").code)
    result = CliRunner().invoke(main, ["--allow-workspace-plugins", "audit", str(ws), "--format", "json", "--as-of", AS_OF])
    report = json.loads(result.stdout)
    assert report["summary"]["records"] == 4
    assert report["summary"]["records_by_kind"] == {"work": 3}
    found = {(f["rule"], f["record"], f["source"].rsplit("/", 1)[-1]) for f in report["findings"]}
    # monthly_business_review is '–' for Premier (Table 2); w2's row ends on line 4
    assert ("entitlement.not_included", "w2", "work.csv:4") in found
    # the bad row is a BadLine at its own line, after the quoted newline
    bad = [f for f in report["findings"] if f["rule"] == "input.invalid_record"]
    assert [(f["source"].rsplit("/", 1)[-1], f["contract"]) for f in bad] == [("work.csv:5", None)]
    assert "hours: expected a number, got 'lots'" in bad[0]["message"]
    assert {f["contract"] for f in report["findings"] if f["record"]} == {"NW-2026"}  # the entry's own option


def test_csv_source_rejects_bad_options_with_one_line_and_exit_2(tmp_path):
    config = _tagged("csv-config").code.replace('delimiter = ";"', 'delimiter = ";;"')
    ws = _csv_workspace(tmp_path / "ws", config)
    result = CliRunner().invoke(main, ["--allow-workspace-plugins", "audit", str(ws), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "cso-policy: running workspace plugin acme_csv.py",
        "cso-policy: error: [plugins.acme-csv] delimiter: expected one character, got ';;'"]


def test_csv_source_in_the_test_kit_as_the_manual_says(tmp_path):
    plugin = tmp_path / "acme_csv.py"
    plugin.write_text(_tagged("csv-source").code, encoding="utf-8")
    csv_file = tmp_path / "work.csv"
    csv_file.write_text(CSV, encoding="utf-8", newline="")
    ws = Workspace(tmp_path / "ws")
    ws.plugin_options("acme-csv", delimiter=";")
    ws.source("acme-csv", csv_file, contract=testing.EXAMPLE_CONTRACT_ID)
    result = ws.audit(plugins=[plugin])
    assert result.report.records == 4
    assert result.flagged("entitlement.not_included") == ["w2"]
    assert [f.source.rsplit("/", 1)[-1] for f in result.of("input.invalid_record")] == ["work.csv:5"]


def test_rule_with_check_and_finish_runs_its_examples_and_sets_the_contract(tmp_path):
    module = _module(_tagged("check-and-finish").code, tmp_path / "fragmented.py")
    (rule_,) = module.cso_policy_rules()
    assert rule_.check is not None and rule_.finish is not None
    for i, example in enumerate(rule_.examples):
        check_example(rule_, example, tmp_path / f"ex{i}", plugins=[module])
    ws = Workspace(tmp_path / "ws")
    ws.records([{**module.SHORT, "id": f"w{i}"} for i in range(5)])
    (found,) = ws.audit(plugins=[module], select=[rule_.id]).of(rule_.id)
    assert (found.contract, found.lob, found.period, found.record, found.policy) == (
        "EX-2026", "retail", "2026-M02", None, "liveperson-cso@1.0")


def test_a_finish_violation_without_record_or_contract_has_no_contract(tmp_path):
    """What the manual warns about: only the record tells cso-policy the contract."""
    module = _module(textwrap.dedent("""
        from cso_policy import Level, Violation, hookimpl, rule

        @rule("acme.bare", "bare", "Addendum", Level.INFO, finish=True)
        def bare(audit):
            yield Violation(message="about the whole run")

        @hookimpl
        def cso_policy_rules():
            return [bare]
    """), tmp_path / "bare.py")
    ws = Workspace(tmp_path / "ws")
    ws.records([])
    (found,) = ws.audit(plugins=[module], select=["acme.bare"]).of("acme.bare")
    assert (found.contract, found.policy, found.lob) == (None, None, None)


def test_record_kind_example_adds_a_kind_its_check_and_its_rule(tmp_path):
    module = _module(_tagged("record-kind").code, tmp_path / "acme_training.py")
    (rule_,) = module.cso_policy_rules()
    for i, example in enumerate(rule_.examples):
        check_example(rule_, example, tmp_path / f"ex{i}", plugins=[module])
    ws = Workspace(tmp_path / "ws")
    ws.records([{**module.SESSION, "id": "t2", "attendees": 0},
                {"kind": "work", "id": "w1", "date": "2026-03-02", "lob": "retail", "hours": 2,
                 "service": "general_account_consulting"}])
    result = ws.audit(plugins=[module])
    (bad,) = result.of("input.invalid_record")
    assert bad.record == "t2" and "$.attendees" in bad.message
    assert result.report.records_by_kind == {"training": 1, "work": 1}
    json_line = [b for b in BLOCKS if b.lang == "json" and '"training"' in b.code]
    assert testing.structure_record(json.loads(json_line[0].code), plugins=[module]).kind == "training"


def test_gate_example_shares_one_measurement(tmp_path):
    (block,) = [b for b in PYTHON if "gate=long_entry" in b.code]
    module = _module(block.code, tmp_path / "gates.py")

    class Plugin:
        @cso_policy.hookimpl
        def cso_policy_rules(self):
            return [module.long_without_note, module.long_on_weekend]

    ws = Workspace(tmp_path / "ws")
    work = {"kind": "work", "lob": "retail", "service": "general_account_consulting"}
    ws.records([{**work, "id": "sat", "date": "2026-02-07", "hours": 7},
                {**work, "id": "mon", "date": "2026-02-09", "hours": 7, "note": "QBR"},
                {**work, "id": "short", "date": "2026-02-14", "hours": 2}])
    result = ws.audit(plugins=[Plugin()], select=["acme.*"])
    assert result.flagged("acme.long_without_note") == ["sat"]
    assert result.flagged("acme.long_on_weekend") == ["sat"]
    assert "1 h over 6 h on a Saturday" in result.of("acme.long_on_weekend")[0].message


def test_report_format_example_writes_one_line_per_finding(tmp_path):
    (block,) = [b for b in PYTHON if "cso_policy_report_formats" in b.code]
    module = _module(block.code, tmp_path / "tsv.py")
    (fmt,) = module.cso_policy_report_formats()
    assert fmt.file_name == "report.tsv"
    ws = Workspace(tmp_path / "ws")
    ws.records([{"kind": "work", "id": "w1", "date": "2026-02-02", "lob": "nowhere", "hours": 1,
                 "service": "general_account_consulting"}])
    result = ws.audit(plugins=[module])
    out = io.StringIO()
    fmt.write(result.report, out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("rule\t") and len(lines) == 1 + len(result.findings) >= 2


def test_test_kit_examples_run_as_written(tmp_path, monkeypatch):
    """The test functions of the testing section, with the five-minute rule as ``acme_rules``
    and the CSV source as ``acme_csv``."""
    modules = tmp_path / "modules"
    modules.mkdir()
    _write_five_minute(modules)
    (modules / "acme_csv.py").write_text(_tagged("csv-source").code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(modules))
    for name in ("acme_rules", "acme_csv"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    kit = [b for b in PYTHON if "cso_workspace" in b.code or "check_example(" in b.code
           or "structure_record(" in b.code]
    ran = []
    for n, block in enumerate(kit):
        ns: dict = {}
        exec(compile(block.code, f"docs/plugins.md:{block.line}", "exec"), ns)
        for name, fn in list(ns.items()):
            if not (name.startswith("test_") and callable(fn)):
                continue
            if name == "test_rule_example":
                for i, (rule_, example) in enumerate(ns["CASES"]):
                    fn(rule_, example, tmp_path / f"case{n}-{i}")
            else:
                fixtures = {"cso_workspace": Workspace(tmp_path / f"ws{n}"), "tmp_path": tmp_path / f"tmp{n}"}
                fixtures["tmp_path"].mkdir()
                fn(**{arg: fixtures[arg] for arg in fn.__code__.co_varnames[:fn.__code__.co_argcount]})
            ran.append(name)
    assert len(ran) == 4, ran
    for name in ("acme_rules", "acme_csv"):
        monkeypatch.delitem(sys.modules, name, raising=False)
