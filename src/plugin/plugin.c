/* plugin.c: loading a plugin from its open file, running loader_main under the recovery point, and the imports that leave through it. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "beneath.h"
#include "plugin.h"
#include "plugin_elf.h"

#define PLUGIN_MAX_FILE (256ULL << 20)

/*
 * abort() and __stack_chk_fail() are called by the plugin without any
 * argument, so they cannot reach the loader's context: plugin_run
 * publishes the armed recovery point and the imports record why they left.
 * Thread-local, so a plugin run on one thread never unwinds another's.
 */
static _Thread_local struct plugin_recover *plugin_current;
static _Thread_local const char *plugin_fault_msg;

int plugin_load_mem(struct plugin *p, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct plugin_elf img;
	struct plugin_elf_sym sym;
	struct span code;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = plugin_elf_load(&img, span_make(buf, len), err, errlen)) != 0)
		return r;
	if (plugin_elf_sym(&img, "loader_main", &sym) != 0 || sym.type != STT_FUNC) {
		r = errmsg_set(err, errlen, ENOEXEC,
			       "loader_main: no exported function 'loader_main' in the plugin");
		goto fail;
	}
	if (plugin_elf_span(&img, sym.value, 1, PF_X, &code) != 0) {
		r = errmsg_set(err, errlen, ENOEXEC,
			       "loader_main: 0x%llx is not inside an executable PT_LOAD",
			       (unsigned long long)sym.value);
		goto fail;
	}
	if ((r = plugin_gen_detect(&img, &p->gen, err, errlen)) != 0)
		goto fail;
	p->base = img.base;
	p->map_size = img.map_size;
	p->entry = (loader_main_fn *)(uintptr_t)(img.base + sym.value);
	return 0;
fail:
	plugin_elf_unload(&img);
	return r;
}

int plugin_load_fd(struct plugin *p, int fd, const char *name, char *err, size_t errlen)
{
	char why[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	memset(p, 0, sizeof(*p));
	r = beneath_read_fd(fd, PLUGIN_MAX_FILE, &buf, &len);
	if (r == -EINVAL)
		return errmsg_set(err, errlen, EINVAL, "%s: not a regular file", name);
	if (r == -EFBIG)
		return errmsg_set(err, errlen, EFBIG,
				  "%s: %zu bytes is more than the %llu MiB a plugin may have", name, len,
				  PLUGIN_MAX_FILE >> 20);
	if (r == -ENOMEM)
		return errmsg_set(err, errlen, ENOMEM, "%s: no memory for %zu bytes", name, len);
	if (r < 0)
		return errmsg_set(err, errlen, -r, "%s: read: %s", name, strerror(-r));
	r = plugin_load_mem(p, buf, len, why, sizeof(why));
	free(buf);
	if (r != 0)
		errmsg_set(err, errlen, -r, "%s: %s", name, why);
	return r;
}

void plugin_unload(struct plugin *p)
{
	if (p->base)
		munmap(p->base, p->map_size);
	memset(p, 0, sizeof(*p));
}

int plugin_run(struct plugin *p, void *table, void *arg, int ndisks, struct plugin_recover *rp)
{
	plugin_fault_msg = NULL;
	plugin_current = rp;
	rp->armed = true;
	if (setjmp(rp->jb) != 0) {
		rp->armed = false;
		plugin_current = NULL;
		return 1;
	}
	p->entry(table, arg, p->gen.version, ndisks);
	rp->armed = false;
	plugin_current = NULL;
	return 0;
}

_Noreturn void plugin_leave(struct plugin_recover *rp)
{
	longjmp(rp->jb, 1);
}

const char *plugin_fault(void)
{
	return plugin_fault_msg;
}

static _Noreturn void plugin_import_leave(const char *why)
{
	struct plugin_recover *rp = plugin_current;

	plugin_fault_msg = why;
	/* Plugin code only runs inside plugin_run; anything else is our own bug. */
	if (!rp || !rp->armed)
		abort();
	plugin_leave(rp);
}

_Noreturn void plugin_import_abort(void)
{
	plugin_import_leave("plugin called abort()");
}

_Noreturn void plugin_import_stack_chk_fail(void)
{
	plugin_import_leave("stack smashing detected in plugin");
}
