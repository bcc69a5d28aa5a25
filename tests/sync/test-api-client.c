/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-api-client.c: a device's async calls to its hub (pv-api-client.h)
 * against a real SoupServer on 127.0.0.1 in this process, which carries the
 * real sync endpoints over a real hub replica, checks every token with them
 * and redeems real invitations; only its admission answer is scripted, so
 * the hub can also be made to refuse, to talk nonsense or to say nothing at
 * all. Everything runs in the test's own main loop, which must keep turning
 * while a call waits: that is what a gate's screen needs. */
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "pv-api-client.h"
#include "pv-pairing.h"
#include "pv-sync-server.h"
#include "pv-wire.h"
#include "test-util.h"

/* Far above any bound below: a test that hangs fails instead. */
#define TEST_DEADLINE_S 30

typedef enum
{
  HUB_ANSWERS,
  HUB_REFUSES,    /* 403 with its reason */
  HUB_GARBLES,    /* 200, but not JSON */
  HUB_SILENT,     /* reads the request and never answers */
  HUB_NONSENSE,   /* pairing: an answer without a device */
  HUB_WRONG_EVENT /* pairing: vouches for another event's key */
} HubMode;

typedef struct
{
  char *dir;
  PvStore *hub_store;
  PvStoreWatch *watch;
  PvSyncServer *sync;
  SoupServer *server;
  char *url;
  HubMode mode;
  guint admits;
  guint16 admit_device; /* whose token the last admission carried */
  guint16 last_port;    /* where the last request came from */
} Hub;

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Hub *hub = user_data;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  hub->last_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote));
}

/* The hub's reply to POST /api/v1/admit: the verdict echoes the request. */
static void
handle_admit (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  JsonObject *request;
  PvTokenInfo who;

  if (!pv_sync_server_authorize (hub->sync, msg, &who))
    return;
  g_assert_cmpstr (soup_server_message_get_method (msg), ==, "POST");
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                                             NULL));
  request = json_node_get_object (json_parser_get_root (parser));
  hub->admits++;
  hub->admit_device = who.device_id;
  switch (hub->mode)
    {
    case HUB_REFUSES:
      pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, "Gate 9 is shut tonight");
      return;
    case HUB_GARBLES:
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ADMIT", 5);
      return;
    case HUB_SILENT:
      soup_server_message_pause (msg);
      return;
    case HUB_ANSWERS:
    case HUB_NONSENSE:
    case HUB_WRONG_EVENT:
    default:
      break;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "verdict");
  json_builder_add_string_value (builder, json_object_get_boolean_member (request, "exit") ? "EXIT" : "ADMIT");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, json_object_get_string_member (request, "code"));
  json_builder_set_member_name (builder, "gate");
  json_builder_add_string_value (builder, json_object_get_string_member (request, "gate"));
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* POST /api/v1/pair as the hub answers it, from a real invitation. */
static void
handle_pair (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Hub *hub = user_data;
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *secret = NULL, *public_key = NULL;
  g_autofree char *event_id = NULL, *event_key = NULL;
  JsonObject *request;
  PvEvent *event;
  gsize secret_len = 0, key_len = 0;
  guint16 device = 0;
  PvRole role;

  if (hub->mode == HUB_SILENT)
    {
      soup_server_message_pause (msg);
      return;
    }
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                                             NULL));
  request = json_node_get_object (json_parser_get_root (parser));
  secret = g_base64_decode (json_object_get_string_member (request, "secret"), &secret_len);
  public_key = g_base64_decode (json_object_get_string_member (request, "public_key"), &key_len);
  g_assert_cmpuint (secret_len, ==, PV_PAIRING_SECRET_SIZE);
  g_assert_cmpuint (key_len, ==, PV_PUBLIC_KEY_SIZE);
  if (hub->mode == HUB_NONSENSE)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{\"device\": 0}", 13);
      return;
    }
  if (!pv_invite_redeem (hub->hub_store, secret, public_key, &device, &role, &error))
    {
      pv_sync_reply_error (msg, SOUP_STATUS_FORBIDDEN, error->message);
      return;
    }
  /* Borrowed, and only now: redeeming may have reloaded it. */
  event = pv_store_get_event (hub->hub_store, NULL);
  event_id = g_strdup_printf ("%08x", pv_event_get_id (event));
  if (hub->mode == HUB_WRONG_EVENT)
    {
      guint8 other[PV_PUBLIC_KEY_SIZE];

      randombytes_buf (other, sizeof other);
      event_key = g_base64_encode (other, sizeof other);
    }
  else
    event_key = g_base64_encode (pv_event_get_public_key (event), PV_PUBLIC_KEY_SIZE);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "device");
  json_builder_add_int_value (builder, device);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, pv_role_to_string (role));
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event_id);
  json_builder_set_member_name (builder, "event_public_key");
  json_builder_add_string_value (builder, event_key);
  json_builder_end_object (builder);
  reply = pv_json_builder_to_bytes (builder);
  pv_sync_reply_json (msg, reply);
}

