/*
 * berth-relay: a client connection's requests, one at a time, each through
 * a replica of its function. A request is read only once it is whole
 * (MSG_PEEK), so one the relay leaves to the gateway is untouched; it goes
 * up over a kept-alive connection (a fresh one when a reused connection
 * turns out closed before any answer); the answer comes back as it
 * arrives, with backpressure (the replica is not read while the client
 * cannot take more), its head rewritten as the gateway's proxy rewrites it
 * (src/faas/proxy.ts): hop-by-hop headers and X-Berth-Usage out, X-Call-Id,
 * X-Start-Time and X-Duration-Seconds in. Its framing is passed through;
 * a chunked answer's trailers are read to take X-Berth-Usage out of them.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static struct client *active;

struct client_ext {
	struct client c;
	char peer[64], host[256];
	char out[CBUF + 2048];
};

static struct client_ext *ext(struct client *c) { return (struct client_ext *)c; }

void client_new(int fd)
{
	struct client_ext *x = calloc(1, sizeof(*x));
	if (!x) {
		close(fd);
		return;
	}
	struct client *c = &x->c;
	c->kind = K_CLIENT;
	c->fd = fd;
	c->out = x->out;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, x->peer, sizeof(x->peer));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, x->peer, sizeof(x->peer));
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	watch(fd, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, true);  /* edge-triggered, once: no epoll_ctl per request */
}

/* Out of epoll before the close: a descriptor handed to the gateway keeps the socket, and epoll, open. */
static void client_free(struct client *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	dispose(ext(c), &c->kind);
}

static void upstream_free(struct upstream *u)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, u->fd, NULL);
	close(u->fd);
	dispose(u, &u->kind);
	replica_release(u->rep);
}

void upstream_close(struct upstream *u)
{
	struct replica *r = u->rep;
	for (struct upstream **p = &r->idle; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	upstream_free(u);
}

static void unlink_active(struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (active == c)
		active = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void try_request(struct client *c);

/* The call is over: reported, the replica's connection kept when it can carry another request. */
static void finish(struct client *c, int status, bool reusable)
{
	struct replica *r = c->rep;
	unlink_active(c);
	report("e %d %d %lld %s", r->idx, status, (long long)(now_us() - c->started_us), c->usage[0] ? c->usage : "-");
	r->inflight--;
	struct upstream *u = c->up;
	c->up = NULL;
	if (u) {
		if (reusable && !r->gone) {
			u->client = NULL;
			u->reused = true;
			u->next = r->idle;
			r->idle = u;
			u = NULL;
		} else
			upstream_free(u);
	}
	replica_release(r);  /* the call's hold */
	c->busy = false;
	c->rep = NULL;
	if (c->close_after || c->peer_gone || terminating) {
		client_free(c);
		return;
	}
	if (c->pending_in)
		try_request(c);  /* edge-triggered: what came while busy raises no new event */
}

/* An answer of the relay's own (the replica gave none): the gateway's headers, plain text. */
static void fail(struct client *c, int status, const char *text)
{
	if (c->head_sent) {
		c->close_after = true;
		finish(c, status, false);
		return;
	}
	char b[1024];
	int n = snprintf(b, sizeof(b),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
			 "X-Call-Id: %s\r\nX-Start-Time: %s\r\nX-Duration-Seconds: %.6f\r\n\r\n%s",
			 status, reason(status), strlen(text), c->call_id, c->start_time,
			 (now_us() - c->started_us) / 1e6, text);
	if (send(c->fd, b, n, MSG_NOSIGNAL) != n)
		c->close_after = true;
	finish(c, status, false);
}

static void replica_failed(struct client *c)
{
	char t[400];
	snprintf(t, sizeof(t), "function \"%s\": replica %d unreachable\n", c->fn->key, c->rep->idx);
	fail(c, 502, t);
}

static void send_up(struct client *c);

/* A connection to the replica: an idle one first, else a new one (connected asynchronously). */
static bool connect_up(struct client *c, bool fresh)
{
	struct replica *r = c->rep;
	struct upstream *u = fresh ? NULL : r->idle;
	if (u) {
		r->idle = u->next;
		u->next = NULL;
	} else {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) < 0 && errno != EINPROGRESS) {
			close(fd);
			return false;
		}
		if (!(u = calloc(1, sizeof(*u)))) {
			close(fd);
			return false;
		}
		u->kind = K_UPSTREAM;
		u->fd = fd;
		u->rep = r;
		u->connecting = true;
		r->users++;
		watch(fd, u, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, true);
	}
	u->client = c;
	c->up = u;
	c->out_off = 0;
	c->ulen = c->uoff = 0;
	c->complete = false;
	if (!u->connecting)
		send_up(c);
	return true;
}

