"""Load benchmark of the GraphQL API against a bare FastAPI + Strawberry ceiling.

Run by hand (it prints a table; numbers depend on the machine and on what else runs)::

    nice -n 10 python bench/api.py                 # ~100k-edge synthetic graph, c = 1, 8, 32
    nice -n 10 python bench/api.py --profile       # also write a pyinstrument profile

It starts an embedded FalkorDB in a temporary folder, writes a synthetic graph with the
schema of ``cosmo.core.schema`` in ``UNWIND`` batches, then serves (each in its own process,
one uvicorn worker):

* ``ceiling``: FastAPI + Strawberry whose resolver returns constants (ParserCache and
  ValidationCache on), i.e. the most this stack can do;
* ``app``: ``cosmo.api.create_app`` on the graph, with every limit and metric on and
  every cache off (the response cache and the in-process navigation cache): each
  request reads the graph — the uncached path. Before the servers start, the batch
  refresh precomputes the navigation of the ``--nav-top`` most frequent queries into the
  navigation store (Redis); ``navigate`` draws its queries from the *other* queries (live
  graph reads), ``navigate-head`` from the precomputed ones (one Redis read);
* ``app+cache``: the same app with its default settings (response cache keyed by the
  normalised document + variables + graph version, navigation cache); the table shows
  the response cache's hit rate in each cell (from ``/metrics``); its cells start after
  one pass over the bodies, i.e. they measure a warm cache.

Each query is sent with ``--bodies`` distinct request bodies (ids drawn uniformly, 200 by
default, cycled by wrk), so the cached rows' hit rate depends on that number. With
``--zipf S`` the ``app+cache`` cells instead get a stream whose products / queries follow
Zipf(S) over every product and query, sent to a cold cache: the hit rate is the traffic's.

The ``app`` server also gets two hostile documents, ``bomb-30`` and ``bomb-300`` (``n``
fragments each spreading the next one twice): their rows are the latency of refusing them
(each answer is checked to be ``TOO_COMPLEX`` before the cells run).

Load comes from ``wrk`` (Debian package) in another process; each cell runs
``--duration`` seconds after a warm-up. Reported: req/s, p50, p99, the ratio of the
app's throughput to the ceiling's at the same concurrency, and CPU time per request of
the API process and of the database (from ``/proc``). ``--profile`` then profiles the
uncached app with pyinstrument, one profile per query (product, navigate) at c=1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import strawberry

NAVIGATE = (
    "query($q: String!) { navigate(query: $q) { facets(size: 5) { relation tailType count "
    "values { count intention { id text } } } products(first: 10) { totalCount "
    "edges { node { score product { id title } } } } } }"
)
# filled by main(): queries with a precomputed navigation entry (the head) and the others
HEAD_QUERIES: list[str] = []
LIVE_QUERIES: list[str] = []
PREFIX = "cosmo:bench:"
QUERIES = {
    "product": (
        "query($id: ID!) { product(id: $id) { id title type "
        "intentions(first: 5) { totalCount edges { node { relation plausibility intention { id text } } } } } }",
        lambda r: {"id": f"p{r.randrange(N_PRODUCTS)}"},
    ),
    "navigate": (NAVIGATE, lambda r: {"q": r.choice(LIVE_QUERIES)}),
    # the same query over the frequent queries the batch refresh precomputed
    "navigate-head": (NAVIGATE, lambda r: {"q": r.choice(HEAD_QUERIES)}),
    "searchQuery": (
        "query($q: String!) { searchQuery(text: $q) { key products(first: 5) { edges { node { count "
        "product { id title } } } } intentions(first: 5) { edges { node { relation intention { text } } } } } }",
        lambda r: {"q": f"query {r.randrange(N_QUERIES)}"},
    ),
}
CEILING_QUERY = "query($id: ID!) { product(id: $id) { id title } }"


def fragment_bomb(n: int) -> str:
    """A document whose ``n`` fragments each spread the next one twice (2^n fields)."""
    frags = [f"fragment F{i} on Product {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n - 1)]
    frags.append(f"fragment F{n - 1} on Product {{ id title }}")
    return '{ product(id: "p1") { ...F0 } } ' + " ".join(frags)


# hostile documents the app must refuse (TOO_COMPLEX) in time linear in their size
REFUSED = {f"bomb-{n}": fragment_bomb(n) for n in (30, 300)}

N_PRODUCTS = 6000
N_QUERIES = 2000
N_INTENTIONS = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the synthetic graph ------------------------------------------------------------------
def build_graph(store: Any, *, seed: int = 0, per_product: int = 12, per_query: int = 10) -> int:
    """Write products, queries, intentions, behaviour and knowledge edges; return edge count."""
    from cosmo.core.schema import RELATION_TAIL_TYPES, RELATIONS, relation_type

    r = random.Random(seed)
    rels = list(RELATIONS)
    weights = [1.0 / (k + 1) ** 0.6 for k in range(N_INTENTIONS)]  # a few popular intentions
    intent_rel = {k: rels[k % len(rels)] for k in range(N_INTENTIONS)}
    for _ in store.write_batches(
        "UNWIND $rows AS r CREATE (:Product {id: r.id, title: r.title, type: r.type, domain: r.domain})",
        [
            {
                "id": f"p{n}",
                "title": f"product {n} {r.choice(['tent', 'mat', 'socks', 'lamp', 'bag'])}",
                "type": f"type{n % 50}",
                "domain": f"domain{n % 10}",
            }
            for n in range(N_PRODUCTS)
        ],
    ):
        pass
    for _ in store.write_batches(
        "UNWIND $rows AS r CREATE (:Query {key: r.key, text: r.key})",
        [{"key": f"query {n}"} for n in range(N_QUERIES)],
    ):
        pass
    for _ in store.write_batches(
        "UNWIND $rows AS r CREATE (:Intention {id: r.id, text: r.text, tail_type: r.tt, aliases: []})",
        [
            {"id": f"i{k}", "text": f"intention {k}", "tt": RELATION_TAIL_TYPES[intent_rel[k]]}
            for k in range(N_INTENTIONS)
        ],
    ):
        pass
    edges = 0
    sb = []
    for q in range(N_QUERIES):
        for p in r.sample(range(N_PRODUCTS), 5):
            sb.append({"q": f"query {q}", "p": f"p{p}", "c": r.randint(1, 50)})
    for s in store.write_batches(
        "UNWIND $rows AS r MATCH (q:Query {key: r.q}), (p:Product {id: r.p}) CREATE (q)-[:SEARCH_BUY {count: r.c}]->(p)",
        sb,
    ):
        edges += s.relationships_created
    cb = set()
    while len(cb) < 10_000:
        a, b = r.sample(range(N_PRODUCTS), 2)
        cb.add((min(a, b), max(a, b)))
    for s in store.write_batches(
        "UNWIND $rows AS r MATCH (a:Product {id: r.a}), (b:Product {id: r.b}) CREATE (a)-[:CO_BUY {count: r.c}]->(b)",
        [{"a": f"p{a}", "b": f"p{b}", "c": r.randint(1, 20)} for a, b in sorted(cb)],
    ):
        edges += s.relationships_created
    by_rel: dict[str, list[dict[str, Any]]] = {rel: [] for rel in rels}
    for label, count, per in (
        ("Product", N_PRODUCTS, per_product),
        ("Query", N_QUERIES, per_query),
    ):
        for n in range(count):
            for k in set(r.choices(range(N_INTENTIONS), weights=weights, k=per)):
                node = f"p{n}" if label == "Product" else f"query {n}"
                by_rel[intent_rel[k]].append(
                    {
                        "label": label,
                        "n": node,
                        "i": f"i{k}",
                        "pl": round(r.uniform(0.5, 1.0), 3),
                        "src": [
                            f"sb:query {r.randrange(N_QUERIES)}|p{n}"
                            if label == "Product"
                            else f"sb:{node}|p0"
                        ],
                    }
                )
    for rel, rows in by_rel.items():
        t = relation_type(rel)
        for label, key in (("Product", "id"), ("Query", "key")):
            part = [x for x in rows if x["label"] == label]
            for s in store.write_batches(
                f"UNWIND $rows AS r MATCH (h:{label} {{{key}: r.n}}), (i:Intention {{id: r.i}}) "
                f"CREATE (h)-[:{t} {{plausibility: r.pl, typicality: r.pl, frequency: 1, sources: r.src, "
                "model: 'synthetic', pipeline_run: 'bench', created_run: 'bench', created_seq: 1}]->(i)",
                part,
            ):
                edges += s.relationships_created
    from cosmo.kg.derived import refresh_product_counts

    refresh_product_counts(store)  # what every cosmo load keeps (navigation's specificity)
    return edges


# -- servers --------------------------------------------------------------------------------
@strawberry.type
class ConstProduct:
    id: strawberry.ID
    title: str


@strawberry.type
class ConstQuery:
    @strawberry.field
    async def product(self, id: strawberry.ID) -> ConstProduct:
        return ConstProduct(id=id, title="constant")


def ceiling_app() -> Any:
    """Bare FastAPI + Strawberry with a constant resolver, parser and validation caches on."""
    from fastapi import FastAPI
    from strawberry.extensions import ParserCache, ValidationCache
    from strawberry.fastapi import GraphQLRouter

    schema = strawberry.Schema(
        ConstQuery,
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )
    app = FastAPI()
    app.include_router(GraphQLRouter(schema), prefix="/graphql")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(kind: str, port: int, db_port: int, graph: str, state: str, profile: str | None) -> None:
    import uvicorn

    if kind == "ceiling":
        app = ceiling_app()
    else:
        from cosmo.api import ApiSettings, create_app
        from cosmo.core.settings import Settings

        core = Settings(state_dir=Path(state), falkordb_port=db_port, graph=graph)
        # "app": every cache off (each request reads the graph); "app+cache": the defaults,
        # i.e. the response cache and the navigation cache on
        off = {"response_cache_size": 0, "nav_cache_ttl_s": 0} if kind == "app" else {}
        app = create_app(ApiSettings(key_prefix=PREFIX, **off), core=core)
    if profile:
        from pyinstrument import Profiler

        # the whole thread (event loop included), so every concurrent request is in it
        prof = Profiler(async_mode="disabled", interval=0.0005)

        inner = app

        async def app(scope: Any, receive: Any, send: Any) -> None:  # type: ignore[no-redef]
            if scope["type"] == "http" and not prof.is_running:
                prof.start()  # from the first request on, so start-up is not in the profile
            await inner(scope, receive, send)

        def dump(*_: Any) -> None:
            if prof.is_running:
                prof.stop()
            Path(profile).write_text(prof.output_text(unicode=False, color=False, show_all=False))
            os._exit(0)

        signal.signal(signal.SIGTERM, dump)
    # critical: wrk drops in-flight requests when it stops, which uvicorn logs as errors
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="critical", access_log=False)


def start_server(
    kind: str, args: Any, profile: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [
        sys.executable,
        __file__,
        "_serve",
        kind,
        str(port),
        str(args.db_port),
        args.graph,
        args.state,
    ]
    if profile:
        cmd.append(profile)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


# -- load -----------------------------------------------------------------------------------
_LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", (threads - 1) * math.floor(#bodies / 2))
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, bodies[((n + offset) %% #bodies) + 1])
end
"""


