/*
 * A seccomp agent for tests: listens on a unix socket, receives the notify
 * fd and the container process state (runtime-spec "listenerPath"), prints
 * the state, then answers the first notification with -ERRNO and prints
 * the syscall number.
 *
 *   seccomp-listener SOCKET ERRNO
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seccomp-listener SOCKET ERRNO\n");
		return 2;
	}
	int answer = atoi(argv[2]);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	if (srv < 0 || bind(srv, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(srv, 1) < 0) {
		perror("listen");
		return 1;
	}
	int conn = accept(srv, NULL, NULL);
	if (conn < 0) {
		perror("accept");
		return 1;
	}
	static char state[65536];
	struct iovec iov = { .iov_base = state, .iov_len = sizeof state - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	ssize_t n = recvmsg(conn, &msg, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (n < 0 || cm == NULL || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no fd received\n");
		return 1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	state[n] = '\0';
	printf("%s\n", state);
	fflush(stdout);

	struct seccomp_notif_sizes sizes;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		perror("sizes");
		return 1;
	}
	struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
		perror("recv");
		return 1;
	}
	resp->id = req->id;
	resp->error = -answer;
	resp->val = 0;
	resp->flags = 0;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0) {
		perror("send");
		return 1;
	}
	printf("syscall %d\n", req->data.nr);
	return 0;
}
