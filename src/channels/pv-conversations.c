/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-conversations.c: the WhatsApp registration bot's conversations (see
 * the header): what it says in English and Hindi, how it reads what a
 * visitor types, the steps from a greeting to a ticket, and their storage. */
#include "config.h"

#include "pv-conversations.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-i18n.h"
#include "pv-keys.h"
#include "pv-outbox.h"
#include "pv-store-private.h"
#include "pv-tickets.h"

/* As many as a ticket keeps (see pv-tickets.h). */
#define MAX_NAME_CHARS PV_TICKET_NAME_MAX_CHARS
#define MAX_MESSAGE_ID 256
#define CHANNEL "whatsapp"

/* What the bot says */

typedef enum
{
  LANG_NONE, /* not chosen yet: say everything in both */
  LANG_EN,
  LANG_HI,
} Lang;

typedef enum
{
  T_GREETING,
  T_LANGUAGE_AGAIN,
  T_ASK_NAME,
  T_NAME_AGAIN,
  T_ASK_CATEGORY,
  T_CHOOSE_AGAIN,
  T_ASK_DAY,
  T_NO_DAYS,
  T_CLOSED,
  T_ASK_PARTY,
  T_PARTY_AGAIN,
  T_CONFIRM,
  T_CONFIRM_AGAIN,
  T_START_AGAIN,
  T_NOT_AVAILABLE,
  T_CAPTION,
  T_DONE,
  T_NO_TICKET,
  T_REVOKED,
  T_CANCELLED,
  T_HELP,
  T_NOT_TEXT,
  T_ISSUE_FAILED,
  T_TOO_MANY_TICKETS,
  T_SLOW_DOWN,
  T_EVERY_DAY,
  T_ANY_DAY,
  T_CHOSEN_DAY_NOTE,
  T_EVERY_DAY_NOTE,
  T_ANY_DAY_NOTE,
  T_GROUP_NOTE,
  T_ONE_PERSON,
  T_PEOPLE,
  N_TEXTS
} TextId;

/* The visitor picks the bot's language, whatever the hub's locale: the
 * English is the message id, and each visitor's language is read from its
 * catalogue per message (pv_i18n_translate ()), as the web pages are.
 * {0}…{9} stand for the values filled in. */
static const struct
{
  const char *context;
  const char *msgid;
} texts[N_TEXTS] = {
  /* Translators: the WhatsApp bot's words; {0}, {1}… stand for values
   * filled in (the event's name, the visitor's name, a list) and must
   * stay. */
  [T_GREETING] = { NULL, N_ ("Welcome to {0}! I can register you here and send your entry ticket.") },
  [T_LANGUAGE_AGAIN] = { NULL, N_ ("Please reply 1 for English or 2 for Hindi.") },
  [T_ASK_NAME] = { NULL, N_ ("What is your full name? The ticket will be in this name.") },
  [T_NAME_AGAIN] = { NULL, N_ ("Please send just your name, in letters (at most 100).") },
  [T_ASK_CATEGORY] = { NULL, N_ ("Thank you, {0}. Which ticket would you like?\n{1}\nReply with its number.") },
  [T_CHOOSE_AGAIN] = { NULL, N_ ("Please reply with one of these numbers:\n{0}") },
  [T_ASK_DAY] = { NULL, N_ ("Which day will you come?\n{0}\nReply with its number.") },
  [T_NO_DAYS] = { NULL, N_ ("Sorry, there are no days left to register for.") },
  [T_CLOSED] = { NULL, N_ ("Sorry, registration by WhatsApp is closed.") },
  [T_ASK_PARTY] = { NULL, N_ ("How many people will come on this ticket, you included? (1 to {0})") },
  [T_PARTY_AGAIN] = { NULL, N_ ("Please send a number from 1 to {0}.") },
  [T_CONFIRM] = { NULL, N_ ("Please check:\nName: {0}\nTicket: {1}\nDay: {2}\nPeople: {3}\n\n"
                            "Reply 1 to confirm, or 2 to start again.") },
  [T_CONFIRM_AGAIN] = { NULL, N_ ("Reply 1 to confirm, or 2 to start again.") },
  [T_START_AGAIN] = { NULL, N_ ("All right, let us start again.") },
  [T_NOT_AVAILABLE] = { NULL, N_ ("Sorry, that choice is no longer available.") },
  [T_CAPTION] = { NULL, N_ ("Your ticket for {0}\n{1} · {2} · {3} · {4}\nSerial {5}\n"
                            "Show this QR code at the gate. Send TICKET to get it again.") },
  [T_DONE] = { NULL, N_ ("You are registered: ticket {0}. Send TICKET to get it again, NEW to register someone "
                         "else, or HELP.") },
  [T_NO_TICKET] = { NULL, N_ ("You have no ticket yet. Send Hi to register.") },
  [T_REVOKED] = { NULL, N_ ("Ticket {0} was cancelled by the organisers. Please ask at the help desk.") },
  [T_CANCELLED] = { NULL, N_ ("Cancelled. Send Hi whenever you want to start again.") },
  [T_HELP] = { NULL, N_ ("I register visitors for {0} and send their entry ticket.\n"
                         "TICKET — get your ticket again\n"
                         "NEW — register another person\n"
                         "CANCEL — stop and start over\n"
                         "HELP — this message") },
  [T_NOT_TEXT] = { NULL, N_ ("Sorry, I can only read text. Please type your answer.") },
  [T_ISSUE_FAILED] = { NULL, N_ ("Sorry, your ticket could not be made just now. Please reply 1 again in a few minutes.") },
  [T_TOO_MANY_TICKETS] = { NULL, N_ ("Sorry, this number has had as many tickets in the last hour as one number may ({0}). "
                                     "Please try again after {1}, or ask at the registration desk.") },
  [T_SLOW_DOWN] = { NULL, N_ ("You are writing faster than I can answer, so I will not reply for a little while. "
                              "Please wait a few minutes, then send your message again.") },
  [T_EVERY_DAY] = { NULL, N_ ("every day") },
  [T_ANY_DAY] = { "day choice", NC_ ("day choice", "any one day") },
  [T_CHOSEN_DAY_NOTE] = { NULL, N_ ("one day of your choice") },
  [T_EVERY_DAY_NOTE] = { NULL, N_ ("every day of the event") },
  [T_ANY_DAY_NOTE] = { NULL, N_ ("any one day") },
  [T_GROUP_NOTE] = { NULL, N_ ("up to {0} people") },
  [T_ONE_PERSON] = { NULL, N_ ("1 person") },
  [T_PEOPLE] = { NULL, N_ ("{0} people") },
};

