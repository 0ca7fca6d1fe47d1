/* testkernel.c: the test kernel: reports entry state, boot metadata and platform on COM1; exits as kenv asks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "freebsd_abi.h"

#define COM1          0x3f8
#define COM_LSR       5
#define LSR_THRE      0x20
#define PORT_PM1A_CNT 0x404
#define PM1_SLP_S5    5                    /* SLP_TYP of S5 on kvmload's builtin machine */
#define PM1_SLP_EN    0x2000
#define PM1_PWRBTN    0x0100               /* PWRBTN_STS in PM1 status, PWRBTN_EN in PM1 enable */
#define PORT_RESET    0xcf9
#define RESET_HARD    0x06                 /* full reset | start */
#define PORT_PVPANIC  0x505                /* QEMU's pvpanic ISA device */
#define PVPANIC_PANIC 0x1
#define PORT_PCI_ADDR 0xcf8
#define PORT_PCI_DATA 0xcfc
#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA  0x71
#define RTC_SECONDS    0x00

/*
 * The loader's page tables map physical 0-1 GiB at every 1 GiB of VA, so
 * both physical addresses and KERNBASE-relative ones (the loader hands out
 * either, depending on the record) reach the same byte after this mask.
 */
#define TK_PHYS(a) ((uintptr_t)((uint64_t)(a) & 0x3fffffffULL))

#define TK_MAX_RECORDS    4096
#define TK_MAX_ENV        (64 * 1024)
#define TK_GIB            0x40000000ULL      /* what the loader's page tables reach */

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

/* The CPU state at btext, saved by entry.S; the offsets are spelled out there too. */
struct tk_dtr {
	uint16_t limit;
	uint64_t base;
	uint8_t pad[6];
} __attribute__((packed));

struct tk_entry {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rsp, rflags, cr0, cr3, cr4, efer;
	uint64_t cs, ds, es, fs, gs, ss, tr, ldtr; /* 16-bit stores into zeroed slots */
	struct tk_dtr gdtr, idtr;
};
_Static_assert(offsetof(struct tk_entry, rsp) == 120 && offsetof(struct tk_entry, cs) == 168 &&
	       offsetof(struct tk_entry, gdtr) == 232 && sizeof(struct tk_entry) == 264,
	       "struct tk_entry must match the E_* offsets in entry.S");
extern const struct tk_entry tk_entry;

static inline void tk_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void tk_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void tk_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t tk_inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t tk_inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
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

static void tk_puthex(uint64_t v, int width)
{
	char buf[16];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v || n < width);
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

/* printf for %s, %u, %x, %0Nx (N one digit) and %lx, %lu (64-bit); "\n" is sent as CRLF. */
static void __attribute__((format(printf, 1, 2))) tk_printf(const char *fmt, ...)
{
	va_list ap;
	int is_long, width;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			tk_putn(fmt, 1);
			continue;
		}
		width = 0;
		if (fmt[1] == '0' && fmt[2] >= '1' && fmt[2] <= '9') {
			width = fmt[2] - '0';
			fmt += 2;
		}
		is_long = fmt[1] == 'l';
		if (is_long)
			fmt++;
		switch (*++fmt) {
		case 's':
			tk_putn(va_arg(ap, const char *), (size_t)-1);
			break;
		case 'x':
			tk_puthex(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), width);
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

/* Little-endian loads that need no alignment: firmware tables pack 64-bit fields at 4 mod 8. */
static uint32_t tk_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t tk_le64(const uint8_t *p)
{
	return tk_le32(p) | (uint64_t)tk_le32(p + 4) << 32;
}

static int tk_memeq(const uint8_t *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)s[i])
			return 0;
	return 1;
}

static uint8_t tk_sum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* n firmware bytes as a printable string, unprintable ones as '?'; trim drops trailing blanks. */
static void tk_text(char *out, const uint8_t *p, size_t n, int trim)
{
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	while (trim && n && (p[n - 1] == ' ' || p[n - 1] == '\0'))
		n--;
	out[n] = '\0';
}

#define ACPI_HDR_LEN    36
#define ACPI_MAX_LEN    (1024 * 1024)
#define ACPI_MAX_ENTRIES 256
/* RSDT and XSDT, their entries, and FACS and DSDT in both widths. */
#define ACPI_MAX_TABLES (2 + 2 * ACPI_MAX_ENTRIES + 4)

