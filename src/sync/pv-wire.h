/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-wire.h: the wire format of sync, version 1 — a batch of ledger records
 * with the signed heads that vouch for them and, for desk and admin replicas,
 * the personal data the ticket records only carry a digest of; and the
 * version vector two replicas swap first to know what the other lacks. This
 * comment is the protocol other implementations read: the parser below
 * refuses everything it does not describe, so what it says is what is
 * accepted.
 *
 * A batch is one JSON object in UTF-8 (no byte order mark):
 *
 *   {
 *     "version": 1,
 *     "event": "5eed0001",
 *     "more": false,
 *     "records": [
 *       { "device": 1, "seq": 3, "hlc": 117003981251624960, "kind": 4,
 *         "body": "UFYxOi4uLgAAAA…", "prev": "q0x…=", "hash": "Vb2…=" }
 *     ],
 *     "heads": [
 *       { "device": 1, "seq": 3, "hash": "Vb2…=", "signature": "3kq…==" }
 *     ],
 *     "people": [
 *       { "issuer": 1, "serial": 1, "name": "Asha Rao", "phone": "+919812345678",
 *         "salt": "c2FsdHNhbHRzYWx0c2FsdA==" }
 *     ]
 *   }
 *
 * - "version": the integer 1. Anything else is refused: a later format that
 *   older replicas cannot read changes this number.
 * - "event": the event id as exactly 8 lowercase hexadecimal digits.
 * - "more" (optional, default false): true when the sender has another page
 *   of records for the same request.
 * - "records" (at most PV_BATCH_MAX_RECORDS): ledger records, each with
 *   "device" 1…65535, "seq" 1…2^63−1, "hlc" 0…2^63−1 (a hybrid logical
 *   clock stamp: wall milliseconds << 16 | counter — above 2^53, so readers
 *   whose numbers are doubles need a 64-bit integer parser), "kind" a record
 *   kind this program knows (PvRecordKind), "body" the GVariant bytes of the
 *   kind's body type in normal form (at most PV_BATCH_MAX_BODY bytes),
 *   "prev" the predecessor's hash (all zero for seq 1) and "hash" the
 *   record's own BLAKE2b-256 hash as pv_record_compute_hash() defines it.
 *   A record whose hash does not match its contents is refused, as is one
 *   whose body is not its kind's type in normal form. Within one batch a
 *   device's records come in strictly increasing seq order (the order they
 *   must be applied in); records of different devices may interleave.
 * - "heads" (at most PV_BATCH_MAX_HEADS, at most one per device): an author's
 *   Ed25519 signature over its newest record hash, "device", "seq", "hash"
 *   and "signature" (64 bytes). The parser checks their shape only; whether
 *   a signature holds and its device is certified is the receiver's call.
 * - "people" (optional, at most PV_BATCH_MAX_PEOPLE; sent to desk, admin
 *   and hub replicas only, never to gates): "issuer" 1…65535 and "serial"
 *   1…2^32−1 name the ticket, "name" (at most PV_PERSON_MAX_NAME bytes of
 *   UTF-8) and "phone" (at most PV_PERSON_MAX_PHONE bytes) may be empty
 *   strings, "salt" the 16-byte salt of the ticket record's digest.
 *
 * Binary fields are standard base64 (RFC 4648 §4: "+/" alphabet, "="
 * padding, no line breaks or spaces, unused bits zero), so each value has
 * exactly one spelling. Integers are JSON integers without fraction or
 * exponent ("3", not "3.0" or "3e0"). Members not named here are ignored at
 * every level, so a later minor addition does not break older readers; a
 * member that is named here but has the wrong type or value refuses the whole
 * batch. Nesting deeper than PV_JSON_MAX_DEPTH is refused before parsing, as
 * is input longer than the receiver's limit.
 *
 * A version vector is one JSON object: the event and, per device that has
 * records, the highest seq held, keyed by the device id in decimal without
 * leading zeros:
 *
 *   { "event": "5eed0001", "vector": { "1": 12, "7": 3 } }
 *
 * Every refusal is a PV_ERROR_MALFORMED GError whose message names the field
 * and its place: "records[12].prev: 31 bytes, expected 32". */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "pv-batch.h"

G_BEGIN_DECLS

#define PV_BATCH_VERSION 1
#define PV_BATCH_MAX_HEADS 65535
#define PV_BATCH_MAX_PEOPLE 100000
#define PV_BATCH_MAX_BODY (64 * 1024)
#define PV_PERSON_MAX_NAME 200
#define PV_PERSON_MAX_PHONE 32
/* Batches nest three deep; room is left for members a later version adds. */
#define PV_JSON_MAX_DEPTH 32

