/* opttab.h: a program's options in one table with their help text; getopt_long's arrays, the usage lines and --help are made from it. */
#ifndef KVMLOAD_OPTTAB_H
#define KVMLOAD_OPTTAB_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OPTTAB_LONG 256  /* ids from here on are long-only options; below it, the short letter */
#define OPTTAB_MAX 40    /* options in one table: the size of struct opttab_getopt's arrays */
#define OPTTAB_WIDTH 80  /* --help and the usage lines are wrapped to this many columns */
/*
 * --help's help column is two after the widest option (or command) that
 * leaves it at most here; a wider one puts its help on the next line.
 */
#define OPTTAB_COL_MAX 26

/* The entries of a table (an array, not a pointer). */
#define OPTTAB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A number macro's digits, for help text: "up to " OPTTAB_STR(TREE_MAXDISKS). */
#define OPTTAB_STR(x) OPTTAB_STR_(x)
#define OPTTAB_STR_(x) #x

/*
 * One option, or (in a program's cmds) one command word.  id is what
 * getopt_long returns for it and what the program's switch is on: the short
 * letter itself ('c' for -c, --console), or OPTTAB_LONG and up for an option
 * with a long name only.  A command word has id 0 and is never given to
 * getopt_long.
 */
struct opttab {
	int id;
	const char *name;  /* the long name without "--"; NULL: the short letter only */
	const char *arg;   /* the argument's name in usage and help ("PATH"); NULL: it takes none */
	bool own_form;     /* left out of the generated synopsis: a form of its own (-V, --help, --list) */
	const char *help;  /* one paragraph, wrapped by the printer */
};

/* A program's command line: what opttab_usage and opttab_help print, and getopt_long reads. */
struct opttab_prog {
	const char *name;
	const struct opttab *opts;
	size_t nopts;
	const struct opttab *cmds;  /* command words before the options in --help (kvmload-hotplug's) */
	size_t ncmds;
	/*
	 * The first usage line's operands after the synopsis of every option
	 * not own_form ("vmname"); NULL: no synopsis line, the forms alone.
	 */
	const char *operands;
	const char *const *forms;   /* further usage lines after the program's name; NULL-terminated */
	const char *about;          /* a paragraph between the usage lines and the options; NULL: none */
	bool quiet;                 /* ':' first in the short string: the program reports bad options itself */
};

/* getopt_long's two arguments, made by opttab_getopt; no heap. */
struct opttab_getopt {
	struct option longopts[OPTTAB_MAX + 1];
	char shortopts[1 + 2 * OPTTAB_MAX + 1];
};

/*
 * Fills g from p's options: every long name into longopts (val = id), every
 * short letter into shortopts (':' after one that takes an argument).
 * -E2BIG when p has more than OPTTAB_MAX options, -EINVAL when an option
 * has neither a long name nor a short letter, or a command word is among
 * the options; g is then unusable.
 */
int opttab_getopt(const struct opttab_prog *p, struct opttab_getopt *g);

/* The usage lines: "usage: NAME SYNOPSIS OPERANDS" (wrapped), then "       NAME FORM" for each form. */
void opttab_usage(FILE *f, const struct opttab_prog *p);

/* --help: the usage lines, the about paragraph, the command words, then each option and its help. */
void opttab_help(FILE *f, const struct opttab_prog *p);

#endif
