/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-desk.c: the registration desk in a real window under Xvfb. A
 * walk-in is typed into the form through the X server and issued with
 * Ctrl+Enter; the QR on screen is rendered to PNG, read back by zbarimg
 * and verified by pravesh-ctl. A bad phone number is refused with a word
 * next to the form and nothing issued; so is a group over its category's
 * size, typed and issued with Ctrl+Enter at once. Days gone by and
 * passes a desk does not sell are not offered. Against a real
 * pravesh-hub on 127.0.0.1, the desk offers to send a ticket only by what
 * the hub can send (none set up: print or show it; a WhatsApp channel, to
 * a local fake of Meta's Graph API: WhatsApp alone, and the ticket does
 * go, and the desk, asking the hub, says it was sent; a number the fake
 * refuses: the desk says it could not be sent, why, and what to do), and
 * sign-in promises no code the hub cannot send. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "app-test.h"
#include "pv-api-client.h"
#include "pv-desk-page.h"

static char *tmpdir;
static char *db_path;
static char *walk_in_code;

/* The titles of the rows in the desk's list of tickets. */
static char *
list_titles (PvDeskPage *page)
{
  GString *titles = g_string_new (NULL);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (pv_desk_page_get_results (page))); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (ADW_IS_PREFERENCES_ROW (row))
      g_string_append_printf (titles, "%s|", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
  return g_string_free (titles, FALSE);
}

/* The message dialog on screen now, or NULL. */
static AdwMessageDialog *
shown_dialog (void)
{
  g_autoptr (GList) windows = gtk_window_list_toplevels ();

  for (GList *w = windows; w != NULL; w = w->next)
    if (ADW_IS_MESSAGE_DIALOG (w->data) && gtk_widget_get_mapped (w->data))
      return w->data;
  return NULL;
}

/* The items of the combo row titled @title under @widget, comma-separated
 * (an empty string when it offers none); owned by the row. */
