/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-window.c: a station's window (see the header). The gate page's camera
 * runs only while that page is on screen, so a desk laptop's webcam light
 * is not on for nothing. */
#include "config.h"

#include "pv-window.h"

#include <glib/gi18n.h>

#include "pv-a11y.h"
#include "pv-api-client.h"
#include "pv-dashboard-page.h"
#include "pv-desk-page.h"
#include "pv-device-list.h"
#include "pv-devices-page.h"
#include "pv-doubles-page.h"
#include "pv-event.h"
#include "pv-export-page.h"
#include "pv-gate-page.h"
#include "pv-keys.h"
#include "pv-preferences.h"
#include "pv-store-watch.h"
#include "pv-store.h"
#include "pv-sync-node.h"
#include "pv-volunteers-page.h"
#include "pv-wire.h"

struct _PvWindow
{
  AdwApplicationWindow parent_instance;

  /* template widgets */
  AdwHeaderBar *header;
  AdwViewSwitcherTitle *switcher_title;
  GtkImage *sync_icon;
  GtkLabel *sync_label;
  GtkLabel *station_label;
  GtkMenuButton *menu_button;
  GtkButton *volunteer_button;
  AdwButtonContent *volunteer_content;
  AdwToastOverlay *toasts;
  AdwViewStack *stack;
  AdwViewSwitcherBar *switcher_bar;
  GtkWidget *sidebar_scroller;
  GtkListBox *sidebar; /* the control room's pages */
  AdwLeaflet *leaflet; /* folds the sidebar on a small screen */
  GtkWidget *pages_button;

  /* owned */
  PvStore *store;
  GSettings *settings;
  PvRole role;
  PvStoreWatch *watch;
  PvDeviceList *devices; /* the control room's */
  PvSyncNode *node;      /* NULL for a standalone event file */
  gint64 offline_since;
  guint status_id;
  guint leaflet_idle_id;

  char *volunteer;     /* signed in now: "Meera (gate)", or NULL */
  char *sign_in_phone; /* between asking for a code and giving it */
  int sign_in_way;     /* CodeWay: how the hub said that code reaches them */
  GCancellable *sign_in_cancellable;
  guint wrong_pins;
  gboolean may_close; /* the PIN was given to close a locked station */
  gint64 pins_locked_until;

  /* borrowed: children of the stack */
  GtkWidget *gate_page;
  GtkWidget *desk_page;
  GtkWidget *dashboard_page;
  GtkWidget *tickets_page;
};

G_DEFINE_FINAL_TYPE (PvWindow, pv_window, ADW_TYPE_APPLICATION_WINDOW)