struct tk_table {
	char sig[5];
	uint64_t addr;
	uint32_t len;
};

struct tk_acpi {
	struct tk_table rsdp;
	struct tk_table tab[ACPI_MAX_TABLES];
	unsigned ntab;
	/* The last FADT and MADT seen: the XSDT is walked after the RSDT and so wins. */
	const uint8_t *fadt, *madt;
	uint32_t fadt_len, madt_len;
};

/*
 * What poweroff writes; without ACPI, the port and S5 value of kvmload's
 * builtin machine.  evt_sts and evt_en, the PM1a status and enable ports,
 * come from the FADT only: 0 leaves spin deaf to the power button.
 */
struct tk_power {
	uint16_t port;
	uint8_t slp_typ;
	uint16_t evt_sts, evt_en;
};

/*
 * Print and record the table at physical addr (want names it if it cannot
 * be read) and check its checksum if it has one.  Returns its bytes and
 * sets *lenp, or returns NULL when the page tables do not reach it.
 */
static const uint8_t *tk_acpi_table(struct tk_acpi *a, uint64_t addr, const char *want,
				    int has_sum, uint32_t *lenp)
{
	struct tk_table t = { .addr = addr };
	const uint8_t *p;

	if (addr >= TK_GIB || TK_GIB - addr < ACPI_HDR_LEN) {
		tk_printf("testkernel: acpi table %s addr=0x%lx beyond 1 GiB\n", want, addr);
		return NULL;
	}
	p = (const uint8_t *)TK_PHYS(addr);
	tk_text(t.sig, p, 4, 0);
	t.len = tk_le32(p + 4);
	if (t.len > ACPI_MAX_LEN)
		t.len = ACPI_MAX_LEN;
	if (t.len > TK_GIB - addr)
		t.len = (uint32_t)(TK_GIB - addr);
	tk_printf("testkernel: acpi table %s addr=0x%lx len=%u\n", t.sig, addr, t.len);
	/* A table shorter than the common header cannot be sound, whatever its bytes sum to. */
	if (has_sum && (t.len < ACPI_HDR_LEN || tk_sum(p, t.len)))
		tk_printf("testkernel: acpi bad checksum %s addr=0x%lx\n", t.sig, addr);
	if (a->ntab < ACPI_MAX_TABLES)
		a->tab[a->ntab++] = t;
	*lenp = t.len;
	return p;
}

/* The RSDT (esize 4) or XSDT (esize 8) and every table it lists. */
static void tk_acpi_sdt(struct tk_acpi *a, uint64_t addr, const char *want, uint32_t esize)
{
	uint32_t len, n;
	const uint8_t *p = tk_acpi_table(a, addr, want, 1, &len);

	if (!p || len < ACPI_HDR_LEN)
		return;
	n = (len - ACPI_HDR_LEN) / esize;
	if (n > ACPI_MAX_ENTRIES)
		n = ACPI_MAX_ENTRIES;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = p + ACPI_HDR_LEN + i * esize;
		uint64_t ta = esize == 8 ? tk_le64(e) : tk_le32(e);
		const uint8_t *t;
		uint32_t tlen;

		if (!ta)
			continue;
		t = tk_acpi_table(a, ta, "????", 1, &tlen);
		if (t && tk_memeq(t, "FACP", 4)) {
			a->fadt = t;
			a->fadt_len = tlen;
		} else if (t && tk_memeq(t, "APIC", 4)) {
			a->madt = t;
			a->madt_len = tlen;
		}
	}
}

/* SLP_TYP from the DSDT's Name (_S5, Package () { SLP_TYPa, ... }), or -1. */
static int tk_acpi_s5(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = ACPI_HDR_LEN; i + 5 <= len; i++) {
		uint32_t j = i + 5;

		if (!tk_memeq(p + i, "_S5_", 4) || p[i + 4] != 0x12) /* PackageOp */
			continue;
		if (j >= len)
			return -1;
		j += 1 + (p[j] >> 6); /* PkgLength: bits 7-6 count its further bytes */
		j += 1;               /* NumElements */
		if (j >= len)
			return -1;
		if (p[j] == 0x00 || p[j] == 0x01) /* ZeroOp, OneOp */
			return p[j];
		if (p[j] == 0x0a && j + 1 < len) /* BytePrefix */
			return p[j + 1];
		return -1;
	}
	return -1;
}

