/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-i18n.c: the app in Hindi, run from the build tree as a developer
 * runs it with LANGUAGE=hi: the control room's header, sidebar and every
 * page read back from the window's labels are in Hindi, the dashboard's
 * "of 3,200" too, a School group ticket found at the desk by its serial
 * reads "School group · Day 2 of 9" in Hindi, and one scanned at the gate
 * is admitted in Hindi, and a mistyped serial there is refused in Hindi
 * (the core's words), as is a school group of 500 at the desk; Preferences
 * too, its title included. No English word a person reads is left, beyond
 * the event's own names. */
#include "config.h"

#include <locale.h>
#include <string.h>

#include "app-test.h"
#include "pv-dashboard-page.h"
#include "pv-desk-page.h"
#include "pv-gate-page.h"
#include "pv-preferences.h"

static char *tmpdir;
static char *db_path;
static char *school_code;   /* School group, day 2, found at the desk */
static char *school_serial; /* … by its serial */
static char *gate_code;     /* School group, today, scanned at the gate */

/* The event's own words (app_test_create_event ()), the camera named on
 * the command line, and what stays in Latin letters in Hindi too: they
 * are not untranslated text. */
static const char *const not_english[] = {
  "Test Book Fair",
  "Gate",
  "Control room",
  "none",
  "PNG",
  "SVG",
  "CSV",
  "QR",
  "PIN",
  "Ctrl",
  "Enter",
  "WhatsApp",
  "SMS",
  NULL,
};

/* Appends the text of every label on screen under @widget to @texts. */
static void
collect_labels (GtkWidget *widget, GPtrArray *texts)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && *gtk_label_get_text (GTK_LABEL (widget)) != '\0')
    g_ptr_array_add (texts, g_strdup (gtk_label_get_text (GTK_LABEL (widget))));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_labels (child, texts);
}

/* English words in @text: runs of three or more Latin letters, once the
 * event's own names are taken out. */
static gboolean
has_english (const char *text)
{
  g_autofree char *rest = g_strdup (text);
  g_autoptr (GRegex) word = g_regex_new ("[A-Za-z]{3,}", 0, 0, NULL);

  for (guint i = 0; not_english[i] != NULL; i++)
    {
      char *at;
      while ((at = strstr (rest, not_english[i])) != NULL)
        memset (at, ' ', strlen (not_english[i]));
    }
  return g_regex_match (word, rest, 0, NULL);
}

typedef struct
{
  const char *const *pages;
  guint page;
  guint stage;
  guint typed_at;
  const char *serial;      /* of the ticket found at the desk */
  const char *school_code; /* … and its code */
  const char *gate_code;   /* the ticket scanned at the gate */
  char *verdict_what;
  char *verdict_headline;
  GString *english; /* "page: text" of each English label found */
  gboolean saw_capacity;
  gboolean saw_station;
  gboolean saw_sidebar;
  char *ticket_line;
  char *serial_refusal; /* the gate's words on a mistyped serial */
  char *too_many;       /* the desk's on a group over its category's size */
  gboolean saw_preferences;
} Hindi;

static GPtrArray *
labels_of (GtkWidget *widget)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  collect_labels (widget, texts);
  return texts;
}

static gboolean
contains (GPtrArray *texts, const char *text)
{
  return g_ptr_array_find_with_equal_func (texts, text, g_str_equal, NULL);
}

/* The sidebar's row for the page @name. */
static GtkWidget *
find_row (GtkWidget *widget, const char *name)
{
  if (GTK_IS_LIST_BOX_ROW (widget) && g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_row (child, name);
      if (found)
        return found;
    }
  return NULL;
}

static void
note_english (Hindi *hindi, const char *page, GPtrArray *texts)
{
  for (guint i = 0; i < texts->len; i++)
    if (has_english (texts->pdata[i]))
      g_string_append_printf (hindi->english, "%s: “%s”\n", page, (char *) texts->pdata[i]);
}

