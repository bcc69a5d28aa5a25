/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-devices-page.c: the control room's devices (see the header). The
 * list is redrawn from the shared device list whenever it changes; the
 * hub's calls are async, and what they end in is said in words, on the
 * page and in a toast. */
#include "config.h"

#include "pv-devices-page.h"

#include <glib/gi18n.h>

#include "pv-api-admin.h"
#include "pv-api-client.h"
#include "pv-device-list.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-qr.h"
#include "pv-store.h"
#include "pv-window.h"

struct _PvDevicesPage
{
  AdwBin parent_instance;

  /* template widgets */
  GtkButton *pair_button;
  GtkListBox *list;
  GtkLabel *status_label;

  /* owned */
  PvStore *store;
  PvDeviceList *devices;
  SoupSession *session;
  GCancellable *cancellable;
  char *pairing_code;
  char *status;
  gulong changed_id;
};

G_DEFINE_FINAL_TYPE (PvDevicesPage, pv_devices_page, ADW_TYPE_BIN)

/* Times as the event's clocks show them, as on every other page. */
static char *
event_time (PvDevicesPage *self, gint64 at, const char *format)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);

  return event ? pv_event_format_time (event, at, format) : g_strdup ("?");
}

static void
say (PvDevicesPage *self, const char *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_text (self->status_label, text);
  if (PV_IS_WINDOW (root))
    pv_window_toast (PV_WINDOW (root), text);
}

/* ---- revoking ---- */

static void
revoked_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvDevicesPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!pv_api_device_revoke_finish (result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = g_strdup_printf (_ ("Not revoked: %s"), error->message);
      say (self, text);
      return;
    }
  say (self, _ ("Revoked. Every device learns of it at its next sync."));
  pv_device_list_refresh (self->devices);
}

void
pv_devices_page_revoke (PvDevicesPage *self, guint device, const char *reason)
{
  g_return_if_fail (PV_IS_DEVICES_PAGE (self));
  pv_api_device_revoke_async (self->store, self->session, device, reason, 10000, self->cancellable, revoked_cb,
                              g_object_ref (self));
}

static void
revoke_response_cb (AdwMessageDialog *dialog, const char *response, PvDevicesPage *self)
{
  GtkEditable *reason = g_object_get_data (G_OBJECT (dialog), "reason");
  guint device = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "device"));

  if (g_str_equal (response, "revoke"))
    pv_devices_page_revoke (self, device, gtk_editable_get_text (reason));
}

static void
reason_changed_cb (GtkEditable *reason, AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (reason)));
  adw_message_dialog_set_response_enabled (dialog, "revoke", *text != '\0');
}

