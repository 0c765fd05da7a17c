"""dataset=hf: the user's own data in Hugging Face layouts scores as the built-in loaders do.

Every file is built here, in the exact layout of the public dataset it stands for
(nothing is downloaded); runs go through the installed ``bench`` command.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value
from hydra.utils import instantiate
from omegaconf import OmegaConf
from test_cli import bench

from bench.cli import CONF_DIR
from bench.data.conll import read_conll
from bench.data.hf import HfDataError, HfDataset
from bench.data.schema import ENTITY_LABELS
from bench.data.seed import SeedArticle
from bench.resources import resource_dir

pytestmark = pytest.mark.slow

DATASETS = resource_dir("datasets")
UH_RITUAL = DATASETS / "wnut17" / "submissions" / "uh_ritual"
# WNUT-17's ner_tags ClassLabel names, in the order of the Hub's wnut_17 dataset
WNUT_TAGS = ["O", "B-corporation", "I-corporation", "B-creative-work", "I-creative-work",
             "B-group", "I-group", "B-location", "I-location", "B-person", "I-person",
             "B-product", "I-product"]  # fmt: skip
FAST = ("bootstrap.resamples=20",)
BENCH_REPORT = str(Path(sys.executable).with_name("bench-report"))


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    """datasets' cache (what it makes of a local file) in the test's folder."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def _result(cwd: Path, out: str, *args: str) -> dict:
    done = bench(cwd, *args, f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    return json.loads((cwd / out / "result.json").read_text())


def _task(record: dict) -> dict:
    """A task's result without what depends on the run (its duration)."""
    return {key: value for key, value in record.items() if key != "seconds"}


def _wnut_parquet(path: Path) -> Path:
    """WNUT-17's test set in the Hub's CoNLL layout: id, tokens, ner_tags (a ClassLabel)."""
    sentences = read_conll(DATASETS / "wnut17" / "emerging.test.annotated")
    features = Features({"id": Value("string"), "tokens": List(Value("string")),
                         "ner_tags": List(ClassLabel(names=WNUT_TAGS))})  # fmt: skip
    rows = {
        "id": [str(i) for i in range(len(sentences))],
        "tokens": [list(s.tokens) for s in sentences],
        "ner_tags": [[WNUT_TAGS.index(tag) for tag in s.tags] for s in sentences],
    }
    Dataset.from_dict(rows, features=features).to_parquet(str(path))
    return path


def test_wnut17_as_a_conll_layout_parquet_file_scores_as_the_built_in_wnut17(tmp_path):
    parquet = _wnut_parquet(tmp_path / "wnut17-test.parquet")
    submission = ("+model=predictions", "model.format=conll", f"model.path={UH_RITUAL}", *FAST)
    hf = _result(tmp_path, "hf", "dataset=hf_conll", f"dataset.path={parquet}", *submission)
    builtin = _result(tmp_path, "builtin", "dataset=wnut17", *submission)
    assert hf["tasks"]["ner"]["status"] == "ok"
    assert _task(hf["tasks"]["ner"]) == _task(builtin["tasks"]["ner"])  # metrics, intervals …
    assert round(100 * hf["tasks"]["ner"]["metrics"]["strict_f1"]["value"], 2) == 41.86
    sha = hashlib.sha256(parquet.read_bytes()).hexdigest()
    assert hf["dataset"]["files"] == {"wnut17-test.parquet": sha}
    assert hf["dataset"]["sha256"] == sha and hf["dataset"]["name"] == "hf_conll"
    assert hf["dataset"]["rows"] == builtin["tasks"]["ner"]["counts"]["items"]
    samples = (tmp_path / "hf" / "samples" / "ner.jsonl").read_text().splitlines()
    assert json.loads(samples[0])["id"] == "s00001"  # as the CoNLL file's first sentence
    page = tmp_path / "errors.html"  # from the samples: bench has no copy of the user's data
    done = subprocess.run([BENCH_REPORT, "errors", "hf", "--out", page], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hf_conll reads the user&#x27;s own files, which bench does not ship" in page.read_text()


def _madlibs_rows(n: int) -> list[dict[str, str]]:
    with (DATASETS / "madlibs" / "bias_madlibs_77k.csv").open(encoding="utf-8", newline="") as f:
        return [row for _, row in zip(range(n), csv.DictReader(f), strict=False)]


def test_a_civil_comments_layout_csv_scores_as_madlibs(tmp_path):
    """The first 2000 madlibs rows, as madlibs (a versioned copy) and as a Civil Comments
    CSV whose identity columns are annotator shares: same items, same metrics."""
    rows = _madlibs_rows(2000)
    copy = tmp_path / "madlibs-copy"
    copy.mkdir()
    with (copy / "bias_madlibs_77k.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    preset = OmegaConf.load(CONF_DIR / "dataset" / "madlibs.yaml")
    preset.path, preset.version = str(copy), "first-2000"
    madlibs = instantiate(preset).view("toxicity")
    identities = sorted({name for names in madlibs.combos for name in names})
    attributes = ["severe_toxicity", "obscene", "threat", "insult", "identity_attack",
                  "sexual_explicit"]  # fmt: skip
    civil = tmp_path / "civil_comments.csv"
    with civil.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "toxicity", *attributes, *identities])
        for number, (item, row) in enumerate(zip(madlibs.items, rows, strict=True)):
            toxicity = 0.5 if row["Label"] == "BAD" else 0.4  # toxic from 0.5 on
            shares = [
                (0.6 if name in madlibs.identities(number) else ("" if number % 3 else 0.1))
                for name in identities
            ]  # an empty share: not annotated
            writer.writerow([item.text, toxicity, *[toxicity] * 6, *shares])
    common = ("+model=rules", "task=toxicity", *FAST)
    hf = _result(tmp_path, "hf", "dataset=hf_civil_comments", f"dataset.path={civil}",
                 f"dataset.toxicity.identities=[{','.join(identities)}]", *common)  # fmt: skip
    builtin = _result(tmp_path, "builtin", "dataset=madlibs", f"dataset.path={copy}",
                      "dataset.version=first-2000", *common)  # fmt: skip
    assert hf["tasks"]["toxicity"]["status"] == "ok"
    hf_metrics, builtin_metrics = (r["tasks"]["toxicity"]["metrics"] for r in (hf, builtin))
    assert any(name.startswith("bias") or "subgroup" in name for name in hf_metrics)
    attributes_scored = {name for name in hf_metrics if name.startswith("attribute.")}
    assert attributes_scored and all(hf_metrics[name]["value"] for name in attributes_scored)
    assert {k: v for k, v in hf_metrics.items() if k not in attributes_scored} == builtin_metrics
    hf_breakdown, builtin_breakdown = (r["tasks"]["toxicity"]["breakdown"] for r in (hf, builtin))
    assert (hf_breakdown.pop("levels"), builtin_breakdown.pop("levels")) == (["row"], ["sentence"])
    assert hf_breakdown == builtin_breakdown  # the bias metrics of every identity
    ids = [
        [json.loads(line)["id"] for line in (tmp_path / out / "samples" / "toxicity.jsonl").open()]
        for out in ("hf", "builtin")
    ]
    assert ids[0] == ids[1] and ids[0][0] == "row-00001"  # prediction files fit both


def _seed_rows() -> list[dict]:
    """The seed article's documents as rows: text, entity spans and attribution records in
    bench's prediction-file format (offsets into each document, speaker ids)."""
    seed = SeedArticle()
    ner, attribution = seed.view("ner"), seed.view("attribution")
    return [
        {
            "doc": item.id,
            "text": item.text,
            "entities": [
                {"start": s, "end": e, "label": label}
                for doc, s, e, label in ner.spans
                if doc == item.id
            ],
            "quotes": [
                {
                    "content": [list(p) for p in r.content],
                    "speaker": r.speaker,
                    "cue": list(r.cue),
                    "source": list(r.source),
                    "type": r.type,
                }
                for r in attribution.records
                if r.item_id == item.id
            ],
        }  # fmt: skip
        for item in ner.items
    ]


def _seed_predictions(folder: Path, rows: list[dict]) -> Path:
    """Some right, some wrong: every other entity, quotes with their content cut short."""
    folder.mkdir()
    with (folder / "ner.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps({"id": row["doc"], "entities": row["entities"][::2]}) + "\n")
    with (folder / "attribution.jsonl").open("w") as f:
        for row in rows:
            quotes = [q | {"content": [[q["content"][0][0], q["content"][0][1] - 20]]}
                      for q in row["quotes"][1:]]  # fmt: skip
            f.write(json.dumps({"id": row["doc"], "attributions": quotes}) + "\n")
    return folder


def test_a_json_file_of_text_and_spans_and_its_save_to_disk_folder_score_as_the_seed(tmp_path):
    rows = _seed_rows()
    data = tmp_path / "seed.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    saved = tmp_path / "saved"
    DatasetDict({"test": Dataset.from_list(rows)}).save_to_disk(str(saved))
    predictions = _seed_predictions(tmp_path / "predictions", rows)
    mapping = ("dataset=hf", "dataset.id=doc", "dataset.ner.spans=entities",
               f"dataset.ner.labels=[{','.join(ENTITY_LABELS)}]",
               "dataset.attribution.records=quotes")  # fmt: skip
    # the seed's segments are its clusters; these rows have none: resample what both have
    units = ("bootstrap.unit.ner=entity", "bootstrap.unit.attribution=quote")
    common = ("+model=predictions", f"model.path={predictions}", *units, *FAST)
    builtin = _result(tmp_path, "builtin", *common)
    for out, path in (("json", data), ("saved", saved)):
        hf = _result(tmp_path, out, *mapping, f"dataset.path={path}", *common)
        for task in ("ner", "attribution"):
            assert hf["tasks"][task]["status"] == "ok", hf["tasks"][task]
            assert hf["tasks"][task]["metrics"] == builtin["tasks"][task]["metrics"], (out, task)
        assert hf["tasks"]["toxicity"]["status"] == "unsupported"
    assert hf["dataset"]["files"].keys() == {"data-00000-of-00001.arrow", "dataset_info.json",
                                             "state.json"}  # fmt: skip
    assert 0 < builtin["tasks"]["ner"]["metrics"]["strict_f1"]["value"] < 1


def _hf(tmp_path: Path, rows: list[dict], features: Features | None = None, **options) -> HfDataset:
    path = tmp_path / "data.parquet"
    Dataset.from_list(rows, features=features).to_parquet(str(path))
    return HfDataset(str(path), **options)


TOKENS = Features({"tokens": List(Value("string")),
                   "ner_tags": List(ClassLabel(names=["O", "B-PER", "I-PER"]))})  # fmt: skip
CONLL = {"ner": {"tokens": "tokens", "tags": "ner_tags"}}


@pytest.mark.parametrize(
    ("rows", "features", "options", "message"),
    [
        ([{"tokens": ["Ann", "ran"], "ner_tags": [1, 0]}], TOKENS,
         {"ner": {"tokens": "words", "tags": "ner_tags"}},
         "data.parquet: ner.tokens: no column 'words' (columns: tokens, ner_tags)"),
        ([{"tokens": ["Ann", "ran"], "ner_tags": [1, 0]},
          {"tokens": ["Bo", "sat"], "ner_tags": [1]}], TOKENS, CONLL,
         "data.parquet: row 2: ner_tags: expected 2 tags (one per token), got 1"),
        ([{"tokens": ["Ann", "ran"], "ner_tags": ["B-PER", "X-PER"]}], None, CONLL,
         "data.parquet: row 1: ner_tags[1]: "),
        ([{"tokens": ["Ann", "ran"], "ner_tags": ["B-PER", "E-PER"]}], None,
         {"ner": CONLL["ner"] | {"scheme": "IOB2"}}, "data.parquet: row 1: ner_tags[1]: "),
        ([{"tokens": ["Ann", "ran"], "ner_tags": ["B-ORG", "O"]}], None,
         {"ner": CONLL["ner"] | {"labels": ["PER"]}},
         "data.parquet: row 1: ner_tags[0]: entity type 'ORG' is not one of PER"),
        ([{"tokens": ["New York", "ran"], "ner_tags": [1, 0]}], TOKENS, CONLL,
         "data.parquet: row 1: tokens[0]: expected a token without white space, got 'New York'"),
        ([{"text": "Ann ran", "spans": [{"start": 0, "end": 9, "label": "PER"}]}], None,
         {"ner": {"spans": "spans"}},
         "data.parquet: row 1: spans[0].start/end: span [0, 9) out of range or empty"),
        ([{"text": "Ann ran", "spans": [{"start": 0, "end": None, "label": "PER"}]}], None,
         {"ner": {"spans": "spans"}},
         "data.parquet: row 1: spans[0].end: expected int, got None"),
        ([{"text": "a", "toxicity": 0.7}], None, {"toxicity": {"label": "toxicity"}},
         "data.parquet: row 1: toxicity: expected 0 or 1 (probabilities: set "
         "dataset.toxicity.threshold), got 0.7"),
        ([{"text": "a", "toxicity": 0.7}, {"text": "b", "toxicity": None}], None,
         {"toxicity": {"label": "toxicity", "threshold": 0.5}},
         "data.parquet: row 2: toxicity: missing value"),
        ([{"text": "a", "toxicity": 1, "male": "yes"}], None,
         {"toxicity": {"label": "toxicity", "identities": ["male"]}},
         "data.parquet: row 1: male: expected 0 or 1"),
        ([{"text": "a", "toxicity": 1, "rude": 1}], None,
         {"toxicity": {"label": "toxicity", "attributes": ["rude"]}},
         "dataset.toxicity.attributes: 'rude' is not an attribute bench scores"),
        ([{"id": "a", "text": "x", "toxicity": 1}, {"id": "a", "text": "y", "toxicity": 0}],
         None, {"id": "id", "toxicity": {"label": "toxicity"}},
         "data.parquet: row 2: id: duplicate id (also row 1)"),
        ([{"text": "He said hi.", "quotes": [{"content": [[8, 10]], "type": "quoted"}]}], None,
         {"attribution": {"records": "quotes"}},
         "data.parquet: row 1: quotes[0].type: unknown value 'quoted'"),
        ([{"text": "He said hi.", "quotes": [{"content": [], "type": None}]}], None,
         {"attribution": {"records": "quotes"}},
         "data.parquet: row 1: quotes[0].content: expected at least one [start, end] piece"),
        ([{"text": "a", "toxicity": 1}], None, {"toxicity": {"label": "toxicity", "treshold": 1}},
         "dataset.toxicity.treshold: unknown option (expected one of label, threshold, "
         "identities, attributes)"),
        ([{"text": "a", "toxicity": 1}], None, {}, "dataset: no task mapped"),
    ],
)  # fmt: skip
def test_bad_data_is_one_line_naming_file_row_and_field(tmp_path, rows, features, options, message):
    with pytest.raises(HfDataError) as raised:
        _hf(tmp_path, rows, features, **options)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("second_row", "message"),
    [
        ('{"text": "bad", "toxic": 2}', "data.jsonl: row 2: toxic: expected 0 or 1"),
        ('{"text": "bad", "toxic": ', "data.jsonl (split 'test'): DatasetGenerationError: "
         "An error occurred while generating the dataset; ArrowInvalid: JSON parse error"),
    ],
)  # fmt: skip
def test_bad_data_exits_2_in_one_line_without_a_result(tmp_path, second_row, message):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "fine", "toxic": 0}\n' + second_row + "\n")
    done = bench(tmp_path, "+model=rules", "dataset=hf", f"dataset.path={path}",
                 "dataset.toxicity.label=toxic", "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("bench:")]
    assert f"{tmp_path}/{message}" in line
    assert not (tmp_path / "out" / "result.json").exists()


def test_a_hub_id_offline_and_not_cached_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    done = bench(tmp_path, "+model=rules", "dataset=hf_conll", "dataset.path=someone/wnut_17",
                 "hydra.run.dir=out")  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("bench:")]
    assert "someone/wnut_17 (split 'test'): ConnectionError" in line and "offline" in line
    assert not (tmp_path / "out" / "result.json").exists()


