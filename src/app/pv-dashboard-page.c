/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-dashboard-page.c: the control room's dashboard (see the header). A
 * refresh is a handful of indexed reads of the counters the state module
 * keeps record by record, plus one index range for the gates' last minute;
 * records arriving schedule one refresh a fifth of a second later however
 * many come, and a slow tick moves the clock-bound figures on. Charts get
 * their new values in place. */
#include "config.h"

#include "pv-dashboard-page.h"

#include <glib/gi18n.h>
#include <math.h>

#include "pv-a11y.h"
#include "pv-event.h"
#include "pv-i18n.h"
#include "pv-stats.h"
#include "pv-store.h"

#define QUARTERS (24 * 4)
/* Coalesces bursts of records into one refresh, well within a second. */
#define REFRESH_DELAY_MS 200
/* The last-minute rates and the stale devices move with the clock. */
#define TICK_SECONDS 5
/* A chart narrower than this crowds its labels. */
#define CHART_MIN_WIDTH 360

static const char *const CHANNELS[] = { "web", "whatsapp", "desk", "import" };

struct _PvDashboardPage
{
  AdwBin parent_instance;

  /* template widgets */
  GtkFlowBox *tiles;
  GtkFlowBox *charts;
  GtkLabel *updated;

  /* owned */
  PvStore *store;
  PvStoreWatch *watch;
  GSettings *settings;
  PvDeviceList *devices;
  GtkWidget *tile[PV_DASHBOARD_N_TILES];
  GtkLabel *figure[PV_DASHBOARD_N_TILES];
  GtkLabel *detail[PV_DASHBOARD_N_TILES];
  GtkLevelBar *inside_bar;
  PvChart *chart[PV_DASHBOARD_N_CHARTS];
  GStrv chart_keys[PV_DASHBOARD_N_CHARTS]; /* categories on show */
  const char *inside_level;
  guint refresh_id, tick_id;
  guint n_refreshes;
  gulong watch_id, devices_id, settings_id;
};

G_DEFINE_FINAL_TYPE (PvDashboardPage, pv_dashboard_page, ADW_TYPE_BIN)

/* ---- figures ---- */

static char *
format_count (gint64 value)
{
  /* The locale's grouping: 1,00,000 in India, 100,000 elsewhere. */
  return g_strdup_printf ("%'" G_GINT64_FORMAT, value);
}

static gint64
count_of (GPtrArray *counts, const char *key)
{
  for (guint i = 0; counts && i < counts->len; i++)
    {
      PvCount *count = counts->pdata[i];
      if (g_str_equal (count->key, key))
        return count->value;
    }
  return 0;
}

static void
set_tile (PvDashboardPage *self, PvDashboardTile tile, const char *figure, const char *detail)
{
  gtk_label_set_text (self->figure[tile], figure);
  gtk_label_set_text (self->detail[tile], detail);
}

static const char *
channel_name (const char *channel)
{
  if (g_str_equal (channel, "web"))
    return _ ("Web");
  if (g_str_equal (channel, "whatsapp"))
    return _ ("WhatsApp");
  if (g_str_equal (channel, "desk"))
    return _ ("Desk");
  if (g_str_equal (channel, "import"))
    return _ ("Import");
  return channel;
}

static guint
capacity_of (PvDashboardPage *self, const PvStats *stats)
{
  guint setting = g_settings_get_uint (self->settings, "venue-capacity");
  return setting > 0 ? setting : stats->capacity;
}

static void
show_inside (PvDashboardPage *self, const PvStats *stats)
{
  guint capacity = capacity_of (self, stats);
  g_autofree char *figure = format_count (stats->inside_now);
  g_autofree char *detail = NULL;
  const char *level = "normal";

  gtk_widget_remove_css_class (self->tile[PV_DASHBOARD_INSIDE], "warning");
  gtk_widget_remove_css_class (self->tile[PV_DASHBOARD_INSIDE], "alarm");
  if (capacity == 0)
    {
      detail = g_strdup (_ ("No venue capacity set"));
      gtk_widget_set_visible (GTK_WIDGET (self->inside_bar), FALSE);
    }
  else
    {
      g_autofree char *of = format_count (capacity);
      double share = (double) stats->inside_now / capacity;

      /* Translators: people inside against the venue's capacity, and the share, e.g. "of 5,000 · 82 %". */
      detail = g_strdup_printf (_ ("of %s · %.0f %%"), of, floor (share * 100));
      gtk_widget_set_visible (GTK_WIDGET (self->inside_bar), TRUE);
      gtk_level_bar_set_value (self->inside_bar, MIN (share, 1.0));
      if (share >= 1.0)
        level = "alarm";
      else if (share >= 0.9)
        level = "warning";
      if (!g_str_equal (level, "normal"))
        gtk_widget_add_css_class (self->tile[PV_DASHBOARD_INSIDE], level);
    }
  self->inside_level = level;
  set_tile (self, PV_DASHBOARD_INSIDE, figure, detail);
}

