/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-otp.h: the mechanics every kind of one-time code sent to a phone
 * shares — volunteers' sign-in codes (pv-volunteers.h, table otps) and
 * visitors' codes to find their tickets again (pv-visitor-codes.h, table
 * visitor_codes). Per phone, one row keeps only a salted digest of the live
 * code and when it expires, the requests counted in the current window,
 * and the wrong codes counted toward a lockout (or, for a kind whose
 * guesses count per code, toward spending the code); codes are compared in
 * constant time. Each kind names its table and its limits in a PvOtpKind;
 * who may get a code, what the message says and what a right code opens
 * stay with the kind's own module, as do transactions: these functions
 * work inside the caller's. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_OTP_SALT_SIZE 16
#define PV_OTP_DIGEST_SIZE 32
/* The longest code a kind may have (randombytes_uniform()'s range). */
#define PV_OTP_MAX_DIGITS 9

/* The statements on @table, a table with the columns of otps (channels'
 * migration 0001-volunteers.sql), for a PvOtpKind's initialiser: string
 * literals, so the store's statement cache finds them by address. */
#define PV_OTP_TABLE(table)                                                                                       \
  .read_sql = "SELECT locked_until, window_start, requests, failures, expires_at, code_digest, salt "             \
              "FROM " table " WHERE phone = ?1",                                                                  \
  .write_sql = "INSERT OR REPLACE INTO " table " (phone, code_digest, salt, expires_at, failures, locked_until, " \
               "  window_start, requests) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",                               \
  .forget_sql = "DELETE FROM " table " WHERE expires_at <= ?1 AND locked_until <= ?1 AND window_start <= ?1 - ?2"

/* One kind of code: where it is kept, and its limits (times in µs). */
typedef struct
{
  const char *read_sql, *write_sql, *forget_sql; /* PV_OTP_TABLE () */
  guint digits;                                  /* up to PV_OTP_MAX_DIGITS */
  gint64 lifetime;
  /* Codes a phone may ask for in one window. */
  guint requests;
  gint64 window;
  /* Wrong codes before the phone is locked out, and for how long. */
  guint failures;
  gint64 lockout;
  /* Wrong codes count against the live code alone: a guess when no code
   * is live counts nowhere and writes nothing, and @failures wrong ones
   * spend the code instead of locking the phone out (@lockout unused).
   * For codes anyone may guess at for any phone — on a public page —,
   * where a lockout per phone would let a stranger lock its owner out;
   * the caller limits guesses per client instead. */
  gboolean per_code;
} PvOtpKind;

/* A phone's row (all zero when it has none). */
typedef struct
{
  gint64 locked_until, window_start, requests, failures, expires_at;
  guint8 digest[PV_OTP_DIGEST_SIZE], salt[PV_OTP_SALT_SIZE];
  gboolean has_code;
} PvOtpRow;

/* What becomes of a code pv_otp_check() looked at. */
typedef enum
{
  PV_OTP_USED,    /* right, and let in: spent, the wrong codes before it forgotten */
  PV_OTP_REFUSED, /* right, but its holder may no longer use it: spent, and no guess */
  PV_OTP_WRONG,   /* wrong or expired: counted toward a lockout (per_code: against the live code) */
} PvOtpOutcome;

/* Counts a request for a code to @phone (normalised) at @now and, when
 * @deliver, makes a new code, keeps its digest and gives it in @out_code
 * (kind->digits + 1 bytes) for the caller to send; @out_code is "" when not
 * @deliver, and the request is counted all the same, so a phone that may
 * have no code cannot be told apart by when the limit bites. Wrong codes
 * count across codes: a new code does not start that count again (unless
 * the kind counts them per code).
 * PV_ERROR_PERMISSION when the phone is locked out or asked too often,
 * with @out_retry_at (optional) set to when it may ask again; then, as on
 * any error, nothing is written and @out_code is "". */
gboolean pv_otp_issue (PvStore *store,
                       const PvOtpKind *kind,
                       const char *phone,
                       gint64 now,
                       gboolean deliver,
                       char *out_code,
                       gint64 *out_retry_at,
                       GError **error);

/* Reads @phone's row into @row and sets @out_right to whether @code (NULL
 * allowed) is its live code at @now. FALSE with PV_ERROR_PERMISSION, having
 * written nothing, when the phone is locked out (@out_retry_at, optional,
 * set to when the lockout ends); with PV_ERROR_STORE when the store fails.
 * The caller settles the outcome with pv_otp_settle(). */
gboolean pv_otp_check (PvStore *store,
                       const PvOtpKind *kind,
                       const char *phone,
                       const char *code,
                       gint64 now,
                       PvOtpRow *row,
                       gboolean *out_right,
                       gint64 *out_retry_at,
                       GError **error);

/* Writes what @outcome makes of @row, checked by pv_otp_check() at @now.
 * For PV_OTP_WRONG, @refusal gets the PV_ERROR_PERMISSION for the person
 * (and @out_retry_at, optional, the lockout's end when this guess began
 * one); for a per_code kind with no live code, nothing is written. FALSE
 * only when the store fails. */
gboolean pv_otp_settle (PvStore *store,
                        const PvOtpKind *kind,
                        const char *phone,
                        gint64 now,
                        PvOtpRow *row,
                        PvOtpOutcome outcome,
                        gint64 *out_retry_at,
                        GError **refusal,
                        GError **error);

/* Deletes the rows that hold nothing any more at @now: no live code, no
 * lockout, no request counted in a window. */
gboolean pv_otp_forget_idle (PvStore *store, const PvOtpKind *kind, gint64 now, GError **error);

G_END_DECLS
