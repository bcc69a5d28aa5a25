/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-ctl.h: what the source files of pravesh-ctl share — the command table
 * entry, the per-run context, and the helpers every command needs (option
 * parsing with a uniform --help and error style, opening an existing store
 * without ever creating one by mistake, times in the event's zone, JSON and
 * table output) — so each pv-ctl-*.c file holds only its commands. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "pv-admission.h"
#include "pv-event.h"
#include "pv-keys.h"
#include "pv-store.h"
#include "pv-wire.h"

G_BEGIN_DECLS

/* Exit statuses: scripts must tell a refused ticket from a broken command. */
#define PV_CTL_EXIT_OK 0
#define PV_CTL_EXIT_ERROR 1
#define PV_CTL_EXIT_REFUSED 2

typedef struct _PvCtl PvCtl;
typedef struct _PvCtlCommand PvCtlCommand;

/* A command gets its own argv: argv[0] is its last word ("init"), then the
 * arguments after it. Returns the exit status. */
typedef int (*PvCtlFunc) (PvCtl *ctl, int argc, char **argv);

struct _PvCtlCommand
{
  const char *name;        /* "event init" */
  const char *args;        /* positional arguments for the usage line, or NULL */
  const char *summary;     /* one line, marked with N_() */
  const char *description; /* more help after the options, N_(), or NULL */
  gboolean needs_store;    /* FALSE only where the code alone is enough */
  PvCtlFunc func;
};

struct _PvCtl
{
  char *db_path;               /* --db, else $PRAVESH_DB; NULL when neither */
  const PvCtlCommand *command; /* the command being run */
};

/* pravesh-ctl.c */
const PvCtlCommand *pv_ctl_get_commands (guint *out_n);

/* pv-ctl-util.c: errors. Each prints one line "pravesh-ctl: …" to stderr and
 * returns PV_CTL_EXIT_ERROR, so a command can end with `return pv_ctl_…`. */
