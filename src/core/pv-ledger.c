/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ledger.c: records, their hash chains, local appends, applying records
 * from other replicas (duplicates ignored, forks kept as evidence, gaps
 * refused), the version vector, the ledger digest and file-to-file merge. */
#include "pv-ledger.h"

#include <sodium.h>
#include <string.h>

#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-keys.h"
#include "pv-state.h"
#include "pv-store.h"
#include "pv-tickets.h"

static const char *const kind_names[] = {
  [PV_RECORD_EVENT_CONFIG] = "event-config",
  [PV_RECORD_DEVICE_ENROLLED] = "device-enrolled",
  [PV_RECORD_DEVICE_REVOKED] = "device-revoked",
  [PV_RECORD_TICKET_ISSUED] = "ticket-issued",
  [PV_RECORD_TICKET_REVOKED] = "ticket-revoked",
  [PV_RECORD_ENTRY] = "entry",
  [PV_RECORD_EXIT] = "exit",
};

const char *
pv_record_kind_to_string (PvRecordKind kind)
{
  if ((guint) kind < G_N_ELEMENTS (kind_names) && kind_names[kind])
    return kind_names[kind];
  return "unknown";
}

const GVariantType *
pv_record_kind_body_type (guint kind)
{
  switch (kind)
    {
    case PV_RECORD_EVENT_CONFIG:
      return G_VARIANT_TYPE_VARDICT;
    case PV_RECORD_DEVICE_ENROLLED:
      return G_VARIANT_TYPE (PV_DEVICE_CERT_VARIANT_TYPE);
    case PV_RECORD_DEVICE_REVOKED:
      return G_VARIANT_TYPE ("(qxs)");
    case PV_RECORD_TICKET_ISSUED:
      return G_VARIANT_TYPE ("(says)");
    case PV_RECORD_TICKET_REVOKED:
      return G_VARIANT_TYPE ("(quxs)");
    case PV_RECORD_ENTRY:
    case PV_RECORD_EXIT:
      return G_VARIANT_TYPE (PV_SCAN_VARIANT_TYPE);
    default:
      return NULL;
    }
}

PvRecord *
pv_record_copy (const PvRecord *record)
{
  PvRecord *copy = g_new (PvRecord, 1);

  *copy = *record;
  copy->body = g_bytes_ref (record->body);
  return copy;
}

void
pv_record_free (PvRecord *record)
{
  if (record == NULL)
    return;
  g_clear_pointer (&record->body, g_bytes_unref);
  g_free (record);
}

static void
put_be (guint8 *out, guint64 value, guint n)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8) (value >> (8 * (n - 1 - i)));
}

void
pv_record_compute_hash (const PvRecord *record, guint8 out[PV_HASH_SIZE])
{
  crypto_generichash_state state;
  guint8 head[4 + 2 + 8 + 8 + 1 + PV_HASH_SIZE + 4];
  gsize body_len;
  const guint8 *body = g_bytes_get_data (record->body, &body_len);

  memcpy (head, "PVR1", 4);
  put_be (head + 4, record->device_id, 2);
  put_be (head + 6, record->seq, 8);
  put_be (head + 14, record->hlc, 8);
  head[22] = (guint8) record->kind;
  memcpy (head + 23, record->prev, PV_HASH_SIZE);
  put_be (head + 23 + PV_HASH_SIZE, body_len, 4);

  crypto_generichash_init (&state, NULL, 0, PV_HASH_SIZE);
  crypto_generichash_update (&state, head, sizeof head);
  crypto_generichash_update (&state, body, body_len);
  crypto_generichash_final (&state, out, PV_HASH_SIZE);
}

GVariant *
pv_record_dup_body (const PvRecord *record, GError **error)
{
  const GVariantType *type = pv_record_kind_body_type (record->kind);
  g_autoptr (GVariant) body = NULL;

  if (type == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Record %u/%" G_GUINT64_FORMAT " has unknown kind %u",
                   record->device_id, record->seq, (guint) record->kind);
      return NULL;
    }
  body = g_variant_ref_sink (g_variant_new_from_bytes (type, record->body, FALSE));
  /* Normal form makes the bytes, and so the hash, unique per value: a record
   * that is not in it was not written by Pravesh. */
  if (!g_variant_is_normal_form (body))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   "Record %u/%" G_GUINT64_FORMAT " has a body that is not a valid %s",
                   record->device_id, record->seq, pv_record_kind_to_string (record->kind));
      return NULL;
    }
  return g_steal_pointer (&body);
}

