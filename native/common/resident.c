/*
 * The caller's side of a resident command line: a Node.js process that
 * stays after a command, so the next command does not start Node.js again
 * (issue 9: Node.js's start-up alone took longer than runc's whole `state`).
 * berth-runtime's front talks to the resident of its own build
 * (src/cli/berth-runtime/resident.ts), berth's client to berthd
 * (src/cli/berthd/cli-server.ts); both share src/cli/resident/.
 *
 * The program connects, sends the command (arguments, working directory,
 * environment, which of its stdio are terminals and the terminal's size)
 * and waits for the answer: FRONT_ACCEPT, to which it says FRONT_GO and
 * then serves the resident (writes its output, passes signals on, exits
 * with FRONT_BYE's code); or FRONT_FALLBACK, and the program starts
 * Node.js as it always did. The resident decides which caller and which
 * command it serves; the program only carries bytes. Root only: the
 * resident and its socket are root's, and SO_PEERCRED says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

#define RESIDENT_VERSION 2
/* A resident that does not answer at once is busy or wedged: the command goes on without it. */
#define ANSWER_TIMEOUT_MS 2000

static size_t strings_size(char **list, uint32_t *count)
{
	size_t size = 0;
	*count = 0;
	for (char **s = list; s != NULL && *s != NULL; s++, (*count)++)
		size += strlen(*s) + 1;
	return size;
}

static char *put_strings(char *at, char **list)
{
	for (char **s = list; s != NULL && *s != NULL; s++) {
		size_t n = strlen(*s) + 1;
		memcpy(at, *s, n);
		at += n;
	}
	return at;
}

/*
 * FRONT_HELLO's payload: version, argc, envc, terminals (bit N: descriptor N is one), the terminal's
 * columns and rows (0 without one), then the cwd, the arguments and the environment.
 */
static int send_hello(int fd, char **argv, char **envp)
{
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	uint32_t head[6] = { RESIDENT_VERSION, 0, 0, 0, 0, 0 };
	struct winsize ws = { 0 };
	for (int i = 0; i < 3; i++) {
		if (isatty(i)) {
			head[3] |= 1U << i;
			if (ws.ws_col == 0)
				(void)ioctl(i, TIOCGWINSZ, &ws);
		}
	}
	head[4] = ws.ws_col;
	head[5] = ws.ws_row;
	size_t size = sizeof head + strlen(cwd) + 1 + strings_size(argv + 1, &head[1]) + strings_size(envp, &head[2]);
	if (size > PLAN_MAX_BYTES)
		return -1;
	char *buf = malloc(size);
	if (buf == NULL)
		return -1;
	memcpy(buf, head, sizeof head);
	char *at = buf + sizeof head;
	memcpy(at, cwd, strlen(cwd) + 1);
	at = put_strings(at + strlen(cwd) + 1, argv + 1);
	put_strings(at, envp);
	int rc = msg_send(fd, MSG_FRONT_HELLO, buf, (uint32_t)size);
	free(buf);
	return rc;
}

int resident_connect(const char *path, char **argv, char **envp, int *absent)
{
	*absent = 0;
	if (geteuid() != 0)
		return -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path)
		return -1;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		*absent = errno == ENOENT || errno == ECONNREFUSED;
		close(fd);
		return -1;
	}
	struct ucred cred;
	socklen_t len = sizeof cred;
	uint32_t type, size;
	char *payload = NULL;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0 || send_hello(fd, argv, envp) < 0)
		goto refused;
	if (poll(&p, 1, ANSWER_TIMEOUT_MS) != 1)
		goto refused;
	if (msg_recv(fd, &type, &payload, &size) < 0) {
		/* It went away without an answer (killed, say): the command line may start the next one. */
		*absent = 1;
		goto refused;
	}
	/* Why it was refused, for whoever traces the command line. */
	if (type == MSG_FRONT_FALLBACK && getenv("BERTH_TRACE") != NULL && strcmp(getenv("BERTH_TRACE"), "1") == 0)
		dprintf(2, "[berth] resident: %s\n", payload);
	free(payload);
	if (type != MSG_FRONT_ACCEPT || msg_send(fd, MSG_FRONT_GO, NULL, 0) < 0)
		goto refused;
	return fd;
refused:
	close(fd);
	return -1;
}

/* FRONT_OUTPUT: fd:u32 (1 or 2), then the bytes, written whole as the command line would. */
void resident_output(const char *payload, unsigned int len)
{
	uint32_t fd;
	if (len < sizeof fd)
		return;
	memcpy(&fd, payload, sizeof fd);
	if (fd != 1 && fd != 2)
		return;
	const char *p = payload + sizeof fd;
	size_t left = len - sizeof fd;
	while (left > 0) {
		ssize_t n = write((int)fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd w = { .fd = (int)fd, .events = POLLOUT };
				(void)poll(&w, 1, -1);
				continue;
			}
			/* EPIPE and the like: the reader went away, and the output with it. */
			return;
		}
		p += n;
		left -= (size_t)n;
	}
}
