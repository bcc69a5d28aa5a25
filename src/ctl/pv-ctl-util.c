/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-util.c: the helpers every pravesh-ctl command shares — one error
 * style, option parsing with a uniform --help, safe opening of existing
 * stores, numbers, lists and times read from the command line, and JSON and
 * table output — so that all commands behave alike for people and scripts. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "pv-channels.h"
#include "pv-ctl.h"
#include "pv-error.h"

int
pv_ctl_fail (GError *error)
{
  g_printerr ("pravesh-ctl: %s\n", error ? error->message : _ ("Unknown error"));
  return PV_CTL_EXIT_ERROR;
}

int
pv_ctl_error (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("pravesh-ctl: %s\n", message);
  return PV_CTL_EXIT_ERROR;
}

int
pv_ctl_usage_error (PvCtl *ctl, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr (_ ("pravesh-ctl: %s: %s (see “pravesh-ctl %s --help”)\n"), ctl->command->name,
              message, ctl->command->name);
  return PV_CTL_EXIT_ERROR;
}

void
pv_ctl_got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

GAsyncResult *
pv_ctl_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

gboolean
pv_ctl_parse_options (PvCtl *ctl, const GOptionEntry *entries, int *argc, char ***argv,
                      int *out_status)
{
  const PvCtlCommand *command = ctl->command;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *prgname = NULL;
  g_autofree char *usage = NULL;
  gboolean help = FALSE;
  GOptionEntry common[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      command->needs_store ? N_ ("The store to work on (or give --db before the command, "
                                 "or set PRAVESH_DB)")
                           : N_ ("Accepted for uniformity; this command needs no store"),
      N_ ("FILE") },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, N_ ("Show help for this command"), NULL },
    G_OPTION_ENTRY_NULL
  };

  /* GLib prints "Usage: PRGNAME [OPTION…] ARGS": naming the command there
   * gives "pravesh-ctl admit [OPTION…] CODE". */
  prgname = g_strdup_printf ("pravesh-ctl %s", command->name);
  g_set_prgname (prgname);
  usage = command->args ? g_strdup (_ (command->args)) : NULL;

  /* Help is ours, not GLib's, so that --help never exits from inside
   * GLib and prints the same way as everything else. */
  context = g_option_context_new (usage);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_summary (context, _ (command->summary));
  if (command->description)
    g_option_context_set_description (context, _ (command->description));
  if (entries && entries[0].long_name)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *out_status = pv_ctl_usage_error (ctl, "%s", error->message);
      return FALSE;
    }
  if (help)
    {
      g_autofree char *text = g_option_context_get_help (context, TRUE, NULL);
      g_print ("%s", text);
      *out_status = PV_CTL_EXIT_OK;
      return FALSE;
    }
  if (db && *db)
    {
      g_free (ctl->db_path);
      ctl->db_path = g_steal_pointer (&db);
    }
  *out_status = PV_CTL_EXIT_OK;
  return TRUE;
}

gboolean
pv_ctl_check_args (PvCtl *ctl, int argc, int min, int max, int *out_status)
{
  int n = argc - 1;

  if (n >= min && n <= max)
    return TRUE;
  if (n < min)
    *out_status = pv_ctl_usage_error (ctl, _ ("Missing argument %s"),
                                      ctl->command->args ? _ (ctl->command->args) : "");
  else
    *out_status = pv_ctl_usage_error (ctl, _ ("Too many arguments"));
  return FALSE;
}

PvStore *
pv_ctl_open_store_path (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                   _ ("%s does not exist (create an event there with “pravesh-ctl --db %s "
                      "event init …”, or check the path)"),
                   path, path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_STORE, _ ("%s is a folder, not a store"), path);
      return NULL;
    }
  return pv_store_open_existing (path, error);
}

PvStore *
pv_ctl_open_store (PvCtl *ctl, GError **error)
{
  if (ctl->db_path == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("No store given: use “pravesh-ctl --db FILE %s …” or set PRAVESH_DB"),
                   ctl->command->name);
      return NULL;
    }
  return pv_ctl_open_store_path (ctl->db_path, error);
}

gboolean
pv_ctl_require_admin (PvStore *store, const char *what, GError **error)
{
  const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));

  if (self == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   _ ("%s is not an enrolled device, so it may not %s"),
                   pv_store_get_path (store), what);
      return FALSE;
    }
  if (self->role != PV_ROLE_ADMIN && self->role != PV_ROLE_HUB)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   _ ("Only an admin or hub device may %s; %s is device %u, a %s"),
                   what, pv_store_get_path (store), self->id, pv_role_to_string (self->role));
      return FALSE;
    }
  if (self->revoked_at != G_MAXINT64)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   _ ("Device %u has been revoked, so it may not %s"), self->id, what);
      return FALSE;
    }
  return TRUE;
}

