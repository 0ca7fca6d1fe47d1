/* inject_syscall.c: make a running process issue one system call of our choosing (ptrace), and say how it ended. */
/*
 * usage: inject_syscall PID NR
 *
 * A thread of PID that waits in a system call is seized and interrupted;
 * its registers are set to run system call NR at the syscall instruction it
 * stopped after, and it is followed through that call.  Prints how the
 * process ended ("killed by signal 31 (Bad system call)") or, when it lives
 * on, "returned R", the call's return value; the thread then goes back into
 * the call it was waiting in, as after any signal.  Status 0 when the call was
 * made, 1 when it could not be (no such process, no thread in a system
 * call, no syscall instruction before the stop), 64 for bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* A thread of pid waiting in a system call (/proc/PID/task/TID/syscall starts with its number), or -1. */
static pid_t inject_find_thread(pid_t pid)
{
	char path[320], buf[256];
	struct dirent *de;
	pid_t found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "running" or "-1 ..." (not in a call) do not count. */
		if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
			found = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * Follow tid through the injected call: its entry, its exit (the original
 * call's registers back, to be made again), then the original call's entry
 * (print what ours returned and let the thread go), or the process's end,
 * which a killing call's signal brings right after its exit.  Other stops
 * pass their signal on.  0 once said on stdout, -1 on error.
 */
static int inject_follow(pid_t tid, const struct user_regs_struct *orig)
{
	struct user_regs_struct regs;
	long long ret = 0;
	int st, stops = 0;

	for (;;) {
		int sig = 0;

		if (waitpid(tid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			perror("waitpid");
			return -1;
		}
		if (WIFEXITED(st)) {
			printf("exited with status %d\n", WEXITSTATUS(st));
			return 0;
		}
		if (WIFSIGNALED(st)) {
			printf("killed by signal %d (%s)\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
			return 0;
		}
		if (WSTOPSIG(st) == (SIGTRAP | 0x80) && ++stops == 2) {
			if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0) {
				perror("PTRACE_GETREGS");
				return -1;
			}
			ret = (long long)regs.rax;
			/* The interrupted call again, from its syscall instruction, as a restart does. */
			regs = *orig;
			regs.rip -= 2;
			regs.rax = orig->orig_rax;
			regs.orig_rax = (unsigned long long)-1;
			if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0) {
				perror("PTRACE_SETREGS");
				return -1;
			}
		} else if (WSTOPSIG(st) == (SIGTRAP | 0x80) && stops == 3) {
			printf("returned %lld\n", ret);
			return ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0 ? -1 : 0;
		} else if (WSTOPSIG(st) != (SIGTRAP | 0x80) && !(st >> 16)) {
			/* A signal-delivery stop (no event in the high bits) gets its signal back. */
			sig = WSTOPSIG(st);
		}
		if (ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig) < 0) {
			perror("PTRACE_SYSCALL");
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	struct user_regs_struct regs, orig;
	pid_t pid, tid;
	long nr, code;
	int st;

	if (argc != 3 || (pid = (pid_t)atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: inject_syscall PID NR\n");
		return 64;
	}
	nr = atol(argv[2]);
	tid = inject_find_thread(pid);
	if (tid < 0) {
		fprintf(stderr, "inject_syscall: no thread of %d waits in a system call\n", (int)pid);
		return 1;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0 ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		fprintf(stderr, "inject_syscall: seizing thread %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	while (waitpid(tid, &st, __WALL) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			return 1;
		}
	if (!WIFSTOPPED(st) || ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0) {
		fprintf(stderr, "inject_syscall: thread %d did not stop (status %#x)\n", (int)tid, st);
		return 1;
	}
	/* The interrupted call left rip after its syscall instruction (0f 05). */
	errno = 0;
	code = ptrace(PTRACE_PEEKTEXT, tid, (void *)(regs.rip - 2), NULL);
	if (errno || (code & 0xffff) != 0x050f) {
		fprintf(stderr, "inject_syscall: thread %d: no syscall instruction before %#llx\n", (int)tid, regs.rip);
		return 1;
	}
	orig = regs;
	regs.rip -= 2;
	regs.rax = (unsigned long long)nr;
	/* Not in a system call any more: the kernel must not restart the interrupted one over ours. */
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0 || ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0) {
		fprintf(stderr, "inject_syscall: thread %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	return inject_follow(tid, &orig) < 0 ? 1 : 0;
}
