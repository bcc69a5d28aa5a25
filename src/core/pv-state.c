/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-state.c: turns ledger records into the tables admission, stats and
 * export read. Every rule here is commutative or picks a winner by a total
 * order (HLC, then device id), so replicas that hold the same records hold
 * the same state whatever order the records arrived in. Whatever depends on
 * several records at once — double entries, visitors, scans voided by a
 * later revocation — is recomputed from all of them, per ticket, whenever
 * one of them arrives. */
#include "pv-state.h"

#include <sodium.h>
#include <string.h>

#include "pv-error.h"
#include "pv-event.h"
#include "pv-hlc.h"
#include "pv-keys.h"
#include "pv-records.h"
#include "pv-store-private.h"
#include "pv-ticket-code.h"

/* Checks that the author of @record is enrolled, may write its kind, and
 * stamped it after its enrolment: a record stamped earlier would sort before
 * the enrolment in canonical order and break every rebuild. */
static gboolean
require_author (PvStore *store, const PvRecord *record, gboolean (*allowed) (PvRole), GError **error)
{
  const PvDeviceInfo *author = pv_store_lookup_device (store, record->device_id);

  if (author == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "Record %u/%" G_GUINT64_FORMAT " (%s) is by device %u, which is not enrolled",
                        record->device_id, record->seq, pv_record_kind_to_string (record->kind),
                        record->device_id),
           FALSE;
  if (record->hlc <= author->enrolled_hlc)
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "Record %u/%" G_GUINT64_FORMAT " is stamped before its author was enrolled",
                        record->device_id, record->seq),
           FALSE;
  if (allowed && !allowed (author->role))
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "Device %u (%s) may not write %s records",
                        record->device_id, pv_role_to_string (author->role),
                        pv_record_kind_to_string (record->kind)),
           FALSE;
  return TRUE;
}

static gboolean
role_is_admin (PvRole role)
{
  return role == PV_ROLE_ADMIN || role == PV_ROLE_HUB;
}

static PvEvent *
require_event (PvStore *store, GError **error)
{
  return pv_store_get_event (store, error);
}

/* Local calendar keys of @at for the counters: day, hour, quarter hour.
 * They change once a minute at most, and a bulk import stamps thousands of
 * records in one minute, so the last answer is kept (per thread). */
static void
time_keys (PvEvent *event, gint64 at, char day[16], char hour[24], char quarter[24])
{
  static _Thread_local struct
  {
    gint64 minute;
    char timezone[64];
    char day[16], hour[24], quarter[24];
  } cache = { .minute = G_MININT64 };
  gint64 minute = at / G_TIME_SPAN_MINUTE - (at % G_TIME_SPAN_MINUTE < 0);
  const char *tz = pv_event_get_timezone (event);

  if (minute != cache.minute || strcmp (tz, cache.timezone) != 0)
    {
      g_autoptr (GDateTime) local = pv_event_local_time (event, at);

      if (local == NULL)
        {
          g_strlcpy (day, "invalid", 16);
          g_strlcpy (hour, "invalid", 24);
          g_strlcpy (quarter, "invalid", 24);
          return;
        }
      g_snprintf (cache.day, sizeof cache.day, "%04d-%02d-%02d", g_date_time_get_year (local),
                  g_date_time_get_month (local), g_date_time_get_day_of_month (local));
      g_snprintf (cache.hour, sizeof cache.hour, "%sT%02d", cache.day, g_date_time_get_hour (local));
      g_snprintf (cache.quarter, sizeof cache.quarter, "%sT%02d:%02d", cache.day,
                  g_date_time_get_hour (local), g_date_time_get_minute (local) / 15 * 15);
      g_strlcpy (cache.timezone, tz, sizeof cache.timezone);
      cache.minute = minute;
    }
  memcpy (day, cache.day, 16);
  memcpy (hour, cache.hour, 24);
  memcpy (quarter, cache.quarter, 24);
}

/* Scan-by-scan counters: each scan adds its own share, so they commute. */
static void
count_scan (PvStore *store, PvEvent *event, gint64 at, const char *gate, guint party,
            gboolean is_exit, int sign)
{
  char date[16], hour[24], quarter[24], gate_key[96];
  gint64 people = sign * (gint64) party;

  time_keys (event, at, date, hour, quarter);
  if (is_exit)
    {
      pv_store_counter_add (store, "exits.day", date, people);
      pv_store_counter_add (store, "inside.day", date, -people);
      pv_store_counter_add (store, "inside.quarter", quarter, -people);
      return;
    }
  g_snprintf (gate_key, sizeof gate_key, "%s|%s", date, gate);
  pv_store_counter_add (store, "scans.day", date, sign);
  pv_store_counter_add (store, "entries.day", date, people);
  pv_store_counter_add (store, "entries.hour", hour, people);
  pv_store_counter_add (store, "entries.quarter", quarter, people);
  pv_store_counter_add (store, "entries.gate", gate_key, people);
  pv_store_counter_add (store, "inside.day", date, people);
  pv_store_counter_add (store, "inside.quarter", quarter, people);
}

