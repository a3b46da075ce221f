/* udpscope bench peer: the practical ceiling, a C recvmmsg loop that only counts.
 * usage: recv HOST RCVBUF IDLE_MS MAX_S   (HOST: 127.0.0.1 or ::1 only)
 * Prints "READY <port> <rcvbuf>", then one JSON line IDLE_MS after the last datagram (or MAX_S).
 * Built by the developer harness (`python -m bench --c-ceiling`) into a temporary directory
 * when a C compiler exists. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 64
#define SLOT 65536
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s HOST RCVBUF IDLE_MS MAX_S\n", argv[0]); return 2; }
    const char *host = argv[1];
    int rcvbuf = atoi(argv[2]);
    double idle = atof(argv[3]) / 1000.0, max_s = atof(argv[4]);
    if (max_s > 60) max_s = 60;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    int fam;
    if (strcmp(host, "127.0.0.1") == 0) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        inet_pton(AF_INET, host, &a->sin_addr);
        sl = sizeof *a; fam = AF_INET;
    } else if (strcmp(host, "::1") == 0) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, host, &a->sin6_addr);
        sl = sizeof *a; fam = AF_INET6;
    } else { fprintf(stderr, "loopback only (127.0.0.1 or ::1)\n"); return 2; }
    int fd = socket(fam, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0) { perror("bind"); return 1; }
    struct timeval tv = {0, 10000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int got = 0; socklen_t gl = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    int port = fam == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                              : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    char *buf = malloc((size_t)SLOTS * SLOT);
    struct mmsghdr msgs[SLOTS];
    struct iovec iov[SLOTS];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < SLOTS; i++) {
        iov[i].iov_base = buf + (size_t)i * SLOT; iov[i].iov_len = SLOT;
        msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    }
    printf("READY %d %d\n", port, got);
    fflush(stdout);
    unsigned long long count = 0, bytes = 0;
    double t0 = now(), c0 = cpu(), first = 0, last = 0;
    for (;;) {
        int n = recvmmsg(fd, msgs, SLOTS, MSG_WAITFORONE, NULL);
        double t = now();
        if (n > 0) {
            if (count == 0) first = t;
            count += (unsigned long long)n;
            for (int i = 0; i < n; i++) bytes += msgs[i].msg_len;
            last = t;
        } else {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                perror("recvmmsg"); return 1;
            }
            if ((count && t - last >= idle) || t - t0 >= max_s) break;
        }
    }
    double c = cpu() - c0, win = last - first;
    unsigned int mem[9] = {0}; socklen_t ml = sizeof mem;
    long long drops = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &ml) == 0 && ml >= sizeof mem) drops = mem[8];
    printf("{\"received\": %llu, \"bytes\": %llu, \"window\": %.6f, \"pps\": %.1f, "
           "\"cpu_s\": %.6f, \"rcvbuf\": %d, \"drops\": %lld}\n",
           count, bytes, win, win > 0 ? count / win : 0.0, c, got, drops);
    return 0;
}
