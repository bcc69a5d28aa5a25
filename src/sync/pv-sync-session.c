/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sync-session.c: the live exchange over one WebSocket (see the header),
 * and the request helpers the HTTP endpoints and the client share. */
#include "pv-sync-session.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-listener.h"
#include "pv-store.h"

/* Persons asked for in one request; more are asked for next time. */
#define PEOPLE_PER_REQUEST 1000
/* Bytes of batches sent and not yet acknowledged, beyond which no more
 * are collected: about four pages in the binary framing. libsoup keeps
 * what it could not write yet in memory, so without a bound a peer that
 * stops reading would have this side queue the whole ledger for it. */
#define WINDOW_BYTES (4 * 1024 * 1024)
#define DEFAULT_STALL_TIMEOUT_S 60
#define MAX_KEEPALIVE_S 15

struct _PvSyncSession
{
  GObject parent_instance;
  PvStoreWatch *watch;
  SoupWebsocketConnection *connection;
  gulong changed_id;
  PvPullRequest *peer; /* what the other side holds, as we last know it */
  guint send_id;
  guint64 sent, received;
  guint16 authorized; /* the device the other side proved to be, or 0 */
  gboolean to_hub;    /* this side connected to its own hub */
  PvPullPlan *plan;   /* authors left out, histories asked for */
  gboolean closed;
  /* Flow control: the sizes of the batches sent and not acknowledged yet,
   * oldest first, and their sum. */
  GQueue unacked;
  gsize unacked_bytes;
  guint stall_timeout_s;
  guint watchdog_id;
  gint64 progress_at; /* monotonic µs: the last acknowledgement, or the
                       * batch that found the window empty */
  gint64 heard_at;    /* monotonic µs: the last message or pong */
  guint32 event_id;   /* of the acknowledgements this side sends */
  /* Acknowledgements are the other side's word: nothing more is collected
   * either while the connection's own output is full, so that one which
   * acknowledges what it never reads cannot have this side queue without
   * end. Set while waiting for room there, and since when. */
  GSource *room;
  gint64 blocked_at;
  /* The socket's own counts, and when they last moved (monotonic µs). */
  guint64 tcp_acked, tcp_received;
  gint64 tcp_sent_at, tcp_received_at;
};

G_DEFINE_FINAL_TYPE (PvSyncSession, pv_sync_session, G_TYPE_OBJECT)

enum
{
  SIGNAL_APPLIED,
  SIGNAL_CLOSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

PvPullRequest *
pv_sync_make_request (PvStore *store, GHashTable *overlay, GError **error)
{
  g_autoptr (PvPullRequest) request = g_new0 (PvPullRequest, 1);

  if ((request->event_id = pv_store_get_event_id (store)) == 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_INITIALIZED, "%s belongs to no event",
                        pv_store_get_path (store)),
           NULL;
  if (!(request->vector = pv_ledger_version_vector (store, error)))
    return NULL;
  pv_vector_overlay (request->vector, overlay);
  request->device_id = pv_store_get_device_id (store);
  if (pv_replica_keeps_people (store)
      && !(request->people_wanted = pv_batch_people_wanted (store, PEOPLE_PER_REQUEST, error)))
    return NULL;
  return g_steal_pointer (&request);
}

gboolean
pv_sync_peer_gets_people (PvStore *store, guint16 peer)
{
  const PvDeviceInfo *device = pv_store_lookup_device (store, peer);

  return device != NULL && device->role != PV_ROLE_GATE && device->revoked_at == G_MAXINT64;
}

PvBatch *
pv_sync_collect_for (PvStore *store, const PvPullRequest *request, gboolean proven, GError **error)
{
  if (pv_store_get_event_id (store) != request->event_id)
    return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT, "This replica holds event %08x, not %08x",
                        pv_store_get_event_id (store), request->event_id),
           NULL;
  /* Names and phone numbers go only where the device is proven: to a
   * caller whose token said who it is, or from a device to its own hub. */
  return pv_batch_collect (store, request->vector, request->limit,
                           proven && pv_sync_peer_gets_people (store, request->device_id), request->people_wanted,
                           error);
}

