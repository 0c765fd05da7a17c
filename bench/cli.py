"""The ``bench`` command: Hydra composes conf/, the runner does the work.

Exit codes: 0 every task ran (or is unsupported), 1 a task failed or, with
``+check.baseline=FILE``, the run regressed against the baseline, 2 unusable input
(no model preset, bad gold data, a malformed predictions file, bad or unknown option,
unusable baseline, a run directory in use by a live run, no selected task that both
the dataset and the model support). A sweep (``-m``, any launcher) exits with the highest
code of its jobs and names the jobs that did not exit 0.
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
from pathlib import Path
from typing import Any, cast

from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationKeyError, OmegaConfBaseException

from bench.data.gold import GoldError
from bench.plugins import preset_names, register_search_path
from bench.provenance import secret_overrides
from bench.report.tables import degraded, main_table, to_markdown
from bench.resources import resource_dir
from bench.run_config import ConfigError, describe
from bench.run_dir import RunDir, RunDirBusy, new_dir
from bench.sweep import (
    Objective,
    exit_code,
    job_exit_code,
    job_return,
    missing_launcher,
    outcome,
    write_summary,
)

CONF_DIR = resource_dir("conf")
CONFIG_NAME = "config"
REFUSED = 2  # the exit code of unusable input
# gc thresholds of a run: the youngest objects collected every 50,000 allocations, not
# 700; the older generations, which hold what a run keeps to its end, almost never
RUN_GC_THRESHOLDS = (50_000, 1000, 1000)
OPEN_GROUPS = ("model.", "dataset.")  # their parameters are the adapter's, the dataset's


def run_label(name: str | None = None) -> str:
    """``${run_label:${name}}`` names run directories: the run's ``name=`` made file-name
    safe, else the chosen model preset ("none" without one)."""
    if name:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "run"
    return HydraConfig.get().runtime.choices.get("model", "none")


OmegaConf.register_new_resolver("run_label", run_label, replace=True)
# cached: Hydra resolves the run directory more than once, it must be created once
OmegaConf.register_new_resolver("new_dir", new_dir, replace=True, use_cache=True)


def model_presets() -> list[str]:
    """bench's own model presets (see :func:`bench.plugins.preset_names` for all)."""
    return sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))


def _fail(code: int, message: str) -> int:
    print(message, file=sys.stderr)
    return code


def run_one(cfg: DictConfig) -> int:
    """One run (or one job of a sweep), in the run directory Hydra made: its exit code."""
    # A run holds millions of small objects until it ends (a 1M-token NER run: spans, token
    # offsets, samples rows), which the collector's default thresholds rescan again and
    # again: a quarter of such a run's time. Collect rarely; cycles are still collected.
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    from bench.cache import cache_summary
    from bench.report.compare import items_scored
    from bench.runner import run  # heavy imports only once a model is chosen
    from bench.shard import merge_hint

    if cfg.get("model") is None:
        return _fail(REFUSED, "bench: choose a model with +model=NAME; presets: "
                     + ", ".join(preset_names("model")))  # fmt: skip
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    preset = hydra_cfg.runtime.choices.get("model", "custom")
    try:
        outcome = run(cfg, preset, list(hydra_cfg.overrides.task), out_dir)
    except (GoldError, ValueError, OmegaConfBaseException) as err:
        return _fail(REFUSED, f"bench: {_run_refusal(err, hydra_cfg.runtime.choices)}")
    name = outcome.result["model"]["name"]
    model = name if name == preset else f"{name} (preset {preset})"
    dataset = outcome.result["dataset"]["name"]
    if cfg.limit is not None:  # a quick try: say so beside its scores
        dataset += f" ({items_scored(outcome.result)})"
    print(f"model: {model}   dataset: {dataset}   out: {out_dir}")
    print(to_markdown(*main_table(outcome.result)))
    if "shard" in outcome.result:
        multirun = hydra_cfg.mode == RunMode.MULTIRUN
        print(merge_hint(out_dir, outcome.result["shard"],
                         Path(hydra_cfg.sweep.dir) if multirun else None))  # fmt: skip
    if "robustness" in outcome.result:
        headers, rows = outcome.tables["robustness"]
        if rows:
            print(to_markdown(headers, rows))
        if len(outcome.result["robustness"]) > 1:  # the worst case over them
            print(to_markdown(*outcome.tables["robustness_worst"]))
        for perturbation, section in outcome.result["robustness"].items():
            failed = {t: r["error"] for t, r in section.items()
                      if isinstance(r, dict) and r.get("status") == "failed"}  # fmt: skip
            for task, error in failed.items():
                print(f"bench: warning: task {task} failed under {perturbation}: {error}",
                      file=sys.stderr)  # fmt: skip
    summary = cache_summary(outcome.result["tasks"])
    if summary:
        print(summary)
    code = 0
    for task, record in outcome.result["tasks"].items():
        if record["status"] == "failed":
            code = _fail(1, f"bench: task {task} failed: {record['error']}")
        elif degraded(record):
            f = record["failures"]
            reasons = ", ".join(f"{reason}: {k}" for reason, k in f["by_reason"].items())
            print(f"bench: warning: task {task} degraded: {degraded(record)} ({reasons}), left "
                  f"out of its metrics (max_failure_rate={f['max_failure_rate']}); see "
                  f"samples/{task}.jsonl", file=sys.stderr)  # fmt: skip
    if cfg.get("check") is not None:
        code = max(code, _check(out_dir, cfg.check, outcome.ok))
    return code


