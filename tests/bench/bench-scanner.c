/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-scanner.c: the scanner benchmark of doc/benchmarks.md and issue 3, every
 * figure from one run beside its peer. It renders distinct 1280×720 camera
 * frames of real signed ticket codes with pv-test-images (a phone held up at
 * a slight angle, dim light, a little blur and sensor noise) and a share of
 * frames with no code in view, then times: (1) bare ZBar, zbar_scan_image on
 * those frames as GRAY8 with one QR-only scanner configured as PvDecoder's
 * plain pass (the peer); (2) the decode branch, from the moment a BGRx frame
 * is pushed into a live appsrc to the moment PvDecoder's "code" signal is
 * handled on the main context, one frame in flight and the hold-off at 0,
 * interleaved frame by frame with (1), through the pipeline PvCamera builds (appsrc ! videoconvert ! tee, a
 * leaky-queue RGBA preview branch and a GRAY8 decode branch, each ending in
 * an appsink with drop=true max-buffers=1). PvCamera takes no outside
 * appsrc, so this program puts one before the camera's own branches
 * (_pv_camera_branches_description()) around the real PvDecoder; goal: p50 at most 1.3 × the bare decode. Frames with no
 * code are timed apart (push to the decoder giving up, seen by polling its
 * counters: there is no signal for nothing). (3) Sustained rates with the
 * preview branch running: the real PvCamera on its "demo:" source, and the
 * same replica fed by an appsrc at --fps, once with no decode-fps limit and
 * once at the camera's default: preview frames delivered to the
 * main context a second, frames decoded a second, frames the decoder
 * dropped while busy, and the process's CPU use (user + system over wall
 * time, % of one core). Run the suite with `./build-aux/dev bench` (that is
 * `meson test -C _build --benchmark --suite bench -v`), or the program
 * itself, e.g. `meson setup /tmp/build-bs --buildtype=release && ninja -C
 * /tmp/build-bs && /tmp/build-bs/tests/bench/bench-scanner` (`--help` lists
 * the sizes). JSON lines, one figure each, go to stdout; the readable table
 * goes to stderr, unless --json silences it. Figures are only meaningful
 * from a release or debugoptimized build. */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

#include "pv-bench.h"
#include "pv-camera-private.h"
#include "pv-camera.h"
#include "pv-decoder.h"
#include "pv-demo-source.h"
#include "pv-frame.h"
#include "pv-test-images.h"

#ifndef PV_BENCH_BUILDTYPE
#define PV_BENCH_BUILDTYPE "unknown"
#endif

#define WIDTH 1280
#define HEIGHT 720
#define FRAME_CAPS "video/x-raw,format=BGRx,width=1280,height=720,framerate=30/1"
/* Ticket serials of the frames' codes; any range of the test event. */
#define FIRST_SERIAL 7000
/* Frames pushed, untimed, before each timed latency run. */
#define WARM_UP_FRAMES 6
/* A frame whose result takes longer than this is counted lost. */
#define WAIT_TIMEOUT_US (2 * G_USEC_PER_SEC)
/* How often a wait for an empty frame looks at the decoder's counters. */
#define POLL_US 100
/* Sustained runs start counting after this much warm-up. */
#define SETTLE_US (G_USEC_PER_SEC)

static gint opt_frames = 100;
static gint opt_no_code = 20;
static gint opt_rounds = 3;
static gint opt_seconds = 10;
static gint opt_fps = 30;
static gint opt_seed = 1;
static double opt_noise = 5;
static char *opt_save = NULL;
static gboolean opt_json = FALSE;

