/* precision.h: the vocabulary of the float/double templates, kernels_impl.h,
 * mlp_impl.h and train_impl.h.
 *
 * One binary trains in float32 and in float64 (`precision:`), so the
 * kernels (kernels_impl.h), the network (mlp_impl.h) and the trainer's step
 * and evaluation (train_impl.h) are written once and compiled twice. An
 * instantiation site lists, in a comment, the names the instance defines,
 * defines the template's parameters and includes it:
 *
 *     // defines ms_mlp_forward_f, ms_work_init_f, ... (every name)
 *     #define MS_T float    // the element type: float or double
 *     #define MS_SUF f      // the suffix of every name the instance defines: f or d
 *     #define MS_FMA fmaf   // MS_T's fused multiply-add: fmaf or fma
 *     ...                   // the template's own, each MS_ and listed at its top
 *     #include "mlp_impl.h" // which #undefs every parameter at its end
 *
 * Inside a template, MS_FN(name) is name_f or name_d: the name of this
 * precision's function (`void MS_FN(ms_mlp_forward)(...)`, and its calls),
 * type (MS_FN(ms_work)) or member (ms_data's MS_FN(zero)). A definition
 * keeps its name whole inside the parentheses, so `grep ms_mlp_forward`
 * finds it beside its declaration (ms_mlp_forward_f) and its calls, and
 * ctags, reading this repository's .ctags.d/precision.ctags (-D
 * 'MS_FN(name)=name'), tags it as ms_mlp_forward instead of MS_FN.
 *
 * Why not `#define ms_mlp_forward MS_FN(ms_mlp_forward)` at the top of a
 * template, so definitions read as plain C: that renames every token of
 * the name inside the template (a local or member of that spelling too),
 * and each call of another template's function needs a line of its own;
 * MS_FN shows at each use that a name has two instances. */
#ifndef MS_PRECISION_H
#define MS_PRECISION_H

#define MS_PASTE_(a, b) a##_##b
#define MS_PASTE(a, b) MS_PASTE_(a, b)
#define MS_FN(name) MS_PASTE(name, MS_SUF)

#endif
