/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-rules.h: the entry rules of a category applied to one ticket's scans in
 * order. The same walk decides a scan at the gate and, replayed in canonical
 * order after merging, finds double entries — so both always agree. */
#pragma once

#include "pv-event.h"
#include "pv-types.h"

G_BEGIN_DECLS

typedef enum
{
  PV_VERDICT_ADMIT,
  PV_VERDICT_EXIT,  /* an exit scan, recorded */
  PV_VERDICT_VALID, /* verify only: genuine, nothing recorded */
  PV_VERDICT_ALREADY_USED,
  PV_VERDICT_NOT_INSIDE, /* exit scan of a ticket that is not inside */
  PV_VERDICT_WRONG_DAY,
  PV_VERDICT_NOT_YET_VALID,
  PV_VERDICT_EXPIRED,
  PV_VERDICT_OUTSIDE_HOURS,
  PV_VERDICT_WRONG_GATE,
  PV_VERDICT_REVOKED,
  PV_VERDICT_FORGED,
  PV_VERDICT_UNKNOWN_ISSUER,
  PV_VERDICT_WRONG_EVENT,
  PV_VERDICT_MALFORMED,
} PvVerdict;

const char *pv_verdict_to_string (PvVerdict verdict);
/* ADMIT, EXIT and VALID: the scan was accepted. */
gboolean pv_verdict_is_accepted (PvVerdict verdict);

/* One recorded scan of a ticket. */
typedef struct
{
  guint16 device_id;
  guint64 seq;
  PvHlc hlc;
  gint64 at;
  int day;
  guint party;
  gboolean is_exit;
  gboolean manual; /* decided by hand from a typed serial, no code read */
  gboolean is_double;
  gboolean is_void;    /* by a device after its revocation: counts for nothing */
  guint8 category;     /* as the scanning gate read it from the code */
  guint counted_party; /* its share of the day's visitors */
  char gate[PV_GATE_NAME_MAX_BYTES + 1];
} PvScan;

/* What the walk knows of a ticket after some of its scans. */
typedef struct
{
  int fixed_day;        /* any-one-day: the day its first entry chose; -1 */
  int day;              /* the day the counters below belong to; G_MININT none */
  guint counted;        /* entries counted against the day's allowance */
  gboolean inside;      /* entered and not yet exited */
  gint64 last_entry_at; /* for "already used at … at …" */
  char last_entry_gate[PV_GATE_NAME_MAX_BYTES + 1];
  int last_entry_day;
} PvTicketWalk;

void pv_ticket_walk_init (PvTicketWalk *walk);

/* Decides an entry scan of a ticket of @category (whose own day byte is
 * @ticket_day) on event @day, and advances the walk when it is admitted:
 * ADMIT, ALREADY_USED or WRONG_DAY. */
PvVerdict pv_ticket_walk_entry (PvTicketWalk *walk,
                                const PvCategory *category,
                                guint8 ticket_day,
                                int day,
                                gint64 at,
                                const char *gate);
/* EXIT when the ticket was inside on @day (and advances), else NOT_INSIDE. */
PvVerdict pv_ticket_walk_exit (PvTicketWalk *walk, int day);

G_END_DECLS