/* A hub replica of an event running from yesterday for three days, on the
 * real clock: tokens and certificates are checked against it. */
static void
hub_setup (Hub *hub, gconstpointer data)
{
  g_autofree char *name = g_path_get_basename (g_get_prgname ());
  g_autofree char *template = g_strdup_printf ("%s-XXXXXX", name);
  g_autofree char *path = NULL, *start = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimeZone) zone = g_time_zone_new_identifier ("Asia/Kolkata");
  g_autoptr (GDateTime) now = g_date_time_new_now (zone);
  g_autoptr (GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autoptr (PvEvent) event = NULL;

  hub->dir = g_dir_make_tmp (template, &error);
  g_assert_no_error (error);
  start = g_date_time_format (yesterday, "%Y-%m-%d");
  event = pv_event_new (TEST_EVENT_ID, "Hub Call Fair", start, 3, &error);
  g_assert_no_error (error);
  g_assert_true (pv_event_add_gate (event, "Gate 1", &error));
  pv_event_add_default_categories (event);
  path = g_build_filename (hub->dir, "hub.db", NULL);
  hub->hub_store = pv_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_devices_create_event (hub->hub_store, event, "Hub", &error));
  g_assert_no_error (error);

  hub->watch = pv_store_watch_new (hub->hub_store, 0);
  hub->sync = pv_sync_server_new (hub->watch);
  hub->server = soup_server_new (NULL, NULL);
  pv_sync_server_mount (hub->sync, hub->server);
  g_signal_connect (hub->server, "request-started", G_CALLBACK (request_started_cb), hub);
  soup_server_add_handler (hub->server, "/api/v1/admit", handle_admit, hub, NULL);
  soup_server_add_handler (hub->server, "/api/v1/pair", handle_pair, hub, NULL);
  g_assert_true (pv_listen (hub->server, "127.0.0.1:0", NULL, &hub->url, &error));
  g_assert_no_error (error);
  pv_sync_server_add_audience (hub->sync, hub->url);
}

static void
hub_teardown (Hub *hub, gconstpointer data)
{
  /* Closes the connections of paused requests too; their last callbacks
   * run before anything they point at goes. */
  soup_server_disconnect (hub->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (hub->server);
  g_assert_finalize_object (hub->sync);
  g_assert_finalize_object (hub->watch);
  g_assert_finalize_object (hub->hub_store);
  g_free (hub->url);
  test_rmdir (hub->dir);
  g_free (hub->dir);
}

/* A gate enrolled at the hub's desk, its replica made there (not paired
 * over the network), that knows the hub's address or not. */
static PvStore *
add_gate (Hub *hub, const char *name, gboolean knows_hub)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".db", NULL);
  g_autofree char *path = g_build_filename (hub->dir, file, NULL);
  PvStore *gate;
  guint16 id = 0;

  g_assert_true (pv_devices_add (hub->hub_store, PV_ROLE_GATE, name, path, &id, &error));
  g_assert_no_error (error);
  gate = pv_store_open_existing (path, &error);
  g_assert_no_error (error);
  if (knows_hub)
    g_assert_true (pv_store_set_meta_string (gate, "hub-url", hub->url, &error));
  g_assert_no_error (error);
  return gate;
}

