/* handoff_stub.c: the PVH entry stub's loadable bytes, read from the ELF that QEMU gets as -kernel, so kvmload can put them back in guest memory. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "handoff.h"
#include "span.h"

/* The stub is a few KiB; a file much larger than its image is not the stub. */
#define STUB_FILE_MAX (64 * 1024)
#define STUB_PHNUM_MAX 8

static int handoff_stub_parse(struct handoff_stub *st, struct span f, bool whole, char *err, size_t errlen)
{
	uint32_t phoff;
	uint16_t machine, phentsize, phnum;
	bool loads = false;

	memset(st, 0, sizeof(*st));
	if (!span_eq(f, 0, ELFMAG, SELFMAG) || !span_eq(f, EI_CLASS, (uint8_t[]){ ELFCLASS32 }, 1) ||
	    !span_eq(f, EI_DATA, (uint8_t[]){ ELFDATA2LSB }, 1) ||
	    span_le16(f, offsetof(Elf32_Ehdr, e_machine), &machine) < 0 || machine != EM_386 ||
	    span_le32(f, offsetof(Elf32_Ehdr, e_phoff), &phoff) < 0 ||
	    span_le16(f, offsetof(Elf32_Ehdr, e_phentsize), &phentsize) < 0 ||
	    span_le16(f, offsetof(Elf32_Ehdr, e_phnum), &phnum) < 0 || phentsize != sizeof(Elf32_Phdr) ||
	    phnum > STUB_PHNUM_MAX || !whole)
		return errmsg_set(err, errlen, ENOEXEC, "the entry stub is not kvmload's (an i386 ELF32 of at "
				  "most %d KiB)", STUB_FILE_MAX / 1024);
	for (uint16_t i = 0; i < phnum; i++) {
		struct span ph;
		Elf32_Phdr p;

		if (span_sub(f, (uint64_t)phoff + (uint64_t)i * sizeof(p), sizeof(p), &ph) < 0)
			return errmsg_set(err, errlen, ENOEXEC, "the entry stub's program headers are cut short");
		span_copy(ph, 0, &p, sizeof(p));
		if (p.p_type != PT_LOAD)
			continue;
		/* Where QEMU puts each byte (by physical address), all inside the stub's place. */
		if (p.p_filesz > p.p_memsz || p.p_paddr < HANDOFF_STUB_BASE || p.p_memsz > sizeof(st->image) ||
		    p.p_paddr - HANDOFF_STUB_BASE > sizeof(st->image) - p.p_memsz ||
		    span_copy(f, p.p_offset, st->image + (p.p_paddr - HANDOFF_STUB_BASE), p.p_filesz) < 0)
			return errmsg_set(err, errlen, ENOEXEC, "the entry stub's segment at 0x%x (%u bytes) is not "
					  "within its file and [0x%x, 0x%x)", p.p_paddr, p.p_memsz,
					  HANDOFF_STUB_BASE, HANDOFF_STUB_LIMIT);
		loads = true;
	}
	if (!loads)
		return errmsg_set(err, errlen, ENOEXEC, "the entry stub has nothing to load");
	return 0;
}

int handoff_stub_read(struct handoff_stub *st, int fd, char *err, size_t errlen)
{
	uint8_t *buf = malloc(STUB_FILE_MAX + 1);
	ssize_t n;
	int r;

	if (!buf)
		return errmsg_set(err, errlen, ENOMEM, "reading the entry stub: %s", strerror(ENOMEM));
	n = pread(fd, buf, STUB_FILE_MAX + 1, 0);
	if (n < 0)
		r = errmsg_set(err, errlen, errno, "reading the entry stub: %s", strerror(errno));
	else
		r = handoff_stub_parse(st, span_make(buf, (size_t)n), n <= STUB_FILE_MAX, err, errlen);
	free(buf);
	return r;
}
