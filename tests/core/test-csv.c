/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-csv.c: checks the CSV cell writer byte for byte (quoting, formula
 * neutralising, numbers, row ends), then reads its output back with a strict
 * RFC 4180 reader of our own and, when present, Python's csv module, so the
 * exports open the same everywhere. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pv-csv.h"

/* A cell as the test writes it, and what a reader must get back. */
typedef struct
{
  const char *in;
  const char *out;
} CellCase;

static char *
one_cell (const char *cell)
{
  GString *row = g_string_new (NULL);

  pv_csv_append_cell (row, cell);
  return g_string_free (row, FALSE);
}

static void
test_plain (void)
{
  g_autoptr (GString) row = g_string_new (NULL);

  pv_csv_append_cell (row, "Asha");
  pv_csv_append_cell (row, "Gate 2 north");
  pv_csv_append_cell (row, "Ünïcødé ✓");
  pv_csv_append_cell (row, "a=b");
  pv_csv_append_cell (row, "x-1");
  pv_csv_append_cell (row, "it's");
  pv_csv_end_row (row);

  g_assert_cmpstr (row->str, ==,
                   "Asha,Gate 2 north,Ünïcødé ✓,a=b,x-1,it's\r\n");
}

static void
test_quoting (void)
{
  static const CellCase cases[] = {
    { "a,b", "\"a,b\"" },
    { "say \"hi\"", "\"say \"\"hi\"\"\"" },
    { "\"", "\"\"\"\"" },
    { "line\rbreak", "\"line\rbreak\"" },
    { "line\nbreak", "\"line\nbreak\"" },
    { "crlf\r\n", "\"crlf\r\n\"" },
    { ",", "\",\"" },
    { "tab\tinside", "tab\tinside" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = one_cell (cases[i].in);

      g_assert_cmpstr (got, ==, cases[i].out);
    }
}

static void
test_formula (void)
{
  static const CellCase cases[] = {
    { "=1+1", "'=1+1" },
    { "+91 98765 43210", "'+91 98765 43210" },
    { "-2+3", "'-2+3" },
    { "@SUM(A1:A9)", "'@SUM(A1:A9)" },
    { "\t=1", "'\t=1" },
    /* CR forces quoting too: the prefix goes inside the quotes. */
    { "\r=1", "\"'\r=1\"" },
    { "=HYPERLINK(\"http://x\",\"y\")",
      "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
    { "+a,b", "\"'+a,b\"" },
    { "-\n", "\"'-\n\"" },
    { "@\"", "\"'@\"\"\"" },
    { "\t,", "\"'\t,\"" },
    { "=", "'=" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = one_cell (cases[i].in);

      g_assert_cmpstr (got, ==, cases[i].out);
    }
}

static void
test_null (void)
{
  g_autoptr (GString) row = g_string_new (NULL);

  pv_csv_append_cell (row, "a");
  pv_csv_append_cell (row, NULL);
  pv_csv_append_cell (row, "b");
  pv_csv_append_cell (row, "");
  pv_csv_end_row (row);
  g_assert_cmpstr (row->str, ==, "a,,b,\r\n");

  /* An empty first cell is written as "" so the comma before the next
   * cell, and a row of just one empty cell, survive. */
  g_string_truncate (row, 0);
  pv_csv_append_cell (row, NULL);
  pv_csv_append_cell (row, "b");
  pv_csv_end_row (row);
  pv_csv_append_cell (row, NULL);
  pv_csv_end_row (row);
  pv_csv_append_cell (row, NULL);
  pv_csv_append_cell (row, NULL);
  pv_csv_end_row (row);
  g_assert_cmpstr (row->str, ==, "\"\",b\r\n\"\"\r\n\"\",\r\n");
}

static void
test_numbers (void)
{
  g_autoptr (GString) row = g_string_new (NULL);

  pv_csv_append_number (row, 0);
  pv_csv_append_number (row, 42);
  pv_csv_append_number (row, -7);
  pv_csv_append_number (row, G_MININT64);
  pv_csv_append_number (row, G_MAXINT64);
  pv_csv_append_cell (row, "-7");
  pv_csv_end_row (row);

  g_assert_cmpstr (row->str, ==,
                   "0,42,-7,-9223372036854775808,9223372036854775807,'-7\r\n");
}

static void
test_rows (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  pv_csv_append_cell (out, "serial");
  pv_csv_append_cell (out, "name");
  pv_csv_end_row (out);
  pv_csv_append_number (out, 1);
  pv_csv_append_cell (out, "Ravi");
  pv_csv_end_row (out);
  pv_csv_append_number (out, -2);
  pv_csv_append_cell (out, "multi\nline");
  pv_csv_end_row (out);

  g_assert_cmpstr (out->str, ==,
                   "serial,name\r\n1,Ravi\r\n-2,\"multi\nline\"\r\n");
}

/* A strict RFC 4180 reader: CRLF ends a record, quotes only around a whole
 * field, and anything else a writer bug we want to see. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *p = text;

  while (*p != '\0')
    {
      GPtrArray *cells = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (rows, cells);

      for (;;)
        {
          GString *cell = g_string_new (NULL);

          if (*p == '"')
            {
              p++;
              for (;;)
                {
                  g_assert_true (*p != '\0'); /* unterminated quote */
                  if (*p == '"' && p[1] == '"')
                    {
                      g_string_append_c (cell, '"');
                      p += 2;
                    }
                  else if (*p == '"')
                    {
                      p++;
                      break;
                    }
                  else
                    g_string_append_c (cell, *p++);
                }
            }
          else
            {
              while (*p != ',' && *p != '\r' && *p != '\0')
                {
                  g_assert_true (*p != '"' && *p != '\n');
                  g_string_append_c (cell, *p++);
                }
            }

          g_ptr_array_add (cells, g_string_free (cell, FALSE));

          if (*p == ',')
            {
              p++;
              continue;
            }
          g_assert_true (p[0] == '\r' && p[1] == '\n');
          p += 2;
          break;
        }
    }

  return rows;
}