def test_tags_as_strings_or_numbers_with_tag_names_and_a_strict_scheme(tmp_path):
    rows = [{"tokens": ["Ann", "Lee", "met", "Bo"], "tags": ["B-PER", "E-PER", "O", "S-PER"]},
            {"tokens": ["Bo", "left"], "tags": ["I-PER", "O"]}]  # fmt: skip
    strict = _hf(tmp_path, rows, ner={"tokens": "tokens", "tags": "tags", "scheme": "IOBES"})
    view = strict.view("ner")
    assert view.spans == (("s00001", 0, 7, "PER"), ("s00001", 12, 14, "PER"))  # I- alone: dropped
    assert view.labels == ("PER",) and view.tokenized
    names = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
    numbered = [{"tokens": r["tokens"], "tags": [names.index(t) for t in r["tags"]]} for r in rows]
    conlleval = _hf(
        tmp_path, numbered, ner={"tokens": "tokens", "tags": "tags", "tag_names": names}
    )
    assert conlleval.view("ner").spans == view.spans + (("s00002", 0, 2, "PER"),)


def test_the_identity_follows_the_files(tmp_path):
    rows = [{"text": "a", "toxicity": 1}, {"text": "b", "toxicity": 0}]
    first = _hf(tmp_path, rows, toxicity={"label": "toxicity"})
    second = _hf(tmp_path, rows[:1], toxicity={"label": "toxicity"})
    assert first.sha256 != second.sha256
    sha = hashlib.sha256((tmp_path / "data.parquet").read_bytes()).hexdigest()
    assert second.describe()["files"] == {"data.parquet": sha} and second.sha256 == sha
    assert [item.id for item in first.view("toxicity").items] == ["row-00001", "row-00002"]


