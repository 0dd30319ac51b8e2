/*
 * berthd asleep. After a while with nothing to do, berthd becomes this
 * program (execve: the same pid, so its lock file, a supervisor and
 * `berth system stop` still name it) and leaves it its listening sockets
 * and its lock (src/api/sleep.ts decides when and what). It accepts
 * nothing and reads nothing: it waits until a connection is waiting on
 * one of the sockets, then runs berthd again in its place, the
 * descriptors passed as systemd's socket activation passes them
 * (sd_listen_fds(3)): at 3, 4, ... in the order given, with LISTEN_FDS,
 * LISTEN_PID and LISTEN_FDNAMES. The waiting connection stays in the
 * socket's queue for berthd to accept.
 *
 *   berth-idle [--hold NAME=FD]... NAME=FD... -- PROGRAM [ARG]...
 *
 * NAME=FD is watched; --hold NAME=FD is only passed on (the lock file).
 * SIGTERM and SIGINT end it with status 0 (the lock goes with it); a child
 * berthd left (a monitor that was exiting) is reaped. Policy-free: which
 * descriptors, when to sleep and what to run are berthd's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FDS 32

struct passed {
	const char *name;
	int fd;
	int watch;
};

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	(void)sig;
	int saved = errno;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static _Noreturn void usage(const char *why)
{
	dprintf(2, "berth-idle: %s\nusage: berth-idle [--hold NAME=FD]... NAME=FD... -- PROGRAM [ARG]...\n", why);
	_exit(2);
}

static int parse(const char *arg, struct passed *p, int watch)
{
	const char *eq = strrchr(arg, '=');
	if (eq == NULL || eq == arg || strchr(arg, ':') != NULL)
		return -1;
	char *end;
	errno = 0;
	long fd = strtol(eq + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == eq + 1 || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0)
		return -1;
	p->name = strndup(arg, (size_t)(eq - arg));
	p->fd = (int)fd;
	p->watch = watch;
	return p->name == NULL ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct passed fds[MAX_FDS];
	int n = 0, i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		int hold = strcmp(argv[i], "--hold") == 0;
		if (hold && ++i >= argc)
			usage("--hold needs NAME=FD");
		if (n == MAX_FDS)
			usage("too many descriptors");
		if (parse(argv[i], &fds[n], !hold) < 0) {
			dprintf(2, "berth-idle: \"%s\": not NAME=FD of an open descriptor (a name without ':')\n", argv[i]);
			_exit(2);
		}
		n++;
	}
	if (i + 1 >= argc)
		usage("no program after --");
	char **program = &argv[i + 1];

	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* As berthd: a daemon has no terminal to hang up. */
	signal(SIGHUP, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	reap(0);

	struct pollfd pfd[MAX_FDS];
	int watched = 0;
	for (int k = 0; k < n; k++)
		if (fds[k].watch)
			pfd[watched++] = (struct pollfd){ .fd = fds[k].fd, .events = POLLIN };
	if (watched == 0)
		usage("no descriptor to watch");
	while (poll(pfd, (nfds_t)watched, -1) < 0)
		if (errno != EINTR) {
			dprintf(2, "berth-idle: poll: %s\n", strerror(errno));
			_exit(1);
		}

	/* Each to a number above the targets first, so that placing one never closes another still to be placed. */
	int tmp[MAX_FDS];
	for (int k = 0; k < n; k++)
		if ((tmp[k] = fcntl(fds[k].fd, F_DUPFD_CLOEXEC, 3 + n)) < 0) {
			dprintf(2, "berth-idle: dup %d: %s\n", fds[k].fd, strerror(errno));
			_exit(1);
		}
	for (int k = 0; k < n; k++)
		if (dup2(tmp[k], 3 + k) < 0) {
			dprintf(2, "berth-idle: dup2 %d: %s\n", tmp[k], strerror(errno));
			_exit(1);
		}
	syscall(SYS_close_range, 3 + n, ~0U, 0);

	char names[MAX_FDS * 64] = "", count[16], pid[16];
	for (int k = 0; k < n; k++) {
		if (k > 0)
			strncat(names, ":", sizeof names - strlen(names) - 1);
		strncat(names, fds[k].name, sizeof names - strlen(names) - 1);
	}
	snprintf(count, sizeof count, "%d", n);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	if (setenv("LISTEN_FDS", count, 1) < 0 || setenv("LISTEN_PID", pid, 1) < 0 || setenv("LISTEN_FDNAMES", names, 1) < 0)
		_exit(1);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	execv(program[0], program);
	dprintf(2, "berth-idle: cannot run %s: %s\n", program[0], strerror(errno));
	_exit(127);
}
