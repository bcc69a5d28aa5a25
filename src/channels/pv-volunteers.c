/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers.c: volunteers, one-time sign-in codes and the outbox (see
 * the header). */
#include "pv-volunteers.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-keys.h"
#include "pv-otp.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

/* Volunteers' sign-in codes, in the table otps. */
static const PvOtpKind sign_in_codes = {
  PV_OTP_TABLE ("otps"),
  .digits = PV_SIGN_IN_CODE_DIGITS,
  .lifetime = PV_SIGN_IN_CODE_LIFETIME,
  .requests = PV_SIGN_IN_CODE_REQUESTS,
  .window = PV_SIGN_IN_CODE_WINDOW,
  .failures = PV_SIGN_IN_CODE_FAILURES,
  .lockout = PV_SIGN_IN_CODE_LOCKOUT,
};

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

#define VOLUNTEER_NAME_MAX_CHARS (100 / 3)

gboolean
pv_volunteers_add (PvStore *store, const char *name, const char *phone, PvRole role, gint64 *out_id, GError **error)
{
  g_autofree char *clean = g_strstrip (g_strdup (name ? name : ""));
  g_autofree char *normal = pv_normalize_phone (phone, error);
  sqlite3_stmt *stmt;

  if (normal == NULL)
    return FALSE;
  if (*clean == '\0' || !g_utf8_validate (clean, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, _ ("A volunteer needs a name")), FALSE;
  /* Kept in at most 100 bytes, said in characters as a person counts
   * them: as many as always fit (Devanagari takes 3 a character). */
  if (g_utf8_strlen (clean, -1) > VOLUNTEER_NAME_MAX_CHARS || strlen (clean) > 100)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        _ ("A volunteer’s name is at most %d characters long: write a shorter form of it"),
                        VOLUNTEER_NAME_MAX_CHARS),
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
      return g_set_error (error, PV_ERROR, PV_ERROR_EXISTS, _ ("A volunteer with the phone %s is there already"), normal),
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

gboolean
pv_volunteers_request_code (PvStore *store, const char *phone, GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  g_autofree char *body = NULL;
  PvVolunteer volunteer = { 0 };
  char code[PV_SIGN_IN_CODE_DIGITS + 1];
  gint64 now = pv_store_now (store);
  gboolean found;
  sqlite3_stmt *stmt;

  if (normal == NULL || !pv_store_begin (store, TRUE, error))
    return FALSE;
  /* A deactivated volunteer is answered as a stranger is. */
  if (!find_volunteer (store, normal, &volunteer, &found, error)
      || !pv_otp_issue (store, &sign_in_codes, normal, now, found && volunteer.active, code, NULL, error))
    goto fail;
  if (code[0] != '\0')
    {
      body = g_strdup_printf (_ ("Pravesh sign-in code for %s: %s (valid 5 minutes). Do not share it."),
                              volunteer.name, code);
      sodium_memzero (code, sizeof code);
      /* Marked as a sign-in code: of all messages, these alone go past
       * spent budgets in the hub's outbox, so the fair's people can sign
       * in whatever the public spent. */
      stmt = pv_store_prepare (store,
                               "INSERT INTO outbox (channel, recipient, body, created_at, sign_in) "
                               "VALUES ('sms', ?1, ?2, ?3, 1)",
                               error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, normal, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, body, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, now);
      if (!pv_store_step_done (store, stmt, error))
        goto fail;
    }
  if (!pv_store_commit (store, error))
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
pv_volunteers_verify_code (PvStore *store, const char *phone, const char *code, guint16 device_id, PvVolunteer *out,
                           GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) refusal = NULL;
  gint64 now = pv_store_now (store);
  gboolean found = FALSE, right;
  PvOtpOutcome outcome = PV_OTP_WRONG;
  PvOtpRow row;

  memset (out, 0, sizeof *out);
  if (normal == NULL || !pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!pv_otp_check (store, &sign_in_codes, normal, code, now, &row, &right, NULL, &local))
    {
      gboolean locked = g_error_matches (local, PV_ERROR, PV_ERROR_PERMISSION);

      g_propagate_error (error, g_steal_pointer (&local));
      if (!locked)
        goto fail;
      /* A lockout wrote nothing and is no failure of the store. */
      pv_store_commit (store, NULL);
      return FALSE;
    }
  if (right && !find_volunteer (store, normal, out, &found, error))
    goto fail;
  if (right && found && out->active)
    {
      /* One code, one sign-in. */
      outcome = PV_OTP_USED;
      if (!record_sign_in (store, out->id, device_id, now, error))
        goto fail;
    }
  else if (right && found)
    {
      /* Sent before the volunteer was deactivated: spent, and no guess. */
      outcome = PV_OTP_REFUSED;
      g_set_error_literal (&refusal, PV_ERROR, PV_ERROR_PERMISSION,
                           _ ("This volunteer is deactivated and cannot sign in; ask the control room"));
    }
  if (!pv_otp_settle (store, &sign_in_codes, normal, now, &row, outcome, NULL, &refusal, error)
      || !pv_store_commit (store, error))
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