static void
got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static gboolean
tick (gpointer user_data)
{
  (*(guint *) user_data)++;
  return G_SOURCE_CONTINUE;
}

/* Turns the main loop until @result is in, counting in @ticks (if given)
 * how often a 10 ms timer ran meanwhile: the loop was not held up. */
static GAsyncResult *
wait_for (GAsyncResult **result, guint *ticks)
{
  gint64 deadline = g_get_monotonic_time () + TEST_DEADLINE_S * G_USEC_PER_SEC;
  guint tick_id = ticks ? g_timeout_add (10, tick, ticks) : 0;

  while (*result == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () > deadline)
        g_error ("no answer within %d s", TEST_DEADLINE_S);
    }
  g_clear_handle_id (&tick_id, g_source_remove);
  return *result;
}

static JsonNode *
admit (PvStore *gate, SoupSession *session, const char *hub_url, gboolean is_exit, guint bound_ms, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_admit_async (gate, session, hub_url, "PV1:TEST", "Gate 1", is_exit, FALSE, bound_ms, NULL, got_result, &result);
  /* Never answered before the loop turns: the caller's code after the
   * call runs first. */
  g_assert_null (result);
  return pv_api_admit_finish (wait_for (&result, NULL), error);
}

static const char *
member (JsonNode *node, const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (node), name, NULL);
}

