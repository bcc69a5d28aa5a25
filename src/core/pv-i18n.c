/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-i18n.c: the start of gettext for pravesh, pravesh-ctl and
 * pravesh-hub. Installed, translations live under the prefix; run from the
 * build tree (as the demo, the tests and a developer trying LANGUAGE=hi do),
 * they are the ones the build just compiled, laid out as a locale dir in
 * the build's po/ folder. */
#include "config.h"

#include "pv-i18n.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <string.h>

/* TRUE when this program's executable lies inside the build tree it was
 * built in: then the build's own translations are the ones that match. */
static gboolean
running_from_build_tree (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  size_t n = strlen (PV_BUILD_ROOT);

  return exe != NULL && strncmp (exe, PV_BUILD_ROOT, n) == 0 && exe[n] == G_DIR_SEPARATOR;
}

const char *
pv_i18n_locale_dir (void)
{
  const char *dir = g_getenv ("PRAVESH_LOCALEDIR");

  if (dir != NULL && *dir != '\0')
    return dir;
  if (running_from_build_tree ())
    return PV_BUILD_LOCALEDIR;
  return LOCALEDIR;
}

void
pv_i18n_init (void)
{
  const char *messages;

  setlocale (LC_ALL, "");
  /* glibc ignores LANGUAGE in the C locale, the default of a bare machine
   * or a container: LANGUAGE=hi would show English. C.UTF-8 is there on
   * every glibc since 2.35 and honours it, and changes nothing else a
   * person sees. */
  messages = setlocale (LC_MESSAGES, NULL);
  if (g_getenv ("LANGUAGE") != NULL && *g_getenv ("LANGUAGE") != '\0'
      && (messages == NULL || strcmp (messages, "C") == 0 || strcmp (messages, "POSIX") == 0))
    setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, pv_i18n_locale_dir ());
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* The event's categories are the organiser's words, shown as written; the
 * defaults a new event starts with (pv_event_add_default_categories ())
 * are ours, and have translations. */
const char *
pv_category_get_label (const PvCategory *category)
{
  if (category == NULL)
    return "?";
  if (category->name == NULL || *category->name == '\0')
    return ""; /* gettext ("") is the catalogue's header */
  return g_dgettext (GETTEXT_PACKAGE, category->name);
}

/* Catalogues read per language */

/* GNU gettext's compiled catalogue (.mo): a header, then two tables of
 * (length, offset) pairs, originals and translations, each pointing at a
 * NUL-terminated string in the file. A context is "context\004msgid". */
#define MO_MAGIC 0x950412deu
#define MO_HEADER_SIZE 28

typedef struct
{
  GBytes *data;         /* owned: the strings point into it */
  GHashTable *messages; /* msgid → msgstr, both borrowed from @data */
} Catalogue;

static guint32
read_u32 (const guint8 *p, gboolean swapped)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return swapped ? GUINT32_SWAP_LE_BE (v) : v;
}

/* The string an entry of the table at @table points to, or NULL when the
 * entry lies outside the file or its string is not terminated. */
static const char *
mo_string (const guint8 *base, gsize size, guint32 table, guint32 i, gboolean swapped)
{
  guint64 entry = (guint64) table + (guint64) i * 8;
  guint32 length, offset;

  if (entry + 8 > size)
    return NULL;
  length = read_u32 (base + entry, swapped);
  offset = read_u32 (base + entry + 4, swapped);
  if ((guint64) offset + length >= size || base[offset + length] != '\0')
    return NULL;
  return (const char *) base + offset;
}

/* Reads @data into @messages (when not NULL); FALSE with @error in words
 * at the first thing wrong, so a damaged file is refused whole. */
