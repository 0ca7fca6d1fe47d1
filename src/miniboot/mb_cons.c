/* mb_cons.c: console output through the putc callback and a small printf. */
#include "mb.h"

void mb_putc(struct mb *mb, int c)
{
	/* Like libsa's putchar: the console sees CRLF line ends. */
	if (c == '\n')
		mb->cb->putc(mb->arg, '\r');
	mb->cb->putc(mb->arg, c);
}

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void out_c(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_num(struct fmt_out *o, uint64_t v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		width--;
	if (neg && pad == '0')
		out_c(o, '-');
	for (; width > n; width--)
		out_c(o, pad);
	if (neg && pad != '0')
		out_c(o, '-');
	while (n)
		out_c(o, tmp[--n]);
}

int mb_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0, lng = 0;

		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			out_num(&o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			out_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, width, pad);
			break;
		case 'x':
			out_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, false, width, pad);
			break;
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = (int)mb_strlen(s ? s : "(null)");

			for (; width > n; width--)
				out_c(&o, ' ');
			for (s = s ? s : "(null)"; *s; s++)
				out_c(&o, *s);
			break;
		}
		case '%':
			out_c(&o, '%');
			break;
		default: /* an unknown conversion is a bug in miniboot; show it */
			out_c(&o, '%');
			if (*fmt)
				out_c(&o, *fmt);
			else
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int mb_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mb_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void vprint(struct mb *mb, const char *fmt, va_list ap)
{
	char line[512];

	mb_vsnprintf(line, sizeof(line), fmt, ap);
	for (const char *p = line; *p; p++)
		mb_putc(mb, *p);
}

void mb_printf(struct mb *mb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(mb, fmt, ap);
	va_end(ap);
}

void mb_fatal(struct mb *mb, const char *fmt, ...)
{
	va_list ap;

	mb_printf(mb, "miniboot: ");
	va_start(ap, fmt);
	vprint(mb, fmt, ap);
	va_end(ap);
	mb_putc(mb, '\n');
	exit(1);
}
