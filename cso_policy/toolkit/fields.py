"""Reading fields of the objects a ticketing system returns: the values at a dotted path, and
a value derived through an option's map, for every record source alike."""

from __future__ import annotations


class MappingError(ValueError):
    """A field's value cannot become a record field (not in the option's map, several values,
    none and no default); the message says which field and which option."""


def get(obj, path: str):
    """The raw value at a dotted *path* (``priority``, ``project.key``); None where it is missing."""
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def scalar(value) -> str | None:
    """A value as text: a non-blank string, a number, or the ``value``/``name``/``key`` of an
    object (select options, users, projects); None for anything else."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        for key in ("value", "name", "key"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
    return None


def values(obj, path: str) -> tuple[list[str], bool]:
    """The text values at *path*, lists flattened (in order, each once), and whether the field
    holds a list (labels, components, tags)."""
    multi = False

    def walk(value, parts):
        nonlocal multi
        if isinstance(value, list):
            multi = True
            return [leaf for item in value for leaf in walk(item, parts)]
        if parts:
            return walk(value.get(parts[0]), parts[1:]) if isinstance(value, dict) else []
        leaf = scalar(value)
        return [leaf] if leaf is not None else []

    return list(dict.fromkeys(walk(obj, path.split(".")))), multi


def lookup(mapping: dict, key: str):
    """``mapping[key]``, else the entry whose key matches *key* ignoring case; None if none does."""
    if key in mapping:
        return mapping[key]
    folded = key.casefold()
    return next((v for k, v in mapping.items() if k.casefold() == folded), None)


def derive(obj, path: str | None, mapping: dict | None, fallback: str | None, option: str, *, label: str | None = None) -> str:
    """A record field from the field at *path* through *mapping* (or as it is), else *fallback*.

    In a list field (labels, tags) values missing from the map are passed over; in a single
    field an unmapped value is a :class:`MappingError`, as are several mapped values. *option*
    names the options (``lob`` for ``lob_map``, ``lob_field``, ``lob``) and *label* the field
    in messages (default: the path)."""
    label = label or path
    if path:
        found, multi = values(obj, path)
        if mapping is not None:
            hits = list(dict.fromkeys(h for h in (lookup(mapping, v) for v in found) if h is not None))
            if len(hits) > 1:
                raise MappingError(f"{label} values {found} map to several values ({', '.join(hits)}) through {option}_map")
            if hits:
                return hits[0]
            if found and not multi:
                raise MappingError(f"{label} value {found[0]!r} is not in {option}_map (known: {', '.join(sorted(mapping))})")
        elif len(found) > 1:
            raise MappingError(f"{label} has several values {found}; set {option}_map to choose one")
        elif found:
            return found[0]
    if fallback is not None:
        return fallback
    if path:
        raise MappingError(f"{label} has no {'mapped ' if mapping is not None else ''}value and no default {option} is set")
    raise MappingError(f"no {option}: set option {option} or {option}_field")


# the names ``cso_policy`` exports them under
field_at, field_values, map_lookup, derive_field = get, values, lookup, derive