/* Not translated: it is how either language is chosen. */
#define LANGUAGE_CHOICES "Choose a language / भाषा चुनें:\n1. English\n2. हिन्दी"

/* The web pages' names for them too (pv-hub-words.c): one translation. */
static const char *const weekdays[] = { NC_ ("date", "Mon"), NC_ ("date", "Tue"), NC_ ("date", "Wed"),
                                        NC_ ("date", "Thu"), NC_ ("date", "Fri"), NC_ ("date", "Sat"),
                                        NC_ ("date", "Sun") };
static const char *const months[] = { NC_ ("date", "Jan"), NC_ ("date", "Feb"), NC_ ("date", "Mar"),
                                      NC_ ("date", "Apr"), NC_ ("date", "May"), NC_ ("date", "Jun"),
                                      NC_ ("date", "Jul"), NC_ ("date", "Aug"), NC_ ("date", "Sep"),
                                      NC_ ("date", "Oct"), NC_ ("date", "Nov"), NC_ ("date", "Dec") };

/* @template with {0}…{9} replaced by @args (NULL-terminated); no format
 * string ever sees what a visitor typed. */
static char *
expand (const char *template, const char *const *args)
{
  GString *out = g_string_new (NULL);
  guint n_args = args ? g_strv_length ((char **) args) : 0;

  for (const char *p = template; *p; p++)
    {
      if (p[0] == '{' && g_ascii_isdigit (p[1]) && p[2] == '}' && (guint) (p[1] - '0') < n_args)
        {
          g_string_append (out, args[p[1] - '0']);
          p += 2;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static char *
say_in (Lang lang, TextId id, const char *const *args)
{
  return expand (pv_i18n_translate (lang == LANG_HI ? "hi" : "en", texts[id].context, texts[id].msgid), args);
}

/* In the visitor's language, or in both while they have not chosen. */
static char *
say (Lang lang, TextId id, const char *const *args)
{
  g_autofree char *en = NULL, *hi = NULL;

  if (lang != LANG_NONE)
    return say_in (lang, id, args);
  en = say_in (LANG_EN, id, args);
  hi = say_in (LANG_HI, id, args);
  return g_strconcat (en, "\n\n", hi, NULL);
}

/* How the bot reads what a visitor typed */

/* Compatibility-normalised, case-folded, trimmed, without the full stops
 * and exclamation marks people end a reply with. */
static char *
fold (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text, -1, G_NORMALIZE_ALL_COMPOSE);
  g_autofree char *folded = g_utf8_casefold (normal ? normal : "", -1);
  char *out = g_strstrip (g_strdup (folded));

  /* "?" alone asks for help: a lone mark is kept. */
  for (;;)
    {
      gsize len = strlen (out);

      if (len > 1 && strchr (".!)", out[len - 1]))
        out[len - 1] = '\0';
      else if (len > strlen ("।") && g_str_has_suffix (out, "।"))
        out[len - strlen ("।")] = '\0';
      else
        break;
      g_strchomp (out);
    }
  return out;
}

static gboolean
is_one_of (const char *folded, const char *const *words)
{
  for (guint i = 0; words[i]; i++)
    {
      g_autofree char *word = fold (words[i]);
      if (g_strcmp0 (folded, word) == 0)
        return TRUE;
    }
  return FALSE;
}

static const char *const help_words[] = { "help", "?", "मदद", "सहायता", "madad", NULL };
static const char *const ticket_words[] = { "ticket", "टिकट", "tikat", NULL };
static const char *const cancel_words[] = { "cancel", "stop", "रद्द", "रद्द करें", "radd", NULL };
static const char *const new_words[] = { "new", "नया", "naya", NULL };
static const char *const english_words[] = { "1", "english", "eng", "en", "अंग्रेज़ी", "अंग्रेजी", NULL };
static const char *const hindi_words[] = { "2", "hindi", "हिन्दी", "हिंदी", NULL };
static const char *const yes_words[] = { "1", "yes", "y", "ok", "okay", "confirm", "हाँ", "हां", "haan", "han", NULL };
static const char *const no_words[] = { "2", "no", "n", "नहीं", "nahi", "nahin", NULL };

/* A whole number written in any script's digits ("3", "३"), or -1. */
static int
parse_number (const char *folded)
{
  int value = 0, digits = 0;

  for (const char *p = folded; *p; p = g_utf8_next_char (p))
    {
      int digit = g_unichar_digit_value (g_utf8_get_char (p));

      if (digit < 0 || ++digits > 6)
        return -1;
      value = value * 10 + digit;
    }
  return digits > 0 ? value : -1;
}

/* A name is letters (and the marks, spaces and punctuation names have),
 * at most MAX_NAME_CHARS of them, with at least one letter. */
static char *
clean_name (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  g_autofree char *trimmed = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean letter = FALSE, space = FALSE;

  if (normal == NULL)
    return NULL;
  trimmed = g_strstrip (g_strdup (normal));
  for (const char *p = trimmed; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        {
          space = TRUE;
          continue;
        }
      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT || g_unichar_isdigit (c))
        {
          /* Zero-width joiners are part of how Indic names are written. */
          if (c != 0x200C && c != 0x200D)
            return NULL;
        }
      if (space && out->len > 0)
        g_string_append_c (out, ' ');
      space = FALSE;
      letter = letter || g_unichar_isalpha (c);
      g_string_append_unichar (out, c);
    }
  if (!letter || g_utf8_strlen (out->str, -1) > MAX_NAME_CHARS || out->len > PV_TICKET_NAME_MAX_BYTES)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Storage */

static const char *const state_names[] = {
  [PV_CONVERSATION_NEW] = "new",
  [PV_CONVERSATION_LANGUAGE] = "language",
  [PV_CONVERSATION_NAME] = "name",
  [PV_CONVERSATION_CATEGORY] = "category",
  [PV_CONVERSATION_DAY] = "day",
  [PV_CONVERSATION_PARTY] = "party",
  [PV_CONVERSATION_CONFIRM] = "confirm",
  [PV_CONVERSATION_DONE] = "done",
};

const char *
pv_conversation_state_to_string (PvConversationState state)
{
  return (guint) state < G_N_ELEMENTS (state_names) ? state_names[state] : "new";
}

static PvConversationState
state_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      return (PvConversationState) i;
  return PV_CONVERSATION_NEW;
}

void
pv_conversation_clear (PvConversation *conversation)
{
  g_clear_pointer (&conversation->wa_id, g_free);
  g_clear_pointer (&conversation->language, g_free);
  g_clear_pointer (&conversation->name, g_free);
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return sqlite3_column_type (stmt, column) == SQLITE_NULL
           ? NULL
           : g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* TRUE with @out filled, or with @found FALSE (and @out fresh) when there
 * is no conversation yet. */
static gboolean
load (PvStore *store, const char *wa_id, PvConversation *out, gboolean *found, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT state, language, name, category, day, party, ticket_issuer, "
                                         "ticket_serial, last_inbound_at, updated_at "
                                         "FROM whatsapp_conversations WHERE wa_id = ?1",
                                         error);
  int rc;

  *out = (PvConversation){ .wa_id = g_strdup (wa_id), .category = -1, .day = -1 };
  *found = FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, wa_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *found = TRUE;
      out->state = state_from_string ((const char *) sqlite3_column_text (stmt, 0));
      out->language = column_dup (stmt, 1);
      out->name = column_dup (stmt, 2);
      out->category = sqlite3_column_type (stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 3);
      out->day = sqlite3_column_type (stmt, 4) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 4);
      out->party = (guint) sqlite3_column_int (stmt, 5);
      out->ticket_issuer = (guint16) sqlite3_column_int (stmt, 6);
      out->ticket_serial = (guint32) sqlite3_column_int64 (stmt, 7);
      out->last_inbound_at = sqlite3_column_int64 (stmt, 8);
      out->updated_at = sqlite3_column_int64 (stmt, 9);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the conversation");
  return TRUE;
}