static const GOptionEntry options[] = {
  { "frames", 0, 0, G_OPTION_ARG_INT, &opt_frames, "Distinct 1280×720 frames rendered (default 100)", "N" },
  { "no-code", 0, 0, G_OPTION_ARG_INT, &opt_no_code, "Percentage of them with no code in view (default 20)", "PERCENT" },
  { "rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds, "Times each frame is timed, bare and through the pipeline (default 3)", "N" },
  { "seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "Length of each sustained run (default 10)", "S" },
  { "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "Frame rate of the appsrc in the sustained run (default 30)", "FPS" },
  { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &opt_noise, "Sensor noise of the frames with a code, at most SIGMA grey levels (from 0.4 × SIGMA; 0.6–1.8 × SIGMA without a code; default 5)", "SIGMA" },
  { "seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "Seed of the frames' positions, angles and noise (default 1)", "N" },
  { "save-frames", 0, 0, G_OPTION_ARG_FILENAME, &opt_save, "Also write the frames, as the decoder gets them, to DIR as PNG", "DIR" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Only the JSON lines on stdout, no table on stderr", NULL },
  G_OPTION_ENTRY_NULL,
};

/* As pv_bench_emit_latency(), with its row in the table. */
static void
emit_latency (const char *metric, const char *label, const PvBenchLatency *l)
{
  pv_bench_emit_latency (metric, l);
  pv_bench_human ("  %-36s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (n %u)\n", label,
                  l->p50 / 1000, l->p99 / 1000, l->max / 1000, l->n);
}

static void
print_machine (void)
{
  g_autofree char *cpu = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *glib = pv_bench_glib_version ();
  g_autofree char *gst = gst_version_string ();
  g_autofree char *zbar = NULL;
  unsigned major = 0, minor = 0, patch = 0;
  GString *line = pv_bench_machine_line (&cpu, &kernel);

  zbar_version (&major, &minor, &patch);
  zbar = g_strdup_printf ("%u.%u.%u", major, minor, patch);
  pv_bench_line_str (line, "glib", glib);
  pv_bench_line_str (line, "gstreamer", gst);
  pv_bench_line_str (line, "zbar", zbar);
  pv_bench_line_str (line, "buildtype", PV_BENCH_BUILDTYPE);
  pv_bench_line_end (line);
  pv_bench_human ("machine: %s, %u CPUs, Linux %s; GLib %s, %s, ZBar %s; %s build\n", cpu,
                  g_get_num_processors (), kernel, glib, gst, zbar, PV_BENCH_BUILDTYPE);
  pv_bench_warn_buildtype ();
}

/* ---- the frames ---- */

typedef struct
{
  char *code;       /* what the phone shows; NULL: no code in view */
  GstBuffer *bgrx;  /* the frame as a camera would push it */
  guint8 *gray;     /* what videoconvert makes of it for the decoder, packed */
  gboolean read;    /* bare ZBar read the code (in the first round) */
  double symbol_px; /* the symbol's side, quiet zone included */
} BenchFrame;

static void
bench_frame_free (BenchFrame *frame)
{
  g_free (frame->code);
  gst_clear_buffer (&frame->bgrx);
  g_free (frame->gray);
  g_free (frame);
}

/* Grey in all three channels, as the camera's BGRx. */
static GstBuffer *
buffer_from_image (const PvTestImage *image)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, (gsize) WIDTH * HEIGHT * 4, NULL);
  GstMapInfo map;

  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE))
    pv_bench_die ("frame buffer", NULL);
  for (gsize i = 0; i < (gsize) WIDTH * HEIGHT; i++)
    {
      guint8 g = (guint8) CLAMP (lrintf (image->px[i]), 0, 255);

      map.data[4 * i] = g;
      map.data[4 * i + 1] = g;
      map.data[4 * i + 2] = g;
      map.data[4 * i + 3] = 255;
    }
  gst_buffer_unmap (buffer, &map);
  return buffer;
}

/* A webcam at a gate: the phone (or, for an empty frame, only the room
 * behind it) turned in the picture, tilted away from the camera, at the
 * exposure of a dim tent, slightly out of focus, with sensor noise. */
static BenchFrame *
render_frame (guint index, gboolean with_code, const char *filler_code)
{
  BenchFrame *frame = g_new0 (BenchFrame, 1);
  g_autoptr (PvTestImage) scene = NULL;
  g_autoptr (PvTestImage) tilted = NULL;
  PvTestRng rng;
  double module_px, size, cx, cy, rotation, noise;

  pv_test_rng_init (&rng, (guint64) opt_seed * 1000003u + index);
  if (with_code)
    frame->code = pv_test_ticket_code (FIRST_SERIAL + index);
  module_px = pv_test_rng_range (&rng, 4.0, 6.5);
  size = pv_test_symbol_modules (with_code ? frame->code : filler_code) * module_px;
  rotation = pv_test_rng_range (&rng, -12, 12);
  cx = WIDTH / 2.0 + pv_test_rng_range (&rng, -260, 260);
  cy = HEIGHT / 2.0 + pv_test_rng_range (&rng, -50, 50);
  if (!with_code)
    /* The phone is still drawn, far outside the picture, so the room comes
     * from the same random draws as in a frame with a code. */
    cx = -20.0 * WIDTH;
  scene = pv_test_image_scene (with_code ? frame->code : filler_code, WIDTH, HEIGHT, module_px,
                               rotation, cx, cy, &rng);
  tilted = pv_test_image_tilt (scene, pv_test_rng_range (&rng, 5, 20),
                               pv_test_rng_range (&rng, 0, 180), scene->px[0]);
  pv_test_image_contrast (tilted, pv_test_rng_range (&rng, 25, 55),
                          pv_test_rng_range (&rng, 175, 225));
  pv_test_image_blur (tilted, pv_test_rng_range (&rng, 0.5, 0.9));
  /* A room with nothing held up is often darker, so the gain and the noise
   * are higher. */
  if (with_code)
    noise = opt_noise * pv_test_rng_range (&rng, 0.4, 1.0);
  else
    noise = opt_noise * pv_test_rng_range (&rng, 0.6, 1.8);
  pv_test_image_noise (tilted, noise, &rng);
  frame->bgrx = buffer_from_image (tilted);
  frame->symbol_px = with_code ? size : 0;
  return frame;
}

/* Runs every frame through appsrc ! videoconvert ! GRAY8 ! appsink once, so
 * bare ZBar reads exactly the bytes the decode branch hands the decoder. */
static void
convert_frames (GPtrArray *frames)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) src = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstCaps) caps = gst_caps_from_string (FRAME_CAPS);

  pipeline = gst_parse_launch ("appsrc name=src format=time ! videoconvert"
                               " ! video/x-raw,format=GRAY8 ! appsink name=sink sync=false",
                               &error);
  if (pipeline == NULL)
    pv_bench_die ("conversion pipeline", error);
  gst_object_ref_sink (pipeline);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "caps", caps, NULL);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    pv_bench_die ("conversion pipeline", NULL);

  for (guint i = 0; i < frames->len; i++)
    {
      BenchFrame *frame = frames->pdata[i];
      GstBuffer *buffer = gst_buffer_copy (frame->bgrx);
      g_autoptr (GstSample) sample = NULL;
      GstVideoFrame vframe;
      GstVideoInfo info;

      GST_BUFFER_PTS (buffer) = i * GST_SECOND / 30;
      GST_BUFFER_DURATION (buffer) = GST_SECOND / 30;
      if (gst_app_src_push_buffer (GST_APP_SRC (src), buffer) != GST_FLOW_OK)
        pv_bench_die ("conversion pipeline", NULL);
      sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
      if (sample == NULL || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
          || !gst_video_frame_map (&vframe, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
        pv_bench_die ("conversion pipeline", NULL);
      frame->gray = g_malloc ((gsize) WIDTH * HEIGHT);
      for (int y = 0; y < HEIGHT; y++)
        memcpy (frame->gray + (gsize) y * WIDTH,
                (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vframe, 0)
                  + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&vframe, 0),
                WIDTH);
      gst_video_frame_unmap (&vframe);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

/* For a person to look at, or to give to pravesh-ctl scan and zbarimg. */
static void
save_frames (GPtrArray *frames)
{
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (opt_save, 0755) != 0)
    pv_bench_die (opt_save, NULL);
  for (guint i = 0; i < frames->len; i++)
    {
      BenchFrame *frame = frames->pdata[i];
      g_autoptr (PvTestImage) image = pv_test_image_new (WIDTH, HEIGHT, 0);
      g_autofree char *name = g_strdup_printf ("frame-%03u-%s.png", i,
                                               frame->code ? "code" : "empty");
      g_autofree char *path = g_build_filename (opt_save, name, NULL);

      for (gsize p = 0; p < (gsize) WIDTH * HEIGHT; p++)
        image->px[p] = frame->gray[p];
      if (!pv_test_image_write_png (image, path, &error))
        pv_bench_die ("saving frames", error);
    }
}

static GPtrArray *
make_frames (void)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) bench_frame_free);
  g_autofree char *filler = pv_test_ticket_code (FIRST_SERIAL - 1);
  guint n_empty = (guint) (opt_frames * opt_no_code + 50) / 100;
  g_autofree gboolean *empty = g_new0 (gboolean, opt_frames);
  gint64 start = g_get_monotonic_time ();
  double min_px = G_MAXDOUBLE, max_px = 0;
  PvTestRng rng;

  /* The empty frames at seeded random places, not every fifth: a decoder
   * taking every second or third frame of a sustained run would otherwise
   * see none or only those. */
  pv_test_rng_init (&rng, (guint64) opt_seed);
  for (guint placed = 0; placed < n_empty;)
    {
      guint i = (guint) (pv_test_rng_uniform (&rng) * opt_frames);

      if (!empty[i])
        {
          empty[i] = TRUE;
          placed++;
        }
    }

  for (guint i = 0; i < (guint) opt_frames; i++)
    {
      BenchFrame *frame = render_frame (i, !empty[i], filler);

      if (!empty[i])
        {
          min_px = MIN (min_px, frame->symbol_px);
          max_px = MAX (max_px, frame->symbol_px);
        }
      g_ptr_array_add (frames, frame);
    }
  convert_frames (frames);
  if (opt_save != NULL)
    save_frames (frames);

  pv_bench_human ("frames: %d distinct %d×%d BGRx (%u with a ticket code of %d modules, %.0f–%.0f px "
                  "across, turned ±12°, tilted 5–20°, dim, blur σ 0.5–0.9 px, noise σ %.1f–%.1f; %u with "
                  "no code in view, noise σ %.1f–%.1f), rendered in %.1f s\n",
                  opt_frames, WIDTH, HEIGHT, opt_frames - n_empty, pv_test_symbol_modules (filler), min_px,
                  max_px, 0.4 * opt_noise, opt_noise, n_empty, 0.6 * opt_noise, 1.8 * opt_noise, (g_get_monotonic_time () - start) / 1e6);
  {
    GString *line = pv_bench_line_new ("frames");

    pv_bench_line_int (line, "frames", opt_frames);
    pv_bench_line_int (line, "with_code", opt_frames - n_empty);
    pv_bench_line_int (line, "no_code", n_empty);
    pv_bench_line_int (line, "width", WIDTH);
    pv_bench_line_int (line, "height", HEIGHT);
    pv_bench_line_int (line, "symbol_modules", pv_test_symbol_modules (filler));
    pv_bench_line_num (line, "symbol_px_min", min_px);
    pv_bench_line_num (line, "symbol_px_max", max_px);
    pv_bench_line_num (line, "noise_sigma_max", opt_noise);
    pv_bench_line_int (line, "rounds", opt_rounds);
    pv_bench_line_end (line);
  }
  return frames;
}

