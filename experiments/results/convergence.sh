#!/usr/bin/env bash
# Rebuild the convergence results, experiments/results/outlier_long/ and experiments/results/celeba_long/,
# from the run folders of the `long` presets. Run from the repository root. Safe while the runs are still
# training (it scores the snapshots that exist, one cache file each) and again once they have finished:
# only new snapshots are scored. One CPU thread, niced.
#
#   OUTLIER_RUNS=DIR FIXED_RUNS=DIR CELEBA_RUNS=DIR CACHE=DIR MNIST_DIR=DIR bash experiments/results/convergence.sh
#
#   OUTLIER_RUNS  --out of `infgrad outlier --preset long --kappa 64 16`                  [runs/outlier_long]
#   FIXED_RUNS    --out of the gamma-fixed arm: `infgrad outlier --preset quick --kappa 64 --keep-from 500
#                 --fixed-gamma-from OUTLIER_RUNS/kappa_64/snapshots/step_0002000.pt`    [runs/outlier_fixed_gamma]
#   CELEBA_RUNS   --out of `infgrad celeba --fashion-mnist --size 64 --preset long`       [runs/celeba_long]
#   CACHE         per-snapshot scores (reused between calls)                            [runs/curve_cache]
#   MNIST_DIR     the MNIST IDX folder, if not where `infgrad outlier` looks by default
set -euo pipefail
OUTLIER_RUNS=${OUTLIER_RUNS:-runs/outlier_long}
FIXED_RUNS=${FIXED_RUNS:-runs/outlier_fixed_gamma}
CELEBA_RUNS=${CELEBA_RUNS:-runs/celeba_long}
CACHE=${CACHE:-runs/curve_cache}
OUTLIER_RESULTS=experiments/results/outlier_long
CELEBA_RESULTS=experiments/results/celeba_long
export OMP_NUM_THREADS=1

fixed=()
[ -d "$FIXED_RUNS" ] && fixed=(--fixed-out "$FIXED_RUNS")
nice -n 10 python3 -m infgrad outlier --preset long --kappa 64 16 --curve --out "$OUTLIER_RUNS" "${fixed[@]}" \
    --cache "$CACHE/outlier" --results "$OUTLIER_RESULTS" ${MNIST_DIR:+--mnist-dir "$MNIST_DIR"} --no-download \
    > /dev/null
nice -n 10 python3 -m infgrad celeba --fashion-mnist --size 64 --preset long --threads 1 --curve \
    --out "$CELEBA_RUNS" --cache "$CACHE/celeba" --results "$CELEBA_RESULTS" > /dev/null

# the runs' own end-of-training reports, once they have written them; the text ones with the run folder's
# absolute path (the recorded command line) written as the folder named above, not this machine's layout
copy_final() {  # RUNS RESULTS NAME
    [ -f "$1/$3" ] || return 0
    case "$3" in
        *.md|*.json) sed "s#$(cd "$1" && pwd -P)#$1#g; s#$(cd "$1" && pwd -L)#$1#g" "$1/$3" > "$2/final_$3" ;;
        *) cp "$1/$3" "$2/final_$3" ;;
    esac
}
for name in table.md results.json bpd_histograms.png; do copy_final "$OUTLIER_RUNS" "$OUTLIER_RESULTS" "$name"; done
for name in summary.md results.json gradient_and_gamma.png mmd_and_reconstruction.png; do
    copy_final "$CELEBA_RUNS" "$CELEBA_RESULTS" "$name"
done
echo "wrote $OUTLIER_RESULTS/curve.md and $CELEBA_RESULTS/curve.md"
