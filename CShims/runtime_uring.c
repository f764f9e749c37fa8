// Runtime helpers over liburing, whose SQE/CQE accessors are static inline
// functions and macros. Prep helpers return -EBUSY when the SQ is full so the
// Swift side can submit and retry.
#include "CShims.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

_Static_assert(CSHIM_IOSQE_IO_LINK == IOSQE_IO_LINK, "sqe link flag");
_Static_assert(CSHIM_IORING_FSYNC_DATASYNC == IORING_FSYNC_DATASYNC, "fsync flag");

struct io_uring *cshim_ring_create(unsigned sq_entries, unsigned cq_entries, int *error) {
    struct io_uring *ring = calloc(1, sizeof *ring);
    if (!ring) {
        *error = -ENOMEM;
        return NULL;
    }
    struct io_uring_params params = {.flags = IORING_SETUP_CQSIZE, .cq_entries = cq_entries};
    int rc = io_uring_queue_init_params(sq_entries, ring, &params);
    if (rc < 0) {
        free(ring);
        *error = rc;
        return NULL;
    }
    *error = 0;
    return ring;
}

void cshim_ring_destroy(struct io_uring *ring) {
    io_uring_queue_exit(ring);
    free(ring);
}

int cshim_ring_register_eventfd(struct io_uring *ring, int fd) { return io_uring_register_eventfd(ring, fd); }

static struct io_uring_sqe *next_sqe(struct io_uring *ring) { return io_uring_get_sqe(ring); }

static int finish(struct io_uring_sqe *sqe, uint64_t user_data, uint8_t sqe_flags) {
    io_uring_sqe_set_data64(sqe, user_data);
    io_uring_sqe_set_flags(sqe, sqe_flags);
    return 0;
}

int cshim_ring_prep_nop(struct io_uring *ring, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_nop(sqe);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_write(struct io_uring *ring, int fd, const void *buf, unsigned len, uint64_t offset,
                          uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_write(sqe, fd, buf, len, offset);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_fsync(struct io_uring *ring, int fd, unsigned fsync_flags, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_fsync(sqe, fd, fsync_flags);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_openat(struct io_uring *ring, int dirfd, const char *path, int flags, unsigned mode,
                           uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_openat(sqe, dirfd, path, flags, mode);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_renameat(struct io_uring *ring, int olddirfd, const char *oldpath, int newdirfd,
                             const char *newpath, unsigned flags, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_renameat(sqe, olddirfd, oldpath, newdirfd, newpath, flags);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_close(struct io_uring *ring, int fd, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_close(sqe, fd);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_connect(struct io_uring *ring, int fd, const struct sockaddr *addr, unsigned addrlen,
                            uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_connect(sqe, fd, addr, addrlen);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_send(struct io_uring *ring, int fd, const void *buf, unsigned len, uint64_t user_data,
                         uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_recv(struct io_uring *ring, int fd, void *buf, unsigned len, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_recv(sqe, fd, buf, len, 0);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_prep_cancel(struct io_uring *ring, uint64_t target_user_data, uint64_t user_data, uint8_t sqe_flags) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_cancel64(sqe, target_user_data, 0);
    return finish(sqe, user_data, sqe_flags);
}

int cshim_ring_submit(struct io_uring *ring) {
    for (;;) {
        int rc = io_uring_submit(ring);
        if (rc != -EINTR) return rc;
    }
}

unsigned cshim_ring_sq_space_left(struct io_uring *ring) { return io_uring_sq_space_left(ring); }

unsigned cshim_ring_drain(struct io_uring *ring, struct cshim_completion *out, unsigned max) {
    unsigned n = 0;
    unsigned head;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
        if (n == max) break;
        out[n].user_data = cqe->user_data;
        out[n].res = cqe->res;
        out[n].flags = cqe->flags;
        n++;
    }
    io_uring_cq_advance(ring, n);
    return n;
}
