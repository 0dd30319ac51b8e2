/*
 * berth's client: the process a user of `berth` starts. When berthd runs
 * and takes the command (src/cli/berthd/cli-server.ts decides: the caller
 * must see the system as berthd does, and only commands that need nothing
 * of the caller but its output are taken), the command runs in berthd's
 * Node.js, which is already up, and this program writes its output
 * (FRONT_OUTPUT) and exits with its code (FRONT_BYE). A signal does to it
 * what it does to the command line in its own process (SIGINT, SIGTERM end
 * the client; the container goes on). Otherwise it becomes the command line itself:
 * build/berth.cjs under Node.js, as before. It decides nothing and forks
 * nothing; the socket is root's (/run/berth/cli.sock, 0600).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define CLI_SOCKET "/run/berth/cli.sock"
#define LAUNCHER_NAME "berth.cjs"

/* build/berth.cjs next to this binary (symlinks to it resolved by the kernel). */
static _Noreturn void run_command_line(char **argv)
{
	char self[PATH_MAX], launcher[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash = len > 0 ? (self[len] = '\0', strrchr(self, '/')) : NULL;
	if (slash == NULL) {
		dprintf(2, "berth: cannot find %s next to /proc/self/exe\n", LAUNCHER_NAME);
		_exit(125);
	}
	*slash = '\0';
	if (snprintf(launcher, sizeof launcher, "%s/%s", self, LAUNCHER_NAME) >= (int)sizeof launcher) {
		dprintf(2, "berth: %s/%s: path too long\n", self, LAUNCHER_NAME);
		_exit(125);
	}
	execv(launcher, argv);
	dprintf(2, "berth: start %s: %s\n", launcher, strerror(errno));
	_exit(127);
}

/* Serves the resident until it says FRONT_BYE (exit with its code) or goes away (125, as docker's CLI does). */
static _Noreturn void serve(int fd)
{
	for (;;) {
		uint32_t type, len;
		char *payload;
		if (msg_recv(fd, &type, &payload, &len) < 0)
			break;
		if (type == MSG_FRONT_OUTPUT) {
			resident_output(payload, len);
		} else if (type == MSG_FRONT_BYE && len == sizeof(int32_t)) {
			int32_t code;
			memcpy(&code, payload, sizeof code);
			_exit(code & 0xff);
		}
		free(payload);
	}
	dprintf(2, "berth: berthd went away during the command\n");
	_exit(125);
}

/*
 * RUN-ROOT/cli.sock, RUN-ROOT from the first --run-root (berthd reads the whole command line again
 * and refuses it when it names another daemon, so a --run-root that is a container's argument is harmless).
 */
static const char *cli_socket(int argc, char **argv, char *buf, size_t size)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *dir = NULL;
		if (strcmp(argv[i], "--run-root") == 0 && i + 1 < argc)
			dir = argv[i + 1];
		else if (strncmp(argv[i], "--run-root=", 11) == 0)
			dir = argv[i] + 11;
		if (dir != NULL)
			return snprintf(buf, size, "%s/cli.sock", dir) < (int)size ? buf : NULL;
	}
	return CLI_SOCKET;
}

int main(int argc, char **argv, char **envp)
{
	int absent;
	char buf[PATH_MAX];
	const char *path = cli_socket(argc, argv, buf, sizeof buf);
	int fd = argc > 1 && path != NULL ? resident_connect(path, argv, envp, &absent) : -1;
	if (fd < 0)
		run_command_line(argv);
	serve(fd);
}
