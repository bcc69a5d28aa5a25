/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-api-admin.c: the typed admin API client (pv-api-admin.h) against a
 * real pravesh-hub process ($PRAVESH_HUB) on 127.0.0.1, from a control
 * room's replica paired with it over the network: its answers read into
 * structs, its refusals turned into GErrors in its own words. An answer
 * no hub gives comes from a SoupServer in this process that the replica is
 * pointed at instead, and must be refused rather than half read. */
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "pv-api-admin.h"
#include "pv-api-client.h"
#include "pv-listener.h"
#include "pv-pairing.h"
#include "pv-wire.h"
#include "test-util.h"

/* Far above any bound below: a test that hangs fails instead. */
#define TEST_DEADLINE_S 30
#define BOUND_MS 10000

typedef struct
{
  char *dir;
  GSubprocess *hub;
  char *url;
  PvStore *admin; /* paired with the hub as a control room */
  SoupSession *session;
} Room;

static void
got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

/* Turns the main loop until @result is in. */
static GAsyncResult *
wait_for (GAsyncResult **result)
{
  gint64 deadline = g_get_monotonic_time () + TEST_DEADLINE_S * G_USEC_PER_SEC;

  while (*result == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () > deadline)
        g_error ("no answer within %d s", TEST_DEADLINE_S);
    }
  return *result;
}

static char *
invite (PvStore *hub, const char *url, PvRole role, const char *name)
{
  g_autoptr (GError) error = NULL;
  PvPairingCode code = { 0 };
  char *text;

  g_assert_true (pv_invite_create (hub, role, name, NULL, PV_INVITE_LIFETIME, url, NULL, &code, &error));
  g_assert_no_error (error);
  text = pv_pairing_code_format (&code);
  pv_pairing_code_clear (&code);
  return text;
}

static PvStore *
pair (Room *room, const char *file, const char *code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *path = g_build_filename (room->dir, file, NULL);
  PvStore *store;

  pv_pair_async (path, code, NULL, got_result, &result);
  store = pv_pair_finish (wait_for (&result), NULL, &error);
  g_assert_no_error (error);
  return store;
}

/* An event running from yesterday for three days on the real clock, its
 * hub started on it, and a control room paired with that hub. */
static void
room_setup (Room *room, gconstpointer data)
{
  const char *hub_path = g_getenv ("PRAVESH_HUB");
  g_autofree char *db = NULL, *start = NULL, *code = NULL, *line = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimeZone) zone = g_time_zone_new_identifier ("Asia/Kolkata");
  g_autoptr (GDateTime) now = g_date_time_new_now (zone);
  g_autoptr (GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autoptr (PvEvent) event = NULL;
  g_autoptr (PvStore) hub = NULL;
  g_autoptr (GDataInputStream) lines = NULL;

  g_assert_nonnull (hub_path);
  room->dir = g_dir_make_tmp ("test-api-admin-XXXXXX", &error);
  g_assert_no_error (error);
  start = g_date_time_format (yesterday, "%Y-%m-%d");
  event = pv_event_new (TEST_EVENT_ID, "Admin Fair", start, 3, &error);
  g_assert_no_error (error);
  g_assert_true (pv_event_add_gate (event, "Gate 1", &error));
  pv_event_add_default_categories (event);
  db = g_build_filename (room->dir, "hub.db", NULL);
  hub = pv_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_true (pv_devices_create_event (hub, event, "Hub", &error));
  g_assert_no_error (error);
  g_clear_object (&hub);

  room->hub = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, hub_path, "--db", db, "--listen",
                                "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (room->hub));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening "));
  room->url = g_strdup (line + strlen ("listening "));

  /* As an organiser does it with `pravesh-ctl device invite`. */
  hub = pv_store_open_existing (db, &error);
  g_assert_no_error (error);
  code = invite (hub, room->url, PV_ROLE_ADMIN, "Control room");
  room->admin = pair (room, "admin.db", code);
  room->session = pv_api_session_new ();
}

static void
room_teardown (Room *room, gconstpointer data)
{
  g_clear_object (&room->session);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (room->admin);
  g_subprocess_send_signal (room->hub, SIGTERM);
  g_assert_true (g_subprocess_wait (room->hub, NULL, NULL));
  g_clear_object (&room->hub);
  g_free (room->url);
  test_rmdir (room->dir);
  g_free (room->dir);
}

/* The calls, each waited for */

