/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-desk-page.c: the registration desk (see the header). Issuing signs
 * and records the ticket on this device in one transaction (well under a
 * millisecond), so the desk works the same with the network down. The
 * ticket on show is looked up again as the replica changes, so a scan at a
 * gate or a revocation elsewhere shows within a second or two. */
#include "config.h"

#include "pv-desk-page.h"

#include <glib/gi18n.h>

#include "pv-api-client.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-i18n.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-ticket-code.h"
#include "pv-ticket-print.h"
#include "pv-tickets.h"
#include "pv-wire.h"

typedef struct _Searcher Searcher;

struct _PvDeskPage
{
  AdwBin parent_instance;

  /* template widgets */
  AdwPreferencesGroup *form_group;
  AdwEntryRow *name_row;
  AdwEntryRow *phone_row;
  AdwComboRow *category_row;
  AdwComboRow *day_row;
  AdwActionRow *party_row;
  GtkSpinButton *party;
  GtkAdjustment *party_adjustment;
  GtkLabel *form_error;
  GtkButton *issue_button;
  GtkSearchEntry *search;
  AdwPreferencesGroup *find_group;
  GtkListBox *results;
  GtkLabel *no_results;
  GtkStack *card_stack;
  GtkDrawingArea *qr;
  GtkLabel *serial;
  GtkLabel *what;
  GtkLabel *who;
  GtkLabel *status;
  GtkLabel *delivery;
  GtkWidget *send_whatsapp;
  GtkWidget *send_sms;
  AdwStatusPage *empty_status;
  GtkListBox *history;
  GtkLabel *no_history;

  /* owned */
  PvStore *store;
  PvStoreWatch *watch;
  GSettings *settings;
  GPtrArray *categories; /* PvCategory, beside category_row's items */
  int first_day;         /* the event day of day_row's first item */
  GCancellable *search_cancellable;
  guint refresh_id;
  guint ticket_refresh_id;
  gboolean lookup;    /* the control room's: no walk-in form */
  Searcher *searcher; /* a second store handle, for searches off the UI thread */
  /* the ticket on show */
  char *code;
  guint16 issuer;
  guint32 serial_number;
  char *shown_name;
  char *shown_category;
  char *shown_days;
  guint shown_party;
  gboolean shown_revoked;
  /* where the hub's outbox has got with the ticket on show: asked while
   * it waits, since a desk's replica never hears it by sync */
  SoupSession *session;
  GCancellable *delivery_cancellable; /* the ask in flight, or NULL */
  guint delivery_poll_id;
  gboolean delivery_waiting; /* the line says it waits for the hub */
  JsonObject *hub_delivery;  /* the hub's last answer for the ticket on show, or NULL */
};

G_DEFINE_FINAL_TYPE (PvDeskPage, pv_desk_page, ADW_TYPE_BIN)

/* ---- the ticket on show ---- */

static void
draw_qr (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  PvDeskPage *self = user_data;
  double size = MIN (width, height);

  if (self->code == NULL)
    return;
  /* Drawn as vectors at whatever size the page has: crisp for a camera. */
  pv_qr_draw (cr, self->code, (width - size) / 2, (height - size) / 2, size, NULL);
}

static char *
day_text (PvEvent *event, const PvCategory *category, int day)
{
  g_autofree char *date = NULL;

  if (category != NULL && category->validity == PV_VALIDITY_EVERY_DAY)
    return g_strdup (_ ("Every day"));
  if (day < 0 || day == PV_TICKET_DAY_NONE)
    return g_strdup (_ ("Any one day"));
  date = pv_event_day_date (event, day);
  /* Translators: "Day 3 of 9 · 2026-11-30". */
  return g_strdup_printf (_ ("Day %d of %u · %s"), day + 1, pv_event_get_n_days (event), date);
}

/* One scan in the ticket's history: what a volunteer following up a
 * complaint ("they let my friend in on my ticket!") needs to see. */
static GtkWidget *
history_row_new (PvEvent *event, const PvScanInfo *scan)
{
  g_autoptr (GDateTime) local = event ? pv_event_local_time (event, scan->at) : NULL;
  g_autofree char *clock = local ? g_date_time_format (local, "%H:%M:%S") : g_strdup ("?");
  g_autofree char *date = local ? g_date_time_format (local, "%a %-d %b") : NULL;
  g_autofree char *device = NULL, *title = NULL, *subtitle = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *decided = gtk_label_new (scan->offline ? _ ("Offline") : _ ("Online"));

  if (scan->device_name != NULL)
    /* Translators: the gate device that recorded a scan, by its name. */
    device = g_strdup_printf (_ ("Device “%s”"), scan->device_name);
  else
    device = g_strdup_printf (_ ("Device %u"), scan->device_id);
  /* Translators: "Entry · Gate 2" or "Exit · Gate 2". */
  title = g_strdup_printf (scan->is_exit ? _ ("Exit · %s") : _ ("Entry · %s"), scan->gate);
  /* Translators: event day, date, time of day and the device, e.g.
   * "Day 2, Sun 29 Nov, 10:42:05 · Device “Gate 2 PC”". */
  subtitle = g_strdup_printf (_ ("Day %d, %s, %s · %s"), scan->day + 1, date ? date : "", clock, device);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (scan->party > 1)
    {
      g_autofree char *party = g_strdup_printf (ngettext ("%u person", "%u people", scan->party), scan->party);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_label_new (party));
    }
  /* Decided without the hub: amber, as on the gate's own screen. */
  gtk_widget_add_css_class (decided, scan->offline ? "warning" : "dim-label");
  gtk_widget_set_tooltip_text (decided, scan->offline ? _ ("The gate decided from its own copy, without the hub")
                                                      : _ ("The gate asked the hub"));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), decided);
  if (scan->is_void || scan->is_double)
    {
      GtkWidget *tag = gtk_label_new (scan->is_void ? _ ("Void") : _ ("Double entry"));

      gtk_widget_add_css_class (tag, scan->is_void ? "dim-label" : "error");
      gtk_widget_add_css_class (tag, "heading");
      gtk_widget_set_tooltip_text (tag, scan->is_void
                                          ? _ ("Recorded by a device after it was revoked: it counts for nothing")
                                          : _ ("The ticket had been used already; two gates admitted it without "
                                               "seeing each other’s scans"));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), tag);
    }
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  return row;
}

