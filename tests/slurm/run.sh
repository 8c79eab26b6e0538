#!/usr/bin/env bash
# The SLURM test (make test-slurm): a real four-node SLURM cluster on this
# host (munged, slurmctld and four slurmd from Debian's packages, installed
# when missing; nodes n1 to n4 of one CPU, each with its own spool, port and
# node-local TMPDIR), started in a private folder with its own slurm.conf,
# runs sweeps through `mlpsweep slurm --submit` and checks them against
# unsharded `mlpsweep run`:
#
#   1. a 4-task array plus merge job: the merged database equals the
#      unsharded one bit for bit (every metric, every run row but times);
#   2. one task stopped by SIGTERM mid-run (as at a time limit) and another
#      killed by SIGKILL: the merge job is cancelled, the stopped task has
#      saved its finished epochs, and submitting again finishes the sweep
#      with nothing lost (the stopped shard resumes; equal to the reference);
#   3. one shard fails (its database is damaged): the task is reported
#      FAILED with the error in its log, the merge job is cancelled
#      (kill_invalid_depend) and nothing hangs;
#   4. a pruned search (SHA, 12 trials x 2 seeds) runs in 3 stages of 4
#      tasks, each stage's merge deciding its rung: the runs, epochs and
#      decision journal equal a local run of the same search;
#   5. the same for experiments/search_sha.yaml (60 trials x 2 seeds of the
#      course's [64] network, 20,000 images, 4 stages);
#   6. a 40-run grid given on the command line, 8 tasks two at a time over
#      the nodes, equal to the local run; `status DIR` shows it while it runs;
#   7. mid-run, node n2 crashes (its slurmd, slurmstepd and job processes
#      stopped and killed by pid) and n3 is taken down (scontrol): both tasks
#      are requeued, released, and go on from their published copies on
#      other nodes (their logs say from which epoch: at most one publishing
#      interval lost), merged equal to the local run;
#   8. a failed run fails its task and cancels the merge; `slurm
#      --retry-failed` retrains it.
# Each scenario's line gives its time; every daemon started is stopped by
# its pid file at the end.
#
# Needs root (or sudo) for apt-get and the daemons. Every wait is a poll with
# a timeout. Ends with `slurm: N passed, N failed`; exit status 1 on failure.
# Usage: tests/slurm/run.sh [MLPSWEEP_BINARY]   (KEEP=1 keeps the work folder)
set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BIN=${1:-build/mlpsweep}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
CTLD_PORT=${MS_SLURM_PORT:-16817}
SLURMD_PORTS="$((CTLD_PORT + 1))-$((CTLD_PORT + 4))" # n1 to n4
NODES="n1 n2 n3 n4"
T0=$(date +%s)
pass=0 fail=0