static gboolean
save (PvStore *store, const PvConversation *c, gint64 now, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (
    store,
    "INSERT INTO whatsapp_conversations (wa_id, state, language, name, category, day, party, "
    "  ticket_issuer, ticket_serial, last_inbound_at, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) "
    "ON CONFLICT (wa_id) DO UPDATE SET state = excluded.state, language = excluded.language, "
    "  name = excluded.name, category = excluded.category, day = excluded.day, party = excluded.party, "
    "  ticket_issuer = excluded.ticket_issuer, ticket_serial = excluded.ticket_serial, "
    "  last_inbound_at = excluded.last_inbound_at, updated_at = excluded.updated_at",
    error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, c->wa_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, pv_conversation_state_to_string (c->state), -1, SQLITE_STATIC);
  if (c->language)
    sqlite3_bind_text (stmt, 3, c->language, -1, SQLITE_STATIC);
  if (c->name)
    sqlite3_bind_text (stmt, 4, c->name, -1, SQLITE_STATIC);
  if (c->category >= 0)
    sqlite3_bind_int (stmt, 5, c->category);
  if (c->day >= 0)
    sqlite3_bind_int (stmt, 6, c->day);
  if (c->party > 0)
    sqlite3_bind_int (stmt, 7, (int) c->party);
  if (c->ticket_serial > 0)
    {
      sqlite3_bind_int (stmt, 8, c->ticket_issuer);
      sqlite3_bind_int64 (stmt, 9, c->ticket_serial);
    }
  sqlite3_bind_int64 (stmt, 10, c->last_inbound_at);
  sqlite3_bind_int64 (stmt, 11, now);
  return pv_store_step_done (store, stmt, error);
}

/* FALSE in @fresh when @message_id was seen before. */
static gboolean
mark_seen (PvStore *store, const char *message_id, gint64 now, gboolean *fresh, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "INSERT OR IGNORE INTO whatsapp_seen (message_id, seen_at) VALUES (?1, ?2)",
                                         error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, message_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  *fresh = sqlite3_changes (pv_store_get_db (store)) > 0;
  return TRUE;
}

/* One conversation step */

typedef struct
{
  PvOutboxKind kind;
  char *body;
  guint16 issuer;
  guint32 serial;
} Outgoing;

static void
outgoing_free (Outgoing *o)
{
  g_free (o->body);
  g_free (o);
}

typedef struct
{
  PvStore *store;
  PvEvent *event;
  const PvBotOptions *options;
  gint64 now;
  const char *phone;
  PvConversation *c;
  Lang lang;
  GPtrArray *out;                                        /* Outgoing */
  const PvCategory *categories[PV_EVENT_MAX_CATEGORIES]; /* offered, in order */
  guint n_categories;
  int days[PV_EVENT_MAX_DAYS]; /* offered day indexes, in order */
  guint n_days;
  gboolean may_issue; /* FALSE: a ticket just failed, say so instead */
} Step;

/* Texts said in one step go as one message: fewer messages, and none
 * overtaking another on the way. */
static void
reply (Step *s, char *body)
{
  Outgoing *o = s->out->len > 0 ? g_ptr_array_index (s->out, s->out->len - 1) : NULL;

  if (o != NULL && o->kind == PV_OUTBOX_TEXT)
    {
      char *joined = g_strconcat (o->body, "\n\n", body, NULL);
      g_free (o->body);
      g_free (body);
      o->body = joined;
      return;
    }
  o = g_new0 (Outgoing, 1);
  o->kind = PV_OUTBOX_TEXT;
  o->body = body;
  g_ptr_array_add (s->out, o);
}

