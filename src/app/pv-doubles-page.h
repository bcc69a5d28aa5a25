/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-doubles-page.h: the control room's list of double entries — tickets
 * that two gates let in beyond their allowance while they could not see
 * each other — each with both scans side by side (gate, time, device,
 * online or offline), newest first, so staff can follow up. */
#pragma once

#include <adwaita.h>

#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_DOUBLES_PAGE (pv_doubles_page_get_type ())
G_DECLARE_FINAL_TYPE (PvDoublesPage, pv_doubles_page, PV, DOUBLES_PAGE, AdwBin)

/* The most rows shown; the page says when there are more. */
#define PV_DOUBLES_PAGE_MAX_ROWS 500

/* The doubles of @store, kept up to date from @watch (may be NULL). Emits
 * "ticket-activated" (guint issuer, guint serial) when a row is clicked,
 * for the window to open that ticket. */
GtkWidget *pv_doubles_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings);

/* Reads the list again now (it also follows @watch by itself, at most
 * once a second, and only while on screen). */
void pv_doubles_page_refresh (PvDoublesPage *self);
/* The rows, newest first (none while the page says there are none), for
 * tests: each row's labels hold the serial, the day, and for both scans
 * the gate, the time, online or offline and the device's name. */
GtkListBox *pv_doubles_page_get_list (PvDoublesPage *self);

G_END_DECLS
