"""External datasets (WNUT-17, HateCheck, madlibs) and the predictions-file adapter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench_config import run_model
from seqeval.metrics import f1_score

from bench.adapters.predictions import PredictionsAdapter, PredictionsFileError
from bench.data.conll import read_conll
from bench.predictions import UnusableInput
from bench.resources import resource_dir

WNUT = resource_dir("datasets") / "wnut17"
BENCH = str(Path(sys.executable).with_name("bench"))
# Entity-level F1 (conlleval) of the WNUT-17 shared-task systems on emerging.test.annotated,
# as published in Derczynski et al. (2017), Table 3.
PUBLISHED_F1 = {
    "arcada": 39.98,
    "drexel_cci": 26.30,
    "flytxt": 38.35,
    "sjtu_adapt.txt": 40.42,
    "uh_ritual": 41.86,
}


def _run(tmp_path: Path, *overrides: str) -> dict:
    model = next(o.split("=")[1] for o in overrides if o.startswith("+model="))
    rest = [o for o in overrides if not o.startswith("+model=")]
    return run_model(tmp_path, model, *rest).result


def _wnut(tmp_path: Path, submission: Path) -> dict:
    return _run(
        tmp_path,
        "+model=predictions",
        "dataset=wnut17",
        "model.format=conll",
        f"model.path={submission}",
    )["tasks"]["ner"]


def _refused(tmp_path: Path, *overrides: str) -> str:
    """The error refusing the run (nothing written)."""
    with pytest.raises(UnusableInput) as caught:
        _run(tmp_path, *overrides)
    assert not (tmp_path / "result.json").exists()
    return str(caught.value)


def _wnut_refused(tmp_path: Path, submission: Path) -> str:
    return _refused(tmp_path, "+model=predictions", "dataset=wnut17", "model.format=conll",
                    f"model.path={submission}")  # fmt: skip


@pytest.mark.parametrize("system", sorted(PUBLISHED_F1))
def test_wnut17_submissions_reproduce_conlleval_f1(tmp_path, system):
    ner = _wnut(tmp_path, WNUT / "submissions" / system)
    assert ner["status"] == "ok", ner.get("error")
    f1 = ner["metrics"]["strict_f1"]["value"]
    assert round(100 * f1, 2) == PUBLISHED_F1[system]
    gold = [s.tags for s in read_conll(WNUT / "emerging.test.annotated")]
    pred = [s.tags for s in read_conll(WNUT / "submissions" / system)]
    assert f1 == pytest.approx(f1_score(gold, pred), abs=1e-12)  # seqeval default mode


def _tamper(tmp_path: Path, change) -> Path:
    path = tmp_path / "submission.conll"
    lines = (WNUT / "submissions" / "uh_ritual").read_bytes().decode("utf-8").split("\r\n")
    path.write_bytes("\r\n".join(change(lines)).encode("utf-8"))
    return path


def test_a_token_that_differs_from_the_gold_is_reported_with_its_line(tmp_path):
    gold_token = read_conll(WNUT / "emerging.test.annotated")[0].tokens[4]

    def rename(lines):
        lines[4] = "CHANGED\tO"
        return lines

    error = _wnut_refused(tmp_path, _tamper(tmp_path, rename))
    assert (
        f"submission.conll:5: token: sentence 1 differs from the gold at token 5: 'CHANGED', "
        f"gold {gold_token!r} (27 tokens, gold 27); model.align=position scores it by position"
    ) in error


def _normalise(lines: list[str]) -> list[str]:
    """What one WNUT-17 submission did: rewrite tokens (``gt`` → ``get``; here also lower
    case), keep every sentence, its length and the tags."""
    rewrite = {"gt": "get", "lt": "let", "u": "you", "ur": "your"}
    out = []
    for line in lines:
        token, tab, tag = line.partition("\t")
        out.append(f"{rewrite.get(token, token.lower())}{tab}{tag}")
    return out


def test_a_normalised_submission_is_scored_by_position_on_request(tmp_path):
    submission = _tamper(tmp_path, _normalise)
    gold = read_conll(WNUT / "emerging.test.annotated")
    altered = read_conll(submission)
    differing = [
        (number, a != b) for number, (g, s) in enumerate(zip(gold, altered, strict=True), 1)
        for a, b in zip(g.tokens, s.tokens, strict=True)
    ]  # fmt: skip
    n_tokens = sum(d for _, d in differing)
    n_sentences = len({number for number, d in differing if d})
    assert n_tokens > 1000  # the test alters many tokens, as the real submission did

    assert "'get', gold 'gt'" in _wnut_refused(tmp_path / "strict", submission)

    done = subprocess.run(
        [BENCH, "+model=predictions", "dataset=wnut17", "model.format=conll",
         f"model.path={submission}", "model.align=position", "bootstrap.resamples=0",
         f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    ner = result["tasks"]["ner"]
    assert round(100 * ner["metrics"]["strict_f1"]["value"], 2) == PUBLISHED_F1["uh_ritual"]
    assert result["model"]["identity"]["aligned_by_position"] == {
        "tokens_differing": n_tokens,
        "sentences_differing": n_sentences,
    }
    warnings = [line for line in done.stderr.splitlines() if "differ from the gold" in line]
    assert warnings == [
        f"bench: warning: {submission}: {n_tokens} tokens in {n_sentences} sentences differ "
        "from the gold; scored by position (model.align=position)"
    ]


@pytest.mark.parametrize(
    ("format", "align", "message"),
    [("conll", "fuzzy", "align: expected strict or position, got 'fuzzy'"),
     ("jsonl", "position", "align: position applies to format=conll only")],
)  # fmt: skip
def test_an_unknown_or_misplaced_alignment_is_refused(format, align, message):
    with pytest.raises(PredictionsFileError, match=message):
        PredictionsAdapter(str(WNUT / "submissions" / "uh_ritual"), format, align)


def test_position_alignment_still_needs_the_gold_length(tmp_path):
    def merge_two_tokens(lines):
        lines[4] = lines[4].split("\t")[0] + lines[5]
        del lines[5]
        return lines

    strict = _wnut_refused(tmp_path, _tamper(tmp_path, merge_two_tokens))
    position = _refused(
        tmp_path / "position", "+model=predictions", "dataset=wnut17", "model.format=conll",
        f"model.path={tmp_path / 'submission.conll'}", "model.align=position",
    )  # fmt: skip
    assert "(26 tokens, gold 27)" in strict
    assert position.endswith(
        "(26 tokens, gold 27); model.align=position needs the gold's number of tokens"
    )


def test_a_prediction_file_under_a_perturbation_fails_the_perturbed_task_only(tmp_path):
    """The file answers the original texts: the perturbed ones are not its gold's (the run
    is not refused for it; its robustness section says why)."""
    result = _run(tmp_path, "+model=predictions", "dataset=wnut17", "model.format=conll",
                  f"model.path={WNUT / 'submissions' / 'arcada'}", "+perturb=casing",
                  "bootstrap.resamples=0")  # fmt: skip
    assert result["tasks"]["ner"]["status"] == "ok"
    casing = result["robustness"]["casing"]["ner"]
    assert casing["status"] == "failed"
    assert casing["error"].startswith("ConllError: ") and ": token: sentence " in casing["error"]


def test_a_missing_sentence_is_reported(tmp_path):
    def drop_last_sentence(lines):
        return lines[: max(i for i, line in enumerate(lines) if not line.strip())]

    error = _wnut_refused(tmp_path, _tamper(tmp_path, drop_last_sentence))
    assert "sentences: the file has 1286 sentences, none for item 's01287'" in error


def test_an_extra_sentence_is_reported(tmp_path):
    error = _wnut_refused(tmp_path, _tamper(tmp_path, lambda lines: [*lines, "", "extra\tO"]))
    assert "sentences: 1288 sentences, the dataset has 1287" in error


def test_hatecheck_and_madlibs_run_toxicity_only(tmp_path):
    for dataset, level in (("hatecheck", "cases"), ("madlibs", "sentences")):
        tasks = _run(tmp_path / dataset, "+model=rules", f"dataset={dataset}")["tasks"]
        assert tasks["ner"]["status"] == "unsupported"
        assert tasks["toxicity"]["status"] == "ok"
        assert 0.0 < tasks["toxicity"]["metrics"]["roc_auc"]["value"] < 1.0
        assert tasks["toxicity"]["counts"][level] > 3000


def test_installed_location_without_data_gives_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        _run(tmp_path, "+model=rules", "dataset=hatecheck", f"dataset.path={tmp_path}")


# ---------------------------------------------------------------------------- JSONL files


def _oracle_files(tmp_path: Path) -> Path:
    """Write the seed-article gold as a predictions folder (what a submitter would send)."""
    from bench.data.seed import SeedArticle

    dataset = SeedArticle()
    folder = tmp_path / "submission"
    folder.mkdir()
    ner, att, tox = dataset.ner(), dataset.attribution(), dataset.toxicity()
    rows = {
        "ner": [
            {"id": i.id, "entities": [{"start": s, "end": e, "label": lab}
                                      for d, s, e, lab in ner.spans if d == i.id]}
            for i in ner.items
        ],
        "attribution": [
            {"id": i.id, "attributions": [
                {"content": [list(p) for p in r.content], "speaker": r.speaker,
                 "cue": list(r.cue), "source": list(r.source), "type": r.type}
                for r in att.records if r.item_id == i.id]}
            for i in att.items
        ],
        "toxicity": [{"id": i.id, "score": float(label)}
                     for i, label in zip(tox.items, tox.labels, strict=True)],
    }  # fmt: skip
    for task, task_rows in rows.items():
        text = "".join(json.dumps(r) + "\n" for r in task_rows)
        (folder / f"{task}.jsonl").write_text(text, encoding="utf-8")
    return folder


def test_jsonl_predictions_of_the_gold_score_one(tmp_path):
    folder = _oracle_files(tmp_path)
    result = _run(tmp_path / "run", "+model=predictions", f"model.path={folder}")
    for record in result["tasks"].values():
        assert record["status"] == "ok"
        assert all(record["metrics"][m]["value"] == 1.0 for m in record["main_metrics"])
    assert set(result["model"]["identity"]["sha256"]) == {
        "ner.jsonl", "attribution.jsonl", "toxicity.jsonl",
    }  # fmt: skip


def test_an_item_without_a_prediction_fails_its_task_only(tmp_path):
    folder = _oracle_files(tmp_path)
    path = folder / "toxicity.jsonl"
    path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    result = _run(tmp_path / "run", "+model=predictions", f"model.path={folder}")
    assert result["tasks"]["toxicity"]["status"] == "failed"
    assert "id: no prediction for item 'article-01'" in result["tasks"]["toxicity"]["error"]
    others = [r["status"] for t, r in result["tasks"].items() if t != "toxicity"]
    assert others == ["ok", "ok"]


@pytest.mark.parametrize(
    ("task", "edit", "message"),
    [
        ("toxicity", lambda rows: [*rows, '{"id": "nope", "score": 0.1}'], "unknown item 'nope'"),
        ("toxicity", lambda rows: [*rows, rows[0]], "id: duplicate id 'article-01'"),
        ("toxicity", lambda rows: ["{not json"] + rows[1:], "toxicity.jsonl:1: (json)"),
        ("ner", lambda rows: [rows[0].replace('"start": ', '"start": -')] + rows[1:],
         "entities[0]: span"),
        ("toxicity", lambda rows: [rows[0].replace('"score": 0.0', '"score": NaN')] + rows[1:],
         "got nan"),
    ],
)  # fmt: skip
def test_bad_jsonl_predictions_are_refused_with_file_line_field(tmp_path, task, edit, message):
    folder = _oracle_files(tmp_path)
    path = folder / f"{task}.jsonl"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    assert message in _refused(tmp_path / "run", "+model=predictions", f"model.path={folder}")


def test_identity_hashes_only_the_prediction_files(tmp_path):
    folder = _oracle_files(tmp_path)
    shutil.copy(folder / "ner.jsonl", folder / "evil.pkl")
    result = _run(tmp_path / "run", "+model=predictions", f"model.path={folder}")
    assert "evil.pkl" not in json.dumps(result["model"])


@pytest.mark.parametrize(
    ("task", "line", "edit", "message"),
    [
        ("ner", 2, lambda row: row.replace('"label": "GPE"', '"label": "PERSONN"', 1),
         "predictions: ner item 'comment-1': entities[0].label: unknown label 'PERSONN'"),
        ("toxicity", 3, lambda row: row.replace('"score": 0.0', '"score": 1.5'),
         "predictions: toxicity item 'article-03': score: expected a probability in [0, 1]"),
        ("attribution", 2, lambda row: row.replace('"type": "', '"type": "x-', 1),
         "predictions: attribution item 'comment-1': attributions[0].type: unknown type "
         "'x-indirect'"),
    ],
)  # fmt: skip
def test_a_prediction_the_task_rejects_is_reported_with_its_file_and_line(
    tmp_path, task, line, edit, message
):
    folder = _oracle_files(tmp_path)
    path = folder / f"{task}.jsonl"
    rows = path.read_text().splitlines()
    assert edit(rows[line - 1]) != rows[line - 1]  # the edit applies to this record
    rows[line - 1] = edit(rows[line - 1])
    path.write_text("\n".join(rows) + "\n")
    error = _refused(tmp_path / "run", "+model=predictions", f"model.path={folder}")
    assert f"{path}:{line}: {message}" in error, error


def test_a_conll_prediction_the_task_rejects_names_the_entity_line(tmp_path):
    def retag(lines):  # line 5 is in sentence 1, which starts on line 1
        lines[4] = lines[4].split("\t")[0] + "\tB-persn"
        return lines

    error = _wnut_refused(tmp_path, _tamper(tmp_path, retag))
    assert "submission.conll:5: predictions: ner item 's00001': entities[0].label: unknown " \
        "label 'persn'" in error, error  # fmt: skip


def test_a_malformed_conll_prediction_tag_is_reported_with_its_line(tmp_path):
    def retag(lines):
        lines[6] = lines[6].split("\t")[0] + "\tPERSON"
        return lines

    error = _wnut_refused(tmp_path, _tamper(tmp_path, retag))
    assert "submission.conll:7: tag: malformed tag 'PERSON'" in error, error


# ---------------------------------------------------------------------------- gold errors


def _wnut_copy(tmp_path: Path, line: int, tag: str) -> Path:
    """A copy of the WNUT-17 test gold with the tag on ``line`` (1-based) replaced."""
    folder = tmp_path / "wnut17"
    folder.mkdir()
    lines = (WNUT / "emerging.test.annotated").read_text(encoding="utf-8").split("\n")
    lines[line - 1] = lines[line - 1].split("\t")[0] + "\t" + tag
    (folder / "emerging.test.annotated").write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("line", "tag", "message"),
    [
        (5, "B-persn", ":5: tag: unknown entity type 'persn'"),
        (7, "I-persn", ":7: tag: unknown entity type 'persn'"),
        (6, "PERSON", ":6: tag: malformed tag 'PERSON'"),
    ],
)
def test_a_bad_conll_gold_tag_is_reported_with_the_token_line(tmp_path, line, tag, message):
    folder = _wnut_copy(tmp_path, line, tag)
    with pytest.raises(ValueError) as caught:
        _run(tmp_path / "run", "+model=oracle", "dataset=wnut17", f"dataset.path={folder}",
             "dataset.version=edited")  # fmt: skip
    assert f"{folder / 'emerging.test.annotated'}{message}" in str(caught.value)
    assert not (tmp_path / "run" / "result.json").exists()


def _hatecheck_copy(tmp_path: Path, edit) -> Path:
    """A copy of the HateCheck CSV with ``edit`` applied to its parsed rows (header first)."""
    import csv

    folder = tmp_path / "hatecheck"
    folder.mkdir()
    source = resource_dir("datasets") / "hatecheck" / "test_suite_cases.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with (folder / "test_suite_cases.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(edit(rows))
    return folder


def _set_case_id(row: int, value: str):
    def edit(rows):
        rows[row][rows[0].index("case_id")] = value
        return rows

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set_case_id(3, "1"), ":4: case_id: duplicate id '1' (also on line 2)"),
        (_set_case_id(3, " "), ":4: case_id: empty"),
        (lambda rows: [*rows[:2], rows[2][:2], *rows[3:]], ":3: case_id: missing (row too short)"),
    ],
)
def test_a_bad_hatecheck_case_id_is_an_error_naming_file_line_and_field(tmp_path, edit, message):
    from bench.data.csv_sets import CsvError, HateCheck

    folder = _hatecheck_copy(tmp_path, edit)
    with pytest.raises(CsvError) as caught:
        HateCheck(path=str(folder), version="edited").toxicity()
    [line] = str(caught.value).splitlines()
    assert line == f"{folder / 'test_suite_cases.csv'}{message}"


def test_the_bench_command_exits_two_on_a_duplicate_hatecheck_case_id(tmp_path):
    import subprocess
    import sys

    folder = _hatecheck_copy(tmp_path, _set_case_id(3, "1"))  # row 3 takes row 1's id
    out = tmp_path / "out"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("bench")), "+model=oracle", "dataset=hatecheck",
         f"dataset.path={folder}", "dataset.version=edited", f"hydra.run.dir={out}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert "test_suite_cases.csv:4: case_id: duplicate id '1'" in line
    assert not (out / "result.json").exists() and not (out / "samples").exists()


@pytest.mark.parametrize("preset", ["rules_wnut17", "spacy_sm_wnut17"])
def test_wnut17_presets_score_wnut_types(tmp_path, preset):
    """The shared OntoNotes -> WNUT-17 label map turns OntoNotes NER into a WNUT system."""
    outcome = run_model(tmp_path, preset, "dataset=wnut17", "bootstrap.resamples=0")
    ner = outcome.result["tasks"]["ner"]
    assert ner["status"] == "ok", ner.get("error")
    assert 0.05 < ner["metrics"]["strict_f1"]["value"] < 0.6
    wnut = set(outcome.result["provenance"]["config"]["dataset"]["labels"])
    predicted = {span[2] for line in (tmp_path / "samples" / "ner.jsonl").open()
                 for span in json.loads(line)["pred"]}  # fmt: skip
    assert predicted <= wnut and {"person", "location"} <= predicted


def test_a_label_map_must_cover_every_type_the_rules_emit():
    from bench.adapters.rules import RulesAdapter

    with pytest.raises(ValueError, match="rules predicts labels outside the target set"):
        RulesAdapter(label_map={"PERSON": "person"}, labels=["person"])
