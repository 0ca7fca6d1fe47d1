/* cb_console.c: the getc/putc/poll callbacks over the kvmload console. */
#include <string.h>

#include "cb.h"
#include "loader.h"
#include "log.h"

int cb_getc(void *arg)
{
	struct loader *l = arg;
	int ch = console_getc(&l->cons);

	if (ch >= 0)
		return ch;
	/*
	 * The loader's prompt keeps asking for keys, so at end of input it
	 * would spin forever; nobody can answer it any more: leave the way
	 * the loader's own `quit` does (exit status 1).
	 */
	log_warnx("console input closed; leaving the loader");
	l->leave = LEAVE_EXIT;
	l->exit_value = USERBOOT_EXIT_QUIT;
	plugin_leave(&l->recover);
}

void cb_putc(void *arg, int ch)
{
	struct loader *l = arg;

	console_putc(&l->cons, ch);
	if (!l->cons.out_err)
		return;
	/* Nobody sees the loader any more (a closed pipe, a closed stdout): leave as `quit` does. */
	log_warnx("console output closed (%s); leaving the loader", strerror(l->cons.out_err));
	l->leave = LEAVE_EXIT;
	l->exit_value = USERBOOT_EXIT_QUIT;
	plugin_leave(&l->recover);
}

int cb_poll(void *arg)
{
	struct loader *l = arg;

	/* After end of input nothing can ever arrive: autoboot counts down undisturbed. */
	if (l->cons.eof)
		return 0;
	return console_poll(&l->cons);
}
