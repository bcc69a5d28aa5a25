/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers.h: the volunteers who staff desks and gates, and how they
 * sign in at a device: a six-digit one-time code sent to their phone
 * through the outbox, good for five minutes. Requests are limited per
 * phone, and a phone is locked out for a while after repeated wrong codes,
 * so a code cannot be guessed. All of it lives in the hub's file only. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_OTP_DIGITS 6
#define PV_OTP_LIFETIME (G_GINT64_CONSTANT (5 * 60) * G_USEC_PER_SEC)
/* Codes a phone may ask for in one window. */
#define PV_OTP_REQUESTS 3
#define PV_OTP_WINDOW (G_GINT64_CONSTANT (10 * 60) * G_USEC_PER_SEC)
/* Wrong codes before the phone is locked out, and for how long. */
#define PV_OTP_FAILURES 5
#define PV_OTP_LOCKOUT (G_GINT64_CONSTANT (15 * 60) * G_USEC_PER_SEC)

typedef struct
{
  gint64 id;
  char *name;
  char *phone; /* normalised */
  PvRole role;
} PvVolunteer;

void pv_volunteer_clear (PvVolunteer *volunteer);

/* Adds a volunteer (PV_ERROR_EXISTS when the phone is taken). */
gboolean pv_volunteers_add (PvStore *store, const char *name, const char *phone, PvRole role, gint64 *out_id,
                            GError **error);

/* Makes a code for @phone and puts the message carrying it in the outbox.
 * A phone that is no volunteer's gets no code but the same answer, so the
 * list of volunteers cannot be probed. PV_ERROR_PERMISSION when the phone
 * asked too often or is locked out (with when to try again). */
gboolean pv_otp_request (PvStore *store, const char *phone, GError **error);

/* Checks @code for @phone: TRUE and the volunteer when it is right and in
 * time (the code is then spent); PV_ERROR_PERMISSION otherwise, counting
 * the failure toward a lockout. */
gboolean pv_otp_verify (PvStore *store, const char *phone, const char *code, PvVolunteer *out, GError **error);

/* The newest message in the outbox for @phone, or NULL. */
char *pv_outbox_newest (PvStore *store, const char *phone, GError **error);

G_END_DECLS
