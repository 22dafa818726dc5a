/* SPDX-License-Identifier: GPL-2.0-or-later */
/* benchrun.c - run a command and report its wall time and peak resident
 * memory (getrusage of the child), so bench.sh needs no /usr/bin/time.
 * usage: benchrun OUTFILE COMMAND [ARG...]; the command's exit status is
 * returned, "wall_s=.. maxrss_kb=.. status=.." is written to OUTFILE. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: benchrun OUTFILE COMMAND [ARG...]\n", stderr);
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 3;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	/* the only child: RUSAGE_CHILDREN is its usage (and its own children's) */
	if (waitpid(pid, &status, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) != 0) {
		perror("waitpid");
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 3;
	}
	fprintf(f, "wall_s=%.3f maxrss_kb=%ld user_s=%.3f sys_s=%.3f status=%d\n", wall,
		ru.ru_maxrss, (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, rc);
	fclose(f);
	return rc;
}
