/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-store-watch.c: coalesced "changed" notifications for one store. */
#include "pv-store-watch.h"

#include "pv-store.h"

struct _PvStoreWatch
{
  GObject parent_instance;
  PvStore *store;
  guint poll_id;
  guint idle_id;
  guint64 seen_changes;
};

G_DEFINE_FINAL_TYPE (PvStoreWatch, pv_store_watch, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static gboolean
emit_changed (gpointer user_data)
{
  PvStoreWatch *self = user_data;

  self->idle_id = 0;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static gboolean
poll_cb (gpointer user_data)
{
  PvStoreWatch *self = user_data;

  /* A transaction of our own is open (a merge in progress): the file is
   * looked at again next time. Whoever noticed the change — this poll, a
   * request that refreshed the caches, a transaction's start — counted it. */
  if (!pv_store_in_transaction (self->store))
    pv_store_refresh (self->store);
  if (pv_store_get_outside_changes (self->store) != self->seen_changes)
    {
      self->seen_changes = pv_store_get_outside_changes (self->store);
      pv_store_watch_notify (self);
    }
  return G_SOURCE_CONTINUE;
}

void
pv_store_watch_notify (PvStoreWatch *self)
{
  g_return_if_fail (PV_IS_STORE_WATCH (self));
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (emit_changed, self);
}

PvStore *
pv_store_watch_get_store (PvStoreWatch *self)
{
  return self->store;
}

static void
pv_store_watch_dispose (GObject *object)
{
  PvStoreWatch *self = PV_STORE_WATCH (object);

  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pv_store_watch_parent_class)->dispose (object);
}

static void
pv_store_watch_class_init (PvStoreWatchClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_store_watch_dispose;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pv_store_watch_init (PvStoreWatch *self)
{
}

PvStoreWatch *
pv_store_watch_new (PvStore *store, guint interval_ms)
{
  PvStoreWatch *self = g_object_new (PV_TYPE_STORE_WATCH, NULL);

  self->store = g_object_ref (store);
  pv_store_refresh (store);
  self->seen_changes = pv_store_get_outside_changes (store);
  if (interval_ms > 0)
    self->poll_id = g_timeout_add (interval_ms, poll_cb, self);
  return self;
}
