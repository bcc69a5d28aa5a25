/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-device-list.c: the devices as the control room sees them (see the
 * header). The replica is read on the main thread — one indexed query —
 * and the hub is asked with an async call, so neither a slow hub nor a
 * missing one holds up the window. */
#include "config.h"

#include "pv-device-list.h"

#include <glib/gi18n.h>

#include "pv-api-admin.h"
#include "pv-api-client.h"
#include "pv-event.h"
#include "pv-store.h"

struct _PvDeviceList
{
  GObject parent_instance;

  PvStore *store;
  SoupSession *session;
  GCancellable *cancellable;
  GPtrArray *rows;        /* PvDeviceRow */
  GPtrArray *hub_devices; /* PvApiDevice: the hub's last list, kept to join each read */
  gint64 hub_offset;      /* our clock less the hub's when it answered */
  gint64 hub_answered;
  char *hub_error;
  guint poll_id;
  gboolean asking;
  gboolean ask_again; /* asked for while a call was on its way */
};

G_DEFINE_FINAL_TYPE (PvDeviceList, pv_device_list, G_TYPE_OBJECT)

enum
{
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char *
pv_role_title (const char *role)
{
  if (g_strcmp0 (role, "gate") == 0)
    return _ ("Gate");
  if (g_strcmp0 (role, "desk") == 0)
    return _ ("Desk");
  if (g_strcmp0 (role, "admin") == 0)
    return _ ("Control room");
  if (g_strcmp0 (role, "hub") == 0)
    return _ ("Hub");
  return role;
}

static void
device_row_free (PvDeviceRow *row)
{
  pv_device_status_free (row->status);
  g_free (row->url);
  g_free (row);
}

static const PvApiDevice *
hub_device (PvDeviceList *self, guint id)
{
  for (guint i = 0; self->hub_devices && i < self->hub_devices->len; i++)
    {
      const PvApiDevice *device = self->hub_devices->pdata[i];

      if (device->id == id)
        return device;
    }
  return NULL;
}

static void
read_replica (PvDeviceList *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = pv_devices_list (self->store, &error);

  g_ptr_array_set_size (self->rows, 0);
  if (devices == NULL)
    {
      g_warning ("Cannot list the devices: %s", error->message);
      return;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      PvDeviceRow *row = g_new0 (PvDeviceRow, 1);
      const PvApiDevice *heard;

      row->status = g_steal_pointer (&devices->pdata[i]);
      heard = hub_device (self, row->status->id);
      row->last_seen = row->status->last_seen;
      row->behind = row->status->behind;
      row->pending = row->status->pending;
      row->has_skew = row->status->has_skew;
      row->skew_ms = row->status->skew_ms;
      if (heard != NULL)
        {
          /* The hub's times are on the hub's clock: moved onto ours. */
          if (heard->last_seen > 0)
            row->last_seen = MAX (row->last_seen, heard->last_seen + self->hub_offset);
          if (heard->behind >= 0)
            row->behind = heard->behind;
          if (heard->pending >= 0)
            row->pending = heard->pending;
          if (heard->has_skew)
            {
              row->has_skew = TRUE;
              row->skew_ms = heard->skew_ms;
            }
          row->is_hub = heard->is_hub;
          row->url = g_strdup (heard->url);
          /* A revocation the hub made shows before its record syncs here. */
          if (heard->revoked && !row->status->revoked)
            {
              row->status->revoked = TRUE;
              row->status->revoked_at = heard->revoked_at;
              g_free (row->status->revoke_reason);
              row->status->revoke_reason = g_strdup (heard->revoke_reason);
            }
        }
      if (g_strcmp0 (row->status->role, "hub") == 0)
        row->is_hub = TRUE;
      if (row->status->this_device)
        row->last_seen = g_get_real_time ();
      g_ptr_array_add (self->rows, row);
    }
}

static void ask_hub (PvDeviceList *self);

static void
answered_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvDeviceList) self = user_data;
  g_autoptr (GError) error = NULL;
  gint64 hub_now = 0;
  g_autoptr (GPtrArray) devices = pv_api_devices_list_finish (result, &hub_now, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->asking = FALSE;
  g_clear_pointer (&self->hub_error, g_free);
  if (devices != NULL)
    {
      self->hub_answered = g_get_real_time ();
      self->hub_offset = hub_now > 0 ? self->hub_answered - hub_now : 0;
      g_clear_pointer (&self->hub_devices, g_ptr_array_unref);
      self->hub_devices = g_steal_pointer (&devices);
    }
  else
    self->hub_error = g_strdup (error->message);
  read_replica (self);
  g_signal_emit (self, signals[CHANGED], 0);
  /* A revocation just made: its answer must not wait for the next poll. */
  if (self->ask_again)
    {
      self->ask_again = FALSE;
      ask_hub (self);
    }
}

