/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-tickets.c: the pravesh-ctl commands about single tickets — issuing,
 * looking one up, revoking, asking the hub to send one, verifying, admitting
 * at a gate and drawing the QR. Verdicts always come out as JSON, because
 * the callers are mostly scripts and benchmarks; the exit status says
 * accepted (0) or refused (2) so a shell can branch without parsing. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "pv-api-client.h"
#include "pv-ctl.h"
#include "pv-error.h"
#include "pv-pairing.h"
#include "pv-qr.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"

static const char *const channels[] = { "desk", "web", "whatsapp", "import", NULL };

/* ---- ticket issue ---- */

int
pv_ctl_ticket_issue (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *category = NULL, *day_text = NULL, *party_text = NULL;
  g_autofree char *count_text = NULL, *name = NULL, *phone = NULL, *channel = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GPtrArray) issued = NULL;
  gboolean json = FALSE;
  guint64 party = 1, count = 1;
  PvIssueRequest request = { 0 };
  PvEvent *event;
  int day = -1;
  int status;
  GOptionEntry entries[] = {
    { "category", 0, 0, G_OPTION_ARG_STRING, &category, N_ ("Ticket category (required)"),
      N_ ("NAME") },
    { "day", 0, 0, G_OPTION_ARG_STRING, &day_text,
      N_ ("The day a chosen-day ticket is for"), N_ ("YYYY-MM-DD") },
    { "party", 0, 0, G_OPTION_ARG_STRING, &party_text,
      N_ ("People one scan admits (default 1)"), N_ ("N") },
    { "count", 0, 0, G_OPTION_ARG_STRING, &count_text,
      N_ ("How many tickets (default 1)"), N_ ("N") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("Visitor’s name (kept off gates)"),
      N_ ("TEXT") },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, N_ ("Visitor’s phone (kept off gates)"),
      N_ ("NUMBER") },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &channel,
      N_ ("desk, web, whatsapp or import (default desk)"), N_ ("CHANNEL") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the tickets as a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!category)
    return pv_ctl_usage_error (ctl, _ ("--category is required"));
  if (channel && !g_strv_contains (channels, channel))
    return pv_ctl_usage_error (ctl, _ ("--channel wants desk, web, whatsapp or import, not “%s”"),
                               channel);
  if ((party_text && !pv_ctl_parse_uint ("--party", party_text, 1, PV_MAX_PARTY, &party, &error))
      || (count_text
          && !pv_ctl_parse_uint ("--count", count_text, 1, PV_MAX_BULK_ISSUE, &count, &error)))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || (day_text && !pv_event_parse_day (event, day_text, &day, &error)))
    return pv_ctl_fail (error);

  request.category = category;
  request.day = day;
  request.party = (guint) party;
  request.count = (guint) count;
  request.name = name;
  request.phone = phone;
  request.channel = channel ? channel : "desk";
  if (!(issued = pv_tickets_issue (store, &request, &error)))
    return pv_ctl_fail (error);

  /* The event may have been reloaded by the issue: fetch it again. */
  if (!(event = pv_store_get_event (store, &error)))
    return pv_ctl_fail (error);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < issued->len; i++)
        {
          const PvIssuedTicket *one = g_ptr_array_index (issued, i);
          const PvCategory *c = pv_event_get_category (event, one->ticket.category);
          g_autofree char *date = one->ticket.day != PV_TICKET_DAY_NONE
                                    ? pv_event_day_date (event, one->ticket.day)
                                    : NULL;

          json_builder_begin_object (builder);
          pv_json_add_string (builder, "code", one->code);
          pv_json_add_string (builder, "serial", one->serial);
          pv_json_add_string (builder, "category", c ? c->name : NULL);
          pv_json_add_string (builder, "day", date);
          pv_json_add_int (builder, "party", one->ticket.party);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    {
      const PvIssuedTicket *first = g_ptr_array_index (issued, 0);
      const PvIssuedTicket *last = g_ptr_array_index (issued, issued->len - 1);

      for (guint i = 0; i < issued->len; i++)
        {
          const PvIssuedTicket *one = g_ptr_array_index (issued, i);
          fputs (one->code, stdout);
          fputc ('\n', stdout);
        }
      fflush (stdout);
      /* Codes alone on stdout, for scripts; what they are, for people. */
      if (issued->len == 1)
        g_printerr (_ ("Issued ticket %s\n"), first->serial);
      else
        g_printerr (_ ("Issued %u tickets, %s to %s\n"), issued->len, first->serial, last->serial);
    }
  return PV_CTL_EXIT_OK;
}

