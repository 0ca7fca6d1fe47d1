/* tp_gen.c: a test plugin whose exit and host_fsops have the shapes each userboot generation compiles to. */
#include <stddef.h>
#include <stdint.h>

#include "userboot.h"

/* libsa's struct open_file and struct fs_ops, as far as host_stat and the detection look. */
struct tp_open_file {
	int f_flags;
	void *f_dev, *f_devdata, *f_ops;
	void *f_fsdata;
};

/* FreeBSD amd64 ino64 struct stat: 224 bytes, st_mode at 24. */
struct tp_stat {
	uint8_t pad[24];
	uint16_t st_mode;
	uint8_t rest[198];
};

struct tp_fs_ops {
	const char *fs_name;
	void *fo_open, *fo_close, *fo_read, *fo_write, *fo_seek;
	int (*fo_stat)(struct tp_open_file *f, struct tp_stat *sb);
	void *fo_readdir;
};

struct loader_callbacks *callbacks;
void *callbacks_arg;

#ifdef TP_INTERP
/* A bare marker first, as in 14.x (check_interpreter's search string), then the real one. */
const char tp_marker_search[] = "$Interpreter:";
const char bootprog_interp[] = "$Interpreter:" TP_INTERP;
#endif

void exit(int v);
void exit(int v)
{
#ifdef TP_EXIT_NO_SLOT
	callbacks->putc(callbacks_arg, v);
#else
	callbacks->exit(callbacks_arg, v);
#endif
}

#ifndef TP_NO_FSOPS
static int host_stat(struct tp_open_file *f, struct tp_stat *sb)
{
#ifdef USERBOOT_STAT_STRUCT
	callbacks->stat(callbacks_arg, f->f_fsdata, (struct fbsd_stat *)sb);
#else
	int mode, uid, gid;
	uint64_t size;

	callbacks->stat(callbacks_arg, f->f_fsdata, &mode, &uid, &gid, &size);
	sb->st_mode = (uint16_t)mode;
#endif
	return 0;
}

const struct tp_fs_ops host_fsops = { "host", 0, 0, 0, 0, 0, host_stat, 0 };
#endif

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);
void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	(void)version;
	(void)ndisks;
	callbacks = cb;
	callbacks_arg = arg;
#ifndef TP_NO_FSOPS
	{
		struct tp_open_file of;
		struct tp_stat sb;

		/* No initializers: compilers would call memset, which libsa (not the host) provides. */
		of.f_fsdata = arg;
		sb.st_mode = 0;
		host_fsops.fo_stat(&of, &sb);
		exit(sb.st_mode);
	}
#endif
	exit(0);
}
