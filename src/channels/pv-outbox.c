/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-outbox.c: the hub's outbox as rows (see the header): queuing, the
 * worker's claims and outcomes, the providers' status reports, the admin's
 * view, and the desks' delivery requests turned into messages. */
#include "config.h"

#include "pv-outbox.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

/* Sections: names; queuing; the worker's side; reports and the admin's
 * side; spending; delivery requests. */

static const char *const status_names[PV_OUTBOX_N_STATUSES] = {
  [PV_OUTBOX_QUEUED] = "queued",
  [PV_OUTBOX_SENDING] = "sending",
  [PV_OUTBOX_SENT] = "sent",
  [PV_OUTBOX_DELIVERED] = "delivered",
  [PV_OUTBOX_READ] = "read",
  [PV_OUTBOX_FAILED] = "failed",
  [PV_OUTBOX_HELD] = "held",
};

const char *
pv_outbox_status_to_string (PvOutboxStatus status)
{
  return status < PV_OUTBOX_N_STATUSES ? status_names[status] : "unknown";
}

gboolean
pv_outbox_status_from_string (const char *text, PvOutboxStatus *out_status)
{
  for (guint i = 0; text != NULL && i < PV_OUTBOX_N_STATUSES; i++)
    if (g_str_equal (text, status_names[i]))
      {
        *out_status = (PvOutboxStatus) i;
        return TRUE;
      }
  return FALSE;
}

const char *
pv_outbox_kind_to_string (PvOutboxKind kind)
{
  return kind == PV_OUTBOX_TICKET ? "ticket" : kind == PV_OUTBOX_CODE ? "code"
                                                                      : "text";
}

static PvOutboxKind
kind_from_string (const char *text)
{
  return g_strcmp0 (text, "ticket") == 0 ? PV_OUTBOX_TICKET : g_strcmp0 (text, "code") == 0 ? PV_OUTBOX_CODE
                                                                                            : PV_OUTBOX_TEXT;
}

char *
pv_outbox_mask_phone (const char *phone)
{
  gsize len = phone ? strlen (phone) : 0;

  return g_strconcat ("…", len > 4 ? phone + len - 4 : "", NULL);
}

char *
pv_outbox_mask_digits (const char *text)
{
  GString *out = g_string_new (NULL);
  const char *p = text ? text : "";

  while (*p)
    {
      gsize run = strspn (p, "0123456789");

      /* Seven digits or more may be a phone: its last four only. */
      if (run >= 7)
        {
          g_string_append (out, "…");
          g_string_append_len (out, p + run - 4, 4);
        }
      else
        g_string_append_len (out, p, (gssize) MAX (run, 1));
      p += MAX (run, 1);
    }
  return g_string_free (out, FALSE);
}

void
pv_outbox_message_free (PvOutboxMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->channel);
  g_free (message->recipient);
  g_free (message->body);
  g_free (message->last_error);
  g_free (message->provider_id);
  g_free (message->media_id);
  g_free (message->otp);
  g_free (message);
}

/* ---- queuing ---- */

static gboolean
is_normal_phone (const char *phone)
{
  g_autofree char *normal = phone ? pv_normalize_phone (phone, NULL) : NULL;

  return normal != NULL && g_str_equal (normal, phone);
}

static gboolean
is_otp (const char *otp)
{
  gsize len = otp ? strlen (otp) : 0;

  return len >= 4 && len <= 10 && strspn (otp, "0123456789") == len;
}

