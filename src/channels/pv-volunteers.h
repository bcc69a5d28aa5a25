/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers.h: the volunteers who staff desks and gates, and how they
 * sign in at a device: a six-digit one-time code sent to their phone
 * through the outbox, good for five minutes. Requests are limited per
 * phone, and a phone is locked out for a while after repeated wrong codes,
 * so a code cannot be guessed. The control room lists volunteers, turns
 * one off (a deactivated volunteer gets no code and cannot use one already
 * sent) or on again, and sees who signed in where. All of it lives in the
 * hub's file only. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_SIGN_IN_CODE_DIGITS 6
#define PV_SIGN_IN_CODE_LIFETIME (G_GINT64_CONSTANT (5 * 60) * G_USEC_PER_SEC)
/* Codes a phone may ask for in one window. */
#define PV_SIGN_IN_CODE_REQUESTS 3
#define PV_SIGN_IN_CODE_WINDOW (G_GINT64_CONSTANT (10 * 60) * G_USEC_PER_SEC)
/* Wrong codes before the phone is locked out, and for how long. */
#define PV_SIGN_IN_CODE_FAILURES 5
#define PV_SIGN_IN_CODE_LOCKOUT (G_GINT64_CONSTANT (15 * 60) * G_USEC_PER_SEC)

/* Sign-ins pv_volunteers_sign_ins() gives at most. */
#define PV_SIGN_INS_MAX 500

typedef struct
{
  gint64 id;
  char *name;
  char *phone; /* normalised */
  PvRole role;
  gboolean active;
  gint64 added_at; /* µs since the epoch */
  /* The newest sign-in (pv_volunteers_list() only): when (0: never), at
   * which device, and that device's name (NULL when this replica does not
   * know the device). */
  gint64 last_sign_in_at;
  guint16 last_sign_in_device;
  char *last_sign_in_device_name;
} PvVolunteer;

void pv_volunteer_clear (PvVolunteer *volunteer);

/* One sign-in: volunteer @volunteer_id (@name, @phone) at device @device_id
 * (@device_name, NULL when unknown) at @at µs. */
typedef struct
{
  gint64 at;
  gint64 volunteer_id;
  char *name;
  char *phone;
  guint16 device_id;
  char *device_name;
} PvSignIn;

void pv_sign_in_clear (PvSignIn *sign_in);

/* Adds a volunteer (PV_ERROR_EXISTS when the phone is taken, a deactivated
 * volunteer's included; PV_ERROR_INVALID for a bad name or phone). */
gboolean pv_volunteers_add (PvStore *store, const char *name, const char *phone, PvRole role, gint64 *out_id,
                            GError **error);

/* Every volunteer, active or not, ordered by name (element-type
 * PvVolunteer, cleared with the array), with their newest sign-in. */
GArray *pv_volunteers_list (PvStore *store, GError **error);

/* The id of the volunteer with @phone (written any way
 * pv_normalize_phone() takes), active or not: 0 with PV_ERROR_NOT_FOUND
 * when there is none, PV_ERROR_INVALID for a bad phone. */
gint64 pv_volunteers_find (PvStore *store, const char *phone, GError **error);

/* Deactivates volunteer @id (@active FALSE) or makes them active again:
 * PV_ERROR_NOT_FOUND for an unknown id. Setting what is already so is no
 * error and changes nothing. */
gboolean pv_volunteers_set_active (PvStore *store, gint64 id, gboolean active, GError **error);

/* The newest sign-ins first, at most @max (up to PV_SIGN_INS_MAX), as
 * element-type PvSignIn cleared with the array. */
GArray *pv_volunteers_sign_ins (PvStore *store, guint max, GError **error);

/* Makes a code for @phone and puts the message carrying it in the outbox,
 * marked as a sign-in code (PvOutboxMessage.sign_in). A phone that is no
 * volunteer's gets no code but the same answer, so the list of volunteers
 * cannot be probed. PV_ERROR_PERMISSION when the phone
 * asked too often or is locked out (with when to try again). */
gboolean pv_volunteers_request_code (PvStore *store, const char *phone, GError **error);

/* Checks @code for @phone, asked at device @device_id: TRUE and the
 * volunteer when it is right and in time (the code is then spent, and the
 * sign-in noted with the device and time in the same transaction);
 * PV_ERROR_PERMISSION otherwise, counting the failure toward a lockout. A
 * right code of a volunteer deactivated since it was sent is refused
 * (PV_ERROR_PERMISSION, saying so) and spent, not counted. */
gboolean pv_volunteers_verify_code (PvStore *store,
                                    const char *phone,
                                    const char *code,
                                    guint16 device_id,
                                    PvVolunteer *out,
                                    GError **error);

G_END_DECLS
