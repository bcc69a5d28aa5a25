/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-welcome.h: a station's first run — pair with a hub (its pairing QR
 * held up to the camera, or the PVPAIR: code pasted) or open a standalone
 * event file. The replica it ends with is handed to the "opened" signal. */
#pragma once

#include <adwaita.h>

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_WELCOME (pv_welcome_get_type ())
G_DECLARE_FINAL_TYPE (PvWelcome, pv_welcome, PV, WELCOME, AdwApplicationWindow)

/* Signal "opened" (PvStore *store): a replica is ready for the station.
 * @camera_source overrides the camera setting for scanning a pairing QR. */
PvWelcome *pv_welcome_new (GtkApplication *application, GSettings *settings, const char *camera_source);

/* Goes to pairing: the camera starts looking for a pairing QR. */
void pv_welcome_show_pairing (PvWelcome *self);
/* Pairs with @code as if pasted and confirmed. */
void pv_welcome_pair (PvWelcome *self, const char *code);
/* What the window says now: "" or the last error. */
const char *pv_welcome_get_message (PvWelcome *self);

G_END_DECLS
