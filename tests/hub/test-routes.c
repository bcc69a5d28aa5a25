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

/* The route table on a server of its own thread. */
typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  PvHub hub;
  PvSyncServer *sync;
  guint16 port;
  GMutex lock;
  GCond ready;
} Served;

static gpointer
serve (gpointer data)
{
  Served *f = data;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (f->context);
  server = soup_server_new (NULL, NULL);
  pv_hub_routes_mount (server, &f->hub, f->sync, NULL, FALSE);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_mutex_lock (&f->lock);
  f->port = (guint16) g_uri_get_port (uris->data);
  g_cond_signal (&f->ready);
  g_mutex_unlock (&f->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (f->loop);
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (f->context);
  return NULL;
}

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
  Served f = { 0 };
  GThread *thread;

  g_assert_no_error (error);
  store = test_create_event (dir, &clock);
  watch = pv_store_watch_new (store, 20);
  f.sync = pv_sync_server_new (watch);
  f.hub.route_hits = g_new0 (guint64, pv_hub_n_routes);
  f.context = g_main_context_new ();
  f.loop = g_main_loop_new (f.context, FALSE);
  g_mutex_init (&f.lock);
  g_cond_init (&f.ready);
  g_mutex_lock (&f.lock);
  thread = g_thread_new ("routes", serve, &f);
  while (f.port == 0)
    g_cond_wait (&f.ready, &f.lock);
  g_mutex_unlock (&f.lock);

  /* Every route: one byte over its limit is refused, unread, in words. */
  for (guint i = 0; i < pv_hub_n_routes; i++)
    {
      const PvHubRoute *route = &pv_hub_routes[i];
      const char *method = pv_hub_route_allows (route, "POST") ? "POST" : "GET";
      g_autofree char *answer = ask_with_body (&f, method, route->path, route->max_body + 1);

      assert_refused (answer, 413, "The request is larger than this server takes");
    }
  /* As the row says: a path under it, a method it does not take, a device
   * route without a token, one a gate may not call. */
  {
    g_autofree char *under = ask_with_body (&f, "GET", "/api/v1/devices/x", 0);
    g_autofree char *method = ask_with_body (&f, "GET", "/api/v1/admit", 0);
    g_autofree char *allow = ask_with_body (&f, "POST", "/api/v1/volunteers/sign-ins", 0);
    g_autofree char *metrics = ask_with_body (&f, "POST", "/metrics", 0);
    g_autofree char *token = ask_with_body (&f, "GET", "/api/v1/devices", 0);

    assert_refused (under, 404, "There is no such API path");
    assert_refused (method, 405, "POST a JSON object here");
    assert_refused (allow, 405, "Use GET here");
    g_assert_nonnull (strstr (allow, "Allow: GET"));
    assert_refused (metrics, 405, "Use GET here");
    g_assert_null (strstr (metrics, "Allow:"));
    g_assert_true (g_str_has_prefix (token, "HTTP/1.1 401 "));
  }
  /* Counted on arrival, refused or not; none reached a handler. */
  g_assert_cmpuint (f.hub.route_hits[0], >=, 1);

  g_main_loop_quit (f.loop);
  g_thread_join (thread);
  g_main_loop_unref (f.loop);
  g_main_context_unref (f.context);
  g_mutex_clear (&f.lock);
  g_cond_clear (&f.ready);
  g_free (f.hub.route_hits);
  g_clear_object (&f.sync);
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
