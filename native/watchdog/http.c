/*
 * A small, strict HTTP/1.1 server side: the request line and headers
 * (CRLF only, no folding, token names, at most MAX_HEADERS in MAX_HEAD
 * bytes), Content-Length or chunked bodies (both at once is refused: the
 * request-smuggling guard), keep-alive. Anything else is a 400 (431 for a
 * head too large, 501 for another transfer coding) and the connection is
 * closed. Every read waits at most until the connection's deadline.
 */
#include "watchdog.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int64_t now_ms(void)
{
	return now_us() / 1000;
}

/* poll until the deadline (0: none); 0 on timeout, -1 with errno EINTR once terminating */
int wait_fds(struct pollfd *p, int n, int64_t deadline)
{
	for (;;) {
		struct timespec ts, *tp = NULL;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tp = &ts;
		}
		int r = ppoll(p, n, tp, poll_mask);
		if (r >= 0 || errno != EINTR || terminating)
			return r;
	}
}

/* More bytes into the buffer: >0 read, 0 EOF, -1 error or deadline passed */
static ssize_t fill(struct conn *c)
{
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = c->nowait ? poll(&p, 1, 0) : wait_fds(&p, 1, c->deadline);
		if (r == 0 && c->nowait)
			c->again = true;
		if (r < 0 && errno == EINTR && !c->idle)
			continue;  /* SIGTERM ends only the wait for a next request, not a request */
		if (r <= 0)
			return -1;
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n > 0)
			c->len += n;
		return n;
	}
}

static bool tchar(unsigned char ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool list_has(const char *v, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = v; (p = strcasestr(p, word)); p += n)
		if ((p == v || p[-1] == ',' || p[-1] == ' ') && (!p[n] || p[n] == ',' || p[n] == ' '))
			return true;
	return false;
}

static int percent_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
			return -1;
		char hex[3] = { p[1], p[2], 0 };
		*o = (char)strtol(hex, NULL, 16);
		if (!*o++)
			return -1;
		p += 2;
	}
	*o = 0;
	return 0;
}

