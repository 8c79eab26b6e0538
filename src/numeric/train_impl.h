/* Template of the trainer's arithmetic, one instance per precision
 * (precision.h): the setup of a run's buffers, a training step and an
 * evaluation. Parameters: MS_T, MS_SUF, MS_ATTACH_GROUPS(s, c, in)
 * (ms_data_groups_f, or nothing where the kernels read rows one by one).
 * The epoch loop, the early-stopping window and the checkpoints are
 * train.c's, the same for both. */
#include "precision.h"
#if !defined(MS_T) || !defined(MS_SUF) || !defined(MS_ATTACH_GROUPS)
#error "train_impl.h: define MS_T, MS_SUF and MS_ATTACH_GROUPS first (precision.h)"
#endif

/* Parameters, velocity and the buffers of this precision; the weights
 * drawn from the run's RNG (in double, rounded for float). */
static void MS_FN(setup)(ms_trainer *t)
{
    const ms_config *cfg = &t->cfg;
    size_t np = t->shape.nparams;
    int N1 = t->shape.width[1];
    /* no gradient buffer: each layer's gradient is applied as it is made */
    t->block = ms_alloc_aligned(2 * np * sizeof(MS_T));
    t->params = t->block;
    t->velocity = (MS_T *)t->block + np;
    MS_FN(ms_mlp_init)(&t->shape, cfg->init, &t->rng, t->params);
    MS_FN(ms_work_init)(&t->work.MS_SUF, &t->shape, cfg->batch, 0); /* rows sparse */
    t->ebase = ms_alloc_aligned((size_t)N1 * sizeof(MS_T));
    if (N1 % MS_ROW_ALIGN) { /* padding zeroed once, rows copied per evaluation */
        t->eldw = (N1 + MS_ROW_ALIGN - 1) / MS_ROW_ALIGN * MS_ROW_ALIGN;
        t->epad = ms_alloc_aligned((size_t)MS_INPUT * t->eldw * sizeof(MS_T));
    }
    t->ework = ms_calloc((size_t)t->nework, sizeof(MS_FN(ms_work)));
}

static void MS_FN(teardown)(ms_trainer *t)
{
    MS_FN(ms_work_release)(&t->work.MS_SUF);
    MS_FN(ms_work) *ew = t->ework;
    for (int i = 0; ew && i < t->nework; i++)
        if (ew[i].block)
            MS_FN(ms_work_release)(&ew[i]);
}

static void MS_FN(evaluate)(ms_trainer *t, const ms_dataset *s, int n)
{
    int chunks = (n + EVAL_CHUNK - 1) / EVAL_CHUNK, whole = n == s->n;
    int nt = t->nthreads < chunks ? t->nthreads : chunks;
    /* the first layer's response to an all-zero image, shared by the chunks,
     * and its weights with rows aligned to whole vectors (a row of 60
     * floats straddles cache lines: 1.2x slower) */
    int N1 = t->shape.width[1];
    const MS_T *params = t->params;
    MS_T *epad = t->epad;
    MS_FN(ms_sp_base)(t->ebase, params, MS_INPUT, N1, t->data->MS_FN(zero));
    if (epad)
        for (int k = 0; k < MS_INPUT; k++)
            memcpy(epad + (size_t)k * t->eldw, params + (size_t)k * N1, (size_t)N1 * sizeof(MS_T));
    (void)nt; /* unused without OpenMP */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        MS_FN(ms_work) *w = (MS_FN(ms_work) *)t->ework + me;
        if (!w->block)
            MS_FN(ms_work_init)(w, &t->shape, EVAL_CHUNK, 0);
#pragma omp for schedule(static)
        for (int c = 0; c < chunks; c++) {
            int first = c * EVAL_CHUNK, rows = n - first < EVAL_CHUNK ? n - first : EVAL_CHUNK;
            const uint16_t *col[EVAL_CHUNK];
            const uint8_t *val[EVAL_CHUNK];
            int count[EVAL_CHUNK];
            MS_FN(ms_sparse) in;
            /* The whole set goes in the grouped order (its chunks are the
             * blocks of ms_dataset's eorder), a part of it in file order. */
            MS_FN(ms_data_sparse)(t->data, s, whole ? s->eorder + first : NULL, first, rows, col,
                                  val, count, &in);
            if (whole)
                MS_ATTACH_GROUPS(s, c, &in);
            w->in = &in;
            w->in_base = t->ebase;
            w->in_w = epad;
            w->in_ldw = t->eldw;
            double l = 0;
            int64_t h = 0;
            MS_FN(ms_mlp_forward)(&t->shape, t->cfg.activation, params, w, rows, 0,
                                  (whole ? s->elabels : s->labels) + first, &l, &h, 1);
            w->in = NULL;
            w->in_base = NULL;
            w->in_w = NULL;
            t->chunk_loss[c] = l;
            t->chunk_hits[c] = h;
        }
    }
}

/* One training step on the rows idx (labels lab): the batch's mean loss
 * before the update, then the update. */
static double MS_FN(step)(ms_trainer *t, const int32_t *idx, const uint8_t *lab)
{
    const ms_config *c = &t->cfg;
    MS_FN(ms_work) *w = &t->work.MS_SUF;
    MS_FN(ms_data_sparse)(t->data, &t->data->train, idx, 0, c->batch, t->sp_col, t->sp_val,
                          t->sp_count, &t->sp_in.MS_SUF);
    w->in = &t->sp_in.MS_SUF;
    double bl = 0;
    MS_FN(ms_mlp_forward)(&t->shape, c->activation, t->params, w, c->batch, 1, lab, &bl, NULL,
                          t->nthreads);
    bl /= c->batch;
    if (isfinite(bl))
        MS_FN(ms_mlp_backward_update)(&t->shape, t->params, t->velocity, w, c->batch, lab,
                                      (MS_T)c->lr, (MS_T)c->momentum, t->nthreads);
    return bl;
}

#undef MS_T
#undef MS_SUF
#undef MS_ATTACH_GROUPS
