/* test_spawn.c: spawn_child's promises, seen from the child it starts (descriptors, group, mask, handlers, deathsig) and from the parent (exec's errno, a hook's refusal, a reap with a timeout). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spawn.h"

/* As a child: "fds=0,1,2,3 pgrp=own mask=0" on descriptor 3. */
static int child_report(void)
{
	char line[256];
	size_t n = 0;
	sigset_t mask;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int listed[64], nl = 0, dfd = d ? dirfd(d) : -1, blocked = 0;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) != dfd && nl < 64)
			listed[nl++] = atoi(e->d_name);
	if (d)
		closedir(d);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "fds=");
	for (int want = 0; want < 64; want++)
		for (int i = 0; i < nl; i++)
			if (listed[i] == want)
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%d", n > 4 ? "," : "", want);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (int sig = 1; sig < SIGRTMIN; sig++)
		blocked += sigismember(&mask, sig) == 1;
	n += (size_t)snprintf(line + n, sizeof(line) - n, " pgrp=%s mask=%d\n",
			      getpgrp() == getpid() ? "own" : "parent's", blocked);
	return write(3, line, n) == (ssize_t)n ? 0 : 1;
}

static int urg_pipe = -1;

/* The parent's handler: a byte on urg_pipe from whichever process runs it. */
static void on_urg(int sig)
{
	(void)sig;
	(void)!write(urg_pipe, "u", 1);
}

/* In the child, before exec: the parent's handler must be gone by now. */
static int raise_urg(void *arg)
{
	(void)arg;
	raise(SIGURG);
	return 0;
}

static char *self;

/*
 * The child's view of itself: exactly 0, 1, 2 and the pipe at 3, however
 * many the parent holds; its own group; an empty mask though the parent
 * blocks SIGUSR2; and the parent's handler (SIGURG's) never run in it.
 */
static void test_child_sees(void)
{
	char *argv[] = { self, "report", NULL };
	int p[2], urg[2], stray, fds[4];
	char line[256] = "";
	struct spawn_proc proc;
	sigset_t usr2, old;
	int status = -1;
	ssize_t n;

	CHECK(pipe2(urg, O_NONBLOCK) == 0);
	urg_pipe = urg[1];
	signal(SIGURG, on_urg);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	CHECK(pipe(p) == 0);
	stray = dup(p[1]); /* not listed: never the child's */
	fds[0] = SPAWN_FD_NULL;
	fds[1] = SPAWN_FD_NULL;
	fds[2] = STDERR_FILENO;
	fds[3] = p[1];
	CHECK_EQ(spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 4, .own_pgrp = true,
						   .deathsig = SIGTERM, .in_child = raise_urg },
			     &proc),
		 0);
	close(p[1]);
	close(stray);
	n = read(p[0], line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = '\0';
	CHECK_STR(line, "fds=0,1,2,3 pgrp=own mask=0\n");
	CHECK(read(urg[0], line, 1) < 0 && errno == EAGAIN);
	CHECK_EQ(spawn_wait(&proc, -1, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	spawn_release(&proc);
	close(p[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGURG, SIG_DFL);
	close(urg[0]);
	close(urg[1]);
}

/* exec's own errno reaches the parent, and the child ends 127 as a shell's would. */
static void test_exec_fails(void)
{
	char *argv[] = { "/nonexistent/spawn-test", NULL };
	int fds[] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO }, status = -1;
	struct spawn_proc proc;

	CHECK_EQ(spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 3 }, &proc), -ENOENT);
	CHECK_EQ(proc.failed, SPAWN_EXEC);
	CHECK(proc.pid > 0);
	CHECK_EQ(spawn_wait(&proc, -1, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	spawn_release(&proc);
}

static int refuse(void *arg)
{
	return -*(int *)arg;
}

/* A hook that refuses stops the child before exec, with its errno. */
static void test_in_child_fails(void)
{
	char *argv[] = { "/bin/true", NULL };
	int fds[] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO }, why = EPERM;
	struct spawn_proc proc;

	CHECK_EQ(spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 3, .in_child = refuse,
						   .arg = &why },
			     &proc),
		 -EPERM);
	CHECK_EQ(proc.failed, SPAWN_IN_CHILD);
	CHECK_EQ(spawn_wait(&proc, -1, NULL), 0);
	spawn_release(&proc);
}