/* @root, or what @builder built, as compact UTF-8 JSON. */
GBytes *pv_json_to_bytes (JsonNode *root);
GBytes *pv_json_builder_to_bytes (JsonBuilder *builder);

/* Reading JSON from outside: a member of @object (which may be NULL) of
 * the JSON type asked for, or NULL when it is absent, null or of another
 * type. */
JsonNode *pv_json_member_of_type (JsonObject *object, const char *name, GType type);
const char *pv_json_member_string (JsonObject *object, const char *name);
JsonObject *pv_json_member_object (JsonObject *object, const char *name);
JsonArray *pv_json_member_array (JsonObject *object, const char *name);
/* Element @i of @array when it is an object, else NULL. */
JsonObject *pv_json_element_object (JsonArray *array, guint i);

/* One member of the object @builder is building: a string (null when
 * @value is NULL), an integer, a boolean, a null. */
void pv_json_add_string (JsonBuilder *builder, const char *member, const char *value);
void pv_json_add_int (JsonBuilder *builder, const char *member, gint64 value);
void pv_json_add_bool (JsonBuilder *builder, const char *member, gboolean value);
void pv_json_add_null (JsonBuilder *builder, const char *member);

/* The batch as compact UTF-8 JSON. "people" is left out when empty. */
GBytes *pv_batch_to_json (const PvBatch *batch);

/* Parses and checks a batch (see above). @data need not be terminated and
 * may hold anything; more than @max_bytes of it is refused unread. */
PvBatch *pv_batch_new_from_json (const char *data,
                                 gsize len,
                                 gsize max_bytes,
                                 GError **error);

/* The same batch in a compact binary framing, for bulk replication: a
 * GVariant of type
 *
 *   (yuba(qttyayayay)a(qtayay)a(qussay))
 *
 * — version, event, more; records (device, seq, hlc, kind, body, prev,
 * hash); heads (device, seq, hash, signature); people (issuer, serial,
 * name, phone, salt) — serialised little-endian and in normal form (which
 * the parser requires, so again each batch has one spelling). The fields
 * mean and are checked exactly as in the JSON above; it is some 35%
 * smaller and parses about twice as fast (tests/bench/bench-wire.c).
 * HTTP and the live session say which framing a body is in:
 * PV_BATCH_BINARY_TYPE as Content-Type, a binary WebSocket message. */
#define PV_BATCH_BINARY_TYPE "application/x-pravesh-batch"
GBytes *pv_batch_to_binary (const PvBatch *batch);
PvBatch *pv_batch_new_from_binary (const guint8 *data, gsize len, gsize max_bytes, GError **error);

/* @vector as pv_ledger_version_vector() returns it: device id (as
 * GUINT_TO_POINTER) → guint64 * highest seq. */
GBytes *pv_vector_to_json (guint32 event_id, GHashTable *vector);

/* The same table back, with the event id in @out_event_id; NULL and
 * PV_ERROR_MALFORMED for anything the format above does not allow. */
GHashTable *pv_vector_new_from_json (const char *data,
                                     gsize len,
                                     gsize max_bytes,
                                     guint32 *out_event_id,
                                     GError **error);

/* What a replica asks another for: what it holds (the vector above, whose
 * format this extends), who asks, and persons it lacks:
 *
 *   { "event": "5eed0001", "vector": { "1": 12 }, "device": 7,
 *     "limit": 5000, "people": [[3, 145], [3, 146]] }
 *
 * "device" (0…65535, 0 for a replica without identity yet) and "limit"
 * (0…PV_BATCH_MAX_RECORDS, 0 for the sender's page size) are optional;
 * "people" (optional, at most PV_BATCH_MAX_PEOPLE) lists tickets as
 * [issuer, serial]. */
typedef struct
{
  guint32 event_id;
  GHashTable *vector;    /* device id → guint64 * */
  guint16 device_id;     /* who asks */
  guint limit;           /* records per page, 0 for the default */
  GArray *people_wanted; /* guint64: issuer << 32 | serial */
} PvPullRequest;

void pv_pull_request_free (PvPullRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvPullRequest, pv_pull_request_free)
GBytes *pv_pull_request_to_json (const PvPullRequest *request);
PvPullRequest *pv_pull_request_new_from_json (const char *data,
                                              gsize len,
                                              gsize max_bytes,
                                              GError **error);

G_END_DECLS
