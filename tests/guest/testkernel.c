/* testkernel.c: the test kernel: reports the loader's preload metadata on COM1, then exits as kenv asks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "freebsd_abi.h"

#define COM1          0x3f8
#define COM_LSR       5
#define LSR_THRE      0x20
#define PORT_PM1A_CNT 0x404
#define PM1_S5_SLEEP  ((5 << 10) | 0x2000) /* SLP_TYP 5 (S5) | SLP_EN */
#define PORT_RESET    0xcf9
#define RESET_HARD    0x06                 /* full reset | start */

/*
 * The loader's page tables map physical 0-1 GiB at every 1 GiB of VA, so
 * both physical addresses and KERNBASE-relative ones (the loader hands out
 * either, depending on the record) reach the same byte after this mask.
 */
#define TK_PHYS(a) ((uintptr_t)((uint64_t)(a) & 0x3fffffffULL))

#define TK_MAX_RECORDS    4096
#define TK_MAX_ENV        (64 * 1024)

/* The kernel's own module metadata, which the loader checks before it loads any .ko. */
struct mod_version {
	int mv_version;
};
struct mod_metadata {
	int md_version;
	int md_type;
	const void *md_data;
	const char *md_cval;
};
static const struct mod_version tk_kernel_version = { 1002000 }; /* FreeBSD 10.2 */
static const struct mod_metadata tk_kernel_md = { 1, 3 /* MDT_VERSION */, &tk_kernel_version,
						  "kernel" };
static const struct mod_metadata *const tk_kernel_md_entry
	__attribute__((used, section("set_modmetadata_set"), aligned(8))) = &tk_kernel_md;

void tk_main(uint32_t modulep, uint32_t kernend);

static inline void tk_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void tk_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t tk_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void tk_putc(char c)
{
	while (!(tk_inb(COM1 + COM_LSR) & LSR_THRE))
		;
	tk_outb(COM1, (uint8_t)c);
}

static void tk_putn(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		if (s[i] == '\n')
			tk_putc('\r');
		tk_putc(s[i]);
	}
}

static void tk_puthex(uint64_t v)
{
	char buf[16];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n)
		tk_putc(buf[--n]);
}

static void tk_putdec(uint64_t v)
{
	char buf[20];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		tk_putc(buf[--n]);
}

/* printf for %s, %u, %x and %lx, %lu (64-bit); "\n" is sent as CRLF. */
static void tk_printf(const char *fmt, ...)
{
	va_list ap;
	int is_long;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			tk_putn(fmt, 1);
			continue;
		}
		is_long = fmt[1] == 'l';
		if (is_long)
			fmt++;
		switch (*++fmt) {
		case 's':
			tk_putn(va_arg(ap, const char *), (size_t)-1);
			break;
		case 'x':
			tk_puthex(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned));
			break;
		case 'u':
			tk_putdec(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned));
			break;
		default:
			tk_putc('%');
			tk_putc(*fmt);
			break;
		}
	}
	va_end(ap);
}

static int tk_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The value of "name=" in a kenv string, or NULL. */
static const char *tk_kenv_value(const char *s, const char *name)
{
	while (*name && *s == *name)
		s++, name++;
	return (*name == '\0' && *s == '=') ? s + 1 : NULL;
}

static uint64_t tk_uint(const uint8_t *p, uint32_t size)
{
	if (size == 4)
		return *(const uint32_t *)p;
	if (size == 8)
		return *(const uint64_t *)p;
	return 0;
}

struct tk_module {
	const char *name, *type;
	uint32_t name_len, type_len;
	uint64_t addr, size;
};

static void tk_module_print(const struct tk_module *m)
{
	if (!m->name)
		return;
	tk_printf("testkernel: module name=");
	tk_putn(m->name, m->name_len);
	tk_printf(" type=");
	if (m->type)
		tk_putn(m->type, m->type_len);
	else
		tk_printf("none");
	tk_printf(" addr=0x%lx size=0x%lx\n", m->addr, m->size);
}

