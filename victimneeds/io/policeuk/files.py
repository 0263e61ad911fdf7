"""Finding police.uk files (folders, single files, .gz copies, bulk zip archives) and hashing their bytes."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import xxhash

from victimneeds.io._report import DataFileError

_NAME_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-(?P<kind>street|outcomes|stop-and-search)"
    r"(?P<copy> \(\d+\)| - Copy(?: \(\d+\))?| copy(?: \d+)?| \d+)?\.csv(\.gz)?$"
)
"""A police.uk file name, also as a browser or file manager names a second copy of it
("... (1).csv.gz", "... - Copy.csv", "... copy.csv", "... 2.csv"): the copy is then filtered by force and
month like the file, and :func:`read_policeuk` finds it holds the same month (see ``_Member.copy_name``)."""


@dataclass
class _Member:
    label: str  # how the file is named in reports and synthetic ids
    kind: str  # street | outcomes | stop-and-search | unknown
    month: str | None
    force: str | None
    load: Callable[[], bytes]  # returns the (compressed or not) bytes
    gz: bool
    zip_key: str | None = None  # content key from the zip directory, when a zip member
    path: Path | None = None  # the file, when not a zip member
    size: int | None = None  # the inflated size a zip archive records for its member

    def stored_size(self) -> int | None:
        """The size of the file's text before it is read (a zip member's recorded size, a plain file's size),
        or None for gzip, whose size is known only once inflated."""
        if self.size is not None:
            return self.size
        return self.path.stat().st_size if self.path is not None and not self.gz else None

    @property
    def stem(self) -> str:
        name = self.label.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        for suffix in (".gz", ".csv"):
            name = name.removesuffix(suffix)
        return name

    def content_key(self, known: dict[str, list] | None = None) -> str:
        """xxHash-128 of the file's bytes; for a zip member, its name, CRC-32 and size from the archive.

        ``known`` remembers hashes by path, size, modification time and inode (see :class:`_KnownHashes`).
        """
        if self.zip_key is not None or self.path is None:
            return self.zip_key or xxhash.xxh3_128_hexdigest(self.load())
        st = self.path.stat()
        where, stamp = os.path.abspath(self.path), [st.st_size, st.st_mtime_ns, st.st_ino]
        if known is not None and known.get(where, [None])[:-1] == stamp:
            return known[where][-1]
        digest = xxhash.xxh3_128()
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if known is not None and time.time_ns() - st.st_mtime_ns > _SETTLED_NS:
            known[where] = [*stamp, digest.hexdigest()]
        return digest.hexdigest()


#: A file's hash is remembered only once its modification time is this far in the past (2 s), so that a
#: file written twice within one tick of the file system's clock, with the same size, is still hashed again
#: (the "racy" case of git's index, which works the same way).
_SETTLED_NS = 2_000_000_000


class _KnownHashes:
    """The hashes of files already read, by path, size, modification time and inode, kept in the cache
    folder: a second read of unchanged files does not hash their bytes again. The cache key is still the
    hash of the bytes; a file that is replaced (new inode), edited (new time) or resized is hashed again."""

    def __init__(self, cache: Path) -> None:
        self.path = cache / "file-hashes.json"
        try:
            self.known: dict[str, list] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}
        self.before = dict(self.known)

    def save(self) -> None:
        if self.known == self.before:
            return
        tmp = Path(f"{self.path}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.known), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # only costs speed


def _classify(name: str) -> tuple[str, str | None, str | None]:
    base = name.rsplit("/", 1)[-1]
    m = _NAME_RE.match(base)
    if not m:
        return "unknown", None, None
    return m["kind"], m["month"], m["force"]


def _is_copy_name(name: str) -> bool:
    """True when the file is not named as police.uk names its files (a second copy, or renamed)."""
    m = _NAME_RE.match(name.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    return m is None or m["copy"] is not None


def _file_member(path: Path, label: str) -> _Member:
    kind, month, force = _classify(path.name)
    return _Member(label, kind, month, force, path.read_bytes, path.name.endswith(".gz"), path=path)


def _zip_members(path: Path) -> list[_Member]:
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
        archive.close()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataFileError(
            f"{path} is not a readable zip archive (it may be cut short or damaged: {err}). "
            "Download the archive from data.police.uk again."
        ) from None
    members = []
    for info in infos:
        if info.is_dir() or not (info.filename.endswith(".csv") or info.filename.endswith(".csv.gz")):
            continue
        kind, month, force = _classify(info.filename)

        def load(name: str = info.filename) -> bytes:
            try:
                with zipfile.ZipFile(path) as zf:
                    return zf.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                raise DataFileError(
                    f"{path}: the member {name} cannot be read ({err}); the archive is damaged or cut short."
                ) from None

        key = f"{info.filename}:{info.CRC:08x}:{info.file_size}"
        members.append(
            _Member(
                f"{path.name}:{info.filename}",
                kind,
                month,
                force,
                load,
                info.filename.endswith(".gz"),
                key,
                size=None if info.filename.endswith(".gz") else info.file_size,
            )
        )
    return members


def _discover(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[_Member]:
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not paths:
        raise DataFileError("read_policeuk was given an empty list of files.")
    members: list[_Member] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                Path(root, name)
                for root, _, names in os.walk(path, followlinks=True)
                for name in names
                if name.endswith((".csv", ".csv.gz", ".zip"))
            )
            for p in found:
                if p.suffix == ".zip":
                    members.extend(_zip_members(p))
                else:
                    members.append(_file_member(p, p.relative_to(path).as_posix()))
        elif path.is_file():
            if path.suffix == ".zip":
                members.extend(_zip_members(path))
            else:
                label = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
                members.append(_file_member(path, label))
        else:
            raise DataFileError(f"{path} does not exist: give a folder, a police.uk CSV (or .csv.gz) or a zip.")
    if not members:
        raise DataFileError(f"no CSV files were found in {', '.join(map(str, paths))}.")
    return members
