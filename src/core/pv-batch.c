/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-batch.c: batches of records, collecting one from a store for what
 * another replica lacks, and the merge engine that applies one — the same
 * code for a file-to-file merge and for records off the network. */
#include "pv-batch.h"

#include <sodium.h>
#include <stdarg.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-ledger-private.h"
#include "pv-records-private.h"
#include "pv-store-private.h"
#include "pv-ticket-code.h"

/* Sections: PvPerson and PvBatch; collecting; applying; file merge. */

void
pv_person_digest (const guint8 salt[PV_PII_SALT_SIZE], const char *name, const char *phone,
                  guint8 out[PV_PII_DIGEST_SIZE])
{
  crypto_generichash_state state;

  crypto_generichash_init (&state, salt, PV_PII_SALT_SIZE, PV_PII_DIGEST_SIZE);
  crypto_generichash_update (&state, (const guint8 *) name, strlen (name) + 1);
  crypto_generichash_update (&state, (const guint8 *) phone, strlen (phone) + 1);
  crypto_generichash_final (&state, out, PV_PII_DIGEST_SIZE);
}

PvPerson *
pv_person_new (guint16 issuer,
               guint32 serial,
               const char *name,
               const char *phone,
               const guint8 salt[PV_PII_SALT_SIZE])
{
  PvPerson *person = g_new0 (PvPerson, 1);

  person->issuer = issuer;
  person->serial = serial;
  person->name = g_strdup (name ? name : "");
  person->phone = g_strdup (phone ? phone : "");
  memcpy (person->salt, salt, PV_PII_SALT_SIZE);
  return person;
}

PvPerson *
pv_person_copy (const PvPerson *person)
{
  return pv_person_new (person->issuer, person->serial, person->name, person->phone, person->salt);
}

void
pv_person_free (PvPerson *person)
{
  if (person == NULL)
    return;
  g_free (person->name);
  g_free (person->phone);
  g_free (person);
}

PvBatch *
pv_batch_new (guint32 event_id)
{
  PvBatch *batch = g_new0 (PvBatch, 1);

  batch->event_id = event_id;
  batch->records = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_record_free);
  batch->heads = g_array_new (FALSE, TRUE, sizeof (PvHead));
  batch->people = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_person_free);
  return batch;
}

void
pv_batch_free (PvBatch *batch)
{
  if (batch == NULL)
    return;
  g_ptr_array_unref (batch->records);
  g_array_unref (batch->heads);
  g_ptr_array_unref (batch->people);
  g_free (batch);
}

void
pv_batch_add_record (PvBatch *batch, const PvRecord *record)
{
  g_return_if_fail (batch != NULL && record != NULL);
  g_ptr_array_add (batch->records, pv_record_copy (record));
}

void
pv_batch_add_head (PvBatch *batch, const PvHead *head)
{
  g_return_if_fail (batch != NULL && head != NULL);
  g_array_append_val (batch->heads, *head);
}

void
pv_batch_add_person (PvBatch *batch, const PvPerson *person)
{
  g_return_if_fail (batch != NULL && person != NULL);
  g_ptr_array_add (batch->people, pv_person_copy (person));
}

void
pv_merge_stats_add (PvMergeStats *into, const PvMergeStats *from)
{
  into->applied += from->applied;
  into->duplicates += from->duplicates;
  into->forks += from->forks;
  into->unsigned_skipped += from->unsigned_skipped;
  into->people += from->people;
  into->people_refused += from->people_refused;
  if (into->refused_authors == 0 && from->refused_authors > 0)
    g_strlcpy (into->refused_reason, from->refused_reason, sizeof into->refused_reason);
  into->refused_authors += from->refused_authors;
}

/* Collecting */

/* Per author in a page being collected. */
typedef struct
{
  guint64 first; /* first and last seq in the page */
  guint64 last;
  guint64 boundary; /* once the page is full: the seq it must reach, 0 if none */
} PageAuthor;

typedef struct
{
  PvStore *store;
  PvBatch *batch;
  GHashTable *authors; /* device id → PageAuthor* */
  guint16 self;
  guint limit;
  guint open; /* authors short of their boundary */
  gboolean full;
  gboolean stopped;
} Collect;

/* The seq of @device's stored head nearest to @seq: the least at or above
 * it when @above, else the greatest at or below; 0 when there is none. */
static gboolean
stored_head_near (PvStore *store, guint16 device, guint64 seq, gboolean above, PvHead *out, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         above ? "SELECT seq, hash, signature FROM signed_heads "
                                                 "WHERE device_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT 1"
                                               : "SELECT seq, hash, signature FROM signed_heads "
                                                 "WHERE device_id = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT 1",
                                         error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  memset (out, 0, sizeof *out);
  out->device_id = device;
  sqlite3_bind_int (stmt, 1, device);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) MIN (seq, (guint64) G_MAXINT64));
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_bytes (stmt, 1) == PV_HASH_SIZE
      && sqlite3_column_bytes (stmt, 2) == PV_SIGNATURE_SIZE)
    {
      out->seq = (guint64) sqlite3_column_int64 (stmt, 0);
      memcpy (out->hash, sqlite3_column_blob (stmt, 1), PV_HASH_SIZE);
      memcpy (out->signature, sqlite3_column_blob (stmt, 2), PV_SIGNATURE_SIZE);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read signed heads");
  return TRUE;
}

