/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-routes.c: the hub's route table — one row per path, each with its
 * methods, a body limit, a caller class and a handler; and, mounted on a
 * real server, a body over a row's limit refused in words before it is
 * read, a path under a row or a method it does not take refused as the
 * row says, a device route refused without a token: all before any
 * handler runs (the hub here has none to run). */
#include <gio/gio.h>
#include <string.h>

#include "../core/test-util.h"
#include "pv-hub-private.h"
#include "pv-hub-routes.h"

static void
test_table (void)
{
  const char *const known[] = { "GET", "HEAD", "POST", NULL };

  g_assert_cmpuint (pv_hub_n_routes, >, 0);
  for (guint i = 0; i < pv_hub_n_routes; i++)
    {
      const PvHubRoute *route = &pv_hub_routes[i];
      g_auto (GStrv) methods = g_strsplit (route->methods, ", ", -1);

      g_test_message ("%s %s", route->methods, route->path);
      g_assert_true (g_str_has_prefix (route->path, "/"));
      g_assert_nonnull (route->handler);
      g_assert_cmpint (route->caller, >=, 0);
      g_assert_cmpint (route->caller, <, PV_HUB_N_CALLERS);
      /* A limit, and none larger than the largest body the hub takes. */
      g_assert_cmpuint (route->max_body, <=, PV_HUB_WHATSAPP_MAX_BODY);
      g_assert_cmpuint (g_strv_length (methods), >=, 1);
      for (guint m = 0; methods[m]; m++)
        {
          g_assert_true (g_strv_contains (known, methods[m]));
          g_assert_true (pv_hub_route_allows (route, methods[m]));
          /* A part of a method's name is not that method. */
          g_assert_false (pv_hub_route_allows (route, methods[m] + 1));
          {
            g_autofree char *part = g_strndup (methods[m], strlen (methods[m]) - 1);

            g_assert_false (pv_hub_route_allows (route, part));
          }
          /* No method twice in a row. */
          for (guint n = m + 1; methods[n]; n++)
            g_assert_cmpstr (methods[m], !=, methods[n]);
        }
      /* A body only where something is posted. */
      if (!pv_hub_route_allows (route, "POST") && route->caller != PV_HUB_CALLER_VISITOR)
        g_assert_cmpuint (route->max_body, ==, 0);
      /* One row per path, so no method and path twice. */
      g_assert_true (pv_hub_routes_find (route->path) == route);
      for (guint j = i + 1; j < pv_hub_n_routes; j++)
        g_assert_cmpstr (route->path, !=, pv_hub_routes[j].path);
    }
  g_assert_null (pv_hub_routes_find ("/no/such/path"));
}

static void
test_callers (void)
{
  g_assert_false (pv_hub_caller_is_device (PV_HUB_CALLER_PUBLIC));
  g_assert_false (pv_hub_caller_is_device (PV_HUB_CALLER_VISITOR));
  g_assert_false (pv_hub_caller_is_device (PV_HUB_CALLER_WEBHOOK));
  g_assert_true (pv_hub_caller_is_device (PV_HUB_CALLER_DEVICE));
  g_assert_true (pv_hub_caller_is_device (PV_HUB_CALLER_ADMIN));
  g_assert_true (pv_hub_caller_allows (PV_HUB_CALLER_GATE, PV_ROLE_GATE));
  g_assert_false (pv_hub_caller_allows (PV_HUB_CALLER_GATE, PV_ROLE_DESK));
  g_assert_true (pv_hub_caller_allows (PV_HUB_CALLER_DESK, PV_ROLE_DESK));
  g_assert_false (pv_hub_caller_allows (PV_HUB_CALLER_DESK, PV_ROLE_GATE));
  g_assert_true (pv_hub_caller_allows (PV_HUB_CALLER_ADMIN, PV_ROLE_HUB));
  g_assert_false (pv_hub_caller_allows (PV_HUB_CALLER_ADMIN, PV_ROLE_DESK));
  g_assert_true (pv_hub_caller_allows (PV_HUB_CALLER_DEVICE, PV_ROLE_GATE));
  /* The admin API is for admin devices. */
  g_assert_cmpint (pv_hub_routes_find ("/api/v1/devices")->caller, ==, PV_HUB_CALLER_ADMIN);
  g_assert_cmpint (pv_hub_routes_find ("/api/v1/admit")->caller, ==, PV_HUB_CALLER_GATE);
}

/* The route table on a server in this thread's main loop, asked by a
 * client in a thread of its own, as devices ask the hub. */
typedef struct
{
  GMainLoop *loop;
  guint16 port;
  /* What the client thread saw, checked here */
  GPtrArray *refused_for_size; /* one answer per route */
  char *under, *method, *allow, *metrics, *token;
} Served;

/* Sends @head (a request without its body) and reads the answer whole. */
static char *
ask (Served *f, const char *head)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  GString *answer = g_string_new (NULL);
  char buffer[4096];
  gssize got;

  /* A body taken in would wait for bytes never sent: fail, not hang. */
  g_socket_client_set_timeout (client, 10);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), head, strlen (head), NULL,
                             NULL, &error);
  g_assert_no_error (error);
  while ((got = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (connection)), buffer, sizeof buffer,
                                     NULL, NULL))
         > 0)
    g_string_append_len (answer, buffer, got);
  return g_string_free (answer, FALSE);
}