/* A reused connection the replica had closed (EOF or reset before any answer): the request again on a new one. */
static void retry_or_fail(struct client *c)
{
	struct upstream *u = c->up;
	if (u->reused && !c->retried && c->ulen == 0 && !c->got_head) {
		c->retried = true;
		c->up = NULL;
		upstream_free(u);
		if (connect_up(c, true))
			return;
	}
	replica_failed(c);
}

static void send_up(struct client *c)
{
	struct upstream *u = c->up;
	while (c->out_off < c->out_len) {
		ssize_t k = send(u->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;  /* EPOLLOUT resumes */
		if (k < 0) {
			retry_or_fail(c);
			return;
		}
		c->out_off += k;
	}
}

/* A version 4 UUID, from a pool of the kernel's random bytes (as Node.js's randomUUID keeps one). */
static void random_uuid(char *out)
{
	static unsigned char pool[4096];
	static size_t used = sizeof(pool);
	if (used == sizeof(pool)) {
		if (getrandom(pool, sizeof(pool), 0) != sizeof(pool))
			abort();  /* no randomness: no call id may repeat */
		used = 0;
	}
	unsigned char *b = pool + used;
	used += 16;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
		b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Writes our head and what is read and not yet written; false when the client cannot take more now (or is gone). */
static bool pump(struct client *c)
{
	while (c->hoff < c->hlen || c->uoff < c->ulen) {
		struct iovec iov[2] = { { c->hout + c->hoff, c->hlen - c->hoff }, { c->ubuf + c->uoff, c->ulen - c->uoff } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->blocked = true;  /* the replica is not read until the client's EPOLLOUT */
			return false;
		}
		if (k < 0) {
			c->peer_gone = true;
			return false;
		}
		size_t h = c->hlen - c->hoff < (size_t)k ? c->hlen - c->hoff : (size_t)k;
		c->hoff += h;
		c->uoff += k - h;
	}
	c->uoff = c->ulen = 0;
	return true;
}

static void take_usage(struct client *c, const char *line)
{
	unsigned long long cpu, rss;
	if (c->rep->watchdog && sscanf(line + 14, " cpu_us=%llu maxrss_kb=%llu", &cpu, &rss) == 2)
		snprintf(c->usage, sizeof(c->usage), "%llu,%llu", cpu, rss);
}

/* The trailer section (after the last chunk) whole in c->line: written again without X-Berth-Usage (not at all unchunked). */
static bool trailers_done(struct client *c)
{
	char *end = c->line_len >= 2 && memcmp(c->line, "\r\n", 2) == 0 ? c->line : memmem(c->line, c->line_len, "\r\n\r\n", 4);
	if (!end)
		return false;
	char *o = c->ubuf + c->ulen;
	if (end != c->line)
		for (char *p = c->line; p < end + 2;) {
			char *eol = memmem(p, end + 2 - p, "\r\n", 2);
			size_t n = eol - p;
			if (header_is(p, n, "X-Berth-Usage"))
				take_usage(c, p);
			else if (!c->dechunk) {
				memcpy(o, p, n + 2);
				o += n + 2;
			}
			p = eol + 2;
		}
	if (!c->dechunk) {
		memcpy(o, "\r\n", 2);
		o += 2;
	}
	c->ulen = o - c->ubuf;
	return true;
}

/* Follows the answer's framing over ubuf[from, ulen) (unchunking it when asked); 1 once it is whole, -1: a broken chunk. */
static int scan(struct client *c, size_t from)
{
	if (c->framing == F_NONE)
		return c->ulen = from, 1;
	if (c->framing == F_EOF)
		return 0;
	if (c->framing == F_LENGTH) {
		int64_t n = c->ulen - from;
		if (n >= c->left) {
			c->ulen = from + c->left;
			c->left = 0;
			return 1;
		}
		c->left -= n;
		return 0;
	}
	size_t w = from;
	for (size_t i = from; i < c->ulen;) {
		if (c->chunk_state == 1) {
			size_t take = c->ulen - i < (uint64_t)c->left ? c->ulen - i : (size_t)c->left;
			memmove(c->ubuf + w, c->ubuf + i, take);
			w += take;
			i += take;
			c->left -= take;
			if (c->left == 0)
				c->chunk_state = 2;
			continue;
		}
		if (c->chunk_state == 3) {
			size_t n = c->ulen - i;
			if (c->line_len + n > sizeof(c->line))
				return -1;
			memcpy(c->line + c->line_len, c->ubuf + i, n);
			c->line_len += n;
			c->ulen = w;
			return trailers_done(c) ? 1 : 0;
		}
		char ch = c->ubuf[i++];
		if (!c->dechunk)
			c->ubuf[w++] = ch;
		if (c->line_len >= sizeof(c->line) - 1)
			return -1;
		c->line[c->line_len++] = ch;
		if (ch != '\n')
			continue;
		c->line[c->line_len] = 0;
		c->line_len = 0;
		if (c->chunk_state == 2) {
			c->chunk_state = 0;
			continue;
		}
		char *e;
		long long size = strtoll(c->line, &e, 16);
		if (e == c->line || size < 0)
			return -1;
		c->left = size;
		c->chunk_state = size == 0 ? 3 : 1;
	}
	c->ulen = w;
	return 0;
}

/* Ends our head: the gateway's headers, the connection's, then the empty line; from here on it is sent. */
static void end_head(struct client *c, long long length)
{
	size_t o = c->hlen, cap = sizeof(c->hout);
	if (length >= 0)
		o += snprintf(c->hout + o, cap - o, "Content-Length: %lld\r\n", length);
	o += snprintf(c->hout + o, cap - o, "X-Call-Id: %s\r\nX-Start-Time: %s\r\nX-Duration-Seconds: %.6f\r\n%s\r\n", c->call_id,
		      c->start_time, (now_us() - c->started_us) / 1e6,
		      c->close_after ? "Connection: close\r\n" : c->http10 ? "Connection: keep-alive\r\n" : "");
	c->hlen = o;
	c->hoff = 0;
	c->head_sent = true;
}

/* The replica's head, rewritten into hout; the body's first bytes moved to the start of ubuf. 0: not all there yet; -1: not HTTP. */
static int rewrite_head(struct client *c, bool *up_close)
{
	int hl;
	for (;;) {
		hl = head_end(c->ubuf, c->ulen);
		if (hl < 0)
			return c->ulen >= UBUF ? -1 : 0;
		if (c->ulen < 12 || strncmp(c->ubuf, "HTTP/1.", 7) != 0)
			return -1;
		if (c->ubuf[9] != '1' || strncmp(c->ubuf + 9, "101", 3) == 0)
			break;
		memmove(c->ubuf, c->ubuf + hl, c->ulen - hl);  /* a 1xx interim answer is dropped */
		c->ulen -= hl;
	}
	int status = atoi(c->ubuf + 9);
	bool head = strncmp(c->out, "HEAD ", 5) == 0, chunked = false, length = false;
	char *p = memmem(c->ubuf, hl, "\r\n", 2) + 2, *end = c->ubuf + hl - 2;
	if (p - 2 - c->ubuf < 12 || status < 100 || status > 999)
		return -1;  /* not "HTTP/1.x NNN ..." */
	size_t o = snprintf(c->hout, sizeof(c->hout), "HTTP/1.1 %.*s\r\n", (int)(p - 2 - (c->ubuf + 9)), c->ubuf + 9);
	for (char *eol; p < end; p = eol + 2) {
		eol = memmem(p, end + 2 - p, "\r\n", 2);
		size_t n = eol - p;
		if (!memchr(p, ':', n) || !plain_line(p, n))
			return -1;  /* a line a lenient client could read as two headers: not passed on */
		if (header_is(p, n, "Transfer-Encoding"))
			chunked = memmem(p, n, "chunked", 7) != NULL;
		else if (header_is(p, n, "Content-Length")) {
			char *v = p + 15, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			c->left = strtoll(v, &e, 10);
			if (length || *v < '0' || *v > '9' || c->left < 0)
				return -1;  /* two lengths, or one that is not a number: the answer's end is unknown */
			length = true;
		} else if (header_is(p, n, "Connection") && memmem(p, n, "close", 5))
			*up_close = true;
		else if (header_is(p, n, "X-Berth-Usage"))
			take_usage(c, p);
		if (hop_by_hop(p, n) || o + n + 2 > sizeof(c->hout) - 512 || (chunked && c->http10 && header_is(p, n, "Transfer-Encoding")))
			continue;
		memcpy(c->hout + o, p, n + 2);
		o += n + 2;
	}
	c->hlen = o;
	c->framing = head || status == 204 || status == 304 || status < 200 ? F_NONE : chunked ? F_CHUNKED : length ? F_LENGTH : F_EOF;
	if (c->framing == F_EOF || (c->http10 && !c->keepalive10) || terminating)
		c->close_after = true;
	c->dechunk = c->hold = c->framing == F_CHUNKED && c->http10;
	memmove(c->ubuf, c->ubuf + hl, c->ulen - hl);
	c->ulen -= hl;
	c->status = status;
	c->got_head = true;
	c->chunk_state = 0;
	c->line_len = 0;
	if (!c->hold)
		end_head(c, -1);
	return 1;
}

static void read_up(struct client *c)
{
	struct upstream *u = c->up;
	bool up_close = false;
	for (;;) {
		ssize_t k = recv(u->fd, c->ubuf + c->ulen, UBUF - c->ulen, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) {
			if (!c->got_head)
				return retry_or_fail(c);
			if (!c->head_sent)
				return fail(c, 502, "the replica's answer was cut short\n");
			c->close_after = true;  /* at EOF when that is its framing, else cut short: the client must not take it for whole */
			return finish(c, c->status, false);
		}
		size_t from = c->ulen;
		c->ulen += k;
		if (!c->got_head) {
			int r = rewrite_head(c, &up_close);
			if (r == 0)
				continue;
			if (r < 0)
				return fail(c, 502, "the replica's answer is not HTTP/1.1\n");
			u->keep = !up_close;
			from = 0;
		}
		int done = scan(c, from);
		if (done < 0) {
			if (!c->head_sent)
				return fail(c, 502, "the replica's answer has a broken chunk\n");
			c->close_after = true;
			return finish(c, c->status, false);
		}
		if (c->hold) {
			if (!done && c->ulen < UBUF - 1024)
				continue;  /* held until whole, with room for more */
			c->hold = false;
			if (!done)
				c->close_after = true;  /* too long to hold: sent unchunked to its end, then the connection closes */
			end_head(c, done ? (long long)c->ulen : -1);
		}
		c->complete = done;
		if (!pump(c)) {
			if (c->peer_gone)
				finish(c, c->status, false);
			return;  /* EPOLLOUT on the client resumes */
		}
		if (done)
			return finish(c, c->status, c->framing != F_EOF && u->keep);
	}
}

void upstream_event(struct upstream *u, uint32_t ev)
{
	struct client *c = u->client;
	bool in = ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	if (!c) {  /* idle: the replica closed it (or wrote what nobody asked for) */
		if (in)
			upstream_close(u);
		return;
	}
	if (u->connecting) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (ev & (EPOLLERR | EPOLLHUP)))
			return replica_failed(c);
		u->connecting = false;
		return send_up(c);
	}
	if (c->out_off < c->out_len) {
		if (ev & (EPOLLERR | EPOLLHUP))
			return retry_or_fail(c);
		if (ev & EPOLLOUT)
			send_up(c);
		return;
	}
	if (in && !c->blocked)
		read_up(c);
}

