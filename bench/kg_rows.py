"""Parsing FalkorDB's compact replies: falkordb-py's asyncio parser against ``compact_rows``.

No server: the replies are built in the shape the server sends for the API's reads (a product
row with a map of its intention, navigation's candidate rows), so this measures only the
parsing the API pays on every read. Prints a table: CPU microseconds per reply.

    python bench/kg_rows.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from cosmo.kg.falkordb_rows import compact_rows
from cosmo.kg.falkordb_store import _rows

STR, INT, DBL, MAP, NUL = 2, 3, 5, 10, 1  # compact value types


def _candidates(n: int) -> list[Any]:
    header = [[1, c] for c in ("id", "title", "type", "domain", "bought", "shared")]
    rows = [
        [
            [STR, f"p{i}"],
            [STR, f"product {i} title"],
            [STR, "tent"],
            [NUL, None],
            [DBL, "3.0"],
            [INT, 2],
        ]
        for i in range(n)
    ]
    return [header, rows, ["Cached execution: 1"]]


def _knowledge(n: int) -> list[Any]:
    header = [[1, c] for c in ("relation", "plausibility", "intention", "sources")]
    rows = [
        [
            [STR, "USED_FOR_EVE"],
            [DBL, "0.8125"],
            [
                MAP,
                [
                    "id",
                    [STR, f"i{i}"],
                    "text",
                    [STR, f"intention {i}"],
                    "tail_type",
                    [STR, "event"],
                ],
            ],
            [6, [[STR, f"sb:query {i}|p{i}"], [STR, f"cb:p{i}|p{i + 1}"]]],
        ]
        for i in range(n)
    ]
    return [header, rows, ["Cached execution: 1"]]


async def _client(reply: Any) -> list[dict[str, Any]]:
    from falkordb.asyncio.query_result import QueryResult

    res = QueryResult(None)
    await res.parse(reply)
    return _rows(res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    cases = {
        "product + 5 intentions": _knowledge(5),
        "navigation candidates (200 rows)": _candidates(200),
        "facet-like knowledge (400 rows)": _knowledge(400),
    }
    print("| reply | rows | falkordb-py µs | compact_rows µs | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, reply in cases.items():
        assert compact_rows(reply) == asyncio.run(_client(reply)), name

        async def client_loop(reply: Any = reply) -> float:
            t = time.process_time()
            for _ in range(args.repeat):
                await _client(reply)
            return time.process_time() - t

        theirs = asyncio.run(client_loop()) / args.repeat * 1e6
        t = time.process_time()
        for _ in range(args.repeat):
            compact_rows(reply)
        ours = (time.process_time() - t) / args.repeat * 1e6
        n = len(reply[1])
        print(f"| {name} | {n} | {theirs:,.0f} | {ours:,.0f} | {theirs / ours:.1f}× |")


if __name__ == "__main__":
    main()
