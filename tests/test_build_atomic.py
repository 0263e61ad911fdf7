"""Atomic builds (issue 16, item 6): the pack appears whole or not at all, carries a manifest, and one build at a
time writes it. The notebook runner is replaced by a fake that writes what notebooks write (an executed
notebook, a table), so these tests start no kernel."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import victimneeds
from victimneeds import build as vbuild
from victimneeds.build import BuildError, build, build_lock, check_pack, recover
from victimneeds.report import Output


def _notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name in ("00_first.ipynb", "01_second.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), folder / name)
    return folder


def _fake_runner(tag: str, fail_after: int | None = None, block: threading.Event | None = None,
                 started: threading.Event | None = None):
    """A stand-in for build._run_notebooks: per notebook, an executed copy naming its out_dir and one table."""

    def run(paths, work, parameters, kernel_name, jobs, progress):  # noqa: ANN001, ANN202
        if started is not None:
            started.set()
        if block is not None:
            assert block.wait(20)
        assert parameters["out_dir"] == str(work) and parameters["figures_dir"] == str(work / "figures")
        timings, failures = {}, []
        for i, nb in enumerate(paths):
            if fail_after is not None and i >= fail_after:
                failures.append(f"Notebook {nb.name} failed in cell 3: ValueError: boom. "
                                f"The partly executed notebook is at {work / 'notebooks' / nb.name}.")
                continue
            node = nbformat.v4.new_notebook()
            node.cells = [nbformat.v4.new_markdown_cell(f"# {nb.stem} {tag}"),
                          nbformat.v4.new_code_cell(f"out_dir = {parameters['out_dir']!r}")]
            nbformat.write(node, work / "notebooks" / nb.name)
            out = Output(parameters["out_dir"], source="Source: test (synthetic example).", period="2024")
            out.table(pd.DataFrame({"district": ["A", "B"], "victims": [120, 45 + i]}), f"{nb.stem[:2]}_{tag}",
                      f"Victims {tag}", counts=["victims"])
            timings[nb.stem] = 0.1
        return timings, failures

    return run


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and modification time (hidden ones too)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


@pytest.fixture(scope="module")
def first_pack(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """One build, made once: (the pack's folder, the notebooks folder, the summary)."""
    folder = tmp_path_factory.mktemp("first")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vbuild, "_run_notebooks", _fake_runner("one"))
        nbs = _notebooks(folder / "nbs")
        out = folder / "packs" / "example"
        return out, nbs, build("example", out, notebooks_dir=nbs, progress=False)


@pytest.fixture
def setup(first_pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """A copy of the first pack (files and times) in a folder of its own, for a test to build over."""
    built, nbs, summary = first_pack
    out = tmp_path / "packs" / "example"
    shutil.copytree(built, out)
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("one"))
    return out, nbs, summary, monkeypatch


