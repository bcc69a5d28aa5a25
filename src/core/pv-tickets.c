/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tickets.c: tickets at a desk. Issuance: a desk signs with its own
 * device key, so it can issue with no network; the ledger gets the code and
 * a salted digest of the visitor's name and phone, the people table gets the
 * name and phone. Finding a ticket again by what a visitor can tell a
 * volunteer: serial, phone or its last digits, name. Revoking, and asking
 * the hub to send a ticket, which travels as a record like everything else
 * so a desk that is offline now asks all the same. */
#include "config.h"

#include "pv-tickets.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "pv-batch.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-fold-private.h"
#include "pv-ledger.h"
#include "pv-store-private.h"

/* Sections: issuing; revoking; looking up and searching; a ticket's scans;
 * deliveries. */

void
pv_issued_ticket_free (PvIssuedTicket *issued)
{
  if (issued == NULL)
    return;
  g_free (issued->code);
  g_free (issued->serial);
  g_free (issued);
}

/* One wording wherever a number is typed (the desk, the Volunteers page,
 * sign-in): what a volunteer can type instead. */
static void
set_phone_error (GError **error)
{
  g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                       _ ("That is not a mobile number: type its 10 digits, or + and the country code"));
}

char *
pv_normalize_phone (const char *phone, GError **error)
{
  g_autoptr (GString) digits = g_string_new (NULL);
  gboolean plus = FALSE;

  for (const char *p = phone ? phone : ""; *p; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (*p == '+' && digits->len == 0 && !plus)
        plus = TRUE;
      else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')')
        {
          set_phone_error (error);
          return NULL;
        }
    }
  /* "00" is how the international prefix is dialled in India and most of
   * the world: "0091 98…" is "+91 98…". */
  if (!plus && digits->len > 2 && digits->str[0] == '0' && digits->str[1] == '0')
    {
      g_string_erase (digits, 0, 2);
      plus = TRUE;
    }
  /* A bare 10-digit number is Indian, the local case at an Indian fair. */
  if (!plus && digits->len == 10)
    g_string_prepend (digits, "91");
  if (!plus && digits->len == 11 && digits->str[0] == '0')
    {
      g_string_erase (digits, 0, 1);
      g_string_prepend (digits, "91");
    }
  /* Country codes start at 1: "+0…" is a local number with a + typed in
   * front, which would be a second key for one phone. */
  if (plus && digits->len > 0 && digits->str[0] == '0')
    {
      set_phone_error (error);
      return NULL;
    }
  if (digits->len < 8 || digits->len > 15)
    {
      set_phone_error (error);
      return NULL;
    }
  g_string_prepend_c (digits, '+');
  return g_string_free (g_steal_pointer (&digits), FALSE);
}

