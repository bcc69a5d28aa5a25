/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-sign-in.h: a volunteer signing in for a shift at a device — a
 * one-time code asked for by phone number, then given back — as typed
 * calls to the hub, so a window or a command hands over a phone and a
 * code and gets back how the code travels and who signed in, never a JSON
 * path. Each call is pv_api_call_async () (see pv-api-client.h) to the hub
 * this replica remembers, as this device, within @bound_ms (0: the
 * session's own timeout): the hub's refusal ("Wrong code", "try again in
 * 10 minutes") in its own words, a network failure as the network's
 * GError, and an answer without the shape a hub gives PV_ERROR_MALFORMED. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* How a sign-in code reaches the volunteer, as far as the hub said. */
typedef enum
{
  PV_API_CODE_SENT,      /* the hub sends it, by the channel it named */
  PV_API_CODE_NOT_SENT,  /* the hub cannot send it: the control room reads it out */
  PV_API_CODE_NOT_KNOWN, /* a hub from before it told, which says "sent" either way */
} PvApiCodeWay;

/* Asks the hub for a sign-in code for the phone @phone (the hub
 * normalizes it). The hub answers alike whether or not it is a
 * volunteer's. */
void pv_api_sign_in_request_code_async (PvStore *store,
                                        SoupSession *session,
                                        const char *phone,
                                        guint bound_ms,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
/* @out_way (optional): how the code travels; @out_channel (optional,
 * transfer full): the channel it went by ("sms") when PV_API_CODE_SENT,
 * else NULL. */
gboolean pv_api_sign_in_request_code_finish (GAsyncResult *result,
                                             PvApiCodeWay *out_way,
                                             char **out_channel,
                                             GError **error);

/* The volunteer a code signed in, at this device. */
typedef struct
{
  gint64 volunteer; /* the volunteer's id at the hub */
  char *name;
  char *role;   /* "gate", "desk" or "admin" */
  guint device; /* this device, as the hub knows it; 0 when not said */
} PvApiSignedIn;

void pv_api_signed_in_free (PvApiSignedIn *signed_in);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvApiSignedIn, pv_api_signed_in_free)

/* Signs in the volunteer with the phone @phone by the @code sent to it. */
void pv_api_sign_in_verify_async (PvStore *store,
                                  SoupSession *session,
                                  const char *phone,
                                  const char *code,
                                  guint bound_ms,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
/* Transfer full. */
PvApiSignedIn *pv_api_sign_in_verify_finish (GAsyncResult *result, GError **error);

G_END_DECLS
