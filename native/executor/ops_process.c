/*
 * The process: hooks, limits, ids, capabilities, seccomp, file
 * descriptors, and finally waiting for `start` and exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"

/* The index-th NUL-terminated string of the last sync answer. */
static const char *answer_string(struct ctx *c, int64_t index, size_t *len)
{
	const char *p = c->answer, *end = c->answer ? c->answer + c->answer_len : NULL;
	for (int64_t i = 0; p != NULL && p < end; i++) {
		size_t n = strnlen(p, (size_t)(end - p));
		if (i == index) {
			*len = n;
			return p;
		}
		p += n + 1;
	}
	*len = 0;
	return "";
}

/* The hook's output goes to a memory file, whose start a failure report quotes. */
void op_run_hook(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const char *path = a[A_RUN_HOOK_PATH].s;
	int64_t timeout = a[A_RUN_HOOK_TIMEOUT_MS].i;
	size_t in_len;
	const char *input = answer_string(c, a[A_RUN_HOOK_INPUT].i, &in_len);
	int in[2], out = memfd_create("hook-output", MFD_CLOEXEC);
	if (out < 0 || pipe2(in, O_CLOEXEC) < 0)
		fail(c, errno, "hook \"%s\": output file and pipe", path);
	pid_t pid = fork();
	if (pid < 0)
		fail(c, errno, "hook \"%s\": fork", path);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out, 1);
		dup2(out, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, a[A_RUN_HOOK_ARGV].v, a[A_RUN_HOOK_ENVV].v);
		dprintf(2, "exec \"%s\": %s", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	/* The input is small (the state): write it, and let a hook that ignores stdin be. */
	if (in_len > 0 && write_all(in[1], input, in_len) < 0 && errno != EPIPE)
		fail(c, errno, "hook \"%s\": write state", path);
	close(in[1]);
	struct pollfd exited = { .fd = (int)syscall(SYS_pidfd_open, pid, 0), .events = POLLIN };
	int r, status = 0;
	while ((r = poll(&exited, 1, timeout > 0 ? (int)timeout : -1)) < 0 && errno == EINTR)
		;
	if (r == 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char output[512];
	ssize_t n = pread(out, output, sizeof output - 1, 0);
	output[n > 0 ? n : 0] = '\0';
	const char *sep = n > 0 ? ": " : "";
	if (r == 0)
		fail(c, ETIMEDOUT, "hook \"%s\" timed out after %lld ms%s%s", path, (long long)timeout, sep, output);
	if (WIFSIGNALED(status))
		fail(c, 0, "hook \"%s\" killed by signal %d%s%s", path, WTERMSIG(status), sep, output);
	if (WEXITSTATUS(status) != 0)
		fail(c, 0, "hook \"%s\" exited with status %d%s%s", path, WEXITSTATUS(status), sep, output);
	close(out);
	close(exited.fd);
}

void op_write_file(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const char *path = a[A_WRITE_FILE_PATH].s;
	uint64_t resolve = (uint64_t)a[A_WRITE_FILE_RESOLVE].i;
	/* Inside the root, an absolute path starts at the root too. */
	struct open_how how = { .flags = O_WRONLY | O_CLOEXEC | O_TRUNC, .resolve = resolve };
	int fd = (int)syscall(SYS_openat2, resolve & RESOLVE_IN_ROOT ? c->root_fd : AT_FDCWD, path, &how, sizeof how);
	if (fd < 0) {
		if (errno == ENOENT && (o->flags & OPF_IGNORE_ENOENT))
			return;
		fail(c, errno, "open \"%s\" for writing", path);
	}
	ssize_t n = write(fd, a[A_WRITE_FILE_DATA].s, a[A_WRITE_FILE_DATA].len);
	if (n < 0 || (size_t)n != a[A_WRITE_FILE_DATA].len)
		fail(c, n < 0 ? errno : EIO, "write \"%s\" to \"%s\"", a[A_WRITE_FILE_DATA].s, a[A_WRITE_FILE_PATH].s);
	close(fd);
}

void op_setrlimit(struct ctx *c, const struct op *o)
{
	int resource = (int)o->a[A_SETRLIMIT_RESOURCE].i;
	struct rlimit rl = { .rlim_cur = (rlim_t)o->a[A_SETRLIMIT_SOFT].i, .rlim_max = (rlim_t)o->a[A_SETRLIMIT_HARD].i };
	if (prlimit(0, resource, &rl, NULL) < 0)
		fail(c, errno, "setrlimit(%d, soft %llu, hard %llu)", resource, (unsigned long long)rl.rlim_cur,
		     (unsigned long long)rl.rlim_max);
}

void op_set_user(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	uid_t uid = (uid_t)a[A_SET_USER_UID].i;
	gid_t gid = (gid_t)a[A_SET_USER_GID].i;
	const struct arg *groups = &a[A_SET_USER_GROUPS];
	size_t n = groups->count;
	gid_t *list = calloc(n ? n : 1, sizeof(gid_t));
	if (list == NULL)
		fail(c, ENOMEM, "supplementary groups");
	for (size_t i = 0; i < n; i++)
		list[i] = (gid_t)groups->iv[i];
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(c, errno, "prctl(PR_SET_KEEPCAPS)");
	/* setgroups is denied in a user namespace with setgroups "deny"; skip it when there is nothing to set. */
	if (setgroups(n, list) < 0 && !(errno == EPERM && n == 0))
		fail(c, errno, "setgroups (%zu groups)", n);
	if (setresgid(gid, gid, gid) < 0)
		fail(c, errno, "setresgid(%u)", gid);
	if (setresuid(uid, uid, uid) < 0)
		fail(c, errno, "setresuid(%u)", uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail(c, errno, "prctl(PR_SET_KEEPCAPS, 0)");
	free(list);
}

static int capset_masks(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32) },
	};
	return (int)syscall(SYS_capset, &hdr, data);
}

