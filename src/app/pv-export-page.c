/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-export-page.c: the exports (see the header). Each export runs as a
 * GTask on a worker thread with a store handle of its own (made read-only),
 * never the window's, so SQLite's WAL lets gates and sync write on while a
 * million rows are read from one snapshot. The worker tells the page how
 * far it got through a flag and an idle on the main context, at most one
 * waiting at a time, so a fast export cannot flood the window with
 * updates. The file is written beside the chosen one under a hidden
 * temporary name and renamed over it only once complete: a cancelled or
 * failed export leaves nothing, and never half of a file someone opens. */
#include "config.h"

#include "pv-export-page.h"

#include <glib/gi18n.h>

#include "pv-api-client.h"
#include "pv-csv.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-export.h"
#include "pv-stats.h"
#include "pv-store.h"

/* The hub answers a list of volunteers at once, or is out of reach. */
#define VOLUNTEERS_BOUND_MS 15000

typedef struct _Job Job;

typedef struct
{
  AdwActionRow *row;
  GtkLabel *count; /* rows it would have now */
  GtkWidget *button;
  GtkWidget *busy; /* the progress bar and Cancel */
  GtkProgressBar *progress;
  Job *job;      /* the export running, or NULL */
  char *outcome; /* what the last one came to, or NULL */
  guint pulse_id;
} Slot;

struct _PvExportPage
{
  AdwBin parent_instance;

  /* template widgets */
  AdwActionRow *tickets_row;
  AdwActionRow *entries_row;
  AdwActionRow *volunteers_row;

  /* owned */
  PvStore *store;
  PvStoreWatch *watch;
  GSettings *settings;
  GtkFileChooserNative *chooser;
  Slot slots[PV_EXPORT_N_KINDS];
  guint counts_id;
};

G_DEFINE_FINAL_TYPE (PvExportPage, pv_export_page, ADW_TYPE_BIN)

/* ---- one export, shared by the page and its worker ---- */

struct _Job
{
  gatomicrefcount refs;
  GWeakRef page; /* read on the main context only */
  PvExportKind kind;
  char *db_path;
  GFile *target;
  GCancellable *cancellable;
  JsonNode *volunteers; /* the hub's answer, for PV_EXPORT_KIND_VOLUNTEERS */
  GMutex lock;          /* guards done and total */
  guint64 done;
  guint64 total;
  int progress_queued;
  guint64 rows; /* written, once done */
};

static Job *
job_ref (Job *job)
{
  g_atomic_ref_count_inc (&job->refs);
  return job;
}

static void
job_unref (Job *job)
{
  if (!g_atomic_ref_count_dec (&job->refs))
    return;
  g_weak_ref_clear (&job->page);
  g_free (job->db_path);
  g_clear_object (&job->target);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->volunteers, json_node_unref);
  g_mutex_clear (&job->lock);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_unref)

/* ---- volunteers as CSV ---- */

/* @name of @o when it holds a value of @type; NULL when absent or null
 * (which is fine unless @required), FALSE when it is something else. */