/* FACS and DSDT from the FADT; the PM1a control port and S5 value if both are there. */
static void tk_acpi_fadt(struct tk_acpi *a, struct tk_power *pw)
{
	const uint8_t *f = a->fadt, *dsdt = NULL, *t;
	uint32_t len = a->fadt_len, dlen = 0, tlen;
	uint64_t facs = len >= 40 ? tk_le32(f + 36) : 0, xfacs = len >= 140 ? tk_le64(f + 132) : 0;
	uint64_t dsdt_a = len >= 44 ? tk_le32(f + 40) : 0, xdsdt = len >= 148 ? tk_le64(f + 140) : 0;
	uint32_t pm1a = len >= 68 ? tk_le32(f + 64) : 0;
	/* PM1a_EVT_BLK: the status register, then the enable one PM1_EVT_LEN / 2 bytes on. */
	uint32_t evt = len >= 60 ? tk_le32(f + 56) : 0, evt_len = len >= 89 ? f[88] : 0;
	int slp;

	/* The 64-bit fields usually repeat the 32-bit ones: print each table once. */
	if (facs)
		tk_acpi_table(a, facs, "FACS", 0, &tlen);
	if (xfacs && xfacs != facs)
		tk_acpi_table(a, xfacs, "FACS", 0, &tlen);
	if (dsdt_a)
		dsdt = tk_acpi_table(a, dsdt_a, "DSDT", 1, &dlen);
	/* X_DSDT, when set, is the one the OS must use. */
	if (xdsdt && xdsdt != dsdt_a && (t = tk_acpi_table(a, xdsdt, "DSDT", 1, &tlen))) {
		dsdt = t;
		dlen = tlen;
	}
	if (evt && evt_len >= 4 && evt + evt_len / 2 <= 0xffff) {
		pw->evt_sts = (uint16_t)evt;
		pw->evt_en = (uint16_t)(evt + evt_len / 2);
	}
	slp = dsdt ? tk_acpi_s5(dsdt, dlen) : -1;
	if (pm1a && pm1a <= 0xffff && slp >= 0) {
		pw->port = (uint16_t)pm1a;
		pw->slp_typ = (uint8_t)(slp & 7); /* SLP_TYP is three bits */
	}
}

/* The RSDP's physical address in the BIOS area, or 0. */
static uint64_t tk_rsdp_find(void)
{
	for (uint64_t addr = 0xe0000; addr < 0x100000; addr += 16) {
		const uint8_t *p = (const uint8_t *)TK_PHYS(addr);
		uint32_t len;

		if (!tk_memeq(p, "RSD PTR ", 8) || tk_sum(p, 20))
			continue;
		if (p[15] < 2)
			return addr;
		len = tk_le32(p + 20);
		if (len >= 36 && len <= ACPI_MAX_LEN && !tk_sum(p, len))
			return addr;
	}
	return 0;
}

static void tk_madt(const uint8_t *p, uint32_t len)
{
	unsigned cpus = 0, ioapics = 0;

	for (uint32_t off = 44; p && off + 2 <= len;) {
		uint8_t type = p[off], elen = p[off + 1];

		if (elen < 2 || elen > len - off)
			break;
		if (type == 0 && elen >= 8 && (tk_le32(p + off + 4) & 1)) /* local APIC, enabled */
			cpus++;
		else if (type == 1)
			ioapics++;
		off += elen;
	}
	tk_printf("testkernel: madt cpus=%u ioapics=%u\n", cpus, ioapics);
}

