/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ledger.h: the append-only ledger. Every change is a record
 * (device_id, seq, hlc, kind, body) that names its predecessor's BLAKE2b hash,
 * so each device's records form a chain that a later signature over the
 * newest hash vouches for whole. Records are appended locally or applied from
 * other replicas; both paths update the derived state in one transaction. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

typedef enum
{
  PV_RECORD_EVENT_CONFIG = 1,       /* body: a{sv}, see pv_event_to_variant() */
  PV_RECORD_DEVICE_ENROLLED = 2,    /* body: PV_DEVICE_CERT_VARIANT_TYPE */
  PV_RECORD_DEVICE_REVOKED = 3,     /* body: (qxs) device, revoked at µs, reason */
  PV_RECORD_TICKET_ISSUED = 4,      /* body: (says) code, salted digest of name and phone, channel */
  PV_RECORD_TICKET_REVOKED = 5,     /* body: (quxs) issuer, serial, revoked at µs, reason */
  PV_RECORD_ENTRY = 6,              /* body: PV_SCAN_VARIANT_TYPE */
  PV_RECORD_EXIT = 7,               /* body: PV_SCAN_VARIANT_TYPE */
  PV_RECORD_DELIVERY_REQUESTED = 8, /* body: PV_DELIVERY_VARIANT_TYPE */
  /* An entry or exit decided by hand: a serial typed in, the ticket
   * checked by eye, no code read. Its own kind, so the body and older
   * records keep their one type. */
  PV_RECORD_MANUAL_ENTRY = 9, /* body: PV_SCAN_VARIANT_TYPE */
  PV_RECORD_MANUAL_EXIT = 10, /* body: PV_SCAN_VARIANT_TYPE */
} PvRecordKind;

/* issuer, serial, category, event day, party, gate, at µs, decided offline */
#define PV_SCAN_VARIANT_TYPE "(quynqsxb)"
/* issuer, serial, channel ("whatsapp" or "sms"), requested at µs. Never a
 * name or phone number: records reach gates, which hold no personal data;
 * the hub finds the phone in its own people table. */
#define PV_DELIVERY_VARIANT_TYPE "(qusx)"

const char *pv_record_kind_to_string (PvRecordKind kind);
/* NULL for a kind this program does not know. */
const GVariantType *pv_record_kind_body_type (guint kind);

struct _PvRecord
{
  guint16 device_id;
  guint64 seq;
  PvHlc hlc;
  PvRecordKind kind;
  GBytes *body; /* GVariant bytes in normal form */
  guint8 prev[PV_HASH_SIZE];
  guint8 hash[PV_HASH_SIZE];
};

PvRecord *pv_record_copy (const PvRecord *record);
void pv_record_free (PvRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvRecord, pv_record_free)

/* BLAKE2b-256 over a fixed encoding of every field but the hash itself. */
void pv_record_compute_hash (const PvRecord *record, guint8 out[PV_HASH_SIZE]);
/* The body as a GVariant of its kind's type; PV_ERROR_MALFORMED when the
 * bytes are not that type in normal form. */
GVariant *pv_record_dup_body (const PvRecord *record, GError **error);

/* Appends a record authored by this replica's device. */
gboolean pv_ledger_append (PvStore *store,
                           PvRecordKind kind,
                           GVariant *body,
                           PvRecord **out_record,
                           GError **error);

/* Applies a record from another replica that the caller has authenticated
 * (pv_batch_apply checks its author's signed head). A record already
 * held is a no-op (@out_new FALSE); one that differs from the held record with its
 * (device, seq) is a fork: kept as evidence, refused with PV_ERROR_FORK; one
 * that does not continue its device's chain is refused with PV_ERROR_CHAIN. */
gboolean pv_ledger_apply (PvStore *store,
                          const PvRecord *record,
                          gboolean *out_new,
                          GError **error);

/* device id → highest seq held, as GUINT_TO_POINTER / (guint64*) values. */
GHashTable *pv_ledger_version_vector (PvStore *store, GError **error);

typedef gboolean (*PvRecordFunc) (const PvRecord *record, gpointer user_data, GError **error);
/* Every record in canonical order: by time stamp, then author. A device's
 * time stamps rise with its sequence numbers, so each device's records
 * keep their chain order. */
gboolean pv_ledger_foreach (PvStore *store, PvRecordFunc func, gpointer user_data, GError **error);
guint64 pv_ledger_count (PvStore *store);

/* BLAKE2b over every record hash in (device, seq) order: equal on two
 * replicas exactly when they hold the same records. */
gboolean pv_ledger_digest (PvStore *store, guint8 out[PV_HASH_SIZE], GError **error);

/* A device's signature over the hash of its newest record: since every
 * record names its predecessor's hash, it vouches for the whole chain. */
typedef struct
{
  guint16 device_id;
  guint64 seq;
  guint8 hash[PV_HASH_SIZE];
  guint8 signature[PV_SIGNATURE_SIZE];
} PvHead;

gboolean pv_head_verify (const PvHead *head, const guint8 public_key[PV_PUBLIC_KEY_SIZE]);
/* Signs this replica's newest own record with its device key. */
gboolean pv_ledger_sign_own_head (PvStore *store, PvHead *out, GError **error);
/* Keeps @head among the signed heads of its device (all are kept: records
 * travel in pages that end at them). The caller has verified it. */
gboolean pv_ledger_store_head (PvStore *store, const PvHead *head, GError **error);
/* Every head this replica can pass on (element-type PvHead): the newest
 * received from each other author, and its own, freshly signed. */
GArray *pv_ledger_get_heads (PvStore *store, GError **error);

char *pv_hash_to_hex (const guint8 hash[PV_HASH_SIZE]);

G_END_DECLS
