/*
 * recvtty: the receiving end of an OCI runtime's --console-socket, for
 * tests (compare runc's contrib/cmd/recvtty). It listens on a unix socket,
 * takes one connection, receives the pseudo-terminal master sent with
 * SCM_RIGHTS, then copies the master to stdout until the container side
 * closes (and, with -i, its own stdin to the master).
 *
 *   recvtty [-i] SOCKET
 *
 * It prints "listening" on stderr once connections are accepted, and on
 * stderr too a line "received fd" with the mode of the fd it got, so a test
 * can check that what arrived is a terminal ("char-device").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int receive_fd(int conn)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

int main(int argc, char **argv)
{
	int with_stdin = 0;
	int i = 1;
	if (i < argc && strcmp(argv[i], "-i") == 0) {
		with_stdin = 1;
		i++;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: recvtty [-i] SOCKET\n");
		return 2;
	}
	const char *path = argv[i];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "recvtty: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(sock, 1) < 0) {
		fprintf(stderr, "recvtty: listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(stderr, "listening\n");
	int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		fprintf(stderr, "recvtty: accept: %s\n", strerror(errno));
		return 1;
	}
	int master = receive_fd(conn);
	if (master < 0) {
		fprintf(stderr, "recvtty: no fd received\n");
		return 1;
	}
	close(conn);
	close(sock);
	unlink(path);
	struct stat st;
	fstat(master, &st);
	fprintf(stderr, "received fd %s\n", S_ISCHR(st.st_mode) ? "char-device" : "other");

	char buf[4096];
	int in_open = with_stdin;
	for (;;) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			/* EIO: every slave fd is closed, the container side is gone. */
			if (n <= 0)
				break;
			if (write_all(1, buf, (size_t)n) < 0)
				return 1;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0)
				in_open = 0;
			else if (write_all(master, buf, (size_t)n) < 0)
				return 1;
		}
	}
	return 0;
}
