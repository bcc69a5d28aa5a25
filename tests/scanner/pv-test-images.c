/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-test-images.c: ticket frames for the scanner tests, made from real codes
 * and degraded in code rather than stored as files, so every difficulty is a
 * number a test can turn up or down, the same in every run. The model is a
 * webcam at a gate: a phone held up (the scene), a screen's pixel grid
 * (moiré), the phone tilted (a homography), the camera's exposure (contrast),
 * a lamp reflected in the screen (glare), focus (blur) and the sensor
 * (noise), in that order, rounded to 8 bits once at the end. */
#include "pv-test-images.h"

#include <math.h>
#include <sodium.h>
#include <string.h>

#include "pv-keys.h"
#include "pv-qr.h"
#include "pv-ticket-code.h"

/* ---- images ---- */

PvTestImage *
pv_test_image_new (int width, int height, float fill)
{
  PvTestImage *image;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  image = g_new0 (PvTestImage, 1);
  image->width = width;
  image->height = height;
  image->px = g_new (float, (gsize) width *height);
  for (gsize i = 0; i < (gsize) width * height; i++)
    image->px[i] = fill;
  image->symbol_x = width / 2.0;
  image->symbol_y = height / 2.0;
  return image;
}

PvTestImage *
pv_test_image_copy (const PvTestImage *image)
{
  PvTestImage *copy = g_memdup2 (image, sizeof *image);

  copy->px = g_memdup2 (image->px, sizeof (float) * image->width * image->height);
  return copy;
}

void
pv_test_image_free (PvTestImage *image)
{
  if (image == NULL)
    return;
  g_free (image->px);
  g_free (image);
}

/* ---- random numbers ---- */

void
pv_test_rng_init (PvTestRng *rng, guint64 seed)
{
  rng->state = seed;
}

