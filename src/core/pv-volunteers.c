/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers.c: volunteers, one-time sign-in codes and the outbox (see
 * the header). */
#include "pv-volunteers.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-keys.h"
#include "pv-store.h"
#include "pv-tickets.h"

#define SALT_SIZE 16

void
pv_volunteer_clear (PvVolunteer *volunteer)
{
  g_clear_pointer (&volunteer->name, g_free);
  g_clear_pointer (&volunteer->phone, g_free);
  g_clear_pointer (&volunteer->last_sign_in_device_name, g_free);
}

void
pv_sign_in_clear (PvSignIn *sign_in)
{
  g_clear_pointer (&sign_in->name, g_free);
  g_clear_pointer (&sign_in->phone, g_free);
  g_clear_pointer (&sign_in->device_name, g_free);
}

gboolean
pv_volunteers_add (PvStore *store, const char *name, const char *phone, PvRole role, gint64 *out_id, GError **error)
{
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));
  g_autofree char *normal = pv_normalize_phone (phone, error);
  sqlite3_stmt *stmt;

  if (normal == NULL)
    return FALSE;
  if (*clean == '\0' || strlen (clean) > 100 || !g_utf8_validate (clean, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "A volunteer needs a name of 1 to 100 bytes"),
           FALSE;
  if (role != PV_ROLE_GATE && role != PV_ROLE_DESK && role != PV_ROLE_ADMIN)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, _ ("A volunteer’s role is gate, desk or admin")),
           FALSE;
  stmt = pv_store_prepare (store, "SELECT 1 FROM volunteers WHERE phone = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, normal, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return g_set_error (error, PV_ERROR, PV_ERROR_EXISTS, "A volunteer with the phone %s is there already", normal),
             FALSE;
    }
  sqlite3_reset (stmt);
  stmt = pv_store_prepare (store, "INSERT INTO volunteers (name, phone, role, added_at) VALUES (?1, ?2, ?3, ?4)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, clean, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, normal, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pv_role_to_string (role), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, pv_store_now (store));
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (out_id)
    *out_id = sqlite3_last_insert_rowid (pv_store_get_db (store));
  return TRUE;
}

static void
code_digest (const guint8 salt[SALT_SIZE], const char *code, guint8 out[32])
{
  crypto_generichash (out, 32, (const guint8 *) code, strlen (code), salt, SALT_SIZE);
}

/* The volunteer with @phone (normalised), if any, active or not (see
 * out->active). */
static gboolean
find_volunteer (PvStore *store, const char *phone, PvVolunteer *out, gboolean *out_found, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT id, name, role, deactivated_at IS NULL, added_at FROM volunteers "
                                         "WHERE phone = ?1",
                                         error);

  *out_found = FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out_found = TRUE;
      if (out != NULL)
        {
          out->id = sqlite3_column_int64 (stmt, 0);
          out->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
          out->phone = g_strdup (phone);
          if (!pv_role_from_string ((const char *) sqlite3_column_text (stmt, 2), &out->role, NULL))
            out->role = PV_ROLE_GATE;
          out->active = sqlite3_column_int (stmt, 3) != 0;
          out->added_at = sqlite3_column_int64 (stmt, 4);
        }
    }
  sqlite3_reset (stmt);
  return TRUE;
}

typedef struct
{
  gboolean present;
  gint64 locked_until, window_start, requests, failures, expires_at;
  guint8 digest[32], salt[SALT_SIZE];
  gboolean has_code;
} OtpRow;

static gboolean
read_otp (PvStore *store, const char *phone, OtpRow *row, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT locked_until, window_start, requests, failures, expires_at, "
                                         "       code_digest, salt FROM otps WHERE phone = ?1",
                                         error);

  memset (row, 0, sizeof *row);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      row->present = TRUE;
      row->locked_until = sqlite3_column_int64 (stmt, 0);
      row->window_start = sqlite3_column_int64 (stmt, 1);
      row->requests = sqlite3_column_int64 (stmt, 2);
      row->failures = sqlite3_column_int64 (stmt, 3);
      row->expires_at = sqlite3_column_int64 (stmt, 4);
      row->has_code = sqlite3_column_bytes (stmt, 5) == 32 && sqlite3_column_bytes (stmt, 6) == SALT_SIZE;
      if (row->has_code)
        {
          memcpy (row->digest, sqlite3_column_blob (stmt, 5), 32);
          memcpy (row->salt, sqlite3_column_blob (stmt, 6), SALT_SIZE);
        }
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
write_otp (PvStore *store, const char *phone, const OtpRow *row, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT OR REPLACE INTO otps (phone, code_digest, salt, expires_at, failures, "
                                         "  locked_until, window_start, requests) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  if (row->has_code)
    {
      sqlite3_bind_blob (stmt, 2, row->digest, 32, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 3, row->salt, SALT_SIZE, SQLITE_STATIC);
    }
  sqlite3_bind_int64 (stmt, 4, row->expires_at);
  sqlite3_bind_int64 (stmt, 5, row->failures);
  sqlite3_bind_int64 (stmt, 6, row->locked_until);
  sqlite3_bind_int64 (stmt, 7, row->window_start);
  sqlite3_bind_int64 (stmt, 8, row->requests);
  return pv_store_step_done (store, stmt, error);
}

static gboolean
locked_out (const OtpRow *row, gint64 now, GError **error)
{
  if (row->locked_until <= now)
    return FALSE;
  g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, "Too many wrong codes: try again in %" G_GINT64_FORMAT " minutes",
               (row->locked_until - now) / (60 * G_USEC_PER_SEC) + 1);
  return TRUE;
}

