/* fuzz_common.c: what every fuzz target links: the violation report, on a stderr libFuzzer's -close_fd_mask cannot close. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

/*
 * libFuzzer's entry points carry no context, and -close_fd_mask=2 points fd 2
 * at /dev/null after LLVMFuzzerInitialize: keep a copy of the real stderr here.
 */
static int fuzz_report_fd = STDERR_FILENO;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

	(void)argc;
	(void)argv;
	if (fd >= 0)
		fuzz_report_fd = fd;
	return 0;
}

_Noreturn void fuzz_violation(const char *target, const char *what)
{
	dprintf(fuzz_report_fd, "fuzz_%s: contract violation: %s\n", target, what);
	abort();
}
