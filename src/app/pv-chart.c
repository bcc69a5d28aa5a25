/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-chart.c: the chart widget (see the header). One routine, render(),
 * lays the chart out and draws it for the screen, a PNG and an SVG alike,
 * recording every text it draws and the geometry hovering needs. Sizes are
 * counted in the text's own line height, taken from the widget's font, so
 * the chart follows the desktop's text scaling and stays readable from a
 * 1366×768 laptop to a 4K monitor; the x axis shows only as many category
 * labels as fit side by side, on steps that suit a clock (1, 2, 3, 4, 6,
 * 8, 12 … categories). The live path only formats numbers and lays out
 * short texts with one reused PangoLayout; the widths of the category
 * labels, the one long list, are measured once per font. */
#include "config.h"

#include "pv-chart.h"

#include <adwaita.h>
#include <cairo-svg.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"

#define MAX_TICKS 24
#define MAX_SIDE 16384 /* pixels of a saved image, each way */

typedef struct
{
  char *name;
  double *values; /* one per category */
  PvChartSeriesStyle style;
} Series;

/* Where the last layout put things, for hovering. */
typedef struct
{
  gboolean valid;
  double x0, x1, top, bottom; /* the plot */
  double slot;                /* width of one category */
  double cx, cy, r_out, r_in; /* the donut */
} Geometry;

struct _PvChart
{
  GtkWidget parent_instance;

  PvChartKind kind;
  char *title;
  GPtrArray *categories; /* char * */
  GPtrArray *notes;      /* char * or NULL, as many as categories */
  GPtrArray *series;     /* Series * */
  char *value_format;
  double limit;
  char *limit_label;
  int header_inset; /* kept clear at the right of the title row */

  /* the last layout */
  GPtrArray *labels; /* PvChartLabel * */
  Geometry geometry;
  GArray *angles; /* double: where each donut slice starts, and the end */

  /* reused from frame to frame */
  PangoLayout *layout;
  GArray *label_widths; /* double: each category label on one line */
  guint label_widths_key;
  guint clock_minutes; /* between categories that are times of day */

  int hover; /* the category or slice under the pointer, or -1 */
};

enum
{
  PROP_0,
  PROP_KIND,
  PROP_TITLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (PvChart, pv_chart, GTK_TYPE_WIDGET)

GType
pv_chart_kind_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { PV_CHART_LINE, "PV_CHART_LINE", "line" },
    { PV_CHART_BAR, "PV_CHART_BAR", "bar" },
    { PV_CHART_STACKED_BAR, "PV_CHART_STACKED_BAR", "stacked-bar" },
    { PV_CHART_DONUT, "PV_CHART_DONUT", "donut" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static (g_intern_static_string ("PvChartKind"), values));
  return type;
}

/* ---- colours ---- */

/* GNOME's palette, in an order that keeps neighbours apart: the darker
 * shades read on white, the lighter ones on the dark style. */
static const guint32 palette_light[] = { 0x1c71d8, 0xe66100, 0x26a269, 0x9141ac,
                                         0xc01c28, 0x2190a4, 0xc88800, 0x865e3c };
static const guint32 palette_dark[] = { 0x62a0ea, 0xffa348, 0x57e389, 0xc061cb,
                                        0xf66151, 0x4fc3d9, 0xf8e45c, 0xcdab8f };
#define PALETTE_SIZE G_N_ELEMENTS (palette_light)

static GdkRGBA
rgb (guint32 hex, double alpha)
{
  return (GdkRGBA){ ((hex >> 16) & 0xff) / 255.f, ((hex >> 8) & 0xff) / 255.f, (hex & 0xff) / 255.f,
                    (float) alpha };
}

static GdkRGBA
with_alpha (GdkRGBA color, double factor)
{
  color.alpha = (float) (color.alpha * factor);
  return color;
}

/* Towards white: the hovered bar or slice. */
static GdkRGBA
lighten (GdkRGBA color, double amount)
{
  color.red += (float) ((1 - color.red) * amount);
  color.green += (float) ((1 - color.green) * amount);
  color.blue += (float) ((1 - color.blue) * amount);
  return color;
}

/* ---- one frame's drawing state ---- */

typedef enum
{
  TEXT_SMALL, /* axes, legend, notes */
  TEXT_TITLE,
  TEXT_BIG, /* the donut's total */
  N_TEXT_SIZES
} TextSize;

typedef struct
{
  PvChart *self;
  cairo_t *cr;
  PangoLayout *layout;
  PangoFontDescription *fonts[N_TEXT_SIZES];
  int width, height;
  double em;  /* line height of small text */
  double pad; /* around the whole chart */
  double gap; /* between a text and what it labels */
  gboolean dark;
  GdkRGBA fg, dim, grid, axis, faint, limit;
  const guint32 *palette;
  int hover;
} Render;

static void
set_color (cairo_t *cr, GdkRGBA color)
{
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, color.alpha);
}

/* A series' colour: the palette in order among the normal series; the
 * faint ones are all the same pale grey, as they only compare. */
static GdkRGBA
series_color (Render *r, guint index)
{
  PvChart *self = r->self;
  guint normal = 0;
  Series *series = g_ptr_array_index (self->series, index);

  if (series->style == PV_CHART_SERIES_FAINT)
    return r->faint;
  for (guint i = 0; i < index; i++)
    if (((Series *) g_ptr_array_index (self->series, i))->style != PV_CHART_SERIES_FAINT)
      normal++;
  return rgb (r->palette[normal % PALETTE_SIZE], 1);
}

static GdkRGBA
slice_color (Render *r, guint index)
{
  return rgb (r->palette[index % PALETTE_SIZE], 1);
}

static void
label_free (gpointer data)
{
  PvChartLabel *label = data;

  g_free (label->text);
  g_free (label->lines);
  g_free (label);
}

/* Lays @text out in the reused layout; @max_width 0 for no limit, else the
 * text is wrapped to at most @max_lines lines and ellipsized. Returns the
 * logical rectangle, relative to the layout's origin. */
static PangoRectangle
measure_text (Render *r, TextSize size, const char *text, double max_width, int max_lines)
{
  PangoRectangle logical;

  pango_layout_set_font_description (r->layout, r->fonts[size]);
  pango_layout_set_width (r->layout, max_width > 0 ? (int) (max_width * PANGO_SCALE) : -1);
  pango_layout_set_height (r->layout, -MAX (max_lines, 1));
  pango_layout_set_ellipsize (r->layout, max_width > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  pango_layout_set_text (r->layout, text, -1);
  pango_layout_get_pixel_extents (r->layout, NULL, &logical);
  return logical;
}

static double
text_width (Render *r, TextSize size, const char *text)
{
  return measure_text (r, size, text, 0, 1).width;
}

/* @text as the layout broke it into lines, a '\n' between them (an
 * ellipsized line keeps all of its text). */
static char *
laid_out_lines (PangoLayout *layout, const char *text)
{
  GString *lines = g_string_new (NULL);
  GSList *first = pango_layout_get_lines_readonly (layout);
  gsize length = strlen (text);

  for (GSList *l = first; l != NULL; l = l->next)
    {
      PangoLayoutLine *line = l->data;
      gsize start = MIN ((gsize) pango_layout_line_get_start_index (line), length);
      gsize end = MIN (start + (gsize) pango_layout_line_get_length (line), length);

      if (l != first)
        g_string_append_c (lines, '\n');
      g_string_append_len (lines, text + start, (gssize) (end - start));
    }
  return g_string_free (lines, FALSE);
}

/* Draws @text with its logical box's point (@halign, @valign) — 0 the
 * left or top, 1 the right or bottom — at (@x, @y), and records it. */
static graphene_rect_t
draw_text (Render *r, PvChartLabelRole role, TextSize size, const char *text, double x, double y,
           double halign, double valign, double max_width, int max_lines, GdkRGBA color)
{
  PangoRectangle logical = measure_text (r, size, text, max_width, max_lines);
  double left = x - halign * logical.width;
  double top = y - valign * logical.height;
  PvChartLabel *label;

  /* Whole pixels: text set on a half pixel blurs. */
  left = round (left);
  top = round (top);
  cairo_move_to (r->cr, left - logical.x, top - logical.y);
  set_color (r->cr, color);
  pango_cairo_show_layout (r->cr, r->layout);

  label = g_new0 (PvChartLabel, 1);
  label->role = role;
  label->text = g_strdup (text);
  label->lines = laid_out_lines (r->layout, text);
  label->cut = pango_layout_is_ellipsized (r->layout);
  graphene_rect_init (&label->bounds, (float) left, (float) top, (float) logical.width, (float) logical.height);
  g_ptr_array_add (r->self->labels, label);
  return label->bounds;
}

/* A value as the y axis, notes and hover show it. The format was checked
 * when set to convert exactly one double. */
static void
format_value (PvChart *self, double value, char *buffer, gsize size)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  g_snprintf (buffer, size, self->value_format, value);
#pragma GCC diagnostic pop
  /* "-0" reads as a mistake. */
  if (strcmp (buffer, "-0") == 0)
    g_strlcpy (buffer, "0", size);
}