/* Every table (and the RSDP) that lies in RAM the SMAP offers the kernel. */
static void tk_acpi_smap(const struct tk_acpi *a, const uint8_t *smap, uint32_t smap_size)
{
	unsigned overlaps = 0;

	for (unsigned i = 0; i <= a->ntab; i++) {
		const struct tk_table *t = i ? &a->tab[i - 1] : &a->rsdp;

		for (uint32_t off = 0; smap && off + 20 <= smap_size; off += 20) {
			uint64_t base = tk_le64(smap + off), len = tk_le64(smap + off + 8);

			if (tk_le32(smap + off + 16) != 1 || !len || !t->len)
				continue;
			if (t->addr >= base ? t->addr - base >= len : base - t->addr >= t->len)
				continue;
			tk_printf("testkernel: acpi table %s addr=0x%lx len=%u overlaps smap "
				  "base=0x%lx len=0x%lx\n", t->sig, t->addr, t->len, base, len);
			overlaps++;
		}
	}
	if (!overlaps)
		tk_printf("testkernel: acpi smap ok\n");
}

static void tk_acpi_probe(const struct tk_boot *b, struct tk_power *pw)
{
	static struct tk_acpi a; /* too big for the 16 KiB stack */
	uint64_t rsdp_addr = tk_rsdp_find(), xsdt;
	const uint8_t *rsdp = (const uint8_t *)TK_PHYS(rsdp_addr);
	char oem[7];
	uint32_t rsdt;

	if (!rsdp_addr) {
		tk_printf("testkernel: acpi rsdp none\n");
		return;
	}
	tk_text(oem, rsdp + 9, 6, 1);
	tk_printf("testkernel: acpi rsdp=0x%lx rev=%u oem=%s\n", rsdp_addr, rsdp[15], oem);
	a.rsdp = (struct tk_table){ "RSDP", rsdp_addr, rsdp[15] >= 2 ? 36 : 20 };
	rsdt = tk_le32(rsdp + 16);
	xsdt = rsdp[15] >= 2 ? tk_le64(rsdp + 24) : 0;
	if (rsdt)
		tk_acpi_sdt(&a, rsdt, "RSDT", 4);
	if (xsdt)
		tk_acpi_sdt(&a, xsdt, "XSDT", 8);
	if (a.fadt)
		tk_acpi_fadt(&a, pw);
	tk_acpi_smap(&a, b->smap, b->smap_size);
	tk_madt(a.madt, a.madt_len);
}

static uint32_t tk_pci_read(unsigned dev, unsigned fn, unsigned off)
{
	tk_outl(PORT_PCI_ADDR, 0x80000000u | dev << 11 | fn << 8 | (off & 0xfc)); /* bus 0 */
	return tk_inl(PORT_PCI_DATA);
}

static void tk_pci_write(unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	tk_outl(PORT_PCI_ADDR, 0x80000000u | dev << 11 | fn << 8 | (off & 0xfc));
	tk_outl(PORT_PCI_DATA, v);
}

/*
 * Legacy virtio-pci (virtio 1.x section 4.1.4.8): registers at the start of
 * I/O BAR0.  The device config follows at 0x14 while MSI-X is off, and
 * nothing here turns it on.
 */
#define VIO_HOST_FEATURES 0x00
#define VIO_GUEST_FEATURES 0x04
#define VIO_QUEUE_PFN     0x08
#define VIO_QUEUE_SIZE    0x0c
#define VIO_QUEUE_SEL     0x0e
#define VIO_QUEUE_NOTIFY  0x10
#define VIO_STATUS        0x12
#define VIO_CONFIG        0x14
#define VIO_S_ACK_DRIVER  3                /* ACKNOWLEDGE | DRIVER */
#define VIO_S_DRIVER_OK   4
#define VIO_BLK_F_RO      5
#define VIO_BLK_T_IN      0
#define VQ_F_NEXT         1
#define VQ_F_WRITE        2
#define VQ_AVAIL_NO_INTR  1
#define VQ_MAX            1024             /* QEMU's largest queue-size */
#define VQ_PAGE           4096             /* the legacy ring's alignment and PFN unit */
#define VQ_ALIGN(x)       (((x) + VQ_PAGE - 1) & ~(VQ_PAGE - 1))
/* Descriptors and the avail ring, then the used ring on the next page. */
#define VQ_USED_OFF(q)    VQ_ALIGN(16 * (q) + 6 + 2 * (q))
#define VQ_BYTES(q)       (VQ_USED_OFF(q) + VQ_ALIGN(6 + 8 * (q)))
#define TK_BLKSUM_MAX     2048             /* sectors, 1 MiB */
#define TK_DELAY_MAX      60               /* seconds of testkernel.delay */
#define TK_BLK_CHUNK      64               /* sectors per request: 32 KiB */
#define TK_BLK_POLLS      (1u << 30)       /* pause loops before a request times out */
/*
 * qboot assigns no BARs (the OS does): an unassigned BAR0 goes to
 * 0xc000 + i * 0x100, ports nothing on QEMU's pc decodes (its fixed ones
 * end at pm-smbus, 0xb100-0xb13f) and where SeaBIOS puts PCI I/O.
 */