static gboolean
enqueue (PvStore *store,
         const char *channel,
         const char *recipient,
         PvOutboxKind kind,
         const char *body,
         guint16 issuer,
         guint32 serial,
         const char *otp,
         gint64 *out_id,
         GError **error)
{
  g_autofree char *caption = NULL;
  gint64 now = pv_store_now (store);
  sqlite3_stmt *stmt;

  if (!pv_delivery_channel_is_known (channel))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "“%s” is not a channel to send by (whatsapp or sms)",
                        channel ? channel : ""),
           FALSE;
  if (!is_normal_phone (recipient))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "The recipient is not a normalised phone number (+ and digits)"),
           FALSE;
  if (kind == PV_OUTBOX_CODE && !is_otp (otp))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "A one-time code is 4 to 10 digits"), FALSE;
  if (kind == PV_OUTBOX_TICKET && (body == NULL || *body == '\0'))
    {
      /* The caption says which ticket it is; one is made when none is given. */
      if (!(caption = pv_outbox_ticket_caption (store, issuer, serial, error)))
        return FALSE;
      body = caption;
    }
  if (kind != PV_OUTBOX_TICKET && (body == NULL || *body == '\0'))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "A text message needs a text"), FALSE;
  if (!g_utf8_validate (body, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "The message is not valid UTF-8"), FALSE;

  stmt = pv_store_prepare (store,
                           "INSERT INTO outbox (channel, recipient, body, created_at, kind, issuer, serial, otp, "
                           "  status, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?4)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, recipient, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, body, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_text (stmt, 5, pv_outbox_kind_to_string (kind), -1, SQLITE_STATIC);
  if (kind == PV_OUTBOX_TICKET)
    {
      sqlite3_bind_int (stmt, 6, issuer);
      sqlite3_bind_int64 (stmt, 7, serial);
    }
  if (kind == PV_OUTBOX_CODE)
    sqlite3_bind_text (stmt, 8, otp, -1, SQLITE_STATIC);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (out_id != NULL)
    *out_id = sqlite3_last_insert_rowid (pv_store_get_db (store));
  return TRUE;
}

gboolean
pv_outbox_enqueue (PvStore *store,
                   const char *channel,
                   const char *recipient,
                   PvOutboxKind kind,
                   const char *body,
                   guint16 issuer,
                   guint32 serial,
                   gint64 *out_id,
                   GError **error)
{
  /* A code without its digits could not go as a template. */
  if (kind == PV_OUTBOX_CODE)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "A one-time code is queued with its digits"),
           FALSE;
  return enqueue (store, channel, recipient, kind, body, issuer, serial, NULL, out_id, error);
}

gboolean
pv_outbox_enqueue_code (PvStore *store,
                        const char *channel,
                        const char *recipient,
                        const char *body,
                        const char *otp,
                        gint64 *out_id,
                        GError **error)
{
  return enqueue (store, channel, recipient, PV_OUTBOX_CODE, body, 0, 0, otp, out_id, error);
}

/* ---- the worker's side ---- */

#define MESSAGE_COLUMNS                                                                                            \
  "id, channel, recipient, kind, body, issuer, serial, status, attempts, created_at, updated_at, "                 \
  "next_attempt_at, sent_at, last_error, provider_id, media_id, delivery_device, delivery_seq, otp, by_template, " \
  "sign_in"

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return sqlite3_column_type (stmt, column) == SQLITE_NULL
           ? NULL
           : g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static PvOutboxMessage *
read_message (sqlite3_stmt *stmt)
{
  PvOutboxMessage *m = g_new0 (PvOutboxMessage, 1);
  PvOutboxStatus status = PV_OUTBOX_QUEUED;

  m->id = sqlite3_column_int64 (stmt, 0);
  m->channel = column_dup (stmt, 1);
  m->recipient = column_dup (stmt, 2);
  m->kind = kind_from_string ((const char *) sqlite3_column_text (stmt, 3));
  m->body = column_dup (stmt, 4);
  m->issuer = (guint16) sqlite3_column_int (stmt, 5);
  m->serial = (guint32) sqlite3_column_int64 (stmt, 6);
  pv_outbox_status_from_string ((const char *) sqlite3_column_text (stmt, 7), &status);
  m->status = status;
  m->attempts = (guint) sqlite3_column_int (stmt, 8);
  m->created_at = sqlite3_column_int64 (stmt, 9);
  /* Rows written before the worker existed, or by a writer that knows
   * only the first columns, changed last when they were made. */
  m->updated_at = MAX (sqlite3_column_int64 (stmt, 10), m->created_at);
  m->next_attempt_at = sqlite3_column_int64 (stmt, 11);
  m->sent_at = sqlite3_column_int64 (stmt, 12);
  m->last_error = column_dup (stmt, 13);
  m->provider_id = column_dup (stmt, 14);
  m->media_id = column_dup (stmt, 15);
  m->delivery_device = (guint16) sqlite3_column_int (stmt, 16);
  m->delivery_seq = (guint64) sqlite3_column_int64 (stmt, 17);
  m->otp = column_dup (stmt, 18);
  m->by_template = sqlite3_column_int (stmt, 19) != 0;
  m->sign_in = sqlite3_column_int (stmt, 20) != 0;
  return m;
}

