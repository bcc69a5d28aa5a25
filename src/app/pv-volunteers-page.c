/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-volunteers-page.c: the control room's volunteers (see the header).
 * Every change is one async call to the hub followed by a reload of both
 * lists, so what is shown is what the hub holds. */
#include "config.h"

#include "pv-volunteers-page.h"

#include <glib/gi18n.h>

#include "pv-api-admin.h"
#include "pv-api-client.h"
#include "pv-device-list.h"
#include "pv-event.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-window.h"

struct _PvVolunteersPage
{
  AdwBin parent_instance;

  /* template widgets */
  AdwEntryRow *name_row;
  AdwEntryRow *phone_row;
  AdwComboRow *role_row;
  GtkButton *add_button;
  GtkListBox *list;
  GtkListBox *sign_ins;
  GtkLabel *status_label;
  GtkLabel *form_error;

  /* owned */
  PvStore *store;
  SoupSession *session;
  GCancellable *cancellable;
  char *status;
  guint n_loads;
  guint loading;          /* calls in flight */
  gboolean load_again;    /* asked for while they were */
  gboolean hub_unreached; /* the line over the page says so */
  guint poll_id;
};

G_DEFINE_FINAL_TYPE (PvVolunteersPage, pv_volunteers_page, ADW_TYPE_BIN)

static const char *const ROLES[] = { "desk", "gate", "admin" };

/* In event time, as on every other page. */
static char *
format_time (PvVolunteersPage *self, gint64 at)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);

  /* Translators: a date in strftime form, e.g. "28 Nov 10:42". */
  return event ? pv_event_format_time (event, at, _ ("%e %b %H:%M")) : g_strdup ("?");
}

static void
say (PvVolunteersPage *self, const char *text, gboolean toast)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_free (self->status);
  self->status = g_strdup (text);
  /* News goes in a toast; the line over the page is for the hub's
   * reachability, which lasts. */
  if (toast && PV_IS_WINDOW (root))
    pv_window_toast (PV_WINDOW (root), text);
  else if (!toast)
    {
      gtk_label_set_text (self->status_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), *text != '\0');
    }
}

/* Rows only: the placeholder is a child too, and stays. */
static void
clear_list (GtkListBox *list)
{
  GtkListBoxRow *row;

  while ((row = gtk_list_box_get_row_at_index (list, 0)) != NULL)
    gtk_list_box_remove (list, GTK_WIDGET (row));
}

/* ---- changes ---- */

static void reload (PvVolunteersPage *self);

typedef struct
{
  PvVolunteersPage *self;
  char *done; /* what to say when the hub agreed */
  gboolean from_form;
} Change;

static void
changed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Change *change = user_data;
  g_autoptr (PvVolunteersPage) self = change->self;
  g_autofree char *done = change->done;
  gboolean from_form = change->from_form;
  g_autoptr (GError) error = NULL;
  gboolean agreed = from_form ? pv_api_volunteer_add_finish (result, NULL, &error)
                              : pv_api_volunteer_set_active_finish (result, &error);

  g_free (change);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!agreed && from_form)
    {
      /* Said beside the form, where the volunteer's details still are. */
      gtk_label_set_text (self->form_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
      g_free (self->status);
      self->status = g_strdup (error->message);
      return;
    }
  if (!agreed)
    {
      /* A switch the hub did not follow goes back to what the hub holds. */
      say (self, error->message, TRUE);
      reload (self);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  if (from_form)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->name_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->phone_row), "");
    }
  say (self, done, TRUE);
  reload (self);
}

/* What changed_cb () needs to hear how a change went. */
static Change *
change_new (PvVolunteersPage *self, const char *done, gboolean from_form)
{
  Change *change = g_new0 (Change, 1);

  change->self = g_object_ref (self);
  change->done = g_strdup (done);
  change->from_form = from_form;
  return change;
}

