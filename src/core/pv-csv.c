/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-csv.c: the cell and row writers behind every CSV export. Quoting follows
 * RFC 4180 so any reader splits the cells back exactly; text that a
 * spreadsheet would run as a formula is defused, because attendee names and
 * phone numbers come from people we do not control. */
#include "pv-csv.h"

#include <string.h>

/* A row is "fresh" when nothing has been written since the last CRLF, so
 * the cell needs no separating comma. */
static gboolean
at_row_start (const GString *row)
{
  return row->len == 0 || row->str[row->len - 1] == '\n';
}

static void
append_separator (GString *row)
{
  if (!at_row_start (row))
    g_string_append_c (row, ',');
}

/* OWASP's list: = + - @ start a formula in Excel, LibreOffice and Sheets;
 * tab and CR are on it because some of them skip leading whitespace before
 * they look for one. */
static gboolean
looks_like_formula (const char *cell)
{
  return cell[0] != '\0' && strchr ("=+-@\t\r", cell[0]) != NULL;
}

void
pv_csv_append_cell (GString *row,
                    const char *cell)
{
  gboolean quote;

  g_return_if_fail (row != NULL);

  if (cell == NULL || cell[0] == '\0')
    {
      /* An empty first cell must still leave a mark: the next cell would
       * otherwise see an empty row and skip its comma, and a row of one
       * empty cell would read back as no cells at all. "" is an empty
       * field to every RFC 4180 reader. */
      if (at_row_start (row))
        g_string_append (row, "\"\"");
      else
        g_string_append_c (row, ',');
      return;
    }

  append_separator (row);

  quote = strpbrk (cell, ",\"\r\n") != NULL;
  if (quote)
    g_string_append_c (row, '"');

  if (looks_like_formula (cell))
    g_string_append_c (row, '\'');

  for (const char *p = cell; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (row, '"');
      g_string_append_c (row, *p);
    }

  if (quote)
    g_string_append_c (row, '"');
}

void
pv_csv_append_number (GString *row,
                      gint64 value)
{
  g_return_if_fail (row != NULL);

  /* A number is data we produced, never a formula, so a leading minus
   * stays as it is and the spreadsheet still sees a number. */
  append_separator (row);
  g_string_append_printf (row, "%" G_GINT64_FORMAT, value);
}

void
pv_csv_end_row (GString *row)
{
  g_return_if_fail (row != NULL);

  g_string_append (row, "\r\n");
}
