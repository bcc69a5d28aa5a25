/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-devices.h: creating an event and its first admin device, enrolling
 * further devices (each gets its own replica file, key and certificate) and
 * revoking them. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* Makes @store, which must be empty, the first admin device of @event: a new
 * event key pair (kept in this store's secrets), the event configuration and
 * this device's certificate as the first two records. */
gboolean pv_devices_create_event (PvStore *store,
                                  PvEvent *event,
                                  const char *device_name,
                                  GError **error);

/* Enrols a new device and writes its replica to @path (which must not
 * exist): this ledger, its own key pair, its certificate. Needs the event
 * secret key, so only the device that created the event (or the hub) can. */
gboolean pv_devices_add (PvStore *store,
                         PvRole role,
                         const char *name,
                         const char *path,
                         guint16 *out_device_id,
                         GError **error);

/* Enrols a device whose key pair was made on the device itself (pairing):
 * appends its certificate. Needs the event secret key. */
gboolean pv_devices_enroll (PvStore *store,
                            PvRole role,
                            const char *name,
                            const guint8 public_key[PV_PUBLIC_KEY_SIZE],
                            guint16 *out_device_id,
                            GError **error);

/* Writes the replica file of a device paired with a hub: its identity and
 * nothing more; its ledger, its own certificate among it, comes by sync.
 * @path must not exist. */
gboolean pv_devices_join (const char *path,
                          guint32 event_id,
                          guint16 device_id,
                          const guint8 secret_key[PV_SECRET_KEY_SIZE],
                          GError **error);

gboolean pv_devices_revoke (PvStore *store,
                            guint16 device_id,
                            const char *reason,
                            GError **error);

/* What a replica knows of one enrolled device. */
typedef struct
{
  guint16 id;
  char *name;
  char *role; /* "gate", "desk", "admin" */
  gboolean revoked;
  gint64 revoked_at; /* µs */
  char *revoke_reason;
  gboolean this_device;
  gint64 valid_from, valid_until; /* its certificate's, µs */
  gint64 last_record;             /* wall time (µs) of its newest record here; 0: none */
  gint64 last_contact;            /* when it last called this replica (µs); 0: never */
  gint64 last_seen;               /* the later of the two, a record stamped in the
                                   * future (a clock running fast) not counting */
  gint64 behind;                  /* records it lacked then; -1 when unknown */
  gint64 pending;                 /* records only it held then; -1 when unknown */
  gboolean has_skew;
  gint64 skew_ms; /* its clock less this replica's, at that call */
} PvDeviceStatus;

void pv_device_status_free (PvDeviceStatus *status);
/* Every enrolled device, by id (element-type PvDeviceStatus), with what
 * this replica last heard of it: its newest record, and its last call
 * here (the hub hears every device; another replica only its peers). */
GPtrArray *pv_devices_list (PvStore *store, GError **error);

/* What a device last said of itself when it called this replica's sync
 * server, kept in the store so that it outlives a restart. */
typedef struct
{
  guint16 device_id;
  gint64 seen;    /* its last call, µs */
  gint64 held;    /* records it held, -1 when unknown */
  gint64 behind;  /* records it lacked then */
  gint64 pending; /* of @held, records this replica lacked; -1 when unknown */
  gboolean has_skew;
  gint64 skew_ms;  /* its clock minus this replica's, when @has_skew */
  const char *url; /* where it serves sync to peers, or NULL; borrowed */
} PvSavedContact;

typedef void (*PvSavedContactFunc) (const PvSavedContact *contact, gpointer user_data);

/* Calls @func with each device's saved contact; @contact is valid only
 * during the call. */
gboolean pv_devices_foreach_saved_contact (PvStore *store,
                                           PvSavedContactFunc func,
                                           gpointer user_data,
                                           GError **error);
/* Saves @contact over what was saved for its device. */
gboolean pv_devices_save_contact (PvStore *store, const PvSavedContact *contact, GError **error);

/* The gate this replica's station stands at: chosen when it was paired or
 * on its first open, kept in the replica (never synced: each device has
 * its own). NULL when none was chosen or the event has no such gate any
 * more: then the station must ask before it scans. */
char *pv_devices_dup_gate (PvStore *store);
/* Makes @gate (any case) this station's gate. PV_ERROR_INVALID, in words
 * that list the event's gates, when the event has no such gate; nothing is
 * stored then. */
gboolean pv_devices_set_gate (PvStore *store, const char *gate, GError **error);
/* @gate as the event spells it, or NULL and PV_ERROR_INVALID in words. */
char *pv_devices_check_gate (PvStore *store, const char *gate, GError **error);

/* Whether @store is a hub's own file: the event's first replica, which
 * pravesh-hub has served from. A station must not open it as its own. */
gboolean pv_devices_is_hub_file (PvStore *store);

G_END_DECLS
