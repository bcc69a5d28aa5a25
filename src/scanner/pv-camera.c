/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-camera.c: PvCamera, the gate's capture pipeline. It turns the source
 * setting into one GStreamer pipeline — source ! videoconvert ! tee, a
 * preview branch to RGBA and a rate-limited decode branch to GRAY8, each
 * ending in an appsink that keeps only the newest frame — and hands preview
 * frames to the main context coalesced (one pending at most) and gray frames
 * straight to the PvDecoder from the streaming thread. Errors arrive through
 * the bus on the main context; a camera (device or "auto") that fails is
 * LOST, not stopped, and is reopened when the device monitor sees it again
 * or, if it never went away, after a backing-off retry.
 *
 * Device ids: the node path the provider reports ("api.v4l2.path" from
 * PipeWire, "device.path" from the v4l2 provider, else "object.path"), and
 * only when a provider gives none of these the display name. The kernel
 * usually gives a replugged camera its node back once we have closed it, a
 * person can check it with v4l2-ctl, and two identical webcams, which share
 * a display name, still differ. A lost camera that comes back under another
 * node (moved to another port) is accepted by its display name. */
#include "config.h"

#include "pv-camera.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <gst/app/gstappsink.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#include "pv-camera-private.h"
#include "pv-demo-source.h"
#include "pv-error.h"
#include "pv-image.h"

#define DEFAULT_DECODE_FPS 12
/* A still image is shown as a live feed at this rate. */
#define IMAGE_FPS 15
/* Retries of a lost camera that is still listed: 2, 4, 8, 16, then 30 s. */
#define RETRY_FIRST_S 2
#define RETRY_MAX_S 30
/* A camera that played this long before failing starts its back-off anew. */
#define STABLE_US (10 * G_USEC_PER_SEC)

typedef enum
{
  SOURCE_AUTO,
  SOURCE_DEVICE,
  SOURCE_FILE,
  SOURCE_DEMO,
} SourceKind;

struct _PvCamera
{
  GObject parent_instance;

  /* construct-only */
  char *source;
  PvDecoder *decoder;

  /* settings, main context */
  char **demo_codes;
  guint decode_fps; /* atomic: read by the decode branch's probe */

  /* main context only */
  GMainContext *context;
  PvCameraState state;
  SourceKind kind;
  GstElement *pipeline;
  GSource *bus_source;
  GstDeviceMonitor *monitor;
  gboolean monitor_started;
  GSource *monitor_source;
  GSource *retry_source;
  PvDemoSource *demo;
  char *device_id;        /* the open (or lost) device; NULL: none yet */
  char *device_name;      /* its display name, for messages and replugs */
  gboolean on_fallback;   /* "auto" found no device and runs autovideosrc */
  gboolean is_video_file; /* loops by segment seeks */
  gboolean loop_armed;    /* the first segment seek was made */
  guint losses;           /* consecutive, for the retry back-off */
  gint64 playing_since;

  /* decode branch's streaming thread only */
  gint64 next_decode_at;

  /* A weak reference in a refcounted box, taken by every preview hand-off:
   * streaming threads hold no reference on the camera, so they cannot make
   * a new GWeakRef safely while the main thread may be disposing it, but
   * they can share this one, made while the camera was surely alive. */
  GWeakRef *weak_self;

  GMutex lock;
  /* guarded by lock */
  PvFrame *pending_preview;
  gboolean preview_queued;
};

