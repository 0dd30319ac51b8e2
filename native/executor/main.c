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
#include <sys/stat.h>
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

/* The plan arrives in a file TypeScript wrote before starting the executor, so reading it never waits. */
static char *read_plan(struct ctx *c, int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail(c, errno, "stat the plan");
	if (st.st_size <= 0 || (uint64_t)st.st_size > PLAN_MAX_BYTES)
		fail(c, EINVAL, "plan of %lld bytes", (long long)st.st_size);
	char *buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		fail(c, ENOMEM, "plan");
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail(c, n < 0 ? errno : EIO, "read the plan");
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
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
	struct ctx c = { .sync_fd = sync_fd, .root_fd = -1, .state_dir_fd = -1, .console_fd = -1, .proxy_fd = -1, .listener_fd = -1 };
	size_t len;
	char *buf = read_plan(&c, plan_fd, &len);
	executor_run(sync_fd, buf, len);
}
