/* plugin_gen.c: telling a userboot plugin's generation (version, callback layout, stat form) from its bytes. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "plugin_interp.h"
#include "plugin.h"
#include "plugin_elf.h"

#define GEN_EXIT_WINDOW 64     /* exit is CALLBACK(exit, v) then longjmp: short */
#define GEN_STAT_WINDOW 256
#define GEN_FO_STAT 0x30       /* struct fs_ops: name, open, close, read, write, seek, stat */
#define GEN_SLOT_STAT 0x48
#define GEN_SLOT_EXIT_OLD 0x98 /* exit without the diskwrite slot */
#define GEN_SLOT_EXIT_DW 0xa0  /* exit in the 13.0+ table */

#define REJECT(...) errmsg_set(err, errlen, ENOEXEC, __VA_ARGS__)

/* "$Interpreter:" then 1..PLUGIN_INTERP_MAX of [a-z0-9] and a NUL, anywhere in the file bytes. */
static bool gen_marker(const struct plugin_elf *img, char interp[PLUGIN_INTERP_MAX + 1])
{
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct plugin_elf_seg *sg = &img->seg[i];
		struct span s;

		if (sg->filesz != 0 && plugin_elf_span(img, sg->vaddr, sg->filesz, 0, &s) == 0 &&
		    plugin_interp_find(s, interp))
			return true;
	}
	return false;
}

/* Up to max code bytes at vaddr, inside an executable, readable PT_LOAD. */
static int gen_code(const struct plugin_elf *img, uint64_t vaddr, uint64_t max, struct span *out)
{
	for (uint64_t n = max; n > 0; n--)
		if (plugin_elf_span(img, vaddr, n, PF_X, out) == 0)
			return 0;
	return -ERANGE;
}

enum gen_ref { GEN_REF_NONE, GEN_REF_CALL, GEN_REF_LOAD };

/*
 * Is there at code[i] a `call/jmp *disp(%reg)` (ff /2, ff /4) or a
 * `mov disp(%reg),%reg` (8b) whose ModRM displacement equals disp?
 * On a match *end is just past the instruction.
 */
static enum gen_ref gen_ref_at(struct span code, size_t i, int32_t disp, size_t *end)
{
	uint8_t op, modrm, mod, reg, rm;
	size_t d;

	if (span_u8(code, i, &op) != 0 || span_u8(code, i + 1, &modrm) != 0)
		return GEN_REF_NONE;
	mod = modrm >> 6;
	reg = (modrm >> 3) & 7;
	rm = modrm & 7;
	if ((op != 0xff || (reg != 2 && reg != 4)) && op != 0x8b)
		return GEN_REF_NONE;
	if (mod != 1 && mod != 2)
		return GEN_REF_NONE;
	d = i + 2 + (rm == 4); /* a SIB byte follows when rm is 100 */
	if (mod == 1) {
		uint8_t v;

		if (span_u8(code, d, &v) != 0 || (int8_t)v != disp)
			return GEN_REF_NONE;
		*end = d + 1;
	} else {
		uint32_t v;

		if (span_le32(code, d, &v) != 0 || (int32_t)v != disp)
			return GEN_REF_NONE;
		*end = d + 4;
	}
	return op == 0xff ? GEN_REF_CALL : GEN_REF_LOAD;
}

/* The first reference through disp in code at or after from; its start in *at. */
static enum gen_ref gen_find_ref(struct span code, size_t from, int32_t disp, size_t *at, size_t *end)
{
	for (size_t i = from; i < code.len; i++) {
		enum gen_ref k = gen_ref_at(code, i, disp, end);

		if (k != GEN_REF_NONE) {
			uint8_t rex;

			*at = (i > 0 && span_u8(code, i - 1, &rex) == 0 && (rex & 0xf0) == 0x40) ? i - 1 : i;
			return k;
		}
	}
	return GEN_REF_NONE;
}

/* `call *%reg` / `jmp *%reg` (optionally REX.B-prefixed) at or after from. */
static bool gen_find_indirect(struct span code, size_t from, size_t *at)
{
	for (size_t i = from; i + 1 < code.len; i++) {
		uint8_t op = 0, modrm = 0;

		span_u8(code, i, &op);
		span_u8(code, i + 1, &modrm);
		if (op == 0xff && (modrm >> 6) == 3 && (((modrm >> 3) & 7) == 2 || ((modrm >> 3) & 7) == 4)) {
			*at = i;
			return true;
		}
	}
	return false;
}

/*
 * Does an instruction starting in [from, to) write %r9?  Every encoding
 * that names r9 carries a REX prefix: REX.R with r9 in ModRM.reg for
 * loads, lea and reg-destination ALU ops; REX.B with r9 in ModRM.rm
 * (register form) for stores, xor and immediates; REX.B with b9 / 59
 * for mov $imm and pop.
 */
