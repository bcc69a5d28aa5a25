/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-demo.c: the demo fair (see the header). The hub's file is built on a
 * worker thread in one transaction; the hub is the real pravesh-hub,
 * started beside this program; the station pairs with a real one-time
 * code, as a volunteer's laptop would. */
#include "config.h"

#include "pv-demo.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "pv-admission.h"
#include "pv-api-client.h"
#include "pv-channels.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-pairing.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-volunteers.h"

#define DEMO_TICKETS 3000
#define DEMO_EVENT_ID 0xde3001u
/* Turns of the demo camera (PV_DEMO_CODE_SECONDS each) with nobody in
 * front of it after each ticket. */
#define DEMO_PAUSE_TURNS 2

struct _PvDemo
{
  GObject parent_instance;

  char *dir;
  char *hub_db;
  char *hub_url;
  GSubprocess *hub;
  GPtrArray *codes; /* NULL-terminated */
  PvRole role;
};

G_DEFINE_FINAL_TYPE (PvDemo, pv_demo, G_TYPE_OBJECT)

/* ---- the hub's file ---- */

/* A visitor count through the day: a morning rush, a lull at lunch, an
 * evening crowd. */
static double
crowd_at (double hour)
{
  double morning = exp (-pow ((hour - 11.5) / 1.3, 2));
  double evening = 1.2 * exp (-pow ((hour - 17.0) / 1.6, 2));

  return hour < 10 || hour >= 20 ? 0 : 0.15 + morning + evening;
}

/* The demo's fair is somewhere it is mid-afternoon now, whatever the hour
 * here, so the dashboard shows a day well under way: a fixed-offset zone
 * ("Etc/GMT-5" is UTC+5) chosen to put the local time near 15:30. */
static char *
afternoon_timezone (void)
{
  g_autoptr (GDateTime) utc = g_date_time_new_now_utc ();
  int offset = (15 - g_date_time_get_hour (utc) + 24) % 24;

  if (offset > 14)
    offset -= 24;
  return offset == 0 ? g_strdup ("Etc/UTC") : g_strdup_printf ("Etc/GMT%+d", -offset);
}