log() { printf 'slurm: %s\n' "$*" >&2; }
ok() { pass=$((pass + 1)); log "ok: $*"; }
bad() { fail=$((fail + 1)); log "FAILED: $*"; }
die() {
    bad "$*"
    exit 1 # the EXIT trap stops everything and prints the total
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s; 1 on timeout.
wait_for() {
    local limit=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$limit" ] || return 1
        sleep 0.2
    done
}

[ -x "$BIN" ] || { log "no binary '$BIN': build it first (make)"; echo "slurm: 0 passed, 1 failed"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then
        exec sudo -n -E bash "$0" "$BIN"
    fi
    log "needs root (apt-get, munged, slurmctld, slurmd): run as root or with passwordless sudo"
    echo "slurm: 0 passed, 1 failed"
    exit 1
fi

# ---- packages ----

PKGS="slurmctld slurmd slurm-client munge sqlite3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    # No service may start from the packages' scripts: this test runs its own.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/tmp/mlpsweep-slurm-apt.log 2>&1 ||
        { apt-get update -qq >>/tmp/mlpsweep-slurm-apt.log 2>&1 &&
          apt-get install -y -qq --no-install-recommends $missing >>/tmp/mlpsweep-slurm-apt.log 2>&1; }
    st=$?
    [ -z "$policy" ] || rm -f "$policy"
    if [ "$st" -ne 0 ]; then
        tail -n 20 /tmp/mlpsweep-slurm-apt.log >&2
        log "cannot install:$missing"
        echo "slurm: 0 passed, 1 failed"
        exit 1
    fi
    rm -f /tmp/mlpsweep-slurm-apt.log
fi

# ---- the cluster ----

W=$(mktemp -d /tmp/mlpsweep-slurm.XXXXXX) || exit 1
chmod 0755 "$W" # munged wants every folder above its socket searchable
mkdir -p "$W/munge/run" "$W/state" "$W/tmp" "$W/m"
for n in $NODES; do mkdir -p "$W/spool/$n" "$W/local/$n"; done
chmod 0755 "$W/munge" "$W/munge/run"
export SLURM_CONF=$W/slurm.conf
export TMPDIR=$W/tmp # this script's; each node gives its tasks its own (taskprolog.sh)
# A task's node-local storage is its node's own folder: a requeued task on
# another node cannot find the first node's files (which would hide bugs).
cat >"$W/taskprolog.sh" <<EOF
#!/bin/sh
echo "export TMPDIR=$W/local/\$SLURMD_NODENAME"
EOF
chmod 0755 "$W/taskprolog.sh"

stop_pidfile() { # stop_pidfile FILE: TERM, wait, then KILL
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_for 10 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
}

queue_empty() {
    local q
    q=$(squeue -h -o %i 2>/dev/null) || return 1
    [ -z "$q" ]
}

cleanup() {
    if [ -s "$W/slurmctld.pid" ] && scontrol ping >/dev/null 2>&1; then
        ids=$(squeue -h -o %A 2>/dev/null | sort -u)
        # shellcheck disable=SC2086
        [ -z "$ids" ] || scancel $ids 2>/dev/null
        wait_for 30 queue_empty || log "the queue did not empty"
    fi
    for n in $NODES; do stop_pidfile "$W/slurmd-$n.pid"; done
    stop_pidfile "$W/slurmctld.pid"
    stop_pidfile "$W/munge/munged.pid"
    if [ "$fail" -ne 0 ] || [ -n "${KEEP:-}" ]; then
        log "work folder kept: $W (slurmctld.log, slurmd.log, c*/logs/)"
    else
        rm -rf "$W"
    fi
    log "wall time $(($(date +%s) - T0)) s"
    echo "slurm: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
trap 'exit 1' INT TERM
trap 'cleanup; exit $?' EXIT

# munge, with a key of our own
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 0600 "$W/munge/munge.key"
SOCK=$W/munge/run/munge.socket.2
munged --socket="$SOCK" --key-file="$W/munge/munge.key" --pid-file="$W/munge/munged.pid" \
    --log-file="$W/munge/munged.log" --seed-file="$W/munge/munged.seed" ||
    { cat "$W/munge/munged.log" >&2; die "munged does not start"; }
wait_for 10 eval "munge -n -S '$SOCK' 2>/dev/null | unmunge -S '$SOCK' >/dev/null 2>&1" ||
    die "munge does not answer on '$SOCK'"

# slurm.conf: four nodes of one CPU on this host
sed -e "s|@HOST@|$(hostname -s)|" -e "s|@CTLD_PORT@|$CTLD_PORT|" -e "s|@SLURMD_PORTS@|$SLURMD_PORTS|" \
    -e "s|@WORK@|$W|g" "$ROOT/tests/slurm/slurm.conf.in" >"$SLURM_CONF" || die "cannot write '$SLURM_CONF'"

slurmctld || { tail -n 20 "$W/slurmctld.log" >&2; die "slurmctld does not start"; }
start_node() { slurmd -N "$1" || { tail -n 20 "$W/slurmd-$1.log" >&2; return 1; }; }
for n in $NODES; do start_node "$n" || die "slurmd -N $n does not start"; done
wait_for 30 eval "scontrol ping 2>/dev/null | grep -q UP" ||
    { tail -n 20 "$W/slurmctld.log" >&2; die "slurmctld does not answer"; }
all_idle() { [ "$(sinfo -h -N -o '%N %T' 2>/dev/null | grep -c ' idle$')" -eq 4 ]; }
if ! wait_for 30 all_idle; then
    sinfo -N -l >&2
    tail -n 20 "$W/slurmd-n1.log" >&2
    die "the four nodes are not idle"
fi
CPUS=1
ok "cluster up: nodes $NODES, one CPU each ($(($(date +%s) - T0)) s since start)"

# ---- helpers ----

# Every metric of the current runs (exact: 17 significant digits) and the run
# rows without times and provenance.
dump() {
    sqlite3 -readonly "$1" "
      SELECT r.variant, r.seed, e.epoch, e.step, printf('%!.17g %!.17g %!.17g %!.17g',
             e.train_loss, e.train_acc, e.val_loss, e.val_acc)
      FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.current ORDER BY r.variant, r.seed, e.epoch;
      SELECT r.variant, r.seed, v.step, v.epoch, printf('%!.17g %!.17g %!.17g %!.17g %!.17g',
             v.batch_loss, v.train_loss, v.train_acc, v.val_loss, v.val_acc)
      FROM evals v JOIN runs r ON r.id = v.run_id WHERE r.current ORDER BY r.variant, r.seed, v.step;
      SELECT r.variant, r.seed, t.step, t.epoch, printf('%!.17g', t.batch_loss)
      FROM steps t JOIN runs r ON r.id = t.run_id WHERE r.current ORDER BY r.variant, r.seed, t.step;
      SELECT id, variant, task, seed, config_hash, status, current, epochs_done, steps_done,
             stop_reason, error, epochs_total, params, precision FROM runs ORDER BY id;
      SELECT count(*) FROM checkpoints;"
}

# submit MANIFEST OUT: mlpsweep slurm --submit; sets ARRAY and MERGE.
submit() {
    local o
    o=$("$BIN" slurm "$1" --out "$2" --shards 4 --cpus-per-task 1 --submit 2>"$2.submit.err") || {
        cat "$2.submit.err" >&2
        return 1
    }
    ARRAY=$(printf '%s\n' "$o" | sed -n 's/^array job \([0-9]*\)$/\1/p')
    MERGE=$(printf '%s\n' "$o" | sed -n 's/^merge job \([0-9]*\)$/\1/p')
    [ -n "$ARRAY" ] && [ -n "$MERGE" ]
}

# states JOBID: "task state exitcode" per job (task - for a plain job).
states() {
    scontrol -o show job "$1" 2>/dev/null | while read -r line; do
        t=$(printf '%s\n' "$line" | grep -o 'ArrayTaskId=[^ ]*' | cut -d= -f2)
        s=$(printf '%s\n' "$line" | grep -o 'JobState=[^ ]*' | cut -d= -f2)
        x=$(printf '%s\n' "$line" | grep -o 'ExitCode=[^ ]*' | cut -d= -f2)
        echo "${t:--} $s $x"
    done | sort
}

# all_ok JOBID N: N jobs (tasks), every one COMPLETED with exit code 0
# (sbatch --wait would report 0 for a job cancelled before it ran).
all_ok() {
    local s
    s=$(states "$1")
    [ "$(printf '%s\n' "$s" | grep -c .)" -eq "$2" ] &&
        [ -z "$(printf '%s\n' "$s" | grep -v ' COMPLETED 0:0$')" ]
}

# wait_jobs SECONDS: until the queue is empty.
wait_jobs() {
    wait_for "$1" queue_empty || {
        squeue >&2
        return 1
    }
}

manifest() { # [TRAIN=N VAL=N] manifest FILE NAME EPOCHS HIDDEN VARIANTS...
    local f=$1 name=$2 epochs=$3 hidden=$4
    shift 4
    {
        printf 'name: %s\ndata:\n  dir: %s\n  train: %s\n  val: %s\n' "$name" "$ROOT/data" \
            "${TRAIN:-2000}" "${VAL:-1000}"
        printf 'defaults:\n  hidden: [%s]\n  init: fanin_normal\n  epochs: %s\n  seeds: [1, 2]\n' \
            "$hidden" "$epochs"
        printf 'variants:\n'
        for v in "$@"; do
            case $v in
            plain) printf '  - name: plain\n    task: "2a"\n' ;;
            improved) printf '  - name: improved\n    activation: improved_sigmoid\n' ;;
            momentum) printf '  - name: momentum\n    activation: improved_sigmoid\n    momentum: 0.9\n    lr: 0.02\n' ;;
            deep) printf '  - name: deep\n    hidden: [%s, %s]\n    activation: improved_sigmoid\n' "$hidden" "$hidden" ;;
            esac
        done
    } >"$f"
}