void
pv_volunteers_page_add (PvVolunteersPage *self, const char *name, const char *phone, const char *role)
{
  g_autofree char *clean_name = NULL, *clean_phone = NULL, *done = NULL;
  guint chosen = adw_combo_row_get_selected (self->role_row);

  g_return_if_fail (PV_IS_VOLUNTEERS_PAGE (self));
  if (name == NULL)
    {
      name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
      phone = gtk_editable_get_text (GTK_EDITABLE (self->phone_row));
      role = chosen < G_N_ELEMENTS (ROLES) ? ROLES[chosen] : "desk";
    }
  clean_name = g_strstrip (g_strdup (name));
  clean_phone = g_strstrip (g_strdup (phone));
  if (*clean_name == '\0' || *clean_phone == '\0')
    {
      gtk_label_set_text (self->form_error, _ ("A volunteer needs a name and a mobile number."));
      gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
      return;
    }
  /* Checked here as the desk checks it, in the same words. */
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *normal = pv_normalize_phone (clean_phone, &error);

    if (normal == NULL)
      {
        gtk_label_set_text (self->form_error, error->message);
        gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
        return;
      }
  }
  done = g_strdup_printf (_ ("%s can now sign in with their phone."), clean_name);
  pv_api_volunteer_add_async (self->store, self->session, clean_name, clean_phone, role, 10000, self->cancellable,
                              changed_cb, change_new (self, done, TRUE));
}

static void
add_clicked_cb (PvVolunteersPage *self)
{
  pv_volunteers_page_add (self, NULL, NULL, NULL);
}

static void
active_toggled_cb (GtkSwitch *toggle, GParamSpec *pspec, PvVolunteersPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (toggle), "id"));
  const char *name = g_object_get_data (G_OBJECT (toggle), "name");
  gboolean active = gtk_switch_get_active (toggle);
  g_autofree char *done = active ? g_strdup_printf (_ ("%s may sign in again."), name)
                                 : g_strdup_printf (_ ("%s can no longer sign in."), name);

  pv_api_volunteer_set_active_async (self->store, self->session, id, active, 10000, self->cancellable, changed_cb,
                                     change_new (self, done, FALSE));
}

/* ---- loading ---- */

static void
show_volunteers (PvVolunteersPage *self, GPtrArray *volunteers)
{
  clear_list (self->list);
  for (guint i = 0; i < volunteers->len; i++)
    {
      const PvApiVolunteer *volunteer = volunteers->pdata[i];
      const char *name = volunteer->name ? volunteer->name : "?";
      GtkWidget *row, *toggle;
      g_autoptr (GString) subtitle = NULL;

      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      subtitle = g_string_new (volunteer->phone ? volunteer->phone : "");
      g_string_append_printf (subtitle, " · %s", pv_role_title (volunteer->role ? volunteer->role : ""));
      if (volunteer->last_sign_in_at != 0)
        {
          g_autofree char *when = format_time (self, volunteer->last_sign_in_at);
          const char *where = volunteer->last_sign_in_device_name;

          /* Translators: where and when a volunteer last signed in. */
          g_string_append_printf (subtitle, _ (" · last signed in at %s, %s"), where ? where : "?", when);
        }
      else
        g_string_append_printf (subtitle, " · %s", _ ("never signed in"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
      toggle = gtk_switch_new ();
      gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
      gtk_switch_set_active (GTK_SWITCH (toggle), volunteer->active);
      gtk_widget_set_tooltip_text (toggle, _ ("May sign in"));
      g_object_set_data (G_OBJECT (toggle), "id", GSIZE_TO_POINTER (volunteer->id));
      g_object_set_data_full (G_OBJECT (toggle), "name", g_strdup (name), g_free);
      g_signal_connect (toggle, "notify::active", G_CALLBACK (active_toggled_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
      gtk_list_box_append (self->list, row);
    }
}

static void
show_sign_ins (PvVolunteersPage *self, GPtrArray *sign_ins)
{
  clear_list (self->sign_ins);
  for (guint i = 0; i < sign_ins->len; i++)
    {
      const PvApiSignIn *sign_in = sign_ins->pdata[i];
      g_autofree char *when = format_time (self, sign_in->at);
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), sign_in->name ? sign_in->name : "?");
      /* Translators: a sign-in: at which device, and when. */
      subtitle = g_strdup_printf (_ ("at %s, %s"), sign_in->device_name ? sign_in->device_name : "?", when);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (self->sign_ins, row);
    }
}

/* One of the two lists came back (@error NULL) or did not. */
static void
loaded (PvVolunteersPage *self, const GError *error)
{
  self->loading--;
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_ ("Volunteers are kept at the hub, which cannot be asked "
                                                  "now (%s). Shown is what it said last."),
                                               error->message);
      say (self, text, FALSE);
      self->hub_unreached = TRUE;
    }
  if (self->loading > 0)
    return;
  if (error == NULL && self->hub_unreached)
    {
      self->hub_unreached = FALSE;
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
    }
  self->n_loads++;
  /* A change made while this load was on its way. */
  if (self->load_again)
    {
      self->load_again = FALSE;
      reload (self);
    }
}