static void
show_history (PvDeskPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) scans = pv_tickets_history (self->store, self->issuer, self->serial_number, &error);
  PvEvent *event = pv_store_get_event (self->store, NULL);
  GtkListBoxRow *old;

  while ((old = gtk_list_box_get_row_at_index (self->history, 0)) != NULL)
    gtk_list_box_remove (self->history, GTK_WIDGET (old));
  if (scans == NULL)
    {
      gtk_label_set_text (self->no_history, error->message);
      return;
    }
  gtk_label_set_text (self->no_history, _ ("Not scanned at any gate yet"));
  for (guint i = 0; i < scans->len; i++)
    gtk_list_box_append (self->history, history_row_new (event, g_ptr_array_index (scans, i)));
}

/* ---- sending ---- */

static const char *
channel_name (const char *channel)
{
  return g_strcmp0 (channel, PV_DELIVERY_WHATSAPP) == 0 ? _ ("WhatsApp") : _ ("SMS");
}

/* The send buttons offer what the hub said it can send by; when it never
 * said (an older hub, or not heard from yet) both stay, and the words
 * say it is not known. */
static void
update_send_offers (PvDeskPage *self, const char *const *channels)
{
  gtk_widget_set_visible (self->send_whatsapp, pv_api_channels_offer (channels, PV_DELIVERY_WHATSAPP, TRUE));
  gtk_widget_set_visible (self->send_sms, pv_api_channels_offer (channels, PV_DELIVERY_SMS, TRUE));
}

static void
set_delivery (PvDeskPage *self, const char *text, const char *style)
{
  static const char *const styles[] = { "dim-label", "success", "warning", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->delivery), styles[i]);
  /* Its line is kept when there is nothing to say, so the buttons below
   * do not move when a ticket is sent. */
  gtk_label_set_text (self->delivery, text ? text : "");
  if (text != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->delivery), style);
}

/* A few seconds apart: a volunteer glances at the line while the
 * visitor checks the phone, and a desk or two at a ticket cost the hub
 * little. */
#define DELIVERY_POLL_SECONDS 3
#define DELIVERY_BOUND_MS 5000

static void show_delivery (PvDeskPage *self, gboolean revoked);

/* Stops asking the hub about the ticket on show, and forgets its answer:
 * another ticket is shown, or the page is going. */
static void
forget_hub_delivery (PvDeskPage *self)
{
  g_cancellable_cancel (self->delivery_cancellable);
  g_clear_object (&self->delivery_cancellable);
  g_clear_handle_id (&self->delivery_poll_id, g_source_remove);
  g_clear_pointer (&self->hub_delivery, json_object_unref);
}

static void
hub_delivery_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvDeskPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_ticket_delivery_finish (result, &error);
  g_autofree char *serial = NULL;

  /* Cancelled: another ticket is on show, or the page is gone (its
   * store with it); nothing here is this answer's any more. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->store == NULL)
    return;
  g_clear_object (&self->delivery_cancellable);
  if (g_error_matches (error, PV_ERROR, PV_ERROR_NOT_FOUND))
    {
      /* No hub to ask (a desk on its own): the line says what it knows. */
      g_clear_handle_id (&self->delivery_poll_id, g_source_remove);
      return;
    }
  /* Offline, or the request has not reached the hub yet: asked again at
   * the next tick. */
  if (answer == NULL || !JSON_NODE_HOLDS_OBJECT (answer))
    return;
  serial = pv_ticket_format_serial (self->issuer, self->serial_number);
  if (g_strcmp0 (pv_json_member_string (json_node_get_object (answer), "serial"), serial) != 0)
    return;
  g_clear_pointer (&self->hub_delivery, json_object_unref);
  self->hub_delivery = json_object_ref (json_node_get_object (answer));
  show_delivery (self, self->shown_revoked);
}

static gboolean
poll_delivery_cb (gpointer user_data)
{
  PvDeskPage *self = user_data;

  if (self->delivery_cancellable != NULL)
    return G_SOURCE_CONTINUE;
  if (self->session == NULL)
    self->session = pv_api_session_new ();
  self->delivery_cancellable = g_cancellable_new ();
  pv_api_ticket_delivery_async (self->store, self->session, NULL, self->issuer, self->serial_number,
                                DELIVERY_BOUND_MS, self->delivery_cancellable, hub_delivery_cb, g_object_ref (self));
  return G_SOURCE_CONTINUE;
}

/* The hub's newest message on @channel for the ticket on show, when it is
 * for the newest of the @asked requests on that channel this desk knows;
 * NULL while the hub has not taken that one yet. */
static JsonObject *
hub_message (PvDeskPage *self, const char *channel, guint asked)
{
  JsonArray *messages = self->hub_delivery ? pv_json_member_array (self->hub_delivery, "messages") : NULL;
  JsonObject *newest = NULL;
  guint n = 0;

  for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (message != NULL && g_strcmp0 (pv_json_member_string (message, "channel"), channel) == 0)
        {
          newest = message;
          n++;
        }
    }
  return n >= asked ? newest : NULL;
}

