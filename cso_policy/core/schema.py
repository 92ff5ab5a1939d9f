"""The records, documented from the code: a JSON Schema (draft 2020-12) per record kind and the
``docs/records.md`` reference, both derived from the attrs classes of the registered kinds and
their type hints, never from a hand-kept field list.

:func:`record_schema` is the schema of one kind, :func:`records_schema` that of any record
(``oneOf`` by ``kind``); :func:`records_markdown` is the reference for people, with the names a
policy version allows (services, deliverables, expansion uses). ``python -m
cso_policy.core.schema`` prints the reference for the default plugins and the latest bundled
policy version: that is how ``docs/records.md`` is made.

The JSON Schema is what the structurer accepts, in the canonical spelling: a date is
``YYYY-MM-DD``, a timestamp is RFC 3339 with its UTC offset. The structurer is a little more
lenient (other ISO 8601 forms), never stricter, except for what JSON Schema cannot say: an
``integer`` field takes ``1`` but not ``1.0``.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import sys
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import attrs
import orjson

from .convert import _LOCATION_FIELDS, _root
from .kinds import KindEntry, RecordKind
from .model import Positive, Record

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
# RFC 3339: seconds required, a fraction allowed, and the UTC offset (Z or +hh:mm) required.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"

# What the fields of the built-in record classes mean. A class of a plugin documents its own
# fields with ``attrs.field(metadata={"description": "..."})`` or an attribute docstring (a
# string right after the field); those win over this table.
_MEANINGS: dict[str, dict[str, str]] = {
    "cso_policy.core.model.Record": {
        "id": "The record's id; findings name it. Unique per contract and kind.",
        "contract": "The id of the contract it belongs to.",
    },
    "cso_policy.domains.entitlement.records.Work": {
        "date": "The day worked.",
        "lob": "The line of business worked for; it selects the package.",
        "hours": "Hours worked.",
        "service": "What was done: a service id of the contract's policy (an item of Tables 2-5 and 10), "
                   "or `expansion` for work on an expansion scope.",
        "expansion": "The id of the `expansion_scope` record this work uses. Required when `service` is "
                     "`expansion`, and only then.",
        "note": "Free text.",
    },
    "cso_policy.domains.entitlement.records.Delivery": {
        "date": "The day delivered.",
        "lob": "The line of business delivered to.",
        "deliverable": "A deliverable id of the contract's policy (an item of Tables 2-5 and 10).",
        "international": "`true` for an on-site visit abroad (it may carry a surcharge).",
        "note": "Free text.",
    },
    "cso_policy.domains.entitlement.records.Expense": {
        "date": "The day of the expense.",
        "amount": "The amount.",
        "currency": "ISO 4217 code, e.g. `USD`.",
        "approved_at": "When the customer approved it. Required: `null` means not approved.",
        "lob": "The line of business, if any.",
        "related": "The id of the delivery or other record it belongs to.",
        "description": "Free text.",
    },
    "cso_policy.domains.entitlement.records.InvoiceLine": {
        "lob": "The line of business billed.",
        "period": "The contract period billed, as a label: `2026-Q1`, `2026-H2`, `2026-M03`, `2026`.",
        "item": "What is billed.",
        "quantity": "How many (hours for `overage_hours`).",
        "rate": "Price per unit.",
        "amount": "The line's amount.",
        "currency": "ISO 4217 code, e.g. `USD`.",
        "ref": "The id of the record it bills: the `delivery` of a `deliverable` or `surcharge` line, "
               "the `expense` of an `expense` line.",
        "description": "Free text.",
    },
    "cso_policy.domains.sla.records.Ticket": {
        "lob": "The line of business.",
        "severity": "Severity when opened; later changes go in `severity_changes`.",
        "opened_at": "When it was opened.",
        "channel": "How it came in.",
        "first_response_at": "The first response, or `null`.",
        "updates": "Timestamps of the updates sent to the customer.",
        "resolved_at": "When it was resolved, or `null` (still open: measured up to the audit's as-of time).",
        "is_bug": "The ticket is a product bug (an RCA is due).",
        "rca_delivered_at": "When the root-cause analysis was delivered, or `null`.",
        "security_incident": "The ticket is a security incident.",
        "tier2_direct": "Opened directly with tier 2 support.",
        "severity_changes": "Later severity changes, in time order: objects `{\"at\": TIMESTAMP, \"severity\": "
                            "\"P1\"}`.",
        "subject": "Free text.",
    },
    "cso_policy.domains.sla.records.SeverityChange": {
        "at": "When the severity changed.",
        "severity": "The new severity.",
    },
    "cso_policy.domains.expansion.records.ExpansionScope": {
        "package": "The id of the contract's package whose expansion pack it uses (not a line of business).",
        "pack": "The pack kind.",
        "use": "What it is for: a Section 9 use id of the contract's policy (a disallowed use is a finding, "
               "not an input error).",
        "hours": "The hours approved for it.",
        "approved_at": "When it was approved.",
        "description": "Free text.",
    },
}

# One or more example input lines per built-in kind, for docs/records.md (each is tested: it
# validates against the schema and structures). A kind without one gets a made-up example.
EXAMPLES: dict[str, list[dict]] = {
    "work": [
        {"kind": "work", "id": "w-0001", "contract": "NW-2026", "date": "2026-01-02", "lob": "retail",
         "hours": 2.0, "service": "customer_account_plan", "note": "Account plan refresh"},
        {"kind": "work", "id": "w-0002", "contract": "NW-2026", "date": "2026-01-21", "lob": "outlet",
         "hours": 6.5, "service": "expansion", "expansion": "xs-001"},
    ],
    "delivery": [
        {"kind": "delivery", "id": "d-0038", "contract": "NW-2026", "date": "2026-05-12", "lob": "outlet",
         "deliverable": "on_site_operations_monitoring", "international": True},
    ],
    "expense": [
        {"kind": "expense", "id": "e-001", "contract": "NW-2026", "date": "2026-05-12", "lob": "outlet",
         "amount": 486.2, "currency": "USD", "approved_at": "2026-05-08T10:20:00-04:00", "related": "d-0038",
         "description": "Airfare LGA-YYZ return"},
    ],
    "invoice_line": [
        {"kind": "invoice_line", "id": "il-003", "contract": "NW-2026", "lob": "outlet", "period": "2026-Q2",
         "item": "expense", "quantity": 1.0, "rate": 486.2, "amount": 486.2, "currency": "USD", "ref": "e-001",
         "description": "Airfare LGA-YYZ return"},
    ],
    "ticket": [
        {"kind": "ticket", "id": "t-0001", "contract": "NW-2026", "lob": "retail", "severity": "P3",
         "opened_at": "2026-01-22T09:26:00-05:00", "channel": "web", "first_response_at": "2026-01-22T10:04:00-05:00",
         "updates": ["2026-01-23T09:00:00-05:00"], "resolved_at": "2026-01-25T12:44:00-05:00",
         "severity_changes": [{"at": "2026-01-22T15:00:00-05:00", "severity": "P2"}],
         "subject": "SSO login loop for agent workspace"},
    ],
    "expansion_scope": [
        {"kind": "expansion_scope", "id": "xs-001", "contract": "NW-2026", "package": "nw-expert",
         "pack": "intermediate", "use": "new_line_of_business", "hours": 60.0,
         "approved_at": "2026-01-20T15:30:00-05:00", "description": "Launch messaging for the Outlet brand"},
    ],
}


# ---------------------------------------------------------------- reading the classes


def input_fields(cls: type) -> list[attrs.Attribute]:
    """The fields of *cls* read from the input: every attrs field but those the loader stamps
    (a record's ``file`` and ``line``)."""
    stamped = _LOCATION_FIELDS.get(_root(cls), ())
    return [f for f in attrs.fields(cls) if f.name not in stamped and f.init]


def _hints(cls: type) -> dict[str, object]:
    """Field name -> resolved type; a field whose annotation does not resolve at run time
    (a name imported only for type checkers) is left out."""
    try:
        return typing.get_type_hints(cls)
    except NameError:
        out = {}
        for klass in reversed(cls.__mro__):
            namespace = vars(sys.modules.get(klass.__module__, types.ModuleType("_")))
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                try:
                    out[name] = eval(annotation, dict(namespace)) if isinstance(annotation, str) else annotation
                except Exception:  # noqa: BLE001 - unresolvable: typed as anything
                    out.pop(name, None)
        return out


@functools.cache
def _attribute_docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings of *cls* and its bases: a string literal right after a field."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            source = textwrap.dedent(inspect.getsource(klass))
            tree = ast.parse(source)
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                out[node.target.id] = " ".join(after.value.value.split()).replace("``", "`")
    return out


def field_description(cls: type, f: attrs.Attribute) -> str:
    """What a field means: its metadata (``description`` or ``doc``), its attribute docstring,
    or the built-in table; "" when none says."""
    for key in ("description", "doc"):
        if f.metadata.get(key):
            return str(f.metadata[key])
    doc = _attribute_docstrings(cls).get(f.name)
    if doc:
        return doc
    for klass in cls.__mro__:
        meaning = _MEANINGS.get(f"{klass.__module__}.{klass.__qualname__}", {}).get(f.name)
        if meaning:
            return meaning
    return ""


def class_description(cls: type) -> str:
    """The first paragraph of the class docstring, on one line ("" for none)."""
    doc = inspect.getdoc(cls) if cls.__doc__ else ""
    if not doc or (cls.__doc__ == Record.__doc__ and cls is not Record):
        return ""
    return " ".join(doc.split("\n\n")[0].split()).replace("``", "`")


def _default(f: attrs.Attribute):
    """``(True, value)`` for a field with a JSON default, ``(True, NOTHING)`` for another
    default, ``(False, None)`` for a required field."""
    if f.default is attrs.NOTHING:
        return False, None
    if isinstance(f.default, attrs.Factory):
        if f.default.takes_self:
            return True, attrs.NOTHING
        try:
            value = f.default.factory()
        except Exception:  # noqa: BLE001
            return True, attrs.NOTHING
    else:
        value = f.default
    try:
        orjson.dumps(value)
    except TypeError:
        return True, attrs.NOTHING
    return True, value


# ---------------------------------------------------------------- the JSON Schema


def type_schema(tp, *, _seen: tuple = ()) -> dict:
    """The JSON Schema of what the structurer accepts for type *tp*."""
    if tp is Positive:
        return {"type": "number", "exclusiveMinimum": 0}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp is datetime:
        return {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}
    if tp is date:
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = type_schema(options[0], _seen=_seen) if len(options) == 1 else \
            {"anyOf": [type_schema(a, _seen=_seen) for a in options]}
        if type(None) not in args:
            return inner
        if "enum" in inner and len(inner) == 1:
            return {"enum": [*inner["enum"], None]}
        if isinstance(inner.get("type"), str) and not ({"enum", "const"} & inner.keys()):
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        schema: dict = {"type": "array"}
        if args and args[-1] is not Ellipsis:
            schema["items"] = type_schema(args[0], _seen=_seen)
        return schema
    if origin is dict or tp is dict:
        schema = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = type_schema(args[1], _seen=_seen)
        return schema
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if isinstance(tp, type) and attrs.has(tp):
        if tp in _seen:
            raise ValueError(f"{tp.__name__} contains itself: no JSON Schema without references")
        return object_schema(tp, _seen=(*_seen, tp))
    return {}  # anything: a type the schema cannot say more about


def object_schema(cls: type, *, _seen: tuple = ()) -> dict:
    """The schema of an attrs class as an input object: its fields, those without a default
    required, no other field allowed."""
    hints = _hints(cls)
    properties: dict[str, dict] = {}
    required: list[str] = []
    for f in input_fields(cls):
        prop = type_schema(hints[f.name], _seen=_seen or (cls,)) if f.name in hints else {}
        description = field_description(cls, f)
        if description:
            prop = {"description": description, **prop}
        has_default, value = _default(f)
        if not has_default:
            required.append(f.name)
        elif value is not attrs.NOTHING:
            prop["default"] = value
        properties[f.name] = prop
    schema: dict = {"type": "object"}
    description = class_description(cls)
    if description:
        schema["description"] = description
    schema["properties"] = properties
    schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _kind_of(entry: KindEntry | RecordKind) -> RecordKind:
    return entry.kind if isinstance(entry, KindEntry) else entry


def record_schema(kind_entry: KindEntry | RecordKind, *, policy=None, standalone: bool = True) -> dict:
    """The JSON Schema (draft 2020-12) of one record kind's input object. With *policy*, the
    fields whose names a policy version lists (a work's ``service``...) get those names as an
    ``enum``. *standalone*: with ``$schema`` and ``$id`` (False: for ``$defs``)."""
    kind = _kind_of(kind_entry)
    body = object_schema(kind.cls)
    text = kind.description or body.get("description", "")
    body.pop("description", None)
    properties = {"kind": {"description": "The record kind.", "const": kind.name}, **body["properties"]}
    if policy is not None:
        for name, (_, values) in policy_names(policy).get(kind.name, {}).items():
            if name in properties:
                properties[name] = {**properties[name], "enum": [v for v, _ in values]}
    schema: dict = {}
    if standalone:
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = f"urn:cso-policy:record:{kind.name}"
    schema["title"] = kind.name
    if text:
        schema["description"] = text
    schema.update({"type": "object", "properties": properties, "required": ["kind", *body["required"]],
                   "additionalProperties": False})
    if kind.dated_by is not None:
        schema["x-dated-by"] = kind.dated_by
    return schema


def records_schema(kinds: Mapping[str, KindEntry] | Iterable[KindEntry | RecordKind], *, policy=None) -> dict:
    """The JSON Schema of any record: ``oneOf`` the kinds (each in ``$defs`` under its name)."""
    entries = list(kinds.values()) if isinstance(kinds, Mapping) else list(kinds)
    names = [_kind_of(e).name for e in entries]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "urn:cso-policy:records",
        "title": "cso-policy record",
        "description": "One input record (one line of a JSON Lines file); `kind` says which.",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": names}},
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in names],
        "$defs": {_kind_of(e).name: record_schema(e, policy=policy, standalone=False) for e in entries},
    }