static void
count_ticket (PvStore *store, PvEvent *event, guint8 category_id, guint party, gint64 issued_at,
              const char *channel, int sign)
{
  char day[16], hour[24], quarter[24], category[8], mix[80];

  time_keys (event, issued_at, day, hour, quarter);
  g_snprintf (category, sizeof category, "%u", category_id);
  g_snprintf (mix, sizeof mix, "%u|%s", category_id, channel);
  pv_store_counter_add (store, "registrations.channel", channel, sign);
  pv_store_counter_add (store, "registrations.mix", mix, sign);
  pv_store_counter_add (store, "registrations.category", category, sign);
  pv_store_counter_add (store, "registrations.day", day, sign);
  pv_store_counter_add (store, "registrations.people", category, sign * (gint64) party);
}

GArray *
pv_state_load_scans (PvStore *store, guint16 issuer, guint32 serial, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store,
                                         "SELECT device_id, seq, hlc, at, day, party, is_exit, "
                                         "       is_double, gate, is_void, category, counted_party, manual "
                                         "FROM scans WHERE issuer = ?1 AND serial = ?2 "
                                         "ORDER BY hlc, device_id, seq",
                                         error);
  g_autoptr (GArray) scans = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  scans = g_array_new (FALSE, TRUE, sizeof (PvScan));
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvScan scan = { 0 };

      scan.device_id = (guint16) sqlite3_column_int (stmt, 0);
      scan.seq = (guint64) sqlite3_column_int64 (stmt, 1);
      scan.hlc = (PvHlc) sqlite3_column_int64 (stmt, 2);
      scan.at = sqlite3_column_int64 (stmt, 3);
      scan.day = sqlite3_column_int (stmt, 4);
      scan.party = (guint) sqlite3_column_int (stmt, 5);
      scan.is_exit = sqlite3_column_int (stmt, 6);
      scan.is_double = sqlite3_column_int (stmt, 7);
      g_strlcpy (scan.gate, (const char *) sqlite3_column_text (stmt, 8), sizeof scan.gate);
      scan.is_void = sqlite3_column_int (stmt, 9);
      scan.category = (guint8) sqlite3_column_int (stmt, 10);
      scan.counted_party = (guint) sqlite3_column_int (stmt, 11);
      scan.manual = sqlite3_column_int (stmt, 12);
      g_array_append_val (scans, scan);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read scans"), NULL;
  return g_steal_pointer (&scans);
}

/* TRUE when @day is in @days; else adds it (while there is room). */
static gboolean
day_seen (int *days, guint *n, int day)
{
  for (guint i = 0; i < *n; i++)
    if (days[i] == day)
      return TRUE;
  if (*n <= PV_EVENT_MAX_DAYS)
    days[(*n)++] = day;
  return FALSE;
}

/* Replays one ticket's scans in canonical order (earliest HLC first, ties
 * by device id) and settles what depends on all of them together:
 *  - is_double: an entry the rules would have refused had every gate known
 *    everything. Only refusals that depend on other scans count; the
 *    ticket's own day was checked at the gate, and its issue record may not
 *    even be here yet. The rules are those of the category the earliest
 *    scan names, so a gate that misstates the category cannot choose them.
 *  - counted_party: the party of each day's first entry, so a visitor
 *    counts once a day however often they go in and out.
 * Voided scans (by a revoked device) take part in nothing. */