static gboolean
get_member (JsonObject *o, const char *name, GType type, gboolean required, JsonNode **out)
{
  JsonNode *node = json_object_get_member (o, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return FALSE;
  *out = node;
  return TRUE;
}

static void
append_time (GString *row, PvEvent *event, JsonNode *at)
{
  g_autoptr (GDateTime) local = at ? pv_event_local_time (event, json_node_get_int (at)) : NULL;
  g_autofree char *text = local ? g_date_time_format_iso8601 (local) : NULL;

  pv_csv_append_cell (row, text);
}

static gboolean
append_volunteer (GString *csv, PvEvent *event, JsonNode *element)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
  JsonObject *last = NULL;
  JsonNode *id, *name, *phone, *role, *active, *added_at, *last_at = NULL, *device = NULL, *device_name = NULL;
  JsonNode *last_node;

  if (o == NULL || !get_member (o, "id", G_TYPE_INT64, TRUE, &id) || !get_member (o, "name", G_TYPE_STRING, TRUE, &name)
      || !get_member (o, "phone", G_TYPE_STRING, FALSE, &phone) || !get_member (o, "role", G_TYPE_STRING, TRUE, &role)
      || !get_member (o, "active", G_TYPE_BOOLEAN, FALSE, &active)
      || !get_member (o, "added_at", G_TYPE_INT64, FALSE, &added_at))
    return FALSE;
  last_node = json_object_get_member (o, "last_sign_in");
  if (last_node != NULL && !JSON_NODE_HOLDS_NULL (last_node))
    {
      if (!JSON_NODE_HOLDS_OBJECT (last_node))
        return FALSE;
      last = json_node_get_object (last_node);
      if (!get_member (last, "at", G_TYPE_INT64, TRUE, &last_at)
          || !get_member (last, "device", G_TYPE_INT64, FALSE, &device)
          || !get_member (last, "device_name", G_TYPE_STRING, FALSE, &device_name))
        return FALSE;
    }
  pv_csv_append_number (csv, json_node_get_int (id));
  pv_csv_append_cell (csv, json_node_get_string (name));
  pv_csv_append_cell (csv, phone ? json_node_get_string (phone) : NULL);
  pv_csv_append_cell (csv, json_node_get_string (role));
  pv_csv_append_cell (csv, active == NULL || json_node_get_boolean (active) ? "yes" : "no");
  append_time (csv, event, added_at);
  append_time (csv, event, last_at);
  if (device_name != NULL)
    pv_csv_append_cell (csv, json_node_get_string (device_name));
  else if (device != NULL)
    {
      g_autofree char *text = g_strdup_printf ("#%" G_GINT64_FORMAT, json_node_get_int (device));
      pv_csv_append_cell (csv, text);
    }
  else
    pv_csv_append_cell (csv, NULL);
  pv_csv_end_row (csv);
  return TRUE;
}

gboolean
pv_export_volunteers_csv (JsonNode *answer, PvEvent *event, GOutputStream *out, guint64 *out_rows,
                          GCancellable *cancellable, GError **error)
{
  static const char *const header[] = {
    "id",
    "name",
    "phone",
    "role",
    "active",
    "added_at",
    "last_sign_in",
    "last_sign_in_device",
    NULL,
  };
  JsonObject *root = answer && JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  JsonNode *list = root ? json_object_get_member (root, "volunteers") : NULL;
  g_autoptr (GString) csv = g_string_new (NULL);
  JsonArray *array;
  guint n;

  g_return_val_if_fail (PV_IS_EVENT (event), FALSE);
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                                _ ("The hub’s answer holds no list of volunteers")),
           FALSE;
  for (guint i = 0; header[i]; i++)
    pv_csv_append_cell (csv, header[i]);
  pv_csv_end_row (csv);
  /* A few hundred people: checked whole before a byte is written. */
  array = json_node_get_array (list);
  n = json_array_get_length (array);
  for (guint i = 0; i < n; i++)
    if (!append_volunteer (csv, event, json_array_get_element (array, i)))
      return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED,
                          _ ("Volunteer %u in the hub’s answer is not a volunteer as this version knows one"), i + 1),
             FALSE;
  if (!g_output_stream_write_all (out, csv->str, csv->len, NULL, cancellable, error))
    return FALSE;
  if (out_rows)
    *out_rows = n;
  return TRUE;
}

/* ---- the worker ---- */

/* A hidden file beside @target, made for us alone. */
static GFileOutputStream *
create_part (GFile *target, GFile **out_part, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) dir = g_file_get_parent (target);
  g_autofree char *base = g_file_get_basename (target);

  if (dir == NULL)
    return g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, _ ("Choose a file, not a folder")), NULL;
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *name = g_strdup_printf (".%s.%08x.part", base, g_random_int ());
      g_autoptr (GFile) part = g_file_get_child (dir, name);
      g_autoptr (GError) local = NULL;
      GFileOutputStream *out = g_file_create (part, G_FILE_CREATE_NONE, cancellable, &local);

      if (out != NULL)
        {
          *out_part = g_steal_pointer (&part);
          return out;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_autofree char *folder = g_file_get_parse_name (dir);

          /* Said of the folder chosen, not of a temporary name. */
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("The folder %s is not there"), folder);
          else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, _ ("This account may not write into %s"),
                         folder);
          else
            g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _ ("Cannot make a temporary file beside %s"), base);
  return NULL;
}