def dumps(schema: dict) -> str:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode() + "\n"


# ---------------------------------------------------------------- names a policy allows


def policy_names(policy) -> dict[str, dict[str, tuple[str, list[tuple[str, str]]]]]:
    """kind -> field -> (title, [(name, what it is)]): the names a policy version allows in
    record fields that are plain strings in the schema (a work's ``service``, a delivery's
    ``deliverable``, an expansion scope's ``use``). The record kinds' checks reject others."""
    from ..domains.entitlement.terms import EXPANSION_SERVICE, entitlement_terms
    from ..domains.expansion.terms import expansion_terms

    out: dict[str, dict[str, tuple[str, list[tuple[str, str]]]]] = {}
    entitlement = entitlement_terms(policy)
    if entitlement is not None:
        items = [(name, item.name) for name, item in entitlement.items.items()]
        assert set(entitlement.services) == {n for n, _ in items} | {EXPANSION_SERVICE}
        out["work"] = {"service": ("Services", items + [(EXPANSION_SERVICE, "Work on an expansion scope "
                                                          "(name the scope in `expansion`)")])}
        out["delivery"] = {"deliverable": ("Deliverables", items)}
    expansion = expansion_terms(policy)
    if expansion is not None:
        uses = [(n, text) for n, text in expansion.uses.allowed.items()]
        uses += [(n, f"{text} (disallowed: a finding)") for n, text in expansion.uses.disallowed.items()]
        out["expansion_scope"] = {"use": ("Expansion uses", uses)}
    return out


