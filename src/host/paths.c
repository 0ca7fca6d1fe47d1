/* paths.c: finding kvmload's own programs and files, the build tree's when kvmload runs from it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

void paths_find(char *buf, size_t len, const char *env, const char *build_dir, const char *build_path,
		const char *sibling, const char *installed)
{
	const char *e = env ? getenv(env) : NULL;
	char exe[PATH_MAX], build[PATH_MAX], *slash;
	ssize_t n;

	if (e && *e) {
		snprintf(buf, len, "%s", e);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (realpath(build_dir, build) && strcmp(build, exe) == 0) {
				snprintf(buf, len, "%s", build_path);
				return;
			}
			if (sibling) {
				snprintf(buf, len, "%s/%s", exe, sibling);
				if (access(buf, X_OK) == 0)
					return;
			}
		}
	}
	snprintf(buf, len, "%s", installed);
}
