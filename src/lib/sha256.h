/*
 * sha256: FIPS 180-4 SHA-256, small and dependency-free, for fingerprints
 * (not for anything that needs to resist timing attacks).
 */
#ifndef ALGA_SHA256_H
#define ALGA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, unsigned char digest[SHA256_DIGEST_SIZE]);
/* Lowercase hex of a digest, NUL-terminated. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE],
                char hex[SHA256_HEX_SIZE]);

#endif