static void
visible_page_changed_cb (PvWindow *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->stack);

  /* The sidebar follows the page, whoever changed it. */
  for (GtkWidget *row = self->sidebar && gtk_widget_get_visible (self->sidebar_scroller)
                          ? gtk_widget_get_first_child (GTK_WIDGET (self->sidebar))
                          : NULL;
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (GTK_IS_LIST_BOX_ROW (row) && g_strcmp0 (gtk_widget_get_name (row), name) == 0
        && gtk_list_box_get_selected_row (self->sidebar) != GTK_LIST_BOX_ROW (row))
      gtk_list_box_select_row (self->sidebar, GTK_LIST_BOX_ROW (row));
  if (self->gate_page == NULL)
    return;
  if (g_strcmp0 (name, "gate") == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    pv_gate_page_start (PV_GATE_PAGE (self->gate_page));
  else
    pv_gate_page_stop (PV_GATE_PAGE (self->gate_page));
}

/* The header's word on sync: what a volunteer needs to know at a glance
 * (online or since when not), and on hover the rest. */
static void
update_sync_state (PvWindow *self)
{
  g_autofree char *hub_url = pv_store_dup_meta_string (self->store, PV_META_HUB_URL);
  g_autofree char *text = NULL, *tooltip = NULL, *peers = NULL, *pending = NULL;
  PvSyncClient *hub = self->node ? pv_sync_node_get_hub (self->node) : NULL;
  PvSyncStatus status = hub ? pv_sync_client_get_status (hub) : PV_SYNC_OFFLINE;
  guint n_peers = self->node ? pv_sync_node_get_n_peers_online (self->node) : 0;
  gint64 n_pending = hub ? pv_sync_client_get_pending (hub) : 0;
  gboolean skewed = hub != NULL && status >= PV_SYNC_SYNCING && pv_sync_client_clock_is_off (hub);

  gtk_widget_remove_css_class (GTK_WIDGET (self->sync_label), "online");
  gtk_widget_remove_css_class (GTK_WIDGET (self->sync_label), "offline");
  if (hub == NULL)
    {
      gtk_label_set_text (self->sync_label, _ ("Standalone"));
      gtk_image_set_from_icon_name (self->sync_icon, "computer-symbolic");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->sync_label),
                                   _ ("This station keeps its own event file and talks to no hub"));
      return;
    }
  if (status != PV_SYNC_OFFLINE)
    self->offline_since = 0;
  else if (self->offline_since == 0)
    self->offline_since = g_get_real_time ();
  peers = n_peers > 0 ? g_strdup_printf (ngettext (" · %u peer", " · %u peers", n_peers), n_peers) : g_strdup ("");
  pending = n_pending > 0 ? g_strdup_printf (ngettext (" · %lld record to send", " · %lld records to send",
                                                       (gulong) n_pending),
                                             (long long) n_pending)
                          : g_strdup ("");
  switch (status)
    {
    case PV_SYNC_ONLINE:
      text = g_strdup_printf ("%s%s%s", _ ("Online"), peers, pending);
      break;
    case PV_SYNC_SYNCING:
      text = g_strdup_printf ("%s%s%s", _ ("Syncing"), peers, pending);
      break;
    case PV_SYNC_CONNECTING:
      text = g_strdup_printf ("%s%s%s", _ ("Connecting"), peers, pending);
      break;
    case PV_SYNC_OFFLINE:
    default:
      {
        g_autoptr (GDateTime) since = g_date_time_new_from_unix_local (self->offline_since / G_USEC_PER_SEC);
        g_autofree char *clock = g_date_time_format (since, "%H:%M");
        /* Translators: "Offline since 10:42", then peers and pending. */
        text = g_strdup_printf (_ ("Offline since %s%s%s"), clock, peers, pending);
        break;
      }
    }
  gtk_widget_add_css_class (GTK_WIDGET (self->sync_label),
                            status == PV_SYNC_OFFLINE || skewed ? "offline" : "online");
  if (skewed)
    {
      /* Said in the header itself: a wrong clock makes wrong-day verdicts. */
      g_autofree char *warned = g_strdup_printf (_ ("%s · clock wrong"), text);
      gtk_label_set_text (self->sync_label, warned);
    }
  else
    gtk_label_set_text (self->sync_label, text);
  gtk_image_set_from_icon_name (self->sync_icon, skewed                      ? "dialog-warning-symbolic"
                                                 : status == PV_SYNC_OFFLINE ? "network-offline-symbolic"
                                                                             : "network-transmit-receive-symbolic");
  if (skewed)
    tooltip = g_strdup_printf (_ ("This computer’s clock is %lld s off the hub’s: set it right, or verdicts may be "
                                  "wrong about the day"),
                               (long long) (-pv_sync_client_get_clock_offset (hub) / G_USEC_PER_SEC));
  else
    tooltip = g_strdup_printf (_ ("Hub: %s\nLast error: %s"), hub_url ? hub_url : "",
                               pv_sync_client_get_last_error (hub) ? pv_sync_client_get_last_error (hub) : _ ("none"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sync_label), tooltip);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->sync_icon), tooltip);
}

static gboolean
status_tick_cb (gpointer user_data)
{
  update_sync_state (user_data);
  return G_SOURCE_CONTINUE;
}

static void stop_sync (PvWindow *self);
static void start_sync (PvWindow *self);

/* Peers added in the preferences are synced with at once; a new address
 * to serve on restarts the node. */
