/* libFuzzer harness for the IDX reader: input = a mode byte (bit 0: gzip the
 * rest, bit 1: image file with 3 dimensions, else labels) and the file's
 * bytes. Built and run by `make fuzz`; the body is fuzz_idx_one() in
 * fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

FUZZ_HARNESS(idx)
