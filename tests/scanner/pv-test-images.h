/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-test-images.h: what the scanner tests share — real ticket codes signed
 * by a fixed test key, and camera frames of them made in code: a phone
 * showing the ticket in a webcam's view, then degraded the way gates see it
 * (tilt, blur, noise, low contrast, glare, moiré, small in a large frame,
 * all of a dim tent at once). Everything is deterministic from a seed, so a
 * test that fails fails again the same way. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pv-frame.h"
#include "pv-types.h"

G_BEGIN_DECLS

/* A grey image in floating point (0 black … 255 white, packed rows), so a
 * chain of degradations rounds once, when it becomes a frame. */
typedef struct
{
  int width;
  int height;
  float *px;
  /* Where the centre of the symbol ended up, for crops and the glare. */
  double symbol_x;
  double symbol_y;
} PvTestImage;

PvTestImage *pv_test_image_new (int width, int height, float fill);
PvTestImage *pv_test_image_copy (const PvTestImage *image);
void pv_test_image_free (PvTestImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvTestImage, pv_test_image_free)

/* A small seeded generator (splitmix64) whose sequence, unlike rand() or
 * GRand's seeding, is fixed by this file on every platform. */
typedef struct
{
  guint64 state;
} PvTestRng;

void pv_test_rng_init (PvTestRng *rng, guint64 seed);
double pv_test_rng_uniform (PvTestRng *rng); /* [0, 1) */
double pv_test_rng_range (PvTestRng *rng, double lo, double hi);
double pv_test_rng_gauss (PvTestRng *rng); /* mean 0, sigma 1 */

/* The code of ticket @serial of a test event, signed with a key derived from
 * a fixed seed: a real, verifiable code, the same in every run. */
char *pv_test_ticket_code (guint32 serial);
void pv_test_ticket_public_key (guint8 public_key[PV_PUBLIC_KEY_SIZE]);

/* Modules across a symbol of @code, quiet zone included. */
int pv_test_symbol_modules (const char *code);

/* A camera's view of a phone showing @code: @module_px pixels a module,
 * turned by @rotate_deg in the picture plane, centred at (@cx, @cy), on a
 * background with a few shapes. Black is 0, the screen's white 255; the
 * camera's own response comes later (pv_test_image_contrast). */
PvTestImage *pv_test_image_scene (const char *code,
                                  int width,
                                  int height,
                                  double module_px,
                                  double rotate_deg,
                                  double cx,
                                  double cy,
                                  PvTestRng *rng);

/* The degradations. Each takes its strength in the unit that a person
 * could measure on a real frame. */

/* The plane tilted by @tilt_deg about an axis through the frame's centre at
 * @axis_deg in the picture, seen by a pinhole camera whose focal length is
 * the frame's width (about 53° across, a typical webcam): a homography,
 * sampled bilinearly; what comes into view from outside is @background. */
PvTestImage *pv_test_image_tilt (const PvTestImage *src,
                                 double tilt_deg,
                                 double axis_deg,
                                 float background);
/* Gaussian blur, separable, @sigma in pixels: focus and motion. */
void pv_test_image_blur (PvTestImage *image, double sigma);
/* Additive Gaussian noise of @sigma grey levels: sensor noise in low light. */
void pv_test_image_noise (PvTestImage *image, double sigma, PvTestRng *rng);
/* Maps black to @black and white to @white: the exposure and the screen's
 * brightness; 110 and 150 is a phone at low brightness in a dim tent. */
void pv_test_image_contrast (PvTestImage *image, double black, double white);
/* A bright elliptical reflection centred at (@cx, @cy) with semi-axes @rx,
 * @ry turned by @angle_deg: inside the core (the inner @core fraction of
 * the radius) everything saturates to white; it fades to nothing at the
 * edge. */
void pv_test_image_glare (PvTestImage *image,
                          double cx,
                          double cy,
                          double rx,
                          double ry,
                          double angle_deg,
                          double core);
/* A phone screen's pixel grid photographed: the image is multiplied by a
 * grid of sinusoids of @period pixels turned by @angle_deg, @depth (0–1)
 * deep. A period just off one pixel beats against the camera's own pixels
 * into the broad bands of real moiré. */
void pv_test_image_moire (PvTestImage *image,
                          double depth,
                          double period,
                          double angle_deg);

/* The recipes of test-degraded.c: a frame of @code as a gate webcam sees it
 * (640×480, 4 px a module, turned up to ±10°, mild blur and noise; the small
 * recipe uses 1280×720), with one degradation at @level, or the dim tent's
 * combination. Every random choice (position, background, angles, where the
 * glare falls) comes from @seed. */
typedef enum
{
  PV_TEST_TILT,     /* level: degrees of tilt */
  PV_TEST_BLUR,     /* level: sigma in pixels (a module is 4) */
  PV_TEST_NOISE,    /* level: sigma in grey levels */
  PV_TEST_CONTRAST, /* level: grey levels between black and white */
  PV_TEST_GLARE,    /* level: saturated core, as a fraction of the symbol width */
  PV_TEST_MOIRE,    /* level: depth of the grid, 0–1 */
  PV_TEST_SMALL,    /* level: pixels a module, in 1280×720 */
  PV_TEST_DIM_TENT, /* level: 0–1, all of low contrast, noise and blur */
  PV_TEST_N_DEGRADATIONS,
} PvTestDegradation;

const char *pv_test_degradation_name (PvTestDegradation kind);
/* Whether a larger level is harder (FALSE for contrast and size). */
gboolean pv_test_degradation_harder_up (PvTestDegradation kind);
PvTestImage *pv_test_image_degraded (const char *code,
                                     PvTestDegradation kind,
                                     double level,
                                     guint64 seed);

/* Rounded to packed GRAY8, captured at time 0. */
PvFrame *pv_test_image_to_frame (const PvTestImage *image);
/* An RGB24 surface, grey in all three channels. */
cairo_surface_t *pv_test_image_to_surface (const PvTestImage *image);
gboolean pv_test_image_write_png (const PvTestImage *image,
                                  const char *path,
                                  GError **error);

/* One PNG with @n images side by side, @columns a row, each shown 1:1 in a
 * @cell_width × @cell_height crop around its symbol with @labels[i]
 * beneath, for a person to look at. */
gboolean pv_test_contact_sheet (PvTestImage *const *images,
                                const char *const *labels,
                                guint n,
                                guint columns,
                                int cell_width,
                                int cell_height,
                                const char *path,
                                GError **error);

G_END_DECLS
