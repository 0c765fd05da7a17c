"""Presets of other installed packages (``bench.presets`` entry points), as a user gets them:
plugin packages built and installed with pip (into a folder of their own, on PYTHONPATH:
the shared environment stays as it is), then the ``bench`` command run from another folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCH = str(Path(sys.executable).with_name("bench"))

pytestmark = pytest.mark.slow

ADAPTER = '''
import os
from pathlib import Path

from bench.adapters import Adapter
from bench.predictions import EntityPrediction


class WordNer(Adapter):
    """Every occurrence of one word is an entity."""

    tasks = frozenset({"ner"})

    def __init__(self, word: str, label: str):
        self.word, self.label = word, label

    def predict_ner(self, documents):
        out = []
        for document in documents:
            found, start = [], document.text.find(self.word)
            while start >= 0:
                found.append(EntityPrediction(start, start + len(self.word), self.label))
                start = document.text.find(self.word, start + 1)
            out.append(found)
        return out

    def identity(self):
        return {"name": "word-ner", "version": "1.0"}


if os.environ.get("IMPORTED_MARKER"):  # the tests see whether bench imported this module
    Path(os.environ["IMPORTED_MARKER"]).write_text("imported")
'''

CONLL = "Mexico B-location\nis O\nbig O\n\nI O\nlike O\nParis B-location\n"


def _package(root: Path, name: str, files: dict[str, str], entry_points: dict[str, str]) -> Path:
    """A source tree of a distribution ``name`` with ``files`` and ``bench.presets``
    entry points."""
    project = root / name
    for path, text in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(textwrap.dedent(text))
    module = name.replace("-", "_")
    lines = "\n".join(f'{key} = "{value}"' for key, value in entry_points.items())
    (project / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1"\n\n'
        f'[tool.hatch.build.targets.wheel]\npackages = ["{module}"]\n\n'
        f'[project.entry-points."bench.presets"]\n{lines}\n'
    )
    return project


def _pip_install(target: Path, *projects: Path) -> Path:
    """``pip install`` into ``target`` (entry points are found from its dist-info)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), *map(str, projects)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``good``: their-plugin (a model preset with its adapter, a dataset preset with its
    data); ``bad``: broken-plugin (its package fails on import) and shadow-plugin (a
    preset named as one of bench's)."""
    root = tmp_path_factory.mktemp("plugins")
    data = root / "data"
    data.mkdir()
    (data / "tiny.conll").write_text(CONLL)
    good = _package(
        root / "src",
        "their-plugin",
        {
            "their_plugin/__init__.py": "",
            "their_plugin/adapter.py": ADAPTER,
            "their_plugin/bench_conf/model/their_model.yaml": """\
                _target_: their_plugin.adapter.WordNer
                word: Mexico
                label: GPE
            """,
            "their_plugin/bench_conf/dataset/their_conll.yaml": f"""\
                _target_: bench.data.conll.ConllNer
                name: their_conll
                version: v1
                file: tiny.conll
                path: {data}
                labels: [location]
            """,
        },
        {"their_model": "their_plugin.bench_conf"},
    )
    broken = _package(
        root / "src",
        "broken-plugin",
        {
            "broken_plugin/__init__.py": "raise RuntimeError('this plugin is broken')\n",
            "broken_plugin/conf/model/broken.yaml": "_target_: broken_plugin.Nothing\n",
        },
        {"broken": "broken_plugin.conf"},
    )
    shadow = _package(
        root / "src",
        "shadow-plugin",
        {
            "shadow_plugin/__init__.py": "",
            "shadow_plugin/conf/model/rules.yaml": "_target_: shadow_plugin.Nothing\n",
        },
        {"shadow": "shadow_plugin.conf"},
    )
    return {
        "good": _pip_install(root / "good", good),
        "bad": _pip_install(root / "bad", broken, shadow),
    }


def bench(cwd: Path, plugin_dirs: list[Path], *args: str) -> subprocess.CompletedProcess[str]:
    """The ``bench`` command with the plugin folders (and bench, if from PYTHONPATH)
    importable; their_plugin's adapter module writes ``cwd/imported`` when imported."""
    path = os.pathsep.join(map(str, [*plugin_dirs, *filter(None, [os.environ.get("PYTHONPATH")])]))
    marker = {"IMPORTED_MARKER": str(cwd / "imported")}
    return subprocess.run(
        [BENCH, *args], cwd=cwd, env=os.environ | {"PYTHONPATH": path} | marker,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("bench: warning:")]


def test_a_model_preset_of_an_installed_package_runs_from_any_folder(tmp_path, installed):
    done = bench(tmp_path, [installed["good"]], "+model=their_model", "task=ner",
                 "bootstrap.resamples=0", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _warnings(done.stderr) == []
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["model"]["preset"] == "their_model"
    assert result["model"]["target"] == "their_plugin.adapter.WordNer"
    assert result["model"]["identity"] == {"name": "word-ner", "version": "1.0"}
    ner = result["tasks"]["ner"]
    assert ner["status"] == "ok"
    assert ner["counts"]["predicted"] > 0
    assert (tmp_path / "imported").is_file()  # the chosen preset's adapter, and only then

    shown = bench(tmp_path, [installed["good"]], "--cfg", "job", "+model=their_model")
    assert shown.returncode == 0, shown.stderr
    assert "_target_: their_plugin.adapter.WordNer" in shown.stdout


def test_a_dataset_preset_of_an_installed_package_is_scored(tmp_path, installed):
    done = bench(tmp_path, [installed["good"]], "+model=their_model", "dataset=their_conll",
                 "model.label=location", "bootstrap.resamples=0", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["dataset"]["name"] == "their_conll"
    metrics = result["tasks"]["ner"]["metrics"]
    # "Mexico" found, "Paris" missed
    assert metrics["strict_precision"]["value"] == 1.0
    assert metrics["strict_recall"]["value"] == 0.5


def test_without_a_model_the_presets_of_packages_are_listed_with_their_package(tmp_path, installed):
    done = bench(tmp_path, [installed["good"]])
    assert done.returncode == 2
    [line] = [line for line in done.stderr.splitlines() if "presets:" in line]
    presets = line.split("presets: ", 1)[1].split(", ")
    assert "their_model (from their-plugin)" in presets
    assert {"rules", "oracle", "textacy_quotes"} <= set(presets)


def test_without_the_package_its_preset_is_unknown(tmp_path):
    done = bench(tmp_path, [], "+model=their_model", "hydra.run.dir=out")
    assert done.returncode == 2
    assert "their_model" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_broken_or_shadowed_package_is_one_warning_each_and_bench_still_runs(tmp_path, installed):
    done = bench(tmp_path, [installed["good"], installed["bad"]], "+model=rules", "task=ner",
                 "bootstrap.resamples=0", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shadowed, broken = sorted(_warnings(done.stderr))  # "model preset …", "presets of …"
    assert "package broken-plugin not loaded" in broken
    assert "RuntimeError: this plugin is broken" in broken
    assert "'rules' of package shadow-plugin is not used: bench has one" in shadowed
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["model"]["target"] == "bench.adapters.rules.RulesAdapter"  # bench's own
    assert not (tmp_path / "imported").exists()  # only the package the entry point names

    listed = bench(tmp_path, [installed["good"], installed["bad"]])
    assert "their_model (from their-plugin)" in listed.stderr
    assert "broken" not in listed.stderr.split("presets: ", 1)[1]
