/* sandbox_msg.c: packing the plugin child's result and checking every field of it in the parent before use. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "plugin_interp.h"
#include "sandbox_msg.h"

/* The bits a FreeBSD entry state may carry (userboot sets PG|PE|NE, PAE|VMXE, LME|LMA). */
#define MSG_CR0_OK   0x80010033ULL /* PE MP ET NE WP PG */
#define MSG_CR4_OK   0x000020b0ULL /* PSE PAE PGE VMXE */
#define MSG_EFER_OK  0x00000d01ULL /* SCE LME LMA NXE */
#define MSG_PAGE     4096ULL
#define MSG_GDT_MAX  0x10000ULL    /* a descriptor-table limit has 16 bits */
#define MSG_GDT32    32ULL         /* the four descriptors kvm_x86 writes for the i386 entry */
#define MSG_TSS32    0x1000ULL     /* ... and the TSS a page above them */

void sandbox_msg_pack(struct sandbox_msg *m, enum loader_leave leave, int exit_value,
		      const char *interp, const struct boot_regs *r, const struct footprint *written)
{
	memset(m, 0, sizeof(*m));
	m->magic = SANDBOX_MSG_MAGIC;
	m->leave = (uint32_t)leave;
	m->exit_value = exit_value;
	if (interp)
		strncpy(m->interp, interp, sizeof(m->interp) - 1);
	m->gdt_set = r->gdt_set;
	m->gpr_set = r->gpr_set;
	m->rip = r->rip;
	m->rsp = r->rsp;
	m->cr0 = r->cr0;
	m->cr3 = r->cr3;
	m->cr4 = r->cr4;
	m->efer = r->efer;
	m->gdt_base = r->gdt_base;
	m->gdt_size = r->gdt_size;
	memcpy(m->gpr, r->gpr, sizeof(m->gpr));
	m->nwritten = written->n;
	for (uint32_t i = 0; i < written->n && i < FOOTPRINT_MAX; i++) {
		m->written[i][0] = written->r[i].start;
		m->written[i][1] = written->r[i].end;
	}
}

/* Bits 63..47 all equal: an address the vCPU can load into rip or rsp. */
static bool msg_canonical(uint64_t v)
{
	uint64_t top = v >> 47;

	return top == 0 || top == 0x1ffff;
}

static int msg_check_regs(const struct sandbox_msg *m, const struct gmem *g, char *err, size_t errlen)
{
	if (m->cr0 & ~MSG_CR0_OK)
		return errmsg_set(err, errlen, EPROTO, "cr0 0x%llx has bits a FreeBSD entry does not use",
				  (unsigned long long)m->cr0);
	if (m->cr4 & ~MSG_CR4_OK)
		return errmsg_set(err, errlen, EPROTO, "cr4 0x%llx has bits a FreeBSD entry does not use",
				  (unsigned long long)m->cr4);
	if (m->efer & ~MSG_EFER_OK)
		return errmsg_set(err, errlen, EPROTO, "efer 0x%llx has bits a FreeBSD entry does not use",
				  (unsigned long long)m->efer);
	if (m->gpr_set & ~0x7fffu)
		return errmsg_set(err, errlen, EPROTO, "register mask 0x%x names registers beyond r15", m->gpr_set);
	if (m->gdt_set > 1)
		return errmsg_set(err, errlen, EPROTO, "gdt_set %u is not 0 or 1", m->gdt_set);
	if (!m->gdt_set && (m->gdt_base || m->gdt_size))
		return errmsg_set(err, errlen, EPROTO, "a GDT (base 0x%llx) without setgdt", (unsigned long long)m->gdt_base);
	if (m->gdt_set && m->gdt_size > MSG_GDT_MAX)
		return errmsg_set(err, errlen, EPROTO, "GDT size %llu is more than 64 KiB", (unsigned long long)m->gdt_size);
	/* boot_regs_long_mode's rule: a non-zero cr3 means the long-mode entry. */
	if (m->cr3 != 0) {
		if (m->cr3 % MSG_PAGE || !gmem_ptr(g, m->cr3, MSG_PAGE))
			return errmsg_set(err, errlen, EPROTO, "cr3 0x%llx is not a page of guest memory",
					  (unsigned long long)m->cr3);
		if (!msg_canonical(m->rip) || !msg_canonical(m->rsp))
			return errmsg_set(err, errlen, EPROTO, "rip 0x%llx or rsp 0x%llx is not a canonical address",
					  (unsigned long long)m->rip, (unsigned long long)m->rsp);
		if (m->gdt_set && !gmem_ptr(g, m->gdt_base, m->gdt_size))
			return errmsg_set(err, errlen, EPROTO, "GDT [0x%llx, +%llu) is not in guest memory",
				       (unsigned long long)m->gdt_base, (unsigned long long)m->gdt_size);
		return 0;
	}
	if (m->rip > UINT32_MAX || m->rsp > UINT32_MAX)
		return errmsg_set(err, errlen, EPROTO, "i386 entry: rip 0x%llx or rsp 0x%llx is above 4 GiB",
				  (unsigned long long)m->rip, (unsigned long long)m->rsp);
	if (m->gdt_base > UINT32_MAX - MSG_TSS32 || !gmem_ptr(g, m->gdt_base, MSG_GDT32))
		return errmsg_set(err, errlen, EPROTO, "i386 entry: GDT base 0x%llx is not in guest memory",
				  (unsigned long long)m->gdt_base);
	return 0;
}