gboolean
pv_otp_request (PvStore *store, const char *phone, GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  g_autofree char *body = NULL;
  PvVolunteer volunteer = { 0 };
  char code[PV_OTP_DIGITS + 1];
  gint64 now = pv_store_now (store);
  gboolean found;
  sqlite3_stmt *stmt;
  OtpRow row;

  if (normal == NULL || !pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!read_otp (store, normal, &row, error) || !find_volunteer (store, normal, &volunteer, &found, error))
    goto fail;
  if (locked_out (&row, now, error))
    goto fail;
  if (now - row.window_start >= PV_OTP_WINDOW)
    {
      row.window_start = now;
      row.requests = 0;
    }
  if (row.requests >= PV_OTP_REQUESTS)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   "Codes were sent to this phone %d times lately: try again in %" G_GINT64_FORMAT " minutes",
                   PV_OTP_REQUESTS, (row.window_start + PV_OTP_WINDOW - now) / (60 * G_USEC_PER_SEC) + 1);
      goto fail;
    }
  row.requests++;
  /* Counted either way, so unknown phones cannot be told apart by limits;
   * a deactivated volunteer is answered as a stranger is. */
  if (found && volunteer.active)
    {
      g_snprintf (code, sizeof code, "%0*u", PV_OTP_DIGITS, randombytes_uniform (1000000));
      randombytes_buf (row.salt, sizeof row.salt);
      code_digest (row.salt, code, row.digest);
      row.has_code = TRUE;
      row.expires_at = now + PV_OTP_LIFETIME;
      /* Wrong guesses count across codes: asking for a new code after four
       * must not start the count again. */
      body = g_strdup_printf (_ ("Pravesh sign-in code for %s: %s (valid 5 minutes). Do not share it."),
                              volunteer.name, code);
      sodium_memzero (code, sizeof code);
      stmt = pv_store_prepare (store,
                               "INSERT INTO outbox (channel, recipient, body, created_at) VALUES ('sms', ?1, ?2, ?3)",
                               error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, normal, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, body, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, now);
      if (!pv_store_step_done (store, stmt, error))
        goto fail;
    }
  if (!write_otp (store, normal, &row, error) || !pv_store_commit (store, error))
    goto fail;
  pv_volunteer_clear (&volunteer);
  return TRUE;

fail:
  pv_volunteer_clear (&volunteer);
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

static gboolean
record_sign_in (PvStore *store, gint64 volunteer_id, guint16 device_id, gint64 at, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT INTO volunteer_sign_ins (volunteer_id, device_id, at) "
                                         "VALUES (?1, ?2, ?3)",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, volunteer_id);
  sqlite3_bind_int (stmt, 2, device_id);
  sqlite3_bind_int64 (stmt, 3, at);
  return pv_store_step_done (store, stmt, error);
}

gboolean
pv_otp_verify (PvStore *store, const char *phone, const char *code, guint16 device_id, PvVolunteer *out,
               GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  g_autoptr (GError) refusal = NULL;
  guint8 digest[32];
  gint64 now = pv_store_now (store);
  gboolean found = FALSE, right;
  OtpRow row;

  memset (out, 0, sizeof *out);
  if (normal == NULL || !pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!read_otp (store, normal, &row, error))
    goto fail;
  if (locked_out (&row, now, error))
    {
      pv_store_commit (store, NULL);
      return FALSE;
    }
  right = row.has_code && row.expires_at > now && code != NULL && strlen (code) == PV_OTP_DIGITS;
  if (right)
    {
      code_digest (row.salt, code, digest);
      right = sodium_memcmp (digest, row.digest, sizeof digest) == 0;
    }
  if (right && !find_volunteer (store, normal, out, &found, error))
    goto fail;
  if (right && found && out->active)
    {
      /* Spent: one code, one sign-in. */
      row.has_code = FALSE;
      row.expires_at = 0;
      row.failures = 0;
      if (!record_sign_in (store, out->id, device_id, now, error))
        goto fail;
    }
  else if (right && found)
    {
      /* Sent before the volunteer was deactivated: spent, and no guess. */
      row.has_code = FALSE;
      row.expires_at = 0;
      g_set_error_literal (&refusal, PV_ERROR, PV_ERROR_PERMISSION,
                           _ ("This volunteer is deactivated and cannot sign in; ask the control room"));
    }
  else
    {
      row.failures++;
      if (row.failures >= PV_OTP_FAILURES)
        {
          row.locked_until = now + PV_OTP_LOCKOUT;
          row.failures = 0;
          row.has_code = FALSE;
        }
      g_set_error_literal (&refusal, PV_ERROR, PV_ERROR_PERMISSION,
                           row.locked_until > now ? "Wrong code; too many wrong codes: locked for 15 minutes"
                                                  : "Wrong or expired code");
    }
  if (!write_otp (store, normal, &row, error) || !pv_store_commit (store, error))
    goto fail;
  if (refusal != NULL)
    {
      pv_volunteer_clear (out);
      g_propagate_error (error, g_steal_pointer (&refusal));
      return FALSE;
    }
  return TRUE;

fail:
  pv_volunteer_clear (out);
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
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
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, "Nothing in the outbox for %s", normal);
  return body;
}

