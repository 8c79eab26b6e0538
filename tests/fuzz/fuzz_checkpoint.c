/* libFuzzer harness for checkpoints: input = a mode byte (bit 0: give the
 * blob its right checksum) and a checkpoint blob, restored into a fresh
 * trainer. Built and run by `make fuzz`; the body is fuzz_checkpoint_one()
 * in fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

FUZZ_HARNESS(checkpoint)
