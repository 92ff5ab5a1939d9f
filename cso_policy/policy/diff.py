"""`cso-policy policies diff A B`: what changed in the terms, table by table."""

from __future__ import annotations

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
            if key not in b:
                line = f"- {key} = {a[key]!r}"
            elif key not in a:
                line = f"+ {key} = {b[key]!r}"
            else:
                line = f"~ {key}: {a[key]!r} -> {b[key]!r}"
            tables.setdefault(_table(key), []).append(line)
        out += [(module, table, lines) for table, lines in tables.items()]
    return out


def format_diff(old: Policy, new: Policy) -> str:
    changes = diff_policies(old, new)
    head = f"{old.ref} -> {new.ref}\n"
    if not changes:
        return head + "no differences in the terms\n"
    text = head
    for module, table, lines in changes:
        text += f"\n[{module}] {table}\n" + "".join(f"  {line}\n" for line in lines)
    return text
