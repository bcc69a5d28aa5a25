/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-visitor-codes.c: visitors' one-time codes (see the header). */
#include "pv-visitor-codes.h"

#include <sodium.h>

#include "pv-error.h"
#include "pv-otp.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

/* Visitors' codes, in the table visitor_codes. */
static const PvOtpKind visitor_codes = {
  PV_OTP_TABLE ("visitor_codes"),
  .digits = PV_VISITOR_CODE_DIGITS,
  .lifetime = PV_VISITOR_CODE_LIFETIME,
  .requests = PV_VISITOR_CODE_REQUESTS,
  .window = PV_VISITOR_CODE_WINDOW,
  .failures = PV_VISITOR_CODE_FAILURES,
  .per_code = TRUE,
};

static gboolean
has_tickets (PvStore *store, const char *phone, gboolean *out, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT 1 FROM people WHERE phone = ?1 LIMIT 1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, phone, -1, SQLITE_STATIC);
  *out = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
pv_visitor_code_request (PvStore *store,
                         const char *phone,
                         char out_code[PV_VISITOR_CODE_DIGITS + 1],
                         gint64 *out_retry_at,
                         GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  gint64 now = pv_store_now (store);
  gboolean found = FALSE;

  out_code[0] = '\0';
  if (out_retry_at)
    *out_retry_at = 0;
  if (normal == NULL)
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  /* Anyone on the web may try any number: rows that hold nothing any more
   * go, so phones tried once do not pile up. */
  if (!pv_otp_forget_idle (store, &visitor_codes, now, error) || !has_tickets (store, normal, &found, error)
      || !pv_otp_issue (store, &visitor_codes, normal, now, found, out_code, out_retry_at, error)
      || !pv_store_commit (store, error))
    {
      sodium_memzero (out_code, PV_VISITOR_CODE_DIGITS + 1);
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

gboolean
pv_visitor_code_verify (PvStore *store, const char *phone, const char *code, gint64 *out_retry_at, GError **error)
{
  g_autofree char *normal = pv_normalize_phone (phone, error);
  g_autoptr (GError) refusal = NULL;
  gint64 now = pv_store_now (store);
  gboolean right;
  PvOtpRow row;

  if (out_retry_at)
    *out_retry_at = 0;
  if (normal == NULL || !pv_store_begin (store, TRUE, error))
    return FALSE;
  /* One code, one look. */
  if (!pv_otp_check (store, &visitor_codes, normal, code, now, &row, &right, out_retry_at, error)
      || !pv_otp_settle (store, &visitor_codes, normal, now, &row, right ? PV_OTP_USED : PV_OTP_WRONG, out_retry_at,
                         &refusal, error)
      || !pv_store_commit (store, error))
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  if (refusal != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&refusal));
      return FALSE;
    }
  return TRUE;
}
