/* Template of the trainer's arithmetic, one instance per precision;
 * included by train.c with R (float or double), S (f or d) and
 * ATTACH_GROUPS (ms_data_groups_f, or nothing where the kernels read rows
 * one by one). The epoch loop, the early-stopping window and the
 * checkpoints are train.c's, the same for both. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, S)
#define WORK CAT(ms_work, S)

/* Parameters, velocity and the buffers of this precision; the weights
 * drawn from the run's RNG (in double, rounded for float). */
static void NAME(setup)(ms_trainer *t)
{
    const ms_config *cfg = &t->cfg;
    size_t np = t->shape.nparams;
    int N1 = t->shape.width[1];
    /* no gradient buffer: each layer's gradient is applied as it is made */
    t->block = ms_alloc_aligned(2 * np * sizeof(R));
    t->params = t->block;
    t->velocity = (R *)t->block + np;
    NAME(ms_mlp_init)(&t->shape, cfg->init, &t->rng, t->params);
    NAME(ms_work_init)(&t->work.S, &t->shape, cfg->batch);
    t->ebase = ms_alloc_aligned((size_t)N1 * sizeof(R));
    if (N1 % MS_ROW_ALIGN) { /* padding zeroed once, rows copied per evaluation */
        t->eldw = (N1 + MS_ROW_ALIGN - 1) / MS_ROW_ALIGN * MS_ROW_ALIGN;
        t->epad = ms_alloc_aligned((size_t)MS_INPUT * t->eldw * sizeof(R));
    }
    t->ework = ms_calloc((size_t)t->nework, sizeof(WORK));
}

static void NAME(teardown)(ms_trainer *t)
{
    NAME(ms_work_release)(&t->work.S);
    WORK *ew = t->ework;
    for (int i = 0; ew && i < t->nework; i++)
        if (ew[i].block)
            NAME(ms_work_release)(&ew[i]);
}

static void NAME(evaluate)(ms_trainer *t, const ms_dataset *s, int n)
{
    int chunks = (n + EVAL_CHUNK - 1) / EVAL_CHUNK, whole = n == s->n;
    int nt = t->nthreads < chunks ? t->nthreads : chunks;
    /* the first layer's response to an all-zero image, shared by the chunks,
     * and its weights with rows aligned to whole vectors (a row of 60
     * floats straddles cache lines: 1.2x slower) */
    int N1 = t->shape.width[1];
    const R *params = t->params;
    R *epad = t->epad;
    NAME(ms_sp_base)(t->ebase, params, MS_INPUT, N1, t->data->CAT(zero, S));
    if (epad)
        for (int k = 0; k < MS_INPUT; k++)
            memcpy(epad + (size_t)k * t->eldw, params + (size_t)k * N1, (size_t)N1 * sizeof(R));
    (void)nt; /* unused without OpenMP */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        WORK *w = (WORK *)t->ework + me;
        if (!w->block)
            NAME(ms_work_init)(w, &t->shape, EVAL_CHUNK);
#pragma omp for schedule(static)
        for (int c = 0; c < chunks; c++) {
            int first = c * EVAL_CHUNK, rows = n - first < EVAL_CHUNK ? n - first : EVAL_CHUNK;
            const uint16_t *col[EVAL_CHUNK];
            const uint8_t *val[EVAL_CHUNK];
            int count[EVAL_CHUNK];
            CAT(ms_sparse, S) in;
            /* The whole set goes in the grouped order (its chunks are the
             * blocks of ms_dataset's eorder), a part of it in file order. */
            NAME(ms_data_sparse)(t->data, s, whole ? s->eorder + first : NULL, first, rows, col,
                                 val, count, &in);
            if (whole)
                ATTACH_GROUPS(s, c, &in);
            w->in = &in;
            w->in_base = t->ebase;
            w->in_w = epad;
            w->in_ldw = t->eldw;
            double l = 0;
            int64_t h = 0;
            NAME(ms_mlp_forward)(&t->shape, t->cfg.activation, params, w, rows, 0,
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
static double NAME(step)(ms_trainer *t, const int32_t *idx, const uint8_t *lab)
{
    const ms_config *c = &t->cfg;
    WORK *w = &t->work.S;
    NAME(ms_data_sparse)(t->data, &t->data->train, idx, 0, c->batch, t->sp_col, t->sp_val,
                         t->sp_count, &t->sp_in.S);
    w->in = &t->sp_in.S;
    double bl = 0;
    NAME(ms_mlp_forward)(&t->shape, c->activation, t->params, w, c->batch, 1, lab, &bl, NULL,
                         t->nthreads);
    bl /= c->batch;
    if (isfinite(bl))
        NAME(ms_mlp_backward_update)(&t->shape, t->params, t->velocity, w, c->batch, lab,
                                     (R)c->lr, (R)c->momentum, t->nthreads);
    return bl;
}

#undef WORK
#undef NAME
#undef CAT
#undef CAT_