static const char *
combo_items (GtkWidget *widget, const char *title)
{
  if (ADW_IS_COMBO_ROW (widget) && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    {
      GListModel *model = adw_combo_row_get_model (ADW_COMBO_ROW (widget));
      GString *items = g_string_new (NULL);

      for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
        g_string_append_printf (items, "%s%s", i ? "," : "",
                                gtk_string_list_get_string (GTK_STRING_LIST (model), i));
      g_object_set_data_full (G_OBJECT (widget), "test-items", g_string_free (items, FALSE), g_free);
      return g_object_get_data (G_OBJECT (widget), "test-items");
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      const char *found = combo_items (child, title);
      if (found)
        return found;
    }
  return NULL;
}

typedef struct
{
  const char *const *keys;       /* xdotool steps, each a NULL-separated run */
  const char *typed_name;        /* … which leave this in the name field, */
  const char *party_category;    /* then this category is chosen, */
  const char *const *party_keys; /* and these are typed into People */
  gboolean search;               /* into the search box, not the form */
  const char *db;                /* the event file, when not db_path */
  const char *const *fix_keys;   /* typed once an error shows, */
  gboolean error_stayed;         /* … after which it is still on show */
  char *offered;                 /* with db: "categories|days" the form offers */
  char *titles;                  /* the list's rows after typing */
  gboolean revoked;
  gboolean typed;
  guint typed_at;
  char *code;
  char *error_text;
  char *qr_png;
} Desk;

/* Runs xdotool once per NULL-separated run of @keys (ended by two NULLs). */
static void
type_steps (gpointer window, const char *const *keys)
{
  for (const char *const *k = keys; *k != NULL;)
    {
      app_test_xdotool (GTK_WINDOW (window), k);
      while (*k != NULL)
        k++;
      k++;
    }
}

static gboolean
desk_step (AppRun *run, PvWindow *window, gpointer data)
{
  Desk *desk = data;
  PvDeskPage *page = PV_DESK_PAGE (pv_window_get_desk_page (window));

  g_assert_nonnull (page);
  if (!desk->typed && run->ticks > 2)
    {
      if (desk->db != NULL)
        desk->offered = g_strconcat (combo_items (GTK_WIDGET (page), "Category"), "|",
                                     combo_items (GTK_WIDGET (page), "Day"), NULL);
      if (desk->search)
        pv_desk_page_focus_search (page);
      else
        pv_desk_page_focus_form (page);
      type_steps (window, desk->keys);
      desk->typed = TRUE;
      desk->typed_at = run->ticks;
      return FALSE;
    }
  if (desk->party_keys != NULL)
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

      /* Once the name has arrived through the X server, People. */
      if (!GTK_IS_EDITABLE (focus) || g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (focus)), desk->typed_name) != 0)
        return FALSE;
      pv_desk_page_focus_party (page, desk->party_category);
      type_steps (window, desk->party_keys);
      desk->party_keys = NULL;
      desk->typed_at = run->ticks;
      return FALSE;
    }
  if (!desk->typed || run->ticks < desk->typed_at + 4)
    return FALSE;
  if (desk->search)
    {
      GtkListBoxRow *first = gtk_list_box_get_row_at_index (pv_desk_page_get_results (page), 0);
      g_autofree char *shot = NULL;

      /* The search runs on a worker: wait for its rows, then open the
       * first as a volunteer would, and send the ticket by WhatsApp. */
      g_free (desk->titles);
      desk->titles = list_titles (page);
      if (first == NULL || !g_str_has_prefix (desk->titles, "Asha Verma|"))
        return FALSE;
      if (pv_desk_page_get_code (page) == NULL)
        {
          g_signal_emit_by_name (first, "activate");
          return FALSE;
        }
      if (!(shot = app_test_screenshot (GTK_WIDGET (window), "desk-found")))
        return FALSE;
      if (desk->code == NULL)
        {
          desk->code = g_strdup (pv_desk_page_get_code (page));
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "desk.send", "s", "whatsapp"));
          /* Then the visitor says the phone was stolen: revoke it, with
           * the reason typed into the dialog that asks. */
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "desk.revoke", NULL));
          return FALSE;
        }
      {
        AdwMessageDialog *dialog = shown_dialog ();

        if (dialog != NULL)
          {
            GtkEditable *reason = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
            g_autofree char *revoke_shot = app_test_screenshot (GTK_WIDGET (dialog), "desk-revoke");

            gtk_editable_set_text (reason, "phone stolen");
            adw_message_dialog_response (dialog, "revoke");
            gtk_window_destroy (GTK_WINDOW (dialog));
            desk->revoked = TRUE;
            return FALSE;
          }
      }
      return desk->revoked;
    }
  if (pv_desk_page_get_code (page) != NULL)
    {
      g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "desk-issued");

      if (shot == NULL || !(desk->qr_png = app_test_screenshot (pv_desk_page_get_qr (page), "desk-issued-qr")))
        return FALSE;
      desk->code = g_strdup (pv_desk_page_get_code (page));
      desk->titles = list_titles (page);
      return TRUE;
    }
  /* Nothing issued: what does the form say? */
  {
    GtkWidget *label = NULL;
    g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "desk-refused");

    if (shot == NULL)
      return FALSE;
    for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (page)); w != NULL;)
      {
        if (GTK_IS_LABEL (w) && gtk_widget_has_css_class (w, "error") && gtk_widget_get_visible (w))
          {
            label = w;
            break;
          }
        /* depth-first walk of the page's widget tree */
        if (gtk_widget_get_first_child (w) != NULL)
          w = gtk_widget_get_first_child (w);
        else
          {
            while (w != NULL && gtk_widget_get_next_sibling (w) == NULL)
              w = w == GTK_WIDGET (page) ? NULL : gtk_widget_get_parent (w);
            w = w && w != GTK_WIDGET (page) ? gtk_widget_get_next_sibling (w) : NULL;
          }
      }
    if (desk->error_text != NULL)
      {
        /* The fix has been typed: is the error still there? */
        desk->error_stayed = label != NULL;
        return TRUE;
      }
    g_assert_nonnull (label);
    desk->error_text = g_strdup (gtk_label_get_text (GTK_LABEL (label)));
    if (desk->fix_keys == NULL)
      return TRUE;
    type_steps (window, desk->fix_keys);
    desk->typed_at = run->ticks;
    return FALSE;
  }
}

