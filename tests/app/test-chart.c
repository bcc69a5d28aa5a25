/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-chart.c: the dashboard's chart widget with the data the dashboard
 * shows — entries per quarter hour today against yesterday, people inside
 * against the venue's capacity, entries per gate with their rates,
 * registrations by category and channel, and by channel alone. Each chart
 * is saved as a PNG in the light and the dark style (kept under
 * PRAVESH_ARTIFACTS for a person to look at) and checked in code through
 * the chart's own layout data: the axis labels it drew, that no two of a
 * kind overlap from a laptop's small card to a 4K monitor, the legend, the
 * hover text. Then a real window under Xvfb: drawn, hovered, switched to
 * the dark style. */
#include "config.h"

#include <cairo-svg.h>
#include <math.h>
#include <string.h>

#include "app-test.h"
#include "pv-chart.h"

typedef enum
{
  CHART_QUARTERS,
  CHART_INSIDE,
  CHART_GATES,
  CHART_CATEGORIES,
  CHART_CHANNELS,
  N_CHARTS
} ChartData;

static const char *const chart_names[] = { "quarters", "inside", "gates", "categories", "channels" };

static const char *const gates[] = { "Gate 1", "Gate 2 (Hall 5)", "Gate 3", "VIP gate", "Gate 10 — Pragati Maidan metro" };
static const double gate_entries[] = { 1840, 412, 2210, 95, 3020 };
static const char *const gate_rates[] = { "12/min", "3/min", "15/min", NULL, "21/min" };

static const char *const kinds[] = { "One-day", "Season", "School group", "Senior citizen", "Student", "Exhibitor" };
static const char *const channels[] = { "web", "whatsapp", "desk", "import" };
static const double by_channel[4][6] = {
  { 5200, 800, 0, 310, 2100, 40 },
  { 3100, 420, 0, 650, 1800, 0 },
  { 1900, 260, 120, 900, 400, 15 },
  { 0, 0, 2400, 0, 0, 380 },
};

/* A visitor curve over the day: quiet at night, a peak after noon. */
static double
curve (guint quarter, double peak)
{
  double hour = quarter / 4.0;

  if (hour < 9 || hour > 21)
    return 0;
  return round (peak * exp (-pow ((hour - 13.5) / 3.2, 2)));
}

static char **
quarter_labels (void)
{
  char **labels = g_new0 (char *, 97);

  for (guint i = 0; i < 96; i++)
    labels[i] = g_strdup_printf ("%02u:%02u", i / 4, i % 4 * 15);
  return labels;
}

