/* mb_prompt.c: a tiny command prompt (boot, show, ls, quit) for autoboot_delay="NO". */
#include "mb.h"

#define LINE_MAX 256

/* One line from the console, echoed; false when the host reports end of input. */
static bool prompt_line(struct mb *mb, char *line)
{
	size_t n = 0;

	for (;;) {
		int c = mb->cb->getc(mb->arg);

		if (c < 0)
			return false;
		if (c == '\r' || c == '\n') {
			mb_putc(mb, '\n');
			line[n] = '\0';
			return true;
		}
		if ((c == '\b' || c == 0x7f) && n > 0) {
			n--;
			mb_printf(mb, "\b \b");
		} else if (c >= ' ' && c < 0x7f && n < LINE_MAX - 1) {
			line[n++] = (char)c;
			mb_putc(mb, c);
		}
	}
}

static void prompt_show(struct mb *mb, const char *name)
{
	if (*name) {
		const char *v = mb_getenv(mb, name);

		mb_printf(mb, v ? "%s\n" : "%s not set\n", v ? v : name);
		return;
	}
	for (size_t off = 0; off < mb->env_used; off += mb_strlen(mb->env + off) + 1)
		mb_printf(mb, "%s\n", mb->env + off);
}

static void prompt_ls(struct mb *mb, const char *dir)
{
	struct mb_dirent d;
	struct mb_file *f;
	int err;

	if (!*dir)
		dir = "/";
	f = mb_open(mb, dir, &err);
	if (!f) {
		mb_printf(mb, "ls: %s: %s\n", dir, mb_strerror(err));
		return;
	}
	mb_printf(mb, "%s\n", dir);
	while ((err = f->ops->readdir(f, &d)) == 0)
		mb_printf(mb, " %c  %s\n", d.type == FBSD_DT_DIR ? 'd' : ' ', d.name);
	if (err != FBSD_ENOENT)
		mb_printf(mb, "ls: %s: %s\n", dir, mb_strerror(err));
	mb_close(f);
}

void mb_prompt(struct mb *mb)
{
	char line[LINE_MAX];

	mb_printf(mb, "\nType 'boot' to boot, 'show [name]', 'ls [dir]' or 'quit'.\n");
	for (;;) {
		char *cmd = line, *argp;

		mb_printf(mb, "OK ");
		if (!prompt_line(mb, line))
			exit(USERBOOT_EXIT_QUIT);
		while (*cmd == ' ')
			cmd++;
		for (argp = cmd; *argp && *argp != ' '; argp++)
			;
		if (*argp)
			*argp++ = '\0';
		while (*argp == ' ')
			argp++;
		if (mb_strcmp(cmd, "boot") == 0)
			return;
		if (mb_strcmp(cmd, "quit") == 0)
			exit(USERBOOT_EXIT_QUIT);
		if (mb_strcmp(cmd, "show") == 0)
			prompt_show(mb, argp);
		else if (mb_strcmp(cmd, "ls") == 0)
			prompt_ls(mb, argp);
		else if (*cmd)
			mb_printf(mb, "miniboot: unknown command '%s'\n", cmd);
	}
}