static gboolean show_progress_cb (gpointer user_data);

/* On the worker: note how far, and wake the page unless it is already
 * woken. */
static void
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  Job *job = user_data;

  g_mutex_lock (&job->lock);
  job->done = done;
  job->total = total;
  g_mutex_unlock (&job->lock);
  if (g_atomic_int_compare_and_exchange (&job->progress_queued, 0, 1))
    g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, show_progress_cb, job_ref (job),
                                (GDestroyNotify) job_unref);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GFile) part = NULL;
  g_autoptr (GFileOutputStream) out = NULL;
  guint64 rows = 0;
  gboolean ok = FALSE;

  /* Its own handle, that cannot write even by mistake. */
  if (!(store = pv_store_open_existing (job->db_path, &error)) || !pv_store_forbid_writes (store, &error)
      || !(out = create_part (job->target, &part, cancellable, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  switch (job->kind)
    {
    case PV_EXPORT_KIND_TICKETS:
    case PV_EXPORT_KIND_ENTRIES:
      ok = pv_export_table (store, job->kind == PV_EXPORT_KIND_TICKETS ? PV_EXPORT_TICKETS : PV_EXPORT_ENTRIES,
                            G_OUTPUT_STREAM (out), progress_cb, job, &rows, cancellable, &error);
      break;
    case PV_EXPORT_KIND_VOLUNTEERS:
      {
        PvEvent *event = pv_store_get_event (store, &error);

        ok = event != NULL
             && pv_export_volunteers_csv (job->volunteers, event, G_OUTPUT_STREAM (out), &rows, cancellable, &error);
        break;
      }
    case PV_EXPORT_N_KINDS:
    default:
      g_assert_not_reached ();
    }
  /* The rename is not cancelled: once the file is whole, it is kept. */
  ok = ok && g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, &error)
       && g_file_move (part, job->target, G_FILE_COPY_OVERWRITE | G_FILE_COPY_NO_FALLBACK_FOR_MOVE, NULL, NULL, NULL,
                       &error);
  if (!ok)
    {
      g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL);
      g_file_delete (part, NULL, NULL);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job->rows = rows;
  g_task_return_boolean (task, TRUE);
}

/* ---- the rows ---- */

static Slot *
slot_of (PvExportPage *self, PvExportKind kind)
{
  g_return_val_if_fail ((guint) kind < PV_EXPORT_N_KINDS, NULL);
  return &self->slots[kind];
}

/* What each file holds, in a line. */
static const char *
describe (PvExportPage *self, PvExportKind kind)
{
  g_autofree char *hub = NULL;

  switch (kind)
    {
    case PV_EXPORT_KIND_TICKETS:
      return _ ("Serial, category, day, people, channel, name, phone, revoked");
    case PV_EXPORT_KIND_ENTRIES:
      return _ ("Time, gate, entry or exit, ticket, device, online or offline, double");
    case PV_EXPORT_KIND_VOLUNTEERS:
      hub = pv_store_dup_meta_string (self->store, PV_META_HUB_URL);
      return hub ? _ ("Name, phone, role and last sign-in, fetched from the hub")
                 : _ ("Kept on the hub, and this station is not paired with one");
    case PV_EXPORT_N_KINDS:
    default:
      g_return_val_if_reached (NULL);
    }
}

/* How many rows the file would have now; NULL where that is not known
 * here. The tickets are the dashboard's own total (pv_stats_totals). */
static char *
count_text (PvExportPage *self, PvExportKind kind)
{
  PvTotals totals;
  gint64 n;

  switch (kind)
    {
    case PV_EXPORT_KIND_TICKETS:
      if (!pv_stats_totals (self->store, NULL, &totals, NULL))
        return NULL;
      n = totals.tickets;
      return g_strdup_printf (ngettext ("%'lld ticket", "%'lld tickets", (gulong) n), (long long) n);
    case PV_EXPORT_KIND_ENTRIES:
      /* A row is a scan, entry or exit, and a group's scan is one row:
       * rows, not people (the people are said under the row). */
      if ((n = pv_stats_count_scans (self->store, NULL)) < 0)
        return NULL;
      return g_strdup_printf (ngettext ("%'lld row", "%'lld rows", (gulong) n), (long long) n);
    case PV_EXPORT_KIND_VOLUNTEERS:
    case PV_EXPORT_N_KINDS:
    default:
      return NULL;
    }
}

/* The people the entries file accounts for, in the dashboard's words and
 * from its figures; NULL for the other files. */
static char *
people_text (PvExportPage *self, PvExportKind kind)
{
  PvTotals totals;
  g_autofree char *entries = NULL, *exits = NULL;

  if (kind != PV_EXPORT_KIND_ENTRIES || !pv_stats_totals (self->store, NULL, &totals, NULL))
    return NULL;
  entries = g_strdup_printf ("%'" G_GINT64_FORMAT, totals.entries);
  exits = g_strdup_printf ("%'" G_GINT64_FORMAT, totals.exits);
  /* Translators: people, not rows: a group's ticket counts its party. */
  return g_strdup_printf (_ ("%s entries since the start, re-entries too · %s exits"), entries, exits);
}

static void
update_row (PvExportPage *self, PvExportKind kind)
{
  Slot *slot = slot_of (self, kind);
  g_autofree char *subtitle = NULL, *count = NULL;

  if (slot->job != NULL)
    {
      g_autofree char *name = g_file_get_basename (slot->job->target);
      /* Translators: an export in progress, into the file named. */
      subtitle = g_strdup_printf (_ ("Writing %s…"), name);
    }
  else
    {
      g_autofree char *people = people_text (self, kind);
      GString *text = g_string_new (describe (self, kind));

      if (people != NULL)
        g_string_append_printf (text, "\n%s", people);
      if (slot->outcome != NULL)
        g_string_append_printf (text, "\n%s", slot->outcome);
      subtitle = g_string_free (text, FALSE);
    }
  adw_action_row_set_subtitle (slot->row, subtitle);
  count = slot->job == NULL ? count_text (self, kind) : NULL;
  gtk_label_set_text (slot->count, count ? count : "");
  gtk_widget_set_visible (GTK_WIDGET (slot->count), count != NULL);
  gtk_widget_set_visible (slot->button, slot->job == NULL);
  gtk_widget_set_visible (slot->busy, slot->job != NULL);
  if (kind == PV_EXPORT_KIND_VOLUNTEERS && slot->job == NULL)
    {
      g_autofree char *hub = pv_store_dup_meta_string (self->store, PV_META_HUB_URL);
      gtk_widget_set_sensitive (slot->button, hub != NULL);
    }
}

static gboolean
show_progress_cb (gpointer user_data)
{
  Job *job = user_data;
  g_autoptr (PvExportPage) self = g_weak_ref_get (&job->page);
  g_autofree char *text = NULL;
  guint64 done, total;

  g_atomic_int_set (&job->progress_queued, 0);
  if (self == NULL || self->slots[job->kind].job != job)
    return G_SOURCE_REMOVE;
  g_mutex_lock (&job->lock);
  done = job->done;
  total = job->total;
  g_mutex_unlock (&job->lock);
  g_clear_handle_id (&self->slots[job->kind].pulse_id, g_source_remove);
  gtk_progress_bar_set_fraction (self->slots[job->kind].progress, total ? (double) done / (double) total : 0);
  /* Translators: rows written so far and rows in all, "45,000 of 100,000". */
  text = g_strdup_printf (_ ("%'llu of %'llu"), (unsigned long long) done,
                          (unsigned long long) total);
  gtk_progress_bar_set_text (self->slots[job->kind].progress, text);
  return G_SOURCE_REMOVE;
}

static void
say (PvExportPage *self, const char *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static void
finish (PvExportPage *self, Job *job, const GError *error)
{
  Slot *slot = slot_of (self, job->kind);
  g_autofree char *where = g_file_get_parse_name (job->target);

  g_clear_handle_id (&slot->pulse_id, g_source_remove);
  g_clear_pointer (&slot->outcome, g_free);
  if (error == NULL)
    {
      gulong n = (gulong) job->rows;

      switch (job->kind)
        {
        case PV_EXPORT_KIND_TICKETS:
          slot->outcome = g_strdup_printf (ngettext ("Saved %'llu ticket to %s",
                                                     "Saved %'llu tickets to %s", n),
                                           (unsigned long long) job->rows, where);
          break;
        case PV_EXPORT_KIND_ENTRIES:
          slot->outcome = g_strdup_printf (ngettext ("Saved %'llu row to %s", "Saved %'llu rows to %s", n),
                                           (unsigned long long) job->rows, where);
          break;
        case PV_EXPORT_KIND_VOLUNTEERS:
        case PV_EXPORT_N_KINDS:
        default:
          slot->outcome = g_strdup_printf (ngettext ("Saved %'llu volunteer to %s",
                                                     "Saved %'llu volunteers to %s", n),
                                           (unsigned long long) job->rows, where);
          break;
        }
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    slot->outcome = g_strdup (_ ("Export cancelled: no file was written"));
  else
    /* Translators: why an export failed, in the words of what failed. */
    slot->outcome = g_strdup_printf (_ ("Not saved: %s"), error->message);
  g_clear_pointer (&slot->job, job_unref);
  update_row (self, job->kind);
  say (self, slot->outcome);
}

static void
exported_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Job) job = user_data;
  g_autoptr (PvExportPage) self = g_weak_ref_get (&job->page);
  g_autoptr (GError) error = NULL;

  g_task_propagate_boolean (G_TASK (result), &error);
  if (self != NULL && self->slots[job->kind].job == job)
    finish (self, job, error);
}

static void
run_job (Job *job)
{
  g_autoptr (GTask) task = g_task_new (NULL, job->cancellable, exported_cb, job_ref (job));

  g_task_set_task_data (task, job_ref (job), (GDestroyNotify) job_unref);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, export_thread);
}

