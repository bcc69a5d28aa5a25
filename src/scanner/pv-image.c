/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-image.c: reads the first picture of an image file into a packed GRAY8
 * frame with a short GStreamer pipeline (filesrc ! decodebin ! videoconvert
 * ! GRAY8 ! appsink), so that pravesh-ctl scan and the tests see exactly the
 * pixels the camera path would, through decoders Debian already ships, and
 * need no image library of their own. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#include "pv-error.h"
#include "pv-image.h"

/* An image decodes in milliseconds; this only bounds a wedged decoder. */
#define LOAD_TIMEOUT (10 * GST_SECOND)

static char *init_failure;

/* gdkpixbufdec (gst-plugins-good) reads BMP, TIFF, PNM, TGA and ICO, for
 * which Debian 12's GStreamer has no other decoder, but it has rank NONE, so
 * decodebin never picks it. Raising it to MARGINAL lets decodebin use it
 * where nothing better exists, while pngdec, jpegdec and webpdec, which are
 * PRIMARY, keep their formats. It is a registry change for the whole
 * process, which the camera's file: source shares through
 * pv_image_init_gstreamer(). (GIF is not
 * among its formats in 1.22: that takes avdec_gif from gstreamer1.0-libav,
 * which decodebin finds by itself when it is installed.) */
static void
enable_pixbuf_decoder (void)
{
  g_autoptr (GstPluginFeature) feature = NULL;

  feature = gst_registry_lookup_feature (gst_registry_get (), "gdkpixbufdec");
  if (feature != NULL && gst_plugin_feature_get_rank (feature) < GST_RANK_MARGINAL)
    gst_plugin_feature_set_rank (feature, GST_RANK_MARGINAL);
}

/* gst_init_check() once per process; a program (or test) that already
 * initialised GStreamer itself is left as it is, since a second call only
 * returns TRUE. */
gboolean
pv_image_init_gstreamer (GError **error)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      g_autoptr (GError) local_error = NULL;

      if (gst_init_check (NULL, NULL, &local_error))
        enable_pixbuf_decoder ();
      else
        init_failure = g_strdup (local_error->message);
      g_once_init_leave (&initialised, 1);
    }

  if (init_failure != NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("GStreamer could not start: %s"),
                   init_failure);
      return FALSE;
    }
  return TRUE;
}

/* Copies the sample's first plane into packed rows. */
static PvFrame *
frame_from_sample (GstSample *sample, const char *path, GError **error)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstVideoInfo info;
  GstVideoFrame vframe;
  g_autoptr (GBytes) bytes = NULL;
  guint8 *pixels;
  int width, height, stride;

  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&info, caps)
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_GRAY8
      || !gst_video_frame_map (&vframe, &info, buffer, GST_MAP_READ))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                   _ ("“%s”: the decoder gave no usable picture"), path);
      return NULL;
    }

  width = GST_VIDEO_FRAME_WIDTH (&vframe);
  height = GST_VIDEO_FRAME_HEIGHT (&vframe);
  /* A 1 MB PNG can claim 30000×30000 pixels: gigabytes once copied and
   * scanned several times. No photo of a ticket needs a fraction of that. */
  if ((gint64) width * height > PV_IMAGE_MAX_PIXELS || width > PV_IMAGE_MAX_SIDE
      || height > PV_IMAGE_MAX_SIDE)
    {
      gst_video_frame_unmap (&vframe);
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("“%s”: the picture is %d×%d pixels, more than the %d megapixels a ticket "
                      "photo could need"),
                   path, width, height, PV_IMAGE_MAX_PIXELS / 1000000);
      return NULL;
    }
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vframe, 0);
  pixels = g_malloc ((gsize) width * (gsize) height);
  for (int y = 0; y < height; y++)
    memcpy (pixels + (gsize) y * width,
            (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vframe, 0) + (gsize) y * stride, width);
  gst_video_frame_unmap (&vframe);

  bytes = g_bytes_new_take (pixels, (gsize) width * (gsize) height);
  return pv_frame_new (PV_FRAME_GRAY8, width, height, width, bytes, g_get_monotonic_time ());
}

/* Turns a bus ERROR into a GError that names the file. */
static void
set_error_from_message (GstMessage *message, const char *path, GError **error)
{
  g_autoptr (GError) gst_error = NULL;
  g_autofree char *debug = NULL;

  gst_message_parse_error (message, &gst_error, &debug);
  g_debug ("Loading %s: %s (%s)", path, gst_error->message, debug ? debug : "");

  if (g_error_matches (gst_error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN)
      || g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND))
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                 _ ("“%s”: GStreamer has no decoder for this kind of image (for GIF, install "
                    "gstreamer1.0-libav)"),
                 path);
  else if (g_error_matches (gst_error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND))
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("“%s”: no such file"), path);
  else if (gst_error->domain == GST_RESOURCE_ERROR)
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("“%s”: cannot be read: %s"), path,
                 gst_error->message);
  else
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: not an image that can be read: %s"),
                 path, gst_error->message);
}

PvFrame *
pv_image_load_gray (const char *path, GError **error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) source = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;
  g_autoptr (GstSample) sample = NULL;
  g_autoptr (GError) parse_error = NULL;
  PvFrame *frame = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!pv_image_init_gstreamer (error))
    return NULL;

  /* Checked here because filesrc reports a directory or a missing file only
   * as a generic "could not open" once the pipeline runs. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("“%s”: no such file"), path);
      return NULL;
    }
  /* A FIFO or a device would block filesrc's open() before any timeout
   * applies: only plain files are images here. */
  if (!g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: not a regular file"), path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: is a folder, not an image"),
                   path);
      return NULL;
    }

  /* The location is set as a property, not spliced into the description,
   * so no file name needs quoting. */
  pipeline = gst_parse_launch ("filesrc name=source ! decodebin ! videoconvert "
                               "! video/x-raw,format=GRAY8 "
                               "! appsink name=sink sync=false max-buffers=1",
                               &parse_error);
  /* gst_parse_launch returns a floating ref; g_autoptr unrefs, so sink it. */
  if (pipeline != NULL)
    gst_object_ref_sink (pipeline);
  /* A recoverable error (an element missing) still returns a pipeline. */
  if (pipeline == NULL || parse_error != NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("Cannot build the image pipeline (GStreamer plugins missing?): %s"),
                   parse_error ? parse_error->message : "?");
      return NULL;
    }

  source = gst_bin_get_by_name (GST_BIN (pipeline), "source");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (source, "location", path, NULL);
  bus = gst_element_get_bus (pipeline);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  /* Wait for the preroll (or an error) on the bus first: an undecodable file
   * never gives appsink a sample or an EOS, so pulling straight away would
   * sit out the whole timeout. */
  message = gst_bus_timed_pop_filtered (bus, LOAD_TIMEOUT,
                                        GST_MESSAGE_ERROR | GST_MESSAGE_EOS
                                          | GST_MESSAGE_ASYNC_DONE);
  if (message == NULL)
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: decoding took too long"), path);
  else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    set_error_from_message (message, path, error);
  else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
    g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: holds no picture"), path);
  else
    {
      sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), LOAD_TIMEOUT);
      if (sample == NULL)
        g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, _ ("“%s”: holds no picture"), path);
      else
        frame = frame_from_sample (sample, path, error);
    }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  return frame;
}
