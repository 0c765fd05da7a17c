"""Issue 15: ``bench-report submit`` checks, scores and files a submission of prediction
files from a stranger, through the installed command, and refuses bad ones writing nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bench_config import shipped_task
from test_cli import BENCH, env

import bench
from bench.resources import resource_dir

pytestmark = pytest.mark.slow

BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))
WNUT = resource_dir("datasets") / "wnut17"
ARCADA = WNUT / "submissions" / "arcada"
URL, PAPER = "https://example.org/team", "https://aclanthology.org/W17-4418"


def _submit(cwd: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BENCH_REPORT, "submit", *map(str, args)],
        cwd=cwd, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _bench(cwd: Path, *args: str) -> None:
    done = subprocess.run([BENCH, *args], cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its content (empty if there is no folder)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plain ``bench`` run of the submission file."""
    cwd = tmp_path_factory.mktemp("plain")
    _bench(cwd, "+model=predictions", "dataset=wnut17", "model.format=conll",
           f"model.path={ARCADA}", "hydra.run.dir=run")  # fmt: skip
    return cwd / "run"


def _result(run: Path) -> dict:
    return json.loads((run / "result.json").read_text())


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site source holding a maintainer's run (the empty baseline on WNUT-17), into which
    the arcada system was submitted from another folder; the command's output in
    ``submit.out``."""
    source = tmp_path_factory.mktemp("site-source")
    _bench(source, "+model=empty", "dataset=wnut17", "hydra.run.dir=runs/empty")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    done = _submit(elsewhere, ARCADA, "--name", "team-arcada", "--url", URL, "--paper", PAPER,
                   "--dataset", "wnut17", "--dataset-version", "emerging.test.annotated",
                   "--into", source, "--resamples", "50")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"filed in {source / 'submissions' / 'wnut17' / 'team-arcada'}" in done.stdout
    return source


def test_the_submission_is_scored_as_a_plain_run_of_the_file(source, plain):
    folder = source / "submissions" / "wnut17" / "team-arcada"
    result = _result(folder / "run")
    assert result["tasks"]["ner"]["status"] == "ok"
    assert result["tasks"]["ner"]["metrics"] == _result(plain)["tasks"]["ner"]["metrics"]
    assert result["dataset"] == _result(plain)["dataset"]
    assert result["model"]["name"] == "team-arcada"
    # the path recorded is the filed copy's, relative to the submission folder
    assert result["model"]["params"]["path"] == "predictions/arcada"
    assert (folder / "predictions" / "arcada").read_bytes() == ARCADA.read_bytes()
    for table in ("samples/ner.jsonl", "tables/metrics.csv"):
        assert (folder / "run" / table).read_bytes() == (plain / table).read_bytes()


def test_the_submitters_metadata_is_recorded(source, plain):
    record = json.loads(
        (source / "submissions" / "wnut17" / "team-arcada" / "submission.json").read_text()
    )
    submitted = datetime.fromisoformat(record.pop("submitted_at"))
    assert submitted.utcoffset() == timedelta(0)
    assert timedelta(0) <= datetime.now(UTC) - submitted < timedelta(hours=1)
    dataset = _result(plain)["dataset"]
    assert record == {
        "name": "team-arcada",
        "url": URL,
        "paper": PAPER,
        "dataset": {"name": "wnut17", "version": dataset["version"], "sha256": dataset["sha256"]},
        "format": "conll",
        "align": "strict",
        "files": {"arcada": hashlib.sha256(ARCADA.read_bytes()).hexdigest()},
        "bench_version": bench.__version__,
    }


def _board(source: Path) -> dict[str, float]:
    """The site's WNUT-17 NER ranking: model -> strict F1."""
    board = json.loads((source / "site" / "wnut17" / "leaderboard.json").read_text())
    return {row["model"]: row["value"] for row in board["tasks"]["ner"]["ranking"]}