static bool gen_writes_r9(struct span code, size_t from, size_t to)
{
	static const uint8_t to_reg[] = { 0x8b, 0x8d, 0x63, 0x33, 0x03, 0x2b, 0x23, 0x0b };
	static const uint8_t to_rm[] = { 0x89, 0x31, 0x01, 0x29, 0x21, 0x09, 0xc7, 0x81, 0x83 };

	for (size_t i = from; i < to; i++) {
		uint8_t rex, op, modrm = 0;

		if (span_u8(code, i, &rex) != 0 || (rex & 0xf0) != 0x40 ||
		    span_u8(code, i + 1, &op) != 0)
			continue;
		if ((rex & 0x1) && (op == 0xb9 || op == 0x59))
			return true;
		if (span_u8(code, i + 2, &modrm) != 0)
			continue;
		if ((rex & 0x4) && memchr(to_reg, op, sizeof(to_reg)) && ((modrm >> 3) & 7) == 1)
			return true;
		if ((rex & 0x1) && memchr(to_rm, op, sizeof(to_rm)) && (modrm >> 6) == 3 &&
		    (modrm & 7) == 1 && (op != 0xc7 || ((modrm >> 3) & 7) == 0) &&
		    ((op != 0x81 && op != 0x83) || ((modrm >> 3) & 7) != 7))
			return true;
	}
	return false;
}

/* exit wraps the exit callback: the slot it calls gives the table layout. */
static int gen_diskwrite(const struct plugin_elf *img, bool *dw, char *err, size_t errlen)
{
	struct plugin_elf_sym sym;
	struct span code;
	size_t end;

	if (plugin_elf_sym(img, "exit", &sym) != 0 || sym.type != STT_FUNC)
		return REJECT("exit: no exported function 'exit' to tell the callback layout from");
	if (gen_code(img, sym.value, sym.size && sym.size < GEN_EXIT_WINDOW ? sym.size : GEN_EXIT_WINDOW,
		     &code) != 0)
		return REJECT("exit: 0x%llx is not inside an executable, readable PT_LOAD",
			      (unsigned long long)sym.value);
	for (size_t i = 0; i < code.len; i++) {
		uint8_t modrm;

		/* mod=10: a 32-bit displacement, the only way to encode 0x98 and 0xa0. */
		if (span_u8(code, i + 1, &modrm) != 0 || (modrm >> 6) != 2)
			continue;
		if (gen_ref_at(code, i, GEN_SLOT_EXIT_OLD, &end) != GEN_REF_NONE) {
			*dw = false;
			return 0;
		}
		if (gen_ref_at(code, i, GEN_SLOT_EXIT_DW, &end) != GEN_REF_NONE) {
			*dw = true;
			return 0;
		}
	}
	return REJECT("exit: cannot tell the callback layout: exit uses no slot 0x98/0xa0");
}

/*
 * host_stat (fs_ops.fo_stat of host_fsops) calls the stat slot.  The old
 * form passes a fourth out-pointer in %r9; the struct stat form leaves
 * %r9 alone.  Look before the call (or, when the slot is loaded into a
 * register first, before the indirect call that follows the load).
 */
static int gen_stat_struct(const struct plugin_elf *img, bool *st, char *err, size_t errlen)
{
	struct plugin_elf_sym sym;
	struct span ptr, code;
	uint64_t fn = 0;
	size_t at, end, call;
	bool r9;

	if (plugin_elf_sym(img, "host_fsops", &sym) != 0 || sym.type != STT_OBJECT)
		return REJECT("host_fsops: no exported object 'host_fsops' to tell the stat form from");
	if (plugin_elf_span(img, sym.value + GEN_FO_STAT, 8, 0, &ptr) != 0)
		return REJECT("host_fsops: fo_stat at 0x%llx+0x30 is not inside a readable PT_LOAD",
			      (unsigned long long)sym.value);
	span_le64(ptr, 0, &fn);
	fn -= (uint64_t)(uintptr_t)img->base;
	if (gen_code(img, fn, GEN_STAT_WINDOW, &code) != 0)
		return REJECT("host_fsops: fo_stat points to 0x%llx, outside the executable PT_LOADs",
			      (unsigned long long)fn);
	switch (gen_find_ref(code, 0, GEN_SLOT_STAT, &at, &end)) {
	case GEN_REF_CALL:
		r9 = gen_writes_r9(code, 0, at);
		break;
	case GEN_REF_LOAD:
		if (!gen_find_indirect(code, end, &call))
			call = code.len;
		r9 = gen_writes_r9(code, 0, at) || gen_writes_r9(code, end, call);
		break;
	default:
		return REJECT("host_fsops: fo_stat (0x%llx) uses no stat slot 0x48 in its first %zu bytes",
			      (unsigned long long)fn, code.len);
	}
	*st = !r9;
	return 0;
}

int plugin_gen_detect(const struct plugin_elf *img, struct plugin_gen *gen, char *err, size_t errlen)
{
	int r;

	memset(gen, 0, sizeof(*gen));
	if (!gen_marker(img, gen->interp)) {
		/* 10.x aborts on anything but 3; 11.0-11.2 accept 3 and up. */
		gen->version = USERBOOT_VERSION_3;
		gen->label = "FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)";
		return 0;
	}
	gen->version = USERBOOT_VERSION_5;
	if ((r = gen_diskwrite(img, &gen->diskwrite, err, errlen)) != 0)
		return r;
	if (gen->diskwrite) {
		gen->stat_struct = true;
		gen->label = "FreeBSD 13.0+ (version 5, struct stat, diskwrite)";
		return 0;
	}
	if ((r = gen_stat_struct(img, &gen->stat_struct, err, errlen)) != 0)
		return r;
	gen->label = gen->stat_struct ? "FreeBSD 12.2+ stable/12 (version 5, struct stat, no diskwrite)"
				      : "FreeBSD 11.3-12.1 (version 5, old stat, no diskwrite)";
	return 0;
}
