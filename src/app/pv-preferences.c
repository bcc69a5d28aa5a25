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

static GtkWidget *
text_row (PvPreferences *self, GtkWidget *row, const char *key, const char *title)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
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
  return row;
}

static GtkWidget *
switch_row (PvPreferences *self, const char *key, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();

  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  g_settings_bind (self->settings, key, toggle, "active", G_SETTINGS_BIND_DEFAULT);
  return row;
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
 * ms), within the range the schema allows. */
static GtkWidget *
spin_row (PvPreferences *self, const char *key, const char *title, const char *subtitle, guint scale,
          double step, guint digits)
{
  g_autoptr (GSettingsSchemaKey) schema_key = NULL;
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GVariant) range = NULL, limits = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin;
  guint32 lower = 0, upper = 0;
  const char *type;

  g_object_get (self->settings, "settings-schema", &schema, NULL);
  schema_key = g_settings_schema_get_key (schema, key);
  range = g_settings_schema_key_get_range (schema_key);
  g_variant_get (range, "(&sv)", &type, &limits);
  g_variant_get (limits, "(uu)", &lower, &upper);
  spin = gtk_spin_button_new_with_range ((double) lower / scale, (double) upper / scale, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), (double) g_settings_get_uint (self->settings, key) / scale);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (spin), "scale", GUINT_TO_POINTER (scale));
  g_object_set_data_full (G_OBJECT (spin), "key", g_strdup (key), g_free);
  g_signal_connect (spin, "value-changed", G_CALLBACK (spin_changed_cb), self);
  gtk_spin_button_set_update_policy (GTK_SPIN_BUTTON (spin), GTK_UPDATE_IF_VALID);
  g_signal_connect (spin, "input", G_CALLBACK (spin_input_cb), self);
  g_ptr_array_add (self->spins, spin);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  return row;
}

/* A choice among @ids (shown as @names) for a string setting. */
static void
choice_changed_cb (AdwComboRow *row, GParamSpec *pspec, PvPreferences *self)
{
  GPtrArray *ids = g_object_get_data (G_OBJECT (row), "ids");
  const char *key = g_object_get_data (G_OBJECT (row), "key");
  guint i = adw_combo_row_get_selected (row);

  if (i < ids->len)
    g_settings_set_string (self->settings, key, g_ptr_array_index (ids, i));
}

static GtkWidget *
choice_row (PvPreferences *self, const char *key, const char *title, GPtrArray *ids, GPtrArray *names)
{
  GtkWidget *row = adw_combo_row_new ();
  g_autofree char *current = g_settings_get_string (self->settings, key);
  g_autoptr (GtkStringList) model = gtk_string_list_new (NULL);
  guint selected = 0;

  for (guint i = 0; i < names->len; i++)
    {
      gtk_string_list_append (model, g_ptr_array_index (names, i));
      if (g_strcmp0 (current, g_ptr_array_index (ids, i)) == 0)
        selected = i;
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), selected);
  g_object_set_data_full (G_OBJECT (row), "ids", g_ptr_array_ref (ids), (GDestroyNotify) g_ptr_array_unref);
  g_object_set_data_full (G_OBJECT (row), "key", g_strdup (key), g_free);
  g_signal_connect (row, "notify::selected", G_CALLBACK (choice_changed_cb), self);
  return row;
}

/* ---- the window ---- */