/* ---- ticket show / revoke / send ---- */

/* A ticket named by its serial ("3-000145") or by its whole code. */
static gboolean
parse_ticket_ref (const char *text, guint16 *out_issuer, guint32 *out_serial,
                  PvTicket *out_ticket, gboolean *out_have_code, GError **error)
{
  *out_have_code = FALSE;
  if (g_str_has_prefix (text, PV_TICKET_CODE_PREFIX))
    {
      if (!pv_ticket_parse (text, -1, out_ticket, error))
        return FALSE;
      *out_issuer = out_ticket->issuer;
      *out_serial = out_ticket->serial;
      *out_have_code = TRUE;
      return TRUE;
    }
  return pv_ticket_parse_serial (text, out_issuer, out_serial, error);
}

static char *
device_label (PvStore *store, guint16 id)
{
  const PvDeviceInfo *device = pv_store_lookup_device (store, id);

  return device ? g_strdup_printf ("%u (%s)", id, device->name) : g_strdup_printf ("%u", id);
}

/* The scans of a ticket into @builder's open array and @rows; their count,
 * or -1 on an error. */
static int
add_scans (PvStore *store, PvEvent *event, guint16 issuer, guint32 serial, JsonBuilder *builder,
           GPtrArray *rows, GError **error)
{
  g_autoptr (GPtrArray) scans = pv_tickets_history (store, issuer, serial, error);

  if (scans == NULL)
    return -1;
  g_ptr_array_add (rows, g_strsplit (_ ("TIME|GATE|DIRECTION|PARTY|DEVICE|DECIDED|DOUBLE"), "|", -1));
  for (guint i = 0; i < scans->len; i++)
    {
      const PvScanInfo *scan = g_ptr_array_index (scans, i);
      g_autofree char *at = pv_ctl_format_time (event, scan->at);
      char **row = g_new0 (char *, 8);

      json_builder_begin_object (builder);
      pv_json_add_string (builder, "at", at);
      pv_json_add_string (builder, "gate", scan->gate);
      pv_json_add_string (builder, "direction", scan->is_exit ? "exit" : "entry");
      pv_json_add_int (builder, "party", scan->party);
      pv_json_add_int (builder, "device", scan->device_id);
      pv_json_add_bool (builder, "offline", scan->offline);
      pv_json_add_bool (builder, "double", scan->is_double);
      json_builder_end_object (builder);

      row[0] = g_strdup (at ? at : "?");
      row[1] = g_strdup (scan->gate);
      row[2] = g_strdup (scan->is_exit ? _ ("exit") : _ ("entry"));
      row[3] = g_strdup_printf ("%u", scan->party);
      row[4] = device_label (store, scan->device_id);
      row[5] = g_strdup (scan->offline ? _ ("offline") : _ ("online"));
      row[6] = g_strdup (scan->is_double ? _ ("DOUBLE") : "");
      g_ptr_array_add (rows, row);
    }
  return (int) scans->len;
}

/* The requests to send a ticket, also put into @builder's open array and
 * @rows; NULL on an error. */
