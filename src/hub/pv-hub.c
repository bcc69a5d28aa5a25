/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub.c: the server every device meets at. It keeps its own replica,
 * serves the sync endpoints, and decides online admissions atomically with
 * its ledger: requests that arrive together are decided one after another
 * in one transaction and answered after a single commit, so durability
 * costs one fsync per group, not per gate. It also serves the control
 * room's admin API (devices, invitations, volunteers), for admin devices
 * only: the hub holds the event key and the volunteers' phones, which an
 * admin laptop does not.
 *
 * Settings, group [hub] of --config (the command line wins where both
 * name one):
 *   db, listen, public-url, tls-cert, tls-key   as the options
 *   metrics-listen     ADDRESS:PORT to serve /metrics on alone (none:
 *                      /metrics beside everything else)
 *   max-connections    connections open at once (default: the
 *                      file-descriptor limit, raised to its hard limit at
 *                      start, less an eighth; at most 16,384)
 *   max-connections-per-address  from one client address, an IPv6 /64,
 *                      live sync sessions not counted (default 256)
 *   tls-handshake-timeout, header-timeout, body-timeout, idle-timeout
 *                      seconds (10, 15, 60, 30): see pv-listener.h */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sodium.h>
#include <string.h>

#include "pv-admission.h"
#include "pv-channels.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-hub-config.h"
#include "pv-hub-outbox.h"
#include "pv-hub-private.h"
#include "pv-hub-web.h"
#include "pv-hub-whatsapp.h"
#include "pv-i18n.h"
#include "pv-keys.h"
#include "pv-ledger.h"
#include "pv-outbox.h"
#include "pv-pairing.h"
#include "pv-store-watch.h"
#include "pv-store.h"
#include "pv-sync-server.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"
#include "pv-tls.h"
#include "pv-volunteers.h"
#include "pv-wire.h"

#define DEFAULT_LISTEN "127.0.0.1:8470"
#define MAX_ADMIT_BODY PV_HUB_MAX_SMALL_BODY
#define MAX_GROUP 512

typedef struct
{
  SoupServerMessage *msg;
  char *code;
  char *gate;
  gboolean is_exit;
  gboolean manual; /* a serial typed at the gate, no code read */
  PvDecision decision;
} Admission;

static void
admission_free (Admission *admission)
{
  pv_decision_clear (&admission->decision);
  g_free (admission->code);
  g_free (admission->gate);
  g_object_unref (admission->msg);
  g_free (admission);
}

static GBytes *
decision_to_json (const PvDecision *d)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "verdict", pv_verdict_to_string (d->verdict));
  pv_json_add_string (builder, "message", d->message);
  pv_json_add_string (builder, "serial", d->serial);
  pv_json_add_string (builder, "category", d->category);
  pv_json_add_int (builder, "party", d->party);
  pv_json_add_string (builder, "gate", d->gate);
  pv_json_add_int (builder, "at_us", d->at);
  if (d->previous_at != 0)
    {
      pv_json_add_int (builder, "previous_at_us", d->previous_at);
      pv_json_add_string (builder, "previous_gate", d->previous_gate);
    }
  if (d->device_id != 0)
    {
      g_autofree char *record = g_strdup_printf ("%u/%" G_GUINT64_FORMAT, d->device_id, d->seq);
      pv_json_add_string (builder, "record", record);
    }
  pv_json_add_string (builder, "decided", "online");
  json_builder_end_object (builder);
  return pv_json_builder_to_bytes (builder);
}

/* Decides every waiting admission in one transaction, in arrival order (so
 * the first writer wins), commits once, then answers them all: no answer
 * leaves before its record is durable. */
