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

/* This device's secret key, or PV_ERROR_NOT_INITIALIZED. */
gboolean pv_devices_get_secret_key (PvStore *store,
                                    guint8 out[PV_SECRET_KEY_SIZE],
                                    GError **error);

G_END_DECLS
