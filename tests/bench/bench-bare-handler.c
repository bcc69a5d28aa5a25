/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-bare-handler.c: the framework's own ceiling for bench-sync.py's
 * online admission figure: a bare libsoup 3 server on the default main
 * context with one handler at /api/v1/admit that reads the same JSON body
 * the hub reads with json-glib and answers a fixed small verdict, storing
 * nothing. It listens on 127.0.0.1 (any free port unless --port) through
 * libsoup's own listener, on a socket with a queue of 1024 as the hub's,
 * and prints `listening URL` as its first stdout line; SIGTERM or SIGINT
 * stop it. With --defer it answers as the hub does, pausing each message
 * and unpausing it from an idle callback, so the cost of that path alone
 * can be told from the cost of the store. */
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY 4096
#define BACKLOG 1024

static const char verdict_json[] = "{\"verdict\":\"ADMIT\",\"message\":\"Welcome\",\"gate\":\"Gate 1\",\"decided\":\"online\"}";

typedef struct
{
  GMainLoop *loop;
  GQueue pending; /* SoupServerMessage* paused until the idle callback */
  guint flush_id;
  gboolean defer;
  guint64 requests;
} Bare;

static void
reply (SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, json, strlen (json));
}

static gboolean
flush_pending (gpointer user_data)
{
  Bare *bare = user_data;
  SoupServerMessage *msg;

  bare->flush_id = 0;
  while ((msg = g_queue_pop_head (&bare->pending)) != NULL)
    {
      reply (msg, SOUP_STATUS_OK, verdict_json);
      soup_server_message_unpause (msg);
      g_object_unref (msg);
    }
  return G_SOURCE_REMOVE;
}

static void
handle_admit (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Bare *bare = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) body = NULL;
  JsonObject *root;

  bare->requests++;
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    return reply (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "{\"error\":\"POST a JSON object here\"}");
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (g_bytes_get_size (body) > MAX_BODY
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return reply (msg, SOUP_STATUS_BAD_REQUEST, "{\"error\":\"Expected a JSON object\"}");
  root = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_string_member_with_default (root, "code", NULL) == NULL
      || json_object_get_string_member_with_default (root, "gate", NULL) == NULL)
    return reply (msg, SOUP_STATUS_BAD_REQUEST, "{\"error\":\"code and gate are required strings\"}");

  if (!bare->defer)
    return reply (msg, SOUP_STATUS_OK, verdict_json);
  soup_server_message_pause (msg);
  g_queue_push_tail (&bare->pending, g_object_ref (msg));
  if (bare->flush_id == 0)
    bare->flush_id = g_idle_add (flush_pending, bare);
}

static G_NORETURN void
die (const char *what, const GError *error)
{
  g_printerr ("bench-bare-handler: %s: %s\n", what, error->message);
  exit (1);
}

static gboolean
on_signal (gpointer user_data)
{
  Bare *bare = user_data;

  g_main_loop_quit (bare->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) context = g_option_context_new ("— bare libsoup admission handler");
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GSocket) listen_socket = NULL;
  g_autoptr (GSocketAddress) wanted = NULL, bound = NULL;
  g_autoptr (GInetAddress) loopback = NULL;
  gint port = 0;
  Bare bare = { 0 };
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (default 0, any free one)", "PORT" },
    { "defer", 0, 0, G_OPTION_ARG_NONE, &bare.defer, "Answer from an idle callback, as the hub does", NULL },
    G_OPTION_ENTRY_NULL
  };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Serves POST /api/v1/admit with a fixed verdict and no storage:\n"
                                         "the ceiling of libsoup and json-glib for bench-sync.py.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-bare-handler: %s\n", error->message);
      return 2;
    }
  if (port < 0 || port > G_MAXUINT16)
    {
      g_printerr ("bench-bare-handler: --port %d is out of range\n", port);
      return 2;
    }

  server = soup_server_new ("server-header", "bench-bare-handler ", NULL);
  soup_server_add_handler (server, "/api/v1/admit", handle_admit, &bare, NULL);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  wanted = g_inet_socket_address_new (loopback, (guint16) port);
  /* GIO's default queue of 10 would drop most of wrk's opening burst of
   * connections, and the retried handshakes would add hundreds of ms to the
   * first requests. libsoup's own listener, not soup_server_accept_iostream():
   * libsoup 3.2 keeps a connection alive only on a server with listeners. */
  if (!(listen_socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error)))
    die ("socket", error);
  g_socket_set_listen_backlog (listen_socket, BACKLOG);
  if (!g_socket_bind (listen_socket, wanted, TRUE, &error) || !g_socket_listen (listen_socket, &error)
      || !soup_server_listen_socket (server, listen_socket, 0, &error)
      || !(bound = g_socket_get_local_address (listen_socket, &error)))
    die ("listen", error);
  /* The first line bench-sync.py reads: where to send the load. */
  g_print ("listening http://127.0.0.1:%u/\n", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  bare.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, &bare);
  g_unix_signal_add (SIGINT, on_signal, &bare);
  g_main_loop_run (bare.loop);

  g_clear_handle_id (&bare.flush_id, g_source_remove);
  flush_pending (&bare);
  soup_server_disconnect (server);
  g_main_loop_unref (bare.loop);
  g_printerr ("bench-bare-handler: %" G_GUINT64_FORMAT " requests\n", bare.requests);
  return 0;
}
