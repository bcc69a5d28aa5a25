/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-config.h: reading hub.conf's values, one way for every part of
 * the hub: strings trimmed (empty counts as absent), numbers within their
 * range or refused at start with the group, key and what is expected. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The value of [@group] @key, trimmed; a copy of @fallback when it is
 * absent or empty. */
char *pv_hub_config_string (GKeyFile *config, const char *group, const char *key, const char *fallback);

/* A number from the settings: @fallback when absent, else within [@min,
 * @max] or an error that names it. */
gboolean pv_hub_config_number (GKeyFile *config,
                               const char *group,
                               const char *key,
                               double fallback,
                               double min,
                               double max,
                               double *out,
                               GError **error);

/* The same, for a whole number. */
gboolean pv_hub_config_uint (GKeyFile *config,
                             const char *group,
                             const char *key,
                             guint fallback,
                             guint min,
                             guint max,
                             guint *out,
                             GError **error);

G_END_DECLS
