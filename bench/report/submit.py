"""A submission to a published site: prediction files from anyone, checked, scored and filed.

Layout of a site source folder (``SITE_SOURCE``, what ``bench-report submit --into`` takes)::

    SITE_SOURCE/
      submissions/<dataset>/<name>/   one per submission (dataset: the gold's name)
        predictions/<file>…           the submitted prediction files, byte for byte
        submission.json               name, url, paper, submitted_at (UTC), dataset {name,
                                      version, sha256}, format, align, files {file:
                                      sha256}, bench_version
        run/                          the scored run: result.json, samples/, tables/ (as
                                      ``bench +model=predictions model.path=predictions/…
                                      name=<name>`` run from the submission folder writes)
      site/                           the published site (bench.report.site), rebuilt from
                                      every run folder under SITE_SOURCE but site/ itself
      …                               any other run folders (e.g. the maintainer's presets)

Prediction files are the predictions adapter's (:mod:`bench.adapters.predictions`): one
CoNLL file (NER), or ``ner.jsonl``, ``attribution.jsonl`` and/or ``toxicity.jsonl``.
Without ``--dataset``, the dataset is the one shipped dataset whose items include every
item id of the files (a CoNLL file's ids are its sentence numbers); none or several is a
refusal naming the choices.

The files come from strangers: they are parsed as data, never instantiated, imported or
evaluated; the names that become folders (``--name``, the files' names, the dataset) must
be plain folder names (letters, digits, ``.``, ``_``, ``-``; no ``..``); ``--url`` and
``--paper`` must be http(s) URLs; every run under SITE_SOURCE is read by the result
readers' rules (:meth:`bench.report.compare.Run.load`). The submission is scored and
checked in a temporary folder, moved into SITE_SOURCE once accepted, and removed again if
the site cannot be rebuilt: a refusal (:class:`SubmitError`) leaves SITE_SOURCE as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.adapters.base import TASKS
from bench.data.dataset import Dataset
from bench.report.compare import CompareError, Run
from bench.report.files import write_json_atomic
from bench.report.gold import registered_presets, shipped_gold, shipped_names
from bench.report.leaderboard import LeaderboardError
from bench.report.site import build_site
from bench.report.submission import RECORD, SubmitError, http_url

SUBMISSIONS = "submissions"
SITE = "site"
# a folder name on every system: no separator, no "..", no leading dot or dash
_FOLDER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")


@dataclass(frozen=True)
class Submission:
    """What the submitter gives: the files and who they are."""

    files: list[Path]
    name: str
    dataset: str | None = None  # None: the shipped dataset the files' item ids belong to
    url: str | None = None
    paper: str | None = None
    dataset_version: str | None = None
    dataset_sha256: str | None = None
    align: str = "strict"  # CoNLL tokens: "strict" (the gold's), or "position" (normalised)


def folder_name(value: str, what: str) -> str:
    """``value`` if it is a safe folder name, else a :class:`SubmitError` naming ``what``."""
    if not _FOLDER_NAME.fullmatch(value):
        raise SubmitError(
            f"{what}: {value!r} is not a plain folder name (1-64 letters, digits, '.', '_', "
            "'-', starting and ending with a letter or digit)"
        )
    return value


def prediction_format(files: list[Path]) -> str:
    """``jsonl`` when every file is ``<task>.jsonl``, ``conll`` for a single other file."""
    names = [f.name for f in files]
    if all(n.removesuffix(".jsonl") in TASKS and n.endswith(".jsonl") for n in names):
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise SubmitError(f"{duplicate}: given twice")
        return "jsonl"
    if len(files) == 1:
        return "conll"
    raise SubmitError(
        f"{', '.join(names)}: expected one CoNLL file, or files named "
        f"{', '.join(f'{t}.jsonl' for t in TASKS)}"
    )


def _check_files(files: list[Path]) -> None:
    for path in files:
        if not path.is_file():
            raise SubmitError(f"{path}: not a file")
        folder_name(path.name, f"{path}: file name")


def _run_folders(source: Path) -> list[Path]:
    """Every run folder (holding result.json) under ``source``, but the site and hidden
    folders (a submission being moved into place)."""
    runs = []
    for result in sorted(source.rglob("result.json")):
        parts = result.relative_to(source).parts
        if parts[0] != SITE and not any(p.startswith(".") for p in parts):
            runs.append(result.parent)
    return runs


def _taken_names(source: Path, dataset: str) -> dict[str, str]:
    """Lower-cased names already used on ``dataset`` under ``source`` -> what holds them:
    submissions, the names of runs on it, and model presets (no one may pose as ``oracle``).
    Every run is read as the result readers read it (a crafted one is refused)."""
    from bench.plugins import catalogue

    taken = {name.lower(): "a model preset" for name in catalogue().presets["model"]}
    for run_dir in _run_folders(source):
        try:
            run = Run.load(run_dir)
        except CompareError as err:
            raise SubmitError(str(err)) from None
        if run.result["dataset"].get("name") == dataset:
            taken[run.name.lower()] = f"the run {run_dir}"
    for entry in (source / SUBMISSIONS / dataset).glob("*"):
        taken[entry.name.lower()] = f"the submission {entry}"
    return taken


def _resubmitted(source: Path, dataset: str, files: dict[str, str]) -> Path | None:
    """The submission on ``dataset`` under ``source`` whose files have the same contents
    (sha256) as ``files``, if any."""
    for path in sorted((source / SUBMISSIONS / dataset).glob(f"*/{RECORD}")):
        try:
            other = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise SubmitError(f"{path}: (json): {err}") from None
        known = other.get("files") if isinstance(other, dict) else None
        if isinstance(known, dict) and sorted(map(str, known.values())) == sorted(files.values()):
            return path.parent
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _given(submission: Submission) -> dict[str, str]:
    """The path an error about a staged copy names -> the file as the submitter gave it."""
    return {str(Path("predictions") / path.name): str(path) for path in submission.files}


def _dataset_of_ids(entry: Path, submission: Submission, fmt: str) -> str:
    """The shipped dataset whose items (of each task the files predict) include every item
    id of the staged files in ``entry/predictions/``; only the ids are compared (the files
    are parsed by the predictions adapter, as data). A :class:`SubmitError` when no
    shipped dataset, or several, hold them: the choices are named."""
    from hydra.utils import get_class

    from bench.adapters.predictions import PredictionsAdapter
    from bench.data.conll import sentence_id

    given = _given(submission)
    try:
        with contextlib.chdir(entry):
            adapter = PredictionsAdapter(next(iter(given)) if fmt == "conll" else "predictions",
                                         fmt)  # fmt: skip
            if fmt == "conll":  # a sentence's id is its number
                ids = {"ner": set(map(sentence_id, range(1, len(adapter.sentences) + 1)))}
            else:
                ids = {task: set(adapter.records(task)) for task in adapter.tasks}
    except ValueError as err:  # a file refused while reading it
        raise SubmitError(_as_given(" ".join(str(err).split()), given)) from None
    matches = []
    for name in shipped_names():
        dataset_class: type[Dataset] = get_class(registered_presets()[name]["_target_"])
        if not set(ids) <= dataset_class.tasks:
            continue  # not built: the class says it has no gold for a task of the files
        gold = shipped_gold(name)
        if all(found <= {item.id for item in gold.view(task).items} for task, found in ids.items()):
            matches.append(name)
    if len(matches) == 1:
        return matches[0]
    files = ", ".join(map(str, submission.files))
    match = f"match {', '.join(matches)}" if matches else "match no shipped dataset"
    raise SubmitError(
        f"--dataset: not given, and the item ids of {files} {match}: choose one of "
        f"{', '.join(shipped_names())}"
    )


def _score(entry: Path, submission: Submission, fmt: str) -> dict[str, Any]:
    """Score the staged copies in ``entry/predictions/`` as ``bench +model=predictions``
    would from ``entry`` (so result.json records ``predictions/…``, valid once filed), save
    the run in ``entry/run/`` and return its result.json content."""
    from bench.api import evaluate

    given = _given(submission)
    model_path = next(iter(given)) if fmt == "conll" else "predictions"
    try:
        # max_failure_rate=0: an item without a prediction fails its task, so no task is
        # degraded (scored on fewer items than the site's other runs)
        with contextlib.chdir(entry):
            result = evaluate(
                "predictions",
                submission.dataset,
                name=submission.name,
                model__path=model_path,
                model__format=fmt,
                model__align=submission.align,
                max_failure_rate=0.0,
            )
    except ValueError as err:  # a file refused while reading it, an unusable dataset
        message = _as_given(" ".join(str(err).split()), given)
        raise SubmitError(f"{message} (checked against --dataset {submission.dataset})") from None
    names = {path.name for path in submission.files}
    for task, record in result.result["tasks"].items():
        if record["status"] == "failed":
            failed = _as_given(f"task {task} failed: {record['error']}", given)
            raise SubmitError(f"{failed} (checked against --dataset {submission.dataset})")
        if record["status"] == "unsupported" and f"{task}.jsonl" in names:
            raise SubmitError(f"{task}.jsonl: not scored: {record['reason']}")
    result.save(entry / "run")
    return result.result


def _as_given(message: str, staged: dict[str, str]) -> str:
    """``message`` naming the submitted files as given, not as staged, and the options
    as this command's."""
    for staged_path, given in staged.items():
        message = message.replace(staged_path, given)
    return message.replace("model.align=position", "--align position")


