/*
 * Terminals: the pseudo-terminal is created inside the container (from its
 * own devpts instance), its master goes to the console socket (runc's
 * protocol: one SCM_RIGHTS message) or to the executor that waits in the
 * foreground and copies between the user's terminal and the container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "executor.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

void op_console_connect(struct ctx *c, const struct op *o)
{
	const char *path = o->a[A_CONSOLE_CONNECT_PATH].s;
	c->console_fd = connect_unix(path);
	if (c->console_fd < 0)
		fail(c, errno, "connect to the console socket \"%s\"", path);
}

void op_setup_console(struct ctx *c, const struct op *o)
{
	const struct arg *a = o->a;
	const char *console_path = a[A_SETUP_CONSOLE_CONSOLE_PATH].s;
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(c, errno, "open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(c, errno, "unlock the pseudo-terminal");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		fail(c, errno, "open the pseudo-terminal's slave");
	int ptn = 0;
	if (ioctl(master, TIOCGPTN, &ptn) < 0)
		fail(c, errno, "number of the pseudo-terminal");
	if (a[A_SETUP_CONSOLE_ROWS].i > 0 && a[A_SETUP_CONSOLE_COLS].i > 0) {
		struct winsize ws = { .ws_row = (unsigned short)a[A_SETUP_CONSOLE_ROWS].i, .ws_col = (unsigned short)a[A_SETUP_CONSOLE_COLS].i };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			fail(c, errno, "set the terminal size");
	}
	if (fchown(slave, (uid_t)a[A_SETUP_CONSOLE_UID].i, (gid_t)a[A_SETUP_CONSOLE_GID].i) < 0)
		fail(c, errno, "chown the pseudo-terminal");
	if (console_path[0] != '\0') {
		char pts[64];
		snprintf(pts, sizeof pts, "/dev/pts/%d", ptn);
		int f = open(console_path, O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_WRONLY, 0666);
		if (f < 0 && errno != EEXIST)
			fail(c, errno, "create \"%s\"", console_path);
		if (f >= 0)
			close(f);
		if (mount(pts, console_path, NULL, MS_BIND, NULL) < 0)
			fail(c, errno, "bind %s over \"%s\"", pts, console_path);
	}
	int to = c->console_fd >= 0 ? c->console_fd : c->proxy_fd;
	if (to < 0)
		fail(c, EINVAL, "a terminal but no console socket to send it to");
	if (send_fd_with(to, master, NULL, 0) < 0)
		fail(c, errno, "send the terminal's master");
	close(master);
	if (c->console_fd >= 0) {
		close(c->console_fd);
		c->console_fd = -1;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(c, errno, "make the pseudo-terminal the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			fail(c, errno, "dup the pseudo-terminal to fd %d", fd);
	if (slave > 2)
		close(slave);
}

static void copy_size(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

void proxy_and_wait(int proxy_fd, pid_t child)
{
	int master = recv_fd(proxy_fd);
	close(proxy_fd);
	if (master < 0)
		wait_and_exit(child);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);

	struct termios saved;
	int raw = isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
		copy_size(0, master);
	}
	int in_open = 1, status = 0, exited = 0;
	char buf[8192];
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = master, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		/* Once the container exited, what it wrote before is copied out, and then the proxy ends. */
		int ready = poll(p, 3, exited ? 0 : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0 || (exited && !(p[1].revents & POLLIN)))
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0)
				in_open = 0;
			else
				write_all(master, buf, (size_t)n);
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n > 0)
				write_all(1, buf, (size_t)n);
			else if (exited)
				break;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo == SIGWINCH && raw)
				copy_size(0, master);
			exited = exited || waitpid(child, &status, WNOHANG) == child;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	_exit(128 + WTERMSIG(status));
}

void op_loopback_up(struct ctx *c, const struct op *o)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail(c, errno, "socket for the loopback interface");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail(c, errno, "flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail(c, errno, "bring lo up");
	close(s);
}
