/* mb_string.c: the string and memory helpers miniboot needs, since it links no libc. */
#include "mb.h"

/*
 * The compiler may emit calls to memcpy/memmove/memset/memcmp for struct
 * copies even in freestanding code, so these four keep their C names (the
 * plugin then still imports nothing).
 */
void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t mb_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int mb_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}

int mb_strcmp(const char *a, const char *b)
{
	return mb_strncmp(a, b, (size_t)-1);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int mb_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = lower((unsigned char)*a), y = lower((unsigned char)*b);

		if (x != y)
			return x < y ? -1 : 1;
		if (!x)
			return 0;
	}
}

size_t mb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = mb_strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t mb_strlcat(char *dst, const char *src, size_t size)
{
	size_t d = 0;

	while (d < size && dst[d])
		d++;
	if (d == size)
		return d + mb_strlen(src);
	return d + mb_strlcpy(dst + d, src, size - d);
}

char *mb_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)(uintptr_t)s;
		if (!*s)
			return NULL;
	}
}

const void *mb_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
	const uint8_t *h = hay;

	if (nlen == 0)
		return hay;
	for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (h[i] == *(const uint8_t *)needle && memcmp(h + i, needle, nlen) == 0)
			return h + i;
	return NULL;
}

bool mb_endswith(const char *s, const char *suffix)
{
	size_t n = mb_strlen(s), m = mb_strlen(suffix);

	return n >= m && mb_strcmp(s + n - m, suffix) == 0;
}
