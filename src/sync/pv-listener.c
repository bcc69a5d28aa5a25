/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-listener.c: accepting connections for a SoupServer (see the header).
 * Everything runs on the thread whose main context runs the server. */
#include "pv-listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pv-error.h"

/* Behind a carrier's NAT hundreds of phones share an address; each holds
 * a connection for a few seconds at most. */
#define DEFAULT_MAX_PER_ADDRESS 128
#define DEFAULT_HANDSHAKE_S 10
#define DEFAULT_HEADER_S 15
#define DEFAULT_IDLE_S 30
#define DEFAULT_BODY_S 60
/* Descriptors kept back from connections: the store, its journal, the
 * outbox's and sync's own connections, log files. */
#define MIN_RESERVED_FDS 32
#define MAX_CONNECTIONS_EVER (1u << 20)
#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 1000
#define REFUSAL_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)
#define LISTENER_KEY "pv-listener"

/* TLS 1.2 and 1.3 only, AEAD suites with forward secrecy, the server's
 * order first (GnuTLS priority syntax, as glib-networking takes it). */
#define TLS_PRIORITY                                                                                     \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
  "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* Where a connection is, and so which deadline holds. */
typedef enum
{
  PHASE_HANDSHAKE,
  PHASE_HEADERS, /* from accept (libsoup starts the first request there) or a request's first byte */
  PHASE_BODY,
  PHASE_ANSWER,
  PHASE_IDLE, /* kept alive between requests */
  PHASE_RELEASED,
  N_PHASES
} Phase;

static const char *const phase_names[N_PHASES] = {
  "handshake",
  "headers",
  "body",
  "answer",
  "idle",
  "released",
};

typedef enum
{
  REFUSED_CAPACITY,
  REFUSED_ADDRESS,
  N_REFUSALS
} Refusal;

typedef struct _Listener Listener;

/* One accepted connection. Referenced by its connection's life (dropped
 * when libsoup lets the connection go) and by the signal handlers of the
 * requests on it, which may outlive it. */
typedef struct
{
  gint refs;
  Listener *listener;            /* NULL once the listener is gone */
  GSocketConnection *connection; /* weak: NULL once finalized */
  GSocketAddress *remote;        /* the address object libsoup hands back */
  char *key;                     /* the client address, as counted */
  GSource *deadline;
  Phase phase;
  gboolean kept; /* handed back after an answer: waiting for the next request */
  GCancellable *handshake;
} Conn;

struct _Listener
{
  SoupServer *server; /* not owned: the listener is the server's data */
  GSocketListener *sockets;
  GCancellable *cancellable;
  GTlsCertificate *certificate;
  PvListenLimits limits;
  GHashTable *conns;       /* Conn* set */
  GHashTable *per_address; /* key → open connections */
  guint backoff_id;
  guint backoff_ms;
  gulong started_id;
  guint64 accepted;
  guint64 refused[N_REFUSALS];
  guint64 timeouts[N_PHASES];
  guint64 pauses;
  guint64 refused_unlogged;
  gint64 refusal_logged_at;
};

/* Connections by the remote address object given to libsoup, which is
 * how a request names its connection (libsoup keeps no socket for a
 * stream handed to it). One process, one main thread. */
static GHashTable *by_remote;

void
pv_listen_limits_init (PvListenLimits *limits)
{
  *limits = (PvListenLimits){
    .max_connections = 0,
    .max_per_address = DEFAULT_MAX_PER_ADDRESS,
    .handshake_timeout_s = DEFAULT_HANDSHAKE_S,
    .header_timeout_s = DEFAULT_HEADER_S,
    .idle_timeout_s = DEFAULT_IDLE_S,
    .body_timeout_s = DEFAULT_BODY_S,
  };
}

