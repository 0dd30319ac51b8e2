/*
 * berth-relay: the functions gateway's data path for warm requests (issue
 * 13). berthd's gateway (src/faas/relay.ts) spawns it with the gateway's
 * listening socket as fd 4 and Node.js's IPC channel as NODE_CHANNEL_FD.
 * It accepts every connection and reads each request head with MSG_PEEK:
 * a plain `/function/NAME[/path]` request (HTTP/1.1, no Upgrade, Expect or
 * chunked body, a body of at most 64 KiB) for a function with a ready
 * replica in its table is consumed and forwarded to a replica over a
 * kept-alive connection, the answer streamed back with the gateway's
 * headers; anything else leaves the connection untouched and hands its
 * descriptor to Node.js (SCM_RIGHTS over the IPC channel), which serves it
 * from then on as before. Each call is reported (its start, its end with
 * status, duration and the watchdog's X-Berth-Usage) in batches, so
 * metering, metrics and scaling stay the gateway's.
 *
 * main.c: the IPC channel (the table in, reports and handed-back sockets
 * out) and the event loop; http.c: request and response heads, chunked
 * framing; call.c: one client connection's requests through a replica.
 */
#ifndef BERTH_RELAY_H
#define BERTH_RELAY_H

#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HEAD_MAX 16384
#define BODY_MAX 65536
#define CBUF (HEAD_MAX + BODY_MAX)
#define UBUF 32768
#define UCAP (UBUF + HEAD_MAX) /* a rewritten head or a trailer section may grow what was read */

struct replica {
	struct replica *next;
	int idx;                 /* the gateway's number for it */
	struct sockaddr_in addr;
	bool watchdog, gone;     /* gone: out of every table; freed when nothing uses it */
	int inflight, users;     /* users: calls and idle connections holding it */
	struct upstream *idle;
};

struct function {
	struct function *next;
	char key[256], reason[256]; /* reason: why timeout_ms, as the 504 says it */
	int64_t timeout_ms;
	int n;
	unsigned rr;
	struct replica *rep[32];
};

/* What epoll's data points at: the first field of a client or an upstream. */
enum kind { K_LISTEN, K_CHANNEL, K_CLIENT, K_UPSTREAM, K_DEAD };

struct upstream {
	enum kind kind;
	int fd;
	struct replica *rep;
	struct upstream *next;   /* in its replica's idle list */
	struct client *client;   /* NULL while idle */
	bool connecting, reused, keep; /* reused: taken from the idle list; keep: may carry another request */
};

/* Response framing, as the head declares it */
enum framing { F_NONE, F_LENGTH, F_CHUNKED, F_EOF };

struct client {
	enum kind kind;
	int fd;
	struct client *prev, *next; /* calls in progress (timeouts) */
	struct upstream *up;
	struct function *fn;
	struct replica *rep;
	/* the request, rewritten for the replica: out[0, out_len), sent up to out_off */
	char *out;
	size_t out_len, out_off, consumed;
	bool busy, complete, close_after, retried, peer_gone;
	bool pending_in, blocked;  /* input came while busy; the client could not take more of the answer */
	bool http10, keepalive10; /* an HTTP/1.0 client, and whether it asked to keep its connection */
	bool got_head, head_sent;  /* the replica's head read; ours committed (from then on no answer of our own) */
	bool dechunk, hold;        /* a chunked answer for an HTTP/1.0 client: unchunked, held to be sent with its length */
	int status;
	int64_t started_us, deadline_ms;
	char call_id[80], start_time[24];
	/* the response: our head hout[hoff, hlen), then the body as read */
	char hout[HEAD_MAX + 1024];
	size_t hlen, hoff;
	char ubuf[UCAP];
	size_t ulen, uoff;       /* bytes read from the replica, bytes of them written to the client */
	enum framing framing;
	int64_t left;            /* F_LENGTH: bytes left; F_CHUNKED: bytes left in the chunk */
	int chunk_state;         /* 0 size line, 1 data, 2 CRLF after data, 3 trailers */
	char line[512];
	size_t line_len;
	char usage[96];
	char buf[CBUF];          /* the request as peeked */
};

/* main.c */
extern int epfd;
extern volatile sig_atomic_t terminating;
int64_t now_us(void);
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct function *function_find(const char *key, size_t len);
void replica_release(struct replica *r);
void hand_back(struct client *c);
void watch(int fd, void *p, uint32_t events, bool add);
void dispose(void *p, enum kind *k);

/* http.c */
int head_end(const char *p, size_t n);
bool header_is(const char *line, size_t n, const char *name);
bool hop_by_hop(const char *line, size_t n);
bool plain_line(const char *p, size_t n);
const char *reason(int status);

/* call.c */
void client_new(int fd);
void client_event(struct client *c, uint32_t ev);
void upstream_event(struct upstream *u, uint32_t ev);
void calls_expire(int64_t now_ms);
bool calls_active(void);
void upstream_close(struct upstream *u);

#endif