/* A child that lives on: not reaped within the timeout, reaped once killed, gone after. */
static void test_wait_timeout(void)
{
	char *argv[] = { self, "sleep", NULL };
	int fds[] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO }, status = -1;
	struct spawn_proc proc;

	CHECK_EQ(spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 3 }, &proc), 0);
	CHECK_EQ(spawn_wait(&proc, 50, &status), -ETIMEDOUT);
	CHECK_EQ(spawn_wait(&proc, 0, &status), -ETIMEDOUT);
	kill(proc.pid, SIGKILL);
	CHECK_EQ(spawn_wait(&proc, 5000, &status), 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_EQ(spawn_wait(&proc, 0, &status), -ECHILD);
	spawn_release(&proc);
}

/*
 * The parent dies, the child gets deathsig: a middle process starts it and
 * exits; we, the subreaper, find the orphan ended by SIGTERM.
 */
static void test_deathsig(void)
{
	int p[2], status = -1;
	pid_t middle, child = -1;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	CHECK(pipe(p) == 0);
	middle = fork();
	if (middle == 0) {
		char *argv[] = { self, "sleep", NULL };
		int fds[] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO };
		struct spawn_proc proc;

		if (spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 3, .deathsig = SIGTERM },
				&proc) < 0 ||
		    write(p[1], &proc.pid, sizeof(proc.pid)) != sizeof(proc.pid))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	CHECK(read(p[0], &child, sizeof(child)) == sizeof(child));
	close(p[0]);
	waitpid(middle, NULL, 0);
	alarm(10);
	CHECK_EQ(waitpid(child, &status, 0), child);
	alarm(0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* In the child: a change of uid (which clears the death signal), then until its parent has died. */
static int outlive_parent(void *arg)
{
	pid_t parent = getppid();
	struct timespec tick = { 0, 1000000 };

	(void)arg;
	if (syscall(SYS_setresuid, 65534, 65534, 65534) < 0)
		return -errno;
	while (getppid() == parent)
		nanosleep(&tick, NULL);
	return 0;
}

/*
 * The hook changed uid, which cleared the death signal, and the parent died
 * meanwhile: the signal is armed again and the parent found gone, so the
 * child ends 127 instead of running on (here: sleep 5) with nobody to stop it.
 */
static void test_parent_gone_first(void)
{
	int status = -1;
	pid_t middle;

	if (geteuid() != 0) {
		check_skip("a change of uid needs root");
		return;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	middle = fork();
	if (middle == 0) {
		char *argv[] = { "/bin/sleep", "5", NULL };
		int fds[] = { SPAWN_FD_NULL, SPAWN_FD_NULL, STDERR_FILENO };
		struct spawn_proc proc;

		/* The middle dies (SIGALRM) while it waits for the child's exec. */
		alarm(1);
		spawn_child(&(struct spawn_spec){ .argv = argv, .fds = fds, .nfds = 3, .deathsig = SIGTERM,
						  .in_child = outlive_parent },
			    &proc);
		_exit(1);
	}
	CHECK_EQ(waitpid(middle, &status, 0), middle);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM);
	CHECK(waitpid(-1, &status, 0) > 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "report"))
		return child_report();
	if (argc == 2 && !strcmp(argv[1], "sleep")) {
		pause();
		return 0;
	}
	self = argv[0];
	test_child_sees();
	test_exec_fails();
	test_in_child_fails();
	test_wait_timeout();
	test_deathsig();
	test_parent_gone_first();
	return check_done();
}
