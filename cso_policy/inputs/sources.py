"""Record sources: readers that turn files (or APIs) into ``(file, line, obj)`` triples.

A source is a :class:`RecordSource` from the ``cso_policy_record_sources`` hook. ``obj`` is a
decoded record dict (with ``kind``), or a :class:`BadLine` for input the source could not
decode; the core structures and checks every dict, so a source only decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from attrs import define, frozen


@define(frozen=True)
class BadLine:
    """What a source yields in place of an object for input it could not decode; ``reason``
    becomes the message of an ``input.invalid_record`` finding at that file and line."""

    reason: str


RawRecord = tuple[str, int, "dict | BadLine"]
"""``(file, line, obj)``: where a record came from (for findings) and the decoded record."""


@frozen(kw_only=True)
class RecordSource:
    """A reader of records.

    :param name: what ``source = "name"`` in a ``[[records]]`` entry names; its options are the
        ``[plugins.<name>]`` table overlaid with the entry's own keys.
    :param read: ``read(path, options)`` -> an iterator of :data:`RawRecord`; *path* is None for
        an entry without a path (a live API). Raise :class:`cso_policy.ConfigError` for options
        or a file it cannot use (exit 2, one line).
    :param suffixes: the file suffixes it reads when an entry names no source (``(".jsonl",)``).
    :param description: one line for ``cso-policy plugins``.
    :param options: an attrs class of its options (every field with a default). The core then
        structures ``[plugins.<name>]`` and each entry's merged options into it, with the same
        strict types and field paths as records, names the entry that is wrong (exit 2, one
        line), and ``read`` gets the instance instead of a dict. A method
        ``problems(path) -> list[tuple[str, str]]`` on the class, if there is one, returns
        (field path, message) for what the types cannot say (a required pair of options...).
    :param lines: optional, for a source whose records are JSON objects one a line:
        ``lines(path, options)`` -> ``(file, line, bytes)`` with each line undecoded. The core
        then decodes each line itself, keeps records as their lines while it orders them (a
        few hundred bytes each instead of a dict), and with ``--jobs`` sends the lines to the
        processes undecoded. ``read`` is still what ``explain`` and other readers use.
    """

    name: str
    read: Callable[[Path | None, object], Iterator[RawRecord]]
    suffixes: tuple[str, ...] = ()
    description: str = ""
    options: type | None = None
    lines: Callable[[Path | None, object], Iterator[tuple[str, int, bytes]]] | None = None


@define(frozen=True)
class LeftOut:
    """What a source yields in place of a record it leaves out on purpose (a cancelled
    incident, spam, a merged ticket): ``reason`` is counted in the summary's accounting of that
    input, so nothing read is lost without being said."""

    reason: str


@define(frozen=True)
class Incomplete:
    """What a source yields in place of a record its system did not give in full (a truncated
    history, a severity it cannot know when opened): ``record`` is what it could map (with at
    least ``kind``, ``id`` and ``contract``), ``reason`` what is missing. The record is not
    audited, since any result would be a guess; it is an ``input.incomplete_record`` finding."""

    record: dict
    reason: str
