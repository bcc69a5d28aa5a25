/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-welcome.c: a station's first run (see the header). A paired replica
 * goes in the user's data folder, under a name of its own so a station
 * paired twice (a new event, say) keeps the old file. */
#include "config.h"

#include "pv-welcome.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pv-api-client.h"
#include "pv-application.h"
#include "pv-camera.h"
#include "pv-decoder.h"
#include "pv-error.h"
#include "pv-pairing.h"
#include "pv-store.h"

struct _PvWelcome
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;
  char *camera_source;
  PvCamera *camera;
  PvDecoder *decoder;
  GCancellable *cancellable;
  gboolean pairing;

  /* template widgets */
  GtkStack *stack;
  GtkWidget *back;
  GtkButton *pair_choice;
  GtkButton *open_choice;
  GtkPicture *picture;
  GtkEntry *code_entry;
  GtkButton *pair_button;
  GtkLabel *message;
  GtkSpinner *spinner;
};

G_DEFINE_FINAL_TYPE (PvWelcome, pv_welcome, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  SIGNAL_OPENED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
say (PvWelcome *self, const char *text)
{
  gtk_label_set_text (self->message, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message), text != NULL && *text);
}

const char *
pv_welcome_get_message (PvWelcome *self)
{
  return gtk_label_get_text (self->message);
}

/* ---- pairing ---- */

static char *
new_replica_path (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "pravesh", NULL);

  g_mkdir_with_parents (dir, 0700);
  for (guint i = 1;; i++)
    {
      g_autofree char *name = i == 1 ? g_strdup ("station.db") : g_strdup_printf ("station-%u.db", i);
      char *path = g_build_filename (dir, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
}

static void
stop_camera (PvWelcome *self)
{
  if (self->camera != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->camera, self);
      pv_camera_stop (self->camera);
      g_clear_object (&self->camera);
    }
  if (self->decoder != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->decoder, self);
      pv_decoder_stop (self->decoder);
      g_clear_object (&self->decoder);
    }
}

static void
paired_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PvWelcome *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = pv_pair_finish (result, NULL, &error);

  self->pairing = FALSE;
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->pair_button), TRUE);
  if (store == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        say (self, error->message);
      g_object_unref (self);
      return;
    }
  stop_camera (self);
  g_settings_set_string (self->settings, "database", pv_store_get_path (store));
  g_signal_emit (self, signals[SIGNAL_OPENED], 0, store);
  g_object_unref (self);
}

void
pv_welcome_pair (PvWelcome *self, const char *code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL, *trimmed = g_strstrip (g_strdup (code));
  PvPairingCode parsed = { 0 };

  if (self->pairing)
    return;
  /* Said here, in words, before any file or network is touched. */
  if (!pv_pairing_code_parse (trimmed, &parsed, &error))
    {
      /* Which character was wrong helps a developer, not a volunteer. */
      g_debug ("Not a pairing code: %s", error->message);
      say (self, _ ("That is not a Pravesh pairing code, or part of it was mistyped: copy the whole code "
                    "again, or hold its QR code up to the camera"));
      return;
    }
  pv_pairing_code_clear (&parsed);
  path = new_replica_path ();
  self->pairing = TRUE;
  say (self, NULL);
  gtk_spinner_start (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->pair_button), FALSE);
  pv_pair_async (path, trimmed, self->cancellable, paired_cb, g_object_ref (self));
}

static void
pair_clicked_cb (PvWelcome *self)
{
  pv_welcome_pair (self, gtk_editable_get_text (GTK_EDITABLE (self->code_entry)));
}

static void
code_cb (PvDecoder *decoder, const char *text, gint64 captured_at, gint64 decode_us, PvWelcome *self)
{
  /* A ticket held up by mistake is not an error worth a word. */
  if (!g_str_has_prefix (text, "PVPAIR:"))
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->code_entry), text);
  pv_welcome_pair (self, text);
}

static void
preview_frame_cb (PvCamera *camera, PvFrame *frame, PvWelcome *self)
{
  g_autoptr (GdkTexture) texture = NULL;

  if (frame->format != PV_FRAME_RGBA)
    return;
  texture = gdk_memory_texture_new (frame->width, frame->height, GDK_MEMORY_R8G8B8A8, frame->data,
                                    (gsize) frame->stride);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
}

