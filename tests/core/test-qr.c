/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-qr.c: checks that ticket-sized codes stay at QR version 6 or less,
 * that the rendered symbol keeps its quiet zone and crisp modules, and that
 * an independent decoder (zbarimg) reads the PNG back to the exact text. The
 * SVG is compared module for module with the raster. */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"
#include "pv-qr.h"

static const char base45_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cairo_surface_t, cairo_surface_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (cairo_t, cairo_destroy)

/* "PV1:" and @len - 4 Base45 characters, the same for the same @seed. */
static char *
make_ticket_text (gsize len,
                  guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  GString *s = g_string_new ("PV1:");

  while (s->len < len)
    g_string_append_c (s, base45_alphabet[g_rand_int_range (rand, 0, 45)]);

  return g_string_free (s, FALSE);
}

static int
modules_for_version (int version)
{
  return 17 + 4 * version;
}

static guint32
pixel_at (cairo_surface_t *surface,
          int x,
          int y)
{
  const guchar *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  /* RGB24 leaves the top byte undefined. */
  return ((const guint32 *) (const void *) (data + y * stride))[x] & 0xffffff;
}

static void
remove_tmp_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_version (void)
{
  g_autofree char *text = make_ticket_text (154, 1);
  g_autoptr (GError) error = NULL;
  int version;

  g_assert_cmpuint (strlen (text), ==, 154);
  version = pv_qr_version (text, &error);
  g_assert_no_error (error);
  g_test_message ("154-character ticket code: QR version %d", version);
  g_assert_cmpint (version, >=, 1);
  g_assert_cmpint (version, <=, 6);

  /* The whole range a ticket code can have, several contents each: a digit
   * run in the middle must not push the splitter out of alphanumeric mode. */
  for (gsize len = 130; len <= 154; len++)
    for (guint32 seed = 0; seed < 20; seed++)
      {
        g_autofree char *t = make_ticket_text (len, seed);

        if (seed == 0)
          memset (t + 4 + len / 4, '7', len / 3);
        g_assert_cmpint (pv_qr_version (t, &error), <=, 6);
        g_assert_no_error (error);
      }

  g_assert_cmpint (pv_qr_version ("PV1:A", &error), ==, 1);
  g_assert_no_error (error);
}

static void
test_render (void)
{
  g_autofree char *text = make_ticket_text (154, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (cairo_surface_t) surface = NULL;
  const int module_px = 3;
  const int border = PV_QR_QUIET_ZONE * module_px;
  int version = pv_qr_version (text, &error);
  int modules;
  int size;
  guint black = 0;

  g_assert_no_error (error);
  modules = modules_for_version (version);

  surface = pv_qr_render (text, module_px, &error);
  g_assert_no_error (error);
  g_assert_nonnull (surface);
  g_assert_cmpint (cairo_surface_get_type (surface), ==, CAIRO_SURFACE_TYPE_IMAGE);
  g_assert_cmpint (cairo_image_surface_get_format (surface), ==, CAIRO_FORMAT_RGB24);

  size = cairo_image_surface_get_width (surface);
  g_assert_cmpint (size, ==, cairo_image_surface_get_height (surface));
  g_assert_cmpint (size, ==, (modules + 2 * PV_QR_QUIET_ZONE) * module_px);

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        guint32 px = pixel_at (surface, x, y);
        gboolean in_border = x < border || y < border
                             || x >= size - border || y >= size - border;

        if (in_border)
          g_assert_cmphex (px, ==, 0xffffff);
        else
          g_assert_true (px == 0xffffff || px == 0x000000);
        if (px == 0)
          black++;
      }
  g_assert_cmpuint (black, >, 0);
  g_assert_cmpuint (black % (module_px * module_px), ==, 0);

  /* Crisp modules: every pixel of a module has the module's colour. */
  for (int my = 0; my < modules; my++)
    for (int mx = 0; mx < modules; mx++)
      {
        int x0 = border + mx * module_px;
        int y0 = border + my * module_px;
        guint32 first = pixel_at (surface, x0, y0);

        for (int dy = 0; dy < module_px; dy++)
          for (int dx = 0; dx < module_px; dx++)
            g_assert_cmphex (pixel_at (surface, x0 + dx, y0 + dy), ==, first);
      }

  /* The corner of the top-left finder pattern is dark, its separator light. */
  g_assert_cmphex (pixel_at (surface, border, border), ==, 0);
  g_assert_cmphex (pixel_at (surface, border + 7 * module_px, border), ==, 0xffffff);
}

