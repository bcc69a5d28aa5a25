/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-rules.c: entries per day, re-entry after exit and any-one-day tickets,
 * as one small state machine over a ticket's scans. */
#include "pv-rules.h"

#include "pv-ticket-code.h"

static const char *const verdict_names[] = {
  [PV_VERDICT_ADMIT] = "ADMIT",
  [PV_VERDICT_EXIT] = "EXIT",
  [PV_VERDICT_VALID] = "VALID",
  [PV_VERDICT_ALREADY_USED] = "ALREADY_USED",
  [PV_VERDICT_NOT_INSIDE] = "NOT_INSIDE",
  [PV_VERDICT_WRONG_DAY] = "WRONG_DAY",
  [PV_VERDICT_NOT_YET_VALID] = "NOT_YET_VALID",
  [PV_VERDICT_EXPIRED] = "EXPIRED",
  [PV_VERDICT_OUTSIDE_HOURS] = "OUTSIDE_HOURS",
  [PV_VERDICT_WRONG_GATE] = "WRONG_GATE",
  [PV_VERDICT_REVOKED] = "REVOKED",
  [PV_VERDICT_FORGED] = "FORGED",
  [PV_VERDICT_UNKNOWN_ISSUER] = "UNKNOWN_ISSUER",
  [PV_VERDICT_WRONG_EVENT] = "WRONG_EVENT",
  [PV_VERDICT_MALFORMED] = "MALFORMED",
};

const char *
pv_verdict_to_string (PvVerdict verdict)
{
  g_return_val_if_fail ((guint) verdict < G_N_ELEMENTS (verdict_names), "MALFORMED");
  return verdict_names[verdict];
}

gboolean
pv_verdict_is_accepted (PvVerdict verdict)
{
  return verdict == PV_VERDICT_ADMIT || verdict == PV_VERDICT_EXIT || verdict == PV_VERDICT_VALID;
}

void
pv_ticket_walk_init (PvTicketWalk *walk)
{
  *walk = (PvTicketWalk){
    .fixed_day = -1,
    .day = G_MININT,
    .last_entry_day = -1,
  };
}

static void
enter_day (PvTicketWalk *walk, int day)
{
  /* Allowances are per day, and nobody is still inside from yesterday. */
  if (walk->day != day)
    {
      walk->day = day;
      walk->counted = 0;
      walk->inside = FALSE;
    }
}

PvVerdict
pv_ticket_walk_entry (PvTicketWalk *walk,
                      const PvCategory *category,
                      guint8 ticket_day,
                      int day,
                      gint64 at,
                      const char *gate)
{
  gboolean reentry;

  if (category->validity == PV_VALIDITY_CHOSEN_DAY && ticket_day != PV_TICKET_DAY_NONE
      && ticket_day != day)
    return PV_VERDICT_WRONG_DAY;
  if (category->validity == PV_VALIDITY_ANY_ONE_DAY && walk->fixed_day >= 0
      && walk->fixed_day != day)
    return PV_VERDICT_WRONG_DAY;

  enter_day (walk, day);
  /* Coming back after an exit scan does not use up the day's allowance;
   * entering twice without leaving is what a shared screenshot looks like. */
  reentry = category->reentry && !walk->inside && walk->counted > 0;
  if (!reentry && category->entries_per_day != 0 && walk->counted >= category->entries_per_day)
    return PV_VERDICT_ALREADY_USED;

  if (!reentry)
    walk->counted++;
  walk->inside = TRUE;
  if (walk->fixed_day < 0)
    walk->fixed_day = day;
  walk->last_entry_at = at;
  walk->last_entry_day = day;
  g_strlcpy (walk->last_entry_gate, gate ? gate : "", sizeof walk->last_entry_gate);
  return PV_VERDICT_ADMIT;
}

PvVerdict
pv_ticket_walk_exit (PvTicketWalk *walk, int day)
{
  if (walk->day != day || !walk->inside)
    return PV_VERDICT_NOT_INSIDE;
  walk->inside = FALSE;
  return PV_VERDICT_EXIT;
}
