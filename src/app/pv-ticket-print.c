/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ticket-print.c: the printed ticket (see the header). The page is a
 * column of centred rows — event, QR, "show this code", what the ticket is
 * for, whom it admits, its serial — measured first and then drawn, so the
 * 80 mm receipt can be exactly as long as its text and the A6 card can
 * give its spare height to the gaps. Everything is black on white with no
 * grey, because thermal printers have one colour and dither the rest into
 * noise; text is "Sans" so fontconfig falls back to a Devanagari font for
 * Hindi names. */
#include "config.h"

#include "pv-ticket-print.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "pv-error.h"
#include "pv-qr.h"

#define MM (72.0 / 25.4)

/* How one paper is laid out; lengths in points. */
typedef struct
{
  double width;
  double height; /* 0: as tall as the layout needs */
  double side;   /* margins; an 80 mm receipt printer prints the middle 72 mm */
  double top;
  double bottom; /* a receipt's tear-off edge is a little below the print head */
  double qr_max;
  const char *title_font;
  const char *small_font; /* venue, hint, the word "Ticket" */
  const char *category_font;
  const char *day_font;
  const char *party_font;
  const char *name_font;
  const char *serial_font;
} PaperStyle;

/* clang-format off */
static const PaperStyle paper_styles[] = {
  [PV_PAPER_A6] = {
    .width = 105 * MM, .height = 148 * MM,
    .side = 8 * MM, .top = 8 * MM, .bottom = 7 * MM,
    /* Bigger than this only makes the visitor hold the card further from
     * the gate's webcam; the rest of the card goes to air. */
    .qr_max = 66 * MM,
    .title_font = "Sans Bold 17", .small_font = "Sans 10",
    .category_font = "Sans Bold 15", .day_font = "Sans 11",
    .party_font = "Sans Bold 24", .name_font = "Sans 13",
    .serial_font = "Monospace Bold 12",
  },
  [PV_PAPER_RECEIPT_80MM] = {
    .width = 80 * MM, .height = 0,
    .side = 4 * MM, .top = 5 * MM, .bottom = 9 * MM,
    .qr_max = 72 * MM,
    .title_font = "Sans Bold 15", .small_font = "Sans 10",
    .category_font = "Sans Bold 14", .day_font = "Sans 11",
    .party_font = "Sans Bold 22", .name_font = "Sans 12",
    .serial_font = "Monospace Bold 12",
  },
};
/* clang-format on */

/* Below this the symbol's modules get too small for a webcam at arm's
 * length; refuse rather than print a ticket the gate cannot read. */
#define QR_MIN (32 * MM)

/* Room around the party size's outline. */
#define PARTY_PAD_X (3 * MM)
#define PARTY_PAD_Y (1 * MM)

/* One row of the column; a row without a layout is the QR. */
typedef struct
{
  PangoLayout *layout;
  double before; /* space above it */
  gboolean flex; /* takes a share of the spare height on top of @before */
  gboolean boxed;
} Row;

#define MAX_ROWS 10

typedef struct
{
  const PaperStyle *style;
  PangoContext *context;
  Row rows[MAX_ROWS];
  guint n_rows;
  guint n_flex;
  double content_width;
  double text_height; /* everything but the QR */
} Plan;

/* ---- measuring ---- */

/* A context in points (72 dpi) with unhinted metrics, so the receipt's
 * length measured without a surface is the length drawn on any surface,
 * and the PNG in the tests is the page the printer gets. */
static PangoContext *
create_context (void)
{
  PangoFontMap *font_map = pango_cairo_font_map_get_default ();
  PangoContext *context = pango_font_map_create_context (font_map);
  cairo_font_options_t *options = cairo_font_options_create ();

  pango_cairo_context_set_resolution (context, 72);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (context, options);
  cairo_font_options_destroy (options);
  return context;
}

static gboolean
has_text (const char *text)
{
  return text != NULL && text[0] != '\0';
}

static double
layout_height (PangoLayout *layout)
{
  int height;

  pango_layout_get_size (layout, NULL, &height);
  return (double) height / PANGO_SCALE;
}

static void
add_row (Plan *plan,
         PangoLayout *layout,
         double before,
         gboolean flex,
         gboolean boxed)
{
  Row *row;

  g_assert (plan->n_rows < MAX_ROWS);
  row = &plan->rows[plan->n_rows++];
  row->layout = layout;
  row->before = before;
  row->flex = flex;
  row->boxed = boxed;
  if (flex)
    plan->n_flex++;
  plan->text_height += before;
  if (layout != NULL)
    plan->text_height += layout_height (layout) + (boxed ? 2 * PARTY_PAD_Y : 0);
}

