/* cx_anticheat: the tamper-evident anti-cheat event chain and the strike policy (spec 4.2). */
#ifndef CX_ANTICHEAT_H
#define CX_ANTICHEAT_H

#include <json-c/json.h>

#include "cx_error.h"

/* Pure logic: no I/O. The cx-interview handler loads the session, calls cx_ac_apply and
 * stores the outcome with one atomic update. The exact behaviour is the "Events
 * (anti-cheat) body" section of the interview API contract. */

enum cx_ac_kind { CX_AC_FACE_MISSING, CX_AC_TAB_SWITCH, CX_AC_FULLSCREEN_EXIT,
	CX_AC_MULTIPLE_FACES, CX_AC_SUSPICIOUS_INPUT, CX_AC_TAMPERING, CX_AC_NKINDS };

#define CX_AC_MAX_BATCH 50
#define CX_AC_MAX_LOG 1000   /* a batch that would grow the log beyond: VALIDATION_ERROR
                                field "events", "the session's event log is full" */
#define CX_AC_HASH_LEN 65    /* 64 lowercase hex + NUL */

struct cx_ac_policy {
	int limit[CX_AC_NKINDS];   /* strikes of a kind that end the interview; 0 = none
	                              (tampering: 0, it counts toward the total only) */
	int total_limit;           /* ANTI_CHEAT_THRESHOLD */
	int face_detection;        /* FACE_DETECTION_ENABLED */
	int tab_switch_detection;  /* TAB_SWITCH_DETECTION */
};

/* Fill pol from the configuration values: strikes is ANTI_CHEAT_STRIKES text
 * ("face_missing=3,tab_switch=2,fullscreen_exit=1,multiple_faces=1,suspicious_input=5";
 * kinds may be omitted (spec default kept), NULL or "" = all defaults; spaces around items
 * are ignored; N is 0..CX_AC_MAX_LOG, 0 = no limit of that kind). An unknown kind (also
 * "tampering"), a kind listed twice or a bad number -> VALIDATION_ERROR field
 * "ANTI_CHEAT_STRIKES"; total_limit < 1 -> VALIDATION_ERROR field "ANTI_CHEAT_THRESHOLD".
 * pol is written only on success. */
int cx_ac_policy_init(struct cx_ac_policy *pol, const char *strikes, int total_limit,
    int face_detection, int tab_switch_detection, struct cx_error *err);

/* The anti-cheat kind name ("face_missing", ..., "tampering"), static; NULL if out of range. */
const char *cx_ac_kind_name(enum cx_ac_kind kind);

/* A fresh anti-cheat state for a session that just became active: a new random nonce
 * (64 lowercase hex). *out (caller's):
 *   {nonce, last_hash (= nonce), last_seq 0, violations 0,
 *    strikes {face_missing 0, tab_switch 0, fullscreen_exit 0, multiple_faces 0,
 *             suspicious_input 0, tampering 0}} */
int cx_ac_state_new(json_object **out, struct cx_error *err);

/* canonical(event) and the chain step of the contract: out = hex(SHA-256(prev_hex ‖
 * canonical)). event is the client's object {seq, event, timestamp, details} (other keys,
 * e.g. sequence_hash, are ignored). Returns CX_OK or VALIDATION_ERROR when the event is
 * malformed (field "seq", "event", "timestamp" or "details"); prev_hex that is not 64
 * lowercase hex is an INTERNAL_ERROR. out is written only on success. */
int cx_ac_hash(const char *prev_hex, json_object *event, char out[CX_AC_HASH_LEN],
    struct cx_error *err);
/* The canonical text itself (malloc'd, caller frees), for tests and docs; NULL with err
 * set (as cx_ac_hash) when the event is malformed. */
char *cx_ac_canonical(json_object *event, struct cx_error *err);

struct cx_ac_outcome {
	json_object *state;        /* the new state (caller's; to $set as anti_cheat) */
	json_object *entries;      /* array of new log entries (caller's; to $push to
	                              anti_cheat_log), each
	                              {seq|null, event, timestamp (now), client_timestamp|null,
	                               details, sequence_hash|null, counted, strike|null};
	                              strike is the kind the entry counted as ("tab_switch",
	                              "suspicious_input" for copy_paste, "tampering"), null when
	                              not counted */
	json_object *warnings;     /* array of strings for the candidate (caller's), one per
	                              counted strike below the limits, e.g. "Tab switch
	                              detected (1 of 2 allowed)..." */
	int accepted;              /* events appended to the chain */
	int duplicate;             /* 1: an idempotent retry, nothing changed */
	int tampering;             /* 1: a tampering entry was logged */
	int terminate;             /* 1: a limit was reached */
	char reason[256];          /* terminate: words, e.g. "Anti-cheat: 2 tab switches
	                              (limit 2)" or "Anti-cheat: 3 violations (limit 3)";
	                              "" otherwise */
};

/* Apply a batch. events: the request body's "events" (borrowed); state: the session's
 * anti_cheat object (borrowed, not modified); log: logged entries (borrowed, NULL =
 * none), for duplicate detection (entries carry seq and sequence_hash): the whole log, or
 * at least its entries with the batch's seqs (cx-interview passes only those, and then
 * checks the CX_AC_MAX_LOG limit below against its own count); now: RFC 3339 server time. Shape validation of the whole batch happens
 * first: VALIDATION_ERROR with field "events" / "events[3].details" etc. (0-based index),
 * and nothing else is computed. Then the idempotent-retry check, then the chain walk; a
 * result that would grow the log beyond CX_AC_MAX_LOG entries is VALIDATION_ERROR field
 * "events". A state that is not an anti-cheat state is INTERNAL_ERROR.
 * When one event reaches both its kind's limit and the total, the reason names the kind.
 * On CX_OK every pointer of *out is set (caller frees with cx_ac_outcome_free); on failure
 * *out is zeroed (freeing it is harmless). */
int cx_ac_apply(const struct cx_ac_policy *pol, json_object *state, json_object *log,
    json_object *events, const char *now, struct cx_ac_outcome *out, struct cx_error *err);
/* Release what *out holds and zero it (safe to call twice). */
void cx_ac_outcome_free(struct cx_ac_outcome *out);

#endif