def _check_dataset(submission: Submission, dataset: dict[str, Any]) -> None:
    """The submission's declared dataset version and sha256 must be the gold's."""
    declared = {"version": submission.dataset_version, "sha256": submission.dataset_sha256}
    for field, value in declared.items():
        if value is not None and value.lower() != str(dataset.get(field)).lower():
            raise SubmitError(
                f"--dataset-{field} {value}: the submission was made for another version "
                f"of {dataset['name']}: the gold here is {field} {dataset.get(field)}"
            )


def _record(
    submission: Submission, fmt: str, result: dict[str, Any], staged: Path
) -> dict[str, Any]:
    """The content of submission.json (``staged``: the folder of the files scored)."""
    dataset = result["dataset"]
    return {
        "name": submission.name,
        "url": submission.url,
        "paper": submission.paper,
        "submitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {k: dataset.get(k) for k in ("name", "version", "sha256")},
        "format": fmt,
        "align": submission.align,
        "files": {f.name: _sha256(f) for f in sorted(staged.iterdir())},
        "bench_version": result["provenance"]["bench_version"],
    }


def _move_into_place(staged: Path, target: Path) -> None:
    """Copy ``staged`` beside ``target`` under a hidden name, then rename it to ``target``
    (a reader never sees half a folder; an existing ``target`` is never overwritten)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    hidden = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copytree(staged, hidden)
        os.rename(hidden, target)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise


def _remove(target: Path, keep: Path) -> None:
    """Remove the filed ``target`` and the emptied folders above it, up to ``keep`` (the
    closest that existed before): SITE_SOURCE as it was."""
    shutil.rmtree(target)
    for folder in target.parents:
        if folder == keep or any(folder.iterdir()):
            break
        folder.rmdir()


def submit(
    submission: Submission, source: Path, *, resamples: int = 1000, seed: int = 0
) -> tuple[Path, dict[str, Any]]:
    """Check, score and file ``submission`` under ``source`` and rebuild the site
    (``resamples``, ``seed``: its significance tests); the submission's folder and its
    submission.json. Refused (:class:`SubmitError`): nothing written under ``source``."""
    folder_name(submission.name, "--name")
    if submission.dataset is not None:
        folder_name(submission.dataset, "--dataset")
    for field, value in (("--url", submission.url), ("--paper", submission.paper)):
        if value is not None:
            http_url(value, field)
    _check_files(submission.files)
    fmt = prediction_format(submission.files)
    if source.exists() and not source.is_dir():
        raise SubmitError(f"--into {source}: not a folder")
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        entry = Path(tmp) / "entry"
        (entry / "predictions").mkdir(parents=True)
        for path in submission.files:
            shutil.copyfile(path, entry / "predictions" / path.name)
        if submission.dataset is None:
            submission = replace(submission, dataset=_dataset_of_ids(entry, submission, fmt))
        result = _score(entry, submission, fmt)
        dataset = folder_name(str(result["dataset"]["name"]), "dataset name")
        _check_dataset(submission, result["dataset"])
        holder = _taken_names(source, dataset).get(submission.name.lower())
        if holder:
            raise SubmitError(f"--name {submission.name}: already used on {dataset} by {holder}")
        record = _record(submission, fmt, result, entry / "predictions")
        earlier = _resubmitted(source, dataset, record["files"])
        if earlier:
            raise SubmitError(
                f"{', '.join(map(str, submission.files))}: already submitted on {dataset} "
                f"as {earlier} (the same contents)"
            )
        write_json_atomic(entry / RECORD, record)
        target = source / SUBMISSIONS / dataset / submission.name
        existed = next(p for p in target.parents if p.exists())
        _move_into_place(entry, target)
    try:  # the site records where its runs are: built once the submission is in place
        build_site(_run_folders(source), source / SITE, resamples=resamples, seed=seed)
    except BaseException as err:
        _remove(target, existed)
        if isinstance(err, LeaderboardError | CompareError):
            raise SubmitError(f"the site cannot be rebuilt: {err}") from None
        raise
    return target, record