static guint64
rng_next (PvTestRng *rng)
{
  guint64 z = (rng->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

double
pv_test_rng_uniform (PvTestRng *rng)
{
  return (rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

double
pv_test_rng_range (PvTestRng *rng, double lo, double hi)
{
  return lo + (hi - lo) * pv_test_rng_uniform (rng);
}

double
pv_test_rng_gauss (PvTestRng *rng)
{
  /* Box–Muller; 1 - u keeps the logarithm away from zero. */
  double u = 1.0 - pv_test_rng_uniform (rng);
  double v = pv_test_rng_uniform (rng);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

/* ---- ticket codes ---- */

/* A fixed key, so the codes (and with them the QR symbols) are the same in
 * every run: a failure seen once can be reproduced. */
static void
test_keypair (guint8 public_key[crypto_sign_PUBLICKEYBYTES],
              guint8 secret_key[crypto_sign_SECRETKEYBYTES])
{
  static const guint8 seed[crypto_sign_SEEDBYTES] = "pravesh scanner test key seed 1";

  pv_crypto_init ();
  crypto_sign_seed_keypair (public_key, secret_key, seed);
}

void
pv_test_ticket_public_key (guint8 public_key[PV_PUBLIC_KEY_SIZE])
{
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];

  G_STATIC_ASSERT (crypto_sign_PUBLICKEYBYTES == PV_PUBLIC_KEY_SIZE);
  test_keypair (public_key, secret_key);
  sodium_memzero (secret_key, sizeof secret_key);
}

char *
pv_test_ticket_code (guint32 serial)
{
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  /* Ticket fields as a desk would fill them; only the serial varies, which
   * changes the signature and so the whole symbol. */
  PvTicket ticket = {
    .version = PV_TICKET_FORMAT_VERSION,
    .event_id = 0x5eed0001u,
    .issuer = 2,
    .serial = serial,
    .category = 1,
    .day = PV_TICKET_DAY_NONE,
    .party = 1 + serial % 4,
    .issued_at = 1795000000u + serial * 37u,
  };
  char *code;

  test_keypair (public_key, secret_key);
  code = pv_ticket_sign (&ticket, secret_key);
  sodium_memzero (secret_key, sizeof secret_key);
  return code;
}

int
pv_test_symbol_modules (const char *code)
{
  g_autoptr (GError) error = NULL;
  int version = pv_qr_version (code, &error);

  g_assert_no_error (error);
  return 17 + 4 * version + 2 * PV_QR_QUIET_ZONE;
}

/* ---- the scene ---- */

static PvTestImage *
image_from_surface (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data;
  PvTestImage *image = pv_test_image_new (width, height, 0);

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < height; y++)
    {
      const guint32 *row = (const guint32 *) (data + (gsize) y * stride);

      /* Luma of the RGB24 pixel; the scene is grey, so this is any channel,
       * but coloured shapes may come one day. */
      for (int x = 0; x < width; x++)
        image->px[(gsize) y * width + x] = 0.299f * ((row[x] >> 16) & 0xff)
                                           + 0.587f * ((row[x] >> 8) & 0xff)
                                           + 0.114f * (row[x] & 0xff);
    }
  return image;
}

PvTestImage *
pv_test_image_scene (const char *code,
                     int width,
                     int height,
                     double module_px,
                     double rotate_deg,
                     double cx,
                     double cy,
                     PvTestRng *rng)
{
  g_autoptr (GError) error = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);
  cairo_pattern_t *gradient;
  double size = pv_test_symbol_modules (code) * module_px;
  PvTestImage *image;

  /* Behind the phone: a dim room with a few shapes in it, so the decoder
   * meets edges that are not the symbol's, as it does at a real gate. */
  gradient = cairo_pattern_create_linear (0, 0, 0, height);
  cairo_pattern_add_color_stop_rgb (gradient, 0, 0.45, 0.45, 0.45);
  cairo_pattern_add_color_stop_rgb (gradient, 1, 0.15, 0.15, 0.15);
  cairo_set_source (cr, gradient);
  cairo_paint (cr);
  cairo_pattern_destroy (gradient);
  for (int i = 0; i < 6; i++)
    {
      double grey = pv_test_rng_range (rng, 0.05, 0.7);

      cairo_set_source_rgb (cr, grey, grey, grey);
      cairo_rectangle (cr,
                       pv_test_rng_range (rng, -0.2, 1.0) * width,
                       pv_test_rng_range (rng, -0.2, 1.0) * height,
                       pv_test_rng_range (rng, 0.05, 0.4) * width,
                       pv_test_rng_range (rng, 0.05, 0.4) * height);
      cairo_fill (cr);
    }

  /* The phone: a dark body, a white screen, the symbol in its upper part
   * and a few lines of text (the ticket holder's details) below. */
  cairo_translate (cr, cx, cy);
  cairo_rotate (cr, rotate_deg * G_PI / 180.0);
  cairo_set_source_rgb (cr, 0.06, 0.06, 0.07);
  cairo_rectangle (cr, -0.65 * size, -0.85 * size, 1.3 * size, 2.05 * size);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, -0.58 * size, -0.7 * size, 1.16 * size, 1.75 * size);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
  for (int i = 0; i < 3; i++)
    {
      cairo_rectangle (cr, -0.4 * size, (0.62 + 0.12 * i) * size,
                       pv_test_rng_range (rng, 0.4, 0.8) * size, 0.05 * size);
      cairo_fill (cr);
    }
  g_assert_true (pv_qr_draw (cr, code, -size / 2, -size / 2, size, &error));
  g_assert_no_error (error);

  cairo_destroy (cr);
  image = image_from_surface (surface);
  cairo_surface_destroy (surface);
  image->symbol_x = cx;
  image->symbol_y = cy;
  return image;
}

/* ---- degradations ---- */

static float
sample_bilinear (const PvTestImage *src, double x, double y, float outside)
{
  int x0 = (int) floor (x);
  int y0 = (int) floor (y);
  double fx = x - x0;
  double fy = y - y0;
  float p[4];

  if (x0 < -1 || y0 < -1 || x0 >= src->width || y0 >= src->height)
    return outside;
  for (int i = 0; i < 4; i++)
    {
      int xi = x0 + (i & 1);
      int yi = y0 + (i >> 1);

      p[i] = (xi < 0 || yi < 0 || xi >= src->width || yi >= src->height)
               ? outside
               : src->px[(gsize) yi * src->width + xi];
    }
  return (float) ((1 - fy) * ((1 - fx) * p[0] + fx * p[1])
                  + fy * ((1 - fx) * p[2] + fx * p[3]));
}

static void
mat3_mul (const double a[9], const double b[9], double out[9])
{
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
}

static void
mat3_invert (const double m[9], double out[9])
{
  double det = m[0] * (m[4] * m[8] - m[5] * m[7])
               - m[1] * (m[3] * m[8] - m[5] * m[6])
               + m[2] * (m[3] * m[7] - m[4] * m[6]);

  g_assert_cmpfloat (fabs (det), >, 1e-12);
  out[0] = (m[4] * m[8] - m[5] * m[7]) / det;
  out[1] = (m[2] * m[7] - m[1] * m[8]) / det;
  out[2] = (m[1] * m[5] - m[2] * m[4]) / det;
  out[3] = (m[5] * m[6] - m[3] * m[8]) / det;
  out[4] = (m[0] * m[8] - m[2] * m[6]) / det;
  out[5] = (m[2] * m[3] - m[0] * m[5]) / det;
  out[6] = (m[3] * m[7] - m[4] * m[6]) / det;
  out[7] = (m[1] * m[6] - m[0] * m[7]) / det;
  out[8] = (m[0] * m[4] - m[1] * m[3]) / det;
}

static void
mat3_apply (const double m[9], double x, double y, double *out_x, double *out_y)
{
  double w = m[6] * x + m[7] * y + m[8];

  *out_x = (m[0] * x + m[1] * y + m[2]) / w;
  *out_y = (m[3] * x + m[4] * y + m[5]) / w;
}

PvTestImage *
pv_test_image_tilt (const PvTestImage *src,
                    double tilt_deg,
                    double axis_deg,
                    float background)
{
  double f = src->width;
  double cx = src->width / 2.0;
  double cy = src->height / 2.0;
  double t = tilt_deg * G_PI / 180.0;
  double a = axis_deg * G_PI / 180.0;
  double k[3] = { cos (a), sin (a), 0 };
  double rot[9];
  double forward[9];
  double inverse[9];
  PvTestImage *dst = pv_test_image_new (src->width, src->height, background);

  /* Rodrigues: rotation by t about the unit axis k lying in the plane. */
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        double cross[9] = { 0, -k[2], k[1], k[2], 0, -k[0], -k[1], k[0], 0 };
        rot[r * 3 + c] = (r == c ? cos (t) : 0) + (1 - cos (t)) * k[r] * k[c] + sin (t) * cross[r * 3 + c];
      }

  /* A source point (x, y) relative to the centre lies at R·(x, y, 0) +
   * (0, 0, f) in front of the camera and projects to f·X/Z, f·Y/Z; as a
   * homography that is K·[r1 r2 t], shifted to pixel coordinates on both
   * sides. At zero tilt it is the identity. */
  {
    double centre[9] = { 1, 0, -cx, 0, 1, -cy, 0, 0, 1 };
    double project[9] = {
      f * rot[0], f * rot[1], 0,
      f * rot[3], f * rot[4], 0,
      rot[6], rot[7], f
    };
    double uncentre[9] = { 1, 0, cx, 0, 1, cy, 0, 0, 1 };
    double tmp[9];

    mat3_mul (project, centre, tmp);
    mat3_mul (uncentre, tmp, forward);
    /* Scale so that f·Z = f² at the centre maps to w = 1. */
    for (int i = 0; i < 9; i++)
      forward[i] /= f;
  }
  mat3_invert (forward, inverse);

  for (int y = 0; y < dst->height; y++)
    for (int x = 0; x < dst->width; x++)
      {
        double sx, sy;

        mat3_apply (inverse, x, y, &sx, &sy);
        dst->px[(gsize) y * dst->width + x] = sample_bilinear (src, sx, sy, background);
      }
  mat3_apply (forward, src->symbol_x, src->symbol_y, &dst->symbol_x, &dst->symbol_y);
  return dst;
}

