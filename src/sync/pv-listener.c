/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-listener.c: accepting connections for a SoupServer (see the header).
 * Everything runs on the thread whose main context runs the server. */
#include "pv-listener.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "pv-error.h"

/* Behind a carrier's NAT, or a venue's, many phones and gates share one
 * address, and a kept-alive connection waits up to idle_timeout_s; at the
 * cap the oldest idle one from there makes room before anyone is refused. */
#define DEFAULT_MAX_PER_ADDRESS 256
/* Each open connection costs libsoup some buffers as well as a descriptor:
 * past this many, the descriptor limit is not what should decide. */
#define DEFAULT_MAX_CONNECTIONS 16384
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
  gboolean kept;    /* handed back after an answer: waiting for the next request */
  gboolean proven;  /* its last request came from a device (or Meta) that proved it */
  gboolean counted; /* in per_address (a released connection is not) */
  GList *idle_link; /* in the listener's idle queue, while PHASE_IDLE */
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
  GHashTable *per_address; /* key → open connections, but released ones */
  GQueue idle;             /* Conn* waiting for a next request, oldest first */
  guint backoff_id;
  guint backoff_ms;
  GQueue waiting; /* Kept*: the public's connections to hand back */
  guint pump_id;
  guint64 accepted;
  guint64 refused[N_REFUSALS];
  guint64 evicted;
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
  return (guint) MIN (soft - MAX (MIN_RESERVED_FDS, soft / 8), DEFAULT_MAX_CONNECTIONS);
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