G_DEFINE_FINAL_TYPE (PvCamera, pv_camera, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PvCameraState, pv_camera_state,
                    G_DEFINE_ENUM_VALUE (PV_CAMERA_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (PV_CAMERA_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (PV_CAMERA_PLAYING, "playing"),
                    G_DEFINE_ENUM_VALUE (PV_CAMERA_LOST, "lost"))

enum
{
  PROP_0,
  PROP_SOURCE,
  PROP_DECODER,
  PROP_STATE,
  PROP_DECODE_FPS,
  N_PROPS
};

enum
{
  SIGNAL_PREVIEW_FRAME,
  SIGNAL_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean open_pipeline (PvCamera *self, GstDevice *device, GError **error);

static gboolean
ensure_gst (GError **error)
{
  return pv_image_init_gstreamer (error);
}

void
pv_camera_info_free (PvCameraInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->id);
  g_free (info->device_class);
  g_free (info);
}

/* See the top of the file for why these keys, in this order. */
static char *
device_get_id (GstDevice *device)
{
  static const char *const keys[] = { "api.v4l2.path", "device.path", "object.path" };
  g_autoptr (GstStructure) props = gst_device_get_properties (device);

  for (guint i = 0; props != NULL && i < G_N_ELEMENTS (keys); i++)
    {
      const char *value = gst_structure_get_string (props, keys[i]);

      if (value != NULL && value[0] != '\0')
        return g_strdup (value);
    }
  return gst_device_get_display_name (device);
}

static GstDeviceMonitor *
video_monitor_new (void)
{
  GstDeviceMonitor *monitor = gst_device_monitor_new ();

  gst_device_monitor_add_filter (monitor, "Video/Source", NULL);
  return monitor;
}

GPtrArray *
pv_camera_list_devices (void)
{
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_camera_info_free);
  g_autoptr (GstDeviceMonitor) monitor = NULL;
  GList *devices;

  if (!ensure_gst (NULL))
    return infos;

  /* Not started: get_devices() then probes each provider once. */
  monitor = video_monitor_new ();
  devices = gst_device_monitor_get_devices (monitor);
  for (GList *l = devices; l != NULL; l = l->next)
    {
      PvCameraInfo *info = g_new0 (PvCameraInfo, 1);

      info->name = gst_device_get_display_name (l->data);
      info->id = device_get_id (l->data);
      info->device_class = gst_device_get_device_class (l->data);
      g_ptr_array_add (infos, info);
    }
  g_list_free_full (devices, gst_object_unref);
  return infos;
}

static void
set_state (PvCamera *self, PvCameraState state)
{
  if (self->state == state)
    return;
  if (state == PV_CAMERA_PLAYING)
    self->playing_since = g_get_monotonic_time ();
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
attach_bus_watch (PvCamera *self, GstBus *bus, GstBusFunc func)
{
  GSource *source = gst_bus_create_watch (bus);

  g_source_set_callback (source, G_SOURCE_FUNC (func), self, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* ---- frames from the streaming threads ------------------------------- */

static void
video_frame_free (gpointer data)
{
  GstVideoFrame *vframe = data;

  gst_video_frame_unmap (vframe);
  g_free (vframe);
}

/* Wraps the sample's first plane without copying: the GBytes keeps the
 * buffer mapped and referenced until the last user of the frame lets go. */
PvFrame *
_pv_camera_frame_from_sample (GstSample *sample, PvFrameFormat format, gint64 captured_at)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  GstVideoFrame *vframe;
  GstVideoInfo info;
  const guint8 *data;
  gsize available, needed;
  int width, height, stride, bpp = format == PV_FRAME_RGBA ? 4 : 1;
  g_autoptr (GBytes) bytes = NULL;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps))
    return NULL;

  vframe = g_new0 (GstVideoFrame, 1);
  if (!gst_video_frame_map (vframe, &info, buffer, GST_MAP_READ))
    {
      g_free (vframe);
      return NULL;
    }

  width = GST_VIDEO_FRAME_WIDTH (vframe);
  height = GST_VIDEO_FRAME_HEIGHT (vframe);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (vframe, 0);
  data = GST_VIDEO_FRAME_PLANE_DATA (vframe, 0);
  available = vframe->map[0].size - (gsize) (data - vframe->map[0].data);
  /* A buffer may end right after the last pixel, without that row's
   * padding; PvFrame accepts that. */
  needed = (gsize) stride * (gsize) (height - 1) + (gsize) width * bpp;
  if (stride < width * bpp || available < needed)
    {
      g_debug ("Dropping a %d×%d frame with stride %d in %zu bytes", width, height, stride,
               available);
      video_frame_free (vframe);
      return NULL;
    }

  bytes = g_bytes_new_with_free_func (data, MIN (available, (gsize) stride * height),
                                      video_frame_free, vframe);
  return pv_frame_new (format, width, height, stride, bytes, captured_at);
}

static void
weak_self_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, (GDestroyNotify) g_weak_ref_clear);
}

/* Main context: emits the newest preview frame, if the camera still lives
 * and has not been stopped since. */
static gboolean
deliver_preview_cb (gpointer data)
{
  g_autoptr (PvCamera) self = g_weak_ref_get (data);
  g_autoptr (PvFrame) frame = NULL;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  g_mutex_lock (&self->lock);
  frame = g_steal_pointer (&self->pending_preview);
  self->preview_queued = FALSE;
  g_mutex_unlock (&self->lock);

  if (frame != NULL)
    g_signal_emit (self, signals[SIGNAL_PREVIEW_FRAME], 0, frame);
  return G_SOURCE_REMOVE;
}

