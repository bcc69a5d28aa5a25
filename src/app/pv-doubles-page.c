/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-doubles-page.c: the double entries (see the header). The list comes
 * from the scans' is_double index, so reading it again is cheap; still, a
 * replica that syncs changes many times a second, so it is read at most
 * once a second, only while the page is on screen, and the rows are only
 * rebuilt when the doubles themselves changed (a row does not jump from
 * under the mouse because some other scan arrived). */
#include "config.h"

#include "pv-doubles-page.h"

#include <glib/gi18n.h>

#include "pv-event.h"
#include "pv-i18n.h"
#include "pv-stats.h"
#include "pv-store.h"
#include "pv-ticket-code.h"
#include "pv-tickets.h"

struct _PvDoublesPage
{
  AdwBin parent_instance;

  /* template widgets */
  GtkStack *stack; /* the bin's child: AdwBin lets go of it, not the template */
  AdwPreferencesGroup *group;
  GtkListBox *list;

  /* owned */
  PvStore *store;
  PvStoreWatch *watch;
  GSettings *settings;
  char *shown; /* what the rows show, to tell whether anything changed */
  guint refresh_id;
  gboolean stale; /* changed while off screen */
};

G_DEFINE_FINAL_TYPE (PvDoublesPage, pv_doubles_page, ADW_TYPE_BIN)

enum
{
  TICKET_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- a row ---- */

static GtkWidget *
label_new (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static char *
clock_text (PvEvent *event, gint64 at)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, at);

  return local ? g_date_time_format (local, "%H:%M:%S") : g_strdup ("?");
}

/* "4 s later", "3 min later": how far apart the two admissions were says
 * whether it was one screenshot shared or a ticket passed back over the
 * fence. */
static char *
later_text (gint64 delta_us)
{
  gint64 s = delta_us / G_USEC_PER_SEC;

  /* Canonical order is the clocks' order as the gates synced them; a gate
   * whose clock was behind can still have said an earlier time. */
  if (delta_us < 0)
    return g_strdup (_ ("Earlier by this gate’s clock: the two clocks disagree"));
  if (s < 60)
    return g_strdup_printf (ngettext ("%d s later", "%d s later", (gulong) s), (int) s);
  if (s < 3600)
    return g_strdup_printf (ngettext ("%d min later", "%d min later", (gulong) (s / 60)), (int) (s / 60));
  return g_strdup_printf (ngettext ("%d hour later", "%d hours later", (gulong) (s / 3600)), (int) (s / 3600));
}

/* One scan's column: what it was, where and when, how it was decided, on
 * which device. */
static GtkWidget *
scan_box_new (PvDoublesPage *self, PvEvent *event, const char *caption, gboolean is_double, guint16 device_id,
              gint64 at, const char *gate, gboolean offline, const char *later)
{
  const PvDeviceInfo *device = device_id ? pv_store_lookup_device (self->store, device_id) : NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *head = label_new (caption, "caption-heading");
  g_autofree char *clock = clock_text (event, at);
  g_autofree char *where = NULL, *device_text = NULL;
  GtkWidget *decided;

  gtk_widget_add_css_class (head, is_double ? "error" : "dim-label");
  gtk_box_append (GTK_BOX (box), head);
  /* Translators: a gate and the time a ticket was let in there. */
  where = g_strdup_printf (_ ("%s · %s"), gate, clock);
  gtk_box_append (GTK_BOX (box), label_new (where, "heading"));
  if (later != NULL)
    gtk_box_append (GTK_BOX (box), label_new (later, "dim-label"));
  /* Offline is amber as on the gate's own screen: the reason it happened. */
  decided = label_new (offline ? _ ("Offline: decided without the hub") : _ ("Online: the hub agreed"),
                       offline ? "warning" : "dim-label");
  gtk_box_append (GTK_BOX (box), decided);
  if (device != NULL)
    /* Translators: the device that recorded a scan, by its name. */
    device_text = g_strdup_printf (_ ("Device “%s”"), device->name);
  else
    device_text = g_strdup_printf (_ ("Device %u"), device_id);
  gtk_box_append (GTK_BOX (box), label_new (device_text, "dim-label"));
  return box;
}