static GPtrArray *
list_volunteers (Room *room, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_volunteers_list_async (room->admin, room->session, BOUND_MS, NULL, got_result, &result);
  /* Never answered before the loop turns. */
  g_assert_null (result);
  return pv_api_volunteers_list_finish (wait_for (&result), error);
}

static GPtrArray *
list_sign_ins (Room *room, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_sign_ins_list_async (room->admin, room->session, BOUND_MS, NULL, got_result, &result);
  return pv_api_sign_ins_list_finish (wait_for (&result), error);
}

static gboolean
add_volunteer (Room *room, const char *name, const char *phone, const char *role, gint64 *out_id, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_volunteer_add_async (room->admin, room->session, name, phone, role, BOUND_MS, NULL, got_result, &result);
  return pv_api_volunteer_add_finish (wait_for (&result), out_id, error);
}

static gboolean
set_active (Room *room, gint64 id, gboolean active, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_volunteer_set_active_async (room->admin, room->session, id, active, BOUND_MS, NULL, got_result, &result);
  return pv_api_volunteer_set_active_finish (wait_for (&result), error);
}

static GPtrArray *
list_devices (Room *room, gint64 *out_now, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_devices_list_async (room->admin, room->session, BOUND_MS, NULL, got_result, &result);
  return pv_api_devices_list_finish (wait_for (&result), out_now, error);
}

static PvApiInvitation *
invite_device (Room *room, const char *role, const char *name, const char *gate, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_invite_async (room->admin, room->session, role, name, gate, BOUND_MS, NULL, got_result, &result);
  return pv_api_invite_finish (wait_for (&result), error);
}

static gboolean
revoke_device (Room *room, guint device, const char *reason, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  pv_api_device_revoke_async (room->admin, room->session, device, reason, BOUND_MS, NULL, got_result, &result);
  return pv_api_device_revoke_finish (wait_for (&result), error);
}

static const PvApiDevice *
find_device (GPtrArray *devices, const char *name)
{
  for (guint i = 0; i < devices->len; i++)
    if (g_strcmp0 (((PvApiDevice *) devices->pdata[i])->name, name) == 0)
      return devices->pdata[i];
  return NULL;
}

/* Good answers */