guint
pv_listen_max_for_fd_limit (void)
{
  struct rlimit limit;
  rlim_t soft;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024 - 128;
  soft = limit.rlim_cur == RLIM_INFINITY ? MAX_CONNECTIONS_EVER : MIN (limit.rlim_cur, MAX_CONNECTIONS_EVER);
  if (soft <= 2 * MIN_RESERVED_FDS)
    return 1;
  return (guint) (soft - MAX (MIN_RESERVED_FDS, soft / 8));
}

guint64
pv_listen_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max)
    {
      rlim_t wanted = limit.rlim_max;

      limit.rlim_cur = wanted;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        g_message ("Cannot raise the file-descriptor limit to %llu: %s", (unsigned long long) wanted,
                   g_strerror (errno));
      getrlimit (RLIMIT_NOFILE, &limit);
    }
  return limit.rlim_cur;
}

void
pv_tls_policy_init (void)
{
  g_setenv ("G_TLS_GNUTLS_PRIORITY", TLS_PRIORITY, FALSE);
}

/* ---- connections ---- */

static Conn *
conn_ref (Conn *conn)
{
  conn->refs++;
  return conn;
}

static void
conn_unref (Conn *conn)
{
  if (--conn->refs > 0)
    return;
  g_clear_object (&conn->remote);
  g_clear_object (&conn->handshake);
  g_free (conn->key);
  g_free (conn);
}

static void
conn_closure_unref (gpointer data, GClosure *closure)
{
  conn_unref (data);
}

/* The address as counted: IPv4 whole, IPv6 by its /64 (one subscriber's
 * network), an IPv4-mapped IPv6 address as the IPv4 one. */
static char *
address_key (GSocketAddress *address)
{
  GInetAddress *inet;
  const guint8 *bytes;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("local");
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  bytes = g_inet_address_to_bytes (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    {
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

      if (memcmp (bytes, mapped, sizeof mapped) == 0)
        return g_strdup_printf ("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
      return g_strdup_printf ("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", bytes[0], bytes[1], bytes[2], bytes[3],
                              bytes[4], bytes[5], bytes[6], bytes[7]);
    }
  return g_inet_address_to_string (inet);
}

static void
shut_down (Conn *conn)
{
  GSocket *socket;

  if (conn->connection == NULL)
    return;
  /* Shut, not closed: libsoup (or the TLS layer) still owns the stream
   * and finds it at an end on its next read or write, and lets it go. */
  socket = g_socket_connection_get_socket (conn->connection);
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

static gboolean
deadline_passed (gpointer user_data)
{
  Conn *conn = user_data;

  if (conn->listener != NULL)
    conn->listener->timeouts[conn->phase]++;
  g_debug ("Closing a connection from %s: no progress in time (%s)", conn->key, phase_names[conn->phase]);
  if (conn->handshake != NULL)
    g_cancellable_cancel (conn->handshake);
  shut_down (conn);
  return G_SOURCE_CONTINUE;
}

static gboolean
deadline_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs deadline_funcs = { .dispatch = deadline_dispatch };

/* Moves @conn to @phase, which must end within @seconds (0: no deadline). */
static void
set_phase (Conn *conn, Phase phase, gint64 seconds)
{
  if (conn->phase == PHASE_RELEASED || conn->deadline == NULL)
    return;
  conn->phase = phase;
  g_source_set_ready_time (conn->deadline,
                           seconds > 0 ? g_get_monotonic_time () + seconds * G_USEC_PER_SEC : -1);
}

static void
conn_forget (Conn *conn)
{
  Listener *listener = conn->listener;

  if (conn->deadline != NULL)
    {
      g_source_destroy (conn->deadline);
      g_clear_pointer (&conn->deadline, g_source_unref);
    }
  if (listener != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (listener->per_address, conn->key));

      if (n > 1)
        g_hash_table_insert (listener->per_address, g_strdup (conn->key), GUINT_TO_POINTER (n - 1));
      else
        g_hash_table_remove (listener->per_address, conn->key);
      g_hash_table_remove (listener->conns, conn);
      conn->listener = NULL;
    }
}

/* The connection is gone: libsoup (or a failed handshake) let it go. */
static void
connection_finalized (gpointer data, GObject *where_the_object_was)
{
  Conn *conn = data;

  conn->connection = NULL;
  if (by_remote != NULL && g_hash_table_lookup (by_remote, conn->remote) == conn)
    g_hash_table_remove (by_remote, conn->remote);
  conn_forget (conn);
  conn_unref (conn);
}

static Conn *
conn_new (Listener *listener, GSocketConnection *connection, GSocketAddress *remote, char *key)
{
  Conn *conn = g_new0 (Conn, 1);

  conn->refs = 1; /* the connection's life */
  conn->listener = listener;
  conn->connection = connection;
  conn->remote = g_object_ref (remote);
  conn->key = key;
  conn->deadline = g_source_new (&deadline_funcs, sizeof (GSource));
  g_source_set_callback (conn->deadline, deadline_passed, conn, NULL);
  g_source_set_static_name (conn->deadline, "pv-listener deadline");
  g_source_attach (conn->deadline, g_main_context_get_thread_default ());
  g_object_weak_ref (G_OBJECT (connection), connection_finalized, conn);
  g_hash_table_add (listener->conns, conn);
  g_hash_table_insert (listener->per_address, g_strdup (key),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (listener->per_address, key)) + 1));
  return conn;
}