static void
sync_settings_changed_cb (GSettings *settings, const char *key, PvWindow *self)
{
  if (g_str_equal (key, "peers") && self->node != NULL)
    {
      g_auto (GStrv) peers = g_settings_get_strv (settings, "peers");
      for (guint i = 0; peers[i] != NULL; i++)
        pv_sync_node_add_peer (self->node, peers[i]);
    }
  else if (g_str_equal (key, "listen") && self->node != NULL)
    {
      stop_sync (self);
      start_sync (self);
    }
}

static void
stop_sync (PvWindow *self)
{
  g_clear_handle_id (&self->status_id, g_source_remove);
  if (self->node != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->node, self);
      pv_sync_node_stop (self->node);
    }
  g_clear_object (&self->node);
}

/* The station takes part in sync when it was paired with a hub. */
static void
start_sync (PvWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hub_url = pv_store_dup_meta_string (self->store, PV_META_HUB_URL);
  g_autofree char *listen = g_settings_get_string (self->settings, "listen");
  g_auto (GStrv) peers = g_settings_get_strv (self->settings, "peers");

  if (hub_url == NULL)
    return;
  if (!(self->node = pv_sync_node_new (self->watch, hub_url, &error))
      || !pv_sync_node_start (self->node, listen, &error))
    {
      g_autofree char *text = g_strdup_printf (_ ("Sync is off: %s"), error->message);
      g_clear_object (&self->node);
      pv_window_toast (self, text);
      return;
    }
  for (guint i = 0; peers[i] != NULL; i++)
    pv_sync_node_add_peer (self->node, peers[i]);
  /* Volunteers are the hub's: sign-in needs one. */
  gtk_widget_set_visible (GTK_WIDGET (self->volunteer_button), TRUE);
  g_signal_connect_swapped (self->node, "hub-status", G_CALLBACK (update_sync_state), self);
  g_signal_connect_swapped (self->node, "peers-changed", G_CALLBACK (update_sync_state), self);
  self->status_id = g_timeout_add_seconds (2, status_tick_cb, self);
}

/* ---- volunteers' sign-in ---- */

/* How a code reaches a volunteer, as far as the hub said. */
typedef enum
{
  CODE_SENT,      /* the hub sends it by SMS */
  CODE_NOT_SENT,  /* the hub cannot send it: the control room reads it out */
  CODE_NOT_KNOWN, /* an older hub, which does not say */
} CodeWay;

static void show_sign_in (PvWindow *self, gboolean with_code, CodeWay way, const char *problem);
static CodeWay code_way_known (PvWindow *self);

static void
update_volunteer (PvWindow *self)
{
  adw_button_content_set_label (self->volunteer_content, self->volunteer ? self->volunteer : _ ("Sign In"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->volunteer_button),
                               self->volunteer ? _ ("Signed in for this shift; click to sign out")
                                               : _ ("Volunteers sign in at the start of a shift"));
}

static void
verified_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PvWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_call_finish (result, &error);
  JsonObject *o = answer && JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;

  if (o == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_sign_in (self, TRUE, self->sign_in_way, error ? error->message : _ ("The hub’s answer made no sense"));
      g_object_unref (self);
      return;
    }
  g_free (self->volunteer);
  /* Translators: the volunteer signed in, and their role. */
  self->volunteer = g_strdup_printf (_ ("%s (%s)"), json_object_get_string_member_with_default (o, "name", "?"),
                                     json_object_get_string_member_with_default (o, "role", "?"));
  g_clear_pointer (&self->sign_in_phone, g_free);
  update_volunteer (self);
  pv_window_toast (self, self->volunteer);
  g_object_unref (self);
}

