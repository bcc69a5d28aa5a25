/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-application.h: the `pravesh` program — its command line, its settings
 * and the one station window it opens on a replica file. */
#pragma once

#include <adwaita.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_APPLICATION_ID "in.pravesh.Pravesh"

#define PV_TYPE_APPLICATION (pv_application_get_type ())
G_DECLARE_FINAL_TYPE (PvApplication, pv_application, PV, APPLICATION, AdwApplication)

/* Before GTK starts: stations draw with cairo, not OpenGL, unless the
 * environment already says how (GSK_RENDERER or GDK_DEBUG). */
void pv_application_choose_renderer (void);
PvApplication *pv_application_new (void);
GSettings *pv_application_get_settings (PvApplication *self);
/* The station window, once the command line has opened one. */
GtkWindow *pv_application_get_station (PvApplication *self);
/* The first-run window, while it is open. */
GtkWindow *pv_application_get_welcome (PvApplication *self);
/* Fails, saying why in words, on a file a station must not open (the
 * hub's own). */
gboolean pv_application_check_station_file (PvStore *store, GError **error);

G_END_DECLS
