/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-demo-source.c: the "demo:" camera. Cairo draws the still parts once —
 * a dim tent-canvas background and a phone with the current ticket's QR on
 * its screen — and each frame is composed from them by hand: the phone is
 * resampled through a projective transform (drift, a ±8° roll and a slight
 * lean, which Cairo's affine matrices cannot express), then sensor noise is
 * added on a 2×2 grid from a seeded PRNG so runs are reproducible. The
 * appsrc's need-data callback paces itself to PV_DEMO_FPS on the streaming
 * thread, never on the UI's main loop. */
#include "config.h"

#include "pv-demo-source.h"

#include <cairo.h>
#include <gst/app/gstappsrc.h>
#include <math.h>
#include <string.h>

#include "pv-qr.h"

#define FRAME_US (G_USEC_PER_SEC / PV_DEMO_FPS)
#define STRIDE (PV_DEMO_WIDTH * 4)

/* The phone as drawn, in pixels at scale 1, and the transparent margin that
 * keeps bilinear sampling at its edges from reading outside the surface. */
#define PHONE_W 340
#define PHONE_H 600
#define PHONE_PAD 2
#define PHONE_SURFACE_W (PHONE_W + 2 * PHONE_PAD)
#define PHONE_SURFACE_H (PHONE_H + 2 * PHONE_PAD)

/* Sensor noise: ± this much on each 2×2 block, a cheap webcam in a tent. */
#define NOISE_AMPLITUDE 14

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define VIDEO_FORMAT "BGRx"
#else
#define VIDEO_FORMAT "xRGB"
#endif

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cairo_t, cairo_destroy)

struct _PvDemoSource
{
  gatomicrefcount ref_count;

  GMutex lock;
  GCond cond;
  /* guarded by lock */
  gboolean stopping;
  char **codes;
  guint codes_serial;
  gint64 next_deadline;

  /* render state, used by one thread at a time (the streaming thread) */
  cairo_surface_t *background;
  cairo_surface_t *phone;
  int phone_index; /* which code the phone shows; -1: none drawn yet */
  gboolean nobody; /* the code is "": nobody in front of the camera */
  guint seen_serial;
  guint64 code_start_frame;
  guint64 frame_no;
  GstBufferPool *pool;
};

PvDemoSource *
pv_demo_source_new (void)
{
  PvDemoSource *self = g_new0 (PvDemoSource, 1);

  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->phone_index = -1;
  return self;
}

