"""`cso-policy policies diff A B`: what changed in the terms, table by table."""

from __future__ import annotations

import re

from .registry import Policy


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _table(key: str) -> str:
    """The table a flattened key belongs to: its first two parts (``items.customer_account_plan``)."""
    parts = key.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def diff_policies(old: Policy, new: Policy) -> list[tuple[str, str, list[str]]]:
    """[(module, table, [change lines])] for every table that differs, modules in manifest order."""
    modules = list(dict.fromkeys(list(old.modules) + list(new.modules)))
    out = []
    for module in modules:
        a = _flatten(old.modules.get(module, {}))
        b = _flatten(new.modules.get(module, {}))
        tables: dict[str, list[str]] = {}
        for key in sorted(set(a) | set(b)):
            if key in a and key in b and a[key] == b[key]:
                continue
            tables.setdefault(_table(key), []).append(_change(key, a, b))
        out += [(module, table, lines) for table, lines in tables.items()]
    # the manifest's readings (I-n) and the clause excerpts, as two more "modules"
    for name, a, b in (
        ("readings", {r.id: f"{r.parameter}: {r.text}" for r in old.manifest.readings},
         {r.id: f"{r.parameter}: {r.text}" for r in new.manifest.readings}),
        ("clauses", old.clauses, new.clauses),
    ):
        lines = [_change(key, a, b) for key in sorted(set(a) | set(b), key=_natural) if a.get(key) != b.get(key)]
        if lines:
            out.append((name, name, lines))
    return out


def _natural(key: str):
    return [int(part) if part.isascii() and part.isdigit() else part for part in re.split(r"([0-9]+)", key)]


def _change(key: str, a: dict, b: dict) -> str:
    if key not in b:
        return f"- {key} = {a[key]!r}"
    if key not in a:
        return f"+ {key} = {b[key]!r}"
    return f"~ {key}: {a[key]!r} -> {b[key]!r}"


def format_diff(old: Policy, new: Policy) -> str:
    changes = diff_policies(old, new)
    head = f"{old.ref} -> {new.ref}\n"
    if not changes:
        return head + "no differences in the terms\n"
    text = head
    for module, table, lines in changes:
        text += f"\n[{module}] {table}\n" + "".join(f"  {line}\n" for line in lines)
    return text
