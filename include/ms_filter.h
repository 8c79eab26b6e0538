/* ms_filter: a row filter parsed from a command line (filter.c): export's
 * --where, and any command that lists rows. Never SQL: the text is parsed
 * here against the columns its caller names, so a bad filter is one message
 * before anything is opened, and each row is tested in C.
 *
 * Grammar (docs/reports.md, "Choosing rows"):
 *   filter := cond { (',' | 'and') cond }        every condition must hold
 *   cond   := COLUMN OP VALUE                    spaces allowed around each
 *   OP     := = | != | < | <= | > | >= | ~       ~: the text contains VALUE
 *   VALUE  := a word (up to a space or ',') | 'text' | "text"
 * A numeric column compares numerically (VALUE must be a number; integers
 * exactly), a text column as text with =, != or ~ only. A row with no value
 * in a condition's column (NULL, NaN) fails it, != included. */
#ifndef MS_FILTER_H
#define MS_FILTER_H

#include <stdint.h>

/* A column a filter may name. */
typedef struct ms_filter_col {
    const char *name;
    int numeric; /* compared as a number; else as text */
} ms_filter_col;

/* One row's value of a column, as the caller holds it. */
typedef struct ms_filter_val {
    int null;      /* no value: every condition on it fails */
    const char *s; /* a text column's */
    double x;      /* a numeric column's */
    int is_int;    /* numeric and the integer i: compared exactly with an integer VALUE */
    int64_t i;
} ms_filter_val;

typedef struct ms_filter ms_filter;

/* Parse text (the value of option opt, e.g. "--where") against cols[0..n);
 * scope names where the columns are, for messages ("the summary table").
 * 0 and *out (ms_filter_free it), or -1 after one line naming opt, the text
 * and the character position:
 *   --where 'lr>=x': column 5: expected a number after '>=', got 'x' */
int ms_filter_parse(const char *opt, const char *text, const ms_filter_col *cols, int n,
                    const char *scope, ms_filter **out);
/* 1 when the row (row[k]: the value of cols[k]) passes every condition. */
int ms_filter_match(const ms_filter *f, const ms_filter_val *row);
/* The VALUEs of f's conditions COLUMN = VALUE on the text column
 * cols[col], in order (pointers into f): up to max into out; returns how
 * many f has. */
int ms_filter_equals(const ms_filter *f, int col, const char **out, int max);
void ms_filter_free(ms_filter *f);

#endif