static gboolean
flush_admissions (gpointer user_data)
{
  PvHub *hub = user_data;
  g_autoptr (GError) error = NULL;
  GQueue group = G_QUEUE_INIT;
  gboolean ok;
  guint n = 0;

  hub->flush_id = 0;
  while (n < MAX_GROUP && !g_queue_is_empty (&hub->pending))
    {
      g_queue_push_tail (&group, g_queue_pop_head (&hub->pending));
      n++;
    }
  if (!g_queue_is_empty (&hub->pending))
    hub->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_admissions, hub, NULL);

  ok = pv_store_begin (hub->store, TRUE, &error);
  for (GList *l = group.head; ok && l != NULL; l = l->next)
    {
      Admission *a = l->data;
      ok = a->manual ? pv_admission_scan_manual (hub->store, a->code, a->gate, pv_store_now (hub->store),
                                                 a->is_exit, FALSE, &a->decision, &error)
                     : pv_admission_scan (hub->store, a->code, a->gate, pv_store_now (hub->store), a->is_exit,
                                          FALSE, &a->decision, &error);
    }
  ok = ok && pv_store_commit (hub->store, &error);
  if (!ok && pv_store_in_transaction (hub->store))
    pv_store_rollback (hub->store);
  hub->groups++;

  for (GList *l = group.head; l != NULL; l = l->next)
    {
      Admission *a = l->data;

      if (ok)
        {
          g_autoptr (GBytes) bytes = decision_to_json (&a->decision);
          hub->verdicts[a->decision.verdict]++;
          pv_sync_reply_json (a->msg, bytes);
        }
      else
        {
          /* Nothing was written: the gate decides offline, which is safe. */
          g_warning ("Admission group failed: %s", error->message);
          pv_sync_reply_error (a->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
        }
      soup_server_message_unpause (a->msg);
      admission_free (a);
    }
  g_queue_clear (&group);
  if (ok)
    pv_store_watch_notify (hub->watch);
  return G_SOURCE_REMOVE;
}

/* The JSON object of a small POST, or NULL after answering 400. */
JsonObject *
pv_hub_small_json_body (SoupServerMessage *msg, JsonParser *parser, const char *expected)
{
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));

  if (g_bytes_get_size (body) > MAX_ADMIT_BODY
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST, expected);
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}

void
pv_hub_handle_admit (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  const char *code, *gate;
  Admission *admission;
  PvEvent *event;

  /* Borrowed, and only after the token's check, which may reload it. */
  event = pv_store_get_event (hub->store, NULL);
  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"code\": \"PV1:…\", \"gate\": \"Gate 1\", \"exit\": false}")))
    return;
  code = json_object_get_string_member_with_default (root, "code", NULL);
  gate = json_object_get_string_member_with_default (root, "gate", NULL);
  if (code == NULL || gate == NULL || strlen (code) > 1024)
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "“code” and “gate” are required strings");
  if (event == NULL || !pv_event_find_gate (event, gate))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "There is no such gate");

  admission = g_new0 (Admission, 1);
  admission->msg = g_object_ref (msg);
  admission->code = g_strdup (code);
  admission->gate = g_strdup (gate);
  admission->is_exit = json_object_get_boolean_member_with_default (root, "exit", FALSE);
  admission->manual = json_object_get_boolean_member_with_default (root, "manual", FALSE);
  soup_server_message_pause (msg);
  g_queue_push_tail (&hub->pending, admission);
  /* Decided at the start of the loop's next turn, before anything else:
   * the requests read in this turn share one commit, and no other traffic
   * (a flood of cheap requests keeps the loop busy for good) can hold an
   * admission back until the gate gives up and decides offline. */
  if (hub->flush_id == 0)
    hub->flush_id = g_idle_add_full (G_PRIORITY_HIGH, flush_admissions, hub, NULL);
}

/* Delivery look-ups per device per minute: a desk asks every few seconds
 * while a ticket waits to be sent, so a desk or two at one ticket stay
 * well inside, and a device that asks in a loop costs the ledger little. */
#define LOOKUPS_PER_MINUTE 120

static gboolean
lookup_allowed (PvHub *hub, guint16 device)
{
  gint64 minute = g_get_monotonic_time () / (60 * G_USEC_PER_SEC);
  guint count;

  if (minute != hub->lookup_minute)
    {
      g_hash_table_remove_all (hub->lookups);
      hub->lookup_minute = minute;
    }
  count = GPOINTER_TO_UINT (g_hash_table_lookup (hub->lookups, GUINT_TO_POINTER (device))) + 1;
  g_hash_table_insert (hub->lookups, GUINT_TO_POINTER (device), GUINT_TO_POINTER (count));
  return count <= LOOKUPS_PER_MINUTE;
}