#define TK_BLK_IO_BASE    0xc000
#define TK_BLK_IO_STRIDE  0x100

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/*
 * What the device reads and writes: in the kernel's bss, which the loader
 * placed below kernend at its VA less KERNBASE (kernel.ld), so TK_PHYS is
 * its bus address and nothing else owns it.  One queue serves each device
 * in turn.
 */
static uint8_t tk_vq[VQ_BYTES(VQ_MAX)] __attribute__((aligned(VQ_PAGE)));
static uint8_t tk_blk_data[TK_BLK_CHUNK * 512] __attribute__((aligned(VQ_PAGE)));
static struct {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t status;
} tk_blk_req __attribute__((aligned(16)));

/* The compiler keeps ring and buffer accesses on their side of it; x86 keeps their order. */
#define TK_BARRIER() __asm__ volatile("" : : : "memory")

/* Read sectors [sector, sector + count) into tk_blk_data on queue 0; a message, or NULL. */
static const char *tk_blk_read(uint16_t io, uint16_t qsize, uint16_t *avail_idx, uint32_t sector,
			       uint32_t count)
{
	struct vq_desc *d = (struct vq_desc *)tk_vq;
	volatile uint16_t *avail = (volatile uint16_t *)(tk_vq + 16 * qsize);
	volatile uint16_t *used = (volatile uint16_t *)(tk_vq + VQ_USED_OFF(qsize));
	uint32_t n;

	tk_blk_req = (typeof(tk_blk_req)){ VIO_BLK_T_IN, 0, sector, 0xff };
	d[0] = (struct vq_desc){ TK_PHYS(&tk_blk_req), 16, VQ_F_NEXT, 1 };
	d[1] = (struct vq_desc){ TK_PHYS(tk_blk_data), count * 512, VQ_F_NEXT | VQ_F_WRITE, 2 };
	d[2] = (struct vq_desc){ TK_PHYS(&tk_blk_req.status), 1, VQ_F_WRITE, 0 };
	avail[2 + *avail_idx % qsize] = 0;
	TK_BARRIER();
	avail[1] = ++*avail_idx;
	TK_BARRIER();
	tk_outw(io + VIO_QUEUE_NOTIFY, 0);
	for (n = 0; used[1] != *avail_idx; n++) {
		if (n == TK_BLK_POLLS)
			return "timeout";
		__asm__ volatile("pause");
	}
	TK_BARRIER();
	return ((volatile uint8_t *)&tk_blk_req.status)[0] ? "status" : NULL;
}

/* BAR0's I/O port, placed if the firmware left it unassigned; 0 with a message. */
static uint16_t tk_blk_bar(unsigned i, unsigned dev, unsigned fn, uint32_t bar)
{
	uint32_t size;

	if (!(bar & 1)) {
		tk_printf("testkernel: blk%u error bar0=0x%x not I/O\n", i, bar);
		return 0;
	}
	if (bar & 0xfffc)
		return (uint16_t)(bar & 0xfffc);
	tk_pci_write(dev, fn, 0x10, 0xffffffff); /* decoding is off: sizing it is safe */
	size = (~tk_pci_read(dev, fn, 0x10) & 0xfffc) + 4;
	if (size > TK_BLK_IO_STRIDE || i >= (0x10000 - TK_BLK_IO_BASE) / TK_BLK_IO_STRIDE) {
		tk_printf("testkernel: blk%u error no I/O space for bar0 size 0x%x\n", i, size);
		return 0;
	}
	tk_pci_write(dev, fn, 0x10, TK_BLK_IO_BASE + i * TK_BLK_IO_STRIDE);
	return (uint16_t)(TK_BLK_IO_BASE + i * TK_BLK_IO_STRIDE);
}

