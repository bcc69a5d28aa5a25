/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pravesh-ctl.c: the entry point of pravesh-ctl, the scriptable face of
 * core. It reads the global options (--db, --version, --help), finds the
 * command in one table — the same table that writes the top-level help, so
 * the two cannot drift apart — and hands the rest of the command line to
 * that command, which parses its own options. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pv-ctl.h"
#include "pv-i18n.h"
#include "pv-tls.h"

static const PvCtlCommand commands[] = {
  { "event init", NULL,
    N_ ("Create an event in a new store, which becomes its first admin device"),
    N_ ("The store must not exist yet (or be empty). The event gets a random id, "
        "the default ticket categories and a new event key pair."),
    TRUE, pv_ctl_event_init },
  { "event show", NULL, N_ ("Show the event in force"), NULL, TRUE, pv_ctl_event_show },
  { "category list", NULL, N_ ("List the ticket categories"), NULL, TRUE, pv_ctl_category_list },
  { "category add", NULL, N_ ("Add a ticket category (admin and hub devices only)"), NULL, TRUE,
    pv_ctl_category_add },
  { "ticket issue", NULL, N_ ("Issue tickets and print their codes, one a line"), NULL, TRUE,
    pv_ctl_ticket_issue },
  { "ticket show", N_ ("SERIAL|CODE"), N_ ("Show what this replica knows of one ticket"), NULL, TRUE,
    pv_ctl_ticket_show },
  { "ticket revoke", N_ ("SERIAL"), N_ ("Revoke a ticket"), NULL, TRUE, pv_ctl_ticket_revoke },
  { "ticket send", N_ ("SERIAL|CODE"), N_ ("Ask the hub to send a ticket to its visitor by WhatsApp or SMS"),
    N_ ("Writes a request into the ledger, naming the ticket and the channel only; it reaches the hub "
        "with the next sync, and the hub sends the ticket to the phone number it holds. Desk, admin "
        "and hub devices only."),
    TRUE, pv_ctl_ticket_send },
  { "verify", N_ ("CODE"),
    N_ ("Check that a ticket code is genuine and in force, recording nothing"),
    N_ ("Prints the verdict as JSON. Exit status: 0 when the ticket is VALID, 2 when it is "
        "refused, 1 on errors."),
    TRUE, pv_ctl_verify },
  { "admit", N_ ("CODE|-"), N_ ("Scan a ticket at a gate and record the entry or exit"),
    N_ ("Asks the hub first when this replica knows one (see --hub), and decides from this "
        "replica alone (offline) when the hub does not answer in time, or with --offline or "
        "--at; prints the verdict as JSON, saying which decided. With “-” as CODE, reads "
        "codes from standard input, one a line, decided offline, and prints one JSON object a "
        "line.\n\nExit status: 0 when every scan was accepted (ADMIT or EXIT), 2 when one "
        "was refused, 1 on errors."),
    TRUE, pv_ctl_admit },
  { "qr", N_ ("CODE"), N_ ("Render a ticket or pairing code as a QR image (PNG or SVG)"),
    N_ ("Needs no store: the code carries everything the symbol shows."), FALSE, pv_ctl_qr },
  { "scan", N_ ("IMAGE…"), N_ ("Read the QR codes in image files, as a gate’s camera would"),
    N_ ("Decodes each image (PNG, JPEG, WebP, BMP…) with the gate’s own decoder, trying every "
        "extra pass it has, and prints one line per file: the codes found, the pass that "
        "found them and the time taken, or “nothing found”. With --json, one JSON object a "
        "line: {\"file\", \"found\", \"codes\", \"pass\", \"decode_us\"}, or {\"file\", "
        "\"error\"} for a file that cannot be read. Needs no store.\n\nExit status: 0 when "
        "every image held a code, 2 when some held none, 1 when a file could not be read."),
    FALSE, pv_ctl_scan },
  { "export tickets", NULL, N_ ("Export the tickets as CSV"), NULL, TRUE, pv_ctl_export_tickets },
  { "export entries", NULL, N_ ("Export the entry and exit scans as CSV"), NULL, TRUE,
    pv_ctl_export_entries },
  { "stats", NULL, N_ ("Show the control room’s figures for a day"), NULL, TRUE, pv_ctl_stats },
  { "doubles", NULL, N_ ("List the double entries found after merging replicas"), NULL, TRUE,
    pv_ctl_doubles },
  { "ledger digest", NULL,
    N_ ("Print the ledger digest (equal on replicas that hold the same records)"), NULL, TRUE,
    pv_ctl_ledger_digest },
  { "ledger state-digest", NULL,
    N_ ("Print the digest of the derived state (equal on replicas that derived the same)"), NULL,
    TRUE, pv_ctl_ledger_state_digest },
  { "ledger apply", N_ ("OTHER.db"), N_ ("Merge the records of another replica into this store"),
    N_ ("Applies, in one transaction, every record of OTHER.db this store lacks, and the "
        "names and phone numbers when this device may hold them. On any error nothing "
        "changes. OTHER.db is only read."),
    TRUE, pv_ctl_ledger_apply },
  { "ledger rebuild", NULL,
    N_ ("Rebuild the derived state from the ledger; exit 0 only when nothing changed"), NULL,
    TRUE, pv_ctl_ledger_rebuild },
  { "ledger count", NULL, N_ ("Print the number of records in the ledger"), NULL, TRUE,
    pv_ctl_ledger_count },
  { "sync", NULL, N_ ("Sync with the hub and peers (or one round with --once)"),
    N_ ("Without --once it keeps running as a headless device: a live connection to the hub, the sync "
        "endpoints served to peers on --listen, peers found through the hub, records relayed both ways, "
        "including those other programs write into the same file. It prints “listening URL” first."),
    TRUE, pv_ctl_sync },
  { "token", NULL, N_ ("Print a fresh bearer token signed by this device"),
    N_ ("For scripts and tests that call the sync endpoints or the hub’s API by hand; it holds for ten minutes."),
    TRUE, pv_ctl_token },
  { "pair", N_ ("PVPAIR:…"), N_ ("Pair a new device with a hub and write its replica (--db, a new file)"), NULL, TRUE,
    pv_ctl_pair },
  { "peers", NULL, N_ ("List the devices that serve sync to peers, as the hub knows them"), NULL, TRUE,
    pv_ctl_peers },
  { "hub cert", NULL, N_ ("Make a self-signed certificate and key for the hub’s HTTPS"),
    N_ ("Devices pin the certificate’s fingerprint, which pairing codes carry: start pravesh-hub with "
        "--tls-cert and --tls-key before making them."),
    FALSE, pv_ctl_hub_cert },
  { "device invite", NULL, N_ ("Make a one-time pairing code for a new device (hub only)"),
    N_ ("The code holds the hub’s address, its certificate’s fingerprint and a secret; show it as a QR with "
        "“pravesh-ctl qr”, or paste it into “pravesh-ctl pair”."),
    TRUE, pv_ctl_device_invite },
  { "volunteer add", NULL, N_ ("Add a volunteer who may sign in at devices (hub only)"), NULL, TRUE,
    pv_ctl_volunteer_add },
  { "volunteer list", NULL, N_ ("List the volunteers: role, active, last sign-in (hub only)"), NULL, TRUE,
    pv_ctl_volunteer_list },
  { "volunteer deactivate", N_ ("PHONE|ID"), N_ ("Stop a volunteer signing in, or with --activate let them again"),
    N_ ("A number of up to seven digits is a volunteer’s id (see “volunteer list”); anything else a phone."), TRUE,
    pv_ctl_volunteer_deactivate },
  { "otp show", N_ ("PHONE"), N_ ("Show the newest message for a phone in the hub’s outbox (its sign-in code)"),
    N_ ("Until messages go out by SMS or WhatsApp, the organiser on site reads the code to the volunteer."),
    TRUE, pv_ctl_otp_show },
  { "outbox", NULL, N_ ("List the hub’s outgoing messages (WhatsApp, SMS) with their status"),
    N_ ("Newest first: channel, phone, kind, status, tries and the last error. With --retry ID, a failed or "
        "held message is queued again; the running hub sends it. Admin and hub devices only."),
    TRUE, pv_ctl_outbox },
  { "signin", NULL, N_ ("Sign a volunteer in at this device: ask for a code, then give it with --code"), NULL, TRUE,
    pv_ctl_signin },
  { "device add", NULL, N_ ("Enrol a new device and write its replica file"), NULL, TRUE,
    pv_ctl_device_add },
  { "device list", NULL, N_ ("List the enrolled devices: last seen, how far behind, revoked"), NULL, TRUE,
    pv_ctl_device_list },
  { "devices", NULL, N_ ("The same as “device list”"), NULL, TRUE, pv_ctl_device_list },
  { "device revoke", N_ ("ID"), N_ ("Revoke a device"),
    N_ ("Tickets the device issues after the revocation are refused everywhere the "
        "revocation has reached."),
    TRUE, pv_ctl_device_revoke },
};