/* Reads the rows @stmt (bound) gives into @out; resets it. */
static gboolean
read_messages (PvStore *store, sqlite3_stmt *stmt, GPtrArray *out, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, read_message (stmt));
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot read the outbox");
}

static gboolean
set_status (PvStore *store, gint64 id, PvOutboxStatus status, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "UPDATE outbox SET status = ?2, updated_at = ?3 WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, pv_outbox_status_to_string (status), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, pv_store_now (store));
  return pv_store_step_done (store, stmt, error);
}

GPtrArray *
pv_outbox_claim (PvStore *store, const char *channel, gint64 now, guint limit, GError **error)
{
  g_autoptr (GPtrArray) claimed = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_outbox_message_free);
  sqlite3_stmt *stmt;

  if (limit == 0)
    return g_steal_pointer (&claimed);
  if (!pv_store_begin (store, TRUE, error))
    return NULL;
  stmt = pv_store_prepare (store,
                           "SELECT " MESSAGE_COLUMNS " FROM outbox "
                           "WHERE status = 'queued' AND channel = ?1 AND next_attempt_at <= ?2 "
                           "ORDER BY next_attempt_at, id LIMIT ?3",
                           error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_int64 (stmt, 3, limit);
  if (!read_messages (store, stmt, claimed, error))
    goto fail;
  for (guint i = 0; i < claimed->len; i++)
    {
      PvOutboxMessage *m = claimed->pdata[i];

      if (!set_status (store, m->id, PV_OUTBOX_SENDING, error))
        goto fail;
      m->status = PV_OUTBOX_SENDING;
    }
  if (!pv_store_commit (store, error))
    goto fail;
  return g_steal_pointer (&claimed);

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return NULL;
}

gint64
pv_outbox_next_due (PvStore *store, const char *channel, GError **error)
{
  /* One channel at a time, so the lookup is a seek in outbox_due: with
   * "any channel" in one statement SQLite reads every queued row, and a
   * backlog of replies made each look take milliseconds. */
  static const char *const channels[] = { "whatsapp", "sms" };
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT min (next_attempt_at) FROM outbox "
                                         "WHERE status = 'queued' AND channel = ?1",
                                         error);
  gint64 next = G_MAXINT64;

  if (stmt == NULL)
    return G_MAXINT64;
  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      if (channel != NULL && !g_str_equal (channel, channels[i]))
        continue;
      sqlite3_bind_text (stmt, 1, channels[i], -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        next = MIN (next, sqlite3_column_int64 (stmt, 0));
      sqlite3_reset (stmt);
    }
  return next;
}

static gboolean
no_such_message (gint64 id, GError **error)
{
  g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, "No message %" G_GINT64_FORMAT " in the outbox", id);
  return FALSE;
}

/* Runs @stmt (bound) expecting it to change exactly one row. */
static gboolean
update_one (PvStore *store, sqlite3_stmt *stmt, gint64 id, GError **error)
{
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (pv_store_get_db (store)) == 0)
    return no_such_message (id, error);
  return TRUE;
}

gboolean
pv_outbox_mark_sent (PvStore *store, gint64 id, const char *provider_id, GError **error)
{
  gint64 now = pv_store_now (store);
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "UPDATE outbox SET status = 'sent', provider_id = ?2, sent_at = ?3, "
                                         "  updated_at = ?3, last_error = NULL WHERE id = ?1",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, provider_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now);
  return update_one (store, stmt, id, error);
}

gboolean
pv_outbox_set_media (PvStore *store, gint64 id, const char *media_id, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "UPDATE outbox SET media_id = ?2 WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, media_id, -1, SQLITE_STATIC);
  return update_one (store, stmt, id, error);
}

