/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-event.c: the pravesh-ctl commands that set an event up — creating
 * it, showing it, its ticket categories — and the devices that work it:
 * enrolling a gate or desk into its own replica file, listing, revoking.
 * Configuration changes go through the ledger like everything else, so they
 * reach every replica by the same merge. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "pv-channels.h"
#include "pv-ctl.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-hlc.h"
#include "pv-ledger.h"
#include "pv-outbox.h"
#include "pv-pairing.h"
#include "pv-volunteers.h"

/* ---- shared output ---- */

static void
add_category_json (JsonBuilder *builder, const PvCategory *category)
{
  json_builder_begin_object (builder);
  pv_json_add_int (builder, "id", category->id);
  pv_json_add_string (builder, "name", category->name);
  pv_json_add_string (builder, "validity", pv_validity_to_string (category->validity));
  if (category->entries_per_day)
    pv_json_add_int (builder, "entries_per_day", category->entries_per_day);
  else
    pv_json_add_string (builder, "entries_per_day", "unlimited");
  pv_json_add_bool (builder, "reentry", category->reentry);
  if (category->gates)
    pv_ctl_json_add_strv (builder, "gates", (const char *const *) category->gates);
  else
    pv_json_add_string (builder, "gates", "all");
  pv_json_add_int (builder, "max_party", category->max_party);
  json_builder_end_object (builder);
}

static void
add_categories_json (JsonBuilder *builder, PvEvent *event)
{
  GPtrArray *categories = pv_event_get_categories (event);

  json_builder_set_member_name (builder, "categories");
  json_builder_begin_array (builder);
  for (guint i = 0; i < categories->len; i++)
    add_category_json (builder, g_ptr_array_index (categories, i));
  json_builder_end_array (builder);
}

static JsonNode *
event_to_json (PvStore *store, PvEvent *event)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *id = g_strdup_printf ("%08x", pv_event_get_id (event));
  g_autofree char *first = pv_event_day_date (event, 0);
  g_autofree char *last = pv_event_day_date (event, (int) pv_event_get_n_days (event) - 1);
  const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "id", id);
  pv_json_add_string (builder, "name", pv_event_get_name (event));
  pv_json_add_string (builder, "venue", pv_event_get_venue (event));
  pv_json_add_string (builder, "timezone", pv_event_get_timezone (event));
  pv_json_add_int (builder, "days", pv_event_get_n_days (event));
  pv_json_add_string (builder, "start", first);
  pv_json_add_string (builder, "end", last);
  json_builder_set_member_name (builder, "dates");
  json_builder_begin_array (builder);
  for (guint day = 0; day < pv_event_get_n_days (event); day++)
    {
      g_autofree char *date = pv_event_day_date (event, (int) day);
      json_builder_add_string_value (builder, date);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "hours");
  json_builder_begin_array (builder);
  for (guint day = 0; day < pv_event_get_n_days (event); day++)
    {
      g_autofree char *date = pv_event_day_date (event, (int) day);
      g_autofree char *open_text = NULL, *close_text = NULL;
      guint open, close;

      pv_event_get_hours (event, day, &open, &close);
      open_text = pv_ctl_format_minutes (open);
      close_text = pv_ctl_format_minutes (close);
      json_builder_begin_object (builder);
      pv_json_add_string (builder, "date", date);
      pv_json_add_string (builder, "open", open_text);
      pv_json_add_string (builder, "close", close_text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  pv_json_add_int (builder, "capacity", pv_event_get_capacity (event));
  pv_ctl_json_add_strv (builder, "gates", pv_event_get_gates (event));
  add_categories_json (builder, event);
  pv_json_add_int (builder, "device_id", pv_store_get_device_id (store));
  pv_json_add_string (builder, "device_name", self ? self->name : NULL);
  pv_json_add_string (builder, "device_role", self ? pv_role_to_string (self->role) : NULL);
  pv_json_add_string (builder, "file", pv_store_get_path (store));
  pv_json_add_int (builder, "records", (gint64) pv_ledger_count (store));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static char *
join_category_names (PvEvent *event)
{
  GPtrArray *categories = pv_event_get_categories (event);
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < categories->len; i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "",
                            ((PvCategory *) g_ptr_array_index (categories, i))->name);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

static void
print_event (PvStore *store, PvEvent *event)
{
  const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));
  guint n_days = pv_event_get_n_days (event);
  g_autofree char *first = pv_event_day_date (event, 0);
  g_autofree char *last = pv_event_day_date (event, (int) n_days - 1);
  g_autofree char *gates = g_strjoinv (", ", (char **) pv_event_get_gates (event));
  g_autofree char *categories = join_category_names (event);
  gboolean same_hours = TRUE;
  guint open0, close0;

  g_print (_ ("Event       %s (id %08x)\n"), pv_event_get_name (event), pv_event_get_id (event));
  if (*pv_event_get_venue (event))
    g_print (_ ("Venue       %s\n"), pv_event_get_venue (event));
  g_print (_ ("Days        %u, %s to %s (time zone %s)\n"), n_days, first, last,
           pv_event_get_timezone (event));

  pv_event_get_hours (event, 0, &open0, &close0);
  for (guint day = 1; day < n_days; day++)
    {
      guint open, close;
      pv_event_get_hours (event, day, &open, &close);
      same_hours = same_hours && open == open0 && close == close0;
    }
  if (same_hours)
    g_print (_ ("Hours       %02u:%02u–%02u:%02u every day\n"), open0 / 60, open0 % 60,
             close0 / 60, close0 % 60);
  else
    for (guint day = 0; day < n_days; day++)
      {
        g_autofree char *date = pv_event_day_date (event, (int) day);
        guint open, close;
        pv_event_get_hours (event, day, &open, &close);
        g_print (_ ("Hours       %s %02u:%02u–%02u:%02u\n"), date, open / 60, open % 60,
                 close / 60, close % 60);
      }
  g_print (_ ("Gates       %s\n"), *gates ? gates : _ ("none"));
  g_print (_ ("Categories  %s\n"), *categories ? categories : _ ("none"));
  if (pv_event_get_capacity (event))
    g_print (_ ("Capacity    %u\n"), pv_event_get_capacity (event));
  if (self)
    g_print (_ ("This store  device %u, %s “%s” (%s)\n"), self->id, pv_role_to_string (self->role),
             self->name, pv_store_get_path (store));
}