/* The page is full: every author in it must still reach a point its
 * signature covers. This replica signs its own records anywhere; another
 * author's only up to a head it signed, so the page runs on to that. */
static gboolean
set_boundaries (Collect *c, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  c->full = TRUE;
  g_hash_table_iter_init (&iter, c->authors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      PageAuthor *author = value;
      guint16 device = (guint16) GPOINTER_TO_UINT (key);
      PvHead head;

      if (device == c->self)
        author->boundary = author->last;
      else
        {
          if (!stored_head_near (c->store, device, author->last, TRUE, &head, error))
            return FALSE;
          author->boundary = head.seq;
        }
      if (author->boundary > author->last)
        c->open++;
    }
  return TRUE;
}

static gboolean
collect_one (const PvRecord *record, gpointer user_data, GError **error)
{
  Collect *c = user_data;
  PageAuthor *author = g_hash_table_lookup (c->authors, GUINT_TO_POINTER (record->device_id));

  if (c->full)
    {
      if (author == NULL || author->boundary <= author->last || c->batch->records->len >= PV_BATCH_MAX_RECORDS)
        {
          c->batch->more = TRUE;
          /* Nothing more can join once every author has reached its point. */
          c->stopped = c->open == 0 || c->batch->records->len >= PV_BATCH_MAX_RECORDS;
          return !c->stopped;
        }
      author->last = record->seq;
      if (author->last == author->boundary)
        c->open--;
      pv_batch_add_record (c->batch, record);
      return TRUE;
    }

  if (author == NULL)
    {
      author = g_new0 (PageAuthor, 1);
      author->first = record->seq;
      g_hash_table_insert (c->authors, GUINT_TO_POINTER (record->device_id), author);
    }
  author->last = record->seq;
  pv_batch_add_record (c->batch, record);
  if (c->batch->records->len >= c->limit)
    return set_boundaries (c, error);
  return TRUE;
}

/* Leaves out @device's records above @seq: what no signature covers. */
static void
trim_author (PvBatch *batch, guint16 device, guint64 seq)
{
  guint kept = 0;

  for (guint i = 0; i < batch->records->len; i++)
    {
      PvRecord *record = batch->records->pdata[i];

      if (record->device_id == device && record->seq > seq)
        pv_record_free (record);
      else
        batch->records->pdata[kept++] = record;
    }
  /* The freed pointers are gone from the array before it shrinks. */
  for (guint i = kept; i < batch->records->len; i++)
    batch->records->pdata[i] = NULL;
  g_ptr_array_set_free_func (batch->records, NULL);
  g_ptr_array_set_size (batch->records, kept);
  g_ptr_array_set_free_func (batch->records, (GDestroyNotify) pv_record_free);
}

/* The head vouching for each author's records in the page. */
static gboolean
add_page_heads (Collect *c, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, c->authors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      PageAuthor *author = value;
      guint16 device = (guint16) GPOINTER_TO_UINT (key);
      PvHead head;

      if (device == c->self)
        {
          guint8 hash[PV_HASH_SIZE];
          gboolean held;

          if (!_pv_ledger_held_hash (c->store, device, author->last, hash, &held, error)
              || !_pv_ledger_sign_head_at (c->store, author->last, hash, &head, error))
            return FALSE;
        }
      else if (!stored_head_near (c->store, device, author->last, FALSE, &head, error))
        return FALSE;
      if (head.seq < author->last)
        {
          /* Records this replica holds without a head over them (applied
           * one by one by a caller that vouched for them) are not passed on. */
          trim_author (c->batch, device, head.seq);
          if (head.seq < author->first)
            continue;
        }
      pv_batch_add_head (c->batch, &head);
    }
  return TRUE;
}

/* Heads of authors the receiver already holds records of, so it can check
 * they are the records this replica holds: a fork below its vector shows. */
static gboolean
add_held_heads (Collect *c, GHashTable *vector, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  if (vector == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint16 device = (guint16) GPOINTER_TO_UINT (key);
      guint64 seq = *(guint64 *) value;
      PvHead head;

      if (seq == 0 || seq >= G_MAXINT64 || g_hash_table_contains (c->authors, key))
        continue;
      if (device == c->self)
        {
          guint8 hash[PV_HASH_SIZE];
          guint64 newest;
          gboolean held;

          if (!_pv_ledger_chain_head (c->store, device, &newest, hash, NULL, error)
              || !_pv_ledger_held_hash (c->store, device, MIN (seq, newest), hash, &held, error))
            return FALSE;
          if (!held || !_pv_ledger_sign_head_at (c->store, MIN (seq, newest), hash, &head, error))
            continue;
        }
      else if (!stored_head_near (c->store, device, seq, FALSE, &head, error))
        return FALSE;
      if (head.seq > 0)
        pv_batch_add_head (c->batch, &head);
    }
  return TRUE;
}

