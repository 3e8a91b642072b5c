#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
# Starts NUM_PROCS processes per node with torch.distributed.run (torchrun).
# Works without CUDA too: tools/test.py then uses a gloo process group.
# Env: NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON (see dist_launch.sh).
# The script becomes the torchrun agent (exec): killing it, even with
# kill -9, stops the test processes too.
USAGE="usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py args...]"
. "$(dirname "$0")/dist_launch.sh"
[ $# -ge 3 ] || usage_error
dist_launch test.py "$3" "$1" "$2" --launcher pytorch "${@:4}"
