/* libFuzzer harness for the manifest parser: input = a YAML manifest.
 * Built and run by `make fuzz`; the body is fuzz_manifest_one() in
 * fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

FUZZ_HARNESS(manifest)