static Conn *
conn_for_message (SoupServerMessage *msg)
{
  Conn *conn = by_remote ? g_hash_table_lookup (by_remote, soup_server_message_get_remote_address (msg)) : NULL;

  return conn != NULL && conn->listener != NULL && conn->phase != PHASE_RELEASED ? conn : NULL;
}

void
pv_listen_release (SoupServerMessage *msg)
{
  Conn *conn = conn_for_message (msg);

  if (conn != NULL)
    {
      set_phase (conn, PHASE_IDLE, 0);
      conn->phase = PHASE_RELEASED;
    }
}

/* ---- the steps of a request ---- */

static void
got_headers_cb (SoupServerMessage *msg, Conn *conn)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
                     ? soup_message_headers_get_content_length (headers)
                     : 0;

  if (conn->listener == NULL)
    return;
  /* A body refused from its headers never arrives; one that does arrive
   * may take longer the longer it is. */
  set_phase (conn, PHASE_BODY, conn->listener->limits.body_timeout_s + MAX (length, 0) / PV_LISTEN_MIN_RATE);
}

static void
got_body_cb (SoupServerMessage *msg, Conn *conn)
{
  if (conn->listener != NULL)
    set_phase (conn, PHASE_ANSWER, conn->listener->limits.body_timeout_s);
}

/* An answer being written: each piece that leaves gives the reader another
 * while to take the next. */
static void
wrote_body_data_cb (SoupServerMessage *msg, guint size, Conn *conn)
{
  if (conn->listener != NULL && conn->phase == PHASE_ANSWER)
    set_phase (conn, PHASE_ANSWER, conn->listener->limits.body_timeout_s);
}

static void
finished_cb (SoupServerMessage *msg, Conn *conn)
{
  if (conn->listener != NULL)
    set_phase (conn, PHASE_IDLE, conn->listener->limits.idle_timeout_s);
}

static void hand_over (Listener *listener, Conn *conn, GIOStream *stream);

typedef struct
{
  Conn *conn;
  GIOStream *stream;
} Kept;

static gboolean
hand_back (gpointer user_data)
{
  Kept *kept = user_data;

  if (kept->conn->listener != NULL && kept->conn->connection != NULL)
    hand_over (kept->conn->listener, kept->conn, kept->stream);
  g_object_unref (kept->stream);
  conn_unref (kept->conn);
  g_free (kept);
  return G_SOURCE_REMOVE;
}