static gboolean
build_hub (PvDemo *self, GError **error)
{
  g_autofree char *zone = afternoon_timezone ();
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr (GDateTime) now = g_date_time_new_now (tz);
  g_autoptr (GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autofree char *start = g_date_time_format (yesterday, "%F");
  g_autoptr (PvEvent) event = pv_event_new (DEMO_EVENT_ID, _ ("National Book Fair (demo)"), start, 9, error);
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261128);
  /* In the language the demo is shown in, as its event's name is. */
  static const char *const gates[] = { N_ ("Gate 1"), N_ ("Gate 2"), N_ ("Gate 3"), N_ ("Gate 4") };
  static const char *const channels[] = { "web", "web", "web", "whatsapp", "whatsapp", "desk", "import" };
  GPtrArray *categories;
  gint64 now_us = g_get_real_time ();
  guint n_codes = 0;

  if (event == NULL)
    return FALSE;
  pv_event_set_venue (event, _ ("Pragati Maidan, New Delhi"));
  /* What the fire marshal allows inside at once: the dashboard's tile. */
  pv_event_set_capacity (event, 3200);
  if (!pv_event_set_timezone (event, zone, error))
    return FALSE;
  /* Open round the clock so the demo's gates admit at any hour; the
   * entries below follow real opening hours. */
  if (!pv_event_set_hours (event, -1, 0, 24 * 60, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (gates); i++)
    if (!pv_event_add_gate (event, _ (gates[i]), error))
      return FALSE;
  pv_event_add_default_categories (event);
  categories = pv_event_get_categories (event);
  if (!(store = pv_store_open (self->hub_db, error)) || !pv_channels_prepare_store (store, error)
      || !pv_devices_create_event (store, event, _ ("Demo hub"), error) || !pv_store_begin (store, TRUE, error))
    return FALSE;

  for (guint t = 0; t < DEMO_TICKETS; t++)
    {
      const PvCategory *category = g_ptr_array_index (categories, g_rand_int_range (rand, 0, (int) categories->len));
      int day = g_rand_int_range (rand, 0, 2); /* yesterday or today */
      PvIssueRequest request = {
        .category = category->name,
        .day = category->validity == PV_VALIDITY_CHOSEN_DAY ? day : -1,
        .party = category->max_party > 1 ? (guint) g_rand_int_range (rand, 10, 45) : 1,
        .channel = channels[g_rand_int_range (rand, 0, G_N_ELEMENTS (channels))],
      };
      g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, error);
      PvIssuedTicket *ticket;
      gint64 at;
      double hour;

      if (issued == NULL)
        goto fail;
      ticket = g_ptr_array_index (issued, 0);
      /* Most come on their day, at a time the crowd curve picks; some
       * never come; today's only up to now. */
      if (g_rand_double (rand) < 0.15)
        goto keep;
      do
        hour = g_rand_double_range (rand, 10, 20);
      while (g_rand_double (rand) * 2.2 > crowd_at (hour));
      at = pv_event_time_of (event, day, (guint) (hour * 60));
      if (at > now_us)
        goto keep;
      {
        PvDecision decision = { 0 };
        gboolean ok = pv_admission_scan (store, ticket->code, _ (gates[g_rand_int_range (rand, 0, G_N_ELEMENTS (gates))]),
                                         at, FALSE, FALSE, &decision, error);
        pv_decision_clear (&decision);
        if (!ok)
          goto fail;
        /* Most leave after one to four hours, so "inside" rises and falls. */
        if (g_rand_double (rand) < 0.9)
          {
            gint64 out = at + (gint64) (g_rand_double_range (rand, 1, 4) * G_TIME_SPAN_HOUR);

            if (out <= now_us)
              {
                ok = pv_admission_scan (store, ticket->code, _ (gates[g_rand_int_range (rand, 0, G_N_ELEMENTS (gates))]),
                                        out, TRUE, FALSE, &decision, error);
                pv_decision_clear (&decision);
                if (!ok)
                  goto fail;
              }
          }
        /* One used ticket for the camera to refuse. */
        if (day == 1 && n_codes == 3)
          g_ptr_array_add (self->codes, g_strdup (ticket->code)), n_codes++;
        continue;
      }
    keep:
      /* A few of today's unused tickets for the camera to admit. */
      if (day == 1 && n_codes < 3 && category->validity == PV_VALIDITY_CHOSEN_DAY)
        g_ptr_array_add (self->codes, g_strdup (ticket->code)), n_codes++;
    }
  /* One for tomorrow (wrong day), one forged (a signature byte changed). */
  {
    PvIssueRequest request = { .category = "One-day", .day = 2, .channel = "web" };
    g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, error);
    char *forged;

    if (issued == NULL)
      goto fail;
    g_ptr_array_add (self->codes, g_strdup (((PvIssuedTicket *) g_ptr_array_index (issued, 0))->code));
    forged = g_strdup (g_ptr_array_index (self->codes, 0));
    forged[strlen (forged) - 8] = forged[strlen (forged) - 8] == 'A' ? 'B' : 'A';
    g_ptr_array_add (self->codes, forged);
  }
  /* Pauses before and between the tickets, longer than a verdict stays,
   * so a newcomer sees the idle page — the camera's picture, the count,
   * exit mode — and not only one verdict after another. */
  {
    g_autoptr (GPtrArray) tickets = g_steal_pointer (&self->codes);

    self->codes = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (self->codes, g_strdup (""));
    for (guint i = 0; i < tickets->len; i++)
      {
        g_ptr_array_add (self->codes, g_strdup (g_ptr_array_index (tickets, i)));
        for (guint k = 0; k < DEMO_PAUSE_TURNS; k++)
          g_ptr_array_add (self->codes, g_strdup (""));
      }
  }
  g_ptr_array_add (self->codes, NULL);
  /* Volunteers for the control room's page (they live at the hub). */
  /* Translators: the demo's two volunteers, names written as in your language. */
  if (!pv_volunteers_add (store, _ ("Asha Verma"), "+919810000001", PV_ROLE_DESK, NULL, error)
      || !pv_volunteers_add (store, _ ("Ravi Kumar"), "+919810000002", PV_ROLE_GATE, NULL, error))
    goto fail;
  return pv_store_commit (store, error);

fail:
  pv_store_rollback (store);
  return FALSE;
}

