/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wedge.c: the keyboard-wedge parser fed timed key sequences — USB
 * scanners of two kinds, a person typing, and the mixtures a gate sees (a
 * stray key before a scan, a scan cut short, two tickets back to back, the
 * same ticket twice) — with time stamps from the sequences, never from the
 * clock, so the results do not depend on how fast the machine runs. The
 * sequences are modelled on USB HID polling and the scanners' documented
 * key rates, not captured from hardware (none was at hand). The
 * codes are real: signed ticket codes from pv-test-images.c. */
#include <glib.h>
#include <string.h>

#include "pv-decoder.h"
#include "pv-test-images.h"
#include "pv-ticket-code.h"
#include "pv-wedge.h"

#define MS 1000
/* Far from zero, as monotonic time stamps are. */
#define T0 ((gint64) 7200 * G_USEC_PER_SEC)

/* ---- timing sequences ----
 * Gaps in µs between successive keys, replayed cyclically over a text. USB HID polls at 1 ms (full speed) or
 * 8 ms (low speed), so scanners come in steps of the polling interval with
 * the odd longer stall while their buffer refills. */

/* clang-format off */
/* A Honeywell Voyager-class scanner at the default "keyboard" speed:
 * 5–10 ms a key, 130 characters in about 0.9 s. */
static const guint honeywell_gaps[] = {
  6020, 5980, 8010, 6030, 9950, 6010, 5970, 7990, 6000, 6040, 8020, 5990,
  9980, 6000, 5960, 8000, 6050, 7010, 5990, 10000, 6020, 5980, 8040, 6000,
};

/* A Zebra DS2208-class scanner set to fast HID, ending with Tab: 1–3 ms a
 * key, some keys in the same millisecond. */
static const guint zebra_gaps[] = {
  1010, 2000, 990, 3010, 1000, 0, 2000, 1000, 1990, 3000, 1010, 1000,
};

/* A person typing "hello": 150–300 ms a key, then Enter. */
static const guint person_gaps[] = {
  212000, 187000, 263000, 151000, 298000, 176000, 241000,
};
/* clang-format on */

typedef struct
{
  PvWedgeEvent event;
  char *text;
  gint64 at;
} Report;

static void
report_clear (Report *report)
{
  g_free (report->text);
}

/* The parser and what it has reported so far. */
typedef struct
{
  PvWedge *wedge;
  GArray *reports;
  gint64 now;
} Player;

static void
player_init (Player *player)
{
  player->wedge = pv_wedge_new ();
  player->reports = g_array_new (FALSE, TRUE, sizeof (Report));
  g_array_set_clear_func (player->reports, (GDestroyNotify) report_clear);
  player->now = T0;
}

static void
player_clear (Player *player)
{
  g_clear_pointer (&player->wedge, pv_wedge_free);
  g_clear_pointer (&player->reports, g_array_unref);
}

static void
note (Player *player, PvWedgeEvent event, char *text)
{
  Report report = { event, text, player->now };

  /* Every event but NONE carries the text; NONE carries nothing. */
  if (event == PV_WEDGE_NONE)
    g_assert_null (text);
  else
    g_assert_nonnull (text);
  if (event != PV_WEDGE_NONE)
    g_array_append_val (player->reports, report);
}

/* Plays @text after @pause_us, the keys @gaps apart (cycled); '\n' is Enter
 * and '\t' Tab, fed as the end key the app would see. */
static void
play (Player *player, gint64 pause_us, const char *text, const guint *gaps, gsize n_gaps)
{
  player->now += pause_us;
  for (gsize i = 0; text[i] != '\0'; i++)
    {
      char *out = NULL;
      PvWedgeEvent event;

      if (i > 0)
        player->now += gaps[(i - 1) % n_gaps];
      if (text[i] == '\n' || text[i] == '\t')
        event = pv_wedge_feed_end (player->wedge, player->now, &out);
      else
        event = pv_wedge_feed_char (player->wedge, (guchar) text[i], player->now, &out);
      note (player, event, out);
    }
}

#define PLAY(player, pause_us, text, gaps) \
  play ((player), (pause_us), (text), (gaps), G_N_ELEMENTS (gaps))

static void
assert_reports (Player *player, guint n, ...)
{
  va_list args;

  g_assert_cmpuint (player->reports->len, ==, n);
  va_start (args, n);
  for (guint i = 0; i < n; i++)
    {
      PvWedgeEvent event = (PvWedgeEvent) va_arg (args, int); /* enums travel as int */
      const char *text = va_arg (args, const char *);
      Report *report = &g_array_index (player->reports, Report, i);

      g_assert_cmpint (report->event, ==, event);
      g_assert_cmpstr (report->text, ==, text);
    }
  va_end (args);
}

