/* plugin_interp.c: finding the "$Interpreter:" marker, for the guest's /boot/loader and for a plugin's own bytes. */
#include <string.h>

#include "plugin_interp.h"
#include "userboot.h"

#define INTERP_MARKER_LEN (sizeof(USERBOOT_INTERP_MARKER) - 1)

bool plugin_interp_find(struct span s, char interp[PLUGIN_INTERP_MAX + 1])
{
	const uint8_t *hit;
	size_t pos = 0;

	while (pos < s.len &&
	       (hit = memmem(s.p + pos, s.len - pos, USERBOOT_INTERP_MARKER, INTERP_MARKER_LEN))) {
		size_t name = (size_t)(hit - s.p) + INTERP_MARKER_LEN, n = 0;
		uint8_t c = 0;

		while (n <= PLUGIN_INTERP_MAX && span_u8(s, name + n, &c) == 0 && plugin_interp_char_ok(c))
			n++;
		if (n >= 1 && n <= PLUGIN_INTERP_MAX && span_u8(s, name + n, &c) == 0 && c == '\0') {
			memcpy(interp, s.p + name, n);
			interp[n] = '\0';
			return true;
		}
		pos = (size_t)(hit - s.p) + 1;
	}
	return false;
}