/* Why the hub could not send it, in words a volunteer can act on (the
 * hub says it in a word: see pv_outbox_failure_kind ()). */
static const char *
failure_words (const char *reason)
{
  static const struct
  {
    const char *reason;
    const char *words;
  } words[] = {
    { "no-phone", N_ ("the visitor gave no phone number") },
    { "revoked", N_ ("the ticket is revoked") },
    { "channel", N_ ("the hub cannot send by this channel") },
    { "not-reachable", N_ ("this phone number cannot receive it") },
    { "window", N_ ("the visitor has not written to the fair’s WhatsApp number lately") },
    { "country", N_ ("the fair does not send messages to this country") },
    { "budget", N_ ("today’s budget for messages is spent") },
    { "setup", N_ ("the message service refused the hub’s settings; tell the control room") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (g_strcmp0 (reason, words[i].reason) == 0)
      return _ (words[i].words);
  return _ ("the message service refused it");
}

/* Says what the hub's @message tells; FALSE when it is still waiting. */
static gboolean
show_hub_message (PvDeskPage *self, JsonObject *message, const char *channel)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);
  const char *state = pv_json_member_string (message, "state");
  gint64 at = json_object_get_int_member_with_default (message, "at", 0);
  g_autoptr (GDateTime) local = event && at > 0 ? pv_event_local_time (event, at) : NULL;
  g_autofree char *clock = local ? g_date_time_format (local, "%H:%M") : g_strdup ("?");
  g_autofree char *text = NULL;

  if (g_strcmp0 (state, "sent") == 0)
    {
      /* Translators: "Sent by WhatsApp at 10:43". */
      text = g_strdup_printf (_ ("Sent by %s at %s"), channel, clock);
      set_delivery (self, text, "success");
    }
  else if (g_strcmp0 (state, "delivered") == 0 || g_strcmp0 (state, "read") == 0)
    {
      /* Translators: "Delivered 10:43", a time. */
      text = g_strdup_printf (_ ("Delivered %s"), clock);
      set_delivery (self, text, "success");
    }
  else if (g_strcmp0 (state, "failed") == 0 || g_strcmp0 (state, "held") == 0)
    {
      /* Translators: "Could not be sent: this phone number cannot receive
       * it — print it or let the visitor photograph it". */
      text = g_strdup_printf (_ ("Could not be sent: %s — print it or let the visitor photograph it"),
                              failure_words (pv_json_member_string (message, "reason")));
      set_delivery (self, text, "error");
    }
  else
    return FALSE;
  return TRUE;
}

/* Beside the ticket, where its sending has got to, as far as this device
 * knows: the hub's outbox moves a request on only in the hub's own
 * replica, so a desk says it is waiting for the hub until then, and
 * plainly when the hub cannot send it at all. */
static void
update_delivery_line (PvDeskPage *self, gboolean revoked)
{
  g_auto (GStrv) channels = pv_api_channels_lookup (self->store, PV_API_SENDS_TICKETS);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) deliveries = NULL;
  g_autoptr (GDateTime) asked = NULL;
  g_autofree char *clock = NULL, *text = NULL;
  PvEvent *event = pv_store_get_event (self->store, NULL);
  const PvDelivery *last;
  const char *channel, *status;
  JsonObject *message;
  guint same_channel = 0;

  update_send_offers (self, (const char *const *) channels);
  if (revoked)
    return set_delivery (self, NULL, NULL);
  if (!(deliveries = pv_tickets_list_deliveries (self->store, self->issuer, self->serial_number, &error)))
    return set_delivery (self, error->message, "error");
  if (deliveries->len == 0)
    {
      if (channels != NULL && channels[0] == NULL)
        return set_delivery (self, _ ("The hub sends no messages: print this ticket, or let the visitor photograph it"),
                             "dim-label");
      return set_delivery (self, NULL, NULL);
    }
  last = g_ptr_array_index (deliveries, deliveries->len - 1);
  channel = channel_name (last->channel);
  status = last->status ? last->status : "queued";
  asked = event ? pv_event_local_time (event, last->requested_at) : NULL;
  clock = asked ? g_date_time_format (asked, "%H:%M") : g_strdup ("?");
  for (guint i = 0; i < deliveries->len; i++)
    if (g_strcmp0 (((const PvDelivery *) deliveries->pdata[i])->channel, last->channel) == 0)
      same_channel++;
  /* Sent, delivered or failed: nothing more a volunteer waits for. */
  if ((message = hub_message (self, last->channel, same_channel)) != NULL && show_hub_message (self, message, channel))
    return;
  if (g_str_equal (status, "sent") || g_str_equal (status, "delivered") || g_str_equal (status, "read"))
    {
      /* Translators: "Sent by WhatsApp (asked at 10:42)". */
      text = g_strdup_printf (g_str_equal (status, "sent") ? _ ("Sent by %s (asked at %s)")
                                                           : _ ("Delivered by %s (asked at %s)"),
                              channel, clock);
      return set_delivery (self, text, "success");
    }
  if (g_str_equal (status, "failed"))
    {
      /* Translators: "Could not be sent by SMS: print this ticket or show it". */
      text = g_strdup_printf (_ ("Could not be sent by %s: print this ticket, or let the visitor photograph it"),
                              channel);
      return set_delivery (self, text, "error");
    }
  if (channels != NULL && !g_strv_contains ((const char *const *) channels, last->channel))
    {
      /* Translators: "Cannot be sent: the hub has no WhatsApp set up. …". */
      text = g_strdup_printf (_ ("Cannot be sent: the hub has no %s set up. Print this ticket, or let the visitor "
                                 "photograph it"),
                              channel);
      return set_delivery (self, text, "warning");
    }
  if (channels == NULL)
    {
      /* Translators: "Asked at 10:42 to send it by WhatsApp: …". */
      text = g_strdup_printf (_ ("Asked at %s to send it by %s: this desk has not heard yet whether the hub can "
                                 "send messages"),
                              clock, channel);
      return set_delivery (self, text, "warning");
    }
  /* Translators: "Waiting for the hub to send it by WhatsApp (asked at 10:42)". */
  text = g_strdup_printf (_ ("Waiting for the hub to send it by %s (asked at %s)"), channel, clock);
  set_delivery (self, text, "dim-label");
  self->delivery_waiting = TRUE;
}

