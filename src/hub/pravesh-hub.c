/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pravesh-hub.c: the server every device meets at. It keeps its own replica,
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
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-hub-config.h"
#include "pv-hub-outbox.h"
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
#define MAX_ADMIT_BODY 4096
#define MAX_GROUP 512

typedef struct
{
  PvStore *store;
  PvStoreWatch *watch;
  PvSyncServer *sync;
  SoupServer *server;
  SoupServer *metrics_server; /* [hub] metrics-listen, or NULL */
  GMainLoop *loop;
  GQueue pending; /* Admission* waiting for the next group commit */
  guint flush_id;
  /* /metrics */
  guint64 requests;
  guint64 verdicts[PV_VERDICT_NOT_INSIDE + 1];
  guint64 groups;
  GHashTable *pair_attempts; /* remote address → attempts this minute */
  gint64 pair_minute;
  GHashTable *lookups; /* device → delivery look-ups this minute */
  gint64 lookup_minute;
  guint64 sign_ins;
  /* What invitations carry: the address devices reach the hub by, and the
   * fingerprint of its certificate when it serves HTTPS. */
  char *url;
  gboolean pinned;
  guint8 fingerprint[PV_FINGERPRINT_SIZE];
  /* the public channels */
  GKeyFile *config; /* never NULL */
  PvHubContext context;
  PvHubOutbox *outbox;
  PvHubWhatsapp *whatsapp;
  PvHubWeb *web;
} Hub;

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
  Hub *hub = user_data;
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
static JsonObject *
small_json_body (SoupServerMessage *msg, JsonParser *parser, const char *expected)
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

