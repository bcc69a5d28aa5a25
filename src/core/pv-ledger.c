/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ledger.c: the records' hash chains, local appends, applying records
 * from other replicas (duplicates ignored, forks kept as evidence, gaps
 * refused), the version vector, the ledger digest and signed heads. A
 * record as a value is in pv-records.c; the merge engine that applies
 * other replicas' records is in pv-batch.c. */
#include "pv-ledger.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-keys.h"
#include "pv-ledger-private.h"
#include "pv-records-private.h"
#include "pv-state.h"
#include "pv-store-private.h"

gboolean
_pv_ledger_chain_head (PvStore *store, guint16 device, guint64 *out_seq, guint8 out_hash[PV_HASH_SIZE],
                       PvHlc *out_hlc, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT seq, hash, hlc FROM records WHERE device_id = ?1 "
                                         "ORDER BY seq DESC LIMIT 1",
                                         error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, device);
  rc = sqlite3_step (stmt);
  *out_seq = 0;
  memset (out_hash, 0, PV_HASH_SIZE);
  if (out_hlc)
    *out_hlc = 0;
  if (rc == SQLITE_ROW && sqlite3_column_bytes (stmt, 1) != PV_HASH_SIZE)
    {
      /* Only a file edited by hand (or by an attacker) gets here: our schema
       * checks the length, theirs need not. */
      sqlite3_reset (stmt);
      return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                          "%s holds a damaged record hash for device %u",
                          pv_store_get_path (store), device),
             FALSE;
    }
  if (rc == SQLITE_ROW)
    {
      *out_seq = (guint64) sqlite3_column_int64 (stmt, 0);
      memcpy (out_hash, sqlite3_column_blob (stmt, 1), PV_HASH_SIZE);
      if (out_hlc)
        *out_hlc = (PvHlc) sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the ledger");
  return TRUE;
}

static gboolean
insert_record (PvStore *store, const PvRecord *record, const char *table, GError **error)
{
  sqlite3_stmt *stmt;
  gsize len;
  const void *body = g_bytes_get_data (record->body, &len);

  if (g_str_equal (table, "records"))
    stmt = pv_store_prepare (store,
                             "INSERT INTO records (device_id, seq, hlc, kind, body, prev, hash) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             error);
  else
    stmt = pv_store_prepare (store,
                             "INSERT OR IGNORE INTO forks "
                             "(device_id, seq, hlc, kind, body, prev, hash, seen_at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, record->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) record->seq);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) record->hlc);
  sqlite3_bind_int (stmt, 4, record->kind);
  sqlite3_bind_blob (stmt, 5, body ? body : "", (int) len, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 6, record->prev, PV_HASH_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 7, record->hash, PV_HASH_SIZE, SQLITE_STATIC);
  if (!g_str_equal (table, "records"))
    sqlite3_bind_int64 (stmt, 8, pv_store_now (store));
  return pv_store_step_done (store, stmt, error);
}

gboolean
pv_ledger_append (PvStore *store, PvRecordKind kind, GVariant *body, PvRecord **out_record, GError **error)
{
  g_autoptr (PvRecord) record = g_new0 (PvRecord, 1);
  g_autoptr (GVariant) sunk = g_variant_ref_sink (body);
  g_autoptr (GVariant) normal = NULL;
  guint64 last_seq;

  record->device_id = pv_store_get_device_id (store);
  if (record->device_id == 0)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                   "%s has no device identity: create an event or add this device first",
                   pv_store_get_path (store));
      return FALSE;
    }
  g_return_val_if_fail (g_variant_is_of_type (sunk, pv_record_kind_body_type (kind)), FALSE);

  normal = g_variant_get_normal_form (sunk);
  record->kind = kind;
  record->body = g_variant_get_data_as_bytes (normal);

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!pv_store_get_cached_head (store, &last_seq, record->prev)
      && !_pv_ledger_chain_head (store, record->device_id, &last_seq, record->prev, NULL, error))
    goto fail;
  record->seq = last_seq + 1;
  record->hlc = pv_store_hlc_tick (store);
  pv_record_compute_hash (record, record->hash);
  if (!insert_record (store, record, "records", error)
      || !pv_state_apply (store, record, normal, error))
    goto fail;
  pv_store_set_cached_head (store, record->seq, record->hash);
  if (!pv_store_commit (store, error))
    goto fail;

  if (out_record)
    *out_record = g_steal_pointer (&record);
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