def test_the_site_is_rebuilt_with_each_new_entry(source, plain, tmp_path):
    team_run = source / "submissions" / "wnut17" / "team-arcada" / "run"
    [page] = json.loads((source / "site" / "site.json").read_text())["datasets"]
    assert sorted(page["runs"]) == [str(source / "runs" / "empty"), str(team_run)]
    f1 = _result(plain)["tasks"]["ner"]["metrics"]["strict_f1"]["value"]
    assert _board(source)["team-arcada"] == f1
    assert "team-arcada" in (source / "site" / "wnut17" / "index.html").read_text()

    done = _submit(tmp_path, WNUT / "submissions" / "flytxt", "--name", "team-flytxt",
                   "--dataset", "wnut17", "--into", source, "--resamples", "50")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _board(source).keys() == {"team-arcada", "team-flytxt"}  # empty: a reference run
    assert "team-flytxt" in (source / "site" / "index.html").read_text()
    assert not [p for p in source.rglob(".*") if p.name != ".hydra" and p.name != ".bench.lock"]


def test_the_page_links_the_submitters_page_and_paper(source, tmp_path):
    page = (source / "site" / "wnut17" / "index.html").read_text()
    assert (f'<li>team-arcada: <a href="{URL}" rel="nofollow noopener">page</a>, '
            f'<a href="{PAPER}" rel="nofollow noopener">paper</a></li>') in page  # fmt: skip
    # runs without a page or paper (the empty baseline, a submission without) are not listed
    assert page.split('<ul class="submissions">')[1].split("</ul>")[0].count("<li>") == 1

    # a record edited by hand in a site source is checked again when the site is built
    copy = tmp_path / "source"
    shutil.copytree(source / "submissions", copy / "submissions")
    record = copy / "submissions" / "wnut17" / "team-arcada" / "submission.json"
    record.write_text(record.read_text().replace(URL, "javascript:alert(1)"))
    done = subprocess.run(
        [BENCH_REPORT, "site", record.parent / "run", "--out", tmp_path / "site", "--no-plots"],
        cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"bench-report site: {record}: url: 'javascript:alert(1)' is not an http(s) URL"
    ]
    assert not (tmp_path / "site").exists()


def test_a_submission_whose_site_cannot_be_built_is_undone(tmp_path):
    source = tmp_path / "source"
    (source / "site").mkdir(parents=True)
    (source / "site" / "notes.txt").write_text("not a site\n")
    done = _submit(tmp_path, ARCADA, "--name", "team", "--dataset", "wnut17",
                   "--into", source)  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("bench-report submit: the site cannot be rebuilt: --out "), line
    assert "a folder that is not a site" in line
    assert _tree(tmp_path) == {"source/site/notes.txt": b"not a site\n"}
    assert [p.name for p in source.iterdir()] == ["site"]


def test_a_name_already_used_is_refused_whatever_its_case(source, tmp_path):
    before = _tree(source)
    taken = {"TEAM-Arcada": "the submission", "Empty": "the run", "Oracle": "a model preset"}
    for name, holder in taken.items():
        done = _submit(tmp_path, WNUT / "submissions" / "flytxt", "--name", name,
                       "--dataset", "wnut17", "--into", source)  # fmt: skip
        assert done.returncode == 2, done.stdout
        [line] = done.stderr.splitlines()
        assert line.startswith(f"bench-report submit: --name {name}: already used on wnut17 by "
                               f"{holder}")  # fmt: skip
    assert _tree(source) == before


def test_the_same_predictions_under_another_name_are_refused(source, tmp_path):
    # they were filed again: two rows of one system (or someone else's output as yours)
    before = _tree(source)
    renamed = tmp_path / "our_system.txt"
    shutil.copyfile(ARCADA, renamed)
    for submitted in (ARCADA, renamed):
        done = _submit(tmp_path, submitted, "--name", "team-other", "--dataset", "wnut17",
                       "--into", source)  # fmt: skip
        assert done.returncode == 2, done.stdout
        assert done.stderr.splitlines() == [
            f"bench-report submit: {submitted}: already submitted on wnut17 as "
            f"{source / 'submissions' / 'wnut17' / 'team-arcada'} (the same contents)"
        ]
    assert _tree(source) == before


