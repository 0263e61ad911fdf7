"""Download the public inputs of a real area into the folder layout its configuration reads.

Every public input is one row of ``victimneeds/reference/public_sources.csv`` (:func:`public_sources`): the
publisher, the dataset's page, the exact file URL, the file name the area configuration expects under its
``data_dir``, the file's format, size and SHA-256 where it is a fixed file, the licence, and what it is used
for. :func:`fetch_public` downloads the rows asked for with the same HTTP code as the police.uk downloader
(:mod:`victimneeds.io.fetch`: standard library, resuming with ``Range`` after a dropped connection), checks each
file (size and SHA-256 where known, then its format: a CSV with the expected column, a gzip CSV, an Excel 97
workbook, a GeoJSON collection of LSOA polygons) before it is moved into place, and leaves files already there
with the right checksum alone. The police.uk files are fetched by :func:`victimneeds.io.fetch.fetch_policeuk`.

Where a file cannot be fetched (no internet, a page that needs a person, a file the publisher has moved),
:func:`by_hand` gives the instruction: the publisher's page, the file to take from it and where to save it.
The URLs in the table were written down without internet access and were not checked from that machine.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from victimneeds.io.fetch import FetchError, _download, _host, _size
from victimneeds.reference import table

__all__ = ["PUBLIC_INPUTS", "PublicFetchResult", "by_hand", "fetch_public", "public_sources"]

#: The public inputs :func:`fetch_public` downloads (police.uk is fetched by ``fetch_policeuk``).
PUBLIC_INPUTS: tuple[str, ...] = (
    "pfa_lookup", "lsoa_lookup", "population_lsoa", "population_lad", "imd", "imd_scores", "boundaries",
)
#: Columns of :attr:`PublicFetchResult.table`.
RESULT_COLUMNS: tuple[str, ...] = ("name", "file", "action", "bytes", "detail")
_XLS_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def public_sources() -> pd.DataFrame:
    """The public inputs of an area and where each comes from: ``victimneeds/reference/public_sources.csv``.

    Columns ``name, input`` (the ``[inputs]`` key it fills), ``publisher, title, dataset_page, file_url`` (with
    ``{district}`` or ``{month}`` to fill), ``file_name`` (where it goes under ``data_dir``), ``format, expect``
    (a column or property the file must have), ``bytes, sha256`` (for fixed files), ``compress`` (``gzip``:
    compressed after checking), ``licence, how`` (``mirror``: a copy at a fixed commit; ``archive``: the police.uk
    archives), ``used_for, note``.

    Examples
    --------
    >>> s = public_sources().set_index("name")
    >>> s.loc["imd", "file_name"]
    'deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz'
    >>> s.loc["imd", "dataset_page"]
    'https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019'
    """
    t = table("public_sources")
    t["bytes"] = t["bytes"].astype("Int64")
    text = [c for c in t.columns if c != "bytes"]
    t[text] = t[text].fillna("").astype(str)
    return t


def _instruction(row: pd.Series, dest: Path | str, file_name: str) -> str:
    """One sentence: where to get the file by hand and where to put it."""
    return (
        f"{row['name']}: from {row['publisher']}, '{row['title']}' ({row['dataset_page']}); save it as "
        f"{Path(dest) / file_name}" + (f" ({row['note'].split('. ')[0]})" if row["how"] == "archive" else "")
    )


def by_hand(names: Sequence[str] | None = None, dest: str | os.PathLike = "DATA") -> str:
    """How to get each public input by hand: the publisher's page, the file, and where to save it under ``dest``.

    Examples
    --------
    >>> print(by_hand(["imd"], dest="data"))  # doctest: +NORMALIZE_WHITESPACE
    Public inputs to download by hand (the URLs were not checked from the machine that listed them):
    - imd: from Ministry of Housing, Communities and Local Government (MHCLG), 'English indices of deprivation
      2019, File 1: Index of Multiple Deprivation (ranks and deciles by LSOA)'
      (https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019); save it as
      data/deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz
    """
    sources = public_sources()
    wanted = list(names) if names else sources["name"].tolist()
    _check_names(wanted, sources)
    lines = ["Public inputs to download by hand (the URLs were not checked from the machine that listed them):"]
    for _, row in sources.set_index("name", drop=False).loc[wanted].iterrows():
        lines.append("- " + _instruction(row, dest, row["file_name"]))
    return "\n".join(lines)


def _check_names(names: Sequence[str], sources: pd.DataFrame) -> None:
    unknown = [n for n in names if n not in set(sources["name"])]
    if unknown:
        raise FetchError(f"unknown public input(s) {unknown}; the inputs are {sources['name'].tolist()}.",
                         "bad_request")


# --------------------------------------------------------------------------------------------------
# Checking a file
# --------------------------------------------------------------------------------------------------


def _sha256(path: Path, gunzip: bool = False) -> str:
    digest = hashlib.sha256()
    with (gzip.open(path, "rb") if gunzip else path.open("rb")) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _format_problem(path: Path, fmt: str, expect: str) -> str | None:
    """Why ``path`` is not a file of format ``fmt`` holding ``expect`` (None when it is)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.lstrip()[:1] == b"<":
        return "it looks like a web page (an error or sign-in page?), not the data file"
    try:
        if fmt == "xls":
            return None if head.startswith(_XLS_MAGIC) else "it is not an Excel 97-2003 workbook (.xls)"
        if fmt == "zip":
            return None if zipfile.is_zipfile(path) else "it is not a zip archive"
        if fmt in ("csv", "csv.gz"):
            if fmt == "csv.gz":
                with gzip.open(path, "rb") as handle:
                    head = handle.read(1 << 16)
            first = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head else ""
            return None if expect in first else f"its first line has no column {expect!r} (it starts {first[:80]!r})"
        if fmt == "geojson":
            data = json.loads(path.read_text(encoding="utf-8"))
            features = data.get("features") if isinstance(data, dict) else None
            if not isinstance(features, list) or not features:
                return "it is not a GeoJSON FeatureCollection with features"
            props = features[0].get("properties") or {}
            return None if expect in props else f"its features have no property {expect!r}"
    except (OSError, EOFError, ValueError, UnicodeDecodeError, gzip.BadGzipFile) as err:
        return f"it cannot be read as {fmt}: {err}"
    return f"unknown format {fmt!r} in public_sources.csv"  # pragma: no cover


