"""The records documented from the code: ``docs/records.md`` is current, its examples are valid
input, the JSON Schema accepts what the structurer accepts (the example workspace) and rejects
what it rejects, and ``cso-policy schema`` prints it."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import attrs
import pytest
from attrs import define
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cso_policy import Record, RecordKind, hookimpl, testing
from cso_policy.cli import main
from cso_policy.cli import schema as schema_cli
from cso_policy.core import schema
from cso_policy.core.convert import StructureError
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV

if "schema" not in main.commands:
    main.add_command(schema_cli.command)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "records.md"
NORTHWIND = ROOT / "examples" / "northwind" / "records"
KINDS = testing.catalogue().kinds


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")


def _validator(sch: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(sch)
    return Draft202012Validator(sch, format_checker=Draft202012Validator.FORMAT_CHECKER)


ALL = _validator(schema.records_schema(KINDS))


def _errors(record: dict, validator: Draft202012Validator = ALL) -> list[str]:
    return [e.message for e in validator.iter_errors(record)]


def _doc_examples() -> list[tuple[str, dict]]:
    """(kind heading, record) of every line of every ``json`` block of the doc."""
    out = [(heading, json.loads(line)) for heading, code in _blocks(DOC.read_text(encoding="utf-8"))
           for line in code.splitlines()]
    assert out, "docs/records.md has no json examples"
    return out


def _blocks(text: str) -> list[tuple[str, str]]:
    found, heading = [], ""
    for m in re.finditer(r"^(## [^\n]*)$|^```json\n(.*?)^```$", text, re.M | re.S):
        if m[1]:
            heading = m[1][3:].strip()
        else:
            found.append((heading, m[2]))
    return found


# ---------------------------------------------------------------- the doc


def test_the_doc_is_current():
    expected = schema.default_markdown()
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/records.md is out of date: run `python -m cso_policy.core.schema > docs/records.md`")


def test_every_kind_and_field_is_in_the_doc_with_its_allowed_values():
    text = DOC.read_text(encoding="utf-8")
    for name, entry in KINDS.items():
        assert f"\n## {name}\n" in text, f"kind {name} has no section"
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        props = schema.record_schema(entry)["properties"]
        for field, prop in props.items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{field}` |")), None)
            assert row is not None, f"{name}.{field} is missing from docs/records.md"
            for value in schema._values(prop):
                assert f"`{value}`" in row, f"{name}.{field}: allowed value {value!r} not listed"


def test_the_doc_names_what_users_had_to_guess():
    text = DOC.read_text(encoding="utf-8")
    for needle in ("`overage_hours`", "| `ref` |", "| `expansion` |", "### ticket.severity_changes",
                   "## Services", "## Deliverables", "## Expansion uses", "`general_account_consulting`",
                   "liveperson-cso@1.1", "the latest bundled version"):
        assert needle in text, needle


def test_every_field_of_every_kind_has_a_meaning_and_no_meaning_is_stale():
    classes = {e.kind.cls for e in KINDS.values()}
    nested = {t for cls in classes for t in _nested(cls)}
    for cls in classes | nested:
        for f in schema.input_fields(cls):
            assert schema.field_description(cls, f), f"{cls.__name__}.{f.name} has no meaning"
    known = {f"{c.__module__}.{c.__qualname__}": c for c in classes | nested | {Record}}
    for key, meanings in schema._MEANINGS.items():
        assert key in known, f"_MEANINGS names {key}, which is no record class"
        fields = {f.name for f in schema.input_fields(known[key])}
        assert set(meanings) <= fields, f"{key}: meanings of fields it does not have: {set(meanings) - fields}"


def _nested(cls) -> list[type]:
    out = []
    for f in attrs.fields(cls):
        hint = schema._hints(cls).get(f.name)
        for t in [hint, *typing.get_args(hint)]:
            if attrs.has(t):
                out += [t, *_nested(t)]
    return out


# ---------------------------------------------------------------- examples are valid input


EXAMPLES = _doc_examples()


def test_every_kind_has_an_example_in_the_doc():
    assert {heading for heading, _ in EXAMPLES} >= set(KINDS)


@pytest.mark.parametrize("heading,record", EXAMPLES, ids=lambda x: x if isinstance(x, str) else x.get("id"))
def test_every_example_in_the_doc_validates_and_structures(heading, record):
    assert record["kind"] == heading
    assert _errors(record) == []
    assert _errors(record, _validator(schema.record_schema(KINDS[heading]))) == []
    structured = testing.structure_record(record)
    assert structured.kind == heading and structured.id == record["id"]


@pytest.mark.parametrize("heading,record", EXAMPLES, ids=lambda x: x if isinstance(x, str) else x.get("id"))
def test_every_example_names_what_the_latest_policy_allows(heading, record):
    policy = _latest()
    assert _errors(record, _validator(schema.records_schema(KINDS, policy=policy))) == []


def _latest():
    cat = testing.catalogue()
    return schema.latest_policy(cat.registry())


def test_the_latest_policy_is_the_highest_bundled_version():
    assert _latest().ref == "liveperson-cso@1.1"


def test_the_example_workspace_validates():
    lines = 0
    for path in sorted(NORTHWIND.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            assert _errors(record) == [], f"{path.name}:{n}: {_errors(record)}"
            lines += 1
    assert lines > 100


# ---------------------------------------------------------------- what the schema rejects

WORK = {"kind": "work", "id": "w1", "contract": "NW-2026", "date": "2026-01-02", "lob": "retail", "hours": 2,
        "service": "customer_account_plan"}
TICKET = {"kind": "ticket", "id": "t1", "contract": "NW-2026", "lob": "retail", "severity": "P2",
          "opened_at": "2026-01-22T09:26:00-05:00", "channel": "web"}

BAD = {
    "unknown field": {**WORK, "hourz": 2},
    "missing field": {k: v for k, v in WORK.items() if k != "service"},
    "wrong enum": {**TICKET, "severity": "P4"},
    "wrong enum in a nested object": {**TICKET, "severity_changes": [{"at": "2026-01-22T10:00:00Z", "severity": "P0"}]},
    "unknown field in a nested object": {**TICKET, "severity_changes": [{"at": "2026-01-22T10:00:00Z",
                                                                          "severity": "P1", "by": "x"}]},
    "negative hours": {**WORK, "hours": -3},
    "zero hours": {**WORK, "hours": 0},
    "hours as a string": {**WORK, "hours": "2"},
    "timestamp without offset": {**TICKET, "opened_at": "2026-01-22T09:26:00"},
    "timestamp in a list without offset": {**TICKET, "updates": ["2026-01-22T09:26:00"]},
    "date with a time": {**WORK, "date": "2026-01-02T10:00:00Z"},
    "not a date": {**WORK, "date": "2026-02-30"},
    "boolean as a string": {**TICKET, "is_bug": "yes"},
    "wrong invoice item": {"kind": "invoice_line", "id": "i1", "contract": "NW-2026", "lob": "retail",
                           "period": "2026-Q1", "item": "hours", "quantity": 1, "rate": 1, "amount": 1,
                           "currency": "USD"},
    "unknown kind": {**WORK, "kind": "wrok"},
    "no kind": {k: v for k, v in WORK.items() if k != "kind"},
}


def test_valid_records_validate():
    assert _errors(WORK) == []
    assert _errors(TICKET) == []
    assert _errors({**TICKET, "first_response_at": None, "updates": [], "opened_at": "2026-01-22T14:26:00.5Z"}) == []


@pytest.mark.parametrize("name", BAD)
def test_invalid_records_fail_validation_as_they_fail_structuring(name):
    record = BAD[name]
    assert _errors(record), f"{name}: the schema accepts {record}"
    with pytest.raises(StructureError):
        testing.structure_record(record)


def test_the_required_but_nullable_expense_approval():
    expense = {"kind": "expense", "id": "e1", "contract": "NW-2026", "date": "2026-05-12", "amount": 10,
               "currency": "USD", "approved_at": None}
    assert _errors(expense) == []
    testing.structure_record(expense)
    missing = {k: v for k, v in expense.items() if k != "approved_at"}
    assert _errors(missing)
    with pytest.raises(StructureError):
        testing.structure_record(missing)


def test_a_policy_adds_the_names_it_allows():
    strict = _validator(schema.records_schema(KINDS, policy=_latest()))
    assert _errors(WORK, strict) == []
    assert _errors({**WORK, "service": "expansion", "expansion": "xs-1"}, strict) == []
    assert _errors({**WORK, "service": "made_up"}, strict)
    assert _errors({**WORK, "service": "made_up"}) == []  # without a policy: any string


def test_the_schema_is_derived_from_the_class():
    work = schema.record_schema(KINDS["work"])
    fields = [f.name for f in attrs.fields(KINDS["work"].kind.cls) if f.name not in ("file", "line")]
    assert list(work["properties"]) == ["kind", *fields]
    assert work["required"] == ["kind", "id", "contract", "date", "lob", "hours", "service"]
    assert work["properties"]["hours"]["exclusiveMinimum"] == 0
    assert work["properties"]["kind"] == {"description": "The record kind.", "const": "work"}
    assert work["additionalProperties"] is False
    ticket = schema.record_schema(KINDS["ticket"])
    change = ticket["properties"]["severity_changes"]["items"]
    assert change["required"] == ["at", "severity"] and change["additionalProperties"] is False


# ---------------------------------------------------------------- plugin kinds


@define(kw_only=True)
class Training(Record):
    """A training session for a line of business."""

    date: str
    lob: str
    attendees: int
    """How many people attended."""
    rating: float | None = attrs.field(default=None, metadata={"description": "The average rating."})
    topic: str | None = None

    kind = "training"


class TrainingPlugin:
    @hookimpl
    def cso_policy_record_kinds(self):
        return [RecordKind(name="training", cls=Training, description="a training session")]


def test_a_plugin_kind_gets_a_schema_its_descriptions_and_a_made_up_example():
    cat = testing.catalogue([TrainingPlugin()])
    sch = schema.record_schema(cat.kinds["training"])
    assert sch["properties"]["attendees"] == {"description": "How many people attended.", "type": "integer"}
    assert sch["properties"]["rating"]["description"] == "The average rating."
    assert sch["required"] == ["kind", "id", "contract", "date", "lob", "attendees"]
    (example,) = schema.example_records(cat.kinds["training"])
    assert _errors(example, _validator(schema.records_schema(cat.kinds))) == []
    assert testing.structure_record(example, plugins=[TrainingPlugin()]).kind == "training"
    assert "## training" in schema.records_markdown(cat.kinds)


# ---------------------------------------------------------------- the command


def test_schema_command_prints_the_schema_of_every_record():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    Draft202012Validator.check_schema(printed)
    assert set(printed["$defs"]) == set(KINDS)
    assert _errors(WORK, _validator(printed)) == []


def test_schema_command_prints_one_kind():
    result = CliRunner().invoke(main, ["schema", "ticket"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["title"] == "ticket" and printed["properties"]["kind"]["const"] == "ticket"
    assert "$defs" not in printed and "oneOf" not in printed
    assert _errors(TICKET, _validator(printed)) == []
    assert _errors(WORK, _validator(printed))


def test_schema_command_with_a_policy_lists_its_services():
    result = CliRunner().invoke(main, ["schema", "work", "--policy", "liveperson-cso@1.0"])
    assert result.exit_code == 0, result.output
    assert "general_account_consulting" in json.loads(result.output)["properties"]["service"]["enum"]


def test_schema_command_unknown_kind_is_one_line_with_a_suggestion():
    result = CliRunner().invoke(main, ["schema", "tickt"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "unknown record kind 'tickt'" in lines[0] and "did you mean ticket" in lines[0]


def test_schema_command_unknown_policy_is_exit_2():
    result = CliRunner().invoke(main, ["schema", "--policy", "nope@9"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
