/* env_var.c: the rule for a loader environment variable, for kvmload -e and kvmload-hotplug's env =. */
#include <string.h>

#include "env_var.h"

bool env_var_valid(const char *s)
{
	const char *eq = strchr(s, '=');

	/* The loader's putenv splits at '=': without one, or with no name, nothing sensible is set. */
	return eq && eq != s;
}