static void
show_devices (PvDashboardPage *self, gint64 now)
{
  guint online = 0, stale = 0;
  const PvDeviceRow *latest = NULL;
  g_autofree char *figure = NULL, *window = NULL;
  g_autoptr (GString) detail = NULL;

  if (self->devices == NULL)
    return;
  pv_device_list_count (self->devices, now, &online, &stale, &latest);
  figure = g_strdup_printf ("%u", online);
  /* Online says over what time, so a station closed minutes ago is not. */
  window = g_strdup_printf (ngettext ("online: heard from in the last %d minute",
                                      "online: heard from in the last %d minutes", PV_DEVICE_ONLINE_MINUTES),
                            PV_DEVICE_ONLINE_MINUTES);
  detail = g_string_new (window);
  if (stale > 0 && latest != NULL)
    {
      g_autofree char *seen = pv_device_list_format_seen (self->devices, latest->last_seen, now);

      g_string_append (detail, " · ");
      /* Translators: quiet devices, and the one heard from last, e.g. "2 quiet · Gate 3 seen 5 min ago". */
      g_string_append_printf (detail, ngettext ("%u quiet · %s %s", "%u quiet · %s %s", stale), stale,
                              latest->status->name, seen);
    }
  if (stale > 0)
    gtk_widget_add_css_class (self->tile[PV_DASHBOARD_DEVICES], "warning");
  else
    gtk_widget_remove_css_class (self->tile[PV_DASHBOARD_DEVICES], "warning");
  set_tile (self, PV_DASHBOARD_DEVICES, figure, detail->str);
}

/* ---- charts ---- */

/* Puts @keys (shown as @labels) on @chart's axis when they changed, which
 * drops its series; returns whether the series must be added again. */
static gboolean
set_categories (PvDashboardPage *self, PvDashboardChart which, GPtrArray *keys, GPtrArray *labels)
{
  if (self->chart_keys[which] != NULL && g_strv_length (self->chart_keys[which]) == keys->len
      && pv_chart_get_n_series (self->chart[which]) > 0)
    {
      gboolean same = TRUE;
      for (guint i = 0; same && i < keys->len; i++)
        same = g_str_equal (self->chart_keys[which][i], keys->pdata[i]);
      if (same)
        return FALSE;
    }
  g_strfreev (self->chart_keys[which]);
  self->chart_keys[which] = g_new0 (char *, keys->len + 1);
  for (guint i = 0; i < keys->len; i++)
    self->chart_keys[which][i] = g_strdup (keys->pdata[i]);
  pv_chart_set_categories (self->chart[which], (const char *const *) labels->pdata, labels->len);
  pv_chart_clear_series (self->chart[which]);
  return TRUE;
}

/* Adds series @index the first time, then only changes its values. */
static void
put_series (PvChart *chart, gboolean add, const char *name, const double *values, guint n,
            PvChartSeriesStyle style, guint index)
{
  if (add)
    pv_chart_add_series (chart, name, values, n, style);
  else
    pv_chart_set_series_values (chart, index, values, n);
}