void op_caps(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	uint64_t bounding = (uint64_t)a[A_CAPS_BOUNDING].i;
	uint64_t eff = (uint64_t)a[A_CAPS_EFFECTIVE].i;
	uint64_t perm = (uint64_t)a[A_CAPS_PERMITTED].i;
	uint64_t inh = (uint64_t)a[A_CAPS_INHERITABLE].i;
	uint64_t amb = (uint64_t)a[A_CAPS_AMBIENT].i;

	/* Dropping from the bounding set needs CAP_SETPCAP in the effective set, which a uid change cleared. */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct cur[2];
	if (syscall(SYS_capget, &hdr, cur) < 0)
		fail(c, errno, "capget");
	uint64_t cur_perm = (uint64_t)cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
	uint64_t cur_inh = (uint64_t)cur[0].inheritable | ((uint64_t)cur[1].inheritable << 32);
	if (capset_masks(cur_perm, cur_perm, cur_inh) < 0)
		fail(c, errno, "capset (raise the permitted set)");
	for (int cap = 0; cap < 64; cap++) {
		if (bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			fail(c, errno, "drop capability %d from the bounding set", cap);
		}
	}
	if (capset_masks(eff, perm, inh) < 0)
		fail(c, errno, "capset (effective %#llx, permitted %#llx, inheritable %#llx)", (unsigned long long)eff,
		     (unsigned long long)perm, (unsigned long long)inh);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(c, errno, "clear the ambient set");
	for (int cap = 0; cap < 64; cap++) {
		if (!(amb & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			fail(c, errno, "raise capability %d in the ambient set", cap);
	}
}

int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void op_seccomp(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const struct arg *prog = &a[A_SECCOMP_PROGRAM];
	unsigned int flags = (unsigned int)a[A_SECCOMP_FLAGS].i;
	/* The string argument is 8-byte-aligned data only by luck; copy it. */
	struct sock_filter *insns = malloc(prog->len);
	if (insns == NULL)
		fail(c, ENOMEM, "seccomp program");
	memcpy(insns, prog->s, prog->len);
	struct sock_fprog fprog = { .len = (unsigned short)(prog->len / sizeof(struct sock_filter)), .filter = insns };
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	if (r < 0)
		fail(c, errno, "load seccomp filter (%u instructions, flags %#x)", fprog.len, flags);
	free(insns);
	if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
		int listener = (int)r;
		const char *path = a[A_SECCOMP_LISTENER_PATH].s;
		int sock = c->listener_fd; /* connected by listener_connect, before the root changed */
		c->listener_fd = -1;
		/* The state goes with the fd in one message, as the runtime specification asks; without one
		 * in the plan it is the third string of the last sync answer (it names the pid). */
		size_t state_len = a[A_SECCOMP_LISTENER_STATE].len;
		const char *state = a[A_SECCOMP_LISTENER_STATE].s;
		if (state_len == 0)
			state = answer_string(c, 2, &state_len);
		if (send_fd_with(sock, listener, state, state_len) < 0)
			fail(c, errno, "send the seccomp listener fd to \"%s\"", path);
		close(sock);
		close(listener);
	}
}

void op_listener_connect(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_LISTENER_CONNECT_PATH].s;
	int sock = connect_unix(path);
	if (sock < 0)
		fail(c, errno, "connect to the seccomp listener \"%s\"", path);
	c->listener_fd = sock;
}