char *
pv_address_key (GSocketAddress *address, guint v4_bits, guint v6_bits)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  GInetAddress *inet;
  const guint8 *b;
  guint32 v4;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  b = g_inet_address_to_bytes (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    {
      GString *key;

      if (memcmp (b, mapped, sizeof mapped) != 0 && g_inet_address_get_is_loopback (inet))
        return g_inet_address_to_string (inet);
      if (memcmp (b, mapped, sizeof mapped) != 0)
        {
          key = g_string_new (NULL);
          for (guint i = 0; i < MIN (v6_bits, 128) / 16; i++)
            g_string_append_printf (key, "%02x%02x:", b[2 * i], b[2 * i + 1]);
          g_string_append_printf (key, ":/%u", v6_bits);
          return g_string_free (key, FALSE);
        }
      b += sizeof mapped;
    }
  if (v4_bits >= 32)
    return g_strdup_printf ("%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  v4 = ((guint32) b[0] << 24 | (guint32) b[1] << 16 | (guint32) b[2] << 8 | b[3]) & ~(G_MAXUINT32 >> v4_bits);
  return g_strdup_printf ("%u.%u.%u.%u/%u", v4 >> 24, (v4 >> 16) & 0xff, (v4 >> 8) & 0xff, v4 & 0xff, v4_bits);
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
  if (conn->idle_link != NULL && phase != PHASE_IDLE)
    {
      g_queue_delete_link (&conn->listener->idle, conn->idle_link);
      conn->idle_link = NULL;
    }
  else if (conn->idle_link == NULL && phase == PHASE_IDLE && conn->listener != NULL)
    {
      g_queue_push_tail (&conn->listener->idle, conn);
      conn->idle_link = conn->listener->idle.tail;
    }
  conn->phase = phase;
  g_source_set_ready_time (conn->deadline,
                           seconds > 0 ? g_get_monotonic_time () + seconds * G_USEC_PER_SEC : -1);
}

static void
uncount (Conn *conn)
{
  Listener *listener = conn->listener;
  guint n;

  if (!conn->counted || listener == NULL)
    return;
  conn->counted = FALSE;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (listener->per_address, conn->key));
  if (n > 1)
    g_hash_table_insert (listener->per_address, g_strdup (conn->key), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (listener->per_address, conn->key);
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
      uncount (conn);
      if (conn->idle_link != NULL)
        g_queue_delete_link (&listener->idle, conn->idle_link);
      conn->idle_link = NULL;
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
  conn->counted = TRUE;
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
pv_listen_prefer (SoupServerMessage *msg)
{
  Conn *conn = conn_for_message (msg);

  if (conn != NULL)
    conn->proven = TRUE;
}

void
pv_listen_release (SoupServerMessage *msg)
{
  Conn *conn = conn_for_message (msg);

  if (conn != NULL)
    {
      /* A device's live session is its own, authenticated, and long: it
       * does not take the place of its address's visitors. */
      set_phase (conn, PHASE_HEADERS, 0);
      conn->phase = PHASE_RELEASED;
      uncount (conn);
    }
}

/* ---- the head guard ----
 *
 * libsoup 3.2 leaks the request's path when a head's Content-Length is not
 * a number ("5, 6", two of them, "0x10") or its Transfer-Encoding neither
 * chunked nor identity (parse_headers returns before freeing it): up to
 * 64 KiB a request, which an attacker can repeat for ever. Each request
 * is read through this filter, which passes bytes through unchanged and
 * ends the connection, before libsoup has the whole head, at a header
 * line libsoup would take that way. (A Content-Length that libsoup does
 * read as a number, "-1" included, is left to pv-sync-server's check,
 * which answers in words.) After the head it only passes bytes on. */

#define GUARD_MAX_LINE (64 * 1024)

typedef struct
{
  GFilterInputStream parent_instance;
  GString *line;    /* the head's current line so far */
  gboolean started; /* the request line was seen */
  gboolean done;    /* the head is through */
  guint lengths;    /* Content-Length lines seen */
  guint encodings;  /* Transfer-Encoding lines seen */
  const char *refusal;
} PvHeadGuard;

typedef GFilterInputStreamClass PvHeadGuardClass;

static GType pv_head_guard_get_type (void);
static void head_guard_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (PvHeadGuard,
                         pv_head_guard,
                         G_TYPE_FILTER_INPUT_STREAM,
                         G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, head_guard_pollable_init))

/* The value after "NAME:" if @line is that header (any case), trimmed
 * in place; else NULL. */
static char *
header_value (char *line, const char *name)
{
  gsize n = strlen (name);

  if (g_ascii_strncasecmp (line, name, n) != 0 || line[n] != ':')
    return NULL;
  return g_strstrip (line + n + 1);
}

/* Checks one whole header line (no line end, and no longer needed: it is
 * trimmed in place); FALSE with a reason. */
static gboolean
head_guard_line (PvHeadGuard *self, char *line)
{
  char *value, *end = NULL;

  if (!self->started)
    {
      self->started = *line != '\0';
      return TRUE;
    }
  if (*line == '\0')
    {
      self->done = TRUE;
      return TRUE;
    }
  /* A folded line would join its value to the one before. */
  if (*line == ' ' || *line == '\t')
    return self->refusal = "a folded header line", FALSE;
  if ((value = header_value (line, "Content-Length")) != NULL)
    {
      g_ascii_strtoull (value, &end, 10);
      if (++self->lengths > 1 || *end != '\0')
        return self->refusal = "a Content-Length that is not one number", FALSE;
    }
  if ((value = header_value (line, "Transfer-Encoding")) != NULL
      && (++self->encodings > 1
          || (g_ascii_strcasecmp (value, "chunked") != 0 && g_ascii_strcasecmp (value, "identity") != 0)))
    return self->refusal = "a Transfer-Encoding other than chunked", FALSE;
  return TRUE;
}

/* Looks at @n bytes read; FALSE (and @error set) to end the connection. */
static gboolean
head_guard_scan (PvHeadGuard *self, const char *buffer, gssize n, GError **error)
{
  for (gssize i = 0; i < n && !self->done; i++)
    {
      if (buffer[i] != '\n')
        {
          if (self->line->len < GUARD_MAX_LINE)
            g_string_append_c (self->line, buffer[i]);
          continue;
        }
      if (self->line->len > 0 && self->line->str[self->line->len - 1] == '\r')
        g_string_truncate (self->line, self->line->len - 1);
      if (!head_guard_line (self, self->line->str))
        return g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Refused a request head: %s",
                            self->refusal),
               FALSE;
      g_string_truncate (self->line, 0);
    }
  return TRUE;
}

static GInputStream *
head_guard_base (PvHeadGuard *self)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (self));
}

static gssize
head_guard_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  PvHeadGuard *self = (PvHeadGuard *) stream;
  gssize n = g_input_stream_read (head_guard_base (self), buffer, count, cancellable, error);

  return n > 0 && !head_guard_scan (self, buffer, n, error) ? -1 : n;
}

static gssize
head_guard_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
  PvHeadGuard *self = (PvHeadGuard *) stream;
  gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (head_guard_base (self)), buffer,
                                                       count, NULL, error);

  return n > 0 && !head_guard_scan (self, buffer, n, error) ? -1 : n;
}

static gboolean
head_guard_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = head_guard_base ((PvHeadGuard *) stream);

  return G_IS_POLLABLE_INPUT_STREAM (base) && g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