static const char *
category (PvChart *self, guint i)
{
  return g_ptr_array_index (self->categories, i);
}

static const char *
note (PvChart *self, guint i)
{
  return i < self->notes->len ? g_ptr_array_index (self->notes, i) : NULL;
}

static Series *
series_at (PvChart *self, guint i)
{
  return g_ptr_array_index (self->series, i);
}

/* ---- the title and the legend ---- */

typedef struct
{
  double swatch; /* width of a legend item's swatch */
  double spacing;
} LegendStyle;

static double
legend_item_width (Render *r, const LegendStyle *style, const char *name)
{
  return style->swatch + r->gap + text_width (r, TEXT_SMALL, name);
}

/* Flows the legend's items into rows @width wide; the number of rows and
 * the widest row. */
static guint
legend_rows (Render *r, const LegendStyle *style, double width, double *widest)
{
  PvChart *self = r->self;
  guint rows = 1;
  double x = 0;

  *widest = 0;
  for (guint i = 0; i < self->series->len; i++)
    {
      double w = legend_item_width (r, style, series_at (self, i)->name);

      if (x > 0 && x + style->spacing + w > width)
        {
          rows++;
          x = 0;
        }
      x += (x > 0 ? style->spacing : 0) + w;
      *widest = MAX (*widest, x);
    }
  return rows;
}

static void
draw_swatch (Render *r, guint index, double x, double cy, double width)
{
  Series *series = series_at (r->self, index);
  GdkRGBA color = series_color (r, index);
  cairo_t *cr = r->cr;

  set_color (cr, color);
  if (r->self->kind == PV_CHART_LINE)
    {
      cairo_set_line_width (cr, series->style == PV_CHART_SERIES_FAINT ? 1.5 : 2.5);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to (cr, x + 1, round (cy) + 0.5);
      cairo_line_to (cr, x + width - 1, round (cy) + 0.5);
      cairo_stroke (cr);
    }
  else
    {
      double side = width;
      cairo_rectangle (cr, x, round (cy - side / 2), side, side);
      cairo_fill (cr);
    }
}

static void
draw_legend (Render *r, const LegendStyle *style, double left, double top, double width)
{
  PvChart *self = r->self;
  double x = 0, y = top;

  for (guint i = 0; i < self->series->len; i++)
    {
      const char *name = series_at (self, i)->name;
      double w = legend_item_width (r, style, name);

      if (x > 0 && x + style->spacing + w > width)
        {
          x = 0;
          y += r->em;
        }
      if (x > 0)
        x += style->spacing;
      draw_swatch (r, i, left + x, y + r->em / 2, style->swatch);
      draw_text (r, PV_CHART_LABEL_LEGEND, TEXT_SMALL, name, left + x + style->swatch + r->gap, y, 0, 0, 0, 1,
                 r->fg);
      x += w;
    }
}

/* Draws the title and, with two series or more, the legend: beside the
 * title when both fit on one line, else under it. Returns the y below. */
static double
draw_header (Render *r)
{
  PvChart *self = r->self;
  double width = r->width - 2 * r->pad;
  double y = r->pad, title_w = 0, title_h = 0, legend_w = 0;
  gboolean has_title = self->title != NULL && self->title[0] != '\0';
  gboolean has_legend = self->kind != PV_CHART_DONUT && self->series->len >= 2;
  LegendStyle style = { .swatch = self->kind == PV_CHART_LINE ? round (1.4 * r->em) : round (0.7 * r->em),
                        .spacing = round (1.2 * r->em) };
  guint rows = 0;

  if (has_title)
    {
      PangoRectangle logical = measure_text (r, TEXT_TITLE, self->title, 0, 1);
      title_w = logical.width;
      title_h = logical.height;
    }
  if (has_legend)
    rows = legend_rows (r, &style, width, &legend_w);

  if (has_legend && rows == 1 && (!has_title || title_w + 2 * r->em + legend_w <= width - self->header_inset))
    {
      double row_h = MAX (title_h, r->em);

      if (has_title)
        draw_text (r, PV_CHART_LABEL_TITLE, TEXT_TITLE, self->title, r->pad, y + row_h / 2, 0, 0.5, 0, 1, r->fg);
      draw_legend (r, &style, r->pad + width - self->header_inset - legend_w, y + (row_h - r->em) / 2, legend_w);
      return y + row_h + r->gap;
    }
  if (has_title)
    {
      draw_text (r, PV_CHART_LABEL_TITLE, TEXT_TITLE, self->title, r->pad, y, 0, 0, width, 1, r->fg);
      y += title_h + r->gap;
    }
  if (has_legend)
    {
      draw_legend (r, &style, r->pad, y, width);
      y += rows * r->em + r->gap;
    }
  return y;
}

/* ---- the value axis ---- */

typedef struct
{
  double lo, hi, step;
  guint n; /* ticks, lo and hi included */
  char text[MAX_TICKS][32];
  double width; /* the widest tick label */
} Ticks;

/* The next of 1, 2, 5, 10, 20, 25, 50, 100, 200, 250 … at or above @raw:
 * 2.5 only from 25 up, where it is still a whole number. */
static double
nice_step (double raw)
{
  double power = pow (10, floor (log10 (raw)));
  double fraction = raw / power;

  if (fraction <= 1.0001)
    return power;
  if (fraction <= 2.0001)
    return 2 * power;
  if (fraction <= 2.5001 && power >= 10)
    return 2.5 * power;
  if (fraction <= 5.0001)
    return 5 * power;
  return 10 * power;
}

/* The nice step just under @step, or 0. */
static double
nice_step_below (double step)
{
  double below = nice_step (step / 10.5);

  for (double next; (next = nice_step (below * 1.001)) < step * 0.9999;)
    below = next;
  return below;
}

/* The axis from @min to @max on steps of @step, with room above a limit
 * line for its label; returns the number of intervals. */
static guint
span_ticks (PvChart *self, double min, double max, double step, double *lo, double *hi)
{
  *lo = floor (min / step + 1e-9) * step;
  *hi = ceil (max / step - 1e-9) * step;
  if (*hi <= *lo)
    *hi = *lo + step;
  if (isfinite (self->limit) && *hi - self->limit < step / 2)
    *hi += step;
  return (guint) round ((*hi - *lo) / step);
}

/* Ticks on 1-2-5 steps from @min to at least @max over @span pixels:
 * about three lines of text apart and no more than nine however tall the
 * chart, closer (two lines) where that wastes less of a short axis; steps
 * so fine that the value format shows two ticks alike ("%.0f" of 0.5 and
 * of 1) give way to coarser ones. */