struct tk_boot {
	uint32_t howto;
	const uint8_t *smap;
	uint32_t smap_size;
	const char *envp;
};

/* Walk the records: print every module, keep the kernel's howto, SMAP and environment. */
static void tk_walk(uint32_t modulep, struct tk_boot *b)
{
	const uint8_t *p = (const uint8_t *)TK_PHYS(modulep);
	struct tk_module m = { 0 };

	for (int n = 0; n < TK_MAX_RECORDS; n++) {
		uint32_t type = ((const uint32_t *)p)[0];
		uint32_t size = ((const uint32_t *)p)[1];
		const uint8_t *data = p + 8;

		if (type == MODINFO_END)
			break;
		switch (type) {
		case MODINFO_NAME:
			tk_module_print(&m);
			m = (struct tk_module){ .name = (const char *)data, .name_len = size };
			break;
		case MODINFO_TYPE:
			m.type = (const char *)data;
			m.type_len = size;
			break;
		case MODINFO_ADDR:
			m.addr = tk_uint(data, size);
			break;
		case MODINFO_SIZE:
			m.size = tk_uint(data, size);
			break;
		case MODINFO_METADATA | MODINFOMD_HOWTO:
			b->howto = (uint32_t)tk_uint(data, size);
			break;
		case MODINFO_METADATA | MODINFOMD_SMAP:
			b->smap = data;
			b->smap_size = size;
			break;
		case MODINFO_METADATA | MODINFOMD_ENVP:
			b->envp = (const char *)TK_PHYS(tk_uint(data, size));
			break;
		default:
			break;
		}
		p = data + ((size + 7) & ~7u);
	}
	tk_module_print(&m);
}

static void tk_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void tk_triplefault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) null_idt = { 0, 0 };

	/*
	 * No IDT: the #UD cannot be delivered (#GP), nor can that (#DF), so
	 * the CPU shuts down.  A fault, not int3: a software interrupt through
	 * an empty IDT ends in an emulation error on PVM-based KVM hosts.
	 */
	__asm__ volatile("lidt %0; ud2" : : "m"(null_idt));
}

static void tk_exit(const char *action)
{
	if (!action)
		action = "halt";
	if (tk_streq(action, "poweroff")) {
		tk_printf("testkernel: poweroff\n");
		tk_outw(PORT_PM1A_CNT, PM1_S5_SLEEP);
	} else if (tk_streq(action, "reset")) {
		tk_printf("testkernel: reset\n");
		tk_outb(PORT_RESET, RESET_HARD);
	} else if (tk_streq(action, "triplefault")) {
		tk_printf("testkernel: triplefault\n");
		tk_triplefault();
	} else if (tk_streq(action, "spin")) {
		tk_printf("testkernel: spin\n");
		for (;;)
			__asm__ volatile("pause");
	} else if (tk_streq(action, "halt")) {
		tk_printf("testkernel: halt\n");
	} else {
		tk_printf("testkernel: unknown exit action %s, halt\n", action);
	}
	tk_halt();
}

void tk_main(uint32_t modulep, uint32_t kernend)
{
	struct tk_boot b = { 0 };
	const char *action = NULL;

	tk_printf("testkernel: start modulep=0x%x kernend=0x%x\n", modulep, kernend);
	tk_walk(modulep, &b);
	tk_printf("testkernel: howto=0x%x\n", b.howto);
	for (uint32_t off = 0; b.smap && off + 20 <= b.smap_size; off += 20) {
		const uint8_t *e = b.smap + off;

		tk_printf("testkernel: smap base=0x%lx len=0x%lx type=%u\n",
			  *(const uint64_t *)e, *(const uint64_t *)(e + 8), *(const uint32_t *)(e + 16));
	}
	for (const char *s = b.envp, *end = b.envp + TK_MAX_ENV; s && s < end && *s;) {
		const char *v = tk_kenv_value(s, "testkernel.exit");

		if (v)
			action = v;
		tk_printf("testkernel: kenv %s\n", s);
		while (*s)
			s++;
		s++;
	}
	tk_exit(action);
}