/* ---- event ---- */

static void
remove_store_files (const char *path)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      g_unlink (file);
    }
}

/* Everything that can be wrong with the options is found here, before a
 * file is created, so a typo never leaves an empty store behind. */
static PvEvent *
build_event (const char *name, const char *start, const char *days, const char *gates,
             const char *open, const char *close, const char *venue, const char *timezone,
             const char *capacity, GError **error)
{
  g_autoptr (PvEvent) event = NULL;
  guint64 n_days, cap = 0;
  guint32 id;

  if (!pv_ctl_parse_uint ("--days", days, 1, PV_EVENT_MAX_DAYS, &n_days, error))
    return NULL;
  if (capacity && !pv_ctl_parse_uint ("--capacity", capacity, 0, G_MAXUINT32, &cap, error))
    return NULL;
  /* A random id: two events made on two laptops must not be mistaken for
   * one when their tickets or replicas meet. Zero is kept for "none". */
  do
    id = randombytes_random ();
  while (id == 0);

  if (!(event = pv_event_new (id, name, start, (guint) n_days, error)))
    return NULL;
  if (venue)
    pv_event_set_venue (event, venue);
  if (!pv_event_set_timezone (event, timezone ? timezone : PV_DEFAULT_TIMEZONE, error))
    return NULL;
  pv_event_set_capacity (event, (guint) cap);
  if (gates)
    {
      g_auto (GStrv) names = pv_ctl_split_list ("--gates", gates, error);
      if (names == NULL)
        return NULL;
      for (guint i = 0; names[i]; i++)
        if (!pv_event_add_gate (event, names[i], error))
          return NULL;
    }
  if (open || close)
    {
      guint open_min, close_min;

      if (!open || !close)
        {
          g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                               _ ("Give --open and --close together"));
          return NULL;
        }
      if (!pv_parse_clock_time (open, &open_min, error)
          || !pv_parse_clock_time (close, &close_min, error)
          || !pv_event_set_hours (event, -1, open_min, close_min, error))
        return NULL;
    }
  pv_event_add_default_categories (event);
  return g_steal_pointer (&event);
}

