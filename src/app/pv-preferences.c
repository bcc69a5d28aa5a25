/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-preferences.c: the station's settings window (see the header). Text
 * settings are written only when valid, on Enter or the row's apply
 * button; a wrong one turns its row red and says why. */
#include "config.h"

#include "pv-preferences.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pv-a11y.h"
#include "pv-camera.h"
#include "pv-event.h"
#include "pv-listener.h"
#include "pv-store.h"

struct _PvPreferences
{
  AdwPreferencesWindow parent_instance;

  /* template widgets */
  AdwComboRow *camera_row;
  GtkSwitch *sounds_switch;
  GtkSpinButton *verdict_spin;
  GtkSpinButton *hold_off_spin;
  AdwComboRow *gate_lookup_row;
  AdwComboRow *print_paper_row;
  AdwActionRow *hub_row;
  AdwEntryRow *listen_row;
  GtkBox *address_box; /* this machine's addresses, to pick from */
  AdwEntryRow *peers_row;
  GtkSpinButton *offline_spin;
  AdwPreferencesGroup *control_room_group; /* shown on an admin station */
  AdwActionRow *capacity_row;
  GtkSpinButton *capacity_spin;
  GtkSwitch *kiosk_switch;
  AdwEntryRow *pin_row;

  /* owned */
  GSettings *settings;
  PvStore *store;
  GPtrArray *spins; /* borrowed: the number fields, committed on close */
};

G_DEFINE_FINAL_TYPE (PvPreferences, pv_preferences, ADW_TYPE_PREFERENCES_WINDOW)

const char *
pv_preferences_check_url (const char *text)
{
  g_autoptr (GUri) uri = NULL;

  if (*text == '\0')
    return NULL;
  if (strpbrk (text, " \t\r\n") == NULL)
    uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    return _ ("Give an address like https://hub.example:8443");
  return NULL;
}

const char *
pv_preferences_check_peers (const char *text)
{
  g_auto (GStrv) parts = g_strsplit_set (text, ", ", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0' && pv_preferences_check_url (parts[i]) != NULL)
      return _ ("Give addresses like http://192.168.1.20:8080, separated by commas");
  return NULL;
}

/* As the station's server takes it (pv_listen): a literal IP address
 * (0.0.0.0 for all of this machine's) and a port. */
const char *
pv_preferences_check_listen (const char *text)
{
  g_autoptr (GSocketAddress) address = pv_listen_parse_address (text, NULL);

  if (address == NULL)
    return _ ("Give an address of this computer and a port, like 192.168.1.20:8471 or 0.0.0.0:8471 for all of its "
              "networks (port 0: any free one)");
  return NULL;
}

const char *
pv_preferences_check_pin (const char *text)
{
  gsize len = strlen (text);

  if (len == 0)
    return NULL;
  if (len < 4 || len > 8)
    return _ ("A PIN has 4 to 8 digits");
  for (const char *p = text; *p; p++)
    if (!g_ascii_isdigit (*p))
      return _ ("A PIN has digits only");
  return NULL;
}

/* ---- rows ---- */

static void
show_check (PvPreferences *self, GtkWidget *row, const char *problem)
{
  if (problem == NULL)
    {
      gtk_widget_remove_css_class (row, "error");
      return;
    }
  gtk_widget_add_css_class (row, "error");
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (problem));
}

static void
text_applied_cb (AdwEntryRow *row, PvPreferences *self)
{
  const char *key = g_object_get_data (G_OBJECT (row), "key");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  const char *problem;

  if (g_str_equal (key, "peers"))
    {
      g_auto (GStrv) parts = g_strsplit_set (trimmed, ", ", -1);
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
      g_auto (GStrv) peers = NULL;

      if ((problem = pv_preferences_check_peers (trimmed)) != NULL)
        {
          show_check (self, GTK_WIDGET (row), problem);
          return;
        }
      for (guint i = 0; parts[i] != NULL; i++)
        if (*parts[i] != '\0')
          g_strv_builder_add (builder, parts[i]);
      peers = g_strv_builder_end (builder);
      g_settings_set_strv (self->settings, key, (const char *const *) peers);
    }
  else
    {
      /* Each field by its own rule: where this station serves is an
       * address of this machine, not a URL. */
      problem = g_str_equal (key, "kiosk-pin") ? pv_preferences_check_pin (trimmed)
                : g_str_equal (key, "listen")  ? pv_preferences_check_listen (trimmed)
                                               : pv_preferences_check_url (trimmed);
      if (problem != NULL)
        {
          show_check (self, GTK_WIDGET (row), problem);
          return;
        }
      g_settings_set_string (self->settings, key, trimmed);
    }
  show_check (self, GTK_WIDGET (row), NULL);
}