def test_a_submission_for_another_dataset_version_is_refused(tmp_path):
    source = tmp_path / "source"
    for option, value in (("--dataset-version", "2.0"), ("--dataset-sha256", "ab" * 32)):
        done = _submit(tmp_path, ARCADA, "--name", "team", "--dataset", "wnut17", option, value,
                       "--into", source)  # fmt: skip
        assert done.returncode == 2, done.stdout
        [line] = done.stderr.splitlines()
        assert line.startswith(f"bench-report submit: {option} {value}: the submission was "
                               "made for another version of wnut17")  # fmt: skip
        assert not source.exists()


def _truncated(path: Path) -> Path:
    path.write_bytes(b"\r\n".join(ARCADA.read_bytes().split(b"\r\n")[:100]))
    return path


def _token_changed(path: Path) -> Path:
    lines = ARCADA.read_bytes().split(b"\r\n")
    lines[4] = b"CHANGED\tO"
    path.write_bytes(b"\r\n".join(lines))
    return path


def _bad_json(path: Path) -> Path:
    path = path.with_name("ner.jsonl")
    path.write_text('{"id": "1", "entities": [{"start": 0, "end": 3}]}\n')
    return path


@pytest.mark.parametrize(
    ("make", "dataset", "message"),
    [
        (_truncated, "wnut17", "{file}:101: token: sentence 4 differs from the gold at "
         "token 11: the end of the sentence"),
        (_token_changed, "wnut17", "{file}:5: token: sentence 1 differs from the gold at "
         "token 5: 'CHANGED'"),
        (_bad_json, "seed_article", "{file}:1: entities[0]: expected {{start, end, label}}"),
    ],
    ids=["truncated", "token", "json-field"],
)  # fmt: skip
def test_a_malformed_file_is_refused_naming_it_and_nothing_is_written(
    tmp_path, make, dataset, message
):
    submitted = make(tmp_path / "team.conll")
    source = tmp_path / "source"
    done = _submit(tmp_path, submitted.name, "--name", "team", "--dataset", dataset,
                   "--into", source)  # fmt: skip
    assert done.returncode == 2, done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith("bench-report submit: " + message.format(file=submitted.name)), line
    assert not source.exists()


