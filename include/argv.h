/* argv.h: building an argument vector for exec, one owned string at a time (kvmload's QEMU, kvmload-hotplug's children). */
#ifndef KVMLOAD_ARGV_H
#define KVMLOAD_ARGV_H

#include <stdbool.h>
#include <stddef.h>

/* v is NULL-terminated after every add; oom is sticky, so callers check it once at the end. */
struct argv {
	char **v;
	int n, cap;
	bool oom;
};

void argv_add(struct argv *a, const char *s);
void argv_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free every string and the vector; a may be built again. */
void argv_free(struct argv *a);

/*
 * The file execvp would run for prog: prog itself when it has a slash, else
 * the first executable prog in $PATH (the default path when unset), into
 * out.  0, or -ENOENT.
 */
int argv_which(const char *prog, char *out, size_t len);

#endif