static void
handle_admit (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  const char *code, *gate;
  Admission *admission;
  PvTokenInfo who;
  PvEvent *event;

  hub->requests++;
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST a JSON object here");
  if (!pv_sync_server_authorize (hub->sync, msg, &who))
    return;
  if (who.role != PV_ROLE_GATE && who.role != PV_ROLE_ADMIN && who.role != PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "Only gates admit visitors");
  /* Borrowed, and only after the check above, which may reload it. */
  event = pv_store_get_event (hub->store, NULL);
  if (!(root = small_json_body (msg, parser, "Expected {\"code\": \"PV1:…\", \"gate\": \"Gate 1\", \"exit\": false}")))
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
lookup_allowed (Hub *hub, guint16 device)
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
static void
handle_ticket_delivery (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                        gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_auto (PvTicketInfo) info = { 0 };
  const char *serial = query ? g_hash_table_lookup (query, "serial") : NULL;
  guint16 issuer = 0;
  guint32 number = 0;
  PvTokenInfo who;

  if (g_strcmp0 (path, "/api/v1/tickets/delivery") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such API path");
  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Use GET here");
    }
  if (!pv_sync_server_authorize (hub->sync, msg, &who))
    return;
  if (who.role != PV_ROLE_DESK && who.role != PV_ROLE_ADMIN && who.role != PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "Only desks and admin devices follow a ticket's sending");
  if (!lookup_allowed (hub, who.device_id))
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
pair_allowed (Hub *hub, SoupServerMessage *msg)
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
static void
handle_pair (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
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

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST a JSON object here");
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
static void
handle_otp (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  PvTokenInfo who;
  gboolean sent;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST a JSON object here");
  if (!pv_sync_server_authorize (hub->sync, msg, &who)
      || !(root = small_json_body (msg, parser, "Expected {\"phone\": \"+91…\"}")))
    return;
  if (!pv_otp_request (hub->store, json_object_get_string_member_with_default (root, "phone", NULL), &error))
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
tell_channels (Hub *hub)
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
static void
handle_otp_verify (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  PvVolunteer volunteer = { 0 };
  JsonObject *root;
  PvTokenInfo who;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST a JSON object here");
  if (!pv_sync_server_authorize (hub->sync, msg, &who)
      || !(root = small_json_body (msg, parser, "Expected {\"phone\": \"+91…\", \"code\": \"123456\"}")))
    return;
  if (!pv_otp_verify (hub->store, json_object_get_string_member_with_default (root, "phone", NULL),
                      json_object_get_string_member_with_default (root, "code", NULL), who.device_id, &volunteer,
                      &error))
    return pv_sync_reply_error (msg,
                                g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION) ? SOUP_STATUS_FORBIDDEN
                                : g_error_matches (error, PV_ERROR, PV_ERROR_INVALID)  ? SOUP_STATUS_BAD_REQUEST
                                                                                       : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                error->message);
  /* Phone numbers stay out of the log: the volunteer is named by id. */
  g_message ("Volunteer %" G_GINT64_FORMAT " signed in at device %u", volunteer.id, who.device_id);
  hub->sign_ins++;
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "volunteer", volunteer.id);
  pv_json_add_string (builder, "name", volunteer.name);
  pv_json_add_string (builder, "role", pv_role_to_string (volunteer.role));
  pv_json_add_int (builder, "device", who.device_id);
  json_builder_end_object (builder);
  pv_volunteer_clear (&volunteer);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* ---- the control room's admin API ----
 *
 * Admin devices only (and the hub's own token). JSON in and out, times in
 * µs since the epoch. A body that is not a JSON object, or a member of the
 * wrong type, is 400; a value the rules refuse is 422; each with words a
 * person can act on. Nothing is changed by a refused request. */

/* Checks the method, the token (401) and the role (403); FALSE once
 * answered. */
static gboolean
admin_allowed (Hub *hub, SoupServerMessage *msg, const char *path, const char *served_path, const char *methods,
               PvTokenInfo *who)
{
  g_auto (GStrv) allowed = g_strsplit (methods, ", ", -1);

  /* A handler is found by prefix: /api/v1/devices/x is not /api/v1/devices. */
  if (g_strcmp0 (path, served_path) != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such API path"), FALSE;
  if (!g_strv_contains ((const char *const *) allowed, soup_server_message_get_method (msg)))
    {
      g_autofree char *words = g_strdup_printf ("Use %s here", methods);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", methods);
      return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, words), FALSE;
    }
  if (!pv_sync_server_authorize (hub->sync, msg, who))
    return FALSE;
  if (who->role != PV_ROLE_ADMIN && who->role != PV_ROLE_HUB)
    {
      g_autofree char *words = g_strdup_printf ("Only an admin device may do this; this is a %s device",
                                                pv_role_to_string (who->role));
      return pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, words), FALSE;
    }
  return TRUE;
}

/* Typed members: FALSE when absent or of another JSON type. */
static gboolean
member_string (JsonObject *root, const char *name, const char **out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_STRING);

  return node && (*out = json_node_get_string (node), TRUE);
}

static gboolean
member_int (JsonObject *root, const char *name, gint64 *out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_INT64);

  return node && (*out = json_node_get_int (node), TRUE);
}

static gboolean
member_bool (JsonObject *root, const char *name, gboolean *out)
{
  JsonNode *node = pv_json_member_of_type (root, name, G_TYPE_BOOLEAN);

  return node && (*out = json_node_get_boolean (node), TRUE);
}

static void
add_int_or_null (JsonBuilder *builder, const char *name, gboolean known, gint64 value)
{
  json_builder_set_member_name (builder, name);
  if (known)
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
reply_builder (SoupServerMessage *msg, JsonBuilder *builder)
{
  g_autoptr (GBytes) bytes = pv_json_builder_to_bytes (builder);

  pv_sync_reply_json (msg, bytes);
}

/* A store failure is the hub's trouble, not the asker's. */
static guint
status_for_error (const GError *error)
{
  if (error->domain != PV_ERROR)
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  switch (error->code)
    {
    case PV_ERROR_MALFORMED:
    case PV_ERROR_INVALID:
      return SOUP_STATUS_UNPROCESSABLE_ENTITY;
    case PV_ERROR_NOT_FOUND:
      return SOUP_STATUS_NOT_FOUND;
    case PV_ERROR_EXISTS:
      return SOUP_STATUS_CONFLICT;
    case PV_ERROR_PERMISSION:
      return SOUP_STATUS_FORBIDDEN;
    default:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    }
}

/* GET: every enrolled device, the hub and revoked ones included, with what
 * the hub last heard from each. */
static void
handle_devices (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  gint64 now = g_get_real_time ();
  PvTokenInfo who;

  if (!admin_allowed (hub, msg, path, "/api/v1/devices", "GET", &who))
    return;
  if (!(devices = pv_devices_list (hub->store, &error)))
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  pv_sync_server_update_contacts (hub->sync);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "now", now);
  json_builder_set_member_name (builder, "devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < devices->len; i++)
    {
      const PvDeviceStatus *d = devices->pdata[i];
      PvDeviceContact contact = { .behind = -1, .pending = -1 };
      gboolean called = pv_sync_server_lookup_contact (hub->sync, d->id, &contact);
      /* Last seen, as "pravesh-ctl device list" says it: its last call here
       * or its newest record (which may have come by a peer), whichever is
       * later; a record from a clock running fast does not count. */
      gint64 last_seen = MAX (d->last_seen, called ? contact.seen : 0);

      /* The hub is up: it is answering. */
      if (d->this_device)
        {
          last_seen = now;
          contact.behind = contact.pending = 0;
          contact.has_skew = TRUE;
          contact.skew_ms = 0;
          contact.url = hub->url;
        }
      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", d->id);
      pv_json_add_string (builder, "name", d->name);
      pv_json_add_string (builder, "role", d->role);
      /* The hub itself, which no admin may revoke. */
      pv_json_add_bool (builder, "hub", d->this_device);
      pv_json_add_bool (builder, "revoked", d->revoked);
      add_int_or_null (builder, "revoked_at", d->revoked, d->revoked_at);
      pv_json_add_string (builder, "revoke_reason", d->revoked ? d->revoke_reason : NULL);
      add_int_or_null (builder, "last_seen", last_seen > 0, last_seen);
      add_int_or_null (builder, "behind", contact.behind >= 0, contact.behind);
      add_int_or_null (builder, "pending", contact.pending >= 0, contact.pending);
      add_int_or_null (builder, "skew_ms", contact.has_skew, contact.skew_ms);
      pv_json_add_string (builder, "url", contact.url);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define MAX_REASON 200

/* {"device": 3, "reason": "Stolen laptop"}: a revocation record in the
 * hub's ledger, which sync takes to every replica. */
static void
handle_devices_revoke (SoupServer *server,
                       SoupServerMessage *msg,
                       const char *path,
                       GHashTable *query,
                       gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  const PvDeviceInfo *device;
  const char *reason_text;
  JsonObject *root;
  gint64 id;
  PvTokenInfo who;

  if (!admin_allowed (hub, msg, path, "/api/v1/devices/revoke", "POST", &who)
      || !(root = small_json_body (msg, parser, "Expected {\"device\": 3, \"reason\": \"Stolen laptop\"}")))
    return;
  if (!member_int (root, "device", &id) || !member_string (root, "reason", &reason_text))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"device\": 3, \"reason\": \"Stolen laptop\"}: a device id and a reason");
  reason = g_strstrip (g_strdup (reason_text));
  if (id < 1 || id > G_MAXUINT16 || !(device = pv_store_lookup_device (hub->store, (guint16) id)))
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such device");
  if (id == pv_store_get_device_id (hub->store))
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "That is the hub itself, which cannot be revoked");
  if (id == who.device_id)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "That is the device you are using; revoke it from another admin device");
  if (*reason == '\0' || g_utf8_strlen (reason, -1) > MAX_REASON)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "Say why the device is revoked, in at most 200 characters");
  /* Revoked already: that revocation stands, and a retry is answered alike. */
  if (device->revoked_at == G_MAXINT64)
    {
      if (!pv_devices_revoke (hub->store, (guint16) id, reason, &error))
        return pv_sync_reply_error (msg, status_for_error (error), error->message);
      /* Live sessions pass the record on, and end the revoked device's. */
      pv_store_watch_notify (hub->watch);
      g_message ("Device %u revoked by device %u", (guint) id, who.device_id);
    }
  /* Revoking reloads the device cache: look it up again. */
  device = pv_store_lookup_device (hub->store, (guint16) id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "device", id);
  pv_json_add_int (builder, "revoked_at", device ? device->revoked_at : 0);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define MAX_INVITE_HOURS (30 * 24)

/* {"role": "gate", "name": "Gate 5", "gate": "Gate 5", "hours": 24} → a
 * one-time pairing code that points devices at this hub ("gate" optional:
 * the gate a gate station stands at). */
static void
handle_invite (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL, *text = NULL;
  PvPairingCode code = { 0 };
  const char *role_text, *name_text, *gate_text = NULL;
  gint64 hours = 24;
  JsonObject *root;
  PvTokenInfo who;
  PvRole role;

  if (!admin_allowed (hub, msg, path, "/api/v1/invite", "POST", &who)
      || !(root = small_json_body (msg, parser, "Expected {\"role\": \"gate\", \"name\": \"Gate 5\", \"hours\": 24}")))
    return;
  if (!member_string (root, "role", &role_text) || !member_string (root, "name", &name_text)
      || (json_object_has_member (root, "hours") && !member_int (root, "hours", &hours))
      || (json_object_has_member (root, "gate") && !member_string (root, "gate", &gate_text)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"role\": \"gate\", \"name\": \"Gate 5\", \"hours\": 24}: "
                                "role, name and gate (optional) are strings, hours (optional) a whole number");
  if (!pv_role_from_string (role_text, &role, NULL) || role == PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "A device is invited as gate, desk or admin");
  if (hours < 1 || hours > MAX_INVITE_HOURS)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                                "An invitation holds for 1 to 720 hours (30 days)");
  name = g_strstrip (g_strdup (name_text));
  if (!pv_invite_create (hub->store, role, name, gate_text, hours * 3600 * G_USEC_PER_SEC, hub->url,
                         hub->pinned ? hub->fingerprint : NULL, &code, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  text = pv_pairing_code_format (&code);
  g_message ("Device %u invited a %s device", who.device_id, pv_role_to_string (role));
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "code", text);
  pv_json_add_string (builder, "role", pv_role_to_string (role));
  pv_json_add_string (builder, "name", name);
  if (code.gate != NULL)
    pv_json_add_string (builder, "gate", code.gate);
  pv_json_add_int (builder, "expires", code.expires_at);
  json_builder_end_object (builder);
  pv_pairing_code_clear (&code);
  reply_builder (msg, builder);
}

static void
list_volunteers (Hub *hub, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = pv_volunteers_list (hub->store, &error);

  if (list == NULL)
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "volunteers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      const PvVolunteer *v = &g_array_index (list, PvVolunteer, i);

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", v->id);
      pv_json_add_string (builder, "name", v->name);
      pv_json_add_string (builder, "phone", v->phone);
      pv_json_add_string (builder, "role", pv_role_to_string (v->role));
      pv_json_add_bool (builder, "active", v->active);
      pv_json_add_int (builder, "added_at", v->added_at);
      json_builder_set_member_name (builder, "last_sign_in");
      if (v->last_sign_in_at != 0)
        {
          json_builder_begin_object (builder);
          pv_json_add_int (builder, "at", v->last_sign_in_at);
          pv_json_add_int (builder, "device", v->last_sign_in_device);
          pv_json_add_string (builder, "device_name", v->last_sign_in_device_name);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

#define VOLUNTEER_SHAPE "{\"name\": \"Asha\", \"phone\": \"98765 43210\", \"role\": \"desk\"}"

/* GET: every volunteer; POST {"name", "phone", "role"}: one more. */
static void
handle_volunteers (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *phone = NULL;
  const char *name, *phone_text, *role_text = "gate";
  JsonObject *root;
  PvTokenInfo who;
  gint64 id = 0;
  PvRole role;

  if (!admin_allowed (hub, msg, path, "/api/v1/volunteers", "GET, POST", &who))
    return;
  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0)
    return list_volunteers (hub, msg);
  if (!(root = small_json_body (msg, parser, "Expected " VOLUNTEER_SHAPE)))
    return;
  if (!member_string (root, "name", &name) || !member_string (root, "phone", &phone_text)
      || (json_object_has_member (root, "role") && !member_string (root, "role", &role_text)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected " VOLUNTEER_SHAPE ": strings, the role gate, desk or admin");
  if (!pv_role_from_string (role_text, &role, NULL) || role == PV_ROLE_HUB)
    return pv_sync_reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "A volunteer’s role is gate, desk or admin");
  if (!(phone = pv_normalize_phone (phone_text, &error))
      || !pv_volunteers_add (hub->store, name, phone, role, &id, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  g_message ("Device %u added volunteer %" G_GINT64_FORMAT, who.device_id, id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", id);
  pv_json_add_string (builder, "phone", phone);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

/* {"id": 1, "active": false}: a deactivated volunteer signs in nowhere. */
static void
handle_volunteers_deactivate (SoupServer *server,
                              SoupServerMessage *msg,
                              const char *path,
                              GHashTable *query,
                              gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  gboolean active = FALSE;
  JsonObject *root;
  PvTokenInfo who;
  gint64 id;

  if (!admin_allowed (hub, msg, path, "/api/v1/volunteers/deactivate", "POST", &who)
      || !(root = small_json_body (msg, parser, "Expected {\"id\": 1, \"active\": false}")))
    return;
  if (!member_int (root, "id", &id)
      || (json_object_has_member (root, "active") && !member_bool (root, "active", &active)))
    return pv_sync_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                "Expected {\"id\": 1, \"active\": false}: a volunteer id, and true to reactivate");
  if (!pv_volunteers_set_active (hub->store, id, active, &error))
    return pv_sync_reply_error (msg, status_for_error (error), error->message);
  g_message ("Device %u %s volunteer %" G_GINT64_FORMAT, who.device_id, active ? "reactivated" : "deactivated", id);
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", id);
  pv_json_add_bool (builder, "active", active);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

/* GET: the newest sign-ins first. */
static void
handle_sign_ins (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;
  PvTokenInfo who;

  if (!admin_allowed (hub, msg, path, "/api/v1/volunteers/sign-ins", "GET", &who))
    return;
  if (!(list = pv_volunteers_sign_ins (hub->store, PV_SIGN_INS_MAX, &error)))
    return pv_sync_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sign_ins");
  json_builder_begin_array (builder);
  for (guint i = 0; i < list->len; i++)
    {
      const PvSignIn *s = &g_array_index (list, PvSignIn, i);

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "at", s->at);
      pv_json_add_int (builder, "volunteer", s->volunteer_id);
      pv_json_add_string (builder, "name", s->name);
      pv_json_add_string (builder, "phone", s->phone);
      pv_json_add_int (builder, "device", s->device_id);
      pv_json_add_string (builder, "device_name", s->device_name);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, builder);
}

static void
handle_metrics (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  GString *out;

  if (g_strcmp0 (path, "/metrics") != 0)
    return pv_sync_reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such path");
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET && soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    return pv_sync_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Use GET here");
  out = g_string_new (NULL);

  g_string_append (out, "# HELP pravesh_admit_requests_total Online admission requests received.\n"
                        "# TYPE pravesh_admit_requests_total counter\n");
  g_string_append_printf (out, "pravesh_admit_requests_total %" G_GUINT64_FORMAT "\n", hub->requests);
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
  Hub *hub = user_data;

  g_message ("Stopping");
  g_main_loop_quit (hub->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char *argv[])
{
  g_autofree char *db = NULL, *listen = NULL, *config = NULL, *url = NULL, *public_url = NULL;
  g_autofree char *tls_cert = NULL, *tls_key = NULL, *metrics_listen = NULL, *metrics_url = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  PvListenLimits limits;
  guint64 fd_limit;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  gboolean version = FALSE;
  Hub hub = { 0 };
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_ ("The hub's replica (required)"), N_ ("FILE") },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, N_ ("Address and port to serve on (default " DEFAULT_LISTEN ")"),
      N_ ("ADDR:PORT") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config, N_ ("Settings file (key file, group [hub])"), N_ ("FILE") },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &public_url,
      N_ ("The address devices reach the hub by, when it is not the one listened on"), N_ ("URL") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      N_ ("Serve HTTPS with this certificate (PEM; see “pravesh-ctl hub cert”)"), N_ ("FILE") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, N_ ("The certificate’s private key (PEM)"), N_ ("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Show the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  /* Before anything can touch TLS: the policy is read once. */
  pv_tls_policy_init ();
  pv_i18n_init ();
  pv_crypto_init ();
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _ ("Serve a Pravesh event: sync for devices and online admission."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  if (version)
    {
      g_print ("pravesh-hub %s\n", PACKAGE_VERSION);
      return 0;
    }
  hub.config = g_key_file_new ();
  if (config != NULL)
    {
      GKeyFile *keys = hub.config;

      if (!g_key_file_load_from_file (keys, config, G_KEY_FILE_NONE, &error))
        {
          g_printerr ("pravesh-hub: %s: %s\n", config, error->message);
          return 1;
        }
      if (db == NULL)
        db = g_key_file_get_string (keys, "hub", "db", NULL);
      if (listen == NULL)
        listen = g_key_file_get_string (keys, "hub", "listen", NULL);
      if (public_url == NULL)
        public_url = g_key_file_get_string (keys, "hub", "public-url", NULL);
      if (tls_cert == NULL)
        tls_cert = g_key_file_get_string (keys, "hub", "tls-cert", NULL);
      if (tls_key == NULL)
        tls_key = g_key_file_get_string (keys, "hub", "tls-key", NULL);
    }
  metrics_listen = pv_hub_config_string (hub.config, "hub", "metrics-listen", NULL);
  /* A service is given a high hard limit (LimitNOFILE) and a soft one of
   * 1,024: every connection is a descriptor, so take all there is, and
   * work the connection cap out from it. */
  fd_limit = pv_listen_raise_fd_limit ();
  if (!read_listen_limits (hub.config, &limits, &error))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  if (db == NULL)
    {
      g_printerr ("pravesh-hub: --db FILE is required\n");
      return 1;
    }
  if (!(hub.store = pv_store_open_existing (db, &error)) || !pv_store_get_event (hub.store, &error))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      g_clear_object (&hub.store);
      return 1;
    }
  if ((tls_cert == NULL) != (tls_key == NULL))
    {
      g_printerr ("pravesh-hub: give both --tls-cert and --tls-key, or neither\n");
      return 1;
    }
  if (tls_cert != NULL && !(certificate = g_tls_certificate_new_from_files (tls_cert, tls_key, &error)))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  hub.watch = pv_store_watch_new (hub.store, 20);
  hub.pair_attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  hub.lookups = g_hash_table_new (NULL, NULL);
  hub.sync = pv_sync_server_new (hub.watch);
  /* No version in the Server header, and none of libsoup's: nothing to
   * look up in a list of known holes. */
  hub.server = soup_server_new ("server-header", "pravesh-hub", "tls-certificate", certificate, NULL);
  pv_sync_server_mount (hub.sync, hub.server);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/admit", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/admit", handle_admit, &hub, NULL);
  soup_server_add_early_handler (hub.server, "/api/v1/pair", pv_sync_refuse_large_bodies,
                                 GSIZE_TO_POINTER (MAX_ADMIT_BODY), NULL);
  soup_server_add_handler (hub.server, "/api/v1/pair", handle_pair, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/otp", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/otp", handle_otp, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/otp/verify", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/otp/verify", handle_otp_verify, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/tickets/delivery", 0);
  soup_server_add_handler (hub.server, "/api/v1/tickets/delivery", handle_ticket_delivery, &hub, NULL);
  /* The admin API: GETs take no body, POSTs a small one. */
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/devices", 0);
  soup_server_add_handler (hub.server, "/api/v1/devices", handle_devices, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/devices/revoke", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/devices/revoke", handle_devices_revoke, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/invite", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/invite", handle_invite, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/volunteers", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/volunteers", handle_volunteers, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/volunteers/deactivate", MAX_ADMIT_BODY);
  soup_server_add_handler (hub.server, "/api/v1/volunteers/deactivate", handle_volunteers_deactivate, &hub, NULL);
  pv_sync_server_guard (hub.sync, hub.server, "/api/v1/volunteers/sign-ins", 0);
  soup_server_add_handler (hub.server, "/api/v1/volunteers/sign-ins", handle_sign_ins, &hub, NULL);
  /* /metrics where [hub] metrics-listen says (an address only the
   * monitoring reaches, as exporters usually are), else beside the rest. */
  if (metrics_listen != NULL)
    {
      PvListenLimits metrics_limits;

      /* Few clients, each scraping now and then; their descriptors come
       * out of the reserve below the main listener's cap. */
      pv_listen_limits_init (&metrics_limits);
      metrics_limits.max_connections = 16;
      metrics_limits.max_per_address = 8;
      hub.metrics_server = soup_server_new ("server-header", "pravesh-hub", NULL);
      soup_server_add_early_handler (hub.metrics_server, NULL, pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (0),
                                     NULL);
      soup_server_add_handler (hub.metrics_server, NULL, handle_metrics, &hub, NULL);
      if (!pv_listen (hub.metrics_server, metrics_listen, &metrics_limits, &metrics_url, &error))
        {
          g_printerr ("pravesh-hub: [hub] metrics-listen: %s\n", error->message);
          return 1;
        }
      g_message ("Metrics at %smetrics", metrics_url);
    }
  else
    {
      soup_server_add_early_handler (hub.server, "/metrics", pv_sync_refuse_large_bodies, GSIZE_TO_POINTER (0), NULL);
      soup_server_add_handler (hub.server, "/metrics", handle_metrics, &hub, NULL);
    }
  if (!pv_listen (hub.server, listen ? listen : DEFAULT_LISTEN, &limits, &url, &error))
    {
      g_printerr ("pravesh-hub: --listen %s\n", error->message);
      return 1;
    }
  g_message ("Taking up to %u connections (%u from one address); file-descriptor limit %" G_GUINT64_FORMAT,
             limits.max_connections, limits.max_per_address, fd_limit);
  /* Pairing codes made on this file point devices here, unless the
   * settings name the address devices reach the hub by. */
  if (certificate != NULL)
    {
      guint8 fingerprint[PV_FINGERPRINT_SIZE];
      char hex[PV_FINGERPRINT_HEX_SIZE + 1];

      pv_tls_fingerprint (certificate, fingerprint);
      memcpy (hub.fingerprint, fingerprint, sizeof hub.fingerprint);
      hub.pinned = TRUE;
      sodium_bin2hex (hex, sizeof hex, fingerprint, sizeof fingerprint);
      g_message ("TLS certificate SHA-256 %s", hex);
      if (!pv_store_set_meta_string (hub.store, "tls-fingerprint", hex, &error))
        {
          g_printerr ("pravesh-hub: %s\n", error->message);
          return 1;
        }
    }
  /* Devices name the hub by the address in their pairing code, and their
   * tokens are made out to it: an address that is everyone's (0.0.0.0)
   * cannot be that. */
  if (public_url == NULL && (strstr (url, "://0.0.0.0:") || strstr (url, "://[::]:")))
    {
      g_printerr ("pravesh-hub: listening on every address: give --public-url, the address devices reach the hub by "
                  "(e.g. https://10.0.0.2:8470/)\n");
      return 1;
    }
  pv_sync_server_add_audience (hub.sync, url);
  pv_sync_server_add_audience (hub.sync, public_url);
  /* Invitations the admin API makes carry this address too: the one the
   * hub's tokens are made out to and devices on the LAN are told to use,
   * never the address an admin's request happened to arrive by (that may
   * be localhost or a tunnel, and is the caller's word). */
  hub.url = g_strdup (public_url ? public_url : url);
  if (!pv_store_set_meta_string (hub.store, PV_META_HUB_URL, hub.url, &error))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  /* The public channels, each mounted on the same server. */
  hub.context = (PvHubContext){
    .store = hub.store, .watch = hub.watch, .server = hub.server, .config = hub.config, .url = hub.url
  };
  if (!(hub.outbox = pv_hub_outbox_new (&hub.context, &error))
      || !(hub.whatsapp = pv_hub_whatsapp_new (&hub.context, hub.outbox, &error))
      || !(hub.web = pv_hub_web_new (&hub.context, hub.outbox, &error)))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  tell_channels (&hub);
  hub.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, &hub);
  g_unix_signal_add (SIGINT, on_signal, &hub);
  /* The first line a supervisor (or a test) reads: where to connect, once
   * pairing codes made on this file will say so — and once SIGTERM is
   * ours, so a hub stopped the moment it is up stops cleanly. */
  g_print ("listening %s\n", url);
  g_main_loop_run (hub.loop);

  /* Answer what is queued before leaving: those are decided and durable. */
  while (!g_queue_is_empty (&hub.pending))
    flush_admissions (&hub);
  g_clear_handle_id (&hub.flush_id, g_source_remove);
  g_clear_pointer (&hub.web, pv_hub_web_free);
  g_clear_pointer (&hub.whatsapp, pv_hub_whatsapp_free);
  g_clear_pointer (&hub.outbox, pv_hub_outbox_free);
  soup_server_disconnect (hub.server);
  g_clear_object (&hub.server);
  if (hub.metrics_server != NULL)
    soup_server_disconnect (hub.metrics_server);
  g_clear_object (&hub.metrics_server);
  /* Let the closed connections' last callbacks run and free them. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&hub.sync);
  g_clear_object (&hub.watch);
  g_clear_object (&hub.store);
  g_hash_table_unref (hub.pair_attempts);
  g_hash_table_unref (hub.lookups);
  g_main_loop_unref (hub.loop);
  g_free (hub.url);
  g_key_file_unref (hub.config);
  return 0;
}