static gboolean
add_person (Collect *c, sqlite3_stmt *stmt, guint16 issuer, guint32 serial)
{
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_bytes (stmt, 2) == PV_PII_SALT_SIZE)
    {
      g_autoptr (PvPerson) person = pv_person_new (issuer, serial,
                                                   (const char *) sqlite3_column_text (stmt, 0),
                                                   (const char *) sqlite3_column_text (stmt, 1),
                                                   sqlite3_column_blob (stmt, 2));
      g_ptr_array_add (c->batch->people, g_steal_pointer (&person));
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* The people of the page's tickets, and those the receiver asked for. */
static gboolean
add_people (Collect *c, GArray *people_wanted, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (c->store,
                                         "SELECT name, phone, salt FROM people "
                                         "WHERE issuer = ?1 AND serial = ?2",
                                         error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < c->batch->records->len; i++)
    {
      const PvRecord *record = c->batch->records->pdata[i];
      g_autoptr (GVariant) body = NULL;
      const char *code;
      PvTicket ticket;

      if (record->kind != PV_RECORD_TICKET_ISSUED || !(body = pv_record_dup_body (record, NULL)))
        continue;
      g_variant_get_child (body, 0, "&s", &code);
      if (pv_ticket_parse (code, -1, &ticket, NULL))
        add_person (c, stmt, ticket.issuer, ticket.serial);
    }
  for (guint i = 0; people_wanted && i < people_wanted->len && c->batch->people->len < PV_BATCH_MAX_RECORDS; i++)
    {
      guint64 key = g_array_index (people_wanted, guint64, i);

      add_person (c, stmt, (guint16) (key >> 32), (guint32) key);
    }
  return TRUE;
}

PvBatch *
pv_batch_collect (PvStore *store,
                  GHashTable *vector,
                  guint limit,
                  gboolean with_people,
                  GArray *people_wanted,
                  GError **error)
{
  g_autoptr (GHashTable) authors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (PvBatch) batch = NULL;
  guint32 event_id = pv_store_get_event_id (store);
  Collect c = { 0 };
  gboolean ok;

  if (event_id == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED, "%s belongs to no event",
                        pv_store_get_path (store)),
           NULL;
  batch = pv_batch_new (event_id);
  c = (Collect){ store, batch, authors, pv_store_get_device_id (store),
                 limit == 0 ? PV_BATCH_PAGE : MIN (limit, PV_BATCH_MAX_RECORDS) };
  /* One read transaction: the page, its heads and people agree. */
  if (!pv_store_begin (store, FALSE, error))
    return NULL;
  ok = _pv_records_foreach_after (store, vector, collect_one, &c, &local_error);
  if (!ok && c.stopped && local_error == NULL)
    ok = TRUE;
  ok = ok && add_page_heads (&c, &local_error) && add_held_heads (&c, vector, &local_error)
       && (!with_people || add_people (&c, people_wanted, &local_error));
  pv_store_commit (store, NULL);
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&batch);
}

/* Applying */

typedef struct
{
  PvHead head;
  gboolean verified;  /* the record at head.seq was seen and the signature holds */
  GPtrArray *records; /* the batch's records of this author, by seq (borrowed) */
} AuthorHead;

static void
author_head_free (AuthorHead *author)
{
  g_ptr_array_unref (author->records);
  g_free (author);
}

typedef struct
{
  PvStore *store;
  const PvBatch *batch;
  GHashTable *excluded; /* authors refused in an earlier attempt */
  guint16 failed;       /* the author whose record ended this attempt */
  GHashTable *authors;  /* device id → AuthorHead*: what the batch can prove */
  GHashTable *forked;   /* devices whose further records are skipped */
  GHashTable *wanted;   /* device id → guint64*: ask again from after this seq */
  PvMergeStats *stats;
  gboolean keep_people; /* gates never hold names or phone numbers */
} MergeContext;

