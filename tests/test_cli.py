"""The command line fails with one readable paragraph, not a traceback, on bad input."""

import subprocess
import sys

from victimneeds.cli import main


def test_missing_config_file_is_one_paragraph(tmp_path, capsys):
    code = main(["build", "--area", str(tmp_path / "nowhere.toml"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nowhere.toml" in err and "does not exist" in err
    assert "Traceback" not in err


def test_area_that_is_not_a_config_is_refused(tmp_path, capsys):
    code = main(["build", "--area", "leicestershire", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'example'" in err and ".toml" in err


def test_console_script_help_lists_build():
    result = subprocess.run([sys.executable, "-m", "victimneeds.cli", "build", "--help"], capture_output=True,
                            text=True, check=True)
    assert "--area" in result.stdout and "--out" in result.stdout


def test_fetch_offline_is_one_paragraph_naming_the_archive(tmp_path, capsys):
    # port 9 on the loopback is closed: the same answer as a machine with no internet
    code = main(["fetch", "policeuk", "--force", "leicestershire", "--from", "2022-01", "--to", "2022-02",
                 "--dest", str(tmp_path / "dest"), "--base-url", "http://127.0.0.1:9/", "--timeout", "2",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "2022-02.zip" in err and "read_policeuk" in err
    assert "Traceback" not in err


def test_audit_of_a_missing_pack_is_one_sentence(tmp_path, capsys):
    from victimneeds.cli import main

    assert main(["audit", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_load_error_names_no_command_line_flag():
    import pytest

    import victimneeds as vn

    with pytest.raises(ValueError, match="the area must be 'example'") as err:
        vn.load("x")
    assert "--area" not in str(err.value)


def test_build_hands_its_area_to_the_kernels_and_only_for_that_area(tmp_path, monkeypatch):
    import pickle

    from victimneeds.build import HANDOFF, load
    from victimneeds.datamodel import AreaData

    marker = AreaData(name="handed over", areas=None)
    path = tmp_path / "area.pickle"
    path.write_bytes(pickle.dumps(("example", marker)))
    monkeypatch.setenv(HANDOFF, str(path))
    assert load("example").name == "handed over"
    path.write_bytes(pickle.dumps(("/somewhere/else.toml", marker)))
    assert load("example").name != "handed over"
