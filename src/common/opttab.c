/* opttab.c: getopt_long's arrays, the usage lines and --help, each made from a program's one option table. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "opttab.h"

/* Text being written to f: units wrapped at OPTTAB_WIDTH, each further line indented. */
struct opttab_para {
	FILE *f;
	size_t col;     /* columns on the current line */
	size_t indent;  /* of each further line */
	bool fresh;     /* nothing after the indent yet: no space before the next unit */
};

/* The short letter of an option, or 0 when it has a long name only. */
static int opttab_letter(const struct opttab *o)
{
	return o->id < OPTTAB_LONG ? o->id : 0;
}

int opttab_getopt(const struct opttab_prog *p, struct opttab_getopt *g)
{
	size_t nlong = 0, nshort = 0;

	if (p->nopts > OPTTAB_MAX)
		return -E2BIG;
	if (p->quiet)
		g->shortopts[nshort++] = ':';
	for (size_t i = 0; i < p->nopts; i++) {
		const struct opttab *o = &p->opts[i];
		int letter = opttab_letter(o);

		if (o->id <= 0 || (letter && (!isalnum(letter) || !isascii(letter))) || (!letter && !o->name))
			return -EINVAL;
		if (o->name)
			g->longopts[nlong++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
								NULL, o->id };
		if (letter) {
			g->shortopts[nshort++] = (char)letter;
			if (o->arg)
				g->shortopts[nshort++] = ':';
		}
	}
	g->longopts[nlong] = (struct option){ NULL, 0, NULL, 0 };
	g->shortopts[nshort] = '\0';
	return 0;
}

/* Room for a unit n columns wide: a space before it, or a new line when it would pass the width. */
static void opttab_room(struct opttab_para *w, size_t n)
{
	if (!w->fresh && w->col + 1 + n > OPTTAB_WIDTH) {
		fprintf(w->f, "\n%*s", (int)w->indent, "");
		w->col = w->indent;
		w->fresh = true;
	}
	if (!w->fresh) {
		fputc(' ', w->f);
		w->col++;
	}
	w->col += n;
	w->fresh = false;
}

/* Each word of text (a run without spaces) as a unit. */
static void opttab_words(struct opttab_para *w, const char *text)
{
	for (text += strspn(text, " "); *text; text += strspn(text, " ")) {
		size_t n = strcspn(text, " ");

		opttab_room(w, n);
		fwrite(text, 1, n, w->f);
		text += n;
	}
}

/* "[-CSv]": the short letters that take no argument, in the synopsis; nothing when there are none. */
static void opttab_flags(struct opttab_para *w, const struct opttab_prog *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nopts; i++)
		n += opttab_letter(&p->opts[i]) && !p->opts[i].arg && !p->opts[i].own_form;
	if (!n)
		return;
	opttab_room(w, n + 3);
	fputs("[-", w->f);
	for (size_t i = 0; i < p->nopts; i++)
		if (opttab_letter(&p->opts[i]) && !p->opts[i].arg && !p->opts[i].own_form)
			fputc(opttab_letter(&p->opts[i]), w->f);
	fputc(']', w->f);
}

/* One option in the synopsis: "[-c DEV]", "[--view DIR]", "[--load-only]". */
static void opttab_synopsis_one(struct opttab_para *w, const struct opttab *o)
{
	int letter = opttab_letter(o);
	size_t n = letter ? 2 : 2 + strlen(o->name);

	if (o->arg)
		n += 1 + strlen(o->arg);
	opttab_room(w, n + 2);
	if (letter)
		fprintf(w->f, "[-%c", letter);
	else
		fprintf(w->f, "[--%s", o->name);
	fprintf(w->f, "%s%s]", o->arg ? " " : "", o->arg ? o->arg : "");
}

/* "usage: NAME" and every option not own_form, then the operands. */
static void opttab_synopsis(FILE *f, const struct opttab_prog *p)
{
	struct opttab_para w = { f, 0, strlen("usage: ") + strlen(p->name) + 1, true };

	w.col = (size_t)fprintf(f, "usage: %s", p->name);
	w.fresh = false;
	opttab_flags(&w, p);
	for (size_t i = 0; i < p->nopts; i++)
		if (!p->opts[i].own_form && (p->opts[i].arg || !opttab_letter(&p->opts[i])))
			opttab_synopsis_one(&w, &p->opts[i]);
	opttab_words(&w, p->operands);
	fputc('\n', f);
}

void opttab_usage(FILE *f, const struct opttab_prog *p)
{
	const char *lead = "usage:";

	if (p->operands) {
		opttab_synopsis(f, p);
		lead = "      ";
	}
	for (const char *const *form = p->forms; form && *form; form++) {
		struct opttab_para w = { f, 0, strlen(lead) + strlen(p->name) + 2, false };

		w.col = (size_t)fprintf(f, "%s %s", lead, p->name);
		opttab_words(&w, *form);
		fputc('\n', f);
		lead = "      ";
	}
}

/* The columns of an entry's left part as opttab_entry prints it. */
static size_t opttab_left_width(const struct opttab *o)
{
	size_t n;

	if (!o->id)
		n = 2 + strlen(o->name);  /* "  add" */
	else if (opttab_letter(o))
		n = 4 + (o->name ? 4 + strlen(o->name) : 0);  /* "  -c" ", --console" */
	else
		n = 8 + strlen(o->name);  /* "      --view" */
	return n + (o->arg ? 1 + strlen(o->arg) : 0);
}

/*
 * One entry of --help: "  -c, --console DEV", "      --view DIR", "  -f" or
 * (a command word) "  add DEVNODE", then its help from column col on (on
 * the next line when the left part leaves less than two spaces).
 */
static void opttab_entry(FILE *f, const struct opttab *o, size_t col)
{
	struct opttab_para w = { f, col, col, true };
	int letter = opttab_letter(o);
	size_t n = opttab_left_width(o);

	if (!o->id)
		fprintf(f, "  %s", o->name);
	else if (letter)
		fprintf(f, "  -%c%s%s", letter, o->name ? ", --" : "", o->name ? o->name : "");
	else
		fprintf(f, "      --%s", o->name);
	if (o->arg)
		fprintf(f, " %s", o->arg);
	if (n + 2 > col)
		fprintf(f, "\n%*s", (int)col, "");
	else
		fprintf(f, "%*s", (int)(col - n), "");
	opttab_words(&w, o->help);
	fputc('\n', f);
}

/* Where every entry's help begins: two columns after the widest left part that is not too wide. */
static size_t opttab_help_col(const struct opttab_prog *p)
{
	size_t widest = 0;

	for (size_t i = 0; i < p->ncmds + p->nopts; i++) {
		const struct opttab *o = i < p->ncmds ? &p->cmds[i] : &p->opts[i - p->ncmds];
		size_t n = opttab_left_width(o);

		if (n + 2 <= OPTTAB_COL_MAX && n > widest)
			widest = n;
	}
	return widest + 2;
}

void opttab_help(FILE *f, const struct opttab_prog *p)
{
	size_t col = opttab_help_col(p);

	opttab_usage(f, p);
	if (p->about) {
		struct opttab_para w = { f, 0, 0, true };

		fputc('\n', f);
		opttab_words(&w, p->about);
		fputc('\n', f);
	}
	fputc('\n', f);
	for (size_t i = 0; i < p->ncmds; i++)
		opttab_entry(f, &p->cmds[i], col);
	if (p->ncmds)
		fputc('\n', f);
	for (size_t i = 0; i < p->nopts; i++)
		opttab_entry(f, &p->opts[i], col);
}
