"""FalkorDB read replicas: the replica's configuration, and a pool that serves reads from them.

A replica is a second FalkorDB server started with ``cosmo db start --replica-of HOST:PORT``
(Redis ``REPLICAOF``): it copies the primary's data set, then follows its write stream, and
refuses writes. :class:`ReplicaReads` is the :class:`~cosmo.kg.store.AsyncGraphStore` the
API reads through when ``COSMO_FALKORDB_REPLICAS`` names replicas: every read goes to a
replica (``GRAPH.RO_QUERY``, round robin) and falls to the next one, then to the primary,
only when a server is unreachable. Writes never pass through it; loaders write to the
primary. :func:`check_replicas` compares a graph's counts on the primary and its replicas
after a first build, and resyncs a replica that lacks it.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from cosmo.core.errors import ConfigError, StoreUnavailable
from cosmo.kg.search import FALKORDB, AsyncSearch, Dialect
from cosmo.kg.store import AsyncGraphStore, Health, Row

if TYPE_CHECKING:
    from pydantic import SecretStr

    from cosmo.core.settings import Settings
    from cosmo.kg.falkordb_store import FalkorDBStore

__all__ = [
    "ReplicaReads",
    "check_replicas",
    "check_replicas_of",
    "parse_address",
    "parse_addresses",
    "replica_conf",
    "replica_settings",
]

_ADDRESS = re.compile(r"^\s*([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})\s*$")


def parse_address(text: str, what: str = "address") -> tuple[str, int]:
    """``HOST:PORT`` as ``(host, port)``; a clear error naming ``what`` otherwise."""
    m = _ADDRESS.match(text)
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise ConfigError(f"{what} must be HOST:PORT (port 1-65535), got {text!r}")
    return m.group(1).strip("[]"), int(m.group(2))


def parse_addresses(text: str, what: str = "COSMO_FALKORDB_REPLICAS") -> list[tuple[str, int]]:
    """A comma-separated list of ``HOST:PORT`` (empty text: no replicas)."""
    return [parse_address(part, what) for part in text.split(",") if part.strip()]


def replica_settings(settings: Settings) -> list[Settings]:
    """``settings`` once per replica ``COSMO_FALKORDB_REPLICAS`` names, pointing at it."""
    return [
        settings.model_copy(update={"falkordb_host": h, "falkordb_port": p})
        for h, p in parse_addresses(settings.falkordb_replicas)
    ]


def replica_conf(host: str, port: int, password: SecretStr | None) -> list[str]:
    """The ``redis.conf`` lines that make a server a read-only replica of ``host:port``."""
    lines = [f"replicaof {host} {port}", "replica-read-only yes", "replica-serve-stale-data yes"]
    if password is not None:
        pw = password.get_secret_value().replace('"', '\\"')
        lines.append(f'masterauth "{pw}"')
    return lines


class ReplicaReads(AsyncSearch):
    """Reads from a pool of replicas (round robin), the primary only when none answers."""

    backend: ClassVar[str] = "falkordb"
    dialect: ClassVar[Dialect] = FALKORDB

    def __init__(self, primary: AsyncGraphStore, replicas: Sequence[AsyncGraphStore]) -> None:
        if not replicas:
            raise ConfigError("a replica pool needs at least one replica")
        self.primary = primary
        self.replicas = list(replicas)
        self._next = itertools.cycle(range(len(self.replicas)))
        self.fallbacks = 0  # reads a replica could not serve

    def _order(self) -> list[AsyncGraphStore]:
        first = next(self._next)
        n = len(self.replicas)
        return [self.replicas[(first + i) % n] for i in range(n)] + [self.primary]

    async def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        last: StoreUnavailable | None = None
        for store in self._order():
            try:
                return await store.query(cypher, params, timeout_ms=timeout_ms)
            except StoreUnavailable as e:
                self.fallbacks += 1
                last = e
        assert last is not None
        raise last

    async def health(self) -> Health:
        """Healthy when a replica (or else the primary) answers."""
        t = time.perf_counter()
        details = []
        for store in self._order():
            h = await store.health()
            if h.ok:
                n = len(self.replicas)
                return Health(True, "falkordb", f"{h.detail}, {n} replica(s)", h.latency_ms)
            details.append(h.detail)
        return Health(False, "falkordb", "; ".join(details), (time.perf_counter() - t) * 1000)

    async def close(self) -> None:
        for store in [*self.replicas, self.primary]:
            await store.close()


def _counts(store: FalkorDBStore) -> tuple[int, int]:
    if not store.exists():
        return 0, 0
    n = store.query("MATCH (n) RETURN count(n) AS n")[0]["n"]
    e = store.query("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return int(n), int(e)


def _caught_up(primary: FalkorDBStore, replica: FalkorDBStore, timeout_s: float) -> bool:
    """Wait until the replica has applied everything the primary sent (replication offsets)."""
    deadline = time.monotonic() + timeout_s
    while True:
        want = int(primary.client.connection.info("replication")["master_repl_offset"])
        info = replica.client.connection.info("replication")
        if info.get("master_link_status") == "up" and int(info["slave_repl_offset"]) >= want:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def check_replicas(
    primary: FalkorDBStore,
    replicas: Sequence[FalkorDBStore],
    *,
    say: Callable[[str], None] = print,
    timeout_s: float = 60.0,
) -> list[str]:
    """After a first build: make every replica hold the primary's graph; return what was done.

    A replica whose node and edge counts differ from the primary's once it has caught up
    (a ``GRAPH.BULK`` build that was not replicated) is resynced: told to follow the
    primary again from scratch (``REPLICAOF NO ONE``, ``FLUSHALL``, then ``REPLICAOF``
    with a fresh replication id, which forces a full copy), and checked again.
    """
    want = _counts(primary)
    done = []
    for replica in replicas:
        conn = replica.client.connection
        where = "{host}:{port}".format(**conn.connection_pool.connection_kwargs)
        if _caught_up(primary, replica, timeout_s) and _counts(replica) == want:
            done.append(f"replica {where} holds the graph ({want[0]} nodes, {want[1]} edges)")
            continue
        say(f"replica {where} lacks the primary's graph {primary.graph_name!r}: resyncing it")
        resync(primary, replica)
        if not (_caught_up(primary, replica, max(timeout_s, 120.0)) and _counts(replica) == want):
            raise StoreUnavailable(f"replica {where} did not catch up with the primary")
        done.append(f"replica {where} resynced ({want[0]} nodes, {want[1]} edges)")
    for line in done:
        say(line)
    return done


def check_replicas_of(
    settings: Settings, primary: FalkorDBStore, *, say: Callable[[str], None] = print
) -> list[str]:
    """:func:`check_replicas` on the replicas ``COSMO_FALKORDB_REPLICAS`` names."""
    from cosmo.kg.falkordb_store import FalkorDBStore

    replicas = [FalkorDBStore.from_settings(s) for s in replica_settings(settings)]
    try:
        return check_replicas(primary, replicas, say=say)
    finally:
        for r in replicas:
            r.close()


def resync(primary: FalkorDBStore, replica: FalkorDBStore) -> None:
    """Make ``replica`` copy the primary's whole data set again (a full synchronisation)."""
    kw = primary.client.connection.connection_pool.connection_kwargs
    conn = replica.client.connection
    conn.execute_command("REPLICAOF", "NO", "ONE")
    conn.execute_command("FLUSHALL")
    conn.execute_command("REPLICAOF", kw["host"], str(kw["port"]))