static gboolean
validate_request (PvStore *store, PvEvent *event, const PvIssueRequest *request,
                  const PvCategory **out_category, char **out_phone, GError **error)
{
  const PvCategory *category = pv_event_find_category (event, request->category);
  guint party = MAX (request->party, 1);
  guint count = MAX (request->count, 1);
  const PvDeviceInfo *self = pv_store_lookup_device (store, pv_store_get_device_id (store));
  gint64 now = pv_store_now (store);

  if (self == NULL || !pv_role_can_issue (self->role))
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "This device (%s) may not issue tickets",
                        self ? pv_role_to_string (self->role) : "not enrolled"),
           FALSE;
  if (self->revoked_at != G_MAXINT64)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                                "This device has been revoked and may not issue tickets"),
           FALSE;
  /* Every gate refuses a ticket signed outside its issuer's certificate
   * (a minute's drift allowed, as the gates allow) or used after the last
   * day: making one would only send its holder away at the gate. */
  if (pv_event_day_at (event, now) >= (int) pv_event_get_n_days (event))
    {
      g_autofree char *last = pv_event_day_date (event, (int) pv_event_get_n_days (event) - 1);

      return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                          _ ("The event ended on %s: every gate would refuse a ticket issued now"), last),
             FALSE;
    }
  if (now + 60 * G_USEC_PER_SEC < self->valid_from)
    {
      g_autofree char *from = pv_event_format_time (event, self->valid_from, "%F %H:%M");

      return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                          _ ("This device may issue tickets from %s on: every gate would refuse a ticket issued "
                             "now. Check this computer’s clock"),
                          from),
             FALSE;
    }
  if (now > self->valid_until)
    {
      g_autofree char *until = pv_event_format_time (event, self->valid_until, "%F %H:%M");

      return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                          _ ("This device could issue tickets until %s: every gate would refuse a ticket issued "
                             "now. Check this computer’s clock, or pair it again"),
                          until),
             FALSE;
    }
  if (category == NULL)
    {
      g_autoptr (GString) names = g_string_new (NULL);
      GPtrArray *all = pv_event_get_categories (event);
      for (guint i = 0; i < all->len; i++)
        g_string_append_printf (names, "%s“%s”", i ? ", " : "",
                                ((PvCategory *) g_ptr_array_index (all, i))->name);
      return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                          "There is no category “%s”; the event has %s",
                          request->category ? request->category : "", names->str),
             FALSE;
    }
  if (category->validity == PV_VALIDITY_CHOSEN_DAY && request->day < 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "A “%s” ticket is for one day: say which", category->name),
           FALSE;
  if (category->validity != PV_VALIDITY_CHOSEN_DAY && request->day >= 0)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "A “%s” ticket is valid %s; it takes no day",
                        category->name,
                        category->validity == PV_VALIDITY_EVERY_DAY ? "every day" : "on any one day"),
           FALSE;
  if (request->day >= (int) pv_event_get_n_days (event))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "Day %d is not part of the event",
                        request->day + 1),
           FALSE;
  if (party > category->max_party)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "A “%s” ticket admits at most %u, not %u", category->name,
                        category->max_party, party),
           FALSE;
  if (count > PV_MAX_BULK_ISSUE)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "At most %d tickets at once, not %u", PV_MAX_BULK_ISSUE, count),
           FALSE;
  if (request->name && !g_utf8_validate (request->name, -1, NULL))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                _ ("The name has characters that cannot be used: type it again")),
           FALSE;
  /* Counted as a person counts, in characters; the bytes a ticket keeps
   * are checked too, for the rare name of 4-byte characters. */
  if (request->name
      && (g_utf8_strlen (request->name, -1) > PV_TICKET_NAME_MAX_CHARS || strlen (request->name) > PV_TICKET_NAME_MAX_BYTES))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        _ ("A name is at most %d characters long: write a shorter form of it"),
                        PV_TICKET_NAME_MAX_CHARS),
           FALSE;
  *out_phone = NULL;
  if (request->phone && *request->phone && !(*out_phone = pv_normalize_phone (request->phone, error)))
    return FALSE;
  *out_category = category;
  return TRUE;
}

static gboolean
store_person (PvStore *store, const PvTicket *ticket, const char *name, const char *phone,
              guint8 digest[PV_PII_DIGEST_SIZE], GError **error)
{
  guint8 salt[PV_PII_SALT_SIZE];
  sqlite3_stmt *stmt;

  /* The salt keeps a phone number from being found in the ledger by hashing
   * every number in India. */
  randombytes_buf (salt, sizeof salt);
  pv_person_digest (salt, name, phone, digest);

  stmt = pv_store_prepare (store,
                           "INSERT INTO people (issuer, serial, name, phone, salt) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, ticket->issuer);
  sqlite3_bind_int64 (stmt, 2, ticket->serial);
  sqlite3_bind_text (stmt, 3, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, phone, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 5, salt, sizeof salt, SQLITE_STATIC);
  return pv_store_step_done (store, stmt, error);
}

GPtrArray *
pv_tickets_issue (PvStore *store, const PvIssueRequest *request, GError **error)
{
  g_autoptr (GPtrArray) issued = NULL;
  g_autofree char *phone = NULL;
  const PvCategory *category;
  guint8 sk[PV_SECRET_KEY_SIZE];
  PvEvent *event;
  guint count = MAX (request->count, 1);
  gint64 serial;
  gboolean has_person;

  /* The event is read inside the transaction: beginning it may find that
   * another handle changed the file, and drop what this one had cached. */
  if (!pv_store_begin (store, TRUE, error))
    return NULL;
  if (!(event = pv_store_get_event (store, error))
      || !validate_request (store, event, request, &category, &phone, error)
      || !pv_store_get_device_secret_key (store, sk, error))
    goto fail;
  has_person = (request->name && *request->name) || phone;

  issued = g_ptr_array_new_full (count, (GDestroyNotify) pv_issued_ticket_free);
  serial = pv_store_get_meta_int (store, "next-serial", 1);
  for (guint i = 0; i < count; i++, serial++)
    {
      PvIssuedTicket *one = g_new0 (PvIssuedTicket, 1);
      guint8 digest[PV_PII_DIGEST_SIZE];

      g_ptr_array_add (issued, one);
      if (serial > G_MAXUINT32)
        {
          g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                               "This device has used up its ticket serial numbers");
          goto fail;
        }
      one->ticket = (PvTicket){
        .version = PV_TICKET_FORMAT_VERSION,
        .event_id = pv_event_get_id (event),
        .issuer = pv_store_get_device_id (store),
        .serial = (guint32) serial,
        .category = category->id,
        .day = request->day >= 0 ? (guint8) request->day : PV_TICKET_DAY_NONE,
        .party = (guint16) MAX (request->party, 1),
        .issued_at = (guint32) (pv_store_now (store) / G_USEC_PER_SEC),
      };
      one->code = pv_ticket_sign (&one->ticket, sk);
      one->serial = pv_ticket_format_serial (one->ticket.issuer, one->ticket.serial);
      if (has_person
          && !store_person (store, &one->ticket, request->name ? request->name : "",
                            phone ? phone : "", digest, error))
        goto fail;
      if (!pv_ledger_append (store, PV_RECORD_TICKET_ISSUED,
                             g_variant_new ("(s@ays)", one->code,
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, digest,
                                                                       has_person ? sizeof digest : 0, 1),
                                            request->channel ? request->channel : "desk"),
                             NULL, error))
        goto fail;
    }
  if (!pv_store_set_meta_int (store, "next-serial", serial, error) || !pv_store_commit (store, error))
    goto fail;
  sodium_memzero (sk, sizeof sk);
  return g_steal_pointer (&issued);

