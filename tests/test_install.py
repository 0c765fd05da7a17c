"""bench as a user installs it: a wheel built from a git checkout, installed (not editable)
into a fresh environment, and its ``bench`` command run from a folder of the user's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.revision import git_state

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "hatch_build.py", "README.md", "bench", "conf", "datasets")
GIT_USER = ("-c", "user.name=bench tests", "-c", "user.email=tests@example.invalid")

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


def _commit_all(checkout: Path) -> str:
    _run("git", "-C", checkout, "add", "-A")
    _run("git", "-C", checkout, *GIT_USER, "commit", "-q", "-m", "a commit")
    return _run("git", "-C", checkout, "rev-parse", "HEAD").strip()


@dataclass(frozen=True)
class Installed:
    commit: str  # of the checkout the wheel was built from
    wheel: Path
    bin_dir: Path  # holds the environment's bench and bench-report commands

    def env(self) -> dict[str, str]:
        """The user's shell: the environment's commands first, no PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return env | {"PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``pip install .`` from a git checkout of the project's current files, into a fresh
    environment that sees the test environment's packages (bench's dependencies) but
    imports bench from the wheel: nothing is downloaded."""
    root = tmp_path_factory.mktemp("install")
    checkout = root / "checkout"
    checkout.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "_source_revision.json")
            shutil.copytree(REPO / name, checkout / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, checkout / name)
    _run("git", "init", "-q", checkout)
    commit = _commit_all(checkout)
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", root / "dist", checkout)
    [wheel] = (root / "dist").glob("bench_nlp-*.whl")

    env_dir = root / "env"
    _run(sys.executable, "-m", "venv", "--without-pip", env_dir)
    [site] = env_dir.glob("lib/python*/site-packages")
    parent = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "test_environment.pth").write_text("\n".join(sorted(parent)) + "\n")
    _run(
        *pip,
        "--python",
        env_dir / "bin" / "python",
        "install",
        "-q",
        "--no-deps",
        "--ignore-installed",
        wheel,
    )
    return Installed(commit, wheel, env_dir / "bin")


def test_a_wheel_built_from_a_git_checkout_records_its_commit(installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        record = json.loads(wheel.read("bench/_source_revision.json"))
    assert record == {"commit": installed.commit, "dirty": False}


def test_git_state_reads_commit_and_dirty_flag_of_a_checkout_only(tmp_path):
    _run("git", "init", "-q", tmp_path)
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "sub").mkdir()
    commit = _commit_all(tmp_path)
    assert git_state(tmp_path) == {"commit": commit, "dirty": False}
    (tmp_path / "untracked.txt").write_text("ignored\n")
    assert git_state(tmp_path)["dirty"] is False
    (tmp_path / "a.txt").write_text("changed\n")
    assert git_state(tmp_path) == {"commit": commit, "dirty": True}
    # a folder inside a checkout is not a checkout of its own
    assert git_state(tmp_path / "sub") == {"commit": None, "dirty": None}


def _readme_section(title: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [section] = re.findall(rf"^## {title}\n(.*?)(?=^## )", readme, re.S | re.M)
    return section


def test_the_readme_adding_a_model_steps_work_with_the_installed_command(installed, tmp_path):
    """The README's files and command, verbatim, from the user's own folder."""
    blocks = re.findall(r"```(\w+)\n(.*?)```", _readme_section("Adding a model"), re.S)
    files = {body.split("\n", 1)[0].removeprefix("# "): body for lang, body in blocks
             if lang in ("python", "yaml")}  # fmt: skip
    commands = [body.strip() for lang, body in blocks if lang == "bash"]
    assert set(files) == {"mypkg/adapters.py", "conf/model/my_ner.yaml"} and len(commands) == 1
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    env = installed.env()
    assert shutil.which("bench", path=env["PATH"]) == str(installed.bin_dir / "bench")

    done = subprocess.run(
        ["bash", "-c", commands[0]], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [result_file] = (tmp_path / "results" / "runs").glob("*/result.json")
    result = json.loads(result_file.read_text())
    assert result["model"]["target"] == "mypkg.adapters.MyNer"
    assert result["model"]["identity"] == {"name": "my-ner", "version": "1.0"}
    assert result["tasks"]["ner"]["status"] == "ok"
    # the installed wheel has no .git: the revision comes from the build
    assert result["provenance"]["git"] == {"commit": installed.commit, "dirty": False}

    # without the README's PYTHONPATH=. the error says why in one line
    assert commands[0].startswith("PYTHONPATH=. bench ")
    bare = commands[0].removeprefix("PYTHONPATH=. ") + " hydra.run.dir=refused"
    done = subprocess.run(
        ["bash", "-c", bare], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "No module named 'mypkg'" in line and "PYTHONPATH=. bench" in line
    assert not (tmp_path / "refused" / "result.json").exists()


def test_the_installed_report_pages_come_from_the_shipped_templates(installed, tmp_path):
    """The HTML templates are package data of the wheel: the installed ``bench-report``
    writes both pages from a folder of the user's."""
    with zipfile.ZipFile(installed.wheel) as wheel:
        shipped = {n for n in wheel.namelist() if n.startswith("bench/report/templates/")}
    for name in ("page.html.j2", "leaderboard.html.j2", "errors.html.j2", "site_index.html.j2",
                 "sort.js"):  # fmt: skip
        assert f"bench/report/templates/{name}" in shipped
    env = installed.env()

    def run(*args: str) -> None:
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr

    run("bench", "+model=oracle", "bootstrap.resamples=20", "hydra.run.dir=run")
    run("bench-report", "leaderboard", "run", "--out", "board", "--no-plots", "--resamples", "20")
    run("bench-report", "errors", "run", "--out", "errors.html")
    run("bench-report", "site", "run", "--out", "site", "--no-plots", "--resamples", "20")
    site = tmp_path / "site"
    for page in (tmp_path / "board" / "index.html", tmp_path / "errors.html",
                 site / "index.html", site / "seed_article" / "index.html"):  # fmt: skip
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in text
        assert 'table class="sortable"' in text and "sortTable" in text
