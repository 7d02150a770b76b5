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

Values are encoded from their Python types (a string stays a string, unlike the CSV loader,
which guesses the types of array elements), so the graph equals what ``MERGE`` writes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["BulkWriter", "encode_value"]

_LONG = struct.Struct("=Bq")
_DOUBLE = struct.Struct("=Bd")
_EDGE = struct.Struct("=QQ")
_NULL = b"\x00"
_TRUE, _FALSE = struct.pack("=B?", 1, True), struct.pack("=B?", 1, False)


def _string(s: str) -> bytes:
    return b"\x03" + s.encode() + b"\x00"


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
    return b"".join(
        [name.encode() + b"\x00", struct.pack("=I", len(props))]
        + [p.encode() + b"\x00" for p in props]
    )


class BulkWriter:
    """Builds ``GRAPH.BULK`` commands for one new graph and sends them through ``send``.

    ``send(args)`` runs ``GRAPH.BULK <graph> *args`` and returns the server's reply.
    Commands are flushed when they reach ``max_bytes`` (the bulk loader's default limit is
    64 MB per command).
    """

    def __init__(self, send: Callable[[list[Any]], Any], *, max_bytes: int = 32_000_000) -> None:
        self._send = send
        self._max = max_bytes
        self._begun = False
        self._labels: list[bytes] = []
        self._types: list[bytes] = []
        self._nodes = self._edges = self._size = 0
        self.ids: dict[str, dict[Any, int]] = {}
        self.nodes_created = self.edges_created = 0
        self._next_id = 0

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

    def _emit(self, header: bytes, entities: Iterable[bytes], into_labels: bool) -> Iterator[None]:
        parts: list[bytes] = [header]
        size = len(header)
        count = 0

        def close() -> None:
            token = b"".join(parts)
            (self._labels if into_labels else self._types).append(token)
            self._size += len(token)
            if into_labels:
                self._nodes += count
            else:
                self._edges += count

        for e in entities:
            if size + len(e) + self._size >= self._max and count:
                close()
                self._flush()
                parts, size, count = [header], len(header), 0
            parts.append(e)
            size += len(e)
            count += 1
            yield None
        if count:
            close()

    def add_nodes(self, label: str, props: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Nodes with ``props`` (the first is the key); returns how many were added."""
        ids = self.ids.setdefault(label, {})
        start = self._next_id

        def entities() -> Iterator[bytes]:
            for row in rows:
                ids[row[0]] = self._next_id
                self._next_id += 1
                yield b"".join([encode_value(v) for v in row])

        for _ in self._emit(_header(label, props), entities(), True):
            pass
        return self._next_id - start

    def add_edges(
        self,
        rel: str,
        start: str,
        end: str,
        props: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        constant: Sequence[Any] = (),
    ) -> int:
        """Edges ``[start key, end key, *values]``; ``constant`` values (encoded once) follow.

        ``props`` names the row values first, then the constant ones.
        """
        a_ids, b_ids = self.ids[start], self.ids[end]
        tail = b"".join(encode_value(v) for v in constant)
        pack = _EDGE.pack
        n = 0

        def entities() -> Iterator[bytes]:
            nonlocal n
            for row in rows:
                n += 1
                yield b"".join(
                    [pack(a_ids[row[0]], b_ids[row[1]]), *[encode_value(v) for v in row[2:]], tail]
                )

        for _ in self._emit(_header(rel, props), entities(), False):
            pass
        return n

    def finish(self) -> None:
        """Send what is left."""
        self._flush()
