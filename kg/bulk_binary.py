"""FalkorDB's ``GRAPH.BULK`` binary format, written directly (no CSV round trip).

The format is the one ``falkordb-bulk-loader`` sends (see its ``entity_file.py`` and
``query_buffer.py``):

* ``GRAPH.BULK <graph> [BEGIN] <node count> <edge count> <label tokens> <type tokens>
  <label token>… <type token>…``; only the first command carries ``BEGIN``, which
  creates the graph (it must not exist).
* A token is a header (``name\\0``, ``uint32`` property count, each property name
  ``\\0``-terminated) followed by its entities. A node is its property values; an edge is
  ``uint64`` source and destination node numbers, then its values. Node numbers count the
  nodes sent so far, across labels and commands, from 0.
* A value is a type byte and its payload: 0 null (not stored), 1 bool, 2 double (8 bytes),
  3 string (UTF-8, ``\\0``-terminated), 4 long (8 bytes), 5 array (``int64`` length, then
  that many values).

A string holding a control character other than TAB, LF and CR (:mod:`cosmo.core.text`) is
refused whatever the caller checked: a NUL would end the value early and shift every value
after it.

Values are encoded from their Python types (a string stays a string, unlike the CSV loader,
which guesses the types of array elements), so the graph equals what ``MERGE`` writes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.text import CONTROL_CHARACTERS, refuse_control

__all__ = [
    "BulkWriter",
    "Ragged",
    "col_arrays",
    "col_const",
    "col_doubles",
    "col_ints",
    "col_values",
    "concat_rows",
    "encode_value",
]

_LONG = struct.Struct("=Bq")
_DOUBLE = struct.Struct("=Bd")
_NULL = b"\x00"
_CONTROL_BYTES = CONTROL_CHARACTERS.encode()
_TRUE, _FALSE = struct.pack("=B?", 1, True), struct.pack("=B?", 1, False)


def _string(s: str) -> bytes:
    b = s.encode()
    if len(b.translate(None, _CONTROL_BYTES)) != len(b):  # a NUL would end it early
        refuse_control(s, field=f"bulk value {s[:40]!r}")
    return b"\x03" + b + b"\x00"


def encode_value(v: Any) -> bytes:
    """One property value in the bulk format (``None`` and NaN are null, i.e. not stored)."""
    if v is None:
        return _NULL
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, bool):
        return _TRUE if v else _FALSE
    if isinstance(v, int):
        return _LONG.pack(4, v)
    if isinstance(v, float):
        return _NULL if v != v else _DOUBLE.pack(2, v)
    if isinstance(v, list | tuple):
        return _LONG.pack(5, len(v)) + b"".join(encode_value(x) for x in v)
    raise TypeError(f"cannot store a {type(v).__name__} in the graph")


def _header(name: str, props: Sequence[str]) -> bytes:
    refuse_control([name, *props], field="bulk header")
    return b"".join(
        [name.encode() + b"\x00", struct.pack("=I", len(props))]
        + [p.encode() + b"\x00" for p in props]
    )


class Ragged:
    """``n`` byte strings (one column's encoded values, or whole entities) as one array.

    ``blob`` holds them back to back; row ``k`` is ``blob[off[k]:off[k + 1]]``. Columns are
    combined row by row with :func:`concat_rows` in numpy, so only distinct strings are
    encoded in Python.
    """

    __slots__ = ("blob", "off")

    def __init__(self, blob: np.ndarray, off: np.ndarray) -> None:
        self.blob, self.off = blob, off

    def __len__(self) -> int:
        return len(self.off) - 1

    @classmethod
    def of(cls, items: Sequence[bytes]) -> Ragged:
        off = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in items], out=off[1:])
        return cls(np.frombuffer(b"".join(items), dtype=np.uint8), off)

    def lengths(self) -> np.ndarray:
        return np.diff(self.off)

    def take(self, idx: np.ndarray) -> Ragged:
        """Rows ``idx`` (any order, repeats allowed)."""
        return _gather(self.blob, self.off[:-1][idx], self.lengths()[idx])

    def row(self, k: int) -> bytes:
        return self.blob[self.off[k] : self.off[k + 1]].tobytes()


def _gather(blob: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> Ragged:
    off = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    total = int(off[-1])
    idx = np.arange(total, dtype=np.int64) - np.repeat(off[:-1] - starts, lens)
    return Ragged(blob[idx] if total else np.zeros(0, dtype=np.uint8), off)


def concat_rows(cols: Sequence[Ragged]) -> Ragged:
    """Row ``k`` of the result is row ``k`` of every column, in order."""
    n = len(cols[0])
    base = np.cumsum([0] + [len(c.blob) for c in cols[:-1]])
    blob = np.concatenate([c.blob for c in cols])
    starts = np.stack([c.off[:-1] + b for c, b in zip(cols, base, strict=True)], axis=1)
    lens = np.stack([c.lengths() for c in cols], axis=1)
    assert starts.shape == (n, len(cols))
    cells = _gather(blob, starts.ravel(), lens.ravel())
    return Ragged(cells.blob, cells.off[:: len(cols)])


def _fixed(type_byte: int, values: np.ndarray, kind: str, null: np.ndarray | None = None) -> Ragged:
    rec = np.zeros(len(values), dtype=np.dtype([("t", "u1"), ("v", kind)]))
    rec["t"] = type_byte
    rec["v"] = values
    raw = rec.view(np.uint8).reshape(len(values), 9)
    if null is None or not null.any():
        return Ragged(raw.ravel(), np.arange(len(values) + 1, dtype=np.int64) * 9)
    rec["t"][null] = 0  # null: the type byte alone
    keep = np.ones(raw.shape, dtype=bool)
    keep[null, 1:] = False
    off = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(np.where(null, 1, 9), out=off[1:])
    return Ragged(raw[keep], off)


def col_ints(values: Sequence[int] | np.ndarray) -> Ragged:
    """64-bit integers (no nulls)."""
    return _fixed(4, np.asarray(values, dtype=np.int64), "<i8")


def col_doubles(values: Sequence[float | None] | np.ndarray) -> Ragged:
    """Doubles; NaN and ``None`` are null."""
    v = np.asarray(values, dtype=np.float64)
    null = np.isnan(v)
    return _fixed(2, np.where(null, 0.0, v), "<f8", null)


def col_values(values: Sequence[Any]) -> Ragged:
    """Any values (strings, nulls, lists …); in a string column each distinct one is encoded once."""
    arr = pd.Series(values, dtype=object)
    if pd.api.types.infer_dtype(arr, skipna=True) not in ("string", "empty"):
        # lists, or numbers (where 1, 1.0 and True would be one distinct value): one by one
        return Ragged.of([encode_value(v) for v in arr])
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    enc = Ragged.of([encode_value(v) for v in uniques] + [_NULL])
    return enc.take(np.where(codes < 0, len(uniques), codes))


def col_const(value: Any, n: int) -> Ragged:
    """The same value on ``n`` rows."""
    b = np.frombuffer(encode_value(value), dtype=np.uint8)
    return Ragged(np.tile(b, n), np.arange(n + 1, dtype=np.int64) * len(b))


def col_arrays(elements: Ragged, bounds: np.ndarray) -> Ragged:
    """Arrays whose elements are consecutive: row ``k`` holds ``elements[bounds[k]:bounds[k+1]]``."""
    counts = np.diff(bounds)
    head = _fixed(5, counts, "<i8")
    body = Ragged(elements.blob, elements.off[bounds])
    return concat_rows([head, body])


class BulkWriter:
    """Builds ``GRAPH.BULK`` commands for one new graph and sends them through ``send``.

    ``send(args)`` runs ``GRAPH.BULK <graph> *args`` and returns the server's reply.
    Commands are flushed when they reach ``max_bytes`` (the bulk loader's default limit is
    64 MB per command). Nodes must be added before the edges that use them.
    """

    def __init__(self, send: Callable[[list[Any]], Any], *, max_bytes: int = 32_000_000) -> None:
        self._send = send
        self._max = max_bytes
        self._begun = False
        self._labels: list[bytes] = []
        self._types: list[bytes] = []
        self._nodes = self._edges = self._size = 0
        self._index: dict[str, pd.Index] = {}
        self._base: dict[str, int] = {}
        self._next_id = 0
        self.nodes_created = self.edges_created = 0

    def _flush(self) -> None:
        if not self._labels and not self._types:
            return
        args: list[Any] = [] if self._begun else ["BEGIN"]
        args += [self._nodes, self._edges, len(self._labels), len(self._types)]
        args += self._labels + self._types
        self._begun = True
        reply = self._send(args)
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        stats = text.split(", ")
        self.nodes_created += int(stats[0].split(" ")[0])
        self.edges_created += int(stats[1].split(" ")[0])
        self._labels, self._types = [], []
        self._nodes = self._edges = self._size = 0

    def _emit(self, header: bytes, entities: Ragged, into_labels: bool) -> None:
        off, n, k = entities.off, len(entities), 0
        while k < n:
            room = max(self._max - self._size - len(header), 0)
            stop = int(np.searchsorted(off, off[k] + room, side="right")) - 1
            if stop <= k:
                if self._labels or self._types:
                    self._flush()
                    continue
                stop = k + 1  # one entity larger than a command: send it alone
            stop = min(stop, n)
            token = header + entities.blob[off[k] : off[stop]].tobytes()
            (self._labels if into_labels else self._types).append(token)
            self._size += len(token)
            if into_labels:
                self._nodes += stop - k
            else:
                self._edges += stop - k
            k = stop
            if k < n:
                self._flush()

    def add_nodes(self, label: str, keys: Sequence[Any], props: Mapping[str, Ragged]) -> int:
        """Nodes of ``label`` with key values ``keys`` (unique) and property columns."""
        n = len(keys)
        index = pd.Index(keys)
        if not index.is_unique:
            raise ValueError(f"duplicate {label} keys")
        if label in self._index:
            raise ValueError(f"{label} nodes were already added")
        self._index[label], self._base[label] = index, self._next_id
        self._next_id += n
        if n:
            cols = list(props.values())
            entities = (
                concat_rows(cols)
                if cols
                else Ragged(np.zeros(0, np.uint8), np.zeros(n + 1, np.int64))
            )
            self._emit(_header(label, list(props)), entities, True)
        return n

    def node_ids(self, label: str, keys: Sequence[Any]) -> np.ndarray:
        """The node numbers of ``keys`` (added with :meth:`add_nodes`)."""
        pos = self._index[label].get_indexer(pd.Index(keys))
        if (pos < 0).any():
            missing = pd.Index(keys)[pos < 0][0]
            raise ValueError(f"an edge points at a {label} that was not added: {missing!r}")
        return pos.astype(np.int64) + self._base[label]

    def add_edges(
        self,
        rel: str,
        start: tuple[str, Sequence[Any]],
        end: tuple[str, Sequence[Any]],
        props: Mapping[str, Ragged],
    ) -> int:
        """Edges of type ``rel`` from ``(label, keys)`` to ``(label, keys)`` with property columns."""
        src, dst = self.node_ids(*start), self.node_ids(*end)
        n = len(src)
        if n:
            ends = np.stack([src, dst], axis=1).astype("<u8").view(np.uint8).ravel()
            cols = [Ragged(ends, np.arange(n + 1, dtype=np.int64) * 16), *props.values()]
            self._emit(_header(rel, list(props)), concat_rows(cols), False)
        return n

    def finish(self) -> None:
        """Send what is left."""
        self._flush()