char *
pv_hash_to_hex (const guint8 hash[PV_HASH_SIZE])
{
  char *hex = g_malloc (PV_HASH_SIZE * 2 + 1);

  sodium_bin2hex (hex, PV_HASH_SIZE * 2 + 1, hash, PV_HASH_SIZE);
  return hex;
}

/* The newest record of @device: its seq (0 when none), hash (zeros) and
 * time stamp (0), when @out_hlc is not NULL. */
static gboolean
chain_head (PvStore *store, guint16 device, guint64 *out_seq, guint8 out_hash[PV_HASH_SIZE],
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
      && !chain_head (store, record->device_id, &last_seq, record->prev, NULL, error))
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
static gboolean
held_hash (PvStore *store, guint16 device, guint64 seq, guint8 out_hash[PV_HASH_SIZE], gboolean *out_held, GError **error)
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
  if (!(body = pv_record_dup_body (record, error)))
    return FALSE;
  pv_record_compute_hash (record, hash);
  if (sodium_memcmp (hash, record->hash, PV_HASH_SIZE) != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                        "Record %u/%" G_GUINT64_FORMAT " does not match its own hash",
                        record->device_id, record->seq),
           FALSE;

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!held_hash (store, record->device_id, record->seq, hash, &held, error))
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
  if (!chain_head (store, record->device_id, &head_seq, head_hash, &head_hlc, error))
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

static void
record_from_row (sqlite3_stmt *stmt, PvRecord *record)
{
  record->device_id = (guint16) sqlite3_column_int (stmt, 0);
  record->seq = (guint64) sqlite3_column_int64 (stmt, 1);
  record->hlc = (PvHlc) sqlite3_column_int64 (stmt, 2);
  record->kind = (PvRecordKind) sqlite3_column_int (stmt, 3);
  record->body = g_bytes_new (sqlite3_column_blob (stmt, 4), sqlite3_column_bytes (stmt, 4));
  memset (record->prev, 0, PV_HASH_SIZE);
  memset (record->hash, 0, PV_HASH_SIZE);
  if (sqlite3_column_bytes (stmt, 5) == PV_HASH_SIZE)
    memcpy (record->prev, sqlite3_column_blob (stmt, 5), PV_HASH_SIZE);
  if (sqlite3_column_bytes (stmt, 6) == PV_HASH_SIZE)
    memcpy (record->hash, sqlite3_column_blob (stmt, 6), PV_HASH_SIZE);
}

/* The devices holding records, by index seeks rather than a scan of
 * every record: a replica has dozens of authors and millions of records. */
static GArray *
list_devices (PvStore *store, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "WITH RECURSIVE d (id) AS ("
                                         "  SELECT min(device_id) FROM records"
                                         "  UNION ALL"
                                         "  SELECT (SELECT min(device_id) FROM records WHERE device_id > d.id)"
                                         "  FROM d WHERE d.id IS NOT NULL) "
                                         "SELECT id FROM d WHERE id IS NOT NULL",
                                         error);
  g_autoptr (GArray) devices = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  devices = g_array_new (FALSE, FALSE, sizeof (guint16));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint16 id = (guint16) sqlite3_column_int (stmt, 0);
      g_array_append_val (devices, id);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the ledger"), NULL;
  return g_steal_pointer (&devices);
}

typedef struct
{
  sqlite3_stmt *stmt;
  gboolean has_row;
  PvHlc hlc;
  guint16 device_id;
} Cursor;

static gboolean
cursor_step (PvStore *store, Cursor *cursor, GError **error)
{
  int rc = sqlite3_step (cursor->stmt);

  cursor->has_row = rc == SQLITE_ROW;
  if (cursor->has_row)
    cursor->hlc = (PvHlc) sqlite3_column_int64 (cursor->stmt, 2);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot read the ledger");
}

/* The records of @store beyond @vector (all of them when NULL), in
 * canonical order. */