static GPtrArray *
add_deliveries (PvStore *store, PvEvent *event, guint16 issuer, guint32 serial, JsonBuilder *builder,
                GPtrArray *rows, GError **error)
{
  g_autoptr (GPtrArray) deliveries = pv_tickets_list_deliveries (store, issuer, serial, error);

  if (deliveries == NULL)
    return NULL;
  g_ptr_array_add (rows, g_strsplit (_ ("REQUESTED|VIA|DEVICE|STATUS"), "|", -1));
  for (guint i = 0; i < deliveries->len; i++)
    {
      const PvDelivery *d = g_ptr_array_index (deliveries, i);
      g_autofree char *at = pv_ctl_format_time (event, d->requested_at);
      char **row = g_new0 (char *, 5);

      json_builder_begin_object (builder);
      pv_json_add_string (builder, "requested_at", at);
      pv_json_add_string (builder, "channel", d->channel);
      pv_json_add_int (builder, "device", d->requested_by);
      pv_json_add_string (builder, "status", d->status);
      json_builder_end_object (builder);

      row[0] = g_strdup (at ? at : "?");
      row[1] = g_strdup (g_str_equal (d->channel, PV_DELIVERY_WHATSAPP) ? _ ("WhatsApp")
                         : g_str_equal (d->channel, PV_DELIVERY_SMS)    ? _ ("SMS")
                                                                        : d->channel);
      row[2] = device_label (store, d->requested_by);
      row[3] = g_strdup (d->status);
      g_ptr_array_add (rows, row);
    }
  return g_steal_pointer (&deliveries);
}