/*
 * One line for the i-th virtio-blk function, 0:dev.fn: its RO bit, size and
 * the CRC-32 of its first nsec sectors.  The function is left as found:
 * reset, its BAR0 and command register put back.
 */
static void tk_blk_sum(unsigned i, unsigned dev, unsigned fn, uint32_t nsec)
{
	uint32_t cmd = tk_pci_read(dev, fn, 0x04) & 0xffff, bar = tk_pci_read(dev, fn, 0x10);
	uint32_t feat, crc = 0xffffffff;
	uint16_t io, qsize, avail_idx = 0;
	uint64_t cap;
	const char *err = NULL;

	if ((tk_pci_read(dev, fn, 0) >> 16) != 0x1001) {
		tk_printf("testkernel: blk%u error no legacy interface\n", i);
		return;
	}
	tk_pci_write(dev, fn, 0x04, cmd & ~0x7u); /* no decoding while BAR0 moves */
	io = tk_blk_bar(i, dev, fn, bar);
	if (!io) {
		tk_pci_write(dev, fn, 0x10, bar);
		tk_pci_write(dev, fn, 0x04, cmd);
		return;
	}
	/* I/O space for the registers, bus master for the ring and data (QEMU checks it). */
	tk_pci_write(dev, fn, 0x04, cmd | 0x5);
	tk_outb(io + VIO_STATUS, 0);
	tk_outb(io + VIO_STATUS, VIO_S_ACK_DRIVER);
	feat = tk_inl(io + VIO_HOST_FEATURES);
	tk_outl(io + VIO_GUEST_FEATURES, 0); /* none needed: RO is only read */
	cap = tk_inl(io + VIO_CONFIG) | (uint64_t)tk_inl(io + VIO_CONFIG + 4) << 32;
	tk_outw(io + VIO_QUEUE_SEL, 0);
	qsize = tk_inw(io + VIO_QUEUE_SIZE); /* fixed by the device in legacy mode */
	if (!qsize || qsize > VQ_MAX || (qsize & (qsize - 1)))
		err = "queue size";
	else if (cap < nsec)
		err = "capacity";
	if (!err) {
		for (volatile uint8_t *p = tk_vq; p < tk_vq + VQ_BYTES(qsize); p++)
			*p = 0; /* volatile: a plain loop may become a memset call */
		((volatile uint16_t *)tk_vq)[8 * qsize] = VQ_AVAIL_NO_INTR;
		tk_outl(io + VIO_QUEUE_PFN, (uint32_t)(TK_PHYS(tk_vq) / VQ_PAGE));
		tk_outb(io + VIO_STATUS, VIO_S_ACK_DRIVER | VIO_S_DRIVER_OK);
	}
	for (uint32_t s = 0; !err && s < nsec; s += TK_BLK_CHUNK) {
		uint32_t count = nsec - s < TK_BLK_CHUNK ? nsec - s : TK_BLK_CHUNK;

		err = tk_blk_read(io, qsize, &avail_idx, s, count);
		/* CRC-32 (IEEE, reflected), as zlib's crc32. */
		for (uint32_t b = 0; !err && b < count * 512; b++) {
			crc ^= tk_blk_data[b];
			for (int k = 0; k < 8; k++)
				crc = crc >> 1 ^ (0xedb88320 & -(crc & 1));
		}
	}
	tk_outb(io + VIO_STATUS, 0); /* reset: the device forgets the queue and stops */
	tk_pci_write(dev, fn, 0x04, cmd & ~0x7u);
	tk_pci_write(dev, fn, 0x10, bar);
	tk_pci_write(dev, fn, 0x04, cmd);
	if (err)
		tk_printf("testkernel: blk%u error %s\n", i, err);
	else
		tk_printf("testkernel: blk%u ro=%u sectors=%lu sum=%08x\n", i,
			  feat >> VIO_BLK_F_RO & 1, cap, ~crc);
}

/*
 * Bus 0 only; where nothing decodes the ports, reads give all ones and the
 * list is empty.  With blksum (sectors, 0 for none) each virtio-blk
 * function then reads and sums its disk's first sectors.
 */
