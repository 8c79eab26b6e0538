/* libFuzzer harness for merge: input = a mode byte and a shard database (a
 * hostile one), merged into a new or an existing output, alone or after a
 * valid shard. Built and run by `make fuzz`; the body is fuzz_merge_one() in
 * fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

FUZZ_HARNESS(merge)