static void
test_volunteers (Room *room, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) none = NULL, one = NULL, after = NULL, sign_ins = NULL;
  const PvApiVolunteer *asha;
  gint64 id = 0;

  none = list_volunteers (room, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);

  g_assert_true (add_volunteer (room, "Asha Verma", "98765 43210", "desk", &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  one = list_volunteers (room, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 1);
  asha = one->pdata[0];
  g_assert_cmpint (asha->id, ==, id);
  g_assert_cmpstr (asha->name, ==, "Asha Verma");
  /* As the hub keeps it: normalized. */
  g_assert_cmpstr (asha->phone, ==, "+919876543210");
  g_assert_cmpstr (asha->role, ==, "desk");
  g_assert_true (asha->active);
  g_assert_cmpint (asha->added_at, >, 0);
  g_assert_cmpint (asha->last_sign_in_at, ==, 0);
  g_assert_null (asha->last_sign_in_device_name);

  g_assert_true (set_active (room, id, FALSE, &error));
  g_assert_no_error (error);
  after = list_volunteers (room, &error);
  g_assert_no_error (error);
  g_assert_false (((PvApiVolunteer *) after->pdata[0])->active);

  sign_ins = list_sign_ins (room, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sign_ins->len, ==, 0);
}

static void
test_devices (Room *room, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL, after = NULL;
  g_autoptr (PvApiInvitation) invitation = NULL;
  g_autoptr (PvStore) gate = NULL;
  const PvApiDevice *hub, *admin, *revoked;
  gint64 now = 0;

  devices = list_devices (room, &now, &error);
  g_assert_no_error (error);
  g_assert_cmpint (now, >, 0);
  g_assert_nonnull ((hub = find_device (devices, "Hub")));
  g_assert_true (hub->is_hub);
  g_assert_cmpstr (hub->url, ==, room->url);
  g_assert_true (hub->has_skew);
  g_assert_cmpint (hub->behind, ==, 0);
  g_assert_nonnull ((admin = find_device (devices, "Control room")));
  g_assert_cmpuint (admin->id, ==, pv_store_get_device_id (room->admin));
  g_assert_cmpstr (admin->role, ==, "admin");
  g_assert_false (admin->is_hub);
  g_assert_false (admin->revoked);
  g_assert_null (admin->revoke_reason);

  invitation = invite_device (room, "gate", "Gate 9 laptop", "Gate 1", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (invitation->code, "PVPAIR:"));
  g_assert_cmpstr (invitation->role, ==, "gate");
  g_assert_cmpstr (invitation->name, ==, "Gate 9 laptop");
  g_assert_cmpstr (invitation->gate, ==, "Gate 1");
  g_assert_cmpint (invitation->expires, >, now);

  /* The code pairs, and the device it made is revoked by its id. */
  gate = pair (room, "gate.db", invitation->code);
  g_assert_true (revoke_device (room, pv_store_get_device_id (gate), "Left in a taxi", &error));
  g_assert_no_error (error);
  after = list_devices (room, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull ((revoked = find_device (after, "Gate 9 laptop")));
  g_assert_true (revoked->revoked);
  g_assert_cmpint (revoked->revoked_at, >, 0);
  g_assert_cmpstr (revoked->revoke_reason, ==, "Left in a taxi");
}

/* Refusals, in the hub's words */

static void
test_refused (Room *room, gconstpointer data)
{
  g_autoptr (GError) twice = NULL, hub_itself = NULL, no_role = NULL, nobody = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (PvApiInvitation) invitation = NULL;
  const PvApiDevice *hub;
  gint64 id = 0;

  g_assert_true (add_volunteer (room, "Asha Verma", "98765 43210", "desk", NULL, NULL));
  g_assert_false (add_volunteer (room, "Someone Else", "+91 98765 43210", "gate", &id, &twice));
  g_assert_error (twice, PV_ERROR, PV_ERROR_PERMISSION);
  g_assert_nonnull (strstr (twice->message, "is there already"));
  g_assert_cmpint (id, ==, 0);

  devices = list_devices (room, NULL, NULL);
  g_assert_nonnull ((hub = find_device (devices, "Hub")));
  g_assert_false (revoke_device (room, hub->id, "Testing", &hub_itself));
  g_assert_error (hub_itself, PV_ERROR, PV_ERROR_PERMISSION);
  g_assert_cmpstr (hub_itself->message, ==, "That is the hub itself, which cannot be revoked");
  g_assert_false (revoke_device (room, 999, "Testing", &nobody));
  g_assert_cmpstr (nobody->message, ==, "There is no such device");

  invitation = invite_device (room, "hub", "Another hub", NULL, &no_role);
  g_assert_null (invitation);
  g_assert_cmpstr (no_role->message, ==, "A device is invited as gate, desk or admin");
}

/* Garbled answers, from a server that is no hub */

static void
handle_garbled (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  static const struct
  {
    const char *path, *answer;
  } answers[] = {
    { "/api/v1/volunteers", "{\"volunteers\": \"Asha\"}" },
    { "/api/v1/volunteers/sign-ins", "{\"sign_ins\": [{\"name\": \"Asha\"}]}" },
    { "/api/v1/devices", "{\"now\": 1, \"devices\": [42]}" },
    { "/api/v1/invite", "{\"code\": \"Gate 9\", \"name\": \"Gate 9\"}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    if (g_str_equal (path, answers[i].path))
      {
        soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, answers[i].answer,
                                          strlen (answers[i].answer));
        return;
      }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
test_garbled (Room *room, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autofree char *url = NULL;
  GPtrArray *list;
  PvApiInvitation *invitation;

  soup_server_add_handler (server, "/api/v1", handle_garbled, NULL, NULL);
  g_assert_true (pv_listen (server, "127.0.0.1:0", NULL, &url, &error));
  g_assert_no_error (error);
  g_assert_true (pv_store_set_meta_string (room->admin, "hub-url", url, &error));
  g_assert_no_error (error);

  g_assert_null ((list = list_volunteers (room, &error)));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null ((list = list_sign_ins (room, &error)));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null ((list = list_devices (room, NULL, &error)));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null ((invitation = invite_device (room, "gate", "Gate 9", NULL, &error)));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);
  /* A change the server says nothing about is no answer either. */
  g_assert_false (set_active (room, 1, TRUE, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_PERMISSION);
  soup_server_disconnect (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ROOM_TEST(path, func) g_test_add (path, Room, NULL, room_setup, func, room_teardown)
  ROOM_TEST ("/api-admin/volunteers", test_volunteers);
  ROOM_TEST ("/api-admin/devices", test_devices);
  ROOM_TEST ("/api-admin/refused", test_refused);
  ROOM_TEST ("/api-admin/garbled", test_garbled);
  return g_test_run ();
}
