/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-qr.c: turns a ticket code into a QR symbol with libqrencode and paints it
 * with Cairo (an image surface, any square of a cairo_t for printing, a PNG
 * file) or writes it as a small SVG document. Every output carries the
 * four-module quiet zone, because gate scanners refuse symbols printed flush
 * against other ink. */
#include "pv-qr.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <qrencode.h>

#include "pv-error.h"

/* Beyond this a version 40 symbol no longer fits Cairo's 32767-pixel limit,
 * and no ticket needs modules bigger than a centimetre on screen anyway. */
#define PV_QR_MAX_MODULE_PX 100

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QRcode, QRcode_free)

static QRcode *
encode_text (const char *text,
             GError **error)
{
  QRcode *code;

  if (text[0] == '\0')
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                           "Cannot make a QR symbol of empty text");
      return NULL;
    }

  /* QR_MODE_8 only tells the splitter what to fall back to: runs of QR
   * alphanumeric characters (all of "PV1:" + Base45) still go into
   * alphanumeric mode, which is what keeps a ticket at version 6 or less.
   * Case-sensitive, because Base45 is upper case already and lower case must
   * not be silently folded. */
  errno = 0;
  code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (code == NULL)
    {
      int saved_errno = errno;

      if (saved_errno == ERANGE)
        g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                     "Text of %zu bytes is too long for a QR symbol",
                     strlen (text));
      else
        g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                     "Cannot encode the text as a QR symbol: %s",
                     saved_errno != 0 ? g_strerror (saved_errno)
                                      : "unknown libqrencode failure");
      return NULL;
    }

  return code;
}

static gboolean
check_module_px (int module_px,
                 GError **error)
{
  if (module_px < 1 || module_px > PV_QR_MAX_MODULE_PX)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "A QR module must be 1 to %d pixels wide, not %d",
                   PV_QR_MAX_MODULE_PX, module_px);
      return FALSE;
    }
  return TRUE;
}

static int
total_modules (const QRcode *code)
{
  return code->width + 2 * PV_QR_QUIET_ZONE;
}

static gboolean
is_dark (const QRcode *code,
         int row,
         int col)
{
  /* libqrencode keeps other flags (function pattern, format info) in the
   * upper bits; only bit 0 says whether the module is dark. */
  return (code->data[row * code->width + col] & 1) != 0;
}

/* When a module covers a whole number of device pixels, drawing without
 * antialiasing gives every module the same width and sharp edges, which is
 * what a camera wants; at any other scale, or rotated, antialiasing looks
 * better than modules that jitter by a pixel. */
static gboolean
lands_on_pixels (cairo_t *cr,
                 double module)
{
  double ax = module;
  double ay = 0;
  double bx = 0;
  double by = module;

  cairo_user_to_device_distance (cr, &ax, &ay);
  cairo_user_to_device_distance (cr, &bx, &by);

  if (ay != 0 || bx != 0 || fabs (ax) != fabs (by))
    return FALSE;

  ax = fabs (ax);
  return ax >= 1 && ax <= G_MAXINT && ax == (double) (int) ax;
}

static void
draw_code (cairo_t *cr,
           const QRcode *code,
           double x,
           double y,
           double size)
{
  double module = size / total_modules (code);
  double origin_x = x + PV_QR_QUIET_ZONE * module;
  double origin_y = y + PV_QR_QUIET_ZONE * module;

  cairo_save (cr);

  if (lands_on_pixels (cr, module))
    cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, x, y, size, size);
  cairo_fill (cr);

  /* All dark runs go into one path filled once: filling them one by one
   * would let antialiasing leave faint seams where neighbours touch. All
   * rectangles wind the same way, so the nonzero rule fills their union. */
  cairo_new_path (cr);
  for (int row = 0; row < code->width; row++)
    {
      int col = 0;

      while (col < code->width)
        {
          int start;

          if (!is_dark (code, row, col))
            {
              col++;
              continue;
            }

          start = col;
          while (col < code->width && is_dark (code, row, col))
            col++;

          cairo_rectangle (cr,
                           origin_x + start * module,
                           origin_y + row * module,
                           (col - start) * module,
                           module);
        }
    }

  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_WINDING);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_fill (cr);

  cairo_restore (cr);
}

static void
set_cairo_error (GError **error,
                 cairo_status_t status,
                 int saved_errno,
                 const char *what)
{
  if (status == CAIRO_STATUS_WRITE_ERROR && saved_errno != 0)
    /* Cairo folds every I/O failure into WRITE_ERROR, but the errno of the
     * failed fopen()/fwrite() is still there and says what to fix. */
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "%s: %s", what, g_strerror (saved_errno));
  else if (status == CAIRO_STATUS_NO_MEMORY)
    g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                 "%s: the image is too large", what);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "%s: %s", what, cairo_status_to_string (status));
}

