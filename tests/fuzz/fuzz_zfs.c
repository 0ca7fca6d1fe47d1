/* fuzz_zfs.c: fuzz target: a sparse pool image (zimg.h: 1 to 3 members) -> zfs_set_add of each, zfs_set_assemble, --list, and a bounded walk of every dataset of every pool. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "zimg.h"
#include "zwalk.h"

static int fuzz_zfs_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct zimg_dev *d = ctx;

	/* The reader promises never to read past dev.size: hold it to that. */
	if (off > d->size || len > d->size - off)
		fuzz_violation("zfs", "a device read past the device size");
	zimg_read(d, buf, len, off);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct zwalk_limits lim = { 8, 12, 1000, 256 << 10, 16 << 10 };
	static const char *const names[ZIMG_MAX_DEVS] = { "fuzz0", "fuzz1", "fuzz2" };
	static FILE *devnull;
	struct zfs_dev dev[ZIMG_MAX_DEVS];
	struct zwalk_result res;
	struct zfs_set *s;
	struct zimg im;
	int r;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		fuzz_violation("zfs", "cannot open /dev/null");
	if (zimg_decode(&im, data, size))
		return 0;
	zimg_forged = !im.verify;
	if ((zimg_forged && zimg_forge(&im)) || zfs_set_new(&s)) {
		zimg_free(&im);
		return 0;
	}
	for (unsigned d = 0; d < im.ndev; d++) {
		uint64_t guid = 0;

		dev[d] = (struct zfs_dev){ fuzz_zfs_pread, &im.dev[d], im.dev[d].size, names[d] };
		r = zfs_set_add(s, &dev[d], &guid);
		if (r != 0 && r != -EINVAL && r != -EIO && r != -ENOMEM)
			fuzz_violation("zfs", "zfs_set_add returned an errno other than EINVAL, EIO or ENOMEM");
	}
	r = zfs_set_assemble(s);
	if (r != 0 && r != -ENOMEM)
		fuzz_violation("zfs", "zfs_set_assemble returned an errno other than ENOMEM");
	zfs_set_list(s, devnull);
	for (size_t i = 0; i < zfs_set_npools(s); i++) {
		struct zfs_pool *p = zfs_set_pool(s, i);
		struct zfs_pool_info info;

		zfs_pool_get_info(p, &info);
		if (zfs_set_find(s, info.guid) == NULL)
			fuzz_violation("zfs", "zfs_set_find does not find an assembled pool by its GUID");
		if (zwalk_pool(p, &lim, NULL, &res) != 0)
			fuzz_violation("zfs", res.violation);
	}
	if (zfs_set_pool(s, zfs_set_npools(s)) != NULL)
		fuzz_violation("zfs", "zfs_set_pool past the last pool is not NULL");
	zfs_set_free(s);
	zimg_free(&im);
	return 0;
}
