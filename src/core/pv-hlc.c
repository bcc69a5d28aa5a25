/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hlc.c: hybrid logical clock arithmetic (Kulkarni et al., 2014), packed
 * into one 64-bit integer so SQLite can sort by it. */
#include "pv-hlc.h"

#define COUNTER_MASK ((G_GUINT64_CONSTANT (1) << PV_HLC_COUNTER_BITS) - 1)

PvHlc
pv_hlc_make (gint64 wall_ms, guint16 counter)
{
  return ((guint64) MAX (wall_ms, 0) << PV_HLC_COUNTER_BITS) | counter;
}

gint64
pv_hlc_wall_ms (PvHlc hlc)
{
  return (gint64) (hlc >> PV_HLC_COUNTER_BITS);
}

guint16
pv_hlc_counter (PvHlc hlc)
{
  return (guint16) (hlc & COUNTER_MASK);
}

PvHlc
pv_hlc_tick (PvHlc last, gint64 now_us)
{
  PvHlc physical = pv_hlc_make (now_us / 1000, 0);

  /* When the wall clock has not moved past @last (same millisecond, or the
   * clock was set back), count up instead; the counter overflowing into the
   * millisecond field is harmless: it is just a slightly later time. */
  if (physical > last)
    return physical;
  /* Saturate at the top of the signed range SQLite sorts by, instead of
   * wrapping; never reached with sane clocks. */
  return last >= PV_HLC_MAX ? PV_HLC_MAX : last + 1;
}

PvHlc
pv_hlc_observe (PvHlc last, PvHlc remote, gint64 now_us)
{
  PvHlc bound = pv_hlc_make ((now_us + PV_HLC_MAX_AHEAD_US) / 1000, 0);

  return pv_hlc_tick (MAX (last, MIN (remote, bound)), now_us);
}