int
pv_qr_version (const char *text,
               GError **error)
{
  g_autoptr (QRcode) code = NULL;

  g_return_val_if_fail (text != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  code = encode_text (text, error);
  if (code == NULL)
    return 0;

  return code->version;
}

static cairo_surface_t *
render_code (const QRcode *code,
             int module_px,
             GError **error)
{
  int size = total_modules (code) * module_px;
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, size, size);
  status = cairo_surface_status (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      set_cairo_error (error, status, 0, "Cannot create the QR image");
      cairo_surface_destroy (surface);
      return NULL;
    }

  cr = cairo_create (surface);
  draw_code (cr, code, 0, 0, size);
  status = cairo_status (cr);
  cairo_destroy (cr);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      set_cairo_error (error, status, 0, "Cannot draw the QR image");
      cairo_surface_destroy (surface);
      return NULL;
    }

  cairo_surface_flush (surface);
  return surface;
}

cairo_surface_t *
pv_qr_render (const char *text,
              int module_px,
              GError **error)
{
  g_autoptr (QRcode) code = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_module_px (module_px, error))
    return NULL;

  code = encode_text (text, error);
  if (code == NULL)
    return NULL;

  return render_code (code, module_px, error);
}

gboolean
pv_qr_draw (cairo_t *cr,
            const char *text,
            double x,
            double y,
            double size,
            GError **error)
{
  g_autoptr (QRcode) code = NULL;
  cairo_status_t status;

  g_return_val_if_fail (cr != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!isfinite (x) || !isfinite (y) || !isfinite (size) || size <= 0)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "Cannot draw a QR symbol into a square of size %g", size);
      return FALSE;
    }

  code = encode_text (text, error);
  if (code == NULL)
    return FALSE;

  draw_code (cr, code, x, y, size);

  status = cairo_status (cr);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      set_cairo_error (error, status, 0, "Cannot draw the QR symbol");
      return FALSE;
    }

  return TRUE;
}

gboolean
pv_qr_write_png (const char *text,
                 const char *path,
                 int module_px,
                 GError **error)
{
  g_autoptr (QRcode) code = NULL;
  cairo_surface_t *surface;
  cairo_status_t status;
  int saved_errno;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_module_px (module_px, error))
    return FALSE;

  code = encode_text (text, error);
  if (code == NULL)
    return FALSE;

  surface = render_code (code, module_px, error);
  if (surface == NULL)
    return FALSE;

  errno = 0;
  status = cairo_surface_write_to_png (surface, path);
  saved_errno = errno;
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_autofree char *what = NULL;

      what = g_strdup_printf ("Cannot write the QR image “%s”", display);
      set_cairo_error (error, status, saved_errno, what);
      return FALSE;
    }

  return TRUE;
}

static char *
code_to_svg (const QRcode *code,
             int module_px)
{
  int modules = total_modules (code);
  int px = modules * module_px;
  GString *svg = g_string_new (NULL);

  g_string_append_printf (svg,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                          "version=\"1.1\" width=\"%d\" height=\"%d\" "
                          "viewBox=\"0 0 %d %d\" "
                          "shape-rendering=\"crispEdges\">\n"
                          "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
                          "<path fill=\"#000000\" d=\"",
                          px, px, modules, modules, modules, modules);

  /* One path of row runs keeps the file small and, like the Cairo drawing,
   * free of seams between neighbouring modules. */
  for (int row = 0; row < code->width; row++)
    {
      int col = 0;

      while (col < code->width)
        {
          int start;

          if (!is_dark (code, row, col))
            {
              col++;
              continue;
            }

          start = col;
          while (col < code->width && is_dark (code, row, col))
            col++;

          g_string_append_printf (svg, "M%d %dh%dv1h-%dz",
                                  PV_QR_QUIET_ZONE + start,
                                  PV_QR_QUIET_ZONE + row,
                                  col - start, col - start);
        }
    }

  g_string_append (svg, "\"/>\n</svg>\n");

  return g_string_free (svg, FALSE);
}

char *
pv_qr_to_svg (const char *text,
              int module_px,
              GError **error)
{
  g_autoptr (QRcode) code = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_module_px (module_px, error))
    return NULL;

  code = encode_text (text, error);
  if (code == NULL)
    return NULL;

  return code_to_svg (code, module_px);
}

gboolean
pv_qr_write_svg (const char *text,
                 const char *path,
                 int module_px,
                 GError **error)
{
  g_autofree char *svg = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  svg = pv_qr_to_svg (text, module_px, error);
  if (svg == NULL)
    return FALSE;

  return g_file_set_contents (path, svg, -1, error);
}