/* Whether the connection may carry another request (as libsoup decides). */
static gboolean
keeps_alive (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

  if (soup_message_headers_get_encoding (response) == SOUP_ENCODING_EOF)
    return FALSE;
  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0)
    return soup_message_headers_header_contains (response, "Connection", "Keep-Alive");
  return !soup_message_headers_header_contains (request, "Connection", "close")
         && !soup_message_headers_header_contains (response, "Connection", "close");
}

/* An answer is out. libsoup 3.2 would now wait on the same connection for
 * the next request, and if the client hangs up instead, it never lets the
 * connection go (an EOF before a request's first byte ends nothing): every
 * kept-alive client that leaves would keep a descriptor and its buffers
 * for good. So the connection is taken back and handed over afresh; a
 * first request's EOF is handled. (Requests pipelined behind this one
 * would be lost with libsoup's read buffer: no client we know pipelines.) */
static void
wrote_body_cb (SoupServerMessage *msg, Conn *conn)
{
  gboolean again = keeps_alive (msg);
  GIOStream *stream;
  Kept *kept;

  if (conn->listener == NULL || conn->connection == NULL || conn->phase == PHASE_RELEASED)
    return;
  if (!(stream = soup_server_message_steal_connection (msg)))
    return;
  if (!again)
    {
      g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      g_object_unref (stream);
      return;
    }
  /* From libsoup's own signal: it finishes with this message first. */
  set_phase (conn, PHASE_IDLE, conn->listener->limits.idle_timeout_s);
  conn->kept = TRUE;
  kept = g_new0 (Kept, 1);
  kept->conn = conn_ref (conn);
  kept->stream = stream;
  /* At the priority of every other connection's turn: a higher one would let
   * busy keep-alive clients starve new connections. */
  g_idle_add_full (G_PRIORITY_DEFAULT, hand_back, kept, NULL);
}

/* A request begins: at accept for the first, else with its first byte. */
static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Conn *conn = conn_for_message (msg);

  if (conn == NULL)
    return;
  /* A connection handed back waits as long as an idle one may. */
  if (conn->kept)
    set_phase (conn, PHASE_IDLE, conn->listener->limits.idle_timeout_s);
  else
    set_phase (conn, PHASE_HEADERS, conn->listener->limits.header_timeout_s);
  conn->kept = FALSE;
  g_signal_connect_data (msg, "got-headers", G_CALLBACK (got_headers_cb), conn_ref (conn), conn_closure_unref, 0);
  g_signal_connect_data (msg, "got-body", G_CALLBACK (got_body_cb), conn_ref (conn), conn_closure_unref, 0);
  g_signal_connect_data (msg, "wrote-body-data", G_CALLBACK (wrote_body_data_cb), conn_ref (conn),
                         conn_closure_unref, 0);
  g_signal_connect_data (msg, "wrote-body", G_CALLBACK (wrote_body_cb), conn_ref (conn), conn_closure_unref, 0);
  g_signal_connect_data (msg, "finished", G_CALLBACK (finished_cb), conn_ref (conn), conn_closure_unref, 0);
}

/* ---- accepting ---- */

static void accept_next (Listener *listener);

static void
hand_over (Listener *listener, Conn *conn, GIOStream *stream)
{
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn->connection, NULL);

  g_hash_table_insert (by_remote, conn->remote, conn);
  soup_server_accept_iostream (listener->server, stream, local, conn->remote, NULL);
}

static void
handshake_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr (GError) error = NULL;

  if (g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error) && conn->listener != NULL
      && conn->connection != NULL)
    {
      g_clear_object (&conn->handshake);
      hand_over (conn->listener, conn, G_IO_STREAM (source));
    }
  else
    g_debug ("TLS handshake with %s failed: %s", conn->key, error ? error->message : "the server stopped");
  /* The TLS stream is libsoup's now, or dropped (and the connection with
   * it). */
  g_object_unref (source);
  conn_unref (conn);
}