static void
reply_text (Step *s, TextId id, const char *const *args)
{
  reply (s, say (s->lang, id, args));
}

static Lang
lang_of (const char *code)
{
  return g_strcmp0 (code, "hi") == 0 ? LANG_HI : g_strcmp0 (code, "en") == 0 ? LANG_EN
                                                                             : LANG_NONE;
}

static void
offer_categories (Step *s)
{
  GPtrArray *all = pv_event_get_categories (s->event);

  s->n_categories = 0;
  if (s->options && s->options->categories)
    {
      for (guint i = 0; s->options->categories[i] && s->n_categories < G_N_ELEMENTS (s->categories); i++)
        {
          const PvCategory *category = pv_event_find_category (s->event, s->options->categories[i]);
          /* One the event no longer has is not offered. */
          if (category != NULL)
            s->categories[s->n_categories++] = category;
        }
      return;
    }
  for (guint i = 0; i < all->len && s->n_categories < G_N_ELEMENTS (s->categories); i++)
    s->categories[s->n_categories++] = g_ptr_array_index (all, i);
}

/* From today — or tomorrow, once today's gates have closed — to the last. */
static void
offer_days (Step *s)
{
  guint n = pv_event_get_n_days (s->event);
  int today = pv_event_day_at (s->event, s->now);
  int first = MAX (today, 0);

  if (today >= 0 && today < (int) n)
    {
      guint open_min, close_min;
      pv_event_get_hours (s->event, (guint) today, &open_min, &close_min);
      if (s->now >= pv_event_time_of (s->event, today, close_min))
        first = today + 1;
    }
  s->n_days = 0;
  for (int d = first; d < (int) n && s->n_days < G_N_ELEMENTS (s->days); d++)
    s->days[s->n_days++] = d;
}

static const PvCategory *
offered_category (Step *s, int id)
{
  for (guint i = 0; i < s->n_categories; i++)
    if (s->categories[i]->id == id)
      return s->categories[i];
  return NULL;
}

static gboolean
day_offered (Step *s, int day)
{
  for (guint i = 0; i < s->n_days; i++)
    if (s->days[i] == day)
      return TRUE;
  return FALSE;
}