/* ---- 1. bare ZBar ---- */

/* As scanner_new() in pv-decoder.c: QR only, every row and column. */
static zbar_image_scanner_t *
bare_scanner_new (void)
{
  zbar_image_scanner_t *scanner = zbar_image_scanner_create ();

  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config (scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, 1);
  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, 1);
  return scanner;
}

/* One zbar_scan_image of @frame, in µs; *@found: it read the frame's code,
 * *@other: it read something else. */
static gint64
bare_scan (zbar_image_scanner_t *scanner, const BenchFrame *frame, gboolean *found,
           gboolean *other)
{
  zbar_image_t *image = zbar_image_create ();
  gint64 start, us;
  int n;

  *found = *other = FALSE;
  zbar_image_set_format (image, zbar_fourcc ('Y', '8', '0', '0'));
  zbar_image_set_size (image, WIDTH, HEIGHT);
  zbar_image_set_data (image, frame->gray, (unsigned long) WIDTH * HEIGHT, NULL);
  start = g_get_monotonic_time ();
  n = zbar_scan_image (scanner, image);
  us = g_get_monotonic_time () - start;

  for (const zbar_symbol_t *symbol = n > 0 ? zbar_image_first_symbol (image) : NULL;
       symbol != NULL; symbol = zbar_symbol_next (symbol))
    {
      if (frame->code != NULL && zbar_symbol_get_data_length (symbol) == strlen (frame->code)
          && memcmp (zbar_symbol_get_data (symbol), frame->code, strlen (frame->code)) == 0)
        *found = TRUE;
      else
        *other = TRUE;
    }
  zbar_image_destroy (image);
  return us;
}

/* ---- the decode branch, as PvCamera builds it ---- */

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  PvDecoder *decoder;
  guint decode_fps; /* 0: every frame goes to the decoder */
  gint64 next_decode_at;

  GMutex lock;
  /* guarded by lock */
  PvFrame *pending_preview;
  gboolean preview_queued;
  /* atomic */
  guint preview_samples;
  /* main context */
  guint preview_delivered;
} Rig;

/* Main context: the newest preview frame, where the UI would wrap it in a
 * texture. */
static gboolean
deliver_preview_cb (gpointer data)
{
  Rig *rig = data;
  g_autoptr (PvFrame) frame = NULL;

  g_mutex_lock (&rig->lock);
  frame = g_steal_pointer (&rig->pending_preview);
  rig->preview_queued = FALSE;
  g_mutex_unlock (&rig->lock);
  if (frame != NULL)
    rig->preview_delivered++;
  return G_SOURCE_REMOVE;
}

