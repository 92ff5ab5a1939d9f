"""Record kinds are registered, not switched on.

A domain declares each kind it owns as a :class:`RecordKind`: the record class, the field
that dates it (for ordering several files by day), and optionally how its running state
observes a record (``observe``) and how a record is checked against the contract's policy
before any rule sees it (``check``). Another domain that keeps state about a kind it does not
own adds a :class:`KindObserver`. Both come from the ``cso_policy_record_kinds`` hook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING

from attrs import frozen

from ..errors import ConfigError
from .model import Record

if TYPE_CHECKING:
    from .context import ContractView, Pool

Observe = Callable[["Record", "ContractView", "Pool | None"], None]
"""``observe(record, contract, pool)``: enter the record in the domain's running state."""
PolicyCheck = Callable[["Record", "ContractView"], "tuple[str, str] | None"]
"""``check(record, contract)``: ``(field path, message)`` when the record cannot be audited
under the contract's policy (an ``input.invalid_record``), else None."""


@frozen(kw_only=True)
class RecordKind:
    """One kind of record: what ``"kind": NAME`` in the input structures to, and how it is used.

    :param name: the value of ``kind`` in the input, e.g. ``"work"``.
    :param cls: the record class structured from the input: a subclass of
        :class:`cso_policy.Record` made with ``@attrs.define(kw_only=True)`` (the base class's
        fields have defaults) and a class attribute ``kind = name``; its fields are the
        record's fields.
    :param dated_by: the input field whose first ten characters (``YYYY-MM-DD``) date the
        record; several record files are merged by it. None: undated (sorts first).
    :param observe: enters a record in its domain's running state, before any rule sees it.
    :param check: rejects a record its contract's policy cannot audit (an unknown service...).
    :param description: one line for people.
    """

    name: str
    cls: type[Record]
    dated_by: str | None = None
    observe: Observe | None = None
    check: PolicyCheck | None = None
    description: str = ""

    def __attrs_post_init__(self):
        if getattr(self.cls, "kind", None) != self.name:
            raise ValueError(f"record kind {self.name!r}: {self.cls.__name__}.kind is {getattr(self.cls, 'kind', None)!r}")


@frozen(kw_only=True)
class KindObserver:
    """Running state a domain keeps about a kind that another domain owns (the expansion domain
    observes work on expansion scopes).

    :param kind: the name of the record kind observed.
    :param observe: as :attr:`RecordKind.observe`; runs after the owner's.
    :param check: as :attr:`RecordKind.check`; runs after the owner's.
    """

    kind: str
    observe: Observe | None = None
    check: PolicyCheck | None = None


@frozen
class KindEntry:
    """A kind with every observer and check that applies to it, in registration order."""

    kind: RecordKind
    observers: tuple[Observe, ...]
    checks: tuple[PolicyCheck, ...]
    observer_plugins: tuple[str, ...] = ()  # the plugin of each observer, in the same order
    check_plugins: tuple[str, ...] = ()  # the plugin of each check


class KindTable(dict[str, KindEntry]):
    """name -> :class:`KindEntry`, built from the kinds and observers every plugin declared."""

    @classmethod
    def build(cls, items: Iterable[tuple[str, RecordKind | KindObserver]]) -> KindTable:
        kinds: dict[str, tuple[str, RecordKind]] = {}
        extras: list[tuple[str, KindObserver]] = []
        for plugin, item in items:
            if isinstance(item, RecordKind):
                if item.name in kinds:
                    raise ConfigError(
                        f"record kind {item.name!r} from plugin {plugin} is already defined by {kinds[item.name][0]}"
                    )
                kinds[item.name] = (plugin, item)
            elif isinstance(item, KindObserver):
                extras.append((plugin, item))
            else:
                raise ConfigError(f"plugin {plugin}: cso_policy_record_kinds returned {item!r}, "
                                  "not a RecordKind or KindObserver")
        table = cls()
        for name, (owner, kind) in kinds.items():
            observers = [(owner, kind.observe)] if kind.observe is not None else []
            checks = [(owner, kind.check)] if kind.check is not None else []
            for plugin, extra in extras:
                if extra.kind == name:
                    observers += [(plugin, extra.observe)] if extra.observe is not None else []
                    checks += [(plugin, extra.check)] if extra.check is not None else []
            table[name] = KindEntry(kind, tuple(fn for _, fn in observers), tuple(fn for _, fn in checks),
                                    tuple(plugin for plugin, _ in observers), tuple(plugin for plugin, _ in checks))
        for plugin, extra in extras:
            if extra.kind not in table:
                raise ConfigError(f"plugin {plugin} observes record kind {extra.kind!r}, which no plugin defines")
        return table

    def day(self, obj) -> str:
        """The day (``YYYY-MM-DD``) that orders a decoded input object across files; "" when
        it has none."""
        if type(obj) is not dict:
            return ""
        kind = obj.get("kind")
        field = self.dated_by.get(kind) if type(kind) is str else None
        if field is None:
            return ""
        day = obj.get(field)
        if type(day) is str:
            return day[:10]
        return day.isoformat()[:10] if isinstance(day, date) else ""  # a source may yield date objects

    @functools.cached_property
    def dated_by(self) -> dict:
        """kind name -> the field that dates it (kinds without one are left out)."""
        return {name: e.kind.dated_by for name, e in self.items() if e.kind.dated_by is not None}
