/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-devices-page.h: the control room's devices — each with its role, when
 * it was last heard from, how far behind it is, what it holds that the
 * hub does not, and how wrong its clock is; revoking one (after a
 * confirmation, with a reason) and pairing a new one with a QR on screen.
 * Revocations and invitations are the hub's to make, as it holds the
 * event's key. */
#pragma once

#include <adwaita.h>

#include "pv-device-list.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_DEVICES_PAGE (pv_devices_page_get_type ())
G_DECLARE_FINAL_TYPE (PvDevicesPage, pv_devices_page, PV, DEVICES_PAGE, AdwBin)

GtkWidget *pv_devices_page_new (PvStore *store, PvDeviceList *devices);

/* The list's rows (AdwActionRows, one per device), for tests. */
GtkListBox *pv_devices_page_get_list (PvDevicesPage *self);
/* The pairing code on show after "Pair a New Device", or NULL. */
const char *pv_devices_page_get_pairing_code (PvDevicesPage *self);
/* Asks the hub for an invitation as the dialog does. */
void pv_devices_page_invite (PvDevicesPage *self, const char *role, const char *name);
/* The same for a station standing at @gate (NULL: it asks when opened). */
void pv_devices_page_invite_at (PvDevicesPage *self, const char *role, const char *name, const char *gate);
/* Asks the hub to revoke @device as the confirmation does. */
void pv_devices_page_revoke (PvDevicesPage *self, guint device, const char *reason);
/* Asks the hub again now. */
void pv_devices_page_refresh (PvDevicesPage *self);
/* The id of the device named @name, 0 when there is none. */
guint pv_devices_page_find_device (PvDevicesPage *self, const char *name);
/* The line over the list saying whose view it is (the hub's, or this
 * replica's when the hub cannot be asked). */
const char *pv_devices_page_get_note (PvDevicesPage *self);
/* The last thing the page said (a hub error, "Revoked …"), for tests. */
const char *pv_devices_page_get_status (PvDevicesPage *self);

G_END_DECLS