static void
ask_hub (PvDeviceList *self)
{
  if (self->asking)
    {
      self->ask_again = TRUE;
      return;
    }
  self->asking = TRUE;
  pv_api_devices_list_async (self->store, self->session, 5000, self->cancellable, answered_cb, g_object_ref (self));
}

static gboolean
poll_cb (gpointer user_data)
{
  pv_device_list_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

void
pv_device_list_refresh (PvDeviceList *self)
{
  g_return_if_fail (PV_IS_DEVICE_LIST (self));

  read_replica (self);
  g_signal_emit (self, signals[CHANGED], 0);
  ask_hub (self);
}

GPtrArray *
pv_device_list_get_rows (PvDeviceList *self)
{
  g_return_val_if_fail (PV_IS_DEVICE_LIST (self), NULL);
  return self->rows;
}

gint64
pv_device_list_get_hub_answered (PvDeviceList *self)
{
  g_return_val_if_fail (PV_IS_DEVICE_LIST (self), 0);
  return self->hub_answered;
}

const char *
pv_device_list_get_hub_error (PvDeviceList *self)
{
  g_return_val_if_fail (PV_IS_DEVICE_LIST (self), NULL);
  return self->hub_error;
}

void
pv_device_list_count (PvDeviceList *self,
                      gint64 now,
                      guint *out_online,
                      guint *out_stale,
                      const PvDeviceRow **out_latest_stale)
{
  guint online = 0, stale = 0;
  const PvDeviceRow *latest = NULL;

  g_return_if_fail (PV_IS_DEVICE_LIST (self));
  for (guint i = 0; i < self->rows->len; i++)
    {
      PvDeviceRow *row = self->rows->pdata[i];

      if (row->status->revoked || row->status->this_device)
        continue;
      if (row->last_seen > 0 && now - row->last_seen <= PV_DEVICE_STALE_AFTER)
        online++;
      else
        {
          stale++;
          if (latest == NULL || row->last_seen > latest->last_seen)
            latest = row;
        }
    }
  *out_online = online;
  *out_stale = stale;
  if (out_latest_stale)
    *out_latest_stale = latest;
}

char *
pv_device_list_format_seen (PvDeviceList *self, gint64 at, gint64 now)
{
  gint64 seconds = (now - at) / G_USEC_PER_SEC;
  PvEvent *event;

  g_return_val_if_fail (PV_IS_DEVICE_LIST (self), NULL);
  if (at <= 0)
    return g_strdup (_ ("never heard from"));
  if (seconds < 60)
    return g_strdup (_ ("seen just now"));
  if (seconds < 3600)
    return g_strdup_printf (ngettext ("seen %d min ago", "seen %d min ago", (gulong) (seconds / 60)),
                            (int) (seconds / 60));
  if (seconds < 24 * 3600)
    return g_strdup_printf (ngettext ("seen %d h ago", "seen %d h ago", (gulong) (seconds / 3600)),
                            (int) (seconds / 3600));
  /* Times as the event's clocks show them, as on every other page. */
  event = pv_store_get_event (self->store, NULL);
  /* Translators: a date in strftime form, e.g. "last seen 27 Nov 10:42". */
  return event ? pv_event_format_time (event, at, _ ("last seen %e %b %H:%M")) : g_strdup ("?");
}

static void
pv_device_list_dispose (GObject *object)
{
  PvDeviceList *self = PV_DEVICE_LIST (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  G_OBJECT_CLASS (pv_device_list_parent_class)->dispose (object);
}

static void
pv_device_list_finalize (GObject *object)
{
  PvDeviceList *self = PV_DEVICE_LIST (object);

  g_clear_object (&self->store);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->hub_devices, g_ptr_array_unref);
  g_free (self->hub_error);
  G_OBJECT_CLASS (pv_device_list_parent_class)->finalize (object);
}

static void
pv_device_list_class_init (PvDeviceListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pv_device_list_dispose;
  object_class->finalize = pv_device_list_finalize;
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                   NULL, G_TYPE_NONE, 0);
}

static void
pv_device_list_init (PvDeviceList *self)
{
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) device_row_free);
  self->cancellable = g_cancellable_new ();
  self->session = pv_api_session_new ();
}

PvDeviceList *
pv_device_list_new (PvStore *store, guint interval_s)
{
  PvDeviceList *self = g_object_new (PV_TYPE_DEVICE_LIST, NULL);

  self->store = g_object_ref (store);
  read_replica (self);
  if (interval_s > 0)
    {
      self->poll_id = g_timeout_add_seconds (interval_s, poll_cb, self);
      ask_hub (self);
    }
  return self;
}