def test_a_folder_of_data_files_reads_the_files_of_its_split(tmp_path):
    """A Hub dataset's layout on disk (data/<split>-….parquet): only the split's files."""
    (tmp_path / "clone" / "data").mkdir(parents=True)
    for split, rows in (("test", [{"text": "a", "toxic": 1}, {"text": "b", "toxic": 0}]),
                        ("train", [{"text": "c", "toxic": 1}])):  # fmt: skip
        Dataset.from_list(rows).to_parquet(str(tmp_path / f"clone/data/{split}-00000.parquet"))
    dataset = HfDataset(str(tmp_path / "clone"), toxicity={"label": "toxic"})
    assert [item.text for item in dataset.view("toxicity").items] == ["a", "b"]
    assert list(dataset.files) == ["data/test-00000.parquet"]
    assert dataset.version == "clone"


def test_attributes_the_data_labels_are_scored_and_the_others_left_out(tmp_path):
    """The rules adapter scores all six attributes; the data labels only ``insult``."""
    data = tmp_path / "attributes.jsonl"
    rows = [("you idiot", 1), ("hello there", 0), ("what an idiot", 1), ("nice day", 0)]
    data.write_text("".join(json.dumps({"text": t, "toxic": y, "insult": y}) + "\n"
                            for t, y in rows))  # fmt: skip
    result = _result(tmp_path, "out", "+model=rules", "dataset=hf", f"dataset.path={data}",
                     "dataset.toxicity.label=toxic", "dataset.toxicity.attributes=[insult]",
                     "bootstrap.resamples=0")  # fmt: skip
    toxicity = result["tasks"]["toxicity"]
    assert toxicity["status"] == "ok", toxicity.get("error")
    assert [k for k in toxicity["metrics"] if k.startswith("attribute.")] == [
        "attribute.insult.roc_auc"
    ]