static GtkWidget *
double_row_new (PvDoublesPage *self, PvEvent *event, const PvDoubleEntry *entry)
{
  g_autoptr (GError) error = NULL;
  g_auto (PvTicketInfo) info = { 0 };
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *scans = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 24);
  GtkWidget *serial, *what, *day, *first, *second, *chevron;
  g_autofree char *date = pv_event_day_date (event, entry->day);
  g_autofree char *day_text = NULL, *what_text = NULL, *later = NULL;
  guint16 issuer = 0;
  guint32 number = 0;

  if (pv_ticket_parse_serial (entry->serial, &issuer, &number, NULL)
      && pv_tickets_lookup (self->store, issuer, number, &info, &error) && info.known)
    {
      const PvCategory *category = pv_event_get_category (event, info.category);
      g_autofree char *party = NULL;

      if (info.party > 1)
        party = g_strdup_printf (ngettext ("%u person", "%u people", info.party), info.party);
      what_text = g_strjoin (" · ", pv_category_get_label (category), party ? party : info.name,
                             party ? info.name : NULL, NULL);
    }
  g_object_set_data (G_OBJECT (row), "issuer", GUINT_TO_POINTER (issuer));
  g_object_set_data (G_OBJECT (row), "serial", GUINT_TO_POINTER (number));

  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  serial = label_new (entry->serial, "heading");
  gtk_widget_add_css_class (serial, "monospace");
  gtk_box_append (GTK_BOX (head), serial);
  what = label_new (what_text ? what_text : _ ("Ticket not on this device"), "dim-label");
  gtk_label_set_wrap (GTK_LABEL (what), FALSE);
  gtk_label_set_ellipsize (GTK_LABEL (what), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (what, TRUE);
  gtk_box_append (GTK_BOX (head), what);
  /* Translators: event day number and its date, "Day 2 · 2026-11-29". */
  day_text = g_strdup_printf (_ ("Day %d · %s"), entry->day + 1, date);
  day = label_new (day_text, NULL);
  gtk_box_append (GTK_BOX (head), day);
  chevron = gtk_image_new_from_icon_name ("go-next-symbolic");
  gtk_widget_set_tooltip_text (chevron, _ ("Open the ticket"));
  gtk_box_append (GTK_BOX (head), chevron);
  gtk_box_append (GTK_BOX (box), head);

  gtk_box_set_homogeneous (GTK_BOX (scans), TRUE);
  if (entry->first_device_id != 0)
    first = scan_box_new (self, event, _ ("Let in first"), FALSE, entry->first_device_id, entry->first_at,
                          entry->first_gate, entry->first_offline, NULL);
  else
    {
      first = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_box_append (GTK_BOX (first), label_new (_ ("Let in first"), "caption-heading"));
      gtk_box_append (GTK_BOX (first), label_new (_ ("The entry it repeats is not on this device yet"), "dim-label"));
    }
  if (entry->first_device_id != 0)
    later = later_text (entry->at - entry->first_at);
  second = scan_box_new (self, event, _ ("Let in again: the double"), TRUE, entry->device_id, entry->at,
                         entry->gate, entry->offline, later);
  gtk_box_append (GTK_BOX (scans), first);
  gtk_box_append (GTK_BOX (scans), second);
  gtk_box_append (GTK_BOX (box), scans);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), issuer != 0);
  return row;
}

/* ---- the list ---- */

static void
row_activated_cb (GtkListBox *list, GtkListBoxRow *row, PvDoublesPage *self)
{
  guint issuer = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "issuer"));
  guint serial = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "serial"));

  if (issuer != 0)
    g_signal_emit (self, signals[TICKET_ACTIVATED], 0, issuer, serial);
}

/* What the rows would show, as text: equal means nothing to redo. */
static char *
describe (GPtrArray *doubles)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < doubles->len; i++)
    {
      const PvDoubleEntry *d = g_ptr_array_index (doubles, i);

      g_string_append_printf (text, "%s %u/%" G_GUINT64_FORMAT " %u %" G_GINT64_FORMAT "\n", d->serial, d->device_id,
                              d->seq, d->first_device_id, d->first_at);
    }
  return g_string_free (text, FALSE);
}

