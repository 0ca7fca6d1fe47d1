/* mb_env.c: the loader environment (name=value strings, later values overwrite) and boot howto flags. */
#include "mb.h"

/* Offset of the entry for name, or -1. */
static long env_find(struct mb *mb, const char *name, size_t nlen)
{
	size_t off = 0;

	while (off < mb->env_used) {
		const char *e = mb->env + off;
		size_t elen = mb_strlen(e);

		if (elen > nlen && e[nlen] == '=' && mb_strncmp(e, name, nlen) == 0)
			return (long)off;
		off += elen + 1;
	}
	return -1;
}

static void env_remove(struct mb *mb, const char *name, size_t nlen)
{
	long off = env_find(mb, name, nlen);
	size_t elen;

	if (off < 0)
		return;
	elen = mb_strlen(mb->env + off) + 1;
	memmove(mb->env + off, mb->env + off + elen, mb->env_used - (size_t)off - elen);
	mb->env_used -= elen;
}

const char *mb_getenv(struct mb *mb, const char *name)
{
	size_t nlen = mb_strlen(name);
	long off = env_find(mb, name, nlen);

	return off < 0 ? NULL : mb->env + off + nlen + 1;
}

void mb_unsetenv(struct mb *mb, const char *name)
{
	env_remove(mb, name, mb_strlen(name));
}

static int env_set(struct mb *mb, const char *name, size_t nlen, const char *value)
{
	size_t vlen = mb_strlen(value);
	char *e;

	if (nlen == 0)
		return FBSD_EINVAL;
	env_remove(mb, name, nlen);
	if (nlen + vlen + 2 > sizeof(mb->env) - mb->env_used)
		return FBSD_ENOMEM;
	e = mb->env + mb->env_used;
	memcpy(e, name, nlen);
	e[nlen] = '=';
	memcpy(e + nlen + 1, value, vlen + 1);
	mb->env_used += nlen + vlen + 2;
	return 0;
}

int mb_setenv(struct mb *mb, const char *name, const char *value)
{
	return env_set(mb, name, mb_strlen(name), value);
}

int mb_putenv(struct mb *mb, const char *nameval)
{
	const char *eq = mb_strchr(nameval, '=');

	if (!eq)
		return FBSD_EINVAL;
	return env_set(mb, nameval, (size_t)(eq - nameval), eq + 1);
}

/* As the FreeBSD loader does: a boot_* variable that is set and not "no" turns its flag on. */
uint32_t mb_env_howto(struct mb *mb)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{ "boot_askname", MB_RB_ASKNAME }, { "boot_cdrom", MB_RB_CDROM },
		{ "boot_ddb", MB_RB_KDB },         { "boot_gdb", MB_RB_GDB },
		{ "boot_multicons", MB_RB_MULTIPLE }, { "boot_mute", MB_RB_MUTE },
		{ "boot_serial", MB_RB_SERIAL },   { "boot_single", MB_RB_SINGLE },
		{ "boot_verbose", MB_RB_VERBOSE },
	};
	uint32_t howto = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = mb_getenv(mb, names[i].name);

		if (v && mb_strcasecmp(v, "no") != 0)
			howto |= names[i].bit;
	}
	return howto;
}
