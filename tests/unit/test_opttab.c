/* test_opttab.c: the option table's generators: getopt_long's short string and long options, the usage lines' synopsis and wrapping, --help's columns, entries without a short letter or long name, refused tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "opttab.h"

enum { T_VIEW = OPTTAB_LONG, T_LOAD_ONLY, T_HELP, T_SOCKET };

static const struct opttab t_opts[] = {
	{ 'c', "console", "DEV", false, "console: a tty device or \"stdio\" (default)" },
	{ 'C', "core", NULL, false, "include guest memory in core dumps" },
	{ T_VIEW, "view", "DIR", false,
	  "read host files through this existing view instead of starting one under /run/kvmload/VMNAME, "
	  "which is a long enough text to be wrapped" },
	{ 'f', NULL, NULL, false, "stay in the foreground" },
	{ 'o', NULL, "OPT[,OPT]", false, "mount options" },
	{ T_LOAD_ONLY, "load-only", NULL, false, "stop after the loader" },
	{ T_SOCKET, "console-socket-with-a-long-name", "PATH", false, "too wide for the column" },
	{ 'V', "version", NULL, true, "print the version" },
	{ T_HELP, "help", NULL, true, "this text" },
};

static const char *const t_forms[] = { "-V", NULL };

static const struct opttab_prog t_prog = { .name = "prog", .opts = t_opts, .nopts = OPTTAB_COUNT(t_opts),
	.operands = "vmname", .forms = t_forms, .quiet = true };

/* What fn printed for p, in a static buffer. */
static const char *t_print(void (*fn)(FILE *, const struct opttab_prog *), const struct opttab_prog *p)
{
	static char out[8192];
	FILE *f = fmemopen(out, sizeof(out), "w");

	if (!f) {
		perror("fmemopen");
		exit(1);
	}
	fn(f, p);
	fclose(f);
	return out;
}

/* The number of lines of text longer than width columns. */
static int t_overlong(const char *text, size_t width)
{
	int n = 0;

	for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0'))
		n += strcspn(l, "\n") > width;
	return n;
}

static void test_getopt(void)
{
	struct opttab_getopt g;
	struct opttab_prog loud = t_prog;

	CHECK_EQ(opttab_getopt(&t_prog, &g), 0);
	/* ':' first (quiet), each letter in table order, ':' after one with an argument. */
	CHECK_STR(g.shortopts, ":c:Cfo:V");
	/* Only the options with a long name, val their id; no flag pointer; the end marker. */
	CHECK_STR(g.longopts[0].name, "console");
	CHECK_EQ(g.longopts[0].has_arg, required_argument);
	CHECK_EQ(g.longopts[0].val, 'c');
	CHECK(g.longopts[0].flag == NULL);
	CHECK_STR(g.longopts[1].name, "core");
	CHECK_EQ(g.longopts[1].has_arg, no_argument);
	CHECK_STR(g.longopts[2].name, "view");
	CHECK_EQ(g.longopts[2].val, T_VIEW);
	CHECK_STR(g.longopts[3].name, "load-only");
	CHECK_EQ(g.longopts[3].val, T_LOAD_ONLY);
	CHECK_STR(g.longopts[6].name, "help");
	CHECK(g.longopts[7].name == NULL);
	CHECK_EQ(g.longopts[7].val, 0);
	loud.quiet = false;
	CHECK_EQ(opttab_getopt(&loud, &g), 0);
	CHECK_STR(g.shortopts, "c:Cfo:V");
}

/* A table getopt cannot take: too many options for the fixed arrays, or an entry that names nothing. */
static void test_getopt_refused(void)
{
	static struct opttab many[OPTTAB_MAX + 1];
	struct opttab bad[] = { { T_VIEW, NULL, NULL, false, "a long-only option without its name" } };
	struct opttab cmd[] = { { 0, "add", "DEVNODE", false, "a command word" } };
	struct opttab letter[] = { { '-', NULL, NULL, false, "not a letter" } };
	struct opttab_prog p = { .name = "prog", .opts = many, .nopts = OPTTAB_MAX + 1 };
	struct opttab_getopt g;

	for (int i = 0; i <= OPTTAB_MAX; i++)
		many[i] = (struct opttab){ OPTTAB_LONG + i, "x", NULL, false, "x" };
	CHECK_EQ(opttab_getopt(&p, &g), -E2BIG);
	p.nopts = OPTTAB_MAX;
	CHECK_EQ(opttab_getopt(&p, &g), 0);
	CHECK(g.longopts[OPTTAB_MAX].name == NULL);
	p.opts = bad;
	p.nopts = 1;
	CHECK_EQ(opttab_getopt(&p, &g), -EINVAL);
	p.opts = cmd;
	CHECK_EQ(opttab_getopt(&p, &g), -EINVAL);
	p.opts = letter;
	CHECK_EQ(opttab_getopt(&p, &g), -EINVAL);
}