void
pv_test_image_blur (PvTestImage *image, double sigma)
{
  int radius = (int) ceil (3 * sigma);
  g_autofree float *kernel = NULL;
  g_autofree float *tmp = NULL;
  double sum = 0;
  int w = image->width;
  int h = image->height;

  if (sigma < 0.05)
    return;

  kernel = g_new (float, 2 * radius + 1);
  for (int i = -radius; i <= radius; i++)
    sum += kernel[i + radius] = (float) exp (-0.5 * i * i / (sigma * sigma));
  for (int i = 0; i <= 2 * radius; i++)
    kernel[i] /= (float) sum;

  /* Rows into tmp, then columns back; edges repeat the border pixel, as a
   * lens does not darken the frame's rim. */
  tmp = g_new (float, (gsize) w *h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float acc = 0;

        for (int i = -radius; i <= radius; i++)
          acc += kernel[i + radius] * image->px[(gsize) y * w + CLAMP (x + i, 0, w - 1)];
        tmp[(gsize) y * w + x] = acc;
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float acc = 0;

        for (int i = -radius; i <= radius; i++)
          acc += kernel[i + radius] * tmp[(gsize) CLAMP (y + i, 0, h - 1) * w + x];
        image->px[(gsize) y * w + x] = acc;
      }
}

