/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-conversations.c: the WhatsApp bot's conversations on a real store —
 * a whole chat from "Hi" to a ticket in English and in Hindi (Devanagari
 * digits too), each wrong answer re-asked, the commands at any step, a
 * message delivered twice acted on once, a conversation carried on after
 * the file is closed and opened again, the 24-hour window, the inbox, a
 * sender's limit holding messages back, and bad input refused with nothing
 * stored. */
#include <string.h>

#include "channels-test-util.h"
#include "pv-conversations.h"
#include "pv-outbox.h"

#define WA_ID "919812345678"
#define PHONE "+" WA_ID

static guint message_counter;
/* The bot's settings for chat_as (): none unless a test sets them. */
static const PvBotOptions *chat_options;

/* Sends @text (NULL: an image) as @wa_id and returns what the bot queued,
 * its bodies joined with "\n---\n" ("" when nothing). */
static char *
chat_as (PvStore *store, const char *wa_id, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = g_strdup_printf ("wamid.test%u", ++message_counter);
  PvInbound message = { .wa_id = wa_id, .message_id = id, .text = text };
  gint64 before = test_query_int (store, "SELECT coalesce(max(id), 0) FROM outbox");
  g_autoptr (GString) out = g_string_new (NULL);
  sqlite3_stmt *stmt;
  guint queued = 99;

  g_assert_true (pv_conversations_receive (store, &message, chat_options, &queued, &error));
  g_assert_no_error (error);
  /* One message in, one out: a text, or the ticket. */
  g_assert_cmpuint (queued, ==, 1);
  stmt = pv_store_prepare (store, "SELECT body, recipient, channel FROM outbox WHERE id > ?1 ORDER BY id", NULL);
  sqlite3_bind_int64 (stmt, 1, before);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1) + 1, ==, wa_id);
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 2), ==, "whatsapp");
      g_string_append_printf (out, "%s%s", out->len ? "\n---\n" : "", sqlite3_column_text (stmt, 0));
    }
  sqlite3_reset (stmt);
  g_assert_cmpuint (queued, ==, test_query_int (store, "SELECT count(*) FROM outbox WHERE id > %" G_GINT64_FORMAT, before));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
chat (PvStore *store, const char *text)
{
  return chat_as (store, WA_ID, text);
}

/* The bot's answer to @text holds @expected. */
static void
assert_says (PvStore *store, const char *text, const char *expected)
{
  g_autofree char *said = chat (store, text);

  if (strstr (said, expected) == NULL)
    g_error ("After “%s” the bot said “%s”, without “%s”", text ? text : "(image)", said, expected);
}

static PvConversationState
state_of (PvStore *store, const char *wa_id)
{
  g_auto (PvConversation) c = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (pv_conversations_lookup (store, wa_id, &c, &error));
  g_assert_no_error (error);
  return c.state;
}

static gint64
count (PvStore *store, const char *sql)
{
  return test_query_int (store, "%s", sql);
}