static gboolean
hindi_step (AppRun *run, PvWindow *window, gpointer data)
{
  Hindi *hindi = data;
  const char *name = hindi->pages[hindi->page];
  GtkWidget *page;
  g_autoptr (GPtrArray) texts = NULL;

  if (window == NULL)
    return FALSE;
  page = pv_window_get_page (window, name);
  g_assert_nonnull (page);
  switch (hindi->stage)
    {
    case 0: /* on its way to the page */
      if (!gtk_widget_get_mapped (page))
        {
          if (run->ticks > hindi->typed_at + 10)
            {
              app_test_click (find_row (GTK_WIDGET (window), name));
              hindi->typed_at = run->ticks;
            }
          return FALSE;
        }
      hindi->stage = 1;
      hindi->typed_at = run->ticks;
      return FALSE;

    case 1: /* let it fill in, then read it */
      if (run->ticks < hindi->typed_at + 6)
        return FALSE;
      if (g_str_equal (name, "dashboard") && pv_dashboard_page_get_n_refreshes (PV_DASHBOARD_PAGE (page)) == 0)
        return FALSE;
      texts = labels_of (GTK_WIDGET (window));
      {
        g_autofree char *file = g_strconcat ("hindi-", name, NULL);
        g_autofree char *saved = app_test_screenshot (GTK_WIDGET (window), file);
        if (saved == NULL)
          return FALSE;
      }
      for (guint i = 0; i < texts->len; i++)
        g_test_message ("%s: %s", name, (char *) texts->pdata[i]);
      note_english (hindi, name, texts);
      /* The header: the station, and the sidebar's pages. */
      if (contains (texts, "Control room · नियंत्रण कक्ष"))
        hindi->saw_station = TRUE;
      if (contains (texts, "डैशबोर्ड") && contains (texts, "दोहरी प्रविष्टियाँ"))
        hindi->saw_sidebar = TRUE;
      if (g_str_equal (name, "dashboard"))
        {
          g_autofree char *capacity = g_strdup_printf ("%'u में से · 0 %%", 3200);
          hindi->saw_capacity = contains (texts, capacity);
        }
      if (g_str_equal (name, "gate"))
        {
          /* Scanned as a USB scanner types it. */
          app_test_type (GTK_WINDOW (window), hindi->gate_code);
          hindi->stage = 3;
          return FALSE;
        }
      if (g_str_equal (name, "desk"))
        {
          /* A school group too big for one ticket: its name first. */
          pv_desk_page_focus_form (PV_DESK_PAGE (page));
          {
            const char *const keys[] = { "type", "--delay", "20", "Asha", NULL };
            app_test_xdotool (GTK_WINDOW (window), keys);
          }
          hindi->stage = 5;
          return FALSE;
        }
      if (g_str_equal (name, "export"))
        {
          /* Then Preferences, as the main menu opens it. */
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL));
          hindi->stage = 7;
          return FALSE;
        }
      if (g_str_equal (name, "tickets"))
        {
          pv_desk_page_focus_search (PV_DESK_PAGE (page));
          {
            const char *const keys[] = { "type", "--delay", "20", hindi->serial, NULL };
            app_test_xdotool (GTK_WINDOW (window), keys);
          }
          hindi->stage = 2;
          return FALSE;
        }
      break;

    case 2: /* the serial typed: open the ticket found, as a volunteer clicks it */
      {
        GtkListBox *results = pv_desk_page_get_results (PV_DESK_PAGE (page));
        g_autofree char *prefix = g_strconcat (hindi->serial, " · ", NULL);
        GtkWidget *found = NULL;

        for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (results)); row;
             row = gtk_widget_get_next_sibling (row))
          {
            const char *subtitle = ADW_IS_ACTION_ROW (row) ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
            if (subtitle != NULL && g_str_has_prefix (subtitle, prefix))
              found = row;
          }
        if (found == NULL)
          return FALSE;
        if (g_strcmp0 (pv_desk_page_get_code (PV_DESK_PAGE (page)), hindi->school_code) != 0)
          {
            g_signal_emit_by_name (found, "activate");
            return FALSE;
          }
        texts = labels_of (page);
        for (guint i = 0; i < texts->len; i++)
          if (g_str_has_prefix (texts->pdata[i], "स्कूल समूह · दिन 2 / 9 · "))
            hindi->ticket_line = g_strdup (texts->pdata[i]);
        if (hindi->ticket_line == NULL)
          return FALSE;
        note_english (hindi, "ticket", texts);
        g_free (app_test_screenshot (GTK_WIDGET (window), "hindi-ticket"));
      }
      break;

    case 3: /* the code scanned: the verdict */
      {
        PvGatePage *gate = PV_GATE_PAGE (page);

        if (pv_gate_page_get_n_verdicts (gate) == 0)
          return FALSE;
        hindi->verdict_what = g_strdup (pv_gate_page_get_what (gate));
        hindi->verdict_headline = g_strdup (pv_gate_page_get_headline (gate));
        texts = labels_of (page);
        note_english (hindi, "verdict", texts);
        g_free (app_test_screenshot (GTK_WIDGET (window), "hindi-verdict"));
        /* Then a serial typed without its dash, as a hurried volunteer
         * types it: the core's refusal reaches the gate in Hindi too. */
        pv_gate_page_dismiss (gate);
        pv_gate_page_focus_lookup (gate);
        {
          const char *const keys[] = { "type", "--delay", "20", "3145", NULL };
          const char *const enter[] = { "key", "Return", NULL };
          app_test_xdotool (GTK_WINDOW (window), keys);
          app_test_xdotool (GTK_WINDOW (window), enter);
        }
        hindi->stage = 4;
        return FALSE;
      }

    case 5: /* the group's name taken: 500 people, issued with Ctrl+Enter */
      {
        GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
        const char *const keys[] = { "key", "ctrl+a", NULL, "type", "--delay", "20", "500", NULL,
                                     "key", "ctrl+Return", NULL, NULL };

        if (!GTK_IS_EDITABLE (focus) || g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (focus)), "Asha") != 0)
          return FALSE;
        pv_desk_page_focus_party (PV_DESK_PAGE (page), "School group");
        for (guint k = 0; keys[k] != NULL; k++)
          {
            app_test_xdotool (GTK_WINDOW (window), keys + k);
            while (keys[k] != NULL)
              k++;
          }
        hindi->stage = 6;
        return FALSE;
      }

    case 6: /* refused in words, the category named as the form names it */
      texts = labels_of (page);
      for (guint i = 0; i < texts->len && hindi->too_many == NULL; i++)
        if (strstr (texts->pdata[i], "500") != NULL)
          hindi->too_many = g_strdup (texts->pdata[i]);
      if (hindi->too_many == NULL)
        return FALSE;
      note_english (hindi, "desk", texts);
      g_free (app_test_screenshot (GTK_WIDGET (window), "hindi-too-many"));
      break;

    case 7: /* Preferences: its title and every row */
      {
        GtkWindow *preferences = NULL;
        GListModel *toplevels = gtk_window_get_toplevels (); /* GTK's own */

        for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
          {
            g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
            if (PV_IS_PREFERENCES (toplevel) && gtk_widget_get_mapped (GTK_WIDGET (toplevel)))
              preferences = toplevel;
          }
        if (preferences == NULL)
          return FALSE;
        texts = labels_of (GTK_WIDGET (preferences));
        g_ptr_array_add (texts, g_strdup (gtk_window_get_title (preferences)));
        for (guint i = 0; i < texts->len; i++)
          g_test_message ("preferences: %s", (char *) texts->pdata[i]);
        note_english (hindi, "preferences", texts);
        hindi->saw_preferences = TRUE;
        g_free (app_test_screenshot (GTK_WIDGET (preferences), "hindi-preferences"));
        gtk_window_close (preferences);
      }
      break;

    case 4: /* the mistyped serial refused, in words */
      {
        PvGatePage *gate = PV_GATE_PAGE (page);

        if (!gtk_widget_has_css_class (pv_gate_page_get_lookup (gate), "error"))
          return FALSE;
        hindi->serial_refusal = g_strdup (pv_gate_page_get_hint (gate));
        g_free (app_test_screenshot (GTK_WIDGET (window), "hindi-serial-refused"));
      }
      break;
    }
  /* The next page. */
  hindi->stage = 0;
  hindi->typed_at = 0;
  return hindi->pages[++hindi->page] == NULL;
}