static void
test_admit (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (SoupSession) session = pv_api_session_new ();
  g_autoptr (JsonNode) entry = NULL, leaving = NULL, once = NULL;

  /* The hub this replica remembers, a session kept between scans. */
  entry = admit (gate, session, NULL, FALSE, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (member (entry, "verdict"), ==, "ADMIT");
  g_assert_cmpstr (member (entry, "code"), ==, "PV1:TEST");
  g_assert_cmpstr (member (entry, "gate"), ==, "Gate 1");
  g_assert_cmpuint (hub->admit_device, ==, pv_store_get_device_id (gate));

  leaving = admit (gate, session, hub->url, TRUE, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (member (leaving, "verdict"), ==, "EXIT");

  /* Without a session, one is made for the call. */
  once = admit (gate, NULL, NULL, FALSE, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (member (once, "verdict"), ==, "ADMIT");
  g_assert_cmpuint (hub->admits, ==, 3);
}

/* Gets pass through the session's open connection. */
static JsonNode *
get_peers (PvStore *gate, SoupSession *session, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  /* Between two calls the last one's connection goes back to the
   * session, idle: let it. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  pv_api_call_async (gate, session, NULL, "/sync/v1/peers", NULL, 5000, NULL, got_result, &result);
  return pv_api_call_finish (wait_for (&result, NULL), error);
}

static void
test_get (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (SoupSession) session = pv_api_session_new ();
  g_autoptr (JsonNode) peers = NULL, again = NULL;
  guint16 port;

  /* No body: a GET, here of a real sync endpoint. */
  peers = get_peers (gate, session, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (json_node_get_object (peers), "peers"));
  port = hub->last_port;
  /* A shared session keeps the connection. (POSTs take a new one each:
   * libsoup resends a request whose kept connection turns out closed,
   * which only idempotent ones may be.) */
  again = get_peers (gate, session, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hub->last_port, ==, port);
}

/* What the hub can send to phones comes with its peers, and is
 * remembered: a hub that does not say is "not known", never "yes". */
static void
test_channels (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (SoupSession) session = pv_api_session_new ();
  g_autoptr (JsonNode) older = NULL, told = NULL, none = NULL;
  const char *const whatsapp[] = { "whatsapp", "fax", NULL };
  g_auto (GStrv) tickets = NULL, codes = NULL;

  older = get_peers (gate, session, &error);
  g_assert_no_error (error);
  g_assert_false (pv_api_channels_remember (gate, json_node_get_object (older)));
  g_assert_null (pv_api_channels_lookup (gate, PV_API_SENDS_TICKETS));
  g_assert_null (pv_api_channels_lookup (gate, PV_API_SENDS_CODES));
  g_assert_true (pv_api_channels_offer (NULL, "sms", TRUE));

  /* A channel this program does not know is not offered. */
  pv_sync_server_set_channels (hub->sync, whatsapp, NULL);
  told = get_peers (gate, session, &error);
  g_assert_no_error (error);
  g_assert_true (pv_api_channels_remember (gate, json_node_get_object (told)));
  g_assert_false (pv_api_channels_remember (gate, json_node_get_object (told)));
  tickets = pv_api_channels_lookup (gate, PV_API_SENDS_TICKETS);
  codes = pv_api_channels_lookup (gate, PV_API_SENDS_CODES);
  g_assert_cmpstrv (tickets, ((const char *const[]){ "whatsapp", NULL }));
  g_assert_cmpstrv (codes, ((const char *const[]){ NULL }));
  g_assert_true (pv_api_channels_offer ((const char *const *) tickets, "whatsapp", TRUE));
  g_assert_false (pv_api_channels_offer ((const char *const *) tickets, "sms", TRUE));

  /* The hub's word changes: so does what the replica knows. */
  pv_sync_server_set_channels (hub->sync, NULL, NULL);
  none = get_peers (gate, session, &error);
  g_assert_no_error (error);
  g_assert_true (pv_api_channels_remember (gate, json_node_get_object (none)));
  g_clear_pointer (&tickets, g_strfreev);
  tickets = pv_api_channels_lookup (gate, PV_API_SENDS_TICKETS);
  g_assert_cmpstrv (tickets, ((const char *const[]){ NULL }));
  g_assert_true (pv_api_channels_remember (gate, json_node_get_object (older)));
  g_assert_null (pv_api_channels_lookup (gate, PV_API_SENDS_TICKETS));
}

static void
test_refused (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (PvStore) stranger = NULL;
  g_autoptr (JsonNode) verdict = NULL;

  hub->mode = HUB_REFUSES;
  verdict = admit (gate, NULL, NULL, FALSE, 5000, &error);
  g_assert_null (verdict);
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  /* The hub's own words, for the person at the gate. */
  g_assert_cmpstr (error->message, ==, "Gate 9 is shut tonight");
  g_clear_error (&error);

  hub->mode = HUB_GARBLES;
  verdict = admit (gate, NULL, NULL, FALSE, 5000, &error);
  g_assert_null (verdict);
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "200"));
  g_clear_error (&error);

  /* The hub's own check of the token, in its own words: a device of
   * another event is nobody it knows. */
  hub->mode = HUB_ANSWERS;
  {
    g_autofree char *path = g_build_filename (hub->dir, "stranger.db", NULL);
    g_autoptr (PvEvent) event = pv_event_new (0x0dd0e4e7, "Another Fair", "2026-01-01", 1, &error);

    g_assert_no_error (error);
    stranger = pv_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (pv_devices_create_event (stranger, event, "Elsewhere", &error));
    g_assert_no_error (error);
  }
  verdict = admit (stranger, NULL, hub->url, FALSE, 5000, &error);
  g_assert_null (verdict);
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_test_message ("the hub said: %s", error->message);
  g_assert_cmpstr (error->message, !=, "");
  g_assert_null (strstr (error->message, "The hub answered"));
  g_assert_cmpuint (hub->admits, ==, 2);
}

static void
test_bound (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (SoupSession) session = pv_api_session_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (JsonNode) verdict = NULL;
  gint64 started = g_get_monotonic_time (), took;
  guint ticks = 0;

  hub->mode = HUB_SILENT;
  pv_api_admit_async (gate, session, NULL, "PV1:TEST", "Gate 1", FALSE, FALSE, 300, NULL, got_result, &result);
  verdict = pv_api_admit_finish (wait_for (&result, &ticks), &error);
  took = (g_get_monotonic_time () - started) / 1000;
  g_assert_null (verdict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "300 ms"));
  g_assert_cmpint (took, >=, 300);
  g_assert_cmpint (took, <, 5000);
  /* The caller's loop went on meanwhile (a 10 ms timer, 30 times over if
   * nothing else ran; slow machines get slack). */
  g_assert_cmpuint (ticks, >=, 5);
  g_assert_cmpuint (hub->admits, ==, 1);

  /* The session is good for the next scan when the hub is back. */
  g_clear_error (&error);
  hub->mode = HUB_ANSWERS;
  g_clear_object (&result);
  {
    g_autoptr (JsonNode) later = admit (gate, session, NULL, FALSE, 5000, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (member (later, "verdict"), ==, "ADMIT");
  }
}

static gboolean
cancel_later (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", TRUE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (JsonNode) verdict = NULL;

  /* No bound of its own: the caller gives up (the window closed). */
  hub->mode = HUB_SILENT;
  pv_api_admit_async (gate, NULL, NULL, "PV1:TEST", "Gate 1", FALSE, FALSE, 0, cancellable, got_result, &result);
  g_timeout_add (100, cancel_later, cancellable);
  verdict = pv_api_admit_finish (wait_for (&result, NULL), &error);
  g_assert_null (verdict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Cancelled before it starts: the same, and the bound is no matter. */
  pv_api_admit_async (gate, NULL, NULL, "PV1:TEST", "Gate 1", FALSE, FALSE, 5000, cancellable, got_result, &result);
  verdict = pv_api_admit_finish (wait_for (&result, NULL), &error);
  g_assert_null (verdict);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_no_hub (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) gate = add_gate (hub, "gate-1", FALSE);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (JsonNode) verdict = NULL;

  pv_api_admit_async (gate, NULL, NULL, "PV1:TEST", "Gate 1", FALSE, FALSE, 5000, NULL, got_result, &result);
  g_assert_null (result);
  verdict = pv_api_admit_finish (wait_for (&result, NULL), &error);
  g_assert_null (verdict);
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_assert_cmpuint (hub->admits, ==, 0);
}

/* Pairing */

static char *
invite_at (Hub *hub, PvRole role, const char *name, const char *gate)
{
  g_autoptr (GError) error = NULL;
  PvPairingCode code = { 0 };
  char *text;

  g_assert_true (pv_invite_create (hub->hub_store, role, name, gate, PV_INVITE_LIFETIME, hub->url, NULL, &code, &error));
  g_assert_no_error (error);
  text = pv_pairing_code_format (&code);
  pv_pairing_code_clear (&code);
  return text;
}

static char *
invite (Hub *hub, PvRole role, const char *name)
{
  return invite_at (hub, role, name, NULL);
}

static PvStore *
pair (const char *path, const char *code, JsonNode **out_summary, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_pair_async (path, code, NULL, got_result, &result);
  return pv_pair_finish (wait_for (&result, NULL), out_summary, error);
}

static void
assert_no_files (const char *path)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
    }
}

