/* ms_kernels: float and double instances of the layer products. */
#include "ms_kernels.h"
#include "ms_util.h"

#include <math.h>
#include <stdlib.h>

/* Tile: MR output rows by NR output columns, accumulated in registers. NR is
 * chosen by measurement (make bench): GCC keeps these shapes vectorized. */
#define MR 4

/* Below this much work (2 B K N flops) a product runs on the calling thread:
 * measured with make bench, an OpenMP team costs more than it saves on a
 * batch-32 training step (0.127 ms per step alone, 0.180 ms with 2 threads). */
#define MS_PAR_MIN_FLOPS 8.0e6

#define R float
#define S f
#define FMA fmaf
#define NR 32
#include "kernels_impl.h"
#undef R
#undef S
#undef FMA
#undef NR

#define R double
#define S d
#define FMA fma
#define NR 32
#include "kernels_impl.h"