static char *
day_label (Step *s, int day)
{
  g_autofree char *iso = pv_event_day_date (s->event, day);
  const char *lang = s->lang == LANG_HI ? "hi" : "en";
  const char *weekday, *month;
  guint y = 0, m = 0, d = 0;
  GDate date;

  if (sscanf (iso, "%u-%u-%u", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    return g_strdup (iso);
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, m, y);
  weekday = pv_i18n_translate (lang, "date", weekdays[g_date_get_weekday (&date) - 1]);
  month = pv_i18n_translate (lang, "date", months[m - 1]);
  if (s->lang == LANG_HI)
    return g_strdup_printf ("%s, %u %s", weekday, d, month);
  return g_strdup_printf ("%s %u %s", weekday, d, month);
}

static char *
validity_label (Step *s, const PvCategory *category, int day)
{
  switch (category->validity)
    {
    case PV_VALIDITY_CHOSEN_DAY:
      return day_label (s, day);
    case PV_VALIDITY_EVERY_DAY:
      return say (s->lang, T_EVERY_DAY, NULL);
    case PV_VALIDITY_ANY_ONE_DAY:
    default:
      return say (s->lang, T_ANY_DAY, NULL);
    }
}

static char *
people_label (Step *s, guint party)
{
  g_autofree char *n = g_strdup_printf ("%u", party);
  const char *args[] = { n, NULL };

  return say (s->lang, party == 1 ? T_ONE_PERSON : T_PEOPLE, args);
}

static char *
category_list (Step *s)
{
  GString *list = g_string_new (NULL);

  for (guint i = 0; i < s->n_categories; i++)
    {
      const PvCategory *category = s->categories[i];
      TextId note = category->validity == PV_VALIDITY_CHOSEN_DAY  ? T_CHOSEN_DAY_NOTE
                    : category->validity == PV_VALIDITY_EVERY_DAY ? T_EVERY_DAY_NOTE
                                                                  : T_ANY_DAY_NOTE;
      g_autofree char *text = say_in (s->lang == LANG_HI ? LANG_HI : LANG_EN, note, NULL);

      g_string_append_printf (list, "%s%u. %s — %s", i ? "\n" : "", i + 1, category->name, text);
      if (category->max_party > 1)
        {
          g_autofree char *max = g_strdup_printf ("%u", category->max_party);
          const char *args[] = { max, NULL };
          g_autofree char *group = say_in (s->lang == LANG_HI ? LANG_HI : LANG_EN, T_GROUP_NOTE, args);
          g_string_append_printf (list, ", %s", group);
        }
    }
  return g_string_free (list, FALSE);
}

static char *
day_list (Step *s)
{
  GString *list = g_string_new (NULL);

  for (guint i = 0; i < s->n_days; i++)
    {
      g_autofree char *label = day_label (s, s->days[i]);
      g_string_append_printf (list, "%s%u. %s", i ? "\n" : "", i + 1, label);
    }
  return g_string_free (list, FALSE);
}

static void
reset_answers (PvConversation *c)
{
  g_clear_pointer (&c->name, g_free);
  c->category = -1;
  c->day = -1;
  c->party = 0;
}

static void
ask_language (Step *s)
{
  const char *args[] = { pv_event_get_name (s->event), NULL };
  g_autofree char *en = say_in (LANG_EN, T_GREETING, args);
  g_autofree char *hi = say_in (LANG_HI, T_GREETING, args);

  reply (s, g_strconcat (en, "\n", hi, "\n\n", LANGUAGE_CHOICES, NULL));
  s->c->state = PV_CONVERSATION_LANGUAGE;
}

static void
ask_name (Step *s)
{
  reply_text (s, T_ASK_NAME, NULL);
  s->c->state = PV_CONVERSATION_NAME;
}

static void
ask_category (Step *s)
{
  g_autofree char *list = NULL;

  if (s->n_categories == 0)
    {
      reply_text (s, T_CLOSED, NULL);
      reset_answers (s->c);
      s->c->state = PV_CONVERSATION_NEW;
      return;
    }
  list = category_list (s);
  {
    const char *args[] = { s->c->name, list, NULL };
    reply_text (s, T_ASK_CATEGORY, args);
  }
  s->c->state = PV_CONVERSATION_CATEGORY;
}

static void ask_day_or_next (Step *s);
static void ask_party_or_next (Step *s);
static void ask_confirm (Step *s);

static void
ask_day_or_next (Step *s)
{
  const PvCategory *category = offered_category (s, s->c->category);
  g_autofree char *list = NULL;

  if (category == NULL)
    return ask_category (s);
  if (category->validity != PV_VALIDITY_CHOSEN_DAY)
    {
      s->c->day = -1;
      return ask_party_or_next (s);
    }
  if (s->n_days == 0)
    {
      reply_text (s, T_NO_DAYS, NULL);
      reset_answers (s->c);
      s->c->state = PV_CONVERSATION_NEW;
      return;
    }
  list = day_list (s);
  {
    const char *args[] = { list, NULL };
    reply_text (s, T_ASK_DAY, args);
  }
  s->c->state = PV_CONVERSATION_DAY;
}

static void
ask_party_or_next (Step *s)
{
  const PvCategory *category = offered_category (s, s->c->category);
  g_autofree char *max = NULL;

  if (category == NULL)
    return ask_category (s);
  if (category->max_party <= 1)
    {
      s->c->party = 1;
      return ask_confirm (s);
    }
  max = g_strdup_printf ("%u", MIN (category->max_party, PV_MAX_PARTY));
  {
    const char *args[] = { max, NULL };
    reply_text (s, T_ASK_PARTY, args);
  }
  s->c->state = PV_CONVERSATION_PARTY;
}

static void
ask_confirm (Step *s)
{
  const PvCategory *category = offered_category (s, s->c->category);
  g_autofree char *day = NULL, *people = NULL;

  if (category == NULL)
    return ask_category (s);
  day = validity_label (s, category, s->c->day);
  people = people_label (s, MAX (s->c->party, 1));
  {
    const char *args[] = { s->c->name, category->name, day, people, NULL };
    reply_text (s, T_CONFIRM, args);
  }
  s->c->state = PV_CONVERSATION_CONFIRM;
}

/* The caption the ticket's image goes with. */
static char *
caption (Step *s, const PvCategory *category, int day, guint party, const char *name, const char *serial)
{
  g_autofree char *validity = validity_label (s, category, day);
  g_autofree char *people = people_label (s, party);
  const char *args[] = { pv_event_get_name (s->event), name ? name : "", category->name, validity, people,
                         serial, NULL };

  return say (s->lang, T_CAPTION, args);
}

static void
queue_ticket (Step *s, guint16 issuer, guint32 serial, char *body)
{
  Outgoing *o = g_new0 (Outgoing, 1);

  o->kind = PV_OUTBOX_TICKET;
  o->body = body;
  o->issuer = issuer;
  o->serial = serial;
  g_ptr_array_add (s->out, o);
}

/* "ticket" in a chat that made none: the tickets registered elsewhere
 * (the web page, a desk) with this very phone, newest first. Writing from
 * it shows the visitor holds it, which a form that names a number does
 * not: the web page sends visitors here (pv-hub-web.c) rather than sending
 * to the number typed in. */
#define MAX_PHONE_TICKETS 10

static gboolean
send_phone_tickets (Step *s, GError **error)
{
  g_autoptr (GPtrArray) found = pv_tickets_search (s->store, s->phone, MAX_PHONE_TICKETS * 2, error);
  guint sent = 0;

  if (found == NULL)
    return FALSE;
  for (guint i = 0; i < found->len && sent < MAX_PHONE_TICKETS; i++)
    {
      PvTicketInfo *info = g_ptr_array_index (found, i);
      const PvCategory *category = pv_event_get_category (s->event, info->category);

      /* The search pools readings (a name may hold the digits): only the
       * tickets issued to this very phone. */
      if (!info->known || info->revoked || category == NULL || g_strcmp0 (info->phone, s->phone) != 0)
        continue;
      queue_ticket (s, info->issuer, info->serial,
                    caption (s, category, info->day == PV_TICKET_DAY_NONE ? -1 : info->day, info->party, info->name,
                             info->serial_text));
      sent++;
    }
  if (sent == 0)
    reply_text (s, T_NO_TICKET, NULL);
  return TRUE;
}

/* "ticket": the last ticket of this chat again, as the gate will see it. */
static gboolean
send_ticket_again (Step *s, GError **error)
{
  g_auto (PvTicketInfo) info = { 0 };
  const PvCategory *category;

  if (s->c->ticket_serial == 0)
    return send_phone_tickets (s, error);
  if (!pv_tickets_lookup (s->store, s->c->ticket_issuer, s->c->ticket_serial, &info, error))
    return FALSE;
  if (!info.known || info.revoked)
    {
      g_autofree char *serial = pv_ticket_format_serial (s->c->ticket_issuer, s->c->ticket_serial);
      const char *args[] = { serial, NULL };
      reply_text (s, T_REVOKED, args);
      return TRUE;
    }
  category = pv_event_get_category (s->event, info.category);
  if (category == NULL)
    {
      reply_text (s, T_NOT_AVAILABLE, NULL);
      return TRUE;
    }
  queue_ticket (s, info.issuer, info.serial,
                caption (s, category, info.day == PV_TICKET_DAY_NONE ? -1 : info.day, info.party, info.name,
                         info.serial_text));
  return TRUE;
}

/* Whether this phone has had as many tickets from the bot in the last hour
 * as PvBotOptions allows; *@out_until is when it may have the next. A
 * script answering "new" and "1" in a loop gets no more than that. */
static gboolean
reached_ticket_limit (Step *s, gboolean *out_reached, gint64 *out_until, GError **error)
{
  guint limit = s->options ? s->options->tickets_per_hour : 0;
  sqlite3_stmt *stmt;
  int rc;

  *out_reached = FALSE;
  if (limit == 0)
    return TRUE;
  /* The limit-th newest ticket within the hour, if there is one. */
  stmt = pv_store_prepare (s->store,
                           "SELECT t.issued_at FROM people p "
                           "JOIN tickets t ON t.issuer = p.issuer AND t.serial = p.serial "
                           "WHERE p.phone = ?1 AND t.channel = '" CHANNEL "' AND t.issued_at > ?2 "
                           "ORDER BY t.issued_at DESC LIMIT 1 OFFSET ?3",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, s->phone, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, s->now - G_TIME_SPAN_HOUR);
  sqlite3_bind_int64 (stmt, 3, limit - 1);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out_reached = TRUE;
      *out_until = sqlite3_column_int64 (stmt, 0) + G_TIME_SPAN_HOUR;
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || pv_store_fail (s->store, error, "Cannot count the tickets");
}

/* Says so when the limit is reached; FALSE only for a store failure. */
static gboolean
check_ticket_limit (Step *s, gboolean *out_reached, GError **error)
{
  gint64 until = 0;

  if (!reached_ticket_limit (s, out_reached, &until, error))
    return FALSE;
  if (*out_reached)
    {
      g_autofree char *n = g_strdup_printf ("%u", s->options->tickets_per_hour);
      /* The minute it may be tried again, rounded up, on the event's clock. */
      g_autofree char *at = pv_event_format_time (s->event, until + 59 * G_USEC_PER_SEC, "%H:%M");
      const char *args[] = { n, at ? at : "", NULL };

      g_message ("WhatsApp bot: a visitor reached the limit of %u tickets an hour", s->options->tickets_per_hour);
      reply_text (s, T_TOO_MANY_TICKETS, args);
    }
  return TRUE;
}

static gboolean
issue_ticket (Step *s, GError **error)
{
  const PvCategory *category = offered_category (s, s->c->category);
  g_autoptr (GPtrArray) issued = NULL;
  const PvDeviceInfo *self;
  PvIssuedTicket *ticket;
  PvIssueRequest request = { 0 };
  gboolean reached = FALSE;

  /* What was fine when asked may not be now: the organisers changed the
   * event, or the chosen day has gone by while the visitor was away. */
  if (category == NULL)
    {
      reply_text (s, T_NOT_AVAILABLE, NULL);
      ask_category (s);
      return TRUE;
    }
  if (category->validity == PV_VALIDITY_CHOSEN_DAY && !day_offered (s, s->c->day))
    {
      reply_text (s, T_NOT_AVAILABLE, NULL);
      ask_day_or_next (s);
      return TRUE;
    }
  if (category->validity != PV_VALIDITY_CHOSEN_DAY)
    s->c->day = -1;
  if (s->c->party < 1 || s->c->party > category->max_party)
    {
      reply_text (s, T_NOT_AVAILABLE, NULL);
      ask_party_or_next (s);
      return TRUE;
    }
  self = pv_store_lookup_device (s->store, pv_store_get_device_id (s->store));
  if (!s->may_issue || self == NULL || !pv_role_can_issue (self->role) || self->revoked_at != G_MAXINT64)
    {
      if (s->may_issue)
        g_warning ("WhatsApp bot: this hub may not issue tickets (its device is revoked or not enrolled)");
      reply_text (s, T_ISSUE_FAILED, NULL);
      return TRUE;
    }
  /* The conversation stays at the confirmation: "1" after the hour works. */
  if (!check_ticket_limit (s, &reached, error))
    return FALSE;
  if (reached)
    return TRUE;

  request.category = category->name;
  request.day = s->c->day;
  request.party = s->c->party;
  request.count = 1;
  request.name = s->c->name;
  request.phone = s->phone;
  request.channel = CHANNEL;
  if (!(issued = pv_tickets_issue (s->store, &request, error)))
    return FALSE;
  ticket = g_ptr_array_index (issued, 0);
  s->c->ticket_issuer = ticket->ticket.issuer;
  s->c->ticket_serial = ticket->ticket.serial;
  s->c->state = PV_CONVERSATION_DONE;
  g_message ("WhatsApp bot issued ticket %s", ticket->serial);
  queue_ticket (s, ticket->ticket.issuer, ticket->ticket.serial,
                caption (s, category, s->c->day, s->c->party, s->c->name, ticket->serial));
  return TRUE;
}

/* Re-asks whatever the conversation is waiting for (after "help", or an
 * answer that is not text). */
static void
ask_again (Step *s)
{
  switch (s->c->state)
    {
    case PV_CONVERSATION_NEW:
    case PV_CONVERSATION_DONE:
      break;
    case PV_CONVERSATION_LANGUAGE:
      reply (s, g_strdup (LANGUAGE_CHOICES));
      break;
    case PV_CONVERSATION_NAME:
      ask_name (s);
      break;
    case PV_CONVERSATION_CATEGORY:
      ask_category (s);
      break;
    case PV_CONVERSATION_DAY:
      ask_day_or_next (s);
      break;
    case PV_CONVERSATION_PARTY:
      ask_party_or_next (s);
      break;
    case PV_CONVERSATION_CONFIRM:
      ask_confirm (s);
      break;
    }
}

static void
choose_again (Step *s, char *list)
{
  const char *args[] = { list, NULL };

  reply_text (s, T_CHOOSE_AGAIN, args);
  g_free (list);
}

static gboolean
step (Step *s, const char *text, GError **error)
{
  PvConversation *c = s->c;
  g_autofree char *folded = text ? fold (text) : NULL;
  int number = folded ? parse_number (folded) : -1;

  if (text == NULL)
    {
      if (c->state == PV_CONVERSATION_NEW)
        ask_language (s);
      else
        {
          reply_text (s, T_NOT_TEXT, NULL);
          ask_again (s);
        }
      return TRUE;
    }

  /* Commands work at any step. */
  if (is_one_of (folded, help_words))
    {
      const char *args[] = { pv_event_get_name (s->event), NULL };
      reply_text (s, T_HELP, args);
      ask_again (s);
      return TRUE;
    }
  if (is_one_of (folded, ticket_words))
    return send_ticket_again (s, error);
  if (is_one_of (folded, cancel_words))
    {
      reset_answers (c);
      c->state = PV_CONVERSATION_NEW;
      reply_text (s, T_CANCELLED, NULL);
      return TRUE;
    }
  if (is_one_of (folded, new_words))
    {
      gboolean reached = FALSE;

      /* No use asking for a name that cannot have a ticket now. */
      if (!check_ticket_limit (s, &reached, error))
        return FALSE;
      if (reached)
        return TRUE;
      reset_answers (c);
      if (s->lang == LANG_NONE)
        ask_language (s);
      else
        ask_name (s);
      return TRUE;
    }

  switch (c->state)
    {
    case PV_CONVERSATION_NEW:
      ask_language (s);
      break;

    case PV_CONVERSATION_LANGUAGE:
      if (is_one_of (folded, english_words) || is_one_of (folded, hindi_words))
        {
          gboolean hindi = is_one_of (folded, hindi_words);
          g_free (c->language);
          c->language = g_strdup (hindi ? "hi" : "en");
          s->lang = hindi ? LANG_HI : LANG_EN;
          ask_name (s);
        }
      else
        {
          g_autofree char *again = say (LANG_NONE, T_LANGUAGE_AGAIN, NULL);
          reply (s, g_strconcat (again, "\n\n", LANGUAGE_CHOICES, NULL));
        }
      break;

    case PV_CONVERSATION_NAME:
      {
        g_autofree char *name = clean_name (text);
        if (name == NULL)
          {
            reply_text (s, T_NAME_AGAIN, NULL);
            break;
          }
        g_free (c->name);
        c->name = g_steal_pointer (&name);
        ask_category (s);
      }
      break;

    case PV_CONVERSATION_CATEGORY:
      {
        const PvCategory *chosen = NULL;
        if (number >= 1 && number <= (int) s->n_categories)
          chosen = s->categories[number - 1];
        for (guint i = 0; chosen == NULL && i < s->n_categories; i++)
          {
            g_autofree char *name = fold (s->categories[i]->name);
            if (g_strcmp0 (name, folded) == 0)
              chosen = s->categories[i];
          }
        if (chosen == NULL)
          {
            if (s->n_categories == 0)
              ask_category (s);
            else
              choose_again (s, category_list (s));
            break;
          }
        c->category = chosen->id;
        c->day = -1;
        c->party = 0;
        ask_day_or_next (s);
      }
      break;

    case PV_CONVERSATION_DAY:
      {
        int day = -1;
        if (number >= 1 && number <= (int) s->n_days)
          day = s->days[number - 1];
        else if (number < 0)
          {
            int parsed = -1;
            if (pv_event_parse_day (s->event, folded, &parsed, NULL) && day_offered (s, parsed))
              day = parsed;
          }
        if (day < 0)
          {
            if (s->n_days == 0)
              ask_day_or_next (s);
            else
              choose_again (s, day_list (s));
            break;
          }
        c->day = day;
        ask_party_or_next (s);
      }
      break;

    case PV_CONVERSATION_PARTY:
      {
        const PvCategory *category = offered_category (s, c->category);
        guint max = category ? MIN (category->max_party, PV_MAX_PARTY) : 1;
        if (category == NULL)
          {
            ask_category (s);
            break;
          }
        if (number < 1 || (guint) number > max)
          {
            g_autofree char *text_max = g_strdup_printf ("%u", max);
            const char *args[] = { text_max, NULL };
            reply_text (s, T_PARTY_AGAIN, args);
            break;
          }
        c->party = (guint) number;
        ask_confirm (s);
      }
      break;

    case PV_CONVERSATION_CONFIRM:
      if (is_one_of (folded, yes_words))
        return issue_ticket (s, error);
      if (is_one_of (folded, no_words))
        {
          reply_text (s, T_START_AGAIN, NULL);
          reset_answers (c);
          ask_name (s);
        }
      else
        reply_text (s, T_CONFIRM_AGAIN, NULL);
      break;

    case PV_CONVERSATION_DONE:
      {
        g_autofree char *serial = pv_ticket_format_serial (c->ticket_issuer, c->ticket_serial);
        const char *args[] = { serial, NULL };
        reply_text (s, T_DONE, args);
      }
      break;
    }
  return TRUE;
}

static gboolean
valid_wa_id (const char *wa_id)
{
  gsize len = wa_id ? strlen (wa_id) : 0;

  if (len < 8 || len > 15)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (wa_id[i]))
      return FALSE;
  return TRUE;
}