static void
test_pair (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = invite (hub, PV_ROLE_GATE, "Gate A");
  g_autofree char *path = g_build_filename (hub->dir, "gate-a.db", NULL);
  g_autofree char *thief = g_build_filename (hub->dir, "thief.db", NULL);
  g_autofree char *remembered = NULL, *ours = NULL, *theirs = NULL;
  g_autoptr (PvStore) gate = NULL, again = NULL;
  g_autoptr (JsonNode) summary = NULL, verdict = NULL;
  JsonObject *said;

  gate = pair (path, code, &summary, &error);
  g_assert_no_error (error);
  g_assert_nonnull (gate);
  said = json_node_get_object (summary);
  g_assert_cmpint (json_object_get_int_member (said, "device"), ==, pv_store_get_device_id (gate));
  g_assert_cmpstr (json_object_get_string_member (said, "role"), ==, "gate");
  g_assert_cmpstr (json_object_get_string_member (said, "event"), ==, "Hub Call Fair");
  g_assert_cmpstr (json_object_get_string_member (said, "hub"), ==, hub->url);
  g_assert_cmpint (json_object_get_int_member (said, "records"), ==, (gint64) pv_ledger_count (gate));
  remembered = pv_store_dup_meta_string (gate, "hub-url");
  g_assert_cmpstr (remembered, ==, hub->url);
  /* The whole ledger came in the first round. */
  ours = test_digest (gate, FALSE);
  theirs = test_digest (hub->hub_store, FALSE);
  g_assert_cmpstr (ours, ==, theirs);

  /* The new device is one the hub knows: it may ask it to admit. */
  verdict = admit (gate, NULL, NULL, FALSE, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (member (verdict, "verdict"), ==, "ADMIT");
  g_assert_cmpuint (hub->admit_device, ==, pv_store_get_device_id (gate));

  /* The code is spent: the hub says so, and no file is left. */
  again = pair (thief, code, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  g_assert_null (strstr (error->message, "The hub answered"));
  g_clear_error (&error);
  assert_no_files (thief);
}

/* An invitation that names the gate makes a station that knows it; one
 * without leaves the station to ask. */
static void
test_pair_gate (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = invite_at (hub, PV_ROLE_GATE, "Gate 1 laptop", "gate 1");
  g_autofree char *plain = invite (hub, PV_ROLE_GATE, "Spare laptop");
  g_autofree char *path = g_build_filename (hub->dir, "gate-1.db", NULL);
  g_autofree char *spare_path = g_build_filename (hub->dir, "spare.db", NULL);
  g_autofree char *known = NULL;
  g_autoptr (PvStore) gate = NULL, spare = NULL;
  g_autoptr (JsonNode) summary = NULL, spare_summary = NULL;

  gate = pair (path, code, &summary, &error);
  g_assert_no_error (error);
  known = pv_devices_dup_gate (gate);
  g_assert_cmpstr (known, ==, "Gate 1");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (summary), "gate"), ==, "Gate 1");

  spare = pair (spare_path, plain, &spare_summary, &error);
  g_assert_no_error (error);
  g_assert_null (pv_devices_dup_gate (spare));
  g_assert_false (json_object_has_member (json_node_get_object (spare_summary), "gate"));
}