static void
test_english (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (PvConversation) c = { 0 };
  g_auto (PvTicketInfo) info = { 0 };

  assert_says (f->admin, "Hi", "Welcome to Test Book Fair!");
  assert_says (f->admin, "Hello", "1. English\n2. हिन्दी");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_LANGUAGE);
  assert_says (f->admin, "1", "What is your full name?");
  assert_says (f->admin, "   ", "Please send just your name");
  assert_says (f->admin, "12345", "Please send just your name");
  assert_says (f->admin, "  Asha   Rao ", "Thank you, Asha Rao. Which ticket");
  assert_says (f->admin, "9", "Please reply with one of these numbers:\n1. One-day");
  assert_says (f->admin, "one-day", "Which day will you come?\n1. Sat 5 Dec\n2. Sun 6 Dec");
  assert_says (f->admin, "Monday", "Please reply with one of these numbers");
  assert_says (f->admin, "2026-12-07", "Please check:\nName: Asha Rao\nTicket: One-day\nDay: Mon 7 Dec\nPeople: 1 person");
  assert_says (f->admin, "maybe", "Reply 1 to confirm, or 2 to start again.");
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 0);
  assert_says (f->admin, "Yes!", "Your ticket for Test Book Fair\nAsha Rao · One-day · Mon 7 Dec · 1 person\nSerial 1-000001");

  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM outbox WHERE kind = 'ticket'"), ==, 1);
  g_assert_true (pv_conversations_lookup (f->admin, WA_ID, &c, &error));
  g_assert_cmpint (c.state, ==, PV_CONVERSATION_DONE);
  g_assert_cmpstr (c.language, ==, "en");
  g_assert_cmpuint (c.ticket_serial, ==, 1);
  g_assert_true (pv_tickets_lookup (f->admin, c.ticket_issuer, c.ticket_serial, &info, &error));
  g_assert_true (info.known);
  g_assert_cmpstr (info.channel, ==, "whatsapp");
  g_assert_cmpstr (info.name, ==, "Asha Rao");
  g_assert_cmpstr (info.phone, ==, PHONE);
  g_assert_cmpint (info.day, ==, 2);
  g_assert_cmpint (info.party, ==, 1);
  g_assert_cmpint (test_query_int (f->admin, "SELECT issuer FROM outbox WHERE kind = 'ticket'"), ==, c.ticket_issuer);
  g_assert_cmpint (test_query_int (f->admin, "SELECT serial FROM outbox WHERE kind = 'ticket'"), ==, 1);

  /* After the ticket: reminders, the ticket again, another person. */
  assert_says (f->admin, "Hi", "You are registered: ticket 1-000001");
  assert_says (f->admin, "TICKET", "Serial 1-000001");
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM outbox WHERE kind = 'ticket'"), ==, 2);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 1);
  assert_says (f->admin, "new", "What is your full name?");
  assert_says (f->admin, "Ravi", "Which ticket");
  assert_says (f->admin, "2", "Ticket: Season pass\nDay: every day\nPeople: 1 person");
  assert_says (f->admin, "2", "All right, let us start again.\n\nWhat is your full name?");
  assert_says (f->admin, "cancel", "Cancelled.");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_NEW);
  /* Cancelling keeps the ticket already issued. */
  assert_says (f->admin, "ticket", "Serial 1-000001");
  g_assert_true (pv_tickets_revoke (f->admin, 1, 1, "test", &error));
  assert_says (f->admin, "ticket", "Ticket 1-000001 was cancelled by the organisers");
}

static void
test_hindi (Fixture *f, gconstpointer data)
{
  g_auto (PvTicketInfo) info = { 0 };
  g_autoptr (GError) error = NULL;

  assert_says (f->admin, "नमस्ते", "Test Book Fair में आपका स्वागत है!");
  assert_says (f->admin, "Hi", "कृपया हिन्दी के लिए 2 या English के लिए 1 भेजें।");
  assert_says (f->admin, "हिंदी", "आपका पूरा नाम क्या है?");
  assert_says (f->admin, "राम कुमार", "धन्यवाद, राम कुमार। आपको कौन-सा टिकट चाहिए?");
  assert_says (f->admin, "3", "आप किस दिन आएँगे?\n1. शनिवार, 5 दिसंबर");
  assert_says (f->admin, "३", "इस टिकट पर आपके सहित कितने लोग आएँगे? (1 से 200)");
  assert_says (f->admin, "बहुत", "कृपया 1 से 200 तक की कोई संख्या भेजें।");
  assert_says (f->admin, "250", "कृपया 1 से 200 तक की कोई संख्या भेजें।");
  assert_says (f->admin, NULL, "क्षमा करें, मैं केवल लिखा हुआ संदेश पढ़ सकता हूँ।");
  assert_says (f->admin, "40", "कृपया जाँच लें:\nनाम: राम कुमार\nटिकट: School group\nदिन: सोमवार, 7 दिसंबर\nलोग: 40 लोग");
  assert_says (f->admin, "मदद", "टिकट — अपना टिकट फिर से पाएँ");
  assert_says (f->admin, "हाँ", "Test Book Fair के लिए आपका टिकट\nराम कुमार · School group · सोमवार, 7 दिसंबर · 40 लोग\nक्रमांक 1-000001");
  g_assert_true (pv_tickets_lookup (f->admin, 1, 1, &info, &error));
  g_assert_cmpint (info.party, ==, 40);
  g_assert_cmpint (info.day, ==, 2);
  assert_says (f->admin, "टिकट", "क्रमांक 1-000001");
}