/* Rows of cells with every awkward case, and what must come back. */
/* clang-format off */
static const CellCase roundtrip_cells[][4] = {
  { { "serial", "serial" }, { "name", "name" }, { "phone", "phone" },
    { "note", "note" } },
  { { "1", "1" }, { "Asha \"Ash\" K", "Asha \"Ash\" K" },
    { "+91 98765 43210", "'+91 98765 43210" }, { "a,b", "a,b" } },
  { { NULL, "" }, { "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0" },
    { "-1", "'-1" }, { "two\r\nlines", "two\r\nlines" } },
  { { "@x", "'@x" }, { "\ttab", "'\ttab" }, { "\rcr", "'\rcr" },
    { NULL, "" } },
  { { "Ünïcødé", "Ünïcødé" }, { "", "" }, { "\"", "\"" },
    { "=\"a\",\"b\"", "'=\"a\",\"b\"" } },
};
/* clang-format on */

static char *
write_roundtrip_csv (void)
{
  GString *out = g_string_new (NULL);

  for (gsize r = 0; r < G_N_ELEMENTS (roundtrip_cells); r++)
    {
      for (gsize c = 0; c < G_N_ELEMENTS (roundtrip_cells[r]); c++)
        pv_csv_append_cell (out, roundtrip_cells[r][c].in);
      pv_csv_end_row (out);
    }

  /* Numbers, and one row of a single empty cell. */
  pv_csv_append_number (out, -5);
  pv_csv_append_number (out, 12);
  pv_csv_end_row (out);
  pv_csv_append_cell (out, NULL);
  pv_csv_end_row (out);

  return g_string_free (out, FALSE);
}

static gsize
roundtrip_cell_count (void)
{
  return G_N_ELEMENTS (roundtrip_cells) * G_N_ELEMENTS (roundtrip_cells[0]) + 3;
}