PvDemoSource *
pv_demo_source_ref (PvDemoSource *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pv_demo_source_unref (PvDemoSource *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  if (self->pool)
    {
      gst_buffer_pool_set_active (self->pool, FALSE);
      gst_object_unref (self->pool);
    }
  g_clear_pointer (&self->background, cairo_surface_destroy);
  g_clear_pointer (&self->phone, cairo_surface_destroy);
  g_strfreev (self->codes);
  g_cond_clear (&self->cond);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
pv_demo_source_set_codes (PvDemoSource *self, const char *const *codes)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  g_strfreev (self->codes);
  self->codes = g_strdupv ((char **) codes);
  self->codes_serial++;
  g_mutex_unlock (&self->lock);
}

void
pv_demo_source_stop (PvDemoSource *self)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
rounded_rectangle (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* A dim tent: warm grey-brown canvas, darker towards the floor, with the
 * broad vertical folds of the fabric and a vignette from a cheap lens. */
static cairo_surface_t *
draw_background (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, PV_DEMO_WIDTH,
                                                         PV_DEMO_HEIGHT);
  g_autoptr (cairo_t) cr = cairo_create (surface);
  cairo_pattern_t *pattern;

  pattern = cairo_pattern_create_linear (0, 0, 0, PV_DEMO_HEIGHT);
  cairo_pattern_add_color_stop_rgb (pattern, 0, 0.36, 0.32, 0.27);
  cairo_pattern_add_color_stop_rgb (pattern, 0.6, 0.27, 0.23, 0.19);
  cairo_pattern_add_color_stop_rgb (pattern, 1, 0.16, 0.13, 0.11);
  cairo_set_source (cr, pattern);
  cairo_paint (cr);
  cairo_pattern_destroy (pattern);

  for (int i = 0; i < 9; i++)
    {
      double x = i * PV_DEMO_WIDTH / 8.0 - 40;

      pattern = cairo_pattern_create_linear (x, 0, x + 160, 0);
      cairo_pattern_add_color_stop_rgba (pattern, 0, 0, 0, 0, 0);
      cairo_pattern_add_color_stop_rgba (pattern, 0.5, 0, 0, 0, 0.12 + 0.04 * (i % 3));
      cairo_pattern_add_color_stop_rgba (pattern, 1, 0, 0, 0, 0);
      cairo_set_source (cr, pattern);
      cairo_rectangle (cr, x, 0, 160, PV_DEMO_HEIGHT);
      cairo_fill (cr);
      cairo_pattern_destroy (pattern);
    }

  pattern = cairo_pattern_create_radial (PV_DEMO_WIDTH / 2.0, PV_DEMO_HEIGHT / 2.0,
                                         PV_DEMO_HEIGHT * 0.4, PV_DEMO_WIDTH / 2.0,
                                         PV_DEMO_HEIGHT / 2.0, PV_DEMO_WIDTH * 0.75);
  cairo_pattern_add_color_stop_rgba (pattern, 0, 0, 0, 0, 0);
  cairo_pattern_add_color_stop_rgba (pattern, 1, 0, 0, 0, 0.55);
  cairo_set_source (cr, pattern);
  cairo_paint (cr);
  cairo_pattern_destroy (pattern);

  cairo_surface_flush (surface);
  return surface;
}

/* The phone, flat and upright: black body, a screen at full brightness (as
 * people turn it up at a gate) with the event's header band, the QR and a
 * few lines of "text" drawn as bars, so no font is needed. @code may be NULL:
 * the phone shows a ticket page with no code yet. */
static cairo_surface_t *
draw_phone (const char *code)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, PHONE_SURFACE_W,
                                                         PHONE_SURFACE_H);
  g_autoptr (cairo_t) cr = cairo_create (surface);
  const double bezel = 12;
  const double screen_w = PHONE_W - 2 * bezel;
  const double qr_size = screen_w - 24;
  const double qr_y = bezel + 78;
  cairo_pattern_t *pattern;

  cairo_translate (cr, PHONE_PAD, PHONE_PAD);

  rounded_rectangle (cr, 0, 0, PHONE_W, PHONE_H, 42);
  cairo_set_source_rgb (cr, 0.07, 0.07, 0.08);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.18);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);

  rounded_rectangle (cr, bezel, bezel, screen_w, PHONE_H - 2 * bezel, 30);
  cairo_set_source_rgb (cr, 0.96, 0.96, 0.94);
  cairo_fill_preserve (cr);
  cairo_save (cr);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 0.93, 0.55, 0.16);
  cairo_rectangle (cr, bezel, bezel, screen_w, 62);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  rounded_rectangle (cr, bezel + 20, bezel + 34, 150, 12, 6);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.55, 0.55, 0.55);
  for (int i = 0; i < 4; i++)
    {
      rounded_rectangle (cr, bezel + 24, qr_y + qr_size + 22 + i * 24,
                         (i % 2 ? 190 : 250) - i * 12, 10, 5);
      cairo_fill (cr);
    }
  cairo_restore (cr);

  /* The camera hole, above the screen's header. */
  cairo_set_source_rgb (cr, 0.02, 0.02, 0.03);
  cairo_arc (cr, PHONE_W / 2.0, bezel + 14, 6, 0, 2 * G_PI);
  cairo_fill (cr);

  if (code != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!pv_qr_draw (cr, code, bezel + 12, qr_y, qr_size, &error))
        g_debug ("Demo source cannot draw “%s”: %s", code, error->message);
    }

  /* A faint sheen across the glass, as a ceiling lamp leaves on it. */
  pattern = cairo_pattern_create_linear (0, 0, PHONE_W, PHONE_H);
  cairo_pattern_add_color_stop_rgba (pattern, 0.25, 1, 1, 1, 0);
  cairo_pattern_add_color_stop_rgba (pattern, 0.4, 1, 1, 1, 0.07);
  cairo_pattern_add_color_stop_rgba (pattern, 0.55, 1, 1, 1, 0);
  cairo_set_source (cr, pattern);
  rounded_rectangle (cr, bezel, bezel, screen_w, PHONE_H - 2 * bezel, 30);
  cairo_fill (cr);
  cairo_pattern_destroy (pattern);

  cairo_surface_flush (surface);
  return surface;
}

