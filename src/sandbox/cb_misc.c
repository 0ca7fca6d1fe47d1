/* cb_misc.c: delay, exit, getmem, getenv and swap_interpreter: the callbacks about the loader's own run. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cb.h"
#include "plugin_interp.h"
#include "loader.h"
#include "log.h"

/* A plugin asking for longer (a bogus count) should not freeze the console. */
#define DELAY_MAX_USEC 1000000

void cb_delay(void *arg, int usec)
{
	struct timespec ts;

	(void)arg;
	if (usec <= 0)
		return;
	if (usec > DELAY_MAX_USEC)
		usec = DELAY_MAX_USEC;
	ts.tv_sec = usec / 1000000;
	ts.tv_nsec = (long)(usec % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void cb_exit(void *arg, int v)
{
	struct loader *l = arg;

	/* Never returns: userboot would longjmp through an unset jmp_buf during start-up. */
	l->leave = LEAVE_EXIT;
	l->exit_value = v;
	plugin_leave(&l->recover);
}

void cb_getmem(void *arg, uint64_t *lowmem, uint64_t *highmem)
{
	const struct loader *l = arg;

	*lowmem = l->gmem.lowmem;
	*highmem = l->gmem.highmem;
}

char *cb_getenv(void *arg, int num)
{
	const struct loader *l = arg;

	if (num < 0 || num >= l->nenv)
		return NULL;
	return l->env[num];
}

/* 1..max-1 name bytes and a NUL within max. */
static bool interp_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!plugin_interp_char_ok(s[i]))
			return false;
	return true;
}

void cb_swap_interpreter(void *arg, const char *interp)
{
	struct loader *l = arg;

	if (!interp || !interp_valid(interp, sizeof(l->swap_interp))) {
		char shown[40];
		size_t i = 0;

		/* Show what the plugin sent, short and escaped. */
		for (; interp && interp[i] && i < sizeof(shown) - 1; i++)
			shown[i] = interp[i];
		shown[i] = '\0';
		log_warnx("the loader asked for interpreter '%s': not a valid interpreter name",
			  log_esc(shown));
		l->leave = LEAVE_ERROR;
		plugin_leave(&l->recover);
	}
	strcpy(l->swap_interp, interp);
	l->leave = LEAVE_SWAP;
	plugin_leave(&l->recover);
}