static void
volunteers_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvVolunteersPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) volunteers = pv_api_volunteers_list_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (volunteers != NULL)
    show_volunteers (self, volunteers);
  loaded (self, error);
}

static void
sign_ins_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PvVolunteersPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sign_ins = pv_api_sign_ins_list_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (sign_ins != NULL)
    show_sign_ins (self, sign_ins);
  loaded (self, error);
}

static void
reload (PvVolunteersPage *self)
{
  if (self->loading > 0)
    {
      self->load_again = TRUE;
      return;
    }
  self->loading = 2;
  pv_api_volunteers_list_async (self->store, self->session, 10000, self->cancellable, volunteers_loaded_cb,
                                g_object_ref (self));
  pv_api_sign_ins_list_async (self->store, self->session, 10000, self->cancellable, sign_ins_loaded_cb,
                              g_object_ref (self));
}

void
pv_volunteers_page_reload (PvVolunteersPage *self)
{
  g_return_if_fail (PV_IS_VOLUNTEERS_PAGE (self));
  reload (self);
}

static gboolean
poll_cb (gpointer user_data)
{
  PvVolunteersPage *self = user_data;

  /* Sign-ins happen all day; while the page is on screen it keeps up. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    reload (self);
  return G_SOURCE_CONTINUE;
}

/* ---- the object ---- */

static void
pv_volunteers_page_dispose (GObject *object)
{
  PvVolunteersPage *self = PV_VOLUNTEERS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_VOLUNTEERS_PAGE);
  G_OBJECT_CLASS (pv_volunteers_page_parent_class)->dispose (object);
}

static void
pv_volunteers_page_finalize (GObject *object)
{
  PvVolunteersPage *self = PV_VOLUNTEERS_PAGE (object);

  g_clear_object (&self->store);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_free (self->status);
  G_OBJECT_CLASS (pv_volunteers_page_parent_class)->finalize (object);
}

static void
pv_volunteers_page_class_init (PvVolunteersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_volunteers_page_dispose;
  object_class->finalize = pv_volunteers_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-volunteers-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, phone_row);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, role_row);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, form_error);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, add_button);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, list);
  gtk_widget_class_bind_template_child (widget_class, PvVolunteersPage, sign_ins);
}

static void
pv_volunteers_page_init (PvVolunteersPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->session = pv_api_session_new ();
  /* An error goes once a field is changed to fix it. */
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (gtk_widget_hide), self->form_error);
  g_signal_connect_swapped (self->phone_row, "changed", G_CALLBACK (gtk_widget_hide), self->form_error);
  g_signal_connect_swapped (self->add_button, "clicked", G_CALLBACK (add_clicked_cb), self);
  g_signal_connect_swapped (self, "map", G_CALLBACK (reload), self);
}

GtkWidget *
pv_volunteers_page_new (PvStore *store)
{
  PvVolunteersPage *self = g_object_new (PV_TYPE_VOLUNTEERS_PAGE, NULL);

  self->store = g_object_ref (store);
  self->poll_id = g_timeout_add_seconds (15, poll_cb, self);
  return GTK_WIDGET (self);
}

GtkListBox *
pv_volunteers_page_get_list (PvVolunteersPage *self)
{
  g_return_val_if_fail (PV_IS_VOLUNTEERS_PAGE (self), NULL);
  return self->list;
}

GtkListBox *
pv_volunteers_page_get_sign_ins (PvVolunteersPage *self)
{
  g_return_val_if_fail (PV_IS_VOLUNTEERS_PAGE (self), NULL);
  return self->sign_ins;
}

guint
pv_volunteers_page_get_n_loads (PvVolunteersPage *self)
{
  g_return_val_if_fail (PV_IS_VOLUNTEERS_PAGE (self), 0);
  return self->n_loads;
}

const char *
pv_volunteers_page_get_status (PvVolunteersPage *self)
{
  g_return_val_if_fail (PV_IS_VOLUNTEERS_PAGE (self), NULL);
  return self->status;
}