void op_close_fds(struct ctx *c, const struct op *o)
{
	unsigned int first = (unsigned int)o->a[A_CLOSE_FDS_FIRST].i;
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		/* Older kernels: mark what /proc/self/fd lists. */
		for (int fd = (int)first; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first executable of the candidates TypeScript listed (the program, or each $PATH entry with it). */
void op_resolve_exec(struct ctx *c, const struct op *o)
{
	const char *file = o->a[A_RESOLVE_EXEC_FILE].s;
	const struct arg *candidates = &o->a[A_RESOLVE_EXEC_CANDIDATES];
	int err = ENOENT;
	for (uint32_t i = 0; i < candidates->count; i++) {
		errno = 0;
		if (executable(candidates->v[i])) {
			snprintf(c->exec_path, sizeof c->exec_path, "%s", candidates->v[i]);
			return;
		}
		if (errno == EACCES || (candidates->count == 1 && errno != 0))
			err = errno;
	}
	if (strchr(file, '/') != NULL)
		fail(c, err, "program \"%s\"", file);
	fail(c, err, "executable file \"%s\" not found in $PATH", file);
}

void op_wait_start(struct ctx *c, const struct op *o)
{
	const char *fifo = o->a[A_WAIT_START_FIFO].s;
	if (c->state_dir_fd < 0)
		fail(c, EBADF, "wait for start without the state directory");
	/* Blocks until `start` opens the FIFO for reading. */
	int fd;
	do
		fd = openat(c->state_dir_fd, fifo, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fail(c, errno, "open the exec FIFO");
	if (write(fd, "0", 1) != 1)
		fail(c, errno, "write the exec FIFO");
	/*
	 * The FIFO stays open (close-on-exec): `start` reads to its end, which comes
	 * when the program is exec'd (or this process dies), so the poststart hooks
	 * run after the startContainer hooks and the exec, as the specification asks.
	 */
	close(c->state_dir_fd);
	c->state_dir_fd = -1;
}

void op_reset_signals(struct ctx *c, const struct op *o)
{
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		signal(sig, SIG_DFL);
	}
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		fail(c, errno, "clear the signal mask");
}

void op_exec(struct ctx *c, const struct op *o)
{
	char **argv = o->a[A_EXEC_ARGV].v;
	const char *path = c->exec_path[0] ? c->exec_path : argv[0];
	if (path == NULL)
		fail(c, EINVAL, "no program to exec");
	execve(path, argv, o->a[A_EXEC_ENVV].v);
	fail(c, errno, "exec \"%s\"", path);
}