/* Runs the control room through @pages; what it saw is in @hindi. Two
 * runs, each inside app_test_run ()'s minute also under ASan. */
static void
run_pages (const char *const *pages, Hindi *hindi)
{
  const char *args[] = { "--db", db_path, "--role", "admin", "--camera", "none", "--gate", "Gate 1", NULL };

  hindi->pages = pages;
  hindi->english = g_string_new (NULL);
  g_assert_cmpint (app_test_run (args, hindi_step, hindi), ==, 0);
  /* The header: this station and what it is for, on every page. */
  g_assert_true (hindi->saw_station);
  if (hindi->english->len > 0)
    g_test_message ("English on screen in Hindi:\n%s", hindi->english->str);
  g_assert_cmpstr (hindi->english->str, ==, "");
  g_string_free (hindi->english, TRUE);
}

static void
test_control_room (void)
{
  const char *const pages[] = { "dashboard", "gate", "desk", "tickets", NULL };
  Hindi hindi = { .serial = school_serial, .school_code = school_code, .gate_code = gate_code };
  g_autoptr (GSettings) settings = g_settings_new ("in.pravesh.Pravesh");

  g_settings_set_uint (settings, "venue-capacity", 3200);
  run_pages (pages, &hindi);
  g_assert_true (hindi.saw_sidebar);
  g_assert_true (hindi.saw_capacity);
  g_assert_nonnull (hindi.ticket_line);
  g_assert_true (g_str_has_suffix (hindi.ticket_line, " · 40 लोग"));
  g_test_message ("Verdict: %s / %s", hindi.verdict_headline, hindi.verdict_what);
  g_assert_cmpstr (hindi.verdict_what, ==, "स्कूल समूह · दिन 1 / 9");
  g_assert_false (has_english (hindi.verdict_headline));
  g_test_message ("Mistyped serial: %s", hindi.serial_refusal);
  g_assert_nonnull (hindi.serial_refusal);
  g_assert_false (has_english (hindi.serial_refusal));
  g_free (hindi.serial_refusal);
  g_test_message ("Too many: %s", hindi.too_many);
  g_assert_nonnull (hindi.too_many);
  g_assert_nonnull (strstr (hindi.too_many, "स्कूल समूह"));
  g_free (hindi.too_many);
  g_free (hindi.ticket_line);
  g_free (hindi.verdict_what);
  g_free (hindi.verdict_headline);
}

