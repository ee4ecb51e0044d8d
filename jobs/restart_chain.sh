#!/bin/bash
# Restart chain for long runs under a wall-time limit (SLURM). Each link resubmits the
# next one first, then runs: the first link starts the run, later links restart from the
# newest complete checkpoint (the rank count may change between links). A link killed by
# the time limit leaves the next one to continue; a link whose run reaches t_end cancels it.
# Checkpoints are written atomically, so the newest ckpt_*.h5 is always complete.
#   sbatch jobs/restart_chain.sh jobs/sn_bubble.toml out/sn_bubble.h5 out/checkpoints/sn_bubble
#SBATCH --job-name=boltzphlow-chain
#SBATCH --ntasks=64
#SBATCH --cpus-per-task=1
#SBATCH --time=12:00:00
set -euo pipefail
JOB=${1:?config}; OUT=${2:?output}; CKDIR=${3:?checkpoint directory (the config's output.checkpoint_dir)}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 H5PY_ALWAYS_USE_MPI=1
cd "${SLURM_SUBMIT_DIR:-.}"
next=$(sbatch --parsable --dependency=afterany:"${SLURM_JOB_ID}" "$0" "$JOB" "$OUT" "$CKDIR")
echo "next link: job $next"
newest=$(ls -1 "$CKDIR"/ckpt_*.h5 2>/dev/null | sort | tail -n 1 || true)
if [ -z "$newest" ]; then
    srun .venv/bin/boltzphlow run "$JOB" -o "$OUT"
else
    srun .venv/bin/boltzphlow restart "$newest"   # appends to the run's own output file
fi
scancel "$next"   # reached only when the run finished
