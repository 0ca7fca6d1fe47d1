/* cb_table.c: the one place that lays the callbacks out in the byte order a plugin generation expects. */
#include <string.h>

#include "cb.h"
#include "plugin.h"

size_t cb_table_build(void *table[CB_TABLE_MAX], const struct plugin_gen *gen)
{
	void *const slots[UB_NSLOTS] = {
		[UB_GETC] = (void *)cb_getc,
		[UB_PUTC] = (void *)cb_putc,
		[UB_POLL] = (void *)cb_poll,
		[UB_OPEN] = (void *)cb_open,
		[UB_CLOSE] = (void *)cb_close,
		[UB_ISDIR] = (void *)cb_isdir,
		[UB_READ] = (void *)cb_read,
		[UB_READDIR] = (void *)cb_readdir,
		[UB_SEEK] = (void *)cb_seek,
		/* 12.2 changed the stat signature without a version bump. */
		[UB_STAT] = gen->stat_struct ? (void *)cb_stat_new : (void *)cb_stat_old,
		[UB_DISKREAD] = (void *)cb_diskread,
		[UB_DISKWRITE] = (void *)cb_diskwrite,
		[UB_COPYIN] = (void *)cb_copyin,
		[UB_COPYOUT] = (void *)cb_copyout,
		[UB_SETREG] = (void *)cb_setreg,
		[UB_SETMSR] = (void *)cb_setmsr,
		[UB_SETCR] = (void *)cb_setcr,
		[UB_SETGDT] = (void *)cb_setgdt,
		[UB_EXEC] = (void *)cb_exec,
		[UB_DELAY] = (void *)cb_delay,
		[UB_EXIT] = (void *)cb_exit,
		[UB_GETMEM] = (void *)cb_getmem,
		[UB_DISKIOCTL] = (void *)cb_diskioctl,
		[UB_GETENV] = (void *)cb_getenv,
		[UB_VM_SET_REGISTER] = (void *)cb_vm_set_register,
		[UB_VM_SET_DESC] = (void *)cb_vm_set_desc,
		[UB_SWAP_INTERPRETER] = (void *)cb_swap_interpreter,
	};
	size_t n = 0;

	memset(table, 0, CB_TABLE_MAX * sizeof(table[0]));
	for (int i = 0; i < UB_NSLOTS; i++) {
		/* 13.0 inserted diskwrite without a version bump: older tables lack the slot. */
		if (i == UB_DISKWRITE && !gen->diskwrite)
			continue;
		table[n++] = slots[i];
	}
	return n * sizeof(table[0]);
}