def latest_policy(registry, name: str = "liveperson-cso"):
    """The latest version of policy *name* the registry finds."""
    refs = [ref for ref in registry.available() if ref.partition("@")[0] == name]
    if not refs:
        return None

    def version(ref: str):
        return tuple(int(p) if p.isascii() and p.isdigit() else 0 for p in ref.partition("@")[2].split("."))

    return registry.get(max(refs, key=version))


# ---------------------------------------------------------------- the reference for people


def _type_text(schema: dict) -> str:
    if "const" in schema:
        return f"`{_json(schema['const'])}`"
    if "anyOf" in schema:
        return " or ".join(_type_text(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "`null` or one of the values" if None in schema["enum"] else "one of the values"
    types_ = schema.get("type")
    if isinstance(types_, list):
        return " or ".join(_type_text({**schema, "type": t}) for t in types_)
    if types_ == "null":
        return "`null`"
    if types_ == "string":
        if schema.get("format") == "date":
            return "date `YYYY-MM-DD`"
        if schema.get("format") == "date-time":
            return "timestamp with UTC offset"
        return "string"
    if types_ == "number":
        return "number > 0" if schema.get("exclusiveMinimum") == 0 else "number"
    if types_ == "integer":
        return "integer"
    if types_ == "boolean":
        return "`true` or `false`"
    if types_ == "array":
        items = schema.get("items")
        if not items:
            return "list"
        if items.get("type") == "object":
            return "list of objects"
        return f"list of {_plural(_type_text(items))}"
    if types_ == "object":
        return "object"
    return "any"


def _plural(text: str) -> str:
    for word in ("timestamp", "string", "number", "integer", "date"):
        if text.startswith(word):
            return word + "s" + text[len(word):]
    return text


def _json(value) -> str:
    return orjson.dumps(value).decode()


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _values(schema: dict) -> list:
    if "enum" in schema:
        return [v for v in schema["enum"] if v is not None]
    for option in schema.get("anyOf", ()):
        found = _values(option)
        if found:
            return found
    return []


def _anchor(title: str) -> str:
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def _field_table(schema: dict, kind: str, names: Mapping[str, tuple[str, list]], nested: list) -> list[str]:
    rows = ["| field | type | required | allowed values | meaning |", "|---|---|---|---|---|"]
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        values = _values(prop)
        allowed = ", ".join(f"`{v}`" for v in values)
        if name in names:
            title = names[name][0]
            allowed = f"a name of [{title}](#{_anchor(title)})"
        items = prop.get("items") or {}
        if items.get("type") == "object":
            allowed = f"objects of [`{kind}.{name}`](#{_anchor(f'{kind}.{name}')})"
            nested.append((f"{kind}.{name}", items))
        elif prop.get("type") == "object" and "properties" in prop:
            allowed = f"an object of [`{kind}.{name}`](#{_anchor(f'{kind}.{name}')})"
            nested.append((f"{kind}.{name}", prop))
        if name in required:
            req = "yes"
        elif "default" in prop:
            req = f"no (default `{_json(prop['default'])}`)"
        else:
            req = "no"
        rows.append(f"| `{name}` | {_cell(_type_text(prop))} | {req} | {_cell(allowed)} | "
                    f"{_cell(prop.get('description', ''))} |")
    return rows


def example_records(entry: KindEntry | RecordKind, policy=None) -> list[dict]:
    """The documented examples of a kind: :data:`EXAMPLES`, or one made from its schema (its
    required fields with plausible values)."""
    kind = _kind_of(entry)
    if kind.name in EXAMPLES:
        return EXAMPLES[kind.name]
    schema = record_schema(kind, policy=policy)
    names = policy_names(policy).get(kind.name, {}) if policy is not None else {}
    out = {}
    for name in schema["required"]:
        out[name] = names[name][1][0][0] if name in names else _example_value(name, kind.name, schema["properties"][name])
    return [out]


def _example_value(name: str, kind: str, schema: dict):
    if "const" in schema:
        return schema["const"]
    values = _values(schema)
    if values:
        return values[0]
    if "anyOf" in schema:
        return _example_value(name, kind, schema["anyOf"][0])
    types_ = schema.get("type")
    if isinstance(types_, list):
        types_ = next((t for t in types_ if t != "null"), "null")
    if types_ == "string":
        if schema.get("format") == "date":
            return "2026-03-02"
        if schema.get("format") == "date-time":
            return "2026-03-02T09:30:00-05:00"
        return {"id": f"{kind}-1", "contract": "NW-2026", "lob": "retail", "currency": "USD"}.get(name, name)
    if types_ == "number":
        return 1.5
    if types_ == "integer":
        return 1
    if types_ == "boolean":
        return False
    if types_ == "array":
        return []
    if types_ == "object":
        return {n: _example_value(n, kind, s) for n, s in schema.get("properties", {}).items()
                if n in schema.get("required", ())}
    return None


def records_markdown(kinds: Mapping[str, KindEntry], policy=None,
                     policy_note: str = "the latest bundled version") -> str:
    """``docs/records.md``: every kind, its fields (type, required, allowed values, meaning) and
    an example; with *policy*, the names that version allows in services, deliverables and uses
    (*policy_note* says which version it is)."""
    names = policy_names(policy) if policy is not None else {}
    ref = policy.ref if policy is not None else None
    out = [
        "# Records",
        "",
        "<!-- Generated by `python -m cso_policy.core.schema > docs/records.md`; do not edit by hand. -->",
        "",
        "The input of an audit is records: JSON objects, one a line in `.jsonl` files (or rows a",
        "record source turns into such objects). Each has a `kind` naming its record kind, an `id`",
        "and the id of its `contract`. This reference is generated from the record classes;",
        "`cso-policy schema [KIND]` prints the same as a JSON Schema (draft 2020-12), so an export",
        "can be validated before an audit:",
        "",
        "```text",
        "cso-policy schema > records.schema.json",
        "cso-policy schema ticket",
        "```",
        "",
        "How values are written (a record that breaks one of these is an `input.invalid_record`",
        "naming the field):",
        "",
        "- a field not listed for its kind is an error; so is a missing required field.",
        "- a *string* is a JSON string; a *number* a JSON number (not a string, not `NaN`); a",
        "  *number > 0* (hours, quantities, rates, amounts) is above zero; an *integer* has no",
        "  fraction (`3`, not `3.0`); `true` and `false` are JSON booleans.",
        "- a *date* is `\"YYYY-MM-DD\"`; a *timestamp* is RFC 3339 with its UTC offset:",
        "  `\"2026-01-22T09:26:00-05:00\"` or `\"2026-01-22T14:26:00Z\"`. A timestamp without an",
        "  offset is rejected. (The auditor also reads other ISO 8601 spellings; the schema only",
        "  this one.)",
        "- an optional field may be left out or be `null`, unless its type says otherwise.",
        "",
    ]
    if ref is not None:
        out += [
            "Some names come from the contract's policy version, not from the record classes: a",
            "work's `service`, a delivery's `deliverable`, an expansion scope's `use`. The lists",
            f"below are those of `{ref}`, {policy_note}; `cso-policy policies show ID@VERSION`",
            "lists the items of another, and `cso-policy schema --policy ID@VERSION` adds them to",
            "the JSON Schema. A name the contract's policy does not know is an `input.invalid_record`.",
            "",
        ]
    out += ["| kind | what it is | dated by |", "|---|---|---|"]
    for name, entry in kinds.items():
        dated = f"`{entry.kind.dated_by}`" if entry.kind.dated_by else "(undated)"
        out.append(f"| [`{name}`](#{_anchor(name)}) | {_cell(entry.kind.description)} | {dated} |")
    out += ["", "Records of several files are merged in the order of the first ten characters",
            "(`YYYY-MM-DD`) of their dating field; undated records come first.", ""]
    for name, entry in kinds.items():
        kind = entry.kind
        schema = record_schema(entry)
        out += [f"## {name}", ""]
        text = class_description(kind.cls)
        out += [text if text else (kind.description[:1].upper() + kind.description[1:] + "." if kind.description else ""),
                ""]
        if kind.dated_by:
            out += [f"Dated by `{kind.dated_by}`.", ""]
        else:
            out += ["Undated: it sorts before the dated records.", ""]
        nested: list[tuple[str, dict]] = []
        out += _field_table(schema, name, names.get(name, {}), nested)
        out.append("")
        for title, sub in nested:
            out += [f"### {title}", ""]
            if sub.get("description"):
                out += [sub["description"], ""]
            out += _field_table(sub, title, {}, [])
            out.append("")
        examples = example_records(entry, policy)
        out += ["Example:" if len(examples) == 1 else "Examples:", "", "```json"]
        out += [_json(e) for e in examples]
        out += ["```", ""]
    for kind_name, by_field in names.items():
        if kind_name not in kinds:
            continue
        for field_name, (title, values) in by_field.items():
            out += [f"## {title}", "",
                    f"What `{kind_name}.{field_name}` may name under `{ref}`:", "",
                    "| name | what it is |", "|---|---|"]
            out += [f"| `{v}` | {_cell(text)} |" for v, text in values]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _default_catalogue():
    from ..plugins import get_plugin_manager
    from .pipeline import Catalogue

    return Catalogue.from_plugins(get_plugin_manager(load_entrypoints=False))


def default_markdown() -> str:
    """``docs/records.md``: the default plugins' kinds and the latest bundled policy."""
    from ..policy.registry import PolicyRegistry, builtin_policy_root

    cat = _default_catalogue()
    registry = PolicyRegistry([builtin_policy_root(), *cat.policy_roots], cat.policy_modules)
    return records_markdown(cat.kinds, latest_policy(registry))


if __name__ == "__main__":
    sys.stdout.write(default_markdown())