static void
test_other_pages (void)
{
  const char *const pages[] = { "doubles", "devices", "volunteers", "export", NULL };
  Hindi hindi = { 0 };

  run_pages (pages, &hindi);
  g_assert_true (hindi.saw_preferences);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  PvTicket ticket;

  /* Before the application's class starts gettext (pv_i18n_init ()): the
   * words are chosen as a person running `LANGUAGE=hi pravesh` chooses
   * them, from the translations the build just made. */
  g_setenv ("LANGUAGE", "hi", TRUE);
  /* As an Indian desktop runs, dates and digit grouping too, where the
   * machine has the locale (./build-aux/dev makes it); else C.UTF-8, in
   * which glibc still honours LANGUAGE. */
  if (setlocale (LC_ALL, "hi_IN.UTF-8") != NULL)
    g_setenv ("LC_ALL", "hi_IN.UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_message ("Locale: %s", g_getenv ("LC_ALL"));
  tmpdir = g_dir_make_tmp ("pravesh-test-i18n-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  store = app_test_create_event (db_path);
  school_code = app_test_issue (store, "School group", 1, 40, "आशा वर्मा");
  g_assert_true (pv_ticket_parse (school_code, -1, &ticket, &error));
  school_serial = pv_ticket_format_serial (ticket.issuer, ticket.serial);
  gate_code = app_test_issue (store, "School group", app_test_today (store), 40, "रवि कुमार");
  g_clear_object (&store);

  g_test_add_func ("/i18n/hindi/control-room", test_control_room);
  g_test_add_func ("/i18n/hindi/other-pages", test_other_pages);
  return g_test_run ();
}