/* GET ?serial=3-000145 → where the hub's outbox has got with that ticket's
 * delivery requests: {"serial", "messages": [{"channel", "state", "at",
 * "reason"}]}, oldest first. Only the hub's outbox knows this (a desk's
 * replica never hears it by sync). Said without the phone or the body,
 * and of that one ticket, whatever device issued it: a desk may follow up
 * any visitor's ticket, as its search box does. */
void
pv_hub_handle_ticket_delivery (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_auto (PvTicketInfo) info = { 0 };
  const char *serial = call->query ? g_hash_table_lookup (call->query, "serial") : NULL;
  guint16 issuer = 0;
  guint32 number = 0;

  if (!lookup_allowed (hub, call->who.device_id))
    return pv_sync_reply_error (msg, 429 /* Too Many Requests */, "Too many look-ups; wait a minute");
  if (serial == NULL || strlen (serial) > 32 || !pv_ticket_parse_serial (serial, &issuer, &number, NULL))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Give ?serial=3-000145");
  if (!pv_tickets_lookup (hub->store, issuer, number, &info, &error)
      || !(messages = pv_outbox_list_for_ticket (hub->store, issuer, number, &error)))
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  if (!info.known)
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "The hub holds no such ticket");
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "serial", info.serial_text);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < messages->len; i++)
    {
      const PvOutboxMessage *m = messages->pdata[i];
      /* A desk cannot tell queued from being sent, nor needs to. */
      const char *state = m->status == PV_OUTBOX_QUEUED || m->status == PV_OUTBOX_SENDING
                            ? "waiting"
                            : pv_outbox_status_to_string (m->status);

      json_builder_begin_object (builder);
      pv_json_add_string (builder, "channel", m->channel);
      pv_json_add_string (builder, "state", state);
      pv_json_add_int (builder, "at", m->status == PV_OUTBOX_SENT && m->sent_at > 0 ? m->sent_at : m->updated_at);
      if (m->status == PV_OUTBOX_FAILED || m->status == PV_OUTBOX_HELD)
        pv_json_add_string (builder, "reason", pv_outbox_failure_kind (m));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* Pairing attempts per remote address per minute: the secret is 128 bits,
 * but a flood of guesses should not cost the hub its ledger lock. */
#define PAIR_ATTEMPTS_PER_MINUTE 10

static gboolean
pair_allowed (PvHub *hub, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  g_autofree char *host = NULL;
  gint64 minute = g_get_monotonic_time () / (60 * G_USEC_PER_SEC);
  guint count;

  if (minute != hub->pair_minute)
    {
      g_hash_table_remove_all (hub->pair_attempts);
      hub->pair_minute = minute;
    }
  host = G_IS_INET_SOCKET_ADDRESS (remote)
           ? g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)))
           : g_strdup ("?");
  count = GPOINTER_TO_UINT (g_hash_table_lookup (hub->pair_attempts, host)) + 1;
  g_hash_table_insert (hub->pair_attempts, g_steal_pointer (&host), GUINT_TO_POINTER (count));
  return count <= PAIR_ATTEMPTS_PER_MINUTE;
}

