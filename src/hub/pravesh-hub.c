/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pravesh-hub.c: the hub's program: its options read, the hub made from
 * them and run until SIGTERM. Everything else is the hub library
 * (pv-hub.h), which the tests link too. */
#include "config.h"

#include "pv-hub.h"

int
main (int argc, char *argv[])
{
  g_auto (PvHubOptions) options = { 0 };
  g_autoptr (PvHub) hub = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  pv_hub_init ();
  if (!pv_hub_parse_options (&argc, &argv, &options, &status))
    return status;
  if (!(hub = pv_hub_new (&options, &error)))
    {
      g_printerr ("pravesh-hub: %s\n", error->message);
      return 1;
    }
  pv_hub_run (hub);
  return 0;
}
