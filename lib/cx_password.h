/* cx_password: bcrypt hashing via libcrypt ($2b$, cost 12) and the password policy of spec 4.1. */
#ifndef CX_PASSWORD_H
#define CX_PASSWORD_H

#include "cx_error.h"

#define CX_BCRYPT_HASH_MAX 128
#define CX_PASSWORD_MAX_BYTES 72  /* bcrypt reads 72 bytes: longer passwords are refused */

/* Policy: at least 8 characters, at most 72 bytes, a lowercase letter, an uppercase
 * letter, a digit and a symbol, no NUL/control characters. VALIDATION_ERROR on field
 * `field` with one clear reason naming the first rule broken. */
int cx_password_check_policy(const char *password, const char *field, struct cx_error *err);

/* Hash with a fresh salt at `cost` (10..15). out receives "$2b$12$...". */
int cx_password_hash(const char *password, int cost, char out[CX_BCRYPT_HASH_MAX],
    struct cx_error *err);

/* 1 when password matches hash, 0 otherwise (constant-time compare). A NULL or
 * malformed hash still spends the same bcrypt work (against a fixed dummy hash) so an
 * unknown account costs as much time as a wrong password. */
int cx_password_verify(const char *password, const char *hash);

#endif
