"""Download data.police.uk bulk archives and extract one force's monthly files.

data.police.uk publishes one zip archive a month at ``https://data.police.uk/data/archive/YYYY-MM.zip``.
The archive for month M holds every force's files for the 36 months M-35..M, laid out
``YYYY-MM/YYYY-MM-<force>-street.csv`` (and ``-outcomes.csv``, ``-stop-and-search.csv``). An archive is
large (gigabytes), so :func:`fetch_policeuk`

* chooses the fewest archives that cover the requested months (:func:`archives_for`), preferring an
  archive already in the cache folder;
* before the first download, reads the archive's index (its central directory, the last few hundred
  kilobytes, with HTTP ``Range`` requests) and stops if the force is not in it, naming the forces that
  are and the closest to the name given;
* downloads with the standard library to ``YYYY-MM.zip.part``, resuming with an HTTP ``Range``
  request after a dropped connection or an interrupted run (and starting again when the server does
  not honour ``Range``);
* checks that the download is a zip archive before keeping it as ``YYYY-MM.zip`` in the cache folder;
* extracts only the requested force's files for the requested months into ``dest`` in the bulk
  layout (``dest/YYYY-MM/YYYY-MM-<force>-street.csv``), skipping files already there with the same
  size; each extracted file's CRC-32 is checked against the archive's record as it is written;
* records what it extracted in ``dest/.victimneeds-fetch.json``, so that a second run for the same
  months needs no archive at all (useful with ``keep_archive=False``).

The folder ``dest`` is then read with :func:`victimneeds.io.read_policeuk`.
"""

from __future__ import annotations

import difflib
import http.client
import io
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from victimneeds.io.policeuk import default_cache_dir

__all__ = [
    "ARCHIVE_MONTHS",
    "BASE_URL",
    "FETCH_COLUMNS",
    "FetchError",
    "FetchResult",
    "archives_for",
    "default_archive_dir",
    "fetch_policeuk",
    "fetch_policeuk_archives",
]

#: Where data.police.uk publishes its monthly bulk archives.
BASE_URL = "https://data.police.uk/data/archive/"
#: Months held by one archive: the archive for month M covers M-35..M.
ARCHIVE_MONTHS = 36
#: Columns of :attr:`FetchResult.table`.
FETCH_COLUMNS: tuple[str, ...] = ("item", "name", "month", "archive", "action", "bytes", "detail")

_KINDS = ("street", "outcomes", "stop-and-search")
_MEMBER_RE = re.compile(
    r"(?:^|/)(?P<month>\d{4}-(?:0[1-9]|1[0-2]))-(?P<force>[A-Za-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)\.csv$"
)
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_FORCE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_MANIFEST = ".victimneeds-fetch.json"
_USER_AGENT = "victimneeds (Victims' Needs Assessment toolkit; Python urllib)"
_CHUNK = 1 << 20
_BY_HAND = (
    "If this machine has no internet access, download the archive by hand on one that has, from "
    "https://data.police.uk/data/archive/ ({files}), copy it here and pass the zip (or the folder you unzip it "
    "into) to victimneeds.io.read_policeuk(path, force={force!r}, months=({first!r}, {last!r}))."
)


