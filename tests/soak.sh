#!/usr/bin/env bash
# Crash soak: kill -9 a sweep at random moments, resume it each time, and check
# that nothing committed was ever lost and that the end result equals an
# uninterrupted run bit for bit. Then the same with SIGINT and SIGTERM.
#
#   tests/soak.sh MLPSWEEP [KILLS]      (make soak: 20 kills)
set -uo pipefail
BIN=$(readlink -f "${1:-build/mlpsweep}")
KILLS=${2:-20}
DATA=$(readlink -f data)
work=$(mktemp -d /tmp/mlpsweep-soak-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAILED: $*"; }

# Many short epochs, so kills land in every phase, commits included.
cat > "$work/soak.yaml" <<YAML
name: soak
data:
  dir: $DATA
  train: 2000
  val: 1000
defaults:
  hidden: [24]
  init: fanin_normal
  epochs: 90
  early_stop: 0
  seeds: [1, 2, 3]
variants:
  - name: plain
  - name: deep
    hidden: [16, 16]
    activation: improved_sigmoid
    momentum: 0.9
    lr: 0.02
YAML

# Every metric, doubles as %.17g (exact), one line per epoch and validation.
dump() {
    sqlite3 -readonly "$1" "
      SELECT printf('e %s %d %d %d %.17g %.17g %.17g %.17g', r.variant, r.seed, e.epoch, e.step,
                    e.train_loss, e.train_acc, e.val_loss, e.val_acc)
      FROM epochs e JOIN runs r ON r.id = e.run_id ORDER BY r.variant, r.seed, e.epoch;
      SELECT printf('v %s %d %d %.17g %.17g %.17g %.17g %.17g', r.variant, r.seed, v.step,
                    v.batch_loss, v.train_loss, v.train_acc, v.val_loss, v.val_acc)
      FROM evals v JOIN runs r ON r.id = v.run_id ORDER BY r.variant, r.seed, v.step;
      SELECT printf('s %s %d %d %.17g', r.variant, r.seed, t.step, t.batch_loss)
      FROM steps t JOIN runs r ON r.id = t.run_id ORDER BY r.variant, r.seed, t.step;"
}

"$BIN" run "$work/soak.yaml" --db "$work/ref.db" --quiet 2>/dev/null || { echo "reference run failed"; exit 1; }
dump "$work/ref.db" > "$work/ref.txt"
epochs_total=$(grep -c '^e ' "$work/ref.txt")
echo "reference: $epochs_total epochs"

db="$work/killed.db"
: > "$work/seen.txt"
kills=0 rounds=0
while [ $kills -lt "$KILLS" ] && [ $rounds -lt $((KILLS * 5)) ]; do
    rounds=$((rounds + 1))
    before=$(sqlite3 -readonly "$db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0)
    "$BIN" run "$work/soak.yaml" --db "$db" --quiet 2>/dev/null &
    pid=$!
    # once training is under way (one more epoch committed), a random moment
    # within the next ~150 ms: kills land in training, validation and commits
    for _ in $(seq 500); do
        n=$(sqlite3 -readonly "$db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0)
        [ "${n:-0}" -gt "${before:-0}" ] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    sleep "0.$(printf '%03d' $((RANDOM % 150)))"
    if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
    wait $pid 2>/dev/null
    st=$?
    [ $st -eq 0 ] && break # the sweep finished before the kill
    [ -f "$db" ] || continue
    # every epoch committed so far must still be there, unchanged
    dump "$db" > "$work/now.txt" 2>/dev/null || { bad "database unreadable after kill $kills"; break; }
    if ! comm -23 <(sort "$work/seen.txt") <(sort "$work/now.txt") | grep -q . ; then :; else
        bad "kill $kills lost or changed committed rows"
    fi
    cp "$work/now.txt" "$work/seen.txt"
done
echo "kills: $kills in $rounds rounds; epochs committed before the final resume: $(grep -c '^e ' "$work/seen.txt")"
[ $kills -ge "$KILLS" ] && ok "$kills kill -9 at random moments" || bad "only $kills kills landed"

"$BIN" run "$work/soak.yaml" --db "$db" --quiet 2>/dev/null && ok "resume after the kills" || bad "resume failed"
check=$(sqlite3 -readonly "$db" 'PRAGMA integrity_check')
[ "$check" = ok ] && ok "integrity_check: ok" || bad "integrity_check: $check"
dump "$db" > "$work/final.txt"
cmp -s "$work/ref.txt" "$work/final.txt" && ok "metrics equal the uninterrupted run, bit for bit" \
    || bad "metrics differ from the uninterrupted run"

# SIGINT and SIGTERM: a one-line message, exit 130, the same resume.
for sig in INT TERM; do
    db2="$work/sig-$sig.db"
    "$BIN" run "$work/soak.yaml" --db "$db2" --quiet 2>"$work/sig.err" &
    pid=$!
    for _ in $(seq 200); do
        n=$(sqlite3 -readonly "$db2" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0)
        [ "${n:-0}" -ge 2 ] && break
        sleep 0.02
    done
    kill -$sig $pid
    wait $pid
    st=$?
    msg=$(cat "$work/sig.err")
    if [ $st -eq 130 ] && [ "$msg" = "mlpsweep: interrupted; finished epochs are saved: run the same command to resume" ]; then
        ok "SIG$sig: clean stop, exit 130, one line"
    elif [ $st -eq 0 ]; then
        ok "SIG$sig: the sweep finished before the signal (nothing to check)"
    else
        bad "SIG$sig: exit $st, message '$msg'"
    fi
    "$BIN" run "$work/soak.yaml" --db "$db2" --quiet 2>/dev/null
    dump "$db2" > "$work/sig.txt"
    cmp -s "$work/ref.txt" "$work/sig.txt" && ok "SIG$sig: resumed run equals the reference" \
        || bad "SIG$sig: resumed run differs"
done

echo "soak: $pass passed, $fail failed"
[ $fail -eq 0 ]
