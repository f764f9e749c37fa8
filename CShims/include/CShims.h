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

#endif