static void
test_before_a_language (Fixture *f, gconstpointer data)
{
  /* Said in both languages until the visitor chose. */
  assert_says (f->admin, "help", "I register visitors for Test Book Fair");
  assert_says (f->admin, "help", "मैं Test Book Fair के लिए आगंतुकों का पंजीकरण करता हूँ");
  assert_says (f->admin, "ticket", "You have no ticket yet.");
  assert_says (f->admin, NULL, "1. English");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_LANGUAGE);
  assert_says (f->admin, NULL, "Sorry, I can only read text.");
}

static void
test_replayed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PvInbound message = { .wa_id = WA_ID, .message_id = "wamid.confirm", .text = "1" };
  guint queued = 99;

  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "English"));
  g_free (chat (f->admin, "Asha"));
  g_free (chat (f->admin, "2"));
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_CONFIRM);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (pv_conversations_receive (f->admin, &message, NULL, &queued, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (queued, ==, i == 0 ? 1 : 0);
    }
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 1);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM outbox WHERE kind = 'ticket'"), ==, 1);
  g_assert_true (pv_conversations_forget_seen (f->admin, pv_store_now (f->admin) + 1, &error));
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM whatsapp_seen"), ==, 0);
}

static void
test_reopened (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup (pv_store_get_path (f->admin));

  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "1"));
  g_assert_finalize_object (f->admin);
  f->admin = test_open_hub (f->dir, "admin.db", &f->clock);
  assert_says (f->admin, "Asha", "Thank you, Asha.");
}

static void
test_window (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 now = f->clock;
  PvInbound old = { .wa_id = "919800000001", .message_id = "wamid.old", .text = "Hi", .sent_at = now - 23 * G_TIME_SPAN_HOUR };

  g_assert_false (pv_conversations_in_window (f->admin, PHONE, now));
  g_free (chat (f->admin, "Hi"));
  g_assert_true (pv_conversations_in_window (f->admin, PHONE, now));
  g_assert_true (pv_conversations_in_window (f->admin, WA_ID, now + 23 * G_TIME_SPAN_HOUR));
  g_assert_false (pv_conversations_in_window (f->admin, PHONE, now + 25 * G_TIME_SPAN_HOUR));
  g_assert_false (pv_conversations_in_window (f->admin, "+919800000009", now));
  g_assert_false (pv_conversations_in_window (f->admin, "not a phone", now));
  g_assert_false (pv_conversations_in_window (f->admin, NULL, now));
  /* The window runs from when the visitor wrote, not when it arrived. */
  g_assert_true (pv_conversations_receive (f->admin, &old, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pv_conversations_in_window (f->admin, "+919800000001", now));
  g_assert_false (pv_conversations_in_window (f->admin, "+919800000001", now + 2 * G_TIME_SPAN_HOUR));
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  const char *bad_ids[] = { NULL, "", "+919812345678", "1234567", "1234567890123456", "9198123x5678" };
  g_autofree char *long_id = g_strnfill (300, 'w');

  for (guint i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autoptr (GError) error = NULL;
      PvInbound message = { .wa_id = bad_ids[i], .message_id = "wamid.x", .text = "Hi" };
      g_assert_false (pv_conversations_receive (f->admin, &message, NULL, NULL, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      const char *ids[] = { NULL, "", long_id };
      PvInbound message = { .wa_id = WA_ID, .message_id = ids[i], .text = "Hi" };
      g_assert_false (pv_conversations_receive (f->admin, &message, NULL, NULL, &error));
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
    }
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM whatsapp_conversations"), ==, 0);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM whatsapp_seen"), ==, 0);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM outbox"), ==, 0);
}

static void
test_hostile_text (Fixture *f, gconstpointer data)
{
  g_autofree char *huge = g_strnfill (100000, 'a');
  const char invalid[] = "Asha \xff\xfe Rao";

  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "1"));
  /* Too long for a name; format directives are only text. */
  assert_says (f->admin, huge, "Please send just your name");
  assert_says (f->admin, "%s%n{x}", "Thank you, %s%n{x}.");
  g_free (chat (f->admin, "cancel"));
  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "1"));
  assert_says (f->admin, invalid, "Thank you, Asha \xef\xbf\xbd\xef\xbf\xbd Rao.");
}

