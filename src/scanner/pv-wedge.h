/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-wedge.h: USB barcode scanners that pretend to be keyboards ("keyboard
 * wedges") type a code faster than any person and press Enter or Tab. This
 * parser turns timed key events into scans, tells a burst that is not a
 * ticket code from one that is, and swallows the same code read twice within
 * the hold-off. It knows nothing of GTK: the app feeds it characters. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PV_WEDGE_DEFAULT_MAX_GAP_MS 50
#define PV_WEDGE_DEFAULT_MIN_LENGTH 4

typedef enum
{
  PV_WEDGE_NONE,         /* nothing to report yet */
  PV_WEDGE_CODE,         /* a ticket code was scanned: *out_text */
  PV_WEDGE_NOT_A_TICKET, /* a fast burst that is not a ticket code: *out_text */
  PV_WEDGE_REPEAT,       /* the same code again within the hold-off */
} PvWedgeEvent;

typedef struct _PvWedge PvWedge;

PvWedge *pv_wedge_new (void);
void pv_wedge_free (PvWedge *wedge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvWedge, pv_wedge_free)

/* Keys further apart than this end a burst: a person typing. */
void pv_wedge_set_max_gap_ms (PvWedge *wedge, guint max_gap_ms);
void pv_wedge_set_hold_off_ms (PvWedge *wedge, guint hold_off_ms);

/* Feeds one printable character typed at @time_us (monotonic µs). */
PvWedgeEvent pv_wedge_feed_char (PvWedge *wedge, gunichar c, gint64 time_us, char **out_text);
/* Feeds Enter or Tab: ends a burst and reports what it was. */
PvWedgeEvent pv_wedge_feed_end (PvWedge *wedge, gint64 time_us, char **out_text);

G_END_DECLS