/* {"secret": base64, "public_key": base64} → the new device's identity. */
void
pv_hub_handle_pair (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) body = NULL, reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *secret = NULL, *public_key = NULL;
  g_autofree char *event_id = NULL, *event_key = NULL;
  const char *secret_text = NULL, *key_text = NULL;
  gsize secret_len = 0, key_len = 0;
  PvEvent *event;
  guint16 device = 0;
  PvRole role;

  if (!pair_allowed (hub, msg))
    return pv_sync_reply_error (msg, 429 /* Too Many Requests */, "Too many pairing attempts; wait a minute");
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      secret_text = json_object_get_string_member_with_default (root, "secret", NULL);
      key_text = json_object_get_string_member_with_default (root, "public_key", NULL);
    }
  if (secret_text && strlen (secret_text) < 64)
    secret = g_base64_decode (secret_text, &secret_len);
  if (key_text && strlen (key_text) < 64)
    public_key = g_base64_decode (key_text, &key_len);
  if (secret_len != PV_PAIRING_SECRET_SIZE || key_len != PV_PUBLIC_KEY_SIZE)
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"secret\": base64 of 16 bytes, \"public_key\": base64 of 32 bytes}");
  if (!pv_invite_redeem (hub->store, secret, public_key, &device, &role, &error))
    {
      g_message ("Pairing refused: %s", error->message);
      return pv_sync_reply_error (msg, g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION) ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                  error->message);
    }
  pv_store_watch_notify (hub->watch);
  event = pv_store_get_event (hub->store, NULL);
  g_message ("Paired device %u (%s)", device, pv_role_to_string (role));
  event_id = g_strdup_printf ("%08x", pv_event_get_id (event));
  event_key = g_base64_encode (pv_event_get_public_key (event), PV_PUBLIC_KEY_SIZE);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "device", device);
  pv_json_add_string (builder, "role", pv_role_to_string (role));
  pv_json_add_string (builder, "event", event_id);
  pv_json_add_string (builder, "event_public_key", event_key);
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* A volunteer at a device asks for a sign-in code: {"phone": "…"}. The
 * answer is the same whether or not the phone is a volunteer's. */
void
pv_hub_handle_otp (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  gboolean sent;

  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"phone\": \"+91…\"}")))
    return;
  if (!pv_volunteers_request_code (hub->store, json_object_get_string_member_with_default (root, "phone", NULL), &error))
    return pv_sync_reply_error (msg,
                                g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION) ? 429 /* Too Many Requests */
                                : g_error_matches (error, PV_ERROR, PV_ERROR_INVALID)  ? SOUP_STATUS_BAD_REQUEST
                                                                                       : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                error->message);
  /* The code's message is in the outbox: send it now. Without SMS it
   * waits there, for the control room to read out (pravesh-ctl otp show),
   * and the device is told so rather than promised a message. The answer
   * is the same whether the phone is a volunteer's or not. */
  sent = pv_hub_outbox_is_configured (hub->outbox, PV_DELIVERY_SMS);
  pv_hub_outbox_kick (hub->outbox);
  json_builder_begin_object (builder);
  pv_json_add_bool (builder, "sent", sent);
  if (sent)
    pv_json_add_string (builder, "channel", PV_DELIVERY_SMS);
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* Devices offer only what the hub can send: a desk's "Send by WhatsApp"
 * only when a ticket by WhatsApp reaches a walk-in (who never wrote to
 * the number, so only as the approved template), sign-in's "a code is on
 * its way" only when SMS (the one channel codes go by) is set up. */
static void
tell_channels (PvHub *hub)
{
  const char *tickets[3] = { NULL }, *codes[2] = { NULL };
  guint n = 0;

  if (pv_hub_outbox_can_reach_anyone (hub->outbox, PV_DELIVERY_WHATSAPP, PV_OUTBOX_TICKET))
    tickets[n++] = PV_DELIVERY_WHATSAPP;
  else if (pv_hub_outbox_is_configured (hub->outbox, PV_DELIVERY_WHATSAPP))
    g_message ("[whatsapp] has no ticket-template: desks are not offered to send tickets by WhatsApp (a visitor "
               "who never wrote to the number cannot be sent one)");
  if (pv_hub_outbox_can_reach_anyone (hub->outbox, PV_DELIVERY_SMS, PV_OUTBOX_TICKET))
    tickets[n++] = PV_DELIVERY_SMS;
  if (pv_hub_outbox_is_configured (hub->outbox, PV_DELIVERY_SMS))
    codes[0] = PV_DELIVERY_SMS;
  else
    g_message ("No [sms] set up: volunteers' sign-in codes are not sent; read one with pravesh-ctl otp show");
  pv_sync_server_set_channels (hub->sync, tickets, codes);
}