int
pv_ctl_ticket_show (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GPtrArray) delivery_rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GPtrArray) deliveries = NULL;
  g_autofree char *date = NULL, *issuer_label = NULL;
  gboolean json = FALSE, have_code = FALSE;
  g_auto (PvTicketInfo) info = { 0 };
  PvTicket ticket = { 0 };
  const PvCategory *category;
  guint16 issuer;
  guint32 serial;
  PvEvent *event;
  int status, n_scans;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the ticket as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!parse_ticket_ref (argv[1], &issuer, &serial, &ticket, &have_code, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !pv_tickets_lookup (store, issuer, serial, &info, &error))
    return pv_ctl_fail (error);
  /* A code carries the ticket's fields itself, even before its issue record
   * has reached this replica. */
  if (!info.known && have_code)
    {
      info.category = ticket.category;
      info.day = ticket.day;
      info.party = ticket.party;
      info.issued_at = (gint64) ticket.issued_at * G_USEC_PER_SEC;
      info.code = g_strdup (argv[1]);
    }
  category = pv_event_get_category (event, info.category);
  date = (info.known || have_code) && info.day != PV_TICKET_DAY_NONE
           ? pv_event_day_date (event, info.day)
           : NULL;
  issuer_label = device_label (store, issuer);

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "serial", info.serial_text);
  pv_json_add_bool (builder, "known", info.known);
  pv_json_add_string (builder, "code", info.code);
  if (info.known || have_code)
    {
      pv_json_add_string (builder, "category", category ? category->name : NULL);
      pv_json_add_int (builder, "category_id", info.category);
      pv_json_add_string (builder, "day", date);
      pv_json_add_int (builder, "party", info.party);
      pv_ctl_json_add_time (builder, "issued_at", event, info.issued_at);
    }
  else
    {
      pv_json_add_null (builder, "category");
      pv_json_add_null (builder, "category_id");
      pv_json_add_null (builder, "day");
      pv_json_add_null (builder, "party");
      pv_json_add_null (builder, "issued_at");
    }
  pv_json_add_string (builder, "channel", info.channel);
  pv_json_add_int (builder, "issuer", issuer);
  pv_json_add_bool (builder, "revoked", info.revoked);
  if (info.revoked)
    pv_ctl_json_add_time (builder, "revoked_at", event, info.revoked_at);
  else
    pv_json_add_null (builder, "revoked_at");
  pv_json_add_string (builder, "revoke_reason", info.revoke_reason);
  pv_json_add_string (builder, "name", info.name);
  pv_json_add_string (builder, "phone", info.phone);

  json_builder_set_member_name (builder, "scans");
  json_builder_begin_array (builder);
  n_scans = add_scans (store, event, issuer, serial, builder, rows, &error);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "deliveries");
  json_builder_begin_array (builder);
  if (n_scans >= 0)
    deliveries = add_deliveries (store, event, issuer, serial, builder, delivery_rows, &error);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  if (deliveries == NULL)
    return pv_ctl_fail (error);
  if (!info.known && !have_code && !info.revoked && n_scans == 0 && deliveries->len == 0)
    return pv_ctl_error (_ ("No ticket %s is known to this replica"), info.serial_text);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    {
      g_print (_ ("Ticket      %s\n"), info.serial_text);
      if (info.known || have_code)
        {
          g_autofree char *issued = pv_ctl_format_time (event, info.issued_at);

          g_print (_ ("Category    %s\n"), category ? category->name : _ ("(unknown)"));
          if (date)
            g_print (_ ("Day         %s (day %d)\n"), date, info.day + 1);
          else
            g_print (_ ("Day         %s\n"),
                     category && category->validity == PV_VALIDITY_EVERY_DAY ? _ ("every day")
                                                                             : _ ("any one day"));
          g_print (_ ("Party       %d\n"), (int) info.party);
          if (info.channel)
            g_print (_ ("Channel     %s\n"), info.channel);
          g_print (_ ("Issued      %s by device %s\n"), issued ? issued : "?", issuer_label);
        }
      if (!info.known)
        g_print (_ ("Issue record not (yet) held by this replica\n"));
      if (info.revoked)
        {
          g_autofree char *when = pv_ctl_format_time (event, info.revoked_at);
          g_print (_ ("Revoked     %s: %s\n"), when ? when : "?", info.revoke_reason);
        }
      else
        g_print (_ ("Revoked     no\n"));
      if (info.name)
        g_print (_ ("Name        %s\n"), info.name);
      if (info.phone)
        g_print (_ ("Phone       %s\n"), info.phone);
      if (n_scans == 0)
        g_print (_ ("Scans       none\n"));
      else
        {
          g_print (_ ("Scans:\n"));
          pv_ctl_print_table (rows);
        }
      /* Said only when there are some: most tickets are never sent. */
      if (deliveries->len > 0)
        {
          g_print (_ ("Deliveries:\n"));
          pv_ctl_print_table (delivery_rows);
        }
    }
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_ticket_revoke (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *reason = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean force = FALSE, have_code = FALSE;
  const PvDeviceInfo *self;
  g_auto (PvTicketInfo) info = { 0 };
  PvTicket ticket;
  guint16 issuer;
  guint32 serial;
  int status;
  GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_ ("Why (required; kept in the ledger)"),
      N_ ("TEXT") },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      N_ ("Revoke even when this replica has not seen the ticket issued"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!reason || !*reason)
    return pv_ctl_usage_error (ctl, _ ("--reason is required"));
  if (!parse_ticket_ref (argv[1], &issuer, &serial, &ticket, &have_code, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !pv_tickets_lookup (store, issuer, serial, &info, &error))
    return pv_ctl_fail (error);

  /* The ledger refuses the record anyway; say so in words a desk understands. */
  self = pv_store_lookup_device (store, pv_store_get_device_id (store));
  if (self == NULL || (self->role != PV_ROLE_DESK && self->role != PV_ROLE_ADMIN && self->role != PV_ROLE_HUB))
    return pv_ctl_error (_ ("Only desk, admin and hub devices may revoke tickets; %s is a %s"),
                         ctl->db_path, self ? pv_role_to_string (self->role) : _ ("stranger"));
  /* A mistyped serial would otherwise revoke a ticket nobody holds yet — and
   * whoever gets that serial later would be turned away. */
  if (!info.known && !force)
    return pv_ctl_error (_ ("No ticket %s is known to this replica (use --force to revoke it "
                            "before its issue record arrives)"),
                         info.serial_text);
  if (info.revoked)
    {
      g_printerr (_ ("pravesh-ctl: ticket %s is already revoked: %s\n"), info.serial_text,
                  info.revoke_reason);
      return PV_CTL_EXIT_OK;
    }
  if (!pv_tickets_revoke (store, issuer, serial, reason, &error))
    return pv_ctl_fail (error);
  g_print (_ ("Revoked ticket %s\n"), info.serial_text);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_ticket_send (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *via = NULL, *serial_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean have_code = FALSE;
  PvTicket ticket;
  guint16 issuer;
  guint32 serial;
  int status;
  GOptionEntry entries[] = {
    { "via", 0, 0, G_OPTION_ARG_STRING, &via, N_ ("whatsapp or sms (required)"), N_ ("CHANNEL") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!via)
    return pv_ctl_usage_error (ctl, _ ("--via is required"));
  if (!pv_delivery_channel_is_known (via))
    return pv_ctl_usage_error (ctl, _ ("--via wants whatsapp or sms, not “%s”"), via);
  if (!parse_ticket_ref (argv[1], &issuer, &serial, &ticket, &have_code, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !pv_tickets_request_delivery (store, issuer, serial, via, &error))
    return pv_ctl_fail (error);
  serial_text = pv_ticket_format_serial (issuer, serial);
  /* Nothing has gone out yet: the hub sends it once the record reaches it. */
  g_print (g_str_equal (via, PV_DELIVERY_WHATSAPP) ? _ ("Asked the hub to send ticket %s by WhatsApp\n")
                                                   : _ ("Asked the hub to send ticket %s by SMS\n"),
           serial_text);
  return PV_CTL_EXIT_OK;
}

/* ---- verify / admit ---- */

static JsonNode *
decision_to_json (PvStore *store, PvEvent *event, const PvDecision *d, gboolean is_scan)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  int day = pv_event_day_at (event, d->at);
  guint n_days = pv_event_get_n_days (event);
  g_autofree char *valid_day = d->have_ticket && d->valid_day >= 0
                                 ? pv_event_day_date (event, d->valid_day)
                                 : NULL;

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "verdict", pv_verdict_to_string (d->verdict));
  pv_json_add_string (builder, "message", d->message);
  pv_json_add_string (builder, "serial", d->serial);
  pv_json_add_string (builder, "category", d->category);
  if (d->have_ticket)
    pv_json_add_int (builder, "party", d->party);
  else
    pv_json_add_null (builder, "party");
  pv_json_add_string (builder, "valid_day", valid_day);
  if (is_scan)
    {
      /* People count days from 1; outside the event there is no day. */
      if (day >= 0 && day < (int) n_days)
        pv_json_add_int (builder, "day", day + 1);
      else
        pv_json_add_null (builder, "day");
      pv_json_add_int (builder, "n_days", n_days);
      pv_json_add_string (builder, "gate", d->gate);
      pv_ctl_json_add_time (builder, "at", event, d->at);
      pv_json_add_bool (builder, "offline", d->offline);
      if (d->previous_at != 0)
        {
          pv_ctl_json_add_time (builder, "previous_at", event, d->previous_at);
          pv_json_add_string (builder, "previous_gate", d->previous_gate);
        }
      if (d->device_id != 0)
        {
          g_autofree char *record = g_strdup_printf ("%u/%" G_GUINT64_FORMAT, d->device_id,
                                                     d->seq);
          pv_json_add_string (builder, "record", record);
        }
    }
  else
    {
      const PvDeviceInfo *issuer = d->have_ticket
                                     ? pv_store_lookup_device (store, d->ticket.issuer)
                                     : NULL;

      if (d->have_ticket)
        pv_json_add_int (builder, "issuer", d->ticket.issuer);
      else
        pv_json_add_null (builder, "issuer");
      pv_json_add_string (builder, "issuer_name", issuer ? issuer->name : NULL);
      pv_ctl_json_add_time (builder, "at", event, d->at);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

int
pv_ctl_verify (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *at_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonNode) root = NULL;
  gboolean json = FALSE;
  PvDecision decision = { 0 };
  PvEvent *event;
  gint64 at;
  int status;
  GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_text,
      N_ ("Check as of this time, ISO 8601; without an offset, in the event’s zone (default now)"),
      N_ ("TIME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Accepted; the verdict is always JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !pv_ctl_parse_at (event, at_text, &at, &error))
    return pv_ctl_fail (error);
  if (!pv_admission_verify (store, argv[1], at, &decision, &error))
    {
      pv_decision_clear (&decision);
      return pv_ctl_fail (error);
    }
  if (!(event = pv_store_get_event (store, &error)))
    {
      pv_decision_clear (&decision);
      return pv_ctl_fail (error);
    }
  root = decision_to_json (store, event, &decision, FALSE);
  pv_ctl_print_json (root, TRUE);
  status = decision.verdict == PV_VERDICT_VALID ? PV_CTL_EXIT_OK : PV_CTL_EXIT_REFUSED;
  pv_decision_clear (&decision);
  return status;
}

/* Scans one code; prints the verdict. FALSE on an error (reported). */
static gboolean
admit_one (PvStore *store, const char *code, const char *gate, gboolean have_at, gint64 at,
           gboolean is_exit, gboolean pretty, gboolean *out_accepted)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  PvDecision decision = { 0 };
  PvEvent *event;

  if (!have_at)
    at = pv_store_now (store);
  if (!pv_admission_scan (store, code, gate, at, is_exit, TRUE, &decision, &error)
      || !(event = pv_store_get_event (store, &error)))
    {
      pv_decision_clear (&decision);
      pv_ctl_fail (error);
      return FALSE;
    }
  root = decision_to_json (store, event, &decision, TRUE);
  json_object_set_string_member (json_node_get_object (root), "decided", "offline");
  pv_ctl_print_json (root, pretty);
  *out_accepted = decision.verdict == PV_VERDICT_ADMIT || decision.verdict == PV_VERDICT_EXIT;
  pv_decision_clear (&decision);
  return TRUE;
}

int
pv_ctl_admit (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *gate = NULL, *at_text = NULL, *hub_given = NULL, *url = NULL, *bound_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean is_exit = FALSE, json = FALSE, accepted = TRUE, online = FALSE, offline = FALSE;
  PvEvent *event;
  gint64 at = 0;
  int status;
  GOptionEntry entries[] = {
    { "gate", 0, 0, G_OPTION_ARG_STRING, &gate, N_ ("The gate scanning (required)"), N_ ("NAME") },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_text,
      N_ ("Time of the scan, ISO 8601; without an offset, in the event’s zone (default now)"),
      N_ ("TIME") },
    { "exit", 0, 0, G_OPTION_ARG_NONE, &is_exit, N_ ("An exit scan instead of an entry"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Accepted; the verdict is always JSON"), NULL },
    { "online", 0, 0, G_OPTION_ARG_NONE, &online, N_ ("Ask the hub, and fail when it cannot answer"), NULL },
    { "offline", 0, 0, G_OPTION_ARG_NONE, &offline, N_ ("Decide here without asking the hub"), NULL },
    { "hub", 0, 0, G_OPTION_ARG_STRING, &hub_given, N_ ("The hub’s URL (remembered in the store)"), N_ ("URL") },
    { "bound", 0, 0, G_OPTION_ARG_STRING, &bound_text,
      N_ ("Wait this long for the hub before deciding here (default: the device’s setting, 800 ms)"), N_ ("MS") },
    G_OPTION_ENTRY_NULL
  };
  guint64 bound = 0;

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!gate)
    return pv_ctl_usage_error (ctl, _ ("--gate is required"));
  if (online && offline)
    return pv_ctl_usage_error (ctl, _ ("--online and --offline exclude each other"));
  if (online && at_text)
    return pv_ctl_usage_error (ctl, _ ("--at is for offline decisions; the hub uses its own clock"));
  if (bound_text && !pv_ctl_parse_uint ("--bound", bound_text, 1, 60000, &bound, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || (at_text && !pv_ctl_parse_at (event, at_text, &at, &error)))
    return pv_ctl_fail (error);
  /* A wrong gate is the operator's mistake, not the ticket's: check it
   * once, up front, rather than failing on every line of a batch. */
  if (!pv_event_find_gate (event, gate))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) pv_event_get_gates (event));
      return pv_ctl_error (_ ("There is no gate “%s”; the event has %s"), gate,
                           *known ? known : _ ("no gates"));
    }

  if (!offline && !at_text && !g_str_equal (argv[1], "-"))
    {
      url = pv_ctl_hub_url (store, hub_given, &error);
      if (error != NULL)
        return pv_ctl_fail (error);
      if (url == NULL && online)
        return pv_ctl_error (_ ("No hub to ask: give --hub URL"));
    }
  if (url != NULL)
    {
      g_autoptr (JsonNode) verdict = NULL;
      g_autoptr (GAsyncResult) result = NULL;

      if (bound == 0)
        bound = (guint64) CLAMP (pv_store_get_meta_int (store, "online-bound-ms", 800), 1, 60000);
      pv_api_admit_async (store, NULL, url, argv[1], gate, is_exit, FALSE, (guint) bound, NULL, pv_ctl_got_result, &result);
      verdict = pv_api_admit_finish (pv_ctl_wait (&result), &error);
      if (verdict != NULL)
        {
          const char *said = json_object_get_string_member_with_default (json_node_get_object (verdict),
                                                                         "verdict", "");
          pv_ctl_print_json (verdict, TRUE);
          return g_str_equal (said, "ADMIT") || g_str_equal (said, "EXIT") ? PV_CTL_EXIT_OK : PV_CTL_EXIT_REFUSED;
        }
      if (online)
        return pv_ctl_fail (error);
      /* The hub is away or slow: this gate decides from its own replica. */
      g_clear_error (&error);
    }

  if (!g_str_equal (argv[1], "-"))
    {
      if (!admit_one (store, argv[1], gate, at_text != NULL, at, is_exit, TRUE, &accepted))
        return PV_CTL_EXIT_ERROR;
      return accepted ? PV_CTL_EXIT_OK : PV_CTL_EXIT_REFUSED;
    }

  /* JSON Lines: one verdict a line, flushed, so a reader sees each at once. */
  {
    char *line = NULL;
    size_t size = 0;
    gboolean all = TRUE;

    while (getline (&line, &size, stdin) >= 0)
      {
        gboolean one = FALSE;

        g_strstrip (line);
        if (*line == '\0')
          continue;
        if (!admit_one (store, line, gate, at_text != NULL, at, is_exit, FALSE, &one))
          {
            free (line);
            return PV_CTL_EXIT_ERROR;
          }
        all = all && one;
      }
    free (line);
    if (ferror (stdin))
      return pv_ctl_error (_ ("Cannot read codes from standard input"));
    return all ? PV_CTL_EXIT_OK : PV_CTL_EXIT_REFUSED;
  }
}