static void
run_desk (Desk *desk)
{
  const char *args[] = { "--db", desk->db ? desk->db : db_path, "--role", "desk", NULL };

  g_assert_cmpint (app_test_run (args, desk_step, desk), ==, 0);
}

static void
test_walk_in (void)
{
  const char *const keys[] = { "type", "--delay", "10", "Asha Verma", NULL,  /* */
                               "key", "Return", NULL,                        /* to the phone */
                               "type", "--delay", "10", "98765 43210", NULL, /* */
                               "key", "ctrl+Return", NULL,                   /* issue */
                               NULL };
  Desk desk = { .keys = keys };
  g_autofree char *decoded = NULL;

  run_desk (&desk);
  g_assert_nonnull (desk.code);
  g_assert_true (g_str_has_prefix (desk.code, "PV1:"));
  /* ... and is the first of this desk's recent registrations. */
  g_assert_true (g_str_has_prefix (desk.titles, "Asha Verma|"));
  walk_in_code = g_strdup (desk.code);
  decoded = app_test_zbarimg (desk.qr_png);
  g_assert_cmpstr (decoded, ==, desk.code);
  {
    const char *verify[] = { "--db", db_path, "verify", decoded, NULL };
    g_assert_true (app_test_ctl_run (verify, NULL));
  }
  g_free (desk.code);
  g_free (desk.qr_png);
  g_free (desk.titles);
}

/* The visitor is back without the ticket: found by the last digits of the
 * phone, shown again, and sent by WhatsApp (a request the hub will act
 * on, in the ledger); then revoked with a reason. */
static void
test_find (void)
{
  const char *const keys[] = { "type", "--delay", "30", "43210", NULL, NULL };
  Desk desk = { .keys = keys, .search = TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  g_autoptr (GPtrArray) deliveries = NULL;
  PvTicket ticket;

  g_assert_nonnull (walk_in_code);
  run_desk (&desk);
  g_assert_cmpstr (desk.code, ==, walk_in_code);
  store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_ticket_parse (desk.code, -1, &ticket, &error));
  deliveries = pv_tickets_list_deliveries (store, ticket.issuer, ticket.serial, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (deliveries->len, ==, 1);
  g_assert_cmpstr (((PvDelivery *) g_ptr_array_index (deliveries, 0))->channel, ==, "whatsapp");
  {
    g_auto (PvTicketInfo) info = { 0 };

    g_assert_true (pv_tickets_lookup (store, ticket.issuer, ticket.serial, &info, &error));
    g_assert_true (info.revoked);
    g_assert_cmpstr (info.revoke_reason, ==, "phone stolen");
  }
  g_free (desk.code);
  g_free (desk.titles);
}

static void
test_bad_phone (void)
{
  const char *const keys[] = { "type", "--delay", "10", "Ravi", NULL,  /* */
                               "key", "Return", NULL,                  /* */
                               "type", "--delay", "10", "12345", NULL, /* */
                               "key", "ctrl+Return", NULL,             /* */
                               NULL };
  /* The volunteer fixes the number: the error goes at once. */
  const char *const fix_keys[] = { "type", "--delay", "10", "67890", NULL, NULL };
  Desk desk = { .keys = keys, .fix_keys = fix_keys };
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  guint64 before, after;

  store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  before = pv_stats_counter (store, "registrations.channel", "desk");
  g_clear_object (&store);

  run_desk (&desk);
  g_assert_null (desk.code);
  g_assert_nonnull (desk.error_text);
  /* The words the Volunteers page uses too (pv_normalize_phone). */
  g_assert_cmpstr (desk.error_text, ==, "That is not a mobile number: type its 10 digits, or + and the country code");
  g_assert_false (desk.error_stayed);

  store = pv_store_open_existing (db_path, &error);
  after = pv_stats_counter (store, "registrations.channel", "desk");
  g_assert_cmpuint (after, ==, before);
  g_free (desk.error_text);
}

/* A school group's size typed into People and issued at once with
 * Ctrl+Enter, before the spin button has taken the text: 500 is over the
 * category's 200 and refused in words, nothing issued; 40 gives a ticket
 * for 40 (not the 200 or the 1 the spin button held). */
static void
issue_group (const char *size, Desk *desk)
{
  const char *const name_keys[] = { "type", "--delay", "10", "Kendriya Vidyalaya", NULL, NULL };
  const char *const party_keys[] = { "key", "ctrl+a", NULL,               /* */
                                     "type", "--delay", "10", size, NULL, /* */
                                     "key", "ctrl+Return", NULL,          /* issue */
                                     NULL };

  desk->keys = name_keys;
  desk->typed_name = "Kendriya Vidyalaya";
  desk->party_category = "School group";
  desk->party_keys = party_keys;
  run_desk (desk);
}

static void
test_group_size (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;
  Desk over = { 0 }, group = { 0 };
  PvTicket ticket;
  guint64 before;

  store = pv_store_open_existing (db_path, &error);
  g_assert_no_error (error);
  before = pv_stats_counter (store, "registrations.channel", "desk");
  g_clear_object (&store);

  issue_group ("500", &over);
  g_assert_null (over.code);
  g_assert_nonnull (over.error_text);
  g_assert_nonnull (strstr (over.error_text, "at most 200 people"));
  store = pv_store_open_existing (db_path, &error);
  g_assert_cmpuint (pv_stats_counter (store, "registrations.channel", "desk"), ==, before);
  g_clear_object (&store);

  issue_group ("40", &group);
  g_assert_nonnull (group.code);
  g_assert_true (pv_ticket_parse (group.code, -1, &ticket, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ticket.party, ==, 40);
  g_free (over.error_text);
  g_free (group.code);
  g_free (group.qr_png);
  g_free (group.titles);
}

/* ---- sending, as far as the hub can ---- */

/* The hub and the fake die with the test, whatever happens to the test. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Runs @argv (NULL-terminated) and returns it once it printed
 * "listening URL", with the URL in @out_url. */
static GSubprocess *
start_listening (const char *const *argv, char **out_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening "));
  *out_url = g_strdup (g_strchomp (line) + strlen ("listening "));
  return process;
}

static void
stop_process (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, NULL));
  g_object_unref (process);
}

