#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# Starts NUM_PROCS processes per node with torch.distributed.run (torchrun).
# Works without CUDA too: tools/train.py then uses a gloo process group.
# Env: NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON (see dist_launch.sh).
# The script becomes the torchrun agent (exec): killing it, even with
# kill -9, stops the training processes too.
USAGE="usage: $0 CONFIG NUM_PROCS [train.py args...]"
. "$(dirname "$0")/dist_launch.sh"
[ $# -ge 2 ] || usage_error
dist_launch train.py "$2" "$1" --launcher pytorch "${@:3}"