void
pv_sync_vector_advance (GHashTable *vector, const PvBatch *batch)
{
  for (guint i = 0; i < batch->records->len; i++)
    {
      const PvRecord *record = batch->records->pdata[i];
      guint64 *held = g_hash_table_lookup (vector, GUINT_TO_POINTER (record->device_id));

      if (held == NULL)
        g_hash_table_insert (vector, GUINT_TO_POINTER (record->device_id),
                             g_memdup2 (&record->seq, sizeof record->seq));
      else if (*held < record->seq)
        *held = record->seq;
    }
}

static void
send_bytes (PvSyncSession *self, SoupWebsocketDataType type, GBytes *bytes)
{
  if (self->closed || soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  soup_websocket_connection_send_message (self->connection, type, bytes);
}

static gboolean
send_request (PvSyncSession *self, GHashTable *overlay)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvPullRequest) request = pv_sync_make_request (pv_store_watch_get_store (self->watch), overlay, &error);
  g_autoptr (GBytes) bytes = NULL;

  if (request == NULL)
    {
      g_warning ("Cannot say what this replica holds: %s", error->message);
      return FALSE;
    }
  bytes = pv_pull_request_to_json (request);
  send_bytes (self, SOUP_WEBSOCKET_DATA_TEXT, bytes);
  return TRUE;
}

/* At least one batch is always allowed in flight, however large. */
static gboolean
window_full (PvSyncSession *self)
{
  return self->unacked_bytes >= WINDOW_BYTES;
}

static void schedule_send (PvSyncSession *self);

static gboolean
room_cb (GObject *stream, gpointer user_data)
{
  PvSyncSession *self = user_data;

  g_clear_pointer (&self->room, g_source_unref);
  schedule_send (self);
  return G_SOURCE_REMOVE;
}

/* FALSE, and a wake-up when there is, while the connection's output has
 * no room (its kernel buffer full: the other side is not reading). */
static gboolean
output_has_room (PvSyncSession *self)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (self->connection);
  GOutputStream *output = stream ? g_io_stream_get_output_stream (stream) : NULL;
  GPollableOutputStream *pollable = G_IS_POLLABLE_OUTPUT_STREAM (output) ? G_POLLABLE_OUTPUT_STREAM (output) : NULL;

  if (self->room != NULL)
    return FALSE;
  if (pollable == NULL || !g_pollable_output_stream_can_poll (pollable)
      || g_pollable_output_stream_is_writable (pollable))
    return TRUE;
  self->blocked_at = g_get_monotonic_time ();
  self->room = g_pollable_output_stream_create_source (pollable, NULL);
  g_source_set_callback (self->room, G_SOURCE_FUNC (room_cb), self, NULL);
  g_source_attach (self->room, g_main_context_get_thread_default ());
  return FALSE;
}

static void
stop_waiting_for_room (PvSyncSession *self)
{
  if (self->room != NULL)
    g_source_destroy (self->room);
  g_clear_pointer (&self->room, g_source_unref);
}

/* Sends the other side what it lacks, a page at a time, while the window
 * has room; an acknowledgement makes room and calls again. */
static gboolean
send_pending (gpointer user_data)
{
  PvSyncSession *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = NULL;
  g_autoptr (GBytes) bytes = NULL;

  self->send_id = 0;
  if (self->peer == NULL || self->closed || window_full (self)
      || soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_OPEN
      || !output_has_room (self))
    return G_SOURCE_REMOVE;
  batch = pv_sync_collect_for (pv_store_watch_get_store (self->watch), self->peer,
                               self->authorized != 0 || self->to_hub, &error);
  if (batch == NULL)
    {
      g_warning ("Cannot collect records for device %u: %s", self->peer->device_id, error->message);
      return G_SOURCE_REMOVE;
    }
  /* Persons are asked for once per request. */
  g_array_set_size (self->peer->people_wanted, 0);
  if (batch->records->len == 0 && batch->people->len == 0)
    return G_SOURCE_REMOVE;
  /* Batches go in the binary framing: half again smaller, twice as fast. */
  bytes = pv_batch_to_binary (batch);
  send_bytes (self, SOUP_WEBSOCKET_DATA_BINARY, bytes);
  if (g_queue_is_empty (&self->unacked))
    self->progress_at = g_get_monotonic_time ();
  g_queue_push_tail (&self->unacked, GSIZE_TO_POINTER (g_bytes_get_size (bytes)));
  self->unacked_bytes += g_bytes_get_size (bytes);
  self->sent += batch->records->len;
  pv_sync_vector_advance (self->peer->vector, batch);
  if (batch->more && !window_full (self))
    self->send_id = g_idle_add (send_pending, self);
  return G_SOURCE_REMOVE;
}