static void
revoke_clicked_cb (GtkButton *button, PvDevicesPage *self)
{
  const char *name = g_object_get_data (G_OBJECT (button), "name");
  guint device = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "device"));
  g_autofree char *heading = g_strdup_printf (_ ("Revoke “%s”?"), name);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading,
                                              _ ("It can no longer sync, and tickets it issues from now on "
                                                 "are refused at every gate. This cannot be undone: pair it "
                                                 "again to bring it back."));
  GtkWidget *reason = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _ ("Reason, e.g. “Laptop stolen”"));
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), reason);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "revoke", _ ("_Revoke"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "revoke", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "reason", reason);
  g_object_set_data (G_OBJECT (dialog), "device", GUINT_TO_POINTER (device));
  g_signal_connect (reason, "changed", G_CALLBACK (reason_changed_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (revoke_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the list ---- */

/* A device's row, made once and updated in place by every refresh: the
 * list is polled every few seconds, and a row made anew under the pointer
 * would lose the click a volunteer was making on its Revoke button. */
static GtkWidget *
device_row_new (PvDevicesPage *self, guint id)
{
  GtkWidget *widget = adw_action_row_new ();
  GtkWidget *pill = gtk_label_new (NULL);
  GtkWidget *revoke = gtk_button_new_with_mnemonic (_ ("Re_voke…"));

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (widget), FALSE);
  gtk_widget_add_css_class (pill, "pill-status");
  gtk_widget_set_valign (pill, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (widget), pill);
  gtk_widget_set_valign (revoke, GTK_ALIGN_CENTER);
  /* Not flat: libadwaita draws a flat destructive button's white text on
   * no background, which is invisible on a light row. */
  gtk_widget_add_css_class (revoke, "destructive-action");
  g_object_set_data (G_OBJECT (revoke), "device", GUINT_TO_POINTER (id));
  g_signal_connect (revoke, "clicked", G_CALLBACK (revoke_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (widget), revoke);
  g_object_set_data (G_OBJECT (widget), "device", GUINT_TO_POINTER (id));
  g_object_set_data (G_OBJECT (widget), "pill", pill);
  g_object_set_data (G_OBJECT (widget), "revoke", revoke);
  return widget;
}

static void
set_pill (GtkWidget *pill, const char *text, const char *style, const char *tip)
{
  static const char *const styles[] = { "online", "warning", "revoked" };

  gtk_widget_set_visible (pill, text != NULL);
  gtk_label_set_text (GTK_LABEL (pill), text ? text : "");
  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    gtk_widget_remove_css_class (pill, styles[i]);
  if (style != NULL)
    gtk_widget_add_css_class (pill, style);
  gtk_widget_set_tooltip_text (pill, tip);
}

static void
device_row_update (PvDevicesPage *self, GtkWidget *widget, const PvDeviceRow *row, gint64 now)
{
  /* The hub's own device is enrolled as an admin: named for what it is. */
  g_autoptr (GString) subtitle = g_string_new (row->is_hub ? pv_role_title ("hub") : pv_role_title (row->status->role));
  g_autofree char *ago = pv_device_list_format_seen (self->devices, row->last_seen, now);
  gboolean quiet = row->last_seen == 0 || now - row->last_seen > PV_DEVICE_STALE_AFTER;
  GtkWidget *pill = g_object_get_data (G_OBJECT (widget), "pill");
  GtkWidget *revoke = g_object_get_data (G_OBJECT (widget), "revoke");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (widget), row->status->name);
  if (row->status->this_device)
    g_string_append_printf (subtitle, " · %s", _ ("this device"));
  else
    g_string_append_printf (subtitle, " · %s", ago);
  if (row->behind >= 0)
    g_string_append_printf (subtitle, ngettext (" · %lld record behind", " · %lld records behind", (gulong) row->behind),
                            (long long) row->behind);
  if (row->pending > 0)
    g_string_append_printf (subtitle, ngettext (" · %lld record to send", " · %lld records to send", (gulong) row->pending),
                            (long long) row->pending);
  if (row->has_skew)
    /* Translators: how far the device's clock is from the hub's, in seconds. */
    g_string_append_printf (subtitle, _ (" · clock %+.1f s"), row->skew_ms / 1000.0);
  if (row->status->revoked)
    g_string_append_printf (subtitle, " · %s", row->status->revoke_reason ? row->status->revoke_reason : _ ("revoked"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (widget), subtitle->str);

  /* Quiet says more than a wrong clock: it may be off or cut off. */
  if (row->status->revoked)
    set_pill (pill, _ ("Revoked"), "revoked", NULL);
  else if (!row->status->this_device && quiet)
    set_pill (pill, _ ("Quiet"), "warning", NULL);
  else if (row->has_skew && ABS (row->skew_ms) > 2 * 60 * 1000)
    set_pill (pill, _ ("Clock wrong"), "warning", NULL);
  else if (!row->status->this_device)
    {
      g_autofree char *tip = g_strdup_printf (ngettext ("Heard from in the last %d minute",
                                                        "Heard from in the last %d minutes", PV_DEVICE_ONLINE_MINUTES),
                                              PV_DEVICE_ONLINE_MINUTES);

      set_pill (pill, _ ("Online"), "online", tip);
    }
  else
    set_pill (pill, NULL, NULL, NULL);

  /* Neither the hub nor this device can be revoked from here: the hub
   * refuses both, so neither is offered. */
  gtk_widget_set_visible (revoke, !row->status->revoked && !row->status->this_device && !row->is_hub);
  if (g_strcmp0 (g_object_get_data (G_OBJECT (revoke), "name"), row->status->name) != 0)
    {
      /* Translators: the Revoke button's name for screen readers, with the device's name. */
      g_autofree char *accessible = g_strdup_printf (_ ("Revoke “%s”…"), row->status->name);

      gtk_accessible_update_property (GTK_ACCESSIBLE (revoke), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
      g_object_set_data_full (G_OBJECT (revoke), "name", g_strdup (row->status->name), g_free);
    }
}

/* TRUE when the list already holds one row for each device, in order. */
static gboolean
rows_match (PvDevicesPage *self, GPtrArray *rows)
{
  guint i = 0;

  for (GtkListBoxRow *shown; (shown = gtk_list_box_get_row_at_index (self->list, (int) i)) != NULL; i++)
    if (i >= rows->len
        || GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (shown), "device"))
             != ((PvDeviceRow *) rows->pdata[i])->status->id)
      return FALSE;
  return i == rows->len;
}

static void
show_rows (PvDevicesPage *self)
{
  GPtrArray *rows = pv_device_list_get_rows (self->devices);
  gint64 now = g_get_real_time (), answered = pv_device_list_get_hub_answered (self->devices);
  const char *hub_error = pv_device_list_get_hub_error (self->devices);

  /* Made anew only when a device came or went. */
  if (!rows_match (self, rows))
    {
      GtkListBoxRow *old;

      while ((old = gtk_list_box_get_row_at_index (self->list, 0)) != NULL)
        gtk_list_box_remove (self->list, GTK_WIDGET (old));
      for (guint i = 0; i < rows->len; i++)
        gtk_list_box_append (self->list, device_row_new (self, ((PvDeviceRow *) rows->pdata[i])->status->id));
    }
  for (guint i = 0; i < rows->len; i++)
    device_row_update (self, GTK_WIDGET (gtk_list_box_get_row_at_index (self->list, (int) i)), rows->pdata[i], now);

  if (hub_error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("The hub cannot be asked (%s). Shown is what this "
                                                  "device’s own copy knows."),
                                               hub_error);
      gtk_label_set_text (self->status_label, text);
    }
  else if (answered > 0)
    {
      g_autofree char *time = event_time (self, answered, "%H:%M:%S");
      g_autofree char *text = g_strdup_printf (_ ("As the hub saw them at %s."), time);
      gtk_label_set_text (self->status_label, text);
    }
}

/* ---- pairing ---- */

static void
draw_pairing_qr (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  const char *code = user_data;
  double size = MIN (width, height);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  pv_qr_draw (cr, code, (width - size) / 2, (height - size) / 2, size, NULL);
}

static void
show_pairing_code (PvDevicesPage *self, const char *name, const char *code, gint64 expires)
{
  g_autofree char *heading = g_strdup_printf (_ ("Pair “%s”"), name);
  /* Translators: a date in strftime form, e.g. "28 Nov 10:42". */
  g_autofree char *when = event_time (self, expires, _ ("%e %b %H:%M"));
  g_autofree char *body = g_strdup_printf (_ ("On the new device, choose “Pair with a Hub” and scan this "
                                              "code, or paste it. It works once, until %s."),
                                           when);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading, body);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *qr = gtk_drawing_area_new ();
  GtkWidget *text = gtk_label_new (code);

  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (qr), 300);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (qr), 300);
  gtk_widget_set_halign (qr, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (qr), draw_pairing_qr, g_strdup (code), g_free);
  gtk_box_append (GTK_BOX (box), qr);
  gtk_label_set_selectable (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (text), 40);
  gtk_widget_add_css_class (text, "monospace");
  gtk_box_append (GTK_BOX (box), text);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Done"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
