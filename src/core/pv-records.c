/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-records.c: records as values (kinds, body types, hash, copies) and
 * the records table read back in canonical order, merged from each
 * author's chain. */
#include "pv-records.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-keys.h"
#include "pv-records-private.h"
#include "pv-store-private.h"

static const char *const kind_names[] = {
  [PV_RECORD_EVENT_CONFIG] = "event-config",
  [PV_RECORD_DEVICE_ENROLLED] = "device-enrolled",
  [PV_RECORD_DEVICE_REVOKED] = "device-revoked",
  [PV_RECORD_TICKET_ISSUED] = "ticket-issued",
  [PV_RECORD_TICKET_REVOKED] = "ticket-revoked",
  [PV_RECORD_ENTRY] = "entry",
  [PV_RECORD_EXIT] = "exit",
  [PV_RECORD_DELIVERY_REQUESTED] = "delivery-requested",
  [PV_RECORD_MANUAL_ENTRY] = "manual-entry",
  [PV_RECORD_MANUAL_EXIT] = "manual-exit",
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
    case PV_RECORD_MANUAL_ENTRY:
    case PV_RECORD_MANUAL_EXIT:
      return G_VARIANT_TYPE (PV_SCAN_VARIANT_TYPE);
    case PV_RECORD_DELIVERY_REQUESTED:
      return G_VARIANT_TYPE (PV_DELIVERY_VARIANT_TYPE);
    default:
      return NULL;
    }
}

gboolean
pv_delivery_channel_is_known (const char *channel)
{
  return g_strcmp0 (channel, PV_DELIVERY_WHATSAPP) == 0 || g_strcmp0 (channel, PV_DELIVERY_SMS) == 0;
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

void
_pv_records_from_row (sqlite3_stmt *stmt, PvRecord *record)
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

/* By index seeks rather than a scan of every record: a replica has
 * dozens of authors and millions of records. */
GArray *
_pv_records_list_authors (PvStore *store, GError **error)
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

gboolean
_pv_records_foreach_after (PvStore *store, GHashTable *vector, PvRecordFunc func, gpointer user_data,
                           GError **error)
{
  g_autoptr (GArray) devices = _pv_records_list_authors (store, error);
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
      _pv_records_from_row (next->stmt, &record);
      ok = func (&record, user_data, error);
      g_bytes_unref (record.body);
      ok = ok && cursor_step (store, next, error);
    }

  for (guint i = 0; i < devices->len; i++)
    sqlite3_finalize (cursors[i].stmt);
  return ok;
}

gboolean
pv_records_foreach (PvStore *store, PvRecordFunc func, gpointer user_data, GError **error)
{
  return _pv_records_foreach_after (store, NULL, func, user_data, error);
}