/* A centred paragraph of at most @max_lines lines, ellipsized beyond:
 * a school's full name must not push the QR off the card. */
static PangoLayout *
new_layout (Plan *plan,
            const char *font,
            int max_lines)
{
  PangoLayout *layout = pango_layout_new (plan->context);
  g_autoptr (PangoFontDescription) description = pango_font_description_from_string (font);

  pango_layout_set_font_description (layout, description);
  pango_layout_set_width (layout, (int) (plan->content_width * PANGO_SCALE));
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_height (layout, -max_lines);
  return layout;
}

/* Pango fills lines greedily, which prints a venue as "…, New" over a
 * lone "Delhi"; narrowing the layout as far as it keeps its number of
 * lines (and all its text) evens them out. draw() centres the narrower
 * layout again. */
static void
balance_lines (PangoLayout *layout)
{
  int lines = pango_layout_get_line_count (layout);
  int low, high;

  if (lines < 2 || pango_layout_is_ellipsized (layout))
    return;

  low = pango_layout_get_width (layout) / 2;
  high = pango_layout_get_width (layout);
  while (high - low > PANGO_SCALE)
    {
      int middle = low + (high - low) / 2;

      pango_layout_set_width (layout, middle);
      if (pango_layout_get_line_count (layout) == lines && !pango_layout_is_ellipsized (layout))
        high = middle;
      else
        low = middle;
    }
  pango_layout_set_width (layout, high);
}

static PangoLayout *
text_layout (Plan *plan,
             const char *font,
             int max_lines,
             const char *text)
{
  PangoLayout *layout = new_layout (plan, font, max_lines);

  /* A name typed at the desk may carry a newline; one paragraph keeps it
   * within its line budget. */
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  pango_layout_set_text (layout, text, -1);
  balance_lines (layout);
  return layout;
}

static void
plan_clear (Plan *plan)
{
  for (guint i = 0; i < plan->n_rows; i++)
    g_clear_object (&plan->rows[i].layout);
  g_clear_object (&plan->context);
}

/* Lays @card out in @width points (the paper's full width); @cr, when not
 * NULL, is the surface it will be drawn on. */
static void
plan_init (Plan *plan,
           cairo_t *cr,
           PvPaper paper,
           const PvTicketCard *card,
           double width)
{
  const PaperStyle *style = &paper_styles[paper];
  PangoLayout *layout;

  memset (plan, 0, sizeof *plan);
  plan->style = style;
  plan->context = create_context ();
  if (cr != NULL)
    pango_cairo_update_context (cr, plan->context);
  plan->content_width = MAX (width - 2 * style->side, 1);

  add_row (plan, text_layout (plan, style->title_font, 2, card->event_name ? card->event_name : ""), 0, FALSE, FALSE);
  if (has_text (card->venue))
    add_row (plan, text_layout (plan, style->small_font, 2, card->venue), 1 * MM, FALSE, FALSE);

  /* The QR's own quiet zone (four modules, about 6 mm) already keeps the
   * text off it, so the gaps around it start at almost nothing. */
  add_row (plan, NULL, 1 * MM, TRUE, FALSE);
  /* Translators: printed under the QR code on a visitor's ticket. */
  add_row (plan, text_layout (plan, style->small_font, 2, _ ("Show this code at the gate")), 0, FALSE, FALSE);

  if (has_text (card->category))
    add_row (plan, text_layout (plan, style->category_font, 2, card->category), 3 * MM, TRUE, FALSE);
  if (has_text (card->day_text))
    add_row (plan, text_layout (plan, style->day_font, 2, card->day_text), 0.5 * MM, FALSE, FALSE);
  if (card->party > 1)
    {
      /* Translators: on a group ticket, how many people it admits. */
      g_autofree char *text = g_strdup_printf (ngettext ("%u person", "%u people", card->party), card->party);

      /* The volunteer at the gate must see at a glance that forty
       * children walk in on this one ticket. */
      add_row (plan, text_layout (plan, style->party_font, 1, text), 2.5 * MM, FALSE, TRUE);
    }
  if (has_text (card->name))
    add_row (plan, text_layout (plan, style->name_font, 2, card->name), 2 * MM, FALSE, FALSE);

  if (has_text (card->serial))
    {
      g_autofree char *markup = NULL;

      /* The serial is what a volunteer types to look the ticket up: in
       * monospace, so 0/O and 1/l cannot be confused. */
      layout = new_layout (plan, style->small_font, 1);
      /* Translators: printed before the serial number, "Ticket 3-000145". */
      markup = g_markup_printf_escaped ("%s  <span font_desc=\"%s\">%s</span>", _ ("Ticket"), style->serial_font, card->serial);
      pango_layout_set_markup (layout, markup, -1);
      add_row (plan, layout, 3 * MM, TRUE, FALSE);
    }
}