static void
code_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PvWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_call_finish (result, &error);
  JsonObject *o = answer && JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;

  if (answer == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ;
  else if (answer == NULL)
    show_sign_in (self, FALSE, code_way_known (self), error->message);
  else
    {
      /* A hub that says how it sent the code is believed either way; one
       * that says "sent" without saying how is from before it told, and
       * said so whether it could send or not. */
      if (o != NULL && pv_json_member_of_type (o, "sent", G_TYPE_BOOLEAN) != NULL
          && !json_object_get_boolean_member (o, "sent"))
        self->sign_in_way = CODE_NOT_SENT;
      else if (o != NULL && pv_json_member_string (o, "channel") != NULL)
        self->sign_in_way = CODE_SENT;
      else
        self->sign_in_way = CODE_NOT_KNOWN;
      show_sign_in (self, TRUE, self->sign_in_way, NULL);
    }
  g_object_unref (self);
}

static void
hub_json (PvWindow *self, const char *path, const char *phone, const char *code, GAsyncReadyCallback callback)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "phone");
  json_builder_add_string_value (builder, phone);
  if (code != NULL)
    {
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, code);
    }
  json_builder_end_object (builder);
  g_cancellable_cancel (self->sign_in_cancellable);
  g_clear_object (&self->sign_in_cancellable);
  self->sign_in_cancellable = g_cancellable_new ();
  pv_api_call_async (self->store, NULL, NULL, path, builder, 10000, self->sign_in_cancellable, callback,
                     g_object_ref (self));
}

void
pv_window_sign_in (PvWindow *self, const char *phone)
{
  g_free (self->sign_in_phone);
  self->sign_in_phone = g_strstrip (g_strdup (phone));
  /* The hub sends the code (through its outbox) to the volunteer's phone. */
  hub_json (self, "/api/v1/otp", self->sign_in_phone, NULL, code_sent_cb);
}

void
pv_window_sign_in_code (PvWindow *self, const char *code)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (code));

  if (self->sign_in_phone == NULL)
    return;
  hub_json (self, "/api/v1/otp/verify", self->sign_in_phone, trimmed, verified_cb);
}

const char *
pv_window_get_volunteer (PvWindow *self)
{
  return self->volunteer;
}

static void
sign_in_response_cb (AdwMessageDialog *dialog, const char *response, PvWindow *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));

  if (g_str_equal (response, "phone"))
    pv_window_sign_in (self, gtk_editable_get_text (entry));
  else if (g_str_equal (response, "code"))
    pv_window_sign_in_code (self, gtk_editable_get_text (entry));
  else if (g_str_equal (response, "sign-out"))
    {
      g_clear_pointer (&self->volunteer, g_free);
      update_volunteer (self);
    }
}

/* How the hub sends sign-in codes, as it last said with its peers. */
static CodeWay
code_way_known (PvWindow *self)
{
  g_auto (GStrv) channels = pv_api_channels_lookup (self->store, PV_API_SENDS_CODES);

  return channels == NULL ? CODE_NOT_KNOWN : channels[0] != NULL ? CODE_SENT
                                                                 : CODE_NOT_SENT;
}

/* The dialog never promises a message the hub cannot send: without SMS
 * the code waits at the hub, and the control room reads it out. */