/* A chart as the dashboard makes it. "Now" is 10:15, quarter 41. */
static PvChart *
make_chart (ChartData data)
{
  PvChart *chart = NULL;

  switch (data)
    {
    case CHART_QUARTERS:
      {
        g_auto (GStrv) labels = quarter_labels ();
        double today[96], yesterday[96];

        chart = PV_CHART (pv_chart_new (PV_CHART_LINE));
        pv_chart_set_title (chart, "Entries per 15 minutes");
        pv_chart_set_categories (chart, (const char *const *) labels, 96);
        for (guint i = 0; i < 96; i++)
          {
            today[i] = i <= 41 ? curve (i, 460) + (curve (i, 460) > 0 ? (i % 3) * 7 : 0) : NAN;
            yesterday[i] = curve (i, 400);
          }
        g_assert_cmpuint (pv_chart_add_series (chart, "Today", today, 96, PV_CHART_SERIES_NORMAL), ==, 0);
        g_assert_cmpuint (pv_chart_add_series (chart, "Yesterday", yesterday, 96, PV_CHART_SERIES_FAINT), ==, 1);
        break;
      }
    case CHART_INSIDE:
      {
        g_auto (GStrv) labels = quarter_labels ();
        double inside[96], total = 0;

        chart = PV_CHART (pv_chart_new (PV_CHART_LINE));
        pv_chart_set_title (chart, "Inside now");
        pv_chart_set_categories (chart, (const char *const *) labels, 96);
        for (guint i = 0; i < 96; i++)
          {
            total += curve (i, 700) - (i > 44 ? curve (i - 16, 700) : 0);
            inside[i] = i <= 41 ? MAX (total, 0) : NAN;
          }
        pv_chart_add_series (chart, "Inside", inside, 96, PV_CHART_SERIES_NORMAL);
        pv_chart_set_limit (chart, 5000, "Capacity 5,000");
        break;
      }
    case CHART_GATES:
      chart = PV_CHART (pv_chart_new (PV_CHART_BAR));
      pv_chart_set_title (chart, "Entries per gate today");
      pv_chart_set_categories (chart, gates, G_N_ELEMENTS (gates));
      pv_chart_set_notes (chart, gate_rates, G_N_ELEMENTS (gate_rates));
      pv_chart_add_series (chart, "Entries", gate_entries, G_N_ELEMENTS (gate_entries), PV_CHART_SERIES_NORMAL);
      break;
    case CHART_CATEGORIES:
      chart = PV_CHART (pv_chart_new (PV_CHART_STACKED_BAR));
      pv_chart_set_title (chart, "Registrations by category");
      pv_chart_set_categories (chart, kinds, G_N_ELEMENTS (kinds));
      for (guint c = 0; c < G_N_ELEMENTS (channels); c++)
        pv_chart_add_series (chart, channels[c], by_channel[c], G_N_ELEMENTS (kinds), PV_CHART_SERIES_NORMAL);
      break;
    case CHART_CHANNELS:
      {
        double totals[4] = { 0 };

        chart = PV_CHART (pv_chart_new (PV_CHART_DONUT));
        pv_chart_set_title (chart, "Registrations by channel");
        pv_chart_set_categories (chart, channels, 4);
        for (guint c = 0; c < 4; c++)
          for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
            totals[c] += by_channel[c][k];
        pv_chart_add_series (chart, "Registrations", totals, 4, PV_CHART_SERIES_NORMAL);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  return g_object_ref_sink (chart);
}

static char *
artifact (const char *name, const char *extension)
{
  const char *dir = g_getenv ("PRAVESH_ARTIFACTS");
  g_autofree char *file = g_strdup_printf ("chart-%s.%s", name, extension);

  g_mkdir_with_parents (dir ? dir : ".", 0755);
  return g_build_filename (dir ? dir : ".", file, NULL);
}

static const PvChartLabel *
find_label (PvChart *chart, PvChartLabelRole role, const char *text)
{
  GPtrArray *labels = pv_chart_get_labels (chart);

  for (guint i = 0; i < labels->len; i++)
    {
      const PvChartLabel *label = g_ptr_array_index (labels, i);
      if (label->role == role && (text == NULL || strcmp (label->text, text) == 0))
        return label;
    }
  return NULL;
}

static guint
count_labels (PvChart *chart, PvChartLabelRole role)
{
  GPtrArray *labels = pv_chart_get_labels (chart);
  guint n = 0;

  for (guint i = 0; i < labels->len; i++)
    n += ((const PvChartLabel *) g_ptr_array_index (labels, i))->role == role;
  return n;
}

/* No two texts of one kind overlap, and every text is inside the chart. */
static void
assert_readable (PvChart *chart, int width, int height, const char *where)
{
  GPtrArray *labels = pv_chart_get_labels (chart);

  for (guint i = 0; i < labels->len; i++)
    {
      const PvChartLabel *a = g_ptr_array_index (labels, i);

      if (a->bounds.origin.x < -0.5 || a->bounds.origin.y < -0.5
          || a->bounds.origin.x + a->bounds.size.width > width + 0.5
          || a->bounds.origin.y + a->bounds.size.height > height + 0.5)
        g_error ("%s: “%s” (%g,%g %g×%g) is outside %d×%d", where, a->text, a->bounds.origin.x, a->bounds.origin.y,
                 a->bounds.size.width, a->bounds.size.height, width, height);
      g_assert_cmpfloat (a->bounds.size.width, >, 0);
      for (guint j = i + 1; j < labels->len; j++)
        {
          const PvChartLabel *b = g_ptr_array_index (labels, j);
          graphene_rect_t overlap;

          if (a->role != b->role)
            continue;
          if (graphene_rect_intersection (&a->bounds, &b->bounds, &overlap) && overlap.size.width > 0.5
              && overlap.size.height > 0.5)
            g_error ("%s: “%s” and “%s” overlap", where, a->text, b->text);
        }
    }
}

typedef struct
{
  guint8 r, g, b;
} Pixel;

static Pixel
pixel_at (cairo_surface_t *surface, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  guint32 argb = *(const guint32 *) (gconstpointer) (data + y * cairo_image_surface_get_stride (surface) + x * 4);

  return (Pixel){ (argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff };
}

static double
luminance (Pixel p)
{
  return (0.2126 * p.r + 0.7152 * p.g + 0.0722 * p.b) / 255;
}

static int
distance (Pixel a, Pixel b)
{
  return abs (a.r - b.r) + abs (a.g - b.g) + abs (a.b - b.b);
}

/* Share of the pixels in the middle of the image unlike the background. */
static double
drawn_share (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface), height = cairo_image_surface_get_height (surface);
  Pixel background = pixel_at (surface, 1, 1);
  guint drawn = 0, all = 0;

  cairo_surface_flush (surface);
  for (int y = height / 5; y < height * 4 / 5; y++)
    for (int x = width / 5; x < width * 4 / 5; x++, all++)
      drawn += distance (pixel_at (surface, x, y), background) > 40;
  return (double) drawn / all;
}

/* Each chart in both styles as a PNG: not blank, the right background,
 * the axes' labels there. */
static void
test_png (void)
{
  for (ChartData data = 0; data < N_CHARTS; data++)
    for (int dark = 0; dark < 2; dark++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (PvChart) chart = make_chart (data);
        g_autofree char *name = g_strdup_printf ("%s-%s", chart_names[data], dark ? "dark" : "light");
        g_autofree char *path = artifact (name, "png");
        cairo_surface_t *image;
        double background;

        g_assert_true (pv_chart_save (chart, path, PV_CHART_PNG, 720, 360, dark, &error));
        g_assert_no_error (error);
        g_test_message ("%s", path);
        image = cairo_image_surface_create_from_png (path);
        g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
        g_assert_cmpint (cairo_image_surface_get_width (image), ==, 720);
        g_assert_cmpint (cairo_image_surface_get_height (image), ==, 360);
        background = luminance (pixel_at (image, 1, 1));
        if (dark)
          g_assert_cmpfloat (background, <, 0.2);
        else
          g_assert_cmpfloat (background, >, 0.9);
        g_assert_cmpfloat (drawn_share (image), >, 0.01);
        cairo_surface_destroy (image);

        assert_readable (chart, 720, 360, name);
        g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_EMPTY), ==, 0);
        g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TITLE, pv_chart_get_title (chart)));
        switch (data)
          {
          case CHART_QUARTERS:
          case CHART_INSIDE:
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_X_AXIS, "00:00"));
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "0"));
            /* 96 quarters do not fit 720 pixels: whole hours at least. */
            g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_X_AXIS), <=, 24);
            g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_X_AXIS), >=, 4);
            for (guint i = 0; i < pv_chart_get_labels (chart)->len; i++)
              {
                const PvChartLabel *label = g_ptr_array_index (pv_chart_get_labels (chart), i);
                if (label->role == PV_CHART_LABEL_X_AXIS)
                  g_assert_true (g_str_has_suffix (label->text, ":00"));
              }
            if (data == CHART_QUARTERS)
              {
                g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LEGEND, "Today"));
                g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LEGEND, "Yesterday"));
              }
            else
              {
                /* One series: no legend; the capacity labelled, and on
                 * the y axis's scale. */
                g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_LEGEND), ==, 0);
                g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LIMIT, "Capacity 5,000"));
                g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "5000"));
              }
            break;
          case CHART_GATES:
            for (guint i = 0; i < G_N_ELEMENTS (gates); i++)
              g_assert_nonnull (find_label (chart, PV_CHART_LABEL_X_AXIS, gates[i]));
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_NOTE, "12/min"));
            g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_NOTE), ==, 4);
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "0"));
            g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_LEGEND), ==, 0);
            break;
          case CHART_CATEGORIES:
            for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
              g_assert_nonnull (find_label (chart, PV_CHART_LABEL_X_AXIS, kinds[i]));
            for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
              g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LEGEND, channels[i]));
            /* The stacks add up: the axis reaches past the biggest. */
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "10000"));
            break;
          case CHART_CHANNELS:
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LEGEND, "web 8450 (41%)"));
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_LEGEND, "import 2780 (13%)"));
            g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TOTAL, "20795"));
            g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_X_AXIS), ==, 0);
            break;
          default:
            g_assert_not_reached ();
          }
      }
}