/* The batch's record (device, seq), or NULL. */
static const PvRecord *
batch_record (MergeContext *ctx, guint16 device, guint64 seq)
{
  AuthorHead *author = g_hash_table_lookup (ctx->authors, GUINT_TO_POINTER (device));
  guint lo = 0, hi;

  if (author == NULL)
    return NULL;
  hi = author->records->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const PvRecord *record = author->records->pdata[mid];

      if (record->seq == seq)
        return record;
      if (record->seq < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

static void
want_from (MergeContext *ctx, guint16 device, guint64 seq)
{
  guint64 *held = g_hash_table_lookup (ctx->wanted, GUINT_TO_POINTER (device));

  if (held == NULL)
    {
      held = g_new (guint64, 1);
      *held = seq;
      g_hash_table_insert (ctx->wanted, GUINT_TO_POINTER (device), held);
    }
  else
    *held = MIN (*held, seq);
}

/* Called when the record at the author's signed head has been applied (or
 * found already held): only now is the author's key surely known, since its
 * enrolment may be among the records of this very batch. */
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
 * the batch's records link from the forked one up to that head. */
static gboolean
verify_fork (MergeContext *ctx, AuthorHead *author, const PvRecord *forked, GError **error)
{
  const PvDeviceInfo *device = pv_store_lookup_device (ctx->store, forked->device_id);
  guint8 expected[PV_HASH_SIZE];

  if (device != NULL && pv_head_verify (&author->head, device->public_key))
    {
      gboolean linked = TRUE;

      memcpy (expected, forked->prev, PV_HASH_SIZE);
      for (guint64 seq = forked->seq; linked && seq <= author->head.seq; seq++)
        {
          const PvRecord *record = batch_record (ctx, forked->device_id, seq);
          guint8 hash[PV_HASH_SIZE];

          if (record == NULL)
            {
              want_from (ctx, forked->device_id, forked->seq - 1);
              linked = FALSE;
              break;
            }
          pv_record_compute_hash (record, hash);
          linked = memcmp (hash, record->hash, PV_HASH_SIZE) == 0
                   && memcmp (record->prev, expected, PV_HASH_SIZE) == 0;
          memcpy (expected, record->hash, PV_HASH_SIZE);
        }
      if (linked && memcmp (expected, author->head.hash, PV_HASH_SIZE) == 0)
        return TRUE;
    }
  return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                      "The batch holds a second record %u/%" G_GUINT64_FORMAT
                      " that device %u did not sign: refusing it",
                      forked->device_id, forked->seq, forked->device_id),
         FALSE;
}

/* The batch holds, for device @author, a record at @seq other than ours: a
 * fork, if the author's own signature covers it. Its record is kept as
 * evidence and the author's further records are left out. When the batch
 * lacks that record, the next request is to start below it. */
static gboolean
take_fork_at (MergeContext *ctx, AuthorHead *author, guint64 seq, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const PvRecord *record = batch_record (ctx, author->head.device_id, seq);

  if (record == NULL)
    {
      want_from (ctx, author->head.device_id, seq - 1);
      return g_set_error (error, PV_ERROR, PV_ERROR_CHAIN,
                          "Device %u's records part from ours at %" G_GUINT64_FORMAT
                          "; asking for its history from there",
                          author->head.device_id, seq),
             FALSE;
    }
  if (_pv_ledger_apply_record (ctx->store, record, ctx->batch->checked, NULL, &local_error))
    return TRUE; /* the same record after all */
  if (!g_error_matches (local_error, PV_ERROR, PV_ERROR_FORK))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!verify_fork (ctx, author, record, error))
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
      const PvDeviceInfo *device;
      guint8 held[PV_HASH_SIZE];
      gboolean is_held;

      if (g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (author->head.device_id)))
        continue;
      ctx->failed = author->head.device_id;
      if (!_pv_ledger_held_hash (ctx->store, author->head.device_id, author->head.seq, held, &is_held, error))
        return FALSE;
      if (!is_held)
        continue;
      if (memcmp (held, author->head.hash, PV_HASH_SIZE) != 0)
        {
          if (!take_fork_at (ctx, author, author->head.seq, error))
            return FALSE;
          continue;
        }
      device = pv_store_lookup_device (ctx->store, author->head.device_id);
      if (device == NULL || !pv_head_verify (&author->head, device->public_key))
        return g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                            "The records of device %u are not signed by device %u: refusing them",
                            author->head.device_id, author->head.device_id),
               FALSE;
      author->verified = TRUE;
      if (!pv_ledger_store_head (ctx->store, &author->head, error))
        return FALSE;
    }
  ctx->failed = 0;
  return TRUE;
}

/* A new ticket record whose digest says a person belongs to it: the person
 * is asked for until some replica sends the row. */