def _ms(v: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m|h)", v)
    if not m:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return float(m.group(1)) * scale[m.group(2)]


def wrk(port: int, bodies: list[str], conc: int, duration: float, tmp: Path) -> dict[str, float]:
    body_file = tmp / "bodies.txt"
    body_file.write_text("\n".join(bodies) + "\n")
    script = tmp / "load.lua"
    script.write_text(_LUA % body_file)
    cmd = [
        "wrk",
        f"-t{min(conc, 2)}",
        f"-c{conc}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = parse_wrk(out)
    return {"rps": res["rps"], "p50": res["p50"], "p99": res["p99"], "errors": res["non2xx"]}


def parse_wrk(out: str) -> dict[str, float]:
    """What ``wrk --latency`` printed: req/s, requests, p50 and p99 (ms), non-2xx answers and
    socket errors (connect, read, write, timeout)."""
    # anchored: the "+/- Stdev" column of the thread stats can also end in "50%" (e.g. "92.50%")
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    reqs = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "requests": reqs,
        "p50": p50,
        "p99": p99,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": float(sum(int(g) for g in sock.groups())) if sock else 0.0,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``), 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def precompute(settings: Any, top: int) -> list[str]:
    """Run the refresh job's navigation step for the ``top`` most frequent queries."""
    import redis.asyncio as aioredis

    from cosmo.api.services.graph import GraphReader
    from cosmo.api.services.nav_store import (
        NavigationStore,
        frequent_queries,
        precompute_navigation,
    )
    from cosmo.api.services.version import GraphVersion
    from cosmo.api.settings import ApiSettings
    from cosmo.kg.factory import open_async_store

    api = ApiSettings(key_prefix=PREFIX)
    store = open_async_store(settings)
    redis = aioredis.Redis.from_url(settings.cache_url, decode_responses=True)
    try:
        reader = GraphReader(store)
        version = GraphVersion(reader, redis, prefix=PREFIX, check_s=0)
        nav = NavigationStore(redis, version, prefix=PREFIX, ttl_s=api.preload_ttl_s)
        rows = await frequent_queries(reader, top)
        await precompute_navigation(
            reader,
            nav,
            top=top,
            cap=api.max_candidates,
            facet_products=api.facet_products,
            queries=rows,
        )
        return [r["key"] for r in rows]
    finally:
        await store.close()
        await redis.aclose()


#: query → (document, the variables of the item of rank r in the Zipf order)
ZIPF: list[tuple[str, tuple[str, Any]]] = [
    ("product", (QUERIES["product"][0], lambda r: {"id": f"p{r}"})),
    ("navigate", (NAVIGATE, lambda r: {"q": f"query {r}"})),
]


def zipf_stream(
    q: tuple[str, Any], name: str, s: float, length: int = 60_000, seed: int = 2
) -> list[str]:
    """``length`` request bodies whose items follow Zipf(``s``) over every product / query.

    The item of rank ``r`` is drawn with probability ∝ ``1 / r**s``; ranks are shuffled onto
    ids so popularity is unrelated to the graph's own structure.
    """
    import numpy as np

    n = N_PRODUCTS if name == "product" else N_QUERIES
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n + 1) ** s
    ids = rng.permutation(n)[rng.choice(n, size=length, p=p / p.sum())]
    doc, make = q
    return [json.dumps({"query": doc, "variables": make(int(i))}) for i in ids]