static void
compute_ticks (Render *r, double min, double max, double span, Ticks *ticks)
{
  PvChart *self = r->self;
  double target = CLAMP (floor (span / (3 * r->em)), 1, 8);
  double step = nice_step ((max - min) / target);
  double finer = nice_step_below (step), lo, hi;
  guint n;

  span_ticks (self, min, max, step, &ticks->lo, &ticks->hi);
  n = span_ticks (self, min, max, finer, &lo, &hi);
  if (finer > 0 && n <= 8 && n * 2 * r->em <= span && hi - lo < ticks->hi - ticks->lo)
    step = finer;

  for (int attempt = 0; attempt < 8; attempt++)
    {
      gboolean alike = FALSE;

      ticks->n = span_ticks (self, min, max, step, &ticks->lo, &ticks->hi) + 1;
      if (ticks->n > MAX_TICKS)
        {
          step = nice_step (step * 1.001);
          continue;
        }
      ticks->step = step;
      for (guint i = 0; i < ticks->n; i++)
        {
          format_value (self, ticks->lo + i * step, ticks->text[i], sizeof ticks->text[i]);
          if (i > 0 && strcmp (ticks->text[i], ticks->text[i - 1]) == 0)
            alike = TRUE;
        }
      if (!alike)
        break;
      step = nice_step (step * 1.001);
    }
  ticks->width = 0;
  for (guint i = 0; i < ticks->n; i++)
    ticks->width = MAX (ticks->width, text_width (r, TEXT_SMALL, ticks->text[i]));
}

/* ---- the category axis ---- */

/* Lines @text may wrap to within @max_width: breaks only between words,
 * so a name with a word wider than that is ellipsized on one line
 * ("Exhib…", "Seas…", never "Exhibit-" over "or" or "Seaso-" over
 * "n pass", which Pango does when a word does not fit). */
static int
label_lines (Render *r, const char *text, double max_width, int lines)
{
  g_auto (GStrv) words = NULL;

  if (lines <= 1 || strchr (text, ' ') == NULL)
    return 1;
  if (max_width <= 0)
    return lines;
  words = g_strsplit (text, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0' && text_width (r, TEXT_SMALL, words[i]) > max_width)
      return 1;
  return lines;
}

/* Widths of the category labels on one line, measured again only when the
 * categories or the font change. */
static const double *
category_widths (Render *r)
{
  PvChart *self = r->self;
  guint key = pango_font_description_hash (r->fonts[TEXT_SMALL]) ^ self->categories->len;

  if (self->label_widths->len != self->categories->len || self->label_widths_key != key)
    {
      g_array_set_size (self->label_widths, self->categories->len);
      for (guint i = 0; i < self->categories->len; i++)
        g_array_index (self->label_widths, double, i) = text_width (r, TEXT_SMALL, category (self, i));
      self->label_widths_key = key;
    }
  return (const double *) (gpointer) self->label_widths->data;
}

/* The next of 1, 2, 3, 4, 6, 8, 12, 16, 24 …; on a clock's categories
 * only those that land on round times: every 30 minutes, every hour,
 * every 2, 3, 4, 6 hours, never every 45 or 90 minutes. */
static guint
next_label_step (PvChart *self, guint k)
{
  do
    k = k == 1 ? 2 : (k & (k - 1)) == 0 ? k / 2 * 3
                                        : k / 3 * 4;
  while (self->clock_minutes > 0 && (k * self->clock_minutes) % 60 != 0 && 60 % (k * self->clock_minutes) != 0);
  return k;
}

/* Minutes between the first two categories when they read as times of
 * day ("09:00", "09:15"), else 0. */
static guint
clock_minutes (GPtrArray *categories)
{
  guint h0, m0, h1, m1;
  char end;

  if (categories->len < 2
      || sscanf (g_ptr_array_index (categories, 0), "%u:%u%c", &h0, &m0, &end) != 2
      || sscanf (g_ptr_array_index (categories, 1), "%u:%u%c", &h1, &m1, &end) != 2
      || h1 * 60 + m1 <= h0 * 60 + m0)
    return 0;
  return h1 * 60 + m1 - (h0 * 60 + m0);
}

typedef struct
{
  guint step;       /* a label every @step categories */
  int lines;        /* lines a label may wrap to */
  double max_width; /* of one label, 0 for no limit */
} XLabels;

/* How the category labels fit a slot of @slot pixels. A line's labels
 * are a scale: every k-th of them, whole, which is how 96 quarters of an
 * hour read on a laptop (every 2 hours). A bar's label names its bar: each
 * bar keeps one, wrapped to two lines and ellipsized, unless the bars are
 * so thin that not even a few letters fit. */
static XLabels
fit_x_labels (Render *r, double slot)
{
  PvChart *self = r->self;
  const double *widths = category_widths (r);
  double widest = 0, gap = r->em;
  XLabels fit = { .step = 1, .lines = 1, .max_width = 0 };
  guint n = self->categories->len;

  for (guint i = 0; i < n; i++)
    widest = MAX (widest, widths[i]);
  if (widest + gap <= slot)
    return fit;
  if (self->kind != PV_CHART_LINE)
    {
      gap = round (r->em / 2);
      widest = MIN (widest, 6 * r->em);
      if (slot - gap < 2 * r->em)
        {
          while (fit.step * slot - gap < MIN (widest, 4 * r->em) && fit.step < n)
            fit.step = next_label_step (self, fit.step);
        }
      fit.max_width = MAX (fit.step * slot - gap, r->em);
      for (guint i = 0; i < n && fit.lines < 2; i += fit.step)
        if (widths[i] > fit.max_width)
          {
            int lines = label_lines (r, category (self, i), fit.max_width, 2);

            measure_text (r, TEXT_SMALL, category (self, i), fit.max_width, lines);
            fit.lines = MAX (fit.lines, pango_layout_get_line_count (r->layout));
          }
      return fit;
    }
  while (fit.step * slot < widest + gap && fit.step < n)
    fit.step = next_label_step (self, fit.step);
  if (fit.step * slot < widest + gap)
    fit.max_width = MAX (fit.step * slot - gap, r->em);
  return fit;
}

/* ---- the cartesian charts ---- */

typedef struct
{
  double x0, x1, top, bottom;
  double slot;
  Ticks ticks;
} Plot;

static double
value_y (const Plot *plot, double value)
{
  return plot->bottom - (value - plot->ticks.lo) / (plot->ticks.hi - plot->ticks.lo) * (plot->bottom - plot->top);
}

static double
category_x (const Plot *plot, guint i)
{
  return plot->x0 + (i + 0.5) * plot->slot;
}

static gboolean
has_notes (PvChart *self)
{
  for (guint i = 0; i < self->notes->len; i++)
    if (g_ptr_array_index (self->notes, i) != NULL)
      return TRUE;
  return FALSE;
}

/* The values' range: stacked bars add up per category, positives up and
 * negatives down. FALSE when there is nothing but zeros and gaps. */
static gboolean
value_range (PvChart *self, double *min, double *max)
{
  gboolean any = FALSE;
  guint n = self->categories->len;

  *min = 0;
  *max = 0;
  for (guint i = 0; i < n; i++)
    {
      double up = 0, down = 0;

      for (guint s = 0; s < self->series->len; s++)
        {
          double v = series_at (self, s)->values[i];

          if (!isfinite (v))
            continue;
          any = any || v != 0;
          if (self->kind == PV_CHART_STACKED_BAR)
            *(v > 0 ? &up : &down) += v;
          else
            {
              *min = MIN (*min, v);
              *max = MAX (*max, v);
            }
        }
      *min = MIN (*min, down);
      *max = MAX (*max, up);
    }
  if (isfinite (self->limit))
    {
      *min = MIN (*min, self->limit);
      *max = MAX (*max, self->limit);
    }
  return any;
}

static void
draw_grid (Render *r, const Plot *plot)
{
  cairo_t *cr = r->cr;

  cairo_set_line_width (cr, 1);
  for (guint i = 0; i < plot->ticks.n; i++)
    {
      double value = plot->ticks.lo + i * plot->ticks.step;
      double y = round (value_y (plot, value)) + 0.5;

      set_color (cr, fabs (value) < plot->ticks.step / 2 ? r->axis : r->grid);
      cairo_move_to (cr, plot->x0, y);
      cairo_line_to (cr, plot->x1, y);
      cairo_stroke (cr);
      draw_text (r, PV_CHART_LABEL_Y_AXIS, TEXT_SMALL, plot->ticks.text[i], plot->x0 - r->gap, y, 1, 0.5, 0, 1,
                 r->dim);
    }
}

static void
draw_x_axis (Render *r, const Plot *plot, const XLabels *fit, double label_top)
{
  PvChart *self = r->self;
  cairo_t *cr = r->cr;
  double base = round (value_y (plot, MAX (plot->ticks.lo, MIN (0, plot->ticks.hi)))) + 0.5;
  gboolean notes = has_notes (self);

  pango_layout_set_alignment (r->layout, PANGO_ALIGN_CENTER);
  set_color (cr, r->axis);
  cairo_set_line_width (cr, 1);
  for (guint i = 0; i < self->categories->len; i += fit->step)
    {
      double x = round (category_x (plot, i)) + 0.5;
      graphene_rect_t bounds;

      /* Marks for thinned labels only: bars are their own marks. */
      if (fit->step > 1 || self->kind == PV_CHART_LINE)
        {
          set_color (cr, r->axis);
          cairo_move_to (cr, x, base);
          cairo_line_to (cr, x, base + r->gap);
          cairo_stroke (cr);
        }
      int lines = label_lines (r, category (self, i), fit->max_width, fit->lines);

      bounds = draw_text (r, PV_CHART_LABEL_X_AXIS, TEXT_SMALL, category (self, i), x, label_top, 0.5, 0,
                          fit->max_width, lines, self->kind == PV_CHART_LINE ? r->dim : r->fg);
      /* The note right under its own label, so the two read as one. */
      if (notes && note (self, i) != NULL)
        draw_text (r, PV_CHART_LABEL_NOTE, TEXT_SMALL, note (self, i), x, bounds.origin.y + bounds.size.height,
                   0.5, 0, fit->max_width > 0 ? fit->max_width : plot->slot * fit->step - r->em, 1, r->dim);
    }
  pango_layout_set_alignment (r->layout, PANGO_ALIGN_LEFT);
}

/* A path along a series, broken at gaps; lone points become dots. */
static void
trace_line (Render *r, const Plot *plot, const double *values, gboolean close_to_base, double base)
{
  cairo_t *cr = r->cr;
  guint n = r->self->categories->len;
  guint start = 0;
  gboolean in_run = FALSE;

  for (guint i = 0; i <= n; i++)
    {
      gboolean valid = i < n && isfinite (values[i]);

      if (valid && !in_run)
        {
          start = i;
          in_run = TRUE;
          cairo_move_to (cr, category_x (plot, i), value_y (plot, values[i]));
        }
      else if (valid)
        cairo_line_to (cr, category_x (plot, i), value_y (plot, values[i]));
      else if (in_run)
        {
          in_run = FALSE;
          if (close_to_base)
            {
              cairo_line_to (cr, category_x (plot, i - 1), base);
              cairo_line_to (cr, category_x (plot, start), base);
              cairo_close_path (cr);
            }
        }
    }
}

static void
draw_dot (Render *r, double x, double y, double radius, GdkRGBA color, gboolean ring)
{
  cairo_t *cr = r->cr;

  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
  set_color (cr, color);
  if (ring)
    {
      /* A ring in the text's inverse keeps the dot apart from the line. */
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, r->dark ? 0 : 1, r->dark ? 0 : 1, r->dark ? 0 : 1, 0.9);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
  else
    cairo_fill (cr);
}

static void
draw_lines (Render *r, const Plot *plot)
{
  PvChart *self = r->self;
  cairo_t *cr = r->cr;
  guint n = self->categories->len, normal = 0, only = 0;
  double base = value_y (plot, MAX (plot->ticks.lo, MIN (0, plot->ticks.hi)));

  for (guint s = 0; s < self->series->len; s++)
    if (series_at (self, s)->style != PV_CHART_SERIES_FAINT)
      normal++, only = s;

  /* One series of its own gets a soft area under it. */
  if (normal == 1)
    {
      GdkRGBA color = series_color (r, only);
      cairo_pattern_t *fill = cairo_pattern_create_linear (0, plot->top, 0, plot->bottom);

      cairo_pattern_add_color_stop_rgba (fill, 0, color.red, color.green, color.blue, r->dark ? 0.30 : 0.22);
      cairo_pattern_add_color_stop_rgba (fill, 1, color.red, color.green, color.blue, 0.02);
      cairo_new_path (cr);
      trace_line (r, plot, series_at (self, only)->values, TRUE, base);
      cairo_set_source (cr, fill);
      cairo_fill (cr);
      cairo_pattern_destroy (fill);
    }

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  /* Faint series first, under the others. */
  for (int pass = 0; pass < 2; pass++)
    for (guint s = 0; s < self->series->len; s++)
      {
        Series *series = series_at (self, s);
        gboolean faint = series->style == PV_CHART_SERIES_FAINT;

        if (faint != (pass == 0))
          continue;
        cairo_new_path (cr);
        trace_line (r, plot, series->values, FALSE, base);
        set_color (cr, series_color (r, s));
        cairo_set_line_width (cr, faint ? 1.5 : 2.5);
        cairo_stroke (cr);
        /* Lone points, and the latest value of a normal series ("now"). */
        for (guint i = 0; i < n; i++)
          {
            gboolean lone = isfinite (series->values[i]) && (i == 0 || !isfinite (series->values[i - 1]))
                            && (i + 1 == n || !isfinite (series->values[i + 1]));
            gboolean last = !faint && isfinite (series->values[i]) && i + 1 < n && !isfinite (series->values[i + 1])
                            && i > 0 && isfinite (series->values[i - 1]);

            if (lone || last)
              draw_dot (r, category_x (plot, i), value_y (plot, series->values[i]), last ? 4 : 2.5,
                        series_color (r, s), last);
          }
      }

  if (r->hover >= 0 && (guint) r->hover < n)
    {
      double x = round (category_x (plot, (guint) r->hover)) + 0.5;

      set_color (cr, with_alpha (r->fg, 0.45));
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, x, plot->top);
      cairo_line_to (cr, x, plot->bottom);
      cairo_stroke (cr);
      for (guint s = 0; s < self->series->len; s++)
        {
          double v = series_at (self, s)->values[r->hover];
          if (isfinite (v))
            draw_dot (r, category_x (plot, (guint) r->hover), value_y (plot, v), 4, series_color (r, s), TRUE);
        }
    }
}