static void
test_options (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *offered[] = { "School group", "No such", NULL };
  PvBotOptions options = { .categories = offered };
  const char *texts[] = { "Hi", "1", "Asha", "2" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *id = g_strdup_printf ("wamid.options%u", i);
      PvInbound message = { .wa_id = WA_ID, .message_id = id, .text = texts[i] };
      g_assert_true (pv_conversations_receive (f->admin, &message, &options, NULL, &error));
      g_assert_no_error (error);
    }
  /* Only the one category is offered: "2" is not a choice. */
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_CATEGORY);
}

/* A script answering "new" and "1" in a loop gets no more tickets an hour
 * than the settings allow, and is told when it may have the next. */
static void
test_ticket_limit (Fixture *f, gconstpointer data)
{
  PvBotOptions options = { .tickets_per_hour = 2 };
  const char *again = "Sorry, this number has had as many tickets in the last hour as one number may (2).";

  chat_options = &options;
  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "English"));
  g_free (chat (f->admin, "Asha"));
  g_free (chat (f->admin, "2"));
  assert_says (f->admin, "1", "Serial 1-000001");
  f->clock += 10 * G_TIME_SPAN_MINUTE;
  g_free (chat (f->admin, "new"));
  g_free (chat (f->admin, "Ravi"));
  g_free (chat (f->admin, "2"));
  assert_says (f->admin, "1", "Serial 1-000002");
  f->clock += 10 * G_TIME_SPAN_MINUTE;

  /* "new" is told at once, not after a name and a choice. */
  assert_says (f->admin, "new", again);
  assert_says (f->admin, "naya", "Please try again after 13:00, or ask at the registration desk.");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_DONE);
  /* Nor does starting over reach a third ticket: the confirmation is. */
  g_free (chat (f->admin, "cancel"));
  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "English"));
  g_free (chat (f->admin, "Meera"));
  g_free (chat (f->admin, "2"));
  assert_says (f->admin, "1", again);
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_CONFIRM);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 2);

  /* Another number is another count. */
  g_free (chat_as (f->admin, "919800000001", "Hi"));
  g_free (chat_as (f->admin, "919800000001", "2"));
  g_free (chat_as (f->admin, "919800000001", "सीता"));
  g_free (chat_as (f->admin, "919800000001", "2"));
  {
    g_autofree char *said = chat_as (f->admin, "919800000001", "1");
    g_assert_nonnull (strstr (said, "क्रमांक 1-000003"));
  }

  /* An hour after the first ticket, one more; then the limit again. */
  f->clock = test_iso ("2026-11-28T13:00:01+05:30");
  assert_says (f->admin, "1", "Serial 1-000004");
  assert_says (f->admin, "new", "Please try again after 13:10");
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 4);
  chat_options = NULL;
}

/* Stands for the hub's limit on a sender: answers what the test says, and
 * counts how often it was asked. */
typedef struct
{
  PvBotPace next;
  guint asked;
} Pacer;

static PvBotPace
scripted_pace (const PvInbound *message, gpointer user_data)
{
  Pacer *pacer = user_data;

  pacer->asked++;
  return pacer->next;
}

/* A message the limit holds back is seen and opens the window, but moves
 * nothing: one asks the visitor, in their language, to slow down; the rest
 * get no answer and no ticket. The limit is asked once per message. */
