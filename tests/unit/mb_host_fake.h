/* mb_host_fake.h: the fake userboot host test_miniboot runs miniboot against: its callbacks, guest memory, one disk and a host0 tree, and what the plugin did through them. */
#ifndef KVMLOAD_MB_HOST_FAKE_H
#define KVMLOAD_MB_HOST_FAKE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest memory the host gives the plugin (getmem's lowmem); highmem is set per run. */
#define MB_MEM_SIZE (64u << 20)

/* One built plugin and the callback table its generation expects. */
struct mb_flavour {
	const char *name;
	bool diskwrite, stat_struct, v5;
	const char *interp; /* what its $Interpreter: marker names, NULL for none */
	const char *path;
};

/* What one run of loader_main saw and did. */
struct mb_host {
	const struct mb_flavour *fl;
	const char *root;      /* host0 tree, NULL for none */
	int disk_fd;
	uint64_t disk_size;
	const char *env[8];
	const char *input;     /* console input, consumed by getc */
	uint8_t *mem;
	uint64_t highmem;
	char cons[16384];
	size_t conslen;
	char calls[256];       /* register/exec callback order */
	int exit_calls, exit_code;
	int swap_calls;
	char swap_name[32];
	int stat_calls, diskwrite_calls, vm_calls, faults, diskreads;
	uint64_t rsp, efer, cr0, cr3, cr4, gdt_base, gdt_size, pc;
	bool exec_called, returned;
	sigjmp_buf jb;
};

/*
 * A host for fl serving the tree root as host0, no disk, bhyveload's
 * environment, MB_MEM_SIZE of guest memory filled with 0xaa.
 */
void mb_host_init(struct mb_host *h, const struct mb_flavour *fl, const char *root);

/* Serve the image img as disk 0 instead of the host0 tree; false if it cannot be opened. */
bool mb_host_disk(struct mb_host *h, const char *img);

/*
 * dlopen the flavour's plugin and call its loader_main(version, ndisks);
 * returns when it returns (h->returned) or calls exec (h->exec_called).
 * Exits 98 when the plugin cannot be loaded.  A plugin keeps its state in
 * its process: run one per process.
 */
void mb_host_run(struct mb_host *h, int version, int ndisks);

/* Free the guest memory and close the disk. */
void mb_host_fini(struct mb_host *h);

/* The console output has text. */
bool mb_host_console_has(const struct mb_host *h, const char *text);

/* The 32- and 64-bit words of guest memory at guest-physical a. */
uint32_t mb_host_mem32(const struct mb_host *h, uint64_t a);
uint64_t mb_host_mem64(const struct mb_host *h, uint64_t a);

#endif
