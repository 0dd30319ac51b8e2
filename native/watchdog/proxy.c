/*
 * Mode http: requests go to the one long-lived fprocess at upstream_url,
 * a connection per request (Connection: close upstream, so its response
 * ends at EOF and its framing can be passed through as it is). The body
 * goes up as it came (Content-Length, or chunked re-encoded); the response
 * comes back byte for byte after its head, whose hop-by-hop headers are
 * replaced. A request that arrives before the process listens waits for it
 * (the cold start's first request), up to write_timeout: then 502. No
 * response within exec_timeout: 504.
 */
#include "watchdog.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_timeout(int fd, int opt, int64_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

int upstream_connect(int64_t deadline)
{
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&cfg.upstream, sizeof(cfg.upstream)) == 0)
			return fd;
		int err = errno;
		close(fd);
		if ((err != ECONNREFUSED && err != EINTR) || !deadline || now_ms() >= deadline)
			return -1;
		struct timespec pause = { 0, 5000000 };
		ppoll(NULL, 0, &pause, poll_mask);
	}
}

static bool hop_by_hop(const char *name)
{
	static const char *const hop[] = { "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
					   "Transfer-Encoding", "Upgrade", "Content-Length", "Host",
					   "X-Berth-Usage" /* the watchdog's own (fork.c): the gateway must not take an upstream's */ };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	return false;
}

/* The upstream's response head: its length and, by the framing it declares, whether the client may keep its connection */
static int relay_head(struct conn *c, struct request *r, int up, char *buf, size_t cap, size_t *have, size_t *head_len)
{
	char *end;
	for (;;) {
		end = memmem(buf, *have, "\r\n\r\n", 4);
		if (end && !(*have >= 12 && buf[9] == '1'))  /* a 1xx interim response is dropped */
			break;
		if (end) {
			size_t skip = end + 4 - buf;
			memmove(buf, end + 4, *have - skip);
			*have -= skip;
			continue;
		}
		if (*have == cap)
			return -502;
		ssize_t n = recv(up, buf + *have, cap - *have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -504 : -502;
		*have += n;
	}
	*end = 0;
	*head_len = end + 4 - buf;
	if (strncmp(buf, "HTTP/1.", 7) != 0 || *have < 12)
		return -502;
	int status = atoi(buf + 9);
	bool framed = strcmp(r->method, "HEAD") == 0 || status == 204 || status == 304;
	char *out = malloc(*head_len + 64), *o = out;
	if (!out)
		return -502;
	char *line = strstr(buf, "\r\n");
	o += sprintf(o, "%.*s\r\n", (int)(line ? line - buf : (long)strlen(buf)), buf);
	for (char *p = line ? line + 2 : NULL; p && *p; p = line ? line + 2 : NULL) {
		line = strstr(p, "\r\n");
		size_t n = line ? (size_t)(line - p) : strlen(p);
		char *colon = memchr(p, ':', n);
		if (!colon)
			continue;
		*colon = 0;
		if (!strcasecmp(p, "Content-Length") || !strcasecmp(p, "Transfer-Encoding"))
			framed = true;
		bool keep = !strcasecmp(p, "Content-Length") || !strcasecmp(p, "Transfer-Encoding") || !hop_by_hop(p);
		*colon = ':';
		if (keep)
			o += sprintf(o, "%.*s\r\n", (int)n, p);
	}
	if (!framed || r->http10)
		c->close = true;
	o += sprintf(o, "%s\r\n", c->close ? "Connection: close\r\n" : "");
	int rc = send_all(c->fd, out, o - out);
	free(out);
	return rc < 0 ? -1 : status;  /* -1: the client is gone */
}

int run_proxy(struct conn *c, struct request *r)
{
	int up = upstream_connect(cfg.write_ms ? now_ms() + cfg.write_ms : now_ms() + 10000);
	if (up < 0) {
		if (!body_drain(c, r))
			c->close = true;
		return respond(c, 502, NULL, "upstream not reachable\n", 23, NULL), 502;
	}
	if (cfg.exec_ms) {
		set_timeout(up, SO_RCVTIMEO, cfg.exec_ms);
		set_timeout(up, SO_SNDTIMEO, cfg.exec_ms);
	}
	size_t cap = MAX_HEAD + 16384, have = 0, head_len = 0;
	char *buf = malloc(cap);
	int status = 502;
	if (!buf)
		goto out;
	int n = snprintf(buf, cap, "%s %.*s%s HTTP/1.1\r\nHost: %s\r\n", r->method, (int)cfg.upstream_path_len,
			 cfg.upstream_path, r->target, cfg.upstream_host);
	for (int i = 0; i < r->nh && n < (int)cap; i++)
		if (!hop_by_hop(r->h[i].name))
			n += snprintf(buf + n, cap - n, "%s: %s\r\n", r->h[i].name, r->h[i].value);
	if (n < (int)cap && r->length > 0)
		n += snprintf(buf + n, cap - n, "Content-Length: %lld\r\n", (long long)r->length);
	if (n < (int)cap && r->chunked)
		n += snprintf(buf + n, cap - n, "Transfer-Encoding: chunked\r\n");
	if (n < (int)cap)
		n += snprintf(buf + n, cap - n, "Connection: close\r\n\r\n");
	if (n >= (int)cap || send_all(up, buf, n) < 0)
		goto out;
	if (r->expect_continue && !r->body_done)
		send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	ssize_t k;
	char size[24];
	/* An upstream may answer before it has read the body (an early 413, or a server that ignores it) and close:
	 * sending the rest then fails, but its answer is there to read. The client's connection closes after it. */
	bool sent = true;
	while ((k = body_read(c, r, buf, 16384)) > 0) {
		int sl = snprintf(size, sizeof(size), "%zx\r\n", (size_t)k);
		if ((r->chunked && send_all(up, size, sl) < 0) || send_all(up, buf, k) < 0 ||
		    (r->chunked && send_all(up, "\r\n", 2) < 0)) {
			sent = false;
			c->close = true;
			break;
		}
	}
	if (k < 0) {
		status = 400;
		goto out;
	}
	if (sent && r->chunked)
		send_all(up, "0\r\n\r\n", 5);
	status = relay_head(c, r, up, buf, cap, &have, &head_len);
	if (status == -1) {
		c->close = true;
		goto done;
	}
	if (status < 0) {
		status = -status;
		goto out;
	}
	bool broken = send_all(c->fd, buf + head_len, have - head_len) < 0;
	while (!broken && (k = recv(up, buf, cap, 0)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		broken = k < 0 || send_all(c->fd, buf, k) < 0;
	}
	if (broken)
		c->close = true;  /* cut short: the client must not take it for whole */
	goto done;
out:
	c->close = true;
	if (status == 400)
		respond(c, 400, NULL, "bad request body\n", 17, NULL);
	else
		respond(c, status, NULL, status == 504 ? "exec_timeout exceeded: no answer from the upstream\n" : "upstream failed\n",
			status == 504 ? 51 : 16, NULL);
done:
	free(buf);
	close(up);
	return status;
}
