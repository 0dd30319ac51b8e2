/*
 * Messages on the sync socket (type:u32 len:u32 payload, the framing of
 * src/runtime/host/frames.ts) and descriptors passed over unix sockets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int msg_send(int fd, uint32_t type, const void *payload, uint32_t len)
{
	uint32_t hdr[2] = { type, len };
	if (write_all(fd, hdr, sizeof hdr) < 0)
		return -1;
	return len ? write_all(fd, payload, len) : 0;
}

int msg_recv(int fd, uint32_t *type, char **payload, uint32_t *len)
{
	uint32_t hdr[2];
	if (read_all(fd, hdr, sizeof hdr) < 0)
		return -1;
	if (hdr[1] > PLAN_MAX_BYTES) {
		errno = EMSGSIZE;
		return -1;
	}
	char *buf = malloc((size_t)hdr[1] + 1);
	if (buf == NULL)
		return -1;
	if (read_all(fd, buf, hdr[1]) < 0) {
		free(buf);
		return -1;
	}
	buf[hdr[1]] = '\0';
	*type = hdr[0];
	*payload = buf;
	*len = hdr[1];
	return 0;
}

/* One message carrying `fd` (SCM_RIGHTS) and `len` bytes of data (at least one byte goes). */
int send_fd_with(int sock, int fd, const void *data, size_t len)
{
	char zero = 0;
	struct iovec iov = { .iov_base = len ? (void *)data : &zero, .iov_len = len ? len : 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

int recv_fd(int sock)
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
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EBADMSG;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}
