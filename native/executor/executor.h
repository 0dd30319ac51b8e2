/*
 * berth-exec: carries out a plan computed by TypeScript. It holds no policy
 * and parses no JSON: every decision (which namespaces, which mounts in which
 * order, which ids and capabilities) arrives as an ordered list of
 * operations, one handler each (op_<name>, dispatched by the generated
 * ops.gen.c), and each failure goes back as (step index, errno, detail) so
 * TypeScript can name the cause.
 */
#ifndef BERTH_EXECUTOR_H
#define BERTH_EXECUTOR_H

#include "common.h"
#include "ops.gen.h"

/* What the process carries from one operation to the next. */
struct ctx {
	int sync_fd;       /* socket to TypeScript, -1 once closed */
	int root_fd;       /* O_PATH fd of the container's root before pivot_root */
	int state_dir_fd;  /* O_PATH fd of the runtime's state directory */
	int console_fd;    /* connected console socket */
	int proxy_fd;      /* socket to the waiting executor that proxies the terminal */
	int listener_fd;   /* connected seccomp listener socket */
	uint32_t step;     /* index of the operation being carried out */
	const struct plan *plan;
	char *answer;      /* payload of the last sync answer */
	uint32_t answer_len;
	char exec_path[4096];
};

/* Reports the failure of the current step (to TypeScript, else to stderr) and exits. */
_Noreturn void fail(struct ctx *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Carries out an encoded plan, speaking on sync_fd; exits when it ends. */
_Noreturn void executor_run(int sync_fd, char *buf, size_t len);
/* The executor that stays (wait mode) exits as its child did. */
_Noreturn void wait_and_exit(pid_t child);
_Noreturn void proxy_and_wait(int proxy_fd, pid_t child);
int connect_unix(const char *path);

#endif
