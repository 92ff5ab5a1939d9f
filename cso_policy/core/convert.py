"""Structuring input with cattrs: strict field types and error messages that keep the path.

``structure(data, cls)`` either returns an instance or raises :class:`StructureError`
whose ``problems`` are ``("$.severity", "expected one of P1, P2, P3")`` pairs.

Values are validated here, at the edge, so that no rule ever meets a value it cannot compute
on (a record failing here is an ``input.invalid_record`` finding naming the field; a contract
or policy file failing here is a one-line error naming the file and key):

- every date and timestamp (of records, contracts and policy data) lies in :data:`SUPPORTED`,
  1900-01-01..2199-12-31 (a timestamp by its own local date). The contract term is not known
  when a record is structured, so the range is fixed and wide: far beyond any real contract,
  yet far enough from ``date.min``/``date.max`` that adding any SLA target, business day or
  contract period to it cannot overflow.
- every number is finite and of magnitude below :data:`MAX_NUMBER` (1,000,000,000): no sum a
  report holds can reach ``inf`` (and be written as ``Infinity``) or lose all precision.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone

import cattrs
from cattrs.cols import list_structure_factory, mapping_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, override
from ciso8601 import FixedOffset, parse_datetime

from .model import Contract, Positive, Record


class FieldError(ValueError):
    """A field value is wrong; the message says what was expected."""


class StructureError(ValueError):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))


# The dates and timestamps every input may hold (see the module docstring).
SUPPORTED = (date(1900, 1, 1), date(2199, 12, 31))
_OUT_OF_RANGE = f"expected a date between {SUPPORTED[0].isoformat()} and {SUPPORTED[1].isoformat()}"

# The largest magnitude a number of the input may have (exclusive; see the module docstring).
MAX_NUMBER = 1_000_000_000


def _in_range(day: date, value) -> None:
    if not SUPPORTED[0] <= day <= SUPPORTED[1]:
        raise FieldError(f"{_OUT_OF_RANGE}, got {short(value)}")


def out_of_range(moment: date) -> str | None:
    """Why a date or timestamp (by its own local date) is outside :data:`SUPPORTED`, or None: for
    values given on the command line or in a workspace file, checked as records are."""
    day = moment.date() if isinstance(moment, datetime) else moment
    if SUPPORTED[0] <= day <= SUPPORTED[1]:
        return None
    return _OUT_OF_RANGE


def _date(value, _type) -> date:
    if isinstance(value, datetime):
        raise FieldError("expected a date (YYYY-MM-DD), got a date-time")
    if isinstance(value, date):
        _in_range(value, value.isoformat())
        return value
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            _in_range(parsed, value)
            return parsed
    raise FieldError(f"expected a date (YYYY-MM-DD), got {value!r}")


def _datetime(value, _type) -> datetime:
    if isinstance(value, str):
        try:
            # ciso8601, not fromisoformat: it keeps one tzinfo object per UTC offset, and
            # datetimes sharing a tzinfo compare and subtract without two utcoffset() calls
            # each (a ticket's clocks do a dozen); it is also faster to parse.
            parsed = parse_datetime(value)
        except ValueError:
            raise FieldError(f"expected an ISO 8601 timestamp, got {value!r}") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise FieldError(f"expected an ISO 8601 timestamp, got {value!r}")
    if not SUPPORTED[0] <= parsed.date() <= SUPPORTED[1]:
        _in_range(parsed.date(), value if isinstance(value, str) else parsed.isoformat())
    zone = parsed.tzinfo
    if zone is None:
        raise FieldError(f"timestamp {value!r} has no UTC offset (add Z or +hh:mm)")
    if type(zone) not in FIXED_OFFSETS:
        # a zoneinfo datetime from an adapter: keep the instant and its offset, so that adding
        # an SLA target to it is elapsed time, not wall-clock time across a DST change
        parsed = parsed.astimezone(timezone(parsed.utcoffset()))
    return parsed


# tzinfo types whose offset never changes; every timestamp a record holds has one of these
FIXED_OFFSETS = (timezone, FixedOffset)


def _float(value, _type) -> float:
    if type(value) is float or type(value) is int:
        if -MAX_NUMBER < value < MAX_NUMBER:
            return float(value)
        if type(value) is int or math.isfinite(value):  # (an int may be too large for a float)
            raise FieldError(f"expected a number below {MAX_NUMBER:,}, got {value!r}")
        raise FieldError(f"expected a finite number, got {value!r}")
    raise FieldError(f"expected a number, got {value!r}")


def _positive(value, _type) -> float:
    number = _float(value, float)
    if number > 0:
        return number
    raise FieldError(f"expected a number above 0, got {value!r}")


def _int(value, _type) -> int:
    if type(value) is int:
        return value
    raise FieldError(f"expected an integer, got {value!r}")


def _str(value, _type) -> str:
    if type(value) is str:
        return value
    raise FieldError(f"expected a string, got {value!r}")


def _bool(value, _type) -> bool:
    if type(value) is bool:
        return value
    raise FieldError(f"expected true or false, got {value!r}")


def _literal_hook(type_):
    allowed = typing.get_args(type_)
    choices = frozenset(allowed)
    expected = ", ".join(str(a) for a in allowed)

    def structure(value, _type):
        if value in choices and type(value) is type(allowed[0]):
            return value
        raise FieldError(f"expected one of {expected}, got {value!r}")

    return structure


def _datetimes(value, _type) -> list[datetime]:
    """list[datetime] without the generic list machinery: ticket updates are on the hot path."""
    if not isinstance(value, list):
        raise FieldError(f"expected a list, got {value!r}")
    try:
        return [_datetime(v, datetime) for v in value]
    except FieldError:
        # redo item by item so the error names the index, as the generic path does
        return list_structure_factory(list[datetime], converter())(value, _type)


def _only(kind: type, word: str, inner):
    """*inner* for values of *kind*; anything else is "expected a <word>" (a string is not a list
    of its characters, nor a table)."""

    def structure(value, _type):
        if not isinstance(value, kind):
            raise FieldError(f"expected {with_article(word)}, got {value!r}")
        return inner(value, _type)

    return structure


def _list_hook(type_, converter):
    if type_ == list[datetime]:
        return _datetimes
    return _only(list, "list", list_structure_factory(type_, converter))


def _dict_hook(type_, converter):
    return _only(dict, "table", mapping_structure_factory(type_, converter))


def _is_optional(type_) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args


def _optional_hook(type_, converter):
    """``X | None`` straight to X's hook: cattrs' generic optional dispatch is on the hot path."""
    inner_type = next(a for a in typing.get_args(type_) if a is not type(None))
    inner = converter.get_structure_hook(inner_type)

    def structure(value, _type):
        return None if value is None else inner(value, inner_type)

    return structure


def _format_exception(exc: BaseException, type_) -> str:
    if isinstance(exc, FieldError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    if typing.get_origin(type_) is typing.Literal:
        return "expected one of " + ", ".join(str(a) for a in typing.get_args(type_))
    if isinstance(exc, TypeError) and type_ is not None:
        return f"expected {_type_name(type_)}"
    if isinstance(exc, (ValueError, TypeError)):
        return f"invalid value ({exc})"
    return str(exc)


def _type_name(type_) -> str:
    origin = typing.get_origin(type_)
    if origin in (list, tuple):
        return "a list"
    if origin is dict or type_ is dict:
        return "a table"
    if isinstance(type_, type) and hasattr(type_, "__attrs_attrs__"):
        return "a table"
    return getattr(type_, "__name__", str(type_))


def _problems(exc: BaseException) -> list[tuple[str, str]]:
    out = []
    for text in cattrs.transform_error(exc, path="$", format_exception=_format_exception):
        msg, _, path = text.rpartition(" @ ")
        out.append((path, msg))
    return out


def _structure_mapping(cls, converter):
    """A generated structure fn for an attrs class, for which a non-mapping reads 'expected an object'."""
    inner = make_dict_structure_fn(
        cls,
        converter,
        _cattrs_forbid_extra_keys=True,
        **{name: override(omit=True) for name in _LOCATION_FIELDS.get(_root(cls), ())},
    )
    return _only(dict, "object", inner)


# Fields the loader stamps (where the input was read from), never read from input.
_LOCATION_FIELDS = {Record: ("file", "line"), Contract: ("path",)}


def _root(cls):
    return Record if issubclass(cls, Record) else cls


@functools.cache
def converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(date, _date)
    conv.register_structure_hook(datetime, _datetime)
    conv.register_structure_hook(float, _float)
    conv.register_structure_hook(Positive, _positive)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook_factory(
        lambda t: isinstance(t, type) and hasattr(t, "__attrs_attrs__"),
        lambda t: _structure_mapping(t, conv),
    )
    conv.register_structure_hook_factory(_is_optional, lambda t: _optional_hook(t, conv))
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is typing.Literal, _literal_hook)
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is list, lambda t: _list_hook(t, conv))
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is dict, lambda t: _dict_hook(t, conv))
    return conv


def structure(data, cls):
    """Structure *data* as *cls*; raise StructureError listing each bad field with its path."""
    try:
        return converter().structure(data, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        raise StructureError(_problems(exc)) from None
    except (FieldError, ValueError, TypeError) as exc:
        raise StructureError([("$", _format_exception(exc, cls))]) from None


def record_structurer(classes: Mapping[str, type[Record]]) -> Callable[[object], Record]:
    """A function structuring one decoded input object as the record class its ``kind`` names
    (*classes*: kind -> class); it raises StructureError and never changes the object. The
    cattrs hooks are looked up once here, so the hot path does no dispatch."""
    conv = converter()
    hooks = {kind: (conv.get_structure_hook(cls), cls) for kind, cls in classes.items()}
    expected = ", ".join(sorted(classes))

    def structure_record(obj) -> Record:
        if not isinstance(obj, dict):
            raise StructureError([("$", f"expected an object, got {short(obj)}")])
        kind = obj.get("kind")
        found = hooks.get(kind) if type(kind) is str else None
        if found is None:
            if kind is None:
                raise StructureError([("$.kind", f"required field missing (one of {expected})")])
            raise StructureError([("$.kind", f"expected one of {expected}, got {kind!r}")])
        fn, cls = found
        fields = dict(obj)
        del fields["kind"]
        try:
            return fn(fields, cls)
        except (ClassValidationError, IterableValidationError) as exc:
            raise StructureError(_problems(exc)) from None
        except (FieldError, ValueError, TypeError) as exc:
            raise StructureError([("$", _format_exception(exc, cls))]) from None

    return structure_record


def structure_contract(data: dict) -> Contract:
    return structure(data, Contract)


def short(value: object, limit: int = 40) -> str:
    """*value* as written (``repr``), cut to *limit* characters, for one-line messages."""
    try:
        text = repr(value)
    except Exception:  # a plugin's object whose repr fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."



def with_article(word: str) -> str:
    """``"object"`` -> ``"an object"``, ``"list"`` -> ``"a list"``."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
