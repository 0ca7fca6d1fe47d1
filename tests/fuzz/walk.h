/* walk.h: a bounded walk of a whole UFS file system that checks the reader's contracts (fuzz targets, corruption suite). */
#ifndef KVMLOAD_FUZZ_WALK_H
#define KVMLOAD_FUZZ_WALK_H

#include <stdint.h>

#include "ufs.h"

/* Work bounds, so a hostile image can only make the walk shorter, never longer. */
struct walk_limits {
	unsigned max_depth;    /* directory levels below the root */
	unsigned max_entries;  /* directory entries looked at, in total */
	uint64_t max_bytes;    /* file bytes read, in total */
	uint64_t file_head;    /* bytes read from the start of each file (then its last 8 KiB) */
};

struct walk_result {
	unsigned dirs, files, links, others;
	unsigned errors;   /* calls that failed with an errno the API allows (EIO, ENOENT, ...) */
	uint64_t bytes;    /* file bytes read */
	uint64_t digest;   /* FNV-1a over names, attributes and bytes: equal walks agree */
	char violation[256]; /* what broke the reader's contract, "" when nothing did */
};

/*
 * Walk every directory from the root: list it (and resume the listing from a
 * cookie), look every name up, stat every entry, read every regular file at
 * its start, its end and past its end, read every symlink.  Returns 0, or -1
 * with res->violation set when a call broke the contract of ufs.h (a result
 * larger than asked, an errno it never returns, a cookie that does not
 * advance, a lookup that disagrees with the listing ...).
 */
int walk_ufs(struct ufs *fs, const struct walk_limits *lim, struct walk_result *res);

#endif