static void
show_sign_in (PvWindow *self, gboolean with_code, CodeWay way, const char *problem)
{
  GtkWidget *dialog, *entry = gtk_entry_new ();
  g_autofree char *body = NULL;

  if (with_code && way == CODE_SENT)
    body = g_strdup_printf (_ ("A code is on its way to %s by SMS. Enter it here."), self->sign_in_phone);
  else if (with_code && way == CODE_NOT_SENT)
    body = g_strdup (_ ("The hub cannot send text messages. Ask the control room for your sign-in code, then enter "
                        "it here."));
  else if (with_code)
    body = g_strdup_printf (_ ("If the hub can send text messages, a code is on its way to %s. If none comes, ask "
                               "the control room for it. Enter it here."),
                            self->sign_in_phone);
  else if (way == CODE_SENT)
    body = g_strdup (_ ("Enter your mobile number: a one-time code will be sent to it by SMS."));
  else if (way == CODE_NOT_SENT)
    body = g_strdup (_ ("Enter your mobile number. The hub cannot send text messages: the control room will give "
                        "you your one-time code."));
  else
    body = g_strdup (_ ("Enter your mobile number to get a one-time code."));
  if (problem != NULL)
    {
      g_autofree char *both = g_strdup_printf ("%s\n\n%s", problem, body);
      g_free (body);
      body = g_steal_pointer (&both);
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Sign In for Your Shift"), body);
  gtk_entry_set_input_purpose (GTK_ENTRY (entry), with_code ? GTK_INPUT_PURPOSE_DIGITS : GTK_INPUT_PURPOSE_PHONE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), with_code ? "123456" : "98765 43210");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), with_code ? "code" : "phone",
                                   with_code ? _ ("_Sign In") : way == CODE_SENT ? _ ("Send _Code")
                                                                                 : _ ("_Next"));
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), with_code ? "code" : "phone",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), with_code ? "code" : "phone");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (sign_in_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
sign_in_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  PvWindow *self = user_data;
  GtkWidget *dialog;

  if (self->volunteer == NULL)
    {
      show_sign_in (self, FALSE, code_way_known (self), NULL);
      return;
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Sign Out?"), self->volunteer);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "sign-out",
                                    _ ("Sign _Out"), NULL);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (sign_in_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- kiosk lock ---- */

typedef void (*Unlocked) (PvWindow *self);

static void
pin_response_cb (AdwMessageDialog *dialog, const char *response, PvWindow *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  Unlocked then = g_object_get_data (G_OBJECT (dialog), "then");
  g_autofree char *pin = g_settings_get_string (self->settings, "kiosk-pin");

  if (g_strcmp0 (response, "unlock") != 0)
    return;
  if (g_get_monotonic_time () < self->pins_locked_until)
    {
      pv_window_toast (self, _ ("Too many wrong PINs: wait a minute"));
      return;
    }
  if (!g_str_equal (gtk_editable_get_text (entry), pin))
    {
      /* A queue can watch someone try PINs: five wrong ones lock a minute. */
      if (++self->wrong_pins >= 5)
        {
          self->wrong_pins = 0;
          self->pins_locked_until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
        }
      pv_window_toast (self, _ ("Wrong PIN"));
      return;
    }
  self->wrong_pins = 0;
  then (self);
}

/* Runs @then at once, or after the kiosk PIN when the station is locked. */
static void
unlock_then (PvWindow *self, Unlocked then)
{
  g_autofree char *pin = g_settings_get_string (self->settings, "kiosk-pin");
  g_autoptr (GVariant) kiosk = g_action_group_get_action_state (G_ACTION_GROUP (self), "kiosk");
  GtkWidget *dialog, *entry;

  if (*pin == '\0' || !g_variant_get_boolean (kiosk))
    {
      then (self);
      return;
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Kiosk PIN"),
                                   _ ("This station is locked. Enter the PIN to change it."));
  entry = gtk_password_entry_new ();
  g_object_set (entry, "activates-default", TRUE, NULL);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "unlock", _ ("_Unlock"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "unlock", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "unlock");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "then", then);
  g_signal_connect_object (dialog, "response", G_CALLBACK (pin_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
leave_kiosk (PvWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "kiosk");

  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (FALSE));
  gtk_window_unfullscreen (GTK_WINDOW (self));
}

static void
kiosk_changed (GSimpleAction *action, GVariant *value, gpointer user_data)
{
  PvWindow *self = user_data;

  if (g_variant_get_boolean (value))
    {
      g_simple_action_set_state (action, value);
      gtk_window_fullscreen (GTK_WINDOW (self));
    }
  else
    unlock_then (self, leave_kiosk);
}

static void
close_now (PvWindow *self)
{
  self->may_close = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

/* A locked station closes only with the PIN: a visitor at a kiosk must not
 * end the gate with its close button or Alt+F4. */
static gboolean
pv_window_close_request (GtkWindow *window)
{
  PvWindow *self = PV_WINDOW (window);
  g_autofree char *pin = g_settings_get_string (self->settings, "kiosk-pin");
  g_autoptr (GVariant) kiosk = g_action_group_get_action_state (G_ACTION_GROUP (self), "kiosk");

  if (self->may_close || *pin == '\0' || !g_variant_get_boolean (kiosk))
    return GTK_WINDOW_CLASS (pv_window_parent_class)->close_request (window);
  unlock_then (self, close_now);
  return TRUE;
}

static void
open_preferences (PvWindow *self)
{
  gtk_window_present (GTK_WINDOW (pv_preferences_new (GTK_WINDOW (self), self->settings, self->store)));
}

static void
preferences_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  unlock_then (user_data, open_preferences);
}

static void
ask_gate (PvWindow *self)
{
  if (self->gate_page != NULL)
    pv_gate_page_ask_gate (PV_GATE_PAGE (self->gate_page));
}

/* Another gate is a setting like any other: a locked station needs the PIN. */
static void
change_gate_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  unlock_then (user_data, ask_gate);
}

void
pv_window_show_page (PvWindow *self, const char *name)
{
  g_return_if_fail (PV_IS_WINDOW (self));
  adw_view_stack_set_visible_child_name (self->stack, name);
}

void
pv_window_toast (PvWindow *self, const char *text)
{
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
}

void
pv_window_set_demo_codes (PvWindow *self, const char *const *codes)
{
  if (self->gate_page != NULL)
    pv_gate_page_set_demo_codes (PV_GATE_PAGE (self->gate_page), codes);
}

GtkWidget *
pv_window_get_gate_page (PvWindow *self)
{
  return self->gate_page;
}

GtkWidget *
pv_window_get_desk_page (PvWindow *self)
{
  return self->desk_page;
}

const char *
pv_window_get_station (PvWindow *self)
{
  return gtk_label_get_text (self->station_label);
}

GtkWidget *
pv_window_get_page (PvWindow *self, const char *name)
{
  g_return_val_if_fail (PV_IS_WINDOW (self), NULL);
  return adw_view_stack_get_child_by_name (self->stack, name);
}

static void
pv_window_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (pv_window_parent_class)->map (widget);
  visible_page_changed_cb (PV_WINDOW (widget));
}

