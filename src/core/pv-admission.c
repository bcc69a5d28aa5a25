/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-admission.c: the admission decision. Checks run cheapest and most
 * certain first — does it parse, is it ours, who signed it, is the signature
 * good, is it revoked — then the calendar, the gate and the ticket's history
 * through the same rule walk that later finds double entries. */
#include "config.h"

#include "pv-admission.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-i18n.h"
#include "pv-ledger.h"
#include "pv-state.h"
#include "pv-store-private.h"

void
pv_decision_clear (PvDecision *decision)
{
  g_free (decision->message);
  g_free (decision->serial);
  g_free (decision->category);
  g_free (decision->gate);
  g_free (decision->previous_gate);
  memset (decision, 0, sizeof *decision);
}

static gboolean
refuse (PvDecision *out, PvVerdict verdict, char *message)
{
  out->verdict = verdict;
  g_free (out->message);
  out->message = message;
  return TRUE;
}

static char *
format_clock (PvEvent *event, gint64 at)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, at);

  return local ? g_date_time_format (local, "%H:%M") : g_strdup ("?");
}

/* Is the ticket revoked, by itself or through its issuing device? */
static gboolean
check_revoked (PvStore *store, const PvDeviceInfo *issuer, PvDecision *out, GError **error)
{
  gint64 issued_at = (gint64) out->ticket.issued_at * G_USEC_PER_SEC;
  sqlite3_stmt *stmt;
  int rc;

  if (issuer->revoked_at != G_MAXINT64 && issued_at >= issuer->revoked_at)
    return refuse (out, PV_VERDICT_REVOKED,
                   g_strdup_printf (_ ("Issued by %s after that device was revoked"), issuer->name));

  stmt = pv_store_prepare (store,
                           "SELECT reason FROM ticket_revocations WHERE issuer = ?1 AND serial = ?2",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, out->ticket.issuer);
  sqlite3_bind_int64 (stmt, 2, out->ticket.serial);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    refuse (out, PV_VERDICT_REVOKED,
            g_strdup_printf (_ ("Revoked: %s"), (const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read revocations");
  return TRUE;
}

/* Whether this replica holds @code, character for character, as recorded
 * by its issuer: a ticket record is taken only from its issuer's own
 * signed chain, which vouches for the code as much as the code's own
 * signature does — so the Ed25519 check, most of a decision's cost, is
 * needed only for codes this replica has not seen issued. */
static gboolean
recorded_by_issuer (PvStore *store, const char *code, const PvTicket *ticket)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "SELECT code FROM tickets WHERE issuer = ?1 AND serial = ?2", NULL);
  gboolean same = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, ticket->issuer);
  sqlite3_bind_int64 (stmt, 2, ticket->serial);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    same = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), code) == 0;
  sqlite3_reset (stmt);
  return same;
}

/* Checks that hold wherever and whenever the ticket is shown: it parses, it
 * is for this event, a known device issued it, the signature holds, nothing
 * revoked it. Leaves out->verdict VALID when all pass. */
static gboolean
check_genuine (PvStore *store, PvEvent *event, const char *code, PvDecision *out, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  const PvDeviceInfo *issuer;
  const PvCategory *category;
  gint64 issued_at;

  out->verdict = PV_VERDICT_VALID;
  out->valid_day = -1;
  out->n_days = pv_event_get_n_days (event);
  if (!pv_ticket_parse (code, -1, &out->ticket, &parse_error))
    {
      /* Which character was wrong helps a developer, not a volunteer. */
      g_debug ("Not a ticket code: %s", parse_error->message);
      return refuse (out, PV_VERDICT_MALFORMED,
                     g_strdup (_ ("Not a Pravesh ticket, or its code was misread or mistyped")));
    }
  out->have_ticket = TRUE;
  out->serial = pv_ticket_format_serial (out->ticket.issuer, out->ticket.serial);
  out->party = out->ticket.party;

  if (out->ticket.event_id != pv_event_get_id (event))
    return refuse (out, PV_VERDICT_WRONG_EVENT, g_strdup (_ ("A ticket for another event")));

  issuer = pv_store_lookup_device (store, out->ticket.issuer);
  issued_at = (gint64) out->ticket.issued_at * G_USEC_PER_SEC;
  if (issuer == NULL)
    return refuse (out, PV_VERDICT_UNKNOWN_ISSUER,
                   g_strdup_printf (_ ("Issued by device %u, which this replica does not know"),
                                    out->ticket.issuer));
  if (!pv_role_can_issue (issuer->role))
    return refuse (out, PV_VERDICT_UNKNOWN_ISSUER,
                   g_strdup_printf (_ ("Device %s may not issue tickets"), issuer->name));
  if (!recorded_by_issuer (store, code, &out->ticket)
      && !pv_ticket_verify_signature (&out->ticket, issuer->public_key))
    return refuse (out, PV_VERDICT_FORGED, g_strdup (_ ("Forged: the signature does not match")));
  /* A signature made outside the certificate's validity is a stolen or
   * misused key, not a ticket. Allow a minute for clock drift. */
  if (issued_at + 60 * G_USEC_PER_SEC < issuer->valid_from || issued_at > issuer->valid_until)
    return refuse (out, PV_VERDICT_UNKNOWN_ISSUER,
                   g_strdup_printf (_ ("Issued by %s outside its certificate's validity"),
                                    issuer->name));
  if (!check_revoked (store, issuer, out, error))
    return FALSE;
  if (out->verdict != PV_VERDICT_VALID)
    return TRUE;

  category = pv_event_get_category (event, out->ticket.category);
  if (category == NULL)
    return refuse (out, PV_VERDICT_MALFORMED,
                   g_strdup_printf (_ ("Unknown ticket category %u"), out->ticket.category));
  out->category = g_strdup (category->name);
  if (out->ticket.day != PV_TICKET_DAY_NONE)
    out->valid_day = out->ticket.day;
  return TRUE;
}