static int
quarter_index (const char *key)
{
  int hour, minute;

  if (sscanf (key, "%d:%d", &hour, &minute) != 2 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return -1;
  return hour * 4 + minute / 15;
}

static void
fill_quarters (GPtrArray *counts, double values[QUARTERS])
{
  for (guint i = 0; counts && i < counts->len; i++)
    {
      PvCount *count = counts->pdata[i];
      int index = quarter_index (count->key);
      if (index >= 0)
        values[index] += (double) count->value;
    }
}

static void
show_quarter_charts (PvDashboardPage *self, const PvStats *stats, gint64 now, PvEvent *event)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, now);
  int current = local ? g_date_time_get_hour (local) * 4 + g_date_time_get_minute (local) / 15 : QUARTERS - 1;
  double today[QUARTERS] = { 0 }, yesterday[QUARTERS] = { 0 }, inside[QUARTERS] = { 0 };
  gboolean add;
  double running = 0;

  fill_quarters (stats->entries_by_quarter, today);
  fill_quarters (stats->entries_yesterday_by_quarter, yesterday);
  fill_quarters (stats->inside_by_quarter, inside);
  for (int i = 0; i < QUARTERS; i++)
    {
      running += inside[i];
      /* The future of today is no line at all, not a line at zero. */
      inside[i] = i <= current ? MAX (running, 0) : NAN;
      if (i > current)
        today[i] = NAN;
    }

  add = pv_chart_get_n_series (self->chart[PV_DASHBOARD_CHART_QUARTERS]) == 0;
  put_series (self->chart[PV_DASHBOARD_CHART_QUARTERS], add, _ ("Yesterday"), yesterday, QUARTERS,
              PV_CHART_SERIES_FAINT, 0);
  put_series (self->chart[PV_DASHBOARD_CHART_QUARTERS], add, _ ("Today"), today, QUARTERS,
              PV_CHART_SERIES_NORMAL, 1);

  add = pv_chart_get_n_series (self->chart[PV_DASHBOARD_CHART_INSIDE]) == 0;
  put_series (self->chart[PV_DASHBOARD_CHART_INSIDE], add, _ ("Inside"), inside, QUARTERS,
              PV_CHART_SERIES_NORMAL, 0);
}

static void
show_gates (PvDashboardPage *self, const PvStats *stats, GPtrArray *rates, PvEvent *event)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  const char *const *gates = pv_event_get_gates (event);
  PvChart *chart = self->chart[PV_DASHBOARD_CHART_GATES];

  /* The event's gates in its order, then any other gate scans named. */
  for (guint i = 0; gates && gates[i]; i++)
    g_ptr_array_add (keys, (gpointer) gates[i]);
  for (guint i = 0; i < stats->entries_by_gate->len; i++)
    {
      PvCount *count = stats->entries_by_gate->pdata[i];
      if (!g_ptr_array_find_with_equal_func (keys, count->key, g_str_equal, NULL))
        g_ptr_array_add (keys, count->key);
    }
  for (guint i = 0; i < keys->len; i++)
    {
      double value = (double) count_of (stats->entries_by_gate, keys->pdata[i]);
      g_array_append_val (values, value);
      /* Translators: people through a gate in the last minute. */
      g_ptr_array_add (notes, g_strdup_printf (_ ("%lld/min"), (long long) count_of (rates, keys->pdata[i])));
    }
  put_series (chart, set_categories (self, PV_DASHBOARD_CHART_GATES, keys, keys), _ ("Entries today"),
              (double *) values->data, values->len, PV_CHART_SERIES_NORMAL, 0);
  pv_chart_set_notes (chart, (const char *const *) notes->pdata, notes->len);
}

