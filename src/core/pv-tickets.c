/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-tickets.c: ticket issuance. A desk signs with its own device key, so it
 * can issue with no network; the ledger gets the code and a salted digest of
 * the visitor's name and phone, the people table gets the name and phone. */
#include "pv-tickets.h"

#include <sodium.h>
#include <string.h>

#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-ledger.h"
#include "pv-store.h"

void
pv_issued_ticket_free (PvIssuedTicket *issued)
{
  if (issued == NULL)
    return;
  g_free (issued->code);
  g_free (issued->serial);
  g_free (issued);
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
          g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                       "“%s” is not a phone number: only digits, spaces, dashes and a leading + are allowed",
                       phone);
          return NULL;
        }
    }
  /* A bare 10-digit number is Indian, the local case at an Indian fair. */
  if (!plus && digits->len == 10)
    g_string_prepend (digits, "91");
  if (!plus && digits->len == 11 && digits->str[0] == '0')
    {
      g_string_erase (digits, 0, 1);
      g_string_prepend (digits, "91");
    }
  if (digits->len < 8 || digits->len > 15)
    {
      g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                   "“%s” is not a phone number: it has %zu digits", phone ? phone : "",
                   digits->len);
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

  if (self == NULL || !pv_role_can_issue (self->role))
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "This device (%s) may not issue tickets",
                        self ? pv_role_to_string (self->role) : "not enrolled"),
           FALSE;
  if (self->revoked_at != G_MAXINT64)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_PERMISSION,
                                "This device has been revoked and may not issue tickets"),
           FALSE;
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
  if (request->name && (strlen (request->name) > 200 || !g_utf8_validate (request->name, -1, NULL)))
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID,
                                "A name is at most 200 bytes of UTF-8 text"),
           FALSE;
  *out_phone = NULL;
  if (request->phone && *request->phone && !(*out_phone = pv_normalize_phone (request->phone, error)))
    return FALSE;
  *out_category = category;
  return TRUE;
}

void
pv_tickets_pii_digest (const guint8 salt[PV_PII_SALT_SIZE], const char *name, const char *phone,
                       guint8 out[PV_PII_DIGEST_SIZE])
{
  crypto_generichash_state state;

  crypto_generichash_init (&state, salt, PV_PII_SALT_SIZE, PV_PII_DIGEST_SIZE);
  crypto_generichash_update (&state, (const guint8 *) name, strlen (name) + 1);
  crypto_generichash_update (&state, (const guint8 *) phone, strlen (phone) + 1);
  crypto_generichash_final (&state, out, PV_PII_DIGEST_SIZE);
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
  pv_tickets_pii_digest (salt, name, phone, digest);

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
      || !pv_devices_get_secret_key (store, sk, error))
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