static void
pv_window_unmap (GtkWidget *widget)
{
  PvWindow *self = PV_WINDOW (widget);

  if (self->gate_page != NULL)
    pv_gate_page_stop (PV_GATE_PAGE (self->gate_page));
  GTK_WIDGET_CLASS (pv_window_parent_class)->unmap (widget);
}

static void
pv_window_dispose (GObject *object)
{
  PvWindow *self = PV_WINDOW (object);

  if (self->gate_page != NULL)
    pv_gate_page_stop (PV_GATE_PAGE (self->gate_page));
  stop_sync (self);
  g_clear_handle_id (&self->leaflet_idle_id, g_source_remove);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_WINDOW);
  self->gate_page = self->desk_page = self->dashboard_page = self->tickets_page = NULL;
  g_clear_object (&self->devices);
  g_clear_object (&self->watch);
  g_cancellable_cancel (self->sign_in_cancellable);
  g_clear_object (&self->sign_in_cancellable);
  g_clear_pointer (&self->volunteer, g_free);
  g_clear_pointer (&self->sign_in_phone, g_free);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pv_window_parent_class)->dispose (object);
}

static void
pv_window_class_init (PvWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_window_dispose;
  widget_class->map = pv_window_map;
  GTK_WINDOW_CLASS (klass)->close_request = pv_window_close_request;
  widget_class->unmap = pv_window_unmap;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PvWindow, header);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, sync_icon);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, sync_label);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, station_label);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, volunteer_button);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, volunteer_content);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, sidebar_scroller);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, PvWindow, pages_button);
}

static void
pv_window_init (PvWindow *self)
{
  static const GActionEntry actions[] = {
    { "kiosk", NULL, NULL, "false", kiosk_changed },
    { "preferences", preferences_activated, NULL, NULL, NULL },
    { "change-gate", change_gate_activated, NULL, NULL, NULL },
    { "sign-in", sign_in_activated, NULL, NULL, NULL },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  pv_a11y_set_label (GTK_WIDGET (self->menu_button), _ ("Main Menu"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sidebar), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Pages"), -1);
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
  g_signal_connect_swapped (self->stack, "notify::visible-child", G_CALLBACK (visible_page_changed_cb), self);
}

/* ---- the control room's sidebar ---- */

static void
sidebar_row_selected_cb (GtkListBox *sidebar, GtkListBoxRow *row, PvWindow *self)
{
  if (row != NULL)
    adw_view_stack_set_visible_child_name (self->stack, gtk_widget_get_name (GTK_WIDGET (row)));
}

/* Folded, a row chosen (even the page already open) shows its page. */
static void
sidebar_row_activated_cb (GtkListBox *sidebar, GtkListBoxRow *row, PvWindow *self)
{
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->stack));
}