def test_a_build_writes_the_pack_with_a_manifest(first_pack) -> None:  # noqa: ANN001
    out, _, summary = first_pack
    assert summary.out_dir == out.resolve()
    assert [p.name for p in summary.notebooks] == ["00_first.ipynb", "01_second.ipynb"]
    for path in [*summary.notebooks, *summary.html, summary.workbook, summary.word]:
        assert path.is_file() and path.parent.parent in (out, out.parent), path
    assert summary.tables == 2
    # the executed notebooks name the pack's folder, not the temporary one they were run in
    text = summary.notebooks[0].read_text()
    assert repr(str(out)) in text and ".tmp-" not in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == victimneeds.__version__
    assert manifest["area"] == summary.area
    assert abs((datetime.fromisoformat(manifest["built"]) - datetime.now().astimezone()).total_seconds()) < 600
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert sorted(manifest["files"]) == on_disk
    for name, meta in manifest["files"].items():
        assert meta["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert meta["bytes"] == (out / name).stat().st_size
    assert check_pack(out) == []
    assert _siblings(out) == []  # no lock, temporary or old folder left beside it


def test_check_pack_finds_changed_missing_and_unlisted_files(setup) -> None:  # noqa: ANN001
    out = setup[0]
    (out / "tables" / "00_one.csv").write_text("changed\n")
    (out / "html" / "00_first.html").unlink()
    (out / "notes.txt").write_text("mine\n")
    assert check_pack(out) == [
        "html/00_first.html is missing",
        "tables/00_one.csv has changed since the build (SHA-256 differs)",
        "notes.txt is not listed in the manifest",
    ]


def test_a_second_build_replaces_the_first_whole(setup) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two"))
    build("example", out, notebooks_dir=nbs, progress=False)
    assert sorted(p.name for p in (out / "tables").glob("*.csv")) == ["00_two.csv", "01_two.csv"]  # none of "one"
    assert check_pack(out) == [] and _siblings(out) == []


@pytest.mark.parametrize("how", ["a notebook fails", "the Word document fails", "interrupted"])
def test_a_build_that_fails_midway_leaves_the_previous_pack_byte_identical(setup, how: str) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    before = _snapshot(out)
    if how == "a notebook fails":
        monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two", fail_after=1))
        error = BuildError
    else:
        monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two"))
        error = RuntimeError if how == "the Word document fails" else KeyboardInterrupt

        def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise error("stopped while writing the Word document")

        monkeypatch.setattr("victimneeds.report.write_word", broken)
    with pytest.raises(error) as caught:
        build("example", out, notebooks_dir=nbs, progress=False)
    assert _snapshot(out) == before
    if how == "a notebook fails":
        # the partly written pack is kept beside it, and the message points there
        failed = out.with_name("example.failed")
        assert _siblings(out) == ["example.failed"]
        assert f"The partly executed notebook is at {failed / 'notebooks' / '01_second.ipynb'}" in str(caught.value)
        assert (failed / "notebooks" / "00_first.ipynb").is_file()
        monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("three"))
        build("example", out, notebooks_dir=nbs, progress=False)
        assert _siblings(out) == []  # the next success removes it
    else:
        assert _siblings(out) == []


def test_two_concurrent_builds_give_one_clear_refusal(setup) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    release, started = threading.Event(), threading.Event()
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two", block=release, started=started))
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(build("example", out, notebooks_dir=nbs, progress=False)))
    first.start()
    try:
        assert started.wait(60)
        refusal = rf"Another build is writing the evidence pack {out} \(process {os.getpid()}, started "
        with pytest.raises(BuildError, match=refusal):
            build("example", out, notebooks_dir=nbs, progress=False)
    finally:
        release.set()
        first.join(60)
    assert len(results) == 1 and sorted(p.name for p in (out / "tables").glob("*.csv")) == ["00_two.csv", "01_two.csv"]


