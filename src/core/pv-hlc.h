/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hlc.h: a hybrid logical clock. Time stamps follow wall time in
 * milliseconds yet never run backwards and always order a record after
 * everything its author had seen, so "earliest wins" means the same thing on
 * every replica even when device clocks disagree a little. */
#pragma once

#include "pv-types.h"

G_BEGIN_DECLS

#define PV_HLC_COUNTER_BITS 16
/* Stamps are stored in SQLite's signed 64-bit integers: nothing above. */
#define PV_HLC_MAX ((PvHlc) G_MAXINT64)
/* How far ahead of this device's clock a received time stamp may move it:
 * far enough for a laptop whose clock is hours wrong (a time zone set as
 * UTC) to still stamp its records after what it has seen, not so far that
 * one stamp near the top of the range can stop every clock it reaches. */
#define PV_HLC_MAX_AHEAD_US G_TIME_SPAN_DAY

PvHlc pv_hlc_make (gint64 wall_ms, guint16 counter);
gint64 pv_hlc_wall_ms (PvHlc hlc);
guint16 pv_hlc_counter (PvHlc hlc);

/* The time stamp of a local event after @last, at wall time @now_us. */
PvHlc pv_hlc_tick (PvHlc last, gint64 now_us);
/* The clock after seeing @remote: at least both @last and @remote. */
PvHlc pv_hlc_observe (PvHlc last, PvHlc remote, gint64 now_us);

G_END_DECLS