def _check(out_dir: Path, options: DictConfig, run_ok: bool) -> int:
    """``+check.baseline=FILE``: regression check of this run (see bench.report.check)."""
    from bench.report.check import CheckError, check_after_run

    if not run_ok:
        print("bench: check skipped: a task failed", file=sys.stderr)
        return 0
    try:
        report = check_after_run(out_dir, options)
    except CheckError as err:
        return _fail(REFUSED, f"bench: check: {err}")
    print(report.render(), end="")
    if not report.passed:
        return _fail(1, f"bench: check: {report.summary()}")
    return 0


def _refused(job: Any) -> bool:
    from hydra.core.utils import JobStatus

    return job.status == JobStatus.COMPLETED and job_exit_code(job) == REFUSED


def bench_job(cfg: DictConfig) -> dict[str, Any] | Objective:
    """The task function Hydra runs: :func:`run_one`, returning its exit code and main
    metrics (or ``sweep.objective``'s value) to Hydra (bench.sweep)."""
    code = run_one(cfg)
    objective = OmegaConf.select(cfg, "sweep.objective")
    return job_return(code, Path(HydraConfig.get().runtime.output_dir), objective)


def _jobs(returns: Any) -> list[Any]:
    """The ``JobReturn``s in what a sweeper returns (the basic sweeper: a list of batches)."""
    from hydra.core.utils import JobReturn

    if isinstance(returns, JobReturn):
        return [returns]
    if isinstance(returns, list | tuple):
        return [job for item in returns for job in _jobs(item)]
    return []