/* Each row below is the template's; here it gets the setting it shows. */
static void
bind_text (PvPreferences *self, AdwEntryRow *row, const char *key)
{
  g_object_set_data_full (G_OBJECT (row), "key", g_strdup (key), g_free);
  if (g_str_equal (key, "peers"))
    {
      g_auto (GStrv) peers = g_settings_get_strv (self->settings, key);
      g_autofree char *text = g_strjoinv (", ", peers);
      gtk_editable_set_text (GTK_EDITABLE (row), text);
    }
  else
    {
      g_autofree char *text = g_settings_get_string (self->settings, key);
      gtk_editable_set_text (GTK_EDITABLE (row), text);
    }
  g_signal_connect (row, "apply", G_CALLBACK (text_applied_cb), self);
  g_signal_connect (row, "entry-activated", G_CALLBACK (text_applied_cb), self);
}

static void
spin_changed_cb (GtkSpinButton *spin, PvPreferences *self)
{
  const char *key = g_object_get_data (G_OBJECT (spin), "key");
  guint scale = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (spin), "scale"));

  /* A field losing its focus as the window is torn down: too late. */
  if (self->settings == NULL)
    return;
  g_settings_set_uint (self->settings, key, (guint) (gtk_spin_button_get_value (spin) * scale + 0.5));
}

/* What was typed into a number field, read as GTK would, but a number out
 * of the setting's range (or no number) is refused in words rather than
 * capped without a word; the field then shows the setting again. */
static int
spin_input_cb (GtkSpinButton *spin, double *new_value, PvPreferences *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (spin), ADW_TYPE_ACTION_ROW);
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (spin))));
  double lower, upper, value;
  char *end = NULL;

  gtk_spin_button_get_range (spin, &lower, &upper);
  value = g_ascii_strtod (text, &end);
  if (*text == '\0' || end == NULL || *end != '\0' || value < lower || value > upper)
    {
      guint digits = gtk_spin_button_get_digits (spin);
      g_autofree char *words = NULL;

      /* Translators: a setting's name, then its smallest and largest values. */
      words = g_strdup_printf (_ ("%s is a number from %.*f to %.*f"),
                               row ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)) : "", digits, lower,
                               digits, upper);
      g_object_set_data (G_OBJECT (spin), "refused", GINT_TO_POINTER (TRUE));
      if (row != NULL)
        show_check (self, row, words);
      return GTK_INPUT_ERROR;
    }
  if (row != NULL)
    show_check (self, row, NULL);
  *new_value = value;
  return TRUE;
}

/* Closing the window takes what is typed in a number field, as Enter or
 * leaving the field does; a number refused keeps the window open, with
 * the reason, once. */
static gboolean
close_request_cb (PvPreferences *self)
{
  gboolean refused = FALSE;

  for (guint i = 0; i < self->spins->len; i++)
    {
      GtkSpinButton *spin = g_ptr_array_index (self->spins, i);

      g_object_set_data (G_OBJECT (spin), "refused", NULL);
      gtk_spin_button_update (spin);
      refused = refused || g_object_get_data (G_OBJECT (spin), "refused") != NULL;
    }
  return refused;
}

/* A number setting shown in units of @scale (1000: seconds for a value in
 * ms), within the range the schema allows; the step and the digits are
 * the template's. */
static void
bind_spin (PvPreferences *self, GtkSpinButton *spin, const char *key, guint scale)
{
  g_autoptr (GSettingsSchemaKey) schema_key = NULL;
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GVariant) range = NULL, limits = NULL;
  guint32 lower = 0, upper = 0;
  const char *type;

  g_object_get (self->settings, "settings-schema", &schema, NULL);
  schema_key = g_settings_schema_get_key (schema, key);
  range = g_settings_schema_key_get_range (schema_key);
  g_variant_get (range, "(&sv)", &type, &limits);
  g_variant_get (limits, "(uu)", &lower, &upper);
  gtk_spin_button_set_range (spin, (double) lower / scale, (double) upper / scale);
  /* Made again on the adjustment it has: the field is sized for this
   * range only then (GTK 4.8), as one made with its range would be. */
  gtk_spin_button_configure (spin, NULL, gtk_spin_button_get_climb_rate (spin), gtk_spin_button_get_digits (spin));
  gtk_spin_button_set_value (spin, (double) g_settings_get_uint (self->settings, key) / scale);
  g_object_set_data (G_OBJECT (spin), "scale", GUINT_TO_POINTER (scale));
  g_object_set_data_full (G_OBJECT (spin), "key", g_strdup (key), g_free);
  g_signal_connect (spin, "value-changed", G_CALLBACK (spin_changed_cb), self);
  g_signal_connect (spin, "input", G_CALLBACK (spin_input_cb), self);
  g_ptr_array_add (self->spins, spin);
}

