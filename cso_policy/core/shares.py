"""An audit in shares of the contracts: ``--jobs N`` processes on this machine, or the workers
of a Dask cluster (``--scheduler``).

Every rule keeps its state per contract, so the contracts can be shared out: each share is
audited on its own (:func:`audit_share`, the one function both ways run) and the findings of
the shares, each sorted, are merged in report order. The report is the one a single process
writes, byte for byte.

- **Routing.** The contracts are dealt out in id order (:class:`Shares`); a record goes to
  the share of the contract it names (a contract no file defines: by a hash of its id).
  JSON Lines records are routed as raw lines, by the ``"contract"`` key read off the bytes,
  so that parsing, structuring and the rules run in the shares; a line where that key is not
  found exactly once is decoded to find it. Records of other sources are read here and routed
  decoded.
- **What is merged.** Findings (sorted runs on disk, merged, never sorted again), their
  counts, the record counts, the summary sections (lists of rows per contract are merged by
  contract, numbers added, tables merged key by key), the accounting of every input, the
  waivers used, and problems of the run as a whole (reported once).
"""

from __future__ import annotations

import functools
import multiprocessing
import re
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
from attrs import define, evolve, field

from ..errors import ConfigError, CsoPolicyError
from ..inputs.ingest import Ingest, Input, InputCount, SourceFailure, source_error
from .evaluator import AuditResult, Evaluator, RunProblem, run_audit
from .findings import FindingCounts, FindingStore, merged

BATCH = 8000
"""Records sent to a share at a time."""

_CONTRACT = re.compile(rb'"contract"\s*:\s*"([^"\\]*)"')
_KEY = b'"contract"'


@define
class Shares:
    """Which share audits which contract: the contracts dealt out in id order, so that the
    shares are even; an id no contract has goes by a hash of it."""

    count: int
    owner: dict[str, int] = field(factory=dict)

    @classmethod
    def deal(cls, contract_ids: Iterable[str], count: int) -> Shares:
        return cls(count, {cid: i % count for i, cid in enumerate(sorted(contract_ids))})

    def of(self, contract) -> int:
        if type(contract) is not str:
            return 0
        share = self.owner.get(contract)
        if share is None:
            share = zlib.crc32(contract.encode("utf-8", "surrogatepass")) % self.count
        return share

    def of_item(self, obj) -> int:
        """The share of what a source gave: a record dict, an undecoded JSON line, or anything
        else (a line it could not read: any share reports it alike)."""
        if type(obj) is dict:
            return self.of(obj.get("contract"))
        if type(obj) is bytes:
            return self.of_line(obj)
        return 0

    def of_line(self, raw: bytes) -> int:
        """The share of a raw JSON Lines record."""
        if raw.count(_KEY) == 1:
            found = _CONTRACT.search(raw)
            if found is not None:
                return self.of(found.group(1).decode("utf-8", "replace"))
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return 0
        return self.of_item(obj)


@define
class ShareResult:
    """What one share hands back: its findings (sorted runs on disk) and counts, the record
    counts, its summary sections, its accounting of each input, the waivers it used, and the
    problems of the run it met."""

    runs: list
    counts: FindingCounts
    records: int
    by_kind: dict[str, int]
    summary: dict
    inputs: dict[str, InputCount]
    waivers_used: set[int]
    problems: list[RunProblem]


def audit_share(run, inputs: list[Input], folder: str | None) -> ShareResult:
    """Audit one share: *run* (a :class:`cso_policy.core.pipeline.RunSetup` whose ``views`` are
    the share's contracts), *inputs* delivering the share's records of each input. The findings
    are left in sorted runs in *folder*; without one, they are handed back in memory (for a
    process on another machine)."""
    cat = run.cat
    waiver_set = run.waiver_set()
    store = FindingStore(folder=None if folder is None else Path(folder))
    ingest = Ingest(inputs, cat.kinds.day)
    evaluator = run_audit(run.views, run.rules, cat.kinds, ingest, run.as_of, options=run.options,
                          adjust=cat.adjusters(), keep=run.keep(waiver_set), store=store)
    sections, failed = cat.report_sections(evaluator.audit)
    summary = {**evaluator.audit.summary, **sections}
    summary.pop("inputs", None)
    problems = list(evaluator.run_problems) + [RunProblem(str(p), p.plugin) for p in failed]
    runs = store.to_disk() if folder is not None else [store.in_memory()]
    return ShareResult(runs=runs, counts=store.counts, records=evaluator.audit.records,
                       by_kind=dict(evaluator.audit.by_kind), summary=summary, inputs=dict(ingest.counts),
                       waivers_used=set(waiver_set.used) if waiver_set is not None else set(), problems=problems)


