/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-device-list.h: the control room's view of every device — what the
 * admin's own replica knows (names, roles, revocations, newest records),
 * joined with what the hub hears when it can be asked (last call, sync
 * lag, records pending, clock skew). Shared by the dashboard's tile and
 * the devices page; asks the hub again every few seconds. */
#pragma once

#include <gio/gio.h>

#include "pv-devices.h"
#include "pv-types.h"

G_BEGIN_DECLS

/* A role as a person calls it ("Gate", "Desk", "Control room"), from its
 * name in the ledger and the hub's answers ("gate", …). */
const char *pv_role_title (const char *role);

/* Online: heard from within this. A station running keeps a live session
 * with the hub, which the hub counts as heard now, and one cut off
 * retries every 15 s at most; so a station closed a few minutes ago is
 * not online. Say the window wherever "online" is shown. */
#define PV_DEVICE_ONLINE_MINUTES 2
#define PV_DEVICE_STALE_AFTER ((gint64) PV_DEVICE_ONLINE_MINUTES * G_TIME_SPAN_MINUTE)

typedef struct
{
  PvDeviceStatus *status; /* from the replica */
  gint64 last_seen;       /* µs; 0: never */
  gint64 behind;          /* records it lacks; -1: unknown */
  gint64 pending;         /* records only it holds; -1: unknown */
  gboolean has_skew;
  gint64 skew_ms;  /* its clock less the hub's */
  char *url;       /* its sync URL, NULL when none */
  gboolean is_hub; /* the hub itself, as the hub says */
} PvDeviceRow;

#define PV_TYPE_DEVICE_LIST (pv_device_list_get_type ())
G_DECLARE_FINAL_TYPE (PvDeviceList, pv_device_list, PV, DEVICE_LIST, GObject)

/* Starts asking the hub every @interval_s seconds (0: only on refresh). */
PvDeviceList *pv_device_list_new (PvStore *store, guint interval_s);
/* Reads the replica again now and asks the hub ("changed" follows). */
void pv_device_list_refresh (PvDeviceList *self);
/* Element-type PvDeviceRow, by device id; valid until the next "changed". */
GPtrArray *pv_device_list_get_rows (PvDeviceList *self);
/* When the hub last answered (µs), 0 when it has not; and why not. */
gint64 pv_device_list_get_hub_answered (PvDeviceList *self);
const char *pv_device_list_get_hub_error (PvDeviceList *self);
/* Unrevoked devices other than this one heard from within
 * PV_DEVICE_STALE_AFTER of @now, and those not; @out_latest_stale (may be
 * NULL) the quiet one heard from last, NULL when none. */
void pv_device_list_count (PvDeviceList *self,
                           gint64 now,
                           guint *out_online,
                           guint *out_stale,
                           const PvDeviceRow **out_latest_stale);
/* When a device was last heard from, as a person says it: "seen just
 * now", "seen 4 min ago", "seen 3 h ago", "last seen 27 Nov 10:42" (the
 * event's clock), "never heard from". */
char *pv_device_list_format_seen (PvDeviceList *self, gint64 at, gint64 now);

G_END_DECLS