void
pv_test_image_noise (PvTestImage *image, double sigma, PvTestRng *rng)
{
  for (gsize i = 0; i < (gsize) image->width * image->height; i++)
    image->px[i] += (float) (sigma * pv_test_rng_gauss (rng));
}

void
pv_test_image_contrast (PvTestImage *image, double black, double white)
{
  for (gsize i = 0; i < (gsize) image->width * image->height; i++)
    image->px[i] = (float) (black + (white - black) * image->px[i] / 255.0);
}

void
pv_test_image_glare (PvTestImage *image,
                     double cx,
                     double cy,
                     double rx,
                     double ry,
                     double angle_deg,
                     double core)
{
  double c = cos (angle_deg * G_PI / 180.0);
  double s = sin (angle_deg * G_PI / 180.0);

  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        double u = ((x - cx) * c + (y - cy) * s) / rx;
        double v = (-(x - cx) * s + (y - cy) * c) / ry;
        double r = sqrt (u * u + v * v);
        float *p = &image->px[(gsize) y * image->width + x];
        double boost;

        if (r >= 1)
          continue;
        /* Saturated in the core; outside it the added light falls off
         * smoothly, washing the symbol out before it whites it out. */
        if (r <= core)
          boost = 255;
        else
          {
            double t = 1 - (r - core) / (1 - core);
            boost = 255 * t * t * (3 - 2 * t);
          }
        *p = (float) MIN (255.0, *p + boost);
      }
}

void
pv_test_image_moire (PvTestImage *image,
                     double depth,
                     double period,
                     double angle_deg)
{
  double c = cos (angle_deg * G_PI / 180.0);
  double s = sin (angle_deg * G_PI / 180.0);

  /* Point-sampling a grid this fine is what makes the moiré: the camera's
   * pixels alias it into slow bands, just as a photo of a screen does. */
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        double u = (x * c + y * s) / period;
        double v = (-x * s + y * c) / period;
        double a = 0.5 * (1 - cos (2 * G_PI * u));
        double b = 0.5 * (1 - cos (2 * G_PI * v));

        image->px[(gsize) y * image->width + x] *= (float) (1 - depth * 0.5 * (a + b));
      }
}

/* ---- the recipes ---- */

/* A decent webcam in fair light, the floor under every recipe: black comes
 * out at 25 and white at 225 (never 0 and 255), a little out of focus, a
 * little noise. */
#define BASE_WIDTH 640
#define BASE_HEIGHT 480
#define BASE_MODULE_PX 4.0
#define BASE_BLACK 25.0
#define BASE_WHITE 225.0
#define BASE_BLUR 0.6
#define BASE_NOISE 3.0
#define BASE_MAX_ROTATION 10.0

/* clang-format off */
static const struct
{
  const char *name;
  gboolean harder_up;
} degradations[PV_TEST_N_DEGRADATIONS] = {
  [PV_TEST_TILT]     = { "tilt",     TRUE },
  [PV_TEST_BLUR]     = { "blur",     TRUE },
  [PV_TEST_NOISE]    = { "noise",    TRUE },
  [PV_TEST_CONTRAST] = { "contrast", FALSE },
  [PV_TEST_GLARE]    = { "glare",    TRUE },
  [PV_TEST_MOIRE]    = { "moire",    TRUE },
  [PV_TEST_SMALL]    = { "small",    FALSE },
  [PV_TEST_DIM_TENT] = { "dim-tent", TRUE },
};
/* clang-format on */

