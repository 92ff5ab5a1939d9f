"""Hypothesis strategies for the fuzz suite (``tests/test_fuzz.py``): records of every kind,
valid-ish and broken; raw JSON Lines (invalid JSON, non-UTF-8 bytes); contracts; workspace
``cso-policy.toml`` texts with odd option values; and values plugin hooks might return."""

from __future__ import annotations

import json
import math

from hypothesis import strategies as st

from cso_policy.testing import EXAMPLE_CONTRACT_ID, EXAMPLE_LOB, contract_data, toml_text

KINDS = ("ticket", "expansion_scope", "work", "delivery", "expense", "invoice_line")
TIERS = ("foundations", "premier", "expert", "strategic")
SERVICES = ("general_account_consulting", "customer_account_plan", "transcript_analysis", "expansion")
DELIVERABLES = ("customer_account_plan", "general_account_consulting", "on_site_operations_monitoring")

# ------------------------------------------------------------------ scalar values

odd_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["", " ", "\x00", "\u202e", "\ud7ff", "é", "𝔘", "\r\n", "\x1b[31m", "<b>&amp;</b>", "\"'",
                     ",=+-@", "P1", "retail", "NaN", "1e309", "2026-13-45", "../../etc/passwd"]),
    st.integers(1000, 5000).map(lambda n: "x" * n),  # very long
)
odd_number = st.one_of(
    st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -0.0, 1e308, 5e-324, 2**63, -1, 0.1, 3.0, math.inf, -math.inf, math.nan]),
)
good_date = st.dates(min_value=__import__("datetime").date(2025, 10, 1),
                     max_value=__import__("datetime").date(2027, 3, 1)).map(lambda d: d.isoformat())
far_date = st.one_of(st.dates().map(lambda d: d.isoformat()),
                     st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "2026-1-1", "26-01-01", ""]))
date_value = st.one_of(good_date, good_date, far_date)


@st.composite
def timestamp(draw, good: bool = True) -> str:
    day = draw(good_date if good else date_value)
    hh, mm = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    off = draw(st.sampled_from(["Z", "-05:00", "+00:00", "+14:00", "-12:00"] + ([] if good else ["", "+25:00", "EST"])))
    return f"{day}T{hh:02d}:{mm:02d}:00{off}"


ts_value = st.one_of(timestamp(), timestamp(), timestamp(good=False))
any_scalar = st.one_of(st.none(), st.booleans(), odd_number, odd_text, date_value)
json_value = st.recursive(any_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                              st.dictionaries(odd_text, inner, max_size=3)),
                          max_leaves=6)

# ------------------------------------------------------------------ records


def _fields(kind: str, draw) -> dict:
    lob = draw(st.sampled_from([EXAMPLE_LOB, EXAMPLE_LOB, "nowhere"]))
    hours = draw(st.one_of(st.sampled_from([0.5, 2, 8, 30, 60.0]), odd_number))
    if kind == "ticket":
        rec = {"lob": lob, "severity": draw(st.sampled_from(["P1", "P2", "P3"])), "opened_at": draw(ts_value),
               "channel": draw(st.sampled_from(["web", "chat", "phone", "messaging", "email"]))}
        if draw(st.booleans()):
            rec["first_response_at"] = draw(ts_value)
        if draw(st.booleans()):
            rec["resolved_at"] = draw(ts_value)
        if draw(st.booleans()):
            rec["is_bug"] = draw(st.booleans())
            rec["rca_delivered_at"] = draw(st.one_of(st.none(), ts_value))
        if draw(st.booleans()):
            rec["updates"] = draw(st.lists(ts_value, max_size=3))
        if draw(st.booleans()):
            rec["severity_changes"] = [{"at": draw(ts_value), "severity": draw(st.sampled_from(["P1", "P2", "P3"]))}]
        return rec
    if kind == "expansion_scope":
        return {"package": draw(st.sampled_from(["p1", "p2"])), "pack": draw(st.sampled_from(["basic", "intermediate", "advanced"])),
                "use": draw(st.sampled_from(["new_line_of_business", "bogus_use"])), "hours": hours, "approved_at": draw(ts_value)}
    if kind == "work":
        return {"date": draw(date_value), "lob": lob, "hours": hours, "service": draw(st.sampled_from(SERVICES))}
    if kind == "delivery":
        return {"date": draw(date_value), "lob": lob, "deliverable": draw(st.sampled_from(DELIVERABLES)),
                "international": draw(st.booleans())}
    if kind == "expense":
        rec = {"date": draw(date_value), "lob": lob, "amount": draw(st.one_of(st.sampled_from([40.0, 900.5]), odd_number)),
               "currency": "USD"}
        if draw(st.booleans()):
            rec["approved_at"] = draw(ts_value)
        return rec
    return {"lob": lob, "period": draw(st.sampled_from(["2026-Q1", "2026-Q3", "2026-Q9", "Q1"])),
            "item": draw(st.sampled_from(["overage_hours", "expense", "other"])),
            "quantity": draw(st.one_of(st.just(1.0), odd_number)), "rate": 240.0, "amount": 240.0, "currency": "USD"}