gint64
pv_outbox_backoff_delay (const PvOutboxBackoff *backoff, guint attempt, double random)
{
  gint64 delay = MAX (backoff->base_us, 1);

  for (guint i = 1; i < attempt && delay < backoff->cap_us; i++)
    delay *= 2;
  delay = MIN (delay, MAX (backoff->cap_us, 1));
  /* "Equal jitter": between half and all of the step, so one retry never
   * waits less than the one before it. */
  return delay - (gint64) ((double) delay / 2 * CLAMP (random, 0.0, 1.0));
}

gboolean
pv_outbox_mark_failed (PvStore *store,
                       gint64 id,
                       const char *reason,
                       gboolean retryable,
                       const PvOutboxBackoff *backoff,
                       PvOutboxStatus *out_status,
                       gint64 *out_next,
                       GError **error)
{
  gint64 now = pv_store_now (store), next = 0;
  sqlite3_stmt *stmt;
  guint attempts;
  gboolean again;

  stmt = pv_store_prepare (store, "SELECT attempts FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return no_such_message (id, error);
    }
  attempts = (guint) sqlite3_column_int (stmt, 0) + 1;
  sqlite3_reset (stmt);
  again = retryable && attempts < MAX (backoff->max_attempts, 1);
  if (again)
    next = now + pv_outbox_backoff_delay (backoff, attempts, g_random_double ());
  stmt = pv_store_prepare (store,
                           "UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, "
                           "  updated_at = ?6 WHERE id = ?1",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, again ? "queued" : "failed", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, (int) attempts);
  sqlite3_bind_int64 (stmt, 4, next);
  sqlite3_bind_text (stmt, 5, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, now);
  if (!update_one (store, stmt, id, error))
    return FALSE;
  if (out_status != NULL)
    *out_status = again ? PV_OUTBOX_QUEUED : PV_OUTBOX_FAILED;
  if (out_next != NULL)
    *out_next = next;
  return TRUE;
}

gboolean
pv_outbox_requeue (PvStore *store, gint64 id, gint64 not_before, const char *reason, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "UPDATE outbox SET status = 'queued', next_attempt_at = ?2, "
                                         "  last_error = coalesce (?3, last_error), updated_at = ?4 WHERE id = ?1",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, not_before);
  sqlite3_bind_text (stmt, 3, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, pv_store_now (store));
  return update_one (store, stmt, id, error);
}

/* ---- reports and the admin's side ---- */

/* How far along a message is, for reports that arrive out of order. */
static int
progress (PvOutboxStatus status)
{
  switch (status)
    {
    case PV_OUTBOX_SENT:
      return 1;
    case PV_OUTBOX_DELIVERED:
      return 2;
    case PV_OUTBOX_READ:
      return 3;
    default:
      return 0;
    }
}

gboolean
pv_outbox_update_status (PvStore *store,
                         const char *provider_id,
                         PvOutboxStatus status,
                         const char *reason,
                         gboolean *out_found,
                         GError **error)
{
  sqlite3_stmt *stmt;
  PvOutboxStatus old = PV_OUTBOX_QUEUED;
  gint64 id;
  gboolean change;

  if (out_found != NULL)
    *out_found = FALSE;
  if (status != PV_OUTBOX_SENT && status != PV_OUTBOX_DELIVERED && status != PV_OUTBOX_READ
      && status != PV_OUTBOX_FAILED)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "“%s” is not a status a provider reports",
                        pv_outbox_status_to_string (status)),
           FALSE;
  if (provider_id == NULL || *provider_id == '\0')
    return TRUE;
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  stmt = pv_store_prepare (store, "SELECT id, status FROM outbox WHERE provider_id = ?1 ORDER BY id LIMIT 1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, provider_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return pv_store_commit (store, error);
    }
  id = sqlite3_column_int64 (stmt, 0);
  pv_outbox_status_from_string ((const char *) sqlite3_column_text (stmt, 1), &old);
  sqlite3_reset (stmt);
  if (out_found != NULL)
    *out_found = TRUE;
  if (status == PV_OUTBOX_FAILED)
    change = old == PV_OUTBOX_SENT || old == PV_OUTBOX_SENDING;
  else
    change = (old == PV_OUTBOX_SENT || old == PV_OUTBOX_DELIVERED || old == PV_OUTBOX_SENDING)
             && progress (status) > progress (old);
  if (change)
    {
      stmt = pv_store_prepare (store,
                               "UPDATE outbox SET status = ?2, updated_at = ?3, "
                               "  last_error = coalesce (?4, last_error) WHERE id = ?1",
                               error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, pv_outbox_status_to_string (status), -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, pv_store_now (store));
      sqlite3_bind_text (stmt, 4, status == PV_OUTBOX_FAILED ? reason : NULL, -1, SQLITE_STATIC);
      if (!pv_store_step_done (store, stmt, error))
        goto fail;
    }
  if (!pv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

PvOutboxMessage *
pv_outbox_find_by_provider (PvStore *store, const char *provider_id, GError **error)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_outbox_message_free);
  sqlite3_stmt *stmt;

  if (provider_id == NULL || *provider_id == '\0')
    return NULL;
  stmt = pv_store_prepare (store, "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE provider_id = ?1 ORDER BY id LIMIT 1",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, provider_id, -1, SQLITE_STATIC);
  if (!read_messages (store, stmt, found, error) || found->len == 0)
    return NULL;
  return g_ptr_array_steal_index (found, 0);
}

