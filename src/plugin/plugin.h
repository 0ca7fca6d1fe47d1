/* plugin.h: a userboot plugin mapped without dlopen, its generation, and the recovery point it leaves through. */
#ifndef KVMLOAD_PLUGIN_H
#define KVMLOAD_PLUGIN_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin_interp.h"
#include "userboot.h"

/*
 * What the host must give a plugin, decided from the binary itself
 * (see doc/userboot-generations.md).
 */
struct plugin_gen {
	int version;        /* passed to loader_main: 3 for 10.x, 5 for v5-era */
	bool diskwrite;     /* 13.0+ table: diskwrite slot after diskread */
	bool stat_struct;   /* 12.2+/13.0+: stat(arg, h, struct stat *) */
	char interp[PLUGIN_INTERP_MAX + 1]; /* "$Interpreter:" name the plugin carries, "" if none */
	const char *label;  /* human summary, e.g. "FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)" */
};

struct plugin {
	uint8_t *base;      /* the mapping; PT_LOAD vaddr 0 sits here */
	size_t map_size;    /* the image plus one read-only page holding __stack_chk_guard */
	loader_main_fn *entry;
	struct plugin_gen gen;
};

/*
 * Map an ELF64 x86-64 ET_DYN userboot plugin from memory: validate every
 * header field against the buffer, map PT_LOADs W^X, relocate, resolve
 * imports, find loader_main, detect the generation.  On failure returns
 * -errno and writes a message naming the bad field into err; nothing was
 * mapped and nothing ran.  Every load gives fresh state (clean .bss).
 */
int plugin_load_mem(struct plugin *p, const uint8_t *buf, size_t len, char *err, size_t errlen);
/*
 * The same from the regular file open at fd (at most 256 MiB), read whole
 * through that descriptor: what was chosen and opened is what is mapped,
 * whatever happens to its path.  name (the path) starts every message.
 */
int plugin_load_fd(struct plugin *p, int fd, const char *name, char *err, size_t errlen);
void plugin_unload(struct plugin *p);

/* The single recovery point: exit, exec, swap_interpreter and abort() leave through it. */
struct plugin_recover {
	jmp_buf jb;
	bool armed;
};

/*
 * Call loader_main(table, arg, p->gen.version, ndisks) under the recovery
 * point.  Returns 1 when the plugin was left through plugin_leave()
 * (a callback or an import recorded why), 0 when loader_main returned.
 */
int plugin_run(struct plugin *p, void *table, void *arg, int ndisks, struct plugin_recover *rp);
/* Unwind to plugin_run.  Only valid while rp is armed. */
_Noreturn void plugin_leave(struct plugin_recover *rp);

/*
 * Why the plugin stopped by itself (abort(), __stack_chk_fail) when
 * plugin_run returned 1 without a callback recording a reason; NULL if not.
 */
const char *plugin_fault(void);

#endif
