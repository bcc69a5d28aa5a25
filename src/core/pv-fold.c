/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-fold.c: text as a name search compares it (case-folded and
 * compatibility-decomposed), and the SQL function pv_name_contains that
 * the store defines on every connection so a search runs inside SQLite.
 * Below the store, which registers the function when it opens a file. */
#include "pv-fold-private.h"

#include <string.h>

char *
_pv_fold (const char *text)
{
  g_autofree char *folded = NULL;

  if (!g_utf8_validate (text, -1, NULL))
    return NULL;
  folded = g_utf8_casefold (text, -1);
  /* Compatibility decomposition: precomposed and decomposed letters (say
   * क़ and क + nukta, typed on two keyboards) become the same bytes. */
  return g_utf8_normalize (folded, -1, G_NORMALIZE_ALL);
}

/* The scripts of India (U+0900 to U+0DFF) have no case, and nearly all
 * their characters are their own compatibility decomposition: for each,
 * 0 when folding changes it, else 1 + its canonical combining class. */
#define INDIC_FIRST 0x0900
#define INDIC_LAST 0x0DFF
static guint8 indic_table[INDIC_LAST - INDIC_FIRST + 1];

static gpointer
init_indic_table (gpointer data)
{
  for (gunichar c = INDIC_FIRST; c <= INDIC_LAST; c++)
    {
      gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
      gsize n = g_unichar_fully_decompose (c, TRUE, d, G_N_ELEMENTS (d));

      if (n == 1 && d[0] == c && g_unichar_tolower (c) == c)
        indic_table[c - INDIC_FIRST] = (guint8) (1 + g_unichar_combining_class (c));
    }
  return NULL;
}

/* TRUE when folding @name would change nothing but its ASCII capitals:
 * it holds only ASCII and Indic characters that fold to themselves, with
 * combining marks already in canonical order. That is most names at an
 * Indian fair, and they need no allocation to compare; folding every name
 * of a million in full takes a third of a second. */
static gboolean
folds_as_ascii (const char *name)
{
  static GOnce once = G_ONCE_INIT;
  const guchar *p = (const guchar *) name;
  guint8 previous = 1;

  g_once (&once, init_indic_table, NULL);
  while (*p)
    {
      gunichar c;
      guint8 entry;

      if (*p < 0x80)
        {
          previous = 1;
          p++;
          continue;
        }
      /* U+0900 to U+0DFF are three bytes: E0, A4 to B7, a continuation. */
      if (p[0] != 0xE0 || p[1] < 0xA4 || p[1] > 0xB7 || (p[2] & 0xC0) != 0x80)
        return FALSE;
      c = (gunichar) ((p[1] & 0x3F) << 6 | (p[2] & 0x3F));
      entry = indic_table[c - INDIC_FIRST];
      if (entry == 0 || (entry > 1 && previous > entry))
        return FALSE;
      previous = entry;
      p += 3;
    }
  return TRUE;
}

/* Whether @needle, folded, occurs in @name, which folds as ASCII: so
 * lowering its ASCII bytes folds it (other bytes stay as they are). */
static gboolean
ascii_contains (const char *name, const char *needle)
{
  gsize n = strlen (name), m = strlen (needle);

  for (gsize i = 0; i + m <= n; i++)
    {
      gsize j = 0;

      while (j < m && g_ascii_tolower (name[i + j]) == needle[j])
        j++;
      if (j == m)
        return TRUE;
    }
  return FALSE;
}

static void
name_contains_sql (sqlite3_context *context, int argc, sqlite3_value **argv)
{
  const char *name = (const char *) sqlite3_value_text (argv[0]);
  const char *needle = (const char *) sqlite3_value_text (argv[1]);
  gboolean found = FALSE;

  if (name == NULL || needle == NULL)
    ;
  else if (folds_as_ascii (name))
    found = ascii_contains (name, needle);
  else
    {
      g_autofree char *folded = _pv_fold (name);
      found = folded != NULL && strstr (folded, needle) != NULL;
    }
  sqlite3_result_int (context, found);
}

gboolean
_pv_fold_register_sql (sqlite3 *db)
{
  return sqlite3_create_function_v2 (db, "pv_name_contains", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                     name_contains_sql, NULL, NULL, NULL)
         == SQLITE_OK;
}
