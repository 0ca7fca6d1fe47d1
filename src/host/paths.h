/* paths.h: where kvmload finds the programs and files it ships (kvmload-fs, the entry stub): environment, build tree, beside kvmload, installed. */
#ifndef KVMLOAD_PATHS_H
#define KVMLOAD_PATHS_H

#include <stddef.h>

/*
 * The file to use: $env when set and non-empty; build_path when kvmload runs
 * from its build directory (build_dir); NAME beside the running kvmload when
 * that exists (sibling, NULL to skip); else installed.
 */
void paths_find(char *buf, size_t len, const char *env, const char *build_dir, const char *build_path,
		const char *sibling, const char *installed);

#endif