static void
camera_error_cb (PvCamera *camera, GError *error, PvWelcome *self)
{
  g_autofree char *text = g_strdup_printf (_ ("Camera: %s. Paste the code instead."), error->message);
  say (self, text);
}

static void
start_camera (PvWelcome *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *setting = g_settings_get_string (self->settings, "camera");
  const char *source = self->camera_source ? self->camera_source : setting;

  stop_camera (self);
  if (g_str_equal (source, "demo:"))
    source = "auto"; /* the demo shows tickets, never pairing codes */
  self->decoder = pv_decoder_new ();
  self->camera = pv_camera_new (source, self->decoder);
  g_signal_connect (self->decoder, "code", G_CALLBACK (code_cb), self);
  g_signal_connect (self->camera, "preview-frame", G_CALLBACK (preview_frame_cb), self);
  g_signal_connect (self->camera, "error", G_CALLBACK (camera_error_cb), self);
  pv_decoder_start (self->decoder);
  if (!pv_camera_start (self->camera, &error))
    camera_error_cb (self->camera, error, self);
}

/* ---- a standalone file ---- */

static void
file_chosen_cb (GtkNativeDialog *dialog, int response, PvWelcome *self)
{
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;

  if (response == GTK_RESPONSE_ACCEPT && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL
      && (path = g_file_get_path (file)) != NULL)
    {
      if (!(store = pv_store_open_existing (path, &error)) || !pv_store_get_event (store, &error)
          || !pv_application_check_station_file (store, &error))
        say (self, error->message);
      else
        {
          g_settings_set_string (self->settings, "database", pv_store_get_path (store));
          stop_camera (self);
          g_signal_emit (self, signals[SIGNAL_OPENED], 0, store);
        }
    }
  g_object_unref (dialog);
}

static void
open_clicked_cb (PvWelcome *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_ ("Open an Event File"), GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Open"), _ ("_Cancel"));

  g_signal_connect (dialog, "response", G_CALLBACK (file_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
back_clicked_cb (PvWelcome *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  stop_camera (self);
  say (self, NULL);
  gtk_stack_set_visible_child_name (self->stack, "choose");
  gtk_widget_set_visible (self->back, FALSE);
}

static void
pair_chosen_cb (PvWelcome *self)
{
  gtk_widget_set_visible (self->back, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "pair");
  gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
  start_camera (self);
}

static void
pv_welcome_dispose (GObject *object)
{
  PvWelcome *self = PV_WELCOME (object);

  stop_camera (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (object), PV_TYPE_WELCOME);
  G_OBJECT_CLASS (pv_welcome_parent_class)->dispose (object);
}

static void
pv_welcome_finalize (GObject *object)
{
  g_free (PV_WELCOME (object)->camera_source);
  G_OBJECT_CLASS (pv_welcome_parent_class)->finalize (object);
}

static void
pv_welcome_class_init (PvWelcomeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_welcome_dispose;
  object_class->finalize = pv_welcome_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-welcome.ui");
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, stack);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, back);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, pair_choice);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, open_choice);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, picture);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, code_entry);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, pair_button);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, message);
  gtk_widget_class_bind_template_child (widget_class, PvWelcome, spinner);
  signals[SIGNAL_OPENED] = g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_OBJECT);
}

static void
pv_welcome_init (PvWelcome *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* How every pairing code begins: a code, not words, so not in the
   * template, whose shown text is all translated. */
  gtk_entry_set_placeholder_text (self->code_entry, "PVPAIR:…");
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->pair_choice, "clicked", G_CALLBACK (pair_chosen_cb), self);
  g_signal_connect_swapped (self->open_choice, "clicked", G_CALLBACK (open_clicked_cb), self);
  g_signal_connect_swapped (self->back, "clicked", G_CALLBACK (back_clicked_cb), self);
  g_signal_connect_swapped (self->pair_button, "clicked", G_CALLBACK (pair_clicked_cb), self);
  g_signal_connect_swapped (self->code_entry, "activate", G_CALLBACK (pair_clicked_cb), self);
}

PvWelcome *
pv_welcome_new (GtkApplication *application, GSettings *settings, const char *camera_source)
{
  PvWelcome *self = g_object_new (PV_TYPE_WELCOME, "application", application, NULL);

  self->settings = g_object_ref (settings);
  self->camera_source = g_strdup (camera_source);
  return self;
}

void
pv_welcome_show_pairing (PvWelcome *self)
{
  pair_chosen_cb (self);
}