fail:
  sodium_memzero (sk, sizeof sk);
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return NULL;
}

gboolean
pv_tickets_revoke (PvStore *store, guint16 issuer, guint32 serial, const char *reason, GError **error)
{
  if (reason == NULL || *reason == '\0')
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "Say why the ticket is revoked"),
           FALSE;
  return pv_ledger_append (store, PV_RECORD_TICKET_REVOKED,
                           g_variant_new ("(quxs)", issuer, serial, pv_store_now (store), reason),
                           NULL, error);
}

/* Looking up and searching */

void
pv_ticket_info_clear (PvTicketInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial_text);
  g_free (info->channel);
  g_free (info->code);
  g_free (info->revoke_reason);
  g_free (info->name);
  g_free (info->phone);
  *info = (PvTicketInfo){ 0 };
}

void
pv_ticket_info_free (PvTicketInfo *info)
{
  if (info == NULL)
    return;
  pv_ticket_info_clear (info);
  g_free (info);
}

static char *
column_dup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

gboolean
pv_tickets_lookup (PvStore *store, guint16 issuer, guint32 serial, PvTicketInfo *out, GError **error)
{
  static const char *const queries[] = {
    ("SELECT category, day, party, channel, issued_at, code FROM tickets "
     "WHERE issuer = ?1 AND serial = ?2"),
    "SELECT revoked_at, reason FROM ticket_revocations WHERE issuer = ?1 AND serial = ?2",
    "SELECT name, phone FROM people WHERE issuer = ?1 AND serial = ?2",
  };

  g_return_val_if_fail (out != NULL, FALSE);
  *out = (PvTicketInfo){
    .issuer = issuer,
    .serial = serial,
    .serial_text = pv_ticket_format_serial (issuer, serial),
    .day = PV_TICKET_DAY_NONE,
  };
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      sqlite3_stmt *stmt = pv_store_prepare (store, queries[q], error);
      int rc;

      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int (stmt, 1, issuer);
      sqlite3_bind_int64 (stmt, 2, serial);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW && q == 0)
        {
          out->known = TRUE;
          out->category = (guint8) sqlite3_column_int (stmt, 0);
          out->day = (guint8) sqlite3_column_int (stmt, 1);
          out->party = (guint16) sqlite3_column_int (stmt, 2);
          out->channel = column_dup (stmt, 3);
          out->issued_at = sqlite3_column_int64 (stmt, 4);
          out->code = column_dup (stmt, 5);
        }
      else if (rc == SQLITE_ROW && q == 1)
        {
          out->revoked = TRUE;
          out->revoked_at = sqlite3_column_int64 (stmt, 0);
          out->revoke_reason = column_dup (stmt, 1);
        }
      else if (rc == SQLITE_ROW && q == 2)
        {
          /* Empty strings are how a ticket without a name or phone is kept. */
          if (sqlite3_column_bytes (stmt, 0) > 0)
            out->name = column_dup (stmt, 0);
          if (sqlite3_column_bytes (stmt, 1) > 0)
            out->phone = column_dup (stmt, 1);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        {
          pv_store_fail (store, error, "Cannot read the ticket");
          goto fail;
        }
    }
  return TRUE;