/* Folded over a page, the header offers the way back to the sidebar. */
static gboolean
update_pages_button_cb (gpointer user_data)
{
  PvWindow *self = user_data;

  self->leaflet_idle_id = 0;
  gtk_widget_set_visible (self->pages_button,
                          gtk_widget_get_visible (self->sidebar_scroller) && adw_leaflet_get_folded (self->leaflet)
                            && adw_leaflet_get_visible_child (self->leaflet) == GTK_WIDGET (self->stack));
  return G_SOURCE_REMOVE;
}

/* The leaflet folds while it is being laid out, after the header was:
 * the header changes on the next turn, not in the middle of a frame. */
static void
leaflet_changed_cb (PvWindow *self)
{
  if (self->leaflet_idle_id == 0)
    self->leaflet_idle_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, update_pages_button_cb, self, NULL);
}

static void
pages_clicked_cb (PvWindow *self)
{
  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_scroller);
}

/* A double entry clicked opens its ticket, history and all. */
static void
double_activated_cb (PvWindow *self, guint issuer, guint serial)
{
  if (pv_desk_page_show_ticket (PV_DESK_PAGE (self->tickets_page), (guint16) issuer, (guint32) serial))
    adw_view_stack_set_visible_child_name (self->stack, "tickets");
}

/* The control room has more pages than a header's switcher holds: they
 * go in a sidebar beside the stack, and the header shows the event. */
static void
show_sidebar (PvWindow *self)
{
  gtk_widget_set_visible (self->sidebar_scroller, TRUE);
  /* Detached, not just hidden: they would keep buttons for every page. */
  adw_view_switcher_title_set_stack (self->switcher_title, NULL);
  adw_view_switcher_bar_set_stack (self->switcher_bar, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->switcher_bar), FALSE);
  g_signal_connect (self->sidebar, "row-selected", G_CALLBACK (sidebar_row_selected_cb), self);
  g_signal_connect (self->sidebar, "row-activated", G_CALLBACK (sidebar_row_activated_cb), self);
  /* Opened folded, the window shows a page, not the list of them. */
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->stack));
  g_signal_connect_swapped (self->leaflet, "notify::folded", G_CALLBACK (leaflet_changed_cb), self);
  g_signal_connect_swapped (self->leaflet, "notify::visible-child", G_CALLBACK (leaflet_changed_cb), self);
  g_signal_connect_swapped (self->pages_button, "clicked", G_CALLBACK (pages_clicked_cb), self);
  leaflet_changed_cb (self);
}

static void
add_page (PvWindow *self, GtkWidget *page, const char *name, const char *title, const char *icon)
{
  AdwViewStackPage *stack_page = adw_view_stack_add_titled (self->stack, page, name, title);

  adw_view_stack_page_set_icon_name (stack_page, icon);
  if (gtk_widget_get_visible (self->sidebar_scroller))
    {
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *label = gtk_label_new (title);

      gtk_widget_set_name (row, name);
      gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name (icon));
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_box_append (GTK_BOX (box), label);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      /* Else a screen reader says "list item" and nothing more. */
      pv_a11y_set_labelled_by (row, label);
      gtk_list_box_append (self->sidebar, row);
    }
}

/* The header says which device this is and what it is for: a gate
 * station, which gate it stands at (or that none is chosen yet). */