static gboolean
foreach_after (PvStore *store, GHashTable *vector, PvRecordFunc func, gpointer user_data,
               GError **error)
{
  g_autoptr (GArray) devices = list_devices (store, error);
  g_autofree Cursor *cursors = NULL;
  gboolean ok = TRUE;

  if (devices == NULL)
    return FALSE;
  /* Each device's records come in seq order from its primary key; merging
   * those streams by (hlc, device) gives the canonical order without an
   * index over the whole ledger that every append would have to update.
   * Private statements: @func may use the store's cache re-entrantly. */
  cursors = g_new0 (Cursor, devices->len);
  for (guint i = 0; ok && i < devices->len; i++)
    {
      cursors[i].device_id = g_array_index (devices, guint16, i);
      ok = sqlite3_prepare_v2 (pv_store_get_db (store),
                               "SELECT device_id, seq, hlc, kind, body, prev, hash FROM records "
                               "WHERE device_id = ?1 AND seq > ?2 ORDER BY seq",
                               -1, &cursors[i].stmt, NULL)
           == SQLITE_OK;
      if (!ok)
        pv_store_fail (store, error, "Cannot read the ledger");
      else
        {
          guint64 *held = vector ? g_hash_table_lookup (vector, GUINT_TO_POINTER (cursors[i].device_id)) : NULL;

          sqlite3_bind_int (cursors[i].stmt, 1, cursors[i].device_id);
          sqlite3_bind_int64 (cursors[i].stmt, 2, held ? (sqlite3_int64) *held : 0);
          ok = cursor_step (store, &cursors[i], error);
        }
    }

  while (ok)
    {
      Cursor *next = NULL;
      PvRecord record;

      for (guint i = 0; i < devices->len; i++)
        if (cursors[i].has_row
            && (next == NULL || cursors[i].hlc < next->hlc
                || (cursors[i].hlc == next->hlc && cursors[i].device_id < next->device_id)))
          next = &cursors[i];
      if (next == NULL)
        break;
      record_from_row (next->stmt, &record);
      ok = func (&record, user_data, error);
      g_bytes_unref (record.body);
      ok = ok && cursor_step (store, next, error);
    }

  for (guint i = 0; i < devices->len; i++)
    sqlite3_finalize (cursors[i].stmt);
  return ok;
}

gboolean
pv_ledger_foreach (PvStore *store, PvRecordFunc func, gpointer user_data, GError **error)
{
  return foreach_after (store, NULL, func, user_data, error);
}