/* Streaming thread. The raw @user_data is safe: the pipeline is set to NULL,
 * which waits for this callback, before the camera is finalized. */
static GstFlowReturn
preview_sample_cb (GstAppSink *sink, gpointer user_data)
{
  PvCamera *self = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr (PvFrame) old = NULL;
  PvFrame *frame;
  gboolean schedule;

  if (sample == NULL)
    return GST_FLOW_OK;
  frame = _pv_camera_frame_from_sample (sample, PV_FRAME_RGBA, g_get_monotonic_time ());
  if (frame == NULL)
    return GST_FLOW_OK;

  /* Replace, never queue: a slow main loop sees fewer frames, not old ones. */
  g_mutex_lock (&self->lock);
  old = g_steal_pointer (&self->pending_preview);
  self->pending_preview = frame;
  schedule = !self->preview_queued;
  self->preview_queued = TRUE;
  g_mutex_unlock (&self->lock);

  /* An idle source rather than g_main_context_invoke_full(): from a thread
   * with no thread-default context, invoke runs the callback right here
   * whenever it can acquire the global default context, that is whenever
   * the main thread happens not to be iterating it. */
  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver_preview_cb, g_atomic_rc_box_acquire (self->weak_self),
                             weak_self_release);
      g_source_set_static_name (source, "[pravesh] preview frame");
      g_source_attach (source, self->context);
      g_source_unref (source);
    }
  return GST_FLOW_OK;
}

/* Streaming thread. captured_at is the monotonic time the frame reached the
 * decode branch's end: file sources have no capture time, and the pipeline
 * clock need not be g_get_monotonic_time()'s. Live sinks do not sync, so for
 * a camera this is capture plus conversion, a few milliseconds. */
static GstFlowReturn
decode_sample_cb (GstAppSink *sink, gpointer user_data)
{
  PvCamera *self = user_data;
  gint64 captured_at = g_get_monotonic_time ();
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr (PvFrame) frame = NULL;

  if (sample == NULL)
    return GST_FLOW_OK;
  frame = _pv_camera_frame_from_sample (sample, PV_FRAME_GRAY8, captured_at);
  /* The decoder drops the frame itself while it is busy. */
  if (frame != NULL)
    pv_decoder_submit (self->decoder, frame);
  return GST_FLOW_OK;
}

/* Decode queue's streaming thread: lets through at most decode-fps frames a
 * second, before the GRAY8 conversion, so dropped frames cost nothing. A
 * quarter period of slack keeps a source at exactly that rate from losing
 * every other frame to jitter. */
static GstPadProbeReturn
decode_rate_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PvCamera *self = user_data;
  guint fps = g_atomic_int_get (&self->decode_fps);
  gint64 now, period;

  if (fps == 0)
    return GST_PAD_PROBE_OK;
  now = g_get_monotonic_time ();
  period = G_USEC_PER_SEC / fps;
  if (now < self->next_decode_at - period / 4)
    return GST_PAD_PROBE_DROP;
  self->next_decode_at = MAX (self->next_decode_at, now - period) + period;
  return GST_PAD_PROBE_OK;
}

/* ---- pipeline ---------------------------------------------------------- */

static void
set_element_null (const GValue *item, gpointer user_data)
{
  gst_element_set_state (g_value_get_object (item), GST_STATE_NULL);
}

/* A child that fails to go down stops a bin's state change half-way and
 * leaves the children after it running, which GStreamer then refuses to
 * dispose. Seen on a loaded machine after decodebin's typefind failed in
 * pull mode: the pipeline stopped at PAUSED with filesrc still PLAYING.
 * Then every element is set to NULL on its own. */
static void
set_pipeline_null (GstElement *pipeline)
{
  g_autoptr (GstIterator) iter = NULL;

  if (gst_element_set_state (pipeline, GST_STATE_NULL) != GST_STATE_CHANGE_FAILURE)
    return;
  g_debug ("The pipeline failed to stop; stopping its elements one by one");
  iter = gst_bin_iterate_recurse (GST_BIN (pipeline));
  while (gst_iterator_foreach (iter, set_element_null, NULL) == GST_ITERATOR_RESYNC)
    gst_iterator_resync (iter);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static void
teardown_pipeline (PvCamera *self)
{
  if (self->demo != NULL)
    pv_demo_source_stop (self->demo);
  if (self->pipeline != NULL)
    set_pipeline_null (self->pipeline);
  /* No streaming thread runs from here on. */
  destroy_source (&self->bus_source);
  gst_clear_object (&self->pipeline);
  g_clear_pointer (&self->demo, pv_demo_source_unref);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending_preview, pv_frame_unref);
  g_mutex_unlock (&self->lock);
}