/* A bar from @y_from to @y_to, the end away from the axis rounded. */
static void
bar_path (cairo_t *cr, double x, double width, double y_from, double y_to, gboolean round_end)
{
  double top = MIN (y_from, y_to), bottom = MAX (y_from, y_to);
  double radius = round_end ? MIN (3, MIN (width / 2, bottom - top)) : 0;

  if (radius < 0.5)
    {
      cairo_rectangle (cr, x, top, width, bottom - top);
      return;
    }
  cairo_new_sub_path (cr);
  if (y_to < y_from) /* grows up: round the top */
    {
      cairo_move_to (cr, x, bottom);
      cairo_arc (cr, x + radius, top + radius, radius, G_PI, 1.5 * G_PI);
      cairo_arc (cr, x + width - radius, top + radius, radius, 1.5 * G_PI, 2 * G_PI);
      cairo_line_to (cr, x + width, bottom);
    }
  else
    {
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x + width, top);
      cairo_arc (cr, x + width - radius, bottom - radius, radius, 0, 0.5 * G_PI);
      cairo_arc (cr, x + radius, bottom - radius, radius, 0.5 * G_PI, G_PI);
    }
  cairo_close_path (cr);
}

static void
draw_bars (Render *r, const Plot *plot)
{
  PvChart *self = r->self;
  cairo_t *cr = r->cr;
  guint n = self->categories->len, n_series = self->series->len;
  gboolean stacked = self->kind == PV_CHART_STACKED_BAR;
  double zero = value_y (plot, MAX (plot->ticks.lo, MIN (0, plot->ticks.hi)));
  double inner = n_series > 1 && !stacked ? MAX (1, round (plot->slot * 0.02)) : 0;
  double bar_w, group_w;

  /* Bars fill most of their slot, but not so wide on a big screen that a
   * handful of gates look like walls. */
  if (stacked)
    bar_w = group_w = MIN (plot->slot * 0.62, 8 * r->em);
  else
    {
      group_w = plot->slot * 0.72;
      bar_w = MIN ((group_w - inner * (n_series - 1)) / n_series, 8 * r->em);
      group_w = bar_w * n_series + inner * (n_series - 1);
    }

  if (r->hover >= 0 && (guint) r->hover < n)
    {
      set_color (cr, with_alpha (r->fg, 0.06));
      cairo_rectangle (cr, plot->x0 + r->hover * plot->slot, plot->top, plot->slot, plot->bottom - plot->top);
      cairo_fill (cr);
    }

  for (guint i = 0; i < n; i++)
    {
      double left = category_x (plot, i) - group_w / 2;
      double up = 0, down = 0;

      for (guint s = 0; s < n_series; s++)
        {
          double v = series_at (self, s)->values[i], from, to, x;
          GdkRGBA color = series_color (r, s);

          if (!isfinite (v) || v == 0)
            continue;
          if ((int) i == r->hover)
            color = lighten (color, 0.3);
          if (stacked)
            {
              double *acc = v > 0 ? &up : &down;
              from = value_y (plot, *acc);
              *acc += v;
              to = value_y (plot, *acc);
              x = left;
              /* A hairline between the layers of a stack. */
              if (fabs (to - from) > 2)
                to += v > 0 ? 1 : -1;
            }
          else
            {
              from = zero;
              to = value_y (plot, v);
              x = left + s * (bar_w + inner);
            }
          set_color (cr, color);
          bar_path (cr, x, bar_w, from, to, !stacked);
          cairo_fill (cr);
        }
    }
}