static void
test_draw (void)
{
  const char *text = "PV1:DRAW TEST 123";
  g_autoptr (GError) error = NULL;
  g_autoptr (cairo_surface_t) reference = pv_qr_render (text, 2, &error);
  g_autoptr (cairo_surface_t) target = NULL;
  g_autoptr (cairo_t) cr = NULL;
  int size;

  g_assert_no_error (error);
  size = cairo_image_surface_get_width (reference);

  /* Drawn at an offset with a whole number of pixels per module, the
   * symbol must be the same pixels as the rendered one. */
  target = cairo_image_surface_create (CAIRO_FORMAT_RGB24, size + 20, size + 20);
  cr = cairo_create (target);
  cairo_set_source_rgb (cr, 1, 0, 0);
  cairo_paint (cr);
  g_assert_true (pv_qr_draw (cr, text, 10, 10, size, &error));
  g_assert_no_error (error);
  cairo_surface_flush (target);

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      g_assert_cmphex (pixel_at (target, x + 10, y + 10), ==,
                       pixel_at (reference, x, y));
  /* Outside the square stays untouched. */
  g_assert_cmphex (pixel_at (target, 9, 9), ==, 0xff0000);
  g_assert_cmphex (pixel_at (target, size + 10, size + 10), ==, 0xff0000);

  /* Any other scale draws too (antialiased). */
  cairo_scale (cr, 0.37, 0.37);
  g_assert_true (pv_qr_draw (cr, text, 3.5, 1.25, 101.3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
}

static void
test_png (void)
{
  g_autofree char *text = make_ticket_text (154, 3);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pravesh-qr-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");
  g_autoptr (cairo_surface_t) png = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int version;
  int status = 0;

  g_assert_no_error (error);
  path = g_build_filename (dir, "ticket.png", NULL);
  version = pv_qr_version (text, &error);
  g_assert_no_error (error);

  g_assert_true (pv_qr_write_png (text, path, 4, &error));
  g_assert_no_error (error);

  png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==,
                   (modules_for_version (version) + 2 * PV_QR_QUIET_ZONE) * 4);

  if (zbarimg == NULL)
    {
      remove_tmp_dir (dir);
      g_test_skip ("zbarimg (Debian package zbar-tools) is not installed; "
                   "cannot decode the PNG independently");
      return;
    }

  {
    const char *argv[] = { zbarimg, "-q", "--raw", path, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                  &out, &err, &status, &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_test_message ("zbarimg says: %s", err);
  g_assert_no_error (error);

  /* --raw prints the payload and a newline. */
  g_assert_true (g_str_has_suffix (out, "\n"));
  out[strlen (out) - 1] = '\0';
  g_assert_cmpstr (out, ==, text);

  remove_tmp_dir (dir);
}

/* Fills @grid (modules × modules) from the "M x y h w v 1 h -w z" runs. */
static void
rasterize_svg_path (const char *svg,
                    int modules,
                    guint8 *grid)
{
  const char *d = strstr (svg, " d=\"");
  const char *p;
  guint runs = 0;

  g_assert_nonnull (d);
  g_assert_null (strstr (d + 1, " d=\"")); /* one path only */
  p = d + 4;

  while (*p == 'M')
    {
      int x, y, w, back, used = 0;

      g_assert_cmpint (sscanf (p, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &back, &used), ==, 4);
      g_assert_cmpint (used, >, 0);
      g_assert_cmpint (w, ==, back);
      g_assert_cmpint (w, >, 0);
      g_assert_cmpint (x, >=, PV_QR_QUIET_ZONE);
      g_assert_cmpint (y, >=, PV_QR_QUIET_ZONE);
      g_assert_cmpint (x + w, <=, modules - PV_QR_QUIET_ZONE);
      g_assert_cmpint (y, <, modules - PV_QR_QUIET_ZONE);
      for (int i = 0; i < w; i++)
        grid[y * modules + x + i] = 1;
      p += used;
      runs++;
    }
  g_assert_cmpint (*p, ==, '"');
  g_assert_cmpuint (runs, >, 0);
}

static void
test_svg (void)
{
  g_autofree char *text = make_ticket_text (140, 4);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pravesh-qr-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *svg = NULL;
  g_autofree char *read_back = NULL;
  g_autofree char *want = NULL;
  g_autofree guint8 *grid = NULL;
  g_autoptr (cairo_surface_t) raster = NULL;
  int version;
  int modules;

  g_assert_no_error (error);
  version = pv_qr_version (text, &error);
  g_assert_no_error (error);
  modules = modules_for_version (version) + 2 * PV_QR_QUIET_ZONE;

  svg = pv_qr_to_svg (text, 5, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (svg, "<?xml"));
  g_assert_true (g_str_has_suffix (svg, "</svg>\n"));
  g_assert_nonnull (strstr (svg, "xmlns=\"http://www.w3.org/2000/svg\""));
  g_assert_nonnull (strstr (svg, "shape-rendering=\"crispEdges\""));
  g_assert_nonnull (strstr (svg, "<path "));
  want = g_strdup_printf ("viewBox=\"0 0 %d %d\"", modules, modules);
  g_assert_nonnull (strstr (svg, want));
  g_free (want);
  want = g_strdup_printf ("width=\"%d\" height=\"%d\"", modules * 5, modules * 5);
  g_assert_nonnull (strstr (svg, want));
  g_free (want);
  want = g_strdup_printf ("<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
                          modules, modules);
  g_assert_nonnull (strstr (svg, want));

  /* The SVG's modules are exactly the raster's. */
  grid = g_new0 (guint8, modules * modules);
  rasterize_svg_path (svg, modules, grid);
  raster = pv_qr_render (text, 1, &error);
  g_assert_no_error (error);
  for (int y = 0; y < modules; y++)
    for (int x = 0; x < modules; x++)
      g_assert_cmpint (grid[y * modules + x], ==,
                       pixel_at (raster, x, y) == 0 ? 1 : 0);

  path = g_build_filename (dir, "ticket.svg", NULL);
  g_assert_true (pv_qr_write_svg (text, path, 5, &error));
  g_assert_no_error (error);
  g_file_get_contents (path, &read_back, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (read_back, ==, svg);

  remove_tmp_dir (dir);
}

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *too_long = g_strnfill (3000, 'x');
  g_autofree char *dir = g_dir_make_tmp ("pravesh-qr-XXXXXX", &error);
  g_autofree char *missing = NULL;
  g_autoptr (cairo_surface_t) surface = NULL;
  g_autoptr (cairo_t) cr = NULL;

  g_assert_no_error (error);

  g_assert_cmpint (pv_qr_version ("", &error), ==, 0);
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_null (pv_qr_render ("", 4, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_null (pv_qr_to_svg ("", 4, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  for (gsize i = 0; i < 3; i++)
    {
      static const int bad_px[] = { 0, -1, 101 };

      g_assert_null (pv_qr_render ("PV1:A", bad_px[i], &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
      g_clear_error (&error);

      g_assert_null (pv_qr_to_svg ("PV1:A", bad_px[i], &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
      g_clear_error (&error);
    }

  /* 3000 bytes are past even version 40. */
  g_assert_cmpint (pv_qr_version (too_long, &error), ==, 0);
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_test_message ("too long: %s", error->message);
  g_clear_error (&error);

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 10, 10);
  cr = cairo_create (surface);
  g_assert_false (pv_qr_draw (cr, "", 0, 0, 10, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_qr_draw (cr, "PV1:A", 0, 0, 0, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  /* Nothing is written on failure, and a missing folder is an I/O error. */
  missing = g_build_filename (dir, "no-such-dir", "t.png", NULL);
  g_assert_false (pv_qr_write_png ("", missing, 4, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_qr_write_png ("PV1:A", missing, 0, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_qr_write_png ("PV1:A", missing, 4, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_test_message ("missing folder: %s", error->message);
  g_clear_error (&error);
  g_assert_false (pv_qr_write_svg ("PV1:A", missing, 4, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_false (pv_qr_write_svg ("", missing, 4, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);

  remove_tmp_dir (dir);
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/qr/version", test_version);
  g_test_add_func ("/qr/render", test_render);
  g_test_add_func ("/qr/draw", test_draw);
  g_test_add_func ("/qr/png", test_png);
  g_test_add_func ("/qr/svg", test_svg);
  g_test_add_func ("/qr/errors", test_errors);

  return g_test_run ();
}
