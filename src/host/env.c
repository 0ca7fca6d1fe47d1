/* env.c: the loader environment getenv serves, in bhyveload's order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "env_var.h"
#include "loader.h"

/* What bhyveload always adds; the guest sees a serial console and a bhyve-like SMBIOS vendor. */
static const char *const env_defaults[] = { "boot_serial=1", "smbios.bios.vendor=BHYVE" };
#define ENV_NDEFAULTS (int)(sizeof(env_defaults) / sizeof(env_defaults[0]))

int env_build(struct loader *l, char *const *user, int nuser)
{
	char **env;
	int n = 0;

	if (nuser < 0)
		return -EINVAL;
	for (int i = 0; i < nuser; i++)
		if (!env_var_valid(user[i]))
			return -EINVAL;
	env = calloc((size_t)nuser + ENV_NDEFAULTS + 1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (int i = 0; i < ENV_NDEFAULTS; i++)
		if (!(env[n++] = strdup(env_defaults[i])))
			goto nomem;
	/*
	 * Newest first, as bhyveload's list (SLIST_INSERT_HEAD) hands them
	 * out: the loader's putenv overwrites, so -e values beat the defaults
	 * and the first of repeated -e names wins.
	 */
	for (int i = nuser - 1; i >= 0; i--)
		if (!(env[n++] = strdup(user[i])))
			goto nomem;
	l->env = env;
	l->nenv = n;
	return 0;

nomem:
	for (int i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return -ENOMEM;
}

void env_free(struct loader *l)
{
	for (int i = 0; i < l->nenv; i++)
		free(l->env[i]);
	free(l->env);
	l->env = NULL;
	l->nenv = 0;
}