static void
draw_limit (Render *r, const Plot *plot)
{
  PvChart *self = r->self;
  cairo_t *cr = r->cr;
  double y = round (value_y (plot, self->limit)) + 0.5;
  static const double dash[] = { 6, 4 };
  char value[64];
  const char *text = self->limit_label;
  PangoRectangle logical;

  set_color (cr, r->limit);
  cairo_set_line_width (cr, 1.5);
  cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
  cairo_move_to (cr, plot->x0, y);
  cairo_line_to (cr, plot->x1, y);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  if (text == NULL || text[0] == '\0')
    {
      format_value (self, self->limit, value, sizeof value);
      text = value;
    }
  logical = measure_text (r, TEXT_SMALL, text, plot->x1 - plot->x0, 1);
  /* Above the line at its right end, or below it when it runs along the
   * top of the plot. */
  if (y - 2 - logical.height >= plot->top - r->em / 2)
    draw_text (r, PV_CHART_LABEL_LIMIT, TEXT_SMALL, text, plot->x1, y - 2, 1, 1, plot->x1 - plot->x0, 1, r->limit);
  else
    draw_text (r, PV_CHART_LABEL_LIMIT, TEXT_SMALL, text, plot->x1, y + 2, 1, 0, plot->x1 - plot->x0, 1, r->limit);
}

static void
render_cartesian (Render *r, double top)
{
  PvChart *self = r->self;
  guint n = self->categories->len;
  gboolean notes = has_notes (self);
  const double *widths = category_widths (r);
  double min, max;
  double label_off = round (r->em / 2 + r->gap); /* from the axis to the labels' top */
  Plot plot = { 0 };
  XLabels fit = { .step = 1, .lines = 1 };

  value_range (self, &min, &max);
  plot.top = top + round (r->em / 2);
  plot.x1 = r->width - r->pad;
  /* The axes' room depends on the ticks, the ticks on the plot's height,
   * which depends on how the category labels wrap: settle in a few turns. */
  for (int turn = 0; turn < 3; turn++)
    {
      double x_area = label_off + fit.lines * r->em + (notes ? r->em : 0);
      double overhang;
      guint last;
      XLabels refit;

      plot.bottom = r->height - r->pad - x_area;
      compute_ticks (r, min, max, MAX (plot.bottom - plot.top, r->em), &plot.ticks);
      plot.x0 = r->pad + plot.ticks.width + r->gap;
      plot.slot = (plot.x1 - plot.x0) / n;
      refit = fit_x_labels (r, plot.slot);
      /* The first and the last label may not stick out of the chart. */
      overhang = MIN (widths[0], refit.max_width > 0 ? refit.max_width : G_MAXDOUBLE) / 2 - plot.slot / 2;
      if (overhang > plot.x0 - r->pad)
        plot.x0 = r->pad + overhang;
      last = (n - 1) / refit.step * refit.step;
      overhang = MIN (widths[last], refit.max_width > 0 ? refit.max_width : G_MAXDOUBLE) / 2
                 - (n - last - 0.5) * plot.slot;
      plot.x1 = r->width - r->pad - MAX (0, overhang);
      plot.slot = (plot.x1 - plot.x0) / n;
      if (turn > 0 && refit.lines == fit.lines && refit.step == fit.step)
        {
          fit = refit;
          break;
        }
      fit = refit;
    }
  /* Too small to draw a plot at all: leave the header. */
  if (plot.bottom - plot.top < r->em || plot.x1 - plot.x0 < r->em)
    return;
  fit = fit_x_labels (r, plot.slot);

  r->self->geometry = (Geometry){ .valid = TRUE, .x0 = plot.x0, .x1 = plot.x1, .top = plot.top, .bottom = plot.bottom, .slot = plot.slot };
  draw_grid (r, &plot);
  if (self->kind == PV_CHART_LINE)
    draw_lines (r, &plot);
  else
    draw_bars (r, &plot);
  draw_x_axis (r, &plot, &fit, plot.bottom + label_off);
  if (isfinite (self->limit))
    draw_limit (r, &plot);
}

/* ---- the donut ---- */

/* "1,234 (45%)": a slice's value and share, as the legend and hover
 * show them. */
static void
format_share (PvChart *self, double value, double total, char *buffer, gsize size)
{
  char number[64];
  double percent = total > 0 ? 100 * value / total : 0;

  format_value (self, value, number, sizeof number);
  if (percent > 0 && percent < 1)
    g_snprintf (buffer, size, "%s (<1%%)", number);
  else
    g_snprintf (buffer, size, "%s (%.0f%%)", number, percent);
}

static double
slice_value (PvChart *self, guint i)
{
  double v = series_at (self, 0)->values[i];

  return isfinite (v) && v > 0 ? v : 0;
}

static void
draw_slice (Render *r, const Geometry *g, double a0, double a1, double push)
{
  cairo_t *cr = r->cr;
  double gap = 1.5; /* pixels between slices */
  double mid = (a0 + a1) / 2;
  double cx = g->cx + push * cos (mid), cy = g->cy + push * sin (mid);
  double outer_gap = MIN (gap / g->r_out, (a1 - a0) / 3);
  double inner_gap = MIN (gap / g->r_in, (a1 - a0) / 3);

  cairo_new_path (cr);
  cairo_arc (cr, cx, cy, g->r_out, a0 + outer_gap, a1 - outer_gap);
  cairo_arc_negative (cr, cx, cy, g->r_in, a1 - inner_gap, a0 + inner_gap);
  cairo_close_path (cr);
  cairo_fill (cr);
}