static double
plan_qr_size (const Plan *plan,
              double height)
{
  double room = height - plan->style->top - plan->style->bottom - plan->text_height;

  return MIN (MIN (plan->content_width, plan->style->qr_max), room);
}

static double
natural_height (const Plan *plan)
{
  if (plan->style->height > 0)
    return plan->style->height;
  return plan->style->top + plan->text_height + MIN (plan->content_width, plan->style->qr_max) + plan->style->bottom;
}

/* ---- drawing ---- */

/* On a pixel surface, a QR whose modules are a whole number of pixels,
 * starting on a pixel, comes out with every module the same size and
 * sharp edges; pv_qr_draw() then draws without antialiasing. Vector
 * surfaces (PDF for the printer) keep the exact size. */
static gboolean
draw_qr (cairo_t *cr,
         const char *code,
         double x,
         double y,
         double size,
         GError **error)
{
  cairo_matrix_t matrix;
  double scale, dx = x, dy = y;
  int version, modules, module_px;
  gboolean ok;

  cairo_get_matrix (cr, &matrix);
  scale = matrix.xx;
  if (cairo_surface_get_type (cairo_get_target (cr)) != CAIRO_SURFACE_TYPE_IMAGE
      || matrix.xy != 0 || matrix.yx != 0 || scale <= 0 || matrix.yy != scale)
    return pv_qr_draw (cr, code, x, y, size, error);

  version = pv_qr_version (code, error);
  if (version == 0)
    return FALSE;
  modules = 17 + 4 * version + 2 * PV_QR_QUIET_ZONE;
  module_px = (int) floor (size * scale / modules);
  if (module_px < 1)
    return pv_qr_draw (cr, code, x, y, size, error);

  /* Centre the slightly smaller symbol in the space it was given. */
  cairo_user_to_device (cr, &dx, &dy);
  dx = round (dx + (size * scale - module_px * modules) / 2);
  dy = round (dy + (size * scale - module_px * modules) / 2);
  cairo_save (cr);
  cairo_identity_matrix (cr);
  ok = pv_qr_draw (cr, code, dx, dy, module_px * modules, error);
  cairo_restore (cr);
  return ok;
}