int
pv_ctl_event_init (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *name = NULL, *start = NULL, *days = NULL, *gates = NULL;
  g_autofree char *open = NULL, *close = NULL, *venue = NULL, *timezone = NULL;
  g_autofree char *capacity = NULL, *device_name = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvEvent) event = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean json = FALSE;
  gboolean existed;
  int status;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("The event’s name (required)"), N_ ("NAME") },
    { "start", 0, 0, G_OPTION_ARG_STRING, &start, N_ ("First day (required)"), N_ ("YYYY-MM-DD") },
    { "days", 0, 0, G_OPTION_ARG_STRING, &days, N_ ("Number of consecutive days (required)"), N_ ("N") },
    { "gates", 0, 0, G_OPTION_ARG_STRING, &gates, N_ ("Gate names, separated by commas"), N_ ("\"A,B,…\"") },
    { "open", 0, 0, G_OPTION_ARG_STRING, &open, N_ ("Opening time every day (default 10:00)"), N_ ("HH:MM") },
    { "close", 0, 0, G_OPTION_ARG_STRING, &close, N_ ("Closing time every day (default 20:00)"), N_ ("HH:MM") },
    { "venue", 0, 0, G_OPTION_ARG_STRING, &venue, N_ ("Where it takes place"), N_ ("TEXT") },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &timezone,
      N_ ("Time zone of the venue (default " PV_DEFAULT_TIMEZONE ")"), N_ ("TZ") },
    { "capacity", 0, 0, G_OPTION_ARG_STRING, &capacity, N_ ("People the venue holds at once"), N_ ("N") },
    { "device-name", 0, 0, G_OPTION_ARG_STRING, &device_name,
      N_ ("Name of this first admin device (default “Admin”)"), N_ ("TEXT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the result as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!name || !start || !days)
    return pv_ctl_usage_error (ctl, _ ("--name, --start and --days are required"));
  if (ctl->db_path == NULL)
    return pv_ctl_usage_error (ctl, _ ("Say where to create the store with --db FILE"));

  if (!(event = build_event (name, start, days, gates, open, close, venue, timezone, capacity,
                             &error)))
    return pv_ctl_fail (error);

  existed = g_file_test (ctl->db_path, G_FILE_TEST_EXISTS);
  if (existed)
    {
      GStatBuf st;

      /* An empty file (from mktemp, say) is as good as none; pv_store_open
       * refuses anything that is not already a Pravesh store. */
      if (g_stat (ctl->db_path, &st) != 0 || !S_ISREG (st.st_mode))
        return pv_ctl_error (_ ("%s is not a regular file"), ctl->db_path);
    }
  if (!(store = pv_store_open (ctl->db_path, &error)))
    {
      if (!existed)
        remove_store_files (ctl->db_path);
      return pv_ctl_fail (error);
    }
  if (pv_ledger_count (store) > 0 || pv_store_get_device_id (store) != 0)
    {
      PvEvent *held = pv_store_get_event (store, NULL);
      if (held)
        return pv_ctl_error (_ ("%s already holds the event “%s”; use a new file for a new event"),
                             ctl->db_path, pv_event_get_name (held));
      return pv_ctl_error (_ ("%s already holds a ledger; use a new file for a new event"),
                           ctl->db_path);
    }
  /* The event's first store is the one its hub serves. */
  if (!pv_devices_create_event (store, event, device_name, &error) || !pv_channels_prepare_store (store, &error))
    {
      g_clear_object (&store);
      if (!existed)
        remove_store_files (ctl->db_path);
      return pv_ctl_fail (error);
    }

  /* Show what the store now holds, not what we meant to write. */
  {
    PvEvent *held = pv_store_get_event (store, &error);

    if (held == NULL)
      return pv_ctl_fail (error);
    if (json)
      {
        g_autoptr (JsonNode) root = event_to_json (store, held);
        pv_ctl_print_json (root, TRUE);
      }
    else
      {
        g_print (_ ("Created the event in %s.\n"), ctl->db_path);
        print_event (store, held);
      }
  }
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_event_show (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean json = FALSE;
  PvEvent *event;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the event as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error)))
    return pv_ctl_fail (error);
  if (json)
    {
      g_autoptr (JsonNode) root = event_to_json (store, event);
      pv_ctl_print_json (root, TRUE);
    }
  else
    {
      print_event (store, event);
      g_print (_ ("Records     %llu\n"), (unsigned long long) pv_ledger_count (store));
    }
  return PV_CTL_EXIT_OK;
}

