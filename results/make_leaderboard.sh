#!/usr/bin/env bash
# Build the published leaderboard of the shipped presets on the default dataset (seed_article):
#
#     bash results/make_leaderboard.sh
#
# Runs every preset that works offline (oracle, empty, rules, spacy_sm, profanity_check) into
# results/runs/leaderboard/<preset>/ (git-ignored), then writes results/leaderboard/
# (committed): leaderboard.md/.csv/.json/.tex, index.html, the PNG plots and
# model-index/<preset>.yaml. Needs `pip install -e ".[spacy,sklearn,report]"` (matplotlib for
# the plots). Uses bench / bench-report from PATH, or from .venv/bin when that exists.
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
RUNS=results/runs/leaderboard
OUT=results/leaderboard

dirs=()
for preset in "${PRESETS[@]}"; do
    rm -rf "${RUNS:?}/${preset}"
    echo "== ${preset}"
    "$BENCH" "+model=${preset}" "hydra.run.dir=${RUNS}/${preset}"
    dirs+=("${RUNS}/${preset}")
done

# Rebuild the published folder from scratch so that no stale file survives.
rm -rf "${OUT:?}"
"$BENCH_REPORT" leaderboard "${dirs[@]}" --out "$OUT" "$@"