static void
update_station (PvWindow *self)
{
  const PvDeviceInfo *device = pv_store_lookup_device (self->store, pv_store_get_device_id (self->store));
  const char *gate = self->gate_page ? pv_gate_page_get_gate (PV_GATE_PAGE (self->gate_page)) : NULL;
  const char *what = self->role == PV_ROLE_GATE   ? (gate ? gate : _ ("Gate not chosen"))
                     : self->role == PV_ROLE_DESK ? _ ("desk")
                                                  : _ ("control room");
  /* Translators: the device's name and what this station is for. */
  g_autofree char *station = device ? g_strdup_printf (_ ("%s · %s"), device->name, what) : NULL;

  gtk_label_set_text (self->station_label, station ? station : "");
}

PvWindow *
pv_window_new (GtkApplication *application, PvStore *store, GSettings *settings, PvRole role,
               const char *camera_source)
{
  PvWindow *self = g_object_new (PV_TYPE_WINDOW, "application", application, NULL);
  PvEvent *event;

  self->store = g_object_ref (store);
  self->settings = g_object_ref (settings);
  self->role = role;
  /* Polled too, so records other programs write into the file (pravesh-ctl,
   * a second station on it) show here. */
  self->watch = pv_store_watch_new (store, 250);

  if (role == PV_ROLE_ADMIN)
    show_sidebar (self);
  if (role == PV_ROLE_ADMIN)
    {
      self->devices = pv_device_list_new (store, 10);
      self->dashboard_page = pv_dashboard_page_new (store, self->watch, settings, self->devices);
      add_page (self, self->dashboard_page, "dashboard", _ ("Dashboard"), "view-grid-symbolic");
    }
  if (role == PV_ROLE_GATE || role == PV_ROLE_ADMIN)
    {
      self->gate_page = pv_gate_page_new (store, self->watch, settings, camera_source);
      add_page (self, self->gate_page, "gate", _ ("Gate"), "camera-web-symbolic");
    }
  if (role == PV_ROLE_DESK || role == PV_ROLE_ADMIN)
    {
      self->desk_page = pv_desk_page_new (store, self->watch, settings);
      add_page (self, self->desk_page, "desk", _ ("Desk"), "contact-new-symbolic");
    }
  if (role == PV_ROLE_ADMIN)
    {
      GtkWidget *doubles = pv_doubles_page_new (store, self->watch, settings);

      g_signal_connect_swapped (doubles, "ticket-activated", G_CALLBACK (double_activated_cb), self);

      self->tickets_page = pv_desk_page_new_lookup (store, self->watch, settings);
      add_page (self, self->tickets_page, "tickets", _ ("Tickets"), "system-search-symbolic");
      add_page (self, doubles, "doubles", _ ("Double Entries"), "dialog-warning-symbolic");
      add_page (self, pv_devices_page_new (store, self->devices), "devices", _ ("Devices"),
                "computer-symbolic");
      add_page (self, pv_volunteers_page_new (store), "volunteers", _ ("Volunteers"),
                "system-users-symbolic");
      add_page (self, pv_export_page_new (store, self->watch, settings), "export", _ ("Export"),
                "document-save-as-symbolic");
      adw_view_stack_set_visible_child_name (self->stack, "dashboard");
    }

  /* A gate or a desk station has one page: a switcher of one says nothing,
   * and faded in over the title on a narrow window it hid it. */
  if (role != PV_ROLE_ADMIN)
    {
      adw_view_switcher_title_set_stack (self->switcher_title, NULL);
      adw_view_switcher_bar_set_stack (self->switcher_bar, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->switcher_bar), FALSE);
    }

  /* Looked up only now: the store's caches are rebuilt whenever another
   * program wrote to the file, as the pages read it. */
  event = pv_store_get_event (store, NULL);
  if (event != NULL)
    adw_view_switcher_title_set_subtitle (self->switcher_title, pv_event_get_name (event));
  update_station (self);
  if (role == PV_ROLE_GATE)
    g_signal_connect_swapped (self->gate_page, "gate-changed", G_CALLBACK (update_station), self);
  start_sync (self);
  g_signal_connect (settings, "changed", G_CALLBACK (sync_settings_changed_cb), self);
  update_sync_state (self);
  return self;
}