invited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvDevicesPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvApiInvitation) invitation = pv_api_invite_finish (result, &error);

  if (invitation == NULL)
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = g_strdup_printf (_ ("No pairing code: %s"), error->message);
      say (self, text);
      return;
    }
  g_free (self->pairing_code);
  self->pairing_code = g_strdup (invitation->code);
  show_pairing_code (self, invitation->name ? invitation->name : "", invitation->code, invitation->expires);
}

void
pv_devices_page_invite (PvDevicesPage *self, const char *role, const char *name)
{
  pv_devices_page_invite_at (self, role, name, NULL);
}

void
pv_devices_page_invite_at (PvDevicesPage *self, const char *role, const char *name, const char *gate)
{
  g_return_if_fail (PV_IS_DEVICES_PAGE (self));
  pv_api_invite_async (self->store, self->session, role, name, gate, 10000, self->cancellable, invited_cb,
                       g_object_ref (self));
}

static const char *const ROLES[] = { "gate", "desk", "admin" };

static void
invite_response_cb (AdwMessageDialog *dialog, const char *response, PvDevicesPage *self)
{
  GtkDropDown *role = g_object_get_data (G_OBJECT (dialog), "role");
  GtkEditable *name = g_object_get_data (G_OBJECT (dialog), "name");
  GtkDropDown *gate = g_object_get_data (G_OBJECT (dialog), "gate");
  guint chosen = gtk_drop_down_get_selected (role);
  guint at = gtk_drop_down_get_selected (gate);
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (name)));
  GtkStringObject *item = at > 0 ? g_list_model_get_item (gtk_drop_down_get_model (gate), at) : NULL;

  /* The first choice is "asked on the device"; a desk stands at no gate. */
  if (g_str_equal (response, "pair") && chosen < G_N_ELEMENTS (ROLES) && *text != '\0')
    pv_devices_page_invite_at (self, ROLES[chosen], text,
                               item != NULL && gtk_widget_get_sensitive (GTK_WIDGET (gate))
                                 ? gtk_string_object_get_string (item)
                                 : NULL);
  g_clear_object (&item);
}