/* {"phone": "…", "code": "123456"} → the volunteer signed in here. */
void
pv_hub_handle_otp_verify (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  PvVolunteer volunteer = { 0 };
  JsonObject *root;
  const PvTokenInfo *who = &call->who;

  if (!(root = pv_hub_small_json_body (msg, parser, "Expected {\"phone\": \"+91…\", \"code\": \"123456\"}")))
    return;
  if (!pv_volunteers_verify_code (hub->store, json_object_get_string_member_with_default (root, "phone", NULL),
                                  json_object_get_string_member_with_default (root, "code", NULL), who->device_id, &volunteer,
                                  &error))
    return pv_sync_reply_error (msg,
                                g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION) ? SOUP_STATUS_FORBIDDEN
                                : g_error_matches (error, PV_ERROR, PV_ERROR_INVALID)  ? SOUP_STATUS_BAD_REQUEST
                                                                                       : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                error->message);
  /* Phone numbers stay out of the log: the volunteer is named by id. */
  g_message ("Volunteer %" G_GINT64_FORMAT " signed in at device %u", volunteer.id, who->device_id);
  hub->sign_ins++;
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "volunteer", volunteer.id);
  pv_json_add_string (builder, "name", volunteer.name);
  pv_json_add_string (builder, "role", pv_role_to_string (volunteer.role));
  pv_json_add_int (builder, "device", who->device_id);
  json_builder_end_object (builder);
  pv_volunteer_clear (&volunteer);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

void
pv_hub_handle_metrics (PvHub *hub, PvHubCall *call)
{
  SoupServerMessage *msg = call->msg;
  GString *out;

  out = g_string_new (NULL);

  g_string_append (out, "# HELP pravesh_admit_requests_total Online admission requests received.\n"
                        "# TYPE pravesh_admit_requests_total counter\n");
  g_string_append_printf (out, "pravesh_admit_requests_total %" G_GUINT64_FORMAT "\n",
                          pv_hub_routes_get_hits (hub, pv_hub_routes_find ("/api/v1/admit")));
  g_string_append (out, "# HELP pravesh_admissions_total Online decisions by verdict.\n"
                        "# TYPE pravesh_admissions_total counter\n");
  for (guint v = 0; v < G_N_ELEMENTS (hub->verdicts); v++)
    if (hub->verdicts[v] > 0)
      g_string_append_printf (out, "pravesh_admissions_total{verdict=\"%s\"} %" G_GUINT64_FORMAT "\n",
                              pv_verdict_to_string (v), hub->verdicts[v]);
  g_string_append (out, "# HELP pravesh_commit_groups_total Group commits of online admissions.\n"
                        "# TYPE pravesh_commit_groups_total counter\n");
  g_string_append_printf (out, "pravesh_commit_groups_total %" G_GUINT64_FORMAT "\n", hub->groups);
  g_string_append (out, "# HELP pravesh_volunteer_sign_ins_total Volunteers signed in with a one-time code.\n"
                        "# TYPE pravesh_volunteer_sign_ins_total counter\n");
  g_string_append_printf (out, "pravesh_volunteer_sign_ins_total %" G_GUINT64_FORMAT "\n", hub->sign_ins);
  pv_sync_server_write_metrics (hub->sync, out);
  g_string_append (out, "# HELP pravesh_ledger_records Records in the hub's ledger.\n"
                        "# TYPE pravesh_ledger_records gauge\n");
  g_string_append_printf (out, "pravesh_ledger_records %" G_GINT64_FORMAT "\n",
                          pv_sync_server_count_records (hub->sync));
  pv_listen_write_metrics (hub->server, "pravesh_http", out);
  if (hub->outbox != NULL)
    pv_hub_outbox_write_metrics (hub->outbox, out);
  if (hub->whatsapp != NULL)
    pv_hub_whatsapp_write_metrics (hub->whatsapp, out);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE, out->str, out->len);
  g_string_free (out, FALSE);
}

/* [hub] max-connections and the rest: the caps and deadlines of the hub's
 * listener (pv-listener.h), each refused at start when out of range. */
