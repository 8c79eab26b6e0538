/* The digest cache: the sums of data files already read whole, by file
 * identity, so that a sweep over the first 1,000 images of a 47 MB file
 * reads those images only. Private to src/numeric/. */
#ifndef MS_DIGESTS_H
#define MS_DIGESTS_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* What a whole IDX file contributes to the dataset's identity. */
typedef struct ms_file_sums {
    int ndims;
    uint32_t dims[3];
    uint32_t crc32, adler32; /* of the items, after the header */
} ms_file_sums;

/* 1 with *out when the cache knows the file `st` describes (device, inode,
 * size, modification and change times all equal); 0 otherwise. */
int ms_digest_lookup(const struct stat *st, ms_file_sums *out);

/* Remember the sums of a file read whole and found sound, st its stat when
 * it was opened at `opened`: not when it changed in the RACY_S seconds
 * before (a write in the same clock tick after the stat would leave the
 * key as it was). Silent: a cache that cannot be written costs a full read
 * next time, nothing more. */
void ms_digest_remember(const struct stat *st, const ms_file_sums *sums, time_t opened);

#endif