/* Preview streaming thread: replace, never queue, as PvCamera does. */
static GstFlowReturn
preview_sample_cb (GstAppSink *sink, gpointer user_data)
{
  Rig *rig = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr (PvFrame) old = NULL;
  PvFrame *frame;
  gboolean schedule;

  if (sample == NULL)
    return GST_FLOW_OK;
  frame = _pv_camera_frame_from_sample (sample, PV_FRAME_RGBA, g_get_monotonic_time ());
  if (frame == NULL)
    return GST_FLOW_OK;
  g_atomic_int_inc (&rig->preview_samples);

  g_mutex_lock (&rig->lock);
  old = g_steal_pointer (&rig->pending_preview);
  rig->pending_preview = frame;
  schedule = !rig->preview_queued;
  rig->preview_queued = TRUE;
  g_mutex_unlock (&rig->lock);

  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver_preview_cb, rig, NULL);
      g_source_attach (source, NULL);
      g_source_unref (source);
    }
  return GST_FLOW_OK;
}

/* Decode streaming thread: straight to the decoder, as PvCamera does. */
static GstFlowReturn
decode_sample_cb (GstAppSink *sink, gpointer user_data)
{
  Rig *rig = user_data;
  gint64 captured_at = g_get_monotonic_time ();
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  g_autoptr (PvFrame) frame = NULL;

  if (sample == NULL)
    return GST_FLOW_OK;
  frame = _pv_camera_frame_from_sample (sample, PV_FRAME_GRAY8, captured_at);
  if (frame != NULL)
    pv_decoder_submit (rig->decoder, frame);
  return GST_FLOW_OK;
}

/* As decode_rate_probe_cb() in pv-camera.c. */
static GstPadProbeReturn
decode_rate_probe_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Rig *rig = user_data;
  gint64 now, period;

  if (rig->decode_fps == 0)
    return GST_PAD_PROBE_OK;
  now = g_get_monotonic_time ();
  period = G_USEC_PER_SEC / rig->decode_fps;
  if (now < rig->next_decode_at - period / 4)
    return GST_PAD_PROBE_DROP;
  rig->next_decode_at = MAX (rig->next_decode_at, now - period) + period;
  return GST_PAD_PROBE_OK;
}

/* PvCamera's own pipeline, _pv_camera_branches_description(), with a live
 * appsrc at its head; @preview FALSE leaves out the preview branch. */
