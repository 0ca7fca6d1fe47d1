/* cb.h: the userboot callbacks kvmload serves (one function per ABI slot) and the table builder. */
#ifndef KVMLOAD_CB_H
#define KVMLOAD_CB_H

#include "userboot.h"

struct plugin_gen;

/* cb_console.c */
ub_getc_fn cb_getc;
ub_putc_fn cb_putc;
ub_poll_fn cb_poll;
/* cb_hostfs.c */
ub_open_fn cb_open;
ub_close_fn cb_close;
ub_isdir_fn cb_isdir;
ub_read_fn cb_read;
ub_readdir_fn cb_readdir;
ub_seek_fn cb_seek;
ub_stat_old_fn cb_stat_old;
ub_stat_new_fn cb_stat_new;
/* cb_disk.c */
ub_diskread_fn cb_diskread;
ub_diskwrite_fn cb_diskwrite;
ub_diskioctl_fn cb_diskioctl;
/* cb_guest.c */
ub_copyin_fn cb_copyin;
ub_copyout_fn cb_copyout;
ub_setreg_fn cb_setreg;
ub_setmsr_fn cb_setmsr;
ub_setcr_fn cb_setcr;
ub_setgdt_fn cb_setgdt;
ub_exec_fn cb_exec;
ub_vm_set_register_fn cb_vm_set_register;
ub_vm_set_desc_fn cb_vm_set_desc;
/* cb_misc.c */
ub_delay_fn cb_delay;
ub_exit_fn cb_exit;
ub_getmem_fn cb_getmem;
ub_getenv_fn cb_getenv;
ub_swap_interpreter_fn cb_swap_interpreter;

/* Largest table any generation uses, in pointers. */
#define CB_TABLE_MAX UB_NSLOTS

/*
 * Lay the callbacks out as a plugin of generation gen expects: the 13.0+
 * table when gen->diskwrite, otherwise without the diskwrite slot; the stat
 * slot gets the form gen->stat_struct selects.  Returns the table's size in bytes.
 */
size_t cb_table_build(void *table[CB_TABLE_MAX], const struct plugin_gen *gen);

#endif
