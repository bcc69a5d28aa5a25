/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: the entry point of `pravesh`, the desktop app: the application
 * (pv-application.c, which also starts its translations) does the rest. */
#include "config.h"

#include "pv-application.h"
#include "pv-tls.h"

int
main (int argc, char **argv)
{
  g_autoptr (PvApplication) app = NULL;

  pv_application_choose_renderer ();
  /* Its hub and its peers' connections: TLS 1.2 and newer only. */
  pv_tls_policy_init ();

  app = pv_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
