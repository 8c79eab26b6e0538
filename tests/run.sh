#!/bin/sh
# Run every test binary of a build folder (or only the named ones: run.sh
# BUILD test_store test_sweep); print a total line and fail if any failed.
BUILD=${1:-build}
[ $# -gt 0 ] && shift
pass=0 fail=0 failed=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    log="$BUILD/tests/$name.log"
    if "$t" >"$log" 2>&1; then st=0; else st=$?; fi
    # a program may run several cmocka groups: add up their summaries
    n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    n=${n:-0} f=${f:-0}
    pass=$((pass + n))
    fail=$((fail + f))
    if [ "$st" -ne 0 ]; then
        [ "$f" -eq 0 ] && fail=$((fail + 1))   # a crash counts as a failure
        failed="$failed $name"
        echo "--- $name failed (exit $st):"
        tail -n 40 "$log"
    else
        echo "$name: $n passed"
    fi
done
echo "tests: $pass passed, $fail failed"
[ -z "$failed" ] || { echo "failing:$failed"; exit 1; }