/* From a 1366×768 laptop's dashboard card to a 4K monitor's, at scale 1
 * and 2: every text inside the chart and clear of its neighbours. */
static void
test_sizes (void)
{
  static const struct
  {
    int width, height, scale;
  } sizes[] = { { 300, 200, 1 }, { 420, 260, 1 }, { 640, 300, 1 }, { 900, 420, 1 }, { 1200, 500, 1 }, { 1900, 1000, 1 }, { 1900, 1000, 2 }, { 520, 340, 2 } };

  for (ChartData data = 0; data < N_CHARTS; data++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      for (int dark = 0; dark < 2; dark++)
        {
          g_autoptr (PvChart) chart = make_chart (data);
          int scale = sizes[s].scale;
          cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, sizes[s].width * scale,
                                                                 sizes[s].height * scale);
          cairo_t *cr = cairo_create (surface);
          g_autofree char *where = g_strdup_printf ("%s %d×%d@%d", chart_names[data], sizes[s].width,
                                                    sizes[s].height, scale);

          cairo_scale (cr, scale, scale);
          pv_chart_render (chart, cr, sizes[s].width, sizes[s].height, dark);
          g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
          cairo_destroy (cr);
          assert_readable (chart, sizes[s].width, sizes[s].height, where);
          if (drawn_share (surface) < 0.003)
            g_error ("%s: %.4f of the middle drawn", where, drawn_share (surface));
          if (data == CHART_CHANNELS ? count_labels (chart, PV_CHART_LABEL_LEGEND) != 4
                                     : count_labels (chart, PV_CHART_LABEL_X_AXIS) < (data >= CHART_GATES ? 5 : 3)
                                         || count_labels (chart, PV_CHART_LABEL_Y_AXIS) < 2)
            g_error ("%s: %u x labels, %u y labels, %u legend entries", where,
                     count_labels (chart, PV_CHART_LABEL_X_AXIS), count_labels (chart, PV_CHART_LABEL_Y_AXIS),
                     count_labels (chart, PV_CHART_LABEL_LEGEND));
          if (s == 1 || s == 6)
            {
              g_autofree char *name = g_strdup_printf ("%s-%dx%d@%d-%s", chart_names[data], sizes[s].width,
                                                       sizes[s].height, scale, dark ? "dark" : "light");
              g_autofree char *path = artifact (name, "png");
              g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
            }
          cairo_surface_destroy (surface);
        }
}

/* The dashboard's channel card in a 1280 px wide window: the ring with
 * its legend under it. No channel's name is cut ("WhatsA…"), nor the
 * total in the hole, however many digits it has. */
static void
test_donut_uncut (void)
{
  static const char *const names[] = { "Web", "WhatsApp", "Desk", "Import" };
  static const double small[] = { 1302, 824, 433, 442 };
  static const double big[] = { 1302000, 824000, 433000, 442000 };
  static const struct
  {
    int width, height;
  } sizes[] = { { 320, 240 }, { 330, 250 }, { 420, 300 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint v = 0; v < 2; v++)
      {
        g_autoptr (PvChart) chart = g_object_ref_sink (PV_CHART (pv_chart_new (PV_CHART_DONUT)));
        cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, sizes[s].width, sizes[s].height);
        cairo_t *cr = cairo_create (surface);
        GPtrArray *labels;

        pv_chart_set_title (chart, "Registrations by channel");
        pv_chart_set_categories (chart, names, G_N_ELEMENTS (names));
        pv_chart_add_series (chart, "Registrations", v ? big : small, 4, PV_CHART_SERIES_NORMAL);
        pv_chart_render (chart, cr, sizes[s].width, sizes[s].height, FALSE);
        cairo_destroy (cr);
        cairo_surface_destroy (surface);
        labels = pv_chart_get_labels (chart);
        g_assert_cmpuint (count_labels (chart, PV_CHART_LABEL_LEGEND), ==, 4);
        g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TOTAL, v ? "3001000" : "3001"));
        for (guint i = 0; i < labels->len; i++)
          {
            const PvChartLabel *label = g_ptr_array_index (labels, i);

            if ((label->role == PV_CHART_LABEL_LEGEND || label->role == PV_CHART_LABEL_TOTAL) && label->cut)
              g_error ("%d×%d: “%s” is cut", sizes[s].width, sizes[s].height, label->text);
          }
      }
}

