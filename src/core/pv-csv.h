/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-csv.h: RFC 4180 CSV writing, with cells a spreadsheet would run as a
 * formula neutralised. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends one text cell to @row, preceded by a comma unless @row is empty or
 * ends a line: quoted when it holds a comma, quote, CR or LF; prefixed with a
 * single quote when it begins with = + - @, tab or CR, so a spreadsheet shows
 * it as text instead of running it (OWASP's CSV injection advice). NULL is an
 * empty cell. Numbers go through pv_csv_append_number(), untouched. */
void pv_csv_append_cell (GString *row, const char *cell);
void pv_csv_append_number (GString *row, gint64 value);
/* Ends a row with CRLF, as RFC 4180 says. */
void pv_csv_end_row (GString *row);

G_END_DECLS
