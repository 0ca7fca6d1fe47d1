/* fuzz_conf.c: fuzz target: file bytes -> kvmload.conf(5) parsing (conf_load, libinih) -> identity matching; every error must be one "file:line: message" line. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

/*
 * conf_load reads a directory: one scratch directory per process, made on
 * the first input (libFuzzer's entry point carries no context) and removed
 * at exit.
 */
static char fuzz_conf_dir[64];
static char fuzz_conf_path[96];

static void fuzz_conf_cleanup(void)
{
	unlink(fuzz_conf_path);
	rmdir(fuzz_conf_dir);
}

static void fuzz_conf_write(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!fuzz_conf_dir[0]) {
		snprintf(fuzz_conf_dir, sizeof(fuzz_conf_dir), "/tmp/kvmload-fuzz-conf.XXXXXX");
		if (!mkdtemp(fuzz_conf_dir)) {
			perror("fuzz_conf: mkdtemp");
			abort();
		}
		snprintf(fuzz_conf_path, sizeof(fuzz_conf_path), "%s/fuzz.conf", fuzz_conf_dir);
		atexit(fuzz_conf_cleanup);
	}
	if (!(f = fopen(fuzz_conf_path, "we")) || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(fuzz_conf_path);
		abort();
	}
}

/* The fake device has exactly the identity values of one VM. */
static const char *fuzz_conf_prop(void *dev, const char *property)
{
	const struct conf_vm *vm = dev;

	for (int k = 0; k < CONF_ID_COUNT; k++)
		if (strcmp(conf_id_property((enum conf_id)k), property) == 0)
			return vm->id[k];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char *msgs = NULL;
	size_t msglen = 0, prefix, lines = 0;
	FILE *err;
	int r;

	fuzz_conf_write(data, size);
	if (!(err = open_memstream(&msgs, &msglen)))
		abort();
	r = conf_load(&c, fuzz_conf_dir, err);
	fclose(err);
	if (r != 0 && r != -ENOMEM)
		fuzz_violation("conf", "conf_load failed on a readable directory");
	/* Every error is counted and is exactly one line naming the file and a line number. */
	prefix = strlen(fuzz_conf_path);
	for (char *l = msgs; l && *l; lines++) {
		char *nl = strchr(l, '\n'), *end;

		if (!nl || strncmp(l, fuzz_conf_path, prefix) != 0 || l[prefix] != ':' ||
		    strtol(l + prefix + 1, &end, 10) < 0 || end == l + prefix + 1 || strncmp(end, ": ", 2))
			fuzz_violation("conf", "an error message that is not one file:line: line");
		l = nl + 1;
	}
	if (r == 0 && lines != (size_t)c.errors)
		fuzz_violation("conf", "errors counted and messages printed differ");
	for (size_t i = 0; r == 0 && i < c.nvms; i++) {
		struct conf_vm *vm = &c.vms[i];
		bool ambiguous = false;

		if (!vm->name || !conf_find(&c, vm->name))
			fuzz_violation("conf", "a VM without a name, or one conf_find cannot find");
		conf_match(&c, fuzz_conf_prop, vm, &ambiguous);
	}
	conf_free(&c);
	free(msgs);
	return 0;
}