def test_normalised_tokens_are_refused_with_the_option_that_scores_them(tmp_path):
    submitted = _token_changed(tmp_path / "team.conll")
    done = _submit(tmp_path, submitted.name, "--name", "team", "--dataset", "wnut17",
                   "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 2
    assert "--align position" in done.stderr and "model.align" not in done.stderr
    assert done.stderr.rstrip().endswith("(checked against --dataset wnut17)")
    done = _submit(tmp_path, submitted.name, "--name", "team", "--dataset", "wnut17",
                   "--align", "position", "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "source" / "submissions" / "wnut17" / "team"
    assert json.loads((folder / "submission.json").read_text())["align"] == "position"
    assert _result(folder / "run")["provenance"]["config"]["model"]["align"] == "position"


def test_a_file_for_another_dataset_names_the_dataset_it_was_checked_against(tmp_path):
    done = _submit(tmp_path, ARCADA, "--name", "team", "--dataset", "seed_article",
                   "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.endswith("(checked against --dataset seed_article)"), line


def test_without_dataset_a_wnut17_file_is_filed_on_wnut17_inferred_from_its_ids(tmp_path, plain):
    source = tmp_path / "source"
    done = _submit(tmp_path, ARCADA, "--name", "team", "--into", source, "--resamples", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "team on wnut17 emerging.test.annotated (--dataset inferred from the item ids): filed in "
    ), done.stdout
    run = source / "submissions" / "wnut17" / "team" / "run"
    assert _result(run)["tasks"]["ner"]["metrics"] == _result(plain)["tasks"]["ner"]["metrics"]


@pytest.mark.parametrize(
    ("ids", "match"),
    [(["case-1", "nope"], "match no shipped dataset"),
     ([], "match hatecheck, madlibs, seed_article")],
    ids=["none", "several"],
)  # fmt: skip
def test_without_dataset_ids_of_no_or_several_datasets_are_refused_naming_the_choices(
    tmp_path, ids, match
):
    (tmp_path / "toxicity.jsonl").write_text("".join(
        json.dumps({"id": item_id, "score": 0.5}) + "\n" for item_id in ids
    ))  # fmt: skip
    done = _submit(tmp_path, "toxicity.jsonl", "--name", "team", "--into", tmp_path / "source")
    assert done.returncode == 2, done.stdout
    assert done.stderr.splitlines() == [
        f"bench-report submit: --dataset: not given, and the item ids of toxicity.jsonl {match}: "
        "choose one of hatecheck, madlibs, seed_article, wnut17"
    ]
    assert not (tmp_path / "source").exists()


def test_an_item_without_a_prediction_fails_the_submission(tmp_path):
    """A failed item (a failure record, or no record) refuses the submission: a degraded
    task would be scored on fewer items than the site's other runs."""
    [first, *rest] = shipped_task("seed_article", "ner").inputs()
    rows = [{"id": first.id, "failure": {"reason": "refusal", "message": "no"}}]
    rows += [{"id": item.id, "entities": []} for item in rest[1:]]  # rest[0]: none
    (tmp_path / "ner.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = _submit(tmp_path, "ner.jsonl", "--name", "team", "--into", tmp_path / "source")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == (
        f"bench-report submit: task ner failed: 2/{len(rest) + 1} items failed (missing: 1, "
        f"refusal: 1): more than max_failure_rate=0.0 allows; first: item {first.id!r}: "
        "refusal: no (checked against --dataset seed_article)"
    )
    assert not (tmp_path / "source").exists()


def test_files_of_no_known_format_are_refused(tmp_path):
    other = tmp_path / "toxicity.jsonl"
    other.write_text('{"id": "1", "score": 0.5}\n')
    done = _submit(tmp_path, ARCADA, other, "--name", "team", "--dataset", "wnut17",
                   "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == (
        "bench-report submit: arcada, toxicity.jsonl: expected one CoNLL file, or files "
        "named ner.jsonl, attribution.jsonl, toxicity.jsonl"
    )
    assert not (tmp_path / "source").exists()


def test_a_file_for_a_task_the_dataset_has_no_gold_for_is_refused(tmp_path):
    """HateCheck has toxicity gold only: a ner.jsonl beside a complete toxicity.jsonl would
    be silently ignored."""
    (tmp_path / "ner.jsonl").write_text('{"id": "1", "entities": []}\n')
    items = shipped_task("hatecheck", "toxicity").inputs()
    rows = [{"id": item.id, "score": 0.5} for item in items]
    (tmp_path / "toxicity.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = _submit(tmp_path, "ner.jsonl", "toxicity.jsonl", "--name", "team",
                   "--dataset", "hatecheck", "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line == "bench-report submit: ner.jsonl: not scored: hatecheck has no ner gold"
    assert not (tmp_path / "source").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--name", "../escaped"),
        ("--name", "a/b"),
        ("--name", ".hidden"),
        ("--url", "javascript:alert(1)"),
        ("--paper", "file:///etc/passwd"),
    ],
)
def test_unsafe_names_and_urls_are_refused(tmp_path, option, value):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    source = cwd / "source"
    args = {"--name": "team", option: value}
    done = _submit(cwd, ARCADA, *[x for pair in args.items() for x in pair],
                   "--dataset", "wnut17", "--into", source)  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report submit: {option}: {value!r} is not "), line
    assert _tree(tmp_path) == {}  # nothing written anywhere, not beside the source either


def test_a_file_name_that_is_not_a_plain_folder_name_is_refused(tmp_path):
    submitted = tmp_path / "${oc.env:HOME}"
    submitted.write_bytes(ARCADA.read_bytes())
    done = _submit(tmp_path, submitted, "--name", "team", "--dataset", "wnut17",
                   "--into", tmp_path / "source")  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"bench-report submit: {submitted}: file name: '${{oc.env:HOME}}' is ")
    assert not (tmp_path / "source").exists()


def test_help_says_what_the_command_does_and_the_default_dataset(tmp_path):
    done = _submit(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "check, score and file a submission; rebuild the site" in text
    assert "(conf/dataset/); default: the shipped dataset whose items include every item id " \
        "of the files" in text  # fmt: skip
    assert "SITE_SOURCE/site/ is rebuilt from every run folder under it" in text