static char *
day_phrase (PvEvent *event, int day)
{
  g_autofree char *date = pv_event_day_date (event, day);

  /* TRANSLATORS: "Day 3 (2026-12-07)" */
  return g_strdup_printf (_ ("Day %d (%s)"), day + 1, date);
}

static gboolean
decide (PvStore *store, PvEvent *event, const char *code, const char *gate, gint64 at,
        gboolean is_exit, PvDecision *out, GError **error)
{
  g_autoptr (GArray) scans = NULL;
  const PvCategory *category;
  PvTicketWalk walk;
  int day;

  if (!check_genuine (store, event, code, out, error))
    return FALSE;
  /* A revoked ticket still lets its holder out: refusing the exit would
   * only leave them counted inside. */
  if (is_exit && out->verdict == PV_VERDICT_REVOKED)
    {
      category = pv_event_get_category (event, out->ticket.category);
      if (category == NULL)
        return refuse (out, PV_VERDICT_MALFORMED,
                       g_strdup_printf (_ ("Unknown ticket category %u"), out->ticket.category));
      g_clear_pointer (&out->message, g_free);
      g_free (out->category);
      out->category = g_strdup (category->name);
      out->verdict = PV_VERDICT_VALID;
    }
  if (out->verdict != PV_VERDICT_VALID)
    return TRUE;
  category = pv_event_get_category (event, out->ticket.category);

  day = out->day = pv_event_day_at (event, at);
  if (day < 0)
    {
      g_autofree char *first = pv_event_day_date (event, 0);
      return refuse (out, PV_VERDICT_NOT_YET_VALID,
                     g_strdup_printf (_ ("Not yet valid: the event begins on %s"), first));
    }
  if (day >= (int) out->n_days)
    {
      g_autofree char *last = pv_event_day_date (event, (int) out->n_days - 1);
      return refuse (out, PV_VERDICT_EXPIRED,
                     g_strdup_printf (_ ("Expired: the event ended on %s"), last));
    }
  if (!is_exit && category->validity == PV_VALIDITY_CHOSEN_DAY
      && out->ticket.day != PV_TICKET_DAY_NONE && out->ticket.day != day)
    {
      g_autofree char *valid = day_phrase (event, out->ticket.day);
      return refuse (out, PV_VERDICT_WRONG_DAY,
                     g_strdup_printf (_ ("Wrong day: valid on %s"), valid));
    }
  if (!is_exit && !pv_event_is_open_at (event, at))
    {
      guint open, close;
      pv_event_get_hours (event, (guint) day, &open, &close);
      return refuse (out, PV_VERDICT_OUTSIDE_HOURS,
                     g_strdup_printf (_ ("Outside opening hours (%02u:%02u–%02u:%02u)"),
                                      open / 60, open % 60, close / 60, close % 60));
    }
  if (!is_exit && !pv_category_allows_gate (category, gate))
    {
      g_autofree char *gates = g_strjoinv (", ", category->gates);
      return refuse (out, PV_VERDICT_WRONG_GATE,
                     g_strdup_printf (_ ("Wrong gate: %s tickets enter at %s"), pv_category_get_label (category), gates));
    }

  if (!(scans = pv_state_load_scans (store, out->ticket.issuer, out->ticket.serial, error)))
    return FALSE;
  pv_ticket_walk_init (&walk);
  for (guint i = 0; i < scans->len; i++)
    {
      const PvScan *scan = &g_array_index (scans, PvScan, i);
      if (scan->is_void)
        continue;
      if (scan->is_exit)
        pv_ticket_walk_exit (&walk, scan->day);
      else
        pv_ticket_walk_entry (&walk, category, out->ticket.day, scan->day, scan->at, scan->gate);
    }

  if (is_exit)
    {
      out->verdict = pv_ticket_walk_exit (&walk, day);
      out->message = out->verdict == PV_VERDICT_EXIT
                       ? g_strdup (_ ("Exit recorded"))
                       : g_strdup (_ ("Not inside: no entry today to exit from"));
      return TRUE;
    }

  out->verdict = pv_ticket_walk_entry (&walk, category, out->ticket.day, day, at, gate);
  switch (out->verdict)
    {
    case PV_VERDICT_ADMIT:
      if (out->party > 1)
        out->message = g_strdup_printf (_ ("Admit %u — %s, day %d of %u"), out->party,
                                        pv_category_get_label (category), day + 1, out->n_days);
      else
        out->message = g_strdup_printf (_ ("Welcome — %s, day %d of %u"), pv_category_get_label (category),
                                        day + 1, out->n_days);
      break;
    case PV_VERDICT_ALREADY_USED:
      {
        g_autofree char *clock = format_clock (event, walk.last_entry_at);
        out->previous_at = walk.last_entry_at;
        out->previous_gate = g_strdup (walk.last_entry_gate);
        out->message = g_strdup_printf (_ ("Already used at %s at %s"), walk.last_entry_gate, clock);
      }
      break;
    case PV_VERDICT_WRONG_DAY:
      {
        g_autofree char *used = day_phrase (event, walk.fixed_day);
        out->valid_day = walk.fixed_day;
        out->previous_at = walk.last_entry_at;
        out->previous_gate = g_strdup (walk.last_entry_gate);
        out->message = g_strdup_printf (_ ("Wrong day: this one-day ticket was used on %s"), used);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

static PvEvent *
prepare (PvStore *store, const char *gate, gint64 at, PvDecision *out, const char **out_gate,
         GError **error)
{
  PvEvent *event = pv_store_get_event (store, error);

  memset (out, 0, sizeof *out);
  out->at = at;
  if (event == NULL)
    return NULL;
  if (out_gate)
    {
      *out_gate = pv_event_find_gate (event, gate);
      if (*out_gate == NULL)
        {
          g_autofree char *known = g_strjoinv (", ", (char **) pv_event_get_gates (event));
          g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                       _ ("There is no gate “%s”; the event has %s"), gate ? gate : "",
                       *known ? known : "no gates");
          return NULL;
        }
      out->gate = g_strdup (*out_gate);
    }
  return event;
}

gboolean
pv_admission_decide (PvStore *store, const char *code, const char *gate, gint64 at,
                     gboolean is_exit, PvDecision *out, GError **error)
{
  const char *canonical_gate;
  PvEvent *event = prepare (store, gate, at, out, &canonical_gate, error);

  return event && decide (store, event, code, canonical_gate, at, is_exit, out, error);
}

static gboolean
scan_and_record (PvStore *store, const char *code, const char *gate, gint64 at, gboolean is_exit,
                 gboolean offline, gboolean manual, PvDecision *out, GError **error)
{
  g_autoptr (PvRecord) record = NULL;
  const char *canonical_gate;
  PvEvent *event;

  /* The write lock is taken before reading, so the decision and its record
   * are one step: no other process can admit the same ticket in between. */
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  {
    const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));

    /* Everything a revoked device records after its revocation counts for
     * nothing on every replica; better to say so at the gate. */
    if (self != NULL && at >= self->revoked_at)
      {
        memset (out, 0, sizeof *out);
        g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                     _ ("This device (%s) has been revoked and may not admit anyone"), self->name);
        goto fail;
      }
  }
  event = prepare (store, gate, at, out, &canonical_gate, error);
  if (event == NULL || !decide (store, event, code, canonical_gate, at, is_exit, out, error))
    goto fail;
  out->offline = offline;
  out->manual = manual;
  if (out->verdict == PV_VERDICT_ADMIT || out->verdict == PV_VERDICT_EXIT)
    {
      GVariant *body = g_variant_new (PV_SCAN_VARIANT_TYPE, out->ticket.issuer, out->ticket.serial,
                                      out->ticket.category, (gint16) out->day,
                                      (guint16) out->party, canonical_gate, at, offline);
      PvRecordKind kind = manual ? (is_exit ? PV_RECORD_MANUAL_EXIT : PV_RECORD_MANUAL_ENTRY)
                                 : (is_exit ? PV_RECORD_EXIT : PV_RECORD_ENTRY);

      if (!pv_ledger_append (store, kind, body, &record, error))
        goto fail;
      out->device_id = record->device_id;
      out->seq = record->seq;
    }
  if (!pv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

gboolean
pv_admission_scan (PvStore *store, const char *code, const char *gate, gint64 at,
                   gboolean is_exit, gboolean offline, PvDecision *out, GError **error)
{
  return scan_and_record (store, code, gate, at, is_exit, offline, FALSE, out, error);
}

gboolean
pv_admission_scan_manual (PvStore *store, const char *code, const char *gate, gint64 at,
                          gboolean is_exit, gboolean offline, PvDecision *out, GError **error)
{
  return scan_and_record (store, code, gate, at, is_exit, offline, TRUE, out, error);
}

gboolean
pv_admission_verify (PvStore *store, const char *code, gint64 at, PvDecision *out, GError **error)
{
  PvEvent *event = prepare (store, NULL, at, out, NULL, error);

  if (event == NULL || !check_genuine (store, event, code, out, error))
    return FALSE;
  out->day = pv_event_day_at (event, at);
  if (out->verdict == PV_VERDICT_VALID)
    out->message = g_strdup_printf (_ ("Genuine %s ticket"), out->category);
  return TRUE;
}