static void
build_hub_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;

  if (!build_hub (source, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/* ---- the hub process ---- */

/* pravesh-hub beside this program (installed, or in the build tree). */
static char *
find_hub (void)
{
  g_autofree char *self_path = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self_path ? g_path_get_dirname (self_path) : NULL;
  const char *const tries[] = { "pravesh-hub", "../hub/pravesh-hub", "../src/hub/pravesh-hub" };

  for (guint i = 0; dir != NULL && i < G_N_ELEMENTS (tries); i++)
    {
      g_autofree char *path = g_build_filename (dir, tries[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }
  return g_find_program_in_path ("pravesh-hub");
}

static void
paired_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  PvStore *store = pv_pair_finish (result, NULL, &error);

  if (store == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, store, g_object_unref);
}

static void
hub_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PvDemo *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                                     &error);
  g_autofree char *code_text = NULL, *station_db = NULL;
  g_autoptr (PvStore) hub = NULL;
  PvPairingCode code = { 0 };

  if (line == NULL || !g_str_has_prefix (line, "listening "))
    {
      if (error == NULL)
        g_set_error_literal (&error, PV_ERROR, PV_ERROR_STORE, _ ("The demo hub did not start"));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self->hub_url = g_strdup (line + strlen ("listening "));
  /* What an organiser does with `pravesh-ctl device invite`: a station
   * that scans is told its gate. */
  if (!(hub = pv_store_open_existing (self->hub_db, &error))
      || !pv_invite_create (hub, self->role, _ ("Demo station"), self->role == PV_ROLE_DESK ? NULL : _ ("Gate 1"),
                            (gint64) 3600 * G_USEC_PER_SEC, self->hub_url, NULL, &code, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  code_text = pv_pairing_code_format (&code);
  pv_pairing_code_clear (&code);
  station_db = g_build_filename (self->dir, "station.db", NULL);
  pv_pair_async (station_db, code_text, g_task_get_cancellable (task), paired_cb, g_object_ref (task));
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
built_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PvDemo *self = PV_DEMO (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *hub_path = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!(hub_path = find_hub ()))
    {
      g_task_return_new_error (task, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("pravesh-hub is not installed beside pravesh"));
      return;
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* The demo's hub never outlives the app, even one that crashed. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  self->hub = g_subprocess_launcher_spawn (launcher, &error, hub_path, "--db", self->hub_db, "--listen", "127.0.0.1:0",
                                           NULL);
  if (self->hub == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->hub));
  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), hub_line_cb,
                                       g_object_ref (task));
}

void
pv_demo_start_async (PvDemo *self, PvRole role, GCancellable *cancellable, GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (GTask) build = NULL;
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  self->role = role;
  build = g_task_new (self, cancellable, built_cb, task);
  g_task_run_in_thread (build, build_hub_thread);
}

PvStore *
pv_demo_start_finish (PvDemo *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *const *
pv_demo_get_codes (PvDemo *self)
{
  return (const char *const *) self->codes->pdata;
}

const char *
pv_demo_get_hub_url (PvDemo *self)
{
  return self->hub_url;
}

/* ---- life cycle ---- */

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_remove (child);
    }
  g_rmdir (path);
}

static void
pv_demo_finalize (GObject *object)
{
  PvDemo *self = PV_DEMO (object);

  if (self->hub != NULL)
    {
      /* SIGTERM: the hub answers what it decided, then leaves. */
      g_subprocess_send_signal (self->hub, SIGTERM);
      g_subprocess_wait (self->hub, NULL, NULL);
      g_object_unref (self->hub);
    }
  if (self->dir != NULL)
    remove_tree (self->dir);
  g_free (self->dir);
  g_free (self->hub_db);
  g_free (self->hub_url);
  g_ptr_array_unref (self->codes);
  G_OBJECT_CLASS (pv_demo_parent_class)->finalize (object);
}

static void
pv_demo_class_init (PvDemoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pv_demo_finalize;
}

static void
pv_demo_init (PvDemo *self)
{
  self->codes = g_ptr_array_new_with_free_func (g_free);
}

PvDemo *
pv_demo_new (GError **error)
{
  g_autoptr (PvDemo) self = g_object_new (PV_TYPE_DEMO, NULL);

  if (!(self->dir = g_dir_make_tmp ("pravesh-demo-XXXXXX", error)))
    return NULL;
  self->hub_db = g_build_filename (self->dir, "hub.db", NULL);
  return g_steal_pointer (&self);
}
