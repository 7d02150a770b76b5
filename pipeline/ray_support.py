"""Ray, optional: importing it, reaching a cluster fast or failing with a clear message.

Ray is the ``ray`` extra (``pip install 'cosmo-kg[ray]'``); nothing imports it at module
level, so cosmo works without it until ``--engine ray`` or ``--workers N`` asks for it.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cosmo.core.errors import ConfigError

__all__ = ["check_address", "connect", "import_ray"]

_INSTALL = "install it with `pip install 'cosmo-kg[ray]'` (install.sh does)"


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError(
            f"the Ray engine needs Ray, which is not installed here: {_INSTALL}"
        ) from e
    return ray


def check_address(address: str, timeout: float) -> None:
    """Fail within ``timeout`` seconds when nothing answers at ``host:port`` (or ``ray://``)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray-gcs://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as e:
        raise ConfigError(f"--ray-address {address!r} is not host:port or ray://host:port") from e
    if not host or port is None:
        raise ConfigError(f"--ray-address {address!r} is not host:port or ray://host:port")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise ConfigError(
            f"no Ray cluster answers at {address} ({why} after at most {timeout:g} s); "
            "start one with `ray start --head` or give the right --ray-address"
        ) from e


def connect(
    address: str | None,
    *,
    num_cpus: int | None = None,
    temp_dir: str | None = None,
    object_store_mb: int = 200,
    timeout: float = 3.0,
) -> Any:
    """Ray, initialised: the running session, the cluster at ``address``, or a local one."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    try:
        if address:
            check_address(address, timeout)
            ray.init(address=address, log_to_driver=False)
        else:
            if temp_dir:
                Path(temp_dir).mkdir(parents=True, exist_ok=True)
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                object_store_memory=object_store_mb * 1024 * 1024,
                _temp_dir=temp_dir,
                log_to_driver=False,
            )
    except ConfigError:
        raise
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ConfigError(
            f"could not start or reach Ray at {address or 'a local cluster'}: {e}"
        ) from e
    return ray