/* Starts the call: the request (whole in c->buf, head_len + body bytes) rewritten for a replica. */
static void start(struct client *c, struct function *f, size_t head_len, size_t total, const char *rest, size_t rest_len,
		  const char *method, size_t method_len, const char *call_id, size_t call_id_len, const char *host, size_t host_len)
{
	struct client_ext *x = ext(c);
	struct replica *r = NULL;
	for (int i = 0; i < f->n; i++) {
		struct replica *cand = f->rep[(f->rr + i) % f->n];
		if (!r || cand->inflight < r->inflight)
			r = cand;
	}
	f->rr++;
	c->fn = f;
	c->rep = r;
	r->inflight++;
	r->users++;
	c->busy = true;
	c->blocked = false;
	c->head_sent = c->got_head = c->retried = c->dechunk = c->hold = false;
	c->hlen = c->hoff = 0;
	c->status = 0;
	c->usage[0] = 0;
	c->framing = F_NONE;
	c->started_us = now_us();
	c->deadline_ms = c->started_us / 1000 + f->timeout_ms;
	if (call_id_len > 0 && call_id_len < sizeof(c->call_id))
		snprintf(c->call_id, sizeof(c->call_id), "%.*s", (int)call_id_len, call_id);
	else
		random_uuid(c->call_id);
	snprintf(c->start_time, sizeof(c->start_time), "%lld", (long long)time(NULL));
	snprintf(x->host, sizeof(x->host), "%.*s", (int)host_len, host);
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &r->addr.sin_addr, a, sizeof(a));
	/* the request line, Host as Node.js's client writes it, the client's headers but the connection's own, ours */
	size_t o = snprintf(c->out, CBUF, "%.*s %s%.*s HTTP/1.1\r\nHost: %s:%d\r\n", (int)method_len, method,
			    rest_len == 0 || rest[0] == '?' ? "/" : "", (int)rest_len, rest, a, ntohs(r->addr.sin_port));
	char *p = memmem(c->buf, head_len, "\r\n", 2) + 2, *end = c->buf + head_len - 2;
	for (char *eol; p < end; p = eol + 2) {
		eol = memmem(p, end + 2 - p, "\r\n", 2);
		size_t n = eol - p;
		if (hop_by_hop(p, n) || o + n + 2 > CBUF)
			continue;
		memcpy(c->out + o, p, n + 2);
		o += n + 2;
	}
	o += snprintf(c->out + o, CBUF + 2048 - o, "X-Call-Id: %s\r\nX-Start-Time: %s\r\nX-Forwarded-Host: %s\r\nX-Forwarded-For: %s\r\n\r\n",
		      c->call_id, c->start_time, x->host, x->peer);
	memcpy(c->out + o, c->buf + head_len, total - head_len);
	c->out_len = o + total - head_len;
	report("b %d", r->idx);
	c->next = active;
	if (active)
		active->prev = c;
	active = c;
	if (!connect_up(c, false))
		replica_failed(c);
}