# ---- 1: a 4-task array and the merge equal an unsharded sweep ----

M1=$W/m/small.yaml
manifest "$M1" small 3 32 plain improved momentum deep
"$BIN" run "$M1" --db "$W/ref-small.db" --threads "$(nproc)" --quiet 2>"$W/ref-small.err" ||
    { cat "$W/ref-small.err" >&2; die "the unsharded reference sweep failed"; }
t1=$(date +%s)
if ! submit "$M1" "$W/c1"; then
    bad "case 1: mlpsweep slurm --submit failed"
elif ! wait_jobs 90; then
    bad "case 1: the jobs did not end within 90 s"
elif ! all_ok "$ARRAY" 4 || ! all_ok "$MERGE" 1; then
    bad "case 1: not every job COMPLETED with exit code 0: $(states "$ARRAY" | tr '\n' ';') merge: $(states "$MERGE")"
elif [ "$(dump "$W/c1/small.db")" != "$(dump "$W/ref-small.db")" ]; then
    diff <(dump "$W/ref-small.db") <(dump "$W/c1/small.db") | head -n 10 >&2
    bad "case 1: the merged database differs from the unsharded sweep"
else
    ok "case 1: 8 runs in a 4-task array + merge equal the unsharded sweep bit for bit ($(($(date +%s) - t1)) s)"
    out=$("$BIN" status --db "$W/c1/small.db" 2>&1)
    if printf '%s\n' "$out" | grep -q "sweep 'small': 8/8 runs done" &&
        "$BIN" export --db "$W/c1/small.db" >/dev/null 2>&1; then
        ok "case 1: status and export read the merged database"
    else
        bad "case 1: status/export on the merged database: $out"
    fi
