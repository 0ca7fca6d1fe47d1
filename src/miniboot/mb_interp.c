/* mb_interp.c: the v5 interpreter check: which interpreter does the guest's /boot/loader carry? */
#include "mb.h"

#ifndef MB_INTERP
#error "mb_interp.c is built only for v5-era flavours, with -DMB_INTERP=\"4th\" or \"lua\""
#endif

#define INTERP_MARKER_LEN 13 /* strlen("$Interpreter:") */

/* Exported like userboot's, so a host can read which interpreter this build is. */
const char bootprog_interp[] = "$Interpreter:" MB_INTERP;

void mb_interp_check(struct mb *mb)
{
	size_t mark = mb->arena_used;
	const char *mine = bootprog_interp + INTERP_MARKER_LEN;
	/* Longer than any name a host takes: like userboot, miniboot asks for what the marker says. */
	char want[64] = "4th";
	struct mb_stat st;
	struct mb_file *f;
	uint8_t *buf;
	int err;

	f = mb_open(mb, "/boot/loader", &err);
	if (!f)
		return;
	/* As userboot: any failure to read the whole file skips the check. */
	if (mb_fstat(f, &st) || st.size == 0 || st.size > MB_ARENA_SIZE / 2 ||
	    !(buf = mb_alloc(mb, (size_t)st.size)) || mb_read_full(f, buf, (size_t)st.size)) {
		mb_close(f);
		mb->arena_used = mark;
		return;
	}
	mb_close(f);
	const uint8_t *m = mb_memmem(buf, (size_t)st.size, bootprog_interp, INTERP_MARKER_LEN);
	if (m) {
		const uint8_t *end = buf + st.size;
		size_t n = 0;

		for (m += INTERP_MARKER_LEN; m < end && *m && n < sizeof(want) - 1; m++)
			want[n++] = (char)*m;
		want[n] = '\0';
	}
	mb->arena_used = mark;
	if (mb_strcmp(want, mine) == 0)
		return;
	mb->cb->swap_interpreter(mb->arg, want);
	mb_printf(mb, "miniboot: /boot/loader uses interpreter '%s'; going on with '%s'\n", want,
		  mine);
}
