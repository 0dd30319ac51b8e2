/*
 * A UDP echo server for networking tests: binds 0.0.0.0:PORT and answers
 * every datagram with "echo:" and the datagram, to whoever sent it.
 * Static, so it runs inside a busybox container (bind-mounted read-only).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: udp-echo PORT\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("udp-echo: bind");
    return 1;
  }
  fprintf(stderr, "listening\n");
  for (;;) {
    char buf[2048];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue;
    memcpy(buf, "echo:", 5);
    sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
  }
}