GHashTable *
pv_ledger_version_vector (PvStore *store, GError **error)
{
  g_autoptr (GArray) devices = list_devices (store, error);
  g_autoptr (GHashTable) vector = NULL;

  if (devices == NULL)
    return NULL;
  vector = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  for (guint i = 0; i < devices->len; i++)
    {
      guint16 id = g_array_index (devices, guint16, i);
      guint64 *seq = g_new (guint64, 1);
      guint8 hash[PV_HASH_SIZE];

      if (!chain_head (store, id, seq, hash, NULL, error))
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
pv_ledger_sign_own_head (PvStore *store, PvHead *out, GError **error)
{
  guint8 message[4 + 2 + 8 + PV_HASH_SIZE];
  guint8 sk[PV_SECRET_KEY_SIZE];

  memset (out, 0, sizeof *out);
  out->device_id = pv_store_get_device_id (store);
  if (out->device_id == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED,
                        "%s has no device identity to sign with", pv_store_get_path (store)),
           FALSE;
  if (!pv_devices_get_secret_key (store, sk, error))
    return FALSE;
  if (!chain_head (store, out->device_id, &out->seq, out->hash, NULL, error))
    {
      sodium_memzero (sk, sizeof sk);
      return FALSE;
    }
  head_message (out, message);
  crypto_sign_detached (out->signature, NULL, message, sizeof message, sk);
  sodium_memzero (sk, sizeof sk);
  return out->seq > 0 || (g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED, "%s has written no records yet", pv_store_get_path (store)), FALSE);
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

typedef struct
{
  PvHead head;
  gboolean verified; /* the record at head.seq was seen and the signature holds */
} AuthorHead;

typedef struct
{
  PvStore *store;
  PvStore *other;
  GHashTable *excluded; /* authors refused in an earlier attempt */
  guint16 failed;       /* the author whose record ended this attempt */
  GHashTable *authors;  /* device id → AuthorHead*: what @other can prove */
  GHashTable *forked;   /* devices whose further records are skipped */
  PvMergeStats *stats;
} MergeContext;

/* Called when the record at the author's signed head has been applied (or
 * found already held): only now is the author's key surely known, since its
 * enrolment may be among the records of this very merge. */
static gboolean
verify_author (MergeContext *ctx, AuthorHead *author, const PvRecord *record, GError **error)
{
  const PvDeviceInfo *device = pv_store_lookup_device (ctx->store, record->device_id);

  if (memcmp (record->hash, author->head.hash, PV_HASH_SIZE) != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                        "Device %u's signed head does not match its record %" G_GUINT64_FORMAT,
                        record->device_id, record->seq),
           FALSE;
  if (device == NULL || !pv_head_verify (&author->head, device->public_key))
    return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                        "The records of device %u are not signed by device %u: refusing them",
                        record->device_id, record->device_id),
           FALSE;
  author->verified = TRUE;
  return pv_ledger_store_head (ctx->store, &author->head, error);
}

/* A fork is grave news about a device, so it is believed only when the
 * device's own signature covers the second history: its head verifies, and
 * @other's records link from the forked one up to that head. */
static gboolean
verify_fork (MergeContext *ctx, AuthorHead *author, const PvRecord *forked, GError **error)
{
  const PvDeviceInfo *device = pv_store_lookup_device (ctx->store, forked->device_id);
  sqlite3_stmt *stmt = NULL;
  guint8 expected[PV_HASH_SIZE];
  guint64 last_seq = 0;
  gboolean linked = TRUE;
  int rc;

  if (device == NULL || !pv_head_verify (&author->head, device->public_key))
    goto forged;
  if (sqlite3_prepare_v2 (pv_store_get_db (ctx->other),
                          "SELECT device_id, seq, hlc, kind, body, prev, hash FROM records "
                          "WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
                          -1, &stmt, NULL)
      != SQLITE_OK)
    return pv_store_fail (ctx->other, error, "Cannot read the ledger");
  sqlite3_bind_int (stmt, 1, forked->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) forked->seq);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) author->head.seq);
  memcpy (expected, forked->prev, PV_HASH_SIZE);
  while (linked && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvRecord record;
      guint8 hash[PV_HASH_SIZE];

      record_from_row (stmt, &record);
      pv_record_compute_hash (&record, hash);
      linked = memcmp (hash, record.hash, PV_HASH_SIZE) == 0
               && memcmp (record.prev, expected, PV_HASH_SIZE) == 0
               && record.seq == (last_seq ? last_seq + 1 : forked->seq);
      memcpy (expected, record.hash, PV_HASH_SIZE);
      last_seq = record.seq;
      g_bytes_unref (record.body);
    }
  sqlite3_finalize (stmt);
  if (linked && last_seq == author->head.seq && memcmp (expected, author->head.hash, PV_HASH_SIZE) == 0)
    return TRUE;

forged:
  return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                      "%s holds a second record %u/%" G_GUINT64_FORMAT
                      " that device %u did not sign: refusing it",
                      pv_store_get_path (ctx->other), forked->device_id, forked->seq,
                      forked->device_id),
         FALSE;
}

/* @other's record (device, seq) into @out (body owned by the caller). */
static gboolean
read_record (PvStore *other, guint16 device, guint64 seq, PvRecord *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (pv_store_get_db (other),
                          "SELECT device_id, seq, hlc, kind, body, prev, hash FROM records "
                          "WHERE device_id = ?1 AND seq = ?2",
                          -1, &stmt, NULL)
      != SQLITE_OK)
    return pv_store_fail (other, error, "Cannot read the ledger");
  sqlite3_bind_int (stmt, 1, device);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) seq);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record_from_row (stmt, out);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW)
    return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                        "%s vouches for records of device %u but lacks %u/%" G_GUINT64_FORMAT,
                        pv_store_get_path (other), device, device, seq),
           FALSE;
  return TRUE;
}