/* Why the hub gave no list, in words a control room can act on. */
static GError *
hub_error_in_words (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (g_error_matches (error, PV_ERROR, PV_ERROR_NOT_FOUND))
    return g_error_new_literal (PV_ERROR, PV_ERROR_NOT_FOUND,
                                _ ("Only the hub keeps the volunteers, and this station is not paired with one"));
  if (error->domain == PV_ERROR)
    return g_error_copy (error); /* the hub answered, in its own words */
  return g_error_new (PV_ERROR, PV_ERROR_NOT_FOUND,
                      _ ("The hub is out of reach (%s). Only the hub keeps the volunteers: try again when this "
                         "station is online."),
                      error->message);
}

static void
volunteers_fetched_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Job) job = user_data;
  g_autoptr (PvExportPage) self = g_weak_ref_get (&job->page);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_call_finish (result, &error);

  if (self == NULL || self->slots[job->kind].job != job)
    return;
  if (answer == NULL)
    {
      g_autoptr (GError) said = hub_error_in_words (error);
      finish (self, job, said);
      return;
    }
  job->volunteers = g_steal_pointer (&answer);
  gtk_progress_bar_set_text (self->slots[job->kind].progress, _ ("Writing…"));
  run_job (job);
}

static gboolean
pulse_cb (gpointer user_data)
{
  gtk_progress_bar_pulse (user_data);
  return G_SOURCE_CONTINUE;
}

