"""The main job: run the assessment's notebooks for an area and collect the evidence pack.

``victimneeds build`` (see :mod:`victimneeds.cli`) calls :func:`build`, which

1. loads the area once in this process, so a bad configuration fails fast with a readable message;
2. runs each notebook in ``notebooks/`` in order with papermill, setting its ``parameters`` cell
   (``area``, ``out_dir``, ``figures_dir``);
3. writes the executed notebooks, every table (CSV, already disclosure-controlled), one Excel workbook with a
   contents sheet, the Word draft, and the web pages (a page per section and ``html/index.html``, see
   :mod:`victimneeds.html_report`), under ``out_dir`` (default ``build/<area>/``).

While it works, :class:`BuildProgress` says which stage it is in (loading the area, the notebooks running and
done, each document being written, the audit, the manifest).

A build is all or nothing. The pack is written into a temporary folder beside ``out_dir``
(``.<name>.tmp-<pid>-<random>``), the notebooks getting that folder as their ``out_dir`` and
``figures_dir``; ``manifest.json`` is written last (every file's SHA-256, the package version, the area and
the time, see :func:`check_pack`), and only then is the finished folder moved into place. Until that
moment the previous pack is untouched, whether the build fails, is interrupted or is killed. The move is
two renames in the same folder: the previous pack to ``.<name>.old-<pid>``, then the new one to
``<name>``; the old one is then deleted. A build killed between the two renames leaves no ``<name>``
but the previous pack under ``.<name>.old-<pid>``: the next build into that folder (or
:func:`recover`) renames it back before starting, and deletes any temporary folders left by killed builds.

One build at a time writes a given pack: the build holds a lock on ``.<name>.lock`` beside it
(``fcntl.flock``; ``msvcrt.locking`` on Windows), which the operating system releases if the process
dies, and a second build into the same folder stops at once with :class:`BuildError`.

A failed build's partly written output (executed notebooks up to the failing cell) is kept for
inspection in ``<name>.failed`` beside the pack (replaced by the next failure, removed by the next
success). The build replaces only a folder that is empty or is an evidence pack (it has a
``manifest.json`` listing every file in it, or, from before manifests, it holds only folders, one of them
``notebooks/`` with executed notebooks, and ``.xlsx``/``.docx`` documents): it refuses to replace a
folder holding anything else, so that a mistyped ``--out`` cannot delete someone's work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from victimneeds import labels
from victimneeds.datamodel import AreaData
from victimneeds.periods import describe_period

#: The repository's notebooks folder (the package is installed editable from the repository).
NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"


class BuildError(RuntimeError):
    """A build step failed; the message names the notebook and cell."""


def load(area: str | Path = "example") -> AreaData:
    """Load an area: ``"example"`` for the built-in synthetic area, or the path of an area's TOML config.

    Examples
    --------
    >>> load("example").synthetic
    True
    """
    handed = _handed_over(area)
    if handed is not None:
        return handed
    if str(area) == "example":
        from victimneeds.datasets import load_example

        return load_example()
    path = Path(area)
    if path.suffix.lower() != ".toml":
        raise ValueError(
            f"the area must be 'example' (the built-in synthetic area) or the path of an area configuration file "
            f"ending in .toml (see victimneeds init); got {area!r}."
        )
    if not path.exists():
        raise FileNotFoundError(f"The area configuration file {str(path)!r} does not exist.")
    from victimneeds.io import load_area, wait_for_cache

    data = load_area(path)
    wait_for_cache()  # the notebooks' kernels then read the police.uk table from the cache
    return data


#: Environment variable naming the file in which a build hands its loaded area to the notebooks' kernels.
HANDOFF = "VICTIMNEEDS_AREA_HANDOFF"


def _area_key(area: str | Path) -> str:
    return "example" if str(area) == "example" else str(Path(area).resolve())


def _handed_over(area: str | Path) -> AreaData | None:
    """The area a running build loaded, if this process is one of its kernels and asks for the same area.

    Each notebook would otherwise read and check every input again (geography, population, deprivation and the
    extracts: several seconds each, seven times). The build pickles the area it loaded into a private temporary
    folder (owner-only) for the duration of the build and removes it after; nothing is kept.
    """
    import pickle

    path = os.environ.get(HANDOFF)
    if not path or not Path(path).is_file():
        return None
    with open(path, "rb") as handle:
        key, data = pickle.load(handle)
    return data if key == _area_key(area) else None


def area_slug(area: str | Path) -> str:
    """Folder name for an area: ``example`` or the config file's stem."""
    return "example" if str(area) == "example" else re.sub(r"[^a-z0-9_\-]+", "-", Path(area).stem.lower())