@st.composite
def record(draw, contract: str = EXAMPLE_CONTRACT_ID, kinds=KINDS, broken: bool = True) -> dict:
    """One record dict of a kind in *kinds*; with *broken*, now and then a field of the wrong
    type, a missing or an unknown field, an odd kind."""
    kind = draw(st.sampled_from(kinds))
    rec = {"kind": kind, "id": f"{kind[0]}{draw(st.integers(0, 40))}", "contract": contract, **_fields(kind, draw)}
    if broken:
        for _ in range(draw(st.integers(0, 2))):
            action = draw(st.sampled_from(["wrong", "drop", "extra", "kind", "id"]))
            key = draw(st.sampled_from(sorted(rec)))
            if action == "wrong":
                rec[key] = draw(json_value)
            elif action == "drop":
                rec.pop(key, None)
            elif action == "extra":
                rec[draw(odd_text)] = draw(json_value)
            elif action == "kind":
                rec["kind"] = draw(st.one_of(odd_text, st.sampled_from(KINDS)))
            else:
                rec["id"] = draw(odd_text)
    return rec


def dumps(rec) -> str:
    """JSON for a record as an exporter might write it (NaN and Infinity as Python writes them)."""
    return json.dumps(rec, ensure_ascii=False)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@st.composite
def raw_line(draw, contract: str = EXAMPLE_CONTRACT_ID, kinds=KINDS) -> bytes:
    """One line of a JSON Lines file, as bytes: a record, or invalid JSON, a JSON non-object,
    bytes that are not UTF-8, an empty line."""
    roll = draw(st.integers(0, 9))
    if roll <= 5:
        return _encode(dumps(draw(record(contract, kinds))))
    if roll == 6:
        return _encode(draw(st.sampled_from(['{"kind": "work", "id": "b', "{", "[", "nul", "}{", "{'a': 1}",
                                              '{"kind": "work"} trailing', "\ufeff{}", ""])))
    if roll == 7:
        return _encode(dumps(draw(json_value)))
    if roll == 8:
        return draw(st.binary(max_size=30)).replace(b"\n", b"\xff")
    line = _encode(dumps(draw(record(contract, kinds))))
    return line[: draw(st.integers(0, len(line)))] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\r", b""]))


@st.composite
def reread_lines(draw, contract: str = EXAMPLE_CONTRACT_ID, kinds=KINDS) -> list[bytes]:
    """Lines where identities are read more than once: records, each with up to two more reads
    of its contract, kind and id, the same content (an overlapping export) or other content,
    valid or not (a corrected or broken export)."""
    lines = []
    for rec in draw(st.lists(record(contract, kinds, broken=False), min_size=1, max_size=4)):
        lines.append(_encode(dumps(rec)))
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                lines.append(_encode(dumps(rec)))
                continue
            twin = draw(record(contract, (rec["kind"],)))
            twin.update(kind=rec["kind"], id=rec["id"], contract=rec["contract"])
            lines.append(_encode(dumps(twin)))
    return lines


# ------------------------------------------------------------------ contracts


