"""Setting up: the default data folder holds no code, and `make clean-data` empties all of it safely."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app import DEFAULTS

REPO = Path(__file__).resolve().parent.parent
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


# --- The data folder ----------------------------------------------------------------------------------

def test_the_default_data_folder_is_no_package_folder():
    name = Path(DEFAULTS["DATA_DIR"])
    assert not name.is_absolute() and len(name.parts) == 1, name
    folder = REPO / name
    assert not (folder / "__init__.py").exists()
    assert not list(folder.glob("*.py"))
    tracked = subprocess.run(["git", "ls-files", "--", str(name)], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode == 0:  # a checkout (not an unpacked archive): the folder holds nothing of the repo
        assert tracked.stdout == ""
    assert f"/{name}/" in (REPO / ".gitignore").read_text().splitlines()


def test_make_uses_the_apps_default_data_folder():
    makefile = (REPO / "Makefile").read_text()
    assert f"DATA_DIR := $(or $(TELEMETRY_DATA_DIR),{DEFAULTS['DATA_DIR']})" in makefile


def test_the_app_resolves_the_default_data_folder_from_where_it_starts(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.delenv("TELEMETRY_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "t"}, with_dash=False)
    assert app.config["DATA_DIR"] == tmp_path / DEFAULTS["DATA_DIR"]


def _clean_data(data_dir: str, cwd: Path = REPO, path: str = "/usr/bin:/bin", **variables: str):
    """`make clean-data` on `data_dir` (DATA_DIR on make's command line, as a person would give it)."""
    arguments = [f"{key}={value}" for key, value in variables.items()]
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(cwd / "Makefile"), "-C", str(cwd), "clean-data",
         f"DATA_DIR={data_dir}", *arguments],
        capture_output=True, text=True, env={"PATH": path, "HOME": "/nonexistent"},
    )


def _refused(tmp_path: Path, data_dir: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`make clean-data` that must refuse, run so that a regression removes nothing: in a scratch copy of
    the repository's Makefile, with `rm` and `find` replaced by stand-ins that only note their arguments."""
    if cwd is None:
        cwd = tmp_path / "repo"
        cwd.mkdir()
    shutil.copy(REPO / "Makefile", cwd / "Makefile")
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    for tool in ("rm", "find"):
        (stand_ins / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{tmp_path}/removals"\n')
        (stand_ins / tool).chmod(0o755)
    done = _clean_data(data_dir, cwd, path=f"{stand_ins}:/usr/bin:/bin")
    assert not (tmp_path / "removals").exists(), (tmp_path / "removals").read_text()
    assert done.returncode != 0, done.stdout
    return done


def _a_used_data_folder(folder: Path) -> list[Path]:
    """A data folder after a while: data, accounts, key, quarantine, caches, locks, drafts."""
    files = [
        "events/utc_date=2026-10-01/part-0.parquet", "directory/users.parquet", "rollups/manifest.json",
        "telemetry.sqlite", "telemetry.sqlite-wal", ".secret_key", "quarantine/20261120T101500Z-events.jsonl",
        ".cache/reports/cache.db", ".ingest.lock", ".seed-demo-1234/x", ".rollups-draft/cube.parquet",
        ".demo-accounts",
    ]
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    return [folder / name for name in files]


@needs_make
def test_clean_data_empties_the_whole_data_folder(tmp_path):
    folder = tmp_path / "var"
    _a_used_data_folder(folder)
    done = _clean_data(str(folder))
    assert done.returncode == 0, done.stderr
    assert folder.is_dir() and list(folder.iterdir()) == []  # the folder stays (it may be a mount point)


@needs_make
def test_clean_data_dry_run_lists_and_keeps(tmp_path):
    folder = tmp_path / "var"
    files = _a_used_data_folder(folder)
    done = _clean_data(str(folder), DRY_RUN="1")
    assert done.returncode == 0, done.stderr
    assert f"would remove {folder / 'quarantine'}" in done.stdout.splitlines()
    assert all(path.exists() for path in files)


@needs_make
def test_clean_data_refuses_an_empty_data_dir(tmp_path):
    assert "DATA_DIR is empty" in _refused(tmp_path, "").stderr


@needs_make
@pytest.mark.parametrize("code", ["app.py", "__init__.py", "pyproject.toml", "helpers.py"])
def test_clean_data_refuses_a_folder_with_source_code(tmp_path, code):
    folder = tmp_path / "project"
    _a_used_data_folder(folder)
    (folder / code).write_text("")
    assert f"not removing {folder}" in _refused(tmp_path, str(folder)).stderr


@needs_make
@pytest.mark.parametrize("relative", [".", "..", "sub/../..", "/"])
def test_clean_data_refuses_the_repository_its_parents_and_root(tmp_path, relative):
    repo = tmp_path / "work" / "repo"
    (repo / "sub").mkdir(parents=True)
    assert "not removing" in _refused(tmp_path, relative, cwd=repo).stderr
