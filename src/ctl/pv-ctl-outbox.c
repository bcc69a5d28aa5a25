/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-outbox.c: `pravesh-ctl outbox`, the admin's view of the hub's
 * outbox — every message to a phone with its status, tries and last
 * error — and sending a failed or held one again. The admin sees phones
 * whole: the outbox is theirs to answer for. */
#include "config.h"

#include <glib/gi18n.h>

#include "pv-ctl.h"
#include "pv-outbox.h"
#include "pv-ticket-code.h"

static void
add_time_or_null (JsonBuilder *builder, const char *member, PvEvent *event, gint64 at)
{
  if (at > 0)
    pv_ctl_json_add_time (builder, member, event, at);
  else
    pv_json_add_null (builder, member);
}

static void
add_message_json (JsonBuilder *builder, PvEvent *event, const PvOutboxMessage *m)
{
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", m->id);
  pv_json_add_string (builder, "channel", m->channel);
  pv_json_add_string (builder, "recipient", m->recipient);
  pv_json_add_string (builder, "kind", pv_outbox_kind_to_string (m->kind));
  if (m->kind == PV_OUTBOX_TICKET)
    {
      g_autofree char *serial = pv_ticket_format_serial (m->issuer, m->serial);
      pv_json_add_string (builder, "ticket", serial);
    }
  else
    pv_json_add_null (builder, "ticket");
  pv_json_add_string (builder, "body", m->body);
  pv_json_add_string (builder, "status", pv_outbox_status_to_string (m->status));
  pv_json_add_int (builder, "attempts", m->attempts);
  add_time_or_null (builder, "created_at", event, m->created_at);
  add_time_or_null (builder, "updated_at", event, m->updated_at);
  add_time_or_null (builder, "next_attempt_at", event, m->status == PV_OUTBOX_QUEUED ? m->next_attempt_at : 0);
  add_time_or_null (builder, "sent_at", event, m->sent_at);
  if (m->last_error)
    pv_json_add_string (builder, "last_error", m->last_error);
  else
    pv_json_add_null (builder, "last_error");
  if (m->provider_id)
    pv_json_add_string (builder, "provider_id", m->provider_id);
  else
    pv_json_add_null (builder, "provider_id");
  json_builder_set_member_name (builder, "delivery");
  if (m->delivery_device != 0)
    {
      json_builder_begin_object (builder);
      pv_json_add_int (builder, "device", m->delivery_device);
      pv_json_add_int (builder, "seq", (gint64) m->delivery_seq);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

int
pv_ctl_outbox (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *status_filter = NULL, *limit_text = NULL, *retry_text = NULL;
  gboolean json = FALSE;
  guint64 limit = 0, retry = 0;
  PvEvent *event;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the messages as JSON"), NULL },
    { "status", 0, 0, G_OPTION_ARG_STRING, &status_filter,
      N_ ("Only messages in this status: queued, sending, sent, delivered, read, failed, held"), N_ ("STATUS") },
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_text, N_ ("At most this many, the newest (default: all)"),
      N_ ("N") },
    { "retry", 0, 0, G_OPTION_ARG_STRING, &retry_text,
      N_ ("Send a failed or held message again (the running hub picks it up)"), N_ ("ID") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if ((limit_text && !pv_ctl_parse_uint ("--limit", limit_text, 1, G_MAXUINT, &limit, &error))
      || (retry_text && !pv_ctl_parse_uint ("--retry", retry_text, 1, G_MAXINT64, &retry, &error)))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_ctl_require_hub_store (store, _ ("read the outbox"), &error)
      || !(event = pv_store_get_event (store, &error)))
    return pv_ctl_fail (error);
  if (retry_text != NULL)
    {
      if (!pv_outbox_retry (store, (gint64) retry, &error))
        return pv_ctl_fail (error);
      g_print (_ ("Message %llu is queued again\n"), (unsigned long long) retry);
      return PV_CTL_EXIT_OK;
    }
  if (!(messages = pv_outbox_list (store, status_filter, (guint) limit, &error)))
    return pv_ctl_fail (error);

  json_builder_begin_array (builder);
  g_ptr_array_add (rows, g_strsplit (_ ("ID|CHANNEL|TO|KIND|STATUS|TRIES|UPDATED|LAST ERROR"), "|", -1));
  for (guint i = 0; i < messages->len; i++)
    {
      const PvOutboxMessage *m = messages->pdata[i];
      g_autofree char *updated = pv_ctl_format_time (event, m->updated_at);
      char **row = g_new0 (char *, 9);

      add_message_json (builder, event, m);
      row[0] = g_strdup_printf ("%" G_GINT64_FORMAT, m->id);
      row[1] = g_strdup (m->channel);
      row[2] = g_strdup (*m->recipient ? m->recipient : "—");
      if (m->kind == PV_OUTBOX_TICKET)
        {
          g_autofree char *serial = pv_ticket_format_serial (m->issuer, m->serial);
          /* TRANSLATORS: the kind of a message that carries ticket %s */
          row[3] = g_strdup_printf (_ ("ticket %s"), serial);
        }
      else
        row[3] = g_strdup (_ ("text"));
      row[4] = g_strdup (pv_outbox_status_to_string (m->status));
      row[5] = g_strdup_printf ("%u", m->attempts);
      row[6] = g_strdup (updated ? updated : "");
      row[7] = g_strdup (m->last_error ? m->last_error : "");
      g_ptr_array_add (rows, row);
    }
  json_builder_end_array (builder);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else if (messages->len == 0)
    g_print ("%s\n", status_filter ? _ ("No messages in that status") : _ ("The outbox is empty"));
  else
    pv_ctl_print_table (rows);
  return PV_CTL_EXIT_OK;
}