void
pv_export_page_export_to (PvExportPage *self, PvExportKind kind, GFile *file)
{
  Slot *slot;
  Job *job;

  g_return_if_fail (PV_IS_EXPORT_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));
  if ((slot = slot_of (self, kind)) == NULL || slot->job != NULL)
    return;
  job = g_new0 (Job, 1);
  g_atomic_ref_count_init (&job->refs);
  g_weak_ref_init (&job->page, self);
  g_mutex_init (&job->lock);
  job->kind = kind;
  job->db_path = g_strdup (pv_store_get_path (self->store));
  job->target = g_object_ref (file);
  job->cancellable = g_cancellable_new ();
  slot->job = job;
  gtk_progress_bar_set_fraction (slot->progress, 0);
  update_row (self, kind);
  if (kind != PV_EXPORT_KIND_VOLUNTEERS)
    {
      gtk_progress_bar_set_text (slot->progress, _ ("Counting…"));
      run_job (job);
      return;
    }
  gtk_progress_bar_set_text (slot->progress, _ ("Asking the hub…"));
  slot->pulse_id = g_timeout_add (150, pulse_cb, slot->progress);
  /* The token is signed with this store's key here, on this thread. */
  pv_api_call_async (self->store, NULL, NULL, "/api/v1/volunteers", NULL, VOLUNTEERS_BOUND_MS, job->cancellable,
                     volunteers_fetched_cb, job_ref (job));
}

