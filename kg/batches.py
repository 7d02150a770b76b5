"""Batch plumbing for the loader: rows built on demand, and batches prepared one step ahead.

Planning stays column-wise (pandas); the per-row maps a query needs are built a batch at a
time by :class:`LazyRows`. :func:`run_batches` builds and serialises batch *n + 1* on a
worker thread while the server executes batch *n* (the socket wait releases the GIL), so
client-side work overlaps server work. Batches still reach the server one at a time and in
order, and each is acknowledged (and checkpointed by the caller) before the next is sent,
so resuming after a crash stays exact.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

from cosmo.kg.store import GraphStore, WriteSummary

__all__ = ["Batch", "LazyRows", "run_batches"]

Row = dict[str, Any]


class LazyRows(Sequence[Row]):
    """A read-only sequence of ``n`` rows whose slices are built by ``build(start, stop)``."""

    def __init__(self, n: int, build: Callable[[int, int], list[Row]]) -> None:
        self._n = n
        self._build = build

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...

    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            rows = self._build(start, max(start, stop)) if step == 1 else None
            if rows is None:
                return [self[k] for k in range(start, stop, step)]
            return rows
        k = i + self._n if i < 0 else i
        if not 0 <= k < self._n:
            raise IndexError(i)
        return self._build(k, k + 1)[0]

    def __iter__(self) -> Iterator[Row]:
        for start in range(0, self._n, 4096):
            yield from self._build(start, min(self._n, start + 4096))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class Batch:
    """One batch ready to send: its number, size, query and parameters (and prepared text)."""

    __slots__ = ("cypher", "number", "params", "prepared", "size")

    def __init__(
        self, number: int, size: int, cypher: str, params: dict[str, Any], prepared: Any
    ) -> None:
        self.number, self.size, self.cypher = number, size, cypher
        self.params, self.prepared = params, prepared


_DONE = object()


def _produce(
    work: Iterator[tuple[int, str, Sequence[Row], int, int]],
    params: Mapping[str, Any],
    prepare: Callable[[str, Mapping[str, Any]], Any] | None,
    out: queue.Queue[Any],
    stop: threading.Event,
) -> None:
    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for number, cypher, rows, start, stop_at in work:
            chunk = list(rows[start:stop_at])
            p = {**params, "rows": chunk}
            prepared = prepare(cypher, p) if prepare else None
            if not put(Batch(number, len(chunk), cypher, p, prepared)):
                return
        put(_DONE)
    except BaseException as e:  # handed to the consumer, which re-raises it
        put(e)


def run_batches(
    store: GraphStore,
    steps: Sequence[tuple[str, Sequence[Row]]],
    *,
    batch_size: int,
    params: Mapping[str, Any],
    skip_batches: int = 0,
    ahead: int = 2,
) -> Iterator[tuple[Batch, WriteSummary]]:
    """Execute ``(cypher, rows)`` steps in batches, in order; yield each batch and its summary.

    The first ``skip_batches`` batches are not built or sent (a resumed run). Stores that
    offer ``prepare(cypher, params)`` / ``execute_prepared(prepared)`` (FalkorDB: the query
    text with its parameters) get their text built on the worker thread too.
    """
    work: list[tuple[int, str, Sequence[Row], int, int]] = []
    n = 0
    for cypher, rows in steps:
        for start in range(0, len(rows), batch_size):
            n += 1
            if n > skip_batches:
                work.append((n, cypher, rows, start, min(len(rows), start + batch_size)))
    if not work:
        return
    prepare = getattr(store, "prepare", None)
    execute_prepared = getattr(store, "execute_prepared", None)
    if prepare is None or execute_prepared is None:
        prepare = execute_prepared = None
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()
    worker = threading.Thread(
        target=_produce, args=(iter(work), params, prepare, q, stop), daemon=True
    )
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            if item.prepared is not None and execute_prepared is not None:
                summary = execute_prepared(item.prepared)
            else:
                summary = store.execute(item.cypher, item.params)
            yield item, summary
    finally:
        stop.set()
        worker.join(timeout=5)