static void
draw_party_box (cairo_t *cr,
                PangoLayout *layout,
                double x,
                double y)
{
  PangoRectangle logical;
  double left, width, height, radius = 2 * MM;

  pango_layout_get_extents (layout, NULL, &logical);
  left = x + (double) logical.x / PANGO_SCALE - PARTY_PAD_X;
  width = (double) logical.width / PANGO_SCALE + 2 * PARTY_PAD_X;
  height = (double) logical.height / PANGO_SCALE + 2 * PARTY_PAD_Y;

  cairo_new_sub_path (cr);
  cairo_arc (cr, left + width - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, left + width - radius, y + height - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, left + radius, y + height - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, left + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
}

void
pv_ticket_print_page_size (PvPaper paper,
                           const PvTicketCard *card,
                           double *width_pt,
                           double *height_pt)
{
  Plan plan;

  g_return_if_fail (paper == PV_PAPER_A6 || paper == PV_PAPER_RECEIPT_80MM);
  g_return_if_fail (card != NULL);

  plan_init (&plan, NULL, paper, card, paper_styles[paper].width);
  if (width_pt != NULL)
    *width_pt = paper_styles[paper].width;
  if (height_pt != NULL)
    /* A whole number of points, so a receipt measured again in the print
     * dialog never comes out a hair too short for its own layout. */
    *height_pt = paper_styles[paper].height > 0 ? paper_styles[paper].height : ceil (natural_height (&plan));
  plan_clear (&plan);
}

gboolean
pv_ticket_print_draw (cairo_t *cr,
                      PvPaper paper,
                      const PvTicketCard *card,
                      double width_pt,
                      double height_pt,
                      GError **error)
{
  const PaperStyle *style;
  Plan plan;
  double box_x, box_width, box_height, qr, spare, y;
  gboolean ok = TRUE;

  g_return_val_if_fail (cr != NULL, FALSE);
  g_return_val_if_fail (paper == PV_PAPER_A6 || paper == PV_PAPER_RECEIPT_80MM, FALSE);
  g_return_val_if_fail (card != NULL && card->code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  style = &paper_styles[paper];

  /* On a sheet bigger than the ticket's own paper (A4 chosen in the
   * dialog), the ticket keeps its size at the top, ready to be cut out,
   * rather than growing a QR the size of a plate. */
  box_width = MIN (width_pt, style->width);
  box_x = (width_pt - box_width) / 2;
  plan_init (&plan, cr, paper, card, box_width);
  box_height = MIN (height_pt, natural_height (&plan));
  qr = plan_qr_size (&plan, box_height);
  if (qr < QR_MIN)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("The paper is too small for the ticket: %.0f × %.0f mm"),
                   width_pt / MM, height_pt / MM);
      plan_clear (&plan);
      return FALSE;
    }
  spare = box_height - style->top - style->bottom - plan.text_height - qr;

  cairo_save (cr);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, 0, 0, width_pt, height_pt);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);

  y = style->top;
  for (guint i = 0; i < plan.n_rows && ok; i++)
    {
      const Row *row = &plan.rows[i];
      double x = box_x + style->side;
      double width;

      y += row->before;
      if (row->flex)
        y += spare / plan.n_flex;

      if (row->layout == NULL)
        {
          ok = draw_qr (cr, card->code, x + (plan.content_width - qr) / 2, y, qr, error);
          cairo_set_source_rgb (cr, 0, 0, 0);
          y += qr;
          continue;
        }

      width = (double) pango_layout_get_width (row->layout) / PANGO_SCALE;
      x += (plan.content_width - width) / 2;
      if (row->boxed)
        {
          draw_party_box (cr, row->layout, x, y);
          y += PARTY_PAD_Y;
        }
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, row->layout);
      y += layout_height (row->layout) + (row->boxed ? PARTY_PAD_Y : 0);
    }

  cairo_restore (cr);
  plan_clear (&plan);

  if (ok && cairo_status (cr) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("Could not draw the ticket: %s"),
                   cairo_status_to_string (cairo_status (cr)));
      ok = FALSE;
    }
  return ok;
}

/* ---- printing ---- */

/* The card, owned by the print operation: the desk may have moved on to
 * the next visitor by the time the dialog is answered. */
typedef struct
{
  PvPaper paper;
  guint party;
  char *event_name;
  char *venue;
  char *code;
  char *serial;
  char *category;
  char *day_text;
  char *name;
} PrintJob;

/* The print settings of the last ticket printed, so the volunteer picks
 * the desk's printer once per session, not once per visitor. */
static GtkPrintSettings *last_settings;

static void
print_job_free (gpointer data)
{
  PrintJob *job = data;

  g_free (job->event_name);
  g_free (job->venue);
  g_free (job->code);
  g_free (job->serial);
  g_free (job->category);
  g_free (job->day_text);
  g_free (job->name);
  g_free (job);
}

static PvTicketCard
print_job_card (const PrintJob *job)
{
  PvTicketCard card = {
    .event_name = job->event_name,
    .venue = job->venue,
    .code = job->code,
    .serial = job->serial,
    .category = job->category,
    .day_text = job->day_text,
    .party = job->party,
    .name = job->name,
  };

  return card;
}

static void
begin_print_cb (GtkPrintOperation *operation,
                GtkPrintContext *context,
                gpointer user_data)
{
  gtk_print_operation_set_n_pages (operation, 1);
}

static void
draw_page_cb (GtkPrintOperation *operation,
              GtkPrintContext *context,
              int page_nr,
              gpointer user_data)
{
  const PrintJob *job = user_data;
  PvTicketCard card = print_job_card (job);
  g_autoptr (GError) error = NULL;

  if (!pv_ticket_print_draw (gtk_print_context_get_cairo_context (context), job->paper, &card,
                             gtk_print_context_get_width (context),
                             gtk_print_context_get_height (context), &error))
    {
      g_warning ("Cannot print ticket %s: %s", job->serial, error->message);
      gtk_print_operation_cancel (operation);
    }
}

