#!/usr/bin/env bash
# Build the published leaderboards:
#
#     bash results/make_leaderboard.sh
#
# 1. The default dataset (seed_article): every preset that works offline (oracle, empty, rules,
#    spacy_sm, profanity_check, textacy_quotes), run into results/runs/leaderboard/<preset>/
#    (git-ignored), published in results/leaderboard/ (committed): leaderboard.md/.csv/.json/.tex,
#    index.html, the PNG plots and model-index/<name>.yaml.
# 2. WNUT-17 (test set, NER): rules_wnut17, spacy_sm_wnut17 and the five shared-task outputs shipped
#    in datasets/wnut17/submissions/ (scored as prediction files, named after the team), run
#    into results/runs/leaderboard-wnut17/, published in results/leaderboard-wnut17/.
# 3. HateCheck (functional tests) and madlibs (77k bias templates), toxicity: the presets that
#    score toxicity offline (oracle, empty, rules, profanity_check), run into
#    results/runs/leaderboard-<dataset>/, published in results/leaderboard-<dataset>/
#    (madlibs: about 1.5 minutes of runs and 20 s of board with 1000 resamples, on one core).
#
# Needs `pip install -e ".[spacy,sklearn,textacy,report]"` (matplotlib for the plots). Uses bench
# and bench-report from PATH, or from .venv/bin when that exists.
# Extra arguments go to `bench-report leaderboard` (e.g. --resamples 2000).
# An error-analysis page of one run: bench-report errors results/runs/leaderboard/rules --out F.html
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x .venv/bin/bench && -x .venv/bin/bench-report ]]; then
    BENCH=.venv/bin/bench
    BENCH_REPORT=.venv/bin/bench-report
else
    BENCH=bench
    BENCH_REPORT=bench-report
fi

PRESETS=(oracle empty rules spacy_sm profanity_check)
ROBUST=("+perturb=[casing,name_swap]")  # spaCy's robustness columns (README: Robustness)

# run NAME ARGS…: one bench run into $RUNS/NAME, its directory appended to dirs.
run() {
    local name=$1
    shift
    rm -rf "${RUNS:?}/${name}"
    echo "== ${name}"
    "$BENCH" "$@" "hydra.run.dir=${RUNS}/${name}"
    dirs+=("${RUNS}/${name}")
}

# publish OUT: rebuild the published folder from scratch so that no stale file survives.
publish() {
    rm -rf "${1:?}"
    "$BENCH_REPORT" leaderboard "${dirs[@]}" --out "$1" "${EXTRA[@]}"
}

EXTRA=("$@")

RUNS=results/runs/leaderboard
dirs=()
for preset in "${PRESETS[@]}"; do
    if [[ $preset == spacy_sm ]]; then
        run "$preset" "+model=${preset}" "${ROBUST[@]}"
    else
        run "$preset" "+model=${preset}"
    fi
done
# textacy refuses comment-2 (an odd number of quotation marks): 1 of the 3 documents, left out
run textacy_quotes +model=textacy_quotes max_failure_rate=0.34
publish results/leaderboard

RUNS=results/runs/leaderboard-wnut17
dirs=()
run rules_wnut17 +model=rules_wnut17 dataset=wnut17
run spacy_sm_wnut17 +model=spacy_sm_wnut17 dataset=wnut17 "${ROBUST[@]}"
for submission in datasets/wnut17/submissions/*; do
    team=$(basename "$submission" .txt)
    run "$team" +model=predictions dataset=wnut17 model.format=conll "model.path=${submission}" \
        "name=${team}"
done
publish results/leaderboard-wnut17

for dataset in hatecheck madlibs; do
    RUNS=results/runs/leaderboard-${dataset}
    dirs=()
    for preset in oracle empty rules profanity_check; do
        run "$preset" "+model=${preset}" "dataset=${dataset}"
    done
    publish "results/leaderboard-${dataset}"
done
