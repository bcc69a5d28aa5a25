/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-preferences.h: the station's settings — camera, sounds,
 * timings, hub and peers, kiosk PIN — each checked before it is written
 * and applied at once by whoever watches it. */
#pragma once

#include <adwaita.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_PREFERENCES (pv_preferences_get_type ())
G_DECLARE_FINAL_TYPE (PvPreferences, pv_preferences, PV, PREFERENCES, AdwPreferencesWindow)

/* @store: the replica open now, for its event's gates and its hub (may be
 * NULL). */
PvPreferences *pv_preferences_new (GtkWindow *parent, GSettings *settings, PvStore *store);

/* Checks, used by the window and by tests: NULL when @text is fine, else
 * why not, translated. */
const char *pv_preferences_check_url (const char *text);
const char *pv_preferences_check_peers (const char *text);
const char *pv_preferences_check_pin (const char *text);
const char *pv_preferences_check_listen (const char *text);

G_END_DECLS
