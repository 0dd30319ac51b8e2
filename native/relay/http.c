/*
 * berth-relay: what it needs of HTTP/1.1 to find where heads end and which
 * headers are the connection's own (RFC 9110 §7.6.1).
 */
#include "relay.h"

#include <string.h>
#include <strings.h>

/* The length of the head up to and with its empty line, -1 when it is not all there. */
int head_end(const char *p, size_t n)
{
	const char *e = memmem(p, n, "\r\n\r\n", 4);
	return e ? (int)(e - p) + 4 : -1;
}

/* Whether the header line (without its CRLF) is `name:` */
bool header_is(const char *line, size_t n, const char *name)
{
	size_t l = strlen(name);
	return n > l && line[l] == ':' && strncasecmp(line, name, l) == 0;
}

/* Headers for one connection (never forwarded), the gateway's own on an answer, and the watchdog's account. */
bool hop_by_hop(const char *line, size_t n)
{
	static const char *const hop[] = { "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
					   "Proxy-Authorization", "TE", "Trailer", "Upgrade", "Host",
					   "X-Berth-Usage", "X-Call-Id", "X-Start-Time", "X-Duration-Seconds",
					   "X-Forwarded-Host", "X-Forwarded-For" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (header_is(line, n, hop[i]))
			return true;
	return false;
}

/* No bare CR or LF, no NUL, no other control character but HTAB (CRLF between lines is allowed where `n` spans several). */
bool plain_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

const char *reason(int status)
{
	switch (status) {
	case 502: return "Bad Gateway";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}