static void tk_pci_probe(uint32_t blksum)
{
	uint8_t blkfn[256]; /* dev << 3 | fn of each virtio-blk function, in PCI order */
	unsigned blk = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = tk_pci_read(dev, fn, 0);
			unsigned vendor = id & 0xffff, device = id >> 16;

			if (vendor == 0xffff || vendor == 0) {
				if (fn == 0)
					break; /* no function 0, no device */
				continue;
			}
			tk_printf("testkernel: pci 0:%u.%u %04x:%04x\n", dev, fn, vendor, device);
			if (vendor == 0x1af4 && (device == 0x1001 || device == 0x1042))
				blkfn[blk++] = (uint8_t)(dev << 3 | fn);
			/* Header type bit 7: the device has functions 1-7. */
			if (fn == 0 && !(tk_pci_read(dev, 0, 0x0c) >> 16 & 0x80))
				break;
		}
	}
	tk_printf("testkernel: pci virtio-blk=%u\n", blk);
	for (unsigned i = 0; blksum && i < blk; i++)
		tk_blk_sum(i, blkfn[i] >> 3, blkfn[i] & 7, blksum);
}

/* kenv testkernel.NAME's value v: a decimal number from 1 to max, else 0 (said on COM1). */
static uint32_t tk_count_arg(const char *name, const char *v, uint32_t max)
{
	uint32_t n = 0;
	const char *s = v;

	while (*s >= '0' && *s <= '9' && n <= max)
		n = n * 10 + (uint32_t)(*s++ - '0');
	if (*s || !n || n > max) {
		tk_printf("testkernel: %s %s: expected 1 to %u\n", name, v, max);
		return 0;
	}
	return n;
}

/* The RTC's seconds register (QEMU's MC146818); 0xff where no RTC answers (the builtin machine). */
static uint8_t tk_rtc_seconds(void)
{
	tk_outb(PORT_RTC_INDEX, RTC_SECONDS);
	return tk_inb(PORT_RTC_DATA);
}

/*
 * Run (interrupts off, never halted) until the RTC's seconds have changed
 * secs times: the host sees a busy vCPU 0 for that long before the exit.
 */
