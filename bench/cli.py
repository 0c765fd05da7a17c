"""The ``bench`` command: Hydra composes conf/, the runner does the work.

Exit codes: 0 every task ran (or is unsupported), 1 a task failed or, with
``+check.baseline=FILE``, the run regressed against the baseline, 2 unusable input
(no model preset, bad gold data, bad option, unusable baseline).
"""

from __future__ import annotations

import re
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.data.gold import GoldError
from bench.provenance import secret_overrides
from bench.report.tables import degraded, main_table, to_markdown
from bench.resources import resource_dir

CONF_DIR = resource_dir("conf")
_exit_code = 0


def run_label(name: str | None = None) -> str:
    """``${run_label:${name}}`` names run directories: the run's ``name=`` made file-name
    safe, else the chosen model preset ("none" without one)."""
    if name:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "run"
    return HydraConfig.get().runtime.choices.get("model", "none")


OmegaConf.register_new_resolver("run_label", run_label, replace=True)


def model_presets() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))


def _fail(code: int, message: str) -> None:
    global _exit_code
    _exit_code = max(_exit_code, code)
    print(message, file=sys.stderr)


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def _run(cfg: DictConfig) -> None:
    from bench.cache import cache_summary
    from bench.runner import run  # heavy imports only once a model is chosen

    if "model" not in cfg:
        _fail(2, "bench: choose a model with +model=NAME; presets: " + ", ".join(model_presets()))
        return
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    preset = hydra_cfg.runtime.choices.get("model", "custom")
    try:
        outcome = run(cfg, preset, list(hydra_cfg.overrides.task), out_dir)
    except (GoldError, ValueError, OmegaConfBaseException) as err:
        _fail(2, f"bench: {type(err).__name__}: {err}".replace("\n", " "))
        return
    name = outcome.result["model"]["name"]
    model = name if name == preset else f"{name} (preset {preset})"
    print(f"model: {model}   dataset: {outcome.result['dataset']['name']}   out: {out_dir}")
    print(to_markdown(*main_table(outcome.result)))
    summary = cache_summary(outcome.result["tasks"])
    if summary:
        print(summary)
    for task, record in outcome.result["tasks"].items():
        if record["status"] == "failed":
            _fail(1, f"bench: task {task} failed: {record['error']}")
        elif degraded(record):
            f = record["failures"]
            reasons = ", ".join(f"{reason}: {k}" for reason, k in f["by_reason"].items())
            print(f"bench: warning: task {task} degraded: {degraded(record)} ({reasons}), left "
                  f"out of its metrics (max_failure_rate={f['max_failure_rate']}); see "
                  f"samples/{task}.jsonl", file=sys.stderr)  # fmt: skip
    if cfg.get("check") is not None:
        _check(out_dir, cfg.check, outcome.ok)


def _check(out_dir: Path, options: DictConfig, run_ok: bool) -> None:
    """``+check.baseline=FILE``: regression check of this run (see bench.report.check)."""
    from bench.report.check import CheckError, check_after_run

    if not run_ok:
        print("bench: check skipped: a task failed", file=sys.stderr)
        return
    try:
        report = check_after_run(out_dir, options)
    except CheckError as err:
        _fail(2, f"bench: check: {err}")
        return
    print(report.render(), end="")
    if not report.passed:
        _fail(1, f"bench: check: {report.summary()}")


def main() -> None:
    # Refused before Hydra runs: it writes the overrides to .hydra/ and prints them in errors.
    if secrets := secret_overrides(sys.argv[1:]):
        print(
            f"bench: {secrets[0]}: a secret on the command line is refused (shell history, "
            f".hydra/ and result.json would keep it); export it in the environment variable "
            f"named by model.api_key_env (OPENAI_API_KEY by default)",
            file=sys.stderr,
        )
        sys.exit(2)
    try:
        _run()
    except SystemExit as hydra_exit:  # Hydra refused the command line (unknown preset …)
        sys.exit(2 if hydra_exit.code else 0)
    except HydraException:  # the same, raised as is under HYDRA_FULL_ERROR=1
        traceback.print_exc()
        sys.exit(2)
    sys.exit(_exit_code)
