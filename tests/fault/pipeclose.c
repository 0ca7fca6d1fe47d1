/* pipeclose.c: fault-test helper: runs a command whose stdout is a 4 KiB pipe that we close at a chosen moment (a console whose reader goes away). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * usage: pipeclose MARKER CMD [ARG]...
 * MARKER "-": the pipe has no reader from the start.  Otherwise the pipe is
 * read (and copied to our stdout) until MARKER has appeared, then closed.
 * Exits with CMD's status, or 128 + the signal that ended it.
 */
int main(int argc, char **argv)
{
	const char *marker;
	char seen[8192];
	size_t have = 0;
	int p[2], status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: pipeclose MARKER|- CMD [ARG]...\n");
		return 64;
	}
	marker = argv[1];
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("pipe");
		return 71;
	}
	/* A small pipe, so a writer that keeps writing blocks soon and meets the close. */
	fcntl(p[0], F_SETPIPE_SZ, 4096);
	if (strcmp(marker, "-") == 0)
		close(p[0]);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 71;
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	close(p[1]);
	if (strcmp(marker, "-") != 0) {
		for (;;) {
			ssize_t n;

			/* Keep the last bytes so a marker split across reads is still found. */
			if (have > sizeof(seen) / 2) {
				memmove(seen, seen + have - sizeof(seen) / 4, sizeof(seen) / 4);
				have = sizeof(seen) / 4;
			}
			n = read(p[0], seen + have, sizeof(seen) - have - 1);
			if (n <= 0)
				break;
			fwrite(seen + have, 1, (size_t)n, stdout);
			have += (size_t)n;
			seen[have] = '\0';
			if (memmem(seen, have, marker, strlen(marker)))
				break;
		}
		fflush(stdout);
		close(p[0]);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 71;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