static void
show_registrations (PvDashboardPage *self, const PvStats *stats, PvEvent *event)
{
  GPtrArray *categories = pv_event_get_categories (event);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GPtrArray) name_labels = g_ptr_array_new ();
  g_autoptr (GPtrArray) channels = g_ptr_array_new ();
  g_autoptr (GPtrArray) channel_labels = g_ptr_array_new ();
  g_autoptr (GArray) per_channel = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean add;

  for (guint i = 0; i < categories->len; i++)
    {
      g_ptr_array_add (names, ((PvCategory *) categories->pdata[i])->name);
      g_ptr_array_add (name_labels, (gpointer) pv_category_get_label (categories->pdata[i]));
    }
  /* The four channels always, in one order, so colours keep their
   * meaning; any other channel after them. */
  for (guint i = 0; i < G_N_ELEMENTS (CHANNELS); i++)
    g_ptr_array_add (channels, (gpointer) CHANNELS[i]);
  for (guint i = 0; i < stats->by_channel->len; i++)
    {
      PvCount *count = stats->by_channel->pdata[i];
      if (!g_ptr_array_find_with_equal_func (channels, count->key, g_str_equal, NULL))
        g_ptr_array_add (channels, count->key);
    }
  for (guint i = 0; i < channels->len; i++)
    {
      double value = (double) count_of (stats->by_channel, channels->pdata[i]);
      g_ptr_array_add (channel_labels, (gpointer) channel_name (channels->pdata[i]));
      g_array_append_val (per_channel, value);
    }

  add = set_categories (self, PV_DASHBOARD_CHART_CATEGORIES, names, name_labels);
  if (!add && pv_chart_get_n_series (self->chart[PV_DASHBOARD_CHART_CATEGORIES]) != channels->len)
    {
      pv_chart_clear_series (self->chart[PV_DASHBOARD_CHART_CATEGORIES]);
      add = TRUE;
    }
  for (guint c = 0; c < channels->len; c++)
    {
      g_autofree double *values = g_new0 (double, MAX (names->len, 1));

      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *key = g_strconcat (names->pdata[i], "|", channels->pdata[c], NULL);
          values[i] = (double) count_of (stats->registrations_mix, key);
        }
      put_series (self->chart[PV_DASHBOARD_CHART_CATEGORIES], add, channel_labels->pdata[c], values,
                  names->len, PV_CHART_SERIES_NORMAL, c);
    }

  add = set_categories (self, PV_DASHBOARD_CHART_CHANNELS, channels, channel_labels);
  put_series (self->chart[PV_DASHBOARD_CHART_CHANNELS], add, _ ("Registrations"), (double *) per_channel->data,
              per_channel->len, PV_CHART_SERIES_NORMAL, 0);
}

/* ---- refresh ---- */

gboolean
pv_dashboard_page_refresh (PvDashboardPage *self, gint64 now, GError **error)
{
  g_auto (PvStats) stats = { 0 };
  g_autoptr (GPtrArray) rates = NULL;
  g_autofree char *registered = NULL, *registered_all = NULL, *entered = NULL, *scans = NULL;
  g_autofree char *doubles = NULL, *doubles_all = NULL, *detail = NULL, *time = NULL, *entries_all = NULL;
  g_autoptr (GDateTime) local = NULL;
  PvEvent *event;

  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self), FALSE);

  if (now == 0)
    now = g_get_real_time ();
  if (!pv_stats_load (self->store, now, &stats, error)
      || !(rates = pv_stats_gate_rates (self->store, now, G_TIME_SPAN_MINUTE, error))
      || !(event = pv_store_get_event (self->store, error)))
    return FALSE;

  registered = format_count (stats.registered_today);
  registered_all = format_count (stats.registered_total);
  detail = g_strdup_printf (_ ("today · %s in all"), registered_all);
  set_tile (self, PV_DASHBOARD_REGISTERED, registered, detail);
  g_clear_pointer (&detail, g_free);

  entered = format_count (stats.entered_today);
  scans = format_count (stats.entries_today);
  entries_all = format_count (stats.entries_total);
  /* Each figure says what it counts: people once, then entries with
   * re-entries (the export page's figure, from the same pv_stats_totals). */
  /* Translators: people who came in today (the big figure), then entries counting re-entries. */
  detail = g_strdup_printf (_ ("people today, each counted once\n%s entries today, re-entries too · %s "
                               "entries since the start"),
                            scans, entries_all);
  set_tile (self, PV_DASHBOARD_ENTERED, entered, detail);
  g_clear_pointer (&detail, g_free);

  show_inside (self, &stats);

  doubles = format_count (stats.doubles_today);
  doubles_all = format_count (stats.doubles_total);
  detail = g_strdup_printf (_ ("today · %s since the start"), doubles_all);
  set_tile (self, PV_DASHBOARD_DOUBLES, doubles, detail);
  if (stats.doubles_today > 0)
    gtk_widget_add_css_class (self->tile[PV_DASHBOARD_DOUBLES], "warning");
  else
    gtk_widget_remove_css_class (self->tile[PV_DASHBOARD_DOUBLES], "warning");

  show_devices (self, now);
  show_quarter_charts (self, &stats, now, event);
  pv_chart_set_limit (self->chart[PV_DASHBOARD_CHART_INSIDE],
                      capacity_of (self, &stats) ? capacity_of (self, &stats) : NAN, _ ("Capacity"));
  show_gates (self, &stats, rates, event);
  show_registrations (self, &stats, event);

  local = pv_event_local_time (event, now);
  time = local ? g_date_time_format (local, "%H:%M:%S") : NULL;
  if (time)
    {
      g_autofree char *text = g_strdup_printf (_ ("Updated at %s, event time"), time);
      gtk_label_set_text (self->updated, text);
    }
  self->n_refreshes++;
  return TRUE;
}