head_guard_is_readable (GPollableInputStream *stream)
{
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (head_guard_base ((PvHeadGuard *) stream)));
}

static GSource *
head_guard_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  GInputStream *base = head_guard_base ((PvHeadGuard *) stream);
  g_autoptr (GSource) base_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (base), NULL);

  return g_pollable_source_new_full (stream, base_source, cancellable);
}

static void
head_guard_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = head_guard_can_poll;
  iface->is_readable = head_guard_is_readable;
  iface->create_source = head_guard_create_source;
  iface->read_nonblocking = head_guard_read_nonblocking;
}

static void
pv_head_guard_finalize (GObject *object)
{
  PvHeadGuard *self = (PvHeadGuard *) object;

  g_string_free (self->line, TRUE);
  G_OBJECT_CLASS (pv_head_guard_parent_class)->finalize (object);
}

static void
pv_head_guard_class_init (PvHeadGuardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pv_head_guard_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = head_guard_read;
}

static void
pv_head_guard_init (PvHeadGuard *self)
{
  self->line = g_string_new (NULL);
}

/* A guard over @base that leaves @base open when it is closed: the
 * connection goes on to its next request. */
static GInputStream *
head_guard_new (GInputStream *base)
{
  return g_object_new (pv_head_guard_get_type (), "base-stream", base, "close-base-stream", FALSE, NULL);
}

/* The stream libsoup gets for one request: reads through a head guard,
 * writes straight to the connection. Let go of (after an answer, when the
 * connection is taken back) it closes nothing, as the connection lives on;
 * closed on purpose (libsoup ending the connection), it closes the
 * connection. */
typedef struct
{
  GIOStream parent_instance;
  GIOStream *real;
  GInputStream *guard;
  gboolean disposing;
} PvGuardedStream;

typedef GIOStreamClass PvGuardedStreamClass;

static GType pv_guarded_stream_get_type (void);
G_DEFINE_TYPE (PvGuardedStream, pv_guarded_stream, G_TYPE_IO_STREAM)

static GInputStream *
guarded_get_input_stream (GIOStream *stream)
{
  return ((PvGuardedStream *) stream)->guard;
}

static GOutputStream *
guarded_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (((PvGuardedStream *) stream)->real);
}

static gboolean
guarded_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  PvGuardedStream *self = (PvGuardedStream *) stream;

  return self->disposing || g_io_stream_close (self->real, cancellable, error);
}

static void
guarded_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* On the caller's thread, not GIO's default worker thread. */
static void
guarded_close_async (GIOStream *stream,
                     int priority,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);

  g_io_stream_close_async (((PvGuardedStream *) stream)->real, priority, cancellable, guarded_closed_cb, task);
}