static void tk_delay(uint32_t secs)
{
	uint8_t last = tk_rtc_seconds(), now;

	if (!secs)
		return;
	if (last == 0xff) {
		tk_printf("testkernel: delay: no RTC\n");
		return;
	}
	tk_printf("testkernel: delay %u s\n", secs);
	while (secs) {
		__asm__ volatile("pause");
		now = tk_rtc_seconds();
		if (now != last) {
			last = now;
			secs--;
		}
	}
	tk_printf("testkernel: delay done\n");
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

static void tk_poweroff(const struct tk_power *pw)
{
	tk_printf("testkernel: poweroff\n");
	tk_printf("testkernel: poweroff port=0x%x slp_typ=%x\n", pw->port, pw->slp_typ);
	tk_outw(pw->port, (uint16_t)(pw->slp_typ << 10 | PM1_SLP_EN));
}

/*
 * Spin; with the FADT's PM1a event block, poll it for the power button
 * (interrupts stay off) and answer it as poweroff does.  QEMU sets
 * PWRBTN_STS on system_powerdown only while PWRBTN_EN is set, so enable it
 * before the line that tells the host the guest is spinning.  "chatter"
 * prints a line at every turn meanwhile: a guest that would fill its
 * console log.
 */
static void tk_spin(const struct tk_power *pw, const char *action)
{
	int chatter = tk_streq(action, "chatter");

	if (pw->evt_sts) {
		tk_outw(pw->evt_sts, PM1_PWRBTN); /* write 1 to clear a stale press */
		tk_outw(pw->evt_en, (uint16_t)(tk_inw(pw->evt_en) | PM1_PWRBTN));
	}
	tk_printf("testkernel: %s\n", action);
	for (unsigned long n = 0; !pw->evt_sts || !(tk_inw(pw->evt_sts) & PM1_PWRBTN); n++) {
		if (chatter)
			tk_printf("testkernel: chatter line %lu of a guest that prints without end\n", n);
		else
			__asm__ volatile("pause");
	}
	tk_printf("testkernel: power button\n");
	tk_poweroff(pw);
}

/* x87 with CR0.EM/TS as the loader left them (SSE would need CR4.OSFXSR; x87 does not). */
static void tk_fpu(void)
{
	static const uint16_t cw = 0x037f; /* the fninit default: all exceptions masked */

	__asm__ volatile("fninit; fldcw %0" : : "m"(cw) : "memory");
}

static void tk_exit(const char *action, const struct tk_power *pw)
{
	if (!action)
		action = "halt";
	if (tk_streq(action, "poweroff")) {
		tk_poweroff(pw);
	} else if (tk_streq(action, "panic")) {
		tk_printf("testkernel: panic\n");
		tk_outb(PORT_PVPANIC, PVPANIC_PANIC);
	} else if (tk_streq(action, "reset")) {
		tk_printf("testkernel: reset\n");
		tk_outb(PORT_RESET, RESET_HARD);
	} else if (tk_streq(action, "triplefault")) {
		tk_printf("testkernel: triplefault\n");
		tk_triplefault();
	} else if (tk_streq(action, "spin") || tk_streq(action, "chatter")) {
		tk_spin(pw, action);
	} else if (tk_streq(action, "deaf")) {
		/* Spins and never answers the power button: only a kill ends it. */
		tk_printf("testkernel: deaf\n");
		for (;;)
			__asm__ volatile("pause");
	} else if (tk_streq(action, "fpu")) {
		tk_printf("testkernel: fpu\n");
		tk_fpu();
		tk_printf("testkernel: fpu ok\n");
		tk_printf("testkernel: halt\n");
	} else if (tk_streq(action, "halt")) {
		tk_printf("testkernel: halt\n");
	} else {
		tk_printf("testkernel: unknown exit action %s, halt\n", action);
	}
	tk_halt();
}

/* What the loader left in the registers, as entry.S saved it. */
static void tk_entry_print(void)
{
	const struct tk_entry *e = &tk_entry;

	tk_printf("testkernel: entry rsp=0x%lx rflags=0x%lx cr0=0x%lx cr3=0x%lx cr4=0x%lx efer=0x%lx\n",
		  e->rsp, e->rflags, e->cr0, e->cr3, e->cr4, e->efer);
	tk_printf("testkernel: entry cs=0x%lx ds=0x%lx es=0x%lx fs=0x%lx gs=0x%lx ss=0x%lx tr=0x%lx "
		  "ldtr=0x%lx\n", e->cs, e->ds, e->es, e->fs, e->gs, e->ss, e->tr, e->ldtr);
	tk_printf("testkernel: entry gdtr=0x%lx/0x%x idtr=0x%lx/0x%x\n", e->gdtr.base,
		  e->gdtr.limit, e->idtr.base, e->idtr.limit);
	tk_printf("testkernel: entry rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx rsi=0x%lx rdi=0x%lx "
		  "rbp=0x%lx r8=0x%lx r9=0x%lx r10=0x%lx r11=0x%lx r12=0x%lx r13=0x%lx r14=0x%lx "
		  "r15=0x%lx\n", e->rax, e->rbx, e->rcx, e->rdx, e->rsi, e->rdi, e->rbp, e->r8, e->r9,
		  e->r10, e->r11, e->r12, e->r13, e->r14, e->r15);
}

void tk_main(uint32_t modulep, uint32_t kernend)
{
	struct tk_boot b = { 0 };
	struct tk_power pw = { PORT_PM1A_CNT, PM1_SLP_S5, 0, 0 };
	const char *action = NULL, *blksum = NULL, *delay = NULL;

	tk_printf("testkernel: start modulep=0x%x kernend=0x%x\n", modulep, kernend);
	tk_entry_print();
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
		if ((v = tk_kenv_value(s, "testkernel.blksum")))
			blksum = v;
		if ((v = tk_kenv_value(s, "testkernel.delay")))
			delay = v;
		tk_printf("testkernel: kenv %s\n", s);
		while (*s)
			s++;
		s++;
	}
	tk_acpi_probe(&b, &pw);
	tk_pci_probe(blksum ? tk_count_arg("blksum", blksum, TK_BLKSUM_MAX) : 0);
	if (delay)
		tk_delay(tk_count_arg("delay", delay, TK_DELAY_MAX));
	tk_exit(action, &pw);
}