/* Looks up the hash held for (device, seq): TRUE and @out_hash when held. */
gboolean
_pv_ledger_held_hash (PvStore *store, guint16 device, guint64 seq, guint8 out_hash[PV_HASH_SIZE], gboolean *out_held, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT hash FROM records WHERE device_id = ?1 AND seq = ?2",
                                         error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, device);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) seq);
  rc = sqlite3_step (stmt);
  *out_held = rc == SQLITE_ROW;
  if (*out_held && sqlite3_column_bytes (stmt, 0) == PV_HASH_SIZE)
    memcpy (out_hash, sqlite3_column_blob (stmt, 0), PV_HASH_SIZE);
  else if (*out_held)
    memset (out_hash, 0, PV_HASH_SIZE); /* damaged: differs from any real hash */
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the ledger");
  return TRUE;
}

gboolean
pv_ledger_apply (PvStore *store, const PvRecord *record, gboolean *out_new, GError **error)
{
  return _pv_ledger_apply_record (store, record, FALSE, out_new, error);
}

gboolean
_pv_ledger_apply_record (PvStore *store, const PvRecord *record, gboolean checked, gboolean *out_new,
                         GError **error)
{
  g_autoptr (GVariant) body = NULL;
  guint8 hash[PV_HASH_SIZE], head_hash[PV_HASH_SIZE];
  guint64 head_seq;
  PvHlc head_hlc;
  gboolean held;

  if (out_new)
    *out_new = FALSE;
  if (record->hlc > PV_HLC_MAX || record->seq > G_MAXINT64)
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                        "Record %u/%" G_GUINT64_FORMAT " has a time stamp or sequence number out of range",
                        record->device_id, record->seq),
           FALSE;
  if (record->device_id == 0 || record->seq == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                        "Record %u/%" G_GUINT64_FORMAT " has a zero device or sequence number",
                        record->device_id, record->seq),
           FALSE;
  /* A batch's parser (or collect) checked the hash and the body already. */
  if (checked)
    body = g_variant_ref_sink (g_variant_new_from_bytes (pv_record_kind_body_type (record->kind), record->body, TRUE));
  else if (!(body = pv_record_dup_body (record, error)))
    return FALSE;
  if (!checked)
    {
      pv_record_compute_hash (record, hash);
      if (sodium_memcmp (hash, record->hash, PV_HASH_SIZE) != 0)
        return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                            "Record %u/%" G_GUINT64_FORMAT " does not match its own hash",
                            record->device_id, record->seq),
               FALSE;
    }

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!_pv_ledger_held_hash (store, record->device_id, record->seq, hash, &held, error))
    goto fail;
  if (held)
    {
      if (memcmp (hash, record->hash, PV_HASH_SIZE) == 0)
        return pv_store_commit (store, error);
      /* Two histories for one device: keep the second as evidence for the
       * admin, refuse it for the ledger. */
      if (!insert_record (store, record, "forks", error) || !pv_store_commit (store, error))
        goto fail;
      return g_set_error (error, PV_ERROR, PV_ERROR_FORK,
                          "Device %u wrote two different records with sequence number %" G_GUINT64_FORMAT "; the second is kept as evidence and refused",
                          record->device_id, record->seq),
             FALSE;
    }

  if (record->device_id == pv_store_get_device_id (store))
    {
      /* This replica writes its own records; one it does not hold is an
       * impostor's (or a restored copy's), never a late delivery. */
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   "Record %u/%" G_GUINT64_FORMAT " claims to be written by this device, which did not write it",
                   record->device_id, record->seq);
      goto refuse;
    }
  if (!_pv_ledger_chain_head (store, record->device_id, &head_seq, head_hash, &head_hlc, error))
    goto fail;
  if (record->seq != head_seq + 1)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_CHAIN,
                   "Record %u/%" G_GUINT64_FORMAT " arrived before %u/%" G_GUINT64_FORMAT,
                   record->device_id, record->seq, record->device_id, head_seq + 1);
      goto refuse;
    }
  if (memcmp (head_hash, record->prev, PV_HASH_SIZE) != 0)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_CHAIN,
                   "Record %u/%" G_GUINT64_FORMAT " does not continue the chain of device %u",
                   record->device_id, record->seq, record->device_id);
      goto refuse;
    }
  /* Time stamps rise along a chain; canonical order relies on it. Checked
   * after the chain itself, so a record of another history (a fork, whose
   * clock may be behind ours) is reported as not following ours. */
  if (head_seq > 0 && record->hlc <= head_hlc)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Record %u/%" G_GUINT64_FORMAT " is stamped earlier than its predecessor",
                   record->device_id, record->seq);
      goto refuse;
    }
  if (!insert_record (store, record, "records", error)
      || !pv_state_apply (store, record, body, error))
    goto fail;
  pv_store_hlc_observe (store, record->hlc);
  if (!pv_store_commit (store, error))
    goto fail;
  if (out_new)
    *out_new = TRUE;
  return TRUE;

