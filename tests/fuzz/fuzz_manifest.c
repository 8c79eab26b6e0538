/* libFuzzer harness for the manifest parser: input = a YAML manifest.
 * Built and run by `make fuzz`; the body is fuzz_manifest_one() in
 * fuzz_targets.h, which test_fuzz_regressions.c replays. */
#define _GNU_SOURCE
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_manifest_one(data, size)) {
        fprintf(stderr, "fuzz_manifest: %s\n", fuzz_why);
        abort();
    }
    return 0;
}
