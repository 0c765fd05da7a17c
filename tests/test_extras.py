"""A missing optional dependency names the extra of *this* project (bench-nlp) to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# preset, extra override, module hidden from the import system, extra that installs it
CASES = [
    ("spacy_sm", (), "spacy", "spacy"),
    ("hf_ner", ("model.model=some/model",), "torch", "hf"),
    ("hf_toxicity", ("model.model=some/model",), "transformers", "hf"),
    ("profanity_check", (), "profanity_check", "sklearn"),
    ("sklearn_pipeline", ("model.path=model.skops",), "skops", "sklearn"),
    ("textacy_quotes", (), "textacy", "textacy"),
    ("textacy_quotes", (), "spacy", "textacy"),  # textacy needs spaCy: the same extra
]


def _bench_without(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``bench`` command's entry point with ``module`` made unimportable, as if it were
    not installed (``None`` in ``sys.modules`` makes ``import`` raise ModuleNotFoundError)."""
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
        f"sys.argv = ['bench', *{list(args)!r}]\n"
        "from bench.cli import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "overrides", "module", "extra"), CASES)
def test_a_preset_whose_extra_is_missing_names_the_install_command(
    tmp_path, preset, overrides, module, extra
):
    (tmp_path / "model.skops").write_bytes(b"not read: the dependency check comes first")
    done = _bench_without(tmp_path, module, f"+model={preset}", *overrides, "hydra.run.dir=out")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"bench: ConfigError: model {preset}: MissingExtraError: {module}")
    assert f'pip install "bench-nlp[{extra}]"' in line
    assert f'pip install ".[{extra}]"' in line  # from a source checkout
    assert not (tmp_path / "out" / "result.json").exists()


def test_plots_without_matplotlib_name_the_report_extra(monkeypatch):
    from bench.report.render.plots import PlotError, _figure

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(PlotError) as caught:
        _figure(1, 1)
    message = str(caught.value)
    assert 'pip install "bench-nlp[report]"' in message and "--no-plots" in message
    assert "'bench[" not in message