def merge_results(run, results: list[ShareResult], inputs: list[Input], failures: list, keep_alive) -> AuditResult:
    """The shares' results as one audit: what a single process would have found; *failures*
    are the sources that failed while they were read (:class:`SourceFailure`)."""
    cat = run.cat
    waiver_set = run.waiver_set()
    if waiver_set is not None:
        for result in results:
            waiver_set.used |= result.waivers_used
    extra = Evaluator(run.views, run.rules, cat.kinds, run.as_of, options=run.options, adjust=cat.adjusters(),
                      keep=run.keep(waiver_set), store=FindingStore())
    for problem in cat.pm.problems:
        extra.plugin_problem(problem.plugin, problem.hook, problem.error)
    for failure in failures:
        extra.source_failed(failure)
    audit = extra.audit
    summary: dict = {}
    for result in results:
        audit.records += result.records
        for kind, n in result.by_kind.items():
            audit.by_kind[kind] += n
        summary = _merge_section(summary, result.summary)
        for problem in result.problems:
            extra.run_problem(problem.message, problem.plugin)
    audit.summary = {key: _by_contract(value) for key, value in summary.items()}
    failed = {failure.where: failure.error for failure in failures}
    counts = {}
    for item in inputs:
        if item.where in counts:  # two inputs of one name share one accounting, as in one process
            continue
        total = counts[item.where] = InputCount(item.source, item.where, failed=failed.get(item.where))
        for result in results:
            part = result.inputs.get(item.where)
            if part is not None:
                _add_counts(total, part)
    audit.summary["inputs"] = [c.as_dict() for _, c in sorted(counts.items())]
    done = run.finish(extra, extra.run_problems, waiver_set)
    findings = merged([(r.runs, r.counts) for r in results], done.findings, keep_alive)
    return AuditResult(findings=findings, audit=audit, rules=run.rules)


