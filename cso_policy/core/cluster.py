"""The audit on a Dask cluster (``cso-policy audit --scheduler tcp://HOST:PORT``).

The same partition by contract as ``--jobs`` (:mod:`cso_policy.core.shares`), run by Dask
distributed: a task per JSON Lines file reads it on a worker (the workers see the files at the
paths the command was given, on storage they share) and keys each raw line by the share of
its contract; Dask's shuffle (``Bag.groupby``) brings each share's lines together; a task per
share sets the run up again from the command line (``prepare``), puts the lines back in the
order read, and runs :func:`~cso_policy.core.shares.audit_share`. The findings come back
sorted and are merged here as in ``--jobs``. Records of sources that are not files (live APIs)
are read here and handed to the cluster with the rest.

Dask is an optional extra: ``pip install 'cso-policy[dask]'``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from operator import itemgetter

from attrs import evolve

from ..errors import ConfigError, CsoPolicyError, UsageError
from ..inputs.ingest import Input, SourceFailure, source_error
from .evaluator import AuditResult
from .shares import Shares, audit_share, merge_results

CONNECT_TIMEOUT = "20s"


def audit_on_cluster(run, inputs: list[Input], address: str, prepare: Callable) -> AuditResult:
    """Audit on the cluster whose scheduler is at *address*; its workers call ``prepare()`` to
    set up the run (the same contracts, plugins, rules, waivers and baseline)."""
    try:
        import dask.bag as db
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'cso-policy[dask]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"--scheduler {address}: cannot reach the scheduler ({exc})") from None
    with client:
        count = max(1, sum(client.nthreads().values()))
        shares = Shares.deal(run.views, count)
        files = [(n, item.where, str(item.path)) for n, item in enumerate(inputs) if item.lines and item.path]
        local, failures = _read_here(inputs, shares)
        # every share runs, also one without records: its contracts' finish rules still apply
        local += [(share, None) for share in range(count)]
        parts = [db.from_sequence(local, npartitions=1)]
        if files:
            parts.append(db.from_sequence(files, npartitions=len(files)).map_partitions(_read_lines, shares))
        grouped = db.concat(parts).groupby(itemgetter(0), npartitions=count)
        meta = [evolve(item, read=None) for item in inputs]
        audited = grouped.map(_audit_group, prepare=prepare, shares=shares, inputs=meta)
        try:
            results = audited.compute()
        except CsoPolicyError:
            raise
        except Exception as exc:  # a worker's error, told in one line
            raise CsoPolicyError(f"the audit on {address} failed: {type(exc).__name__}: {exc}") from None
    results.sort(key=itemgetter(0))
    return merge_results(run, [result for _, result in results], inputs, failures, None)


def _read_here(inputs: list[Input], shares: Shares) -> tuple[list, list[SourceFailure]]:
    """The records of the inputs that are not files the workers can read, keyed by share."""
    out: list = []
    failures = []
    for number, item in enumerate(inputs):
        if item.lines and item.path:
            continue
        delivered = 0
        stream = None
        try:
            stream = item.read()
            for file, line, obj in stream:
                out.append((shares.of_item(obj), (number, delivered, file, line, obj)))
                delivered += 1
        except CsoPolicyError:
            raise
        except (Exception, SystemExit) as exc:  # this input only, as in one process
            failures.append(SourceFailure(item.plugin, item.source, item.where, delivered, source_error(exc)))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    return out, failures


def _read_lines(files: list[tuple[int, str, str]], shares: Shares) -> Iterator[tuple]:
    """On a worker: the raw lines of *files*, each keyed by the share of its contract."""
    for number, where, path in files:
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read on the worker ({exc.strerror or exc})") from None
        with fh:
            for line, raw in enumerate(fh, start=1):
                if raw.isspace():
                    continue
                yield shares.of_line(raw), (number, line, where, line, raw)


def _audit_group(group: tuple[int, list], prepare: Callable, shares: Shares, inputs: list[Input]):
    """On a worker: audit one share's records, in the order they were read."""
    share, keyed = group
    records = sorted((item for _, item in keyed if item is not None), key=itemgetter(0, 1))
    run = prepare()
    run = evolve(run, views={cid: view for cid, view in run.views.items() if shares.of(cid) == share})
    by_input: dict[int, list] = {}
    for number, _, file, line, obj in records:
        by_input.setdefault(number, []).append((file, line, obj))
    share_inputs = [evolve(item, read=functools.partial(iter, by_input.get(n, ()))) for n, item in enumerate(inputs)]
    return share, audit_share(run, share_inputs, None)


__all__ = ["audit_on_cluster"]
