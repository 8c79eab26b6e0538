/* Writes the checkpoint fuzzer's seed corpus, tests/fuzz/corpus/checkpoint/:
 * checkpoints of the fuzz build itself (its build id, "-O? generic"), so the
 * seeds pass the format, checksum and build checks and mutations reach the
 * range checks behind them. `make fuzz-seeds` after the checkpoint format
 * changes; the first byte of each file is the harness's mode (bit 0: reseal
 * the checksum after mutating). */
#define _GNU_SOURCE
#include "fuzz_targets.h"
static void put(const char *name, int mode, const void *b, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fuzz/corpus/checkpoint/%s", name);
    FILE *f = fopen(path, "wb");
    fputc(mode, f);
    fwrite(b, 1, n, f);
    fclose(f);
}
int main(void)
{
    static ms_data none;
    none.train.n = none.val.n = 64;
    ms_config c = fuzz_ck_config();
    ms_trainer t;
    ms_trainer_init(&t, &c, &none, 1);
    void *b;
    size_t n = ms_trainer_save(&t, &b);
    put("epoch0", 0, b, n);
    put("epoch0_resealed", 1, b, n);
    put("truncated_header", 0, b, 60);
    put("truncated_body", 1, b, n - 9);
    free(b);
    t.epoch = 2;
    t.step = 4;
    ms_window_push(&t.window, 0.5);
    ms_window_push(&t.window, 0.25);
    n = ms_trainer_save(&t, &b);
    put("epoch2_window", 0, b, n);
    ms_ck_header h;
    memcpy(&h, b, sizeof h);
    h.stop = 2;
    memcpy(b, &h, sizeof h);
    put("stop_early_resealed", 1, b, n);
    free(b);
    ms_trainer_release(&t);
    c.seed = 2;
    ms_trainer_init(&t, &c, &none, 1);
    n = ms_trainer_save(&t, &b);
    put("other_seed", 1, b, n);
    free(b);
    ms_trainer_release(&t);
    return 0;
}