static void
schedule_send (PvSyncSession *self)
{
  if (self->send_id == 0 && self->peer != NULL)
    self->send_id = g_idle_add (send_pending, self);
}

/* The serving side checks, as often as the ledger changes, that the device
 * it speaks to is still in good standing: a revocation ends the session. */
static gboolean
peer_still_allowed (PvSyncSession *self)
{
  PvStore *store = pv_store_watch_get_store (self->watch);
  const PvDeviceInfo *device;
  gint64 now;

  if (self->authorized == 0)
    return TRUE;
  device = pv_store_lookup_device (store, self->authorized);
  now = pv_store_now (store);
  return device != NULL && device->revoked_at > now && now < device->valid_until;
}

static void
on_changed (PvStoreWatch *watch, PvSyncSession *self)
{
  if (!peer_still_allowed (self))
    {
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "This device is revoked");
      return;
    }
  schedule_send (self);
}

/* Tells the other side a batch of its was taken: an empty batch, which a
 * peer from before acknowledgements applies as the nothing it is. */
static void
send_ack (PvSyncSession *self)
{
  g_autoptr (PvBatch) ack = pv_batch_new (self->event_id);
  g_autoptr (GBytes) bytes = pv_batch_to_binary (ack);

  send_bytes (self, SOUP_WEBSOCKET_DATA_BINARY, bytes);
}

/* The other side took the oldest batch in flight: room for the next. */
static void
receive_ack (PvSyncSession *self)
{
  if (g_queue_is_empty (&self->unacked))
    return;
  self->unacked_bytes -= GPOINTER_TO_SIZE (g_queue_pop_head (&self->unacked));
  self->progress_at = g_get_monotonic_time ();
  if (self->send_id == 0 && self->peer != NULL && !window_full (self))
    self->send_id = g_idle_add (send_pending, self);
}

static void
receive_batch (PvSyncSession *self, GBytes *message, gboolean binary)
{
  PvStore *store = pv_store_watch_get_store (self->watch);
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = binary ? pv_batch_new_from_binary (g_bytes_get_data (message, NULL),
                                                                 g_bytes_get_size (message), PV_SYNC_MAX_MESSAGE, &error)
                                     : pv_batch_new_from_json (g_bytes_get_data (message, NULL),
                                                               g_bytes_get_size (message), PV_SYNC_MAX_JSON, &error);
  g_autoptr (GHashTable) wanted = NULL;
  PvMergeStats stats = { 0 };

  if (!peer_still_allowed (self))
    {
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "This device is revoked");
      return;
    }
  /* Data batches always carry something: an empty one acknowledges. */
  if (batch != NULL && batch->records->len == 0 && batch->people->len == 0)
    {
      receive_ack (self);
      return;
    }
  if (batch == NULL || !pv_batch_apply (store, batch, &stats, &wanted, &error))
    {
      g_message ("Refusing a batch from device %u: %s", self->peer ? self->peer->device_id : 0, error->message);
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, error->message);
      return;
    }
  send_ack (self);
  self->received += stats.applied;
  if (stats.forks > 0)
    g_message ("A batch from device %u showed %" G_GUINT64_FORMAT " fork(s): the second records are kept as evidence",
               self->peer ? self->peer->device_id : self->authorized, stats.forks);
  /* The sender holds what it sent: nothing of it goes back. */
  if (self->peer != NULL)
    pv_sync_vector_advance (self->peer->vector, batch);
  if (stats.applied > 0 || stats.people > 0)
    pv_store_watch_notify (self->watch);
  /* Left out or forked authors, histories to prove a fork: the other side
   * is told afresh what to send, with everything left out so far. */
  if (pv_pull_plan_update (self->plan, wanted))
    send_request (self, pv_pull_plan_next_overlay (self->plan));
  g_signal_emit (self, signals[SIGNAL_APPLIED], 0, &stats);
}