typedef struct
{
  PvStore *desk; /* the desk's replica, looked at beside the app */
  const char *hub_db;
  gboolean whatsapp; /* the hub has a WhatsApp channel */
  guint step;
  guint at;
  char *code;
  gboolean offers_whatsapp;
  gboolean offers_sms;
  char *issued_says; /* beside the ticket once issued */
  char *sent_says;   /* … and once sent */
  gboolean hub_sent; /* the hub's outbox sent it */
  gboolean refuse;   /* the fake Graph API refuses every message */
  char *hub_says;    /* beside the ticket once the hub sent it, or gave up */
  char *ask_phone;   /* the sign-in dialog, asking for the phone */
  char *ask_code;    /* … then for the code */
} Sending;

/* The status of the ticket's first delivery request in the hub's file, or NULL. */
static char *
hub_delivery_status (const char *hub_db, const char *code)
{
  const char *show[] = { "--db", hub_db, "ticket", "show", code, "--json", NULL };
  g_autofree char *out = app_test_ctl (show);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *deliveries;

  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  deliveries = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "deliveries");
  if (deliveries == NULL || json_array_get_length (deliveries) == 0)
    return NULL;
  return g_strdup (json_object_get_string_member (json_array_get_object_element (deliveries, 0), "status"));
}

static gboolean
sending_step (AppRun *run, PvWindow *window, gpointer data)
{
  Sending *s = data;
  PvDeskPage *page = PV_DESK_PAGE (pv_window_get_desk_page (window));
  AdwMessageDialog *dialog = shown_dialog ();

  switch (s->step)
    {
    case 0:
      {
        g_auto (GStrv) tickets = pv_api_channels_lookup (s->desk, PV_API_SENDS_TICKETS);
        const char *const keys[] = { "type", "--delay", "10", "Asha Verma", NULL,  /* */
                                     "key", "Return", NULL,                        /* to the phone */
                                     "type", "--delay", "10", "98765 43210", NULL, /* */
                                     "key", "ctrl+Return", NULL,                   /* issue */
                                     NULL };

        /* The volunteer starts once the hub has told the desk what it
         * sends by (at the station's first contact with it). */
        if (tickets == NULL || run->ticks < 3)
          return FALSE;
        pv_desk_page_focus_form (page);
        type_steps (window, keys);
        s->step = 1;
        return FALSE;
      }
    case 1:
      {
        g_autofree char *shot = NULL;

        if (pv_desk_page_get_code (page) == NULL
            || !(shot = app_test_screenshot (GTK_WIDGET (window), s->whatsapp ? "desk-send-whatsapp"
                                                                              : "desk-send-nothing")))
          return FALSE;
        s->code = g_strdup (pv_desk_page_get_code (page));
        s->offers_whatsapp = pv_desk_page_offers (page, PV_DELIVERY_WHATSAPP);
        s->offers_sms = pv_desk_page_offers (page, PV_DELIVERY_SMS);
        s->issued_says = g_strdup (pv_desk_page_get_delivery (page));
        if (s->whatsapp)
          {
            /* Send by _WhatsApp, by its mnemonic. */
            const char *const keys[] = { "key", "alt+w", NULL };
            app_test_xdotool (GTK_WINDOW (window), keys);
          }
        else
          gtk_widget_activate_action (GTK_WIDGET (window), "win.sign-in", NULL);
        s->step = 2;
        s->at = run->ticks;
        return FALSE;
      }
    case 2:
      if (s->whatsapp)
        {
          const char *says = pv_desk_page_get_delivery (page);

          /* Said at once; then the hub sends it (looked at twice a second). */
          if (says == NULL || (run->ticks - s->at) % 10 != 0)
            return FALSE;
          if (s->sent_says == NULL)
            {
              g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), "desk-sent-whatsapp");
              s->sent_says = g_strdup (says);
            }
          if (!s->hub_sent)
            {
              g_autofree char *status = hub_delivery_status (s->hub_db, s->code);
              s->hub_sent = g_strcmp0 (status, s->refuse ? "failed" : "sent") == 0;
              return FALSE;
            }
          /* Then the desk, asking the hub, says what became of it. */
          if (g_str_has_prefix (says, "Waiting for the hub"))
            return FALSE;
          {
            g_autofree char *shot = app_test_screenshot (GTK_WIDGET (window), s->refuse ? "desk-could-not-send"
                                                                                        : "desk-sent-by-hub");

            if (shot == NULL)
              return FALSE;
          }
          s->hub_says = g_strdup (says);
          return TRUE;
        }
      if (dialog == NULL)
        return FALSE;
      {
        const char *const keys[] = { "type", "--delay", "10", "98000 00001", NULL, "key", "Return", NULL, NULL };
        g_autofree char *shot = app_test_screenshot (GTK_WIDGET (dialog), "desk-sign-in-nothing");

        if (shot == NULL)
          return FALSE;
        s->ask_phone = g_strdup (adw_message_dialog_get_body (dialog));
        type_steps (dialog, keys);
        s->step = 3;
        return FALSE;
      }
    default:
      /* The hub's answer: the next dialog, asking for the code. */
      if (dialog == NULL || g_strcmp0 (adw_message_dialog_get_body (dialog), s->ask_phone) == 0)
        return FALSE;
      {
        g_autofree char *shot = app_test_screenshot (GTK_WIDGET (dialog), "desk-sign-in-code-nothing");

        if (shot == NULL)
          return FALSE;
        s->ask_code = g_strdup (adw_message_dialog_get_body (dialog));
        gtk_window_destroy (GTK_WINDOW (dialog));
        return TRUE;
      }
    }
}

