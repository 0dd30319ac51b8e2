/*
 * What berth's native programs share: the plan as decoded (plan.c), the
 * framed messages and SCM_RIGHTS of the sync socket (sync.c), the sealed
 * in-memory copy each program runs from (sealed.c), and the wire constants
 * generated from src/runtime/plan/opcodes.ts (plan.gen.h). Nothing here
 * decides anything: every decision arrives from TypeScript.
 */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H

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

/* plan.c: NULL or -1 with the reason in `why` (and errno) */
char *plan_read(int fd, size_t *len, char *why, size_t whylen);
int plan_decode(char *buf, size_t len, struct plan *out, char *why, size_t whylen);

/* sync.c */
int write_all(int fd, const void *buf, size_t len);
int msg_send(int fd, uint32_t type, const void *payload, uint32_t len);
int msg_recv(int fd, uint32_t *type, char **payload, uint32_t *len);
int send_fd_with(int sock, int fd, const void *data, size_t len);
int recv_fd(int sock);

/*
 * resident.c: a resident command line's socket at `path`, connected and accepted for this command
 * (FRONT_GO sent), or -1; *absent is 1 when no resident answers there (the command line may start one).
 */
int resident_connect(const char *path, char **argv, char **envp, int *absent);
/* FRONT_OUTPUT from the resident: written to this process's stdout or stderr. */
void resident_output(const char *payload, unsigned int len);

/* sealed.c: CVE-2019-5736 */
/* 1 when this process runs from a sealed in-memory copy of itself. */
int runs_sealed(void);
/* Re-executes this program from a sealed in-memory copy; returns only on failure, having said why. */
void exec_sealed_copy(char **argv, char **envp);

#endif
