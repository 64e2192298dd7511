"""Setting up: the default data folder holds no code, `make clean-data` empties all of it safely, installs
come from hashed lock files that match requirements*.txt, and the docs' shell blocks run when pasted."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from app import DEFAULTS

REPO = Path(__file__).resolve().parent.parent
APP_PACKAGES = ["alerts", "api", "auth", "callbacks", "data", "layouts", "queries", "reports"]
LOCKS = {"requirements.txt": "requirements.lock", "requirements-dev.txt": "requirements-dev.lock",
         "requirements-bench.txt": "requirements-bench.lock", "requirements-uv.txt": "requirements-uv.lock"}
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


# --- Dependencies --------------------------------------------------------------------------------------

def _pins(requirements: Path) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file, following `-r` includes."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(_pins(requirements.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.rstrip("\\ ").split("==")
            pins[_normal(name)] = version.strip()
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _locked(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a lock file."""
    locked: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        first = block.split("\n", 1)[0]
        if "==" in first and not first.startswith("#"):
            name, version = first.rstrip("\\ ").split("==")
            locked[_normal(name)] = (version.strip(), block.count("--hash=sha256:"))
    return locked


@pytest.mark.parametrize(("source", "lock"), LOCKS.items())
def test_every_pin_is_locked_at_its_version_with_hashes(source, lock):
    locked = _locked(REPO / lock)
    stale = {name: version for name, version in _pins(REPO / source).items() if locked.get(name, ("",))[0] != version}
    assert stale == {}, f"{lock} is not up to date with {source}: run `make lock`"
    assert all(hashes for _version, hashes in locked.values()), "every package, transitive ones too, has hashes"


def test_the_dev_and_bench_locks_agree_with_the_runtime_lock():
    runtime = _locked(REPO / "requirements.lock")
    for lock in ("requirements-dev.lock", "requirements-bench.lock"):
        other = _locked(REPO / lock)
        assert {name: runtime[name][0] for name in runtime} == {name: other[name][0] for name in runtime}, lock


def _imported_top_names() -> set[str]:
    names = set()
    for path in [REPO / "app.py", *(p for package in APP_PACKAGES for p in (REPO / package).rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_runtime_set_is_what_the_app_imports():
    """Each direct runtime requirement is imported by the app (gunicorn: the server that runs it)."""
    distributions = packages_distributions()  # once: it reads every installed package's file list (8 s)
    imported = {_normal(d) for name in _imported_top_names() for d in distributions.get(name, [])}
    unused = set(_pins(REPO / "requirements.txt")) - imported - {"gunicorn"}
    assert unused == set(), f"not imported by the app; move to requirements-dev.txt or -bench.txt: {unused}"


def test_every_package_the_app_imports_is_in_the_runtime_lock():
    """`make run` installs only requirements.lock: a package the app imports must be there (psutil was not)."""
    local = {*APP_PACKAGES, "app", "tests"}
    third_party = _imported_top_names() - set(sys.stdlib_module_names) - local
    distributions = packages_distributions()
    locked = _locked(REPO / "requirements.lock")
    missing = {name for name in third_party if not any(_normal(d) in locked for d in distributions.get(name, []))}
    assert missing == set(), f"imported by the app but not in requirements.lock: {missing}"


def test_installs_come_from_the_locks_with_hashes():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^\$\(VENV\)/\.installed: requirements\.lock \$\(UV\)$", makefile, re.M)
    assert re.search(r"^\$\(VENV\)/\.installed-dev: requirements-dev\.lock ", makefile, re.M)
    assert re.search(r"^\$\(UV\): requirements-uv\.lock$", makefile, re.M)
    assert re.search(r"^PIP_INSTALL := \$\(UV\) pip install .*--require-hashes", makefile, re.M)
    assert re.search(r"^UV_BOOTSTRAP := .*pip install .*--require-hashes", makefile, re.M)
    lines = [line.strip() for line in makefile.splitlines() if "LOCK_TOOLS" not in line]  # `make lock`'s own uv
    installs = [line for line in lines if " -r requirements" in line]
    allowed = r"\$\(PIP_INSTALL\) -r requirements(-\w+)?\.lock|\$\(UV_BOOTSTRAP\) -r requirements-uv\.lock"
    assert installs and all(re.fullmatch(allowed, i) for i in installs), installs


# --- Docs ------------------------------------------------------------------------------------------------

def _shell_commands(markdown: str) -> list[str]:
    """The commands of the ```sh / ```bash / ```shell blocks, continuation lines joined, comments cut."""
    commands = []
    for block in re.findall(r"^ *```(?:sh|bash|shell)\n(.*?)^ *```", markdown, re.S | re.M):
        for command in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"(^|\s)#.*$", "", command).strip()
            if command:
                commands.append(command)
    return commands


@pytest.mark.parametrize("doc", ["README.md", "docs/schema.md"])
def test_the_docs_shell_blocks_run_when_pasted(doc):
    commands = _shell_commands((REPO / doc).read_text())
    assert commands
    for command in commands:
        assert not re.search(r"\[-", command), f"optional argument in brackets: {command}"  # `[ -e` is a test
        assert not re.search(r"[\w-]\|[\w-]", command), f"alternatives with |: {command}"
        assert not re.search(r"(^|[;&|]\s*)flask\s", command), f"flask outside the venv: {command}"
        assert not re.search(r"(^|[;&|(]\s*)python\s", command), f"no `python` on Debian, say python3: {command}"
        assert "…" not in command and "<" not in command.replace("<<", ""), f"a placeholder: {command}"
