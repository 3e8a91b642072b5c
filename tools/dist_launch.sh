# Sourced by tools/dist_train.sh and tools/dist_test.sh (not run on its own).
# dist_launch SCRIPT NUM_PROCS ARGS...: this shell becomes the torchrun agent
# (exec) of NUM_PROCS processes per node of tools/SCRIPT ARGS..., so killing
# the launcher, even with kill -9, stops them too.
# Env: NNODES (1), NODE_RANK (0), PORT (a free port on one node, 29500 on
#      several), MASTER_ADDR (127.0.0.1), PYTHON (python).
# The caller sets USAGE (printed on a bad call, exit status 2).

usage_error() {
    echo "$USAGE" >&2
    [ -z "$1" ] || echo "error: $1" >&2
    exit 2
}

dist_launch() {
    local script=$1 nproc=$2
    shift 2
    if ! [[ $nproc =~ ^[1-9][0-9]*$ ]]; then
        usage_error "NUM_PROCS must be a positive integer, got '$nproc'"
    fi
    local python=${PYTHON:-python} nnodes=${NNODES:-1}
    local port=$PORT
    if [ -z "$port" ]; then
        if [ "$nnodes" = 1 ]; then
            # a port nobody listens on now (two runs started together get two)
            port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])') || exit 1
            echo "$(basename "$0"): PORT not set, using free port $port"
        else
            port=29500  # every node must use the same port
            echo "$(basename "$0"): PORT not set, using $port (set the same PORT on every node)"
        fi
    fi
    # tools/train.py and tools/test.py arm a parent-death signal against
    # this pid (the agent)
    export MMSEG_WEAK_TORCHRUN_PID=$$
    PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
    exec "$python" -m torch.distributed.run \
        --nnodes="$nnodes" \
        --node_rank="${NODE_RANK:-0}" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" \
        --nproc_per_node="$nproc" \
        --master_port="$port" \
        "$(dirname "$0")/$script" "$@"
}