static Rig *
rig_new (PvDecoder *decoder, gboolean preview, guint decode_fps)
{
  Rig *rig = g_new0 (Rig, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *branches = _pv_camera_branches_description (preview, TRUE);
  g_autofree char *desc = g_strconcat ("appsrc name=bench_src is-live=true format=time"
                                       " do-timestamp=true ! ",
                                       branches, NULL);
  g_autoptr (GstCaps) caps = gst_caps_from_string (FRAME_CAPS);
  g_autoptr (GstElement) decode_sink = NULL;
  g_autoptr (GstElement) decode_queue = NULL;
  g_autoptr (GstPad) pad = NULL;
  GstAppSinkCallbacks preview_callbacks = { .new_sample = preview_sample_cb };
  GstAppSinkCallbacks decode_callbacks = { .new_sample = decode_sample_cb };

  g_mutex_init (&rig->lock);
  rig->decoder = g_object_ref (decoder);
  rig->decode_fps = decode_fps;

  rig->pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (rig->pipeline == NULL)
    pv_bench_die ("pipeline", error);
  gst_object_ref_sink (rig->pipeline);
  rig->src = gst_bin_get_by_name (GST_BIN (rig->pipeline), "bench_src");
  g_object_set (rig->src, "caps", caps, NULL);

  if (preview)
    {
      g_autoptr (GstElement) preview_sink = gst_bin_get_by_name (GST_BIN (rig->pipeline),
                                                                 "pv_preview");

      gst_app_sink_set_callbacks (GST_APP_SINK (preview_sink), &preview_callbacks, rig, NULL);
    }
  decode_sink = gst_bin_get_by_name (GST_BIN (rig->pipeline), "pv_decode");
  gst_app_sink_set_callbacks (GST_APP_SINK (decode_sink), &decode_callbacks, rig, NULL);
  decode_queue = gst_bin_get_by_name (GST_BIN (rig->pipeline), "pv_decode_queue");
  pad = gst_element_get_static_pad (decode_queue, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, decode_rate_probe_cb, rig, NULL);

  if (gst_element_set_state (rig->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE
      || gst_element_get_state (rig->pipeline, NULL, NULL, 5 * GST_SECOND)
           == GST_STATE_CHANGE_FAILURE)
    pv_bench_die ("pipeline", NULL);
  return rig;
}

/* Drains what the pipeline and the decoder left on the main context. */
static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
rig_free (Rig *rig)
{
  gst_element_set_state (rig->pipeline, GST_STATE_NULL);
  /* No streaming thread runs from here on; pending deliveries point at us. */
  drain_main_context ();
  g_mutex_lock (&rig->lock);
  g_clear_pointer (&rig->pending_preview, pv_frame_unref);
  g_mutex_unlock (&rig->lock);
  gst_clear_object (&rig->src);
  gst_clear_object (&rig->pipeline);
  g_clear_object (&rig->decoder);
  g_mutex_clear (&rig->lock);
  g_free (rig);
}

/* Dies with the pipeline's error, if it posted one. */
static void
rig_check_bus (Rig *rig)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (rig->pipeline);
  g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autoptr (GError) error = NULL;

  if (message == NULL)
    return;
  gst_message_parse_error (message, &error, NULL);
  pv_bench_die ("pipeline", error);
}

static gint64
rig_push (Rig *rig, GstBuffer *buffer)
{
  gint64 now = g_get_monotonic_time ();

  /* Another reference: the memory is shared, only the metadata copied when
   * appsrc stamps it. */
  if (gst_app_src_push_buffer (GST_APP_SRC (rig->src), gst_buffer_ref (buffer)) != GST_FLOW_OK)
    pv_bench_die ("pushing a frame", NULL);
  return now;
}

/* ---- 2. latency, push to result ---- */

typedef struct
{
  const char *expected;
  guint reports;
  gboolean wrong;
  gint64 handled_at;
  gint64 captured_at;
  gint64 decode_us;
} Awaited;

static void
code_cb (PvDecoder *decoder, const char *text, gint64 captured_at, gint64 decode_us,
         gpointer user_data)
{
  Awaited *awaited = user_data;
  gint64 now = g_get_monotonic_time ();

  if (awaited->reports++ > 0)
    return;
  awaited->handled_at = now;
  awaited->captured_at = captured_at;
  awaited->decode_us = decode_us;
  awaited->wrong = g_strcmp0 (text, awaited->expected) != 0;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef enum
{
  OUTCOME_CODE,    /* the expected code was handled on the main context */
  OUTCOME_NOTHING, /* the decoder finished with nothing to report */
  OUTCOME_WRONG,   /* a code other than the frame's */
  OUTCOME_DROPPED, /* the decoder refused the frame: still busy */
  OUTCOME_LOST,    /* nothing within WAIT_TIMEOUT_US */
} Outcome;

/* Waits on the main context for the frame pushed when the decoder's
 * counters stood at @decoded0 and @dropped0. A frame expected to read blocks
 * in the main loop, woken by the decoder's report as an application is; an
 * empty one has nothing to wake it, so the counters are polled every
 * POLL_US. *@done_at: when the result was handled or the end seen. */
static Outcome
await_frame (Rig *rig, Awaited *awaited, gboolean expect_code, guint64 decoded0,
             guint64 dropped0, gint64 *done_at)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_US;
  guint64 decoded, dropped;
  GSource *tick = NULL;
  Outcome outcome = OUTCOME_LOST;

  if (expect_code)
    {
      /* Only so that a miss or a lost frame is noticed; the report itself
       * wakes the loop. */
      tick = g_timeout_source_new (5);
      g_source_set_callback (tick, tick_cb, NULL, NULL);
      g_source_attach (tick, NULL);
    }

  for (;;)
    {
      if (awaited->reports > 0)
        {
          *done_at = awaited->handled_at;
          outcome = awaited->wrong ? OUTCOME_WRONG : OUTCOME_CODE;
          break;
        }
      pv_decoder_get_counts (rig->decoder, NULL, &dropped, &decoded);
      if (dropped != dropped0)
        {
          outcome = OUTCOME_DROPPED;
          *done_at = g_get_monotonic_time ();
          break;
        }
      if (decoded != decoded0)
        {
          /* Reports are queued before the count goes up. */
          *done_at = g_get_monotonic_time ();
          drain_main_context ();
          if (awaited->reports > 0)
            continue;
          outcome = OUTCOME_NOTHING;
          break;
        }
      if (g_get_monotonic_time () > deadline)
        {
          *done_at = g_get_monotonic_time ();
          break;
        }
      if (expect_code)
        g_main_context_iteration (NULL, TRUE);
      else
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (POLL_US);
        }
    }

  if (tick != NULL)
    {
      g_source_destroy (tick);
      g_source_unref (tick);
    }
  /* The decoder counts a frame done just after queueing its reports: wait
   * for that too, so the next frame finds it idle. */
  while (outcome == OUTCOME_CODE || outcome == OUTCOME_WRONG)
    {
      pv_decoder_get_counts (rig->decoder, NULL, NULL, &decoded);
      if (decoded != decoded0 || g_get_monotonic_time () > deadline)
        break;
      g_usleep (20);
    }
  drain_main_context ();
  return outcome;
}

typedef struct
{
  GArray *code;    /* push → "code" handled, frames with a code */
  GArray *transit; /* push → decode appsink (both conversions, queues) */
  GArray *decode;  /* the decoder's own time, all passes */
  GArray *handoff; /* the rest: wrapping, submit → worker, worker → main */
  GArray *empty;   /* push → decoder done, frames with no code */
  GArray *missed;  /* push → decoder done, code frames it did not read */
  guint wrong, dropped, lost, false_reads;
} LatencyRun;