@st.composite
def contract(draw, id: str = EXAMPLE_CONTRACT_ID) -> dict:
    """A contract dict (:func:`contract_data`) with changes: another tier, lines of business,
    time zone, holidays, term, overage."""
    from datetime import date
    changes: dict = {"id": id, "tier": draw(st.sampled_from(TIERS)), "lobs": draw(st.sampled_from([[EXAMPLE_LOB], [EXAMPLE_LOB, "b2b"]]))}
    if draw(st.booleans()):
        changes["timezone"] = draw(st.sampled_from(["UTC", "Europe/London", "Pacific/Kiritimati", "Asia/Kolkata"]))
    if draw(st.booleans()):
        changes["holidays"] = draw(st.sampled_from(["US", "GB"]))
    if draw(st.booleans()):
        changes["overage"] = None
    if draw(st.booleans()):
        start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 1)))
        changes["term"] = {"start": start, "end": start.replace(year=start.year + 1)}
    return contract_data(**changes)


def contract_toml(data: dict) -> str:
    return toml_text(data)


bad_contract_text = st.one_of(
    st.sampled_from(["", "id = ", "[[packages]\n", 'id = "X"\n', "\x00", 'id = "BAD-1"\npolicy = "nope@9"\n']),
    st.text(max_size=40),
    st.builds(lambda d, k, v: toml_text({**d, k: v}), contract(id="BAD-2"),
              st.sampled_from(["term", "packages", "timezone", "policy", "overage", "holidays", "customer"]),
              st.one_of(st.integers(), st.text(max_size=10), st.booleans(), st.lists(st.integers(), max_size=2))),
)

# ------------------------------------------------------------------ workspace config

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"


toml_scalar = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=10),
                        st.sampled_from(["contracts", "records", "*.jsonl", "../", "/", "", "2026-12-31",
                                         "garbage", "2026-12-31T00:00:00", "2026-12-31T00:00:00Z", "jsonl", "nope"]))
toml_value = st.recursive(toml_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.sampled_from(["path", "source", "load", "x", "contract"]), inner, max_size=2)),
                          max_leaves=5)


@st.composite
def workspace_config(draw) -> str:
    """A ``cso-policy.toml`` text: the usual keys, now and then one with an odd value, an
    unknown key, a raw date, or text that is not TOML."""
    entries = {"contracts": ["contracts"], "records": ["records"]}
    for key in draw(st.lists(st.sampled_from(["contracts", "records", "policies", "plugins", "waivers", "as_of", "unknown"]),
                             max_size=2, unique=True)):
        entries[key] = draw(toml_value)
    lines = [f"{k} = {_toml_value(v)}" for k, v in entries.items()]
    extra = draw(st.sampled_from(["", "", "as_of = 2026-12-31", "as_of = 2026-12-31T00:00:00Z", "as_of = 2026-12-31T00:00:00",
                                  "[[records]]\npath = \"records\"\nsource = \"jsonl\"", "[[records]]\nsource = 3",
                                  "[plugins]\nload = 5", "[plugins.x]\na = 1", "[plugins]\nx = 1", "= broken"]))
    if extra and "as_of" in extra:
        lines = [line for line in lines if not line.startswith("as_of")]
    if extra.startswith("[[records]]"):
        lines = [line for line in lines if not line.startswith("records")]
    if extra.startswith("[plugins") :
        lines = [line for line in lines if not line.startswith("plugins")]
    # a top-level key after a table would belong to the table: tables go last
    return "\n".join(lines + [extra]) + "\n"


# ------------------------------------------------------------------ plugin hook results

hook_result = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.binary(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=4), st.booleans()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sampled_from(["object()", "[object()]", "{1, 2}", "iter([1])", "(x for x in [None])", "Exception('x')",
                     "type", "print"]).map(lambda src: ("expr", src)),
)
"""A value a hook returns: plain data, or ``("expr", source)`` for a Python expression the
plugin file evaluates (objects that cannot be written as literals)."""


def python_literal(value) -> str:
    """Python source for a :data:`hook_result`."""
    if isinstance(value, tuple) and value[:1] == ("expr",):
        return value[1]
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    return repr(value)