gboolean
pv_outbox_requeue_by_template (PvStore *store, gint64 id, const char *reason, GError **error)
{
  gint64 now = pv_store_now (store);
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "UPDATE outbox SET status = 'queued', by_template = 1, next_attempt_at = ?2, "
                                         "  last_error = coalesce (?3, last_error), updated_at = ?2 "
                                         "WHERE id = ?1 AND status = 'sent' AND by_template = 0",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_text (stmt, 3, reason, -1, SQLITE_STATIC);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (pv_store_get_db (store)) > 0)
    return TRUE;
  stmt = pv_store_prepare (store, "SELECT 1 FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return no_such_message (id, error);
    }
  sqlite3_reset (stmt);
  return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                      "Message %" G_GINT64_FORMAT " is not a sent message that may go again as a template", id),
         FALSE;
}

gboolean
pv_outbox_recover (PvStore *store, guint *out_count, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "UPDATE outbox SET status = 'queued', updated_at = ?1 "
                                         "WHERE status = 'sending'",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, pv_store_now (store));
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (out_count != NULL)
    *out_count = (guint) sqlite3_changes (pv_store_get_db (store));
  return TRUE;
}

gboolean
pv_outbox_retry (PvStore *store, gint64 id, GError **error)
{
  sqlite3_stmt *stmt;
  PvOutboxStatus status = PV_OUTBOX_QUEUED;
  g_autofree char *channel = NULL;
  gboolean found;

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  stmt = pv_store_prepare (store, "SELECT status, channel FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, id);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    {
      pv_outbox_status_from_string ((const char *) sqlite3_column_text (stmt, 0), &status);
      channel = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  sqlite3_reset (stmt);
  if (!found)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("No message %lld in the outbox"), (long long) id);
      goto fail;
    }
  if (status != PV_OUTBOX_FAILED && status != PV_OUTBOX_HELD)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("Message %lld is %s: only a failed or held message can be sent again"), (long long) id,
                   pv_outbox_status_to_string (status));
      goto fail;
    }
  /* No worker would ever claim it. */
  if (!pv_delivery_channel_is_known (channel))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("Message %lld is for “%s”, which is not a channel to send by"), (long long) id,
                   channel ? channel : "");
      goto fail;
    }
  stmt = pv_store_prepare (store,
                           "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = ?2 "
                           "WHERE id = ?1",
                           error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, pv_store_now (store));
  if (!pv_store_step_done (store, stmt, error) || !pv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

GPtrArray *
pv_outbox_list (PvStore *store, const char *status, guint limit, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_outbox_message_free);
  PvOutboxStatus wanted;
  sqlite3_stmt *stmt;

  if (status != NULL && !pv_outbox_status_from_string (status, &wanted))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        _ ("“%s” is not a message status (queued, sending, sent, delivered, read, failed, held)"),
                        status),
           NULL;
  stmt = pv_store_prepare (store,
                           "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE (?1 IS NULL OR status = ?1) "
                           "ORDER BY id DESC LIMIT ?2",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit > 0 ? (gint64) limit : -1);
  if (!read_messages (store, stmt, list, error))
    return NULL;
  return g_steal_pointer (&list);
}