/* One attempt in one transaction; @may_issue FALSE after a ticket failed.
 * *@pace is asked of the options the first time a fresh message comes by
 * (*@paced FALSE), and kept for a second attempt. */
static gboolean
receive_once (PvStore *store,
              const PvInbound *message,
              const char *phone,
              const char *text,
              const PvBotOptions *options,
              gboolean may_issue,
              PvBotPace *pace,
              gboolean *paced,
              guint *out_queued,
              GError **error)
{
  g_auto (PvConversation) c = { 0 };
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) outgoing_free);
  gboolean fresh = FALSE, found = FALSE;
  gint64 now, sent_at;
  Step s = { 0 };

  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  now = pv_store_now (store);
  sent_at = message->sent_at > 0 && message->sent_at < now ? message->sent_at : now;
  if (!mark_seen (store, message->message_id, now, &fresh, error))
    goto fail;
  if (!fresh)
    {
      *out_queued = 0;
      return pv_store_commit (store, error);
    }
  if (!load (store, message->wa_id, &c, &found, error))
    goto fail;
  c.last_inbound_at = MAX (c.last_inbound_at, sent_at);

  s.store = store;
  if (!(s.event = pv_store_get_event (store, error)))
    goto fail;
  s.options = options;
  s.now = now;
  s.phone = phone;
  s.c = &c;
  s.lang = lang_of (c.language);
  s.out = out;
  s.may_issue = may_issue;
  if (!*paced)
    {
      *pace = options && options->pace ? options->pace (message, options->pace_data) : PV_BOT_ANSWER;
      *paced = TRUE;
    }
  /* A message over its sender's limit still counts as written (it opens
   * the 24-hour window) but moves nothing. */
  if (*pace == PV_BOT_SLOW_DOWN)
    reply_text (&s, T_SLOW_DOWN, NULL);
  else if (*pace == PV_BOT_ANSWER)
    {
      offer_categories (&s);
      offer_days (&s);
      if (!step (&s, text, error))
        goto fail;
    }

  if (!save (store, &c, now, error))
    goto fail;
  for (guint i = 0; i < out->len; i++)
    {
      Outgoing *o = g_ptr_array_index (out, i);
      if (!pv_outbox_enqueue (store, CHANNEL, phone, o->kind, o->body, o->issuer, o->serial, NULL, error))
        goto fail;
    }
  if (!pv_store_commit (store, error))
    return FALSE;
  *out_queued = out->len;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