/* ---- category ---- */

int
pv_ctl_category_list (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean json = FALSE;
  PvEvent *event;
  GPtrArray *categories;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the categories as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error)))
    return pv_ctl_fail (error);
  categories = pv_event_get_categories (event);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < categories->len; i++)
        add_category_json (builder, g_ptr_array_index (categories, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
      return PV_CTL_EXIT_OK;
    }

  {
    g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

    g_ptr_array_add (rows, g_strsplit (_ ("ID|NAME|VALIDITY|ENTRIES/DAY|RE-ENTRY|GATES|MAX PARTY"),
                                       "|", -1));
    for (guint i = 0; i < categories->len; i++)
      {
        const PvCategory *c = g_ptr_array_index (categories, i);
        char **row = g_new0 (char *, 8);

        row[0] = g_strdup_printf ("%u", c->id);
        row[1] = g_strdup (c->name);
        row[2] = g_strdup (pv_validity_to_string (c->validity));
        row[3] = c->entries_per_day ? g_strdup_printf ("%u", c->entries_per_day)
                                    : g_strdup (_ ("unlimited"));
        row[4] = g_strdup (c->reentry ? _ ("yes") : _ ("no"));
        row[5] = c->gates ? g_strjoinv (", ", c->gates) : g_strdup (_ ("all"));
        row[6] = g_strdup_printf ("%u", c->max_party);
        g_ptr_array_add (rows, row);
      }
    pv_ctl_print_table (rows);
  }
  return PV_CTL_EXIT_OK;
}

static gboolean
parse_yes_no (const char *option, const char *text, gboolean *out, GError **error)
{
  if (g_ascii_strcasecmp (text, "yes") == 0 || g_ascii_strcasecmp (text, "true") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (text, "no") == 0 || g_ascii_strcasecmp (text, "false") == 0)
    *out = FALSE;
  else
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("%s wants yes or no, not “%s”"), option,
                   text);
      return FALSE;
    }
  return TRUE;
}

int
pv_ctl_category_add (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *name = NULL, *validity_text = NULL, *entries_text = NULL;
  g_autofree char *reentry_text = NULL, *gates_text = NULL, *party_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (PvEvent) copy = NULL;
  g_auto (GStrv) gates = NULL;
  gboolean json = FALSE;
  gboolean reentry = FALSE;
  guint64 entries_per_day = 1, max_party = 1;
  PvValidity validity;
  PvEvent *event;
  const PvCategory *added;
  int status;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("The category’s name (required)"), N_ ("NAME") },
    { "validity", 0, 0, G_OPTION_ARG_STRING, &validity_text,
      N_ ("chosen-day, any-one-day or every-day (required)"), N_ ("VALIDITY") },
    { "entries", 0, 0, G_OPTION_ARG_STRING, &entries_text,
      N_ ("Entries per day, or “unlimited” (default 1)"), N_ ("N|unlimited") },
    { "reentry", 0, 0, G_OPTION_ARG_STRING, &reentry_text,
      N_ ("Whether an exit scan gives back the day’s entry (default no)"), N_ ("yes|no") },
    { "gates", 0, 0, G_OPTION_ARG_STRING, &gates_text,
      N_ ("The only gates it may enter at (default all)"), N_ ("\"A,B\"") },
    { "max-party", 0, 0, G_OPTION_ARG_STRING, &party_text,
      N_ ("Most people one ticket admits (default 1)"), N_ ("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the new category as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!name || !validity_text)
    return pv_ctl_usage_error (ctl, _ ("--name and --validity are required"));
  if (!pv_validity_from_string (validity_text, &validity, &error)
      || (entries_text && g_ascii_strcasecmp (entries_text, "unlimited") != 0
          && !pv_ctl_parse_uint ("--entries", entries_text, 1, 1000, &entries_per_day, &error))
      || (reentry_text && !parse_yes_no ("--reentry", reentry_text, &reentry, &error))
      || (party_text && !pv_ctl_parse_uint ("--max-party", party_text, 1, PV_MAX_PARTY, &max_party, &error))
      || (gates_text && !(gates = pv_ctl_split_list ("--gates", gates_text, &error))))
    return pv_ctl_fail (error);
  if (entries_text && g_ascii_strcasecmp (entries_text, "unlimited") == 0)
    entries_per_day = 0;

  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !pv_ctl_require_admin (store, _ ("change the event configuration"), &error))
    return pv_ctl_fail (error);

  /* Edit a copy and append it whole: the record is the new configuration,
   * and the store switches to it only when the ledger accepts it. */
  copy = pv_event_copy (event);
  for (guint i = 0; gates && gates[i]; i++)
    {
      const char *canonical = pv_event_find_gate (copy, gates[i]);
      if (canonical)
        {
          g_free (gates[i]);
          gates[i] = g_strdup (canonical);
        }
    }
  if (!pv_event_add_category (copy,
                              pv_category_new (name, validity, (guint) entries_per_day, reentry,
                                               (const char *const *) gates, (guint) max_party),
                              &error)
      || !pv_ledger_append (store, PV_RECORD_EVENT_CONFIG, pv_event_to_variant (copy), NULL,
                            &error))
    return pv_ctl_fail (error);

  added = pv_event_find_category (copy, g_strstrip (name));
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      add_category_json (builder, added);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    g_print (_ ("Added category “%s” (id %u)\n"), added->name, added->id);
  return PV_CTL_EXIT_OK;
}

