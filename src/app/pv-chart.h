/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-chart.h: the one chart widget of the control room — line, bar,
 * stacked bar and donut drawn with Cairo, with axes, ticks, labels and a
 * legend that stay readable from 1366×768 to 4K and in the dark style, a
 * hover read-out, and export as PNG or SVG. The data are categories (the x
 * axis, or the donut's slices) and named series of one value each. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  PV_CHART_LINE,
  PV_CHART_BAR,         /* series side by side in each category */
  PV_CHART_STACKED_BAR, /* series stacked in each category */
  PV_CHART_DONUT,       /* the first series' values as slices */
} PvChartKind;

typedef enum
{
  PV_CHART_SERIES_NORMAL,
  PV_CHART_SERIES_FAINT, /* a thin, pale comparison (yesterday) */
} PvChartSeriesStyle;

typedef enum
{
  PV_CHART_PNG,
  PV_CHART_SVG,
} PvChartFormat;

/* What a piece of text drawn in the last layout is. */
typedef enum
{
  PV_CHART_LABEL_TITLE,
  PV_CHART_LABEL_X_AXIS, /* a category under the x axis */
  PV_CHART_LABEL_Y_AXIS, /* a tick value beside the y axis */
  PV_CHART_LABEL_LEGEND,
  PV_CHART_LABEL_NOTE,  /* a category's note (a gate's "12/min") */
  PV_CHART_LABEL_EMPTY, /* "No data yet" */
  PV_CHART_LABEL_LIMIT, /* the limit line's label */
  PV_CHART_LABEL_TOTAL, /* the donut's total and its caption */
} PvChartLabelRole;

typedef struct
{
  PvChartLabelRole role;
  char *text;
  char *lines;            /* the text as drawn, a '\n' where a line breaks */
  graphene_rect_t bounds; /* in the chart's own coordinates */
  gboolean cut;           /* drawn shortened, with an ellipsis */
} PvChartLabel;

/* PvChartKind as a GType, for the "kind" property (construct-only). */
#define PV_TYPE_CHART_KIND (pv_chart_kind_get_type ())
GType pv_chart_kind_get_type (void);

#define PV_TYPE_CHART (pv_chart_get_type ())
G_DECLARE_FINAL_TYPE (PvChart, pv_chart, PV, CHART, GtkWidget)

GtkWidget *pv_chart_new (PvChartKind kind);

PvChartKind pv_chart_get_kind (PvChart *self);
/* Drawn at the top left; also the default name of a saved file. */
void pv_chart_set_title (PvChart *self, const char *title);
const char *pv_chart_get_title (PvChart *self);

/* The categories, in order (@n labels; copied). Series values are per
 * category. Changing them keeps the series only if their length still
 * matches; otherwise the series (and the notes) are dropped. */
void pv_chart_set_categories (PvChart *self, const char *const *labels, guint n);
/* Notes under or beside each category (NULL entries for none; copied). */
void pv_chart_set_notes (PvChart *self, const char *const *notes, guint n);

/* Adds a series and returns its index; @values has one value per category,
 * NAN where there is none (a line breaks there; the future of today). */
guint pv_chart_add_series (PvChart *self, const char *name, const double *values, guint n,
                           PvChartSeriesStyle style);
/* Replaces a series' values in place: the live path, no reallocation. */
void pv_chart_set_series_values (PvChart *self, guint series, const double *values, guint n);
void pv_chart_clear_series (PvChart *self);
guint pv_chart_get_n_series (PvChart *self);

/* How values read on the y axis, in the hover text and in notes: a
 * printf format for one double, "%'.0f" unless set: grouped as the
 * locale groups digits, as the tiles beside the chart show them. */
void pv_chart_set_value_format (PvChart *self, const char *format);
/* A horizontal line at @value (the venue's capacity) with @label; NAN to
 * remove. The y axis always reaches it. */
void pv_chart_set_limit (PvChart *self, double value, const char *label);

/* Keeps @pixels clear at the right end of the title row (a button laid
 * over the chart's corner); the legend moves left or under the title. */
void pv_chart_set_header_inset (PvChart *self, int pixels);

/* Draws the chart into @cr over @width × @height in the light or the dark
 * palette, as the widget does: the one drawing routine behind the screen
 * and the saved files. Afterwards pv_chart_get_labels() describes it. */
void pv_chart_render (PvChart *self, cairo_t *cr, int width, int height, gboolean dark);
/* Saves the chart at @width × @height as a PNG or an SVG file. */
gboolean pv_chart_save (PvChart *self, const char *path, PvChartFormat format, int width, int height,
                        gboolean dark, GError **error);

/* The text of the last layout (element-type PvChartLabel, owned by the
 * chart, valid until the next draw). Tests read axis labels here. */
GPtrArray *pv_chart_get_labels (PvChart *self);
/* What hovering at (@x, @y) in the last layout shows, e.g. "10:15 · Today:
 * 412", or NULL over nothing. */
char *pv_chart_describe_point (PvChart *self, double x, double y);

G_END_DECLS