static gboolean
guarded_close_finish (GIOStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pv_guarded_stream_dispose (GObject *object)
{
  ((PvGuardedStream *) object)->disposing = TRUE;
  G_OBJECT_CLASS (pv_guarded_stream_parent_class)->dispose (object);
}

static void
pv_guarded_stream_finalize (GObject *object)
{
  PvGuardedStream *self = (PvGuardedStream *) object;

  g_clear_object (&self->guard);
  g_clear_object (&self->real);
  G_OBJECT_CLASS (pv_guarded_stream_parent_class)->finalize (object);
}

static void
pv_guarded_stream_class_init (PvGuardedStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_guarded_stream_dispose;
  G_OBJECT_CLASS (klass)->finalize = pv_guarded_stream_finalize;
  klass->get_input_stream = guarded_get_input_stream;
  klass->get_output_stream = guarded_get_output_stream;
  klass->close_fn = guarded_close;
  klass->close_async = guarded_close_async;
  klass->close_finish = guarded_close_finish;
}

static void
pv_guarded_stream_init (PvGuardedStream *self)
{
}

static GIOStream *
guarded_stream_new (GIOStream *real)
{
  PvGuardedStream *self = g_object_new (pv_guarded_stream_get_type (), NULL);

  self->real = g_object_ref (real);
  self->guard = head_guard_new (g_io_stream_get_input_stream (real));
  return G_IO_STREAM (self);
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

static void hand_over (Listener *listener, Conn *conn, GIOStream *stream);

/* What a stream libsoup gives back wraps (its SoupIOStream's
 * "base-iostream"), or @stream itself; a new reference. */
static GIOStream *
base_stream (GIOStream *stream)
{
  GIOStream *base = NULL, *real;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream") != NULL)
    g_object_get (stream, "base-iostream", &base, NULL);
  if (base == NULL)
    base = g_object_ref (stream);
  /* Under the head guard (see hand_over). */
  if (G_TYPE_CHECK_INSTANCE_TYPE (base, pv_guarded_stream_get_type ()))
    {
      real = g_object_ref (((PvGuardedStream *) base)->real);
      g_object_unref (base);
      base = real;
    }
  return base;
}

GSocket *
pv_listen_socket_of (GIOStream *stream)
{
  g_autoptr (GIOStream) base = base_stream (stream);
  GIOStream *inner = base;

  if (G_IS_TLS_CONNECTION (base))
    g_object_get (base, "base-io-stream", &inner, NULL), g_object_unref (inner);
  return G_IS_SOCKET_CONNECTION (inner) ? g_socket_connection_get_socket (G_SOCKET_CONNECTION (inner)) : NULL;
}

typedef struct
{
  Conn *conn;
  GIOStream *stream;
} Kept;

/* The public's kept connections handed back in one go, at most: each may
 * carry a request libsoup then reads and answers at once, and a device's
 * request waits for the whole go. Measured (tests/bench): 8 cost web
 * registrations a third of their rate (smaller group commits, more
 * fsyncs), 64 let a flood double admissions' p99; 16 does neither. */
#define HAND_BACKS_PER_TURN 16

static void
kept_free (Kept *kept)
{
  g_object_unref (kept->stream);
  conn_unref (kept->conn);
  g_free (kept);
}

static gboolean
hand_back (gpointer user_data)
{
  Kept *kept = user_data;

  if (kept->conn->listener != NULL && kept->conn->connection != NULL)
    hand_over (kept->conn->listener, kept->conn, kept->stream);
  kept_free (kept);
  return G_SOURCE_REMOVE;
}

static gboolean
hand_back_waiting (gpointer user_data)
{
  Listener *listener = user_data;

  for (guint i = 0; i < HAND_BACKS_PER_TURN && !g_queue_is_empty (&listener->waiting); i++)
    hand_back (g_queue_pop_head (&listener->waiting));
  if (!g_queue_is_empty (&listener->waiting))
    return G_SOURCE_CONTINUE;
  listener->pump_id = 0;
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
  GIOStream *stolen, *stream;
  Kept *kept;

  if (conn->listener == NULL || conn->connection == NULL || conn->phase == PHASE_RELEASED)
    return;
  if (!(stolen = soup_server_message_steal_connection (msg)))
    return;
  /* libsoup hands back its own wrapper (with its read buffer) of the
   * stream it was given; that stream goes back, or wrappers would pile up
   * one per request. */
  stream = base_stream (stolen);
  g_object_unref (stolen);
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
  /* A device's connection goes back at once, the public's when nothing
   * else is waiting, a few at a time: a flood of cheap requests on
   * kept-alive connections then waits its turn behind gates' admissions
   * instead of making them wait (new connections are accepted as ever,
   * and the loop comes back to the public as soon as devices are
   * answered). */
  if (conn->proven)
    g_idle_add_full (G_PRIORITY_DEFAULT, hand_back, kept, NULL);
  else
    {
      g_queue_push_tail (&conn->listener->waiting, kept);
      if (conn->listener->pump_id == 0)
        conn->listener->pump_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, hand_back_waiting, conn->listener, NULL);
    }
  conn->proven = FALSE;
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
}

/* ---- accepting ---- */

static void accept_next (Listener *listener);

static void
hand_over (Listener *listener, Conn *conn, GIOStream *stream)
{
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn->connection, NULL);
  /* libsoup reads the request through a guard; the stream itself is what
   * goes back to it after the answer. */
  g_autoptr (GIOStream) guarded = guarded_stream_new (stream);

  g_hash_table_insert (by_remote, conn->remote, conn);
  soup_server_accept_iostream (listener->server, guarded, local, conn->remote, NULL);
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

/* Makes room at a cap: the oldest connection waiting idle between
 * requests (from @key, else from anywhere) is shut and stops counting; its
 * client opens another when it has something to ask. FALSE if none. */
static gboolean
evict_idle (Listener *listener, const char *key)
{
  for (GList *l = listener->idle.head; l != NULL; l = l->next)
    {
      Conn *conn = l->data;

      if (key != NULL && g_strcmp0 (conn->key, key) != 0)
        continue;
      listener->evicted++;
      /* Out of every count now, though its descriptor closes a moment
       * later: the reserve below the file-descriptor limit covers that. */
      conn_forget (conn);
      shut_down (conn);
      return TRUE;
    }
  return FALSE;
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
  key = pv_address_key (remote, 32, 64);
  if (g_hash_table_size (listener->conns) >= listener->limits.max_connections && !evict_idle (listener, NULL))
    return note_refusal (listener, REFUSED_CAPACITY, key), refuse (listener, connection);
  if (GPOINTER_TO_UINT (g_hash_table_lookup (listener->per_address, key)) >= listener->limits.max_per_address
      && !evict_idle (listener, key))
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
  g_clear_handle_id (&listener->pump_id, g_source_remove);
  g_queue_clear_full (&listener->waiting, (GDestroyNotify) kept_free);
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
      conn->idle_link = NULL;
      conn->listener = NULL;
    }
  g_hash_table_unref (listener->conns);
  g_hash_table_unref (listener->per_address);
  g_queue_clear (&listener->idle);
  g_free (listener);
}