static void
refresh_or_warn (PvDashboardPage *self)
{
  g_autoptr (GError) error = NULL;

  if (!pv_dashboard_page_refresh (self, 0, &error))
    g_warning ("Cannot refresh the dashboard: %s", error->message);
}

static gboolean
refresh_later_cb (gpointer user_data)
{
  PvDashboardPage *self = user_data;

  self->refresh_id = 0;
  refresh_or_warn (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (PvDashboardPage *self)
{
  /* Hidden, it waits: it is refreshed when shown. */
  if (self->refresh_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_later_cb, self);
}

static gboolean
tick_cb (gpointer user_data)
{
  schedule_refresh (user_data);
  return G_SOURCE_CONTINUE;
}

static void
devices_changed_cb (PvDashboardPage *self)
{
  show_devices (self, g_get_real_time ());
}

/* ---- construction ---- */

static void
make_tile (PvDashboardPage *self, PvDashboardTile tile, const char *caption)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label = gtk_label_new (caption);

  gtk_widget_add_css_class (box, "card");
  gtk_widget_add_css_class (box, "dashboard-tile");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "tile-caption");
  gtk_box_append (GTK_BOX (box), label);
  self->figure[tile] = GTK_LABEL (gtk_label_new ("–"));
  gtk_label_set_xalign (self->figure[tile], 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->figure[tile]), "tile-figure");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->figure[tile]));
  self->detail[tile] = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->detail[tile], 0);
  gtk_label_set_wrap (self->detail[tile], TRUE);
  /* Wraps rather than widen its tile: five tiles abreast from 980 px. */
  gtk_label_set_max_width_chars (self->detail[tile], 16);
  gtk_widget_add_css_class (GTK_WIDGET (self->detail[tile]), "tile-detail");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->detail[tile]));
  gtk_flow_box_append (self->tiles, box);
  /* A figure to read, not a button: no focus stop on its way. */
  gtk_widget_set_focusable (gtk_widget_get_parent (box), FALSE);
  self->tile[tile] = box;
}

static void
saved_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  PvChart *chart = user_data;
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  PvChartFormat format = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "format"));

  if (response == GTK_RESPONSE_ACCEPT && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)))
      && (path = g_file_get_path (file))
      /* Saved in the light style, whatever the screen shows: charts go
       * into reports and printouts. */
      && !pv_chart_save (chart, path, format, 1600, 900, FALSE, &error))
    {
      GtkWidget *toplevel = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (chart)));
      GtkWidget *message = adw_message_dialog_new (GTK_WINDOW (toplevel), _ ("Cannot Save the Chart"),
                                                   error->message);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (message), "close", _ ("_Close"));
      gtk_window_present (GTK_WINDOW (message));
    }
  g_object_unref (dialog);
  g_object_unref (chart);
}

