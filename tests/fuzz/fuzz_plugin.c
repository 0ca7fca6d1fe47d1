/* fuzz_plugin.c: fuzz target: file bytes -> plugin_load_mem (ELF validation, W^X mapping, relocation, generation detection); the plugin never runs. */
#include <errno.h>

#include "fuzz.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plugin p;
	char err[512] = "";
	int r = plugin_load_mem(&p, data, size, err, sizeof(err));

	if (r == 0) {
		if (!p.entry || !p.base || (p.gen.version != 3 && p.gen.version != 5))
			fuzz_violation("plugin", "a loaded plugin without entry, mapping or a known version");
		plugin_unload(&p);
		return 0;
	}
	/*
	 * ENOMEM too: an image is at most a 256 MiB PROT_NONE reservation with 16
	 * segments, so mmap and mprotect only fail here when they were aimed
	 * outside the image (as a PT_GNU_RELRO past its segment once made them).
	 */
	if (r != -ENOEXEC)
		fuzz_violation("plugin", err[0] ? err : "plugin_load_mem returned an errno other than ENOEXEC");
	if (!err[0])
		fuzz_violation("plugin", "a rejected plugin without a message naming why");
	return 0;
}