def cache_counts(port: int) -> tuple[float, float]:
    """(hits, misses) of the app's response cache, from its Prometheus ``/metrics``."""
    import httpx

    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    except httpx.HTTPError:
        return 0.0, 0.0
    got = dict(re.findall(r'cosmo_api_response_cache_total\{result="(\w+)"\} ([\d.e+]+)', text))
    return float(got.get("hit", 0)), float(got.get("miss", 0))


def send_all(port: int, bodies: list[str]) -> None:
    """Send every body once, one at a time."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for b in bodies:
            client.post("/graphql", content=b, headers={"content-type": "application/json"})


def check_answers(port: int, bodies: list[str], *, refused: bool = False) -> None:
    """The first bodies answer without errors (or, ``refused``, with TOO_COMPLEX)."""
    import httpx

    for b in bodies[:3]:
        data = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            content=b,
            headers={"content-type": "application/json"},
            timeout=30,
        ).json()
        if refused and "TOO_COMPLEX" not in json.dumps(data.get("errors")):
            raise SystemExit(f"a hostile document was not refused: {str(data)[:200]}")
        if not refused and data.get("errors"):
            raise SystemExit(f"query failed: {data['errors'][0]['message']}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--conc", default="1,8,32")
    ap.add_argument(
        "--nav-top", type=int, default=200, help="frequent queries whose navigation is precomputed"
    )
    ap.add_argument(
        "--bodies", type=int, default=200, help="distinct request bodies (random ids) per query"
    )
    ap.add_argument(
        "--zipf",
        type=float,
        default=None,
        help="app+cache only: send a Zipf(S)-distributed stream over every product / query "
        "(a search log's skew) to a cold cache instead of cycling --bodies bodies",
    )
    ap.add_argument(
        "--profile", action="store_true", help="write a pyinstrument profile of the app"
    )
    ap.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    from cosmo.core.settings import Settings
    from cosmo.kg.falkordb_store import FalkorDBStore
    from cosmo.kg.server import EmbeddedServer

    tmp = Path(tempfile.mkdtemp(prefix="cosmo-bench-"))
    args.db_port, args.graph, args.state = free_port(), "bench", str(tmp / "state")
    settings = Settings(state_dir=Path(args.state), falkordb_port=args.db_port, graph=args.graph)
    server = EmbeddedServer(settings)
    db_pid = server.start().pid or 0
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store = FalkorDBStore.from_settings(settings)
        store.setup()
        t = time.perf_counter()
        edges = build_graph(store)
        total = store.query("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
        print(
            f"graph: {total} edges ({edges} written in {time.perf_counter() - t:.1f} s), "
            f"{N_PRODUCTS} products, {N_QUERIES} queries, {N_INTENTIONS} intentions"
        )
        t = time.perf_counter()
        head = asyncio.run(precompute(settings, args.nav_top))
        HEAD_QUERIES[:] = head
        LIVE_QUERIES[:] = sorted({f"query {n}" for n in range(N_QUERIES)} - set(head))
        print(
            f"navigation of the {len(head)} most frequent queries precomputed in "
            f"{time.perf_counter() - t:.1f} s (the batch refresh); 'navigate' draws from the "
            f"other {len(LIVE_QUERIES)}, 'navigate-head' from these"
        )
        rng = random.Random(1)
        concs = [int(c) for c in args.conc.split(",")]
        rows: list[dict[str, Any]] = []
        plans = [
            (
                "ceiling",
                "constant",
                [
                    json.dumps({"query": CEILING_QUERY, "variables": {"id": f"p{i}"}})
                    for i in range(200)
                ],
            )
        ]
        plans += [
            (
                "app",
                name,
                [json.dumps({"query": q, "variables": make(rng)}) for _ in range(args.bodies)],
            )
            for name, (q, make) in QUERIES.items()
        ]
        if args.zipf:
            plans += [("app+cache", name, zipf_stream(q, name, args.zipf)) for name, q in ZIPF]
        plans += [("app", name, [json.dumps({"query": doc})]) for name, doc in REFUSED.items()]
        for kind in ("ceiling", "app", "app+cache"):
            proc, port = start_server(kind, args)
            procs.append(proc)
            zipf_cells = kind == "app+cache" and args.zipf is not None
            plan_kind = kind if zipf_cells else kind.split("+")[0]  # with --zipf: the Zipf streams
            for k, name, bodies in plans:
                if k != plan_kind:
                    continue
                check_answers(port, bodies, refused=name in REFUSED)
                if kind == "app+cache" and not zipf_cells:
                    send_all(port, bodies)  # a warm cache: the cells measure the steady state
                wrk(port, bodies, 8, args.warmup, tmp)
                for c in concs:
                    cpu0, db0 = cpu_seconds(proc.pid), cpu_seconds(db_pid)
                    hits0 = cache_counts(port)
                    res = wrk(port, bodies, c, args.duration, tmp)
                    n = max(1.0, res["rps"] * max(1, round(args.duration)))
                    res["api_cpu_ms"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / n
                    res["db_cpu_ms"] = (cpu_seconds(db_pid) - db0) * 1000 / n
                    hits1 = cache_counts(port)
                    looked = (hits1[0] - hits0[0]) + (hits1[1] - hits0[1])
                    res["hit_rate"] = (hits1[0] - hits0[0]) / looked if looked else float("nan")
                    rows.append({"server": kind, "query": name, "c": c, **res})
                    print(
                        f"  {kind:9s} {name:12s} c={c:<3d} {res['rps']:8.0f} req/s  "
                        f"p50 {res['p50']:6.2f} ms  p99 {res['p99']:6.2f} ms  "
                        f"CPU/req: api {res['api_cpu_ms']:.2f} ms, db {res['db_cpu_ms']:.2f} ms"
                        + (f"  hits {res['hit_rate']:.1%}" if looked else "")
                    )
            proc.terminate()
            proc.wait(10)
        ceiling = {r["c"]: r["rps"] for r in rows if r["server"] == "ceiling"}
        if args.zipf:
            print(
                f"\napp+cache: Zipf({args.zipf}) streams over all {N_PRODUCTS} products / "
                f"{N_QUERIES} queries, cold cache at the first cell (no pre-pass); cells run "
                "in order, so the hit rate is the one reached by then"
            )
        print(
            f"\n{args.bodies} distinct request bodies per query, ids drawn uniformly; "
            "app = response and navigation caches off; app+cache = defaults (response cache "
            "+ navigation cache), measured after one pass over the bodies (a warm cache); "
            f"navigate-head = the {len(HEAD_QUERIES)} queries with precomputed navigation"
        )
        print(
            "\n| server | query | c | req/s | p50 ms | p99 ms | × ceiling | API CPU ms/req "
            "| DB CPU ms/req | × ceiling (CPU) | cache hits |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        ceiling_cpu = {r["c"]: r["api_cpu_ms"] for r in rows if r["server"] == "ceiling"}
        for r in rows:
            ratio = r["rps"] / ceiling[r["c"]] if ceiling.get(r["c"]) else float("nan")
            r["ratio"] = ratio
            # the throughput ratio both would have with the same CPU: ceiling CPU/request / ours
            spent = r["api_cpu_ms"] + r["db_cpu_ms"]
            r["cpu_ratio"] = (
                ceiling_cpu.get(r["c"], float("nan")) / spent if spent else float("nan")
            )
            hits = "" if r["hit_rate"] != r["hit_rate"] else f"{r['hit_rate']:.1%}"
            print(
                f"| {r['server']} | {r['query']} | {r['c']} | {r['rps']:.0f} | {r['p50']:.2f} "
                f"| {r['p99']:.2f} | {ratio:.2f} | {r['api_cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} "
                f"| {r['cpu_ratio']:.2f} | {hits} |"
            )
        if args.out:
            args.out.write_text(json.dumps({"edges": total, "rows": rows}, indent=2))
        if args.profile:
            # one profile per query, of the uncached path (the app with every cache off)
            for name in ("product", "navigate"):
                prof_file = Path(tempfile.gettempdir()) / f"cosmo-bench-api-profile-{name}.txt"
                prof_file.unlink(missing_ok=True)
                proc, port = start_server("app", args, profile=str(prof_file))
                procs.append(proc)
                bodies = next(b for k, n, b in plans if n == name)
                wrk(port, bodies, 1, args.duration, tmp)
                proc.terminate()
                proc.wait(30)
                text = prof_file.read_text() if prof_file.exists() else "(no profile written)"
                print(f"\nprofile of {name} (pyinstrument, app without caches, c=1): {prof_file}")
                print("\n".join(text.splitlines()[:45]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        serve(
            sys.argv[2],
            int(sys.argv[3]),
            int(sys.argv[4]),
            sys.argv[5],
            sys.argv[6],
            sys.argv[7] if len(sys.argv) > 7 else None,
        )
    else:
        main()
