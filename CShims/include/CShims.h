// C libraries and small C helpers used by the Swift modules.
// Everything here is either a system library header or a helper that needs C
// (CPU-specific intrinsics, macros Swift cannot import).
#ifndef CSHIMS_H
#define CSHIMS_H

#include <stddef.h>
#include <stdint.h>

#include <libdeflate.h>
#include <zstd.h>
#include <liburing.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/// CRC-32C (Castagnoli) of `n` bytes, continuing from a previous finalized
/// value `crc` (pass 0 to start). Uses the SSE4.2 instruction when present.
uint32_t cshim_crc32c(uint32_t crc, const void *data, size_t n);

// Runtime
// Helpers for Sources/Runtime: things Swift cannot import cleanly (packed
// epoll_event, CPU_SET macros, sockaddr juggling, liburing's static inline
// functions). Every int-returning helper returns >= 0 on success and -errno
// on failure, so Swift turns the result into an `Errno` without reading errno.

/// Readiness flags, re-exported because glibc declares them as an enum.
enum {
    CSHIM_EPOLLIN = 0x001,
    CSHIM_EPOLLOUT = 0x004,
    CSHIM_EPOLLERR = 0x008,
    CSHIM_EPOLLHUP = 0x010,
    CSHIM_EPOLLRDHUP = 0x2000,
};

/// One readiness event, unpacked (glibc's epoll_event is packed on x86-64).
struct cshim_epoll_event {
    uint64_t data;
    uint32_t events;
    uint32_t reserved;
};

int cshim_epoll_create(void);
int cshim_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits up to `timeout_ms` (-1 forever); fills `out[0..<max]`.
int cshim_epoll_wait(int epfd, struct cshim_epoll_event *out, int max, int timeout_ms);
enum { CSHIM_EPOLL_ADD = 1, CSHIM_EPOLL_DEL = 2, CSHIM_EPOLL_MOD = 3 };

int cshim_eventfd_create(void);
/// Adds 1 to the counter; EAGAIN (counter saturated) counts as success.
int cshim_eventfd_signal(int fd);
/// Resets the counter; returns 0 whether or not it was set.
int cshim_eventfd_drain(int fd);

/// Number of CPUs this process may run on, and the n-th of them.
int cshim_allowed_cpu_count(void);
int cshim_allowed_cpu(int index);
int cshim_pin_current_thread(int cpu);
uint64_t cshim_monotonic_ns(void);

/// Non-blocking TCP listener on `host`: an IPv4 literal (AF_INET), an IPv6 literal (AF_INET6,
/// IPV6_V6ONLY off, so `::` takes IPv4 too), or "" for every interface of both families (`::`,
/// or `0.0.0.0` when the kernel has no IPv6). -EINVAL for anything else. `reuse_port` sets SO_REUSEPORT.
int cshim_tcp_listen(const char *host, uint16_t port, int backlog, int reuse_port);
/// Blocking IPv4 TCP connect (tests and cold-path clients).
int cshim_tcp_connect(const char *ipv4, uint16_t port);
/// The same for any address (IPv4 or IPv6).
int cshim_tcp_connect_address(const struct sockaddr *address, unsigned length);
/// Non-blocking IPv4 TCP connect with TCP_NODELAY: returns the fd; `*in_progress`
/// is 1 when the connect completes later (EPOLLOUT, then cshim_socket_error).
int cshim_tcp_connect_nonblocking(const char *ipv4, uint16_t port, int *in_progress);
/// The same for any address (IPv4 or IPv6, e.g. from getaddrinfo).
int cshim_tcp_connect_address_nonblocking(const struct sockaddr *address, unsigned length, int *in_progress);
/// The pending error of a socket (SO_ERROR) as a positive errno, 0 when none.
int cshim_socket_error(int fd);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC and TCP_NODELAY set.
int cshim_tcp_accept(int listen_fd);
/// The local port of a bound IPv4 or IPv6 socket.
int cshim_local_port(int fd);
/// The numeric host a socket is bound to (`::`, `0.0.0.0`, `127.0.0.1`) into `out`; 0 or -errno.
int cshim_local_host(int fd, char *out, unsigned size);
int cshim_set_nonblocking(int fd, int on);
int cshim_shutdown_write(int fd);
/// send() with MSG_NOSIGNAL (a closed peer gives EPIPE, not SIGPIPE).
long cshim_send(int fd, const void *buf, size_t len);
long cshim_recv(int fd, void *buf, size_t len);

/// io_uring: one completion as copied out of the CQ ring.
struct cshim_completion {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
};

struct io_uring *cshim_ring_create(unsigned sq_entries, unsigned cq_entries, int *error);
void cshim_ring_destroy(struct io_uring *ring);
int cshim_ring_register_eventfd(struct io_uring *ring, int fd);
/// The prep helpers return -EBUSY when the submission queue is full.
int cshim_ring_prep_nop(struct io_uring *ring, uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_write(struct io_uring *ring, int fd, const void *buf, unsigned len, uint64_t offset,
                          uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_fsync(struct io_uring *ring, int fd, unsigned fsync_flags, uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_openat(struct io_uring *ring, int dirfd, const char *path, int flags, unsigned mode,
                           uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_renameat(struct io_uring *ring, int olddirfd, const char *oldpath, int newdirfd,
                             const char *newpath, unsigned flags, uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_close(struct io_uring *ring, int fd, uint64_t user_data, uint8_t sqe_flags);
/// Socket operations: `addr` and the buffers must stay valid until the completion. Sends
/// carry MSG_NOSIGNAL (a closed peer gives -EPIPE, not SIGPIPE).
int cshim_ring_prep_connect(struct io_uring *ring, int fd, const struct sockaddr *addr, unsigned addrlen,
                            uint64_t user_data, uint8_t sqe_flags);
int cshim_ring_prep_send(struct io_uring *ring, int fd, const void *buf, unsigned len, uint64_t user_data,
                         uint8_t sqe_flags);
int cshim_ring_prep_recv(struct io_uring *ring, int fd, void *buf, unsigned len, uint64_t user_data, uint8_t sqe_flags);
/// IORING_OP_ASYNC_CANCEL of the operation submitted with `target_user_data`.
int cshim_ring_prep_cancel(struct io_uring *ring, uint64_t target_user_data, uint64_t user_data, uint8_t sqe_flags);
/// A blocking (io_uring polls it) TCP socket of `family` with SOCK_CLOEXEC and TCP_NODELAY.
int cshim_tcp_socket(int family);
/// Keeps memory freed by `free` in the process (no trimming, no mmap below 32 MiB), so large
/// buffers freed and allocated again every flush do not pay page faults each time. 0 or -1.
int cshim_malloc_keep_freed_memory(void);
/// Raises the soft RLIMIT_NOFILE to the hard limit, as Go's runtime does at start-up (so a
/// process has the open-files room a Go server in its place would). Writes both soft limits;
/// 0, or -errno when the limit could not be read or set.
int cshim_raise_open_files_limit(uint64_t *before, uint64_t *after);
int cshim_ring_submit(struct io_uring *ring);
unsigned cshim_ring_sq_space_left(struct io_uring *ring);
/// Copies up to `max` completions out of the CQ and marks them seen.
unsigned cshim_ring_drain(struct io_uring *ring, struct cshim_completion *out, unsigned max);
enum { CSHIM_IOSQE_IO_LINK = 4, CSHIM_IORING_FSYNC_DATASYNC = 1 };

#endif