/* ---- device ---- */

int
pv_ctl_device_add (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *role_text = NULL, *name = NULL, *out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean json = FALSE;
  guint16 id = 0;
  PvRole role;
  int status;
  GOptionEntry entries[] = {
    { "role", 0, 0, G_OPTION_ARG_STRING, &role_text, N_ ("gate, desk or admin (required)"),
      N_ ("ROLE") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("The device’s name (required)"), N_ ("NAME") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
      N_ ("Where to write the new device’s replica; must not exist (required)"), N_ ("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the new device as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!role_text || !name || !out)
    return pv_ctl_usage_error (ctl, _ ("--role, --name and --out are required"));
  /* Hubs are paired by the hub itself, not made here. */
  if (!g_str_equal (role_text, "gate") && !g_str_equal (role_text, "desk")
      && !g_str_equal (role_text, "admin"))
    return pv_ctl_usage_error (ctl, _ ("--role wants gate, desk or admin, not “%s”"), role_text);
  if (!pv_role_from_string (role_text, &role, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !pv_ctl_require_admin (store, _ ("enrol devices"), &error)
      || !pv_devices_add (store, role, name, out, &id, &error))
    return pv_ctl_fail (error);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      const PvDeviceInfo *info = pv_store_lookup_device (store, id);

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", id);
      pv_json_add_string (builder, "name", info ? info->name : name);
      pv_json_add_string (builder, "role", pv_role_to_string (role));
      pv_json_add_string (builder, "file", out);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    g_print (_ ("Enrolled device %u (%s) in %s\n"), id, pv_role_to_string (role), out);
  return PV_CTL_EXIT_OK;
}

/* ---- device invite ---- */

int
pv_ctl_device_invite (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *role_text = NULL, *name = NULL, *url = NULL, *hours_text = NULL, *fingerprint_hex = NULL;
  g_autofree char *text = NULL, *expires = NULL, *gate = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint8 fingerprint[PV_FINGERPRINT_SIZE];
  PvPairingCode code = { 0 };
  gboolean json = FALSE, pinned;
  guint64 hours = 24;
  PvEvent *event;
  PvRole role;
  int status;
  GOptionEntry entries[] = {
    { "role", 0, 0, G_OPTION_ARG_STRING, &role_text, N_ ("gate, desk or admin (required)"), N_ ("ROLE") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("The device’s name (required)"), N_ ("NAME") },
    { "gate", 0, 0, G_OPTION_ARG_STRING, &gate,
      N_ ("The gate a gate station stands at, one of the event’s (default: it asks when first opened)"), N_ ("GATE") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, N_ ("The address devices reach the hub by (default: where it last listened)"),
      N_ ("URL") },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &hours_text, N_ ("Hours the code holds (default 24)"), N_ ("HOURS") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the code as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!role_text || !name)
    return pv_ctl_usage_error (ctl, _ ("--role and --name are required"));
  if (!pv_role_from_string (role_text, &role, &error)
      || (hours_text && !pv_ctl_parse_uint ("--expires", hours_text, 1, 30 * 24, &hours, &error)))
    return pv_ctl_fail (error);
  if (role == PV_ROLE_HUB)
    return pv_ctl_error (_ ("A hub is not paired; it is made with “event init”"));
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !pv_ctl_require_admin (store, _ ("invite devices"), &error))
    return pv_ctl_fail (error);
  if (url == NULL && !(url = pv_store_dup_meta_string (store, PV_META_HUB_URL)))
    return pv_ctl_error (_ ("No address for the hub yet: start pravesh-hub on this file once, or give --url"));
  /* The hub writes its certificate's fingerprint when it serves HTTPS. */
  fingerprint_hex = pv_store_dup_meta_string (store, "tls-fingerprint");
  pinned = g_str_has_prefix (url, "https:") && fingerprint_hex != NULL
           && sodium_hex2bin (fingerprint, sizeof fingerprint, fingerprint_hex, strlen (fingerprint_hex), NULL, NULL,
                              NULL)
                == 0;
  if (g_str_has_prefix (url, "https:") && !pinned)
    return pv_ctl_error (_ ("The hub has no certificate on record: start it once with its certificate"));
  if (!pv_invite_create (store, role, name, gate, (gint64) hours * 3600 * G_USEC_PER_SEC, url,
                         pinned ? fingerprint : NULL, &code, &error))
    return pv_ctl_fail (error);
  text = pv_pairing_code_format (&code);
  /* As the event spells it, for the JSON. */
  g_free (gate);
  gate = g_steal_pointer (&code.gate);
  pv_pairing_code_clear (&code);
  if (!json)
    {
      g_print ("%s\n", text);
      return PV_CTL_EXIT_OK;
    }
  expires = pv_ctl_format_time (event, pv_store_now (store) + (gint64) hours * 3600 * G_USEC_PER_SEC);
  json_builder_begin_object (builder);
  pv_json_add_string (builder, "code", text);
  pv_json_add_string (builder, "role", pv_role_to_string (role));
  pv_json_add_string (builder, "name", name);
  if (gate != NULL)
    pv_json_add_string (builder, "gate", gate);
  pv_json_add_string (builder, "hub", url);
  pv_json_add_string (builder, "expires", expires);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  pv_ctl_print_json (root, TRUE);
  return PV_CTL_EXIT_OK;
}

/* ---- volunteer add, list, deactivate; otp show ---- */

int
pv_ctl_volunteer_add (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *name = NULL, *phone = NULL, *role_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gint64 id = 0;
  PvRole role = PV_ROLE_GATE;
  int status;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_ ("The volunteer’s name (required)"), N_ ("NAME") },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, N_ ("Their phone, where sign-in codes go (required)"),
      N_ ("PHONE") },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role_text, N_ ("gate, desk or admin (default gate)"), N_ ("ROLE") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!name || !phone)
    return pv_ctl_usage_error (ctl, _ ("--name and --phone are required"));
  if ((role_text && !pv_role_from_string (role_text, &role, &error)) || !(store = pv_ctl_open_store (ctl, &error))
      || !pv_store_get_event (store, &error) || !pv_ctl_require_hub_store (store, _ ("add volunteers"), &error)
      || !pv_volunteers_add (store, name, phone, role, &id, &error))
    return pv_ctl_fail (error);
  g_print (_ ("Added volunteer %lld (%s)\n"), (long long) id, name);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_volunteer_list (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GArray) list = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  gboolean json = FALSE;
  PvEvent *event;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the volunteers as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_ctl_require_hub_store (store, _ ("list volunteers"), &error)
      || !(event = pv_store_get_event (store, &error)) || !(list = pv_volunteers_list (store, &error)))
    return pv_ctl_fail (error);

  json_builder_begin_array (builder);
  g_ptr_array_add (rows, g_strsplit (_ ("ID|NAME|PHONE|ROLE|ACTIVE|LAST SIGN-IN"), "|", -1));
  for (guint i = 0; i < list->len; i++)
    {
      const PvVolunteer *v = &g_array_index (list, PvVolunteer, i);
      g_autofree char *signed_in = v->last_sign_in_at ? pv_ctl_format_time (event, v->last_sign_in_at) : NULL;
      char **row;

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", v->id);
      pv_json_add_string (builder, "name", v->name);
      pv_json_add_string (builder, "phone", v->phone);
      pv_json_add_string (builder, "role", pv_role_to_string (v->role));
      pv_json_add_bool (builder, "active", v->active);
      pv_ctl_json_add_time (builder, "added_at", event, v->added_at);
      json_builder_set_member_name (builder, "last_sign_in");
      if (v->last_sign_in_at)
        {
          json_builder_begin_object (builder);
          pv_ctl_json_add_time (builder, "at", event, v->last_sign_in_at);
          pv_json_add_int (builder, "device", v->last_sign_in_device);
          if (v->last_sign_in_device_name)
            pv_json_add_string (builder, "device_name", v->last_sign_in_device_name);
          else
            pv_json_add_null (builder, "device_name");
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);

      row = g_new0 (char *, 7);
      row[0] = g_strdup_printf ("%" G_GINT64_FORMAT, v->id);
      row[1] = g_strdup (v->name);
      row[2] = g_strdup (v->phone);
      row[3] = g_strdup (pv_role_to_string (v->role));
      row[4] = g_strdup (v->active ? _ ("yes") : _ ("no"));
      if (signed_in)
        row[5] = g_strdup_printf (_ ("%s at %s"), signed_in,
                                  v->last_sign_in_device_name ? v->last_sign_in_device_name : "?");
      else
        row[5] = g_strdup (_ ("never"));
      g_ptr_array_add (rows, row);
    }
  json_builder_end_array (builder);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    pv_ctl_print_table (rows);
  return PV_CTL_EXIT_OK;
}

