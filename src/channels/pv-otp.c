/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-otp.c: the mechanics of one-time codes (see the header). */
#include "config.h"

#include "pv-otp.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-store-private.h"

static void
code_digest (const guint8 salt[PV_OTP_SALT_SIZE], const char *code, guint8 out[PV_OTP_DIGEST_SIZE])
{
  crypto_generichash (out, PV_OTP_DIGEST_SIZE, (const guint8 *) code, strlen (code), salt, PV_OTP_SALT_SIZE);
}

static gint64
minutes_until (gint64 when, gint64 now)
{
  return (when - now) / (60 * G_USEC_PER_SEC) + 1;
}

static gboolean
read_row (PvStore *store, const PvOtpKind *kind, const char *phone, PvOtpRow *row, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, kind->read_sql, error);

  memset (row, 0, sizeof *row);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      row->locked_until = sqlite3_column_int64 (stmt, 0);
      row->window_start = sqlite3_column_int64 (stmt, 1);
      row->requests = sqlite3_column_int64 (stmt, 2);
      row->failures = sqlite3_column_int64 (stmt, 3);
      row->expires_at = sqlite3_column_int64 (stmt, 4);
      row->has_code = sqlite3_column_bytes (stmt, 5) == PV_OTP_DIGEST_SIZE
                      && sqlite3_column_bytes (stmt, 6) == PV_OTP_SALT_SIZE;
      if (row->has_code)
        {
          memcpy (row->digest, sqlite3_column_blob (stmt, 5), PV_OTP_DIGEST_SIZE);
          memcpy (row->salt, sqlite3_column_blob (stmt, 6), PV_OTP_SALT_SIZE);
        }
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
write_row (PvStore *store, const PvOtpKind *kind, const char *phone, const PvOtpRow *row, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, kind->write_sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  if (row->has_code)
    {
      sqlite3_bind_blob (stmt, 2, row->digest, PV_OTP_DIGEST_SIZE, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 3, row->salt, PV_OTP_SALT_SIZE, SQLITE_STATIC);
    }
  sqlite3_bind_int64 (stmt, 4, row->expires_at);
  sqlite3_bind_int64 (stmt, 5, row->failures);
  sqlite3_bind_int64 (stmt, 6, row->locked_until);
  sqlite3_bind_int64 (stmt, 7, row->window_start);
  sqlite3_bind_int64 (stmt, 8, row->requests);
  return pv_store_step_done (store, stmt, error);
}

static gboolean
locked_out (const PvOtpRow *row, gint64 now, gint64 *out_retry_at, GError **error)
{
  if (row->locked_until <= now)
    return FALSE;
  if (out_retry_at)
    *out_retry_at = row->locked_until;
  g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION, _ ("Too many wrong codes: try again in %lld minutes"),
               (long long) minutes_until (row->locked_until, now));
  return TRUE;
}

gboolean
pv_otp_issue (PvStore *store,
              const PvOtpKind *kind,
              const char *phone,
              gint64 now,
              gboolean deliver,
              char *out_code,
              gint64 *out_retry_at,
              GError **error)
{
  guint32 range = 1;
  PvOtpRow row;

  g_return_val_if_fail (kind->digits > 0 && kind->digits <= PV_OTP_MAX_DIGITS, FALSE);
  out_code[0] = '\0';
  if (!read_row (store, kind, phone, &row, error) || locked_out (&row, now, out_retry_at, error))
    return FALSE;
  if (now - row.window_start >= kind->window)
    {
      row.window_start = now;
      row.requests = 0;
    }
  if (row.requests >= kind->requests)
    {
      if (out_retry_at)
        *out_retry_at = row.window_start + kind->window;
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   _ ("Codes were sent to this phone %u times lately: try again in %lld minutes"),
                   kind->requests, (long long) minutes_until (row.window_start + kind->window, now));
      return FALSE;
    }
  row.requests++;
  /* A new code is guessed at afresh: its wrong guesses are its own. */
  if (deliver && kind->per_code)
    row.failures = 0;
  if (deliver)
    {
      for (guint i = 0; i < kind->digits; i++)
        range *= 10;
      g_snprintf (out_code, kind->digits + 1, "%0*u", (int) kind->digits, randombytes_uniform (range));
      randombytes_buf (row.salt, sizeof row.salt);
      code_digest (row.salt, out_code, row.digest);
      row.has_code = TRUE;
      row.expires_at = now + kind->lifetime;
    }
  if (!write_row (store, kind, phone, &row, error))
    {
      sodium_memzero (out_code, kind->digits + 1);
      return FALSE;
    }
  return TRUE;
}

