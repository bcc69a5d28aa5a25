/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl-scan.c: `pravesh-ctl scan`, which reads the QR codes in image files
 * through exactly the decoder a gate uses (libpravesh-scanner's
 * pv_image_load_gray and pv_decoder_decode, same passes, same ZBar
 * settings). It is how a person checks a photo of a ticket that a gate
 * would not read, and how the test suite measures the decoder. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pv-ctl.h"
#include "pv-decoder.h"
#include "pv-image.h"

/* Codes may hold line breaks (a vCard) and, from a binary symbol, bytes that
 * are not UTF-8; one file must stay one line, so escape both. */
static char *
escape_for_line (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *line = g_string_new (NULL);

  for (const char *p = valid; *p; p++)
    {
      if (*p == '\\')
        g_string_append (line, "\\\\");
      else if (*p == '\n')
        g_string_append (line, "\\n");
      else if (*p == '\r')
        g_string_append (line, "\\r");
      else if (*p == '\t')
        g_string_append (line, "\\t");
      else if ((guchar) *p < 0x20 || *p == 0x7f)
        g_string_append_printf (line, "\\x%02x", (guchar) *p);
      else
        g_string_append_c (line, *p);
    }
  return g_string_free (line, FALSE);
}

static void
print_json_line (const char *path, GPtrArray *results, gint64 decode_us, const GError *error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  pv_json_add_string (builder, "file", path);
  if (error != NULL)
    pv_json_add_string (builder, "error", error->message);
  else
    {
      pv_json_add_bool (builder, "found", results->len > 0);
      json_builder_set_member_name (builder, "codes");
      json_builder_begin_array (builder);
      for (guint i = 0; i < results->len; i++)
        {
          g_autofree char *valid = g_utf8_make_valid (((PvDecodeResult *) results->pdata[i])->text, -1);

          json_builder_add_string_value (builder, valid);
        }
      json_builder_end_array (builder);
      pv_json_add_string (builder, "pass",
                          results->len > 0 ? ((PvDecodeResult *) results->pdata[0])->pass
                                           : NULL);
      pv_json_add_int (builder, "decode_us", decode_us);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  pv_ctl_print_json (root, FALSE);
}

static void
print_text_line (const char *path, GPtrArray *results, gint64 decode_us)
{
  g_autoptr (GString) codes = g_string_new (NULL);
  double ms = decode_us / 1000.0;

  if (results->len == 0)
    {
      /* TRANSLATORS: file name, then the decoding time in milliseconds */
      g_print (_ ("%s: nothing found (all passes, %.1f ms)\n"), path, ms);
      return;
    }
  for (guint i = 0; i < results->len; i++)
    {
      g_autofree char *line = escape_for_line (((PvDecodeResult *) results->pdata[i])->text);

      if (i > 0)
        g_string_append (codes, " | ");
      g_string_append (codes, line);
    }
  /* TRANSLATORS: file name, the code(s) read, the name of the decoding pass
   * that found them ("plain", "half", …) and the time in milliseconds */
  g_print (_ ("%s: %s (%s, %.1f ms)\n"), path, codes->str,
           ((PvDecodeResult *) results->pdata[0])->pass, ms);
}

int
pv_ctl_scan (PvCtl *ctl, int argc, char **argv)
{
  g_autoptr (PvDecoder) decoder = NULL;
  gboolean json = FALSE;
  gboolean errors = FALSE, misses = FALSE;
  int status;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_ ("Print one JSON object a line (JSON Lines), one line per file"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!pv_ctl_parse_options (ctl, entries, &argc, &argv, &status)
      || !pv_ctl_check_args (ctl, argc, 1, G_MAXINT, &status))
    return status;

  decoder = pv_decoder_new ();
  for (int i = 1; i < argc; i++)
    {
      const char *path = argv[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (PvFrame) frame = NULL;
      g_autoptr (GPtrArray) results = NULL;
      gint64 start;

      frame = pv_image_load_gray (path, &error);
      if (frame == NULL)
        {
          /* A bad file is reported and the others are still scanned. */
          errors = TRUE;
          if (json)
            print_json_line (path, NULL, 0, error);
          pv_ctl_fail (error);
          continue;
        }

      /* Budget 0, every pass: whoever checks a problem image wants to know
       * whether the decoder can read it at all. A gate on a small photo
       * gets the same passes well within its budget; on a 720p frame only
       * the ones that fit (see pv-decoder.c). */
      start = g_get_monotonic_time ();
      results = pv_decoder_decode (decoder, frame, 0);
      if (results->len == 0)
        misses = TRUE;
      if (json)
        print_json_line (path, results, g_get_monotonic_time () - start, NULL);
      else
        print_text_line (path, results, g_get_monotonic_time () - start);
    }

  if (errors)
    return PV_CTL_EXIT_ERROR;
  /* 2, like a refused ticket: the command worked, the answer is "no". */
  return misses ? PV_CTL_EXIT_REFUSED : PV_CTL_EXIT_OK;
}
