#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
# Starts NUM_PROCS processes per node with torch.distributed.run (torchrun).
# Works without CUDA too: tools/test.py then uses a gloo process group.
# Env: NNODES (1), NODE_RANK (0), PORT (a free port on one node, 29500 on
#      several), MASTER_ADDR (127.0.0.1), PYTHON (python).
# The script becomes the torchrun agent (exec): killing it, even with
# kill -9, stops the test processes too.
USAGE="usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py args...]"
if [ $# -lt 3 ]; then
    echo "$USAGE" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
if ! [[ $GPUS =~ ^[1-9][0-9]*$ ]]; then
    echo "$USAGE" >&2
    echo "error: NUM_PROCS must be a positive integer, got '$GPUS'" >&2
    exit 2
fi
PYTHON=${PYTHON:-python}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
if [ -z "$PORT" ]; then
    if [ "$NNODES" = 1 ]; then
        # a port nobody listens on now (two runs started together get two)
        PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])') || exit 1
        echo "$(basename "$0"): PORT not set, using free port $PORT"
    else
        PORT=29500  # every node must use the same port
        echo "$(basename "$0"): PORT not set, using $PORT (set the same PORT on every node)"
    fi
fi

# tools/test.py arms a parent-death signal against this pid (the agent)
export MMSEG_WEAK_TORCHRUN_PID=$$
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch \
    "${@:4}"