/* The Honeywell recording over @n keys with one gap of @gap_us before key
 * @at: a host that missed a poll, or a scanner that stalled. */
static void
with_stall (guint *gaps, gsize n, gsize at, guint gap_us)
{
  for (gsize i = 0; i < n; i++)
    gaps[i] = honeywell_gaps[i % G_N_ELEMENTS (honeywell_gaps)];
  gaps[at - 1] = gap_us;
}

static char *
code_with (guint32 serial, const char *end)
{
  g_autofree char *code = pv_test_ticket_code (serial);

  return g_strconcat (code, end, NULL);
}

/* ---- tests ---- */

static void
test_codes_are_real (void)
{
  g_autofree char *code = pv_test_ticket_code (1);
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
  PvTicket ticket;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (strlen (code), ==, 130);
  g_assert_true (pv_ticket_parse (code, -1, &ticket, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ticket.serial, ==, 1);
  pv_test_ticket_public_key (public_key);
  g_assert_true (pv_ticket_verify_signature (&ticket, public_key));
}

static void
test_honeywell_enter (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (11);
  g_autofree char *keys = code_with (11, "\n");

  player_init (&p);
  PLAY (&p, 0, keys, honeywell_gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);
  /* The whole scan took under a second and was reported on the Enter. */
  g_assert_cmpint (g_array_index (p.reports, Report, 0).at - T0, <, G_USEC_PER_SEC);
  player_clear (&p);
}

static void
test_zebra_tab (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (12);
  g_autofree char *keys = code_with (12, "\t");

  player_init (&p);
  PLAY (&p, 0, keys, zebra_gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);
  player_clear (&p);
}

static void
test_person_typing (void)
{
  Player p;

  player_init (&p);
  /* Someone types in the gate window: no scan, nothing to report. */
  PLAY (&p, 0, "hello\n", person_gaps);
  /* Enter alone, a key and a quick Enter, three quick keys: a person. */
  PLAY (&p, 900 * MS, "\n", person_gaps);
  PLAY (&p, 900 * MS, "1\n", zebra_gaps);
  PLAY (&p, 900 * MS, "abc\n", honeywell_gaps);
  /* A person typing a whole ticket code by hand is still a person; the desk
   * has a serial search for that. */
  {
    g_autofree char *keys = code_with (13, "\n");
    PLAY (&p, 900 * MS, keys, person_gaps);
  }
  assert_reports (&p, 0);
  player_clear (&p);
}

static void
test_stray_key_before_scan (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (14);
  g_autofree char *keys = code_with (14, "\n");
  g_autofree char *code2 = pv_test_ticket_code (15);
  g_autofree char *keys2 = code_with (15, "\n");
  const guint quick[] = { 25 * MS };

  player_init (&p);
  /* A person's key, then the scan 400 ms later: the slow first key of the
   * scan starts a fresh burst and the person's key is dropped. */
  PLAY (&p, 0, "x", person_gaps);
  PLAY (&p, 400 * MS, keys, honeywell_gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);

  /* A key pressed just 25 ms before the scanner fired joins the burst; the
   * code is still found behind it. */
  PLAY (&p, 5000 * MS, "q", quick);
  PLAY (&p, 25 * MS, keys2, honeywell_gaps);
  assert_reports (&p, 2, PV_WEDGE_CODE, code, PV_WEDGE_CODE, code2);
  player_clear (&p);
}

static void
test_scan_interrupted (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (16);
  g_autofree char *half = g_strndup (code, 60);
  g_autofree char *keys = code_with (16, "\n");
  g_autofree char *mixed = NULL;

  player_init (&p);
  /* The scanner stops after 60 characters (the ticket moved away); the
   * person presses a key and Enter. Half a code is not reported. */
  PLAY (&p, 0, half, honeywell_gaps);
  PLAY (&p, 350 * MS, "a\n", person_gaps);
  assert_reports (&p, 0);
  /* The next scan of the same ticket reads it whole. */
  PLAY (&p, 800 * MS, keys, honeywell_gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);

  /* A person's key landing inside a burst corrupts it; it cannot be told
   * which key was the person's, so the burst is not a ticket and the gate
   * asks for another scan. */
  mixed = g_strdup_printf ("%.70sk%s\n", code, code + 70);
  PLAY (&p, 5000 * MS, mixed, honeywell_gaps);
  g_assert_cmpuint (p.reports->len, ==, 2);
  g_assert_cmpint (g_array_index (p.reports, Report, 1).event, ==, PV_WEDGE_NOT_A_TICKET);
  player_clear (&p);
}

static void
test_back_to_back (void)
{
  Player p;
  g_autofree char *a = pv_test_ticket_code (21);
  g_autofree char *b = pv_test_ticket_code (22);
  g_autofree char *keys_a = code_with (21, "\n");
  g_autofree char *keys_b = code_with (22, "\n");

  player_init (&p);
  /* A family's tickets scanned one after the other: the second burst
   * starts 6 ms after the first one's Enter. */
  PLAY (&p, 0, keys_a, honeywell_gaps);
  PLAY (&p, 6 * MS, keys_b, honeywell_gaps);
  PLAY (&p, 6 * MS, keys_a, zebra_gaps);
  /* A different code is reported at once; A again after B is new too. */
  assert_reports (&p, 3, PV_WEDGE_CODE, a, PV_WEDGE_CODE, b, PV_WEDGE_CODE, a);
  player_clear (&p);
}

static void
test_hold_off (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (31);
  g_autofree char *keys = code_with (31, "\n");
  gint64 scan_us;
  gint64 first;

  player_init (&p);
  PLAY (&p, 0, keys, honeywell_gaps);
  first = p.now;
  scan_us = first - T0;
  /* The trigger pulled again, that scan ending 1.2 s after the first: one
   * scan. */
  PLAY (&p, first + 1200 * MS - scan_us - p.now, keys, honeywell_gaps);
  g_assert_cmpint (p.now - first, ==, 1200 * MS);
  /* And again 3.2 s after the first, only 2 s after the repeat: the
   * hold-off counts from the scan that was reported, so this is a new
   * scan, for admission to judge (it will say the ticket is already in). */
  PLAY (&p, first + 3200 * MS - scan_us - p.now, keys, honeywell_gaps);
  g_assert_cmpint (p.now - first, ==, 3200 * MS);
  assert_reports (&p, 3, PV_WEDGE_CODE, code, PV_WEDGE_REPEAT, code, PV_WEDGE_CODE, code);
  player_clear (&p);

  /* The setting is honoured: with no hold-off every scan counts. */
  player_init (&p);
  pv_wedge_set_hold_off_ms (p.wedge, 0);
  PLAY (&p, 0, keys, honeywell_gaps);
  PLAY (&p, 300 * MS, keys, honeywell_gaps);
  assert_reports (&p, 2, PV_WEDGE_CODE, code, PV_WEDGE_CODE, code);
  player_clear (&p);
}

static void
test_not_a_ticket (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (41);
  g_autofree char *cut = g_strdup_printf ("%.100s\n", code);

  player_init (&p);
  /* An EAN-13 off a water bottle, a ticket from another system, and a code
   * of ours cut short: fast bursts, reported with their text so the gate
   * can say what it saw. */
  PLAY (&p, 0, "4006381333931\n", honeywell_gaps);
  PLAY (&p, 2000 * MS, "HTTPS://TIX.EXAMPLE.COM/T/8F3K2Q\t", zebra_gaps);
  PLAY (&p, 2000 * MS, cut, honeywell_gaps);
  cut[100] = '\0';
  assert_reports (&p, 3,
                  PV_WEDGE_NOT_A_TICKET, "4006381333931",
                  PV_WEDGE_NOT_A_TICKET, "HTTPS://TIX.EXAMPLE.COM/T/8F3K2Q",
                  PV_WEDGE_NOT_A_TICKET, cut);
  player_clear (&p);
}

static void
test_lowercase (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (51);
  g_autofree char *keys = code_with (51, "\n");
  g_autofree char *lower = g_ascii_strdown (keys, -1);

  /* Caps Lock on, or a scanner set up for the wrong case: letters come in
   * lower case and are read as the capitals Base45 uses. */
  player_init (&p);
  g_assert_cmpstr (lower, !=, keys);
  PLAY (&p, 0, lower, honeywell_gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);
  player_clear (&p);
}

static void
test_jitter (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (61);
  g_autofree char *keys = code_with (61, "\n");
  g_autofree char *code2 = pv_test_ticket_code (62);
  g_autofree char *keys2 = code_with (62, "\n");
  guint gaps[140];
  const char *tail;

  player_init (&p);
  /* One 40 ms hiccup inside a scan is still the scan. */
  with_stall (gaps, G_N_ELEMENTS (gaps), 64, 40 * MS);
  PLAY (&p, 0, keys, gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code);

  /* A 60 ms stall, beyond the gap, splits it: what came before is dropped
   * and the rest is not a ticket. */
  with_stall (gaps, G_N_ELEMENTS (gaps), 90, 60 * MS);
  PLAY (&p, 5000 * MS, keys, gaps);
  g_assert_cmpuint (p.reports->len, ==, 2);
  g_assert_cmpint (g_array_index (p.reports, Report, 1).event, ==, PV_WEDGE_NOT_A_TICKET);
  tail = g_array_index (p.reports, Report, 1).text;
  g_assert_cmpstr (tail, ==, code + 90);
  player_clear (&p);

  /* A gate with a slow scanner widens the gap, and the stall is forgiven. */
  player_init (&p);
  pv_wedge_set_max_gap_ms (p.wedge, 80);
  PLAY (&p, 0, keys2, gaps);
  assert_reports (&p, 1, PV_WEDGE_CODE, code2);
  player_clear (&p);
}

static void
test_slow_enter (void)
{
  Player p;
  g_autofree char *code = pv_test_ticket_code (71);
  const guint none[] = { 0 };

  player_init (&p);
  /* A scanner with no suffix configured, and a person pressing Enter 400 ms
   * after it: the Enter is the person's and the burst is not taken as a
   * scan; the gate needs the scanner's own Enter or Tab. */
  PLAY (&p, 0, code, honeywell_gaps);
  PLAY (&p, 400 * MS, "\n", none);
  assert_reports (&p, 0);
  player_clear (&p);
}

static void
test_terminators_and_controls (void)
{
  g_autoptr (PvWedge) wedge = pv_wedge_new ();
  g_autofree char *code = pv_test_ticket_code (81);
  char *out = (char *) "untouched";
  gint64 t = T0;
  PvWedgeEvent event = PV_WEDGE_NONE;

  /* Some setups deliver Enter as '\r' in the character stream, and a
   * scanner may send control characters (an AIM symbology prefix) that
   * neither extend nor break the burst. */
  g_assert_cmpint (pv_wedge_feed_char (wedge, 0x02, t, &out), ==, PV_WEDGE_NONE);
  g_assert_null (out);
  for (gsize i = 0; code[i]; i++)
    {
      t += 5 * MS;
      g_assert_cmpint (pv_wedge_feed_char (wedge, (guchar) code[i], t, NULL), ==, PV_WEDGE_NONE);
      if (i == 40)
        g_assert_cmpint (pv_wedge_feed_char (wedge, 0x1d, t, NULL), ==, PV_WEDGE_NONE);
    }
  t += 5 * MS;
  event = pv_wedge_feed_char (wedge, '\r', t, &out);
  g_assert_cmpint (event, ==, PV_WEDGE_CODE);
  g_assert_cmpstr (out, ==, code);
  g_free (out);

  /* NULL for the text is allowed; a second Enter has nothing to end. */
  g_assert_cmpint (pv_wedge_feed_end (wedge, t + 5 * MS, NULL), ==, PV_WEDGE_NONE);
}

static void
test_runaway_burst (void)
{
  g_autoptr (PvWedge) wedge = pv_wedge_new ();
  g_autofree char *out = NULL;
  gint64 t = T0;

  /* A key stuck down repeats at 30 ms for a minute: the parser neither grows
   * without bound nor takes it for a ticket. */
  for (int i = 0; i < 2000; i++)
    pv_wedge_feed_char (wedge, 'A', t += 30 * MS, NULL);
  g_assert_cmpint (pv_wedge_feed_end (wedge, t + 30 * MS, &out), ==, PV_WEDGE_NOT_A_TICKET);
  g_assert_cmpuint (strlen (out), <=, 1024);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/wedge/codes-are-real", test_codes_are_real);
  g_test_add_func ("/wedge/honeywell-enter", test_honeywell_enter);
  g_test_add_func ("/wedge/zebra-tab", test_zebra_tab);
  g_test_add_func ("/wedge/person-typing", test_person_typing);
  g_test_add_func ("/wedge/stray-key-before-scan", test_stray_key_before_scan);
  g_test_add_func ("/wedge/scan-interrupted", test_scan_interrupted);
  g_test_add_func ("/wedge/back-to-back", test_back_to_back);
  g_test_add_func ("/wedge/hold-off", test_hold_off);
  g_test_add_func ("/wedge/not-a-ticket", test_not_a_ticket);
  g_test_add_func ("/wedge/lowercase", test_lowercase);
  g_test_add_func ("/wedge/jitter", test_jitter);
  g_test_add_func ("/wedge/slow-enter", test_slow_enter);
  g_test_add_func ("/wedge/terminators-and-controls", test_terminators_and_controls);
  g_test_add_func ("/wedge/runaway-burst", test_runaway_burst);

  return g_test_run ();
}