static void
show_delivery (PvDeskPage *self, gboolean revoked)
{
  self->delivery_waiting = FALSE;
  update_delivery_line (self, revoked);
  /* Asked while the ticket waits for the hub, and only then. */
  if (!self->delivery_waiting)
    g_clear_handle_id (&self->delivery_poll_id, g_source_remove);
  else if (self->delivery_poll_id == 0)
    self->delivery_poll_id = g_timeout_add_seconds (DELIVERY_POLL_SECONDS, poll_delivery_cb, self);
}

static void
show_ticket (PvDeskPage *self, const char *code, const char *name, const char *phone, const char *revoked)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *serial = NULL, *days = NULL, *what = NULL, *who = NULL;
  PvEvent *event = pv_store_get_event (self->store, NULL);
  const PvCategory *category;
  PvTicket ticket;

  if (!pv_ticket_parse (code, -1, &ticket, &error))
    {
      g_warning ("Cannot show a ticket: %s", error->message);
      return;
    }
  if (self->code == NULL || ticket.issuer != self->issuer || ticket.serial != self->serial_number)
    forget_hub_delivery (self);
  g_free (self->code);
  self->code = g_strdup (code);
  self->issuer = ticket.issuer;
  self->serial_number = ticket.serial;
  category = pv_event_get_category (event, ticket.category);
  serial = pv_ticket_format_serial (ticket.issuer, ticket.serial);
  days = day_text (event, category, ticket.day);
  if (ticket.party > 1)
    /* Translators: category, day, and how many the ticket admits. */
    what = g_strdup_printf (ngettext ("%s · %s · %u person", "%s · %s · %u people", ticket.party),
                            pv_category_get_label (category), days, ticket.party);
  else
    what = g_strdup_printf ("%s · %s", pv_category_get_label (category), days);
  who = g_strjoin (" · ", name && *name ? name : "", phone && *phone ? phone : "", NULL);
  g_strstrip (who);
  if (g_str_has_prefix (who, "· ") || g_str_has_suffix (who, " ·"))
    {
      g_autofree char *trimmed = g_strdup (name && *name ? name : phone ? phone
                                                                        : "");
      g_free (who);
      who = g_steal_pointer (&trimmed);
    }
  g_free (self->shown_name);
  self->shown_name = g_strdup (name);
  g_free (self->shown_category);
  self->shown_category = g_strdup (category ? category->name : NULL);
  g_free (self->shown_days);
  self->shown_days = g_strdup (days);
  self->shown_party = ticket.party;
  gtk_label_set_text (self->serial, serial);
  gtk_label_set_text (self->what, what);
  gtk_label_set_text (self->who, who);
  gtk_label_set_text (self->status, revoked ? revoked : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status), revoked != NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->qr));
  gtk_stack_set_visible_child_name (self->card_stack, "ticket");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.revoke", revoked == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.send", revoked == NULL);
  self->shown_revoked = revoked != NULL;
  show_delivery (self, revoked != NULL);
  show_history (self);
}

/* ---- the form ---- */

static const PvCategory *
chosen_category (PvDeskPage *self)
{
  guint i = adw_combo_row_get_selected (self->category_row);

  return i < self->categories->len ? g_ptr_array_index (self->categories, i) : NULL;
}

static void
category_changed_cb (PvDeskPage *self)
{
  const PvCategory *category = chosen_category (self);
  gboolean chosen_day = category == NULL || category->validity == PV_VALIDITY_CHOSEN_DAY;
  guint max_party = category ? MAX (category->max_party, 1) : 1;

  gtk_widget_set_sensitive (GTK_WIDGET (self->day_row), chosen_day);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->day_row),
                               chosen_day ? ""
                               : category->validity == PV_VALIDITY_EVERY_DAY
                                 ? _ ("Every day of the event")
                                 : _ ("The first entry fixes the day"));
  gtk_adjustment_set_upper (self->party_adjustment, max_party);
  gtk_widget_set_sensitive (GTK_WIDGET (self->party_row), max_party > 1);
  adw_action_row_set_subtitle (self->party_row, max_party > 1 ? "" : _ ("One person per ticket"));
  if (max_party == 1)
    gtk_adjustment_set_value (self->party_adjustment, 1);
}