static gboolean
want_person (MergeContext *ctx, const PvRecord *record, GError **error)
{
  g_autoptr (GVariant) body = pv_record_dup_body (record, NULL);
  g_autoptr (GVariant) digest = NULL;
  sqlite3_stmt *stmt;
  const char *code;
  PvTicket ticket;

  if (body == NULL)
    return TRUE;
  g_variant_get_child (body, 0, "&s", &code);
  digest = g_variant_get_child_value (body, 1);
  if (g_variant_n_children (digest) == 0 || !pv_ticket_parse (code, -1, &ticket, NULL))
    return TRUE;
  stmt = pv_store_prepare (ctx->store,
                           "INSERT OR IGNORE INTO people_wanted (issuer, serial) "
                           "SELECT ?1, ?2 WHERE NOT EXISTS "
                           "(SELECT 1 FROM people WHERE issuer = ?1 AND serial = ?2)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, ticket.issuer);
  sqlite3_bind_int64 (stmt, 2, ticket.serial);
  return pv_store_step_done (ctx->store, stmt, error);
}

static gboolean
merge_one (MergeContext *ctx, const PvRecord *record, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  AuthorHead *author = g_hash_table_lookup (ctx->authors, GUINT_TO_POINTER (record->device_id));
  gboolean is_new;

  if (g_hash_table_contains (ctx->forked, GUINT_TO_POINTER (record->device_id))
      || g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (record->device_id)))
    return TRUE;
  ctx->failed = record->device_id;
  /* What no signature covers is not taken: it waits for a later batch. */
  if (author->head.seq == 0 || record->seq > author->head.seq)
    {
      ctx->stats->unsigned_skipped++;
      return TRUE;
    }
  if (_pv_ledger_apply_record (ctx->store, record, ctx->batch->checked, &is_new, &local_error))
    {
      if (is_new)
        {
          ctx->stats->applied++;
          if (ctx->keep_people && record->kind == PV_RECORD_TICKET_ISSUED && !want_person (ctx, record, error))
            return FALSE;
        }
      else
        ctx->stats->duplicates++;
      return record->seq != author->head.seq || verify_author (ctx, author, record, error);
    }
  if (g_error_matches (local_error, PV_ERROR, PV_ERROR_CHAIN) && record->seq > 1)
    {
      guint8 held[PV_HASH_SIZE];
      gboolean is_held;

      /* The next record does not follow ours: the two histories parted
       * at or before the last record we hold, which the batch has differently. */
      if (!_pv_ledger_held_hash (ctx->store, record->device_id, record->seq - 1, held, &is_held, error))
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
merge_people (PvStore *store, const PvBatch *batch, PvMergeStats *stats, GError **error)
{
  sqlite3_stmt *digest_of, *write;

  for (guint i = 0; i < batch->people->len; i++)
    {
      const PvPerson *person = batch->people->pdata[i];
      guint8 digest[PV_PII_DIGEST_SIZE];
      gboolean vouched = FALSE;

      pv_person_digest (person->salt, person->name, person->phone, digest);
      digest_of = pv_store_prepare (store,
                                    "SELECT pii_digest FROM tickets WHERE issuer = ?1 AND serial = ?2",
                                    error);
      if (digest_of == NULL)
        return FALSE;
      sqlite3_bind_int (digest_of, 1, person->issuer);
      sqlite3_bind_int64 (digest_of, 2, person->serial);
      if (sqlite3_step (digest_of) == SQLITE_ROW && sqlite3_column_bytes (digest_of, 0) == sizeof digest)
        vouched = sodium_memcmp (sqlite3_column_blob (digest_of, 0), digest, sizeof digest) == 0;
      sqlite3_reset (digest_of);
      if (!vouched)
        {
          stats->people_refused++;
          continue;
        }
      write = pv_store_prepare (store,
                                "INSERT OR IGNORE INTO people (issuer, serial, name, phone, salt) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)",
                                error);
      if (write == NULL)
        return FALSE;
      sqlite3_bind_int (write, 1, person->issuer);
      sqlite3_bind_int64 (write, 2, person->serial);
      sqlite3_bind_text (write, 3, person->name, -1, SQLITE_STATIC);
      sqlite3_bind_text (write, 4, person->phone, -1, SQLITE_STATIC);
      sqlite3_bind_blob (write, 5, person->salt, PV_PII_SALT_SIZE, SQLITE_STATIC);
      if (!pv_store_step_done (store, write, error))
        return FALSE;
      stats->people += (guint64) sqlite3_changes (pv_store_get_db (store));
      write = pv_store_prepare (store, "DELETE FROM people_wanted WHERE issuer = ?1 AND serial = ?2", error);
      if (write == NULL)
        return FALSE;
      sqlite3_bind_int (write, 1, person->issuer);
      sqlite3_bind_int64 (write, 2, person->serial);
      if (!pv_store_step_done (store, write, error))
        return FALSE;
    }
  return TRUE;
}

/* Canonical order: by time stamp, then author, then seq. */
static int
compare_canonical (gconstpointer a, gconstpointer b)
{
  const PvRecord *x = *(const PvRecord *const *) a, *y = *(const PvRecord *const *) b;

  if (x->hlc != y->hlc)
    return x->hlc < y->hlc ? -1 : 1;
  if (x->device_id != y->device_id)
    return x->device_id < y->device_id ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every author of the batch, with its head (seq 0 when it has none) and its
 * records by seq; FALSE when one author's records repeat a seq. */
static gboolean
index_authors (MergeContext *ctx, GError **error)
{
  for (guint i = 0; i < ctx->batch->heads->len; i++)
    {
      const PvHead *head = &g_array_index (ctx->batch->heads, PvHead, i);
      AuthorHead *author;

      if (g_hash_table_contains (ctx->authors, GUINT_TO_POINTER (head->device_id)))
        return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                            "The batch carries two heads for device %u", head->device_id),
               FALSE;
      author = g_new0 (AuthorHead, 1);
      author->head = *head;
      author->records = g_ptr_array_new ();
      g_hash_table_insert (ctx->authors, GUINT_TO_POINTER (head->device_id), author);
    }
  for (guint i = 0; i < ctx->batch->records->len; i++)
    {
      PvRecord *record = ctx->batch->records->pdata[i];
      AuthorHead *author = g_hash_table_lookup (ctx->authors, GUINT_TO_POINTER (record->device_id));

      if (author == NULL)
        {
          author = g_new0 (AuthorHead, 1);
          author->head.device_id = record->device_id;
          author->records = g_ptr_array_new ();
          g_hash_table_insert (ctx->authors, GUINT_TO_POINTER (record->device_id), author);
        }
      if (author->records->len > 0
          && ((const PvRecord *) g_ptr_array_index (author->records, author->records->len - 1))->seq >= record->seq)
        return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                            "The records of device %u in the batch are not in rising order at %" G_GUINT64_FORMAT,
                            record->device_id, record->seq),
               FALSE;
      g_ptr_array_add (author->records, record);
    }
  return TRUE;
}

/* Attempts at a batch before it is refused whole (see below). */
#define MAX_ATTEMPTS 16

static void
refuse_author (MergeContext *ctx, guint16 device, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
refuse_author (MergeContext *ctx, guint16 device, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("Leaving out device %u: %s", device, reason);
  if (ctx->stats->refused_authors == 0)
    g_strlcpy (ctx->stats->refused_reason, reason, sizeof ctx->stats->refused_reason);
  ctx->stats->refused_authors++;
  g_hash_table_add (ctx->excluded, GUINT_TO_POINTER (device));
}

/* Before any attempt, the authors that can be judged at once are: a head
 * from a device this replica knows must carry its signature, and a device
 * nobody knows must be enrolled by the batch itself. Whatever fails is left
 * out without a transaction, so a batch of a thousand made-up authors costs
 * a thousand signature checks, not a thousand attempts. */
static void
screen_authors (MergeContext *ctx)
{
  g_autoptr (GHashTable) enrolled = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer key, value;

  /* Another handle on this file may have enrolled devices since. */
  if (!pv_store_in_transaction (ctx->store))
    pv_store_refresh (ctx->store);
  for (guint i = 0; i < ctx->batch->records->len; i++)
    {
      const PvRecord *record = ctx->batch->records->pdata[i];
      g_autoptr (GVariant) body = NULL;
      g_autoptr (PvDeviceCert) cert = NULL;

      if (record->kind != PV_RECORD_DEVICE_ENROLLED || !(body = pv_record_dup_body (record, NULL))
          || !(cert = pv_device_cert_new_from_variant (body, NULL)))
        continue;
      g_hash_table_add (enrolled, GUINT_TO_POINTER (cert->device_id));
    }
  g_hash_table_iter_init (&iter, ctx->authors);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      AuthorHead *author = value;
      guint16 id = (guint16) GPOINTER_TO_UINT (key);
      const PvDeviceInfo *device = pv_store_lookup_device (ctx->store, id);

      if (device == NULL && !g_hash_table_contains (enrolled, key))
        refuse_author (ctx, id, "The records of device %u come from a device this event never enrolled", id);
      else if (device != NULL && author->head.seq > 0 && !pv_head_verify (&author->head, device->public_key))
        refuse_author (ctx, id, "The records of device %u are not signed by device %u: refusing them", id, id);
    }
}

/* One attempt, in one transaction: FALSE with ctx->failed set when a record
 * of that author was refused. */
static gboolean
apply_attempt (MergeContext *ctx, GPtrArray *ordered, GError **error)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_remove_all (ctx->forked);
  g_hash_table_iter_init (&iter, ctx->authors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((AuthorHead *) value)->verified = FALSE;
  memset (ctx->stats, 0, G_STRUCT_OFFSET (PvMergeStats, refused_authors));
  ctx->keep_people = pv_replica_keeps_people (ctx->store);

  ctx->failed = 0;
  if (!pv_store_begin (ctx->store, TRUE, error))
    return FALSE;
  if (!check_held_heads (ctx, error))
    goto fail;
  for (guint i = 0; i < ordered->len; i++)
    if (!merge_one (ctx, ordered->pdata[i], error))
      goto fail;
  ctx->failed = 0;
  g_hash_table_iter_init (&iter, ctx->authors);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AuthorHead *author = value;
      guint16 id = author->head.device_id;

      if (author->head.seq > 0 && !author->verified && !g_hash_table_contains (ctx->forked, GUINT_TO_POINTER (id))
          && !g_hash_table_contains (ctx->excluded, GUINT_TO_POINTER (id)))
        {
          ctx->failed = id;
          g_set_error (error, PV_ERROR, PV_ERROR_SIGNATURE,
                       "The batch vouches for records of device %u up to %" G_GUINT64_FORMAT
                       " but does not hold them",
                       id, author->head.seq);
          goto fail;
        }
    }
  /* Known for sure only now: a new replica's own enrolment may have been
   * in this batch. */
  ctx->keep_people = pv_replica_keeps_people (ctx->store);
  if (!ctx->keep_people && !pv_store_exec (ctx->store, "DELETE FROM people_wanted", error))
    goto fail;
  if (ctx->keep_people && !merge_people (ctx->store, ctx->batch, ctx->stats, error))
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
pv_batch_apply (PvStore *store, const PvBatch *batch, PvMergeStats *stats, GHashTable **out_wanted, GError **error)
{
  g_autoptr (GHashTable) forked = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) authors = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) author_head_free);
  g_autoptr (GHashTable) excluded = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GPtrArray) ordered = NULL;
  g_autoptr (GError) mine_error = NULL;
  PvMergeStats local_stats = { 0 };
  MergeContext ctx = { store, batch, excluded, 0, authors, forked, wanted, stats ? stats : &local_stats };
  PvEvent *mine;

  memset (ctx.stats, 0, sizeof *ctx.stats);
  if (out_wanted)
    *out_wanted = NULL;
  /* Two events' device numbers overlap, so their records would look like
   * forks: refused before a single record is read. */
  mine = pv_store_get_event (store, &mine_error);
  if (mine == NULL && !g_error_matches (mine_error, PV_ERROR, PV_ERROR_NOT_INITIALIZED))
    {
      g_propagate_error (error, g_steal_pointer (&mine_error));
      return FALSE;
    }
  if (mine != NULL && pv_event_get_id (mine) != batch->event_id)
    return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT,
                        "The batch is for event %08x; %s holds “%s” (%08x)", batch->event_id,
                        pv_store_get_path (store), pv_event_get_name (mine), pv_event_get_id (mine)),
           FALSE;
  if (!index_authors (&ctx, error))
    return FALSE;
  ordered = g_ptr_array_sized_new (batch->records->len);
  for (guint i = 0; i < batch->records->len; i++)
    g_ptr_array_add (ordered, batch->records->pdata[i]);
  g_ptr_array_sort (ordered, compare_canonical);
  screen_authors (&ctx);

  /* One author's bad record must not stop everybody else's: the attempt is
   * rolled back, that author left out, and the batch tried again. Records
   * that depend on the author (devices it enrolled) fall out the same way.
   * Authors the screening could not judge are few in an honest batch; a
   * batch needing more attempts than that is refused whole. */
  for (guint attempts = 0;; attempts++)
    {
      g_autoptr (GError) attempt_error = NULL;

      if (apply_attempt (&ctx, ordered, &attempt_error))
        break;
      if (ctx.failed == 0 || g_error_matches (attempt_error, PV_ERROR, PV_ERROR_STORE)
          || g_hash_table_contains (excluded, GUINT_TO_POINTER (ctx.failed)))
        {
          g_propagate_error (error, g_steal_pointer (&attempt_error));
          return FALSE;
        }
      if (attempts >= MAX_ATTEMPTS)
        return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                            "The batch's authors were refused %u times over (the last: %s): refusing it whole",
                            attempts + 1, attempt_error->message),
               FALSE;
      g_debug ("Leaving out device %u: %s", ctx.failed, attempt_error->message);
      if (!g_hash_table_contains (wanted, GUINT_TO_POINTER (ctx.failed)))
        {
          if (ctx.stats->refused_authors == 0)
            g_strlcpy (ctx.stats->refused_reason, attempt_error->message, sizeof ctx.stats->refused_reason);
          ctx.stats->refused_authors++;
        }
      g_hash_table_add (excluded, GUINT_TO_POINTER (ctx.failed));
    }
  if (out_wanted)
    {
      /* Refused and forked authors are not asked for again. */
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, excluded);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (wanted, key))
          want_from (&ctx, (guint16) GPOINTER_TO_UINT (key), G_MAXINT64);
      g_hash_table_iter_init (&iter, forked);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_hash_table_insert (wanted, key, g_memdup2 (&(guint64){ G_MAXINT64 }, sizeof (guint64)));
      *out_wanted = g_steal_pointer (&wanted);
    }
  return TRUE;
}

