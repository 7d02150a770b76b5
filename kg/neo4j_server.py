"""A Neo4j 5 Community server that cosmo resolves, configures and starts itself.

Maven Central ships Neo4j as jars, not as the tarball, so there are no start scripts and no
conf files. ``cosmo db start --backend neo4j``:

1. resolves the jars pinned in ``neo4j_jars/pom.xml`` once, with ``mvn
   dependency:copy-dependencies``, into ``<state_dir>/neo4j/lib`` (or ``COSMO_NEO4J_LIB_DIR``);
2. writes ``<state_dir>/neo4j/conf/neo4j.conf``: data, logs and run files under the state
   folder, Bolt and HTTP on the loopback host of ``COSMO_NEO4J_URI`` and
   ``COSMO_NEO4J_HTTP_PORT``, an explicit heap and page cache, authentication on;
3. sets the initial password from ``COSMO_NEO4J_PASSWORD`` (through an argument file of mode
   0600, so it never shows on a command line), the first time only;
4. starts ``org.neo4j.server.CommunityEntryPoint`` with the JVM flags Neo4j's own launcher
   passes, writes a pid file, and returns once Bolt answers with that password.

``stop`` ends that pid only. Every failure (no Java, no Maven, a port taken, a refused
password, a server that does not come up) raises :class:`~cosmo.core.errors.ServerError` with the
fix, and leaves no server half-started.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from cosmo.core.errors import ConfigError, ServerError
from cosmo.core.settings import Settings
from cosmo.kg.procs import log_tail, read_pid, terminate
from cosmo.kg.server import ServerStatus

__all__ = ["POM", "Neo4jServer", "neo4j_version"]

POM = Path(__file__).resolve().parent / "neo4j_jars" / "pom.xml"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
GUIDE_HOSTS = ("127.0.0.1", "localhost")
# The flags the default neo4j.conf of the 5.26 distribution hands its launcher.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


def neo4j_version(pom: Path = POM) -> str:
    """The Neo4j version pinned in the pom."""
    m = re.search(r"<neo4j\.version>([^<]+)</neo4j\.version>", pom.read_text())
    if m is None:  # pragma: no cover - the pom is part of the package
        raise ServerError(f"{pom} names no neo4j.version")
    return m.group(1)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Neo4jServer:
    """Resolve, configure, start, check and stop the Neo4j server described by ``settings``.

    Nothing happens in the constructor; each method does what its name says.
    """

    name = "Neo4j"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.neo4j_dir.resolve()
        self.conf_dir = self.home / "conf"
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.pid_file = self.home / "neo4j.pid"
        self.console_log = self.logs_dir / "console.log"
        self.jars = settings.neo4j_jars.resolve()

    # -- where ------------------------------------------------------------------
    @property
    def bolt_address(self) -> tuple[str, int]:
        """Host and port of ``COSMO_NEO4J_URI``; cosmo starts loopback servers only."""
        parts = urlsplit(self.settings.neo4j_uri)
        host = parts.hostname or ""
        if host not in LOOPBACK:
            raise ConfigError(
                f"COSMO_NEO4J_URI is {self.settings.neo4j_uri}; cosmo starts a Neo4j server on "
                "this machine only, so point it at bolt://127.0.0.1:<port>"
            )
        return ("127.0.0.1" if host == "localhost" else host), parts.port or 7687

    def _markers(self) -> tuple[str, tuple[str, ...]]:
        return ENTRY_POINT, (f"--config-dir={self.conf_dir}",)

    # -- the pieces -------------------------------------------------------------
    def java(self) -> str:
        """The ``java`` to run (``$JAVA_HOME/bin/java``, else the one on PATH); 17 or newer."""
        home = os.environ.get("JAVA_HOME")
        java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
        if not java or not Path(java).exists():
            raise ServerError(
                "Neo4j needs Java 17 or 21, and none was found: install it "
                "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
            )
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
        m = re.search(r'version "(\d+)', out.stderr + out.stdout)
        if m is None or int(m.group(1)) < 17:
            raise ServerError(
                f"{java} is not Java 17 or newer ({(out.stderr or out.stdout).strip()[:80]}); "
                "install OpenJDK 17 and set JAVA_HOME to it."
            )
        return java

    def resolve_jars(self, say: Callable[[str], None] = print) -> Path:
        """Neo4j's jars, resolved with Maven the first time (and when the pom changes)."""
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()
        marker = self.jars / ".pom-sha256"
        if marker.exists() and marker.read_text().strip() == digest:
            return self.jars
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServerError(
                "Maven (mvn) is needed once, to fetch Neo4j's jars: install it "
                f"(apt-get install maven), or put the jars of {POM} in COSMO_NEO4J_LIB_DIR."
            )
        say(f"resolving Neo4j {neo4j_version()} with Maven into {self.jars} (once) ...")
        self.jars.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.jars.parent / f".lib-{uuid.uuid4().hex[:8]}"
        proc = subprocess.run(
            [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
             f"-DoutputDirectory={tmp}"],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0 or not any(tmp.glob("neo4j-*.jar")):
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
            raise ServerError(f"Maven could not resolve Neo4j's jars ({POM}):\n{tail}")
        (tmp / ".pom-sha256").write_text(digest)
        old = self.jars.parent / f".old-{uuid.uuid4().hex[:8]}"
        if self.jars.exists():
            self.jars.rename(old)
        tmp.rename(self.jars)
        shutil.rmtree(old, ignore_errors=True)
        return self.jars

    def conf_lines(self) -> list[str]:
        """The ``neo4j.conf`` cosmo writes (no secret in it)."""
        s = self.settings
        host, bolt = self.bolt_address
        return [
            f"server.directories.data={self.data_dir}",
            f"server.directories.logs={self.logs_dir}",
            f"server.directories.run={self.home / 'run'}",
            f"server.directories.import={self.home / 'import'}",
            f"server.directories.plugins={self.home / 'plugins'}",
            f"server.directories.lib={self.jars}",
            f"server.default_listen_address={host}",
            f"server.default_advertised_address={host}",
            f"server.bolt.listen_address={host}:{bolt}",
            f"server.bolt.advertised_address={host}:{bolt}",
            f"server.http.listen_address={host}:{s.neo4j_http_port}",
            f"server.http.advertised_address={host}:{s.neo4j_http_port}",
            "server.https.enabled=false",
            f"server.memory.heap.initial_size={s.neo4j_heap}",
            f"server.memory.heap.max_size={s.neo4j_heap}",
            f"server.memory.pagecache.size={s.neo4j_pagecache}",
            "dbms.security.auth_enabled=true",
            "server.jvm.additional=" + " ".join(JVM_FLAGS),
            "client.allow_telemetry=false",
            # Neo4j Browser may load guides (`:play <url>`) from these hosts only: cosmo's own
            f"browser.remote_content_hostname_whitelist={','.join(GUIDE_HOSTS)}",
            "dbms.usage_report.enabled=false",
            # Bolt's network threads wait a quiet period (5 s, twice) before they stop, after
            # the databases are already checkpointed and closed; a stop took 10 s for that
            "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        ]

    def write_conf(self) -> Path:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for d in (self.data_dir, self.logs_dir, self.home / "run", self.home / "import"):
            d.mkdir(parents=True, exist_ok=True)
        conf = self.conf_dir / "neo4j.conf"
        conf.write_text("\n".join(self.conf_lines()) + "\n")
        return conf

    def _env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}

    def admin(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``neo4j-admin`` (``org.neo4j.cli.AdminTool``) from the resolved jars."""
        cmd = [self.java(), "-cp", f"{self.jars}/*", ADMIN_TOOL, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self._env(), timeout=timeout)

    def _password(self) -> str:
        pw = self.settings.neo4j_password
        if pw is None or not pw.get_secret_value():
            raise ConfigError(
                "Set COSMO_NEO4J_PASSWORD (at least 8 characters): Neo4j runs with "
                "authentication on, and passwords come from the environment."
            )
        return pw.get_secret_value()

    def set_initial_password(self) -> None:
        """Give user ``neo4j`` the password from the environment, before the first start."""
        if (self.data_dir / "dbms" / "auth.ini").exists():
            return
        pw = self._password()
        quoted = '"' + pw.replace("\\", "\\\\").replace('"', '\\"') + '"'
        fd, path = tempfile.mkstemp(prefix=".pw-", dir=self.home)  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(quoted)
            proc = self.admin("dbms", "set-initial-password", f"@{path}", timeout=300)
        finally:
            os.unlink(path)
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise ServerError(
                "Neo4j refused the initial password from COSMO_NEO4J_PASSWORD: "
                + (msg[0] if msg else f"exit {proc.returncode}")
            )

    # -- commands ---------------------------------------------------------------
    def install(self, say: Callable[[str], None] = print) -> str:
        """Check Java and resolve the jars (the one step that needs Maven and a network)."""
        self.java()
        return f"Neo4j {neo4j_version()} jars ready in {self.resolve_jars(say)}"

    def ping(self, timeout: float = 2.0) -> tuple[bool, str]:
        """(answers, detail): Bolt answers and accepts our password."""
        from neo4j import GraphDatabase
        from neo4j import exceptions as ne

        host, port = self.bolt_address
        pw = self.settings.neo4j_password
        auth = (self.settings.neo4j_user, pw.get_secret_value() if pw else "")
        try:
            with GraphDatabase.driver(
                f"bolt://{host}:{port}", auth=auth, connection_timeout=timeout,
                connection_acquisition_timeout=timeout,
            ) as driver:  # fmt: skip
                driver.verify_connectivity()
        except ne.AuthError:
            return False, "it refuses the password in COSMO_NEO4J_PASSWORD"
        except Exception as e:
            return False, f"Bolt does not answer ({type(e).__name__})"
        return True, ""

    def status(self) -> ServerStatus:
        pid = read_pid(self.pid_file, *self._markers())
        host, port = self.bolt_address
        answers, detail = self.ping() if pid or not _port_free(host, port) else (False, "")
        if answers and pid is None:
            detail = "a Neo4j server answers on this port but was not started by cosmo"
        return ServerStatus(pid is not None, pid, host, port, self.data_dir, answers, detail)

    def _check_ports(self) -> None:
        host, bolt = self.bolt_address
        for port, setting in ((bolt, "the port of COSMO_NEO4J_URI"),
                              (self.settings.neo4j_http_port, "COSMO_NEO4J_HTTP_PORT")):  # fmt: skip
            if not _port_free(host, port):
                raise ServerError(
                    f"Port {port} on {host} is taken by another process. Stop it, or change "
                    f"{setting} to a free port."
                )

    def start(self, timeout: float = 180.0, say: Callable[[str], None] = print) -> ServerStatus:
        """Start the server (or leave a running one alone) and wait until Bolt answers."""
        current = self.status()
        if current.running:
            if current.answers:
                return current
            if "password" in current.detail:
                raise ServerError(f"Neo4j runs (pid {current.pid}) but {current.detail}.")
        self._password()
        java = self.java()
        self._check_ports()
        self.resolve_jars(say)
        self.write_conf()
        self.set_initial_password()
        proc = self._launch(java)
        return self._wait(proc, timeout)

    def _launch(self, java: str) -> subprocess.Popen[bytes]:
        heap = self.settings.neo4j_heap
        cmd = [
            java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS, "-cp", f"{self.jars}/*",
            ENTRY_POINT, f"--home-dir={self.home}", f"--config-dir={self.conf_dir}",
        ]  # fmt: skip
        with open(self.console_log, "ab") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.home, env=self._env(),
            )  # fmt: skip
        self.pid_file.write_text(str(proc.pid))
        return proc

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float) -> ServerStatus:
        deadline = time.monotonic() + timeout
        detail = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServerError(
                    f"Neo4j exited with code {proc.returncode} while starting; the last lines "
                    f"of {self._log()}:\n{log_tail(self._log())}"
                )
            answers, detail = self.ping(timeout=1.0)
            if answers:
                return self.status()
            if "password" in detail:
                self.stop()
                raise ServerError(
                    f"Neo4j started but refuses COSMO_NEO4J_PASSWORD: the database in "
                    f"{self.data_dir} was created with another password. Set that one, or "
                    f"delete {self.home} to start afresh."
                )
            time.sleep(0.5)
        self.stop()
        raise ServerError(
            f"Neo4j did not answer on Bolt within {timeout:.0f} s ({detail}) and was stopped; "
            f"see {self._log()}:\n{log_tail(self._log())}"
        )

    def _log(self) -> Path:
        user_log = self.logs_dir / "neo4j.log"
        return user_log if user_log.exists() and user_log.stat().st_size else self.console_log

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the server named in the pid file. Returns False when none was running."""
        pid = read_pid(self.pid_file, *self._markers())
        if pid is not None:
            terminate(pid, *self._markers(), timeout=timeout)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None
