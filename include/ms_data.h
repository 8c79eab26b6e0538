/* ms_data: the IDX file format and the preprocessed MNIST split.
 *
 * Images stay uint8 in memory (compact and shared read-only by every run),
 * indexed by their nonzero pixels: training reads rows as sparse views
 * (ms_data_sparse_f) of a zero value plus one delta per pixel value;
 * ms_data_gather_d expands rows into a dense double batch (the gradient
 * check) with the bias column appended. */
#ifndef MS_DATA_H
#define MS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "ms_config.h" /* MS_DATASET_* */

#include "ms_kernels.h"

#define MS_PIXELS 784
#define MS_INPUT (MS_PIXELS + 1) /* pixels plus the constant bias input */
#define MS_BLOCK 256             /* images per evaluation chunk */

/* One IDX file: magic 0x00000803 (images, 3 dims) or 0x00000801 (labels). */
typedef struct ms_idx {
    int ndims;
    uint32_t dims[3];
    uint8_t *data; /* dims[0] * item bytes, owned */
} ms_idx;

/* Read a whole IDX file, raw or gzip-compressed (detected by content). Checks
 * the magic, the number of dimensions (expect_ndims), and that the payload is
 * exactly as long as the dimensions say. Errors name the file. */
int ms_idx_read(const char *path, int expect_ndims, ms_idx *out);
void ms_idx_release(ms_idx *x);

typedef struct ms_dataset {
    int n;            /* images */
    uint8_t *pixels;  /* (n, 784), owned */
    uint8_t *labels;  /* (n), each < 10, owned */
    /* The nonzero pixels of each image (MNIST: about 19%), for the first
     * layer: image i's are nz_col/nz_val[nz_start[i] .. nz_start[i+1]). */
    uint32_t *nz_start; /* (n + 1) */
    uint16_t *nz_col;   /* pixel index, increasing within an image */
    uint8_t *nz_val;    /* its value, never 0 */
    /* Evaluation of the whole set goes through the images in the order
     * eorder (by label; elabels their labels), in blocks of MS_BLOCK (the
     * unit of evaluation: block b is eorder[MS_BLOCK b ..]), each in groups
     * of MS_GROUP images that share many pixels, with the union of their
     * pixels (ms_sparse_f's group view): block b's groups are gb_start[b] ..
     * gb_start[b+1]-1, group q's rows gr_row[G q + u] (block-relative, -1:
     * none), entries gr_start[q] .. gr_start[q+1]-1, values G per entry. */
    int32_t *eorder;
    uint8_t *elabels;
    uint32_t *gb_start;
    int *gr_row;
    uint32_t *gr_start;
    uint16_t *gr_col;
    uint8_t *gr_val;
} ms_dataset;

typedef struct ms_data {
    ms_dataset train, val;
    double mean, std;  /* over all training pixels (population std) */
    double lut_d[256]; /* (p - mean) / std */
    /* The same values as zero + delta[p], zero the value of a 0 pixel. */
    float zero_f, delta_f[256];
    double zero_d, delta_d[256];
    /* FNV-1a 64 of the images and labels loaded (both sets): a run's
     * checkpoints carry it, so a run never resumes on other data. */
    uint64_t digest;
    /* The four files as read, whole (shapes, CRC-32 and Adler-32 of their
     * items), whatever part of them is used: a sweep's runs share it
     * (sweeps.data_digest), so one sweep never mixes two datasets. */
    uint64_t identity;
} ms_data;

/* 1 when dir holds the four files of a dataset (each raw or .gz), else 0;
 * with dataset >= 0 (MS_DATASET_*), also that they are that dataset's (its
 * first training labels: MNIST and Fashion-MNIST files share their names). */
int ms_data_present(const char *dir, int dataset);
/* The per-user data cache of a dataset, $XDG_CACHE_HOME/mlpsweep/NAME or
 * $HOME/.cache/mlpsweep/NAME (malloc'd; NULL when neither is set). */
char *ms_data_cache_dir(int dataset);
/* $XDG_CACHE_HOME/mlpsweep/LEAF or $HOME/.cache/mlpsweep/LEAF; the folder
 * itself with LEAF NULL (malloc'd; NULL when neither variable is set). */
char *ms_cache_path(const char *leaf);

/* Where a command finds a dataset (MS_DATASET_*): the one lookup of every
 * command that reads data. */
typedef struct ms_data_where {
    const char *given;    /* --data DIR: it must hold the files; NULL: look */
    const char *dir;      /* the manifest's data.dir (resolved); NULL: none */
    const char *dir_at;   /* where data.dir is written (FILE:LINE:COL), or NULL */
    int dataset;          /* MS_DATASET_* */
    int stated;           /* the manifest names its dataset: only its files do */
    int quiet;            /* no message when no place holds the files */
} ms_data_where;

/* The first folder holding the files: --data, else data.dir (without one,
 * 'data' in the current folder), $MLPSWEEP_DATA, the per-user cache, and
 * for a dataset Debian packages, its system folder. 0 and *out
 * (malloc'd); -2 when --data does not hold them, -1 when no place does,
 * after one line naming every place looked in and what to run. */
int ms_data_locate(const ms_data_where *w, char **out);
/* The message of ms_data_locate finding nothing (after a quiet lookup). */
void ms_data_say_missing(const ms_data_where *w);

/* Find "<stem>" or "<stem>.gz" under dir; 0 and the path in buf, or -1. */
int ms_data_find(const char *dir, const char *stem, char *buf, size_t n);

/* Load the first ntrain training and nval validation images from dir and
 * compute the normalisation. Everything is validated before use. */
int ms_data_load(const char *dir, int ntrain, int nval, ms_data *d);
void ms_data_release(ms_data *d);

/* Set mean/std and the lookup tables from d->train, and index the nonzero
 * pixels of both splits. */
void ms_data_normalise(ms_data *d);

/* X (n, 785) = normalised rows idx[0..n) of s, then a 1 in the last column.
 * idx NULL means rows first..first+n-1. */
void ms_data_gather_d(const ms_data *d, const ms_dataset *s, const int32_t *idx, int first, int n,
                      double *X);

/* Views of rows idx[0..n) (or first..first+n-1 when idx is NULL) as sparse
 * rows for the first layer: fills col/val/count (each n long); the view
 * points into s and d. */
void ms_data_sparse_f(const ms_data *d, const ms_dataset *s, const int32_t *idx, int first, int n,
                      const uint16_t **col, const uint8_t **val, int *count, ms_sparse_f *out);
void ms_data_sparse_d(const ms_data *d, const ms_dataset *s, const int32_t *idx, int first, int n,
                      const uint16_t **col, const uint8_t **val, int *count, ms_sparse_d *out);
/* Attach block b's group view to a sparse view of that whole block. */
void ms_data_groups_f(const ms_dataset *s, int block, ms_sparse_f *out);

/* Ask the cache for the nonzero pixels of rows idx[0..n) (the next batch:
 * shuffled rows come from memory, which doubled the training step). */
void ms_data_prefetch(const ms_dataset *s, const int32_t *idx, int n);

#endif
