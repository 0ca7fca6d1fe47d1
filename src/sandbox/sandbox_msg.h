/* sandbox_msg.h: the fixed-size result a plugin's child process sends its parent, and the parent's checks of it. */
#ifndef KVMLOAD_SANDBOX_MSG_H
#define KVMLOAD_SANDBOX_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "boot_regs.h"
#include "gmem.h"
#include "loader.h"

#define SANDBOX_MSG_MAGIC 0x6b766d72u /* "kvmr" */
#define SANDBOX_MSG_INTERP (PLUGIN_INTERP_MAX + 1) /* NUL included, as struct loader's swap_interp */

/*
 * On the wire: fixed-width fields only (no bool, no enum), so any bytes the
 * child sends can be read without undefined behaviour and then checked.
 */
struct sandbox_msg {
	uint32_t magic;
	uint32_t leave;       /* enum loader_leave: EXIT, EXEC, SWAP or ERROR */
	int32_t exit_value;   /* EXIT: 0..255 */
	uint32_t gdt_set;     /* EXEC: 0 or 1 */
	uint32_t gpr_set;     /* EXEC: bits 0..14 */
	uint32_t pad;
	char interp[SANDBOX_MSG_INTERP]; /* SWAP: [a-z0-9]{1,PLUGIN_INTERP_MAX} then NULs */
	uint64_t rip, rsp, cr0, cr3, cr4, efer, gdt_base, gdt_size;
	uint64_t gpr[15];
	uint32_t nwritten;    /* EXEC: the footprint, 0..FOOTPRINT_MAX ranges */
	uint32_t pad2;
	uint64_t written[FOOTPRINT_MAX][2];
};

/* What the parent acts on, once the message passed every check. */
struct sandbox_result {
	enum loader_leave leave;
	int exit_value;
	char interp[SANDBOX_MSG_INTERP];
	struct boot_regs regs;
	struct footprint written;
};

/* The child's side: the message for how the plugin left (interp, regs and footprint as recorded). */
void sandbox_msg_pack(struct sandbox_msg *m, enum loader_leave leave, int exit_value,
		      const char *interp, const struct boot_regs *regs, const struct footprint *written);

/*
 * The parent's side: len bytes from the child must be exactly one message
 * whose every field is in range (registers against guest memory g).
 * Returns 0 with out filled, or -EPROTO with the first bad thing named in err.
 */
int sandbox_msg_check(const void *buf, size_t len, const struct gmem *g, struct sandbox_result *out,
		      char *err, size_t errlen);

#endif