/* @other holds, for device @author, a record at @seq other than ours: a
 * fork, if the author's own signature covers it. Its record is kept as
 * evidence and the author's further records are left out of this merge. */
static gboolean
take_fork_at (MergeContext *ctx, AuthorHead *author, guint64 seq, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  PvRecord record;
  gboolean ok;

  if (!read_record (ctx->other, author->head.device_id, seq, &record, error))
    return FALSE;
  ok = pv_ledger_apply (ctx->store, &record, NULL, &local_error);
  if (ok || !g_error_matches (local_error, PV_ERROR, PV_ERROR_FORK))
    {
      g_bytes_unref (record.body);
      if (ok)
        return TRUE; /* the same record after all */
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  ok = verify_fork (ctx, author, &record, error);
  g_bytes_unref (record.body);
  if (!ok)
    return FALSE;
  g_debug ("%s", local_error->message);
  ctx->stats->forks++;
  g_hash_table_add (ctx->forked, GUINT_TO_POINTER (author->head.device_id));
  return TRUE;
}

/* Before any record: what each author's head says about records this
 * replica holds already. The same hash there vouches for them (nothing to
 * fetch); another hash is a fork below this replica's version vector. */
static gboolean
check_held_heads (MergeContext *ctx, GError **error)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, ctx->authors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AuthorHead *author = value;
      guint8 held[PV_HASH_SIZE];
      gboolean is_held;

      if (g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (author->head.device_id)))
        continue;
      ctx->failed = author->head.device_id;
      if (!held_hash (ctx->store, author->head.device_id, author->head.seq, held, &is_held, error))
        return FALSE;
      if (!is_held)
        continue;
      if (memcmp (held, author->head.hash, PV_HASH_SIZE) != 0)
        {
          if (!take_fork_at (ctx, author, author->head.seq, error))
            return FALSE;
          continue;
        }
      {
        const PvDeviceInfo *device = pv_store_lookup_device (ctx->store, author->head.device_id);
        if (device == NULL || !pv_head_verify (&author->head, device->public_key))
          return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                              "The records of device %u are not signed by device %u: refusing them",
                              author->head.device_id, author->head.device_id),
                 FALSE;
        author->verified = TRUE;
        if (!pv_ledger_store_head (ctx->store, &author->head, error))
          return FALSE;
      }
    }
  ctx->failed = 0;
  return TRUE;
}