static void
latency_run_init (LatencyRun *run)
{
  memset (run, 0, sizeof *run);
  run->code = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->transit = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->decode = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->handoff = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->empty = g_array_new (FALSE, FALSE, sizeof (gint64));
  run->missed = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
latency_run_clear (LatencyRun *run)
{
  g_array_unref (run->code);
  g_array_unref (run->transit);
  g_array_unref (run->decode);
  g_array_unref (run->handoff);
  g_array_unref (run->empty);
  g_array_unref (run->missed);
}

static void
push_and_await (Rig *rig, BenchFrame *frame, LatencyRun *run)
{
  Awaited awaited = { .expected = frame->code };
  guint64 decoded0, dropped0;
  gulong handler;
  gint64 pushed_at, done_at = 0, us;
  Outcome outcome;

  handler = g_signal_connect (rig->decoder, "code", G_CALLBACK (code_cb), &awaited);
  pv_decoder_get_counts (rig->decoder, NULL, &dropped0, &decoded0);
  pushed_at = rig_push (rig, frame->bgrx);
  outcome = await_frame (rig, &awaited, frame->code != NULL && frame->read, decoded0, dropped0,
                         &done_at);
  g_signal_handler_disconnect (rig->decoder, handler);
  if (run == NULL)
    return;

  us = done_at - pushed_at;
  switch (outcome)
    {
    case OUTCOME_CODE:
      if (frame->code == NULL)
        {
          run->false_reads++;
          break;
        }
      g_array_append_val (run->code, us);
      us = awaited.captured_at - pushed_at;
      g_array_append_val (run->transit, us);
      g_array_append_val (run->decode, awaited.decode_us);
      us = awaited.handled_at - awaited.captured_at - awaited.decode_us;
      g_array_append_val (run->handoff, us);
      break;
    case OUTCOME_NOTHING:
      g_array_append_val (frame->code ? run->missed : run->empty, us);
      break;
    case OUTCOME_WRONG:
      if (frame->code == NULL)
        run->false_reads++;
      else
        run->wrong++;
      break;
    case OUTCOME_DROPPED:
      run->dropped++;
      break;
    case OUTCOME_LOST:
      rig_check_bus (rig);
      run->lost++;
      break;
    default:
      g_assert_not_reached ();
    }
}

/* One pipeline under test, with its own decoder. */
typedef struct
{
  const char *prefix; /* of its JSON metrics */
  const char *title;
  PvDecoder *decoder;
  Rig *rig;
  LatencyRun run;
} Lane;

static void
lane_init (Lane *lane, const char *prefix, const char *title, gboolean preview)
{
  lane->prefix = prefix;
  lane->title = title;
  lane->decoder = pv_decoder_new ();
  /* Every frame reports, even the same code again. */
  pv_decoder_set_hold_off_ms (lane->decoder, 0);
  pv_decoder_start (lane->decoder);
  lane->rig = rig_new (lane->decoder, preview, 0);
  latency_run_init (&lane->run);
}

static void
lane_clear (Lane *lane)
{
  rig_free (lane->rig);
  pv_decoder_stop (lane->decoder);
  drain_main_context ();
  g_clear_object (&lane->decoder);
  latency_run_clear (&lane->run);
}

static void
emit_lane_latency (const Lane *lane, const char *name, const char *label, GArray *samples)
{
  g_autofree char *metric = g_strdup_printf ("%s.%s", lane->prefix, name);
  PvBenchLatency l = pv_bench_latency_of (samples);

  emit_latency (metric, label, &l);
}

static void
report_lane (Lane *lane, double bare_p50, guint n_code, guint n_read)
{
  LatencyRun *run = &lane->run;
  g_autofree char *metric = g_strdup_printf ("%s.vs_bare", lane->prefix);
  double ratio;

  pv_bench_human ("   %s:\n", lane->title);
  emit_lane_latency (lane, "code.latency", "code in view: push → \"code\" handled", run->code);
  ratio = pv_bench_latency_of (run->code).p50 / bare_p50;
  pv_bench_emit_ratio (metric, ratio, 1.3, TRUE);
  pv_bench_human ("  %-36s %.2f × bare p50 (goal ≤ 1.30) %s\n", "", ratio, ratio <= 1.3 ? "PASS" : "MISS");
  emit_lane_latency (lane, "code.transit", "  push → decode appsink", run->transit);
  emit_lane_latency (lane, "code.decode", "  inside pv_decoder_decode", run->decode);
  emit_lane_latency (lane, "code.handoff", "  hand-offs: appsink → worker → main", run->handoff);
  emit_lane_latency (lane, "no_code.latency", "no code: push → decoder done", run->empty);
  if (run->missed->len > 0)
    emit_lane_latency (lane, "missed.latency", "code not read: push → decoder done", run->missed);

  g_free (metric);
  metric = g_strdup_printf ("%s.outcomes", lane->prefix);
  {
    GString *line = pv_bench_line_new (metric);

    pv_bench_line_int (line, "read", run->code->len);
    pv_bench_line_int (line, "of", (gint64) n_code * opt_rounds);
    pv_bench_line_int (line, "bare_read", n_read);
    pv_bench_line_int (line, "missed", run->missed->len);
    pv_bench_line_int (line, "wrong", run->wrong);
    pv_bench_line_int (line, "false_reads", run->false_reads);
    pv_bench_line_int (line, "dropped", run->dropped);
    pv_bench_line_int (line, "lost", run->lost);
    pv_bench_line_end (line);
    pv_bench_human ("  %-36s %u of %u code frames read (bare: %u), %u missed, %u wrong, %u false, "
                    "%u dropped, %u lost\n",
                    "outcomes", run->code->len, n_code * opt_rounds, n_read, run->missed->len,
                    run->wrong, run->false_reads, run->dropped, run->lost);
  }
}

/* Bare ZBar and the two pipelines, interleaved frame by frame (in turn
 * first, second and last), so that whatever the machine does meanwhile —
 * another guest, the clock speed — falls on all three alike. */
static void
bench_latency (GPtrArray *frames)
{
  zbar_image_scanner_t *scanner = bare_scanner_new ();
  g_autoptr (GArray) bare_code = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) bare_empty = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n_code = 0, n_read = 0, bare_read = 0, bare_other = 0;
  Lane lanes[2];
  double bare_p50;

  lane_init (&lanes[0], "pipeline", "with the preview branch, as PvCamera runs", TRUE);
  lane_init (&lanes[1], "pipeline_no_preview", "decode branch alone (no preview branch)", FALSE);

  /* Warm-up, untimed: every frame once bare (which also finds the frames
   * it reads), a few through each pipeline. */
  for (guint i = 0; i < frames->len; i++)
    {
      BenchFrame *frame = frames->pdata[i];
      gboolean other;

      bare_scan (scanner, frame, &frame->read, &other);
      n_code += frame->code != NULL;
      n_read += frame->read;
    }
  for (guint i = 0; i < WARM_UP_FRAMES; i++)
    for (guint k = 0; k < G_N_ELEMENTS (lanes); k++)
      push_and_await (lanes[k].rig, frames->pdata[i % frames->len], NULL);

  for (int round = 0; round < opt_rounds; round++)
    for (guint i = 0; i < frames->len; i++)
      {
        BenchFrame *frame = frames->pdata[i];

        for (guint step = 0; step < 3; step++)
          {
            guint which = (i + (guint) round + step) % 3;
            gboolean found, other;
            gint64 us;

            if (which < G_N_ELEMENTS (lanes))
              {
                push_and_await (lanes[which].rig, frame, &lanes[which].run);
                continue;
              }
            us = bare_scan (scanner, frame, &found, &other);
            g_array_append_val (frame->code ? bare_code : bare_empty, us);
            bare_read += found;
            bare_other += other;
          }
      }
  zbar_image_scanner_destroy (scanner);

  pv_bench_human ("\n1. Bare ZBar (the peer): zbar_scan_image, one QR-only scanner, Y800 %d×%d\n", WIDTH,
                  HEIGHT);
  {
    PvBenchLatency l = pv_bench_latency_of (bare_code);

    bare_p50 = l.p50;
    emit_latency ("bare.code.latency", "code in view", &l);
    l = pv_bench_latency_of (bare_empty);
    emit_latency ("bare.no_code.latency", "no code in view", &l);
  }
  {
    GString *line = pv_bench_line_new ("bare.read");

    pv_bench_line_int (line, "value", bare_read);
    pv_bench_line_int (line, "of", (gint64) n_code * opt_rounds);
    pv_bench_line_int (line, "other_symbols", bare_other);
    pv_bench_line_end (line);
  }
  pv_bench_human ("  %-36s %u of %u code frames%s\n", "read", bare_read, n_code * opt_rounds,
                  bare_other ? ", and other symbols!" : "");

  pv_bench_human ("\n2. Decode branch: appsrc push (BGRx) → videoconvert → tee → queue → videoconvert → "
                  "GRAY8 appsink → PvDecoder → \"code\" on the main context\n"
                  "   (PvCamera's pipeline description around the real PvDecoder, since PvCamera takes "
                  "no outside appsrc;\n"
                  "   hold-off 0, no decode-fps limit, one frame in flight; interleaved with 1.)\n");
  for (guint k = 0; k < G_N_ELEMENTS (lanes); k++)
    {
      report_lane (&lanes[k], bare_p50, n_code, bare_read);
      lane_clear (&lanes[k]);
    }
}