int pv_ctl_fail (GError *error);
int pv_ctl_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* The same, naming the command and pointing at its --help. */
int pv_ctl_usage_error (PvCtl *ctl, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Parses the command's options: @entries plus --db and --help. Returns TRUE
 * to go on; otherwise *out_status says how to exit (0 after --help, 1 after
 * an error that was already reported). */
gboolean pv_ctl_parse_options (PvCtl *ctl,
                               const GOptionEntry *entries,
                               int *argc,
                               char ***argv,
                               int *out_status);
/* Checks that between @min and @max positional arguments follow argv[0]. */
gboolean pv_ctl_check_args (PvCtl *ctl, int argc, int min, int max, int *out_status);

/* Opens the existing store named by --db: refuses a missing file (which
 * pv_store_open would silently create) and a file that is not a Pravesh
 * store (which pv_store_open would turn into one). */
PvStore *pv_ctl_open_store (PvCtl *ctl, GError **error);
PvStore *pv_ctl_open_store_path (const char *path, GError **error);
/* Fails with a clear message unless this replica's own device may @what. */
gboolean pv_ctl_require_admin (PvStore *store, const char *what, GError **error);
/* The same, for a command on the hub's own tables (volunteers, the
 * outbox): then gives the store those tables if it has not got them yet.
 * Call it before borrowing the event: making them may reload the caches. */
gboolean pv_ctl_require_hub_store (PvStore *store, const char *what, GError **error);

/* Numbers from option values, with the option named in the error. */
gboolean pv_ctl_parse_uint (const char *option,
                            const char *text,
                            guint64 min,
                            guint64 max,
                            guint64 *out_value,
                            GError **error);
/* "A, B ,C" → { "A", "B", "C" }; an empty item is an error. */
char **pv_ctl_split_list (const char *option, const char *text, GError **error);

/* --at: ISO 8601; without an offset it is local time in the event's zone.
 * NULL means now. */
gboolean pv_ctl_parse_at (PvEvent *event, const char *text, gint64 *out_us, GError **error);
/* ISO 8601 in the event's zone; NULL for an unrepresentable time. */
char *pv_ctl_format_time (PvEvent *event, gint64 at_us);
char *pv_ctl_format_minutes (guint minutes);

/* JSON: one document on stdout, pretty unless @pretty is FALSE (JSON Lines). */
void pv_ctl_print_json (JsonNode *root, gboolean pretty);
void pv_ctl_json_add_time (JsonBuilder *builder, const char *member, PvEvent *event, gint64 at_us);
void pv_ctl_json_add_strv (JsonBuilder *builder, const char *member, const char *const *values);

/* Aligned columns for human output; @rows holds GStrv rows, the first being
 * the header. */
void pv_ctl_print_table (GPtrArray *rows);

/* The sync library's calls are async; a command has nothing else to do
 * meanwhile. Pass pv_ctl_got_result and &result (NULL) as the callback and
 * its data, then pv_ctl_wait (&result) runs the main loop until the result
 * is in and returns it (owned by @result; unref it after the _finish). */
void pv_ctl_got_result (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *pv_ctl_wait (GAsyncResult **result);

/* pv-ctl-event.c */
int pv_ctl_event_init (PvCtl *ctl, int argc, char **argv);
int pv_ctl_event_show (PvCtl *ctl, int argc, char **argv);
int pv_ctl_category_list (PvCtl *ctl, int argc, char **argv);
int pv_ctl_category_add (PvCtl *ctl, int argc, char **argv);
int pv_ctl_device_add (PvCtl *ctl, int argc, char **argv);
int pv_ctl_device_invite (PvCtl *ctl, int argc, char **argv);
int pv_ctl_device_list (PvCtl *ctl, int argc, char **argv);
int pv_ctl_volunteer_add (PvCtl *ctl, int argc, char **argv);
int pv_ctl_volunteer_list (PvCtl *ctl, int argc, char **argv);
int pv_ctl_volunteer_deactivate (PvCtl *ctl, int argc, char **argv);
int pv_ctl_otp_show (PvCtl *ctl, int argc, char **argv);
int pv_ctl_device_revoke (PvCtl *ctl, int argc, char **argv);

/* pv-ctl-tickets.c */
int pv_ctl_ticket_issue (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ticket_show (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ticket_revoke (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ticket_send (PvCtl *ctl, int argc, char **argv);
int pv_ctl_verify (PvCtl *ctl, int argc, char **argv);
int pv_ctl_admit (PvCtl *ctl, int argc, char **argv);
int pv_ctl_qr (PvCtl *ctl, int argc, char **argv);

/* pv-ctl-ledger.c */
int pv_ctl_export_tickets (PvCtl *ctl, int argc, char **argv);
int pv_ctl_export_entries (PvCtl *ctl, int argc, char **argv);
int pv_ctl_stats (PvCtl *ctl, int argc, char **argv);
int pv_ctl_doubles (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ledger_digest (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ledger_state_digest (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ledger_apply (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ledger_rebuild (PvCtl *ctl, int argc, char **argv);
int pv_ctl_ledger_count (PvCtl *ctl, int argc, char **argv);

/* pv-ctl-sync.c */
int pv_ctl_sync (PvCtl *ctl, int argc, char **argv);
int pv_ctl_token (PvCtl *ctl, int argc, char **argv);
int pv_ctl_pair (PvCtl *ctl, int argc, char **argv);
int pv_ctl_peers (PvCtl *ctl, int argc, char **argv);
int pv_ctl_signin (PvCtl *ctl, int argc, char **argv);
/* The hub's URL: @given (then remembered in the store) or the remembered
 * one; NULL without error when there is none. */
char *pv_ctl_hub_url (PvStore *store, const char *given, GError **error);

/* pv-ctl-hub.c */
int pv_ctl_hub_cert (PvCtl *ctl, int argc, char **argv);

/* pv-ctl-outbox.c */
int pv_ctl_outbox (PvCtl *ctl, int argc, char **argv);

/* pv-ctl-scan.c */
int pv_ctl_scan (PvCtl *ctl, int argc, char **argv);

G_END_DECLS
