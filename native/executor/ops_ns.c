/*
 * Namespaces and the hand-over points: joining and creating namespaces,
 * forking the container process, and waiting for TypeScript at `sync`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

void op_mkfifo(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_MKFIFO_PATH].s;
	if (mkfifo(path, (mode_t)o->a[A_MKFIFO_MODE].i) < 0)
		fail(c, errno, "mkfifo \"%s\"", path);
}

void op_setns(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_SETNS_PATH].s;
	int nstype = (int)o->a[A_SETNS_NSTYPE].i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(c, errno, "open namespace \"%s\"", path);
	if (setns(fd, nstype) < 0)
		fail(c, errno, "setns \"%s\" (type %#x)", path, nstype);
	close(fd);
}

void op_unshare(struct ctx *c, const struct op *o)
{
	int flags = (int)o->a[A_UNSHARE_FLAGS].i;
	if (unshare(flags) < 0)
		fail(c, errno, "unshare(%#x)", flags);
}

static void ignore_forwarded_signals(void)
{
	/* TypeScript forwards these to the container; the waiting executor only waits. */
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_IGN);
}

void op_fork(struct ctx *c, const struct op *o)
{
	int wait = (int)o->a[A_FORK_WAIT].i;
	int proxy = (int)o->a[A_FORK_CONSOLE_PROXY].i;
	int sv[2] = { -1, -1 };
	if (proxy && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fail(c, errno, "socketpair for the terminal");
	/* The child waits until its pid is reported, so its own messages come after it. */
	int order[2];
	if (pipe2(order, O_CLOEXEC) < 0)
		fail(c, errno, "pipe");

	pid_t pid = fork();
	if (pid < 0)
		fail(c, errno, "fork");
	if (pid == 0) {
		close(order[1]);
		char byte;
		ssize_t n;
		do
			n = read(order[0], &byte, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(EXEC_FAILURE_STATUS);
		close(order[0]);
		if (proxy) {
			close(sv[0]);
			c->proxy_fd = sv[1];
		}
		return;
	}
	int32_t p = pid;
	if (msg_send(c->sync_fd, MSG_PID, &p, sizeof p) < 0) {
		kill(pid, SIGKILL);
		fail(c, errno, "report the container's pid");
	}
	close(order[0]);
	if (write(order[1], "1", 1) != 1) {
		kill(pid, SIGKILL);
		fail(c, errno, "release the container process");
	}
	close(order[1]);
	close(c->sync_fd);
	c->sync_fd = -1;
	if (!wait)
		_exit(0);
	/* What the container process took over is not the waiting executor's to hold. */
	if (c->root_fd >= 0)
		close(c->root_fd);
	if (c->state_dir_fd >= 0)
		close(c->state_dir_fd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	ignore_forwarded_signals();
	if (proxy) {
		close(sv[1]);
		proxy_and_wait(sv[0], pid);
	}
	wait_and_exit(pid);
}

void op_sync(struct ctx *c, const struct op *o)
{
	const struct arg *tag = &o->a[A_SYNC_TAG];
	if (c->sync_fd < 0)
		fail(c, EPIPE, "sync \"%s\" after the socket closed", tag->s);
	if (msg_send(c->sync_fd, MSG_SYNC, tag->s, tag->len) < 0)
		fail(c, errno, "sync \"%s\": send", tag->s);
	uint32_t type, len;
	char *payload;
	if (msg_recv(c->sync_fd, &type, &payload, &len) < 0) {
		/* TypeScript went away: nothing left to set up for. */
		_exit(EXEC_FAILURE_STATUS);
	}
	if (type == MSG_ABORT)
		_exit(EXEC_FAILURE_STATUS);
	if (type != MSG_CONTINUE)
		fail(c, EPROTO, "sync \"%s\": answer has type %u", tag->s, type);
	free(c->answer);
	c->answer = payload;
	c->answer_len = len;
}