static void
done_cb (GtkPrintOperation *operation,
         GtkPrintOperationResult result,
         gpointer user_data)
{
  const PrintJob *job = user_data;

  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      g_autoptr (GError) error = NULL;

      gtk_print_operation_get_error (operation, &error);
      g_warning ("Cannot print ticket %s: %s", job->serial,
                 error != NULL ? error->message : "unknown error");
    }
  else if (result == GTK_PRINT_OPERATION_RESULT_APPLY)
    {
      GtkPrintSettings *settings = gtk_print_operation_get_print_settings (operation);

      if (settings != NULL)
        {
          g_clear_object (&last_settings);
          last_settings = gtk_print_settings_copy (settings);
          /* Keep the printer, not the paper: the next ticket may be for
           * the other paper, and its page setup must win. */
          gtk_print_settings_unset (last_settings, GTK_PRINT_SETTINGS_PAPER_FORMAT);
          gtk_print_settings_unset (last_settings, GTK_PRINT_SETTINGS_PAPER_WIDTH);
          gtk_print_settings_unset (last_settings, GTK_PRINT_SETTINGS_PAPER_HEIGHT);
          gtk_print_settings_unset (last_settings, GTK_PRINT_SETTINGS_ORIENTATION);
        }
    }
}

static GtkPageSetup *
create_page_setup (PvPaper paper,
                   const PvTicketCard *card)
{
  const PaperStyle *style = &paper_styles[paper];
  GtkPageSetup *setup = gtk_page_setup_new ();
  g_autoptr (GtkPaperSize) size = NULL;
  double width, height;

  if (paper == PV_PAPER_A6)
    size = gtk_paper_size_new ("iso_a6");
  else
    {
      pv_ticket_print_page_size (paper, card, &width, &height);
      size = gtk_paper_size_new_custom ("pravesh-receipt-80mm", _ ("Receipt 80 mm"),
                                        width, height, GTK_UNIT_POINTS);
    }
  gtk_page_setup_set_paper_size (setup, size);
  gtk_page_setup_set_orientation (setup, GTK_PAGE_ORIENTATION_PORTRAIT);
  gtk_page_setup_set_top_margin (setup, style->top, GTK_UNIT_POINTS);
  gtk_page_setup_set_bottom_margin (setup, style->bottom, GTK_UNIT_POINTS);
  gtk_page_setup_set_left_margin (setup, style->side, GTK_UNIT_POINTS);
  gtk_page_setup_set_right_margin (setup, style->side, GTK_UNIT_POINTS);
  return setup;
}

void
pv_ticket_print (GtkWindow *parent,
                 PvPaper paper,
                 const PvTicketCard *card)
{
  g_autoptr (GtkPrintOperation) operation = NULL;
  g_autoptr (GtkPageSetup) setup = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *job_name = NULL;
  PrintJob *job;

  g_return_if_fail (parent == NULL || GTK_IS_WINDOW (parent));
  g_return_if_fail (paper == PV_PAPER_A6 || paper == PV_PAPER_RECEIPT_80MM);
  g_return_if_fail (card != NULL && card->code != NULL);

  job = g_new0 (PrintJob, 1);
  job->paper = paper;
  job->party = card->party;
  job->event_name = g_strdup (card->event_name);
  job->venue = g_strdup (card->venue);
  job->code = g_strdup (card->code);
  job->serial = g_strdup (card->serial);
  job->category = g_strdup (card->category);
  job->day_text = g_strdup (card->day_text);
  job->name = g_strdup (card->name);

  operation = gtk_print_operation_new ();
  g_object_set_data_full (G_OBJECT (operation), "pv-ticket-print-job", job, print_job_free);

  setup = create_page_setup (paper, card);
  gtk_print_operation_set_default_page_setup (operation, setup);
  if (last_settings != NULL)
    gtk_print_operation_set_print_settings (operation, last_settings);
  /* The layout has its own margins, so it gets the whole sheet. */
  gtk_print_operation_set_use_full_page (operation, TRUE);
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_embed_page_setup (operation, TRUE);
  gtk_print_operation_set_n_pages (operation, 1);
  job_name = g_strdup_printf (_ ("Ticket %s"), card->serial ? card->serial : "");
  gtk_print_operation_set_job_name (operation, job_name);
  gtk_print_operation_set_allow_async (operation, TRUE);

  g_signal_connect (operation, "begin-print", G_CALLBACK (begin_print_cb), job);
  g_signal_connect (operation, "draw-page", G_CALLBACK (draw_page_cb), job);
  g_signal_connect (operation, "done", G_CALLBACK (done_cb), job);

  /* The dialog and the job hold their own references to @operation until
   * "done", so ours can go when this returns. */
  if (gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, parent, &error)
      == GTK_PRINT_OPERATION_RESULT_ERROR)
    g_warning ("Cannot print ticket %s: %s", job->serial,
               error != NULL ? error->message : "unknown error");
}
