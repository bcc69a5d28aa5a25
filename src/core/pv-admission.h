/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-admission.h: the one function that turns a scanned code into a verdict,
 * from the code, the event, a clock and the local ledger — and the scan that
 * records the verdict atomically with the decision. */
#pragma once

#include <glib.h>

#include "pv-rules.h"
#include "pv-ticket-code.h"
#include "pv-types.h"

G_BEGIN_DECLS

struct _PvDecision
{
  PvVerdict verdict;
  char *message;        /* one sentence for the screen, translated */
  gboolean have_ticket; /* the code parsed: the fields below are set */
  PvTicket ticket;
  char *serial;   /* "3-000145" */
  char *category; /* category name, NULL when unknown */
  int day;        /* event day index of the scan */
  guint n_days;
  guint party; /* people admitted or leaving */
  gint64 at;
  char *gate;
  gboolean offline;
  gboolean manual;    /* decided by hand from a typed serial */
  gint64 previous_at; /* ALREADY_USED, WRONG_DAY: the earlier entry, or 0 */
  char *previous_gate;
  int valid_day;     /* WRONG_DAY: the ticket's day, or -1 */
  guint16 device_id; /* the scan record written, or 0 */
  guint64 seq;
};

void pv_decision_clear (PvDecision *decision);

/* Decides without recording. @gate must be one of the event's gates
 * (PV_ERROR_NOT_FOUND otherwise); errors are for the store, not the ticket:
 * every ticket problem is a verdict. */
gboolean pv_admission_decide (PvStore *store,
                              const char *code,
                              const char *gate,
                              gint64 at,
                              gboolean is_exit,
                              PvDecision *out,
                              GError **error);

/* Decides and, when the scan is accepted, records the entry or exit in the
 * same write transaction, so two processes cannot both admit once. */
gboolean pv_admission_scan (PvStore *store,
                            const char *code,
                            const char *gate,
                            gint64 at,
                            gboolean is_exit,
                            gboolean offline,
                            PvDecision *out,
                            GError **error);

/* As pv_admission_scan (), for a decision made by hand: the volunteer typed
 * the serial and checked the ticket by eye, no code was read. Recorded as
 * a manual entry or exit, so it can be told apart. */
gboolean pv_admission_scan_manual (PvStore *store,
                                   const char *code,
                                   const char *gate,
                                   gint64 at,
                                   gboolean is_exit,
                                   gboolean offline,
                                   PvDecision *out,
                                   GError **error);

/* Checks only that the ticket is genuine and in force (signature, issuer,
 * event, revocation): VALID or the refusal. */
gboolean pv_admission_verify (PvStore *store,
                              const char *code,
                              gint64 at,
                              PvDecision *out,
                              GError **error);

G_END_DECLS
