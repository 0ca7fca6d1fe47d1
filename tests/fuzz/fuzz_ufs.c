/* fuzz_ufs.c: fuzz target: image bytes -> ufs_open on an in-memory device -> a bounded walk of every directory, file and symlink. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "walk.h"

struct fuzz_ufs_dev {
	const uint8_t *p;
	size_t len;
};

static int fuzz_ufs_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct fuzz_ufs_dev *m = ctx;

	/* The reader promises never to read past dev.size: hold it to that. */
	if (off > m->len || len > m->len - off)
		fuzz_violation("ufs", "a device read past the device size");
	memcpy(buf, m->p + off, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct walk_limits lim = { 16, 2000, 1 << 20, 64 << 10 };
	struct fuzz_ufs_dev m = { data, size };
	struct ufs_dev dev = { fuzz_ufs_pread, &m, size };
	struct walk_result res;
	struct ufs *fs;
	int r;

	r = ufs_open(&fs, &dev);
	if (r == -EINVAL || r == -EIO)
		return 0;
	if (r != 0)
		fuzz_violation("ufs", "ufs_open returned an errno other than EINVAL or EIO");
	if (walk_ufs(fs, &lim, &res) != 0)
		fuzz_violation("ufs", res.violation);
	ufs_close(fs);
	return 0;
}