char *
pv_outbox_newest (PvStore *store, const char *phone, GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  sqlite3_stmt *stmt;
  char *body = NULL;

  if (normal == NULL)
    return NULL;
  stmt = pv_store_prepare (store,
                           "SELECT body FROM outbox WHERE recipient = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, normal, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    body = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  if (body == NULL)
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("Nothing is waiting to be sent to %s"), normal);
  return body;
}

GPtrArray *
pv_outbox_list_for_ticket (PvStore *store, guint16 issuer, guint32 serial, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_outbox_message_free);
  /* Through deliveries (indexed by ticket) to outbox (by request): the
   * outbox has no index by ticket, and a desk asks every few seconds. */
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT " MESSAGE_COLUMNS " FROM outbox WHERE id IN (SELECT o.id "
                                         "  FROM deliveries d JOIN outbox o ON o.delivery_device = d.requested_by "
                                         "  AND o.delivery_seq = d.rec_seq WHERE d.issuer = ?1 AND d.serial = ?2) "
                                         "ORDER BY id",
                                         error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  if (!read_messages (store, stmt, list, error))
    return NULL;
  return g_steal_pointer (&list);
}

const char *
pv_outbox_failure_kind (const PvOutboxMessage *message)
{
  /* The reasons are kept as the hub's log says them (the provider's
   * code, or the worker's words, in English: the hub runs in no locale
   * of a volunteer's): told apart by what each one always holds. */
  static const struct
  {
    const char *holds;
    const char *kind;
  } kinds[] = {
    { "gave no phone number", "no-phone" },
    { "is revoked", "revoked" },
    { "is not a channel this hub", "channel" },
    { "countries this fair sends to", "country" },
    { "budget", "budget" },
    { "24-hour window", "window" },
    { "131047", "window" },
    { "131026", "not-reachable" },
    { "131030", "not-reachable" },
    { "HTTP 401", "setup" },
    { "HTTP 403", "setup" },
    { "(#190)", "setup" },
  };
  const char *reason = message->last_error;

  if (message->status == PV_OUTBOX_HELD)
    return "budget";
  for (guint i = 0; reason != NULL && i < G_N_ELEMENTS (kinds); i++)
    if (strstr (reason, kinds[i].holds) != NULL)
      return kinds[i].kind;
  return "refused";
}

gboolean
pv_outbox_count (PvStore *store, guint64 counts[PV_OUTBOX_N_STATUSES], GError **error)
{
  /* Not a count (*) of the outbox: /metrics asks every few seconds, and
   * by the fair's last day the outbox holds a million rows. */
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT status, n FROM outbox_counts", error);
  int rc;

  memset (counts, 0, sizeof (guint64) * PV_OUTBOX_N_STATUSES);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvOutboxStatus status;

      if (pv_outbox_status_from_string ((const char *) sqlite3_column_text (stmt, 0), &status))
        counts[status] = (guint64) MAX (sqlite3_column_int64 (stmt, 1), 0);
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot count the outbox");
}

gboolean
pv_outbox_hold (PvStore *store, gint64 id, const char *reason, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "UPDATE outbox SET status = 'held', last_error = ?2, updated_at = ?3 "
                                         "WHERE id = ?1",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, pv_store_now (store));
  return update_one (store, stmt, id, error);
}

/* ---- spending ---- */

/* Calling codes are prefix-free, one to three digits: these are the
 * assigned ones of one and two digits (ITU-T E.164, Annex to OB 1114);
 * every other starts a three-digit code. */
#define SHORT_CALLING_CODES                                                 \
  " 1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 " \
  "55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 "

char *
pv_outbox_calling_code (const char *phone)
{
  gsize digits = phone ? strspn (phone + (phone[0] == '+'), "0123456789") : 0;

  if (phone == NULL || phone[0] != '+' || digits < 1 || phone[1 + digits] != '\0')
    return NULL;
  /* A prefix as the settings name one ("+91") is read as a phone is, as
   * far as its digits go: too few to tell the code, and there is none. */
  for (gsize len = 1; len <= 2 && len <= digits; len++)
    {
      g_autofree char *needle = g_strdup_printf (" %.*s ", (int) len, phone + 1);

      if (strstr (SHORT_CALLING_CODES, needle) != NULL)
        return g_strndup (phone, 1 + len);
    }
  return digits >= 3 ? g_strndup (phone, 4) : NULL;
}