/* Ids are small; phone numbers have at least eight digits. */
#define MAX_VOLUNTEER_ID_DIGITS 7

int
pv_ctl_volunteer_deactivate (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  gboolean activate = FALSE;
  guint64 number = 0;
  gint64 id;
  int status;
  GOptionEntry entries[] = {
    { "activate", 0, 0, G_OPTION_ARG_NONE, &activate, N_ ("Make the volunteer active again"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !pv_ctl_require_hub_store (store, activate ? _ ("activate volunteers") : _ ("deactivate volunteers"), &error))
    return pv_ctl_fail (error);
  if (strlen (argv[1]) <= MAX_VOLUNTEER_ID_DIGITS
      && g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXINT64, &number, NULL))
    id = (gint64) number;
  else if (!(id = pv_volunteers_find (store, argv[1], &error)))
    return pv_ctl_fail (error);
  if (!pv_volunteers_set_active (store, id, activate, &error))
    return pv_ctl_fail (error);
  g_print (activate ? _ ("Volunteer %lld may sign in again\n") : _ ("Volunteer %lld can no longer sign in\n"),
           (long long) id);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_otp_show (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autofree char *message = NULL;
  int status;
  GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status) || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_ctl_require_hub_store (store, _ ("read the outbox"), &error)
      || !(message = pv_outbox_newest (store, argv[1], &error)))
    return pv_ctl_fail (error);
  g_print ("%s\n", message);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_device_list (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (GPtrArray) devices = NULL;
  gboolean json = FALSE;
  PvEvent *event;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the devices as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 0, 0, &status))
    return status;
  if (!(store = pv_ctl_open_store (ctl, &error)) || !(event = pv_store_get_event (store, &error))
      || !(devices = pv_devices_list (store, &error)))
    return pv_ctl_fail (error);

  json_builder_begin_array (builder);
  g_ptr_array_add (rows, g_strsplit (_ ("ID|NAME|ROLE|LAST SEEN|LAG|CLOCK|REVOKED|"), "|", -1));
  for (guint i = 0; i < devices->len; i++)
    {
      const PvDeviceStatus *d = devices->pdata[i];
      g_autofree char *until = pv_ctl_format_time (event, d->valid_until);
      gboolean contacted = d->last_contact != 0;
      /* Last seen: its newest record here, or its last call to this replica
       * (the hub's view), whichever is later. */
      gint64 last_seen = d->last_seen;
      g_autofree char *seen_text = last_seen ? pv_ctl_format_time (event, last_seen) : NULL;
      char **row;

      json_builder_begin_object (builder);
      pv_json_add_int (builder, "id", d->id);
      pv_json_add_string (builder, "name", d->name);
      pv_json_add_string (builder, "role", d->role);
      pv_ctl_json_add_time (builder, "valid_from", event, d->valid_from);
      pv_json_add_string (builder, "valid_until", until);
      pv_json_add_bool (builder, "revoked", d->revoked);
      if (d->revoked)
        {
          pv_ctl_json_add_time (builder, "revoked_at", event, d->revoked_at);
          pv_json_add_string (builder, "revoke_reason", d->revoke_reason);
        }
      else
        {
          pv_json_add_null (builder, "revoked_at");
          pv_json_add_null (builder, "revoke_reason");
        }
      pv_json_add_bool (builder, "this_device", d->this_device);
      if (last_seen)
        pv_ctl_json_add_time (builder, "last_seen", event, last_seen);
      else
        pv_json_add_null (builder, "last_seen");
      if (d->last_record)
        pv_ctl_json_add_time (builder, "last_record", event, d->last_record);
      else
        pv_json_add_null (builder, "last_record");
      if (contacted && d->behind >= 0)
        pv_json_add_int (builder, "lag", d->behind);
      else
        pv_json_add_null (builder, "lag");
      if (contacted && d->pending >= 0)
        pv_json_add_int (builder, "pending", d->pending);
      else
        pv_json_add_null (builder, "pending");
      if (d->has_skew)
        pv_json_add_int (builder, "skew_ms", d->skew_ms);
      else
        pv_json_add_null (builder, "skew_ms");
      json_builder_end_object (builder);

      row = g_new0 (char *, 9);
      row[0] = g_strdup_printf ("%u", d->id);
      row[1] = g_strdup (d->name);
      row[2] = g_strdup (d->role);
      row[3] = g_strdup (seen_text ? seen_text : _ ("never"));
      row[4] = contacted && d->behind >= 0 ? g_strdup_printf (_ ("%lld records"), (long long) d->behind)
                                           : g_strdup ("–");
      /* Whole seconds: what a person sets a clock by. */
      row[5] = d->has_skew ? g_strdup_printf (_ ("%+.0f s"), (double) d->skew_ms / 1000) : g_strdup ("–");
      if (d->revoked)
        {
          g_autofree char *when = pv_ctl_format_time (event, d->revoked_at);
          row[6] = g_strdup_printf (_ ("%s (%s)"), when ? when : "?", d->revoke_reason ? d->revoke_reason : "");
        }
      else
        row[6] = g_strdup (_ ("no"));
      row[7] = g_strdup (d->this_device ? _ ("← this store") : "");
      g_ptr_array_add (rows, row);
    }
  json_builder_end_array (builder);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      pv_ctl_print_json (root, TRUE);
    }
  else
    pv_ctl_print_table (rows);
  return PV_CTL_EXIT_OK;
}