fail:
  pv_ticket_info_clear (out);
  return FALSE;
}

/* Tickets found so far, each once, as issuer << 32 | serial. */
typedef struct
{
  GArray *keys;
  GHashTable *seen;
} Found;

static void
found_add (Found *found, guint16 issuer, guint32 serial)
{
  guint64 key = (guint64) issuer << 32 | serial;

  if (g_hash_table_add (found->seen, g_memdup2 (&key, sizeof key)))
    g_array_append_val (found->keys, key);
}

/* Runs @sql, which selects (issuer, serial) given @text in ?1, @more (if
 * not NULL) in ?2 and @limit in ?3, adding every row to @found. */
static gboolean
find_by (PvStore *store, const char *sql, const char *text, const char *more, guint limit, Found *found,
         GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, text, -1, SQLITE_STATIC);
  if (more != NULL)
    sqlite3_bind_text (stmt, 2, more, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    found_add (found, (guint16) sqlite3_column_int (stmt, 0), (guint32) sqlite3_column_int64 (stmt, 1));
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot search the tickets");
}

/* The digits of @text, backwards, when it is written like the end of a
 * phone number (digits, spaces, dashes, brackets, no leading +); else NULL. */
static char *
reversed_digits (const char *text)
{
  g_autoptr (GString) digits = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_prepend_c (digits, *p);
      else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')' && *p != '.')
        return NULL;
    }
  return g_string_free (g_steal_pointer (&digits), FALSE);
}

static gboolean
has_letter (const char *text)
{
  if (!g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_isalpha (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static int
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const PvTicketInfo *x = *(const PvTicketInfo *const *) a, *y = *(const PvTicketInfo *const *) b;

  if (x->issued_at != y->issued_at)
    return x->issued_at > y->issued_at ? -1 : 1;
  if (x->issuer != y->issuer)
    return x->issuer > y->issuer ? -1 : 1;
  return x->serial > y->serial ? -1 : x->serial < y->serial;
}

/* The known tickets among @found, newest first, at most @limit. */
static GPtrArray *
load_found (PvStore *store, GArray *keys, guint limit, GError **error)
{
  g_autoptr (GPtrArray) infos = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_ticket_info_free);

  for (guint i = 0; i < keys->len; i++)
    {
      guint64 key = g_array_index (keys, guint64, i);
      g_autoptr (PvTicketInfo) info = g_new0 (PvTicketInfo, 1);

      if (!pv_tickets_lookup (store, (guint16) (key >> 32), (guint32) key, info, error))
        return NULL;
      if (info->known)
        g_ptr_array_add (infos, g_steal_pointer (&info));
    }
  g_ptr_array_sort (infos, compare_newest_first);
  if (infos->len > limit)
    g_ptr_array_set_size (infos, limit);
  return g_steal_pointer (&infos);
}

GPtrArray *
pv_tickets_search (PvStore *store, const char *text, guint limit, GError **error)
{
  g_autofree char *query = g_strstrip (g_strdup (text ? text : ""));
  g_autofree char *phone = NULL, *tail = NULL;
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  Found found = { keys, seen };
  gboolean is_serial = FALSE;
  PvTicket ticket;
  guint16 issuer;
  guint32 serial;

  if (*query == '\0' || limit == 0)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) pv_ticket_info_free);

  /* A serial, or a whole code from a scanner that types into the box. */
  if (g_str_has_prefix (query, PV_TICKET_CODE_PREFIX) && pv_ticket_parse (query, -1, &ticket, NULL))
    {
      found_add (&found, ticket.issuer, ticket.serial);
      is_serial = TRUE;
    }
  else if (pv_ticket_parse_serial (query, &issuer, &serial, NULL))
    {
      found_add (&found, issuer, serial);
      is_serial = TRUE;
    }

  /* Every people query below finds nothing on a gate, which holds none. */
  phone = pv_normalize_phone (query, NULL);
  if (phone != NULL
      && !find_by (store,
                   "SELECT t.issuer, t.serial FROM people p "
                   "JOIN tickets t ON t.issuer = p.issuer AND t.serial = p.serial "
                   "WHERE p.phone = ?1 ORDER BY t.issued_at DESC, t.issuer DESC, t.serial DESC LIMIT ?3",
                   phone, NULL, limit, &found, error))
    return NULL;

  /* The last digits, as a visitor reads them out: a range of the index over
   * phones written backwards, from @tail to just past every string that
   * starts with it. "3-145" reads as a serial, not as digits. */
  tail = is_serial ? NULL : reversed_digits (query);
  if (tail != NULL && strlen (tail) >= 4)
    {
      g_autofree char *end = g_strdup (tail);

      end[strlen (end) - 1]++;
      if (!find_by (store,
                    "SELECT t.issuer, t.serial FROM people p "
                    "JOIN tickets t ON t.issuer = p.issuer AND t.serial = p.serial "
                    "WHERE p.phone_tail >= ?1 AND p.phone_tail < ?2 "
                    "ORDER BY t.issued_at DESC, t.issuer DESC, t.serial DESC LIMIT ?3",
                    tail, end, limit, &found, error))
        return NULL;
    }

  /* A name: SQLite's LIKE folds ASCII only, so names are compared folded
   * by GLib, in every person held (CROSS JOIN keeps people the outer loop,
   * so the test runs before any ticket is looked up). */
  if (has_letter (query))
    {
      g_autofree char *needle = _pv_fold (query);

      if (needle != NULL
          && !find_by (store,
                       "SELECT t.issuer, t.serial FROM people p "
                       "CROSS JOIN tickets t ON t.issuer = p.issuer AND t.serial = p.serial "
                       "WHERE pv_name_contains (p.name, ?1) "
                       "ORDER BY t.issued_at DESC, t.issuer DESC, t.serial DESC LIMIT ?3",
                       needle, NULL, limit, &found, error))
        return NULL;
    }
  return load_found (store, keys, limit, error);
}

