/*
 * berth-exec: carries out a plan computed by TypeScript. It holds no policy
 * and parses no JSON: every decision (which namespaces, which mounts in which
 * order, which ids and capabilities) arrives as an ordered list of
 * operations, and each failure goes back as (step index, errno, detail) so
 * TypeScript can name the cause.
 */
#ifndef BERTH_EXECUTOR_H
#define BERTH_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.gen.h"

struct arg {
	uint8_t kind;
	int64_t i;       /* ARG_INT */
	const char *s;   /* ARG_STR: NUL-terminated, len bytes before the NUL */
	uint32_t len;
	char **v;        /* ARG_STRV: NULL-terminated array of count strings */
	int64_t *iv;     /* ARG_INTV */
	uint32_t count;
};

struct op {
	uint16_t code;
	uint16_t flags;
	uint16_t argc;
	struct arg a[OP_MAX_ARGS];
};

struct plan {
	uint32_t count;
	struct op *ops;
};

/* What the process carries from one operation to the next. */
struct ctx {
	int sync_fd;       /* socket to TypeScript, -1 once closed */
	int root_fd;       /* O_PATH fd of the container's root before pivot_root */
	int state_dir_fd;  /* O_PATH fd of the runtime's state directory */
	int console_fd;    /* connected console socket */
	int proxy_fd;      /* socket to the waiting executor that proxies the terminal */
	int listener_fd;   /* connected seccomp listener socket */
	char *home;        /* HOME for exec, from the container's /etc/passwd */
	int is_child;      /* 1 in the container process, after clone */
	uint32_t step;     /* index of the operation being carried out */
	const struct plan *plan;
	char *answer;      /* payload of the last sync answer */
	uint32_t answer_len;
	char exec_path[4096];
};

/* plan.c */
int plan_decode(char *buf, size_t len, struct plan *out, char *why, size_t whylen);

/* sync.c */
int msg_send(int fd, uint32_t type, const void *payload, uint32_t len);
int msg_recv(int fd, uint32_t *type, char **payload, uint32_t *len);
_Noreturn void fail(struct ctx *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int send_fd(int sock, int fd);
int send_fd_with(int sock, int fd, const void *data, size_t len);
int write_all(int fd, const void *buf, size_t len);
int recv_fd(int sock);

/* ops_ns.c */
int op_mkfifo(struct ctx *c, const struct op *o);
int op_setns(struct ctx *c, const struct op *o);
int op_fork(struct ctx *c, const struct op *o);
int op_unshare(struct ctx *c, const struct op *o);
int op_sync(struct ctx *c, const struct op *o);

/* ops_mount.c */
int resolve_in_root(struct ctx *c, const char *path, int create_kind);
int op_propagate_abs(struct ctx *c, const struct op *o);
int op_open_root(struct ctx *c, const struct op *o);
int op_mount(struct ctx *c, const struct op *o);
int op_remount_bind(struct ctx *c, const struct op *o);
int op_propagate(struct ctx *c, const struct op *o);
int op_mknod(struct ctx *c, const struct op *o);
int op_symlink(struct ctx *c, const struct op *o);
int op_chmod_chown(struct ctx *c, const struct op *o);
int op_pivot_root(struct ctx *c, const struct op *o);
int op_move_root(struct ctx *c, const struct op *o);
int op_chroot(struct ctx *c, const struct op *o);
int op_mask_path(struct ctx *c, const struct op *o);
int op_readonly_path(struct ctx *c, const struct op *o);
int op_remount_root_ro(struct ctx *c, const struct op *o);
int op_ensure_dir(struct ctx *c, const struct op *o);

/* ops_process.c */
int op_run_hook(struct ctx *c, const struct op *o);
int op_write_file(struct ctx *c, const struct op *o);
int op_setrlimit(struct ctx *c, const struct op *o);
int op_set_user(struct ctx *c, const struct op *o);
int op_caps(struct ctx *c, const struct op *o);
int op_seccomp(struct ctx *c, const struct op *o);
int op_listener_connect(struct ctx *c, const struct op *o);
int op_home_env(struct ctx *c, const struct op *o);
int op_close_fds(struct ctx *c, const struct op *o);
int op_resolve_exec(struct ctx *c, const struct op *o);
int op_wait_start(struct ctx *c, const struct op *o);
int op_exec(struct ctx *c, const struct op *o);
int op_reset_signals(struct ctx *c, const struct op *o);

/* console.c */
int op_console_connect(struct ctx *c, const struct op *o);
int op_setup_console(struct ctx *c, const struct op *o);
_Noreturn void proxy_and_wait(int proxy_fd, pid_t child);
int op_loopback_up(struct ctx *c, const struct op *o);

/* bpf_device.c */
int op_bpf_device(struct ctx *c, const struct op *o);

/* main.c */
_Noreturn void wait_and_exit(pid_t child);
/* Carries out an encoded plan, speaking on sync_fd; exits when it ends. */
_Noreturn void executor_run(int sync_fd, char *buf, size_t len);
/* 1 when this process runs from a sealed in-memory copy of itself (CVE-2019-5736). */
int runs_sealed(void);
/* Re-executes this program from a sealed in-memory copy; returns only on failure, having said why. */
void exec_sealed_copy(char **argv, char **envp);

/* front.c */
int front_main(int argc, char **argv, char **envp);

#endif
