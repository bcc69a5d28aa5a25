/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-visitor-codes.h: the one-time codes by which a visitor finds their
 * tickets again on the hub's web pages: six digits sent to the phone the
 * tickets were issued to, good for five minutes and for one look, kept only
 * as a salted digest. As for volunteers' sign-in codes (pv-volunteers.h),
 * requests are limited per phone; and a phone that holds no tickets gets
 * the same answer, so nobody learns from it whether a number registered.
 * Unlike them, anyone on the web may guess at any phone, so wrong guesses
 * never lock a phone out (a stranger would lock its owner out): they count
 * against the code actually sent, which a few of them spend — the owner
 * asks for another —, and a guess when no code is live counts nowhere.
 * What slows a guesser down is the caller's, per client (pv-hub-web.c).
 * The table lives in the hub's file only. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_VISITOR_CODE_DIGITS 6
#define PV_VISITOR_CODE_LIFETIME (G_GINT64_CONSTANT (5 * 60) * G_USEC_PER_SEC)
/* Codes a phone may ask for in one window. */
#define PV_VISITOR_CODE_REQUESTS 3
#define PV_VISITOR_CODE_WINDOW (G_GINT64_CONSTANT (15 * 60) * G_USEC_PER_SEC)
/* Wrong guesses a code takes before it is spent. More than one client
 * makes in the code's five minutes once the web's limits per client slow
 * it down, so one stranger cannot spend the owner's code; few enough that
 * guessing one stays a one in 100,000 chance. */
#define PV_VISITOR_CODE_FAILURES 10

/* Makes a new code for @phone (written any way pv_normalize_phone() takes)
 * when this store holds tickets issued to it, and gives it in @out_code for
 * the caller to send; @out_code is "" when the phone holds none, and the
 * request is counted all the same. Joins the caller's transaction when one
 * is open, so the message carrying the code can be queued in it.
 * PV_ERROR_INVALID for a bad phone; PV_ERROR_PERMISSION when the phone
 * asked too often, with @out_retry_at (optional) set to the time (µs, the
 * store's clock) it may ask again. On any error nothing is written and an
 * open transaction is rolled back. */
gboolean pv_visitor_code_request (PvStore *store,
                                  const char *phone,
                                  char out_code[PV_VISITOR_CODE_DIGITS + 1],
                                  gint64 *out_retry_at,
                                  GError **error);

/* TRUE when @code is the code last sent to @phone and still in time: the
 * code is then spent. Otherwise PV_ERROR_PERMISSION, the guess counted
 * against the live code (the PV_VISITOR_CODE_FAILURES-th spends it), or
 * nowhere when there is none; PV_ERROR_INVALID for a bad phone.
 * @out_retry_at (optional) is 0. */
gboolean pv_visitor_code_verify (PvStore *store,
                                 const char *phone,
                                 const char *code,
                                 gint64 *out_retry_at,
                                 GError **error);

G_END_DECLS
