/* tp_delay.c: a test plugin that sleeps in the delay callback, as userboot's autoboot countdown does, then quits with status 3. */
#include <stddef.h>
#include <stdint.h>

#include "userboot.h"

#define TP_DELAYS 30
#define TP_DELAY_USEC 100000

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	(void)version;
	(void)ndisks;
	for (int i = 0; i < TP_DELAYS; i++) {
		cb->putc(arg, '.');
		cb->delay(arg, TP_DELAY_USEC);
	}
	cb->putc(arg, '\n');
	cb->exit(arg, 3);
}
