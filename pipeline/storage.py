"""The pipeline's inputs and ``--out`` as local paths or any fsspec URL.

A plain path is used in place. A URL (``s3://``, ``gs://``, ``file://``, ``memory://``,
...) is a :class:`Remote`: the job works in a local scratch folder and the remote holds the
truth (``file://`` too, so a shared volume given as a URL takes the same road as a bucket). Every file goes up atomically (uploaded under a temporary name,
then moved in the same filesystem), a block's manifest after its block, so a block is
finished on the remote exactly when its manifest is there; a rerun pulls the finished
blocks down and generates only the rest. An unknown protocol or a missing backend package
is one :class:`ConfigError`, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosmo.core.errors import ConfigError
from cosmo.core.manifest import MANIFEST_SUFFIX

__all__ = ["Remote", "fetch_input", "local_or_remote"]


def _filesystem(url: str, what: str) -> tuple[Any, str]:
    try:
        from fsspec.core import url_to_fs
    except ImportError as e:  # pragma: no cover - fsspec comes with the base install
        raise ConfigError(f"{what} {url!r} is a URL, which needs the fsspec package") from e
    try:
        return url_to_fs(url)
    except ValueError as e:  # "Protocol not known: nope"
        protocol = url.split("://", 1)[0]
        raise ConfigError(f"{what} {url!r}: unknown fsspec protocol {protocol!r} ({e})") from e
    except (ImportError, OSError) as e:  # "Install s3fs to access S3"
        raise ConfigError(f"{what} {url!r}: this protocol's backend is missing here: {e}") from e


@dataclass(frozen=True)
class Remote:
    """A folder on an fsspec filesystem (picklable: it travels to Ray actors)."""

    url: str

    @property
    def fs(self) -> Any:
        return _filesystem(self.url, "location")[0]

    @property
    def root(self) -> str:
        return _filesystem(self.url, "location")[1].rstrip("/")

    def child(self, name: str) -> Remote:
        return Remote(self.url.rstrip("/") + "/" + name)

    def put(self, local: Path, name: str) -> None:
        """Upload ``local`` as ``name``: to a temporary name first, then moved into place."""
        fs, dest = self.fs, f"{self.root}/{name}"
        tmp = f"{dest}.tmp"
        fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(local), tmp)
        fs.mv(tmp, dest)

    def put_with_manifest(self, local: Path) -> None:
        """An artifact and then its manifest (when it has one): finished once both are up."""
        self.put(local, local.name)
        manifest = local.with_name(local.name + MANIFEST_SUFFIX)
        if manifest.is_file():
            self.put(manifest, manifest.name)

    def put_tree(self, local_dir: Path, skip: tuple[str, ...] = ()) -> None:
        """Every file under ``local_dir`` (but the folders in ``skip``), manifests last."""
        files = [
            f for f in sorted(local_dir.rglob("*"))
            if f.is_file() and f.relative_to(local_dir).parts[0] not in skip
        ]  # fmt: skip
        files.sort(key=lambda f: f.name.endswith(MANIFEST_SUFFIX))
        for f in files:
            self.put(f, f.relative_to(local_dir).as_posix())

    def names(self) -> list[str]:
        fs = self.fs
        if not fs.isdir(self.root):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(self.root, detail=False))

    def pull_finished(self, local_dir: Path) -> list[str]:
        """Remove what a killed writer left here; download every finished artifact not here."""
        names = set(self.names())
        fs, removed = self.fs, []
        for name in sorted(names):
            orphan = name.endswith(".parquet") and name + MANIFEST_SUFFIX not in names
            if name.endswith(".tmp") or orphan:
                fs.rm_file(f"{self.root}/{name}")
                removed.append(name)
        local_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(names):
            here = (local_dir / name).is_file()  # this process wrote it (manifest last)
            if (
                name.endswith(MANIFEST_SUFFIX)
                and name[: -len(MANIFEST_SUFFIX)] in names
                and not here
            ):
                for n in (name[: -len(MANIFEST_SUFFIX)], name):  # the manifest last
                    fs.get_file(f"{self.root}/{n}", str(local_dir / n))
        return removed


def local_or_remote(location: str | Path, what: str) -> Path | Remote:
    """A local path for a path; a :class:`Remote` for a URL (checked: protocol, backend)."""
    text = str(location)
    if "://" not in text:
        return Path(text)
    _filesystem(text, what)
    return Remote(text)


def fetch_input(location: str | Path | None, what: str, work: Path) -> Path | None:
    """A local path for an input: itself, or a remote file downloaded into ``work/inputs``."""
    if location is None:
        return None
    where = local_or_remote(location, what)
    if isinstance(where, Path):
        return where
    fs, path = _filesystem(where.url, what)
    if not fs.isfile(path):
        raise ConfigError(f"{what} {where.url!r}: no such file")
    local = work / "inputs" / path.rstrip("/").rsplit("/", 1)[-1]
    local.parent.mkdir(parents=True, exist_ok=True)
    fs.get_file(path, str(local))
    return local