def _add_counts(total: InputCount, part: InputCount) -> None:
    for name in ("read", "counted", "duplicate", "conflicting", "invalid", "unresolved", "incomplete", "left_out"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for reason, n in part.left_out_reasons.items():
        total.left_out_reasons[reason] = total.left_out_reasons.get(reason, 0) + n


def _merge_section(a, b):
    """Two shares' values of a summary section as one: lists joined, tables merged key by key,
    numbers added; otherwise the first share's value."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _merge_section(out[key], value) if key in out else value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if type(a) in (int, float) and type(b) in (int, float):
        return a + b
    return a


def _by_contract(value):
    """Rows naming their contract in contract order (each share lists its own in that order)."""
    if isinstance(value, list) and value and all(isinstance(row, dict) and "contract" in row for row in value):
        return sorted(value, key=lambda row: str(row["contract"]))
    return value


# ------------------------------------------------------------------ --jobs N


class _Inbox:
    """The records a share receives, as one stream per input in input order."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = None

    def _next(self):
        if self.pending is None:
            self.pending = self.conn.recv()
        return self.pending

    def read(self, number: int, where: str) -> Iterator[tuple[str, int, object]]:
        """Input *number*'s records: raw lines stay undecoded (the ingest decodes them)."""
        while True:
            message = self._next()
            tag, input_number, items = message
            if tag == "end" or input_number != number:
                return
            self.pending = None
            if tag == "raw":
                blob, numbers, ends = items
                start = 0
                for line, end in zip(numbers, ends):
                    yield where, line, blob[start:end]
                    start = end
            else:
                yield from items


def _share_process(run, inputs: list[Input], folder: str, conn, out) -> None:
    inbox = _Inbox(conn)
    share_inputs = [Input(source=i.source, plugin=i.plugin, where=i.where,
                          read=functools.partial(inbox.read, n, i.where)) for n, i in enumerate(inputs)]
    try:
        result = audit_share(run, share_inputs, folder)
    except BaseException as exc:  # told to the main process, which stops the run
        out.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    out.send(("done", result))


def audit_in_shares(run, inputs: list[Input], jobs: int, progress=None) -> AuditResult:
    """Audit in *jobs* processes forked from this one, routing the records here; *progress* is
    told (bytes, records) as they are routed."""
    from ..errors import CsoPolicyError

    context = multiprocessing.get_context("fork")
    shares = Shares.deal(run.views, jobs)
    folder = tempfile.TemporaryDirectory(prefix="cso-policy-shares-")
    workers = []
    for share in range(jobs):
        receive, send = context.Pipe(duplex=False)
        result_in, result_out = context.Pipe(duplex=False)
        share_run = evolve(run, views={cid: v for cid, v in run.views.items() if shares.of(cid) == share})
        process = context.Process(target=_share_process, args=(share_run, inputs, folder.name, receive, result_out),
                                  daemon=True)
        process.start()
        receive.close()
        result_out.close()
        workers.append((process, send, result_in))
    senders = [w[1] for w in workers]
    failures = []
    try:
        for number, item in enumerate(inputs):
            try:
                if item.lines and item.path is not None:
                    _route_lines(item.path, number, shares, senders, progress)
                else:
                    _route_records(item, number, shares, senders)
            except _Failed as failed:
                failures.append(SourceFailure(item.plugin, item.source, item.where, failed.delivered, failed.error))
        for send in senders:
            send.send(("end", None, None))
        results = [_result(result_in) for _, _, result_in in workers]
        for process, _, _ in workers:
            process.join()
    except (BrokenPipeError, EOFError):  # a share stopped early: say why, if it could
        for _, _, result_in in workers:
            if result_in.poll():
                _result(result_in)
        raise CsoPolicyError("a share of the audit stopped without a result") from None
    finally:
        for process, send, _ in workers:
            send.close()
            if process.is_alive():
                process.kill()
                process.join()
    return merge_results(run, results, inputs, failures, folder)


def _result(result_in) -> ShareResult:
    try:
        tag, value = result_in.recv()
    except EOFError:
        raise CsoPolicyError("a share of the audit stopped without a result") from None
    if tag == "error":
        raise CsoPolicyError(f"a share of the audit failed: {value}")
    return value


class _Failed(Exception):
    def __init__(self, error: str, delivered: int):
        self.error, self.delivered = error, delivered


def _route_lines(path: str, number: int, shares: Shares, senders, progress=None) -> int:
    """Send each raw line of a JSON Lines file to its share, byte for byte, in batches: the
    lines joined (one bytes object), their line numbers and where each ends (arrays). Nothing
    is decoded here."""
    count = len(senders)
    batches: list[list[bytes]] = [[] for _ in range(count)]
    numbers = [array("q") for _ in range(count)]
    ends = [array("q") for _ in range(count)]
    sizes = [0] * count
    by_contract: dict[bytes, int] = {}  # the raw contract id -> its share
    search, key = _CONTRACT.search, _KEY
    delivered = 0
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for line, raw in enumerate(fh, start=1):
            found = search(raw) if raw.count(key) == 1 else None
            if found is not None:
                contract = found.group(1)
                share = by_contract.get(contract)
                if share is None:
                    share = by_contract[contract] = shares.of(contract.decode("utf-8", "replace"))
            elif raw.isspace():
                continue
            else:
                share = shares.of_line(raw)
            batch = batches[share]
            batch.append(raw)
            numbers[share].append(line)
            sizes[share] += len(raw)
            ends[share].append(sizes[share])
            delivered += 1
            if len(batch) >= BATCH:
                senders[share].send(("raw", number, (b"".join(batch), numbers[share], ends[share])))
                if progress is not None:
                    progress(sizes[share], len(batch))
                batches[share], numbers[share], ends[share], sizes[share] = [], array("q"), array("q"), 0
    for share, batch in enumerate(batches):
        if batch:
            senders[share].send(("raw", number, (b"".join(batch), numbers[share], ends[share])))
            if progress is not None:
                progress(sizes[share], len(batch))
    return delivered


def _route_records(item: Input, number: int, shares: Shares, senders) -> int:
    batches: list[list] = [[] for _ in senders]
    delivered = 0
    stream = None
    try:
        stream = item.read()
        for file, line, obj in stream:
            share = shares.of_item(obj)
            batches[share].append((file, line, obj))
            delivered += 1
            if len(batches[share]) >= BATCH:
                senders[share].send(("obj", number, batches[share]))
                batches[share] = []
    except CsoPolicyError:
        raise
    except (Exception, SystemExit) as exc:  # this input only, as in one process
        raise _Failed(source_error(exc), delivered) from None
    finally:
        for share, batch in enumerate(batches):
            if batch:
                senders[share].send(("obj", number, batch))
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return delivered


__all__ = ["ShareResult", "Shares", "audit_in_shares", "audit_share", "merge_results"]
