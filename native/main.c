/*
 * berth-exec entry point: `berth-exec SYNC_FD PLAN_FD`. Reads one plan from
 * PLAN_FD and carries it out, operation by operation, speaking on SYNC_FD.
 * Built with BERTH_FRONT, the same code is berth-runtime's front (front.c),
 * which forks executors from itself instead.
 *
 * Before anything else it makes sure it runs from a sealed in-memory copy of
 * itself, so a process inside a container that reaches /proc/PID/exe of the
 * executor can never write to the binary on the host (CVE-2019-5736).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define WANT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int runs_sealed(void)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return 0;
	int seals = fcntl(self, F_GET_SEALS);
	close(self);
	return seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS;
}

void exec_sealed_copy(char **argv, char **envp)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		dprintf(2, "berth-exec: open /proc/self/exe: %s\n", strerror(errno));
		return;
	}
	struct stat st;
	int mfd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || fstat(self, &st) < 0) {
		dprintf(2, "berth-exec: memfd copy of itself: %s\n", strerror(errno));
		return;
	}
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			dprintf(2, "berth-exec: copy of itself: %s\n", n < 0 ? strerror(errno) : "short copy");
			return;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, WANT_SEALS) < 0) {
		dprintf(2, "berth-exec: seal copy of itself: %s\n", strerror(errno));
		return;
	}
	close(self);
	fexecve(mfd, argv, envp);
	dprintf(2, "berth-exec: exec sealed copy of itself: %s\n", strerror(errno));
}

static int op_simple(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	switch (o->code) {
	case OP_SETSID:
		if (setsid() < 0 && errno != EPERM)
			fail(c, errno, "setsid");
		return 0;
	case OP_SETHOSTNAME:
		if (sethostname(a[A_SETHOSTNAME_NAME].s, a[A_SETHOSTNAME_NAME].len) < 0)
			fail(c, errno, "sethostname \"%s\"", a[A_SETHOSTNAME_NAME].s);
		return 0;
	case OP_SETDOMAINNAME:
		if (setdomainname(a[A_SETDOMAINNAME_NAME].s, a[A_SETDOMAINNAME_NAME].len) < 0)
			fail(c, errno, "setdomainname \"%s\"", a[A_SETDOMAINNAME_NAME].s);
		return 0;
	case OP_OPEN_STATE_DIR: {
		int fd = open(a[A_OPEN_STATE_DIR_PATH].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fail(c, errno, "open state directory \"%s\"", a[A_OPEN_STATE_DIR_PATH].s);
		c->state_dir_fd = fd;
		return 0;
	}
	case OP_CHDIR: {
		/* No magic links: a cwd of /proc/self/fd/N must not reach a host directory (CVE-2024-21626). */
		const char *path = a[A_CHDIR_PATH].s;
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
		return 0;
	}
	case OP_UMASK:
		umask((mode_t)a[A_UMASK_MASK].i);
		return 0;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail(c, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
		return 0;
	case OP_SET_DUMPABLE:
		if (prctl(PR_SET_DUMPABLE, (unsigned long)a[A_SET_DUMPABLE_VALUE].i, 0, 0, 0) < 0)
			fail(c, errno, "prctl(PR_SET_DUMPABLE)");
		return 0;
	case OP_READY:
		if (c->sync_fd >= 0) {
			if (msg_send(c->sync_fd, MSG_READY, NULL, 0) < 0)
				fail(c, errno, "report ready");
			close(c->sync_fd);
			c->sync_fd = -1;
		}
		return 0;
	}
	fail(c, 0, "operation %u has no handler", o->code);
}

typedef int (*handler)(struct ctx *, const struct op *);

static const handler handlers[OP_MAX_CODE + 1] = {
	[OP_MKFIFO] = op_mkfifo,
	[OP_SETNS] = op_setns,
	[OP_SETNS_CHILD] = op_setns,
	[OP_FORK] = op_fork,
	[OP_UNSHARE] = op_unshare,
	[OP_SYNC] = op_sync,
	[OP_SETSID] = op_simple,
	[OP_SETHOSTNAME] = op_simple,
	[OP_SETDOMAINNAME] = op_simple,
	[OP_PROPAGATE_ABS] = op_propagate_abs,
	[OP_OPEN_ROOT] = op_open_root,
	[OP_MOUNT] = op_mount,
	[OP_REMOUNT_BIND] = op_remount_bind,
	[OP_PROPAGATE] = op_propagate,
	[OP_MKNOD] = op_mknod,
	[OP_SYMLINK] = op_symlink,
	[OP_CHMOD_CHOWN] = op_chmod_chown,
	[OP_RUN_HOOK] = op_run_hook,
	[OP_OPEN_STATE_DIR] = op_simple,
	[OP_CONSOLE_CONNECT] = op_console_connect,
	[OP_PIVOT_ROOT] = op_pivot_root,
	[OP_MOVE_ROOT] = op_move_root,
	[OP_CHROOT] = op_chroot,
	[OP_MASK_PATH] = op_mask_path,
	[OP_READONLY_PATH] = op_readonly_path,
	[OP_REMOUNT_ROOT_RO] = op_remount_root_ro,
	[OP_WRITE_FILE] = op_write_file,
	[OP_SETUP_CONSOLE] = op_setup_console,
	[OP_SETRLIMIT] = op_setrlimit,
	[OP_CHDIR] = op_simple,
	[OP_UMASK] = op_simple,
	[OP_SET_USER] = op_set_user,
	[OP_CAPS] = op_caps,
	[OP_NO_NEW_PRIVS] = op_simple,
	[OP_SECCOMP] = op_seccomp,
	[OP_CLOSE_FDS] = op_close_fds,
	[OP_RESOLVE_EXEC] = op_resolve_exec,
	[OP_READY] = op_simple,
	[OP_WAIT_START] = op_wait_start,
	[OP_EXEC] = op_exec,
	[OP_RESET_SIGNALS] = op_reset_signals,
	[OP_SET_DUMPABLE] = op_simple,
	[OP_LISTENER_CONNECT] = op_listener_connect,
	[OP_LOOPBACK_UP] = op_loopback_up,
	[OP_ENSURE_DIR] = op_ensure_dir,
	[OP_HOME_ENV] = op_home_env,
	[OP_BPF_DEVICE] = op_bpf_device,
};

/* The executor that stays (wait mode) exits as its child did. */
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

#ifndef BERTH_FRONT
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
#endif

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

	for (c.step = 0; c.step < plan.count; c.step++) {
		const struct op *o = &plan.ops[c.step];
		handler h = handlers[o->code];
		if (h == NULL)
			fail(&c, ENOSYS, "no handler for operation %s", op_sigs[o->code].name);
		h(&c, o);
	}
	/* A plan that does not end in exec ends here (host-side plans). */
	if (c.sync_fd >= 0)
		msg_send(c.sync_fd, MSG_READY, NULL, 0);
	_exit(0);
}

int main(int argc, char **argv, char **envp)
{
#ifdef BERTH_FRONT
	return front_main(argc, argv, envp);
#else
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
#endif
}