class FetchError(RuntimeError):
    """The archive could not be fetched or used; the message is one paragraph for a person.

    ``reason`` is a short tag for programs: ``offline``, ``not_published``, ``http``, ``interrupted``,
    ``corrupt``, ``unknown_force``, ``disk_full`` or ``bad_request``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------------------------------
# Months and the choice of archives
# --------------------------------------------------------------------------------------------------


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _check_month(value: object, what: str) -> str:
    text = str(value).strip()
    if not _MONTH_RE.match(text):
        raise FetchError(f"the {what} month must be written YYYY-MM (e.g. 2019-12), not {value!r}.", "bad_request")
    return text


def archives_for(first: str, last: str, months: int = ARCHIVE_MONTHS) -> list[str]:
    """The fewest archives that cover the months ``first..last``, newest first.

    The archive for month M covers M-(months-1)..M; the newest archive chosen is the one for ``last``
    (the most likely to be published, and holding the latest revision of every month), the next
    the one for the month before the first month the newest covers, and so on.

    Parameters
    ----------
    first, last : the first and last month wanted, ``"YYYY-MM"``.
    months : months held by one archive (36 on data.police.uk).

    Returns
    -------
    list of str
        Archive months ``"YYYY-MM"``, newest first; ``ceil(n / months)`` of them for ``n`` months.

    Examples
    --------
    >>> archives_for("2019-12", "2022-11")
    ['2022-11']
    >>> archives_for("2019-01", "2022-11")
    ['2022-11', '2019-11']
    >>> archives_for("2020-03", "2020-03")
    ['2020-03']
    """
    first, last = _check_month(first, "first"), _check_month(last, "last")
    lo, hi = _index(first), _index(last)
    if lo > hi:
        raise FetchError(f"the first month {first} is after the last month {last}.", "bad_request")
    chosen = []
    while hi >= lo:
        chosen.append(_month(hi))
        hi -= months
    return chosen


def default_archive_dir() -> Path:
    """Where downloaded archives are kept: ``policeuk-archives`` in :func:`~victimneeds.io.default_cache_dir`
    (``$VICTIMNEEDS_CACHE`` if set, else ``~/.cache/victimneeds``)."""
    return default_cache_dir() / "policeuk-archives"


# --------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"  # pragma: no cover


@dataclass
class FetchResult:
    """What :func:`fetch_policeuk` did: one row of :attr:`table` per archive, file and missing file.

    ``table`` columns: ``item`` (``archive``, ``file`` or ``month``), ``name`` (archive file name, or the
    file's path relative to ``dest``), ``month``, ``archive`` (the archive month the file came from),
    ``action`` (archives: ``downloaded``, ``resumed``, ``reused``; files: ``extracted``, ``already
    present``; months: ``not published`` when the archive covering the month holds no file of that
    kind for the force, ``not in any archive`` when no archive fetched covers the month), ``bytes``
    and ``detail`` (a sentence).
    """

    force: str
    first: str
    last: str
    dest: Path
    archive_dir: Path
    table: pd.DataFrame

    def _names(self, item: str, actions: Sequence[str]) -> list[str]:
        rows = self.table[(self.table["item"] == item) & self.table["action"].isin(list(actions))]
        return rows["name"].tolist()

    @property
    def downloaded(self) -> list[str]:
        """Archives downloaded (or completed from a partial download) by this call."""
        return self._names("archive", ["downloaded", "resumed"])

    @property
    def reused(self) -> list[str]:
        """Archives found complete in the cache folder and used without downloading."""
        return self._names("archive", ["reused"])

    @property
    def extracted(self) -> list[Path]:
        """Files written to ``dest`` by this call."""
        return [self.dest / n for n in self._names("file", ["extracted"])]

    @property
    def present(self) -> list[Path]:
        """Files already in ``dest`` with the archive's size, left as they were."""
        return [self.dest / n for n in self._names("file", ["already present"])]

    @property
    def missing_months(self) -> list[str]:
        """Requested months for which no street-level file of the force was found."""
        rows = self.table[(self.table["item"] == "month") & self.table["name"].str.endswith("-street.csv")]
        return sorted(set(rows["month"]))

    def summary(self) -> str:
        """A few lines for a person: archives, files and missing months."""
        n = _index(self.last) - _index(self.first) + 1
        lines = [f"data.police.uk files for {self.force}, {self.first} to {self.last} ({n} months), in {self.dest}"]
        archives = self.table[self.table["item"] == "archive"]
        if archives.empty:
            lines.append("  archives: none needed (every file was already in place)")
        for _, row in archives.iterrows():
            lines.append(f"  archive {row['name']}: {row['action']} ({_size(row['bytes'])}); {row['detail']}")
        lines.append(f"  files: {len(self.extracted)} extracted, {len(self.present)} already present")
        missing = self.table[self.table["item"] == "month"]
        if missing.empty:
            lines.append("  missing: none (every requested month has its files)")
        for _, row in missing.iterrows():
            lines.append(f"  missing {row['name']}: {row['detail']}")
        lines.append(
            f"Read them with victimneeds.io.read_policeuk({str(self.dest)!r}, force={self.force!r}, "
            f"months=({self.first!r}, {self.last!r}))."
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------------------
# Downloading one archive
# --------------------------------------------------------------------------------------------------


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or parts.path or url


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(start, total) from 'bytes 100-199/200' or 'bytes */200'."""
    m = re.match(r"^\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*$", value or "")
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _offline(url: str, err: object, needed: list[str], force: str, first: str, last: str) -> FetchError:
    reason = getattr(err, "reason", err)
    files = ", ".join(f"{a}.zip" for a in needed)
    return FetchError(
        f"This machine cannot reach {_host(url)} to download {url} ({reason}). Check the internet connection "
        "(and any proxy: urllib reads HTTPS_PROXY). "
        + _BY_HAND.format(files=files, force=force, first=first, last=last),
        "offline",
    )


def _download(
    url: str, part: Path, *, timeout: float, retries: int, progress: bool, offline: Callable[[object], FetchError]
) -> tuple[str, str]:
    """Fetch ``url`` into ``part``, resuming; returns (action, detail)."""
    failures = 0
    contacted = False
    resumed_at: int | None = None
    restarted = False
    last_error: object = None

    def fail(err: object) -> None:
        nonlocal failures, last_error
        last_error = err
        failures += 1
        if failures > retries:
            have = part.stat().st_size if part.exists() else 0
            raise FetchError(
                f"the download of {url} stopped {failures} times in a row ({err}). The {_size(have)} received "
                f"so far are kept in {part}; run the same command again to resume from there.",
                "interrupted",
            )
        time.sleep(min(0.25 * failures, 5.0))

    while True:
        offset = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            headers, code = err.headers, err.code
            err.close()
            if code == 416 and offset:
                _, total = _content_range(headers.get("Content-Range") if headers else None)
                if total == offset:
                    break  # the partial file is already complete
                part.unlink()
                restarted = True
                fail(f"HTTP 416: the server could not resume at {offset:,} bytes")
                continue
            if code in (404, 410):
                raise FetchError("", "not_published") from None  # the caller writes the message
            if code >= 500 or code in (408, 429):
                contacted = True
                fail(f"HTTP {code} {err.reason}")
                continue
            raise FetchError(f"{_host(url)} refused the download of {url}: HTTP {code} {err.reason}.", "http") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            if not contacted:
                raise offline(getattr(err, "reason", err)) from None
            fail(getattr(err, "reason", err))
            continue
        contacted = True
        with response:
            status = response.status or 200  # file:// responses carry no status
            total: int | None
            if status == 206:
                start, total = _content_range(response.headers.get("Content-Range"))
                if start != offset:
                    part.unlink(missing_ok=True)
                    restarted = True
                    fail(f"the server resumed at byte {start}, not {offset}")
                    continue
                mode = "ab"
                if offset and resumed_at is None:
                    resumed_at = offset
            else:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                mode, restarted = "wb", restarted or offset > 0
                offset = 0
            if total is not None:
                free = shutil.disk_usage(part.parent).free
                if total - offset > free:
                    raise FetchError(
                        f"{part.parent} has {_size(free)} free but {url} needs {_size(total - offset)} more; "
                        "free some space or choose another folder with archive_dir (VICTIMNEEDS_CACHE).",
                        "disk_full",
                    )
            got = 0
            error: object = None
            bar = _bar(progress, total, offset, part.name.removesuffix(".part"))
            try:
                with part.open(mode) as handle:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        handle.write(chunk)
                        got += len(chunk)
                        bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as err:
                error = err
            finally:
                bar.close()
        size = part.stat().st_size
        if total is not None and size > total:
            part.unlink()
            raise FetchError(
                f"the download of {url} is longer than the server announced ({size:,} bytes, not {total:,}); "
                "the partial file was deleted. Run the command again.",
                "corrupt",
            )
        if error is None and (total is None or size == total):
            break
        if got:
            failures = -1  # progress was made: this drop starts no failure streak (and waits for nothing)
        fail(error or f"the connection closed after {size:,} of {total:,} bytes")
    detail = []
    if resumed_at is not None:
        detail.append(f"resumed at {_size(resumed_at)} with an HTTP Range request")
    if restarted:
        detail.append("started again from the beginning (the server did not resume the partial download)")
    if last_error is not None:
        detail.append(f"after interruptions (last: {last_error})")
    return ("resumed" if resumed_at is not None else "downloaded"), "; ".join(detail)


def _bar(progress: bool, total: int | None, initial: int, name: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        leave=False,
    )


def _check_zip(path: Path, url: str) -> None:
    """Raise (after deleting ``path``) when it is not a zip archive holding police.uk files."""
    problem = None
    try:
        with zipfile.ZipFile(path) as zf:
            if not any(_MEMBER_RE.search(i.filename) for i in zf.infolist()):
                problem = "it holds no YYYY-MM-<force>-street.csv files"
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip().lower()
        looks = " (it looks like a web page, not an archive)" if head.startswith((b"<", b"<!doctype")) else ""
        problem = f"it is not a valid zip archive{looks}: {err}"
    if problem:
        path.unlink(missing_ok=True)
        raise FetchError(
            f"the download of {url} is damaged or not a data.police.uk archive: {problem}. The file was deleted; "
            "run the command again to download it afresh.",
            "corrupt",
        )


# --------------------------------------------------------------------------------------------------
# The manifest in dest: what earlier runs extracted
# --------------------------------------------------------------------------------------------------


def _load_manifest(dest: Path) -> dict:
    try:
        data = json.loads((dest / _MANIFEST).read_text())
        return data if isinstance(data, dict) and isinstance(data.get("months"), dict) else {"months": {}}
    except (OSError, ValueError):
        return {"months": {}}


def _save_manifest(dest: Path, manifest: dict) -> None:
    tmp = dest / (_MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, dest / _MANIFEST)


def _rel(month: str, force: str, kind: str) -> str:
    return f"{month}/{month}-{force}-{kind}.csv"


def _satisfied(entry: object, dest: Path, month: str, force: str, kinds: Sequence[str]) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
        return False
    files = entry["files"]
    for kind in kinds:
        if kind not in files:
            return False
        size = files[kind]
        if size is not None:
            path = dest / _rel(month, force, kind)
            if not path.is_file() or path.stat().st_size != size:
                return False
    return True


# --------------------------------------------------------------------------------------------------
# The downloader
# --------------------------------------------------------------------------------------------------


def fetch_policeuk(
    force: str,
    first: str,
    last: str,
    dest: str | os.PathLike,
    *,
    kinds: Sequence[str] = ("street", "outcomes"),
    base_url: str = BASE_URL,
    archive_dir: str | os.PathLike | None = None,
    keep_archive: bool = True,
    timeout: float = 60.0,
    retries: int = 5,
    progress: bool = True,
    check_force: bool = True,
) -> FetchResult:
    """Download the data.police.uk archives covering ``first..last`` and extract one force's files.

    Parameters
    ----------
    force : the police.uk force slug as in the file names, e.g. ``"leicestershire"``,
        ``"metropolitan"``, ``"avon-and-somerset"`` (capitals and spaces are turned into the slug).
    first, last : the first and last month wanted, ``"YYYY-MM"``.
    dest : folder to extract into, in the bulk layout ``dest/YYYY-MM/YYYY-MM-<force>-street.csv``.
    kinds : which files to extract: any of ``"street"``, ``"outcomes"``, ``"stop-and-search"``.
    base_url : where the archives are published (``<base_url>YYYY-MM.zip``); a ``file://`` folder
        (a local mirror) works too.
    archive_dir : folder where archives are downloaded and kept; None uses :func:`default_archive_dir`.
        Complete archives already there are used without downloading.
    keep_archive : keep the archives downloaded by this call (False deletes them after extraction;
        archives that were already in the folder are never deleted).
    timeout : seconds to wait for the server to connect or send more data.
    retries : how many times in a row a dropped or stalled download is resumed before giving up.
    progress : show a progress bar while downloading.
    check_force : before the first download, read the archive's index (its last few hundred kilobytes,
        with HTTP Range requests) and stop if the force is not in it, so that a misspelt name costs no
        download. Where the server does not answer Range requests the force is checked after the download.

    Returns
    -------
    FetchResult
        ``.table`` (one row per archive, file and missing file, see :class:`FetchResult`),
        ``.downloaded``, ``.reused``, ``.extracted``, ``.present``, ``.missing_months`` and
        ``.summary()``.

    Raises
    ------
    FetchError
        The machine cannot reach the server (``reason="offline"``, the message says how to download
        the archive by hand); the archive for a month is not published (``not_published``); the force
        is not in the archive (``unknown_force``, the message lists the forces found); the download is
        damaged (``corrupt``, the partial file is deleted) or kept stopping (``interrupted``, the
        partial file is kept and the next run resumes it); the months are not ``YYYY-MM``.

    Examples
    --------
    A local mirror holding one archive (data.police.uk itself is used the same way):

    >>> import pathlib, tempfile, zipfile
    >>> mirror = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(mirror / "2020-02.zip", "w") as zf:
    ...     for month in ("2020-01", "2020-02"):
    ...         for force in ("demo", "other"):
    ...             zf.writestr(f"{month}/{month}-{force}-street.csv", "Crime ID,Month\\n")
    >>> dest = pathlib.Path(tempfile.mkdtemp())
    >>> result = fetch_policeuk("demo", "2020-01", "2020-02", dest, base_url=mirror.as_uri() + "/",
    ...                         archive_dir=dest / "archives", progress=False)
    >>> result.downloaded, [p.name for p in result.extracted]
    (['2020-02.zip'], ['2020-01-demo-street.csv', '2020-02-demo-street.csv'])
    >>> result.table.groupby(["item", "action"]).size().to_dict()  # no outcomes files in this archive
    {('archive', 'downloaded'): 1, ('file', 'extracted'): 2, ('month', 'not published'): 2}
    >>> again = fetch_policeuk("demo", "2020-01", "2020-02", dest, base_url=mirror.as_uri() + "/",
    ...                        archive_dir=dest / "archives", progress=False)
    >>> again.downloaded, len(again.present), again.missing_months
    ([], 2, [])
    """
    first, last = _check_month(first, "first"), _check_month(last, "last")
    wanted = archives_for(first, last)
    slug = re.sub(r"[\s_]+", "-", str(force).strip().lower())
    if not _FORCE_RE.match(slug):
        raise FetchError(
            f"{force!r} is not a data.police.uk force name: use the name in the file names, in lower case with "
            "hyphens, e.g. 'leicestershire', 'metropolitan' or 'avon-and-somerset'.",
            "bad_request",
        )
    kinds = list(dict.fromkeys(kinds))
    bad = [k for k in kinds if k not in _KINDS]
    if bad or not kinds:
        raise FetchError(f"kinds must be some of {list(_KINDS)}, not {list(kinds)}.", "bad_request")
    if not base_url.endswith("/"):
        base_url += "/"
    dest = Path(dest)
    store = Path(archive_dir) if archive_dir is not None else default_archive_dir()
    dest.mkdir(parents=True, exist_ok=True)
    store.mkdir(parents=True, exist_ok=True)

    rows: list[dict[str, object]] = []

    def add(item: str, name: str, month: str, archive: str, action: str, size: int, detail: str) -> None:
        rows.append(
            {
                "item": item,
                "name": name,
                "month": month,
                "archive": archive,
                "action": action,
                "bytes": int(size),
                "detail": detail,
            }
        )

    manifest = _load_manifest(dest)
    entries: dict = manifest["months"]
    months = [_month(i) for i in range(_index(first), _index(last) + 1)]
    todo: set[str] = set()
    for month in months:
        entry = entries.get(f"{slug}/{month}")
        if _satisfied(entry, dest, month, slug, kinds):
            for kind in kinds:
                size = entry["files"][kind]
                name = _rel(month, slug, kind)
                if size is None:
                    add(
                        "month",
                        name,
                        month,
                        entry.get("archive", ""),
                        "not published",
                        0,
                        f"the archive {entry.get('archive', '?')}.zip holds no {kind} file for {slug} for {month}",
                    )
                else:
                    add(
                        "file",
                        name,
                        month,
                        entry.get("archive", ""),
                        "already present",
                        size,
                        "extracted by an earlier run, same size",
                    )
        else:
            todo.add(month)

    tried: set[str] = set()
    downloaded_now: list[Path] = []
    peeked = False
    while todo:
        target = max(todo, key=_index)
        cached = sorted(
            (
                p.stem
                for p in store.glob("*.zip")
                if _MONTH_RE.match(p.stem)
                and p.stem not in tried
                and 0 <= _index(p.stem) - _index(target) < ARCHIVE_MONTHS
            ),
            key=_index,
        )
        archive = cached[0] if cached else target
        if archive in tried:
            todo.discard(target)
            add(
                "month",
                _rel(target, slug, "street"),
                target,
                "",
                "not in any archive",
                0,
                f"no archive fetched covers {target}",
            )
            continue
        tried.add(archive)
        path = store / f"{archive}.zip"
        url = base_url + f"{archive}.zip"
        if path.is_file():
            try:
                with zipfile.ZipFile(path):
                    pass
                add("archive", path.name, "", archive, "reused", path.stat().st_size, f"found complete in {store}")
            except (zipfile.BadZipFile, OSError, EOFError):
                path.unlink()  # a damaged cached archive: download it again
        if check_force and not path.is_file() and not peeked:
            peeked = True  # the first archive to download: is the force in it? (a few hundred KB, not the archive)
            forces = _forces_in_remote_archive(url, timeout)
            if forces is not None and slug not in forces:
                raise _unknown_force(
                    slug, forces, archive, "Nothing was downloaded: the forces were read from the archive's index."
                )
        if not path.is_file():
            part = store / f"{archive}.zip.part"
            needed = [a for a in wanted if a not in tried] + [archive]
            try:
                action, detail = _download(
                    url,
                    part,
                    timeout=timeout,
                    retries=retries,
                    progress=progress,
                    offline=lambda err, url=url, needed=needed: _offline(url, err, needed, slug, first, last),
                )
            except FetchError as err:
                if err.reason == "not_published":
                    raise FetchError(
                        f"data.police.uk has not published the archive for {archive} ({url} answered 404 "
                        f"Not Found). The archives cover the 36 months up to their month and appear about two "
                        f"months after it; see https://data.police.uk/data/archive/ for the months published and "
                        f"choose an earlier last month (it was {last}).",
                        "not_published",
                    ) from None
                raise
            _check_zip(part, url)
            os.replace(part, path)
            downloaded_now.append(path)
            where = f"kept in {store}" if keep_archive else "deleted after extraction (keep_archive=False)"
            add(
                "archive",
                path.name,
                "",
                archive,
                action,
                path.stat().st_size,
                "; ".join(x for x in (detail, where) if x),
            )

        covered = _extract(path, archive, slug, kinds, todo, dest, entries, add, url)
        _save_manifest(dest, manifest)
        todo -= covered
        if target in todo and archive == target:  # the month's own archive lacks it: nothing else will
            todo.discard(target)
            add(
                "month",
                _rel(target, slug, "street"),
                target,
                archive,
                "not in any archive",
                0,
                f"the archive {archive}.zip does not hold the month {target}",
            )

    if not keep_archive:
        for path in downloaded_now:
            path.unlink(missing_ok=True)
    table = pd.DataFrame(rows, columns=list(FETCH_COLUMNS))
    table["bytes"] = table["bytes"].astype("int64")
    order = table["item"].map({"archive": 0, "file": 1, "month": 2})
    table = table.assign(_order=order).sort_values(["_order", "month", "name"], kind="stable")
    table = table.drop(columns="_order").reset_index(drop=True)
    return FetchResult(slug, first, last, dest, store, table)


def _unknown_force(force: str, forces: set[str], archive: str, note: str) -> FetchError:
    similar = [f for f in sorted(forces) if f.startswith(force[:4]) or force in f]
    close = list(dict.fromkeys(difflib.get_close_matches(force, sorted(forces), n=3) + similar))[:3]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return FetchError(
        f"the force {force!r} is not in the data.police.uk archive {archive}.zip, which holds street files "
        f"for {len(forces)} forces: {', '.join(sorted(forces))}.{hint} ({note})",
        "unknown_force",
    )


#: Bytes asked for at a time when reading an archive's index over HTTP (see :class:`_RemoteFile`).
_PEEK_BLOCK = 1 << 18


class _NoRange(Exception):
    """The server does not answer Range requests for this file."""


class _RemoteFile(io.RawIOBase):
    """A read-only, seekable file on an HTTP server that answers Range requests, fetched block by block as
    it is read. ``zipfile`` reads an archive's index (the central directory at its end) through it, so the
    forces an archive holds are known after a few hundred kilobytes rather than the whole archive."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__()
        self.url, self.timeout, self.pos = url, timeout, 0
        self.blocks: dict[int, bytes] = {}
        tail, start, self.size = self._get(f"bytes=-{_PEEK_BLOCK}")
        self._keep(start, tail)

    def _get(self, spec: str) -> tuple[bytes, int, int]:
        request = urllib.request.Request(
            self.url, headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity", "Range": spec}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status != 206:
                raise _NoRange(self.url)
            start, total = _content_range(response.headers.get("Content-Range"))
            if start is None or total is None:
                raise _NoRange(self.url)
            return response.read(), start, total

    def _keep(self, start: int, data: bytes) -> None:
        for offset in range(0, len(data), _PEEK_BLOCK):
            self.blocks[start + offset] = data[offset : offset + _PEEK_BLOCK]

    def _block_at(self, position: int) -> tuple[int, bytes]:
        for start, data in self.blocks.items():
            if start <= position < start + len(data):
                return start, data
        data, start, _ = self._get(f"bytes={position}-{min(position + _PEEK_BLOCK, self.size) - 1}")
        if start != position or not data:
            raise _NoRange(self.url)
        self.blocks[start] = data
        return start, data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self.pos < self.size:
            start, data = self._block_at(self.pos)
            chunk = data[self.pos - start : self.pos - start + len(view) - done]
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self.pos += len(chunk)
        return done


def _forces_in_remote_archive(url: str, timeout: float) -> set[str] | None:
    """The forces with street files in the archive at ``url``, read from its index without downloading it;
    None when that cannot be done (no Range support, offline, not published ...): the download then goes
    ahead and the force is checked in the downloaded archive, as before."""
    try:
        with _RemoteFile(url, timeout) as remote, zipfile.ZipFile(remote) as zf:
            names = zf.namelist()
    except (
        _NoRange,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        ValueError,
        urllib.error.URLError,
        http.client.HTTPException,
    ):
        return None
    found = (_MEMBER_RE.search(name) for name in names)
    return {m["force"] for m in found if m and m["kind"] == "street"} or None


def _extract(
    path: Path,
    archive: str,
    force: str,
    kinds: Sequence[str],
    todo: set[str],
    dest: Path,
    entries: dict,
    add: Callable[..., None],
    url: str,
) -> set[str]:
    """Extract the force's files for the months in ``todo`` from one archive; returns the months it holds."""
    index: dict[tuple[str, str], zipfile.ZipInfo] = {}
    held: set[str] = set()
    forces: set[str] = set()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            m = _MEMBER_RE.search(info.filename)
            if not m:
                continue
            held.add(m["month"])
            if m["kind"] == "street":
                forces.add(m["force"])
            if m["force"] == force and m["kind"] in kinds:
                index[(m["month"], m["kind"])] = info
        if force not in forces:
            raise _unknown_force(
                force,
                forces,
                archive,
                f"The archive is kept in {path.parent}, so a second try with the right name does not download it "
                "again.",
            )
        for month in sorted(todo & held):
            files: dict[str, int | None] = {}
            for kind in kinds:
                name = _rel(month, force, kind)
                info = index.get((month, kind))
                if info is None:
                    files[kind] = None
                    add(
                        "month",
                        name,
                        month,
                        archive,
                        "not published",
                        0,
                        f"the archive {archive}.zip holds no {kind} file for {force} for {month}",
                    )
                    continue
                target = dest / name
                files[kind] = info.file_size
                if target.is_file() and target.stat().st_size == info.file_size:
                    add(
                        "file",
                        name,
                        month,
                        archive,
                        "already present",
                        info.file_size,
                        "already in the folder with the archive's size",
                    )
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".tmp")
                try:
                    with zf.open(info) as src, tmp.open("wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
                    tmp.unlink(missing_ok=True)
                    path.unlink(missing_ok=True)
                    raise FetchError(
                        f"the archive {path} is damaged: its member {info.filename} cannot be read ({err}). The "
                        f"archive was deleted; run the command again to download {url} afresh.",
                        "corrupt",
                    ) from None
                os.replace(tmp, target)
                add("file", name, month, archive, "extracted", info.file_size, f"from {archive}.zip")
            entries[f"{force}/{month}"] = {"archive": archive, "files": files}
    return held


# --------------------------------------------------------------------------------------------------
# The whole archive: every force (victimneeds fetch policeuk --all-forces)
# --------------------------------------------------------------------------------------------------


def fetch_policeuk_archives(
    first: str,
    last: str,
    dest: str | os.PathLike | None = None,
    *,
    base_url: str = BASE_URL,
    timeout: float = 60.0,
    retries: int = 5,
    progress: bool = True,
) -> list[Path]:
    """Download the data.police.uk bulk archives (every force) that cover ``first..last``, and keep them whole.

    The archives are ``<base_url>YYYY-MM.zip`` (:func:`archives_for` chooses the fewest, newest first). An
    archive already complete in ``dest`` is not downloaded again; an interrupted download is resumed. The
    archives are not extracted: :func:`victimneeds.national.ingest` reads them as they are, file by file.

    Parameters
    ----------
    first, last : the first and last month wanted, ``"YYYY-MM"``.
    dest : the folder for the archives (default :func:`default_archive_dir`).
    base_url : where the archives are published; a mirror or a ``file://`` folder works too.
    timeout, retries : seconds to wait for the server, and attempts after a dropped connection.
    progress : show a progress bar of each download.

    Returns
    -------
    list of pathlib.Path
        The archives, newest first.

    Examples
    --------
    >>> import io, tempfile, zipfile, pathlib
    >>> mirror = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(mirror / "2020-02.zip", "w") as zf:
    ...     zf.writestr("2020-02/2020-02-demo-street.csv", "Crime ID,Month\\n")
    >>> paths = fetch_policeuk_archives("2020-01", "2020-02", mirror / "got", base_url=mirror.as_uri() + "/",
    ...                                 progress=False)
    >>> [p.name for p in paths]
    ['2020-02.zip']
    """
    wanted = archives_for(first, last)
    if not base_url.endswith("/"):
        base_url += "/"
    store = Path(dest) if dest is not None else default_archive_dir()
    store.mkdir(parents=True, exist_ok=True)
    paths = []
    for archive in wanted:
        path = store / f"{archive}.zip"
        url = base_url + f"{archive}.zip"
        if path.is_file():
            try:
                with zipfile.ZipFile(path):
                    paths.append(path)
                    continue
            except (zipfile.BadZipFile, OSError, EOFError):
                path.unlink()  # damaged: download it again

        def offline(err: object, url: str = url) -> FetchError:
            files = ", ".join(f"{a}.zip" for a in wanted)
            return FetchError(
                f"This machine cannot reach {_host(url)} to download {url} ({getattr(err, 'reason', err)}). Check "
                "the internet connection (and any proxy: urllib reads HTTPS_PROXY). If this machine has no "
                f"internet access, download {files} by hand from https://data.police.uk/data/archive/, copy them "
                "here and pass them (or their folder) to victimneeds.national.ingest.",
                "offline",
            )

        part = store / f"{archive}.zip.part"
        try:
            _download(url, part, timeout=timeout, retries=retries, progress=progress, offline=offline)
        except FetchError as err:
            if err.reason == "not_published":
                raise FetchError(
                    f"data.police.uk has not published the archive for {archive} ({url} answered 404 Not Found); "
                    "see https://data.police.uk/data/archive/ for the months published and choose an earlier "
                    f"last month (it was {last}).",
                    "not_published",
                ) from None
            raise
        _check_zip(part, url)
        os.replace(part, path)
        paths.append(path)
    return paths