@dataclass
class BuildSummary:
    """What a build wrote and how long it took."""

    area: str
    out_dir: Path
    notebooks: list[Path] = field(default_factory=list)
    html: list[Path] = field(default_factory=list)
    index: Path | None = None
    tables: int = 0
    figures: int = 0
    workbook: Path | None = None
    word: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    audit: str = ""

    def __str__(self) -> str:
        lines = [
            f"Evidence pack for {self.area} written to {self.out_dir}",
            f"  notebooks run: {len(self.notebooks)} ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()) + ")",
            f"  tables: {self.tables} (CSV, disclosure control applied)",
            f"  figures: {self.figures} (PNG and SVG, with alt text)",
            f"  workbook: {self.workbook}",
            f"  Word document: {self.word}",
            f"  HTML: {len(self.html)} pages in {self.out_dir / 'html'}"
            + (f", contents page {self.index.name}" if self.index is not None else ""),
            f"  took {self.seconds:.1f} s",
        ]
        if self.audit:
            lines.append(f"  disclosure audit: {self.audit}")
        if self.skipped:
            lines.append(f"  sections skipped for lack of input: {len(self.skipped)}")
            lines += [f"    - {text}" for text in self.skipped]
        return "\n".join(lines)


class BuildProgress:
    """What a build is doing, for the person waiting for it: the stage, and the notebooks running and done.

    On a terminal each stage is one line updated in place (tqdm) with the time it has taken so far, left on
    screen when the stage ends; while the notebooks run the line names those running and counts those done:
    ``Running notebooks (2 at a time): 01_demand, 02_referral_gaps ... 3/7 done [00:41]``. Anywhere else (a CI
    log, a file, a Jupyter cell) each stage is one plain line, and so is each notebook as it finishes, with no
    carriage returns or escape codes.

    Parameters
    ----------
    stream : where to write; default ``sys.stderr`` (read when the object is made).
    enabled : False writes nothing (``victimneeds build --quiet``).
    live : lines updated in place; default whether ``stream`` is a terminal.
    interval : seconds between updates of the time shown on a live line.

    Examples
    --------
    >>> import io
    >>> log = io.StringIO()
    >>> progress = BuildProgress(log)
    >>> progress.stage("Loading the area")
    >>> progress.start_notebooks(["00_area_profile", "01_demand"], jobs=2)
    >>> progress.notebook_started("00_area_profile"); progress.notebook_started("01_demand")
    >>> progress.notebook_finished("01_demand", 31.04)
    >>> progress.stage("Writing the manifest"); progress.close()
    >>> print(log.getvalue(), end="")
    Loading the area
    Running 2 notebooks (2 at a time)
      1/2 done: 01_demand (31.0 s)
    Writing the manifest
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, live: bool | None = None,
                 interval: float = 1.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        if live is None:
            try:
                live = bool(self.stream.isatty())
            except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
                live = False
        self.live = enabled and live
        self.interval = interval
        self.jobs = 1
        self.total = 0
        self.done = 0
        self.running: list[str] = []
        self._bar = None
        self._stop: threading.Event | None = None
        self._ticker: threading.Thread | None = None

    def stage(self, text: str) -> None:
        """End the current stage and start the one named ``text`` (e.g. "Writing the Word draft")."""
        self._end()
        if not self.enabled:
            return
        if not self.live:
            self._line(text)
            return
        self._bar = self._new_bar(text, None, "{desc} [{elapsed}]")
        # A thread moves the elapsed time on while this process works (the notebooks' stage, which starts
        # processes, refreshes from its own loop instead: see tick).
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_until, args=(self._bar, self._stop), daemon=True)
        self._ticker.start()

    def start_notebooks(self, names: Sequence[str], jobs: int) -> None:
        """End the current stage and start running the notebooks ``names`` (stems), ``jobs`` at a time."""
        self._end()
        self.jobs, self.total, self.done, self.running = jobs, len(names), 0, []
        if self.enabled and self.live:
            self._bar = self._new_bar(self._notebooks_text(), len(names),
                                      "{desc} ... {n_fmt}/{total_fmt} done [{elapsed}]")
        elif self.enabled:
            self._line(f"Running {len(names)} notebook{'s' if len(names) != 1 else ''} ({jobs} at a time)")

    def notebook_started(self, name: str) -> None:
        """Say that the notebook ``name`` has started."""
        self.running.append(name)
        if self._bar is not None:
            self._bar.set_description_str(self._notebooks_text(), refresh=True)

    def notebook_finished(self, name: str, seconds: float, failed: bool = False) -> None:
        """Say that the notebook ``name`` has finished (or failed) after ``seconds``."""
        if name in self.running:
            self.running.remove(name)
        self.done += 1
        if self._bar is not None:
            self._bar.set_description_str(self._notebooks_text(), refresh=False)
            self._bar.update(1)
            self._bar.refresh()
        elif self.enabled:
            self._line(f"  {self.done}/{self.total} {'failed' if failed else 'done'}: {name} ({seconds:.1f} s)")

    def tick(self) -> None:
        """Move on the time shown on a live line (called by the notebooks' loop while it waits)."""
        if self._bar is not None and self._ticker is None:
            self._bar.refresh()

    def close(self) -> None:
        """End the current stage (a live line stays on screen with its time)."""
        self._end()

    def _notebooks_text(self) -> str:
        head = f"Running notebooks ({self.jobs} at a time)"
        return f"{head}: {', '.join(self.running)}" if self.running else head

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _new_bar(self, desc: str, total: int | None, bar_format: str):  # noqa: ANN202 (a tqdm bar)
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, bar_format=bar_format, file=self.stream, leave=True,
                    dynamic_ncols=True)

    def _tick_until(self, bar, stop: threading.Event) -> None:  # noqa: ANN001
        while not stop.wait(self.interval):
            bar.refresh()

    def _end(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self._stop = self._ticker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The assessment notebooks, in the order they run (by their number prefix)."""
    found = sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise BuildError(f"No notebooks named like '00_name.ipynb' in {directory}.")
    return found


def build(
    area: str | Path = "example",
    out_dir: str | Path | None = None,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    progress: bool | BuildProgress = True,
    kernel_name: str = "python3",
    jobs: int | None = None,
) -> BuildSummary:
    """Run every notebook for ``area`` and write the evidence pack; see the module docstring.

    ``jobs`` notebooks run at a time (default: one per CPU core). The pack appears in ``out_dir`` only
    when the whole build has succeeded; until then the previous pack there is untouched. ``progress``
    says what the build is doing on standard error (True), says nothing (False), or is a
    :class:`BuildProgress` to report to.

    Raises
    ------
    BuildError
        A notebook failed (the message names it and its cell), another build is writing the same pack,
        or ``out_dir`` holds files that are not an evidence pack's.
    """
    start = time.perf_counter()
    reporter = progress if isinstance(progress, BuildProgress) else BuildProgress(enabled=bool(progress))
    try:
        reporter.stage("Loading the area")
        data = load(area)  # first, so a bad configuration fails before any notebook starts
        import pickle
        import tempfile

        handoff_dir = Path(tempfile.mkdtemp(prefix="victimneeds-area-"))  # owner-only
        handoff = handoff_dir / "area.pickle"
        with open(handoff, "wb") as handle:
            pickle.dump((_area_key(area), data), handle, protocol=pickle.HIGHEST_PROTOCOL)
        previous = os.environ.get(HANDOFF)
        os.environ[HANDOFF] = str(handoff)  # the kernels inherit it and load the area from it
        try:
            return _build_locked(area, out_dir, notebooks_dir, reporter, kernel_name, jobs, data, start)
        finally:
            shutil.rmtree(handoff_dir, ignore_errors=True)
            if previous is None:
                os.environ.pop(HANDOFF, None)
            else:
                os.environ[HANDOFF] = previous
    finally:
        reporter.close()


def _build_locked(area: str | Path, out_dir: str | Path | None, notebooks_dir: str | Path, progress: BuildProgress,
                  kernel_name: str, jobs: int | None, data: AreaData, start: float) -> BuildSummary:
    """The build proper, once the area is loaded: see :func:`build`."""
    slug = area_slug(area)
    out = (Path(out_dir) if out_dir is not None else Path("build") / slug).resolve()
    area_arg = "example" if slug == "example" else str(Path(area).resolve())
    paths = notebooks(Path(notebooks_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        _recover(out)
        _check_replaceable(out)
        work = _new_work_folder(out)
        failed = out.with_name(f"{out.name}.failed")
        try:
            summary = _build_into(work, out, data, slug, area_arg, paths, progress, kernel_name, jobs)
            progress.stage("Writing the manifest")
            write_manifest(work, area=data.name)
        except BuildError as err:
            shutil.rmtree(failed, ignore_errors=True)
            try:
                os.replace(work, failed)  # kept for a look at the partly executed notebooks
            except OSError:
                shutil.rmtree(work, ignore_errors=True)
                raise
            raise BuildError(str(err).replace(str(work), str(failed))) from None
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        try:
            _swap_into_place(work, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)  # moved away if the swap succeeded
        shutil.rmtree(failed, ignore_errors=True)
    summary.seconds = time.perf_counter() - start
    return summary


def _new_work_folder(out: Path) -> Path:
    """A new empty folder ``.<name>.tmp-<pid>-<random>`` beside ``out``, with the permissions a folder made by
    the user would have (``tempfile.mkdtemp`` would make it readable by its owner only, and so the pack)."""
    for _ in range(100):
        work = out.with_name(f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            work.mkdir()
        except FileExistsError:
            continue
        return work
    raise BuildError(f"Could not create a temporary folder beside {out}.")


def _build_into(work: Path, out: Path, data: AreaData, slug: str, area_arg: str, paths: list[Path],
                progress: BuildProgress, kernel_name: str, jobs: int | None) -> BuildSummary:
    """Run the notebooks into ``work`` and write the pack there; the summary names the files as they will be
    once ``work`` is moved to ``out``."""
    from victimneeds.report import skipped_sections, table_records, write_word, write_workbook

    summary = BuildSummary(area=data.name, out_dir=out)
    parameters = {"area": area_arg, "out_dir": str(work), "figures_dir": str(work / "figures")}
    (work / "notebooks").mkdir(parents=True, exist_ok=True)
    timings, failures = _run_notebooks(paths, work, parameters, kernel_name, jobs, progress)
    if failures:
        raise BuildError(" ".join(sorted(failures)))
    summary.timings = dict(sorted(timings.items()))
    for nb in paths:
        _point_at(work / "notebooks" / nb.name, work, out)
        summary.notebooks.append(out / "notebooks" / nb.name)
    summary.skipped = skipped_sections(work)
    records = table_records(work)
    summary.tables = len(records)
    summary.figures = len(list((work / "figures").glob("*.png")))
    title = f"Victims' needs assessment: {data.name}"
    period = describe_period(*data.period) if data.period else ""
    word_name = f"{slug}_needs_assessment.docx"
    progress.stage("Writing the Excel workbook")
    names = labels.place_names(data.areas)
    workbook = write_workbook(work, work / f"{slug}_evidence_tables.xlsx", title=title, source=data.source_note,
                              period=period, docx_name=word_name, area=data.name, place_names=names)
    progress.stage("Writing the Word draft")
    word = write_word(work, work / word_name, title=title, source=data.source_note,
                      notebooks=[work / "notebooks" / nb.name for nb in paths], period=period,
                      place_names=names)
    summary.workbook, summary.word = out / workbook.name, out / word.name
    progress.stage("Writing HTML pages")
    pages, index = _write_pages(work, [work / "notebooks" / nb.name for nb in paths], title, data, period,
                                records, workbook, word)
    summary.html = [out / "html" / page.name for page in pages]
    summary.index = out / "html" / index.name
    progress.stage("Auditing disclosure")
    from victimneeds.audit import audit_pack

    # The attacker re-reads everything the pack publishes (CSV, workbook) and must not narrow any hidden count
    # to one value; a pack that fails is not moved into place.
    result = audit_pack(work)
    summary.audit = result.summary().splitlines()[0]
    if not result.passed:
        raise BuildError(f"The disclosure audit of the pack failed, so it was not published: {result.summary()}")
    return summary


def _write_pages(work: Path, executed: list[Path], title: str, data: AreaData, period: str, records: list,
                 workbook: Path, word: Path) -> tuple[list[Path], Path]:
    """Write a page per executed notebook and the index in ``work/html``: (the section pages, the index).

    The index offers the Word draft, the workbook, every table's CSV and the manifest (written last, after
    the pages), each linked relative to ``html/``.
    """
    from victimneeds import html_report
    from victimneeds.report import findings, skipped_sections

    folder = work / "html"
    sections = [html_report.section(path) for path in executed]
    pages = []
    for i, path in enumerate(executed):
        pages.append(html_report.write_html(
            path, folder, area=data.name, source=data.source_note, figures_dir=work / "figures",
            previous=sections[i - 1] if i > 0 else None,
            following=sections[i + 1] if i + 1 < len(sections) else None,
        ))
    downloads = [
        (word, "the assessment drafted as a Word document, to edit"),
        (workbook, "every table in one Excel workbook, with a contents sheet"),
        (work / MANIFEST, "every file of the pack with its SHA-256 checksum, to check that none has changed "
                          "since the build"),
        *((work / "tables" / f"{record.name}.csv", record.title) for record in records),
    ]
    index = html_report.write_index(
        folder, title, sections, downloads, sorted((work / "figures").glob("*.json")), area=data.name,
        period=period, source=data.source_note, skipped=skipped_sections(work),
        gaps=[labels.humanise_text(text, labels.place_names(data.areas)) for text in findings(work)],
    )
    return pages, index


def _run_notebooks(paths: list[Path], work: Path, parameters: dict, kernel_name: str, jobs: int | None,
                   progress: BuildProgress) -> tuple[dict[str, float], list[str]]:
    """Run the notebooks side by side, one kernel each, writing the executed copies to ``work/notebooks``:
    ({notebook stem: seconds}, [a sentence for each notebook that failed]).

    ``jobs`` notebooks are handed to the pool at a time, so that those named as running by ``progress`` are the
    ones running.
    """
    jobs = max(1, min(jobs if jobs is not None else (os.cpu_count() or 1), len(paths)))
    progress.start_notebooks([nb.stem for nb in paths], jobs)
    timings: dict[str, float] = {}
    failures: list[str] = []
    waiting = list(paths)
    running: dict = {}
    # Notebooks are independent (each loads the area itself), so they run side by side, one kernel each.
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        while waiting or running:
            while waiting and len(running) < jobs:
                nb = waiting.pop(0)
                running[pool.submit(_run_notebook, str(nb), str(work / "notebooks" / nb.name), parameters,
                                    kernel_name)] = nb
                progress.notebook_started(nb.stem)
            finished, _ = wait(running, timeout=progress.interval, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f].name):
                nb = running.pop(future)
                seconds, error = future.result()
                progress.notebook_finished(nb.stem, seconds, failed=bool(error))
                if error:
                    failures.append(error)
                else:
                    timings[nb.stem] = seconds
            progress.tick()
    return timings, failures


def _point_at(executed: Path, work: Path, out: Path) -> None:
    """Name the pack's final folder, not the temporary one, in an executed notebook (its parameters cell and any
    output that printed the path), so the notebook reads true once the pack is moved into place."""
    text = executed.read_text(encoding="utf-8")
    for old, new in ((str(work), str(out)), (json.dumps(str(work))[1:-1], json.dumps(str(out))[1:-1])):
        text = text.replace(old, new)
    executed.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Integrity: the lock, the manifest and the swap
# --------------------------------------------------------------------------------------------------

#: The documents a pack holds at its top level, beside its folders (see :func:`_check_replaceable`).
PACK_DOCUMENTS = (".xlsx", ".docx")
MANIFEST = "manifest.json"


@contextlib.contextmanager
def build_lock(out: str | Path) -> Iterator[Path]:
    """Hold the lock of the pack ``out`` (the file ``.<name>.lock`` beside it) for a ``with`` block.

    The lock is an operating-system lock on the file (``fcntl.flock``; ``msvcrt.locking`` on Windows): it is
    released when the block ends or the process dies, however it dies, so a killed build never leaves a
    stale lock. The file holds the holder's process id and start time, for the message another build gets.

    Raises
    ------
    BuildError
        Another build (in this or another process) holds the lock.
    """
    out = Path(out).resolve()
    path = out.parent / f".{out.name}.lock"
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "a process that has not written its id"
            os.close(fd)
            raise BuildError(
                f"Another build is writing the evidence pack {out} ({holder}). Wait for it to finish, or build "
                "into another folder (--out)."
            )
        # The lock file is deleted when a build ends: make sure ours is still the one at the path.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:
        raise BuildError(f"Could not take the lock {path}: it is being created and removed repeatedly.")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC".encode())
        yield path
    finally:
        if os.name != "nt":
            path.unlink(missing_ok=True)  # while still locked, so no other build can hold this file meanwhile
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)  # a byte past the text, so the holder's id stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def recover(out: str | Path) -> list[str]:
    """Put the folder of the pack ``out`` back in order after a build that was killed; what was done, in words.

    A build killed between its two renames left no pack at ``out`` but the previous one at
    ``.<name>.old-<pid>``: it is renamed back. Leftover temporary folders (``.<name>.tmp-<pid>-*``) and old
    packs whose replacement is in place are deleted. :func:`build` does this first, under its lock.

    Raises
    ------
    BuildError
        A build is writing this pack now (see :func:`build_lock`).
    """
    out = Path(out).resolve()
    with build_lock(out):
        return _recover(out)


def _recover(out: Path) -> list[str]:
    done = []
    olds = sorted(out.parent.glob(f".{glob_escape(out.name)}.old-[0-9]*"), key=lambda p: p.stat().st_mtime_ns)
    if olds and not out.exists():
        os.replace(olds[-1], out)
        done.append(f"restored the previous pack from {olds[-1].name} (a build was stopped while moving it)")
        olds = olds[:-1]
    for left in [*olds, *out.parent.glob(f".{glob_escape(out.name)}.tmp-[0-9]*-*")]:
        shutil.rmtree(left, ignore_errors=True)
        done.append(f"deleted {left.name}, left by a build that was stopped")
    return done


def glob_escape(name: str) -> str:
    """``name`` with the characters ``glob`` treats as patterns escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _check_replaceable(out: Path) -> None:
    """Refuse to replace ``out`` unless it is missing, empty or an evidence pack (see the module docstring)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise BuildError(f"{out} is a file, not a folder: choose another folder for the evidence pack.")
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            listed = set(json.loads(manifest.read_text(encoding="utf-8"))["files"])
        except (OSError, ValueError, KeyError, TypeError):
            listed = None
        if listed is not None:
            extra = [p for p in _pack_files(out) if p not in listed and p != MANIFEST]
            if not extra:
                return
            raise BuildError(
                f"The evidence pack {out} holds files the build did not write ({', '.join(extra[:3])}"
                f"{f' and {len(extra) - 3} more' if len(extra) > 3 else ''}). A new build replaces the whole "
                "folder: move them out first, or build into another folder."
            )
    # A pack from before manifests: folders (notebooks, html, tables ...), the workbook and the Word document,
    # with the executed notebooks (and their kernel logs) in notebooks/.
    entries = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    others = [p.name for p in entries if not p.is_dir() and p.suffix not in PACK_DOCUMENTS and p.name != MANIFEST]
    if entries and not (out / "notebooks").is_dir():
        others.append("no notebooks folder")
    elif entries:
        others += [f"notebooks/{p.name}" for p in (out / "notebooks").iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix not in (".ipynb", ".log")]
    if others:
        raise BuildError(
            f"{out} is not empty and is not an evidence pack (it holds {', '.join(others[:3])}"
            f"{f' and {len(others) - 3} more' if len(others) > 3 else ''}). A build replaces the whole folder: "
            "choose an empty or new folder for the pack."
        )


def _pack_files(folder: Path) -> list[str]:
    """The pack's files, as sorted POSIX paths relative to ``folder`` (hidden files and folders left out:
    Jupyter's checkpoints, a desktop's thumbnails)."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root, n).relative_to(folder).as_posix() for n in names if not n.startswith(".")]
    return sorted(found)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: str | Path, area: str) -> Path:
    """Write ``manifest.json`` in a pack: every file's SHA-256 and size, the package version, the area and the
    time (UTC)."""
    import victimneeds

    folder = Path(folder)
    files = {name: {"sha256": _sha256(folder / name), "bytes": (folder / name).stat().st_size}
             for name in _pack_files(folder) if name != MANIFEST}
    manifest = {
        "package": "victimneeds",
        "version": victimneeds.__version__,
        "area": area,
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


def check_pack(folder: str | Path) -> list[str]:
    """What is wrong with a pack against its ``manifest.json``: files missing, changed or not listed (an empty
    list when every file is as the build wrote it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> pack = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (pack / "tables").mkdir(), (pack / "tables" / "t.csv").write_text("a\\n1\\n")
    >>> _ = write_manifest(pack, area="Demo")
    >>> check_pack(pack)
    []
    >>> _ = (pack / "tables" / "t.csv").write_text("a\\n2\\n")
    >>> check_pack(pack)
    ['tables/t.csv has changed since the build (SHA-256 differs)']
    """
    folder = Path(folder)
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"{folder / MANIFEST} cannot be read ({type(err).__name__}: {err})"]
    problems = []
    present = set(_pack_files(folder)) - {MANIFEST}
    for name, meta in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name} is missing")
        elif _sha256(folder / name) != meta["sha256"]:
            problems.append(f"{name} has changed since the build (SHA-256 differs)")
    problems += [f"{name} is not listed in the manifest" for name in sorted(present - set(listed))]
    return problems


