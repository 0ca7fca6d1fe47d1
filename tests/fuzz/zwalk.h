/* zwalk.h: a bounded walk of every dataset of an assembled ZFS pool that checks the reader's contracts (ZFS fuzz target, ZFS corruption suite). */
#ifndef KVMLOAD_FUZZ_ZWALK_H
#define KVMLOAD_FUZZ_ZWALK_H

#include <stdint.h>

#include "zfs.h"

/* Work bounds, so a hostile image can only make the walk shorter, never longer. */
struct zwalk_limits {
	unsigned max_datasets; /* datasets opened */
	unsigned max_depth;    /* directory levels below a dataset's root */
	unsigned max_entries;  /* directory entries looked at, in total */
	uint64_t max_bytes;    /* file bytes read, in total */
	uint64_t file_head;    /* bytes read from the start of each file (then its last 8 KiB) */
};

struct zwalk_result {
	unsigned datasets, dirs, files, links, others;
	unsigned errors;     /* calls that failed with an errno the API allows (EIO, ENOENT, ...) */
	unsigned mismatches; /* lookups that disagree with the listing (a ZAP's hash chains and its leaves) */
	uint64_t bytes;      /* file bytes read */
	uint64_t digest;     /* FNV-1a over names, attributes and bytes: equal walks agree */
	char violation[256]; /* what broke the reader's contract, "" when nothing did */
};

/*
 * What a caller (the corruption suite's oracle) is told as the walk goes:
 * every entry with its attributes (err: getattr's error), every run of file
 * bytes read, every symlink target.  path is "/dir/name" in dataset ds.
 * Any hook may be NULL.
 */
struct zwalk_hooks {
	void *ctx;
	void (*entry)(void *ctx, const char *ds, const char *path, const struct zfs_stat *st, int err);
	void (*bytes)(void *ctx, const char *ds, const char *path, uint64_t off, const void *buf, size_t n);
	void (*link)(void *ctx, const char *ds, const char *path, const char *target, int err);
};

/*
 * Open every dataset of p that the pool says is readable and walk it from
 * its root: list each directory (and resume the listing from cookies), look
 * names up, stat every entry, read every regular file at its start, its end
 * and past its end, read every symlink.  Returns 0, or -1 with
 * res->violation set when a call broke the contract of zfs.h (an errno it
 * never returns, a read longer than asked or past the file's size, a cookie
 * that does not advance, a name with a NUL, a symlink without its NUL ...).
 */
int zwalk_pool(struct zfs_pool *p, const struct zwalk_limits *lim, const struct zwalk_hooks *hooks,
	       struct zwalk_result *res);

#endif