static void
note_refusal (Listener *listener, Refusal why, const char *key)
{
  gint64 now = g_get_monotonic_time ();

  listener->refused[why]++;
  listener->refused_unlogged++;
  /* Said once a minute at most: a flood must not fill the log too. */
  if (listener->refusal_logged_at != 0 && now - listener->refusal_logged_at < REFUSAL_LOG_INTERVAL_US)
    return;
  if (why == REFUSED_CAPACITY)
    g_message ("Refusing connections: %u open, the most this server takes (raise LimitNOFILE or max-connections); "
               "%" G_GUINT64_FORMAT " refused since the last word",
               g_hash_table_size (listener->conns), listener->refused_unlogged);
  else
    g_message ("Refusing connections from %s: %u open from there, the most one address may hold; "
               "%" G_GUINT64_FORMAT " refused since the last word",
               key, listener->limits.max_per_address, listener->refused_unlogged);
  listener->refusal_logged_at = now;
  listener->refused_unlogged = 0;
}

/* Refused before a byte is read: a plain-HTTP client is told why, on the
 * way out, if its socket takes the words at once. */
static void
refuse (Listener *listener, GSocketConnection *connection)
{
  static const char body[] = "{\"error\": \"Too many connections; try again in a moment\"}";
  GSocket *socket = g_socket_connection_get_socket (connection);
  char answer[256];
  int length;

  if (listener->certificate == NULL)
    {
      length = g_snprintf (answer, sizeof answer,
                           "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                           "Retry-After: 5\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                           sizeof body - 1, body);
      g_socket_set_blocking (socket, FALSE);
      g_socket_send (socket, answer, (gsize) MIN (length, (int) sizeof answer - 1), NULL, NULL);
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static void
take (Listener *listener, GSocketConnection *connection)
{
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autofree char *key = NULL;
  g_autoptr (GError) error = NULL;
  GIOStream *tls;
  Conn *conn;

  if (remote == NULL)
    return (void) g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  key = address_key (remote);
  if (g_hash_table_size (listener->conns) >= listener->limits.max_connections)
    return note_refusal (listener, REFUSED_CAPACITY, key), refuse (listener, connection);
  if (GPOINTER_TO_UINT (g_hash_table_lookup (listener->per_address, key)) >= listener->limits.max_per_address)
    return note_refusal (listener, REFUSED_ADDRESS, key), refuse (listener, connection);
  listener->accepted++;
  /* Headers and body go out as separate writes: without this, Nagle's
   * algorithm holds the body back for the client's delayed ACK (40 ms). */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  conn = conn_new (listener, connection, remote, g_steal_pointer (&key));
  if (listener->certificate == NULL)
    return hand_over (listener, conn, G_IO_STREAM (connection));
  if (!(tls = g_tls_server_connection_new (G_IO_STREAM (connection), listener->certificate, &error)))
    {
      g_warning ("Cannot serve TLS: %s", error->message);
      return;
    }
  conn->phase = PHASE_HANDSHAKE;
  set_phase (conn, PHASE_HANDSHAKE, listener->limits.handshake_timeout_s);
  conn->handshake = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, conn->handshake, handshake_cb,
                                    conn_ref (conn));
}

static gboolean
resume_accepting (gpointer user_data)
{
  Listener *listener = user_data;

  listener->backoff_id = 0;
  accept_next (listener);
  return G_SOURCE_REMOVE;
}

static void
accepted_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  Listener *listener = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the listener is gone */
  if (connection == NULL)
    {
      /* Accepting again at once would fail again at once (the socket
       * stays readable while the queue holds connections): wait, longer
       * each time, until descriptors come free. */
      if (listener->backoff_ms == 0)
        {
          listener->pauses++;
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
            g_message ("Out of file descriptors: not accepting connections for a moment (%s)", error->message);
          else
            g_debug ("Cannot accept a connection: %s", error->message);
        }
      listener->backoff_ms = CLAMP (listener->backoff_ms * 2, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
      listener->backoff_id = g_timeout_add (listener->backoff_ms, resume_accepting, listener);
      return;
    }
  if (listener->backoff_ms != 0)
    g_debug ("Accepting connections again");
  listener->backoff_ms = 0;
  take (listener, connection);
  accept_next (listener);
}

static void
accept_next (Listener *listener)
{
  g_socket_listener_accept_async (listener->sockets, listener->cancellable, accepted_cb, listener);
}

static void
listener_free (Listener *listener)
{
  GHashTableIter iter;
  gpointer key;

  g_cancellable_cancel (listener->cancellable);
  g_clear_handle_id (&listener->backoff_id, g_source_remove);
  g_socket_listener_close (listener->sockets);
  g_clear_object (&listener->sockets);
  g_clear_object (&listener->cancellable);
  g_clear_object (&listener->certificate);
  /* Connections still open go on without deadlines; they still tell
   * by_remote when they go. */
  g_hash_table_iter_init (&iter, listener->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Conn *conn = key;

      if (conn->handshake != NULL)
        g_cancellable_cancel (conn->handshake);
      if (conn->deadline != NULL)
        {
          g_source_destroy (conn->deadline);
          g_clear_pointer (&conn->deadline, g_source_unref);
        }
      conn->listener = NULL;
    }
  g_hash_table_unref (listener->conns);
  g_hash_table_unref (listener->per_address);
  g_free (listener);
}

/* libsoup 3.2 keeps a connection open for the next request only on a server
 * that has a listener of its own; connections handed over with
 * soup_server_accept_iostream() would otherwise close after one answer. So
 * the server gets a listener that never hears anything: one end of a
 * socket pair whose other end stays quiet, reachable by no one. */
static gboolean
keep_alive_for_handed_connections (SoupServer *server, GError **error)
{
  g_autoptr (GSocket) quiet = NULL, other = NULL;
  int fds[2];

  if (g_object_get_data (G_OBJECT (server), "pv-quiet-listener") != NULL)
    return TRUE;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socketpair: %s", g_strerror (errno)),
           FALSE;
  if (!(quiet = g_socket_new_from_fd (fds[0], error)))
    {
      close (fds[0]);
      close (fds[1]);
      return FALSE;
    }
  if (!(other = g_socket_new_from_fd (fds[1], error)) || !soup_server_listen_socket (server, quiet, 0, error))
    return FALSE;
  g_object_set_data_full (G_OBJECT (server), "pv-quiet-listener", g_steal_pointer (&other), g_object_unref);
  return TRUE;
}

static void
server_gone (gpointer data)
{
  Listener *listener = data;

  listener_free (listener);
}

gboolean
pv_listen (SoupServer *server, const char *address, const PvListenLimits *limits, char **out_url, GError **error)
{
  g_autoptr (GSocketAddress) wanted = NULL, bound = NULL;
  g_autoptr (GSocketListener) sockets = NULL;
  g_autofree char *host = NULL, *ip = NULL;
  const char *colon = strrchr (address, ':');
  guint64 port = 0;
  Listener *listener;

  if (colon != NULL)
    host = g_strndup (address, (gsize) (colon - address));
  /* "[::1]:8470" names an IPv6 address as URLs do. */
  if (host != NULL && host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)
      || !(wanted = g_inet_socket_address_new_from_string (host, (guint) port)))
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                        "%s: expected ADDRESS:PORT, e.g. 127.0.0.1:8470 (port 0 for any free one)", address),
           FALSE;
  /* Connections are accepted here and handed to the server: libsoup 3.2's
   * own listener keeps a reference to every socket it accepts (and to its
   * address when asked for its URIs), which a hub up for nine days would
   * pile up; and it neither caps nor times anything. */
  sockets = g_socket_listener_new ();
  /* Every gate of a fair may reconnect in the same second after a network
   * blip; GIO's default queue of 10 would turn most of them away. */
  g_socket_listener_set_backlog (sockets, 1024);
  if (!g_socket_listener_add_address (sockets, wanted, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                      error)
      || !keep_alive_for_handed_connections (server, error))
    return FALSE;
  if (by_remote == NULL)
    by_remote = g_hash_table_new (NULL, NULL);
  listener = g_new0 (Listener, 1);
  listener->server = server;
  listener->sockets = g_steal_pointer (&sockets);
  listener->cancellable = g_cancellable_new ();
  g_object_get (server, "tls-certificate", &listener->certificate, NULL);
  if (limits != NULL)
    listener->limits = *limits;
  else
    pv_listen_limits_init (&listener->limits);
  if (listener->limits.max_connections == 0)
    listener->limits.max_connections = pv_listen_max_for_fd_limit ();
  if (listener->limits.max_per_address == 0)
    listener->limits.max_per_address = DEFAULT_MAX_PER_ADDRESS;
  listener->conns = g_hash_table_new (NULL, NULL);
  listener->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  listener->started_id = g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), NULL);
  g_object_set_data_full (G_OBJECT (server), LISTENER_KEY, listener, server_gone);
  accept_next (listener);
  if (out_url != NULL)
    {
      ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (bound)));
      *out_url = g_strdup_printf (strchr (ip, ':') ? "%s://[%s]:%u/" : "%s://%s:%u/",
                                  listener->certificate ? "https" : "http", ip,
                                  g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
    }
  return TRUE;
}