gboolean
pv_conversations_receive (PvStore *store,
                          const PvInbound *message,
                          const PvBotOptions *options,
                          guint *out_queued,
                          GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *phone = NULL, *text = NULL;
  gboolean nested = pv_store_in_transaction (store), paced = FALSE;
  PvBotPace pace = PV_BOT_ANSWER;
  guint queued = 0;

  if (!valid_wa_id (message->wa_id))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_MALFORMED,
                                "A WhatsApp id is 8 to 15 digits with the country code"),
           FALSE;
  if (message->message_id == NULL || *message->message_id == '\0' || strlen (message->message_id) > MAX_MESSAGE_ID
      || !g_utf8_validate (message->message_id, -1, NULL))
    return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "A WhatsApp message id is 1 to %d bytes of text",
                        MAX_MESSAGE_ID),
           FALSE;
  phone = g_strconcat ("+", message->wa_id, NULL);
  if (message->text != NULL)
    {
      /* Cut long texts at a character boundary; keep what is readable. */
      gsize len = strlen (message->text);
      const char *end = message->text + MIN (len, PV_CONVERSATION_MAX_TEXT);
      if (len > PV_CONVERSATION_MAX_TEXT)
        end = g_utf8_find_prev_char (message->text, end + 1);
      text = g_utf8_make_valid (message->text, end ? end - message->text : 0);
    }

  if (receive_once (store, message, phone, text, options, TRUE, &pace, &paced, &queued, &local_error))
    {
      if (out_queued)
        *out_queued = queued;
      return TRUE;
    }
  /* Only a ticket that failed on its own merits is worth telling the
   * visitor about; a store that fails fails the caller too. */
  if (nested || g_error_matches (local_error, PV_ERROR, PV_ERROR_STORE))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_warning ("WhatsApp bot: no ticket for a visitor: %s", local_error->message);
  if (!receive_once (store, message, phone, text, options, FALSE, &pace, &paced, &queued, error))
    return FALSE;
  if (out_queued)
    *out_queued = queued;
  return TRUE;
}

