/*
 * berth-watchdog: what the parts share. main.c reads the configuration,
 * listens and forks one handler per connection; http.c parses requests
 * and writes responses; fork.c runs fprocess per request (streaming,
 * serializing); proxy.c forwards to the long-lived process (http); static.c
 * serves files (static).
 */
#ifndef BERTH_WATCHDOG_H
#define BERTH_WATCHDOG_H

#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mode { MODE_STREAMING, MODE_SERIALIZING, MODE_HTTP, MODE_STATIC };

struct config {
	int port;
	enum mode mode;
	char **argv;             /* fprocess split on spaces, as the watchdogs do */
	int64_t exec_ms, read_ms, write_ms; /* 0: no limit */
	int max_inflight;        /* 0: no limit */
	const char *content_type;
	bool combine_output, prefix_logs, suppress_lock;
	const char *static_path;
	struct sockaddr_in upstream;
	char upstream_host[80];  /* Host header for the upstream */
	const char *upstream_path; /* prefix of every forwarded target, without the trailing '/' */
	size_t upstream_path_len;
};

/* Counters shared by the listener and its handlers (MAP_SHARED). */
struct shared {
	int inflight;
	int ready;
};

extern struct config cfg;
extern struct shared *shared;
extern const sigset_t *poll_mask;  /* signals let in while a handler waits */
extern volatile sig_atomic_t terminating;

#define MAX_HEAD 65536
#define MAX_HEADERS 100
#define CONN_BUF (MAX_HEAD + 16384)

struct header {
	char *name, *value;
};

struct request {
	char head[MAX_HEAD + 1];
	size_t head_len;
	char *method, *target, *path, *query;
	bool http10, keep_alive, expect_continue, chunked;
	int64_t length;          /* Content-Length, -1 chunked, 0 none */
	struct header h[MAX_HEADERS];
	int nh;
	/* body state */
	int64_t left;            /* bytes left in the body or the current chunk */
	int chunk_state;         /* 0 size line next, 1 data, 2 CRLF after data, 3 done */
	bool body_done, body_bad;
};

struct conn {
	int fd;
	size_t off, len;         /* unread bytes are buf[off, len) */
	int64_t deadline;        /* for reads, monotonic ms; 0: none */
	bool close, idle;        /* idle: waiting for a request's first byte */
	bool head, http10;       /* answering a HEAD: headers only; an HTTP/1.0 request (kept alive only when it says so) */
	bool nowait, again;      /* nowait: reads never block, `again` says one would have */
	char buf[CONN_BUF];
};

struct pollfd;

/* http.c */
int64_t now_us(void);
int64_t now_ms(void);
int wait_fds(struct pollfd *p, int n, int64_t deadline);
int read_request(struct conn *c, struct request *r);
ssize_t body_read(struct conn *c, struct request *r, char *buf, size_t n); /* -2: nothing yet (nowait) */
bool body_drain(struct conn *c, struct request *r);
const char *find_header(const struct request *r, const char *name);
int send_all(int fd, const void *p, size_t n);
int respond(struct conn *c, int status, const char *ctype, const char *body, size_t len, const char *extra);
const char *reason(int status);
void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_output(const char *stream, const char *p, size_t n);
struct linebuf {
	size_t n;
	char b[4096];
};
void log_lines(struct linebuf *l, const char *stream, const char *p, size_t n);

/* fork.c, proxy.c, static.c: each returns the status it answered (for the log), 0 if none */
int run_fork(struct conn *c, struct request *r);
int run_proxy(struct conn *c, struct request *r);
int run_static(struct conn *c, struct request *r);
int upstream_connect(int64_t deadline);

#endif