static void
test_paced (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Pacer pacer = { PV_BOT_ANSWER, 0 };
  PvBotOptions options = { .pace = scripted_pace, .pace_data = &pacer };
  PvInbound confirm = { .wa_id = WA_ID, .message_id = "wamid.paced", .text = "हाँ" };
  g_auto (PvConversation) c = { 0 };
  guint queued = 99;

  chat_options = &options;
  g_free (chat (f->admin, "नमस्ते"));
  g_free (chat (f->admin, "2"));
  g_free (chat (f->admin, "सीता"));
  g_free (chat (f->admin, "2"));
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_CONFIRM);
  g_assert_cmpuint (pacer.asked, ==, 4);

  pacer.next = PV_BOT_SLOW_DOWN;
  assert_says (f->admin, "हाँ", "आप इतनी जल्दी-जल्दी लिख रहे हैं");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_CONFIRM);

  pacer.next = PV_BOT_SILENT;
  f->clock += G_TIME_SPAN_MINUTE;
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (pv_conversations_receive (f->admin, &confirm, &options, &queued, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (queued, ==, 0);
    }
  g_assert_cmpuint (pacer.asked, ==, 6);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM whatsapp_seen WHERE message_id = 'wamid.paced'"), ==, 1);
  g_assert_true (pv_conversations_lookup (f->admin, WA_ID, &c, &error));
  g_assert_cmpint (c.state, ==, PV_CONVERSATION_CONFIRM);
  g_assert_cmpint (c.last_inbound_at, ==, f->clock);
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 0);

  /* Answered again, the same word issues the ticket. */
  pacer.next = PV_BOT_ANSWER;
  assert_says (f->admin, "हाँ", "क्रमांक 1-000001");
  g_assert_cmpint (count (f->admin, "SELECT count(*) FROM tickets"), ==, 1);
  chat_options = NULL;
}

static void
test_late (Fixture *f, gconstpointer data)
{
  /* On the last day after closing time no day is left to choose. */
  f->clock = test_time (f->admin, TEST_DAYS - 1, 21, 0);
  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "1"));
  g_free (chat (f->admin, "Asha"));
  assert_says (f->admin, "1", "Sorry, there are no days left to register for.");
  g_assert_cmpint (state_of (f->admin, WA_ID), ==, PV_CONVERSATION_NEW);
  /* A season pass needs no day. */
  g_free (chat (f->admin, "Hi"));
  g_free (chat (f->admin, "1"));
  g_free (chat (f->admin, "Asha"));
  assert_says (f->admin, "Season pass", "Day: every day");
}

static void
test_inbox (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) one = g_bytes_new_static ("{\"a\":1}", 7);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (GPtrArray) items = NULL;
  gint64 id1 = 0, id2 = 0;

  g_assert_true (pv_conversations_inbox_add (f->admin, one, &id1, &error));
  g_assert_true (pv_conversations_inbox_add (f->admin, empty, &id2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id2, >, id1);
  items = pv_conversations_inbox_peek (f->admin, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_true (g_bytes_equal (((PvInboxItem *) g_ptr_array_index (items, 0))->payload, one));
  g_assert_cmpuint (g_bytes_get_size (((PvInboxItem *) g_ptr_array_index (items, 1))->payload), ==, 0);
  g_assert_true (pv_conversations_inbox_remove (f->admin, id1, &error));
  g_clear_pointer (&items, g_ptr_array_unref);
  items = pv_conversations_inbox_peek (f->admin, 10, &error);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (((PvInboxItem *) g_ptr_array_index (items, 0))->id, ==, id2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  TEST_ADD ("/conversations/english", test_english);
  TEST_ADD ("/conversations/hindi", test_hindi);
  TEST_ADD ("/conversations/before-a-language", test_before_a_language);
  TEST_ADD ("/conversations/replayed", test_replayed);
  TEST_ADD ("/conversations/reopened", test_reopened);
  TEST_ADD ("/conversations/window", test_window);
  TEST_ADD ("/conversations/refused", test_refused);
  TEST_ADD ("/conversations/hostile-text", test_hostile_text);
  TEST_ADD ("/conversations/options", test_options);
  TEST_ADD ("/conversations/late", test_late);
  TEST_ADD ("/conversations/ticket-limit", test_ticket_limit);
  TEST_ADD ("/conversations/paced", test_paced);
  TEST_ADD ("/conversations/inbox", test_inbox);
  return g_test_run ();
}
