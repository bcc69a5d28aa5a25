/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-channels.h: the hub's own domain as a whole — what a store must have
 * before the volunteers, codes, outbox and WhatsApp modules of this folder
 * work on it. Their tables are local to the hub's file: gates and desks
 * never hold them, so only a program acting as (or on) a hub makes them. */
#pragma once

#include <glib.h>

#include "pv-types.h"

G_BEGIN_DECLS

/* Gives @store the hub's tables, applying the channels' migrations it has
 * not had yet (none when it is up to date: cheap enough to call at every
 * open). A store made before these tables had migrations of their own,
 * when core made them in every replica, is recognised by the tables it
 * holds and kept as it is. Call it after pv_store_open (), outside a
 * transaction or at its start. PV_ERROR_STORE when the store's tables are
 * newer than this program knows. */
gboolean pv_channels_prepare_store (PvStore *store, GError **error);

G_END_DECLS