static void
fill_form (PvDeskPage *self)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);
  GtkStringList *categories = gtk_string_list_new (NULL);
  GtkStringList *days = gtk_string_list_new (NULL);
  int today;

  g_ptr_array_set_size (self->categories, 0);
  if (event != NULL)
    {
      GPtrArray *all = pv_event_get_categories (event);

      /* A walk-in buys what a desk sells, for today or a day to come:
       * a day gone by would be refused at every gate. */
      for (guint i = 0; i < all->len; i++)
        {
          const PvCategory *category = g_ptr_array_index (all, i);
          if (!pv_category_sold_at_desk (category))
            continue;
          gtk_string_list_append (categories, pv_category_get_label (category));
          g_ptr_array_add (self->categories, pv_category_copy (category));
        }
      today = pv_event_day_at (event, pv_store_now (self->store));
      self->first_day = MAX (today, 0);
      for (guint d = (guint) self->first_day; d < pv_event_get_n_days (event); d++)
        {
          g_autofree char *date = pv_event_day_date (event, (int) d);
          g_autofree char *label = g_strdup_printf (_ ("Day %u · %s"), d + 1, date);
          gtk_string_list_append (days, label);
        }
    }
  adw_combo_row_set_model (self->category_row, G_LIST_MODEL (categories));
  adw_combo_row_set_model (self->day_row, G_LIST_MODEL (days));
  g_object_unref (categories);
  g_object_unref (days);
  category_changed_cb (self);
}

static void
say_form_error (PvDeskPage *self, GtkWidget *row, const char *message)
{
  gtk_label_set_text (self->form_error, message);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
  if (row != NULL)
    {
      gtk_widget_add_css_class (row, "error");
      gtk_widget_grab_focus (row);
    }
}

static void
clear_form_error (PvDeskPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->phone_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->party_row), "error");
}

static void refresh_results (PvDeskPage *self);

/* The People field's number as it reads now. A spin button takes typed
 * text into its value only on Enter or when it loses focus (and then
 * clamps it to the range without a word): Ctrl+Enter does neither, so the
 * text is what the volunteer meant. FALSE when it is not a whole number. */
static gboolean
typed_party (PvDeskPage *self, guint64 *out)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->party))));

  return g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, out, NULL);
}

static void
issue_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PvDeskPage *self = PV_DESK_PAGE (widget);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) issued = NULL;
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  g_autofree char *phone_text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->phone_row))));
  g_autofree char *phone = NULL;
  const PvCategory *category = chosen_category (self);
  PvIssueRequest request = { 0 };
  PvIssuedTicket *ticket;
  guint64 party = 0;

  clear_form_error (self);
  if (*name == '\0')
    {
      say_form_error (self, GTK_WIDGET (self->name_row), _ ("Enter the visitor’s or the group’s name"));
      return;
    }
  if (*phone_text != '\0' && !(phone = pv_normalize_phone (phone_text, &error)))
    {
      say_form_error (self, GTK_WIDGET (self->phone_row), error->message);
      return;
    }
  if (category == NULL)
    {
      say_form_error (self, GTK_WIDGET (self->category_row), _ ("This event has no ticket categories"));
      return;
    }

  if (!typed_party (self, &party) || party < 1)
    {
      g_autofree char *words = g_strdup_printf (_ ("Enter how many people the ticket is for: a number from 1 to %u"),
                                                MAX (category->max_party, 1));
      say_form_error (self, GTK_WIDGET (self->party_row), words);
      return;
    }
  /* Never less than asked for without a word: a group of 500 given a
   * ticket for 200 (or 1) finds out at the gate. */
  if (party > MAX (category->max_party, 1))
    {
      g_autofree char *words = category->max_party <= 1
                                 ? g_strdup_printf (_ ("A “%s” ticket is for one person: issue one ticket each"),
                                                    pv_category_get_label (category))
                                 : g_strdup_printf (_ ("A “%s” ticket admits at most %u people: issue more than one ticket for %s"),
                                                    pv_category_get_label (category), category->max_party, gtk_editable_get_text (GTK_EDITABLE (self->party)));
      say_form_error (self, GTK_WIDGET (self->party_row), words);
      return;
    }
  /* The field shows what is issued. */
  gtk_adjustment_set_value (self->party_adjustment, (double) party);

  request.category = category->name;
  request.day = category->validity == PV_VALIDITY_CHOSEN_DAY
                  ? self->first_day + (int) adw_combo_row_get_selected (self->day_row)
                  : -1;
  request.party = (guint) party;
  request.name = name;
  request.phone = phone;
  request.channel = "desk";
  if (!(issued = pv_tickets_issue (self->store, &request, &error)))
    {
      say_form_error (self, NULL, error->message);
      return;
    }

  ticket = g_ptr_array_index (issued, 0);
  if (self->watch != NULL)
    pv_store_watch_notify (self->watch);
  show_ticket (self, ticket->code, name, phone, NULL);
  /* Ready for the next visitor at once; the ticket stays on show. */
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->phone_row), "");
  gtk_adjustment_set_value (self->party_adjustment, 1);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
  refresh_results (self);
}

/* Typed into People, not the spin button putting its number back as the
 * keyboard leaves it to show an error. */
static void
party_changed_cb (PvDeskPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self->party));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->party)))
    clear_form_error (self);
}

static void
name_activated_cb (PvDeskPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->phone_row));
}

static void
phone_activated_cb (PvDeskPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->category_row));
}

void
pv_desk_page_focus_party (PvDeskPage *self, const char *category)
{
  for (guint i = 0; category != NULL && i < self->categories->len; i++)
    if (g_strcmp0 (((PvCategory *) g_ptr_array_index (self->categories, i))->name, category) == 0)
      adw_combo_row_set_selected (self->category_row, i);
  gtk_widget_grab_focus (GTK_WIDGET (self->party));
}

void
pv_desk_page_focus_form (PvDeskPage *self)
{
  gtk_widget_grab_focus (self->lookup ? GTK_WIDGET (self->search) : GTK_WIDGET (self->name_row));
}

/* ---- found again ---- */

