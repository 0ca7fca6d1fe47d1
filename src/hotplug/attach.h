/* attach.h: `kvmload-hotplug console VM`, a terminal on a guest's console socket. */
#ifndef KVMLOAD_HOTPLUG_ATTACH_H
#define KVMLOAD_HOTPLUG_ATTACH_H

#include <stdbool.h>

/* One attached terminal's state. */
struct attach {
	bool write;       /* our keys go to the guest (else only "~." is read) */
	bool line_start;  /* the last key ended a line: "~" may start an escape */
	bool tilde;       /* a "~" at a line's start, held to see what follows */
	bool detached;    /* "~." */
	bool closed;      /* the server ended the connection */
	unsigned char out[8192]; /* keys on their way to the server */
	size_t nout;
};

/*
 * Attach stdin/stdout to VM's console in RUN (RUN/VM/console.sock) as a
 * writer (force: taking the input from the writer there is) or a reader,
 * until "~." or the console's end.  Returns an exit status; a VM without a
 * console, or one whose input is held, ends the program with a message.
 */
int attach_run(const char *run_dir, const char *vm, bool write, bool force);

#endif
