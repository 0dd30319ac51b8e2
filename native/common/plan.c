/*
 * Reads a plan from its file, and decodes the binary plan (format in
 * src/runtime/plan/opcodes.ts) in place:
 * strings point into the buffer, which the encoder NUL-terminates. Every
 * length is checked against the buffer and every operation against its
 * signature before anything runs, so a malformed plan fails as a whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

struct reader {
	char *p;
	char *end;
};

static int take(struct reader *r, void *dst, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	memcpy(dst, r->p, n);
	r->p += n;
	return 0;
}

static int take_str(struct reader *r, const char **s, uint32_t *len)
{
	uint32_t n;
	if (take(r, &n, sizeof n) < 0 || (size_t)(r->end - r->p) < (size_t)n + 1 || r->p[n] != '\0')
		return -1;
	*s = r->p;
	*len = n;
	r->p += (size_t)n + 1;
	return 0;
}

static int decode_arg(struct reader *r, struct arg *a)
{
	uint8_t hdr[4];
	if (take(r, hdr, sizeof hdr) < 0)
		return -1;
	a->kind = hdr[0];
	switch (a->kind) {
	case ARG_INT:
		return take(r, &a->i, sizeof a->i);
	case ARG_STR:
		return take_str(r, &a->s, &a->len);
	case ARG_STRV: {
		if (take(r, &a->count, sizeof a->count) < 0 || a->count > 65536)
			return -1;
		a->v = calloc((size_t)a->count + 1, sizeof(char *));
		if (a->v == NULL)
			return -1;
		for (uint32_t i = 0; i < a->count; i++) {
			const char *s;
			uint32_t n;
			if (take_str(r, &s, &n) < 0)
				return -1;
			a->v[i] = (char *)s;
		}
		return 0;
	}
	case ARG_INTV: {
		if (take(r, &a->count, sizeof a->count) < 0 || a->count > 65536)
			return -1;
		a->iv = calloc((size_t)a->count + 1, sizeof(int64_t));
		if (a->iv == NULL)
			return -1;
		for (uint32_t i = 0; i < a->count; i++)
			if (take(r, &a->iv[i], sizeof(int64_t)) < 0)
				return -1;
		return 0;
	}
	default:
		return -1;
	}
}

int plan_decode(char *buf, size_t len, struct plan *out, char *why, size_t whylen)
{
	struct reader r = { buf, buf + len };
	uint32_t magic, version, count;

	if (take(&r, &magic, 4) < 0 || take(&r, &version, 4) < 0 || take(&r, &count, 4) < 0) {
		snprintf(why, whylen, "plan header truncated");
		return -1;
	}
	if (magic != PLAN_MAGIC || version != PLAN_VERSION) {
		snprintf(why, whylen, "plan magic/version %#x/%u, want %#x/%u", magic, version, PLAN_MAGIC, PLAN_VERSION);
		return -1;
	}
	if (count > 65536) {
		snprintf(why, whylen, "plan has %u operations", count);
		return -1;
	}
	out->count = count;
	out->ops = calloc(count ? count : 1, sizeof(struct op));
	if (out->ops == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct op *o = &out->ops[i];
		uint16_t hdr[4];
		if (take(&r, hdr, sizeof hdr) < 0) {
			snprintf(why, whylen, "operation %u truncated", i);
			return -1;
		}
		o->code = hdr[0];
		o->flags = hdr[1];
		o->argc = hdr[2];
		if (o->code == 0 || o->code > OP_MAX_CODE || op_sigs[o->code].name == NULL) {
			snprintf(why, whylen, "operation %u: unknown code %u", i, o->code);
			return -1;
		}
		const struct op_sig *sig = &op_sigs[o->code];
		if (o->argc != sig->argc) {
			snprintf(why, whylen, "operation %u (%s): %u arguments, want %u", i, sig->name, o->argc, sig->argc);
			return -1;
		}
		for (uint16_t j = 0; j < o->argc; j++) {
			if (decode_arg(&r, &o->a[j]) < 0 || o->a[j].kind != sig->kinds[j]) {
				snprintf(why, whylen, "operation %u (%s): argument %u malformed", i, sig->name, j);
				return -1;
			}
		}
	}
	if (r.p != r.end) {
		snprintf(why, whylen, "%zu trailing bytes after the plan", (size_t)(r.end - r.p));
		return -1;
	}
	return 0;
}

/* The plan arrives in a file TypeScript wrote before starting the executor, so reading it never waits. */
char *plan_read(int fd, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "stat the plan");
		return NULL;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > PLAN_MAX_BYTES) {
		snprintf(why, whylen, "plan of %lld bytes", (long long)st.st_size);
		errno = EINVAL;
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size);
	size_t got = 0;
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "read the plan");
			errno = n < 0 ? errno : EIO;
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	if (buf == NULL)
		snprintf(why, whylen, "plan of %zu bytes", (size_t)st.st_size);
	close(fd);
	*len = got;
	return buf;
}