const PvCtlCommand *
pv_ctl_get_commands (guint *out_n)
{
  *out_n = G_N_ELEMENTS (commands);
  return commands;
}

/* Length of the first word of a command name. */
static gsize
group_length (const char *name)
{
  const char *space = strchr (name, ' ');

  return space ? (gsize) (space - name) : strlen (name);
}

static gboolean
in_group (const PvCtlCommand *command, const char *word)
{
  gsize n = group_length (command->name);

  return strlen (word) == n && strncmp (command->name, word, n) == 0;
}

/* The command list for --help; @group limits it to one group's subcommands. */
static char *
describe_commands (const char *group)
{
  g_autoptr (GString) text = g_string_new (NULL);
  gsize width = 0;

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (group == NULL || in_group (&commands[i], group))
      width = MAX (width, strlen (commands[i].name));

  g_string_append_printf (text, "%s\n", _ ("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (group == NULL || in_group (&commands[i], group))
      g_string_append_printf (text, "  %-*s  %s\n", (int) width, commands[i].name,
                              _ (commands[i].summary));
  g_string_append_printf (text, "\n%s\n", _ ("Run “pravesh-ctl COMMAND --help” for the options of a command."));
  if (group == NULL)
    g_string_append_printf (text, "\n%s\n  %s\n\n%s\n",
                            _ ("Environment:"),
                            _ ("PRAVESH_DB  the store to use when --db is not given"),
                            _ ("Exit status: 0 on success, 1 on errors, 2 when verify or admit "
                               "refused a ticket or scan found no code."));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
run_command (PvCtl *ctl, const PvCtlCommand *command, int argc, char **argv)
{
  ctl->command = command;
  return command->func (ctl, argc, argv);
}

static int
dispatch (PvCtl *ctl, int argc, char **argv)
{
  const char *word = argv[1];
  const PvCtlCommand *grouped = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (!in_group (&commands[i], word))
        continue;
      if (strchr (commands[i].name, ' ') == NULL)
        return run_command (ctl, &commands[i], argc - 1, argv + 1);
      grouped = &commands[i];
      if (argc >= 3 && g_str_equal (commands[i].name + strlen (word) + 1, argv[2]))
        return run_command (ctl, &commands[i], argc - 2, argv + 2);
    }

  if (grouped == NULL)
    return pv_ctl_error (_ ("Unknown command “%s” (see “pravesh-ctl --help”)"), word);
  if (argc >= 3 && (g_str_equal (argv[2], "--help") || g_str_equal (argv[2], "-h")))
    {
      g_autofree char *list = describe_commands (word);
      g_print (_ ("Usage:\n  pravesh-ctl [--db FILE] %s SUBCOMMAND [OPTION…]\n\n"), word);
      g_print ("%s", list);
      return PV_CTL_EXIT_OK;
    }
  if (argc < 3)
    return pv_ctl_error (_ ("“%s” needs a subcommand (see “pravesh-ctl %s --help”)"), word, word);
  return pv_ctl_error (_ ("“%s” is not a subcommand of “%s” (see “pravesh-ctl %s --help”)"),
                       argv[2], word, word);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *description = NULL;
  gboolean version = FALSE;
  gboolean help = FALSE;
  PvCtl ctl = { 0 };
  int status;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      N_ ("The store (SQLite file) to work on; default $PRAVESH_DB"), N_ ("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Show the version and exit"), NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, N_ ("Show this help and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  /* Before any command can touch TLS (sync, pairing, a peer's server). */
  pv_tls_policy_init ();
  pv_i18n_init ();
  g_set_prgname ("pravesh-ctl");
  pv_crypto_init ();

  /* Strict POSIX stops at the command word, so the command's own options
   * (and its --help) reach the command untouched. */
  context = g_option_context_new (_ ("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _ ("Create events, issue and check tickets, admit at gates, merge "
                                   "replicas and export, from the command line."));
  description = describe_commands (NULL);
  g_option_context_set_description (context, description);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return pv_ctl_error (_ ("%s (see “pravesh-ctl --help”)"), error->message);
  if (help)
    {
      g_autofree char *text = g_option_context_get_help (context, TRUE, NULL);
      g_print ("%s", text);
      return PV_CTL_EXIT_OK;
    }
  if (version)
    {
      g_print ("pravesh-ctl %s\n", PACKAGE_VERSION);
      return PV_CTL_EXIT_OK;
    }
  if (argc < 2)
    return pv_ctl_error (_ ("No command given (see “pravesh-ctl --help”)"));

  if (db && *db)
    ctl.db_path = g_strdup (db);
  else if (g_getenv ("PRAVESH_DB") && *g_getenv ("PRAVESH_DB"))
    ctl.db_path = g_strdup (g_getenv ("PRAVESH_DB"));

  status = dispatch (&ctl, argc, argv);
  g_free (ctl.db_path);
  return status;
}