static void
render_donut (Render *r, double top)
{
  PvChart *self = r->self;
  guint n = self->categories->len;
  double total = 0, name_w = 0, full_name_w, value_w = 0, swatch = round (0.7 * r->em), row_h = round (1.5 * r->em);
  double left = r->pad, width = r->width - 2 * r->pad, height = r->height - r->pad - top;
  /* A ring as tall as a 4K monitor's card is a poster, not a chart. */
  double max_diameter = 30 * r->em;
  double legend_w, legend_h, diameter, legend_x, legend_y, angle;
  gboolean beside;
  Geometry *g = &self->geometry;
  char text[128];
  guint rows, columns;

  for (guint i = 0; i < n; i++)
    total += slice_value (self, i);
  for (guint i = 0; i < n; i++)
    {
      name_w = MAX (name_w, text_width (r, TEXT_SMALL, category (self, i)));
      format_share (self, slice_value (self, i), total, text, sizeof text);
      value_w = MAX (value_w, text_width (r, TEXT_SMALL, text));
    }
  full_name_w = name_w;
  name_w = MIN (full_name_w, MAX (width / 2 - swatch - value_w, 4 * r->em));
  legend_w = swatch + r->gap + name_w + r->em + value_w;

  /* The legend as a table beside the ring on a wide chart, in columns
   * under it on a narrow one. */
  beside = width - legend_w - 2 * r->em >= MIN (height, 8 * r->em);
  /* Under the ring a name may take the whole width: "WhatsApp" is not
   * cut to "WhatsA…" to leave room for a ring that is not beside it. */
  if (!beside)
    {
      name_w = MIN (full_name_w, MAX (width - swatch - r->gap - r->em - value_w, 4 * r->em));
      legend_w = swatch + r->gap + name_w + r->em + value_w;
    }
  if (beside)
    {
      rows = MAX (1, (guint) floor (height / row_h));
      columns = (n + rows - 1) / rows;
      rows = (n + columns - 1) / columns;
      diameter = MIN (MIN (height, width - columns * (legend_w + r->em) - r->em), max_diameter);
      legend_x = left + (width - diameter - 2 * r->em - columns * legend_w - (columns - 1) * r->em) / 2
                 + diameter + 2 * r->em;
      legend_y = top + (height - rows * row_h) / 2;
      g->cx = legend_x - 2 * r->em - diameter / 2;
      g->cy = top + height / 2;
    }
  else
    {
      columns = MAX (1, (guint) floor ((width + r->em) / (legend_w + r->em)));
      columns = MIN (columns, n);
      rows = (n + columns - 1) / columns;
      legend_h = rows * row_h;
      diameter = MIN (MIN (width, height - legend_h - r->em), max_diameter);
      legend_y = top + MAX (0, (height - diameter - r->em - legend_h) / 2);
      g->cx = left + width / 2;
      g->cy = legend_y + diameter / 2;
      legend_x = left + (width - columns * legend_w - (columns - 1) * r->em) / 2;
      legend_y += diameter + r->em;
    }
  if (diameter < 4 * r->em)
    return;
  g->valid = TRUE;
  g->r_out = diameter / 2 - 4; /* room for the hovered slice to move out */
  g->r_in = g->r_out * 0.62;

  g_array_set_size (self->angles, n + 1);
  angle = -G_PI / 2;
  for (guint i = 0; i < n; i++)
    {
      double sweep = 2 * G_PI * slice_value (self, i) / total;

      g_array_index (self->angles, double, i) = angle;
      if (sweep > 0)
        {
          GdkRGBA color = slice_color (r, i);

          set_color (r->cr, (int) i == r->hover ? lighten (color, 0.25) : color);
          draw_slice (r, g, angle, angle + sweep, (int) i == r->hover ? 4 : 0);
        }
      angle += sweep;
    }
  g_array_index (self->angles, double, n) = angle;

  /* The total in the hole, as big as the hole allows. */
  {
    double size = pango_font_description_get_size (r->fonts[TEXT_SMALL]) / (double) PANGO_SCALE;
    double hole = 2 * g->r_in * 0.8;
    gboolean caption = g->r_in > 2 * r->em;
    PangoRectangle logical;

    format_value (self, total, text, sizeof text);
    double big = CLAMP (g->r_in * 0.42, size, size * 3), wide;

    pango_font_description_set_absolute_size (r->fonts[TEXT_BIG], big * PANGO_SCALE);
    /* A number is never cut ("3,0…"): a grouped one, or a small ring
     * under a tall legend, takes a smaller size that fits. */
    while ((wide = text_width (r, TEXT_BIG, text)) > hole && big > 4)
      {
        /* Hinting makes text width not quite proportional to size. */
        big = MAX (big * 0.95 * hole / wide, 4);
        pango_font_description_set_absolute_size (r->fonts[TEXT_BIG], big * PANGO_SCALE);
      }
    logical = measure_text (r, TEXT_BIG, text, hole, 1);
    draw_text (r, PV_CHART_LABEL_TOTAL, TEXT_BIG, text, g->cx, g->cy - (caption ? 0.1 * logical.height : 0), 0.5,
               0.5, hole, 1, r->fg);
    if (caption)
      draw_text (r, PV_CHART_LABEL_TOTAL, TEXT_SMALL, _ ("Total"), g->cx, g->cy + 0.4 * logical.height, 0.5, 0,
                 hole, 1, r->dim);
  }

  for (guint i = 0; i < n; i++)
    {
      guint column = i / rows, row = i % rows;
      double x = legend_x + column * (legend_w + r->em), y = legend_y + row * row_h + (row_h - r->em) / 2;
      graphene_rect_t name_box, value_box;
      PvChartLabel *label;
      gboolean cut;

      set_color (r->cr, slice_color (r, i));
      cairo_rectangle (r->cr, x, round (y + (r->em - swatch) / 2), swatch, swatch);
      cairo_fill (r->cr);
      format_share (self, slice_value (self, i), total, text, sizeof text);
      name_box = draw_text (r, PV_CHART_LABEL_LEGEND, TEXT_SMALL, category (self, i), x + swatch + r->gap, y, 0, 0,
                            name_w, 1, r->fg);
      value_box = draw_text (r, PV_CHART_LABEL_LEGEND, TEXT_SMALL, text, x + legend_w, y, 1, 0, 0, 1, r->dim);
      /* One entry, "web 1,200 (45%)", in the layout data. */
      cut = ((PvChartLabel *) g_ptr_array_index (self->labels, self->labels->len - 2))->cut
            || ((PvChartLabel *) g_ptr_array_index (self->labels, self->labels->len - 1))->cut;
      g_ptr_array_set_size (self->labels, self->labels->len - 2);
      label = g_new0 (PvChartLabel, 1);
      label->role = PV_CHART_LABEL_LEGEND;
      label->cut = cut;
      label->text = g_strdup_printf ("%s %s", category (self, i), text);
      graphene_rect_union (&name_box, &value_box, &label->bounds);
      g_ptr_array_add (self->labels, label);
    }
}

/* ---- the whole chart ---- */

static gboolean
is_empty (PvChart *self)
{
  double min, max;

  if (self->categories->len == 0 || self->series->len == 0)
    return TRUE;
  if (self->kind == PV_CHART_DONUT)
    {
      for (guint i = 0; i < self->categories->len; i++)
        if (slice_value (self, i) > 0)
          return FALSE;
      return TRUE;
    }
  return !value_range (self, &min, &max);
}

/* The font the chart's text derives from: the widget's, which carries the
 * desktop's text scaling, or "Sans 10" at 96 dpi without a display. In
 * pixels, as an absolute size. */
static PangoFontDescription *
base_font (PvChart *self, cairo_font_options_t **options)
{
  PangoFontDescription *font;
  double px;

  *options = NULL;
  if (gdk_display_get_default () != NULL)
    {
      PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
      const cairo_font_options_t *widget_options = pango_cairo_context_get_font_options (context);
      double dpi = pango_cairo_context_get_resolution (context);

      font = pango_font_description_copy (pango_context_get_font_description (context));
      px = pango_font_description_get_size (font) / (double) PANGO_SCALE;
      if (!pango_font_description_get_size_is_absolute (font))
        px *= (dpi > 0 ? dpi : 96) / 72;
      if (widget_options != NULL)
        *options = cairo_font_options_copy (widget_options);
    }
  else
    {
      font = pango_font_description_from_string ("Sans");
      px = 10 * 96 / 72.0;
    }
  if (pango_font_description_get_family (font) == NULL)
    pango_font_description_set_family (font, "Sans");
  if (!(px > 0))
    px = 10 * 96 / 72.0;
  pango_font_description_set_absolute_size (font, px * PANGO_SCALE);
  return font;
}