static gboolean
read_listen_limits (GKeyFile *config, PvListenLimits *limits, GError **error)
{
  guint by_fd_limit = pv_listen_max_for_fd_limit ();

  pv_listen_limits_init (limits);
  if (!pv_hub_config_uint (config, "hub", "max-connections", 0, 0, 1u << 20, &limits->max_connections, error)
      || !pv_hub_config_uint (config, "hub", "max-connections-per-address", limits->max_per_address, 1, 1u << 20,
                              &limits->max_per_address, error)
      || !pv_hub_config_uint (config, "hub", "tls-handshake-timeout", limits->handshake_timeout_s, 1, 3600,
                              &limits->handshake_timeout_s, error)
      || !pv_hub_config_uint (config, "hub", "header-timeout", limits->header_timeout_s, 1, 3600,
                              &limits->header_timeout_s, error)
      || !pv_hub_config_uint (config, "hub", "idle-timeout", limits->idle_timeout_s, 1, 86400,
                              &limits->idle_timeout_s, error)
      || !pv_hub_config_uint (config, "hub", "body-timeout", limits->body_timeout_s, 1, 3600,
                              &limits->body_timeout_s, error))
    return FALSE;
  if (limits->max_connections == 0)
    limits->max_connections = by_fd_limit;
  else if (limits->max_connections > by_fd_limit)
    g_message ("[hub] max-connections = %u is more than the file-descriptor limit leaves room for (%u): when "
               "descriptors run out the hub stops accepting for a moment",
               limits->max_connections, by_fd_limit);
  return TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  PvHub *hub = user_data;

  g_message ("Stopping");
  g_main_loop_quit (hub->loop);
  return G_SOURCE_CONTINUE;
}

void
pv_hub_handle_webhook (PvHub *hub, PvHubCall *call)
{
  /* Mounted only while the bot is (see serves_here ()). */
  g_return_if_fail (hub->whatsapp != NULL);
  pv_hub_whatsapp_handle (hub->whatsapp, call->msg, call->query);
}

void
pv_hub_handle_page (PvHub *hub, PvHubCall *call)
{
  g_return_if_fail (hub->web != NULL);
  pv_hub_web_handle (hub->web, call->msg, call->path, call->query, call->route);
}

/* The routes of the main listener: /metrics only when it has no listener
 * of its own, the webhook only when the bot is there to take it. */
static gboolean
serves_here (PvHub *hub, const PvHubRoute *route)
{
  if (route->handler == pv_hub_handle_metrics)
    return hub->metrics_server == NULL;
  if (route->caller == PV_HUB_CALLER_WEBHOOK)
    return pv_hub_whatsapp_is_serving (hub->whatsapp);
  return TRUE;
}

static gboolean
is_metrics (PvHub *hub, const PvHubRoute *route)
{
  return route->handler == pv_hub_handle_metrics;
}

void
pv_hub_init (void)
{
  /* Before anything can touch TLS: the policy is read once. */
  pv_tls_policy_init ();
  pv_i18n_init ();
  pv_crypto_init ();
}

void
pv_hub_options_clear (PvHubOptions *options)
{
  g_clear_pointer (&options->db, g_free);
  g_clear_pointer (&options->listen, g_free);
  g_clear_pointer (&options->config, g_free);
  g_clear_pointer (&options->public_url, g_free);
  g_clear_pointer (&options->tls_cert, g_free);
  g_clear_pointer (&options->tls_key, g_free);
}

