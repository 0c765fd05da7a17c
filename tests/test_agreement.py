"""Inter-annotator agreement: the figures, their undefined cases and the command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from bench.data.agreement import (
    AnnotationPass,
    agreement_rows,
    attribution_rows,
    disagreements,
    entity_rows,
    jaccard,
    kappa,
    main,
    multiset_f1,
    toxicity_rows,
)
from bench.data.gold import default_gold_dir
from bench.data.records import Attribution, Entity, Speaker, ToxicityLabels
from bench.data.schema import TOXICITY_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[1]


def labels(
    toxic: int = 0, severity: int = 0, identities: tuple[str, ...] = (), **attrs: int
) -> ToxicityLabels:
    attributes = {name: attrs.get(name, 0) for name in TOXICITY_ATTRIBUTES}
    return ToxicityLabels(toxic, severity, attributes, tuple(sorted(identities)))


def att(att_id: str, content, source_entity: str = "s1", kind: str = "direct", source=(0, 2)):
    return Attribution(att_id, "d", kind, tuple(content), (3, 7), source, source_entity)


TEXT = "".join(f"w{k:03d} " for k in range(40))  # a token every 5 characters: [5k, 5k + 4)


def rows_by_measure(rows):
    return {(r.task, r.measure): r for r in rows}


def values_by_measure(rows):
    return {r.measure: r.value.value for r in rows}


ENTITIES = (
    Entity("d", 0, 5, "PERSON", "Alice"),
    Entity("d", 10, 16, "GPE", "Mexico"),
    Entity("d", 20, 25, "ORG", "DARPA"),
)
SEGMENTS = {
    "s1": labels(),
    "s2": labels(1, 2, ("mexican",), insult=1, identity_attack=1),
    "s3": labels(1, 3, ("immigrant",), severe_toxicity=1, threat=1, identity_attack=1),
    "s4": labels(1, 1, (), obscene=1),
}


def make_pass(name: str, **overrides) -> AnnotationPass:
    fields = {
        "name": name,
        "entities": ENTITIES,
        "attributions": (att("a1", [(30, 40)]), att("a2", [(50, 60)], "s2", "indirect")),
        "speakers": (Speaker("s1", ("Alice",)), Speaker("s2", ("Bob", "Mr. Bob"))),
        "segments": dict(SEGMENTS),
        "documents": {"d": labels(1, 3, ("immigrant", "mexican"), severe_toxicity=1)},
    }
    return AnnotationPass(**(fields | overrides))


# ----------------------------------------------------------------------------- identical passes


def test_identical_passes_agree_perfectly() -> None:
    rows = agreement_rows(make_pass("a"), make_pass("b"), TEXT)
    for row in rows:
        if row.value.value is not None:
            assert row.value.value == pytest.approx(1.0), row
    by = rows_by_measure(rows)
    assert by[("ner", "strict F1 (span+label)")].value.value == 1.0
    assert by[("attribution", "content exact F1")].value.value == 1.0
    assert by[("toxicity (segments)", "kappa toxic")].value.value == pytest.approx(1.0)
    assert by[("toxicity (segments)", "kappa severity (quadratic)")].value.value == 1.0
    assert disagreements(make_pass("a"), make_pass("b")) == []


def test_no_value_is_nan() -> None:
    b = make_pass("b", segments={k: labels() for k in SEGMENTS})
    rows = agreement_rows(make_pass("a"), b, TEXT)
    for row in rows:
        assert row.value.value is None or not math.isnan(row.value.value), row
        assert (row.value.value is None) == (row.value.undefined is not None), row


# ----------------------------------------------------------------------------- entities


def test_entity_f1_on_a_known_disagreement() -> None:
    # B relabels Mexico as LOC and misses DARPA: strict tp 1 -> 2·1/(3+2); span tp 2 -> 2·2/5.
    b = (ENTITIES[0], Entity("d", 10, 16, "LOC", "Mexico"))
    by = rows_by_measure(entity_rows(ENTITIES, b))
    assert by[("ner", "strict F1 (span+label)")].value.value == pytest.approx(0.4)
    assert by[("ner", "span-only F1")].value.value == pytest.approx(0.8)
    assert by[("ner", "F1 PERSON")].value.value == pytest.approx(1.0)
    assert by[("ner", "F1 GPE")].value.value == 0.0
    assert by[("ner", "F1 LOC")].value.value == 0.0
    assert by[("ner", "F1 ORG")].value.value == 0.0
    assert by[("ner", "F1 ORG")].n == 1


def test_multiset_f1_counts_duplicates_and_is_undefined_when_empty() -> None:
    assert multiset_f1(["x", "x"], ["x"]).value == pytest.approx(2 * 1 / 3)
    empty = multiset_f1([], [])
    assert empty.value is None and empty.undefined


# ----------------------------------------------------------------------------- attribution


def test_attribution_overlap_char_and_pair_agreement() -> None:
    a = (att("a1", [(0, 10)]), att("a2", [(20, 30)], "s2"), att("a3", [(40, 50)]))
    # b1 drops one character of a1 and names another speaker; b2 matches a2 exactly
    # but with another type and source span; a3 has no counterpart.
    b = (
        att("b1", [(0, 9)], "s9"),
        att("b2", [(20, 30)], "s2", "mixed", source=(60, 62)),
    )
    by = values_by_measure(attribution_rows(a, b, TEXT))
    assert by["content exact F1"] == pytest.approx(2 * 1 / 5)
    assert by["content any-overlap F1"] == by["content F1 (IoU ≥ 0.5)"] == pytest.approx(2 * 2 / 5)
    assert by["content character F1"] == pytest.approx(2 * (9 + 10) / (30 + 19))
    # tokens: A 2 + 2 + 2, B 2 + 2, all of B's shared -> P = 1, R = 4/6
    assert by["content token F1"] == pytest.approx(2 * (2 / 3) / (1 + 2 / 3))
    assert by["end-to-end F1 (IoU ≥ 0.5 + source_entity)"] == pytest.approx(2 * 1 / 5)
    assert by["source_entity agreement (pairs with IoU ≥ 0.5)"] == 0.5
    assert by["source span agreement (pairs with IoU ≥ 0.5)"] == 0.5
    assert by["type agreement (pairs with IoU ≥ 0.5)"] == 0.5
    assert by["cue span agreement (pairs with IoU ≥ 0.5)"] == 1.0
    pairs_rows = rows_by_measure(attribution_rows(a, b, TEXT))
    assert pairs_rows[("attribution", "source_entity agreement (pairs with IoU ≥ 0.5)")].n == 2


def test_a_small_overlap_is_no_found_quote_in_the_agreement() -> None:
    """The guidelines' figures use bench's definitions: a quarter of a quote overlaps."""
    by = values_by_measure(attribution_rows([att("a1", [(0, 20)])], [att("b1", [(0, 5)])], TEXT))
    assert by["content any-overlap F1"] == 1.0
    assert by["content F1 (IoU ≥ 0.5)"] == by["end-to-end F1 (IoU ≥ 0.5 + source_entity)"] == 0.0
    assert by["content token F1"] == pytest.approx(2 * 0.25 / 1.25)  # P = 1/1, R = 1/4
    assert by["source_entity agreement (pairs with IoU ≥ 0.5)"] is None


def test_attribution_agreement_without_pairs_is_undefined() -> None:
    by = rows_by_measure(attribution_rows([att("a1", [(0, 10)])], [att("b1", [(20, 30)])], TEXT))
    assert by[("attribution", "content any-overlap F1")].value.value == 0.0
    source = by[("attribution", "source_entity agreement (pairs with IoU ≥ 0.5)")].value
    assert source.value is None and "no matched" in source.undefined


def test_split_quote_content_matches_whatever_the_piece_order() -> None:
    a = [att("a1", [(10, 20), (0, 5)])]
    b = [att("b1", [(0, 5), (10, 20)])]
    by = rows_by_measure(attribution_rows(a, b, TEXT))
    assert by[("attribution", "content exact F1")].value.value == 1.0


# ----------------------------------------------------------------------------- kappa


def test_kappa_hand_computed() -> None:
    # p_o = 3/4; p_e = 0.5·0.25 + 0.5·0.75 = 0.5; κ = (0.75 − 0.5) / 0.5 = 0.5
    assert kappa([1, 1, 0, 0], [1, 0, 0, 0], labels=(0, 1)).value == pytest.approx(0.5)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_matches_sklearn(weights: str | None) -> None:
    a = [0, 1, 2, 3, 3, 2, 0, 0, 1, 2, 3, 0]
    b = [0, 1, 1, 3, 2, 2, 0, 1, 1, 3, 3, 0]
    expected = cohen_kappa_score(a, b, weights=weights)
    assert kappa(a, b, labels=(0, 1, 2, 3), weights=weights).value == pytest.approx(expected)


def test_weighted_kappa_uses_the_full_severity_scale() -> None:
    # Only 0 and 3 occur: with labels=(0..3) a 0-vs-3 confusion costs 9, not 1.
    a, b = [0, 0, 3, 3, 0], [0, 3, 3, 3, 0]
    expected = cohen_kappa_score(a, b, labels=[0, 1, 2, 3], weights="quadratic")
    assert kappa(a, b, labels=(0, 1, 2, 3), weights="quadratic").value == pytest.approx(expected)


def test_kappa_undefined_when_both_use_one_label() -> None:
    value = kappa([0, 0, 0], [0, 0, 0], labels=(0, 1))
    assert value.value is None
    assert "labelled 0 by both" in value.undefined and "1.000" in value.undefined


def test_kappa_defined_when_only_one_annotator_is_constant() -> None:
    # p_e = p_o when one annotator never varies, so κ = 0, which is defined.
    assert kappa([0, 0, 0, 0], [0, 1, 0, 0], labels=(0, 1)).value == pytest.approx(0.0)


def test_toxicity_rows_report_observed_agreement_and_undefined_kappa() -> None:
    a = {"s1": labels(), "s2": labels(1, 2, insult=1)}
    b = {"s1": labels(), "s2": labels(1, 2, insult=1)}
    by = rows_by_measure(toxicity_rows(a, b, "segments"))
    threat = by[("toxicity (segments)", "kappa threat")]
    assert threat.value.value is None and threat.observed == 1.0
    assert by[("toxicity (segments)", "kappa insult")].value.value == pytest.approx(1.0)


def test_toxicity_rows_on_a_known_disagreement() -> None:
    b = dict(SEGMENTS) | {"s4": labels(1, 2, ("mexican",), obscene=1, insult=1)}
    by = rows_by_measure(toxicity_rows(SEGMENTS, b, "segments"))
    sev_a = [0, 2, 3, 1]
    sev_b = [0, 2, 3, 2]
    severity = by[("toxicity (segments)", "kappa severity")]
    assert severity.value.value == pytest.approx(cohen_kappa_score(sev_a, sev_b))
    assert severity.observed == 0.75
    # identities: s4 {} vs {mexican} -> 0, the other three agree -> mean 3/4
    ident = by[("toxicity (segments)", "identities Jaccard (mean)")]
    assert ident.value.value == pytest.approx(0.75) and ident.observed == 0.75


def test_toxicity_rows_need_the_same_ids() -> None:
    with pytest.raises(ValueError, match="different ids"):
        toxicity_rows({"s1": labels()}, {"s2": labels()}, "segments")


def test_jaccard() -> None:
    assert jaccard(set(), set()) == 1.0
    assert jaccard({"mexican"}, {"mexican", "immigrant"}) == 0.5
    assert jaccard({"jewish"}, {"american"}) == 0.0


# ----------------------------------------------------------------------------- disagreements


def test_disagreements_list_each_item() -> None:
    b = make_pass(
        "b",
        entities=ENTITIES[:2],
        speakers=(Speaker("s1", ("Alice",)), Speaker("s2", ("Bob",))),
        segments=dict(SEGMENTS) | {"s2": labels(1, 3, ("mexican",), insult=1, identity_attack=1)},
    )
    listed = disagreements(make_pass("a"), b)
    assert "entity [20, 25) 'DARPA': A=ORG B=-" in listed
    assert "speaker s2 aliases: only A=['Mr. Bob'] only B=[]" in listed
    assert "toxicity s2 severity: A=2 B=3" in listed
    assert len(listed) == 3


# ----------------------------------------------------------------------------- the command


def test_main_on_shipped_gold_writes_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "agreement.json"
    assert main(["--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| task" in printed and "kappa toxic" in printed
    payload = json.loads(out.read_text(encoding="utf-8"))
    measures = {(r["task"], r["measure"]) for r in payload["rows"]}
    assert ("ner", "strict F1 (span+label)") in measures
    assert ("toxicity (segments)", "kappa severity (quadratic)") in measures
    for row in payload["rows"]:
        assert row["value"] is not None or row["undefined"]


def test_main_reports_a_missing_pass(tmp_path: Path, capsys) -> None:
    gold = default_gold_dir()
    for name in (
        "metadata.json",
        json.loads((gold / "metadata.json").read_text(encoding="utf-8"))["raw_file"],
    ):
        (tmp_path / name).write_bytes((gold / name).read_bytes())
    assert main(["--gold-dir", str(tmp_path)]) == 2
    assert "file missing" in capsys.readouterr().err


@pytest.mark.slow
def test_module_runs_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.data.agreement"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2].startswith("| task")
    assert "| ner " in done.stdout and "kappa severity (quadratic)" in done.stdout
    assert "nan" not in done.stdout.lower()