static void
stop_monitor (PvCamera *self)
{
  if (self->monitor_started)
    gst_device_monitor_stop (self->monitor);
  self->monitor_started = FALSE;
  destroy_source (&self->monitor_source);
  gst_clear_object (&self->monitor);
}

/* Everything back to STOPPED, without notifying: shared by stop and dispose. */
static void
shutdown (PvCamera *self)
{
  destroy_source (&self->retry_source);
  teardown_pipeline (self);
  stop_monitor (self);
  g_clear_pointer (&self->device_id, g_free);
  g_clear_pointer (&self->device_name, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->on_fallback = FALSE;
  self->losses = 0;
}

static gboolean
is_camera (PvCamera *self)
{
  return self->kind == SOURCE_AUTO || self->kind == SOURCE_DEVICE;
}

static gboolean
retry_cb (gpointer user_data);

static void
schedule_retry (PvCamera *self)
{
  guint delay = MIN ((guint) RETRY_FIRST_S << MIN (self->losses, 4u), (guint) RETRY_MAX_S);

  destroy_source (&self->retry_source);
  self->retry_source = g_timeout_source_new_seconds (delay);
  g_source_set_callback (self->retry_source, retry_cb, self, NULL);
  g_source_attach (self->retry_source, self->context);
}

/* Something killed the pipeline: a camera waits to come back (LOST), a file
 * or the demo just stops. The state changes before "error" is emitted, so a
 * handler sees where the camera stands. */
static void
fail (PvCamera *self, const GError *error)
{
  g_autoptr (PvCamera) hold = g_object_ref (self);

  teardown_pipeline (self);
  if (is_camera (self))
    {
      if (self->state == PV_CAMERA_PLAYING
          && g_get_monotonic_time () - self->playing_since >= STABLE_US)
        self->losses = 0;
      set_state (self, PV_CAMERA_LOST);
      schedule_retry (self);
      self->losses++;
    }
  else
    {
      shutdown (self);
      set_state (self, PV_CAMERA_STOPPED);
    }
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

/* Loops a video file: a flushing segment seek to the start once playing,
 * then a non-flushing one at each SEGMENT_DONE, so the running time goes on
 * and no frame is lost at the seam. EOS (a demuxer that cannot do segment
 * seeks) falls back to a flushing seek. */
static void
loop_to_start (PvCamera *self, gboolean flush)
{
  GstSeekFlags flags = GST_SEEK_FLAG_SEGMENT | (flush ? GST_SEEK_FLAG_FLUSH : 0);

  if (!gst_element_seek (self->pipeline, 1.0, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET, 0,
                         GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE))
    {
      /* A file that cannot be sought (no index, no time stamps) would
       * otherwise freeze on its last frame with no word to anyone. */
      g_autoptr (GError) error = g_error_new (PV_ERROR, PV_ERROR_INVALID,
                                              _ ("“%s” cannot be played in a loop"), self->source);
      fail (self, error);
    }
}

static gboolean
bus_message_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  PvCamera *self = user_data;
  /* A handler of notify::state or "error" may drop the last reference. */
  g_autoptr (PvCamera) hold = g_object_ref (self);

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr (GError) error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("Pipeline error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (message),
                 error->message, debug ? debug : "no details");
        /* This watch is destroyed in there; returning afterwards is fine. */
        fail (self, error);
        break;
      }

    case GST_MESSAGE_EOS:
      if (self->kind == SOURCE_FILE)
        loop_to_start (self, TRUE);
      else
        {
          g_autoptr (GError) error = g_error_new (PV_ERROR, PV_ERROR_NOT_FOUND,
                                                  _ ("The camera stopped sending pictures"));
          fail (self, error);
        }
      break;

    case GST_MESSAGE_SEGMENT_DONE:
      loop_to_start (self, FALSE);
      break;

    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline))
        {
          GstState new_state;

          gst_message_parse_state_changed (message, NULL, &new_state, NULL);
          if (new_state != GST_STATE_PLAYING)
            break;
          set_state (self, PV_CAMERA_PLAYING);
          if (self->is_video_file && !self->loop_armed)
            {
              self->loop_armed = TRUE;
              loop_to_start (self, TRUE);
            }
        }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* ---- devices ----------------------------------------------------------- */