static void
receive_request (PvSyncSession *self, GBytes *message)
{
  g_autoptr (GError) error = NULL;
  PvPullRequest *request = pv_pull_request_new_from_json (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                                          PV_SYNC_MAX_JSON, &error);

  if (request == NULL)
    {
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, error->message);
      return;
    }
  /* The server knows who connected; a request may not claim otherwise. */
  if (self->authorized != 0 && request->device_id != self->authorized)
    {
      pv_pull_request_free (request);
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "A session speaks for the device of its token only");
      return;
    }
  g_clear_pointer (&self->peer, pv_pull_request_free);
  self->peer = request;
  schedule_send (self);
}

static void
on_message (SoupWebsocketConnection *connection, gint type, GBytes *message, PvSyncSession *self)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  self->heard_at = g_get_monotonic_time ();
  /* Binary messages are batches in the binary framing. Of text ones, a
   * batch begins with its "version" and a request with its "event" (both as
   * pv-wire writes them); either parser refuses the other's message. */
  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    receive_batch (self, message, TRUE);
  else if (len > 12 && g_str_has_prefix (data, "{\"version\""))
    receive_batch (self, message, FALSE);
  else
    receive_request (self, message);
}

/* libsoup answers the pings the other side's libsoup sends by itself, as
 * it reads: a pong says that side is alive and reading, even when idle. */
static void
on_pong (SoupWebsocketConnection *connection, GBytes *message, PvSyncSession *self)
{
  self->heard_at = g_get_monotonic_time ();
}

/* What TCP says moved since the last look: bytes the other side's kernel
 * acknowledged (it is reading) and bytes that arrived from it. */