static void
server_gone (gpointer data)
{
  Listener *listener = data;

  listener_free (listener);
}

GSocketAddress *
pv_listen_parse_address (const char *address, GError **error)
{
  const char *colon = strrchr (address, ':');
  g_autofree char *host = colon ? g_strndup (address, (gsize) (colon - address)) : NULL;
  GSocketAddress *parsed = NULL;
  guint64 port = 0;

  /* "[::1]:8470" names an IPv6 address as URLs do. */
  if (host != NULL && host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)
      || !(parsed = g_inet_socket_address_new_from_string (host, (guint) port)))
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                 "%s: expected ADDRESS:PORT, e.g. 127.0.0.1:8470 (port 0 for any free one)", address);
  return parsed;
}

gboolean
pv_listen (SoupServer *server, const char *address, const PvListenLimits *limits, char **out_url, GError **error)
{
  g_autoptr (GSocketAddress) wanted = pv_listen_parse_address (address, error), bound = NULL;
  g_autoptr (GSocketListener) sockets = NULL;
  g_autofree char *ip = NULL;
  Listener *listener;

  if (wanted == NULL)
    return FALSE;
  /* Connections are accepted here and handed to the server: libsoup 3.2's
   * own listener keeps a reference to every socket it accepts (and to its
   * address when asked for its URIs), which a hub up for nine days would
   * pile up; and it neither caps nor times anything. */
  sockets = g_socket_listener_new ();
  /* Every gate of a fair may reconnect in the same second after a network
   * blip; GIO's default queue of 10 would turn most of them away. */
  g_socket_listener_set_backlog (sockets, 1024);
  if (!g_socket_listener_add_address (sockets, wanted, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                      error))
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
  g_queue_init (&listener->idle);
  g_queue_init (&listener->waiting);
  listener->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), NULL);
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
                          "# HELP %s_connections_evicted_total Idle kept-alive connections closed to make room "
                          "at a cap.\n# TYPE %s_connections_evicted_total counter\n"
                          "%s_connections_evicted_total %" G_GUINT64_FORMAT "\n",
                          prefix, prefix, prefix, listener->evicted);
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

GStrv
pv_listen_local_addresses (void)
{
  g_autoptr (GStrvBuilder) v4 = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) v6 = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) v6_list = NULL;
  struct ifaddrs *all = NULL;

  /* GNetworkMonitor says whether there is a network, not which addresses
   * this machine has on it: the kernel's list it is. */
  if (getifaddrs (&all) == 0)
    for (struct ifaddrs *i = all; i != NULL; i = i->ifa_next)
      {
        g_autoptr (GInetAddress) address = NULL;
        char *text;

        if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
          continue;
        address = i->ifa_addr->sa_family == AF_INET
                    ? g_inet_address_new_from_bytes ((const guint8 *) &((struct sockaddr_in *) i->ifa_addr)->sin_addr,
                                                     G_SOCKET_FAMILY_IPV4)
                    : g_inet_address_new_from_bytes ((const guint8 *) &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr,
                                                     G_SOCKET_FAMILY_IPV6);
        if (g_inet_address_get_is_loopback (address) || g_inet_address_get_is_link_local (address)
            || g_inet_address_get_is_any (address))
          continue;
        text = g_inet_address_to_string (address);
        if (!g_hash_table_add (seen, text))
          continue;
        g_strv_builder_add (i->ifa_addr->sa_family == AF_INET ? v4 : v6, text);
      }
  if (all != NULL)
    freeifaddrs (all);
  v6_list = g_strv_builder_end (v6);
  g_strv_builder_addv (v4, (const char **) v6_list);
  return g_strv_builder_end (v4);
}