/* The footprint: a sorted list of disjoint ranges, each inside guest memory. */
static int msg_check_written(const struct sandbox_msg *m, const struct gmem *g, struct footprint *out,
			     char *err, size_t errlen)
{
	if (m->nwritten > FOOTPRINT_MAX)
		return errmsg_set(err, errlen, EPROTO, "%u written ranges (at most %d)", m->nwritten, FOOTPRINT_MAX);
	out->n = m->nwritten;
	for (uint32_t i = 0; i < m->nwritten; i++) {
		out->r[i].start = m->written[i][0];
		out->r[i].end = m->written[i][1];
		if (out->r[i].start >= out->r[i].end ||
		    !gmem_ptr(g, out->r[i].start, out->r[i].end - out->r[i].start))
			return errmsg_set(err, errlen, EPROTO, "written range [0x%llx, 0x%llx) is not guest memory",
				       (unsigned long long)out->r[i].start,
				       (unsigned long long)out->r[i].end);
	}
	if (footprint_check(out) < 0)
		return errmsg_set(err, errlen, EPROTO, "written ranges out of order or overlapping");
	return 0;
}

static int msg_check_interp(const char *s, char *err, size_t errlen)
{
	size_t n = strnlen(s, SANDBOX_MSG_INTERP);

	if (n == 0 || n == SANDBOX_MSG_INTERP)
		return errmsg_set(err, errlen, EPROTO, "interpreter name of %zu bytes (1 to %d, NUL-terminated)", n,
				  SANDBOX_MSG_INTERP - 1);
	for (size_t i = 0; i < n; i++)
		if (!plugin_interp_char_ok(s[i]))
			return errmsg_set(err, errlen, EPROTO, "interpreter name with byte 0x%02x (only a-z 0-9)",
					  (unsigned char)s[i]);
	return 0;
}

int sandbox_msg_check(const void *buf, size_t len, const struct gmem *g, struct sandbox_result *out,
		      char *err, size_t errlen)
{
	struct sandbox_msg m;
	int r = 0;

	if (len != sizeof(m))
		return errmsg_set(err, errlen, EPROTO, "%zu bytes instead of %zu", len, sizeof(m));
	memcpy(&m, buf, sizeof(m));
	if (m.magic != SANDBOX_MSG_MAGIC)
		return errmsg_set(err, errlen, EPROTO, "no result header (0x%08x)", m.magic);
	memset(out, 0, sizeof(*out));
	switch (m.leave) {
	case LEAVE_EXIT:
		if (m.exit_value < 0 || m.exit_value > 255)
			return errmsg_set(err, errlen, EPROTO, "exit value %d outside 0..255", m.exit_value);
		out->exit_value = m.exit_value;
		break;
	case LEAVE_SWAP:
		r = msg_check_interp(m.interp, err, errlen);
		memcpy(out->interp, m.interp, sizeof(out->interp));
		break;
	case LEAVE_EXEC:
		r = msg_check_regs(&m, g, err, errlen);
		out->regs = (struct boot_regs){
			.rip = m.rip, .rsp = m.rsp, .cr0 = m.cr0, .cr3 = m.cr3, .cr4 = m.cr4,
			.efer = m.efer, .gdt_base = m.gdt_base, .gdt_size = m.gdt_size,
			.gdt_set = m.gdt_set != 0, .gpr_set = m.gpr_set,
		};
		memcpy(out->regs.gpr, m.gpr, sizeof(m.gpr));
		if (r == 0)
			r = msg_check_written(&m, g, &out->written, err, errlen);
		break;
	case LEAVE_ERROR:
		break;
	default:
		return errmsg_set(err, errlen, EPROTO, "leave reason %u is not exit, exec, swap or error", m.leave);
	}
	if (r < 0)
		return r;
	out->leave = (enum loader_leave)m.leave;
	return 0;
}
