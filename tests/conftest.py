"""Shared fixtures: the real open data beside the repository (``../shared/data``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: no per-example deadline (a loaded 2-core CI machine is slow, not wrong), and the same examples
# on every run, so a red CI always means a real failure that a re-run reproduces.
settings.register_profile("victimneeds", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("victimneeds")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ``shared/data`` beside the repository; fails in CI when absent, else skips."""
    if not (SHARED_DATA / "PROVENANCE.md").is_file():
        message = f"the shared open data is not at {SHARED_DATA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def io_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide cache folder for the police.uk reader (never the user's cache)."""
    return tmp_path_factory.mktemp("victimneeds-cache")


@pytest.fixture(scope="session")
def leics_policeuk(shared_data: Path, io_cache: Path):
    """All 41 Leicestershire street files, read once per session: ``(crimes, report)``."""
    from victimneeds.io import read_policeuk

    return read_policeuk(shared_data / "policeuk" / "leicestershire", force="leicestershire", cache_dir=io_cache)


@pytest.fixture(scope="session")
def leics_area(shared_data: Path, io_cache: Path):
    """The shipped Leicestershire configuration, loaded once per session."""
    from victimneeds.io import load_area

    config = Path(__file__).resolve().parents[1] / "data" / "areas" / "leicestershire.toml"
    return load_area(config, cache_dir=io_cache)
