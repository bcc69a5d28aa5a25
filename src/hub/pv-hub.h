/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub.h: what the hub's parts share — its replica, the watch on it, the
 * HTTP server they mount their pages and endpoints on, the settings file,
 * and the address devices and visitors reach it by. main () in
 * pravesh-hub.c owns all of it and outlives the parts. */
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

G_END_DECLS
