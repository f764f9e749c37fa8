// Runtime helpers: epoll, eventfd, CPU affinity, monotonic clock, TCP sockets.
// Each returns -errno on failure (see CShims.h, "Runtime").
#define _GNU_SOURCE
#include "CShims.h"
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

_Static_assert(CSHIM_EPOLLIN == EPOLLIN && CSHIM_EPOLLOUT == EPOLLOUT && CSHIM_EPOLLERR == EPOLLERR &&
                   CSHIM_EPOLLHUP == EPOLLHUP && CSHIM_EPOLLRDHUP == EPOLLRDHUP,
               "epoll flags");
_Static_assert(CSHIM_EPOLL_ADD == EPOLL_CTL_ADD && CSHIM_EPOLL_DEL == EPOLL_CTL_DEL &&
                   CSHIM_EPOLL_MOD == EPOLL_CTL_MOD,
               "epoll ops");

static int fail(void) { return -errno; }

int cshim_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? fail() : fd;
}

int cshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? fail() : 0;
}

int cshim_epoll_wait(int epfd, struct cshim_epoll_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return fail();
    for (int i = 0; i < n; i++) {
        out[i].data = evs[i].data.u64;
        out[i].events = evs[i].events;
        out[i].reserved = 0;
    }
    return n;
}

int cshim_eventfd_create(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? fail() : fd;
}

int cshim_eventfd_signal(int fd) {
    uint64_t one = 1;
    for (;;) {
        if (write(fd, &one, sizeof one) == sizeof one) return 0;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : fail();
    }
}

int cshim_eventfd_drain(int fd) {
    uint64_t value;
    for (;;) {
        if (read(fd, &value, sizeof value) == sizeof value) return 0;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : fail();
    }
}

int cshim_allowed_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0) return fail();
    return CPU_COUNT(&set);
}

int cshim_allowed_cpu(int index) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0) return fail();
    int seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (seen == index) return cpu;
        seen++;
    }
    return -EINVAL;
}

int cshim_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return rc == 0 ? 0 : -rc;
}

uint64_t cshim_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ipv4_address(const char *ipv4, uint16_t port, struct sockaddr_in *addr) {
    *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
    return inet_pton(AF_INET, ipv4, &addr->sin_addr) == 1 ? 0 : -EINVAL;
}

// `host` as a listening address: an IPv4 or IPv6 literal.
static int listen_address(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len) {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    *addr = (struct sockaddr_storage){0};
    if (ipv4_address(host, port, (struct sockaddr_in *)addr) == 0) {
        *len = sizeof(struct sockaddr_in);
        return 0;
    }
    *v6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(port)};
    *len = sizeof *v6;
    return inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 ? 0 : -EINVAL;
}

static int listen_on(const struct sockaddr *addr, socklen_t len, int backlog, int reuse_port) {
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail();
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) goto error;
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) goto error;
    // Dual-stack as Go's "tcp" listeners: `::` accepts IPv4 too (as ::ffff:a.b.c.d), whatever
    // net.ipv6.bindv6only says.
    if (addr->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) goto error;
    if (bind(fd, addr, len) < 0) goto error;
    if (listen(fd, backlog) < 0) goto error;
    return fd;
error:;
    int rc = -errno;
    close(fd);
    return rc;
}

int cshim_tcp_listen(const char *host, uint16_t port, int backlog, int reuse_port) {
    int every_interface = host[0] == 0;
    struct sockaddr_storage addr;
    socklen_t len;
    int rc = listen_address(every_interface ? "::" : host, port, &addr, &len);
    if (rc < 0) return rc;
    rc = listen_on((struct sockaddr *)&addr, len, backlog, reuse_port);
    // A kernel without IPv6 (ipv6.disable=1, or no address configured): every interface is IPv4 only.
    if (every_interface && (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL)) {
        listen_address("0.0.0.0", port, &addr, &len);
        rc = listen_on((struct sockaddr *)&addr, len, backlog, reuse_port);
    }
    return rc;
}

int cshim_tcp_connect(const char *ipv4, uint16_t port) {
    struct sockaddr_in addr;
    int rc = ipv4_address(ipv4, port, &addr);
    if (rc < 0) return rc;
    return cshim_tcp_connect_address((struct sockaddr *)&addr, sizeof addr);
}

int cshim_tcp_connect_address(const struct sockaddr *address, unsigned length) {
    int fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail();
    for (;;) {
        if (connect(fd, address, length) == 0) break;
        if (errno == EINTR) continue;
        int rc = -errno;
        close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int cshim_tcp_socket(int family) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail();
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int cshim_tcp_connect_nonblocking(const char *ipv4, uint16_t port, int *in_progress) {
    struct sockaddr_in addr;
    int rc = ipv4_address(ipv4, port, &addr);
    if (rc < 0) return rc;
    return cshim_tcp_connect_address_nonblocking((struct sockaddr *)&addr, sizeof addr, in_progress);
}

int cshim_tcp_connect_address_nonblocking(const struct sockaddr *address, unsigned length, int *in_progress) {
    int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail();
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *in_progress = 0;
    if (connect(fd, address, length) == 0) return fd;
    if (errno == EINPROGRESS || errno == EINTR) {
        *in_progress = 1;
        return fd;
    }
    int rc = -errno;
    close(fd);
    return rc;
}

int cshim_socket_error(int fd) {
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) return errno;
    return error;
}

int cshim_tcp_accept(int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno != EINTR) return fail();
    }
}

int cshim_local_port(int fd) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) return fail();
    switch (addr.ss_family) {
    case AF_INET: return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    case AF_INET6: return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    default: return -EAFNOSUPPORT;
    }
}

int cshim_local_host(int fd, char *out, unsigned size) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) return fail();
    const void *ip;
    switch (addr.ss_family) {
    case AF_INET: ip = &((struct sockaddr_in *)&addr)->sin_addr; break;
    case AF_INET6: ip = &((struct sockaddr_in6 *)&addr)->sin6_addr; break;
    default: return -EAFNOSUPPORT;
    }
    return inet_ntop(addr.ss_family, ip, out, size) ? 0 : fail();
}

int cshim_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return fail();
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags) < 0 ? fail() : 0;
}

int cshim_shutdown_write(int fd) { return shutdown(fd, SHUT_WR) < 0 ? fail() : 0; }

long cshim_send(int fd, const void *buf, size_t len) {
    for (;;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return -errno;
    }
}

long cshim_recv(int fd, void *buf, size_t len) {
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return -errno;
    }
}

int cshim_malloc_keep_freed_memory(void) {
    // 32 MiB is the largest mmap threshold glibc accepts on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 1 << 30) ? 0 : -1;
}

int cshim_raise_open_files_limit(uint64_t *before, uint64_t *after) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -errno;
    *before = *after = limit.rlim_cur;
    if (limit.rlim_cur >= limit.rlim_max) return 0;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return -errno;
    *after = limit.rlim_cur;
    return 0;
}