static gboolean
settle_ticket_with (PvStore *store, PvEvent *event, guint16 issuer, guint32 serial,
                    PvScan *pending, GError **error)
{
  g_autoptr (GArray) scans = pv_state_load_scans (store, issuer, serial, error);
  const PvCategory *category = NULL;
  int seen_days[PV_EVENT_MAX_DAYS + 1];
  guint n_seen = 0;
  PvTicketWalk walk;
  guint pending_at = G_MAXUINT;

  if (scans == NULL)
    return FALSE;
  if (pending != NULL)
    {
      /* Its place in canonical order; usually last. */
      for (pending_at = scans->len; pending_at > 0; pending_at--)
        {
          const PvScan *before = &g_array_index (scans, PvScan, pending_at - 1);
          if (before->hlc < pending->hlc
              || (before->hlc == pending->hlc && before->device_id < pending->device_id)
              || (before->hlc == pending->hlc && before->device_id == pending->device_id
                  && before->seq < pending->seq))
            break;
        }
      g_array_insert_val (scans, pending_at, *pending);
    }
  for (guint i = 0; i < scans->len && category == NULL; i++)
    if (!g_array_index (scans, PvScan, i).is_void)
      category = pv_event_get_category (event, g_array_index (scans, PvScan, i).category);

  pv_ticket_walk_init (&walk);
  for (guint i = 0; i < scans->len; i++)
    {
      PvScan *scan = &g_array_index (scans, PvScan, i);
      gboolean is_double = FALSE;
      guint counted = 0;
      sqlite3_stmt *stmt;
      char date[16], hour[24], quarter[24];

      if (scan->is_void)
        ;
      else if (scan->is_exit)
        pv_ticket_walk_exit (&walk, scan->day);
      else
        {
          if (category != NULL)
            is_double = pv_ticket_walk_entry (&walk, category, PV_TICKET_DAY_NONE, scan->day,
                                              scan->at, scan->gate)
                        != PV_VERDICT_ADMIT;
          if (!day_seen (seen_days, &n_seen, scan->day))
            counted = scan->party;
        }
      if (is_double == scan->is_double && counted == scan->counted_party)
        continue;

      time_keys (event, scan->at, date, hour, quarter);
      if (is_double != scan->is_double)
        pv_store_counter_add (store, "doubles.day", date, is_double ? 1 : -1);
      if (counted != scan->counted_party)
        pv_store_counter_add (store, "visitors.day", date,
                              (gint64) counted - (gint64) scan->counted_party);
      if (i == pending_at)
        {
          /* Not in the table yet: the caller inserts it with these. */
          pending->is_double = is_double;
          pending->counted_party = counted;
          continue;
        }
      stmt = pv_store_prepare (store,
                               "UPDATE scans SET is_double = ?3, counted_party = ?4 "
                               "WHERE device_id = ?1 AND seq = ?2",
                               error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int (stmt, 1, scan->device_id);
      sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) scan->seq);
      sqlite3_bind_int (stmt, 3, is_double);
      sqlite3_bind_int (stmt, 4, (int) counted);
      if (!pv_store_step_done (store, stmt, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
settle_ticket (PvStore *store, PvEvent *event, guint16 issuer, guint32 serial, GError **error)
{
  return settle_ticket_with (store, event, issuer, serial, NULL, error);
}

typedef gboolean (*TicketFunc) (PvStore *store, PvEvent *event, guint16 issuer, guint32 serial,
                                GError **error);

/* Runs @func on every ticket with scans matching @where (a condition on
 * scans with one parameter ?1, or NULL for all). */
static gboolean
foreach_scanned_ticket (PvStore *store, PvEvent *event, const char *where, gint64 param,
                        TicketFunc func, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT DISTINCT issuer, serial FROM scans%s%s",
                                          where ? " WHERE " : "", where ? where : "");
  g_autoptr (GArray) tickets = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *list = NULL;
  int rc;

  /* Collected first: @func writes to the table being listed. */
  if (sqlite3_prepare_v2 (pv_store_get_db (store), sql, -1, &list, NULL) != SQLITE_OK)
    return pv_store_fail (store, error, "Cannot read scans");
  if (where)
    sqlite3_bind_int64 (list, 1, param);
  while ((rc = sqlite3_step (list)) == SQLITE_ROW)
    {
      gint64 id = (sqlite3_column_int64 (list, 0) << 32) | sqlite3_column_int64 (list, 1);
      g_array_append_val (tickets, id);
    }
  sqlite3_finalize (list);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read scans");
  for (guint i = 0; i < tickets->len; i++)
    {
      gint64 id = g_array_index (tickets, gint64, i);
      if (!func (store, event, (guint16) (id >> 32), (guint32) (id & 0xffffffff), error))
        return FALSE;
    }
  return TRUE;
}

/* Counters keyed by local dates follow the event's time zone: when it
 * changes, they are counted again from the tables, which hold everything
 * they count. */
static gboolean
recount (PvStore *store, PvEvent *event, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (!pv_store_exec (store, "DELETE FROM counters", error))
    return FALSE;
  pv_store_counters_discard_pending (store);
  if (sqlite3_prepare_v2 (pv_store_get_db (store),
                          "SELECT category, party, issued_at, channel FROM tickets", -1, &stmt, NULL)
      != SQLITE_OK)
    return pv_store_fail (store, error, "Cannot read tickets");
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    count_ticket (store, event, (guint8) sqlite3_column_int (stmt, 0), (guint) sqlite3_column_int (stmt, 1),
                  sqlite3_column_int64 (stmt, 2), (const char *) sqlite3_column_text (stmt, 3), 1);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return pv_store_fail (store, error, "Cannot read tickets");

  if (sqlite3_prepare_v2 (pv_store_get_db (store),
                          "SELECT at, gate, party, is_exit, is_double, counted_party FROM scans "
                          "WHERE is_void = 0",
                          -1, &stmt, NULL)
      != SQLITE_OK)
    return pv_store_fail (store, error, "Cannot read scans");
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 at = sqlite3_column_int64 (stmt, 0);
      char date[16], hour[24], quarter[24];

      count_scan (store, event, at, (const char *) sqlite3_column_text (stmt, 1),
                  (guint) sqlite3_column_int (stmt, 2), sqlite3_column_int (stmt, 3), 1);
      time_keys (event, at, date, hour, quarter);
      pv_store_counter_add (store, "doubles.day", date, sqlite3_column_int (stmt, 4));
      pv_store_counter_add (store, "visitors.day", date, sqlite3_column_int (stmt, 5));
    }
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot read scans");
}

gboolean
pv_state_count_again_if_stale (PvStore *store, GError **error)
{
  PvEvent *event;

  if (pv_store_get_meta_int (store, "counters-stale", 0) == 0)
    return TRUE;
  /* Beginning may find the file changed and drop the cached event. */
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  if (!(event = require_event (store, error)) || !recount (store, event, error) || !pv_store_set_meta_int (store, "counters-stale", 0, error)
      || !pv_store_commit (store, error))
    {
      if (pv_store_in_transaction (store))
        pv_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

/* Puts in force the newest configuration whose author was not revoked when
 * it wrote it (ties by device id), and settles and recounts what depends on
 * it when that changes. Called when a configuration arrives and when an
 * admin device is revoked. */
static gboolean
choose_config (PvStore *store, GError **error)
{
  g_autoptr (PvEvent) previous = NULL;
  g_autoptr (GError) local_error = NULL;
  sqlite3_stmt *stmt;
  PvEvent *current, *in_force;
  PvHlc chosen_hlc = 0, held_hlc = 0;
  int chosen_device = -1, held_device = -1, rc;
  g_autoptr (GBytes) chosen = NULL;

  current = pv_store_get_event (store, &local_error);
  if (current)
    previous = g_object_ref (current);

  stmt = pv_store_prepare (store,
                           "SELECT hlc, device_id, config FROM event_configs "
                           "ORDER BY hlc DESC, device_id DESC",
                           error);
  if (stmt == NULL)
    return FALSE;
  while (chosen == NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PvHlc hlc = (PvHlc) sqlite3_column_int64 (stmt, 0);
      int device = sqlite3_column_int (stmt, 1);
      const PvDeviceInfo *author = pv_store_lookup_device (store, (guint16) device);

      /* The first configuration comes before its author's enrolment. */
      if (author != NULL && pv_hlc_wall_ms (hlc) * 1000 >= author->revoked_at)
        continue;
      chosen_hlc = hlc;
      chosen_device = device;
      chosen = g_bytes_new (sqlite3_column_blob (stmt, 2), sqlite3_column_bytes (stmt, 2));
    }
  sqlite3_reset (stmt);
  if (chosen == NULL)
    {
      /* Every configuration lapsed (a revocation dated before them all):
       * the first, which founded the event, stands — the same choice
       * whatever this replica held before. */
      stmt = pv_store_prepare (store,
                               "SELECT hlc, device_id, config FROM event_configs "
                               "ORDER BY hlc, device_id LIMIT 1",
                               error);
      if (stmt == NULL)
        return FALSE;
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          chosen_hlc = (PvHlc) sqlite3_column_int64 (stmt, 0);
          chosen_device = sqlite3_column_int (stmt, 1);
          chosen = g_bytes_new (sqlite3_column_blob (stmt, 2), sqlite3_column_bytes (stmt, 2));
        }
      sqlite3_reset (stmt);
      if (chosen == NULL)
        return TRUE;
    }

  stmt = pv_store_prepare (store, "SELECT hlc, device_id FROM event_config WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      held_hlc = (PvHlc) sqlite3_column_int64 (stmt, 0);
      held_device = sqlite3_column_int (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (held_hlc == chosen_hlc && held_device == chosen_device)
    return TRUE;

  stmt = pv_store_prepare (store,
                           "INSERT OR REPLACE INTO event_config (id, hlc, device_id, config) "
                           "VALUES (1, ?1, ?2, ?3)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) chosen_hlc);
  sqlite3_bind_int (stmt, 2, chosen_device);
  sqlite3_bind_blob (stmt, 3, g_bytes_get_data (chosen, NULL), (int) g_bytes_get_size (chosen),
                     SQLITE_STATIC);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  pv_store_invalidate_caches (store);
  if (previous == NULL || !(in_force = require_event (store, error)))
    return previous == NULL;

  /* Category rules may have changed: doubles follow the rules in force. A
   * new time zone moves every scan to another local hour. */
  if (!foreach_scanned_ticket (store, in_force, NULL, 0, settle_ticket, error))
    return FALSE;
  if (g_strcmp0 (pv_event_get_timezone (previous), pv_event_get_timezone (in_force)) != 0)
    return recount (store, in_force, error);
  return TRUE;
}

static gboolean
apply_event_config (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  g_autoptr (PvEvent) incoming = pv_event_new_from_variant (body, error);
  g_autoptr (GError) local_error = NULL;
  PvEvent *current;
  sqlite3_stmt *stmt;

  if (incoming == NULL)
    return FALSE;
  current = pv_store_get_event (store, &local_error);
  if (current == NULL && !g_error_matches (local_error, PV_ERROR, PV_ERROR_NOT_INITIALIZED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (current != NULL)
    {
      /* The first configuration is the trust anchor; later ones come from an
       * admin and may not swap the event or its key. */
      if (!require_author (store, record, role_is_admin, error))
        return FALSE;
      if (pv_event_get_id (incoming) != pv_event_get_id (current)
          || memcmp (pv_event_get_public_key (incoming), pv_event_get_public_key (current),
                     PV_PUBLIC_KEY_SIZE)
               != 0)
        return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT,
                            "Record %u/%" G_GUINT64_FORMAT " configures event %08x, "
                            "this store holds event %08x",
                            record->device_id, record->seq, pv_event_get_id (incoming),
                            pv_event_get_id (current)),
               FALSE;
    }

  stmt = pv_store_prepare (store,
                           "INSERT INTO event_configs (device_id, hlc, config) VALUES (?1, ?2, ?3)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, record->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) record->hlc);
  sqlite3_bind_blob (stmt, 3, g_bytes_get_data (record->body, NULL),
                     (int) g_bytes_get_size (record->body), SQLITE_STATIC);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  return choose_config (store, error);
}

static gboolean
apply_device_enrolled (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  g_autoptr (PvDeviceCert) cert = pv_device_cert_new_from_variant (body, error);
  const PvDeviceInfo *known;
  PvEvent *event;
  sqlite3_stmt *stmt;

  if (cert == NULL || !(event = require_event (store, error)))
    return FALSE;
  if (cert->event_id != pv_event_get_id (event))
    return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT,
                        "Device %u is certified for another event", cert->device_id),
           FALSE;
  /* The event key's signature is the authority here; the author need only
   * be enrolled itself — except the event's creator enrolling itself. */
  if (!pv_device_cert_verify (cert, pv_event_get_public_key (event), error))
    return FALSE;
  if (cert->device_id == 0)
    return g_set_error_literal (error, PV_ERROR, PV_ERROR_INVALID, "Device id 0 is reserved"),
           FALSE;
  if (cert->device_id != record->device_id && !require_author (store, record, NULL, error))
    return FALSE;

  /* A device keeps its role and key for good: were they to change, whether
   * its earlier records are allowed would depend on which certificate a
   * replica saw first. Re-enrolment may only renew the certificate. */
  known = pv_store_lookup_device (store, cert->device_id);
  if (known && (known->role != cert->role || memcmp (known->public_key, cert->public_key, PV_PUBLIC_KEY_SIZE) != 0))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "Device %u is enrolled already with another role or key; "
                        "a replaced device needs a new device id",
                        cert->device_id),
           FALSE;

  stmt = pv_store_prepare (store,
                           "INSERT INTO devices (id, name, role, public_key, valid_from, valid_until, "
                           "  cert, enrolled_hlc) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                           "ON CONFLICT (id) DO UPDATE SET "
                           "  name = iif (excluded.valid_from > devices.valid_from, excluded.name, devices.name), "
                           "  cert = iif (excluded.valid_from > devices.valid_from, excluded.cert, devices.cert), "
                           "  valid_from = min (excluded.valid_from, devices.valid_from), "
                           "  valid_until = max (excluded.valid_until, devices.valid_until), "
                           "  enrolled_hlc = min (excluded.enrolled_hlc, devices.enrolled_hlc)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, cert->device_id);
  sqlite3_bind_text (stmt, 2, cert->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, pv_role_to_string (cert->role), -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 4, cert->public_key, PV_PUBLIC_KEY_SIZE, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, cert->valid_from);
  sqlite3_bind_int64 (stmt, 6, cert->valid_until);
  sqlite3_bind_blob (stmt, 7, g_bytes_get_data (record->body, NULL),
                     (int) g_bytes_get_size (record->body), SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) record->hlc);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  pv_store_invalidate_caches (store);
  return TRUE;
}

static gboolean
apply_device_revoked (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  guint16 device;
  gint64 at;
  const char *reason;
  sqlite3_stmt *stmt;
  PvEvent *event;

  if (!require_author (store, record, role_is_admin, error) || !(event = require_event (store, error)))
    return FALSE;
  g_variant_get (body, "(qx&s)", &device, &at, &reason);
  if (pv_store_lookup_device (store, device) == NULL)
    return g_set_error (error, PV_ERROR, PV_ERROR_NOT_FOUND,
                        "Record %u/%" G_GUINT64_FORMAT " revokes device %u, which is not enrolled",
                        record->device_id, record->seq, device),
           FALSE;
  /* Two revocations: the earlier one counts. */
  stmt = pv_store_prepare (store,
                           "UPDATE devices SET revoked_at = ?2, revoke_reason = ?3 "
                           "WHERE id = ?1 AND (revoked_at IS NULL OR revoked_at > ?2 "
                           "  OR (revoked_at = ?2 AND revoke_reason > ?3))",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, device);
  sqlite3_bind_int64 (stmt, 2, at);
  sqlite3_bind_text (stmt, 3, reason, -1, SQLITE_STATIC);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  pv_store_invalidate_caches (store);
  /* A revoked admin's configurations written after its revocation lapse. */
  {
    const PvDeviceInfo *revoked = pv_store_lookup_device (store, device);
    if (revoked && role_is_admin (revoked->role) && !choose_config (store, error))
      return FALSE;
  }
  if (!(event = require_event (store, error)))
    return FALSE;

  /* What the device scanned after its revocation (a stolen gate laptop
   * still "admitting") counts for nothing: not as entries, and not as the
   * winner that makes a real visitor's entry a double. Revocations only
   * move earlier, so scans only ever become void, never valid again. */
  {
    g_autofree char *voided = g_strdup_printf ("device_id = %u AND at >= ?1", device);
    sqlite3_stmt *list = NULL;
    int rc;

    if (sqlite3_prepare_v2 (pv_store_get_db (store),
                            "SELECT at, gate, party, is_exit FROM scans "
                            "WHERE device_id = ?2 AND is_void = 0 AND at >= ?1",
                            -1, &list, NULL)
        != SQLITE_OK)
      return pv_store_fail (store, error, "Cannot read scans");
    sqlite3_bind_int64 (list, 1, at);
    sqlite3_bind_int (list, 2, device);
    while ((rc = sqlite3_step (list)) == SQLITE_ROW)
      count_scan (store, event, sqlite3_column_int64 (list, 0),
                  (const char *) sqlite3_column_text (list, 1),
                  (guint) sqlite3_column_int (list, 2), sqlite3_column_int (list, 3), -1);
    sqlite3_finalize (list);
    if (rc != SQLITE_DONE)
      return pv_store_fail (store, error, "Cannot read scans");

    stmt = pv_store_prepare (store,
                             "UPDATE scans SET is_void = 1 "
                             "WHERE device_id = ?2 AND is_void = 0 AND at >= ?1",
                             error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, at);
    sqlite3_bind_int (stmt, 2, device);
    if (!pv_store_step_done (store, stmt, error))
      return FALSE;
    /* Their tickets give up the double and visitor shares they had. */
    return foreach_scanned_ticket (store, event, voided, at, settle_ticket, error);
  }
}

static gboolean
apply_ticket_issued (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  g_autoptr (GVariant) digest = NULL, code_v = NULL, channel_v = NULL;
  const char *code, *channel;
  PvTicket ticket;
  PvEvent *event;
  sqlite3_stmt *stmt;

  if (!require_author (store, record, pv_role_can_issue, error)
      || !(event = require_event (store, error)))
    return FALSE;
  /* Child by child: g_variant_get() parses its format string every call,
   * and this runs once per ticket of a bulk issue. */
  code_v = g_variant_get_child_value (body, 0);
  digest = g_variant_get_child_value (body, 1);
  channel_v = g_variant_get_child_value (body, 2);
  code = g_variant_get_string (code_v, NULL);
  channel = g_variant_get_string (channel_v, NULL);
  if (!pv_ticket_parse (code, -1, &ticket, error))
    return FALSE;
  if (ticket.event_id != pv_event_get_id (event))
    return g_set_error (error, PV_ERROR, PV_ERROR_WRONG_EVENT,
                        "Ticket record %u/%" G_GUINT64_FORMAT " is for another event",
                        record->device_id, record->seq),
           FALSE;
  if (ticket.issuer != record->device_id)
    return g_set_error (error, PV_ERROR, PV_ERROR_PERMISSION,
                        "Device %u recorded a ticket issued by device %u",
                        record->device_id, ticket.issuer),
           FALSE;

  stmt = pv_store_prepare (store,
                           "INSERT INTO tickets (issuer, serial, category, day, party, channel, "
                           "  issued_at, code, pii_digest, rec_device, rec_seq) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, ticket.issuer);
  sqlite3_bind_int64 (stmt, 2, ticket.serial);
  sqlite3_bind_int (stmt, 3, ticket.category);
  sqlite3_bind_int (stmt, 4, ticket.day);
  sqlite3_bind_int (stmt, 5, ticket.party);
  sqlite3_bind_text (stmt, 6, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, (gint64) ticket.issued_at * G_USEC_PER_SEC);
  sqlite3_bind_text (stmt, 8, code, -1, SQLITE_STATIC);
  if (g_variant_n_children (digest) > 0)
    sqlite3_bind_blob (stmt, 9, g_variant_get_data (digest), (int) g_variant_get_size (digest),
                       SQLITE_STATIC);
  sqlite3_bind_int (stmt, 10, record->device_id);
  sqlite3_bind_int64 (stmt, 11, (sqlite3_int64) record->seq);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  count_ticket (store, event, ticket.category, ticket.party, (gint64) ticket.issued_at * G_USEC_PER_SEC,
                channel, 1);
  return TRUE;
}

/* Who serves visitors: revokes their tickets, sends them their tickets. */
static gboolean
role_is_desk_or_admin (PvRole role)
{
  return role == PV_ROLE_DESK || role_is_admin (role);
}

static gboolean
apply_ticket_revoked (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  guint16 issuer;
  guint32 serial;
  gint64 at;
  const char *reason;
  sqlite3_stmt *stmt;

  if (!require_author (store, record, role_is_desk_or_admin, error))
    return FALSE;
  g_variant_get (body, "(qux&s)", &issuer, &serial, &at, &reason);
  stmt = pv_store_prepare (store,
                           "INSERT INTO ticket_revocations (issuer, serial, revoked_at, reason) "
                           "VALUES (?1, ?2, ?3, ?4) "
                           "ON CONFLICT (issuer, serial) DO UPDATE SET "
                           "  revoked_at = excluded.revoked_at, reason = excluded.reason "
                           "WHERE excluded.revoked_at < ticket_revocations.revoked_at "
                           "   OR (excluded.revoked_at = ticket_revocations.revoked_at "
                           "       AND excluded.reason < ticket_revocations.reason)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, issuer);
  sqlite3_bind_int64 (stmt, 2, serial);
  sqlite3_bind_int64 (stmt, 3, at);
  sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_STATIC);
  return pv_store_step_done (store, stmt, error);
}

static gboolean
apply_scan (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  guint16 issuer, party;
  guint32 serial;
  guint8 category;
  gint16 day;
  const char *gate;
  gint64 at;
  gboolean offline, is_exit = record->kind == PV_RECORD_EXIT || record->kind == PV_RECORD_MANUAL_EXIT;
  gboolean manual = record->kind == PV_RECORD_MANUAL_ENTRY || record->kind == PV_RECORD_MANUAL_EXIT;
  PvScan pending;
  const PvDeviceInfo *author;
  g_autoptr (GVariant) gate_v = NULL;
  PvEvent *event;
  sqlite3_stmt *stmt;

  if (!require_author (store, record, NULL, error) || !(event = require_event (store, error)))
    return FALSE;
  {
    GVariant *child[8];

    for (guint i = 0; i < G_N_ELEMENTS (child); i++)
      child[i] = g_variant_get_child_value (body, i);
    issuer = g_variant_get_uint16 (child[0]);
    serial = g_variant_get_uint32 (child[1]);
    category = g_variant_get_byte (child[2]);
    day = g_variant_get_int16 (child[3]);
    party = g_variant_get_uint16 (child[4]);
    gate_v = g_variant_ref (child[5]);
    at = g_variant_get_int64 (child[6]);
    offline = g_variant_get_boolean (child[7]);
    for (guint i = 0; i < G_N_ELEMENTS (child); i++)
      g_variant_unref (child[i]);
    gate = g_variant_get_string (gate_v, NULL);
  }
  author = pv_store_lookup_device (store, record->device_id);
  pending = (PvScan){
    .device_id = record->device_id,
    .seq = record->seq,
    .hlc = record->hlc,
    .at = at,
    .day = day,
    .party = party,
    .is_exit = is_exit,
    .manual = manual,
    .is_void = at >= author->revoked_at,
    .category = category,
  };
  g_strlcpy (pending.gate, gate, sizeof pending.gate);
  /* Settled before it is inserted, so the common case — a scan that comes
   * last — costs one insert and no update. */
  if (!settle_ticket_with (store, event, issuer, serial, &pending, error))
    return FALSE;

  stmt = pv_store_prepare (store,
                           "INSERT INTO scans (device_id, seq, hlc, at, issuer, serial, category, "
                           "  day, gate, party, is_exit, offline, is_void, is_double, counted_party, manual) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, record->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) record->seq);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) record->hlc);
  sqlite3_bind_int64 (stmt, 4, at);
  sqlite3_bind_int (stmt, 5, issuer);
  sqlite3_bind_int64 (stmt, 6, serial);
  sqlite3_bind_int (stmt, 7, category);
  sqlite3_bind_int (stmt, 8, day);
  sqlite3_bind_text (stmt, 9, gate, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 10, party);
  sqlite3_bind_int (stmt, 11, is_exit);
  sqlite3_bind_int (stmt, 12, offline);
  sqlite3_bind_int (stmt, 13, pending.is_void);
  sqlite3_bind_int (stmt, 14, pending.is_double);
  sqlite3_bind_int (stmt, 15, (int) pending.counted_party);
  sqlite3_bind_int (stmt, 16, manual);
  if (!pv_store_step_done (store, stmt, error))
    return FALSE;
  if (!pending.is_void)
    count_scan (store, event, at, gate, party, is_exit, 1);
  return TRUE;
}

/* A request to send a ticket to its visitor. Like a scan it is kept when
 * its ticket is not known here (yet): the issue record may come later, and
 * whether it had come must not decide what a replica keeps. */
static gboolean
apply_delivery_requested (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  guint16 issuer;
  guint32 serial;
  const char *channel;
  gint64 at;
  sqlite3_stmt *stmt;

  if (!require_author (store, record, role_is_desk_or_admin, error))
    return FALSE;
  g_variant_get (body, "(qu&sx)", &issuer, &serial, &channel, &at);
  if (!pv_delivery_channel_is_known (channel))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID,
                        "Record %u/%" G_GUINT64_FORMAT " asks to send a ticket by “%s”, "
                        "which is not a channel",
                        record->device_id, record->seq, channel),
           FALSE;
  stmt = pv_store_prepare (store,
                           "INSERT INTO deliveries (requested_by, rec_seq, issuer, serial, channel, "
                           "  requested_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, record->device_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) record->seq);
  sqlite3_bind_int (stmt, 3, issuer);
  sqlite3_bind_int64 (stmt, 4, serial);
  sqlite3_bind_text (stmt, 5, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, at);
  return pv_store_step_done (store, stmt, error);
}

gboolean
pv_state_apply (PvStore *store, const PvRecord *record, GVariant *body, GError **error)
{
  switch (record->kind)
    {
    case PV_RECORD_EVENT_CONFIG:
      return apply_event_config (store, record, body, error);
    case PV_RECORD_DEVICE_ENROLLED:
      return apply_device_enrolled (store, record, body, error);
    case PV_RECORD_DEVICE_REVOKED:
      return apply_device_revoked (store, record, body, error);
    case PV_RECORD_TICKET_ISSUED:
      return apply_ticket_issued (store, record, body, error);
    case PV_RECORD_TICKET_REVOKED:
      return apply_ticket_revoked (store, record, body, error);
    case PV_RECORD_ENTRY:
    case PV_RECORD_EXIT:
    case PV_RECORD_MANUAL_ENTRY:
    case PV_RECORD_MANUAL_EXIT:
      return apply_scan (store, record, body, error);
    case PV_RECORD_DELIVERY_REQUESTED:
      return apply_delivery_requested (store, record, body, error);
    default:
      return g_set_error (error, PV_ERROR, PV_ERROR_MALFORMED, "Unknown record kind %u",
                          (guint) record->kind),
             FALSE;
    }
}

static gboolean
replay_one (const PvRecord *record, gpointer user_data, GError **error)
{
  g_autoptr (GVariant) body = pv_record_dup_body (record, error);

  return body != NULL && pv_state_apply (user_data, record, body, error);
}

gboolean
pv_state_rebuild (PvStore *store, GError **error)
{
  if (!pv_store_begin (store, TRUE, error))
    return FALSE;
  /* A delivery's status is the hub's outbox's, not the ledger's: were it
   * reset, the hub would send every ticket again. It is set aside and put
   * back on the rows the replay derives. */
  if (!pv_store_exec (store,
                      "CREATE TEMP TABLE delivery_status AS "
                      "  SELECT requested_by, rec_seq, status FROM deliveries WHERE status != 'queued';"
                      "DELETE FROM scans; DELETE FROM ticket_revocations; DELETE FROM tickets;"
                      "DELETE FROM devices; DELETE FROM event_config; DELETE FROM event_configs;"
                      "DELETE FROM counters; DELETE FROM deliveries;",
                      error))
    goto fail;
  pv_store_counters_discard_pending (store);
  pv_store_invalidate_caches (store);
  if (!pv_records_foreach (store, replay_one, store, error)
      || !pv_store_exec (store,
                         "UPDATE deliveries SET status = s.status FROM temp.delivery_status s "
                         "WHERE deliveries.requested_by = s.requested_by "
                         "  AND deliveries.rec_seq = s.rec_seq;"
                         "DROP TABLE temp.delivery_status;",
                         error)
      || !pv_store_set_meta_int (store, "counters-stale", 0, error) || !pv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  if (pv_store_in_transaction (store))
    pv_store_rollback (store);
  return FALSE;
}

static gboolean
digest_query (PvStore *store, crypto_generichash_state *state, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = pv_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  crypto_generichash_update (state, (const guint8 *) sql, strlen (sql));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    for (int i = 0; i < sqlite3_column_count (stmt); i++)
      {
        /* Type tag and length before every value keep the encoding
         * unambiguous: ("ab","c") and ("a","bc") hash differently. */
        guint8 tag = (guint8) sqlite3_column_type (stmt, i);
        gint64 number;
        guint32 len;

        crypto_generichash_update (state, &tag, 1);
        switch (tag)
          {
          case SQLITE_INTEGER:
            number = sqlite3_column_int64 (stmt, i);
            number = GINT64_TO_BE (number);
            crypto_generichash_update (state, (const guint8 *) &number, sizeof number);
            break;
          case SQLITE_TEXT:
          case SQLITE_BLOB:
            len = GUINT32_TO_BE ((guint32) sqlite3_column_bytes (stmt, i));
            crypto_generichash_update (state, (const guint8 *) &len, sizeof len);
            crypto_generichash_update (state, sqlite3_column_blob (stmt, i),
                                       (gsize) sqlite3_column_bytes (stmt, i));
            break;
          default:
            break;
          }
      }
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || pv_store_fail (store, error, "Cannot read the derived state");
}

gboolean
pv_state_digest (PvStore *store, guint8 out[PV_HASH_SIZE], GError **error)
{
  static const char *const queries[] = {
    "SELECT hlc, device_id, config FROM event_config",
    "SELECT device_id, hlc, config FROM event_configs ORDER BY device_id, hlc",
    "SELECT id, name, role, public_key, valid_from, valid_until, cert, enrolled_hlc, revoked_at, "
    "revoke_reason FROM devices ORDER BY id",
    "SELECT issuer, serial, category, day, party, channel, issued_at, code, pii_digest, "
    "rec_device, rec_seq FROM tickets ORDER BY issuer, serial",
    "SELECT issuer, serial, revoked_at, reason FROM ticket_revocations ORDER BY issuer, serial",
    "SELECT device_id, seq, hlc, at, issuer, serial, category, day, gate, party, is_exit, "
    "offline, is_double, is_void, counted_party, manual FROM scans ORDER BY device_id, seq",
    "SELECT name, key, value FROM counters WHERE value != 0 ORDER BY name, key",
    /* Not the status: only the hub's outbox moves it, on the hub alone. */
    "SELECT requested_by, rec_seq, issuer, serial, channel, requested_at FROM deliveries "
    "ORDER BY requested_by, rec_seq",
  };
  crypto_generichash_state state;

  crypto_generichash_init (&state, (const guint8 *) "PVSD", 4, PV_HASH_SIZE);
  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    if (!digest_query (store, &state, queries[i], error))
      return FALSE;
  crypto_generichash_final (&state, out, PV_HASH_SIZE);
  return TRUE;
}
