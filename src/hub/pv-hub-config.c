/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-hub-config.c: reading hub.conf's values (see the header). */
#include "pv-hub-config.h"

#include "pv-error.h"

char *
pv_hub_config_string (GKeyFile *config, const char *group, const char *key, const char *fallback)
{
  g_autofree char *value = g_key_file_get_string (config, group, key, NULL);

  if (value != NULL)
    g_strstrip (value);
  if (value == NULL || *value == '\0')
    return g_strdup (fallback);
  return g_steal_pointer (&value);
}

gboolean
pv_hub_config_number (GKeyFile *config,
                      const char *group,
                      const char *key,
                      double fallback,
                      double min,
                      double max,
                      double *out,
                      GError **error)
{
  g_autofree char *text = pv_hub_config_string (config, group, key, NULL);
  char *end = NULL;
  double value;

  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(value >= min && value <= max))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[%s] %s = %s: give a number from %g to %g", group, key,
                        text, min, max),
           FALSE;
  *out = value;
  return TRUE;
}

gboolean
pv_hub_config_uint (GKeyFile *config,
                    const char *group,
                    const char *key,
                    guint fallback,
                    guint min,
                    guint max,
                    guint *out,
                    GError **error)
{
  g_autofree char *text = pv_hub_config_string (config, group, key, NULL);
  guint64 value;

  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return g_set_error (error, PV_ERROR, PV_ERROR_INVALID, "[%s] %s = %s: give a whole number from %u to %u", group,
                        key, text, min, max),
           FALSE;
  *out = (guint) value;
  return TRUE;
}