/* No data yet: no series, only zeros, only gaps. */
static void
test_empty (void)
{
  static const char *const three[] = { "a", "b", "c" };
  static const double zeros[] = { 0, 0, 0 };
  static const double gaps[] = { NAN, NAN, NAN };
  const PvChartKind all_kinds[] = { PV_CHART_LINE, PV_CHART_BAR, PV_CHART_STACKED_BAR, PV_CHART_DONUT };

  for (guint k = 0; k < G_N_ELEMENTS (all_kinds); k++)
    for (int how = 0; how < 4; how++)
      {
        g_autoptr (PvChart) chart = g_object_ref_sink (PV_CHART (pv_chart_new (all_kinds[k])));
        g_autoptr (GError) error = NULL;
        g_autofree char *name = g_strdup_printf ("empty-%u-%d", k, how);
        g_autofree char *path = artifact (name, "png");
        const PvChartLabel *label;

        g_assert_cmpint (pv_chart_get_kind (chart), ==, all_kinds[k]);
        pv_chart_set_title (chart, "Entries");
        if (how > 0)
          pv_chart_set_categories (chart, three, 3);
        if (how == 2)
          pv_chart_add_series (chart, "Zero", zeros, 3, PV_CHART_SERIES_NORMAL);
        if (how == 3)
          pv_chart_add_series (chart, "Gaps", gaps, 3, PV_CHART_SERIES_NORMAL);
        /* A limit alone is no data. */
        pv_chart_set_limit (chart, 100, "Capacity");
        g_assert_true (pv_chart_save (chart, path, PV_CHART_PNG, 400, 240, how % 2, &error));
        g_assert_no_error (error);
        label = find_label (chart, PV_CHART_LABEL_EMPTY, "No data yet");
        g_assert_nonnull (label);
        /* In the middle of the chart, under the title. */
        g_assert_cmpfloat (fabs (label->bounds.origin.x + label->bounds.size.width / 2 - 200), <, 1);
        g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TITLE, "Entries"));
        g_assert_cmpuint (pv_chart_get_labels (chart)->len, ==, 2);
        g_assert_null (pv_chart_describe_point (chart, 200, 120));
      }
}

/* Share of pixels that differ between two images of one size. */
static double
differing_share (GdkPixbuf *a, cairo_surface_t *b)
{
  int width = gdk_pixbuf_get_width (a), height = gdk_pixbuf_get_height (a);
  const guint8 *pixels = gdk_pixbuf_read_pixels (a);
  guint differ = 0;

  g_assert_cmpint (gdk_pixbuf_get_n_channels (a), ==, 4);
  g_assert_cmpint (cairo_image_surface_get_width (b), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (b), ==, height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = pixels + y * gdk_pixbuf_get_rowstride (a) + x * 4;
        Pixel svg = { p[0], p[1], p[2] };
        differ += distance (svg, pixel_at (b, x, y)) > 60;
      }
  return (double) differ / (width * height);
}

/* Each chart as an SVG that an independent renderer (librsvg, through
 * gdk-pixbuf) draws as the PNG looks. */
static void
test_svg (void)
{
  for (ChartData data = 0; data < N_CHARTS; data++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PvChart) chart = make_chart (data);
      g_autofree char *path = artifact (chart_names[data], "svg");
      g_autofree char *name = g_strdup_printf ("%s-svg", chart_names[data]);
      g_autofree char *png = artifact (name, "png");
      g_autofree char *contents = NULL;
      g_autoptr (GdkPixbuf) loaded = NULL, drawn = NULL;
      cairo_surface_t *image;
      cairo_t *cr;
      double share;
      gsize length;

      g_assert_true (pv_chart_save (chart, path, PV_CHART_SVG, 800, 400, data % 2, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &contents, &length, &error));
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (contents, "<?xml"));
      g_assert_nonnull (strstr (contents, "<svg"));
      g_assert_nonnull (strstr (contents, "</svg>"));
      g_assert_nonnull (strstr (contents, "width=\"800px\""));
      /* The text is there as glyphs (the layout data is the same). */
      g_assert_nonnull (strstr (contents, "glyph"));
      g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TITLE, pv_chart_get_title (chart)));
      assert_readable (chart, 800, 400, path);

      loaded = gdk_pixbuf_new_from_file (path, &error);
      g_assert_no_error (error);
      drawn = gdk_pixbuf_add_alpha (loaded, FALSE, 0, 0, 0);
      g_assert_true (gdk_pixbuf_save (drawn, png, "png", &error, NULL));
      g_assert_no_error (error);
      image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 400);
      cr = cairo_create (image);
      pv_chart_render (chart, cr, 800, 400, data % 2);
      cairo_destroy (cr);
      cairo_surface_flush (image);
      share = differing_share (drawn, image);
      g_test_message ("%s: %.2f%% of the pixels differ from the PNG's", path, 100 * share);
      g_assert_cmpfloat (share, <, 0.02);
      cairo_surface_destroy (image);
    }
}

static void
render_at (PvChart *chart, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);

  pv_chart_render (chart, cr, width, height, FALSE);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* The centre of the x label of @text, and the y of the value axis's @tick. */
static graphene_point_t
label_centre (PvChart *chart, PvChartLabelRole role, const char *text)
{
  const PvChartLabel *label = find_label (chart, role, text);
  graphene_point_t centre;

  g_assert_nonnull (label);
  graphene_rect_get_center (&label->bounds, &centre);
  return centre;
}