/* Keeps the phone surface in step with the code frame @frame_no shows. */
static void
update_phone (PvDemoSource *self, guint64 frame_no)
{
  g_auto (GStrv) codes = NULL;
  guint serial;
  int n, index;

  g_mutex_lock (&self->lock);
  serial = self->codes_serial;
  codes = g_strdupv (self->codes);
  g_mutex_unlock (&self->lock);

  if (serial != self->seen_serial)
    {
      /* New codes start from the first, now, as the app expects. */
      self->seen_serial = serial;
      self->code_start_frame = frame_no;
      self->phone_index = -1;
      g_clear_pointer (&self->phone, cairo_surface_destroy);
    }

  n = codes ? (int) g_strv_length (codes) : 0;
  if (n == 0)
    index = -1;
  else
    index = (int) (((frame_no - MIN (frame_no, self->code_start_frame))
                    / (PV_DEMO_FPS * PV_DEMO_CODE_SECONDS))
                   % (guint64) n);

  if (self->phone == NULL || index != self->phone_index)
    {
      g_clear_pointer (&self->phone, cairo_surface_destroy);
      self->phone = draw_phone (index >= 0 ? codes[index] : NULL);
      self->phone_index = index;
      self->nobody = index >= 0 && *codes[index] == '\0';
    }
}

/* Two channels at a time (0x00ff00ff lanes): a + (b − a) × w / 256. */
static inline guint32
lerp_pixel (guint32 a, guint32 b, guint32 w)
{
  guint32 rb = ((((a & 0xff00ff) * (256 - w)) + ((b & 0xff00ff) * w)) >> 8) & 0xff00ff;
  guint32 ag = ((((a >> 8) & 0xff00ff) * (256 - w)) + (((b >> 8) & 0xff00ff) * w)) & 0xff00ff00;

  return rb | ag;
}

/* Premultiplied @src over opaque @dst. */
static inline guint32
over_pixel (guint32 src, guint32 dst)
{
  guint32 a = src >> 24;
  guint32 ia = 256 - a;
  guint32 rb, g;

  if (a == 0)
    return dst;
  if (a == 255)
    return src;
  rb = (((dst & 0xff00ff) * ia) >> 8) & 0xff00ff;
  g = (((dst & 0x00ff00) * ia) >> 8) & 0x00ff00;
  return src + (rb | g);
}

typedef struct
{
  double m[3][3];
} Homography;

/* Where the phone is at time @t: maps phone-surface pixel centres (u, v) to
 * frame coordinates. Periods are mutually prime-ish seconds so the motion
 * does not visibly repeat. */
