/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ticket-print.c: the printed ticket, on both papers, for real codes
 * issued by core. Each ticket is drawn at 300 dpi into a PNG that an
 * independent decoder (zbarimg) must read back to the exact code, and into
 * a PDF, the vector path a printer gets. The PNGs are kept under
 * PRAVESH_ARTIFACTS for a person to look at. Needs no display. */
#include "config.h"

#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "app-test.h"
#include "pv-ticket-print.h"

#define DPI 300.0
#define MM (72.0 / 25.4)

/* One ticket of each kind a desk prints most, issued once for all tests. */
static char *tmp_dir;
static char *group_code, *group_serial;
static char *single_code, *single_serial;

static const char hindi_name[] = "आशा वर्मा (दिल्ली पब्लिक स्कूल)";

static void
issue (PvStore *store,
       const char *category,
       guint party,
       const char *name,
       char **code,
       char **serial)
{
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = category, .day = 2, .party = party, .name = name };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);
  PvIssuedTicket *ticket;

  g_assert_no_error (error);
  g_assert_cmpuint (issued->len, ==, 1);
  ticket = g_ptr_array_index (issued, 0);
  *code = g_strdup (ticket->code);
  *serial = g_strdup (ticket->serial);
}

static PvTicketCard
group_card (void)
{
  PvTicketCard card = {
    .event_name = "National Book Fair",
    .venue = "Bharat Mandapam, Pragati Maidan, New Delhi",
    .code = group_code,
    .serial = group_serial,
    .category = "School group",
    .day_text = "Day 3 of 9 · Mon 30 Nov 2026",
    .party = 40,
    .name = "Delhi Public School, R. K. Puram — Class 7B",
  };

  return card;
}

static PvTicketCard
hindi_card (void)
{
  PvTicketCard card = {
    .event_name = "National Book Fair",
    .code = single_code,
    .serial = single_serial,
    .category = "One-day",
    .day_text = "Any one day",
    .party = 1,
    .name = hindi_name,
  };

  return card;
}

static char *
artifact_path (const char *name,
               const char *extension)
{
  const char *dir = g_getenv ("PRAVESH_ARTIFACTS");
  g_autofree char *file = g_strconcat (name, extension, NULL);

  if (dir == NULL)
    dir = tmp_dir;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return g_build_filename (dir, file, NULL);
}

/* What zbarimg reads in the image at @path, trailing newline removed. */
static char *
decode_png (const char *path)
{
  const char *argv[] = { "zbarimg", "--raw", "-q", path, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("zbarimg found no code in %s: %s", path, err);
  g_strchomp (out);
  return g_steal_pointer (&out);
}

/* @card on @paper at 300 dpi, on white paper. */
static cairo_surface_t *
draw_image (PvPaper paper,
            const PvTicketCard *card)
{
  g_autoptr (GError) error = NULL;
  double width, height, scale = DPI / 72;
  cairo_surface_t *surface;
  cairo_t *cr;

  pv_ticket_print_page_size (paper, card, &width, &height);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) ceil (width * scale), (int) ceil (height * scale));
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  g_assert_true (pv_ticket_print_draw (cr, paper, card, width, height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* Draws @card on @paper at 300 dpi into NAME.png and returns its path. */
static char *
render_png (PvPaper paper,
            const PvTicketCard *card,
            const char *name)
{
  char *path = artifact_path (name, ".png");
  cairo_surface_t *surface = draw_image (paper, card);

  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  g_test_message ("ticket drawn into %s", path);
  return path;
}

/* The width in mm of the QR symbol (quiet zone excluded) that @paper
 * prints for @card: only the symbol differs when the code does, so the
 * pixels that change with another code span it. */
static double
symbol_width_mm (PvPaper paper,
                 const PvTicketCard *card,
                 const char *other_code)
{
  PvTicketCard other = *card;
  cairo_surface_t *a, *b;
  int left = G_MAXINT, right = -1, top = G_MAXINT, bottom = -1;
  int width, height, stride;
  const guint8 *pa, *pb;

  other.code = other_code;
  a = draw_image (paper, card);
  b = draw_image (paper, &other);
  width = cairo_image_surface_get_width (a);
  height = cairo_image_surface_get_height (a);
  stride = cairo_image_surface_get_stride (a);
  g_assert_cmpint (cairo_image_surface_get_height (b), ==, height);
  pa = cairo_image_surface_get_data (a);
  pb = cairo_image_surface_get_data (b);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (memcmp (pa + y * stride + 4 * x, pb + y * stride + 4 * x, 3) != 0)
        {
          left = MIN (left, x);
          right = MAX (right, x);
          top = MIN (top, y);
          bottom = MAX (bottom, y);
        }
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);

  g_assert_cmpint (right, >, left);
  /* Square, and in the middle of the page. */
  g_assert_cmpint (ABS ((right - left) - (bottom - top)), <=, 2);
  g_assert_cmpint (ABS ((left + right) / 2 - width / 2), <=, 2);
  return (right - left + 1) * 25.4 / DPI;
}

/* Draws @card into NAME.pdf, as GtkPrintOperation's PDF surface would
 * get it, and checks the result is a PDF with the QR as paths: an image
 * would be resampled by the printer driver into blurred modules. */
static void
render_pdf (PvPaper paper,
            const PvTicketCard *card,
            const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = artifact_path (name, ".pdf");
  g_autofree char *contents = NULL;
  double width, height;
  cairo_surface_t *surface;
  cairo_t *cr;
  gsize length = 0;

  pv_ticket_print_page_size (paper, card, &width, &height);
  surface = cairo_pdf_surface_create (path, width, height);
  cr = cairo_create (surface);
  g_assert_true (pv_ticket_print_draw (cr, paper, card, width, height, &error));
  g_assert_no_error (error);
  cairo_show_page (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 1000);
  g_assert_true (g_str_has_prefix (contents, "%PDF-"));
  /* Cairo 1.16 writes object dictionaries uncompressed. */
  g_assert_null (g_strstr_len (contents, length, "/Subtype /Image"));
}

static void
check_paper (PvPaper paper,
             const PvTicketCard *card,
             const char *name)
{
  g_autofree char *png = render_png (paper, card, name);
  g_autofree char *decoded = decode_png (png);

  g_assert_cmpstr (decoded, ==, card->code);
  render_pdf (paper, card, name);
}

/* A version 6 symbol is 41 modules wide, 49 with its quiet zone. */
#define SYMBOL_OF_QR(mm) ((mm) *41 / 49)

static void
test_a6_group (void)
{
  PvTicketCard card = group_card ();
  double symbol;

  check_paper (PV_PAPER_A6, &card, "ticket-a6-group");
  symbol = symbol_width_mm (PV_PAPER_A6, &card, single_code);
  g_test_message ("A6 symbol: %.1f mm", symbol);
  g_assert_cmpfloat (symbol, >=, SYMBOL_OF_QR (45.0));
}

static void
test_receipt_group (void)
{
  PvTicketCard card = group_card ();
  double symbol;

  check_paper (PV_PAPER_RECEIPT_80MM, &card, "ticket-receipt-group");
  /* The whole printable 72 mm, less a pixel of rounding per module. */
  symbol = symbol_width_mm (PV_PAPER_RECEIPT_80MM, &card, single_code);
  g_test_message ("receipt symbol: %.1f mm", symbol);
  g_assert_cmpfloat (symbol, >=, SYMBOL_OF_QR (70.0));
}

/* A Hindi name must come out in real glyphs: "Sans" (DejaVu) has no
 * Devanagari, so this relies on fontconfig falling back to Lohit. */
static void
test_devanagari (void)
{
  PvTicketCard card = hindi_card ();
  PangoContext *context = pango_font_map_create_context (pango_cairo_font_map_get_default ());
  g_autoptr (PangoLayout) layout = pango_layout_new (context);
  g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 12");

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, hindi_name, -1);
  g_assert_cmpint (pango_layout_get_unknown_glyphs_count (layout), ==, 0);
  g_object_unref (context); /* no autoptr for PangoContext in Pango 1.50 */

  check_paper (PV_PAPER_A6, &card, "ticket-a6-hindi");
  check_paper (PV_PAPER_RECEIPT_80MM, &card, "ticket-receipt-hindi");
}