static gboolean
device_matches (PvCamera *self, GstDevice *device, gboolean by_name)
{
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;

  /* "auto" that lost its camera takes any camera that turns up. */
  if (self->kind == SOURCE_AUTO && self->state == PV_CAMERA_LOST)
    return TRUE;
  if (self->device_id == NULL)
    return FALSE;
  id = device_get_id (device);
  if (g_strcmp0 (id, self->device_id) == 0)
    return TRUE;
  if (!by_name || self->device_name == NULL)
    return FALSE;
  name = gst_device_get_display_name (device);
  return g_strcmp0 (name, self->device_name) == 0;
}

/* The device this camera should open now, if the monitor lists it. */
static GstDevice *
find_device (PvCamera *self, GstDeviceMonitor *monitor, gboolean by_name)
{
  GList *devices = gst_device_monitor_get_devices (monitor);
  GstDevice *found = NULL;

  for (GList *l = devices; l != NULL && found == NULL; l = l->next)
    if (device_matches (self, l->data, FALSE))
      found = gst_object_ref (l->data);
  for (GList *l = devices; by_name && l != NULL && found == NULL; l = l->next)
    if (device_matches (self, l->data, TRUE))
      found = gst_object_ref (l->data);
  g_list_free_full (devices, gst_object_unref);
  return found;
}

/* Opens @device again after a loss; a failure is reported once per loss
 * (@report) and retried later. */
static void
reopen (PvCamera *self, GstDevice *device, gboolean report)
{
  g_autoptr (GError) error = NULL;

  destroy_source (&self->retry_source);
  teardown_pipeline (self);
  if (open_pipeline (self, device, &error))
    return;

  g_debug ("Cannot reopen the camera: %s", error->message);
  set_state (self, PV_CAMERA_LOST);
  schedule_retry (self);
  self->losses++;
  if (report)
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

/* Main context: a lost camera that is still listed (a glitch, not an
 * unplug) is tried again; one that is gone waits for "device-added". */
static gboolean
retry_cb (gpointer user_data)
{
  PvCamera *self = user_data;
  g_autoptr (GstDevice) device = NULL;

  g_clear_pointer (&self->retry_source, g_source_unref);
  if (self->state != PV_CAMERA_LOST || self->monitor == NULL)
    return G_SOURCE_REMOVE;
  device = find_device (self, self->monitor, TRUE);
  /* "auto" with no camera left goes back to autovideosrc's stand-in. */
  if (device != NULL || self->kind == SOURCE_AUTO)
    reopen (self, device, FALSE);
  else if (!self->monitor_started)
    /* No "device-added" will ever come: keep looking, backing off. */
    schedule_retry (self);
  return G_SOURCE_REMOVE;
}

static gboolean
monitor_message_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  PvCamera *self = user_data;
  g_autoptr (PvCamera) hold = g_object_ref (self);
  g_autoptr (GstDevice) device = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_DEVICE_ADDED:
      gst_message_parse_device_added (message, &device);
      /* "auto" playing autovideosrc's stand-in also switches to a camera
       * plugged in later. */
      if ((self->state == PV_CAMERA_LOST && device_matches (self, device, TRUE))
          || (self->on_fallback && self->state != PV_CAMERA_STOPPED))
        {
          /* A camera plugged in is a fresh start, not another retry. */
          self->losses = 0;
          reopen (self, device, TRUE);
        }
      break;

    case GST_MESSAGE_DEVICE_REMOVED:
      gst_message_parse_device_removed (message, &device);
      if ((self->state == PV_CAMERA_PLAYING || self->state == PV_CAMERA_STARTING)
          && !self->on_fallback && device_matches (self, device, FALSE))
        {
          g_autoptr (GError) error = g_error_new (PV_ERROR, PV_ERROR_NOT_FOUND,
                                                  _ ("The camera “%s” was disconnected"),
                                                  self->device_name);
          fail (self, error);
        }
      break;

    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* ---- building ---------------------------------------------------------- */

static gboolean
file_is_image (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) stream = g_file_read (file, NULL, NULL);
  g_autoptr (GstCaps) caps = NULL;
  guint8 head[4096];
  gssize n;

  if (stream == NULL)
    return FALSE;
  n = g_input_stream_read (G_INPUT_STREAM (stream), head, sizeof head, NULL, NULL);
  if (n <= 0)
    return FALSE;
  caps = gst_type_find_helper_for_data (NULL, head, (gsize) n, NULL);
  return caps != NULL && !gst_caps_is_empty (caps)
         && g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "image/");
}