/* A gate for a gate station or a control room, never for a desk. */
static void
role_chosen_cb (GtkDropDown *role, GParamSpec *pspec, GtkWidget *gate)
{
  gtk_widget_set_sensitive (gate, g_strcmp0 (ROLES[MIN (gtk_drop_down_get_selected (role), 2)], "desk") != 0);
}

static void
name_changed_cb (GtkEditable *name, AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (name)));
  adw_message_dialog_set_response_enabled (dialog, "pair", *text != '\0');
}

static void
pair_clicked_cb (PvDevicesPage *self)
{
  const char *roles[] = { _ ("Gate"), _ ("Desk"), _ ("Control room"), NULL };
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                              _ ("Pair a New Device"),
                                              _ ("The hub makes a one-time code for it, shown here as a QR."));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *role = gtk_drop_down_new_from_strings (roles);
  GtkWidget *name = gtk_entry_new ();
  PvEvent *event = pv_store_get_event (self->store, NULL);
  const char *const *gates = event ? pv_event_get_gates (event) : NULL;
  GtkStringList *gate_names = gtk_string_list_new (NULL);
  GtkWidget *gate;

  /* Which gate the new station stands at, so it never records under a
   * gate nobody chose; or it asks when first opened. */
  gtk_string_list_append (gate_names, _ ("Gate: asked on the device"));
  for (guint i = 0; gates != NULL && gates[i] != NULL; i++)
    gtk_string_list_append (gate_names, gates[i]);
  gate = gtk_drop_down_new (G_LIST_MODEL (gate_names), NULL);
  gtk_widget_set_tooltip_text (gate, _ ("The gate this station will stand at"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (gate), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Gate"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (role), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Role"), -1);
  /* Its placeholder is only a hint: a screen reader said "GtkEntry". */
  gtk_accessible_update_property (GTK_ACCESSIBLE (name), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Name"), -1);
  g_signal_connect_object (role, "notify::selected", G_CALLBACK (role_chosen_cb), gate, 0);

  gtk_entry_set_placeholder_text (GTK_ENTRY (name), _ ("Name, e.g. “Gate 5”"));
  gtk_entry_set_activates_default (GTK_ENTRY (name), TRUE);
  gtk_box_append (GTK_BOX (box), role);
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), gate);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "pair",
                                    _ ("_Make Code"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "pair", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "pair", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "pair");
  g_object_set_data (G_OBJECT (dialog), "role", role);
  g_object_set_data (G_OBJECT (dialog), "name", name);
  g_object_set_data (G_OBJECT (dialog), "gate", gate);
  g_signal_connect (name, "changed", G_CALLBACK (name_changed_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (invite_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the object ---- */

static void
pv_devices_page_dispose (GObject *object)
{
  PvDevicesPage *self = PV_DEVICES_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_signal_handler (&self->changed_id, self->devices);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_DEVICES_PAGE);
  G_OBJECT_CLASS (pv_devices_page_parent_class)->dispose (object);
}

static void
pv_devices_page_finalize (GObject *object)
{
  PvDevicesPage *self = PV_DEVICES_PAGE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->devices);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_free (self->pairing_code);
  g_free (self->status);
  G_OBJECT_CLASS (pv_devices_page_parent_class)->finalize (object);
}

static void
pv_devices_page_class_init (PvDevicesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_devices_page_dispose;
  object_class->finalize = pv_devices_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-devices-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvDevicesPage, pair_button);
  gtk_widget_class_bind_template_child (widget_class, PvDevicesPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PvDevicesPage, list);
}