static gboolean
show_info (PvDeskPage *self, const PvTicketInfo *info)
{
  g_autofree char *revoked = NULL;

  if (info->code == NULL)
    return FALSE;
  if (info->revoked)
    revoked = g_strdup_printf (_ ("Revoked: %s"), info->revoke_reason ? info->revoke_reason : "");
  show_ticket (self, info->code, info->name, info->phone, revoked);
  return TRUE;
}

static void
result_activated_cb (AdwActionRow *row, PvDeskPage *self)
{
  show_info (self, g_object_get_data (G_OBJECT (row), "ticket"));
}

gboolean
pv_desk_page_show_ticket (PvDeskPage *self, guint16 issuer, guint32 serial)
{
  g_autoptr (GError) error = NULL;
  g_auto (PvTicketInfo) info = { 0 };

  g_return_val_if_fail (PV_IS_DESK_PAGE (self), FALSE);
  if (!pv_tickets_lookup (self->store, issuer, serial, &info, &error))
    {
      g_message ("Cannot look up ticket %u-%u: %s", issuer, serial, error->message);
      return FALSE;
    }
  return show_info (self, &info);
}

static void
show_results (PvDeskPage *self, GPtrArray *found, gboolean searched)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);
  g_autofree gpointer *infos = NULL;
  GtkListBoxRow *old;
  gsize n = 0;

  /* Rows only: the placeholder is a child too. */
  while ((old = gtk_list_box_get_row_at_index (self->results, 0)) != NULL)
    gtk_list_box_remove (self->results, GTK_WIDGET (old));
  adw_preferences_group_set_title (self->find_group, searched       ? _ ("Found")
                                                     : self->lookup ? _ ("Find a Ticket")
                                                                    : _ ("Recent Registrations"));
  gtk_label_set_text (self->no_results, searched       ? _ ("No visitor matches")
                                        : self->lookup ? _ ("Type a serial, a name or a phone number")
                                                       : _ ("None yet at this desk"));
  /* The rows take the tickets over. */
  if (found != NULL)
    infos = g_ptr_array_steal (found, &n);
  for (gsize i = 0; i < n; i++)
    {
      PvTicketInfo *info = infos[i];
      const PvCategory *category = event ? pv_event_get_category (event, info->category) : NULL;
      g_autofree char *days = event ? day_text (event, category, info->day) : NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      subtitle = g_strdup_printf ("%s · %s · %s%s", info->serial_text, pv_category_get_label (category),
                                  days ? days : "", info->revoked ? _ (" · revoked") : "");
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), info->name ? info->name : info->serial_text);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      if (info->party > 1)
        {
          g_autofree char *party = g_strdup_printf (ngettext ("%u person", "%u people", info->party), info->party);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_label_new (party));
        }
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "ticket", info, (GDestroyNotify) pv_ticket_info_free);
      g_signal_connect (row, "activated", G_CALLBACK (result_activated_cb), self);
      gtk_list_box_append (self->results, row);
    }
}

/* What the search worker uses: its own store handle, one search at a
 * time. Shared with the page by reference, so whichever lets go last —
 * the page or a search still running — frees it, on any thread. */
struct _Searcher
{
  gatomicrefcount refs;
  GMutex lock;
  char *path;
  PvStore *store;
};

static Searcher *
searcher_ref (Searcher *searcher)
{
  g_atomic_ref_count_inc (&searcher->refs);
  return searcher;
}

static void
searcher_unref (Searcher *searcher)
{
  if (!g_atomic_ref_count_dec (&searcher->refs))
    return;
  g_clear_object (&searcher->store);
  g_mutex_clear (&searcher->lock);
  g_free (searcher->path);
  g_free (searcher);
}

typedef struct
{
  Searcher *searcher;
  char *text;
} Search;

static void
search_free (Search *search)
{
  searcher_unref (search->searcher);
  g_free (search->text);
  g_free (search);
}

/* A name search reads every person (a tenth of a second with a million):
 * it runs on a worker, on a store handle of its own, never touching GTK. */
static void
search_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Search *search = task_data;
  Searcher *searcher = search->searcher;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&searcher->lock);
  GPtrArray *found;

  if (searcher->store == NULL && !(searcher->store = pv_store_open_existing (searcher->path, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  pv_store_refresh (searcher->store);
  if (!(found = pv_tickets_search (searcher->store, search->text, 50, &error)))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, found, (GDestroyNotify) g_ptr_array_unref);
}

/* On the main context, holding the page (the task itself does not, so the
 * page is never let go on the worker). */
static void
searched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvDeskPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->store == NULL)
    return;
  show_results (self, found, TRUE);
}

static void
refresh_results (PvDeskPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search))));
  g_autoptr (GPtrArray) recent = NULL;
  g_autoptr (GTask) task = NULL;
  Search *search;

  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  if (*text == '\0')
    {
      /* This desk's own, newest first: what a volunteer looks back at. */
      recent = pv_tickets_recent (self->store, pv_store_get_device_id (self->store), 20, &error);
      if (recent == NULL)
        g_message ("Cannot list recent tickets: %s", error->message);
      show_results (self, recent, FALSE);
      return;
    }
  self->search_cancellable = g_cancellable_new ();
  if (self->searcher == NULL)
    {
      self->searcher = g_new0 (Searcher, 1);
      g_atomic_ref_count_init (&self->searcher->refs);
      g_mutex_init (&self->searcher->lock);
      self->searcher->path = g_strdup (pv_store_get_path (self->store));
    }
  search = g_new0 (Search, 1);
  search->text = g_steal_pointer (&text);
  search->searcher = searcher_ref (self->searcher);
  task = g_task_new (NULL, self->search_cancellable, searched_cb, g_object_ref (self));
  g_task_set_task_data (task, search, (GDestroyNotify) search_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, search_thread);
}