/* A hub with @config (or none), a desk paired with it, the desk's app. */
static void
run_sending (const char *name, const char *config, Sending *s)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hub_db = g_strdup_printf ("%s/%s-hub.db", tmpdir, name);
  g_autofree char *desk_db = g_strdup_printf ("%s/%s-desk.db", tmpdir, name);
  g_autofree char *conf = g_strdup_printf ("%s/%s-hub.conf", tmpdir, name);
  g_autofree char *hub_url = NULL, *pairing = NULL;
  const char *hub_argv[] = { g_getenv ("PRAVESH_HUB"), "--db", hub_db, "--listen", "127.0.0.1:0", "--config", conf,
                             NULL };
  const char *invite[] = { "--db", hub_db, "device", "invite", "--role", "desk", "--name", "Desk 1", NULL };
  const char *args[] = { "--db", desk_db, "--role", "desk", "--camera", "none", NULL };
  GSubprocess *hub;

  g_clear_object (&s->desk);
  g_object_unref (app_test_create_event (hub_db));
  g_assert_true (g_file_set_contents (conf, config, -1, &error));
  hub = start_listening (hub_argv, &hub_url);
  pairing = app_test_ctl (invite);
  {
    const char *pair[] = { "--db", desk_db, "pair", pairing, NULL };
    g_autofree char *out = app_test_ctl (pair);
  }
  s->desk = pv_store_open_existing (desk_db, &error);
  g_assert_no_error (error);
  s->hub_db = hub_db;
  g_assert_cmpint (app_test_run (args, sending_step, s), ==, 0);
  stop_process (hub);
  g_clear_object (&s->desk);
  s->hub_db = NULL;
}