/* Parses r->head (NUL-terminated, CRLF lines, the blank line cut off): 0 or a status. */
static int parse_head(struct request *r)
{
	char *p = r->head, *eol;
	for (char *q = p; *q; q++)
		if ((*q == '\r' && q[1] != '\n') || (*q == '\n' && (q == p || q[-1] != '\r')))
			return 400;
	eol = strstr(p, "\r\n");
	if (eol)
		*eol = 0;
	r->method = p;
	while (tchar(*p))
		p++;
	if (p == r->method || *p != ' ')
		return 400;
	*p++ = 0;
	r->target = p;
	while (*p > 0x20 && *p < 0x7f)
		p++;
	if (*r->target != '/' || *p != ' ')
		return 400;
	*p++ = 0;
	if (strcmp(p, "HTTP/1.1") == 0)
		r->http10 = false;
	else if (strcmp(p, "HTTP/1.0") == 0)
		r->http10 = true;
	else
		return strncmp(p, "HTTP/", 5) == 0 ? 505 : 400;
	r->keep_alive = !r->http10;
	r->length = 0;
	bool have_length = false;
	for (p = eol ? eol + 2 : NULL; p && *p; p = eol ? eol + 2 : NULL) {
		eol = strstr(p, "\r\n");
		if (eol)
			*eol = 0;
		if (r->nh == MAX_HEADERS)
			return 431;
		char *name = p;
		while (tchar(*p))
			p++;
		if (p == name || *p != ':')
			return 400;
		*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		char *value = p, *end = p + strlen(p);
		for (char *q = value; q < end; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return 400;
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		r->h[r->nh++] = (struct header){ name, value };
		if (strcasecmp(name, "Content-Length") == 0) {
			if (!*value || strlen(value) > 18 || strspn(value, "0123456789") != strlen(value))
				return 400;
			int64_t n = strtoll(value, NULL, 10);
			if (have_length && n != r->length)
				return 400;
			have_length = true;
			r->length = n;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (strcasecmp(value, "chunked") != 0 || r->chunked)
				return 501;
			r->chunked = true;
		} else if (strcasecmp(name, "Connection") == 0) {
			if (list_has(value, "close"))
				r->keep_alive = false;
			else if (list_has(value, "keep-alive"))
				r->keep_alive = true;
		} else if (strcasecmp(name, "Expect") == 0) {
			if (strcasecmp(value, "100-continue") != 0)
				return 417;
			r->expect_continue = true;
		}
	}
	if (r->chunked && (have_length || r->http10))
		return 400;
	if (r->chunked)
		r->length = -1;
	r->left = r->length > 0 ? r->length : 0;
	r->body_done = r->length == 0;
	r->path = r->target;
	char *q = strchr(r->target, '?');
	/* Http_Path is the decoded path, as Go's URL.Path: a copy after the target */
	size_t plen = q ? (size_t)(q - r->target) : strlen(r->target);
	char *end = r->head + r->head_len + 1;  /* after the whole head, which is parsed in place */
	r->query = q ? q + 1 : end - 1;
	if (end + plen + 1 > r->head + sizeof(r->head))
		return 431;
	memcpy(end, r->target, plen);
	end[plen] = 0;
	r->path = end;
	return percent_decode(r->path) < 0 ? 400 : 0;
}

/* 0 with a request, -1 when the connection is done, or a status to answer before closing */
int read_request(struct conn *c, struct request *r)
{
	memset((char *)r + offsetof(struct request, method), 0, sizeof(*r) - offsetof(struct request, method));
	for (;;) {
		while (c->off < c->len && (c->buf[c->off] == '\r' || c->buf[c->off] == '\n'))
			c->off++;  /* RFC 9112 2.2: blank lines before a request are ignored */
		char *start = c->buf + c->off;
		char *end = memmem(start, c->len - c->off, "\r\n\r\n", 4);
		if (end) {
			size_t n = end - start;
			if (n >= MAX_HEAD - 1)
				return 431;
			if (memchr(start, 0, n))
				return 400;
			memcpy(r->head, start, n);
			r->head[n] = 0;
			r->head_len = n;
			c->off += n + 4;
			return parse_head(r);
		}
		if (c->len - c->off >= MAX_HEAD)
			return 431;
		bool partial = c->len > c->off;
		if (terminating && !partial)
			return -1;
		c->idle = !partial;
		ssize_t n = fill(c);
		c->idle = false;
		if (n <= 0)
			return partial && n < 0 ? 408 : -1;
	}
}

/* A CRLF-terminated line of at most max bytes out of the buffer, NUL-terminated, or NULL */
static char *line(struct conn *c, size_t max)
{
	for (;;) {
		char *start = c->buf + c->off;
		char *eol = memmem(start, c->len - c->off, "\r\n", 2);
		if (eol && (size_t)(eol - start) <= max) {
			*eol = 0;
			c->off += eol - start + 2;
			return start;
		}
		if (eol || c->len - c->off > max || fill(c) <= 0)
			return NULL;
	}
}

/* Decoded body bytes: >0, 0 at its end, -1 malformed or cut (the connection must close) */
ssize_t body_read(struct conn *c, struct request *r, char *buf, size_t n)
{
	while (!r->body_done) {
		if (r->chunked && r->chunk_state != 1) {
			char *l = line(c, 4096);
			if (!l)
				goto bad;
			if (r->chunk_state == 2) {
				if (*l)
					goto bad;
				r->chunk_state = 0;
				continue;
			}
			if (r->chunk_state == 3) {  /* trailers, ignored, up to the blank line */
				if (!*l)
					r->body_done = true;
				continue;
			}
			size_t digits = strspn(l, "0123456789abcdefABCDEF");
			if (digits == 0 || digits > 15 || (l[digits] && l[digits] != ';' && l[digits] != ' ' && l[digits] != '\t'))
				goto bad;
			r->left = strtoll(l, NULL, 16);
			r->chunk_state = r->left ? 1 : 3;
			continue;
		}
		if (r->left == 0) {
			if (r->chunked) {
				r->chunk_state = 2;
				continue;
			}
			r->body_done = true;
			break;
		}
		if (c->off == c->len && fill(c) <= 0)
			goto bad;
		size_t k = c->len - c->off;
		if ((int64_t)k > r->left)
			k = r->left;
		if (k > n)
			k = n;
		memcpy(buf, c->buf + c->off, k);
		c->off += k;
		r->left -= k;
		if (!r->chunked && r->left == 0)
			r->body_done = true;
		return k;
	}
	return 0;
bad:
	if (c->again) {
		c->again = false;
		return -2;
	}
	r->body_bad = true;
	c->close = true;
	return -1;
}

/* Reads what is left of a body (up to 1 MiB) so the connection can carry the next request */
bool body_drain(struct conn *c, struct request *r)
{
	char tmp[8192];
	size_t total = 0;
	ssize_t n;
	while (total < (1 << 20) && (n = body_read(c, r, tmp, sizeof(tmp))) > 0)
		total += n;
	if (!r->body_done)
		c->close = true;
	return r->body_done;
}

const char *find_header(const struct request *r, const char *name)
{
	for (int i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* The socket's SO_SNDTIMEO (write_timeout) bounds each send */
int send_all(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p = (const char *)p + k;
		n -= k;
	}
	return 0;
}

const char *reason(int s)
{
	switch (s) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

int respond(struct conn *c, int status, const char *ctype, const char *body, size_t len, const char *extra)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			 status, reason(status), ctype ? ctype : "text/plain; charset=utf-8", len, extra ? extra : "",
			 c->close ? "Connection: close\r\n" : c->http10 ? "Connection: keep-alive\r\n" : "");
	if (c->head)  /* the answer to a HEAD has the length of its body, not the body */
		len = 0;
	struct iovec iov[2] = { { head, (size_t)n }, { (void *)body, body ? len : 0 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t k = sendmsg(c->fd, &m, MSG_NOSIGNAL);
	if (k < 0)
		return -1;
	if ((size_t)k < (size_t)n)
		return send_all(c->fd, head + k, n - k) || send_all(c->fd, body, len);
	return send_all(c->fd, body + (k - n), len - (k - n));
}

/* One log line, timestamped as Go's log package does (in UTC: no zone files in the container) */
void logf_line(const char *fmt, ...)
{
	char out[4200];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	/* not strftime: it reads /etc/localtime on the first call, for a zone never printed */
	size_t n = snprintf(out, sizeof(out), "%04d/%02d/%02d %02d:%02d:%02d ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec);
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(out + n, sizeof(out) - n - 1, fmt, ap);
	va_end(ap);
	n += k < 0 ? 0 : (size_t)k >= sizeof(out) - n - 1 ? sizeof(out) - n - 2 : (size_t)k;
	out[n++] = '\n';
	if (write(2, out, n) < 0)
		return;
}

/* A line of a process's output, prefixed with the stream's name as of-watchdog's prefix_logs */
void log_output(const char *stream, const char *p, size_t n)
{
	if (cfg.prefix_logs) {
		logf_line("%s: %.*s", stream, (int)n, p);
	} else {
		struct iovec iov[2] = { { (void *)p, n }, { "\n", 1 } };
		if (writev(2, iov, 2) < 0)
			return;
	}
}

/* Splits a stream's output into lines for the log; a line longer than the buffer is cut */
void log_lines(struct linebuf *l, const char *stream, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n' && l->n < sizeof(l->b))
			l->b[l->n++] = p[i];
		if (p[i] == '\n' || l->n == sizeof(l->b)) {
			log_output(stream, l->b, l->n);
			l->n = 0;
		}
	}
	if (n == 0 && l->n > 0) {  /* EOF: what is left */
		log_output(stream, l->b, l->n);
		l->n = 0;
	}
}
