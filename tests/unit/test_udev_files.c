/* test_udev_files.c: the built 70-kvmload.rules and kvmload@.service say what their owners in include/ say (stop.h, freebsd_part.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "freebsd_part.h"
#include "stop.h"

/* The file's whole text (NUL-terminated), or exit: the files are the build's. */
static char *test_slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The value of the first line that starts with key, up to the end of the line ("" when none). */
static const char *test_line_value(const char *text, const char *key, char *out, size_t size)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, strlen(key)) == 0) {
			snprintf(out, size, "%.*s", (int)strcspn(p + strlen(key), "\n"), p + strlen(key));
			return out;
		}
	}
	snprintf(out, size, "%s", "");
	return out;
}

static void test_rules(const char *path)
{
	const char *text = test_slurp(path);
	char v[1024], mbr[8];

	CHECK_STR(test_line_value(text, "ENV{ID_PART_ENTRY_TYPE}==", v, sizeof(v)),
		  "\"" FREEBSD_PART_HOTPLUG "\", GOTO=\"kvmload_freebsd\"");
	/* kvmload-fs prints the MBR type as libblkid does: the rule's spelling is that. */
	snprintf(mbr, sizeof(mbr), "0x%02x", FREEBSD_MBR_TYPE);
	CHECK_STR(mbr, FREEBSD_MBR_TYPE_ID);
}

static void test_unit(const char *path)
{
	const char *text = test_slurp(path);
	char v[64], want[64];

	snprintf(want, sizeof(want), "%d", STOP_UNIT_S);
	CHECK_STR(test_line_value(text, "TimeoutStopSec=", v, sizeof(v)), want);
	/* Its comment names the chain's numbers: none left as a template's placeholder. */
	CHECK(strstr(text, "@STOP_") == NULL);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_udev_files RULES UNIT\n");
		return 1;
	}
	test_rules(argv[1]);
	test_unit(argv[2]);
	return check_done();
}
