/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-admin.h: the control room's admin API, for admin devices only (and
 * the hub's own token): the hub holds the event key and the volunteers'
 * phones, which an admin laptop does not. JSON in and out, times in µs
 * since the epoch. A body that is not a JSON object, or a member of the
 * wrong type, is 400; a value the rules refuse is 422; each with words a
 * person can act on. Nothing is changed by a refused request. The paths,
 * methods and body limits are in the route table (pv-hub-routes.c).
 *
 *   GET  /api/v1/devices                 every device, with what the hub last
 *                                        heard from each
 *   POST /api/v1/devices/revoke          {"device": 3, "reason": "Stolen laptop"}
 *   POST /api/v1/invite                  {"role", "name", "gate", "hours"} → a
 *                                        one-time pairing code
 *   GET  /api/v1/volunteers              every volunteer
 *   POST /api/v1/volunteers              {"name", "phone", "role"}: one more
 *   POST /api/v1/volunteers/deactivate   {"id": 1, "active": false}
 *   GET  /api/v1/volunteers/sign-ins     the newest sign-ins first */
#pragma once

#include "pv-hub-routes.h"

G_BEGIN_DECLS

void pv_hub_admin_devices (PvHub *hub, PvHubCall *call);
void pv_hub_admin_revoke (PvHub *hub, PvHubCall *call);
void pv_hub_admin_invite (PvHub *hub, PvHubCall *call);
void pv_hub_admin_volunteers (PvHub *hub, PvHubCall *call);
void pv_hub_admin_deactivate (PvHub *hub, PvHubCall *call);
void pv_hub_admin_sign_ins (PvHub *hub, PvHubCall *call);

G_END_DECLS
