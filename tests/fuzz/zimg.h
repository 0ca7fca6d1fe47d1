/* zimg.h: sparse ZFS pool images for the ZFS fuzz target (decoded, served by pread), their embedded checksums, and the checksum switch of "forged" runs. */
#ifndef KVMLOAD_FUZZ_ZIMG_H
#define KVMLOAD_FUZZ_ZIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zfs_int.h"

/*
 * A sparse image: a pool's member devices as (offset, bytes) chunks, zeros
 * elsewhere, so that a 64 MiB pool whose metadata and files fill a few
 * hundred KiB is a fuzzer input of that size.  Little-endian:
 *
 *   u8  flags   bits 0-1: members - 1 (3 also means 3 members)
 *               bit 2:    verify block checksums (clear: "forged", see below)
 *               bits 4-5: uberblock slot shift - 10 (for the forged fix-ups)
 *   u16 size    of each member, in MiB (one field per member)
 *   then chunks to the end of the input:
 *   u8  member (modulo the member count), u32 sector (512 bytes), u16 length, length bytes
 *
 * A chunk cut short by the end of the input keeps the bytes it has; later
 * chunks overwrite earlier ones where they overlap.
 *
 * Forged: ZFS's block checksums are no defence against a hostile image, which
 * can carry valid ones (fletcher4 and SHA-256 are not keyed), and a fuzzer
 * cannot compute them.  So by default the reader's block checksums are not
 * verified (zfs_cksum_compute reports them "not supported", which the reader
 * takes as unverifiable: see zimg_forged), and the embedded checksums of
 * labels and uberblocks, which the reader always verifies, are recomputed
 * over the decoded bytes, as a forger would.
 */
#define ZIMG_MAX_DEVS 3
#define ZIMG_MAX_CHUNKS 8192
#define ZIMG_F_VERIFY 4u

struct zimg_chunk {
	uint64_t off;
	const uint8_t *p;
	size_t len;
};

struct zimg_dev {
	uint64_t size;
	struct zimg_chunk *c;  /* the input's chunks, then the fix-ups (which own their bytes) */
	size_t n, nfix;
	uint8_t *fix[8];       /* 4 labels' nvlists and uberblock rings */
};

struct zimg {
	unsigned ndev, ub_shift;
	bool verify;
	struct zimg_dev dev[ZIMG_MAX_DEVS];
};

/* Decode data into im (pointing into data); 0, or -1 when it is too short to hold a header. */
int zimg_decode(struct zimg *im, const uint8_t *data, size_t size);
/* Forged mode: recompute the embedded checksums of every label and uberblock the chunks touch. */
int zimg_forge(struct zimg *im);
/* len bytes of member d at off (the caller checks off + len <= size). */
void zimg_read(const struct zimg_dev *d, void *buf, size_t len, uint64_t off);
void zimg_free(struct zimg *im);

/*
 * While true, zfs_cksum_compute (wrapped at link time: -Wl,--wrap=zfs_cksum_compute)
 * answers -ENOTSUP for block checksums, so the reader takes every block as it
 * is; the embedded checksums (labels, uberblocks, gang headers) stay real.
 */
extern bool zimg_forged;
int __real_zfs_cksum_compute(unsigned alg, const void *data, size_t len, struct zfs_cksum *out);
int __wrap_zfs_cksum_compute(unsigned alg, const void *data, size_t len, struct zfs_cksum *out);

/* Store the embedded checksum of region (len bytes at device offset off), magic included. */
void zimg_eck_set(uint8_t *region, size_t len, uint64_t off);
/* Label l's byte offset on a member of size bytes (as the reader places it). */
uint64_t zimg_label_off(uint64_t size, unsigned l);
/* The uberblock slot shift (10-13) whose slots of ring (ZFS_LABEL_UB_SIZE bytes at off) verify most; 10 if none do. */
unsigned zimg_ub_shift(const uint8_t *ring, uint64_t off);

#endif
