/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-demo.h: `pravesh --demo` — a whole small fair on this machine: a hub
 * on loopback with a demo event, a few thousand tickets and a day and a
 * bit of entries, and this station paired with it, so a newcomer sees
 * everything working without a webcam or a network. */
#pragma once

#include <gio/gio.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_DEMO (pv_demo_get_type ())
G_DECLARE_FINAL_TYPE (PvDemo, pv_demo, PV, DEMO, GObject)

/* A demo in a new temporary folder, removed (hub stopped first) when the
 * demo is finalized. */
PvDemo *pv_demo_new (GError **error);
/* Builds the hub's file, starts pravesh-hub and pairs a station of @role
 * with it; the station's replica comes back from _finish. */
void pv_demo_start_async (PvDemo *self,
                          PvRole role,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
PvStore *pv_demo_start_finish (PvDemo *self, GAsyncResult *result, GError **error);
/* Codes for the demo camera to show, in turn: tickets to admit, one to
 * refuse as used, one forged, one for another day, with pauses ("": nobody
 * in front of the camera) before and between them. */
const char *const *pv_demo_get_codes (PvDemo *self);
const char *pv_demo_get_hub_url (PvDemo *self);

G_END_DECLS