/* ---- 3. sustained rates ---- */

typedef struct
{
  gint64 wall_us;
  double cpu_s;
  guint64 submitted, dropped, decoded;
  guint preview;
  guint preview_samples;
  guint codes;
} Snapshot;

typedef struct
{
  guint preview_frames;
  guint codes;
} Counters;

static void
preview_frame_cb (PvCamera *camera, PvFrame *frame, gpointer user_data)
{
  ((Counters *) user_data)->preview_frames++;
}

static void
count_code_cb (PvDecoder *decoder, const char *text, gint64 captured_at, gint64 decode_us,
               gpointer user_data)
{
  ((Counters *) user_data)->codes++;
}

static void
snapshot (Snapshot *s, PvDecoder *decoder, const Counters *counters, Rig *rig)
{
  s->wall_us = g_get_monotonic_time ();
  s->cpu_s = pv_bench_cpu_seconds ();
  pv_decoder_get_counts (decoder, &s->submitted, &s->dropped, &s->decoded);
  s->preview = rig ? rig->preview_delivered : counters->preview_frames;
  s->preview_samples = rig ? (guint) g_atomic_int_get (&rig->preview_samples) : 0;
  s->codes = counters->codes;
}

static void
run_main_loop_for (gint64 us)
{
  gint64 end = g_get_monotonic_time () + us;
  GSource *tick = g_timeout_source_new (50);

  /* The loop sleeps in poll() between events; the tick only ends it. */
  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, NULL);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
}

static void
report_sustained (const char *prefix, const char *label, const Snapshot *a, const Snapshot *b,
                  double source_fps, gboolean have_samples)
{
  double s = (b->wall_us - a->wall_us) / 1e6;
  double cpu = 100.0 * (b->cpu_s - a->cpu_s) / s;
  GString *line = pv_bench_line_new (prefix);

  pv_bench_line_num (line, "seconds", s);
  pv_bench_line_num (line, "source_fps", source_fps);
  pv_bench_line_num (line, "preview_fps", (b->preview - a->preview) / s);
  if (have_samples)
    pv_bench_line_num (line, "preview_sink_fps", (b->preview_samples - a->preview_samples) / s);
  pv_bench_line_num (line, "submitted_fps", (b->submitted - a->submitted) / s);
  pv_bench_line_num (line, "decoded_fps", (b->decoded - a->decoded) / s);
  pv_bench_line_int (line, "decoder_dropped", (gint64) (b->dropped - a->dropped));
  pv_bench_line_num (line, "read_fps", (b->codes - a->codes) / s);
  pv_bench_line_num (line, "cpu_percent", cpu);
  pv_bench_line_end (line);

  pv_bench_human ("  %s, %.1f s:\n", label, s);
  pv_bench_human ("    %-34s %6.1f /s (source %.0f /s", "preview frames delivered", (b->preview - a->preview) / s,
                  source_fps);
  if (have_samples)
    pv_bench_human (", %.1f /s at the appsink", (b->preview_samples - a->preview_samples) / s);
  pv_bench_human (")\n");
  pv_bench_human ("    %-34s %6.1f /s (%.1f /s reached the decoder)\n", "frames decoded",
                  (b->decoded - a->decoded) / s, (b->submitted - a->submitted) / s);
  pv_bench_human ("    %-34s %6.1f /s\n", "frames read (codes reported)", (b->codes - a->codes) / s);
  pv_bench_human ("    %-34s %6" G_GUINT64_FORMAT " (%.1f /s)\n", "dropped by the decoder (busy)",
                  b->dropped - a->dropped, (b->dropped - a->dropped) / s);
  pv_bench_human ("    %-34s %6.0f %% of one core\n", "CPU (user + system)", cpu);
}

/* The real PvCamera on its built-in "demo:" source, with its defaults;
 * returns its decode-fps. */
