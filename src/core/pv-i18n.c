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