GPtrArray *
pv_tickets_recent (PvStore *store, guint16 issuer, guint limit, GError **error)
{
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  sqlite3_stmt *stmt;
  int rc;

  /* A device's serials count up as it issues: the highest are its newest,
   * whatever its clock said. */
  stmt = pv_store_prepare (store,
                           "SELECT serial FROM tickets WHERE issuer = ?1 ORDER BY serial DESC LIMIT ?2",
                           error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint64 key = (guint64) issuer << 32 | (guint32) sqlite3_column_int64 (stmt, 0);
      g_array_append_val (keys, key);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read tickets"), NULL;
  {
    g_autoptr (GPtrArray) infos = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_ticket_info_free);

    for (guint i = 0; i < keys->len; i++)
      {
        g_autoptr (PvTicketInfo) info = g_new0 (PvTicketInfo, 1);

        if (!pv_tickets_lookup (store, issuer, (guint32) g_array_index (keys, guint64, i), info, error))
          return NULL;
        g_ptr_array_add (infos, g_steal_pointer (&info));
      }
    return g_steal_pointer (&infos);
  }
}

/* A ticket's scans */

void
pv_scan_info_free (PvScanInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->gate);
  g_free (info->device_name);
  g_free (info);
}

GPtrArray *
pv_tickets_history (PvStore *store, guint16 issuer, guint32 serial, GError **error)
{
  g_autoptr (GPtrArray) scans = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_scan_info_free);
  /* scans_ticket has the ticket's scans in canonical order already. */
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT s.device_id, s.seq, s.at, s.day, s.gate, d.name, s.party, "
                                         "       s.is_exit, s.offline, s.is_double, s.is_void "
                                         "FROM scans s LEFT JOIN devices d ON d.id = s.device_id "
                                         "WHERE s.issuer = ?1 AND s.serial = ?2 "
                                         "ORDER BY s.hlc, s.device_id, s.seq",
                                         error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvScanInfo *scan = g_new0 (PvScanInfo, 1);

      scan->device_id = (guint16) sqlite3_column_int (stmt, 0);
      scan->seq = (guint64) sqlite3_column_int64 (stmt, 1);
      scan->at = sqlite3_column_int64 (stmt, 2);
      scan->day = sqlite3_column_int (stmt, 3);
      scan->gate = column_dup (stmt, 4);
      scan->device_name = column_dup (stmt, 5);
      scan->party = (guint) sqlite3_column_int (stmt, 6);
      scan->is_exit = sqlite3_column_int (stmt, 7) != 0;
      scan->offline = sqlite3_column_int (stmt, 8) != 0;
      scan->is_double = sqlite3_column_int (stmt, 9) != 0;
      scan->is_void = sqlite3_column_int (stmt, 10) != 0;
      g_ptr_array_add (scans, scan);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read the ticket’s scans"), NULL;
  return g_steal_pointer (&scans);
}