static gboolean
read_catalogue (GBytes *data, GHashTable *messages, GError **error)
{
  gsize size;
  const guint8 *base = g_bytes_get_data (data, &size);
  guint32 magic, n, originals, translations;
  gboolean swapped;

  if (size < MO_HEADER_SIZE)
    return g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "Too short to be a compiled translation catalogue (%" G_GSIZE_FORMAT " bytes)", size),
           FALSE;
  magic = read_u32 (base, FALSE);
  if (magic != MO_MAGIC && GUINT32_SWAP_LE_BE (magic) != MO_MAGIC)
    return g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                                "Not a compiled translation catalogue (.mo)"),
           FALSE;
  swapped = magic != MO_MAGIC;
  if (read_u32 (base + 4, swapped) >> 16 > 1)
    return g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                                "A compiled translation catalogue of a newer format"),
           FALSE;
  n = read_u32 (base + 8, swapped);
  originals = read_u32 (base + 12, swapped);
  translations = read_u32 (base + 16, swapped);
  for (guint32 i = 0; i < n; i++)
    {
      const char *msgid = mo_string (base, size, originals, i, swapped);
      const char *msgstr = mo_string (base, size, translations, i, swapped);

      if (msgid == NULL || msgstr == NULL)
        return g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                            "The translation catalogue is cut short or damaged at message %u of %u",
                            i + 1, n),
               FALSE;
      /* The header (an empty msgid) is not a message. */
      if (messages != NULL && *msgid != '\0' && *msgstr != '\0')
        g_hash_table_insert (messages, (char *) msgid, (char *) msgstr);
    }
  return TRUE;
}

gboolean
pv_i18n_check_catalogue (GBytes *data, GError **error)
{
  return read_catalogue (data, NULL, error);
}

/* NULL, and a warning once, when @lang's catalogue is missing or damaged:
 * the hub then answers in English rather than not at all. */
static Catalogue *
load_catalogue (const char *lang)
{
  g_autofree char *path = g_build_filename (pv_i18n_locale_dir (), lang, "LC_MESSAGES",
                                            GETTEXT_PACKAGE ".mo", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) file = g_mapped_file_new (path, FALSE, &error);
  Catalogue *catalogue;

  if (file == NULL)
    {
      g_warning ("No %s translations: %s", lang, error->message);
      return NULL;
    }
  catalogue = g_new0 (Catalogue, 1);
  catalogue->data = g_mapped_file_get_bytes (file);
  catalogue->messages = g_hash_table_new (g_str_hash, g_str_equal);
  if (!read_catalogue (catalogue->data, catalogue->messages, &error))
    {
      g_warning ("%s: %s", path, error->message);
      g_hash_table_unref (catalogue->messages);
      g_bytes_unref (catalogue->data);
      g_free (catalogue);
      return NULL;
    }
  return catalogue;
}

/* Language code → Catalogue, or NULL for one looked for and not found.
 * Loaded on first use and kept for the process's life. */
static GHashTable *catalogues;
G_LOCK_DEFINE_STATIC (catalogues);

const char *
pv_i18n_lookup (const char *lang, const char *context, const char *msgid)
{
  g_autofree char *key = NULL;
  Catalogue *catalogue;
  gpointer found;

  g_return_val_if_fail (lang != NULL && msgid != NULL, NULL);
  if (strcmp (lang, "en") == 0)
    return msgid;
  G_LOCK (catalogues);
  if (catalogues == NULL)
    catalogues = g_hash_table_new (g_str_hash, g_str_equal);
  if (!g_hash_table_lookup_extended (catalogues, lang, NULL, &found))
    {
      found = load_catalogue (lang);
      g_hash_table_insert (catalogues, g_strdup (lang), found);
    }
  G_UNLOCK (catalogues);
  if ((catalogue = found) == NULL)
    return NULL;
  if (context != NULL)
    key = g_strconcat (context, "\004", msgid, NULL);
  return g_hash_table_lookup (catalogue->messages, key ? key : msgid);
}

const char *
pv_i18n_translate (const char *lang, const char *context, const char *msgid)
{
  const char *text = pv_i18n_lookup (lang, context, msgid);

  return text ? text : msgid;
}
