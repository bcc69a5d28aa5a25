/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-api-admin.h: the control room's calls to the hub's admin API, typed —
 * the volunteers who may sign in, and the devices enrolled, invited and
 * revoked — so a page hands over names and numbers and gets back structs,
 * never a JSON path. Each call is pv_api_call_async () (see
 * pv-api-client.h) to the hub this replica remembers, as this device,
 * within @bound_ms (0: the session's own timeout): the same threads, the
 * same errors — the hub's refusal in its own words, a network failure as
 * the network's GError — and an answer that does not have the shape the
 * hub gives is PV_ERROR_MALFORMED. */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* Volunteers */

typedef struct
{
  gint64 id;
  char *name;
  char *phone; /* as the hub keeps it, normalized */
  char *role;  /* "gate", "desk" or "admin" */
  gboolean active;
  gint64 added_at;                /* µs, on the hub's clock */
  gint64 last_sign_in_at;         /* µs; 0: never signed in */
  char *last_sign_in_device_name; /* NULL when never, or not said */
} PvApiVolunteer;

void pv_api_volunteer_free (PvApiVolunteer *volunteer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvApiVolunteer, pv_api_volunteer_free)

typedef struct
{
  gint64 at; /* µs, on the hub's clock */
  gint64 volunteer;
  char *name;
  char *phone;
  guint device;
  char *device_name;
} PvApiSignIn;

void pv_api_sign_in_free (PvApiSignIn *sign_in);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvApiSignIn, pv_api_sign_in_free)

/* Every volunteer the hub holds (GET /api/v1/volunteers). */
void pv_api_volunteers_list_async (PvStore *store,
                                   SoupSession *session,
                                   guint bound_ms,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
/* Transfer full: element-type PvApiVolunteer, freed with the array. */
GPtrArray *pv_api_volunteers_list_finish (GAsyncResult *result, GError **error);

/* The newest sign-ins first (GET /api/v1/volunteers/sign-ins). */
void pv_api_sign_ins_list_async (PvStore *store,
                                 SoupSession *session,
                                 guint bound_ms,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
/* Transfer full: element-type PvApiSignIn, freed with the array. */
GPtrArray *pv_api_sign_ins_list_finish (GAsyncResult *result, GError **error);

/* One more volunteer, @name with the phone @phone (the hub normalizes
 * it), working as @role ("gate", "desk" or "admin"). */
void pv_api_volunteer_add_async (PvStore *store,
                                 SoupSession *session,
                                 const char *name,
                                 const char *phone,
                                 const char *role,
                                 guint bound_ms,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
/* @out_id (optional): the new volunteer's id. */
gboolean pv_api_volunteer_add_finish (GAsyncResult *result, gint64 *out_id, GError **error);

/* Lets volunteer @id sign in again (@active) or no longer. */
void pv_api_volunteer_set_active_async (PvStore *store,
                                        SoupSession *session,
                                        gint64 id,
                                        gboolean active,
                                        guint bound_ms,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
gboolean pv_api_volunteer_set_active_finish (GAsyncResult *result, GError **error);

/* Devices */

/* A device as the hub hears it; times on the hub's clock. */
typedef struct
{
  guint id;
  char *name;
  char *role;
  gboolean is_hub; /* the hub itself, which no admin may revoke */
  gboolean revoked;
  gint64 revoked_at; /* µs; 0 when not revoked */
  char *revoke_reason;
  gint64 last_seen; /* µs; 0: never */
  gint64 behind;    /* records it lacks; -1: unknown */
  gint64 pending;   /* records only it holds; -1: unknown */
  gboolean has_skew;
  gint64 skew_ms; /* its clock less the hub's */
  char *url;      /* its sync URL, NULL when none */
} PvApiDevice;

void pv_api_device_free (PvApiDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvApiDevice, pv_api_device_free)

/* Every enrolled device, the hub and revoked ones included, with what the
 * hub last heard from each (GET /api/v1/devices). */
void pv_api_devices_list_async (PvStore *store,
                                SoupSession *session,
                                guint bound_ms,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
/* Transfer full: element-type PvApiDevice, freed with the array;
 * @out_now (optional): the hub's clock when it answered, 0 when it did
 * not say. */
GPtrArray *pv_api_devices_list_finish (GAsyncResult *result, gint64 *out_now, GError **error);

/* Revokes device @device for @reason, in the hub's ledger. */
void pv_api_device_revoke_async (PvStore *store,
                                 SoupSession *session,
                                 guint device,
                                 const char *reason,
                                 guint bound_ms,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean pv_api_device_revoke_finish (GAsyncResult *result, GError **error);

/* A one-time pairing code, as the hub made it. */
typedef struct
{
  char *code; /* "PVPAIR:…" */
  char *role;
  char *name;
  char *gate;     /* NULL when the device will ask */
  gint64 expires; /* µs, on the hub's clock */
} PvApiInvitation;

void pv_api_invitation_free (PvApiInvitation *invitation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvApiInvitation, pv_api_invitation_free)

/* Invites a new @role device ("gate", "desk" or "admin") named @name,
 * standing at @gate (NULL: asked on the device). */
void pv_api_invite_async (PvStore *store,
                          SoupSession *session,
                          const char *role,
                          const char *name,
                          const char *gate,
                          guint bound_ms,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
/* Transfer full. */
PvApiInvitation *pv_api_invite_finish (GAsyncResult *result, GError **error);

G_END_DECLS