/* Deliveries */

void
pv_delivery_free (PvDelivery *delivery)
{
  if (delivery == NULL)
    return;
  g_free (delivery->channel);
  g_free (delivery->status);
  g_free (delivery);
}

/* Why the visitor of a held ticket has no phone here. */
static void
set_no_phone_error (PvStore *store, const PvTicketInfo *info, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT 1 FROM people_wanted WHERE issuer = ?1 AND serial = ?2",
                                         NULL);
  gboolean wanted = FALSE;

  if (stmt != NULL)
    {
      sqlite3_bind_int (stmt, 1, info->issuer);
      sqlite3_bind_int64 (stmt, 2, info->serial);
      wanted = sqlite3_step (stmt) == SQLITE_ROW;
      sqlite3_reset (stmt);
    }
  if (wanted)
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                 _ ("The visitor’s details for ticket %s have not reached this device yet; sync and try again"),
                 info->serial_text);
  else
    g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                 _ ("The visitor of ticket %s gave no phone number to send it to"), info->serial_text);
}

gboolean
pv_tickets_request_delivery (PvStore *store, guint16 issuer, guint32 serial, const char *channel,
                             GError **error)
{
  g_auto (PvTicketInfo) info = { 0 };
  const PvDeviceInfo *self;

  if (!pv_delivery_channel_is_known (channel))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        _ ("A ticket is sent by WhatsApp (“whatsapp”) or SMS (“sms”), not by “%s”"),
                        channel ? channel : ""),
           FALSE;
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  /* Checked here though the ledger would refuse the record: a volunteer
   * should read why in words, not as a record that broke a rule. */
  self = pv_store_lookup_device (store, pv_store_get_device_id (store));
  if (self == NULL || (self->role != PV_ROLE_DESK && self->role != PV_ROLE_ADMIN && self->role != PV_ROLE_HUB))
    {
      g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                   _ ("Only desk, admin and hub devices may send tickets; this device is a %s"),
                   self ? pv_role_to_string (self->role) : _ ("stranger"));
      goto fail;
    }
  if (self->revoked_at != G_MAXINT64)
    {
      g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                           _ ("This device has been revoked and may not send tickets"));
      goto fail;
    }
  if (!pv_tickets_lookup (store, issuer, serial, &info, error))
    goto fail;
  if (!info.known)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND, _ ("No ticket %s is known to this device"),
                   info.serial_text);
      goto fail;
    }
  if (info.revoked)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID, _ ("Ticket %s is revoked (%s): it cannot be sent"),
                   info.serial_text, info.revoke_reason);
      goto fail;
    }
  /* A replica without people cannot tell; the hub will, when it sends. */
  if (info.phone == NULL && pv_replica_keeps_people (store))
    {
      set_no_phone_error (store, &info, error);
      goto fail;
    }
  if (!pv_ledger_append (store, PV_RECORD_DELIVERY_REQUESTED,
                         g_variant_new ("(qusx)", issuer, serial, channel, pv_store_now (store)), NULL,
                         error)
      || !pv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

GPtrArray *
pv_tickets_list_deliveries (PvStore *store, guint16 issuer, guint32 serial, GError **error)
{
  g_autoptr (GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_delivery_free);
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT requested_by, rec_seq, channel, requested_at, status "
                                         "FROM deliveries WHERE issuer = ?1 AND serial = ?2 "
                                         "ORDER BY requested_at, requested_by, rec_seq",
                                         error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvDelivery *delivery = g_new0 (PvDelivery, 1);

      delivery->requested_by = (guint16) sqlite3_column_int (stmt, 0);
      delivery->seq = (guint64) sqlite3_column_int64 (stmt, 1);
      delivery->issuer = issuer;
      delivery->serial = serial;
      delivery->channel = column_dup (stmt, 2);
      delivery->requested_at = sqlite3_column_int64 (stmt, 3);
      delivery->status = column_dup (stmt, 4);
      g_ptr_array_add (deliveries, delivery);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read deliveries"), NULL;
  return g_steal_pointer (&deliveries);
}