static void
test_pair_refused (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = invite (hub, PV_ROLE_GATE, "Gate A");
  g_autofree char *path = g_build_filename (hub->dir, "gate-a.db", NULL);
  g_autofree char *taken = g_build_filename (hub->dir, "hub.db", NULL);
  PvStore *gate;

  /* A file there already is never touched. */
  gate = pair (taken, code, NULL, &error);
  g_assert_null (gate);
  g_assert_error (error, PV_ERROR, PV_ERROR_EXISTS);
  g_assert_true (g_file_test (taken, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  gate = pair (path, "PVPAIR:NOT-A-CODE", NULL, &error);
  g_assert_null (gate);
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  assert_no_files (path);

  hub->mode = HUB_NONSENSE;
  gate = pair (path, code, NULL, &error);
  g_assert_null (gate);
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  assert_no_files (path);

  /* The hub vouches for one event and serves another: the half-made
   * replica, ledger and all, is removed. */
  hub->mode = HUB_WRONG_EVENT;
  gate = pair (path, code, NULL, &error);
  g_assert_null (gate);
  g_assert_error (error, PV_ERROR, PV_ERROR_SIGNATURE);
  assert_no_files (path);
}

static void
test_pair_silent (Hub *hub, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = invite (hub, PV_ROLE_GATE, "Gate A");
  g_autofree char *path = g_build_filename (hub->dir, "gate-a.db", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  PvStore *gate;

  /* The person gives up on a hub that does not answer; nothing is made. */
  hub->mode = HUB_SILENT;
  pv_pair_async (path, code, cancellable, got_result, &result);
  g_timeout_add (100, cancel_later, cancellable);
  gate = pv_pair_finish (wait_for (&result, NULL), NULL, &error);
  g_assert_null (gate);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_no_files (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
#define HUB_TEST(path, func) g_test_add (path, Hub, NULL, hub_setup, func, hub_teardown)
  HUB_TEST ("/api-client/admit", test_admit);
  HUB_TEST ("/api-client/get", test_get);
  HUB_TEST ("/api-client/channels", test_channels);
  HUB_TEST ("/api-client/refused", test_refused);
  HUB_TEST ("/api-client/bound", test_bound);
  HUB_TEST ("/api-client/cancel", test_cancel);
  HUB_TEST ("/api-client/no-hub", test_no_hub);
  HUB_TEST ("/pair/ok", test_pair);
  HUB_TEST ("/pair/gate", test_pair_gate);
  HUB_TEST ("/pair/refused", test_pair_refused);
  HUB_TEST ("/pair/silent", test_pair_silent);
  return g_test_run ();
}
