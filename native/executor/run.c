/*
 * The executor's loop: decode the plan, carry it out operation by operation
 * (each op_<name> handler, dispatched by the generated ops.gen.c), and on
 * failure report the step's index, errno and detail; with the one-line
 * operations that need no file of their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"

void fail(struct ctx *c, int err, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof detail)
		n = sizeof detail - 1;

	if (c->sync_fd >= 0) {
		char buf[8 + sizeof detail];
		uint32_t step = c->step;
		int32_t e = err;
		memcpy(buf, &step, 4);
		memcpy(buf + 4, &e, 4);
		memcpy(buf + 8, detail, (size_t)n);
		if (msg_send(c->sync_fd, MSG_ERROR, buf, 8 + (uint32_t)n) == 0)
			_exit(EXEC_FAILURE_STATUS);
	}
	const char *name = "?";
	if (c->plan != NULL && c->step < c->plan->count)
		name = op_sigs[c->plan->ops[c->step].code].name;
	if (err)
		dprintf(2, "berth-exec: step %u (%s): %s: %s\n", c->step, name, detail, strerror(err));
	else
		dprintf(2, "berth-exec: step %u (%s): %s\n", c->step, name, detail);
	_exit(err == ENOENT ? 127 : EXEC_FAILURE_STATUS);
}

void wait_and_exit(pid_t child)
{
	int status;
	for (;;) {
		pid_t r = waitpid(child, &status, 0);
		if (r == child)
			break;
		if (r < 0 && errno != EINTR)
			_exit(EXEC_FAILURE_STATUS);
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	_exit(128 + WTERMSIG(status));
}

void executor_run(int sync_fd, char *buf, size_t len)
{
	struct ctx c = { .sync_fd = sync_fd, .root_fd = -1, .state_dir_fd = -1, .console_fd = -1, .proxy_fd = -1, .listener_fd = -1 };
	if (fcntl(c.sync_fd, F_SETFD, FD_CLOEXEC) < 0)
		fail(&c, errno, "set close-on-exec on the sync socket");
	/* Nothing in a container may open /proc/PID/exe or /proc/PID/fd of the executor. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(&c, errno, "prctl(PR_SET_DUMPABLE)");

	struct plan plan;
	char why[256];
	if (plan_decode(buf, len, &plan, why, sizeof why) < 0)
		fail(&c, EINVAL, "%s", why);
	c.plan = &plan;
	for (c.step = 0; c.step < plan.count; c.step++)
		op_handlers[plan.ops[c.step].code](&c, &plan.ops[c.step]);
	/* A plan that does not end in exec ends here (host-side plans). */
	if (c.sync_fd >= 0)
		msg_send(c.sync_fd, MSG_READY, NULL, 0);
	_exit(0);
}

void op_setsid(struct ctx *c, const struct op *o)
{
	if (setsid() < 0 && errno != EPERM)
		fail(c, errno, "setsid");
}

void op_sethostname(struct ctx *c, const struct op *o)
{
	const struct arg *name = &o->a[A_SETHOSTNAME_NAME];
	if (sethostname(name->s, name->len) < 0)
		fail(c, errno, "sethostname \"%s\"", name->s);
}

void op_setdomainname(struct ctx *c, const struct op *o)
{
	const struct arg *name = &o->a[A_SETDOMAINNAME_NAME];
	if (setdomainname(name->s, name->len) < 0)
		fail(c, errno, "setdomainname \"%s\"", name->s);
}

void op_open_state_dir(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_OPEN_STATE_DIR_PATH].s;
	c->state_dir_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->state_dir_fd < 0)
		fail(c, errno, "open state directory \"%s\"", path);
}

void op_chdir(struct ctx *c, const struct op *o)
{
	/* No magic links: a cwd of /proc/self/fd/N must not reach a host directory (CVE-2024-21626). */
	const char *path = o->a[A_CHDIR_PATH].s;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
	if (fd < 0)
		fail(c, errno, "open the working directory \"%s\"", path);
	if (fchdir(fd) < 0)
		fail(c, errno, "chdir \"%s\"", path);
	close(fd);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL || cwd[0] != '/')
		fail(c, EPERM, "working directory \"%s\" is outside the container's root", path);
}

void op_umask(struct ctx *c, const struct op *o)
{
	umask((mode_t)o->a[A_UMASK_MASK].i);
}

void op_no_new_privs(struct ctx *c, const struct op *o)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(c, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
}

void op_set_dumpable(struct ctx *c, const struct op *o)
{
	if (prctl(PR_SET_DUMPABLE, (unsigned long)o->a[A_SET_DUMPABLE_VALUE].i, 0, 0, 0) < 0)
		fail(c, errno, "prctl(PR_SET_DUMPABLE)");
}

void op_ready(struct ctx *c, const struct op *o)
{
	if (c->sync_fd >= 0) {
		if (msg_send(c->sync_fd, MSG_READY, NULL, 0) < 0)
			fail(c, errno, "report ready");
		close(c->sync_fd);
		c->sync_fd = -1;
	}
}