/* The next request on the connection: relayed when it is whole and plain and for a function in the table, else handed back. */
static void try_request(struct client *c)
{
	c->pending_in = false;
	ssize_t k = recv(c->fd, c->buf, CBUF, MSG_PEEK);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return client_free(c);
	if (k < 0)
		return;
	int hl = head_end(c->buf, k);
	if (hl < 0 && k < HEAD_MAX)
		return;  /* the rest of the head raises an event when it comes */
	if (hl > HEAD_MAX)
		goto back;
	/* METHOD /function/NAME[/rest][?query] HTTP/1.1 */
	if (hl > 0 && !plain_line(c->buf, hl - 4))
		goto back;  /* a bare CR or LF, a control character: the gateway's parser refuses it */
	char *sp1 = hl < 0 ? NULL : memchr(c->buf, ' ', hl), *line_end = hl < 0 ? NULL : memmem(c->buf, hl, "\r\n", 2);
	char *target = sp1 ? sp1 + 1 : NULL;
	char *sp2 = target ? memchr(target, ' ', line_end - target) : NULL;
	if (!sp2 || line_end - sp2 != 9 || memcmp(sp2, " HTTP/1.", 8) != 0 || (sp2[8] != '1' && sp2[8] != '0') ||
	    strncmp(target, "/function/", 10) != 0)
		goto back;
	c->http10 = sp2[8] == '0';
	c->keepalive10 = false;
	char *name = target + 10, *ne = name;
	while (ne < sp2 && *ne != '/' && *ne != '?')
		ne++;
	struct function *f = ne > name && !memchr(name, '%', ne - name) ? function_find(name, ne - name) : NULL;
	if (!f)
		goto back;
	int64_t length = 0;
	bool seen_length = false;
	const char *call_id = "", *host = "";
	size_t call_id_len = 0, host_len = 0;
	char *end = c->buf + hl - 2;
	for (char *p = line_end + 2, *eol; p < end; p = eol + 2) {
		eol = memmem(p, end + 2 - p, "\r\n", 2);
		size_t n = eol - p;
		if (header_is(p, n, "Transfer-Encoding") || header_is(p, n, "Upgrade") || header_is(p, n, "Expect"))
			goto back;
		char *colon = memchr(p, ':', n);
		if (!colon || colon == p)
			goto back;  /* not a header as RFC 9112 has it: the gateway's parser answers 400 */
		char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		size_t vl = eol - v;
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (header_is(p, n, "Content-Length")) {
			char *e;
			if (seen_length || vl == 0 || *v < '0' || *v > '9')
				goto back;  /* two lengths, or a sign: one the replica might read otherwise than the relay */
			seen_length = true;
			length = strtoll(v, &e, 10);
			if (e != v + vl || length < 0 || length > BODY_MAX)
				goto back;
		} else if (header_is(p, n, "Connection") && vl == 5 && strncasecmp(v, "close", 5) == 0)
			c->close_after = true;
		else if (header_is(p, n, "Connection") && vl == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			c->keepalive10 = true;
		else if (header_is(p, n, "X-Call-Id"))
			call_id = v, call_id_len = vl;
		else if (header_is(p, n, "Host"))
			host = v, host_len = vl;
		else if (header_is(p, n, "Connection"))
			goto back;  /* it names headers to drop: the gateway's parser knows them */
	}
	if (hl + length > k)
		return;  /* the body is not all here: its bytes raise events as they come */
	if ((c->http10 && !c->keepalive10) || terminating)
		c->close_after = true;
	if (recv(c->fd, c->buf, hl + length, 0) != hl + length)
		goto back;  /* cannot happen: the bytes were peeked */
	start(c, f, hl, hl + length, ne, sp2 - ne, c->buf, sp1 - c->buf, call_id, call_id_len, host, host_len);
	return;
back:
	c->close_after = false;
	hand_back(c);
	client_free(c);
}

void client_event(struct client *c, uint32_t ev)
{
	if (!c->busy) {
		if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			try_request(c);
		return;
	}
	if (ev & (EPOLLERR | EPOLLHUP)) {
		c->peer_gone = true;
		finish(c, c->head_sent ? c->status : 499, false);
		return;
	}
	if (ev & (EPOLLIN | EPOLLRDHUP))
		c->pending_in = true;
	if ((ev & EPOLLOUT) && c->blocked) {
		c->blocked = false;
		if (pump(c)) {
			if (c->complete)
				return finish(c, c->status, c->framing != F_EOF && c->up->keep);
			read_up(c);
		} else if (c->peer_gone)
			finish(c, c->status, false);
	}
}

bool calls_active(void)
{
	return active != NULL;
}

/* Calls past their function's timeout: 504 when nothing was answered yet, else the connection cut. */
void calls_expire(int64_t now_ms)
{
	for (struct client *c = active, *next; c; c = next) {
		next = c->next;
		if (now_ms < c->deadline_ms)
			continue;
		if (!c->head_sent) {
			char t[600];
			snprintf(t, sizeof(t), "function \"%s\": no answer within %s\n", c->fn->key, c->fn->reason);
			fail(c, 504, t);
		} else {
			c->close_after = true;
			finish(c, 504, false);
		}
	}
}