static char *
ask_with_body (Served *f, const char *method, const char *path, gsize length)
{
  g_autofree char *head = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n"
                                           "Content-Type: application/json\r\nContent-Length: %" G_GSIZE_FORMAT
                                           "\r\n\r\n",
                                           method, path, length);

  return ask (f, head);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gpointer
ask_all (gpointer data)
{
  Served *f = data;

  /* Every route: one byte over its limit. */
  for (guint i = 0; i < pv_hub_n_routes; i++)
    {
      const PvHubRoute *route = &pv_hub_routes[i];
      const char *method = pv_hub_route_allows (route, "POST") ? "POST" : "GET";

      g_ptr_array_add (f->refused_for_size, ask_with_body (f, method, route->path, route->max_body + 1));
    }
  /* A path under a row, a method it does not take, no token. */
  f->under = ask_with_body (f, "GET", "/api/v1/devices/x", 0);
  f->method = ask_with_body (f, "GET", "/api/v1/admit", 0);
  f->allow = ask_with_body (f, "POST", "/api/v1/volunteers/sign-ins", 0);
  f->metrics = ask_with_body (f, "POST", "/metrics", 0);
  f->token = ask_with_body (f, "GET", "/api/v1/devices", 0);
  /* A refused body's connection lingers up to 2 s (pv-sync-server.c)
   * before it is closed and freed. */
  g_timeout_add_seconds (3, quit_cb, f->loop);
  return NULL;
}

static void
assert_refused (const char *answer, guint status, const char *words)
{
  g_autofree char *line = g_strdup_printf ("HTTP/1.1 %u ", status);

  g_test_message ("%s", answer);
  g_assert_true (g_str_has_prefix (answer, line));
  g_assert_nonnull (strstr (answer, words));
}

static void
test_refusals (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pv-routes-XXXXXX", &error);
  gint64 clock = 0;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvStoreWatch) watch = NULL;
  g_autoptr (PvSyncServer) sync = NULL;
  g_autoptr (SoupServer) server = NULL;
  PvHub hub = { 0 };
  Served f = { 0 };
  g_autofree char *url = NULL;
  g_autoptr (GUri) uri = NULL;
  PvListenLimits limits;
  GThread *thread;

  g_assert_no_error (error);
  store = test_create_event (dir, &clock);
  watch = pv_store_watch_new (store, 20);
  sync = pv_sync_server_new (watch);
  hub.route_hits = g_new0 (guint64, pv_hub_n_routes);
  server = soup_server_new (NULL, NULL);
  pv_hub_routes_mount (server, &hub, sync, NULL, FALSE);
  /* The hub's own listener: its caps, and its ways with a connection a
   * refusal takes over. */
  pv_listen_limits_init (&limits);
  g_assert_true (pv_listen (server, "127.0.0.1:0", &limits, &url, &error));
  g_assert_no_error (error);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  f.port = (guint16) g_uri_get_port (uri);
  f.loop = g_main_loop_new (NULL, FALSE);
  f.refused_for_size = g_ptr_array_new_with_free_func (g_free);
  thread = g_thread_new ("client", ask_all, &f);
  g_main_loop_run (f.loop);
  g_thread_join (thread);

  /* Refused unread, in words. */
  g_assert_cmpuint (f.refused_for_size->len, ==, pv_hub_n_routes);
  for (guint i = 0; i < f.refused_for_size->len; i++)
    assert_refused (f.refused_for_size->pdata[i], 413, "The request is larger than this server takes");
  /* As the row says, before any handler (the hub here has none to run). */
  assert_refused (f.under, 404, "There is no such API path");
  assert_refused (f.method, 405, "POST a JSON object here");
  assert_refused (f.allow, 405, "Use GET here");
  g_assert_nonnull (strstr (f.allow, "Allow: GET"));
  assert_refused (f.metrics, 405, "Use GET here");
  g_assert_null (strstr (f.metrics, "Allow:"));
  g_assert_true (g_str_has_prefix (f.token, "HTTP/1.1 401 "));
  /* Counted on arrival, refused or not. */
  g_assert_cmpuint (pv_hub_routes_get_hits (&hub, &pv_hub_routes[0]), >=, 1);

  soup_server_disconnect (server);
  g_clear_object (&server);
  /* Let the closed connections' last callbacks run and free them. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (f.refused_for_size);
  g_free (f.under);
  g_free (f.method);
  g_free (f.allow);
  g_free (f.metrics);
  g_free (f.token);
  g_main_loop_unref (f.loop);
  g_free (hub.route_hits);
  g_clear_object (&sync);
  g_clear_object (&watch);
  g_clear_object (&store);
  test_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  pv_crypto_init ();
  g_test_add_func ("/routes/table", test_table);
  g_test_add_func ("/routes/callers", test_callers);
  g_test_add_func ("/routes/refusals", test_refusals);
  return g_test_run ();
}