void
pv_listen_get_limits (SoupServer *server, PvListenLimits *out)
{
  Listener *listener = g_object_get_data (G_OBJECT (server), LISTENER_KEY);

  if (listener != NULL)
    *out = listener->limits;
  else
    pv_listen_limits_init (out);
}

void
pv_listen_write_metrics (SoupServer *server, const char *prefix, GString *out)
{
  Listener *listener = g_object_get_data (G_OBJECT (server), LISTENER_KEY);

  if (listener == NULL)
    return;
  g_string_append_printf (out,
                          "# HELP %s_connections Connections open now.\n# TYPE %s_connections gauge\n"
                          "%s_connections %u\n",
                          prefix, prefix, prefix, g_hash_table_size (listener->conns));
  g_string_append_printf (out,
                          "# HELP %s_connections_max Connections this server holds open at most.\n"
                          "# TYPE %s_connections_max gauge\n%s_connections_max %u\n",
                          prefix, prefix, prefix, listener->limits.max_connections);
  g_string_append_printf (out,
                          "# HELP %s_connections_accepted_total Connections accepted.\n"
                          "# TYPE %s_connections_accepted_total counter\n%s_connections_accepted_total "
                          "%" G_GUINT64_FORMAT "\n",
                          prefix, prefix, prefix, listener->accepted);
  g_string_append_printf (out,
                          "# HELP %s_connections_refused_total Connections refused at once, by the cap "
                          "they met.\n# TYPE %s_connections_refused_total counter\n"
                          "%s_connections_refused_total{reason=\"capacity\"} %" G_GUINT64_FORMAT "\n"
                          "%s_connections_refused_total{reason=\"address\"} %" G_GUINT64_FORMAT "\n",
                          prefix, prefix, prefix, listener->refused[REFUSED_CAPACITY], prefix,
                          listener->refused[REFUSED_ADDRESS]);
  g_string_append_printf (out,
                          "# HELP %s_timeouts_total Connections closed for making no progress in time, by "
                          "the step they were at.\n# TYPE %s_timeouts_total counter\n",
                          prefix, prefix);
  for (guint p = 0; p < PHASE_RELEASED; p++)
    g_string_append_printf (out, "%s_timeouts_total{step=\"%s\"} %" G_GUINT64_FORMAT "\n", prefix, phase_names[p],
                            listener->timeouts[p]);
  g_string_append_printf (out,
                          "# HELP %s_accept_pauses_total Times accepting paused for want of file "
                          "descriptors (or another accept error).\n# TYPE %s_accept_pauses_total counter\n"
                          "%s_accept_pauses_total %" G_GUINT64_FORMAT "\n",
                          prefix, prefix, prefix, listener->pauses);
}