static gboolean
merge_one (const PvRecord *record, gpointer user_data, GError **error)
{
  MergeContext *ctx = user_data;
  g_autoptr (GError) local_error = NULL;
  AuthorHead *author = g_hash_table_lookup (ctx->authors, GUINT_TO_POINTER (record->device_id));
  gboolean is_new;

  if (g_hash_table_contains (ctx->forked, GUINT_TO_POINTER (record->device_id))
      || g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (record->device_id)))
    return TRUE;
  ctx->failed = record->device_id;
  /* What no signature covers is not passed on: it waits for the next merge. */
  if (author == NULL || record->seq > author->head.seq)
    {
      ctx->stats->unsigned_skipped++;
      return TRUE;
    }
  if (pv_ledger_apply (ctx->store, record, &is_new, &local_error))
    {
      if (is_new)
        ctx->stats->applied++;
      else
        ctx->stats->duplicates++;
      return record->seq != author->head.seq || verify_author (ctx, author, record, error);
    }
  if (g_error_matches (local_error, PV_ERROR, PV_ERROR_CHAIN) && record->seq > 1)
    {
      guint8 held[PV_HASH_SIZE];
      gboolean is_held;

      /* The next record does not follow ours: the two histories parted
       * at or before the last record we hold, which @other has differently. */
      if (!held_hash (ctx->store, record->device_id, record->seq - 1, held, &is_held, error))
        return FALSE;
      if (is_held && memcmp (held, record->prev, PV_HASH_SIZE) != 0)
        return take_fork_at (ctx, author, record->seq - 1, error);
    }
  if (g_error_matches (local_error, PV_ERROR, PV_ERROR_FORK))
    {
      if (!verify_fork (ctx, author, record, error))
        return FALSE;
      g_debug ("%s", local_error->message);
      ctx->stats->forks++;
      g_hash_table_add (ctx->forked, GUINT_TO_POINTER (record->device_id));
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* Names and phone numbers come without a signature of their own; what
 * vouches for them is the salted digest inside the ticket record, which is
 * signed. So a row is taken only when its ticket is held and the digest of
 * the row matches: a replica cannot plant or change anybody's details. */
static gboolean
merge_people (PvStore *store, PvStore *other, PvMergeStats *stats, GError **error)
{
  sqlite3_stmt *read = NULL;
  sqlite3_stmt *digest_of, *write;
  int rc;

  write = pv_store_prepare (store,
                            "INSERT OR IGNORE INTO people (issuer, serial, name, phone, salt) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)",
                            error);
  if (write == NULL)
    return FALSE;
  if (sqlite3_prepare_v2 (pv_store_get_db (other),
                          "SELECT issuer, serial, name, phone, salt FROM people", -1, &read,
                          NULL)
      != SQLITE_OK)
    return pv_store_fail (other, error, "Cannot read personal data");
  while ((rc = sqlite3_step (read)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (read, 2);
      const char *phone = (const char *) sqlite3_column_text (read, 3);
      guint8 digest[PV_PII_DIGEST_SIZE];
      gboolean vouched = FALSE;

      if (name == NULL || phone == NULL || sqlite3_column_bytes (read, 4) != PV_PII_SALT_SIZE)
        continue;
      pv_tickets_pii_digest (sqlite3_column_blob (read, 4), name, phone, digest);
      digest_of = pv_store_prepare (store,
                                    "SELECT pii_digest FROM tickets WHERE issuer = ?1 AND serial = ?2",
                                    error);
      if (digest_of == NULL)
        goto fail;
      sqlite3_bind_int64 (digest_of, 1, sqlite3_column_int64 (read, 0));
      sqlite3_bind_int64 (digest_of, 2, sqlite3_column_int64 (read, 1));
      if (sqlite3_step (digest_of) == SQLITE_ROW && sqlite3_column_bytes (digest_of, 0) == sizeof digest)
        vouched = sodium_memcmp (sqlite3_column_blob (digest_of, 0), digest, sizeof digest) == 0;
      sqlite3_reset (digest_of);
      if (!vouched)
        {
          stats->people_refused++;
          continue;
        }

      for (int i = 0; i < 2; i++)
        sqlite3_bind_int64 (write, i + 1, sqlite3_column_int64 (read, i));
      sqlite3_bind_text (write, 3, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (write, 4, phone, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (write, 5, sqlite3_column_blob (read, 4), PV_PII_SALT_SIZE, SQLITE_TRANSIENT);
      if (!pv_store_step_done (store, write, error))
        goto fail;
      stats->people += (guint64) sqlite3_changes (pv_store_get_db (store));
    }
  sqlite3_finalize (read);
  if (rc != SQLITE_DONE)
    return pv_store_fail (other, error, "Cannot read personal data");
  return TRUE;

fail:
  sqlite3_finalize (read);
  return FALSE;
}

/* Refuses to mix two events' ledgers before a single record is read: their
 * device numbers overlap, so the records would look like forks. */
static gboolean
same_event (PvStore *store, PvStore *other, GError **error)
{
  g_autoptr (GError) mine_error = NULL;
  PvEvent *theirs = pv_store_get_event (other, error);
  PvEvent *mine;

  if (theirs == NULL)
    return FALSE;
  mine = pv_store_get_event (store, &mine_error);
  if (mine == NULL)
    {
      if (g_error_matches (mine_error, PV_ERROR, PV_ERROR_NOT_INITIALIZED))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&mine_error));
      return FALSE;
    }
  if (pv_event_get_id (mine) != pv_event_get_id (theirs)
      || memcmp (pv_event_get_public_key (mine), pv_event_get_public_key (theirs),
                 PV_PUBLIC_KEY_SIZE)
           != 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT,
                        "%s holds event “%s” (%08x), %s holds “%s” (%08x): not the same event",
                        pv_store_get_path (other), pv_event_get_name (theirs),
                        pv_event_get_id (theirs), pv_store_get_path (store),
                        pv_event_get_name (mine), pv_event_get_id (mine)),
           FALSE;
  return TRUE;
}

/* One attempt at a merge, in one transaction: FALSE with ctx->failed set
 * when a record of that author was refused. */
static gboolean
merge_attempt (MergeContext *ctx, GArray *heads, GError **error)
{
  const PvDeviceInfo *self_device;
  GHashTableIter iter;
  gpointer value;
  gboolean keep_people;

  g_hash_table_remove_all (ctx->authors);
  g_hash_table_remove_all (ctx->forked);
  memset (ctx->stats, 0, G_STRUCT_OFFSET (PvMergeStats, refused_authors));
  for (guint i = 0; i < heads->len; i++)
    {
      AuthorHead *author = g_new0 (AuthorHead, 1);
      author->head = g_array_index (heads, PvHead, i);
      g_hash_table_insert (ctx->authors, GUINT_TO_POINTER (author->head.device_id), author);
    }

  ctx->failed = 0;
  if (!pv_store_begin (ctx->store, TRUE, error))
    return FALSE;
  /* Only what this replica lacks is read: records beyond its version vector,
   * after the heads have vouched for (or forked from) what it holds. */
  {
    g_autoptr (GHashTable) vector = pv_ledger_version_vector (ctx->store, error);

    if (vector == NULL || !check_held_heads (ctx, error)
        || !foreach_after (ctx->other, vector, merge_one, ctx, error))
      goto fail;
  }
  ctx->failed = 0;
  g_hash_table_iter_init (&iter, ctx->authors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AuthorHead *author = value;
      guint16 id = author->head.device_id;

      if (!author->verified && !g_hash_table_contains (ctx->forked, GUINT_TO_POINTER (id))
          && !g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (id)))
        {
          ctx->failed = id;
          g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                       "%s vouches for records of device %u up to %" G_GUINT64_FORMAT
                       " but does not hold them",
                       pv_store_get_path (ctx->other), id, author->head.seq);
          goto fail;
        }
    }
  /* Gates never hold names or phone numbers. */
  self_device = pv_store_lookup_device (ctx->store, pv_store_get_device_id (ctx->store));
  keep_people = self_device == NULL || self_device->role != PV_ROLE_GATE;
  if (keep_people && !merge_people (ctx->store, ctx->other, ctx->stats, error))
    goto fail;
  if (!pv_store_commit (ctx->store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (ctx->store))
    pv_store_rollback (ctx->store);
  return FALSE;
}

gboolean
pv_ledger_merge (PvStore *store, PvStore *other, PvMergeStats *stats, GError **error)
{
  g_autoptr (GHashTable) forked = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) authors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GHashTable) excluded = g_hash_table_new (NULL, NULL);
  g_autoptr (GArray) heads = NULL;
  PvMergeStats local_stats = { 0 };
  MergeContext ctx = { store, other, excluded, 0, authors, forked, stats ? stats : &local_stats };

  memset (ctx.stats, 0, sizeof *ctx.stats);
  if (!same_event (store, other, error) || !(heads = pv_ledger_get_heads (other, error)))
    return FALSE;

  /* One author's bad record must not stop everybody else's: the attempt is
   * rolled back, that author left out, and the merge tried again. Records
   * that depend on the author (devices it enrolled) fall out the same way. */
  for (;;)
    {
      g_autoptr (GError) attempt_error = NULL;

      if (merge_attempt (&ctx, heads, &attempt_error))
        return TRUE;
      if (ctx.failed == 0 || g_error_matches (attempt_error, PV_ERROR, PV_ERROR_STORE)
          || g_hash_table_contains (excluded, GUINT_TO_POINTER (ctx.failed)))
        {
          g_propagate_error (error, g_steal_pointer (&attempt_error));
          return FALSE;
        }
      g_debug ("Leaving out device %u: %s", ctx.failed, attempt_error->message);
      if (ctx.stats->refused_authors == 0)
        g_strlcpy (ctx.stats->refused_reason, attempt_error->message, sizeof ctx.stats->refused_reason);
      ctx.stats->refused_authors++;
      g_hash_table_add (excluded, GUINT_TO_POINTER (ctx.failed));
    }
}