/* ---- send, print, revoke ---- */

static void
say (PvDeskPage *self, const char *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static void
send_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PvDeskPage *self = PV_DESK_PAGE (widget);
  const char *channel = g_variant_get_string (parameter, NULL);
  g_auto (GStrv) channels = pv_api_channels_lookup (self->store, PV_API_SENDS_TICKETS);
  g_autoptr (GError) error = NULL;
  g_autofree char *words = NULL;

  if (self->code == NULL)
    return;
  /* Nothing is asked of the hub that it said it cannot do. */
  if (pv_delivery_channel_is_known (channel) && !pv_api_channels_offer ((const char *const *) channels, channel, TRUE))
    {
      /* Translators: "The hub cannot send tickets by WhatsApp: …". */
      words = g_strdup_printf (_ ("The hub cannot send tickets by %s: print this ticket, or let the visitor "
                                  "photograph it"),
                               channel_name (channel));
      say (self, words);
      return;
    }
  if (!pv_tickets_request_delivery (self->store, self->issuer, self->serial_number, channel, &error))
    {
      say (self, error->message);
      return;
    }
  if (self->watch != NULL)
    pv_store_watch_notify (self->watch);
  /* Translators: "Asked the hub to send it by WhatsApp". */
  words = g_strdup_printf (_ ("Asked the hub to send it by %s"), channel_name (channel));
  say (self, words);
  show_delivery (self, FALSE);
}

static void
print_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PvDeskPage *self = PV_DESK_PAGE (widget);
  PvEvent *event = pv_store_get_event (self->store, NULL);
  g_autofree char *serial = NULL, *paper = g_settings_get_string (self->settings, "print-paper");
  PvTicketCard card = { 0 };

  if (self->code == NULL || event == NULL)
    return;
  serial = pv_ticket_format_serial (self->issuer, self->serial_number);
  card.event_name = pv_event_get_name (event);
  card.venue = pv_event_get_venue (event);
  card.code = self->code;
  card.serial = serial;
  card.category = self->shown_category;
  card.day_text = self->shown_days;
  card.party = self->shown_party;
  card.name = self->shown_name;
  pv_ticket_print (GTK_WINDOW (gtk_widget_get_root (widget)),
                   g_str_equal (paper, "receipt-80mm") ? PV_PAPER_RECEIPT_80MM : PV_PAPER_A6, &card);
}

static void
revoke_response_cb (AdwMessageDialog *dialog, const char *response, PvDeskPage *self)
{
  g_autoptr (GError) error = NULL;
  GtkEditable *reason = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (reason)));

  if (g_strcmp0 (response, "revoke") != 0 || self->code == NULL)
    return;
  if (!pv_tickets_revoke (self->store, self->issuer, self->serial_number, *text ? text : _ ("Revoked at the desk"),
                          &error))
    {
      gtk_label_set_text (self->status, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->status), TRUE);
      return;
    }
  if (self->watch != NULL)
    pv_store_watch_notify (self->watch);
  {
    g_autofree char *status = g_strdup_printf (_ ("Revoked: %s"), *text ? text : _ ("Revoked at the desk"));
    gtk_label_set_text (self->status, status);
    gtk_widget_set_visible (GTK_WIDGET (self->status), TRUE);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.revoke", FALSE);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.send", FALSE);
    show_delivery (self, TRUE);
  }
  refresh_results (self);
}

static void
revoke_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PvDeskPage *self = PV_DESK_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog, *reason;

  if (self->code == NULL)
    return;
  dialog = adw_message_dialog_new (GTK_WINDOW (root), _ ("Revoke This Ticket?"),
                                   _ ("Every gate will refuse it once this reaches them. This cannot be undone."));
  reason = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _ ("Reason, e.g. lost, issued twice"));
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), reason);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "revoke", _ ("_Revoke"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (revoke_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- life cycle ---- */

const char *
pv_desk_page_get_code (PvDeskPage *self)
{
  return self->code;
}

void
pv_desk_page_focus_search (PvDeskPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->search));
}

GtkListBox *
pv_desk_page_get_results (PvDeskPage *self)
{
  return self->results;
}

GtkWidget *
pv_desk_page_get_qr (PvDeskPage *self)
{
  return GTK_WIDGET (self->qr);
}

GtkListBox *
pv_desk_page_get_history (PvDeskPage *self)
{
  return self->history;
}

const char *
pv_desk_page_get_delivery (PvDeskPage *self)
{
  const char *text = gtk_label_get_text (self->delivery);

  return *text != '\0' ? text : NULL;
}

gboolean
pv_desk_page_offers (PvDeskPage *self, const char *channel)
{
  GtkWidget *button = g_strcmp0 (channel, PV_DELIVERY_WHATSAPP) == 0 ? self->send_whatsapp
                      : g_strcmp0 (channel, PV_DELIVERY_SMS) == 0    ? self->send_sms
                                                                     : NULL;

  return button != NULL && gtk_widget_get_visible (button) && gtk_widget_is_sensitive (button);
}

static void
pv_desk_page_dispose (GObject *object)
{
  PvDeskPage *self = PV_DESK_PAGE (object);

  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->ticket_refresh_id, g_source_remove);
  forget_hub_delivery (self);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_DESK_PAGE);
  if (self->watch != NULL)
    g_signal_handlers_disconnect_by_data (self->watch, self);
  g_clear_object (&self->watch);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pv_desk_page_parent_class)->dispose (object);
}