static void
phone_pose (double t, Homography *h)
{
  double cx = PV_DEMO_WIDTH / 2.0 + 170 * sin (2 * G_PI * t / 12.0);
  double cy = PV_DEMO_HEIGHT / 2.0 + 28 * sin (2 * G_PI * t / 8.0 + 1.3);
  double angle = 8.0 * G_PI / 180.0 * sin (2 * G_PI * t / 9.0 + 0.4);
  double scale = 1.0 + 0.04 * sin (2 * G_PI * t / 15.0);
  /* The lean: up to ~5 % foreshortening across the phone, left-right and a
   * little top-bottom, as a hand tilts it. */
  double p = 0.00028 * sin (2 * G_PI * t / 10.0);
  double q = 0.00012 * sin (2 * G_PI * t / 14.0 + 0.7);
  double a = scale * cos (angle), b = -scale * sin (angle);
  double c = scale * sin (angle), d = scale * cos (angle);
  double ox = PHONE_SURFACE_W / 2.0, oy = PHONE_SURFACE_H / 2.0;
  /* [X·w, Y·w, w] = M · [u − ox, v − oy, 1]; fold the centring into M. */
  double m[3][3] = {
    { a + cx * p, b + cx * q, cx },
    { c + cy * p, d + cy * q, cy },
    { p, q, 1 },
  };

  for (int i = 0; i < 3; i++)
    {
      h->m[i][0] = m[i][0];
      h->m[i][1] = m[i][1];
      h->m[i][2] = m[i][2] - m[i][0] * ox - m[i][1] * oy;
    }
}

static void
homography_invert (const Homography *h, Homography *inv)
{
  const double (*m)[3] = h->m;

  /* The adjugate: a homography is defined up to scale, so no determinant. */
  inv->m[0][0] = m[1][1] * m[2][2] - m[1][2] * m[2][1];
  inv->m[0][1] = m[0][2] * m[2][1] - m[0][1] * m[2][2];
  inv->m[0][2] = m[0][1] * m[1][2] - m[0][2] * m[1][1];
  inv->m[1][0] = m[1][2] * m[2][0] - m[1][0] * m[2][2];
  inv->m[1][1] = m[0][0] * m[2][2] - m[0][2] * m[2][0];
  inv->m[1][2] = m[0][2] * m[1][0] - m[0][0] * m[1][2];
  inv->m[2][0] = m[1][0] * m[2][1] - m[1][1] * m[2][0];
  inv->m[2][1] = m[0][1] * m[2][0] - m[0][0] * m[2][1];
  inv->m[2][2] = m[0][0] * m[1][1] - m[0][1] * m[1][0];
}

static void
homography_apply (const Homography *h, double u, double v, double *x, double *y)
{
  double w = h->m[2][0] * u + h->m[2][1] * v + h->m[2][2];

  *x = (h->m[0][0] * u + h->m[0][1] * v + h->m[0][2]) / w;
  *y = (h->m[1][0] * u + h->m[1][1] * v + h->m[1][2]) / w;
}

/* Resamples the phone into the frame: inverse mapping over the bounding box
 * of its four corners, bilinear, premultiplied "over" the background. */