@pytest.mark.parametrize("blank", [" ", "\x1c", " \u3000\n"])
def test_texts_read_as_columns_equal_the_rows_and_a_blank_one_is_named(
    tmp_path, blank, monkeypatch
):
    """The texts come from arrow's buffers (issue 13: ten million rows), as the rows give
    them; a text blank to ``str.strip`` (any white space, ASCII or not) is refused by row."""
    texts = ["Ann ran", "日本語", "\u3000x", "naïve café", "a" * 300, "\x1cb"] * 20
    rows = [{"text": t, "toxicity": k % 2} for k, t in enumerate(texts)]

    def by_rows(self):
        raise AssertionError("plainly non-blank texts were read row by row")

    with monkeypatch.context() as patched:
        patched.setattr(HfDataset, "_text_chunks", by_rows)
        data = _hf(tmp_path, rows, toxicity={"label": "toxicity"})
    items = data.view("toxicity").items
    assert items.texts.data == "".join(texts).encode() and list(items.texts) == texts
    assert not hasattr(data, "data")  # the arrow table (a mapped file) is let go once read
    rows[70]["text"] = blank
    (tmp_path / "data.parquet").unlink()
    with pytest.raises(HfDataError) as raised:
        _hf(tmp_path, rows, toxicity={"label": "toxicity"})
    assert str(raised.value).endswith(
        f"data.parquet: row 71: text: expected a non-empty string, got {blank!r}"
    )