static void
test_describe (void)
{
  g_autoptr (PvChart) bars = make_chart (CHART_GATES);
  g_autoptr (PvChart) line = make_chart (CHART_QUARTERS);
  g_autoptr (PvChart) stacked = make_chart (CHART_CATEGORIES);
  g_autoptr (PvChart) donut = make_chart (CHART_CHANNELS);
  graphene_point_t gate2, gate4, zero, midnight, one, ten;
  double slot;
  g_autofree char *text = NULL, *expected = NULL;
  gboolean found = FALSE;

  /* A bar: half way up Gate 2's bar of 412, with its rate. */
  render_at (bars, 800, 400);
  gate2 = label_centre (bars, PV_CHART_LABEL_X_AXIS, gates[1]);
  zero = label_centre (bars, PV_CHART_LABEL_Y_AXIS, "0");
  text = pv_chart_describe_point (bars, gate2.x, zero.y - 3);
  g_assert_cmpstr (text, ==, "Gate 2 (Hall 5) · Entries: 412 · 3/min");
  g_clear_pointer (&text, g_free);
  gate4 = label_centre (bars, PV_CHART_LABEL_X_AXIS, gates[3]);
  text = pv_chart_describe_point (bars, gate4.x, zero.y - 3);
  g_assert_cmpstr (text, ==, "VIP gate · Entries: 95");
  g_clear_pointer (&text, g_free);
  /* Outside the plot: the corner, the labels under the axis, the y axis. */
  g_assert_null (pv_chart_describe_point (bars, 1, 1));
  g_assert_null (pv_chart_describe_point (bars, gate2.x, gate2.y));
  g_assert_null (pv_chart_describe_point (bars, zero.x, zero.y - 3));
  g_assert_null (pv_chart_describe_point (bars, 799, zero.y - 3));

  /* The line: 10:15 is quarter 41, between the hour labels. */
  render_at (line, 800, 400);
  midnight = label_centre (line, PV_CHART_LABEL_X_AXIS, "00:00");
  zero = label_centre (line, PV_CHART_LABEL_Y_AXIS, "0");
  if (find_label (line, PV_CHART_LABEL_X_AXIS, "01:00"))
    one = label_centre (line, PV_CHART_LABEL_X_AXIS, "01:00");
  else
    {
      one = label_centre (line, PV_CHART_LABEL_X_AXIS, "02:00");
      one.x = midnight.x + (one.x - midnight.x) / 2;
    }
  slot = (one.x - midnight.x) / 4;
  ten.x = midnight.x + 41 * slot;
  ten.y = zero.y - 20;
  text = pv_chart_describe_point (line, ten.x, ten.y);
  expected = g_strdup_printf ("10:15 · Today: %.0f · Yesterday: %.0f", curve (41, 460) + 14, curve (41, 400));
  g_assert_cmpstr (text, ==, expected);
  g_clear_pointer (&text, g_free);
  /* The future: yesterday only. */
  text = pv_chart_describe_point (line, midnight.x + 54 * slot, ten.y);
  g_assert_cmpstr (text, ==, "13:30 · Yesterday: 400");
  g_clear_pointer (&text, g_free);
  g_assert_null (pv_chart_describe_point (line, midnight.x, midnight.y));
  g_assert_null (pv_chart_describe_point (line, -5, ten.y));

  /* A stack adds up. */
  render_at (stacked, 800, 400);
  gate2 = label_centre (stacked, PV_CHART_LABEL_X_AXIS, "School group");
  zero = label_centre (stacked, PV_CHART_LABEL_Y_AXIS, "0");
  text = pv_chart_describe_point (stacked, gate2.x, zero.y - 3);
  g_assert_cmpstr (text, ==, "School group · web: 0 · whatsapp: 0 · desk: 120 · import: 2400 · Total: 2520");
  g_clear_pointer (&text, g_free);

  /* A slice: out from the total in the middle until the ring. */
  render_at (donut, 800, 400);
  zero = label_centre (donut, PV_CHART_LABEL_TOTAL, "20795");
  g_assert_null (pv_chart_describe_point (donut, zero.x, zero.y));
  for (double dy = 0; dy < 200 && !found; dy++)
    {
      /* Straight up from the centre: the first slice, web's, starts at
       * twelve o'clock. */
      text = pv_chart_describe_point (donut, zero.x + 3, zero.y - dy);
      if (text != NULL)
        {
          g_assert_cmpstr (text, ==, "web: 8450 (41%)");
          found = TRUE;
        }
      g_clear_pointer (&text, g_free);
    }
  g_assert_true (found);
  /* Left of the centre: the last slice, import, ends at twelve o'clock. */
  found = FALSE;
  for (double dx = 0; dx < 200 && !found; dx++)
    if ((text = pv_chart_describe_point (donut, zero.x - dx, zero.y)) != NULL)
      {
        g_assert_true (g_str_has_prefix (text, "desk: ") || g_str_has_prefix (text, "import: "));
        found = TRUE;
        g_clear_pointer (&text, g_free);
      }
  g_assert_true (found);
  g_assert_null (pv_chart_describe_point (donut, 2, 2));
}

/* The live path: new values in place change the drawing and the scale;
 * categories of another length drop the series. */
