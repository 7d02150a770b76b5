"""Soak of the GraphQL API: N minutes at C concurrent clients on mixed queries and mutations.

Run by hand (it prints a table; numbers depend on the machine and on what else runs)::

    nice -n 10 python bench/api_soak.py                  # 10 minutes at 32 clients
    nice -n 10 python bench/api_soak.py --minutes 1      # a quick look

It builds ``bench/api.py``'s synthetic graph in an embedded FalkorDB, starts the API as that
benchmark's uncached ``app`` (every cache off, so each request reads the graph) with an API
key, and sends with ``wrk`` one minute at a time a mix of ``product``, ``searchQuery``,
``navigate`` (live and precomputed) and the ``annotate`` mutation with the key (one body in
ten). Per minute: requests, errors (non-2xx answers and socket errors: connect, read,
write, timeout), p50 and p99; then the API process's RSS at the start (after one warm-up
pass) and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api as bench

KEY = "soak-key"
ANNOTATE = (
    'mutation($s: String!) { annotate(input: {subject: $s, relation: "USED_FOR_EVE", '
    'intention: "camping in cold weather", verdict: GOOD, annotator: "soak"}) { id } }'
)
# bench/api.py's wrk script, with the API key on every request
_LUA = bench._LUA.replace(
    '{["Content-Type"] = "application/json"}',
    '{["Content-Type"] = "application/json", ["X-API-Key"] = "%s"}',
)
assert _LUA.count("%s") == 2, "bench/api.py's wrk script changed"


def rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024  # type: ignore[union-attr]


def bodies(n: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append(json.dumps({"query": ANNOTATE, "variables": {"s": f"query {i}"}}))
            continue
        q, make = bench.QUERIES[rng.choice(list(bench.QUERIES))]
        out.append(json.dumps({"query": q, "variables": make(rng)}))
    return out


def one_minute(port: int, conc: int, seconds: int, tmp: Path) -> dict[str, float]:
    script = tmp / "soak.lua"
    script.write_text(_LUA % (tmp / "bodies.txt", KEY))
    cmd = ["wrk", "-t2", f"-c{conc}", f"-d{seconds}s", "--latency", "-s", str(script)]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True
    ).stdout
    res = bench.parse_wrk(out)
    errors = int(res["non2xx"] + res["socket_errors"])
    return {
        "requests": int(res["requests"]),
        "errors": errors,
        "p50": res["p50"],
        "p99": res["p99"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--conc", type=int, default=32)
    ap.add_argument("--bodies", type=int, default=2000)
    args = ap.parse_args()
    from cosmo.core.settings import Settings
    from cosmo.kg.falkordb_store import FalkorDBStore
    from cosmo.kg.server import EmbeddedServer

    tmp = Path(tempfile.mkdtemp(prefix="cosmo-soak-"))
    args.db_port, args.graph, args.state = bench.free_port(), "bench", str(tmp / "state")
    settings = Settings(state_dir=Path(args.state), falkordb_port=args.db_port, graph=args.graph)
    server = EmbeddedServer(settings)
    server.start()
    os.environ["COSMO_API_API_KEY"] = KEY  # the served app's mutations need it
    proc = None
    try:
        store = FalkorDBStore.from_settings(settings)
        store.setup()
        edges = bench.build_graph(store)
        head = asyncio.run(bench.precompute(settings, 200))
        bench.HEAD_QUERIES[:] = head
        bench.LIVE_QUERIES[:] = sorted({f"query {n}" for n in range(bench.N_QUERIES)} - set(head))
        sent = bodies(args.bodies)
        (tmp / "bodies.txt").write_text("\n".join(sent) + "\n")
        proc, port = bench.start_server("app", args)
        import httpx

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for b in sent:  # warm-up: every body once
                c.post(
                    "/graphql",
                    content=b,
                    headers={"content-type": "application/json", "x-api-key": KEY},
                )
        start_rss = rss_mib(proc.pid)
        print(f"graph: {edges} edges written; {args.conc} clients; load {os.getloadavg()}")
        print("| minute | requests | errors | p50 ms | p99 ms |\n|---|---|---|---|---|")
        for minute in range(1, args.minutes + 1):
            r = one_minute(port, args.conc, 60, tmp)
            print(
                f"| {minute} | {r['requests']} | {r['errors']} | {r['p50']:.1f} | {r['p99']:.1f} |",
                flush=True,
            )
        end_rss = rss_mib(proc.pid)
        print(
            f"\nAPI RSS: {start_rss:.0f} MiB at start, {end_rss:.0f} MiB at end "
            f"({100 * (end_rss - start_rss) / start_rss:+.1f} %); load {os.getloadavg()}"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        server.stop()


if __name__ == "__main__":
    main()