static void
render (PvChart *self, cairo_t *cr, int width, int height, gboolean dark, const GdkRGBA *fg,
        gboolean background, int hover)
{
  g_autoptr (PangoFontDescription) base = NULL;
  cairo_font_options_t *options = NULL;
  Render r = { .self = self, .cr = cr, .width = width, .height = height, .dark = dark, .hover = hover };
  double px, top;

  g_ptr_array_set_size (self->labels, 0);
  memset (&self->geometry, 0, sizeof self->geometry);
  if (width <= 0 || height <= 0)
    return;

  if (self->layout == NULL)
    self->layout = pango_cairo_create_layout (cr);
  else
    pango_cairo_update_layout (cr, self->layout);
  base = base_font (self, &options);
  if (options != NULL)
    {
      pango_cairo_context_set_font_options (pango_layout_get_context (self->layout), options);
      cairo_font_options_destroy (options);
    }
  r.layout = self->layout;
  pango_layout_set_alignment (r.layout, PANGO_ALIGN_LEFT);
  pango_layout_set_wrap (r.layout, PANGO_WRAP_WORD_CHAR);

  /* Small text a little under the desktop's size, never under 11 px;
   * the title at the desktop's size, bold. */
  px = pango_font_description_get_size (base) / (double) PANGO_SCALE;
  r.fonts[TEXT_SMALL] = pango_font_description_copy (base);
  pango_font_description_set_absolute_size (r.fonts[TEXT_SMALL], MAX (round (px * 0.9), 11) * PANGO_SCALE);
  r.fonts[TEXT_TITLE] = pango_font_description_copy (base);
  pango_font_description_set_absolute_size (r.fonts[TEXT_TITLE], MAX (px, 12) * PANGO_SCALE);
  pango_font_description_set_weight (r.fonts[TEXT_TITLE], PANGO_WEIGHT_BOLD);
  r.fonts[TEXT_BIG] = pango_font_description_copy (r.fonts[TEXT_TITLE]);
  r.em = ceil (measure_text (&r, TEXT_SMALL, "0", 0, 1).height);
  r.pad = round (0.75 * r.em);
  r.gap = round (0.4 * r.em);

  r.palette = dark ? palette_dark : palette_light;
  if (fg != NULL)
    r.fg = *fg;
  else
    r.fg = dark ? rgb (0xffffff, 1) : rgb (0x000000, 0.8);
  r.dim = with_alpha (r.fg, dark ? 0.75 : 0.72);
  r.grid = with_alpha (r.fg, dark ? 0.12 : 0.10);
  r.axis = with_alpha (r.fg, 0.45);
  r.faint = with_alpha (r.fg, dark ? 0.38 : 0.32);
  r.limit = rgb (dark ? 0xff7b63 : 0xc01c28, 1);

  cairo_save (cr);
  if (background)
    {
      /* libadwaita's view background, light and dark. */
      GdkRGBA bg = dark ? rgb (0x1e1e1e, 1) : rgb (0xffffff, 1);
      set_color (cr, bg);
      cairo_rectangle (cr, 0, 0, width, height);
      cairo_fill (cr);
    }

  top = draw_header (&r);
  if (is_empty (self))
    draw_text (&r, PV_CHART_LABEL_EMPTY, TEXT_SMALL, _ ("No data yet"), width / 2.0,
               top + (height - r.pad - top) / 2, 0.5, 0.5, width - 2 * r.pad, 1, r.dim);
  else if (self->kind == PV_CHART_DONUT)
    render_donut (&r, top);
  else
    render_cartesian (&r, top);
  cairo_restore (cr);

  for (guint i = 0; i < N_TEXT_SIZES; i++)
    g_clear_pointer (&r.fonts[i], pango_font_description_free);
}

/* ---- hovering ---- */

static int
hit_test (PvChart *self, double x, double y)
{
  const Geometry *g = &self->geometry;
  guint n = self->categories->len;

  if (!g->valid || n == 0)
    return -1;
  if (self->kind == PV_CHART_DONUT)
    {
      double dx = x - g->cx, dy = y - g->cy, d = hypot (dx, dy), angle;

      if (d < g->r_in || d > g->r_out + 4 || self->angles->len != n + 1)
        return -1;
      /* Angles run from -π/2 clockwise through 3π/2. */
      angle = atan2 (dy, dx);
      if (angle < -G_PI / 2)
        angle += 2 * G_PI;
      for (guint i = 0; i < n; i++)
        if (angle >= g_array_index (self->angles, double, i) && angle < g_array_index (self->angles, double, i + 1))
          return (int) i;
      return -1;
    }
  if (x < g->x0 || x >= g->x1 || y < g->top || y > g->bottom)
    return -1;
  return (int) CLAMP (floor ((x - g->x0) / g->slot), 0, n - 1);
}

char *
pv_chart_describe_point (PvChart *self, double x, double y)
{
  GString *text;
  int i;
  char value[64];
  gboolean any = FALSE;

  g_return_val_if_fail (PV_IS_CHART (self), NULL);

  i = hit_test (self, x, y);
  if (i < 0)
    return NULL;
  if (self->kind == PV_CHART_DONUT)
    {
      double total = 0;
      char share[128];

      for (guint c = 0; c < self->categories->len; c++)
        total += slice_value (self, c);
      format_share (self, slice_value (self, (guint) i), total, share, sizeof share);
      return g_strdup_printf ("%s: %s", category (self, (guint) i), share);
    }

  text = g_string_new (category (self, (guint) i));
  for (guint s = 0; s < self->series->len; s++)
    {
      double v = series_at (self, s)->values[i];

      if (!isfinite (v))
        continue;
      format_value (self, v, value, sizeof value);
      g_string_append_printf (text, " · %s: %s", series_at (self, s)->name, value);
      any = TRUE;
    }
  if (!any)
    return g_string_free (text, TRUE), NULL;
  if (self->kind == PV_CHART_STACKED_BAR && self->series->len > 1)
    {
      double total = 0;

      for (guint s = 0; s < self->series->len; s++)
        if (isfinite (series_at (self, s)->values[i]))
          total += series_at (self, s)->values[i];
      format_value (self, total, value, sizeof value);
      g_string_append_printf (text, " · %s: %s", _ ("Total"), value);
    }
  if (note (self, (guint) i) != NULL)
    g_string_append_printf (text, " · %s", note (self, (guint) i));
  return g_string_free (text, FALSE);
}

