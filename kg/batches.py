"""Batch plumbing for the loader: rows built on demand, and batches prepared one step ahead.

Planning stays column-wise (pandas); the per-row maps a query needs are built a batch at a
time by :class:`LazyRows`. :func:`run_batches` plans the next steps and builds and
serialises batch *n + 1* on a worker thread while the server executes batch *n* (the socket
wait releases the GIL), so client-side work overlaps server work. Batches still reach the server one at a time and in
order, and each is acknowledged (and checkpointed by the caller) before the next is sent,
so resuming after a crash stays exact.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

from cosmo.kg.store import GraphStore, WriteSummary

__all__ = ["Batch", "LazyRows", "Planned", "run_batches"]

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
    """One batch: its number, size, query and parameters (and prepared text).

    ``skipped`` batches (already written by the run being resumed) are neither built nor sent.
    """

    __slots__ = ("cypher", "number", "params", "prepared", "size", "skipped")

    def __init__(
        self,
        number: int,
        size: int,
        cypher: str,
        params: dict[str, Any] | None = None,
        prepared: Any = None,
        *,
        skipped: bool = False,
    ) -> None:
        self.number, self.size, self.cypher = number, size, cypher
        self.params, self.prepared, self.skipped = params, prepared, skipped


class Planned:
    """Reported once every step has been seen: how many batches and rows there are in all."""

    __slots__ = ("batches", "rows")

    def __init__(self, batches: int, rows: int) -> None:
        self.batches, self.rows = batches, rows


_DONE = object()
_END = object()


class _Pipe:
    """A bounded queue whose ``put`` gives up once ``stop`` is set (the consumer left)."""

    def __init__(self, maxsize: int, stop: threading.Event) -> None:
        self.q: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self.stop = stop

    def put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self) -> Any:
        """The next item; ``_END`` once ``stop`` is set."""
        while not self.stop.is_set():
            try:
                return self.q.get(timeout=0.1)
            except queue.Empty:
                continue
        return _END


def _plan(
    steps: Iterable[tuple[str, Sequence[Row]]], batch_size: int, todo: _Pipe, out: _Pipe
) -> None:
    """Consume the steps (planning them); report the totals as soon as they are known."""
    try:
        n = rows = 0
        for step in steps:
            n += -(-len(step[1]) // batch_size)
            rows += len(step[1])
            if not todo.put(step):
                return
        if out.put(Planned(n, rows)):
            todo.put(_END)
    except BaseException as e:  # handed to the consumer, which re-raises it
        todo.put(e)


def _build(
    todo: _Pipe,
    batch_size: int,
    skip_batches: int,
    params: Mapping[str, Any],
    prepare: Callable[[str, Mapping[str, Any]], Any] | None,
    out: _Pipe,
) -> None:
    """Turn steps into batches (rows, then query text), in order."""
    try:
        n = 0
        while (step := todo.get()) is not _END:
            if isinstance(step, BaseException):
                raise step
            cypher, rows = step
            for start in range(0, len(rows), batch_size):
                n += 1
                size = min(batch_size, len(rows) - start)
                if n <= skip_batches:
                    item = Batch(n, size, cypher, skipped=True)
                else:
                    p = {**params, "rows": list(rows[start : start + size])}
                    item = Batch(n, size, cypher, p, prepare(cypher, p) if prepare else None)
                if not out.put(item):
                    return
        out.put(_DONE)
    except BaseException as e:  # handed to the consumer, which re-raises it
        out.put(e)


def run_batches(
    store: GraphStore,
    steps: Iterable[tuple[str, Sequence[Row]]],
    *,
    batch_size: int,
    params: Mapping[str, Any],
    skip_batches: int = 0,
    ahead: int = 2,
) -> Iterator[tuple[Batch, WriteSummary | None] | Planned]:
    """Execute ``(cypher, rows)`` steps in batches, in order, on the calling thread.

    ``steps`` may be a generator: one worker thread consumes it (planning), another builds
    each batch's rows and (for stores that offer ``prepare(cypher, params)`` and
    ``execute_prepared(prepared)``, i.e. FalkorDB) its query text, up to ``ahead`` batches
    before the server needs them. Yields ``(batch, summary)`` for every batch in order
    (``summary`` is ``None`` for the first ``skip_batches``, which are not sent), and one
    :class:`Planned` as soon as the number of batches is known (the plan is complete).
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    prepare = getattr(store, "prepare", None)
    execute_prepared = getattr(store, "execute_prepared", None)
    if prepare is None or execute_prepared is None:
        prepare = execute_prepared = None
    stop = threading.Event()
    out, todo = _Pipe(max(1, ahead), stop), _Pipe(0, stop)
    workers = [
        threading.Thread(
            target=_plan, args=(steps, batch_size, todo, out), daemon=True, name="cosmo-kg-plan"
        ),
        threading.Thread(
            target=_build,
            args=(todo, batch_size, skip_batches, params, prepare, out),
            daemon=True,
            name="cosmo-kg-batches",
        ),
    ]
    for w in workers:
        w.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Planned):
                yield item
            elif item.skipped:
                yield item, None
            elif item.prepared is not None and execute_prepared is not None:
                yield item, execute_prepared(item.prepared)
            else:
                yield item, store.execute(item.cypher, item.params)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=5)