/* File merge */

/* Refuses to mix two events' ledgers before a single record is read. */
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

GArray *
pv_batch_people_wanted (PvStore *store, guint max, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT issuer, serial FROM people_wanted LIMIT ?1", error);
  g_autoptr (GArray) keys = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  sqlite3_bind_int64 (stmt, 1, max);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint64 key = ((guint64) sqlite3_column_int (stmt, 0) << 32) | (guint32) sqlite3_column_int64 (stmt, 1);
      g_array_append_val (keys, key);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the people wanted"), NULL;
  return g_steal_pointer (&keys);
}

gboolean
pv_replica_keeps_people (PvStore *store)
{
  const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));

  return self == NULL || self->role != PV_ROLE_GATE;
}

gint64
pv_vector_total (GHashTable *vector)
{
  GHashTableIter iter;
  gpointer value;
  gint64 total = 0;

  /* A hostile vector may name huge numbers: the sum saturates. */
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      guint64 seq = *(guint64 *) value;

      if (seq >= G_MAXINT64)
        continue; /* "left out", not a count */
      if (seq > (guint64) (G_MAXINT64 - total))
        return G_MAXINT64;
      total += (gint64) seq;
    }
  return total;
}

gboolean
pv_vector_overlay (GHashTable *vector, GHashTable *overlay)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean changed = FALSE;

  if (overlay == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, overlay);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 *held = g_hash_table_lookup (vector, key);

      if (held == NULL || *held != *(guint64 *) value)
        changed = TRUE;
      g_hash_table_insert (vector, key, g_memdup2 (value, sizeof (guint64)));
    }
  return changed;
}