/* Every source is live or made live (files pass a clocksync), so the sinks
 * never wait for the clock: a frame goes on the moment it is converted. */
char *
_pv_camera_branches_description (gboolean preview, gboolean decode)
{
  /* Each branch keeps one frame and drops older ones, upstream of its own
   * conversion, so a slow consumer never stalls the other branch. */
  const char *queue = "queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0";
  const char *sink = "sync=false drop=true max-buffers=1 enable-last-sample=false qos=false";
  GString *desc = g_string_new ("videoconvert name=pv_convert ! tee name=pv_tee");

  if (preview)
    g_string_append_printf (desc,
                            " pv_tee. ! %s ! videoconvert ! video/x-raw,format=RGBA"
                            " ! appsink name=pv_preview %s",
                            queue, sink);
  if (decode)
    g_string_append_printf (desc,
                            " pv_tee. ! %s name=pv_decode_queue ! videoconvert"
                            " ! video/x-raw,format=GRAY8 ! appsink name=pv_decode %s",
                            queue, sink);
  return g_string_free (desc, FALSE);
}

/* @head: the source up to its last "!", or "" for a source element added
 * to the pipeline afterwards. */
static char *
pipeline_description (PvCamera *self, const char *head)
{
  g_autofree char *branches = _pv_camera_branches_description (TRUE, self->decoder != NULL);

  return g_strconcat (head, " ", branches, NULL);
}

static void
connect_sinks (PvCamera *self)
{
  GstAppSinkCallbacks preview = { .new_sample = preview_sample_cb };
  GstAppSinkCallbacks decode = { .new_sample = decode_sample_cb };
  GstBin *bin = GST_BIN (self->pipeline);
  g_autoptr (GstElement) preview_sink = gst_bin_get_by_name (bin, "pv_preview");
  g_autoptr (GstElement) decode_sink = gst_bin_get_by_name (bin, "pv_decode");
  g_autoptr (GstElement) decode_queue = NULL;

  gst_app_sink_set_callbacks (GST_APP_SINK (preview_sink), &preview, self, NULL);
  if (decode_sink == NULL)
    return;

  gst_app_sink_set_callbacks (GST_APP_SINK (decode_sink), &decode, self, NULL);
  decode_queue = gst_bin_get_by_name (bin, "pv_decode_queue");
  {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (decode_queue, "src");

    self->next_decode_at = 0;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, decode_rate_probe_cb, self, NULL);
  }
}

/* Adds @element to the pipeline in front of its converter. */
static gboolean
link_source (PvCamera *self, GstElement *element, GError **error)
{
  g_autoptr (GstElement) convert = gst_bin_get_by_name (GST_BIN (self->pipeline), "pv_convert");

  gst_bin_add (GST_BIN (self->pipeline), element);
  if (!gst_element_link (element, convert))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("The camera “%s” gives no picture this program can show"),
                   self->device_name ? self->device_name : self->source);
      return FALSE;
    }
  return TRUE;
}

/* The message of the first error on the bus of a pipeline that refused to
 * start, which says why far better than the state change's FAILURE. */
static void
set_start_error (PvCamera *self, GError **error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (self->pipeline);
  g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autoptr (GError) gst_error = NULL;

  if (message != NULL)
    gst_message_parse_error (message, &gst_error, NULL);
  g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("Cannot start the camera “%s”: %s"),
               self->device_name ? self->device_name : self->source,
               gst_error ? gst_error->message : _ ("it refused to play"));
}

/* Builds the pipeline for the source (for a camera, @device; NULL for "auto"
 * with none found) and sets it playing. STARTING on success; on failure the
 * pipeline is gone and the state untouched. */