static void
pv_devices_page_init (PvDevicesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->session = pv_api_session_new ();
  g_signal_connect_swapped (self->pair_button, "clicked", G_CALLBACK (pair_clicked_cb), self);
}

GtkWidget *
pv_devices_page_new (PvStore *store, PvDeviceList *devices)
{
  PvDevicesPage *self = g_object_new (PV_TYPE_DEVICES_PAGE, NULL);

  self->store = g_object_ref (store);
  self->devices = g_object_ref (devices);
  self->changed_id = g_signal_connect_swapped (devices, "changed", G_CALLBACK (show_rows), self);
  show_rows (self);
  return GTK_WIDGET (self);
}

GtkListBox *
pv_devices_page_get_list (PvDevicesPage *self)
{
  g_return_val_if_fail (PV_IS_DEVICES_PAGE (self), NULL);
  return self->list;
}

const char *
pv_devices_page_get_pairing_code (PvDevicesPage *self)
{
  g_return_val_if_fail (PV_IS_DEVICES_PAGE (self), NULL);
  return self->pairing_code;
}

const char *
pv_devices_page_get_status (PvDevicesPage *self)
{
  g_return_val_if_fail (PV_IS_DEVICES_PAGE (self), NULL);
  return self->status;
}

void
pv_devices_page_refresh (PvDevicesPage *self)
{
  g_return_if_fail (PV_IS_DEVICES_PAGE (self));
  pv_device_list_refresh (self->devices);
}

guint
pv_devices_page_find_device (PvDevicesPage *self, const char *name)
{
  GPtrArray *rows;

  g_return_val_if_fail (PV_IS_DEVICES_PAGE (self), 0);
  rows = pv_device_list_get_rows (self->devices);
  for (guint i = 0; i < rows->len; i++)
    {
      PvDeviceRow *row = rows->pdata[i];
      if (g_strcmp0 (row->status->name, name) == 0)
        return row->status->id;
    }
  return 0;
}

const char *
pv_devices_page_get_note (PvDevicesPage *self)
{
  g_return_val_if_fail (PV_IS_DEVICES_PAGE (self), NULL);
  return gtk_label_get_text (self->status_label);
}