static void
test_update (void)
{
  g_autoptr (PvChart) chart = make_chart (CHART_GATES);
  static const double more[] = { 18400, 412, 2210, 95, 3020 };
  static const char *const three[] = { "Gate A", "Gate B", "Gate C" };
  static const char *const five[] = { "Gate 1", "Gate 2", "Gate 3", "Gate 4", "Gate 5" };
  cairo_surface_t *before = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 600, 300);
  cairo_surface_t *after = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 600, 300);
  cairo_t *cr;
  guint differ = 0;

  cr = cairo_create (before);
  pv_chart_render (chart, cr, 600, 300, FALSE);
  cairo_destroy (cr);
  g_assert_null (find_label (chart, PV_CHART_LABEL_Y_AXIS, "15000"));
  pv_chart_set_series_values (chart, 0, more, G_N_ELEMENTS (more));
  cr = cairo_create (after);
  pv_chart_render (chart, cr, 600, 300, FALSE);
  cairo_destroy (cr);
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "15000"));
  cairo_surface_flush (before);
  cairo_surface_flush (after);
  for (int y = 0; y < 300; y++)
    for (int x = 0; x < 600; x++)
      differ += distance (pixel_at (before, x, y), pixel_at (after, x, y)) > 40;
  g_assert_cmpuint (differ, >, 1000);
  cairo_surface_destroy (before);
  cairo_surface_destroy (after);

  /* The same number of categories keeps the series and the notes. */
  pv_chart_set_categories (chart, five, 5);
  g_assert_cmpuint (pv_chart_get_n_series (chart), ==, 1);
  render_at (chart, 600, 300);
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_X_AXIS, "Gate 5"));
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_NOTE, "21/min"));
  /* Another number drops them. */
  pv_chart_set_categories (chart, three, 3);
  g_assert_cmpuint (pv_chart_get_n_series (chart), ==, 0);
  render_at (chart, 600, 300);
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_EMPTY, NULL));
  g_assert_null (find_label (chart, PV_CHART_LABEL_NOTE, NULL));
  pv_chart_add_series (chart, "Entries", more, 3, PV_CHART_SERIES_NORMAL);
  render_at (chart, 600, 300);
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_X_AXIS, "Gate C"));
  pv_chart_clear_series (chart);
  g_assert_cmpuint (pv_chart_get_n_series (chart), ==, 0);

  /* The value format reaches the axis and the hover text; the limit goes. */
  {
    g_autoptr (PvChart) inside = make_chart (CHART_INSIDE);

    pv_chart_set_value_format (inside, "%.1fk");
    pv_chart_set_limit (inside, NAN, NULL);
    render_at (inside, 600, 300);
    g_assert_null (find_label (inside, PV_CHART_LABEL_LIMIT, NULL));
    g_assert_nonnull (find_label (inside, PV_CHART_LABEL_Y_AXIS, "0.0k"));
    /* The limit with no label shows its value. */
    pv_chart_set_limit (inside, 2500, NULL);
    render_at (inside, 600, 300);
    g_assert_nonnull (find_label (inside, PV_CHART_LABEL_LIMIT, "2500.0k"));
    pv_chart_set_title (inside, NULL);
    render_at (inside, 600, 300);
    g_assert_null (find_label (inside, PV_CHART_LABEL_TITLE, NULL));
    assert_readable (inside, 600, 300, "no title");
  }
}

