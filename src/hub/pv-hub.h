/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub.h: the hub, the server every device meets at, as a library: its
 * options, made from them, run until SIGTERM or SIGINT; and what the hub's
 * parts share — its replica, the watch on it, the HTTP server their routes
 * are mounted on (pv-hub-routes.h), the settings file, and the address
 * devices and visitors reach it by. The PvHub owns all of it and outlives
 * the parts. */
#pragma once

#include <libsoup/soup.h>

#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

typedef struct
{
  PvStore *store;
  PvStoreWatch *watch; /* notify it after writing to @store */
  SoupServer *server;
  GKeyFile *config; /* never NULL: empty without --config */
  const char *url;  /* the hub's public URL, "http://10.0.0.2:8470/" */
} PvHubContext;

/* The command line, and [hub] of --config where the command line is
 * silent. */
typedef struct
{
  char *db, *listen, *config, *public_url, *tls_cert, *tls_key;
  gboolean version;
} PvHubOptions;

void pv_hub_options_clear (PvHubOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PvHubOptions, pv_hub_options_clear)

/* What every part needs before anything runs: TLS policy, gettext, libsodium. */
void pv_hub_init (void);

/* Fills @options from the command line. FALSE when the program is to end
 * at once, with its exit status in @out_status (--version, or a wrong
 * option, said on stderr). */
gboolean pv_hub_parse_options (int *argc, char ***argv, PvHubOptions *options, int *out_status);

typedef struct _PvHub PvHub;

/* The hub @options describe, its settings read and its replica open,
 * listening but not yet answering; an error names what to fix. */
PvHub *pv_hub_new (const PvHubOptions *options, GError **error);
/* Answers until SIGTERM or SIGINT, then what is queued. */
void pv_hub_run (PvHub *self);
void pv_hub_free (PvHub *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PvHub, pv_hub_free)

G_END_DECLS
