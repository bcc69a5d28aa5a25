/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-sounds.c: verdict sounds (see the header). One playbin, reused: a
 * gate plays a sound every few seconds all day. */
#include "config.h"

#include "pv-sounds.h"

#include <gst/gst.h>

struct _PvSounds
{
  GObject parent_instance;

  GstElement *playbin;
  guint bus_watch;
  guint n_finished;
  char *last;      /* the name last asked for */
  gboolean broken; /* no audio here: stop trying */
};

G_DEFINE_FINAL_TYPE (PvSounds, pv_sounds, G_TYPE_OBJECT)

static gboolean
bus_message_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  PvSounds *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_EOS:
      self->n_finished++;
      gst_element_set_state (self->playbin, GST_STATE_READY);
      break;
    case GST_MESSAGE_ERROR:
      {
        g_autoptr (GError) error = NULL;
        gst_message_parse_error (message, &error, NULL);
        /* A gate without speakers still works; say so once. */
        if (!self->broken)
          g_message ("No verdict sounds: %s", error->message);
        self->broken = TRUE;
        gst_element_set_state (self->playbin, GST_STATE_NULL);
        break;
      }
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

void
pv_sounds_play (PvSounds *self, const char *name)
{
  g_autofree char *uri = NULL;

  g_return_if_fail (PV_IS_SOUNDS (self));
  g_free (self->last);
  self->last = g_strdup (name);
  if (self->playbin == NULL || self->broken)
    return;
  uri = g_strdup_printf ("resource:///in/pravesh/Pravesh/sounds/%s.wav", name);
  gst_element_set_state (self->playbin, GST_STATE_READY);
  g_object_set (self->playbin, "uri", uri, NULL);
  gst_element_set_state (self->playbin, GST_STATE_PLAYING);
}

guint
pv_sounds_get_n_finished (PvSounds *self)
{
  return self->n_finished;
}

const char *
pv_sounds_get_last (PvSounds *self)
{
  return self->last;
}

static void
pv_sounds_dispose (GObject *object)
{
  PvSounds *self = PV_SOUNDS (object);

  g_clear_handle_id (&self->bus_watch, g_source_remove);
  if (self->playbin != NULL)
    {
      gst_element_set_state (self->playbin, GST_STATE_NULL);
      gst_clear_object (&self->playbin);
    }
  G_OBJECT_CLASS (pv_sounds_parent_class)->dispose (object);
}

static void
pv_sounds_finalize (GObject *object)
{
  g_free (PV_SOUNDS (object)->last);
  G_OBJECT_CLASS (pv_sounds_parent_class)->finalize (object);
}

static void
pv_sounds_class_init (PvSoundsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_sounds_dispose;
  G_OBJECT_CLASS (klass)->finalize = pv_sounds_finalize;
}

static void
pv_sounds_init (PvSounds *self)
{
}

PvSounds *
pv_sounds_new (const char *sink)
{
  PvSounds *self = g_object_new (PV_TYPE_SOUNDS, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstElement *audio_sink = NULL;

  gst_init (NULL, NULL);
  self->playbin = gst_element_factory_make ("playbin", NULL);
  if (self->playbin == NULL)
    {
      g_message ("No verdict sounds: GStreamer has no playbin");
      return self;
    }
  gst_object_ref_sink (self->playbin);
  if (sink != NULL && !(audio_sink = gst_parse_bin_from_description (sink, TRUE, &error)))
    g_message ("No verdict sounds: %s", error->message);
  if (audio_sink != NULL)
    g_object_set (self->playbin, "audio-sink", audio_sink, NULL);
  /* Sounds only: no video sink is ever needed. */
  g_object_set (self->playbin, "video-sink", gst_element_factory_make ("fakesink", NULL), NULL);
  bus = gst_element_get_bus (self->playbin);
  self->bus_watch = gst_bus_add_watch (bus, bus_message_cb, self);
  return self;
}