void
pv_doubles_page_refresh (PvDoublesPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) doubles = NULL;
  g_autofree char *shown = NULL, *description = NULL;
  PvEvent *event = pv_store_get_event (self->store, NULL);
  GtkListBoxRow *old;
  guint n;

  g_return_if_fail (PV_IS_DOUBLES_PAGE (self));
  self->stale = FALSE;
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (event == NULL || !(doubles = pv_stats_list_doubles (self->store, &error)))
    {
      if (error != NULL)
        g_message ("Cannot list double entries: %s", error->message);
      return;
    }
  shown = describe (doubles);
  if (g_strcmp0 (shown, self->shown) == 0)
    return;
  g_free (self->shown);
  self->shown = g_steal_pointer (&shown);

  while ((old = gtk_list_box_get_row_at_index (self->list, 0)) != NULL)
    gtk_list_box_remove (self->list, GTK_WIDGET (old));
  n = doubles->len;
  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "list" : "empty");
  if (n > PV_DOUBLES_PAGE_MAX_ROWS)
    description = g_strdup_printf (_ ("The newest %u of %u. Each ticket was let in at a second gate that could not "
                                      "see the first scan; the later one counts as the double."),
                                   PV_DOUBLES_PAGE_MAX_ROWS, n);
  else
    description = g_strdup_printf (ngettext ("%u so far, newest first. The ticket was let in at a second gate that "
                                             "could not see the first scan; the later one counts as the double.",
                                             "%u so far, newest first. Each ticket was let in at a second gate that "
                                             "could not see the first scan; the later one counts as the double.",
                                             n),
                                   n);
  adw_preferences_group_set_description (self->group, description);
  /* Oldest first from the store: the newest are at the end. */
  for (guint i = n; i-- > 0 && n - i <= PV_DOUBLES_PAGE_MAX_ROWS;)
    gtk_list_box_append (self->list, double_row_new (self, event, g_ptr_array_index (doubles, i)));
}

GtkListBox *
pv_doubles_page_get_list (PvDoublesPage *self)
{
  return self->list;
}

static gboolean
refresh_later_cb (gpointer user_data)
{
  PvDoublesPage *self = user_data;

  self->refresh_id = 0;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    pv_doubles_page_refresh (self);
  else
    self->stale = TRUE;
  return G_SOURCE_REMOVE;
}

static void
store_changed_cb (PvStoreWatch *watch, PvDoublesPage *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (1000, refresh_later_cb, self);
}

/* ---- life cycle ---- */

static void
pv_doubles_page_map (GtkWidget *widget)
{
  PvDoublesPage *self = PV_DOUBLES_PAGE (widget);

  GTK_WIDGET_CLASS (pv_doubles_page_parent_class)->map (widget);
  if (self->stale && self->store != NULL)
    pv_doubles_page_refresh (self);
}

static void
pv_doubles_page_dispose (GObject *object)
{
  PvDoublesPage *self = PV_DOUBLES_PAGE (object);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->watch != NULL)
    g_signal_handlers_disconnect_by_data (self->watch, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_DOUBLES_PAGE);
  g_clear_object (&self->watch);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pv_doubles_page_parent_class)->dispose (object);
}

static void
pv_doubles_page_finalize (GObject *object)
{
  PvDoublesPage *self = PV_DOUBLES_PAGE (object);

  g_free (self->shown);
  G_OBJECT_CLASS (pv_doubles_page_parent_class)->finalize (object);
}

static void
pv_doubles_page_class_init (PvDoublesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_doubles_page_dispose;
  object_class->finalize = pv_doubles_page_finalize;
  widget_class->map = pv_doubles_page_map;

  /* A row was clicked: open ticket @issuer-@serial. */
  signals[TICKET_ACTIVATED] = g_signal_new ("ticket-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-doubles-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvDoublesPage, group);
  gtk_widget_class_bind_template_child (widget_class, PvDoublesPage, list);
}

static void
pv_doubles_page_init (PvDoublesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->stack = GTK_STACK (adw_bin_get_child (ADW_BIN (self)));
  g_signal_connect (self->list, "row-activated", G_CALLBACK (row_activated_cb), self);
}

GtkWidget *
pv_doubles_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings)
{
  PvDoublesPage *self = g_object_new (PV_TYPE_DOUBLES_PAGE, NULL);

  self->store = g_object_ref (store);
  self->watch = watch ? g_object_ref (watch) : NULL;
  if (watch != NULL)
    g_signal_connect (watch, "changed", G_CALLBACK (store_changed_cb), self);
  self->settings = settings ? g_object_ref (settings) : NULL;
  pv_doubles_page_refresh (self);
  return GTK_WIDGET (self);
}
