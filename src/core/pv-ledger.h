/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ledger.h: the append-only ledger. Every change is a record
 * (device_id, seq, hlc, kind, body) that names its predecessor's BLAKE2b hash,
 * so each device's records form a chain that a later signature over the
 * newest hash vouches for whole. Records are appended locally or applied from
 * other replicas; both paths update the derived state in one transaction. */
#pragma once

#include <glib.h>

#include "pv-records.h"
#include "pv-types.h"

G_BEGIN_DECLS

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

G_END_DECLS