void
pv_export_page_cancel (PvExportPage *self, PvExportKind kind)
{
  Slot *slot = slot_of (self, kind);

  if (slot != NULL && slot->job != NULL)
    g_cancellable_cancel (slot->job->cancellable);
}

gboolean
pv_export_page_is_busy (PvExportPage *self, PvExportKind kind)
{
  Slot *slot = slot_of (self, kind);

  return slot != NULL && slot->job != NULL;
}

AdwActionRow *
pv_export_page_get_row (PvExportPage *self, PvExportKind kind)
{
  Slot *slot = slot_of (self, kind);

  return slot ? slot->row : NULL;
}

GtkProgressBar *
pv_export_page_get_progress (PvExportPage *self, PvExportKind kind)
{
  Slot *slot = slot_of (self, kind);

  return slot ? slot->progress : NULL;
}

/* ---- choosing the file ---- */

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, PvExportPage *self)
{
  PvExportKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "kind"));
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (chooser == GTK_NATIVE_DIALOG (self->chooser))
    g_clear_object (&self->chooser);
  if (file != NULL)
    pv_export_page_export_to (self, kind, file);
}

static void
export_clicked_cb (GtkButton *button, PvExportPage *self)
{
  static const char *const names[] = { "tickets", "entries", "volunteers" };
  PvExportKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "kind"));
  PvEvent *event = pv_store_get_event (self->store, NULL);
  g_autoptr (GDateTime) now = event ? pv_event_local_time (event, pv_store_now (self->store)) : NULL;
  g_autofree char *date = now ? g_date_time_format (now, "%F") : g_strdup ("export");
  g_autofree char *name = g_strdup_printf ("pravesh-%s-%s.csv", names[kind], date);
  g_autofree char *title = g_strdup_printf (_ ("Export %s"), adw_preferences_row_get_title (ADW_PREFERENCES_ROW (
                                                               slot_of (self, kind)->row)));
  GtkFileFilter *filter = gtk_file_filter_new ();
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  self->chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_file_filter_set_name (filter, _ ("CSV files"));
  gtk_file_filter_add_mime_type (filter, "text/csv");
  gtk_file_filter_add_suffix (filter, "csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_object_unref (filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data (G_OBJECT (self->chooser), "kind", GINT_TO_POINTER (kind));
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
cancel_clicked_cb (GtkButton *button, PvExportPage *self)
{
  pv_export_page_cancel (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "kind")));
}

/* ---- life cycle ---- */

static gboolean
update_counts_cb (gpointer user_data)
{
  PvExportPage *self = user_data;

  self->counts_id = 0;
  for (guint k = 0; k < PV_EXPORT_N_KINDS; k++)
    if (self->slots[k].job == NULL)
      update_row (self, k);
  return G_SOURCE_REMOVE;
}

/* The counts in the rows follow the replica, every two seconds at most. */
static void
store_changed_cb (PvStoreWatch *watch, PvExportPage *self)
{
  if (self->counts_id == 0)
    self->counts_id = g_timeout_add_seconds (2, update_counts_cb, self);
}

