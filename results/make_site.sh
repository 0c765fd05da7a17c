#!/usr/bin/env bash
# Build the published site of leaderboards, from a clean tree:
#
#     bash results/make_site.sh
#
# Every shipped preset that scores a dataset offline, run into results/runs/<dataset>/<name>/
# (git-ignored), then ONE `bench-report site` call writing results/site/ (committed): index.html
# (the best model per dataset and task) and one folder per dataset with its leaderboard page,
# leaderboard.csv/.json/.md/.tex, the PNG plots and model-index/<name>.yaml.
#
# 1. seed_article (NER, attribution, toxicity): oracle, empty, rules, spacy_sm, profanity_check,
#    textacy_quotes.
# 2. WNUT-17 (test set, NER): oracle, empty, rules_wnut17, spacy_sm_wnut17 and the five
#    shared-task outputs shipped in datasets/wnut17/submissions/ (scored as prediction files,
#    named after the team).
# 3. HateCheck (functional tests) and madlibs (77k bias templates), toxicity: the presets that
#    score toxicity offline (oracle, empty, rules, profanity_check); madlibs takes about
#    1.5 minutes of runs and 20 s of board with 1000 resamples, on one core.
# spaCy also runs under the casing and name_swap perturbations (the robustness columns).
#
# oracle (the ceiling) and empty (the floor) are reference runs: shown, never ranked.
# Needs `pip install -e ".[spacy,sklearn,textacy,report]"` (matplotlib for the plots). Uses bench
# and bench-report from PATH, or from .venv/bin when that exists.
# Extra arguments go to `bench-report site` (e.g. --resamples 2000).
# An error-analysis page of one run: bench-report errors results/runs/seed_article/rules --out F.html
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x .venv/bin/bench && -x .venv/bin/bench-report ]]; then
    BENCH=.venv/bin/bench
    BENCH_REPORT=.venv/bin/bench-report
else
    BENCH=bench
    BENCH_REPORT=bench-report
fi

RUNS=results/runs
ROBUST=("+perturb=[casing,name_swap]")  # spaCy's robustness columns (README: Robustness)
dirs=()

# run DATASET NAME ARGS…: one bench run into $RUNS/DATASET/NAME, its directory appended to dirs.
run() {
    local dataset=$1 name=$2
    shift 2
    rm -rf "${RUNS:?}/${dataset}/${name}"
    echo "== ${dataset}: ${name}"
    "$BENCH" "dataset=${dataset}" "$@" "hydra.run.dir=${RUNS}/${dataset}/${name}"
    dirs+=("${RUNS}/${dataset}/${name}")
}

for preset in oracle empty rules profanity_check; do
    run seed_article "$preset" "+model=${preset}"
done
run seed_article spacy_sm +model=spacy_sm "${ROBUST[@]}"
# textacy refuses comment-2 (an odd number of quotation marks): 1 of the 3 documents, left out
run seed_article textacy_quotes +model=textacy_quotes max_failure_rate=0.34

for preset in oracle empty rules_wnut17; do
    run wnut17 "$preset" "+model=${preset}"
done
run wnut17 spacy_sm_wnut17 +model=spacy_sm_wnut17 "${ROBUST[@]}"
for submission in datasets/wnut17/submissions/*; do
    team=$(basename "$submission" .txt)
    run wnut17 "$team" +model=predictions model.format=conll "model.path=${submission}" \
        "name=${team}"
done

for dataset in hatecheck madlibs; do
    for preset in oracle empty rules profanity_check; do
        run "$dataset" "$preset" "+model=${preset}"
    done
done

# One site for every dataset; built beside results/site/ and swapped in (a failure leaves the
# previous site as it was).
"$BENCH_REPORT" site "${dirs[@]}" --out results/site "$@"