gboolean
pv_ctl_require_hub_store (PvStore *store, const char *what, GError **error)
{
  return pv_ctl_require_admin (store, what, error) && pv_channels_prepare_store (store, error);
}

gboolean
pv_ctl_parse_uint (const char *option, const char *text, guint64 min, guint64 max,
                   guint64 *out_value, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, out_value, &local_error))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("%s wants a whole number from %llu to %llu, not “%s”"), option,
                   (unsigned long long) min, (unsigned long long) max, text);
      return FALSE;
    }
  return TRUE;
}

char **
pv_ctl_split_list (const char *option, const char *text, GError **error)
{
  g_auto (GStrv) items = g_strsplit (text, ",", -1);

  for (guint i = 0; items[i]; i++)
    {
      g_strstrip (items[i]);
      if (*items[i] == '\0')
        {
          g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                       _ ("%s has an empty name in “%s”"), option, text);
          return NULL;
        }
    }
  return g_steal_pointer (&items);
}

gboolean
pv_ctl_parse_at (PvEvent *event, const char *text, gint64 *out_us, GError **error)
{
  g_autoptr (GTimeZone) zone = NULL;
  g_autoptr (GDateTime) time = NULL;
  gsize len;

  if (text == NULL)
    {
      *out_us = g_get_real_time ();
      return TRUE;
    }
  zone = g_time_zone_new_identifier (pv_event_get_timezone (event));
  if (zone == NULL)
    zone = g_time_zone_new_utc ();
  time = g_date_time_new_from_iso8601 (text, zone);

  /* GLib wants seconds; people write 2026-12-05T11:30 (perhaps with an
   * offset), so supply them. */
  len = strlen (text);
  if (time == NULL && len >= 16 && text[13] == ':'
      && (len == 16 || strchr ("Zz+-", text[16]) != NULL))
    {
      g_autofree char *with_seconds = g_strdup_printf ("%.16s:00%s", text, text + 16);
      time = g_date_time_new_from_iso8601 (with_seconds, zone);
    }
  if (time == NULL)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   _ ("“%s” is not an ISO 8601 time such as 2026-12-05T11:30 (the event’s "
                      "local time, %s) or 2026-12-05T11:30:00+05:30"),
                   text, pv_event_get_timezone (event));
      return FALSE;
    }
  *out_us = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

char *
pv_ctl_format_time (PvEvent *event, gint64 at_us)
{
  g_autoptr (GDateTime) local = pv_event_local_time (event, at_us);

  return local ? g_date_time_format_iso8601 (local) : NULL;
}

char *
pv_ctl_format_minutes (guint minutes)
{
  return g_strdup_printf ("%02u:%02u", minutes / 60, minutes % 60);
}

void
pv_ctl_print_json (JsonNode *root, gboolean pretty)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len;

  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  /* Raw UTF-8 whatever the locale: g_print() would convert the charset and
   * turn a machine-readable document into something else. */
  fwrite (text, 1, len, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

void
pv_ctl_json_add_time (JsonBuilder *builder, const char *member, PvEvent *event, gint64 at_us)
{
  g_autofree char *text = pv_ctl_format_time (event, at_us);

  pv_json_add_string (builder, member, text);
}

void
pv_ctl_json_add_strv (JsonBuilder *builder, const char *member, const char *const *values)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; values && values[i]; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

void
pv_ctl_print_table (GPtrArray *rows)
{
  g_autofree guint *widths = NULL;
  guint n_columns = 0;

  for (guint r = 0; r < rows->len; r++)
    n_columns = MAX (n_columns, g_strv_length (g_ptr_array_index (rows, r)));
  widths = g_new0 (guint, n_columns);
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = g_ptr_array_index (rows, r);
      for (guint c = 0; row[c]; c++)
        widths[c] = MAX (widths[c], (guint) g_utf8_strlen (row[c], -1));
    }
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = g_ptr_array_index (rows, r);
      g_autoptr (GString) line = g_string_new (NULL);

      for (guint c = 0; row[c]; c++)
        {
          g_string_append (line, row[c]);
          /* Pad by characters, not bytes: names are often not ASCII. */
          if (row[c + 1])
            for (guint pad = (guint) g_utf8_strlen (row[c], -1); pad < widths[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      /* Empty last cells would leave trailing blanks. */
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      g_print ("%s\n", line->str);
    }
}