static void
pv_export_page_dispose (GObject *object)
{
  PvExportPage *self = PV_EXPORT_PAGE (object);

  /* A worker still running finds the page gone, and cleans up after
   * itself: its temporary file is removed. */
  for (guint k = 0; k < PV_EXPORT_N_KINDS; k++)
    {
      Slot *slot = &self->slots[k];

      if (slot->job != NULL)
        g_cancellable_cancel (slot->job->cancellable);
      g_clear_pointer (&slot->job, job_unref);
      g_clear_handle_id (&slot->pulse_id, g_source_remove);
    }
  g_clear_handle_id (&self->counts_id, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->watch != NULL)
    g_signal_handlers_disconnect_by_data (self->watch, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_EXPORT_PAGE);
  g_clear_object (&self->watch);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (pv_export_page_parent_class)->dispose (object);
}

static void
pv_export_page_finalize (GObject *object)
{
  PvExportPage *self = PV_EXPORT_PAGE (object);

  for (guint k = 0; k < PV_EXPORT_N_KINDS; k++)
    g_free (self->slots[k].outcome);
  G_OBJECT_CLASS (pv_export_page_parent_class)->finalize (object);
}

static void
pv_export_page_class_init (PvExportPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_export_page_dispose;
  object_class->finalize = pv_export_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-export-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvExportPage, tickets_row);
  gtk_widget_class_bind_template_child (widget_class, PvExportPage, entries_row);
  gtk_widget_class_bind_template_child (widget_class, PvExportPage, volunteers_row);
}

static void
pv_export_page_init (PvExportPage *self)
{
  AdwActionRow *rows[PV_EXPORT_N_KINDS];

  gtk_widget_init_template (GTK_WIDGET (self));
  rows[PV_EXPORT_KIND_TICKETS] = self->tickets_row;
  rows[PV_EXPORT_KIND_ENTRIES] = self->entries_row;
  rows[PV_EXPORT_KIND_VOLUNTEERS] = self->volunteers_row;
  for (guint k = 0; k < PV_EXPORT_N_KINDS; k++)
    {
      Slot *slot = &self->slots[k];
      GtkWidget *cancel;

      slot->row = rows[k];
      slot->count = GTK_LABEL (gtk_label_new (NULL));
      gtk_widget_add_css_class (GTK_WIDGET (slot->count), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (slot->count), "numeric");
      adw_action_row_add_suffix (slot->row, GTK_WIDGET (slot->count));
      slot->button = gtk_button_new_with_mnemonic (_ ("_Export…"));
      gtk_widget_set_valign (slot->button, GTK_ALIGN_CENTER);
      g_object_set_data (G_OBJECT (slot->button), "kind", GINT_TO_POINTER (k));
      g_signal_connect (slot->button, "clicked", G_CALLBACK (export_clicked_cb), self);
      adw_action_row_add_suffix (slot->row, slot->button);

      slot->busy = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      slot->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
      gtk_progress_bar_set_show_text (slot->progress, TRUE);
      gtk_widget_set_size_request (GTK_WIDGET (slot->progress), 200, -1);
      gtk_widget_set_valign (GTK_WIDGET (slot->progress), GTK_ALIGN_CENTER);
      gtk_box_append (GTK_BOX (slot->busy), GTK_WIDGET (slot->progress));
      cancel = gtk_button_new_with_mnemonic (_ ("_Cancel"));
      gtk_widget_set_valign (cancel, GTK_ALIGN_CENTER);
      g_object_set_data (G_OBJECT (cancel), "kind", GINT_TO_POINTER (k));
      g_signal_connect (cancel, "clicked", G_CALLBACK (cancel_clicked_cb), self);
      gtk_box_append (GTK_BOX (slot->busy), cancel);
      gtk_widget_set_visible (slot->busy, FALSE);
      adw_action_row_add_suffix (slot->row, slot->busy);
    }
}

GtkWidget *
pv_export_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings)
{
  PvExportPage *self = g_object_new (PV_TYPE_EXPORT_PAGE, NULL);

  self->store = g_object_ref (store);
  self->watch = watch ? g_object_ref (watch) : NULL;
  if (watch != NULL)
    g_signal_connect (watch, "changed", G_CALLBACK (store_changed_cb), self);
  self->settings = settings ? g_object_ref (settings) : NULL;
  for (guint k = 0; k < PV_EXPORT_N_KINDS; k++)
    update_row (self, k);
  return GTK_WIDGET (self);
}
