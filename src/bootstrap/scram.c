/*
 * scram: HMAC-SHA-256, PBKDF2 and the key derivation of RFC 5802 / 7677.
 */
#include "bootstrap/scram.h"

#include "lib/sha256.h"

#include <stdlib.h>
#include <string.h>

#define SCRAM_SALT_MAX 128
#define SCRAM_ITERATIONS_MAX 1000000

struct scram_hmac {
	struct sha256 inner;
	struct sha256 outer;
};

static void scram_hmac_init(struct scram_hmac *h, const void *key, size_t len)
{
	unsigned char block[64] = {0}, pad[64];

	if (len > sizeof(block)) {
		struct sha256 ctx;
		sha256_init(&ctx);
		sha256_update(&ctx, key, len);
		sha256_final(&ctx, block);
	} else {
		memcpy(block, key, len);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	sha256_init(&h->inner);
	sha256_update(&h->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	sha256_init(&h->outer);
	sha256_update(&h->outer, pad, 64);
	explicit_bzero(block, sizeof(block));
	explicit_bzero(pad, sizeof(pad));
}

static void scram_hmac(const struct scram_hmac *h, const void *msg, size_t len,
                       unsigned char out[SHA256_DIGEST_SIZE])
{
	struct sha256 ctx = h->inner;
	unsigned char inner[SHA256_DIGEST_SIZE];

	sha256_update(&ctx, msg, len);
	sha256_final(&ctx, inner);
	ctx = h->outer;
	sha256_update(&ctx, inner, sizeof(inner));
	sha256_final(&ctx, out);
}

static int scram_b64_value(char c)
{
	const char *digits =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789+/";
	const char *p = c != '\0' ? strchr(digits, c) : NULL;

	return p != NULL ? (int)(p - digits) : -1;
}

/* Decodes len characters of base64; returns the byte count or -1. */
static int scram_b64_decode(const char *in, size_t len, unsigned char *out,
                            size_t size)
{
	unsigned bits = 0, nbits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int v;
		if (in[i] == '=')
			break;
		if ((v = scram_b64_value(in[i])) < 0)
			return -1;
		bits = (bits << 6) | (unsigned)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (o == size)
				return -1;
			out[o++] = (unsigned char)(bits >> nbits);
		}
	}
	return (int)o;
}

static bool scram_printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* PBKDF2-HMAC-SHA-256 with one output block: SCRAM's SaltedPassword. */
static void scram_salted(const char *password, const unsigned char *salt,
                         size_t salt_len, long iterations,
                         unsigned char out[SHA256_DIGEST_SIZE])
{
	unsigned char msg[SCRAM_SALT_MAX + 4], u[SHA256_DIGEST_SIZE];
	struct scram_hmac h;

	scram_hmac_init(&h, password, strlen(password));
	memcpy(msg, salt, salt_len);
	memcpy(msg + salt_len, "\0\0\0\1", 4);
	scram_hmac(&h, msg, salt_len + 4, u);
	memcpy(out, u, sizeof(u));
	for (long i = 1; i < iterations; i++) {
		scram_hmac(&h, u, sizeof(u), u);
		for (int j = 0; j < SHA256_DIGEST_SIZE; j++)
			out[j] ^= u[j];
	}
	explicit_bzero(&h, sizeof(h));
	explicit_bzero(u, sizeof(u));
}

bool scram_verifier_matches(const char *verifier, const char *password)
{
	static const char prefix[] = "SCRAM-SHA-256$";
	unsigned char salt[SCRAM_SALT_MAX], stored[SHA256_DIGEST_SIZE];
	unsigned char salted[SHA256_DIGEST_SIZE], key[SHA256_DIGEST_SIZE];
	const char *p, *salt_end, *stored_end;
	struct scram_hmac h;
	struct sha256 ctx;
	char *end;
	long iterations;
	int salt_len;
	bool same;

	if (verifier == NULL || !scram_printable_ascii(password) ||
	    strncmp(verifier, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = verifier + sizeof(prefix) - 1;
	iterations = strtol(p, &end, 10);
	if (*end != ':' || iterations < 1 || iterations > SCRAM_ITERATIONS_MAX)
		return false;
	p = end + 1;
	salt_end = strchr(p, '$');
	stored_end = salt_end != NULL ? strchr(salt_end, ':') : NULL;
	if (stored_end == NULL)
		return false;
	salt_len =
	        scram_b64_decode(p, (size_t)(salt_end - p), salt, sizeof(salt));
	if (salt_len <= 0 ||
	    scram_b64_decode(salt_end + 1, (size_t)(stored_end - salt_end - 1),
	                     stored, sizeof(stored)) != SHA256_DIGEST_SIZE)
		return false;
	scram_salted(password, salt, (size_t)salt_len, iterations, salted);
	scram_hmac_init(&h, salted, sizeof(salted));
	scram_hmac(&h, "Client Key", 10, key);
	sha256_init(&ctx);
	sha256_update(&ctx, key, sizeof(key));
	sha256_final(&ctx, key);
	same = memcmp(key, stored, sizeof(key)) == 0;
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(&h, sizeof(h));
	return same;
}
