/* mb_main.c: loader_main, the exported exit(), start-up order, and the plugin's one state instance. */
#include "mb.h"

#ifdef MB_INTERP
#define MB_BANNER "miniboot/amd64 userboot " MB_INTERP ", Revision 1.0"
#else
#define MB_BANNER "miniboot/amd64 userboot, Revision 1.0"
#endif

/*
 * The plugin's only global: the exported exit() and host_fsops are called
 * without a context (as in userboot), and a freestanding plugin has no
 * allocator, so the whole state (heap arena included) lives here in .bss.
 * Everything else receives it as an explicit struct mb *.
 */
static struct mb mb_state;

/*
 * Counts loader_main entries of this mapping and is never cleared, so a
 * host that re-enters an image instead of mapping it afresh (a stale .bss
 * after a swap or a reboot) is caught and reported on the console.
 */
static unsigned mb_entries;

void *mb_alloc(struct mb *mb, size_t size)
{
	size_t at = (mb->arena_used + 15) & ~(size_t)15;

	if (at > sizeof(mb->arena) || size > sizeof(mb->arena) - at)
		return NULL;
	mb->arena_used = at + size;
	/* Zeroed as handed out, so a run only touches the arena pages it uses. */
	return memset(mb->arena + at, 0, size);
}

void exit(int v)
{
	mb_state.cb->exit(mb_state.arg, v);
	mb_longjmp(mb_state.exit_jb, 1);
}

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	struct mb *mb = &mb_state;
	const char *delay;

	/* Everything but the arena, which mb_alloc clears piecewise: 4 MiB of page faults saved. */
	memset(mb, 0, offsetof(struct mb, arena));
	mb->cb = cb;
	mb->arg = arg;
	mb->ndisks = ndisks < 0 ? 0 : ndisks;
	/* Unlike userboot, the recovery point exists from the start, so exit() always returns here. */
	if (mb_setjmp(mb->exit_jb))
		return;
#ifdef MB_INTERP
	if (version < USERBOOT_VERSION_3)
#else
	if (version != USERBOOT_VERSION_3)
#endif
		mb_fatal(mb, "unsupported userboot version %d", version);

	mb_printf(mb, "Consoles: userboot\n\n" MB_BANNER "\n");
	if (++mb_entries > 1)
		mb_printf(mb, "miniboot: warning: this image was entered %u times: its state is not fresh\n",
			  mb_entries);
	mb_setenv(mb, "LINES", "24");
	mb_setenv(mb, "console", "userboot");
	for (int i = 0;; i++) {
		const char *s = cb->getenv(arg, i);

		if (!s)
			break;
		if (mb_putenv(mb, s))
			mb_printf(mb, "miniboot: warning: ignoring host variable '%s'\n", s);
	}

	if (mb->ndisks > 0)
		mb_disk_probe(mb);
	else
		mb_strlcpy(mb->currdev, "host0:", sizeof(mb->currdev));
	mb_printf(mb, "currdev=%s\n", mb->currdev);
	mb_setenv(mb, "currdev", mb->currdev);
	mb_setenv(mb, "loaddev", mb->currdev);

#ifdef MB_INTERP
	if (version >= USERBOOT_VERSION_5)
		mb_interp_check(mb);
#endif
	mb_conf_load(mb);
	delay = mb_getenv(mb, "autoboot_delay");
	if (delay && mb_strcasecmp(delay, "NO") == 0)
		mb_prompt(mb);
	mb_boot(mb);
}