static void
add_gate_group (PvPreferences *self, AdwPreferencesPage *page, PvStore *store)
{
  GtkWidget *group = adw_preferences_group_new ();
  g_autoptr (GPtrArray) devices = pv_camera_list_devices ();
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *camera = g_settings_get_string (self->settings, "camera");
  gboolean camera_listed = g_str_equal (camera, "auto") || g_str_equal (camera, "demo:");

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Gate"));
  g_ptr_array_add (ids, g_strdup ("auto"));
  g_ptr_array_add (names, g_strdup (_ ("Automatic")));
  for (guint i = 0; i < devices->len; i++)
    {
      PvCameraInfo *info = g_ptr_array_index (devices, i);
      g_ptr_array_add (ids, g_strdup (info->id));
      g_ptr_array_add (names, g_strdup (info->name));
      camera_listed = camera_listed || g_str_equal (camera, info->id);
    }
  g_ptr_array_add (ids, g_strdup ("demo:"));
  g_ptr_array_add (names, g_strdup (_ ("Demo tickets")));
  /* A camera unplugged now, or a file, stays choosable. */
  if (!camera_listed)
    {
      g_ptr_array_add (ids, g_strdup (camera));
      g_ptr_array_add (names, g_strdup (camera));
    }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             choice_row (self, "camera", _ ("Camera"), ids, names));

  /* The gate is the replica's, chosen on the gate page ("Change Gate…"). */
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             switch_row (self, "sounds", _ ("Sounds"), _ ("A sound for each verdict")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             spin_row (self, "verdict-seconds", _ ("Verdict time"),
                                       _ ("Seconds a verdict stays when no other code comes"), 1, 1, 0));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             spin_row (self, "hold-off-ms", _ ("Hold-off"),
                                       _ ("Seconds before the same code held in view is read again"), 1000, 0.5, 1));
  /* Serials run in order: a typed one proves nothing, so who may type
   * one is the organiser's call. */
  {
    g_autoptr (GPtrArray) lookup_ids = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) lookup_names = g_ptr_array_new_with_free_func (g_free);
    GtkWidget *row;

    g_ptr_array_add (lookup_ids, g_strdup ("anyone"));
    g_ptr_array_add (lookup_names, g_strdup (_ ("Anyone here")));
    g_ptr_array_add (lookup_ids, g_strdup ("signed-in"));
    g_ptr_array_add (lookup_names, g_strdup (_ ("Signed-in volunteers only")));
    g_ptr_array_add (lookup_ids, g_strdup ("off"));
    g_ptr_array_add (lookup_names, g_strdup (_ ("Nobody (off)")));
    row = choice_row (self, "gate-lookup", _ ("Admit by serial"), lookup_ids, lookup_names);
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                 _ ("A typed serial is a manual decision: the ticket is checked by eye"));
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  }
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

/* An address of this machine picked from the list: taken with the port
 * the field has (8471 when it has none), as if typed and applied. */
static void
address_picked_cb (GtkButton *button, PvPreferences *self)
{
  AdwEntryRow *row = g_object_get_data (G_OBJECT (button), "row");
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
add_address_button (PvPreferences *self, GtkWidget *box, AdwEntryRow *row, const char *address, const char *label)
{
  GtkWidget *button = gtk_button_new_with_label (label);

  gtk_widget_add_css_class (button, "flat");
  gtk_label_set_xalign (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (button))), 0);
  g_object_set_data (G_OBJECT (button), "row", row);
  g_object_set_data_full (G_OBJECT (button), "address", g_strdup (address), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (address_picked_cb), self);
  gtk_box_append (GTK_BOX (box), button);
}

/* "Serve other stations on", with this machine's own addresses to pick
 * from: nobody should have to look up their LAN address in a terminal. */
static GtkWidget *
listen_row (PvPreferences *self)
{
  GtkWidget *row = text_row (self, adw_entry_row_new (), "listen", _ ("Serve other stations on"));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *menu = gtk_menu_button_new ();
  g_auto (GStrv) addresses = pv_listen_local_addresses ();

  add_address_button (self, box, ADW_ENTRY_ROW (row), "0.0.0.0", _ ("All of this computer’s networks (0.0.0.0)"));
  for (guint i = 0; addresses[i] != NULL; i++)
    add_address_button (self, box, ADW_ENTRY_ROW (row), addresses[i], addresses[i]);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (menu), popover);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "network-wired-symbolic");
  gtk_widget_set_valign (menu, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (menu, "flat");
  gtk_widget_set_tooltip_text (menu, _ ("This computer’s addresses"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("This computer’s addresses"), -1);
  adw_entry_row_add_suffix (ADW_ENTRY_ROW (row), menu);
  return row;
}

/* The desk's: what its printer takes. */
static void
add_desk_group (PvPreferences *self, AdwPreferencesPage *page)
{
  GtkWidget *group = adw_preferences_group_new ();
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *row;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Desk"));
  g_ptr_array_add (ids, g_strdup ("a6"));
  g_ptr_array_add (names, g_strdup (_ ("A6 card")));
  g_ptr_array_add (ids, g_strdup ("receipt-80mm"));
  g_ptr_array_add (names, g_strdup (_ ("80 mm receipt")));
  row = choice_row (self, "print-paper", _ ("Ticket paper"), ids, names);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _ ("What the desk’s printer prints tickets on"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

static void
add_network_group (PvPreferences *self, AdwPreferencesPage *page)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Network"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _ ("Stations keep working without the network and catch up after"));
  {
    /* The hub is the one this station was paired with: another hub is
     * another pairing. */
    g_autofree char *hub = self->store ? pv_store_dup_meta_string (self->store, PV_META_HUB_URL) : NULL;
    GtkWidget *row = adw_action_row_new ();

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Hub"));
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), hub ? hub : _ ("None: this station runs on its own"));
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), listen_row (self));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             text_row (self, adw_entry_row_new (), "peers", _ ("Other stations (peers)")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             spin_row (self, "offline-bound-ms", _ ("Offline after"),
                                       _ ("Seconds a gate waits for the hub before deciding by itself"), 1000,
                                       0.1, 1));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