static gboolean
open_pipeline (PvCamera *self, GstDevice *device, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autofree char *desc = NULL;
  const char *path = NULL;
  const char *head = "";
  GstElement *element = NULL;

  self->is_video_file = FALSE;
  self->loop_armed = FALSE;
  self->on_fallback = FALSE;

  switch (self->kind)
    {
    case SOURCE_FILE:
      path = self->source + strlen ("file:");
      /* clocksync plays a file at its own pace, as a camera delivers, and
       * makes the pipeline live: without it the leaky queues would let the
       * decoder race ahead of the clock and drop nearly every frame. */
      if (file_is_image (path))
        /* A still image becomes a steady feed, like a camera held still. */
        head = "filesrc name=pv_file ! decodebin ! imagefreeze"
               " ! video/x-raw,framerate=" G_STRINGIFY (IMAGE_FPS) "/1 ! clocksync !";
      else
        {
          head = "filesrc name=pv_file ! decodebin ! clocksync !";
          self->is_video_file = TRUE;
        }
      break;

    case SOURCE_DEMO:
      break;

    case SOURCE_AUTO:
    case SOURCE_DEVICE:
      if (device == NULL)
        {
          head = "autovideosrc !";
          self->on_fallback = TRUE;
        }
      else
        {
          g_free (self->device_id);
          self->device_id = device_get_id (device);
          g_free (self->device_name);
          self->device_name = gst_device_get_display_name (device);
        }
      break;

    default:
      g_assert_not_reached ();
    }

  desc = pipeline_description (self, head);
  self->pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (self->pipeline == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                   _ ("Cannot build the camera pipeline (is a GStreamer plugin missing?): %s"),
                   parse_error->message);
      return FALSE;
    }
  gst_object_ref_sink (self->pipeline);

  if (path != NULL)
    {
      g_autoptr (GstElement) filesrc = gst_bin_get_by_name (GST_BIN (self->pipeline), "pv_file");

      g_object_set (filesrc, "location", path, NULL);
    }
  else if (self->kind == SOURCE_DEMO)
    {
      self->demo = pv_demo_source_new ();
      pv_demo_source_set_codes (self->demo, (const char *const *) self->demo_codes);
      element = pv_demo_source_create_element (self->demo);
    }
  else if (device != NULL)
    element = gst_device_create_element (device, NULL);

  if ((self->kind == SOURCE_DEMO || device != NULL) && element == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("Cannot open the camera “%s”"),
                   self->device_name ? self->device_name : self->source);
      teardown_pipeline (self);
      return FALSE;
    }
  if (element != NULL && !link_source (self, element, error))
    {
      teardown_pipeline (self);
      return FALSE;
    }

  connect_sinks (self);
  {
    g_autoptr (GstBus) bus = gst_element_get_bus (self->pipeline);

    self->bus_source = attach_bus_watch (self, bus, bus_message_cb);
  }

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      set_start_error (self, error);
      teardown_pipeline (self);
      return FALSE;
    }
  set_state (self, PV_CAMERA_STARTING);
  return TRUE;
}

static gboolean
parse_source (PvCamera *self, GError **error)
{
  const char *source = self->source;

  if (g_strcmp0 (source, "auto") == 0)
    self->kind = SOURCE_AUTO;
  else if (source != NULL && g_str_has_prefix (source, "demo:"))
    self->kind = SOURCE_DEMO;
  else if (source != NULL && g_str_has_prefix (source, "file:"))
    {
      const char *path = source + strlen ("file:");

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                       _ ("The camera source file “%s” does not exist"), path);
          return FALSE;
        }
      self->kind = SOURCE_FILE;
    }
  else if (source != NULL && source[0] != '\0')
    /* Anything else names a camera; whether one is connected under that id
     * is for pv_camera_start() to find out. Ids may hold colons
     * ("v4l2:/dev/video0", "Integrated Camera: Integrated C"). */
    self->kind = SOURCE_DEVICE;
  else
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                           _ ("No camera source given: use auto, a camera, file:PATH or demo:"));
      return FALSE;
    }
  return TRUE;
}

/* ---- public ------------------------------------------------------------ */

gboolean
pv_camera_start (PvCamera *self, GError **error)
{
  g_autoptr (GstDevice) device = NULL;

  g_return_val_if_fail (PV_IS_CAMERA (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state == PV_CAMERA_STARTING || self->state == PV_CAMERA_PLAYING)
    return TRUE;

  shutdown (self);
  if (!ensure_gst (error) || !parse_source (self, error))
    {
      set_state (self, PV_CAMERA_STOPPED);
      return FALSE;
    }
  self->context = g_main_context_ref_thread_default ();

  if (is_camera (self))
    {
      self->monitor = video_monitor_new ();
      {
        g_autoptr (GstBus) bus = gst_device_monitor_get_bus (self->monitor);

        self->monitor_source = attach_bus_watch (self, bus, monitor_message_cb);
      }
      /* Without it a replugged camera is only found by the retries. */
      self->monitor_started = gst_device_monitor_start (self->monitor);
      if (!self->monitor_started)
        g_debug ("No device provider watches for cameras coming and going");

      if (self->kind == SOURCE_DEVICE)
        {
          self->device_id = g_strdup (self->source);
          device = find_device (self, self->monitor, FALSE);
          if (device == NULL)
            {
              g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                           _ ("No camera “%s” is connected (a source is auto, a "
                              "camera, file:PATH or demo:)"),
                           self->source);
              shutdown (self);
              set_state (self, PV_CAMERA_STOPPED);
              return FALSE;
            }
        }
      else
        {
          GList *devices = gst_device_monitor_get_devices (self->monitor);

          if (devices != NULL)
            device = gst_object_ref (devices->data);
          g_list_free_full (devices, gst_object_unref);
        }
    }

  if (!open_pipeline (self, device, error))
    {
      shutdown (self);
      set_state (self, PV_CAMERA_STOPPED);
      return FALSE;
    }
  return TRUE;
}