gboolean
pv_hub_parse_options (int *argc, char ***argv, PvHubOptions *options, int *out_status)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &options->db, N_ ("The hub's replica (required)"), N_ ("FILE") },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &options->listen,
      N_ ("Address and port to serve on (default " DEFAULT_LISTEN ")"), N_ ("ADDR:PORT") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &options->config, N_ ("Settings file (key file, group [hub])"),
      N_ ("FILE") },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &options->public_url,
      N_ ("The address devices reach the hub by, when it is not the one listened on"), N_ ("URL") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &options->tls_cert,
      N_ ("Serve HTTPS with this certificate (PEM; see “pravesh-ctl hub cert”)"), N_ ("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &options->tls_key, N_ ("The certificate’s private key (PEM)"),
      N_ ("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version, N_ ("Show the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _ ("Serve a Pravesh event: sync for devices and online admission."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      *out_status = 1;
      return FALSE;
    }
  if (options->version)
    {
      g_print ("pravesh-hub %s\n", PACKAGE_VERSION);
      *out_status = 0;
      return FALSE;
    }
  return TRUE;
}

/* [hub] of --config beneath the command line: @options' own values win. */
static gboolean
load_config (PvHub *self, const PvHubOptions *options, PvHubOptions *merged, GError **error)
{
  GKeyFile *keys = self->config;
  struct
  {
    char **out;
    const char *given, *key;
  } values[] = {
    { &merged->db, options->db, "db" },
    { &merged->listen, options->listen, "listen" },
    { &merged->public_url, options->public_url, "public-url" },
    { &merged->tls_cert, options->tls_cert, "tls-cert" },
    { &merged->tls_key, options->tls_key, "tls-key" },
  };

  if (options->config != NULL && !g_key_file_load_from_file (keys, options->config, G_KEY_FILE_NONE, error))
    return g_prefix_error (error, "%s: ", options->config), FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    *values[i].out = values[i].given || options->config == NULL ? g_strdup (values[i].given)
                                                                : g_key_file_get_string (keys, "hub", values[i].key,
                                                                                         NULL);
  return TRUE;
}

/* /metrics where [hub] metrics-listen says (an address only the
 * monitoring reaches, as exporters usually are), else beside the rest. */
static gboolean
listen_metrics (PvHub *self, GError **error)
{
  g_autofree char *metrics_listen = pv_hub_config_string (self->config, "hub", "metrics-listen", NULL);
  g_autofree char *metrics_url = NULL;
  PvListenLimits limits;

  if (metrics_listen == NULL)
    return TRUE;
  /* Few clients, each scraping now and then; their descriptors come out
   * of the reserve below the main listener's cap. */
  pv_listen_limits_init (&limits);
  limits.max_connections = 16;
  limits.max_per_address = 8;
  self->metrics_server = soup_server_new ("server-header", "pravesh-hub", NULL);
  pv_hub_routes_mount (self->metrics_server, self, self->sync, is_metrics, TRUE);
  if (!pv_listen (self->metrics_server, metrics_listen, &limits, &metrics_url, error))
    return g_prefix_error (error, "[hub] metrics-listen: "), FALSE;
  g_message ("Metrics at %smetrics", metrics_url);
  return TRUE;
}

/* Pairing codes made on this file point devices here, with the
 * certificate's fingerprint when it serves HTTPS. */
static gboolean
pin_certificate (PvHub *self, GTlsCertificate *certificate, GError **error)
{
  char hex[PV_FINGERPRINT_HEX_SIZE + 1];

  pv_tls_fingerprint (certificate, self->fingerprint);
  self->pinned = TRUE;
  sodium_bin2hex (hex, sizeof hex, self->fingerprint, sizeof self->fingerprint);
  g_message ("TLS certificate SHA-256 %s", hex);
  return pv_store_set_meta_string (self->store, "tls-fingerprint", hex, error);
}

/* Devices name the hub by the address in their pairing code, and their
 * tokens are made out to it: an address that is everyone's (0.0.0.0)
 * cannot be that. */
static gboolean
choose_url (PvHub *self, const char *public_url, GError **error)
{
  const char *url = self->listen_url;

  if (public_url == NULL && (strstr (url, "://0.0.0.0:") || strstr (url, "://[::]:")))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "listening on every address: give --public-url, the address devices reach the hub "
                                "by (e.g. https://10.0.0.2:8470/)"),
           FALSE;
  pv_sync_server_add_audience (self->sync, url);
  pv_sync_server_add_audience (self->sync, public_url);
  /* Invitations the admin API makes carry this address too: the one the
   * hub's tokens are made out to and devices on the LAN are told to use,
   * never the address an admin's request happened to arrive by (that may
   * be localhost or a tunnel, and is the caller's word). */
  self->url = g_strdup (public_url ? public_url : url);
  return pv_store_set_meta_string (self->store, PV_META_HUB_URL, self->url, error);
}

/* The public channels, each served by the same server. */
static gboolean
start_channels (PvHub *self, GError **error)
{
  self->context = (PvHubContext){
    .store = self->store, .watch = self->watch, .server = self->server, .config = self->config, .url = self->url
  };
  if (!(self->outbox = pv_hub_outbox_new (&self->context, error))
      || !(self->whatsapp = pv_hub_whatsapp_new (&self->context, self->outbox, error))
      || !(self->web = pv_hub_web_new (&self->context, self->outbox, error)))
    return FALSE;
  tell_channels (self);
  return TRUE;
}

