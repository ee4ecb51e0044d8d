#!/bin/bash
# Restart chain for long runs under a wall-time limit (SLURM). Each link resubmits the
# next one first, then runs: the first link starts the run, later links restart from the
# newest complete checkpoint (the rank count may change between links). A link killed by
# the time limit leaves the next one to continue; a link whose run reaches t_end cancels it.
# Checkpoints are written atomically; restart --latest skips a damaged newest one.
#   sbatch jobs/restart_chain.sh jobs/sn_bubble.toml out/sn_bubble.h5 out/checkpoints/sn_bubble
#SBATCH --job-name=boltzphlow-chain
#SBATCH --ntasks=16          # at most cells / 2 ranks (jobs/sn_bubble.toml: 60 cells)
#SBATCH --cpus-per-task=1
#SBATCH --time=12:00:00
set -uo pipefail
JOB=${1:?config}; OUT=${2:?output}; CKDIR=${3:?checkpoint directory, the output.checkpoint_dir of the config}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 H5PY_ALWAYS_USE_MPI=1
cd "${SLURM_SUBMIT_DIR:-.}"
next=$(sbatch --parsable --dependency=afterany:"${SLURM_JOB_ID}" "$0" "$JOB" "$OUT" "$CKDIR")
echo "next link: job $next"
set +e
if ls "$CKDIR"/ckpt_*.h5 >/dev/null 2>&1; then
    # the newest complete checkpoint (a damaged one is skipped with a warning); appends to
    # the run's own output file
    srun .venv/bin/boltzphlow restart --latest "$CKDIR"
else
    srun .venv/bin/boltzphlow run "$JOB" -o "$OUT"
fi
rc=$?
# Finished (0), an input error (2) or an integration failure (3; the last good state is in
# CKDIR/emergency_*.h5) would repeat in the next link: end the chain. Killed by the time
# limit, this script does not get here and the next link continues.
if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || [ "$rc" -eq 3 ]; then
    scancel "$next"
fi
exit "$rc"