static void
sending_clear (Sending *s)
{
  g_free (s->code);
  g_free (s->issued_says);
  g_free (s->sent_says);
  g_free (s->ask_phone);
  g_free (s->ask_code);
  g_free (s->hub_says);
}

/* No WhatsApp or SMS set up: nothing offered, the ticket is to be printed
 * or shown, and sign-in sends the volunteer to the control room for the
 * code rather than promising one. */
static void
test_hub_sends_nothing (void)
{
  Sending s = { 0 };

  run_sending ("nothing", "", &s);
  g_assert_nonnull (s.code);
  g_assert_false (s.offers_whatsapp);
  g_assert_false (s.offers_sms);
  g_assert_cmpstr (s.issued_says, ==, "The hub sends no messages: print this ticket, or let the visitor photograph it");
  g_assert_cmpstr (s.ask_phone, ==,
                   "Enter your mobile number. The hub cannot send text messages: the control room will give you "
                   "your one-time code.");
  g_assert_cmpstr (s.ask_code, ==,
                   "The hub cannot send text messages. Ask the control room for your sign-in code, then enter it "
                   "here.");
  sending_clear (&s);
}

/* WhatsApp set up (to a fake Graph API): only WhatsApp is offered; sent,
 * the ticket says it waits for the hub, and the hub does send it. */
static void
test_hub_sends_whatsapp (void)
{
  g_autofree char *fake_url = NULL, *config = NULL;
  const char *fake_argv[] = { "python3", g_getenv ("PRAVESH_FAKE_SERVICES"), "graph", "--token", "test-token", NULL };
  GSubprocess *graph;
  Sending s = { .whatsapp = TRUE };

  g_assert_nonnull (fake_argv[1]);
  graph = start_listening (fake_argv, &fake_url);
  config = g_strdup_printf ("[whatsapp]\ngraph-url=%s\nphone-number-id=106540352242922\naccess-token=test-token\n"
                            "ticket-template=pravesh_ticket\n[outbox]\npoll-seconds=1\n",
                            fake_url);
  run_sending ("whatsapp", config, &s);
  stop_process (graph);
  g_assert_nonnull (s.code);
  g_assert_true (s.offers_whatsapp);
  g_assert_false (s.offers_sms);
  g_assert_null (s.issued_says);
  g_assert_nonnull (s.sent_says);
  g_assert_true (g_str_has_prefix (s.sent_says, "Waiting for the hub to send it by WhatsApp (asked at "));
  g_assert_true (s.hub_sent);
  /* The desk hears it from the hub: "Sent by WhatsApp at 10:43". */
  g_assert_nonnull (s.hub_says);
  g_assert_true (g_str_has_prefix (s.hub_says, "Sent by WhatsApp at "));
  sending_clear (&s);
}

/* Tells the fake Graph API at @fake_url to refuse every message, as Meta
 * refuses a number that cannot receive WhatsApp messages. */
static void
refuse_messages (const char *fake_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GUri) base = g_uri_parse (fake_url, G_URI_FLAGS_NONE, &error);
  g_autoptr (GUri) control = g_uri_parse_relative (base, "/_fake/fail", G_URI_FLAGS_NONE, &error);
  g_autoptr (SoupMessage) msg = soup_message_new_from_uri ("POST", control);
  g_autoptr (GBytes) body = g_bytes_new_static ("{\"mode\": \"131026\", \"count\": null, \"endpoint\": \"messages\"}", 57);
  g_autoptr (GBytes) reply = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  reply = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
}

