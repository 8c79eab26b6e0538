/* ms_kernels: float and double instances of the layer products. */
#include "ms_kernels.h"

#include <math.h>

/* Tile: MR output rows by NR output columns, accumulated in registers. NR is
 * chosen by measurement (make bench): GCC keeps these shapes vectorized. */
#define MR 4

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
