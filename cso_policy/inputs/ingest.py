"""Reading every input into one stream in canonical order, each record once.

Real exports overlap, arrive out of order and fail half-way, so before any rule sees a
record the ingest:

- reads each input on its own: a source that fails mid-stream loses only its own unread
  records (:class:`SourceFailure`), every other input is read in full;
- counts what each input delivered (``read``), for the summary's accounting;
- orders the records by the day their kind dates them (``dated_by``), then id, kind and
  contract, whatever the order of the files and of the lines in them, so that the record that
  crosses a cap is the one that crosses it in date order;
- identifies each record by contract, kind and id: of the records with one identity, the
  first in that order is counted (the earliest day; on one day, the smaller content, then
  the smaller file and line), and each other is an exact repeat (:data:`DUPLICATE`) or, with
  other content, a conflict (:data:`CONFLICTING`). Which one is counted never depends on the
  order the inputs were read in. Identities are compared by 64-bit digests kept in an array
  (about 8 bytes a record), never by keeping the records; contents only within one day and
  identity, where a repeat with the same content must be.

Ordering needs every record before the first one is audited. Up to :data:`IN_MEMORY` records
are sorted in memory; beyond that, each batch is sorted and spilled to a temporary file
(pickled in chunks) and the sorted files are merged as they are read back, so memory stays
flat in the number of records. A source that gives its records as undecoded JSON lines
(``RecordSource.lines``, as JSON Lines does) has each line decoded to find its key and then
kept as the line, a few hundred bytes instead of a dict, and decoded again when audited.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import orjson
from attrs import define, field, frozen

from ..errors import CsoPolicyError
from .sources import BadLine, RawRecord

IN_MEMORY = 100_000
"""Records sorted in memory before a sorted batch is spilled to a temporary file (records kept
as undecoded lines count half each: they are that much smaller)."""

_CHUNK = 4096  # items pickled together in a spill file
PROGRESS_EVERY = 4096  # records between two progress reports

DUPLICATE = "duplicate"
CONFLICTING = "conflicting"


@frozen
class Repeat:
    """In place of a record that repeats the identity of one read before it: ``obj`` is the
    record, ``first`` where the counted one was read (``file:line``), ``how`` DUPLICATE (same
    content) or CONFLICTING (other content)."""

    obj: dict
    first: str
    how: str


@frozen
class SourceFailure:
    """A source that raised while it was read: what it had delivered, and the error."""

    plugin: str
    source: str
    where: str  # the file, or the source's name for a live API
    delivered: int
    error: str

    def __str__(self) -> str:
        return (f"plugin {self.plugin}: record source {self.source} failed reading {self.where} after "
                f"{self.delivered} record(s): {self.error}; its other records were not read")


@frozen
class Input:
    """One input to read: the source that reads it, the plugin that added the source, where,
    the file it reads (None for a live source), and whether ``read`` gives undecoded JSON lines
    (``RecordSource.lines``)."""

    source: str
    plugin: str
    where: str
    read: Callable[[], Iterator[RawRecord]]
    path: Path | None = None
    lines: bool = False


@define
class InputCount:
    """What one input delivered and what became of it: ``read`` = ``counted`` + ``duplicate`` +
    ``conflicting`` + ``invalid`` + ``unresolved`` + ``incomplete`` + ``left_out``."""

    source: str
    where: str
    read: int = 0
    counted: int = 0
    duplicate: int = 0
    conflicting: int = 0
    invalid: int = 0
    unresolved: int = 0
    incomplete: int = 0
    left_out: int = 0
    left_out_reasons: dict[str, int] = field(factory=dict)
    failed: str | None = None

    def as_dict(self) -> dict:
        out = {"source": self.source, "input": self.where, "read": self.read, "counted": self.counted,
               "duplicate": self.duplicate, "conflicting": self.conflicting, "invalid": self.invalid,
               "unresolved": self.unresolved, "incomplete": self.incomplete, "left_out": self.left_out}
        if self.left_out_reasons:
            out["left_out_reasons"] = dict(sorted(self.left_out_reasons.items()))
        if self.failed is not None:
            out["failed"] = self.failed
        return out


class SortedSpill:
    """Items ``(key, value)`` handed back in key order, items with equal keys in the order added
    (the sort and the merge are stable); beyond *limit* in memory (by :meth:`add`'s *weight*),
    sorted batches go to temporary files that are merged on reading."""

    def __init__(self, limit: int = IN_MEMORY):
        self.limit = limit
        self.items: list[tuple] = []
        self.runs: list = []
        self.held = 0.0

    def add(self, key, value, weight: float = 1.0) -> None:
        self.items.append((key, value))
        self.held += weight
        if self.held >= self.limit:
            self._spill()

    def _spill(self) -> None:
        self.items.sort(key=itemgetter(0))
        run = tempfile.TemporaryFile(prefix="cso-policy-sort-")
        items = self.items
        for start in range(0, len(items), _CHUNK):
            pickle.dump(items[start:start + _CHUNK], run, protocol=pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self.runs.append(run)
        self.items = []
        self.held = 0.0

    @staticmethod
    def _read(run) -> Iterator[tuple]:
        load = pickle.load
        with run:
            while True:
                try:
                    chunk = load(run)
                except EOFError:
                    return
                yield from chunk

    def __iter__(self) -> Iterator[tuple]:
        self.items.sort(key=itemgetter(0))
        if not self.runs:
            items, self.items = self.items, []
            return iter(items)
        return heapq.merge(*(self._read(run) for run in self.runs), iter(self.items), key=itemgetter(0))


@define
class Ingest:
    """Reads *inputs* and hands back their records in canonical order (see the module)."""

    inputs: list[Input]
    day: Callable[[object], str]  # the day that orders a decoded record ("" when undated)
    limit: int = IN_MEMORY
    counts: dict[str, InputCount] = field(factory=dict)  # where -> its accounting
    failures: list[SourceFailure] = field(factory=list)
    progress: Callable[[int, int], None] | None = None  # told (bytes, records) read, now and then
    _counts: list[InputCount] = field(factory=list, init=False)  # by input number

    def records(self) -> Iterator[tuple[str, int, object, InputCount]]:
        """``(file, line, obj, count)`` in canonical order: ``obj`` is a :class:`Repeat` for a
        record whose identity was read before, a :class:`BadLine` or :class:`LeftOut` as the
        source gave it; ``count`` is the accounting of the input it came from."""
        with _no_gc():
            ordered, shared, where = self._read_all()
            # what was read stays until it is audited: the collector need not walk it again
            gc.freeze()
        try:
            yield from self._in_order(ordered, shared, where)
        finally:
            gc.unfreeze()

    def _in_order(self, ordered, shared: set[int], where) -> Iterator[tuple[str, int, object, InputCount]]:
        counts = self._counts
        loads = orjson.loads
        if not shared:  # no identity read twice, the common case
            for _, (file, line, obj, source, _) in ordered:
                yield file, line, loads(obj) if type(obj) is bytes else obj, counts[source]
            return
        first_of: dict[int, int] = {}  # identity digest -> read number of the one counted
        for key, items in groupby(ordered, key=itemgetter(0)):
            block = [item for _, item in items]
            if key and len(block) > 1:
                # one identity on one day read more than once: the counted one is the smallest
                # content, then file and line, whatever the order the inputs were read in
                block.sort(key=_content_order)
            counted = None  # the decoded record counted in this block, to compare contents with
            for file, line, obj, source, number in block:
                if type(obj) is bytes:
                    obj = loads(obj)
                if key:
                    digest = hash((obj["contract"], obj["kind"], obj["id"]))
                    if digest in shared:
                        first = first_of.setdefault(digest, number)
                        if first == number:
                            counted = obj
                        else:
                            # the same content has the same day and identity: it is in this block
                            same = counted is not None and _same_content(counted, obj)
                            obj = Repeat(obj, where(first), DUPLICATE if same else CONFLICTING)
                yield file, line, obj, counts[source]

    def _read_all(self):
        """Read every input: the records in canonical order, the digests of the identities read
        more than once, and where a read number was read."""
        ordered = SortedSpill(self.limit)
        identities = array("q")  # a digest per identified record
        file_ids: dict[str, int] = {}  # where each record was read: a file number and line, in arrays
        read_file, read_line = array("l"), array("q")
        counts: list[InputCount] = []
        day = self.day
        add_identity = identities.append
        add_file, add_line, add = read_file.append, read_line.append, ordered.add
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        seq = 0
        progress, read_bytes = self.progress, 0
        for item in self.inputs:
            count = self.counts.setdefault(item.where, InputCount(item.source, item.where))
            counts.append(count)
            number = len(counts) - 1
            stream = None
            started = seq
            try:
                stream = item.read()
                for file, line, obj in stream:
                    key = ""
                    kept, weight = obj, 1.0
                    if type(obj) is bytes:  # an undecoded JSON line: decoded for its key, kept as it is
                        try:
                            obj = loads(obj)
                        except decode_error as exc:
                            if obj.isspace():
                                continue
                            obj = kept = BadLine(f"invalid JSON ({exc})")
                        else:
                            if type(obj) is dict:
                                weight = 0.5
                            else:
                                kept = obj
                    if type(obj) is dict:
                        contract, kind, record_id = obj.get("contract"), obj.get("kind"), obj.get("id")
                        if type(contract) is str and type(kind) is str and type(record_id) is str:
                            add_identity(hash((contract, kind, record_id)))
                            # the day, then the identity; equal keys are one identity read again
                            key = "\0".join((day(obj), record_id, kind, contract))
                    add_file(file_ids.setdefault(file, len(file_ids)))
                    add_line(line or 0)
                    add(key, (file, line, kept, number, seq), weight)
                    seq += 1
                    if type(kept) is bytes:
                        read_bytes += len(kept)
                    if progress is not None and not seq % PROGRESS_EVERY:
                        progress(read_bytes, PROGRESS_EVERY)
                        read_bytes = 0
            except CsoPolicyError:
                raise  # the source's options or file are unusable: exit 2 with its one line
            except (Exception, SystemExit) as exc:  # a source's bug or a broken connection: this input only
                count.failed = source_error(exc)
                self.failures.append(SourceFailure(item.plugin, item.source, item.where, seq - started, count.failed))
            finally:
                count.read += seq - started
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
        if progress is not None:
            progress(read_bytes, seq % PROGRESS_EVERY)
        self._counts = counts
        files = list(file_ids)

        def where(number: int) -> str:
            line = read_line[number]
            return f"{files[read_file[number]]}:{line}" if line else files[read_file[number]]

        return iter(ordered), _shared(identities), where


def source_error(exc: BaseException) -> str:
    """What a record source raised, in one line (a ``sys.exit`` in it says so)."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the source called sys.exit({exc.code!r})"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _same_content(a, b) -> bool:
    """Equal records (a spill file keeps them as they were: pickled)."""
    return a == b


@contextlib.contextmanager
def _no_gc():
    """The cyclic garbage collector off while records are read: they hold no cycles, and with
    many of them in memory its full passes would cost more than the reading itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _shared(identities: array) -> set[int]:
    """The digests of the identities read more than once."""
    ordered = sorted(identities)  # in C, and smaller than a set of them
    return {a for a, b in zip(ordered, ordered[1:]) if a == b}


def _content_order(item: tuple) -> tuple:
    """How the reads of one identity on one day are ordered: by content (the line as read, or
    the record as canonical JSON), then file and line."""
    file, line, obj, _, _ = item
    if type(obj) is not bytes:
        obj = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr)
    return obj, file, line or 0


__all__ = ["CONFLICTING", "DUPLICATE", "IN_MEMORY", "Ingest", "Input", "InputCount", "Repeat", "SortedSpill",
           "SourceFailure", "source_error"]