int
pv_ctl_device_revoke (PvCtl *ctl, int argc, char **argv)
{
  g_autofree char *reason = NULL, *device_name = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  const PvDeviceInfo *device;
  guint64 id;
  int status;
  GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_ ("Why (kept in the ledger)"), N_ ("TEXT") },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, 1, &status))
    return status;
  if (!pv_ctl_parse_uint (_ ("The device id"), argv[1], 1, G_MAXUINT16, &id, &error))
    return pv_ctl_fail (error);
  if (!(store = pv_ctl_open_store (ctl, &error)) || !pv_store_get_event (store, &error)
      || !pv_ctl_require_admin (store, _ ("revoke devices"), &error))
    return pv_ctl_fail (error);
  if (!(device = pv_store_lookup_device (store, (guint16) id)))
    return pv_ctl_error (_ ("There is no device %u (see “pravesh-ctl device list”)"), (guint) id);
  if (id == pv_store_get_device_id (store))
    return pv_ctl_error (_ ("Device %u is this store itself; revoke it from another admin device"),
                         (guint) id);
  if (device->revoked_at != G_MAXINT64)
    {
      /* The earlier revocation counts anyway; a second record adds nothing. */
      g_printerr (_ ("pravesh-ctl: device %u (%s) is already revoked\n"), (guint) id, device->name);
      return PV_CTL_EXIT_OK;
    }
  /* Revoking reloads the device cache, and @device with it. */
  device_name = g_strdup (device->name);
  if (!pv_devices_revoke (store, (guint16) id, reason, &error))
    return pv_ctl_fail (error);
  g_print (_ ("Revoked device %u (%s)\n"), (guint) id, device_name);
  return PV_CTL_EXIT_OK;
}
