/* mb_conf.c: the loader.conf subset miniboot honours: variables, foo_load and foo_name modules, exec ignored. */
#include "mb.h"

#define CONF_MAX_SIZE (1u << 20)
#define CONF_MAX_FILES 8

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_char(char c)
{
	return c > ' ' && c != '=' && c != '#' && c != '"' && c != 0x7f;
}

static struct mb_module *conf_module(struct mb *mb, const char *prefix, size_t plen)
{
	for (int i = 0; i < mb->nmods; i++)
		if (mb_strlen(mb->mods[i].prefix) == plen &&
		    mb_strncmp(mb->mods[i].prefix, prefix, plen) == 0)
			return &mb->mods[i];
	if (mb->nmods == MB_NMODS || plen == 0 || plen >= sizeof(mb->mods[0].prefix))
		return NULL;
	struct mb_module *m = &mb->mods[mb->nmods++];
	memcpy(m->prefix, prefix, plen);
	m->prefix[plen] = '\0';
	m->name[0] = '\0';
	m->load = false;
	return m;
}

/* Module properties of the real loader; only _load and _name change what miniboot does. */
static bool conf_module_var(struct mb *mb, const char *name, const char *value)
{
	static const char *const props[] = { "_load", "_name", "_type", "_flags",
					     "_before", "_after", "_error" };

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		struct mb_module *m;

		if (!mb_endswith(name, props[i]))
			continue;
		m = conf_module(mb, name, mb_strlen(name) - mb_strlen(props[i]));
		if (!m)
			return false;
		if (i == 0)
			m->load = mb_strcasecmp(value, "YES") == 0;
		else if (i == 1)
			mb_strlcpy(m->name, value, sizeof(m->name));
		return true;
	}
	return false;
}

/* Parse one line in place; false if it is not `name = value [# comment]`. */
static bool conf_line(struct mb *mb, char *line)
{
	char *name, *value;
	char *p = line;

	while (is_space(*p))
		p++;
	if (!*p || *p == '#')
		return true;
	name = p;
	while (is_name_char(*p))
		p++;
	if (p == name)
		return false;
	char *name_end = p;
	while (is_space(*p))
		p++;
	if (*p != '=')
		return false;
	*name_end = '\0';
	p++;
	while (is_space(*p))
		p++;
	if (*p == '"') {
		value = ++p;
		while (*p && *p != '"')
			p++;
		if (*p != '"')
			return false;
		*p++ = '\0';
	} else {
		value = p;
		while (*p && !is_space(*p) && *p != '#' && *p != '"')
			p++;
		if (*p == '"')
			return false;
		if (*p)
			*p++ = '\0';
		else
			*p = '\0';
	}
	while (is_space(*p))
		p++;
	if (*p && *p != '#')
		return false;
	if (mb_strcmp(name, "exec") == 0)
		return true; /* Forth/Lua code: no interpreter here */
	if (conf_module_var(mb, name, value))
		return true;
	return mb_setenv(mb, name, value) == 0;
}

/* Read and apply one file; a file that cannot be opened is skipped quietly. */
static void conf_file(struct mb *mb, const char *path)
{
	size_t mark = mb->arena_used, got;
	struct mb_file *f;
	char *buf;
	int err, lineno = 0;

	f = mb_open(mb, path, &err);
	if (!f)
		return;
	mb_printf(mb, "Loading %s\n", path);
	buf = mb_alloc(mb, CONF_MAX_SIZE + 1);
	err = buf ? mb_read(f, buf, CONF_MAX_SIZE + 1, &got) : FBSD_ENOMEM;
	mb_close(f);
	if (!err && got > CONF_MAX_SIZE)
		err = FBSD_EFBIG;
	if (err) {
		mb_printf(mb, "miniboot: warning: %s: %s\n", path, mb_strerror(err));
		mb->arena_used = mark;
		return;
	}
	buf[got] = '\0';
	for (char *line = buf; line < buf + got;) {
		char *nl = line;

		while (nl < buf + got && *nl != '\n')
			nl++;
		*nl = '\0';
		lineno++;
		if (mb_strlen(line) != (size_t)(nl - line) || !conf_line(mb, line))
			mb_printf(mb, "miniboot: warning: %s:%d: cannot parse this line\n", path, lineno);
		line = nl + 1;
	}
	mb->arena_used = mark;
}

void mb_conf_load(struct mb *mb)
{
	char list[512];
	char *p = list;
	int n = 0;

	conf_file(mb, "/boot/defaults/loader.conf");
	/* The list is read once, after the defaults, as the real loader starts from it. */
	const char *files = mb_getenv(mb, "loader_conf_files");
	mb_strlcpy(list, files ? files : "/boot/loader.conf", sizeof(list));
	while (*p && n < CONF_MAX_FILES) {
		char *name;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
		conf_file(mb, name);
		n++;
	}
}