static void
pv_desk_page_finalize (GObject *object)
{
  PvDeskPage *self = PV_DESK_PAGE (object);

  g_clear_pointer (&self->categories, g_ptr_array_unref);
  g_clear_pointer (&self->searcher, searcher_unref);
  g_free (self->code);
  g_free (self->shown_name);
  g_free (self->shown_category);
  g_free (self->shown_days);
  G_OBJECT_CLASS (pv_desk_page_parent_class)->finalize (object);
}

static void
pv_desk_page_class_init (PvDeskPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_desk_page_dispose;
  object_class->finalize = pv_desk_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-desk-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, form_group);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, phone_row);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, category_row);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, day_row);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, party_row);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, party);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, party_adjustment);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, form_error);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, issue_button);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, search);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, find_group);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, results);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, card_stack);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, qr);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, serial);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, what);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, who);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, status);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, delivery);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, send_whatsapp);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, send_sms);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, empty_status);
  gtk_widget_class_bind_template_child (widget_class, PvDeskPage, history);

  gtk_widget_class_install_action (widget_class, "desk.issue", NULL, issue_activated);
  gtk_widget_class_install_action (widget_class, "desk.send", "s", send_activated);
  gtk_widget_class_install_action (widget_class, "desk.print", NULL, print_activated);
  gtk_widget_class_install_action (widget_class, "desk.revoke", NULL, revoke_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "desk.issue", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "desk.issue", NULL);
}

static void
pv_desk_page_init (PvDeskPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->categories = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_category_free);
  gtk_drawing_area_set_draw_func (self->qr, draw_qr, self, NULL);
  g_signal_connect_swapped (self->name_row, "entry-activated", G_CALLBACK (name_activated_cb), self);
  g_signal_connect_swapped (self->phone_row, "entry-activated", G_CALLBACK (phone_activated_cb), self);
  g_signal_connect_swapped (self->category_row, "notify::selected", G_CALLBACK (category_changed_cb), self);
  /* An error goes once the field it is about is changed. */
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (clear_form_error), self);
  g_signal_connect_swapped (self->phone_row, "changed", G_CALLBACK (clear_form_error), self);
  g_signal_connect_swapped (self->party, "changed", G_CALLBACK (party_changed_cb), self);
  g_signal_connect_swapped (self->search, "search-changed", G_CALLBACK (refresh_results), self);
  self->no_results = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->no_results), "dim-label");
  gtk_widget_set_margin_top (GTK_WIDGET (self->no_results), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->no_results), 12);
  gtk_list_box_set_placeholder (self->results, GTK_WIDGET (self->no_results));
  self->no_history = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->no_history), "dim-label");
  gtk_widget_set_margin_top (GTK_WIDGET (self->no_history), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->no_history), 12);
  gtk_label_set_wrap (self->no_history, TRUE);
  gtk_list_box_set_placeholder (self->history, GTK_WIDGET (self->no_history));
}

static gboolean
refresh_later_cb (gpointer user_data)
{
  PvDeskPage *self = user_data;

  self->refresh_id = 0;
  refresh_results (self);
  return G_SOURCE_REMOVE;
}

/* The ticket on show again: a new scan, a revocation from elsewhere. Two
 * index seeks, so once a second is nothing. */
static gboolean
refresh_ticket_cb (gpointer user_data)
{
  PvDeskPage *self = user_data;

  self->ticket_refresh_id = 0;
  if (self->code != NULL)
    pv_desk_page_show_ticket (self, self->issuer, self->serial_number);
  return G_SOURCE_REMOVE;
}

/* With live sync the store changes several times a second: the list of
 * this desk's recent tickets is redone at most every two seconds, and a
 * search the volunteer typed is left alone (its rows are under their
 * mouse). */
static void
store_changed_cb (PvStoreWatch *watch, PvDeskPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search));

  if (*text == '\0' && self->refresh_id == 0)
    self->refresh_id = g_timeout_add_seconds (2, refresh_later_cb, self);
  if (self->code != NULL && self->ticket_refresh_id == 0)
    self->ticket_refresh_id = g_timeout_add (1000, refresh_ticket_cb, self);
}

static GtkWidget *
desk_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings, gboolean lookup)
{
  PvDeskPage *self = g_object_new (PV_TYPE_DESK_PAGE, NULL);

  self->lookup = lookup;
  if (lookup)
    {
      /* Finding, showing, revoking and sending again; nothing to issue.
       * The QR is smaller: the history below it matters more here. */
      gtk_widget_set_visible (GTK_WIDGET (self->form_group), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->issue_button), FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.issue", FALSE);
      gtk_drawing_area_set_content_width (self->qr, 240);
      gtk_drawing_area_set_content_height (self->qr, 240);
      adw_status_page_set_icon_name (self->empty_status, "system-search-symbolic");
      adw_status_page_set_title (self->empty_status, _ ("Find a Ticket"));
      adw_status_page_set_description (self->empty_status,
                                       _ ("Search by serial, name or phone number. The ticket shows here with "
                                          "every scan of it at the gates."));
    }
  self->store = g_object_ref (store);
  self->watch = watch ? g_object_ref (watch) : NULL;
  if (watch != NULL)
    g_signal_connect (watch, "changed", G_CALLBACK (store_changed_cb), self);
  self->settings = g_object_ref (settings);
  fill_form (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.revoke", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "desk.send", FALSE);
  refresh_results (self);
  return GTK_WIDGET (self);
}

GtkWidget *
pv_desk_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings)
{
  return desk_page_new (store, watch, settings, FALSE);
}

GtkWidget *
pv_desk_page_new_lookup (PvStore *store, PvStoreWatch *watch, GSettings *settings)
{
  return desk_page_new (store, watch, settings, TRUE);
}