struct _PvPullPlan
{
  GHashTable *left_out; /* refused or forked: past everything */
  GHashTable *asked;    /* histories asked for once */
  GHashTable *history;  /* to ask for in the next request only */
  GHashTable *overlay;  /* what the last call handed out */
};

PvPullPlan *
pv_pull_plan_new (void)
{
  PvPullPlan *plan = g_new0 (PvPullPlan, 1);

  plan->left_out = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  plan->asked = g_hash_table_new (NULL, NULL);
  return plan;
}

void
pv_pull_plan_free (PvPullPlan *plan)
{
  if (plan == NULL)
    return;
  g_hash_table_unref (plan->left_out);
  g_hash_table_unref (plan->asked);
  g_clear_pointer (&plan->history, g_hash_table_unref);
  g_clear_pointer (&plan->overlay, g_hash_table_unref);
  g_free (plan);
}

GHashTable *
pv_pull_plan_next_overlay (PvPullPlan *plan)
{
  g_clear_pointer (&plan->overlay, g_hash_table_unref);
  plan->overlay = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  pv_vector_overlay (plan->overlay, plan->left_out);
  pv_vector_overlay (plan->overlay, plan->history);
  g_clear_pointer (&plan->history, g_hash_table_unref);
  return plan->overlay;
}

