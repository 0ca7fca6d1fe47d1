/* errmsg.c: a message for the caller and the -errno that goes with it. */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

int errmsg_set(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}
