/* plugin_elf.h: the validated, mapped ELF image of a plugin, as plugin.c and plugin_gen.c see it. */
#ifndef KVMLOAD_PLUGIN_ELF_H
#define KVMLOAD_PLUGIN_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "span.h"

#define PLUGIN_ELF_MAX_LOADS 16
/* Largest image span accepted: real plugins reach ~70 MiB, almost all of it .bss heap. */
#define PLUGIN_ELF_MAX_SPAN (256ULL << 20)

struct plugin_elf_seg {
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags; /* PF_R / PF_W / PF_X */
};

struct plugin_elf {
	uint8_t *base;     /* vaddr 0 of the image */
	size_t map_size;   /* the whole reservation: image span plus the host page */
	uint64_t span;     /* page-rounded end of the highest PT_LOAD */
	struct plugin_elf_seg seg[PLUGIN_ELF_MAX_LOADS];
	unsigned nseg;
	uint64_t symtab, strtab, strsz; /* vaddrs and size, validated inside readable PT_LOADs */
	uint32_t nsyms;
};

struct plugin_elf_sym {
	uint64_t value; /* image-relative (vaddr) */
	uint64_t size;
	uint8_t type;   /* STT_* */
};

/*
 * Validate the ELF file in buf and map it W^X with relocations applied and
 * imports resolved.  Returns 0, or -ENOEXEC (bad or unsupported file) /
 * -ENOMEM with a message naming the offending field in err; on failure
 * nothing stays mapped.
 */
int plugin_elf_load(struct plugin_elf *img, struct span buf, char *err, size_t errlen);
void plugin_elf_unload(struct plugin_elf *img);

/* A defined dynamic symbol by name.  Returns 0 or -ENOENT. */
int plugin_elf_sym(const struct plugin_elf *img, const char *name, struct plugin_elf_sym *out);

/*
 * A window on mapped bytes [vaddr, vaddr + len) that lie inside one PT_LOAD
 * whose p_flags include all of flags (PF_R at least, so the bytes can be read).
 * Returns 0 or -ERANGE.
 */
int plugin_elf_span(const struct plugin_elf *img, uint64_t vaddr, uint64_t len, uint32_t flags,
		    struct span *out);

/*
 * plugin_gen.c: decide what the plugin expects from the host, from its own
 * bytes (see doc/userboot-generations.md).  Returns 0, or -ENOEXEC with a
 * message naming what could not be told.
 */
struct plugin_gen;
int plugin_gen_detect(const struct plugin_elf *img, struct plugin_gen *gen, char *err,
		      size_t errlen);

/* plugin.c: the imports that leave the plugin through the current recovery point. */
_Noreturn void plugin_import_abort(void);
_Noreturn void plugin_import_stack_chk_fail(void);

#endif
