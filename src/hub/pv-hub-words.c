/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-words.c: the table of the public web pages' words. The English
 * is the message id; the Hindi is in po/hi.po, where the app's and the
 * WhatsApp bot's words are too, read per visitor by pv_i18n_lookup (). */
#include "config.h"

#include "pv-hub-words.h"

#include <glib/gi18n-lib.h>

#include "pv-i18n.h"

typedef struct
{
  const char *key;
  const char *context;
  const char *msgid;
} Word;

/* Translators: the words of the public registration page and its
 * messages. A {{name}} is filled in by the page (a date, a count, the
 * event's name) and must stay as it is; write plain text, never markup:
 * every value is escaped where it is put. */
static const Word words[] = {
  /* Translators: the link to this page in the other language, named in that language. */
  { "lang_switch", "web page", NC_ ("web page", "हिन्दी") },
  { "skip_link", "web page", NC_ ("web page", "Skip to the form and information") },
  { "footer_privacy", "web page", NC_ ("web page", "Your mobile number is used only to send you your ticket and to find it again. It is never printed on the ticket.") },
  { "when", "web page", NC_ ("web page", "When") },
  { "where", "web page", NC_ ("web page", "Where") },
  { "hours", "web page", NC_ ("web page", "Opening hours") },
  { "dates_range", "web page", NC_ ("web page", "{{first}} to {{last}}") },
  { "hours_every_day", "web page", NC_ ("web page", "{{open}} to {{close}}, every day") },
  { "hours_day", "web page", NC_ ("web page", "{{date}}: {{open}} to {{close}}") },
  { "tickets", "web page", NC_ ("web page", "Tickets") },
  { "register_now", "web page", NC_ ("web page", "Register and get your ticket") },
  { "find_ticket", "web page", NC_ ("web page", "Registered already? Find your ticket") },
  { "find_at_desk", "web page", NC_ ("web page", "Registered already and lost your ticket? The registration desk finds it again by your mobile number.") },
  { "closed", "web page", NC_ ("web page", "Registration is closed: the fair is over.") },
  { "no_categories", "web page", NC_ ("web page", "No tickets can be had here. Please ask at the registration desk.") },
  { "cat_chosen_day", "web page", NC_ ("web page", "For one day you choose") },
  { "cat_any_day", "web page", NC_ ("web page", "For any one day: your first entry fixes the day") },
  { "cat_every_day", "web page", NC_ ("web page", "Every day of the fair") },
  { "cat_entries_unlimited", "web page", NC_ ("web page", "Come and go as often as you like") },
  { "cat_entries_one", "web page", NC_ ("web page", "One entry a day") },
  { "cat_entries_n", "web page", NC_ ("web page", "{{n}} entries a day") },
  { "cat_reentry", "web page", NC_ ("web page", "You may leave and come back") },
  { "cat_no_reentry", "web page", NC_ ("web page", "No re-entry after leaving") },
  { "cat_party_one", "web page", NC_ ("web page", "Admits one person") },
  { "cat_party_n", "web page", NC_ ("web page", "Admits a group of up to {{n}} with one scan") },
  { "cat_gates", "web page", NC_ ("web page", "Only at: {{gates}}") },
  { "register_title", "web page", NC_ ("web page", "Register") },
  { "register_intro", "web page", NC_ ("web page", "It takes a minute. Your ticket’s QR code appears as soon as you send the form.") },
  { "field_name", "web page", NC_ ("web page", "Your name") },
  { "hint_name", "web page", NC_ ("web page", "The person or group the ticket is for.") },
  { "field_phone", "web page", NC_ ("web page", "Mobile number") },
  { "hint_phone", "web page", NC_ ("web page", "10 digits, or with the country code. Used only to find your ticket again.") },
  /* The form field where the visitor chooses a kind of ticket. */
  { "field_category", "web form field", NC_ ("web form field", "Ticket") },
  { "field_day", "web page", NC_ ("web page", "Day of your visit") },
  { "hint_day", "web page", NC_ ("web page", "Only for a ticket for one day you choose.") },
  { "choose_day", "web page", NC_ ("web page", "Choose a day") },
  { "field_party", "web page", NC_ ("web page", "Number of people") },
  { "hint_party", "web page", NC_ ("web page", "1 for a personal ticket; a school group gives its size.") },
  { "submit_register", "web page", NC_ ("web page", "Get my ticket") },
  { "errors_title", "web page", NC_ ("web page", "Please correct this:") },
  { "error_prefix", "web page", NC_ ("web page", "Error") },
  { "err_name_missing", "web page", NC_ ("web page", "Enter your name.") },
  { "err_name_long", "web page", NC_ ("web page", "Use at most 66 letters for the name.") },
  { "err_name_bytes", "web page", NC_ ("web page", "The name is too long to keep on a ticket. Please write a shorter form of it.") },
  { "err_name_chars", "web page", NC_ ("web page", "The name has characters that cannot be used.") },
  { "err_phone_missing", "web page", NC_ ("web page", "Enter your mobile number.") },
  { "err_phone", "web page", NC_ ("web page", "Enter a mobile number like 98765 43210, or one with its country code, like +91 98765 43210.") },
  { "err_phone_country", "web page", NC_ ("web page", "This fair sends messages only to mobile numbers starting {{countries}}. Enter such a number, or ask at the registration desk.") },
  { "err_category", "web page", NC_ ("web page", "Choose a ticket.") },
  { "err_day_missing", "web page", NC_ ("web page", "Choose the day of your visit.") },
  { "err_day", "web page", NC_ ("web page", "Choose one of the days in the list.") },
  { "err_party", "web page", NC_ ("web page", "Enter a number from 1 to {{max}} for this ticket.") },
  { "ticket_title", "web page", NC_ ("web page", "Your ticket") },
  { "tickets_title", "web page", NC_ ("web page", "Your tickets") },
  { "ticket_intro", "web page", NC_ ("web page", "Show this QR code at the gate. Save it now: take a screenshot, or download it.") },
  { "qr_label", "web page", NC_ ("web page", "QR code of ticket {{serial}}") },
  { "label_serial", "web page", NC_ ("web page", "Ticket number") },
  { "label_category", "web page", NC_ ("web page", "Ticket") },
  { "label_valid", "web page", NC_ ("web page", "Valid") },
  { "label_party", "web page", NC_ ("web page", "People") },
  { "label_name", "web page", NC_ ("web page", "Name") },
  { "valid_every_day", "web page", NC_ ("web page", "Every day of the fair") },
  { "valid_any_day", "web page", NC_ ("web page", "Any one day of the fair") },
  { "download_png", "web page", NC_ ("web page", "Download the QR code") },
  { "get_whatsapp", "web page", NC_ ("web page", "Get it on WhatsApp") },
  { "get_whatsapp_hint", "web page", NC_ ("web page", "This opens a chat with the fair's WhatsApp number. Send the message from the mobile number you registered with, and your ticket comes back in the chat.") },
  /* The word typed into that chat for the visitor: one the WhatsApp bot answers with the sender's tickets (src/core/pv-conversations.c). */
  { "whatsapp_word", "web page", NC_ ("web page", "ticket") },
  { "revoked_title", "web page", NC_ ("web page", "Ticket cancelled") },
  { "revoked", "web page", NC_ ("web page", "This ticket was cancelled and will not open the gate.") },
  { "link_expired", "web page", NC_ ("web page", "This link has expired. Find your ticket again with your mobile number.") },
  { "link_expired_desk", "web page", NC_ ("web page", "This link has expired. The registration desk can find your ticket again by your mobile number.") },
  { "register_another", "web page", NC_ ("web page", "Register someone else") },
  { "lookup_title", "web page", NC_ ("web page", "Find your ticket") },
  { "lookup_intro", "web page", NC_ ("web page", "Enter the mobile number you registered with. We will send a code to it.") },
  { "submit_send_code", "web page", NC_ ("web page", "Send me a code") },
  { "code_sent", "web page", NC_ ("web page", "If tickets were registered with {{phone}}, a 6-digit code is on its way to it. It is valid for 5 minutes.") },
  { "field_code", "web page", NC_ ("web page", "Code") },
  { "hint_code", "web page", NC_ ("web page", "The 6 digits in the message.") },
  { "submit_code", "web page", NC_ ("web page", "Show my tickets") },
  { "err_code", "web page", NC_ ("web page", "That code is wrong or has expired.") },
  { "err_code_budget", "web page", NC_ ("web page", "No more codes can be sent today. The registration desk can find your ticket again by your mobile number.") },
  { "code_again", "web page", NC_ ("web page", "No code? Ask for a new one") },
  { "code_message", "web page", NC_ ("web page", "{{event}}: your code to see your tickets is {{code}}. It is valid for 5 minutes. Do not share it.") },
  { "lookup_desk", "web page", NC_ ("web page", "Tickets are found again at the registration desk: tell them the mobile number you registered with.") },
  { "no_tickets", "web page", NC_ ("web page", "No tickets were found for this number.") },
  { "e400_title", "web page", NC_ ("web page", "The form could not be read") },
  { "e400_text", "web page", NC_ ("web page", "Something in what was sent is not right. Please go back and fill it in again.") },
  { "e403_title", "web page", NC_ ("web page", "The form has expired") },
  { "e403_text", "web page", NC_ ("web page", "For your safety, a form works for two hours and only on this site. Please fill it in again.") },
  { "e404_title", "web page", NC_ ("web page", "Page not found") },
  { "e404_text", "web page", NC_ ("web page", "There is no page at this address.") },
  { "e405_text", "web page", NC_ ("web page", "This page cannot be used that way.") },
  { "e429_title", "web page", NC_ ("web page", "Too many tries") },
  { "e429_text", "web page", NC_ ("web page", "Please wait {{wait}} and try again, after {{time}}.") },
  { "e503_title", "web page", NC_ ("web page", "Please try again") },
  { "e503_text", "web page", NC_ ("web page", "We could not make your ticket just now. Nothing was saved. Please try again in a minute.") },
  { "wait_seconds", "web page", NC_ ("web page", "{{n}} seconds") },
  { "wait_minutes", "web page", NC_ ("web page", "{{n}} minutes") },
  { "back_home", "web page", NC_ ("web page", "Back to the start") },
  { "fill_again", "web page", NC_ ("web page", "Fill in the form again") },
  /* Dates: {{weekday}}, {{day}} (of the month), {{month}}, {{year}}. */
  { "date_format", "web page", NC_ ("web page", "{{weekday}} {{day}} {{month}} {{year}}") },
  { "weekday_1", "date", NC_ ("date", "Mon") },
  { "weekday_2", "date", NC_ ("date", "Tue") },
  { "weekday_3", "date", NC_ ("date", "Wed") },
  { "weekday_4", "date", NC_ ("date", "Thu") },
  { "weekday_5", "date", NC_ ("date", "Fri") },
  { "weekday_6", "date", NC_ ("date", "Sat") },
  { "weekday_7", "date", NC_ ("date", "Sun") },
  { "month_1", "date", NC_ ("date", "Jan") },
  { "month_2", "date", NC_ ("date", "Feb") },
  { "month_3", "date", NC_ ("date", "Mar") },
  { "month_4", "date", NC_ ("date", "Apr") },
  { "month_5", "date", NC_ ("date", "May") },
  { "month_6", "date", NC_ ("date", "Jun") },
  { "month_7", "date", NC_ ("date", "Jul") },
  { "month_8", "date", NC_ ("date", "Aug") },
  { "month_9", "date", NC_ ("date", "Sep") },
  { "month_10", "date", NC_ ("date", "Oct") },
  { "month_11", "date", NC_ ("date", "Nov") },
  { "month_12", "date", NC_ ("date", "Dec") },
};

/* Key → Word, made once and kept for the process's life. */
static GHashTable *
index_words (void)
{
  static gsize once;
  static GHashTable *index;

  if (g_once_init_enter (&once))
    {
      index = g_hash_table_new (g_str_hash, g_str_equal);
      for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
        g_hash_table_insert (index, (char *) words[i].key, (Word *) &words[i]);
      g_once_init_leave (&once, 1);
    }
  return index;
}

const char *
pv_hub_word (const char *lang, const char *key)
{
  const Word *word = g_hash_table_lookup (index_words (), key);

  return word ? pv_i18n_translate (lang, word->context, word->msgid) : NULL;
}

guint
pv_hub_words_check (const char *lang)
{
  guint missing = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    if (pv_i18n_lookup (lang, words[i].context, words[i].msgid) == NULL)
      {
        g_warning ("The %s translation lacks “%s” (%s): visitors read it in English", lang,
                   words[i].msgid, words[i].key);
        missing++;
      }
  return missing;
}
