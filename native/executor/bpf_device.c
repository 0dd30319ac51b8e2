/*
 * bpf_device: the cgroup v2 device filter. TypeScript compiles the rules
 * into a BPF_PROG_TYPE_CGROUP_DEVICE program; this loads it and attaches it
 * to the container's cgroup2 directory. Like runc: query the device
 * programs attached there before, attach the new one with
 * BPF_F_ALLOW_MULTI, then detach the old ones, so there is no moment
 * without a filter. The attached program outlives the executor (the cgroup
 * holds it) and goes away with the cgroup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

#define MAX_OLD 64
#define LOG_SIZE (256 * 1024)

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static uint64_t ptr64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* File descriptors of the device programs attached to the cgroup now. */
static int attached_programs(struct ctx *c, int dir, const char *path, int *fds)
{
	uint32_t ids[MAX_OLD];
	union bpf_attr q;
	memset(&q, 0, sizeof q);
	q.query.target_fd = (uint32_t)dir;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.prog_ids = ptr64(ids);
	q.query.prog_cnt = MAX_OLD;
	if (sys_bpf(BPF_PROG_QUERY, &q) < 0)
		fail(c, errno, "BPF_PROG_QUERY (BPF_CGROUP_DEVICE) on \"%s\"", path);
	int n = 0;
	for (uint32_t i = 0; i < q.query.prog_cnt && i < MAX_OLD; i++) {
		union bpf_attr g;
		memset(&g, 0, sizeof g);
		g.prog_id = ids[i];
		int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (fd < 0) {
			/* A program an LSM hides from us can only restrict more; leave it (runc does too). */
			if (errno == EACCES || errno == EPERM)
				continue;
			fail(c, errno, "BPF_PROG_GET_FD_BY_ID %u (attached to \"%s\")", ids[i], path);
		}
		fds[n++] = fd;
	}
	return n;
}

/* The end of the verifier's log fits the error report; the end names the failing instruction. */
static const char *log_tail(const char *log)
{
	size_t len = strlen(log);
	return len > 800 ? log + len - 800 : log;
}

static int load_program(struct ctx *c, const struct arg *prog, const struct arg *license)
{
	union bpf_attr l;
	memset(&l, 0, sizeof l);
	l.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	l.insns = ptr64(prog->s);
	l.insn_cnt = prog->len / sizeof(struct bpf_insn);
	l.license = ptr64(license->s);
	strncpy(l.prog_name, "berth_devices", sizeof l.prog_name - 1);
	int fd = sys_bpf(BPF_PROG_LOAD, &l);
	if (fd >= 0)
		return fd;
	int err = errno;
	/* Load again with the verifier's log on: only now is it worth its cost. */
	static char log[LOG_SIZE];
	log[0] = '\0';
	l.log_buf = ptr64(log);
	l.log_size = sizeof log;
	l.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &l);
	if (fd >= 0)
		return fd;
	fail(c, err, "BPF_PROG_LOAD (cgroup device filter, %u instructions): verifier: %s", l.insn_cnt,
	     log[0] ? log_tail(log) : "(no log)");
}

void op_bpf_device(struct ctx *c, const struct op *o)
{
	const struct arg *cg = &o->a[A_BPF_DEVICE_CGROUP];
	const struct arg *prog = &o->a[A_BPF_DEVICE_PROGRAM];
	const struct arg *license = &o->a[A_BPF_DEVICE_LICENSE];
	if (prog->len == 0 || prog->len % sizeof(struct bpf_insn) != 0)
		fail(c, EINVAL, "device filter of %u bytes is not a list of BPF instructions", prog->len);

	/* Kernels before 5.11 charge BPF programs to RLIMIT_MEMLOCK; the container does not inherit this. */
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	(void)setrlimit(RLIMIT_MEMLOCK, &unlimited);

	int dir = open(cg->s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		fail(c, errno, "open cgroup \"%s\"", cg->s);
	int old[MAX_OLD];
	int nold = attached_programs(c, dir, cg->s, old);
	int fd = load_program(c, prog, license);

	/* The new filter goes on beside the old ones, which then go: there is no moment without a filter. */
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)dir;
	a.attach_bpf_fd = (uint32_t)fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		fail(c, errno, "BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) to \"%s\"", cg->s);
	for (int i = 0; i < nold; i++) {
		a.attach_bpf_fd = (uint32_t)old[i];
		a.attach_flags = 0;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			fail(c, errno, "BPF_PROG_DETACH of the previous device filter from \"%s\"", cg->s);
		close(old[i]);
	}
	close(fd);
	close(dir);
}