/* Bad input changes nothing and says so. */
static void
test_bad_input (void)
{
  g_autoptr (PvChart) chart = make_chart (CHART_GATES);
  g_autoptr (GError) error = NULL;
  static const double two[] = { 1, 2 };
  g_autofree char *path = artifact ("bad", "png");
  g_autofree char *missing = g_build_filename ("/nonexistent-pravesh", "chart.png", NULL);

  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*n == self->categories->len*");
  g_assert_cmpuint (pv_chart_add_series (chart, "Two", two, 2, PV_CHART_SERIES_NORMAL), ==, G_MAXUINT);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (pv_chart_get_n_series (chart), ==, 1);

  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*n == self->categories->len*");
  pv_chart_set_series_values (chart, 0, two, 2);
  g_test_assert_expected_messages ();
  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*series < self->series->len*");
  pv_chart_set_series_values (chart, 3, two, 5);
  g_test_assert_expected_messages ();

  /* Formats that would read past the one double they get. */
  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*is_value_format*");
  pv_chart_set_value_format (chart, "%s");
  g_test_assert_expected_messages ();
  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*is_value_format*");
  pv_chart_set_value_format (chart, "%.0f of %.0f");
  g_test_assert_expected_messages ();
  g_test_expect_message ("pravesh", G_LOG_LEVEL_CRITICAL, "*is_value_format*");
  pv_chart_set_value_format (chart, "%n");
  g_test_assert_expected_messages ();
  pv_chart_set_value_format (chart, "%'.0f%%");
  render_at (chart, 600, 300);
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "0%"));

  g_assert_false (pv_chart_save (chart, path, PV_CHART_PNG, 0, 300, FALSE, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pv_chart_save (chart, path, PV_CHART_PNG, 100000, 300, FALSE, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (pv_chart_save (chart, missing, PV_CHART_PNG, 300, 200, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent-pravesh/chart.png"));
  g_clear_error (&error);
  g_assert_false (pv_chart_save (chart, missing, PV_CHART_SVG, 300, 200, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* The live path's cost: the dashboard redraws on every change. Reported,
 * not judged (the benchmark judges). */
static void
test_cost (void)
{
  g_autoptr (PvChart) chart = make_chart (CHART_QUARTERS);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1920, 1080);
  cairo_t *cr = cairo_create (surface);
  gint64 start;
  int n = 20;

  pv_chart_render (chart, cr, 1920, 1080, FALSE);
  start = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    pv_chart_render (chart, cr, 1920, 1080, i % 2);
  g_test_message ("render 1920×1080, 96 quarters × 2 series: %.2f ms",
                  (g_get_monotonic_time () - start) / 1000.0 / n);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* ---- in a real window ---- */

typedef struct
{
  GtkWindow *window;
  PvChart *chart; /* the gates' bars */
  PvChart *line;  /* the quarters, under them */
} Shown;

static void
iterate_until (gboolean (*done) (Shown *), Shown *shown)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (shown))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

/* The charts have drawn themselves at their own size. */
static gboolean
drawn_in_window (Shown *shown)
{
  const PvChartLabel *label = find_label (shown->chart, PV_CHART_LABEL_X_AXIS, gates[4]);

  return gtk_widget_get_mapped (GTK_WIDGET (shown->chart)) && label != NULL && label->bounds.origin.x > 300
         && find_label (shown->line, PV_CHART_LABEL_X_AXIS, "12:00") != NULL;
}

/* What the window shows, once it has drawn itself (a frame may be
 * pending). */
static char *
screenshot (Shown *shown, const char *name)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  char *path;

  while ((path = app_test_screenshot (GTK_WIDGET (shown->window), name)) == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return path;
}

static Pixel
screen_pixel (const char *path, graphene_point_t at)
{
  cairo_surface_t *image = cairo_image_surface_create_from_png (path);
  Pixel pixel;

  g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
  pixel = pixel_at (image, (int) at.x, (int) at.y);
  cairo_surface_destroy (image);
  return pixel;
}

static graphene_point_t
in_window (Shown *shown, PvChart *chart, graphene_point_t at)
{
  graphene_point_t point;

  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (chart), GTK_WIDGET (shown->window), &at, &point));
  return point;
}

/* Moves the pointer through the X server to @at on @chart and waits until
 * the window's pixel at @probe (on @chart too) changes from @before;
 * returns the screenshot and the new pixel. */
static char *
hover (Shown *shown, PvChart *chart, graphene_point_t at, graphene_point_t probe, Pixel before, Pixel *after,
       const char *name)
{
  Display *x = gdk_x11_display_get_xdisplay (gtk_widget_get_display (GTK_WIDGET (shown->window)));
  Window xid = gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (shown->window)));
  graphene_point_t pointer = in_window (shown, chart, at);
  char *shot = NULL;
  double dx, dy;

  gtk_native_get_surface_transform (GTK_NATIVE (shown->window), &dx, &dy);
  XWarpPointer (x, None, xid, 0, 0, 0, 0, (int) round (pointer.x + dx), (int) round (pointer.y + dy));
  XFlush (x);
  /* A loaded machine may take a while to deliver the motion. */
  for (gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;;)
    {
      for (int i = 0; i < 50; i++)
        g_main_context_iteration (NULL, FALSE), g_usleep (2000);
      g_clear_pointer (&shot, g_free);
      shot = screenshot (shown, name);
      *after = screen_pixel (shot, in_window (shown, chart, probe));
      if (distance (before, *after) > 30 || g_get_monotonic_time () > end)
        break;
    }
  g_test_message ("%s: %02x%02x%02x before, %02x%02x%02x hovered", name, before.r, before.g, before.b, after->r,
                  after->g, after->b);
  return shot;
}

static void
test_widget (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  Shown shown = { 0 };
  PvChart *chart = make_chart (CHART_GATES), *line = make_chart (CHART_QUARTERS);
  g_autofree char *light = NULL, *hovered = NULL, *guided = NULL, *dark = NULL, *text = NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  graphene_point_t bar, quarter, top;
  const PvChartLabel *midnight, *noon;
  Pixel before, after;

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  shown.chart = chart;
  shown.line = line;
  shown.window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (shown.window, 900, 760);
  gtk_box_set_homogeneous (GTK_BOX (box), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (chart), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (line), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (chart));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (line));
  gtk_window_set_child (shown.window, box);
  gtk_window_present (shown.window);
  iterate_until (drawn_in_window, &shown);

  light = screenshot (&shown, "chart-widget-light");
  assert_readable (chart, gtk_widget_get_width (GTK_WIDGET (chart)), gtk_widget_get_height (GTK_WIDGET (chart)),
                   "widget");
  assert_readable (line, gtk_widget_get_width (GTK_WIDGET (line)), gtk_widget_get_height (GTK_WIDGET (line)),
                   "widget, line");
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_Y_AXIS, "0"));
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_NOTE, "21/min"));
  g_assert_nonnull (find_label (chart, PV_CHART_LABEL_TITLE, "Entries per gate today"));
  g_assert_nonnull (find_label (line, PV_CHART_LABEL_LEGEND, "Yesterday"));

  /* Hover over Gate 10's bar: the bar lightens; the tooltip's text. */
  bar = label_centre (chart, PV_CHART_LABEL_X_AXIS, gates[4]);
  bar.y = label_centre (chart, PV_CHART_LABEL_Y_AXIS, "0").y - 10;
  text = pv_chart_describe_point (chart, bar.x, bar.y);
  g_assert_cmpstr (text, ==, "Gate 10 — Pragati Maidan metro · Entries: 3020 · 21/min");
  before = screen_pixel (light, in_window (&shown, chart, bar));
  hovered = hover (&shown, chart, bar, bar, before, &after, "chart-widget-hover");
  g_assert_cmpint (distance (before, after), >, 30);
  g_assert_cmpfloat (luminance (after), >, luminance (before));

  /* Over the line at 10:15: a guide line from the top of the plot. */
  midnight = find_label (line, PV_CHART_LABEL_X_AXIS, "00:00");
  noon = find_label (line, PV_CHART_LABEL_X_AXIS, "12:00");
  quarter.x = round (midnight->bounds.origin.x + midnight->bounds.size.width / 2
                     + 41 * (noon->bounds.origin.x - midnight->bounds.origin.x) / 48);
  quarter.y = label_centre (line, PV_CHART_LABEL_Y_AXIS, "0").y - 10;
  top = GRAPHENE_POINT_INIT (quarter.x, label_centre (line, PV_CHART_LABEL_Y_AXIS, "0").y / 3);
  g_clear_pointer (&text, g_free);
  text = pv_chart_describe_point (line, quarter.x, quarter.y);
  g_assert_true (g_str_has_prefix (text, "10:15 · Today: "));
  before = screen_pixel (light, in_window (&shown, line, top));
  guided = hover (&shown, line, quarter, top, before, &after, "chart-widget-hover-line");
  g_assert_cmpint (distance (before, after), >, 30);
  g_assert_cmpfloat (luminance (after), <, luminance (before));

  /* The dark style redraws the charts by themselves: draw elsewhere first
   * so the layout data show whether the widgets drew again. */
  render_at (chart, 200, 100);
  render_at (line, 200, 100);
  g_assert_false (drawn_in_window (&shown));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  iterate_until (drawn_in_window, &shown);
  dark = screenshot (&shown, "chart-widget-dark");
  after = screen_pixel (dark, in_window (&shown, chart, GRAPHENE_POINT_INIT (2, bar.y - 40)));
  g_assert_cmpfloat (luminance (after), <, 0.25);
  assert_readable (chart, gtk_widget_get_width (GTK_WIDGET (chart)), gtk_widget_get_height (GTK_WIDGET (chart)),
                   "widget, dark");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  /* The desktop's text scaling (1.5×) reaches the charts' text. */
  {
    GtkSettings *settings = gtk_widget_get_settings (GTK_WIDGET (chart));
    double height = find_label (chart, PV_CHART_LABEL_TITLE, NULL)->bounds.size.height;
    int dpi;

    g_object_get (settings, "gtk-xft-dpi", &dpi, NULL);
    g_object_set (settings, "gtk-xft-dpi", dpi / 2 * 3, NULL);
    render_at (chart, 200, 100);
    iterate_until (drawn_in_window, &shown);
    g_test_message ("title %g px high, %g px at 1.5×", height,
                    find_label (chart, PV_CHART_LABEL_TITLE, NULL)->bounds.size.height);
    g_assert_cmpfloat (find_label (chart, PV_CHART_LABEL_TITLE, NULL)->bounds.size.height, >, height * 1.3);
    g_free (screenshot (&shown, "chart-widget-large-text"));
    assert_readable (chart, gtk_widget_get_width (GTK_WIDGET (chart)), gtk_widget_get_height (GTK_WIDGET (chart)),
                     "widget, large text");
    assert_readable (line, gtk_widget_get_width (GTK_WIDGET (line)), gtk_widget_get_height (GTK_WIDGET (line)),
                     "widget, line, large text");
    g_object_set (settings, "gtk-xft-dpi", dpi, NULL);
  }

  gtk_window_destroy (shown.window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (chart);
  g_assert_finalize_object (line);
}