gboolean
pv_otp_check (PvStore *store,
              const PvOtpKind *kind,
              const char *phone,
              const char *code,
              gint64 now,
              PvOtpRow *row,
              gboolean *out_right,
              gint64 *out_retry_at,
              GError **error)
{
  guint8 digest[PV_OTP_DIGEST_SIZE];

  *out_right = FALSE;
  if (!read_row (store, kind, phone, row, error) || locked_out (row, now, out_retry_at, error))
    return FALSE;
  if (row->has_code && row->expires_at > now && code != NULL && strlen (code) == kind->digits)
    {
      code_digest (row->salt, code, digest);
      *out_right = sodium_memcmp (digest, row->digest, sizeof digest) == 0;
    }
  return TRUE;
}

/* A wrong guess for a kind that counts them per code: against the live
 * code only, which is spent at the last one it takes; with none live,
 * nothing is written, so guessing at a phone leaves no trace its owner
 * could trip over. */
static gboolean
settle_wrong_per_code (PvStore *store,
                       const PvOtpKind *kind,
                       const char *phone,
                       gint64 now,
                       PvOtpRow *row,
                       GError **refusal,
                       GError **error)
{
  g_set_error_literal (refusal, PV_ERROR, PV_ERROR_PERMISSION, _ ("Wrong or expired code"));
  if (!row->has_code || row->expires_at <= now)
    return TRUE;
  row->failures++;
  if (row->failures >= kind->failures)
    {
      row->has_code = FALSE;
      row->expires_at = 0;
      row->failures = 0;
    }
  return write_row (store, kind, phone, row, error);
}

gboolean
pv_otp_settle (PvStore *store,
               const PvOtpKind *kind,
               const char *phone,
               gint64 now,
               PvOtpRow *row,
               PvOtpOutcome outcome,
               gint64 *out_retry_at,
               GError **refusal,
               GError **error)
{
  switch (outcome)
    {
    case PV_OTP_USED:
      /* Spent: one code, one use. */
      row->has_code = FALSE;
      row->expires_at = 0;
      row->failures = 0;
      break;
    case PV_OTP_REFUSED:
      row->has_code = FALSE;
      row->expires_at = 0;
      break;
    case PV_OTP_WRONG:
      if (kind->per_code)
        return settle_wrong_per_code (store, kind, phone, now, row, refusal, error);
      row->failures++;
      if (row->failures >= kind->failures)
        {
          row->locked_until = now + kind->lockout;
          row->failures = 0;
          row->has_code = FALSE;
          row->expires_at = 0;
          if (out_retry_at)
            *out_retry_at = row->locked_until;
        }
      if (row->locked_until > now)
        g_set_error (refusal, PV_ERROR, PV_ERROR_PERMISSION,
                     _ ("Wrong code; too many wrong codes: locked for %lld minutes"),
                     (long long) (kind->lockout / (60 * G_USEC_PER_SEC)));
      else
        g_set_error_literal (refusal, PV_ERROR, PV_ERROR_PERMISSION, _ ("Wrong or expired code"));
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  return write_row (store, kind, phone, row, error);
}

gboolean
pv_otp_forget_idle (PvStore *store, const PvOtpKind *kind, gint64 now, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, kind->forget_sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, kind->window);
  return pv_store_step_done (store, stmt, error);
}
