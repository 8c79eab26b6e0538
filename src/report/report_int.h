/* The HTML report's parts, private to src/report/: report.c writes the page
 * and its tables; report_text.c the words around them (the introduction:
 * description, data, precision, settings; the Claims section). Functions
 * prefixed rp_. */
#ifndef MS_REPORT_INT_H
#define MS_REPORT_INT_H

#include "ms_query.h"
#include "ms_report.h"

#include <stdio.h>

/* The distinct texts of v[0..n), "" skipped, in the order they first appear,
 * joined by ", ", each with how many have it ("float32 (3 variants)") when
 * they differ or with count_one; malloc'd. Sorted, not compared pairwise:
 * 10,000 runs. */
char *rp_distinct(const char *const *v, int n, const char *unit, int count_one);

/* Under the heading: m's description (its paragraphs), then what the runs
 * trained on (dataset, images, precision: snap's variants) and with which
 * settings of the command line (ran's, the manifest the sweep ran). */
void rp_intro(FILE *f, const ms_snapshot *snap, const ms_manifest *m, const ms_manifest *ran);

/* The Claims section: each claim with its verdict and the numbers
 * `mlpsweep claims` prints. Nothing when in has no claims. */
void rp_claims(FILE *f, const ms_report_input *in);

#endif