/* ---- the control room's view ---- */

GArray *
pv_volunteers_list (PvStore *store, GError **error)
{
  g_autoptr (GArray) list = g_array_new (FALSE, TRUE, sizeof (PvVolunteer));
  /* The newest sign-in of each, found through the index on (volunteer, at). */
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT v.id, v.name, v.phone, v.role, v.deactivated_at IS NULL, v.added_at, "
                                         "       s.at, s.device_id, d.name "
                                         "FROM volunteers v "
                                         "LEFT JOIN volunteer_sign_ins s ON s.id = "
                                         "  (SELECT id FROM volunteer_sign_ins WHERE volunteer_id = v.id "
                                         "   ORDER BY at DESC, id DESC LIMIT 1) "
                                         "LEFT JOIN devices d ON d.id = s.device_id "
                                         "ORDER BY v.name COLLATE NOCASE, v.id",
                                         error);
  int rc;

  g_array_set_clear_func (list, (GDestroyNotify) pv_volunteer_clear);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvVolunteer v = { 0 };

      v.id = sqlite3_column_int64 (stmt, 0);
      v.name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      v.phone = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      if (!pv_role_from_string ((const char *) sqlite3_column_text (stmt, 3), &v.role, NULL))
        v.role = PV_ROLE_GATE;
      v.active = sqlite3_column_int (stmt, 4) != 0;
      v.added_at = sqlite3_column_int64 (stmt, 5);
      if (sqlite3_column_type (stmt, 6) != SQLITE_NULL)
        {
          v.last_sign_in_at = sqlite3_column_int64 (stmt, 6);
          v.last_sign_in_device = (guint16) sqlite3_column_int (stmt, 7);
          v.last_sign_in_device_name = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
        }
      g_array_append_val (list, v);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the volunteers"), NULL;
  return g_steal_pointer (&list);
}

gint64
pv_volunteers_find (PvStore *store, const char *phone, GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  PvVolunteer volunteer = { 0 };
  gboolean found = FALSE;
  gint64 id;

  if (normal == NULL || !find_volunteer (store, normal, &volunteer, &found, error))
    return 0;
  id = volunteer.id;
  pv_volunteer_clear (&volunteer);
  if (!found)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("No volunteer has the phone %s"), normal), 0;
  return id;
}

gboolean
pv_volunteers_set_active (PvStore *store, gint64 id, gboolean active, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT 1 FROM volunteers WHERE id = ?1", error);
  gboolean exists;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (!exists)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("There is no volunteer %lld"), (long long) id),
           FALSE;
  /* The first deactivation's time is kept when it is asked for again. */
  stmt = pv_store_prepare (store,
                           active ? "UPDATE volunteers SET deactivated_at = NULL WHERE id = ?1"
                                  : "UPDATE volunteers SET deactivated_at = ?2 "
                                    "WHERE id = ?1 AND deactivated_at IS NULL",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!active)
    sqlite3_bind_int64 (stmt, 2, pv_store_now (store));
  return pv_store_step_done (store, stmt, error);
}

GArray *
pv_volunteers_sign_ins (PvStore *store, guint max, GError **error)
{
  g_autoptr (GArray) list = g_array_new (FALSE, TRUE, sizeof (PvSignIn));
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT s.at, s.volunteer_id, v.name, v.phone, s.device_id, d.name "
                                         "FROM volunteer_sign_ins s JOIN volunteers v ON v.id = s.volunteer_id "
                                         "LEFT JOIN devices d ON d.id = s.device_id "
                                         "ORDER BY s.at DESC, s.id DESC LIMIT ?1",
                                         error);
  int rc;

  g_array_set_clear_func (list, (GDestroyNotify) pv_sign_in_clear);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, (int) MIN (max, PV_SIGN_INS_MAX));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvSignIn s = { 0 };

      s.at = sqlite3_column_int64 (stmt, 0);
      s.volunteer_id = sqlite3_column_int64 (stmt, 1);
      s.name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      s.phone = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      s.device_id = (guint16) sqlite3_column_int (stmt, 4);
      s.device_name = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      g_array_append_val (list, s);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the sign-ins"), NULL;
  return g_steal_pointer (&list);
}