/* WhatsApp set up, but the number cannot receive it: the desk says it
 * could not be sent, why, and what to do instead. */
static void
test_hub_cannot_send (void)
{
  g_autofree char *fake_url = NULL, *config = NULL;
  const char *fake_argv[] = { "python3", g_getenv ("PRAVESH_FAKE_SERVICES"), "graph", "--token", "test-token", NULL };
  GSubprocess *graph;
  Sending s = { .whatsapp = TRUE, .refuse = TRUE };

  g_assert_nonnull (fake_argv[1]);
  graph = start_listening (fake_argv, &fake_url);
  refuse_messages (fake_url);
  config = g_strdup_printf ("[whatsapp]\ngraph-url=%s\nphone-number-id=106540352242922\naccess-token=test-token\n"
                            "ticket-template=pravesh_ticket\n[outbox]\npoll-seconds=1\n",
                            fake_url);
  run_sending ("refused", config, &s);
  stop_process (graph);
  g_assert_true (s.hub_sent);
  g_assert_cmpstr (s.hub_says, ==,
                   "Could not be sent: this phone number cannot receive it — print it or let the visitor photograph "
                   "it");
  sending_clear (&s);
}

/* On the third day of a fair, a walk-in is offered today and the days to
 * come, not the two gone by (every gate would refuse those), and what a
 * desk sells, not the exhibitors' passes; the ticket typed and issued
 * with Ctrl+Enter is for today. */
static void
test_offers (void)
{
  const char *const keys[] = { "type", "--delay", "10", "Meera Iyer", NULL, /* */
                               "key", "ctrl+Return", NULL,                  /* issue */
                               NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier ("Asia/Kolkata");
  g_autoptr (GDateTime) now = g_date_time_new_now (tz);
  g_autoptr (GDateTime) begun = g_date_time_add_days (now, -2);
  g_autofree char *start = g_date_time_format (begun, "%F");
  g_autofree char *path = g_build_filename (tmpdir, "begun.db", NULL);
  g_autoptr (PvEvent) event = pv_event_new (0x5eed0003u, "Test Book Fair", start, 4, &error);
  g_autoptr (PvStore) store = NULL;
  g_autofree char *today = NULL, *last = NULL, *days = NULL, *expected = NULL;
  Desk desk = { .keys = keys };
  PvTicket ticket;

  g_assert_true (pv_event_set_timezone (event, "Asia/Kolkata", &error));
  g_assert_true (pv_event_set_hours (event, -1, 0, 24 * 60, &error));
  g_assert_true (pv_event_add_gate (event, "Gate 1", &error));
  pv_event_add_default_categories (event);
  store = pv_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pv_devices_create_event (store, event, "Control room", &error));
  g_clear_object (&store);
  today = pv_event_day_date (event, 2);
  last = pv_event_day_date (event, 3);
  expected = g_strdup_printf ("One-day,Season pass,School group|Day 3 · %s,Day 4 · %s", today, last);

  desk.db = path;
  run_desk (&desk);
  g_assert_cmpstr (desk.offered, ==, expected);
  g_assert_nonnull (desk.code);
  g_assert_true (pv_ticket_parse (desk.code, -1, &ticket, &error));
  g_assert_cmpuint (ticket.day, ==, 2);
  g_free (desk.offered);
  g_free (desk.code);
  g_free (desk.qr_png);
  g_free (desk.titles);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvStore) store = NULL;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("pravesh-test-desk-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmpdir, "fair.db", NULL);
  store = app_test_create_event (db_path);
  g_clear_object (&store);

  g_test_add_func ("/desk/walk-in", test_walk_in);
  g_test_add_func ("/desk/find", test_find);
  g_test_add_func ("/desk/bad-phone", test_bad_phone);
  g_test_add_func ("/desk/group-size", test_group_size);
  g_test_add_func ("/desk/offers", test_offers);
  g_test_add_func ("/desk/hub-sends-nothing", test_hub_sends_nothing);
  g_test_add_func ("/desk/hub-sends-whatsapp", test_hub_sends_whatsapp);
  g_test_add_func ("/desk/hub-cannot-send", test_hub_cannot_send);
  return g_test_run ();
}