def _present(target: Path, row: pd.Series) -> bool:
    """The file is already in place and right (checksum where known, else its format)."""
    if not target.is_file():
        return False
    if row["sha256"]:
        try:
            return _sha256(target, gunzip=row["compress"] == "gzip") == row["sha256"]
        except (OSError, EOFError, gzip.BadGzipFile):
            return False
    fmt = "csv.gz" if row["compress"] == "gzip" else row["format"]
    return _format_problem(target, fmt, row["expect"]) is None


# --------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------


@dataclass
class PublicFetchResult:
    """What :func:`fetch_public` did: one row of :attr:`table` per file.

    ``table`` columns: ``name`` (the input), ``file`` (relative to ``dest``), ``action`` (``downloaded``,
    ``already present``, ``failed`` or ``skipped``), ``bytes`` and ``detail`` (a sentence; for a failed file,
    how to get it by hand).
    """

    dest: Path
    table: pd.DataFrame

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not (self.table["action"] == "failed").any()

    @property
    def files(self) -> list[Path]:
        """Files in place after the call (downloaded or already present)."""
        rows = self.table[self.table["action"].isin(["downloaded", "already present"])]
        return [self.dest / f for f in rows["file"]]

    def summary(self) -> str:
        """A few lines for a person."""
        lines = [f"Public inputs in {self.dest}:"]
        for r in self.table.itertuples(index=False):
            size = f" ({_size(r.bytes)})" if r.bytes else ""
            detail = r.detail.split("; ")[-1] if r.action == "downloaded" else r.detail  # the URL is in .table
            lines.append(f"  {r.file}: {r.action}{size}" + (f"; {detail}" if detail else ""))
        counts = self.table["action"].value_counts()
        lines.append(", ".join(f"{n} {a}" for a, n in counts.items()) + ".")
        if not self.ok:
            lines.append("Download the failed files by hand as their line says (see also: victimneeds fetch public "
                         "--by-hand), then run the same command again to check them.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------------------
# The downloader
# --------------------------------------------------------------------------------------------------


def _districts_of(force: str, dest: Path) -> list[str]:
    from victimneeds.new_area import find_force

    try:
        _, _, districts = find_force(force, dest)
    except (ValueError, FileNotFoundError, OSError) as err:
        raise FetchError(f"cannot find the districts of {force!r}: {err}", "bad_request") from None
    return [code for code, _ in districts]


def fetch_public(
    dest: str | os.PathLike,
    names: Sequence[str] | None = None,
    *,
    force: str | None = None,
    districts: Sequence[str] | None = None,
    base_url: str | None = None,
    sources: pd.DataFrame | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    progress: bool = True,
) -> PublicFetchResult:
    """Download public inputs of an area into ``dest`` (the area's ``data_dir``), in the layout it reads.

    Parameters
    ----------
    dest : the open-data folder; files go to ``dest/<file_name>`` (e.g. ``dest/deprivation/File_1_...csv.gz``).
    names : inputs to fetch (rows of :func:`public_sources`); default every input but ``policeuk``
        (:data:`PUBLIC_INPUTS`).
    force : the police force area (``"avon-and-somerset"``, ``"Avon and Somerset"`` or ``"E23000036"``) whose
        districts' boundary files to fetch; its districts are read from the LAD-CSP-PFA lookup in ``dest``
        (fetched first). Without ``force`` or ``districts`` the boundaries are skipped.
    districts : district (LAD) codes whose boundary files to fetch, instead of ``force``.
    base_url : fetch from this server instead (a mirror, or a test server): each URL's ``https://host/`` is
        replaced by it.
    sources : the sources table (default :func:`public_sources`).
    timeout, retries, progress : as in :func:`victimneeds.io.fetch.fetch_policeuk`.

    Returns
    -------
    PublicFetchResult
        ``.table`` (one row per file: downloaded, already present, failed with the by-hand instruction, or
        skipped), ``.ok``, ``.files``, ``.summary()``.

    Raises
    ------
    FetchError
        ``offline``: the server cannot be reached (the message says where to get the file by hand);
        ``bad_request``: an unknown input name, or a force not in the lookup.

    Examples
    --------
    A local mirror holding one file (the real URLs are used the same way):

    >>> import hashlib, pathlib, tempfile
    >>> mirror = pathlib.Path(tempfile.mkdtemp())
    >>> body = b"LAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM,FID\\n"
    >>> src = public_sources()
    >>> src = src[src["name"] == "pfa_lookup"].assign(file_url=(mirror / "lookup.csv").as_uri(), bytes=len(body),
    ...                                               sha256=hashlib.sha256(body).hexdigest())
    >>> _ = (mirror / "lookup.csv").write_bytes(body)
    >>> dest = pathlib.Path(tempfile.mkdtemp())
    >>> fetch_public(dest, ["pfa_lookup"], sources=src, progress=False).table[["file", "action"]].values.tolist()
    [['geography/lookups/LAD17_CSP17_PFA17_EW_lookup.csv', 'downloaded']]
    >>> fetch_public(dest, ["pfa_lookup"], sources=src, progress=False).table["action"].tolist()
    ['already present']
    """
    dest = Path(dest)
    src = public_sources() if sources is None else sources
    wanted = list(names) if names else [n for n in PUBLIC_INPUTS if n in set(src["name"])]
    _check_names(wanted, src)
    if "policeuk" in wanted:
        raise FetchError("police.uk files are fetched with victimneeds fetch policeuk (fetch_policeuk), which chooses "
                         "the monthly archives; leave policeuk out of the names.", "bad_request")
    order = [n for n in PUBLIC_INPUTS if n in wanted] + [n for n in wanted if n not in PUBLIC_INPUTS]
    by_name = src.set_index("name", drop=False)
    rows: list[dict[str, object]] = []
    dest.mkdir(parents=True, exist_ok=True)
    for name in order:
        row = by_name.loc[name]
        if "{district}" in row["file_name"]:
            codes = list(districts) if districts else (_districts_of(force, dest) if force else [])
            if not codes:
                rows.append({"name": name, "file": row["file_name"], "action": "skipped", "bytes": 0,
                             "detail": "one file per district: give the force (--force) or the district codes "
                                       "(--districts)"})
                continue
            jobs = [(row["file_name"].replace("{district}", c), row["file_url"].replace("{district}", c))
                    for c in codes]
        else:
            jobs = [(row["file_name"], row["file_url"])]
        for file_name, url in jobs:
            rows.append(_fetch_one(row, dest, file_name, url, base_url, timeout, retries, progress))
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    frame["bytes"] = frame["bytes"].astype("int64")
    return PublicFetchResult(dest, frame)


def _fetch_one(row: pd.Series, dest: Path, file_name: str, url: str, base_url: str | None, timeout: float,
               retries: int, progress: bool) -> dict[str, object]:
    target = dest / file_name
    result = {"name": row["name"], "file": file_name}
    hand = "Get it by hand: " + _instruction(row, dest, file_name) + "."
    if _present(target, row):
        return {**result, "action": "already present", "bytes": target.stat().st_size,
                "detail": "checksum matches" if row["sha256"] else "format checked"}
    if base_url:
        parts = urlsplit(url)
        url = base_url.rstrip("/") + "/" + parts.path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")

    def offline(err: object) -> FetchError:
        return FetchError(f"This machine cannot reach {_host(url)} to download {url} ({err}). Check the internet "
                          f"connection (and any proxy: urllib reads HTTPS_PROXY). {hand} (victimneeds fetch public "
                          "--by-hand lists every input.)", "offline")

    try:
        _download(url, part, timeout=timeout, retries=retries, progress=progress, offline=offline)
    except FetchError as err:
        if err.reason == "offline":
            raise
        why = f"{url} answered 404 Not Found" if err.reason == "not_published" else str(err)
        part.unlink(missing_ok=True)
        return {**result, "action": "failed", "bytes": 0, "detail": f"{why}. {hand}"}
    problem = None
    size = part.stat().st_size
    if not pd.isna(row["bytes"]) and size != int(row["bytes"]):
        problem = f"it has {size:,} bytes, not the {int(row['bytes']):,} expected"
    elif row["sha256"] and _sha256(part) != row["sha256"]:
        problem = "its SHA-256 checksum differs from the one recorded (a different or damaged file)"
    if problem is None:
        problem = _format_problem(part, row["format"], row["expect"])
    if problem:
        part.unlink(missing_ok=True)
        return {**result, "action": "failed", "bytes": size,
                "detail": f"the download of {url} was deleted: {problem}. {hand}"}
    if row["compress"] == "gzip":
        tmp = target.with_name(target.name + ".tmp")
        with part.open("rb") as src, gzip.GzipFile(tmp, "wb", compresslevel=9, mtime=0) as out:
            shutil.copyfileobj(src, out, 1 << 20)
        part.unlink()
        os.replace(tmp, target)
        detail = f"from {url}; checked, then gzipped"
    else:
        os.replace(part, target)
        detail = f"from {url}; " + ("size and checksum checked" if row["sha256"] else f"checked as {row['format']}")
    return {**result, "action": "downloaded", "bytes": target.stat().st_size, "detail": detail}