fi

# ---- 2: a task stopped mid-run (SIGTERM) and one killed (SIGKILL); resubmit ----

M2=$W/m/long.yaml
# runs of a few seconds each (full data, 128 units), so the signals land
# mid-run: with 2,000 images the whole run ended before the first SIGTERM
TRAIN=20000 VAL=10000 manifest "$M2" long 40 128 plain momentum
# the reference trains while the array runs: the node has CPUs to spare
"$BIN" run "$M2" --db "$W/ref-long.db" --threads 1 --quiet 2>"$W/ref-long.err" &
ref_pid=$!
t2=$(date +%s)
# one epoch of task I committed: its progress line is in its log
epoch_logged() { grep -q ' epoch ' "$W/c2/logs/shard-$1-$ARRAY.out" 2>/dev/null; }
if ! submit "$M2" "$W/c2"; then
    bad "case 2: mlpsweep slurm --submit failed"
elif ! wait_for 60 epoch_logged 1; then
    bad "case 2: task 1 did not finish an epoch within 60 s"
else
    # as SLURM does at a time limit: SIGTERM to the batch script and its children
    scancel --full --signal=TERM "${ARRAY}_1" 2>/dev/null
    wait_for 60 epoch_logged 2 && scancel --signal=KILL "${ARRAY}_2" 2>/dev/null
    if ! wait_jobs 90; then
        bad "case 2: the jobs did not end within 90 s"
    else
        s=$(states "$ARRAY")
        m=$(states "$MERGE")
        saved=$(sqlite3 -readonly "$W/c2/shard-1.db" \
            "SELECT count(*) FROM epochs; SELECT count(*) FROM runs WHERE stop_reason = 'interrupted';
             SELECT min(started_at) FROM runs" 2>/dev/null | tr '\n' ' ')
        set -- $saved
        if printf '%s\n' "$s" | grep -q '^1 FAILED 130:0$' && printf '%s\n' "$m" | grep -q ' CANCELLED ' &&
            [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -ge 1 ]; then
            ok "case 2: task 1 stopped by SIGTERM saved $1 epochs (exit 130), task 2 killed, merge cancelled"
        else
            bad "case 2: after SIGTERM/SIGKILL: tasks $(printf '%s' "$s" | tr '\n' ';') merge $m; shard 1: $saved"
        fi
        started=${3:-}
        if ! submit "$M2" "$W/c2"; then
            bad "case 2: resubmitting failed"
        elif ! wait_jobs 120; then
            bad "case 2: the resubmitted jobs did not end within 120 s"
        elif ! all_ok "$ARRAY" 4 || ! all_ok "$MERGE" 1; then
            bad "case 2: resubmitted jobs failed: $(states "$ARRAY" | tr '\n' ';') merge: $(states "$MERGE")"
        elif ! wait "$ref_pid"; then
            cat "$W/ref-long.err" >&2
            bad "case 2: the unsharded reference sweep failed"
        elif [ "$(dump "$W/c2/long.db")" != "$(dump "$W/ref-long.db")" ]; then
            diff <(dump "$W/ref-long.db") <(dump "$W/c2/long.db") | head -n 10 >&2
            bad "case 2: after resubmitting, the merged database differs from the unsharded sweep"
        elif [ -z "$started" ] || [ "$(sqlite3 -readonly "$W/c2/shard-1.db" 'SELECT min(started_at) FROM runs')" != "$started" ]; then
            bad "case 2: shard 1 did not resume from its saved database (started $started)"
        else
            ok "case 2: resubmitted, the sweep finished equal to the unsharded one; shard 1 resumed ($(($(date +%s) - t2)) s)"
        fi
    fi
fi
kill "$ref_pid" 2>/dev/null
wait "$ref_pid" 2>/dev/null

# ---- 3: one shard fails: reported, the merge job cancelled, nothing hangs ----

mkdir -p "$W/c3"
echo "this is not a database, and long enough to show it plainly to SQLite" >"$W/c3/shard-2.db"
t3=$(date +%s)
if ! submit "$M1" "$W/c3"; then
    bad "case 3: mlpsweep slurm --submit failed"
elif ! wait_jobs 90; then
    bad "case 3: the jobs did not end within 90 s (the merge job must be cancelled)"
else
    s=$(states "$ARRAY")
    m=$(states "$MERGE")
    ok_tasks=$(printf '%s\n' "$s" | grep -c ' COMPLETED 0:0$')
    if printf '%s\n' "$s" | grep -q '^2 FAILED 1:0$' && [ "$ok_tasks" -eq 3 ] &&
        printf '%s\n' "$m" | grep -q ' CANCELLED ' &&
        grep -q "is not an mlpsweep database" "$W/c3/logs/shard-2-$ARRAY.out" &&
        [ ! -e "$W/c3/small.db" ] &&
        scontrol -o show job "$MERGE" | grep -q 'Reason=DependencyNeverSatisfied'; then
        ok "case 3: the failed shard is reported (FAILED 1, error in its log), merge cancelled ($(($(date +%s) - t3)) s)"
    else
        bad "case 3: tasks $(printf '%s' "$s" | tr '\n' ';') merge $m"
    fi
fi

# ---- 4: a pruned search (SHA) in stages equals a local run of it ----

M4=$W/m/search.yaml
cat >"$M4" <<EOF
name: search
data: {dir: $ROOT/data, train: 2000, val: 1000}
defaults: {hidden: [16], epochs: 9, seeds: [1, 2], early_stop: 0}
variants:
  - name: s
    search:
      method: random
      seed: 11
      trials: 12
      space:
        lr: {loguniform: [1.0e-3, 1.0]}
        momentum: {uniform: [0.0, 0.9], step: 0.1}
    prune: {type: sha, metric: val_loss, min: 1, max: 9, eta: 3}
EOF
# the search's journal: its rules and every decision, values exact
journal() {
    sqlite3 -readonly "$1" "
      SELECT name, trials, prune, metric, goal, min_epochs, max_epochs, eta FROM searches;
      SELECT trial, rung, bracket, epoch, printf('%!.17g', value), rank, cohort, decision, seq
      FROM decisions ORDER BY seq, trial, rung;"
}
# staged cN MANIFEST NAME STAGES: case N, the search of MANIFEST (sweep NAME) run
# locally and through `slurm --submit --shards 4` in STAGES stages; the
# merged database and its journal must equal the local one's.
staged() {
    local c=$1 m=$2 name=$3 stages=$4 t o jobs i
    "$BIN" run "$m" --db "$W/ref-$c.db" --threads "$(nproc)" --quiet 2>"$W/ref-$c.err" ||
        { cat "$W/ref-$c.err" >&2; bad "case ${c#c}: the local search failed"; return; }
    t=$(date +%s)
    o=$("$BIN" slurm "$m" --out "$W/$c" --shards 4 --cpus-per-task 1 --submit 2>"$W/$c.submit.err")
    jobs=$(printf '%s\n' "$o" | sed -n 's/^stage [0-9]*: \(array\|merge\) job \([0-9]*\)$/\2/p' | tr '\n' ' ')
    # shellcheck disable=SC2086
    set -- $jobs
    if [ "$#" -ne $((2 * stages)) ]; then
        cat "$W/$c.submit.err" >&2
        bad "case ${c#c}: mlpsweep slurm --submit of a search did not submit $stages stages (array + merge each): $o"
        return
    fi
    if ! wait_jobs 300; then
        bad "case ${c#c}: the stages did not end within 300 s"
        return
    fi
    for ((i = 1; i <= stages; i++)); do
        if ! all_ok "$1" 4 || ! all_ok "$2" 1; then
            bad "case ${c#c}: not every job of stage $((i - 1)) COMPLETED with exit code 0 ($jobs)"
            return
        fi
        shift 2
    done
    if [ "$(dump "$W/$c/$name.db")" != "$(dump "$W/ref-$c.db")" ]; then
        diff <(dump "$W/ref-$c.db") <(dump "$W/$c/$name.db") | head -n 10 >&2
        bad "case ${c#c}: the staged search's runs and epochs differ from the local search"
    elif [ "$(journal "$W/$c/$name.db")" != "$(journal "$W/ref-$c.db")" ]; then
        diff <(journal "$W/ref-$c.db") <(journal "$W/$c/$name.db") | head -n 10 >&2
        bad "case ${c#c}: the staged search's decisions differ from the local search's"
    elif ! "$BIN" verify --db "$W/$c/$name.db" >"$W/$c.verify" 2>&1; then
        cat "$W/$c.verify" >&2
        bad "case ${c#c}: verify fails on the merged search"
    else
        ok "case ${c#c}: SHA in $stages stages of 4 tasks + merge: $(sqlite3 -readonly "$W/$c/$name.db" \
            "SELECT count(*) FROM decisions") decisions and $(sqlite3 -readonly "$W/$c/$name.db" \
            "SELECT count(*) FROM epochs") epochs equal to the local search ($(($(date +%s) - t)) s)"
    fi
}
staged c4 "$M4" search 3

# ---- 5: the course network's 60-trial search (experiments/search_sha.yaml) ----

staged c5 "$ROOT/experiments/search_sha.yaml" search-sha 4

# ---- 6: a 40-run grid from the command line, two tasks at a time over 4 nodes ----

M6=$W/m/grid.yaml
TRAIN=1000 VAL=500 manifest "$M6" grid40 4 16 plain
G6=("plain.lr=0.01,0.02,0.05,0.1,0.2" "plain.momentum=0,0.5,0.9,0.95")
"$BIN" run "$M6" "${G6[@]}" --db "$W/ref-grid.db" --threads "$(nproc)" --quiet 2>"$W/ref-grid.err" ||
    { cat "$W/ref-grid.err" >&2; die "the unsharded grid failed"; }
t6=$(date +%s)
o=$("$BIN" slurm "$M6" "${G6[@]}" --out "$W/c6" --shards 8 --array-parallelism 2 --cpus-per-task 1 \
    --publish-epochs 1 --submit 2>"$W/c6.submit.err")
ARRAY=$(printf '%s\n' "$o" | sed -n 's/^array job \([0-9]*\)$/\1/p')
MERGE=$(printf '%s\n' "$o" | sed -n 's/^merge job \([0-9]*\)$/\1/p')
if [ -z "$ARRAY" ] || [ -z "$MERGE" ]; then
    cat "$W/c6.submit.err" >&2
    bad "case 6: mlpsweep slurm --submit of the grid failed"
else
    # the sweep watched before any merge: from the copies the tasks publish
    wait_for 60 eval "ls '$W'/c6/shard-*.db >/dev/null 2>&1" &&
        "$BIN" status "$W/c6" --json >"$W/c6.status.json" 2>"$W/c6.status.err"
    watched=$?
    if ! wait_jobs 180; then
        bad "case 6: the jobs did not end within 180 s"
    elif ! all_ok "$ARRAY" 8 || ! all_ok "$MERGE" 1; then
        bad "case 6: not every job COMPLETED with exit code 0: $(states "$ARRAY" | tr '\n' ';')"
    elif [ "$(dump "$W/c6/grid40.db")" != "$(dump "$W/ref-grid.db")" ]; then
        diff <(dump "$W/ref-grid.db") <(dump "$W/c6/grid40.db") | head -n 10 >&2
        bad "case 6: the merged grid differs from the unsharded one"
    elif [ "$watched" -ne 0 ] || ! grep -q '"cluster": {"dir": ' "$W/c6.status.json" ||
        ! grep -Eq '"unstarted_runs": [1-9]|"running": [1-9]' "$W/c6.status.json"; then
        cat "$W/c6.status.err" "$W/c6.status.json" >&2
        bad "case 6: status DIR did not show the sweep while it ran"
    else
        nodes=$(scontrol -o show job "$ARRAY" | grep -o ' NodeList=n[0-9]' | sort -u | wc -l)
        runs=$(sqlite3 -readonly "$W/c6/grid40.db" "SELECT count(*) FROM runs WHERE status = 'done'")
        if [ "$runs" -eq 40 ] && [ "$nodes" -ge 2 ]; then
            ok "case 6: a 40-run grid from the command line, 8 tasks 2 at a time on $nodes nodes, merged equal to the local run; status DIR showed it running ($(($(date +%s) - t6)) s)"
        else
            bad "case 6: $runs runs done, tasks ran on $nodes nodes"
        fi
    fi
fi

# ---- 7: a node crashes, another is taken down, mid-run: requeued, nothing retrained ----

M7=$W/m/crash.yaml
TRAIN=20000 VAL=5000 manifest "$M7" crash 60 64 plain improved
"$BIN" run "$M7" --db "$W/ref-crash.db" --threads "$(nproc)" --quiet 2>"$W/ref-crash.err" &
ref_pid=$!
t7=$(date +%s)
# node_task NODE: the array task running on NODE (its job id and its index)
node_task() { squeue -h -w "$1" -t R -o '%A %K' 2>/dev/null | head -n 1; }
# epochs SHARD_DB: the epochs a copy holds (0 when there is none yet)
epochs() { sqlite3 -readonly "$1" "SELECT count(*) FROM epochs" 2>/dev/null || echo 0; }
# local_epochs NODE TASK: the epochs in that task's node-local database
local_epochs() { local f; f=$(ls "$W"/local/"$1"/mlpsweep-shard-"$2".*/shard-"$2".db 2>/dev/null | head -n 1); [ -n "$f" ] && epochs "$f" || echo 0; }
# crash NODE: its slurmd, its jobs' slurmstepd and every process of its jobs
# killed at once, as a power cut would: all stopped first, so none of them
# reports anything (a slurmstepd that saw its task die would report it
# failed), then killed
crash() {
    local pids j p
    pids=$(cat "$W/slurmd-$1.pid")
    for j in $(squeue -h -w "$1" -o %A 2>/dev/null); do
        pids="$pids $(pgrep -f "slurmstepd: \[$j\." | tr '\n' ' ')"
    done
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        if { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "SLURMD_NODENAME=$1"; then
            pids="$pids $p"
        fi
    done
    # shellcheck disable=SC2086
    kill -STOP $pids 2>/dev/null
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
}
o=$("$BIN" slurm "$M7" --out "$W/c7" --shards 4 --cpus-per-task 1 --publish-epochs 1 --submit \
    2>"$W/c7.submit.err")
ARRAY=$(printf '%s\n' "$o" | sed -n 's/^array job \([0-9]*\)$/\1/p')
MERGE=$(printf '%s\n' "$o" | sed -n 's/^merge job \([0-9]*\)$/\1/p')
read -r J2 T2 <<<"$(wait_for 60 eval '[ -n "$(node_task n2)" ]'; node_task n2)"
read -r J3 T3 <<<"$(node_task n3)"
if [ -z "$ARRAY" ] || [ -z "${T2:-}" ] || [ -z "${T3:-}" ]; then
    cat "$W/c7.submit.err" >&2
    bad "case 7: no task running on n2 and n3 ($o)"
elif ! wait_for 90 eval '[ "$(epochs "$W/c7/shard-$T2.db")" -ge 3 ] && [ "$(epochs "$W/c7/shard-$T3.db")" -ge 3 ]'; then
    bad "case 7: the tasks on n2 and n3 did not publish 3 epochs within 90 s"
else
    tc=$(date +%s)
    scontrol update nodename=n3 state=down reason=mlpsweep-test
    crash n2
    at_crash=$(local_epochs n2 "$T2")
    published=$(epochs "$W/c7/shard-$T2.db")
    # both tasks requeued: each waits for its begin time (~2 min): released now
    wait_for 60 eval "scontrol -o show job $J2 | grep -q 'JobState=PENDING' && scontrol -o show job $J3 | grep -q 'JobState=PENDING'" ||
        bad "case 7: the tasks of n2 and n3 were not requeued within 60 s ($(scontrol -o show job "$J2" | grep -o 'JobState=[A-Z]*'))"
    down=$(($(date +%s) - tc))
    saved3=$(epochs "$W/c7/shard-$T3.db")
    scontrol update jobid="$J2" StartTime=now
    scontrol update jobid="$J3" StartTime=now
    if ! wait_jobs 240; then
        bad "case 7: the requeued tasks did not end within 240 s"
    elif ! all_ok "$ARRAY" 4 || ! all_ok "$MERGE" 1; then
        bad "case 7: not every job COMPLETED with exit code 0: $(states "$ARRAY" | tr '\n' ';') merge $(states "$MERGE")"
    elif ! wait "$ref_pid" || [ "$(dump "$W/c7/crash.db")" != "$(dump "$W/ref-crash.db")" ]; then
        diff <(dump "$W/ref-crash.db") <(dump "$W/c7/crash.db") | head -n 10 >&2
        bad "case 7: after the crash, the merged sweep differs from the local one"
    else
        # the requeued tasks went on from the published copies: their logs say where
        log2=$(cat "$W"/c7/logs/shard-"$T2"-"$ARRAY".out)
        log3=$(cat "$W"/c7/logs/shard-"$T3"-"$ARRAY".out)
        if printf '%s\n' "$log2" | grep -q "continues after epoch $published of 60" &&
            [ $((at_crash - published)) -le 1 ] && [ "$saved3" -lt 60 ] &&
            printf '%s\n' "$log3" | grep -q "continues after epoch $saved3 of 60"; then
            ok "case 7: n2 crashed after $at_crash epochs of its task, $published published: requeued, it went on from epoch $published on another node (lost $((at_crash - published)) epoch, at most one publishing interval: 1 epoch); n3 taken down: its task stopped, saved $saved3, went on from there; down and requeued in $down s; merged equal to the local run ($(($(date +%s) - t7)) s)"
        else
            printf '%s\n' "$log2" | grep -E 'continues|shard' | head -n 5 >&2
            printf '%s\n' "$log3" | grep -E 'continues|shard' | head -n 5 >&2
            bad "case 7: the requeued tasks did not go on from their copies (n2: $at_crash committed, $published published; n3: $saved3)"
        fi
    fi
fi
kill "$ref_pid" 2>/dev/null
wait "$ref_pid" 2>/dev/null
# n2 returns by itself once its slurmd answers again (ReturnToService=1); n3
# was taken down by hand
start_node n2
scontrol update nodename=n3 state=resume 2>/dev/null
wait_for 30 all_idle || bad "case 7: the nodes did not come back"

# ---- 8: a failed run fails its task and cancels the merge; --retry-failed ----

t8=$(date +%s)
sqlite3 "$W/c1/shard-0.db" "UPDATE runs SET status = 'failed', error = 'made to fail' WHERE id = 1" ||
    bad "case 8: cannot mark a run failed"
if ! submit "$M1" "$W/c1"; then
    bad "case 8: mlpsweep slurm --submit failed"
elif ! wait_jobs 90; then
    bad "case 8: the jobs did not end within 90 s"
elif ! states "$ARRAY" | grep -q '^0 FAILED 1:0$' || ! states "$MERGE" | grep -q ' CANCELLED '; then
    bad "case 8: a shard with a failed run: tasks $(states "$ARRAY" | tr '\n' ';') merge $(states "$MERGE")"
else
    o=$("$BIN" slurm "$M1" --out "$W/c1" --shards 4 --cpus-per-task 1 --retry-failed --submit 2>"$W/c8.err")
    ARRAY=$(printf '%s\n' "$o" | sed -n 's/^array job \([0-9]*\)$/\1/p')
    MERGE=$(printf '%s\n' "$o" | sed -n 's/^merge job \([0-9]*\)$/\1/p')
    if ! wait_jobs 90 || ! all_ok "$ARRAY" 4 || ! all_ok "$MERGE" 1; then
        bad "case 8: with --retry-failed: tasks $(states "$ARRAY" | tr '\n' ';') merge $(states "$MERGE")"
    elif [ "$(dump "$W/c1/small.db")" != "$(dump "$W/ref-small.db")" ]; then
        bad "case 8: after --retry-failed the merged sweep differs from the unsharded one"
    else
        ok "case 8: a failed run failed its task (exit 1) and cancelled the merge; slurm --retry-failed retrained it, merged equal ($(($(date +%s) - t8)) s)"
    fi
fi

exit 0