static void test_usage(void)
{
	const char *out = t_print(opttab_usage, &t_prog);

	/* Flags first as one group; own_form options (-V, --help) left out; wrapped under the name. */
	CHECK_STR(out, "usage: prog [-Cf] [-c DEV] [--view DIR] [-o OPT[,OPT]] [--load-only]\n"
		       "            [--console-socket-with-a-long-name PATH] vmname\n"
		       "       prog -V\n");
}

static void test_usage_forms_only(void)
{
	static const char *const forms[] = { "[options] add DEVNODE", "list [--json]", NULL };
	struct opttab_prog p = t_prog;

	p.operands = NULL;
	p.forms = forms;
	CHECK_STR(t_print(opttab_usage, &p), "usage: prog [options] add DEVNODE\n"
					     "       prog list [--json]\n");
}

static void test_help(void)
{
	const char *out = t_print(opttab_help, &t_prog);

	/*
	 * The usage lines, then each option in table order, own_form ones too:
	 * the help two columns after the widest left part that fits ("  -c,
	 * --console DEV", 19); a long-only option under the others' long names;
	 * a letter without a long name alone, with its argument's name; a long
	 * text wrapped at OPTTAB_WIDTH under the help column; a left part too
	 * wide for the column with its help on the next line.
	 */
	CHECK_STR(out, "usage: prog [-Cf] [-c DEV] [--view DIR] [-o OPT[,OPT]] [--load-only]\n"
		       "            [--console-socket-with-a-long-name PATH] vmname\n"
		       "       prog -V\n"
		       "\n"
		       "  -c, --console DEV  console: a tty device or \"stdio\" (default)\n"
		       "  -C, --core         include guest memory in core dumps\n"
		       "      --view DIR     read host files through this existing view instead of\n"
		       "                     starting one under /run/kvmload/VMNAME, which is a long\n"
		       "                     enough text to be wrapped\n"
		       "  -f                 stay in the foreground\n"
		       "  -o OPT[,OPT]       mount options\n"
		       "      --load-only    stop after the loader\n"
		       "      --console-socket-with-a-long-name PATH\n"
		       "                     too wide for the column\n"
		       "  -V, --version      print the version\n"
		       "      --help         this text\n");
	CHECK_EQ(t_overlong(out, OPTTAB_WIDTH), 0);
}

static void test_help_commands(void)
{
	static const struct opttab cmds[] = {
		{ 0, "add", "DEVNODE", false, "start the guest" },
		{ 0, "list", NULL, false, "every VM" },
	};
	static const struct opttab opts[] = { { 'v', "verbose", NULL, false, "say more" } };
	static const char *const forms[] = { "[options] add DEVNODE", NULL };
	static const struct opttab_prog p = {
		.name = "hp", .opts = opts, .nopts = 1, .cmds = cmds, .ncmds = 2, .forms = forms,
		.about = "Load the guest configured for a disk when it appears.",
	};

	/* The about paragraph, the command words without dashes, a blank line, the options. */
	CHECK_STR(t_print(opttab_help, &p), "usage: hp [options] add DEVNODE\n"
					    "\n"
					    "Load the guest configured for a disk when it appears.\n"
					    "\n"
					    "  add DEVNODE    start the guest\n"
					    "  list           every VM\n"
					    "\n"
					    "  -v, --verbose  say more\n");
}

int main(void)
{
	test_getopt();
	test_getopt_refused();
	test_usage();
	test_usage_forms_only();
	test_help();
	test_help_commands();
	return check_done();
}