/* A choice among @ids, in the order of the row's items, for a string
 * setting. */
static void
choice_changed_cb (AdwComboRow *row, GParamSpec *pspec, PvPreferences *self)
{
  const char *const *ids = g_object_get_data (G_OBJECT (row), "ids");
  const char *key = g_object_get_data (G_OBJECT (row), "key");
  guint i = adw_combo_row_get_selected (row);

  if (i < g_strv_length ((char **) ids))
    g_settings_set_string (self->settings, key, ids[i]);
}

static void
bind_choice (PvPreferences *self, AdwComboRow *row, const char *key, const char *const *ids)
{
  g_autofree char *current = g_settings_get_string (self->settings, key);
  guint selected = 0;

  /* The template's items and the code's ids, one for one. */
  g_warn_if_fail (g_list_model_get_n_items (adw_combo_row_get_model (row)) == g_strv_length ((char **) ids));
  for (guint i = 0; ids[i] != NULL; i++)
    if (g_strcmp0 (current, ids[i]) == 0)
      selected = i;
  adw_combo_row_set_selected (row, selected);
  g_object_set_data_full (G_OBJECT (row), "ids", g_strdupv ((char **) ids), (GDestroyNotify) g_strfreev);
  g_object_set_data_full (G_OBJECT (row), "key", g_strdup (key), g_free);
  g_signal_connect (row, "notify::selected", G_CALLBACK (choice_changed_cb), self);
}

/* ---- the window ---- */

/* What the template's item lists stand for, in their order. */
static const char *const gate_lookup_ids[] = { "anyone", "signed-in", "off", NULL };
static const char *const print_paper_ids[] = { "a6", "receipt-80mm", NULL };

/* The cameras this machine has, between "Automatic" and the demo. */
static void
bind_camera (PvPreferences *self)
{
  g_autoptr (GPtrArray) devices = pv_camera_list_devices ();
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  g_autofree char *camera = g_settings_get_string (self->settings, "camera");
  gboolean camera_listed = g_str_equal (camera, "auto") || g_str_equal (camera, "demo:");
  g_auto (GStrv) id_list = NULL;

  g_strv_builder_add (ids, "auto");
  gtk_string_list_append (names, _ ("Automatic"));
  for (guint i = 0; i < devices->len; i++)
    {
      PvCameraInfo *info = g_ptr_array_index (devices, i);
      g_strv_builder_add (ids, info->id);
      gtk_string_list_append (names, info->name);
      camera_listed = camera_listed || g_str_equal (camera, info->id);
    }
  g_strv_builder_add (ids, "demo:");
  gtk_string_list_append (names, _ ("Demo tickets"));
  /* A camera unplugged now, or a file, stays choosable. */
  if (!camera_listed)
    {
      g_strv_builder_add (ids, camera);
      gtk_string_list_append (names, camera);
    }
  id_list = g_strv_builder_end (ids);
  adw_combo_row_set_model (self->camera_row, G_LIST_MODEL (names));
  bind_choice (self, self->camera_row, "camera", (const char *const *) id_list);
}

/* An address of this machine picked from the list: taken with the port
 * the field has (8471 when it has none), as if typed and applied. */
static void
address_picked_cb (GtkButton *button, PvPreferences *self)
{
  AdwEntryRow *row = self->listen_row;
  const char *address = g_object_get_data (G_OBJECT (button), "address");
  const char *current = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autoptr (GSocketAddress) parsed = pv_listen_parse_address (current, NULL);
  guint port = parsed ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (parsed)) : 8471;
  g_autofree char *text = strchr (address, ':') ? g_strdup_printf ("[%s]:%u", address, port)
                                                : g_strdup_printf ("%s:%u", address, port);

  gtk_popover_popdown (GTK_POPOVER (gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_POPOVER)));
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  text_applied_cb (row, self);
}