static void
note_tcp_progress (PvSyncSession *self, gint64 now)
{
  GSocket *socket = pv_listen_socket_of (soup_websocket_connection_get_io_stream (self->connection));
  struct tcp_info info = { 0 };
  socklen_t length = sizeof info;

  if (socket == NULL || getsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_INFO, &info, &length) != 0
      || length < offsetof (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return;
  if (info.tcpi_bytes_acked != self->tcp_acked)
    self->tcp_sent_at = now;
  if (info.tcpi_bytes_received != self->tcp_received)
    self->tcp_received_at = now;
  self->tcp_acked = info.tcpi_bytes_acked;
  self->tcp_received = info.tcpi_bytes_received;
}

/* A peer that takes nothing for a while is not reading (or gone): the
 * session ends, so nothing waits for it, and it catches up when it calls
 * again, from what it holds then. */
static gboolean
watchdog_cb (gpointer user_data)
{
  PvSyncSession *self = user_data;
  gint64 now = g_get_monotonic_time (), limit = (gint64) self->stall_timeout_s * G_USEC_PER_SEC;
  const char *reason = NULL;

  if (soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_OPEN)
    return G_SOURCE_CONTINUE;
  note_tcp_progress (self, now);
  /* Bytes still moving either way (a slow link: a page can take longer
   * than the limit, and acknowledgements queue behind the other side's own
   * batches) count as progress; a peer that reads nothing, or reads and
   * never acknowledges, makes none once the window is full. */
  if (!g_queue_is_empty (&self->unacked) && now - MAX (self->progress_at, self->tcp_sent_at) > limit)
    reason = "No batch acknowledged for too long: catch up by calling again";
  else if (self->room != NULL && now - MAX (self->blocked_at, self->tcp_sent_at) > limit)
    reason = "Nothing read for too long: catch up by calling again";
  else if (now - MAX (self->heard_at, self->tcp_received_at) > limit)
    reason = "Nothing heard for too long: call again";
  if (reason == NULL)
    return G_SOURCE_CONTINUE;
  g_message ("Ending the live session with device %u: %s (%" G_GSIZE_FORMAT " bytes unacknowledged)",
             self->authorized ? self->authorized : pv_sync_session_get_peer_device (self), reason,
             self->unacked_bytes);
  soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
  return G_SOURCE_CONTINUE;
}

static void
on_closed (SoupWebsocketConnection *connection, PvSyncSession *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_clear_handle_id (&self->send_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  stop_waiting_for_room (self);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

guint16
pv_sync_session_get_peer_device (PvSyncSession *self)
{
  return self->peer ? self->peer->device_id : 0;
}

gint64
pv_sync_session_get_peer_held (PvSyncSession *self)
{
  return self->peer ? pv_vector_total (self->peer->vector) : -1;
}

guint64
pv_sync_session_get_sent (PvSyncSession *self)
{
  return self->sent;
}

guint64
pv_sync_session_get_received (PvSyncSession *self)
{
  return self->received;
}

void
pv_sync_session_close (PvSyncSession *self)
{
  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
}

static void
pv_sync_session_dispose (GObject *object)
{
  PvSyncSession *self = PV_SYNC_SESSION (object);

  g_clear_handle_id (&self->send_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  stop_waiting_for_room (self);
  g_queue_clear (&self->unacked);
  g_clear_pointer (&self->plan, pv_pull_plan_free);
  g_clear_signal_handler (&self->changed_id, self->watch);
  if (self->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->connection, self);
      if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  g_clear_object (&self->connection);
  g_clear_object (&self->watch);
  g_clear_pointer (&self->peer, pv_pull_request_free);
  G_OBJECT_CLASS (pv_sync_session_parent_class)->dispose (object);
}

static void
pv_sync_session_class_init (PvSyncSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_sync_session_dispose;
  signals[SIGNAL_APPLIED] = g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                         NULL, NULL, G_TYPE_NONE, 0);
}

static void
pv_sync_session_init (PvSyncSession *self)
{
  g_queue_init (&self->unacked);
}

/* Seconds without progress before a live session is closed (see the
 * header). */
static guint
stall_timeout (void)
{
  const char *text = g_getenv ("PRAVESH_LIVE_STALL_TIMEOUT");
  guint64 seconds = DEFAULT_STALL_TIMEOUT_S;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, 24 * 3600, &seconds, NULL))
    {
      g_warning ("PRAVESH_LIVE_STALL_TIMEOUT=%s: seconds from 1 to 86400 expected; using %u", text,
                 DEFAULT_STALL_TIMEOUT_S);
      seconds = DEFAULT_STALL_TIMEOUT_S;
    }
  return (guint) seconds;
}

PvSyncSession *
pv_sync_session_new (PvStoreWatch *watch, SoupWebsocketConnection *connection, guint16 authorized, gboolean to_hub)
{
  PvSyncSession *self = g_object_new (PV_TYPE_SYNC_SESSION, NULL);
  guint check_s;

  self->authorized = authorized;
  self->to_hub = to_hub;
  self->plan = pv_pull_plan_new ();
  self->watch = g_object_ref (watch);
  self->connection = g_object_ref (connection);
  self->event_id = pv_store_get_event_id (pv_store_watch_get_store (watch));
  self->stall_timeout_s = stall_timeout ();
  self->heard_at = self->progress_at = g_get_monotonic_time ();
  /* Pings a few times per timeout, so that a live idle peer's pongs keep
   * it in good standing; the watchdog looks as often. */
  check_s = CLAMP (self->stall_timeout_s / 4, 1, MAX_KEEPALIVE_S);
  soup_websocket_connection_set_max_incoming_payload_size (connection, PV_SYNC_MAX_MESSAGE);
  soup_websocket_connection_set_keepalive_interval (connection, check_s);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), self);
  g_signal_connect (connection, "pong", G_CALLBACK (on_pong), self);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), self);
  self->watchdog_id = g_timeout_add_seconds (check_s, watchdog_cb, self);
  self->changed_id = g_signal_connect (watch, "changed", G_CALLBACK (on_changed), self);
  send_request (self, NULL);
  return self;
}