refuse:
  /* Refused before anything was written: leave an enclosing transaction
   * (a merge) able to go on. */
  pv_store_commit (store, NULL);
  return FALSE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

GHashTable *
pv_ledger_version_vector (PvStore *store, GError **error)
{
  g_autoptr (GArray) devices = _pv_records_list_authors (store, error);
  g_autoptr (GHashTable) vector = NULL;

  if (devices == NULL)
    return NULL;
  vector = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for (guint i = 0; i < devices->len; i++)
    {
      guint16 id = g_array_index (devices, guint16, i);
      guint64 *seq = g_new (guint64, 1);
      guint8 hash[PV_HASH_SIZE];

      if (!_pv_ledger_chain_head (store, id, seq, hash, NULL, error))
        {
          g_free (seq);
          return NULL;
        }
      g_hash_table_insert (vector, GUINT_TO_POINTER (id), seq);
    }
  return g_steal_pointer (&vector);
}

guint64
pv_ledger_count (PvStore *store)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT count(*) FROM records", NULL);
  guint64 n = 0;

  if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
    n = (guint64) sqlite3_column_int64 (stmt, 0);
  if (stmt)
    sqlite3_reset (stmt);
  return n;
}

gboolean
pv_ledger_digest (PvStore *store, guint8 out[PV_HASH_SIZE], GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT hash FROM records ORDER BY device_id, seq",
                                         error);
  crypto_generichash_state state;
  int rc;

  if (stmt == NULL)
    return FALSE;
  crypto_generichash_init (&state, (const guint8 *) "PVLD", 4, PV_HASH_SIZE);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    crypto_generichash_update (&state, sqlite3_column_blob (stmt, 0),
                               (gsize) sqlite3_column_bytes (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the ledger");
  crypto_generichash_final (&state, out, PV_HASH_SIZE);
  return TRUE;
}

/* @value's low @n bytes, most significant first. */
static void
put_be (guint8 *out, guint64 value, guint n)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8) (value >> (8 * (n - 1 - i)));
}

static void
head_message (const PvHead *head, guint8 out[4 + 2 + 8 + PV_HASH_SIZE])
{
  memcpy (out, "PVH1", 4);
  put_be (out + 4, head->device_id, 2);
  put_be (out + 6, head->seq, 8);
  memcpy (out + 14, head->hash, PV_HASH_SIZE);
}

