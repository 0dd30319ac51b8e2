/*
 * berth-exec entry point: `berth-exec SYNC_FD PLAN_FD`. Reads one plan from
 * PLAN_FD and carries it out (run.c), speaking on SYNC_FD. Before anything
 * else it makes sure it runs from a sealed in-memory copy of itself
 * (CVE-2019-5736). berth-runtime's front (native/front) embeds the executor
 * without this file and forks executors from itself instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "executor.h"

static int parse_fd(const char *s)
{
	char *end = NULL;
	long fd = strtol(s, &end, 10);
	if (end == NULL || *end != '\0' || fd < 3 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
		return -1;
	return (int)fd;
}

int main(int argc, char **argv, char **envp)
{
	int sync_fd = argc == 3 ? parse_fd(argv[1]) : -1;
	int plan_fd = argc == 3 ? parse_fd(argv[2]) : -1;
	if (sync_fd < 0 || plan_fd < 0) {
		dprintf(2, "berth-exec: usage: berth-exec SYNC_FD PLAN_FD (the executor is run by berth, not by hand)\n");
		return EXEC_FAILURE_STATUS;
	}
	if (!runs_sealed()) {
		exec_sealed_copy(argv, envp);
		_exit(EXEC_FAILURE_STATUS);
	}
	/* Run from berthd's one sealed copy (/proc/PID/fd/N: src/sys/spawn.ts), its name would be the fd's number. */
	prctl(PR_SET_NAME, "berth-exec", 0, 0, 0);
	size_t len;
	char why[256];
	char *buf = plan_read(plan_fd, &len, why, sizeof why);
	if (buf == NULL) {
		struct ctx c = { .sync_fd = sync_fd };
		fail(&c, errno, "%s", why);
	}
	executor_run(sync_fd, buf, len);
}