static void
add_address_button (PvPreferences *self, const char *address, const char *label)
{
  GtkWidget *button = gtk_button_new_with_label (label);

  gtk_widget_add_css_class (button, "flat");
  gtk_label_set_xalign (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (button))), 0);
  g_object_set_data_full (G_OBJECT (button), "address", g_strdup (address), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (address_picked_cb), self);
  gtk_box_append (self->address_box, button);
}

/* "Serve other stations on", with this machine's own addresses to pick
 * from in the list beside it. */
static void
bind_listen (PvPreferences *self)
{
  g_auto (GStrv) addresses = pv_listen_local_addresses ();

  bind_text (self, self->listen_row, "listen");
  add_address_button (self, "0.0.0.0", _ ("All of this computer’s networks (0.0.0.0)"));
  for (guint i = 0; addresses[i] != NULL; i++)
    add_address_button (self, addresses[i], addresses[i]);
}

/* The control room's own: only an admin station shows the dashboard. */
static void
bind_control_room (PvPreferences *self)
{
  const PvDeviceInfo *device = self->store ? pv_store_lookup_device (self->store, pv_store_get_device_id (self->store))
                                           : NULL;
  PvEvent *event = self->store ? pv_store_get_event (self->store, NULL) : NULL;
  g_autofree char *subtitle = NULL;

  if (device == NULL || (device->role != PV_ROLE_ADMIN && device->role != PV_ROLE_HUB))
    return;
  /* Translators: %u is the capacity the event itself names. */
  subtitle = g_strdup_printf (_ ("People allowed inside at once: the dashboard warns at 90 %% and alarms at "
                                 "100 %%. 0 takes the event’s figure (%u)."),
                              event ? pv_event_get_capacity (event) : 0);
  adw_action_row_set_subtitle (self->capacity_row, subtitle);
  bind_spin (self, self->capacity_spin, "venue-capacity", 1);
  gtk_widget_set_visible (GTK_WIDGET (self->control_room_group), TRUE);
}

static void
pv_preferences_dispose (GObject *object)
{
  PvPreferences *self = PV_PREFERENCES (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_pointer (&self->spins, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_PREFERENCES);
  G_OBJECT_CLASS (pv_preferences_parent_class)->dispose (object);
}

static void
pv_preferences_class_init (PvPreferencesClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pv_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, camera_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, sounds_switch);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, verdict_spin);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, hold_off_spin);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, gate_lookup_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, print_paper_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, hub_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, listen_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, address_box);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, peers_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, offline_spin);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, control_room_group);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, capacity_row);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, capacity_spin);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, kiosk_switch);
  gtk_widget_class_bind_template_child (widget_class, PvPreferences, pin_row);
}

static void
pv_preferences_init (PvPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->spins = g_ptr_array_new ();
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), NULL);
}

PvPreferences *
pv_preferences_new (GtkWindow *parent, GSettings *settings, PvStore *store)
{
  PvPreferences *self = g_object_new (PV_TYPE_PREFERENCES, "transient-for", parent, NULL);
  g_autofree char *hub = store ? pv_store_dup_meta_string (store, PV_META_HUB_URL) : NULL;

  self->settings = g_object_ref (settings);
  self->store = store ? g_object_ref (store) : NULL;
  bind_camera (self);
  g_settings_bind (settings, "sounds", self->sounds_switch, "active", G_SETTINGS_BIND_DEFAULT);
  bind_spin (self, self->verdict_spin, "verdict-seconds", 1);
  bind_spin (self, self->hold_off_spin, "hold-off-ms", 1000);
  bind_choice (self, self->gate_lookup_row, "gate-lookup", gate_lookup_ids);
  bind_choice (self, self->print_paper_row, "print-paper", print_paper_ids);
  adw_action_row_set_subtitle (self->hub_row, hub ? hub : _ ("None: this station runs on its own"));
  bind_listen (self);
  bind_text (self, self->peers_row, "peers");
  bind_spin (self, self->offline_spin, "offline-bound-ms", 1000);
  bind_control_room (self);
  g_settings_bind (settings, "kiosk", self->kiosk_switch, "active", G_SETTINGS_BIND_DEFAULT);
  bind_text (self, self->pin_row, "kiosk-pin");
  /* Off, but in the window and in what a screen reader walks. */
  pv_a11y_label_search_entries (GTK_WIDGET (self), _ ("Search settings"));
  /* The PIN row's eye, and the entry rows' apply buttons. */
  pv_a11y_name_icon_buttons (GTK_WIDGET (self));
  return self;
}
