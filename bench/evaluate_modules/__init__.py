"""bench's metrics as Hugging Face ``evaluate`` modules, loadable offline from a local path.

    import evaluate
    from bench.evaluate_modules import module_path
    toxicity = evaluate.load(module_path("bench_toxicity"))

Each module is a thin wrapper over the functions in :mod:`bench.metrics`, so it
gives the same numbers.
"""

from __future__ import annotations

from pathlib import Path


def module_path(name: str) -> str:
    """Local directory of the evaluate module ``name`` (``bench_ner``, ``bench_toxicity``)."""
    path = Path(__file__).resolve().parent / name
    if not (path / f"{name}.py").is_file():
        raise FileNotFoundError(f"no evaluate module {name!r} in {path.parent}")
    return str(path)