const char *
pv_test_degradation_name (PvTestDegradation kind)
{
  g_return_val_if_fail (kind < PV_TEST_N_DEGRADATIONS, NULL);
  return degradations[kind].name;
}

gboolean
pv_test_degradation_harder_up (PvTestDegradation kind)
{
  g_return_val_if_fail (kind < PV_TEST_N_DEGRADATIONS, FALSE);
  return degradations[kind].harder_up;
}

PvTestImage *
pv_test_image_degraded (const char *code,
                        PvTestDegradation kind,
                        double level,
                        guint64 seed)
{
  PvTestRng rng;
  int width = BASE_WIDTH;
  int height = BASE_HEIGHT;
  double module_px = BASE_MODULE_PX;
  double black = BASE_BLACK;
  double white = BASE_WHITE;
  double blur = BASE_BLUR;
  double noise = BASE_NOISE;
  double size;
  double margin;
  double rotation;
  double cx, cy;
  g_autoptr (PvTestImage) image = NULL;

  g_return_val_if_fail (kind < PV_TEST_N_DEGRADATIONS, NULL);

  /* Each kind draws from its own stream, so the same seed gives different
   * scenes to different kinds but the same scene to every level of one. */
  pv_test_rng_init (&rng, seed * 1000003u + kind);

  if (kind == PV_TEST_SMALL)
    {
      width = 1280;
      height = 720;
      module_px = level;
    }
  size = pv_test_symbol_modules (code) * module_px;
  rotation = pv_test_rng_range (&rng, -BASE_MAX_ROTATION, BASE_MAX_ROTATION);

  /* Anywhere the whole phone screen stays in view; a tilted phone is held
   * near the middle, where the tilt does not push it out of the frame. */
  margin = 0.65 * size * 1.2;
  if (kind == PV_TEST_TILT)
    {
      cx = width / 2.0 + pv_test_rng_range (&rng, -40, 40);
      cy = height / 2.0 + pv_test_rng_range (&rng, -30, 30);
    }
  else
    {
      cx = pv_test_rng_range (&rng, MIN (margin, width / 2.0), MAX (width - margin, width / 2.0));
      cy = pv_test_rng_range (&rng, MIN (margin, height / 2.0), MAX (height - margin, height / 2.0));
    }
  image = pv_test_image_scene (code, width, height, module_px, rotation, cx, cy, &rng);

  switch (kind)
    {
    case PV_TEST_TILT:
      {
        PvTestImage *tilted = pv_test_image_tilt (image, level,
                                                  pv_test_rng_range (&rng, 0, 180),
                                                  image->px[0]);
        pv_test_image_free (image);
        image = tilted;
      }
      break;
    case PV_TEST_BLUR:
      blur = level;
      break;
    case PV_TEST_NOISE:
      noise = level;
      break;
    case PV_TEST_CONTRAST:
      black = 130 - level / 2;
      white = 130 + level / 2;
      break;
    case PV_TEST_MOIRE:
      /* Broad bands need the screen's grid nearly square to the camera's
       * and nearly the same pitch, as when a phone is held up straight. */
      pv_test_image_moire (image, level, pv_test_rng_range (&rng, 1.02, 1.10),
                           (pv_test_rng_uniform (&rng) < 0.5 ? -1 : 1)
                             * pv_test_rng_range (&rng, 1, 8));
      break;
    case PV_TEST_DIM_TENT:
      /* All at once, dim as well as flat: the phone at low brightness, the
       * webcam's exposure turned up (noise) and its focus hunting (blur). */
      black = 70 - 40 * level;
      white = 215 - 150 * level;
      noise = BASE_NOISE + 7 * level;
      blur = BASE_BLUR + 0.9 * level;
      break;
    case PV_TEST_GLARE:
    case PV_TEST_SMALL:
    case PV_TEST_N_DEGRADATIONS:
      break;
    }

  pv_test_image_contrast (image, black, white);
  if (kind == PV_TEST_GLARE)
    {
      /* A lamp in the screen, somewhere over the symbol, its saturated core
       * @level of the symbol wide; the halo around it is as wide again. */
      double core_r = level * size / 2;
      double rx = 2 * core_r;

      pv_test_image_glare (image,
                           cx + pv_test_rng_range (&rng, -0.2, 0.2) * size,
                           cy + pv_test_rng_range (&rng, -0.2, 0.2) * size,
                           rx, rx * pv_test_rng_range (&rng, 0.6, 1.0),
                           pv_test_rng_range (&rng, 0, 180), 0.5);
    }
  pv_test_image_blur (image, blur);
  pv_test_image_noise (image, noise, &rng);
  return g_steal_pointer (&image);
}