static void
save_chart_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PvDashboardPage *self = PV_DASHBOARD_PAGE (widget);
  guint which;
  const char *kind;
  PvChart *chart;
  GtkFileChooserNative *dialog;
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = NULL;
  PvChartFormat format;

  g_variant_get (parameter, "(u&s)", &which, &kind);
  if (which >= PV_DASHBOARD_N_CHARTS)
    return;
  chart = self->chart[which];
  format = g_str_equal (kind, "svg") ? PV_CHART_SVG : PV_CHART_PNG;
  dialog = gtk_file_chooser_native_new (format == PV_CHART_SVG ? _ ("Save Chart as SVG") : _ ("Save Chart as PNG"),
                                        GTK_WINDOW (gtk_widget_get_root (widget)), GTK_FILE_CHOOSER_ACTION_SAVE,
                                        _ ("_Save"), _ ("_Cancel"));
  name = g_strdup_printf ("%s.%s", pv_chart_get_title (chart), format == PV_CHART_SVG ? "svg" : "png");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  gtk_file_filter_set_name (filter, format == PV_CHART_SVG ? _ ("SVG images") : _ ("PNG images"));
  gtk_file_filter_add_mime_type (filter, format == PV_CHART_SVG ? "image/svg+xml" : "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_set_data (G_OBJECT (dialog), "format", GINT_TO_POINTER (format));
  g_signal_connect (dialog, "response", G_CALLBACK (saved_cb), g_object_ref (chart));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* A chart in a card, its own title drawn at the top left and a save
 * button over its top right corner, so no height goes to a header. */
static void
make_chart (PvDashboardPage *self, PvDashboardChart which, PvChartKind kind, const char *title)
{
  GtkWidget *card = gtk_overlay_new ();
  GtkWidget *save = gtk_menu_button_new ();
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenuItem) png = g_menu_item_new (_ ("Save as _PNG…"), NULL);
  g_autoptr (GMenuItem) svg = g_menu_item_new (_ ("Save as _SVG…"), NULL);

  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "chart-card");
  g_menu_item_set_action_and_target (png, "dashboard.save-chart", "(us)", which, "png");
  g_menu_item_set_action_and_target (svg, "dashboard.save-chart", "(us)", which, "svg");
  g_menu_append_item (menu, png);
  g_menu_append_item (menu, svg);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (save), "document-save-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (save), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (save, _ ("Save this chart"));
  {
    /* Five of them on the page: each says which chart it saves. */
    g_autofree char *name = g_strdup_printf (_ ("Save the chart “%s”"), title);
    pv_a11y_set_label (save, name);
  }
  gtk_widget_add_css_class (save, "flat");
  gtk_widget_set_halign (save, GTK_ALIGN_END);
  gtk_widget_set_valign (save, GTK_ALIGN_START);

  self->chart[which] = PV_CHART (pv_chart_new (kind));
  pv_chart_set_title (self->chart[which], title);
  pv_chart_set_header_inset (self->chart[which], 40);
  /* Its least size decides how many go abreast: two on a 1024 px
   * screen, three on a window with room for the sidebar and 1140 px. */
  gtk_widget_set_size_request (GTK_WIDGET (self->chart[which]), CHART_MIN_WIDTH, 230);
  gtk_widget_set_hexpand (GTK_WIDGET (self->chart[which]), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->chart[which]), TRUE);
  gtk_overlay_set_child (GTK_OVERLAY (card), GTK_WIDGET (self->chart[which]));
  gtk_overlay_add_overlay (GTK_OVERLAY (card), save);
  gtk_flow_box_append (self->charts, card);
  /* A chart to read, not a button: focus goes to its save button only. */
  gtk_widget_set_focusable (gtk_widget_get_parent (card), FALSE);
}

static void
quarter_labels (PvChart *chart)
{
  char labels[QUARTERS][8];
  const char *pointers[QUARTERS];

  for (int i = 0; i < QUARTERS; i++)
    {
      g_snprintf (labels[i], sizeof labels[i], "%02d:%02d", i / 4, i % 4 * 15);
      pointers[i] = labels[i];
    }
  pv_chart_set_categories (chart, pointers, QUARTERS);
}

static void
map_cb (PvDashboardPage *self)
{
  refresh_or_warn (self);
}

static void
pv_dashboard_page_dispose (GObject *object)
{
  PvDashboardPage *self = PV_DASHBOARD_PAGE (object);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_signal_handler (&self->watch_id, self->watch);
  g_clear_signal_handler (&self->devices_id, self->devices);
  g_clear_signal_handler (&self->settings_id, self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_DASHBOARD_PAGE);
  G_OBJECT_CLASS (pv_dashboard_page_parent_class)->dispose (object);
}

static void
pv_dashboard_page_finalize (GObject *object)
{
  PvDashboardPage *self = PV_DASHBOARD_PAGE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->watch);
  g_clear_object (&self->settings);
  g_clear_object (&self->devices);
  for (guint i = 0; i < PV_DASHBOARD_N_CHARTS; i++)
    g_strfreev (self->chart_keys[i]);
  G_OBJECT_CLASS (pv_dashboard_page_parent_class)->finalize (object);
}

static void
pv_dashboard_page_class_init (PvDashboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_dashboard_page_dispose;
  object_class->finalize = pv_dashboard_page_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-dashboard-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvDashboardPage, tiles);
  gtk_widget_class_bind_template_child (widget_class, PvDashboardPage, charts);
  gtk_widget_class_bind_template_child (widget_class, PvDashboardPage, updated);
  gtk_widget_class_install_action (widget_class, "dashboard.save-chart", "(us)", save_chart_activated);
}