void
pv_camera_stop (PvCamera *self)
{
  g_return_if_fail (PV_IS_CAMERA (self));

  shutdown (self);
  set_state (self, PV_CAMERA_STOPPED);
}

void
pv_camera_set_demo_codes (PvCamera *self, const char *const *codes)
{
  g_return_if_fail (PV_IS_CAMERA (self));

  g_strfreev (self->demo_codes);
  self->demo_codes = g_strdupv ((char **) codes);
  if (self->demo != NULL)
    pv_demo_source_set_codes (self->demo, codes);
}

PvCameraState
pv_camera_get_state (PvCamera *self)
{
  g_return_val_if_fail (PV_IS_CAMERA (self), PV_CAMERA_STOPPED);
  return self->state;
}

const char *
pv_camera_get_source (PvCamera *self)
{
  g_return_val_if_fail (PV_IS_CAMERA (self), NULL);
  return self->source;
}

GstElement *
_pv_camera_get_pipeline (PvCamera *self)
{
  g_return_val_if_fail (PV_IS_CAMERA (self), NULL);
  return self->pipeline;
}

PvCamera *
pv_camera_new (const char *source, PvDecoder *decoder)
{
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (decoder == NULL || PV_IS_DECODER (decoder), NULL);

  return g_object_new (PV_TYPE_CAMERA, "source", source, "decoder", decoder, NULL);
}

/* ---- GObject ----------------------------------------------------------- */

static void
pv_camera_dispose (GObject *object)
{
  PvCamera *self = PV_CAMERA (object);

  shutdown (self);
  self->state = PV_CAMERA_STOPPED;
  g_clear_object (&self->decoder);

  G_OBJECT_CLASS (pv_camera_parent_class)->dispose (object);
}

static void
pv_camera_finalize (GObject *object)
{
  PvCamera *self = PV_CAMERA (object);

  weak_self_release (self->weak_self);
  g_free (self->source);
  g_strfreev (self->demo_codes);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (pv_camera_parent_class)->finalize (object);
}

static void
pv_camera_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PvCamera *self = PV_CAMERA (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case PROP_DECODER:
      g_value_set_object (value, self->decoder);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_DECODE_FPS:
      g_value_set_uint (value, g_atomic_int_get (&self->decode_fps));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_camera_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PvCamera *self = PV_CAMERA (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      self->source = g_value_dup_string (value);
      break;
    case PROP_DECODER:
      self->decoder = g_value_dup_object (value);
      break;
    case PROP_DECODE_FPS:
      if ((guint) g_atomic_int_get (&self->decode_fps) != g_value_get_uint (value))
        {
          g_atomic_int_set (&self->decode_fps, g_value_get_uint (value));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_camera_class_init (PvCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pv_camera_dispose;
  object_class->finalize = pv_camera_finalize;
  object_class->get_property = pv_camera_get_property;
  object_class->set_property = pv_camera_set_property;

  properties[PROP_SOURCE] =
    g_param_spec_string ("source", NULL, NULL, "auto",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DECODER] =
    g_param_spec_object ("decoder", NULL, NULL, PV_TYPE_DECODER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, PV_TYPE_CAMERA_STATE, PV_CAMERA_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* ZBar needs a few tens of milliseconds a 720p frame; a dozen tries a
   * second read a code as soon as it is steady, and leave a core free. */
  properties[PROP_DECODE_FPS] =
    g_param_spec_uint ("decode-fps", NULL, NULL, 0, 120, DEFAULT_DECODE_FPS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_PREVIEW_FRAME] =
    g_signal_new ("preview-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, PV_TYPE_FRAME | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
pv_camera_init (PvCamera *self)
{
  g_mutex_init (&self->lock);
  self->decode_fps = DEFAULT_DECODE_FPS;
  self->state = PV_CAMERA_STOPPED;
  self->weak_self = g_atomic_rc_box_new0 (GWeakRef);
  g_weak_ref_init (self->weak_self, self);
}