static const char *const spend_names[PV_OUTBOX_N_SPENDS] = {
  [PV_OUTBOX_SPEND_SENT] = "sent",
  [PV_OUTBOX_SPEND_OVER_BUDGET] = "over-budget",
  [PV_OUTBOX_SPEND_NOT_ALLOWED] = "not-allowed",
};

const char *
pv_outbox_spend_to_string (PvOutboxSpend spend)
{
  return spend < PV_OUTBOX_N_SPENDS ? spend_names[spend] : "unknown";
}

gboolean
pv_outbox_spend_add (PvStore *store, const char *day, const char *prefix, PvOutboxSpend spend, GError **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (spend < PV_OUTBOX_N_SPENDS, FALSE);
  stmt = pv_store_prepare (store,
                           "INSERT INTO outbox_spend (day, prefix, outcome, n) VALUES (?1, ?2, ?3, 1) "
                           "ON CONFLICT (day, prefix, outcome) DO UPDATE SET n = n + 1",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, day, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, prefix, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spend_names[spend], -1, SQLITE_STATIC);
  return pv_store_step_done (store, stmt, error);
}

GHashTable *
pv_outbox_spend_read (PvStore *store, const char *day, GError **error)
{
  g_autoptr (GHashTable) spent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT prefix, outcome, n FROM outbox_spend WHERE day = ?1", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, day, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *prefix = (const char *) sqlite3_column_text (stmt, 0);
      const char *outcome = (const char *) sqlite3_column_text (stmt, 1);
      guint64 *n = g_hash_table_lookup (spent, prefix);

      if (n == NULL)
        g_hash_table_insert (spent, g_strdup (prefix), (n = g_new0 (guint64, PV_OUTBOX_N_SPENDS)));
      for (guint i = 0; i < PV_OUTBOX_N_SPENDS; i++)
        if (g_strcmp0 (outcome, spend_names[i]) == 0)
          n[i] = (guint64) MAX (sqlite3_column_int64 (stmt, 2), 0);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read what the outbox spent"), NULL;
  return g_steal_pointer (&spent);
}

/* ---- delivery requests ---- */

char *
pv_outbox_ticket_caption (PvStore *store, guint16 issuer, guint32 serial, GError **error)
{
  g_auto (PvTicketInfo) info = { 0 };
  g_autoptr (GString) caption = g_string_new (NULL);
  PvEvent *event;
  const PvCategory *category;

  if (!(event = pv_store_get_event (store, error)) || !pv_tickets_lookup (store, issuer, serial, &info, error))
    return NULL;
  if (!info.known)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("Ticket %s is not known here"), info.serial_text),
           NULL;
  category = pv_event_get_category (event, info.category);
  /* TRANSLATORS: the caption of a ticket sent by WhatsApp or SMS: the event's
   * name, then the ticket's serial. */
  g_string_append_printf (caption, _ ("%s: ticket %s"), pv_event_get_name (event), info.serial_text);
  if (category != NULL)
    g_string_append_printf (caption, " · %s", category->name);
  if (info.day != PV_TICKET_DAY_NONE)
    {
      g_autofree char *date = pv_event_day_date (event, info.day);
      g_string_append_printf (caption, " · %s", date);
    }
  if (info.party > 1)
    {
      g_string_append (caption, " · ");
      /* TRANSLATORS: how many people a group ticket admits */
      g_string_append_printf (caption, ngettext ("%u person", "%u people", info.party), info.party);
    }
  return g_string_free (g_steal_pointer (&caption), FALSE);
}

typedef struct
{
  guint16 device;
  guint64 seq;
  guint16 issuer;
  guint32 serial;
  char *channel;
} QueuedDelivery;

static void
queued_delivery_clear (gpointer data)
{
  g_free (((QueuedDelivery *) data)->channel);
}

/* A delivery request that cannot be carried out: a failed message the
 * admin sees with the reason, and the request failed with it. */
