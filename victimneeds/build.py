"""The main job: run the assessment's notebooks for an area and collect the evidence pack.

``victimneeds build`` (see :mod:`victimneeds.cli`) calls :func:`build`, which

1. loads the area once in this process, so a bad configuration fails fast with a readable message;
2. runs each notebook in ``notebooks/`` in order with papermill, setting its ``parameters`` cell
   (``area``, ``out_dir``, ``figures_dir``);
3. writes the executed notebooks, their HTML, every table (CSV, already disclosure-controlled) and one Excel
   workbook with a contents sheet, under ``out_dir`` (default ``build/<area>/``).
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

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
    if str(area) == "example":
        from victimneeds.datasets import load_example

        return load_example()
    path = Path(area)
    if path.suffix.lower() != ".toml":
        raise ValueError(
            f"--area must be 'example' or the path of an area configuration file ending in .toml; got {area!r}."
        )
    if not path.exists():
        raise FileNotFoundError(f"The area configuration file {str(path)!r} does not exist.")
    from victimneeds.io import load_area, wait_for_cache

    data = load_area(path)
    wait_for_cache()  # the notebooks' kernels then read the police.uk table from the cache
    return data


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
    tables: int = 0
    figures: int = 0
    workbook: Path | None = None
    word: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"Evidence pack for {self.area} written to {self.out_dir}",
            f"  notebooks run: {len(self.notebooks)} ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()) + ")",
            f"  tables: {self.tables} (CSV, disclosure control applied)",
            f"  figures: {self.figures} (PNG and SVG, with alt text)",
            f"  workbook: {self.workbook}",
            f"  Word document: {self.word}",
            f"  HTML: {len(self.html)} pages in {self.out_dir / 'html'}",
            f"  took {self.seconds:.1f} s",
        ]
        if self.skipped:
            lines.append(f"  sections skipped for lack of input: {len(self.skipped)}")
            lines += [f"    - {text}" for text in self.skipped]
        return "\n".join(lines)


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
    progress: bool = True,
    kernel_name: str = "python3",
    jobs: int | None = None,
) -> BuildSummary:
    """Run every notebook for ``area`` and write the evidence pack; see the module docstring.

    ``jobs`` notebooks run at a time (default: one per CPU core).
    """
    start = time.perf_counter()
    data = load(area)  # first, so a bad configuration fails before any notebook starts

    from tqdm.auto import tqdm

    from victimneeds.report import skipped_sections, table_records, write_html, write_word, write_workbook

    slug = area_slug(area)
    out = Path(out_dir) if out_dir is not None else Path("build") / slug
    out = out.resolve()
    area_arg = "example" if slug == "example" else str(Path(area).resolve())
    summary = BuildSummary(area=data.name, out_dir=out)
    paths = notebooks(Path(notebooks_dir))
    # Start clean so the pack holds only this run's tables and figures.
    for sub in ("tables", "figures", "skipped", "findings"):
        folder = out / sub
        if folder.exists():
            for f in folder.iterdir():
                if f.is_file():
                    f.unlink()
    parameters = {"area": area_arg, "out_dir": str(out), "figures_dir": str(out / "figures")}
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs if jobs is not None else (os.cpu_count() or 1), len(paths)))
    bar = tqdm(total=len(paths), desc="Running notebooks", unit="notebook", disable=not progress)
    failures: list[str] = []
    # Notebooks are independent (each loads the area itself), so they run side by side, one kernel each.
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_run_notebook, str(nb), str(out / "notebooks" / nb.name), parameters, kernel_name): nb
                   for nb in paths}
        for future in as_completed(futures):
            nb = futures[future]
            seconds, error = future.result()
            bar.update(1)
            bar.set_postfix_str(nb.name)
            if error:
                failures.append(error)
            else:
                summary.timings[nb.stem] = seconds
    bar.close()
    if failures:
        raise BuildError(" ".join(sorted(failures)))
    for nb in paths:
        executed = out / "notebooks" / nb.name
        summary.notebooks.append(executed)
        summary.html.append(write_html(executed, out / "html"))
    summary.timings = dict(sorted(summary.timings.items()))
    summary.skipped = skipped_sections(out)
    records = table_records(out)
    summary.tables = len(records)
    summary.figures = len(list((out / "figures").glob("*.png")))
    summary.workbook = write_workbook(
        out, out / f"{slug}_evidence_tables.xlsx", title=f"Victims' needs assessment: {data.name}",
        source=data.source_note,
    )
    period = describe_period(*data.period) if data.period else ""
    summary.word = write_word(out, out / f"{slug}_needs_assessment.docx",
                              title=f"Victims' needs assessment: {data.name}", source=data.source_note,
                              notebooks=summary.notebooks, period=period)
    summary.seconds = time.perf_counter() - start
    return summary


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