/* ---- qr ---- */

int
pv_ctl_qr (PvCtl *ctl, int argc, char **argv)
{
  PvPairingCode pairing = { 0 };
  gboolean is_pairing;
  g_autofree char *png = NULL, *svg = NULL, *module_text = NULL, *serial = NULL;
  g_autoptr (GError) error = NULL;
  guint64 module_px = 8;
  PvTicket ticket;
  int status;
  GOptionEntry entries[] = {
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, N_ ("Write a PNG image"), N_ ("FILE") },
    { "svg", 0, 0, G_OPTION_ARG_FILENAME, &svg, N_ ("Write an SVG image"), N_ ("FILE") },
    { "module-px", 0, 0, G_OPTION_ARG_STRING, &module_text,
      N_ ("Pixels per QR module (default 8)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if ((png == NULL) == (svg == NULL))
    return pv_ctl_usage_error (ctl, _ ("Give exactly one of --png FILE and --svg FILE"));
  if (module_text && !pv_ctl_parse_uint ("--module-px", module_text, 1, 1000, &module_px, &error))
    return pv_ctl_fail (error);
  /* A QR that every gate will call MALFORMED helps nobody: check first. */
  is_pairing = g_str_has_prefix (argv[1], PV_PAIRING_PREFIX);
  if (is_pairing ? !pv_pairing_code_parse (argv[1], &pairing, &error) : !pv_ticket_parse (argv[1], -1, &ticket, &error))
    return pv_ctl_fail (error);
  pv_pairing_code_clear (&pairing);
  if (png ? !pv_qr_write_png (argv[1], png, (int) module_px, &error)
          : !pv_qr_write_svg (argv[1], svg, (int) module_px, &error))
    return pv_ctl_fail (error);
  if (is_pairing)
    {
      g_print (_ ("Wrote the pairing QR code to %s\n"), png ? png : svg);
      return PV_CTL_EXIT_OK;
    }
  serial = pv_ticket_format_serial (ticket.issuer, ticket.serial);
  g_print (_ ("Wrote the QR code of ticket %s to %s\n"), serial, png ? png : svg);
  return PV_CTL_EXIT_OK;
}