/* ---- output ---- */

static guint8
to_byte (float v)
{
  return (guint8) CLAMP (lrintf (v), 0, 255);
}

PvFrame *
pv_test_image_to_frame (const PvTestImage *image)
{
  gsize n = (gsize) image->width * image->height;
  guint8 *data = g_malloc (n);
  g_autoptr (GBytes) bytes = NULL;

  for (gsize i = 0; i < n; i++)
    data[i] = to_byte (image->px[i]);
  bytes = g_bytes_new_take (data, n);
  return pv_frame_new (PV_FRAME_GRAY8, image->width, image->height, image->width, bytes, 0);
}

cairo_surface_t *
pv_test_image_to_surface (const PvTestImage *image)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, image->width, image->height);
  int stride = cairo_image_surface_get_stride (surface);
  guint8 *data = cairo_image_surface_get_data (surface);

  for (int y = 0; y < image->height; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);

      for (int x = 0; x < image->width; x++)
        {
          guint32 g = to_byte (image->px[(gsize) y * image->width + x]);
          row[x] = g << 16 | g << 8 | g;
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static gboolean
check_surface (cairo_status_t status, const char *path, GError **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Could not write %s: %s",
               path, cairo_status_to_string (status));
  return FALSE;
}

gboolean
pv_test_image_write_png (const PvTestImage *image, const char *path, GError **error)
{
  cairo_surface_t *surface = pv_test_image_to_surface (image);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);

  cairo_surface_destroy (surface);
  return check_surface (status, path, error);
}

gboolean
pv_test_contact_sheet (PvTestImage *const *images,
                       const char *const *labels,
                       guint n,
                       guint columns,
                       int cell_width,
                       int cell_height,
                       const char *path,
                       GError **error)
{
  const int label_height = 28;
  const int gap = 8;
  guint rows = (n + columns - 1) / columns;
  int sheet_width = (int) columns * (cell_width + gap) + gap;
  int sheet_height = (int) rows * (cell_height + label_height + gap) + gap;
  cairo_surface_t *sheet = cairo_image_surface_create (CAIRO_FORMAT_RGB24, sheet_width, sheet_height);
  cairo_t *cr = cairo_create (sheet);
  cairo_status_t status;

  cairo_set_source_rgb (cr, 0.2, 0.22, 0.25);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 16);

  for (guint i = 0; i < n; i++)
    {
      const PvTestImage *image = images[i];
      cairo_surface_t *surface = pv_test_image_to_surface (image);
      double x0 = gap + (double) (i % columns) * (cell_width + gap);
      double y0 = gap + (double) (i / columns) * (cell_height + label_height + gap);
      /* 1:1, so what a person sees is what the decoder got; larger frames
       * are cropped around their symbol. */
      double sx = CLAMP (image->symbol_x - cell_width / 2.0, 0, MAX (0, image->width - cell_width));
      double sy = CLAMP (image->symbol_y - cell_height / 2.0, 0, MAX (0, image->height - cell_height));

      cairo_save (cr);
      cairo_rectangle (cr, x0, y0, cell_width, cell_height);
      cairo_clip (cr);
      cairo_set_source_surface (cr, surface, floor (x0 - sx), floor (y0 - sy));
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (surface);

      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_move_to (cr, x0 + 4, y0 + cell_height + 20);
      cairo_show_text (cr, labels[i]);
    }

  cairo_destroy (cr);
  status = cairo_surface_write_to_png (sheet, path);
  cairo_surface_destroy (sheet);
  return check_surface (status, path, error);
}