def _launch(args: argparse.Namespace) -> int:
    """Run (with ``-m``: sweep) as ``hydra.main`` does, and return the run's exit code, or
    the highest of the sweep's jobs, whatever the launcher."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    search_path = create_automatic_config_search_path(
        __file__, None, args.config_path or str(CONF_DIR)
    )
    if args.config_dir is not None:
        if not Path(args.config_dir).is_dir():
            return _fail(REFUSED, f"bench: --config-dir {args.config_dir}: not a directory")
        search_path.prepend("command-line", f"file://{Path(args.config_dir).resolve()}",
                            anchor=SearchPathQuery(provider="schema"))  # fmt: skip
    hydra = Hydra.create_main_hydra2(task_name="cli", config_search_path=search_path)
    try:
        multirun, jobs = _run_or_sweep(hydra, args.config_name or CONFIG_NAME, args)
    except RunDirBusy as err:
        return _fail(REFUSED, f"bench: {err}")
    except (HydraException, OmegaConfBaseException) as err:  # refused at composition
        return _fail(REFUSED, f"bench: {_one_line(err)}")
    finally:
        GlobalHydra.instance().clear()
    # a run that raised (a bug, not bad input) raises here, with its traceback
    return exit_code(jobs) if multirun else outcome(jobs[0].return_value)["exit_code"]


def _run_or_sweep(hydra: Any, name: str, args: argparse.Namespace) -> tuple[bool, list[Any]]:
    """``Hydra.run`` or ``Hydra.multirun``, but holding the run (sweep) directory from
    before Hydra writes there (bench.run_dir), and keeping the jobs' ``JobReturn``s."""
    from hydra._internal.callbacks import Callbacks
    from hydra.core.plugins import Plugins
    from hydra.core.utils import run_job
    from hydra.types import HydraContext

    overrides = list(args.overrides)
    multirun = args.multirun or hydra.get_mode(name, overrides) == RunMode.MULTIRUN
    mode = RunMode.MULTIRUN if multirun else RunMode.RUN
    overrides.append(f"hydra.mode={mode.name}")
    cfg = hydra.compose_config(name, overrides, run_mode=mode, with_log_configuration=True)
    HydraConfig.instance().set_config(cfg)  # ${run_label:} reads the chosen preset
    callbacks = Callbacks(cfg)
    context = HydraContext(config_loader=hydra.config_loader, callbacks=callbacks)
    with RunDir(Path(cfg.hydra.sweep.dir if multirun else cfg.hydra.run.dir)) as held:
        if multirun:
            callbacks.on_multirun_start(config=cfg, config_name=name)
            sweeper = Plugins.instance().instantiate_sweeper(
                config=cfg, hydra_context=context, task_function=bench_job
            )
            overrides = cast(list[str], OmegaConf.to_container(cfg.hydra.overrides.task))
            jobs = _jobs(sweeper.sweep(arguments=overrides))
            callbacks.on_multirun_end(config=cfg, config_name=name)
            refused = [Path(j.hydra_cfg.hydra.runtime.output_dir) for j in jobs if _refused(j)]
        else:
            callbacks.on_run_start(config=cfg, config_name=name)
            jobs = [run_job(hydra_context=context, task_function=bench_job, config=cfg,
                            job_dir_key="hydra.run.dir", job_subdir_key=None)]  # fmt: skip
            callbacks.on_run_end(config=cfg, config_name=name, job_return=jobs[0])
            refused = [held.path] if _refused(jobs[0]) else []
        held.discard(refused)
        # the summary reads every job's samples rows: collected as rarely as in a job,
        # whether the jobs ran here (basic launcher) or in other processes
        gc.set_threshold(*RUN_GC_THRESHOLDS)
        if multirun and (summary := write_summary(held.path, jobs)):
            print(f"{summary}\nsummary: {held.path / 'summary.md'}, summary.csv")
    return multirun, jobs


def _run_refusal(err: Exception, choices: Any) -> str:
    """Why a composed run was refused, in one line; a preset needing what the dataset lacks
    (``labels: ${dataset.labels}``) says so in those terms."""
    missing = re.search(r"Interpolation key '(dataset\.[\w.]+)' not found", str(err))
    if isinstance(err, InterpolationKeyError) and missing:
        return (
            f"model preset {choices.get('model')} needs {missing[1]}, which "
            f"dataset={choices.get('dataset')} does not define (choose a dataset that has it)"
        )
    return f"{type(err).__name__}: {err}".replace("\n", " ")


def _one_line(err: Exception) -> str:
    """A composition error in one line, naming the key."""
    cause = err.__cause__ if isinstance(err.__cause__, OmegaConfBaseException) else err
    if not isinstance(cause, OmegaConfBaseException):
        return " ".join(str(err).split()) + missing_launcher(str(err))
    line = f"{ConfigError.__name__}: {describe(cause)}"
    key = cause.full_key or ""
    if line.endswith("unknown option") and key.startswith(OPEN_GROUPS):
        line += f" (a new parameter of the {key.split('.')[0]}: +{key}=…)"
    return line


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
    from hydra._internal.utils import _run_hydra, get_args_parser

    register_search_path()  # presets of installed packages (bench.plugins)
    parser = get_args_parser()
    args = parser.parse_args()
    if args.help or args.hydra_help or args.cfg or args.info or args.shell_completion:
        _run_hydra(args, parser, bench_job, str(CONF_DIR), CONFIG_NAME)  # Hydra's own commands
        return
    sys.exit(_launch(args))