static gboolean
insert_delivery_message (PvStore *store,
                         const QueuedDelivery *d,
                         const char *recipient,
                         const char *body,
                         const char *refusal,
                         gboolean *out_made,
                         GError **error)
{
  gint64 now = pv_store_now (store);
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT INTO outbox (channel, recipient, body, created_at, kind, issuer, "
                                         "  serial, status, last_error, updated_at, delivery_device, delivery_seq) "
                                         "VALUES (?1, ?2, ?3, ?4, 'ticket', ?5, ?6, ?7, ?8, ?4, ?9, ?10) "
                                         "ON CONFLICT DO NOTHING",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, d->channel, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, recipient ? recipient : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, body ? body : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int (stmt, 5, d->issuer);
  sqlite3_bind_int64 (stmt, 6, d->serial);
  sqlite3_bind_text (stmt, 7, refusal ? "failed" : "queued", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, refusal, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 9, d->device);
  sqlite3_bind_int64 (stmt, 10, (sqlite3_int64) d->seq);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  *out_made = sqlite3_changes (pv_store_get_db (store)) > 0;
  /* The request's status follows its message's, whether the message was
   * made now or before (a rebuild of the derived state, say, set the
   * request back to queued). */
  stmt = pv_store_prepare (store,
                           "UPDATE deliveries SET status = coalesce ((SELECT CASE WHEN o.status IN "
                           "    ('queued', 'sending', 'held') THEN 'pending' ELSE o.status END "
                           "  FROM outbox o WHERE o.delivery_device = ?1 AND o.delivery_seq = ?2), status) "
                           "WHERE requested_by = ?1 AND rec_seq = ?2",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, d->device);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) d->seq);
  return pv_store_step_done (store, stmt, error);
}

gboolean
pv_outbox_take_deliveries (PvStore *store, guint *out_queued, GError **error)
{
  g_autoptr (GArray) queued = g_array_new (FALSE, TRUE, sizeof (QueuedDelivery));
  sqlite3_stmt *stmt;
  guint n = 0;
  int rc;

  g_array_set_clear_func (queued, queued_delivery_clear);
  if (out_queued != NULL)
    *out_queued = 0;
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  stmt = pv_store_prepare (store,
                           "SELECT requested_by, rec_seq, issuer, serial, channel FROM deliveries "
                           "WHERE status = 'queued' ORDER BY requested_at",
                           error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      QueuedDelivery d = {
        .device = (guint16) sqlite3_column_int (stmt, 0),
        .seq = (guint64) sqlite3_column_int64 (stmt, 1),
        .issuer = (guint16) sqlite3_column_int (stmt, 2),
        .serial = (guint32) sqlite3_column_int64 (stmt, 3),
        .channel = g_strdup ((const char *) sqlite3_column_text (stmt, 4)),
      };
      g_array_append_val (queued, d);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pv_store_fail (store, error, "Cannot read the delivery requests");
      goto fail;
    }

  for (guint i = 0; i < queued->len; i++)
    {
      const QueuedDelivery *d = &g_array_index (queued, QueuedDelivery, i);
      g_auto (PvTicketInfo) info = { 0 };
      g_autofree char *caption = NULL, *refusal = NULL;
      gboolean made = FALSE;

      if (!pv_tickets_lookup (store, d->issuer, d->serial, &info, error))
        goto fail;
      /* The issue record may come with a later sync: the request waits. */
      if (!info.known)
        continue;
      /* The record was checked when it arrived, but a desk of a newer
       * version may know a channel this hub does not: it would wait for
       * ever, since no worker claims it. */
      if (!pv_delivery_channel_is_known (d->channel))
        refusal = g_strdup_printf (_ ("“%s” is not a channel this hub can send by"), d->channel ? d->channel : "");
      else if (info.revoked)
        refusal = g_strdup_printf (_ ("Ticket %s is revoked"), info.serial_text);
      else if (info.phone == NULL || *info.phone == '\0')
        refusal = g_strdup_printf (_ ("The visitor of ticket %s gave no phone number"), info.serial_text);
      else if (!(caption = pv_outbox_ticket_caption (store, d->issuer, d->serial, error)))
        goto fail;
      if (!insert_delivery_message (store, d, info.phone, caption, refusal, &made, error))
        goto fail;
      if (made && refusal == NULL)
        n++;
    }
  if (!pv_store_commit (store, error))
    goto fail;
  if (out_queued != NULL)
    *out_queued = n;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}