static guint
bench_sustained_demo (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autoptr (PvCamera) camera = pv_camera_new ("demo:", decoder);
  g_autofree char *c1 = pv_test_ticket_code (FIRST_SERIAL + 900);
  g_autofree char *c2 = pv_test_ticket_code (FIRST_SERIAL + 901);
  g_autofree char *c3 = pv_test_ticket_code (FIRST_SERIAL + 902);
  const char *codes[] = { c1, c2, c3, NULL };
  Counters counters = { 0 };
  Snapshot a, b;
  guint decode_fps = 0;
  gint64 deadline;

  /* Every frame read reports, so the codes count the frames read. */
  pv_decoder_set_hold_off_ms (decoder, 0);
  g_signal_connect (camera, "preview-frame", G_CALLBACK (preview_frame_cb), &counters);
  g_signal_connect (decoder, "code", G_CALLBACK (count_code_cb), &counters);
  g_object_get (camera, "decode-fps", &decode_fps, NULL);
  pv_camera_set_demo_codes (camera, codes);
  pv_decoder_start (decoder);
  if (!pv_camera_start (camera, &error))
    pv_bench_die ("demo camera", error);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (pv_camera_get_state (camera) != PV_CAMERA_PLAYING)
    {
      if (g_get_monotonic_time () > deadline)
        pv_bench_die ("demo camera", NULL);
      g_main_context_iteration (NULL, TRUE);
    }
  run_main_loop_for (SETTLE_US);
  snapshot (&a, decoder, &counters, NULL);
  run_main_loop_for ((gint64) opt_seconds * G_USEC_PER_SEC);
  snapshot (&b, decoder, &counters, NULL);
  pv_camera_stop (camera);
  pv_decoder_stop (decoder);
  drain_main_context ();

  {
    g_autofree char *label = g_strdup_printf ("PvCamera \"demo:\" (rendered in-process, %d fps), "
                                              "decode-fps %u, hold-off %u ms",
                                              PV_DEMO_FPS, decode_fps,
                                              pv_decoder_get_hold_off_ms (decoder));

    report_sustained ("sustained.demo", label, &a, &b, PV_DEMO_FPS, FALSE);
  }
  return decode_fps;
}

typedef struct
{
  Rig *rig;
  GPtrArray *frames;
  gint64 period_us;
  int stop;       /* atomic */
  guint64 pushed; /* read after the join */
} Pusher;

/* A camera's streaming thread: a frame every period, on time. */
static gpointer
pusher_main (gpointer data)
{
  Pusher *pusher = data;
  gint64 next = g_get_monotonic_time ();
  guint i = 0;

  while (!g_atomic_int_get (&pusher->stop))
    {
      gint64 now = g_get_monotonic_time ();
      BenchFrame *frame;

      if (now < next)
        {
          g_usleep ((gulong) (next - now));
          continue;
        }
      next = MAX (next + pusher->period_us, now);
      frame = pusher->frames->pdata[i++ % pusher->frames->len];
      rig_push (pusher->rig, frame->bgrx);
      pusher->pushed++;
    }
  return NULL;
}

/* The same branches fed by an appsrc at --fps with the rendered frames. */
static void
bench_sustained_appsrc (GPtrArray *frames, guint decode_fps)
{
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  Counters counters = { 0 };
  Pusher pusher = { 0 };
  GThread *thread;
  Snapshot a, b;

  pv_decoder_set_hold_off_ms (decoder, 0);
  g_signal_connect (decoder, "code", G_CALLBACK (count_code_cb), &counters);
  pv_decoder_start (decoder);
  pusher.rig = rig_new (decoder, TRUE, decode_fps);
  pusher.frames = frames;
  pusher.period_us = G_USEC_PER_SEC / opt_fps;
  thread = g_thread_new ("bench-pusher", pusher_main, &pusher);

  run_main_loop_for (SETTLE_US);
  snapshot (&a, decoder, &counters, pusher.rig);
  run_main_loop_for ((gint64) opt_seconds * G_USEC_PER_SEC);
  snapshot (&b, decoder, &counters, pusher.rig);

  g_atomic_int_set (&pusher.stop, 1);
  g_thread_join (thread);
  rig_free (pusher.rig);
  pv_decoder_stop (decoder);
  drain_main_context ();

  {
    g_autofree char *label = g_strdup_printf ("appsrc at %d fps into the same branches, decode-fps %u%s, "
                                              "hold-off %u ms",
                                              opt_fps, decode_fps,
                                              decode_fps == 0 ? " (no limit)" : "",
                                              pv_decoder_get_hold_off_ms (decoder));
    g_autofree char *metric = g_strdup_printf ("sustained.appsrc.decode_fps_%u", decode_fps);

    report_sustained (metric, label, &a, &b, opt_fps, TRUE);
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("— Pravesh scanner benchmark");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) frames = NULL;
  gint64 t0 = g_get_monotonic_time ();
  guint camera_decode_fps;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, options, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_summary (context,
                                "Times the scanner's decode branch from appsrc push to the "
                                "\"code\" signal on 1280×720 ticket frames, beside bare "
                                "zbar_scan_image on the same frames, and the rates sustained "
                                "with the preview branch running.\n"
                                "JSON lines on stdout, a readable table on stderr.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-scanner: %s\n", error->message);
      return 2;
    }
  pv_bench_init ("scanner", opt_json);
  if (opt_frames < 2 || opt_no_code < 0 || opt_no_code > 90 || opt_rounds < 1
      || opt_seconds < 1 || opt_fps < 1 || opt_fps > 120 || !(opt_noise >= 0 && opt_noise <= 50))
    {
      g_printerr ("bench-scanner: --frames at least 2, --no-code 0–90, --rounds and --seconds "
                  "positive, --fps 1–120, --noise 0–50\n");
      return 2;
    }
  if (!gst_init_check (NULL, NULL, &error))
    pv_bench_die ("GStreamer", error);

  print_machine ();
  frames = make_frames ();
  bench_latency (frames);

  pv_bench_human ("\n3. Sustained, preview branch running\n");
  camera_decode_fps = bench_sustained_demo ();
  bench_sustained_appsrc (frames, 0);
  bench_sustained_appsrc (frames, camera_decode_fps);

  g_clear_pointer (&frames, g_ptr_array_unref);
  g_free (opt_save);
  pv_bench_emit_value ("total_seconds", (g_get_monotonic_time () - t0) / 1e6, "s");
  pv_bench_human ("\ndone in %.0f s\n", (g_get_monotonic_time () - t0) / 1e6);
  gst_deinit ();
  return 0;
}