@pytest.mark.parametrize(
    ("ids", "bad", "message"),
    [
        (["a-1", "日本", "x y", "\u3000z", "7"] * 3, " \u3000", "id: empty"),
        ([10**12, -5, 0, 7, 42] * 3, 10**12, "id: duplicate id (also row 1)"),
    ],
)
def test_an_id_column_is_read_as_columns_and_a_bad_id_is_named(
    tmp_path, ids, bad, message, monkeypatch
):
    """Ids, strings or integers, come from arrow's buffers (ten million rows: no list and
    dict of every id); a blank or repeated id is refused by row as before."""
    ids = [f"{v}-{k}" if isinstance(v, str) else v * 100 + k for k, v in enumerate(ids)]
    rows = [{"id": v, "text": f"text {k}", "toxicity": k % 2} for k, v in enumerate(ids)]

    def by_rows(self, tokenized):
        raise AssertionError("plain distinct ids were read row by row")

    with monkeypatch.context() as patched:
        patched.setattr(HfDataset, "_ids", by_rows)
        data = _hf(tmp_path, rows, id="id", toxicity={"label": "toxicity"})
    assert list(data.view("toxicity").items.ids) == [str(v) for v in ids]
    rows[7]["id"] = bad if isinstance(bad, str) else rows[0]["id"]
    (tmp_path / "data.parquet").unlink()
    with pytest.raises(HfDataError) as raised:
        _hf(tmp_path, rows, id="id", toxicity={"label": "toxicity"})
    assert str(raised.value).endswith(f"data.parquet: row 8: {message}")


def test_row_ids_are_written_digit_by_digit_as_one_by_one():
    from bench.data.hf import _row_id, _row_ids

    for first, stop in [(1, 12), (99_990, 100_011), (999_998, 1_000_003), (5, 5)]:
        assert list(_row_ids(first, stop)) == [_row_id(k) for k in range(first, stop)]