static void
motion_cb (GtkEventControllerMotion *controller, double x, double y, gpointer user_data)
{
  PvChart *self = user_data;
  int hover = hit_test (self, x, y);

  if (hover != self->hover)
    {
      self->hover = hover;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *controller, gpointer user_data)
{
  PvChart *self = user_data;

  if (self->hover != -1)
    {
      self->hover = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer user_data)
{
  g_autofree char *text = pv_chart_describe_point (PV_CHART (widget), x, y);

  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* ---- the widget ---- */

static gboolean
widget_is_dark (void)
{
  return adw_style_manager_get_dark (adw_style_manager_get_default ());
}

static void
pv_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PvChart *self = PV_CHART (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GdkRGBA fg;
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  render (self, cr, width, height, widget_is_dark (), &fg, FALSE, self->hover);
  cairo_destroy (cr);
}

static void
pv_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                  int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* The dashboard flows its charts at their natural width: this
       * one puts three abreast on a full-screen 1920 px window, two on
       * a 1024 px one. */
      *minimum = 200;
      *natural = 360;
    }
  else
    {
      *minimum = 160;
      *natural = 280;
    }
}

static void
series_free (gpointer data)
{
  Series *series = data;

  g_free (series->name);
  g_free (series->values);
  g_free (series);
}

static void
style_changed_cb (PvChart *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
pv_chart_finalize (GObject *object)
{
  PvChart *self = PV_CHART (object);

  g_free (self->title);
  g_ptr_array_unref (self->categories);
  g_ptr_array_unref (self->notes);
  g_ptr_array_unref (self->series);
  g_free (self->value_format);
  g_free (self->limit_label);
  g_ptr_array_unref (self->labels);
  g_array_unref (self->angles);
  g_array_unref (self->label_widths);
  g_clear_object (&self->layout);

  G_OBJECT_CLASS (pv_chart_parent_class)->finalize (object);
}

static void
pv_chart_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PvChart *self = PV_CHART (object);

  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_chart_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PvChart *self = PV_CHART (object);

  switch (prop_id)
    {
    case PROP_KIND:
      self->kind = g_value_get_enum (value);
      break;
    case PROP_TITLE:
      pv_chart_set_title (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_chart_class_init (PvChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pv_chart_finalize;
  object_class->get_property = pv_chart_get_property;
  object_class->set_property = pv_chart_set_property;
  widget_class->snapshot = pv_chart_snapshot;
  widget_class->measure = pv_chart_measure;

  properties[PROP_KIND] = g_param_spec_enum ("kind", NULL, NULL, PV_TYPE_CHART_KIND, PV_CHART_LINE,
                                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pv_chart_init (PvChart *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->categories = g_ptr_array_new_with_free_func (g_free);
  self->notes = g_ptr_array_new_with_free_func (g_free);
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->value_format = g_strdup ("%'.0f");
  self->limit = NAN;
  self->labels = g_ptr_array_new_with_free_func (label_free);
  self->angles = g_array_new (FALSE, TRUE, sizeof (double));
  self->label_widths = g_array_new (FALSE, TRUE, sizeof (double));
  self->hover = -1;

  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
  if (gdk_display_get_default () != NULL)
    g_signal_connect_object (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (style_changed_cb), self,
                             G_CONNECT_SWAPPED);
}

/* ---- the API ---- */

GtkWidget *
pv_chart_new (PvChartKind kind)
{
  return g_object_new (PV_TYPE_CHART, "kind", kind, NULL);
}

PvChartKind
pv_chart_get_kind (PvChart *self)
{
  g_return_val_if_fail (PV_IS_CHART (self), PV_CHART_LINE);
  return self->kind;
}

void
pv_chart_set_title (PvChart *self, const char *title)
{
  g_return_if_fail (PV_IS_CHART (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, title ? title : "", -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
pv_chart_get_title (PvChart *self)
{
  g_return_val_if_fail (PV_IS_CHART (self), NULL);
  return self->title;
}

void
pv_chart_set_categories (PvChart *self, const char *const *labels, guint n)
{
  g_return_if_fail (PV_IS_CHART (self));
  g_return_if_fail (labels != NULL || n == 0);

  for (guint i = 0; i < n; i++)
    g_return_if_fail (labels[i] != NULL);
  if (n != self->categories->len)
    {
      g_ptr_array_set_size (self->series, 0);
      g_ptr_array_set_size (self->notes, 0);
    }
  g_ptr_array_set_size (self->categories, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->categories, g_strdup (labels[i]));
  g_array_set_size (self->label_widths, 0);
  self->clock_minutes = clock_minutes (self->categories);
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pv_chart_set_notes (PvChart *self, const char *const *notes, guint n)
{
  g_return_if_fail (PV_IS_CHART (self));
  g_return_if_fail (notes != NULL || n == 0);
  g_return_if_fail (n == 0 || n == self->categories->len);

  g_ptr_array_set_size (self->notes, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->notes, g_strdup (notes[i]));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
pv_chart_add_series (PvChart *self, const char *name, const double *values, guint n, PvChartSeriesStyle style)
{
  Series *series;

  g_return_val_if_fail (PV_IS_CHART (self), G_MAXUINT);
  g_return_val_if_fail (name != NULL, G_MAXUINT);
  g_return_val_if_fail (values != NULL || n == 0, G_MAXUINT);
  g_return_val_if_fail (n == self->categories->len, G_MAXUINT);

  series = g_new0 (Series, 1);
  series->name = g_strdup (name);
  series->values = g_memdup2 (values, MAX (n, 1) * sizeof (double));
  series->style = style;
  g_ptr_array_add (self->series, series);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->series->len - 1;
}

void
pv_chart_set_series_values (PvChart *self, guint series, const double *values, guint n)
{
  g_return_if_fail (PV_IS_CHART (self));
  g_return_if_fail (series < self->series->len);
  g_return_if_fail (values != NULL || n == 0);
  g_return_if_fail (n == self->categories->len);

  memcpy (series_at (self, series)->values, values, n * sizeof (double));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pv_chart_clear_series (PvChart *self)
{
  g_return_if_fail (PV_IS_CHART (self));

  g_ptr_array_set_size (self->series, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
pv_chart_get_n_series (PvChart *self)
{
  g_return_val_if_fail (PV_IS_CHART (self), 0);
  return self->series->len;
}

/* Whether @format converts exactly one double and nothing else, so it is
 * safe to hand to printf with one. */
static gboolean
is_value_format (const char *format)
{
  guint conversions = 0;

  for (const char *p = format; *p != '\0'; p++)
    {
      if (*p != '%')
        continue;
      if (*++p == '%')
        continue;
      p += strspn (p, "-+ #0'");
      p += strspn (p, "0123456789");
      if (*p == '.')
        p += 1 + strspn (p + 1, "0123456789");
      if (*p == '\0' || strchr ("fFeEgGaA", *p) == NULL)
        return FALSE;
      conversions++;
    }
  return conversions == 1;
}

void
pv_chart_set_value_format (PvChart *self, const char *format)
{
  g_return_if_fail (PV_IS_CHART (self));
  g_return_if_fail (format == NULL || is_value_format (format));

  g_free (self->value_format);
  self->value_format = g_strdup (format ? format : "%'.0f");
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pv_chart_set_limit (PvChart *self, double value, const char *label)
{
  g_return_if_fail (PV_IS_CHART (self));

  self->limit = isfinite (value) ? value : NAN;
  g_free (self->limit_label);
  self->limit_label = isfinite (value) ? g_strdup (label) : NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pv_chart_render (PvChart *self, cairo_t *cr, int width, int height, gboolean dark)
{
  g_return_if_fail (PV_IS_CHART (self));
  g_return_if_fail (cr != NULL);

  render (self, cr, width, height, dark, NULL, TRUE, -1);
}

GPtrArray *
pv_chart_get_labels (PvChart *self)
{
  g_return_val_if_fail (PV_IS_CHART (self), NULL);
  return self->labels;
}

static gboolean
check_cairo (cairo_status_t status, int saved_errno, const char *path, GError **error)
{
  g_autofree char *display = NULL;

  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  display = g_filename_display_name (path);
  if (status == CAIRO_STATUS_WRITE_ERROR && saved_errno != 0)
    /* Cairo folds every I/O failure into WRITE_ERROR; errno still says
     * what to fix. */
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), _ ("Cannot save the chart as “%s”: %s"),
                 display, g_strerror (saved_errno));
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("Cannot save the chart as “%s”: %s"), display,
                 cairo_status_to_string (status));
  return FALSE;
}

gboolean
pv_chart_save (PvChart *self, const char *path, PvChartFormat format, int width, int height, gboolean dark,
               GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  int saved_errno;

  g_return_val_if_fail (PV_IS_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("A chart of %d × %d pixels cannot be saved"), width, height);
      return FALSE;
    }
  if (format != PV_CHART_PNG && format != PV_CHART_SVG)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("Charts are saved as PNG or SVG only"));
      return FALSE;
    }

  errno = 0;
  if (format == PV_CHART_SVG)
    {
      surface = cairo_svg_surface_create (path, width, height);
      /* Pixels, as the chart was laid out, not cairo's default points
       * (which a browser shows a third larger). */
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
    }
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  saved_errno = errno;
  status = cairo_surface_status (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return check_cairo (status, saved_errno, path, error);
    }

  cr = cairo_create (surface);
  render (self, cr, width, height, dark, NULL, TRUE, -1);
  status = cairo_status (cr);
  cairo_destroy (cr);

  errno = 0;
  if (status == CAIRO_STATUS_SUCCESS && format == PV_CHART_PNG)
    status = cairo_surface_write_to_png (surface, path);
  else if (status == CAIRO_STATUS_SUCCESS)
    {
      /* The SVG is written as it is drawn and finished here. */
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  saved_errno = errno;
  cairo_surface_destroy (surface);
  /* The screen's layout comes back at the next frame. */
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return check_cairo (status, saved_errno, path, error);
}

void
pv_chart_set_header_inset (PvChart *self, int pixels)
{
  g_return_if_fail (PV_IS_CHART (self));
  self->header_inset = MAX (pixels, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