gboolean
pv_conversations_lookup (PvStore *store, const char *wa_id, PvConversation *out, GError **error)
{
  gboolean found = FALSE;

  if (!load (store, wa_id ? wa_id : "", out, &found, error))
    {
      pv_conversation_clear (out);
      return FALSE;
    }
  if (!found)
    {
      pv_conversation_clear (out);
      return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, "No WhatsApp conversation with %s",
                          wa_id ? wa_id : ""),
             FALSE;
    }
  return TRUE;
}

gboolean
pv_conversations_in_window (PvStore *store, const char *phone, gint64 now)
{
  const char *wa_id = phone && phone[0] == '+' ? phone + 1 : phone;
  sqlite3_stmt *stmt;
  gboolean in = FALSE;

  if (!valid_wa_id (wa_id)
      || !(stmt = pv_store_prepare (store, "SELECT last_inbound_at FROM whatsapp_conversations WHERE wa_id = ?1",
                                    NULL)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, wa_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 last = sqlite3_column_int64 (stmt, 0);
      in = last <= now && now - last < PV_WHATSAPP_WINDOW;
    }
  sqlite3_reset (stmt);
  return in;
}

gboolean
pv_conversations_forget_seen (PvStore *store, gint64 before, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "DELETE FROM whatsapp_seen WHERE seen_at < ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, before);
  return pv_store_step_done (store, stmt, error);
}

/* The inbox */

void
pv_inbox_item_free (PvInboxItem *item)
{
  g_bytes_unref (item->payload);
  g_free (item);
}

gboolean
pv_conversations_inbox_add (PvStore *store, GBytes *payload, gint64 *out_id, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "INSERT INTO whatsapp_inbox (payload, received_at) VALUES (?1, ?2)",
                                         error);
  gsize size = 0;
  gconstpointer data = g_bytes_get_data (payload, &size);

  if (stmt == NULL)
    return FALSE;
  /* An empty blob still binds as a blob, not as NULL. */
  sqlite3_bind_blob64 (stmt, 1, data ? data : "", size, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, pv_store_now (store));
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (out_id)
    *out_id = sqlite3_last_insert_rowid (pv_store_get_db (store));
  return TRUE;
}

GPtrArray *
pv_conversations_inbox_peek (PvStore *store, guint limit, GError **error)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_inbox_item_free);
  sqlite3_stmt *stmt = pv_store_prepare (
    store, "SELECT id, payload, received_at FROM whatsapp_inbox ORDER BY id LIMIT ?1", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvInboxItem *item = g_new0 (PvInboxItem, 1);

      item->id = sqlite3_column_int64 (stmt, 0);
      item->payload = g_bytes_new (sqlite3_column_blob (stmt, 1), (gsize) sqlite3_column_bytes (stmt, 1));
      item->received_at = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      pv_store_fail (store, error, "Cannot read the WhatsApp inbox");
      return NULL;
    }
  return g_steal_pointer (&items);
}

gboolean
pv_conversations_inbox_remove (PvStore *store, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, "DELETE FROM whatsapp_inbox WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  return pv_store_step_done (store, stmt, error);
}