PvHub *
pv_hub_new (const PvHubOptions *options, GError **error)
{
  g_autoptr (PvHub) self = g_new0 (PvHub, 1);
  g_auto (PvHubOptions) merged = { 0 };
  g_autoptr (GTlsCertificate) certificate = NULL;
  PvListenLimits limits;
  guint64 fd_limit;

  self->config = g_key_file_new ();
  self->route_hits = g_new0 (guint64, pv_hub_n_routes);
  g_queue_init (&self->pending);
  if (!load_config (self, options, &merged, error))
    return NULL;
  /* A service is given a high hard limit (LimitNOFILE) and a soft one of
   * 1,024: every connection is a descriptor, so take all there is, and
   * work the connection cap out from it. */
  fd_limit = pv_listen_raise_fd_limit ();
  if (!read_listen_limits (self->config, &limits, error))
    return NULL;
  if (merged.db == NULL)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "--db FILE is required"), NULL;
  if (!(self->store = pv_store_open_existing (merged.db, error)) || !pv_channels_prepare_store (self->store, error)
      || !pv_store_get_event (self->store, error))
    return NULL;
  if ((merged.tls_cert == NULL) != (merged.tls_key == NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "give both --tls-cert and --tls-key, or neither"),
           NULL;
  if (merged.tls_cert != NULL
      && !(certificate = g_tls_certificate_new_from_files (merged.tls_cert, merged.tls_key, error)))
    return NULL;
  self->watch = pv_store_watch_new (self->store, 20);
  self->pair_attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->lookups = g_hash_table_new (NULL, NULL);
  self->sync = pv_sync_server_new (self->watch);
  /* No version in the Server header, and none of libsoup's: nothing to
   * look up in a list of known holes. */
  self->server = soup_server_new ("server-header", "pravesh-hub", "tls-certificate", certificate, NULL);
  pv_sync_server_mount (self->sync, self->server);
  if (!listen_metrics (self, error))
    return NULL;
  if (!pv_listen (self->server, merged.listen ? merged.listen : DEFAULT_LISTEN, &limits, &self->listen_url, error))
    return g_prefix_error (error, "--listen "), NULL;
  g_message ("Taking up to %u connections (%u from one address); file-descriptor limit %" G_GUINT64_FORMAT,
             limits.max_connections, limits.max_per_address, fd_limit);
  if ((certificate != NULL && !pin_certificate (self, certificate, error))
      || !choose_url (self, merged.public_url, error) || !start_channels (self, error))
    return NULL;
  /* Mounted last: the webhook only when the bot is set up to take it. */
  pv_hub_routes_mount (self->server, self, self->sync, serves_here, FALSE);
  return g_steal_pointer (&self);
}

void
pv_hub_run (PvHub *self)
{
  self->loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, self);
  g_unix_signal_add (SIGINT, on_signal, self);
  /* The first line a supervisor (or a test) reads: where to connect, once
   * pairing codes made on this file will say so — and once SIGTERM is
   * ours, so a hub stopped the moment it is up stops cleanly. */
  g_print ("listening %s\n", self->listen_url);
  g_main_loop_run (self->loop);
  /* Answer what is queued before leaving: those are decided and durable. */
  while (!g_queue_is_empty (&self->pending))
    flush_admissions (self);
}

void
pv_hub_free (PvHub *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_clear_pointer (&self->web, pv_hub_web_free);
  g_clear_pointer (&self->whatsapp, pv_hub_whatsapp_free);
  g_clear_pointer (&self->outbox, pv_hub_outbox_free);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  if (self->metrics_server != NULL)
    soup_server_disconnect (self->metrics_server);
  g_clear_object (&self->metrics_server);
  /* Let the closed connections' last callbacks run and free them. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&self->sync);
  g_clear_object (&self->watch);
  g_clear_object (&self->store);
  g_clear_pointer (&self->pair_attempts, g_hash_table_unref);
  g_clear_pointer (&self->lookups, g_hash_table_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_free (self->url);
  g_free (self->listen_url);
  g_free (self->route_hits);
  g_key_file_unref (self->config);
  g_free (self);
}