gboolean
pv_head_verify (const PvHead *head, const guint8 public_key[PV_PUBLIC_KEY_SIZE])
{
  guint8 message[4 + 2 + 8 + PV_HASH_SIZE];

  head_message (head, message);
  return crypto_sign_verify_detached (head->signature, message, sizeof message, public_key) == 0;
}

gboolean
_pv_ledger_sign_head_at (PvStore *store, guint64 seq, const guint8 hash[PV_HASH_SIZE], PvHead *out, GError **error)
{
  guint8 message[4 + 2 + 8 + PV_HASH_SIZE];
  guint8 sk[PV_SECRET_KEY_SIZE];

  memset (out, 0, sizeof *out);
  out->device_id = pv_store_get_device_id (store);
  out->seq = seq;
  memcpy (out->hash, hash, PV_HASH_SIZE);
  if (out->device_id == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                        "%s has no device identity to sign with", pv_store_get_path (store)),
           FALSE;
  if (!pv_store_get_device_secret_key (store, sk, error))
    return FALSE;
  head_message (out, message);
  crypto_sign_detached (out->signature, NULL, message, sizeof message, sk);
  sodium_memzero (sk, sizeof sk);
  return TRUE;
}

gboolean
pv_ledger_sign_own_head (PvStore *store, PvHead *out, GError **error)
{
  guint8 hash[PV_HASH_SIZE];
  guint64 seq;

  memset (out, 0, sizeof *out);
  if (!_pv_ledger_chain_head (store, pv_store_get_device_id (store), &seq, hash, NULL, error))
    return FALSE;
  if (seq == 0 && pv_store_get_device_id (store) != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED, "%s has written no records yet",
                        pv_store_get_path (store)),
           FALSE;
  return _pv_ledger_sign_head_at (store, seq, hash, out, error);
}

gboolean
pv_ledger_store_head (PvStore *store, const PvHead *head, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT OR IGNORE INTO signed_heads "
                                         "(device_id, seq, hash, signature) VALUES (?1, ?2, ?3, ?4)",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, head->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) head->seq);
  sqlite3_bind_blob (stmt, 3, head->hash, PV_HASH_SIZE, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 4, head->signature, PV_SIGNATURE_SIZE, SQLITE_STATIC);
  return pv_store_step_done (store, stmt, error);
}

GArray *
pv_ledger_get_heads (PvStore *store, GError **error)
{
  g_autoptr (GArray) heads = g_array_new (FALSE, TRUE, sizeof (PvHead));
  g_autoptr (GError) own_error = NULL;
  sqlite3_stmt *stmt;
  PvHead own;
  int rc;

  stmt = pv_store_prepare (store,
                           "SELECT device_id, seq, hash, signature FROM signed_heads s "
                           "WHERE device_id != ?1 "
                           "  AND seq = (SELECT max (seq) FROM signed_heads WHERE device_id = s.device_id) "
                           "ORDER BY device_id",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, pv_store_get_device_id (store));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvHead head = { 0 };

      head.device_id = (guint16) sqlite3_column_int (stmt, 0);
      head.seq = (guint64) sqlite3_column_int64 (stmt, 1);
      if (sqlite3_column_bytes (stmt, 2) != PV_HASH_SIZE || sqlite3_column_bytes (stmt, 3) != PV_SIGNATURE_SIZE)
        continue;
      memcpy (head.hash, sqlite3_column_blob (stmt, 2), PV_HASH_SIZE);
      memcpy (head.signature, sqlite3_column_blob (stmt, 3), PV_SIGNATURE_SIZE);
      g_array_append_val (heads, head);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read chain heads"), NULL;
  /* Its own records this replica vouches for afresh, up to the newest. */
  if (pv_ledger_sign_own_head (store, &own, &own_error))
    g_array_append_val (heads, own);
  return g_steal_pointer (&heads);
}