static void
composite_phone (cairo_surface_t *phone, const Homography *pose, guint8 *pixels, int stride)
{
  const guint8 *src = cairo_image_surface_get_data (phone);
  int src_stride = cairo_image_surface_get_stride (phone);
  Homography inv;
  double min_x = G_MAXDOUBLE, min_y = G_MAXDOUBLE, max_x = -G_MAXDOUBLE, max_y = -G_MAXDOUBLE;
  const double corners[4][2] = {
    { 0, 0 }, { PHONE_SURFACE_W, 0 }, { 0, PHONE_SURFACE_H }, { PHONE_SURFACE_W, PHONE_SURFACE_H }
  };
  int x0, x1, y0, y1;

  for (int i = 0; i < 4; i++)
    {
      double x, y;

      homography_apply (pose, corners[i][0], corners[i][1], &x, &y);
      min_x = MIN (min_x, x);
      max_x = MAX (max_x, x);
      min_y = MIN (min_y, y);
      max_y = MAX (max_y, y);
    }
  x0 = CLAMP ((int) floor (min_x), 0, PV_DEMO_WIDTH);
  x1 = CLAMP ((int) ceil (max_x), 0, PV_DEMO_WIDTH);
  y0 = CLAMP ((int) floor (min_y), 0, PV_DEMO_HEIGHT);
  y1 = CLAMP ((int) ceil (max_y), 0, PV_DEMO_HEIGHT);

  homography_invert (pose, &inv);

  for (int y = y0; y < y1; y++)
    {
      guint32 *row = (guint32 *) (void *) (pixels + (gsize) y * stride);
      double fy = y + 0.5;
      /* Homogeneous source coordinates are linear along the row. */
      double hu = inv.m[0][0] * (x0 + 0.5) + inv.m[0][1] * fy + inv.m[0][2];
      double hv = inv.m[1][0] * (x0 + 0.5) + inv.m[1][1] * fy + inv.m[1][2];
      double hw = inv.m[2][0] * (x0 + 0.5) + inv.m[2][1] * fy + inv.m[2][2];

      for (int x = x0; x < x1; x++, hu += inv.m[0][0], hv += inv.m[1][0], hw += inv.m[2][0])
        {
          double rw = 1.0 / hw;
          /* Texel centres sit at +0.5. */
          double u = hu * rw - 0.5, v = hv * rw - 0.5;
          int iu, iv;
          guint32 wu, wv, top, bottom;
          const guint32 *r0, *r1;

          if (u < 0 || v < 0 || u >= PHONE_SURFACE_W - 1 || v >= PHONE_SURFACE_H - 1)
            continue;
          iu = (int) u;
          iv = (int) v;
          wu = (guint32) ((u - iu) * 256);
          wv = (guint32) ((v - iv) * 256);
          r0 = (const guint32 *) (const void *) (src + (gsize) iv * src_stride) + iu;
          r1 = (const guint32 *) (const void *) (src + (gsize) (iv + 1) * src_stride) + iu;
          top = lerp_pixel (r0[0], r0[1], wu);
          bottom = lerp_pixel (r1[0], r1[1], wu);
          row[x] = over_pixel (lerp_pixel (top, bottom, wv), row[x]);
        }
    }
}

static inline guint32
xorshift32 (guint32 *state)
{
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Luma noise, one value per 2×2 block (a debayered sensor's grain is about
 * that coarse), the same for the same frame number. */
static void
add_noise (guint64 frame_no, guint8 *pixels, int stride)
{
  guint32 state = (guint32) (frame_no * 2654435761u) ^ 0x9e3779b9u;
  guint8 clamp[256 + 2 * NOISE_AMPLITUDE];

  if (state == 0)
    state = 1;
  for (int i = 0; i < (int) sizeof clamp; i++)
    clamp[i] = (guint8) CLAMP (i - NOISE_AMPLITUDE, 0, 255);

  for (int y = 0; y < PV_DEMO_HEIGHT; y += 2)
    {
      guint8 *r0 = pixels + (gsize) y * stride;
      guint8 *r1 = r0 + stride;

      for (int x = 0; x < PV_DEMO_WIDTH; x += 2)
        {
          /* Index offset into clamp[], 0 … 2 × NOISE_AMPLITUDE. */
          guint n = (xorshift32 (&state) >> 8) % (2 * NOISE_AMPLITUDE + 1);
          guint8 *p[4] = { r0 + x * 4, r0 + x * 4 + 4, r1 + x * 4, r1 + x * 4 + 4 };

          for (int k = 0; k < 4; k++)
            {
              p[k][0] = clamp[p[k][0] + n];
              p[k][1] = clamp[p[k][1] + n];
              p[k][2] = clamp[p[k][2] + n];
            }
        }
    }
}

void
pv_demo_source_render (PvDemoSource *self, guint64 frame_no, guint8 *pixels, int stride)
{
  const guint8 *background;
  Homography pose;

  g_return_if_fail (self != NULL);
  g_return_if_fail (pixels != NULL && stride >= STRIDE);

  if (self->background == NULL)
    self->background = draw_background ();
  update_phone (self, frame_no);

  background = cairo_image_surface_get_data (self->background);
  if (stride == cairo_image_surface_get_stride (self->background))
    memcpy (pixels, background, (gsize) stride * PV_DEMO_HEIGHT);
  else
    for (int y = 0; y < PV_DEMO_HEIGHT; y++)
      memcpy (pixels + (gsize) y * stride,
              background + (gsize) y * cairo_image_surface_get_stride (self->background), STRIDE);

  phone_pose ((double) frame_no / PV_DEMO_FPS, &pose);
  if (!self->nobody)
    composite_phone (self->phone, &pose, pixels, stride);
  add_noise (frame_no, pixels, stride);
}

static GstCaps *
demo_caps (void)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, VIDEO_FORMAT, "width",
                              G_TYPE_INT, PV_DEMO_WIDTH, "height", G_TYPE_INT, PV_DEMO_HEIGHT,
                              "framerate", GST_TYPE_FRACTION, PV_DEMO_FPS, 1, NULL);
}