/* The control room's own: only an admin station shows the dashboard. */
static void
add_control_room_group (PvPreferences *self, AdwPreferencesPage *page)
{
  const PvDeviceInfo *device = self->store ? pv_store_lookup_device (self->store, pv_store_get_device_id (self->store))
                                           : NULL;
  PvEvent *event = self->store ? pv_store_get_event (self->store, NULL) : NULL;
  g_autofree char *subtitle = NULL;
  GtkWidget *group;

  if (device == NULL || (device->role != PV_ROLE_ADMIN && device->role != PV_ROLE_HUB))
    return;
  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Control Room"));
  /* Translators: %u is the capacity the event itself names. */
  subtitle = g_strdup_printf (_ ("People allowed inside at once: the dashboard warns at 90 %% and alarms at "
                                 "100 %%. 0 takes the event’s figure (%u)."),
                              event ? pv_event_get_capacity (event) : 0);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             spin_row (self, "venue-capacity", _ ("Venue capacity"), subtitle, 1, 100, 0));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

static void
add_kiosk_group (PvPreferences *self, AdwPreferencesPage *page)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Kiosk"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             switch_row (self, "kiosk", _ ("Start in kiosk mode"),
                                         _ ("Fullscreen; settings need the PIN")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             text_row (self, adw_password_entry_row_new (), "kiosk-pin", _ ("Kiosk PIN")));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

static void
pv_preferences_dispose (GObject *object)
{
  PvPreferences *self = PV_PREFERENCES (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_pointer (&self->spins, g_ptr_array_unref);
  G_OBJECT_CLASS (pv_preferences_parent_class)->dispose (object);
}

static void
pv_preferences_class_init (PvPreferencesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pv_preferences_dispose;
}

static void
pv_preferences_init (PvPreferences *self)
{
  self->spins = g_ptr_array_new ();
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), NULL);
}

PvPreferences *
pv_preferences_new (GtkWindow *parent, GSettings *settings, PvStore *store)
{
  /* Titled here: libadwaita's own "Preferences" stays English where its
   * translations are not installed. */
  PvPreferences *self = g_object_new (PV_TYPE_PREFERENCES, "transient-for", parent, "modal", TRUE,
                                      "search-enabled", FALSE, "title", _ ("Preferences"), NULL);
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());

  self->settings = g_object_ref (settings);
  self->store = store ? g_object_ref (store) : NULL;
  adw_preferences_page_set_title (page, _ ("Station"));
  adw_preferences_page_set_icon_name (page, "preferences-system-symbolic");
  add_gate_group (self, page, store);
  add_desk_group (self, page);
  add_network_group (self, page);
  add_control_room_group (self, page);
  add_kiosk_group (self, page);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
  /* Off, but in the window and in what a screen reader walks. */
  pv_a11y_label_search_entries (GTK_WIDGET (self), _ ("Search settings"));
  /* The PIN row's eye, and the entry rows' apply buttons. */
  pv_a11y_name_icon_buttons (GTK_WIDGET (self));
  return self;
}