def _swap_into_place(work: Path, out: Path) -> None:
    """Move the finished pack ``work`` to ``out``, replacing the previous pack (two renames; see :func:`recover`
    for a build killed between them)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(out, old)
        except OSError as err:
            raise BuildError(
                f"The new evidence pack could not replace {out} ({err}); the previous pack is unchanged. A file in "
                "it may be open in another program (the workbook in Excel, say): close it and build again."
            ) from err
    try:
        os.replace(work, out)
    except BaseException as err:
        if old is not None and not out.exists():
            os.replace(old, out)  # put the previous pack back
        if isinstance(err, OSError):
            raise BuildError(
                f"The new evidence pack could not be moved to {out} ({err}); the previous pack is unchanged."
            ) from err
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _run_notebook(source: str, executed: str, parameters: dict, kernel_name: str,
                  attempts: int = 2) -> tuple[float, str | None]:
    """Run one notebook with papermill; return (seconds, None) or (seconds, a sentence naming the failed cell).

    A failure to start or talk to the kernel (for instance two kernels racing for the same port when notebooks
    start side by side) is retried once; an error raised by a cell is not retried.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    name = Path(source).name
    # The kernel's own chatter (transport warnings, shutdown messages) goes to a log beside the executed
    # notebook rather than the user's terminal; cell errors still come back through papermill.
    log = Path(executed).with_suffix(".log")
    with log.open("w", encoding="utf-8") as log_file:
        os.dup2(log_file.fileno(), 2)  # fd 2 keeps the file open after this handle closes
    problem = ""
    for _ in range(attempts):
        try:
            pm.execute_notebook(source, executed, parameters=parameters, cwd=str(Path(source).parent),
                                kernel_name=kernel_name, progress_bar=False, log_output=False)
        except PapermillExecutionError as err:
            first = (err.source or "").strip().splitlines()
            starts = f", which starts {first[0]!r}" if first else ""
            return time.perf_counter() - t0, (
                f"Notebook {name} failed in cell {err.cell_index} (execution count {err.exec_count}{starts}): "
                f"{err.ename}: {err.evalue}. The partly executed notebook is at {executed}."
            )
        except Exception as err:  # the kernel did not start or died, the notebook is unreadable, ...
            problem = f"{type(err).__name__}: {err}"
            continue
        return time.perf_counter() - t0, None
    return time.perf_counter() - t0, (
        f"Notebook {name} could not be run ({attempts} attempts): {problem}. The kernel's log is {log}."
    )