/* Rows joined by RS and cells by US, the shape the Python side prints. */
static char *
expected_joined (void)
{
  GString *s = g_string_new (NULL);

  for (gsize r = 0; r < G_N_ELEMENTS (roundtrip_cells); r++)
    {
      if (r > 0)
        g_string_append_c (s, '\x1e');
      for (gsize c = 0; c < G_N_ELEMENTS (roundtrip_cells[r]); c++)
        {
          if (c > 0)
            g_string_append_c (s, '\x1f');
          g_string_append (s, roundtrip_cells[r][c].out);
        }
    }
  g_string_append (s, "\x1e-5");
  g_string_append_c (s, '\x1f');
  g_string_append (s, "12\x1e");

  return g_string_free (s, FALSE);
}

static void
test_roundtrip (void)
{
  g_autofree char *csv = write_roundtrip_csv ();
  g_autoptr (GPtrArray) rows = parse_csv (csv);
  gsize n = G_N_ELEMENTS (roundtrip_cells);
  GPtrArray *cells;

  g_assert_cmpuint (rows->len, ==, n + 2);

  for (gsize r = 0; r < n; r++)
    {
      cells = g_ptr_array_index (rows, r);
      g_assert_cmpuint (cells->len, ==, G_N_ELEMENTS (roundtrip_cells[r]));
      for (gsize c = 0; c < cells->len; c++)
        g_assert_cmpstr (g_ptr_array_index (cells, c), ==,
                         roundtrip_cells[r][c].out);
    }

  cells = g_ptr_array_index (rows, n);
  g_assert_cmpuint (cells->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (cells, 0), ==, "-5");
  g_assert_cmpstr (g_ptr_array_index (cells, 1), ==, "12");

  cells = g_ptr_array_index (rows, n + 1);
  g_assert_cmpuint (cells->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (cells, 0), ==, "");
}

static const char python_reader[] =
  "import csv, sys\n"
  "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
  "    rows = list(csv.reader(f, strict=True))\n"
  "out = str(sum(len(r) for r in rows)) + '\\n'\n"
  "out += '\\x1e'.join('\\x1f'.join(r) for r in rows)\n"
  "sys.stdout.buffer.write(out.encode('utf-8'))\n";

static void
test_python (void)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autofree char *csv = write_roundtrip_csv ();
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *want = expected_joined ();
  g_autofree char *count = NULL;
  g_autoptr (GError) error = NULL;
  char *nl;
  int status = 0;
  int fd;

  if (python == NULL)
    {
      g_test_skip ("python3 is not installed");
      return;
    }

  fd = g_file_open_tmp ("pravesh-csv-XXXXXX.csv", &path, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_file_set_contents (path, csv, -1, &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { python, "-c", python_reader, path, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                  &out, &err, &status, &error);
  }
  g_unlink (path);

  if (error != NULL)
    {
      g_autofree char *reason = g_strdup_printf ("python3 does not run: %s",
                                                 error->message);
      g_test_skip (reason);
      return;
    }
  if (!g_spawn_check_wait_status (status, &error))
    g_test_message ("python3 csv reader says: %s", err);
  g_assert_no_error (error);

  nl = strchr (out, '\n');
  g_assert_nonnull (nl);
  count = g_strndup (out, nl - out);
  g_assert_cmpuint (g_ascii_strtoull (count, NULL, 10), ==,
                    roundtrip_cell_count ());
  g_assert_cmpstr (nl + 1, ==, want);
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/csv/plain", test_plain);
  g_test_add_func ("/csv/quoting", test_quoting);
  g_test_add_func ("/csv/formula", test_formula);
  g_test_add_func ("/csv/null", test_null);
  g_test_add_func ("/csv/numbers", test_numbers);
  g_test_add_func ("/csv/rows", test_rows);
  g_test_add_func ("/csv/roundtrip", test_roundtrip);
  g_test_add_func ("/csv/python", test_python);

  return g_test_run ();
}