static void
test_page_size (void)
{
  PvTicketCard group = group_card ();
  PvTicketCard bare = { .event_name = "Fair", .code = single_code, .serial = single_serial };
  double width = 0, height = 0, bare_height = 0;

  pv_ticket_print_page_size (PV_PAPER_A6, &group, &width, &height);
  g_assert_cmpfloat_with_epsilon (width, 105 * MM, 0.01);
  g_assert_cmpfloat_with_epsilon (height, 148 * MM, 0.01);

  /* The receipt is as long as what it says, and always holds a QR as wide
   * as the printable 72 mm. */
  pv_ticket_print_page_size (PV_PAPER_RECEIPT_80MM, &group, &width, &height);
  pv_ticket_print_page_size (PV_PAPER_RECEIPT_80MM, &bare, NULL, &bare_height);
  g_assert_cmpfloat_with_epsilon (width, 80 * MM, 0.01);
  g_assert_cmpfloat (bare_height, >, 72 * MM + 30 * MM);
  g_assert_cmpfloat (height, >, bare_height + 15 * MM);
  g_assert_cmpfloat (height, <, 200 * MM);
}

/* Printed on a bigger sheet than asked for, the ticket keeps its size; on
 * one too small for a readable QR, it refuses. */
static void
test_other_paper (void)
{
  PvTicketCard card = group_card ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = artifact_path ("ticket-a6-on-a4", ".png");
  g_autofree char *decoded = NULL;
  double scale = 100.0 / 72;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) (210 * MM * scale),
                                                         (int) (297 * MM * scale));
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  g_assert_true (pv_ticket_print_draw (cr, PV_PAPER_A6, &card, 210 * MM, 297 * MM, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  decoded = decode_png (path);
  g_assert_cmpstr (decoded, ==, card.code);

  g_assert_false (pv_ticket_print_draw (cr, PV_PAPER_RECEIPT_80MM, &card, 58 * MM, 60 * MM, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

int
main (int argc,
      char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  PvStore *store;
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("pravesh-ticket-print-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (tmp_dir, "admin.db", NULL);
  store = app_test_create_event (db);
  issue (store, "School group", 40, "Delhi Public School", &group_code, &group_serial);
  issue (store, "One-day", 1, hindi_name, &single_code, &single_serial);
  g_assert_finalize_object (store);

  g_test_add_func ("/ticket-print/a6/group", test_a6_group);
  g_test_add_func ("/ticket-print/receipt/group", test_receipt_group);
  g_test_add_func ("/ticket-print/devanagari", test_devanagari);
  g_test_add_func ("/ticket-print/page-size", test_page_size);
  g_test_add_func ("/ticket-print/other-paper", test_other_paper);
  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (group_code);
  g_free (group_serial);
  g_free (single_code);
  g_free (single_serial);
  return status;
}