def test_the_lock_refuses_a_second_holder_and_is_released(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    with build_lock(out) as lock:
        assert f"process {os.getpid()}" in lock.read_text()
        with pytest.raises(BuildError, match="Another build is writing the evidence pack"):
            with build_lock(out):
                pass
    assert not lock.exists()
    with build_lock(out):  # free again
        pass


def test_the_lock_of_another_process_is_seen_and_dies_with_it(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom victimneeds.build import build_lock\n"
         f"with build_lock({str(out)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BuildError, match=f"process {holder.pid}"):
            with build_lock(out):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    with build_lock(out):  # a killed holder leaves no stale lock
        pass


def test_a_build_killed_midway_leaves_the_pack_and_the_next_build_tidies_up(setup) -> None:  # noqa: ANN001
    out, nbs, _, _ = setup
    before = _snapshot(out)
    script = (
        "import time, types\n"
        "from victimneeds import build as vbuild\n"
        "def run(paths, work, *args):\n"
        "    (work / 'notebooks' / '00_first.ipynb').write_text('half')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "vbuild._run_notebooks = run\n"
        "vbuild.load = lambda area: types.SimpleNamespace(name='Demo')  # quicker than the example area\n"
        f"vbuild.build('example', {str(out)!r}, notebooks_dir={str(nbs)!r}, progress=False)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert _snapshot(out) == before
    lock, left = _siblings(out)  # the lock's file stays (the lock itself died with the process), and the work
    assert lock == ".example.lock" and left.startswith(".example.tmp-")
    assert recover(out) == [f"deleted {left}, left by a build that was stopped"]
    assert _siblings(out) == [] and _snapshot(out) == before


def test_a_build_killed_between_the_two_renames_is_recovered(setup) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    before = _snapshot(out)
    # the state a kill between the renames leaves: the previous pack moved aside, the new one not yet in place
    old = out.with_name(".example.old-4242")
    os.replace(out, old)
    tmp = out.with_name(".example.tmp-4242-abcd")
    (tmp / "tables").mkdir(parents=True)
    (tmp / "tables" / "new.csv").write_text("new\n")
    assert recover(out) == [
        "restored the previous pack from .example.old-4242 (a build was stopped while moving it)",
        "deleted .example.tmp-4242-abcd, left by a build that was stopped",
    ]
    assert _snapshot(out) == before and _siblings(out) == []
    # and a build does the same before it starts
    os.replace(out, old)
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two"))
    build("example", out, notebooks_dir=nbs, progress=False)
    assert _siblings(out) == [] and check_pack(out) == []


def test_a_failed_second_rename_puts_the_previous_pack_back(setup) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    before = _snapshot(out)
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two"))
    real = os.replace
    calls = []

    def replace(src, dst):  # noqa: ANN001, ANN202
        calls.append((Path(src).name, Path(dst).name))
        if Path(src).name.startswith(".example.tmp-") and Path(dst) == out.resolve():
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(vbuild.os, "replace", replace)
    with pytest.raises(BuildError, match=r"could not be moved to .*example \(disk full\); the previous pack is unch"):
        build("example", out, notebooks_dir=nbs, progress=False)
    assert calls[0][0] == "example" and calls[0][1].startswith(".example.old-")  # the swap had begun
    assert _snapshot(out) == before and _siblings(out) == []


def test_a_folder_that_is_not_a_pack_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("one"))
    nbs = _notebooks(tmp_path / "nbs")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work\n")
    with pytest.raises(BuildError, match=r"is not an evidence pack \(it holds thesis.txt, no notebooks folder\)"):
        build("example", mine, notebooks_dir=nbs, progress=False)
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]
    (mine / "thesis.txt").unlink()
    (mine / "chapters").mkdir()  # folders only, but not a pack: no executed notebooks
    with pytest.raises(BuildError, match=r"\(it holds no notebooks folder\)"):
        build("example", mine, notebooks_dir=nbs, progress=False)
    # a pack with a file the build did not write is not replaced either
    pack = tmp_path / "pack"
    build("example", pack, notebooks_dir=nbs, progress=False)
    (pack / "tables" / "my_notes.txt").write_text("keep me\n")
    with pytest.raises(BuildError, match=r"holds files the build did not write \(tables/my_notes.txt\)"):
        build("example", pack, notebooks_dir=nbs, progress=False)
    assert (pack / "tables" / "my_notes.txt").is_file()
    # a pack from before manifests (pack folders and documents only) is replaced
    (pack / "manifest.json").unlink()
    (pack / "tables" / "my_notes.txt").unlink()
    build("example", pack, notebooks_dir=nbs, progress=False)
    assert check_pack(pack) == []


def test_the_pack_has_the_permissions_of_a_folder_the_user_makes(first_pack, tmp_path: Path) -> None:  # noqa: ANN001
    out = first_pack[0]
    made = tmp_path / "made-by-the-user"
    made.mkdir()
    assert out.stat().st_mode & 0o777 == made.stat().st_mode & 0o777


def test_timings_in_the_summary(first_pack) -> None:  # noqa: ANN001
    summary = first_pack[2]
    assert summary.timings == {"00_first": 0.1, "01_second": 0.1} and summary.seconds > 0
    assert "written to" in str(summary)


def test_a_pack_that_cannot_be_moved_aside_is_left_as_it_was(setup) -> None:  # noqa: ANN001
    out, nbs, _, monkeypatch = setup
    before = _snapshot(out)
    monkeypatch.setattr(vbuild, "_run_notebooks", _fake_runner("two"))
    real = os.replace

    def replace(src, dst):  # noqa: ANN001, ANN202
        if Path(src) == out.resolve():
            raise PermissionError("the workbook is open in another program")
        return real(src, dst)

    monkeypatch.setattr(vbuild.os, "replace", replace)
    with pytest.raises(BuildError, match=r"could not replace .*example \(the workbook is open.*close it and build"):
        build("example", out, notebooks_dir=nbs, progress=False)
    assert _snapshot(out) == before and _siblings(out) == []
