"""The schema of ``bench``'s run configuration: every option, its type and its range.

The dataclasses are registered in Hydra's ConfigStore as ``bench_schema``, the first
entry of conf/config.yaml's defaults, so Hydra refuses a wrong type or an unknown key
at composition. Hydra lets ``+key=value`` add keys anywhere, so :func:`validate` checks
the composed config against the same schema (and each field's range) before a run.
The ``model``, ``dataset`` and ``perturb`` groups are open: their keys are the adapter's,
the dataset's and the perturbation's own parameters. The values (and what they mean) are
in conf/config.yaml; MISSING here means "set there".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, cast

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from bench.adapters.base import TASKS
from bench.metrics.analytic import ANALYTIC_ABOVE


class ConfigError(ValueError):
    """A bad run option, or a dataset or model that could not be built (exit code 2)."""


def _rule(default: Any, test: Callable[[Any], bool], expected: str) -> Any:
    """A field whose value must pass ``test`` (checked by :func:`validate`)."""
    return field(default=default, metadata={"test": test, "expected": expected})


def _at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: v >= low


def _probability(v: float) -> bool:
    return 0.0 <= v <= 1.0  # False for NaN


@dataclass
class ToxicityOptions:
    threshold: float = _rule(MISSING, _probability, "a number in [0, 1]")


@dataclass
class AttributionOptions:
    min_overlap: float = _rule(MISSING, lambda v: 0.0 < v <= 1.0, "a number in (0, 1]")


@dataclass
class CacheOptions:
    enabled: bool = MISSING
    dir: str = MISSING
    max_age: str | None = None  # a duration: "3600" (seconds), "12h", "7d"


@dataclass
class BootstrapUnits:
    ner: str = MISSING
    attribution: str = MISSING
    toxicity: str = MISSING


@dataclass
class BootstrapOptions:
    resamples: int = _rule(MISSING, _at_least(0), "an integer >= 0 (0: no intervals)")
    seed: int = _rule(MISSING, _at_least(0), "an integer >= 0")
    # result.json, tables, leaderboards and checks all read "ci95"
    alpha: float = _rule(MISSING, lambda v: v == 0.05, "0.05, the only value supported (ci95)")
    unit: BootstrapUnits = field(default_factory=BootstrapUnits)
    method: str = _rule(
        "auto", lambda v: v in ("auto", "bootstrap", "analytic"), "auto, bootstrap or analytic"
    )
    analytic_above: int = _rule(ANALYTIC_ABOVE, _at_least(1), "an integer >= 1")


@dataclass
class ShardOptions:
    """``shard.index=i shard.count=n``: predict slice i of n, score nothing (bench.shard);
    both null: every item. Checked together by bench.runner.check_config."""

    index: int | None = _rule(None, lambda v: v is None or v >= 0, "an integer >= 0 or null")
    count: int | None = _rule(None, lambda v: v is None or v >= 1, "an integer >= 1 or null")


@dataclass
class CheckOptions:
    """``+check.*``: the regression check after the run; None: bench.report.check's
    default (which also checks the ranges)."""

    baseline: str | None = None
    tolerance: float | None = None
    alpha: float | None = None
    resamples: int | None = None
    seed: int | None = None
    junit: str | None = None
    markdown: str | None = None
    max_robustness_drop: list[str] | None = None  # ["TASK.METRIC=DROP", …]


def _objective(v: str | None) -> bool:
    return v is None or (v.partition(".")[0] in TASKS and bool(v.partition(".")[2]))


@dataclass
class SweepOptions:
    objective: str | None = _rule(None, _objective, f"TASK.METRIC, TASK one of {', '.join(TASKS)}")


@dataclass
class TrackerOptions:
    """``+tracker=NAME`` (conf/tracker/): where the runs are tracked."""

    tracking_uri: str | None = MISSING
    experiment: str = MISSING
    request_timeout: float = _rule(10.0, lambda v: v > 0, "seconds > 0")
    request_retries: int = _rule(1, lambda v: v >= 0, "an integer >= 0")


@dataclass
class BenchConfig:
    model: Any = None  # an adapter preset (+model=NAME): its own parameters
    dataset: Any = MISSING  # a dataset config (dataset=NAME): its own parameters
    task: str = _rule(MISSING, lambda v: v in ("all", *TASKS), f"one of all, {', '.join(TASKS)}")
    name: str | None = MISSING
    seed: int = _rule(MISSING, _at_least(0), "an integer >= 0")
    batch_size: int | None = _rule(
        MISSING, lambda v: v is None or v >= 1, "an integer >= 1 or null"
    )
    max_failure_rate: float = _rule(0.0, _probability, "a number in [0, 1]")
    limit: int | None = _rule(None, lambda v: v is None or v >= 1, "an integer >= 1 or null")
    limit_seed: int | None = _rule(None, lambda v: v is None or v >= 0, "an integer >= 0 or null")
    progress: bool = MISSING
    toxicity: ToxicityOptions = field(default_factory=ToxicityOptions)
    attribution: AttributionOptions = field(default_factory=AttributionOptions)
    cache: CacheOptions = field(default_factory=CacheOptions)
    bootstrap: BootstrapOptions = field(default_factory=BootstrapOptions)
    sweep: SweepOptions = field(default_factory=SweepOptions)
    shard: ShardOptions = field(default_factory=ShardOptions)
    # Any, not CheckOptions: Hydra cannot add keys (+check.baseline=…) to a typed None;
    # validate() checks it against CheckOptions.
    check: Any = None
    tracker: Any = None  # Any, as check; validate() checks it against TrackerOptions
    # +perturb=NAME (conf/perturb/): its options are the perturbation's (bench.perturb)
    perturb: Any = None


ConfigStore.instance().store(name="bench_schema", node=BenchConfig)


def describe(err: OmegaConfBaseException) -> str:
    """One line naming the key of an OmegaConf error; for an unknown key, the closest
    valid one."""
    key = err.full_key or str(err.key or "")
    message = str(getattr(err, "msg", err)).splitlines()[0]
    if isinstance(err, ConfigKeyError | ConfigAttributeError) and err.key is not None:
        message = "unknown option"
        valid = [str(k) for k in err.parent_node] if isinstance(err.parent_node, DictConfig) else []
        close = difflib.get_close_matches(str(err.key), valid, n=1)
        if close:
            message += f" (did you mean {key[: len(key) - len(str(err.key))]}{close[0]}?)"
    return f"{key}: {message}" if key else message


def _check_rules(cfg: DictConfig, schema: type, prefix: str = "") -> None:
    for spec in fields(schema):
        key = f"{prefix}{spec.name}"
        if is_dataclass(spec.default_factory):
            _check_rules(cfg, spec.default_factory, f"{key}.")
        elif "test" in spec.metadata:
            value = OmegaConf.select(cfg, key)
            if not spec.metadata["test"](value):  # NaN fails every test
                raise ConfigError(f"{key}={value!r}: expected {spec.metadata['expected']}")


def _merge(schema: type, node: Any, prefix: str = "") -> DictConfig:
    """``node`` merged into ``schema``: OmegaConf refuses unknown keys and wrong types."""
    try:
        # a structured config merged with a mapping stays a DictConfig
        return cast(DictConfig, OmegaConf.merge(OmegaConf.structured(schema), node))
    except OmegaConfBaseException as err:
        err.full_key = prefix + (err.full_key or str(err.key or ""))
        raise ConfigError(describe(err)) from None


def validate(cfg: DictConfig) -> None:
    """Refuse (:class:`ConfigError`) an unknown key, a value of the wrong type or out of
    range, in the run options and the ``check`` options."""
    # not cfg: it may carry the schema's type; the container of a DictConfig is a dict
    plain = cast(dict[str, Any], OmegaConf.to_container(cfg))
    merged = _merge(BenchConfig, plain)
    check = plain.get("check")
    if check is not None and not isinstance(check, dict):
        raise ConfigError(f"check={check!r}: expected options (+check.baseline=FILE …)")
    if check is not None:
        _merge(CheckOptions, check, "check.")
    if plain.get("tracker") is not None:
        _merge(TrackerOptions, plain["tracker"], "tracker.")
    _check_rules(merged, BenchConfig)