/* Waits for this frame's time like a sensor would, then renders and pushes
 * it. Runs on appsrc's streaming thread, which has nothing else to do. */
static void
need_data_cb (GstAppSrc *src, guint length, gpointer user_data)
{
  PvDemoSource *self = user_data;
  GstBuffer *buffer = NULL;
  GstMapInfo map;
  gboolean stopping;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  /* On the first frame, or when far behind (a suspended machine), start the
   * clock afresh instead of rushing out a burst of late frames. */
  if (self->next_deadline == 0 || now - self->next_deadline > 4 * FRAME_US)
    self->next_deadline = now;
  while (!self->stopping && g_get_monotonic_time () < self->next_deadline)
    g_cond_wait_until (&self->cond, &self->lock, self->next_deadline);
  self->next_deadline += FRAME_US;
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);

  if (stopping)
    return;

  if (self->pool == NULL)
    {
      g_autoptr (GstCaps) caps = demo_caps ();
      GstStructure *config;

      self->pool = gst_buffer_pool_new ();
      config = gst_buffer_pool_get_config (self->pool);
      gst_buffer_pool_config_set_params (config, caps, STRIDE * PV_DEMO_HEIGHT, 2, 0);
      if (!gst_buffer_pool_set_config (self->pool, config)
          || !gst_buffer_pool_set_active (self->pool, TRUE))
        {
          GST_ELEMENT_ERROR (src, RESOURCE, NO_SPACE_LEFT, ("Cannot allocate demo frames"), (NULL));
          return;
        }
    }

  if (gst_buffer_pool_acquire_buffer (self->pool, &buffer, NULL) != GST_FLOW_OK)
    return;
  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE))
    {
      gst_buffer_unref (buffer);
      return;
    }
  pv_demo_source_render (self, self->frame_no, map.data, STRIDE);
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_DURATION (buffer) = GST_SECOND / PV_DEMO_FPS;
  GST_BUFFER_OFFSET (buffer) = self->frame_no++;

  /* Flushing on the way to NULL is not an error: the frame is just gone. */
  gst_app_src_push_buffer (src, buffer);
}

GstElement *
pv_demo_source_create_element (PvDemoSource *self)
{
  GstAppSrcCallbacks callbacks = { .need_data = need_data_cb };
  g_autoptr (GstCaps) caps = demo_caps ();
  GstElement *element;

  g_return_val_if_fail (self != NULL, NULL);

  element = gst_element_factory_make ("appsrc", NULL);
  if (element == NULL)
    return NULL;
  /* Live and stamped at push, like a camera: frames carry their capture time
   * and nothing downstream waits to preroll. */
  g_object_set (element, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp",
                TRUE, NULL);
  gst_app_src_set_callbacks (GST_APP_SRC (element), &callbacks, pv_demo_source_ref (self),
                             (GDestroyNotify) pv_demo_source_unref);
  return element;
}