static void
pv_dashboard_page_init (PvDashboardPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  make_tile (self, PV_DASHBOARD_REGISTERED, _ ("Registered"));
  make_tile (self, PV_DASHBOARD_ENTERED, _ ("Entered"));
  make_tile (self, PV_DASHBOARD_INSIDE, _ ("Inside Now"));
  self->inside_bar = GTK_LEVEL_BAR (gtk_level_bar_new_for_interval (0, 1));
  /* The level bar's own offsets: amber from 90 %, red at 100 %. */
  gtk_level_bar_remove_offset_value (self->inside_bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (self->inside_bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (self->inside_bar, GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_level_bar_add_offset_value (self->inside_bar, "ok", 0.9);
  gtk_level_bar_add_offset_value (self->inside_bar, "warn", 0.9999);
  gtk_level_bar_add_offset_value (self->inside_bar, "over", 1.0);
  gtk_box_append (GTK_BOX (self->tile[PV_DASHBOARD_INSIDE]), GTK_WIDGET (self->inside_bar));
  make_tile (self, PV_DASHBOARD_DOUBLES, _ ("Double Entries"));
  make_tile (self, PV_DASHBOARD_DEVICES, _ ("Devices"));

  /* The day's entries first, then inside-now beside them when two or
   * more fit abreast, then the gates and the registrations. */
  make_chart (self, PV_DASHBOARD_CHART_QUARTERS, PV_CHART_LINE, _ ("Entries per 15 Minutes"));
  make_chart (self, PV_DASHBOARD_CHART_INSIDE, PV_CHART_LINE, _ ("Inside over the Day"));
  make_chart (self, PV_DASHBOARD_CHART_GATES, PV_CHART_BAR, _ ("Entries per Gate Today"));
  make_chart (self, PV_DASHBOARD_CHART_CATEGORIES, PV_CHART_STACKED_BAR, _ ("Registrations by Category"));
  make_chart (self, PV_DASHBOARD_CHART_CHANNELS, PV_CHART_DONUT, _ ("Registrations by Channel"));
  quarter_labels (self->chart[PV_DASHBOARD_CHART_QUARTERS]);
  quarter_labels (self->chart[PV_DASHBOARD_CHART_INSIDE]);
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
}

GtkWidget *
pv_dashboard_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings, PvDeviceList *devices)
{
  PvDashboardPage *self = g_object_new (PV_TYPE_DASHBOARD_PAGE, NULL);

  self->store = g_object_ref (store);
  self->settings = g_object_ref (settings);
  self->devices = devices ? g_object_ref (devices) : NULL;
  if (watch != NULL)
    {
      self->watch = g_object_ref (watch);
      self->watch_id = g_signal_connect_swapped (watch, "changed", G_CALLBACK (schedule_refresh), self);
    }
  if (devices != NULL)
    self->devices_id = g_signal_connect_swapped (devices, "changed", G_CALLBACK (devices_changed_cb), self);
  self->settings_id = g_signal_connect_swapped (settings, "changed::venue-capacity",
                                                G_CALLBACK (schedule_refresh), self);
  self->tick_id = g_timeout_add_seconds (TICK_SECONDS, tick_cb, self);
  return GTK_WIDGET (self);
}

const char *
pv_dashboard_page_get_figure (PvDashboardPage *self, PvDashboardTile tile)
{
  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self) && tile < PV_DASHBOARD_N_TILES, NULL);
  return gtk_label_get_text (self->figure[tile]);
}

const char *
pv_dashboard_page_get_detail (PvDashboardPage *self, PvDashboardTile tile)
{
  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self) && tile < PV_DASHBOARD_N_TILES, NULL);
  return gtk_label_get_text (self->detail[tile]);
}

const char *
pv_dashboard_page_get_inside_level (PvDashboardPage *self)
{
  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self), NULL);
  return self->inside_level;
}

PvChart *
pv_dashboard_page_get_chart (PvDashboardPage *self, PvDashboardChart chart)
{
  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self) && chart < PV_DASHBOARD_N_CHARTS, NULL);
  return self->chart[chart];
}

guint
pv_dashboard_page_get_n_refreshes (PvDashboardPage *self)
{
  g_return_val_if_fail (PV_IS_DASHBOARD_PAGE (self), 0);
  return self->n_refreshes;
}