/* Six categories named as an event names them, the dashboard's stacked
 * bars from a laptop's card to a wide screen: a label wraps only where
 * a space is, and is otherwise ellipsized — never "Seaso-" over "n pass". */
static void
test_word_breaks (void)
{
  static const char *const names[] = { "One-day", "Season pass", "School group", "Senior citizen",
                                       "Exhibitor pass", "Press" };
  static const double values[] = { 5200, 800, 310, 650, 40, 12 };
  guint wrapped = 0;

  for (int width = 260; width <= 1400; width += 20)
    {
      g_autoptr (PvChart) chart = g_object_ref_sink (PV_CHART (pv_chart_new (PV_CHART_STACKED_BAR)));
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, 300);
      cairo_t *cr = cairo_create (surface);
      GPtrArray *labels;

      pv_chart_set_title (chart, "Registrations by category");
      pv_chart_set_categories (chart, names, G_N_ELEMENTS (names));
      pv_chart_add_series (chart, "web", values, G_N_ELEMENTS (values), PV_CHART_SERIES_NORMAL);
      pv_chart_render (chart, cr, width, 300, FALSE);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
      labels = pv_chart_get_labels (chart);
      for (guint i = 0; i < labels->len; i++)
        {
          PvChartLabel *label = labels->pdata[i];
          g_autofree char *joined = NULL;

          if (label->role != PV_CHART_LABEL_X_AXIS)
            continue;
          g_assert_nonnull (label->lines);
          for (const char *at = strchr (label->lines, '\n'); at != NULL; at = strchr (at + 1, '\n'))
            {
              if (at == label->lines || at[-1] != ' ')
                g_error ("%d px: “%s” is broken inside a word: “%s”", width, label->text,
                         g_strescape (label->lines, NULL));
              wrapped++;
            }
          /* A line keeps the space it broke at: nothing lost or added. */
          {
            g_auto (GStrv) parts = g_strsplit (label->lines, "\n", -1);
            joined = g_strjoinv ("", parts);
          }
          g_assert_cmpstr (joined, ==, label->text);
        }
    }
  /* Some widths did wrap, between words. */
  g_assert_cmpuint (wrapped, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();

  g_test_add_func ("/chart/png", test_png);
  g_test_add_func ("/chart/sizes", test_sizes);
  g_test_add_func ("/chart/donut-uncut", test_donut_uncut);
  g_test_add_func ("/chart/empty", test_empty);
  g_test_add_func ("/chart/svg", test_svg);
  g_test_add_func ("/chart/describe", test_describe);
  g_test_add_func ("/chart/update", test_update);
  g_test_add_func ("/chart/bad-input", test_bad_input);
  g_test_add_func ("/chart/cost", test_cost);
  g_test_add_func ("/chart/widget", test_widget);
  g_test_add_func ("/chart/word-breaks", test_word_breaks);
  return g_test_run ();
}
