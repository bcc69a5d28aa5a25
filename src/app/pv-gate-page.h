/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-gate-page.h: the gate station — the camera's live picture, a scanner
 * that reads codes from it and from a keyboard-wedge reader whatever has
 * focus, and the verdict filling the page the moment a code is read:
 * green to let in, red with the reason to refuse, amber when let in
 * without the hub's word. */
#pragma once

#include <adwaita.h>

#include "pv-sounds.h"
#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

#define PV_TYPE_GATE_PAGE (pv_gate_page_get_type ())
G_DECLARE_FINAL_TYPE (PvGatePage, pv_gate_page, PV, GATE_PAGE, AdwBin)

/* A page deciding at the gate @store's replica stands at (see
 * pv_devices_dup_gate(); when it knows none, the page asks before its
 * first scan), telling @watch (may be NULL) of the records it writes.
 * @camera_source overrides the "camera" setting for this run when not
 * NULL. It emits "gate-changed" when another gate is chosen (see
 * pv_gate_page_get_gate()). */
GtkWidget *pv_gate_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings, const char *camera_source);
/* Starts the camera; a camera that cannot start is said on the page (the
 * wedge and the lookup still work). */
void pv_gate_page_start (PvGatePage *self);
void pv_gate_page_stop (PvGatePage *self);
/* The codes a "demo:" camera shows, in turn. */
void pv_gate_page_set_demo_codes (PvGatePage *self, const char *const *codes);

/* Shows the chooser of the event's gates ("Change Gate…", which the
 * window's "win.change-gate" guards with the kiosk PIN); with a gate known
 * already, it may be kept. */
void pv_gate_page_ask_gate (PvGatePage *self);

/* Puts the keyboard in the lookup by serial (also Ctrl+F). */
void pv_gate_page_focus_lookup (PvGatePage *self);
/* Decides @code as if it had just been scanned. */
void pv_gate_page_scan (PvGatePage *self, const char *code);

/* What the page shows now, for tests and screen readers: the verdict's
 * parts ("" when idle; the serial as "Ticket 3-000145") and its colour ("admit", "refuse", "offline",
 * "exit", "manual" — a serial typed by hand — or NULL when idle). */
const char *pv_gate_page_get_headline (PvGatePage *self);
const char *pv_gate_page_get_what (PvGatePage *self);
const char *pv_gate_page_get_detail (PvGatePage *self);
const char *pv_gate_page_get_serial (PvGatePage *self);
const char *pv_gate_page_get_note (PvGatePage *self);
const char *pv_gate_page_get_style (PvGatePage *self);
/* Signal "verdict-drawn" (gint64 captured_at, gint64 drawn_at), monotonic
 * µs: a verdict reached the screen, for a code from a frame that entered
 * the pipeline at @captured_at (the scan's time for other sources).
 * How many verdicts the page has shown since it was made: */
guint pv_gate_page_get_n_verdicts (PvGatePage *self);
/* The gate entries are recorded under, NULL while none is chosen; whether
 * the page is asking for one now (nothing is scanned then); the chooser's
 * button for @gate, NULL when it has none; what the chooser says besides
 * ("" or why a scan was turned away); the count line under the picture
 * ("Gate 2 · 3 admitted today · …"). */
const char *pv_gate_page_get_gate (PvGatePage *self);
gboolean pv_gate_page_is_asking_gate (PvGatePage *self);
GtkWidget *pv_gate_page_get_gate_button (PvGatePage *self, const char *gate);
const char *pv_gate_page_get_gate_note (PvGatePage *self);
const char *pv_gate_page_get_count (PvGatePage *self);
PvSounds *pv_gate_page_get_sounds (PvGatePage *self);
/* The lookup by serial (hidden when Preferences turn it off), the line
 * under the count (the lookup's refusals in words), and the exit mode's
 * banner (NULL when not in exit mode). */
GtkWidget *pv_gate_page_get_lookup (PvGatePage *self);
const char *pv_gate_page_get_hint (PvGatePage *self);
const char *pv_gate_page_get_exit_banner (PvGatePage *self);
/* Returns to the idle page at once, as Escape or a click on the verdict
 * does; FALSE when no verdict was shown. */
gboolean pv_gate_page_dismiss (PvGatePage *self);

G_END_DECLS
