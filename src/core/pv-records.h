/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-records.h: a ledger record as a value — its kinds and their body
 * types, its hash — and the records table read in canonical order. Below
 * the state (which applies records) and the ledger (which chains, appends
 * and signs them), so both can read records without calling each other. */
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

/* Channels a ticket can be sent by. */
#define PV_DELIVERY_WHATSAPP "whatsapp"
#define PV_DELIVERY_SMS "sms"

gboolean pv_delivery_channel_is_known (const char *channel);

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

typedef gboolean (*PvRecordFunc) (const PvRecord *record, gpointer user_data, GError **error);
/* Every record in canonical order: by time stamp, then author. A device's
 * time stamps rise with its sequence numbers, so each device's records
 * keep their chain order. */
gboolean pv_records_foreach (PvStore *store, PvRecordFunc func, gpointer user_data, GError **error);

char *pv_hash_to_hex (const guint8 hash[PV_HASH_SIZE]);

G_END_DECLS
