/* libFuzzer harness for study databases: input = a database file, read as
 * status, export and plot read it. Built and run by `make fuzz`; the body is
 * fuzz_db_one() in fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

FUZZ_HARNESS(db)
