/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-window.h: a station's window — the pages the device's role allows
 * (gate, desk; the control room's dashboard, tickets, double entries,
 * devices, volunteers and export in a sidebar), a header with the
 * station's name and its sync state. */
#pragma once

#include <adwaita.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_WINDOW (pv_window_get_type ())
G_DECLARE_FINAL_TYPE (PvWindow, pv_window, PV, WINDOW, AdwApplicationWindow)

/* A window on @store showing the pages @role allows; @camera_source
 * overrides the camera setting for this run (NULL: the setting). */
PvWindow *pv_window_new (GtkApplication *application,
                         PvStore *store,
                         GSettings *settings,
                         PvRole role,
                         const char *camera_source);

/* The pages, NULL when the role has none. */
GtkWidget *pv_window_get_gate_page (PvWindow *self);
GtkWidget *pv_window_get_desk_page (PvWindow *self);
/* Any page by name: "dashboard", "gate", "desk", "tickets", "doubles",
 * "devices", "volunteers", "export"; NULL when the role has none. */
GtkWidget *pv_window_get_page (PvWindow *self, const char *name);
/* What the header says this station is: "Gate 2 laptop · Gate 2". */
const char *pv_window_get_station (PvWindow *self);
/* Shows the page named so. */
void pv_window_show_page (PvWindow *self, const char *name);
void pv_window_toast (PvWindow *self, const char *text);
/* A volunteer signs in with their phone and the code the hub sends it;
 * the name and role signed in, or NULL. */
void pv_window_sign_in (PvWindow *self, const char *phone);
void pv_window_sign_in_code (PvWindow *self, const char *code);
const char *pv_window_get_volunteer (PvWindow *self);
/* The codes a "demo:" camera shows. */
void pv_window_set_demo_codes (PvWindow *self, const char *const *codes);

G_END_DECLS