gboolean
pv_pull_plan_update (PvPullPlan *plan, GHashTable *wanted)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean changed = FALSE;

  if (wanted == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, wanted);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 from = *(guint64 *) value;

      if (g_hash_table_contains (plan->left_out, key))
        continue;
      /* A history asked for once and still not enough: left out. */
      if (from >= G_MAXINT64 || g_hash_table_contains (plan->asked, key))
        g_hash_table_insert (plan->left_out, key, g_memdup2 (&(guint64){ G_MAXINT64 }, sizeof (guint64)));
      else
        {
          if (plan->history == NULL)
            plan->history = g_hash_table_new_full (NULL, NULL, NULL, g_free);
          g_hash_table_insert (plan->history, key, g_memdup2 (&from, sizeof from));
          g_hash_table_add (plan->asked, key);
        }
      changed = TRUE;
    }
  return changed;
}

gboolean
pv_batch_merge (PvStore *store, PvStore *other, PvMergeStats *stats, GError **error)
{
  g_autoptr (PvPullPlan) plan = pv_pull_plan_new ();
  PvMergeStats local_stats = { 0 };

  stats = stats ? stats : &local_stats;
  memset (stats, 0, sizeof *stats);
  if (!same_event (store, other, error))
    return FALSE;
  for (;;)
    {
      g_autoptr (GHashTable) vector = pv_ledger_version_vector (store, error);
      g_autoptr (GHashTable) wanted = NULL;
      g_autoptr (PvBatch) batch = NULL;
      g_autoptr (GArray) people_wanted = NULL;
      PvMergeStats page = { 0 };
      gboolean keep_people = pv_replica_keeps_people (store);

      if (vector == NULL || (keep_people && !(people_wanted = pv_batch_people_wanted (store, PV_BATCH_PAGE, error))))
        return FALSE;
      pv_vector_overlay (vector, pv_pull_plan_next_overlay (plan));
      batch = pv_batch_collect (other, vector, PV_BATCH_PAGE, keep_people, people_wanted, error);
      if (batch == NULL || !pv_batch_apply (store, batch, &page, &wanted, error))
        return FALSE;
      pv_merge_stats_add (stats, &page);
      if (!pv_pull_plan_update (plan, wanted) && (!batch->more || page.applied == 0))
        return TRUE;
    }
}
