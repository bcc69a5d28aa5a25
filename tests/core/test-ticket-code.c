/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ticket-code.c: the ticket code a QR holds. Signing and parsing must
 * agree on every field, the code must stay within QR version 6-M, and no
 * change to a valid code — one character, a cut, an addition — may ever
 * yield a ticket that both parses and verifies. Some codes are built here by
 * hand from the documented byte layout, so the test checks the format itself
 * and not merely that the two halves of the code agree with each other. */
#include <sodium.h>
#include <string.h>

#include "pv-base45.h"
#include "pv-error.h"
#include "pv-keys.h"
#include "pv-ticket-code.h"

#define BASE45_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
#define CODE_LEN 130

typedef struct
{
  guint8 pk[PV_PUBLIC_KEY_SIZE];
  guint8 sk[PV_SECRET_KEY_SIZE];
} KeyPair;

static PvTicket
sample_ticket (void)
{
  PvTicket t = { 0 };

  t.event_id = 0xDEADBEEF;
  t.issuer = 0xA1B2;
  t.serial = 0x01020304;
  t.category = 0x7E;
  t.day = 3;
  t.party = 0x0102;
  t.flags = 0;
  t.issued_at = 1754000000;

  return t;
}

/* Signs @payload as the format says — "PV1T" || payload, Ed25519 — without
 * going through pv_ticket_sign(), which refuses to make bad tickets. */
static char *
make_code_by_hand (const guint8 payload[PV_TICKET_PAYLOAD_SIZE],
                   const guint8 sk[PV_SECRET_KEY_SIZE])
{
  guint8 message[4 + PV_TICKET_PAYLOAD_SIZE];
  guint8 binary[PV_TICKET_PAYLOAD_SIZE + PV_SIGNATURE_SIZE];
  g_autofree char *text = NULL;

  memcpy (message, "PV1T", 4);
  memcpy (message + 4, payload, PV_TICKET_PAYLOAD_SIZE);
  memcpy (binary, payload, PV_TICKET_PAYLOAD_SIZE);
  crypto_sign_detached (binary + PV_TICKET_PAYLOAD_SIZE, NULL, message,
                        sizeof message, sk);
  text = pv_base45_encode (binary, sizeof binary);

  return g_strconcat ("PV1:", text, NULL);
}

static void
assert_malformed (const char *code,
                  gssize len,
                  const char *message_part)
{
  g_autoptr (GError) error = NULL;
  PvTicket out;

  memset (&out, 0xAA, sizeof out);
  g_assert_false (pv_ticket_parse (code, len, &out, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("\"%s\" not in \"%s\"", message_part, error->message);

  /* A failed parse leaves @out alone. */
  for (gsize i = 0; i < sizeof out; i++)
    g_assert_cmpuint (((guint8 *) &out)[i], ==, 0xAA);

  g_assert_false (pv_ticket_parse (code, len, &out, NULL));
}

static void
test_round_trip (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  PvTicket parsed;
  g_autofree char *code = NULL;
  g_autoptr (GError) error = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);
  g_assert_nonnull (code);
  g_assert_cmpuint (ticket.version, ==, PV_TICKET_FORMAT_VERSION);

  g_assert_true (pv_ticket_parse (code, -1, &parsed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (parsed.version, ==, PV_TICKET_FORMAT_VERSION);
  g_assert_cmpuint (parsed.event_id, ==, ticket.event_id);
  g_assert_cmpuint (parsed.issuer, ==, ticket.issuer);
  g_assert_cmpuint (parsed.serial, ==, ticket.serial);
  g_assert_cmpuint (parsed.category, ==, ticket.category);
  g_assert_cmpuint (parsed.day, ==, ticket.day);
  g_assert_cmpuint (parsed.party, ==, ticket.party);
  g_assert_cmpuint (parsed.flags, ==, ticket.flags);
  g_assert_cmpuint (parsed.issued_at, ==, ticket.issued_at);
  g_assert_cmpmem (parsed.payload, sizeof parsed.payload, ticket.payload, sizeof ticket.payload);
  g_assert_cmpmem (parsed.signature, sizeof parsed.signature, ticket.signature, sizeof ticket.signature);
  g_assert_true (pv_ticket_verify_signature (&parsed, kp.pk));

  /* An explicit length, with junk after it that must not be read. */
  {
    g_autofree char *padded = g_strconcat (code, "JUNK", NULL);

    g_assert_true (pv_ticket_parse (padded, strlen (code), &parsed, &error));
    g_assert_no_error (error);
    g_assert_true (pv_ticket_verify_signature (&parsed, kp.pk));
  }
}

static void
test_layout (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  PvTicket parsed;
  g_autofree char *code = NULL;
  g_autofree char *by_hand = NULL;
  /* The documented big-endian layout of sample_ticket(). */
  /* clang-format off */
  static const guint8 expected[PV_TICKET_PAYLOAD_SIZE] = {
    0x01,
    0xDE, 0xAD, 0xBE, 0xEF,
    0xA1, 0xB2,
    0x01, 0x02, 0x03, 0x04,
    0x7E,
    0x03,
    0x01, 0x02,
    0x00,
    0x68, 0x8B, 0xEA, 0x80,
  };
  /* clang-format on */

  G_STATIC_ASSERT (1754000000 == 0x688BEA80);

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);
  g_assert_cmpmem (ticket.payload, sizeof ticket.payload, expected, sizeof expected);

  /* Ed25519 is deterministic: by hand and by the library, one code. */
  by_hand = make_code_by_hand (expected, kp.sk);
  g_assert_cmpstr (code, ==, by_hand);

  /* Extreme values survive, and the day may name no day. */
  ticket.event_id = G_MAXUINT32;
  ticket.issuer = G_MAXUINT16;
  ticket.serial = G_MAXUINT32;
  ticket.category = 0;
  ticket.day = PV_TICKET_DAY_NONE;
  ticket.party = G_MAXUINT16;
  ticket.issued_at = G_MAXUINT32;
  g_clear_pointer (&code, g_free);
  code = pv_ticket_sign (&ticket, kp.sk);
  g_assert_true (pv_ticket_parse (code, -1, &parsed, NULL));
  g_assert_cmpuint (parsed.event_id, ==, G_MAXUINT32);
  g_assert_cmpuint (parsed.issuer, ==, G_MAXUINT16);
  g_assert_cmpuint (parsed.serial, ==, G_MAXUINT32);
  g_assert_cmpuint (parsed.category, ==, 0);
  g_assert_cmpuint (parsed.day, ==, PV_TICKET_DAY_NONE);
  g_assert_cmpuint (parsed.party, ==, G_MAXUINT16);
  g_assert_cmpuint (parsed.issued_at, ==, G_MAXUINT32);
  g_assert_true (pv_ticket_verify_signature (&parsed, kp.pk));
}

static void
test_shape (void)
{
  KeyPair kp;
  g_autoptr (GRand) rand = g_rand_new_with_seed (130);

  pv_keypair_generate (kp.pk, kp.sk);

  for (guint round = 0; round < 200; round++)
    {
      PvTicket ticket = { 0 };
      g_autofree char *code = NULL;

      ticket.event_id = g_rand_int (rand);
      ticket.issuer = g_rand_int (rand);
      ticket.serial = g_rand_int (rand);
      ticket.category = g_rand_int (rand);
      ticket.day = g_rand_int (rand);
      ticket.party = g_rand_int_range (rand, 1, 65536);
      ticket.issued_at = g_rand_int (rand);

      code = pv_ticket_sign (&ticket, kp.sk);
      g_assert_cmpuint (strlen (code), <=, PV_TICKET_CODE_MAX_LEN);
      g_assert_cmpuint (strlen (code), ==, CODE_LEN);
      g_assert_true (g_str_has_prefix (code, PV_TICKET_CODE_PREFIX));
      /* QR alphanumeric mode: Base45 and nothing else, the prefix included. */
      for (const char *p = code; *p != '\0'; p++)
        g_assert_nonnull (strchr (BASE45_ALPHABET, *p));
    }
}

/* The heart of it: change any one character of a valid code to anything
 * else, and the result must not be a ticket this key signed. */
static void
test_tampering (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  g_autofree char *code = NULL;
  const char *replacements = BASE45_ALPHABET "a\x80";
  gsize n_replacements = strlen (replacements);
  guint n_parsed = 0;
  guint n_tried = 0;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);
  g_assert_cmpuint (strlen (code), ==, CODE_LEN);

  for (gsize pos = 0; pos < CODE_LEN; pos++)
    {
      for (gsize r = 0; r < n_replacements; r++)
        {
          char tampered[CODE_LEN + 1];
          PvTicket parsed;
          g_autoptr (GError) error = NULL;

          if (replacements[r] == code[pos])
            continue;

          memcpy (tampered, code, sizeof tampered);
          tampered[pos] = replacements[r];
          n_tried++;

          if (!pv_ticket_parse (tampered, CODE_LEN, &parsed, &error))
            {
              g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
              continue;
            }

          n_parsed++;
          if (pv_ticket_verify_signature (&parsed, kp.pk))
            g_error ("Code with '%c' at position %" G_GSIZE_FORMAT " still verifies",
                     replacements[r], pos);
        }
    }

  g_test_message ("%u tampered codes, %u of them parsed and failed the signature",
                  n_tried, n_parsed);
  g_assert_cmpuint (n_tried, ==, CODE_LEN * (n_replacements - 1));
  /* Most single changes land in valid Base45, so the signature really is
   * what catches them. */
  g_assert_cmpuint (n_parsed, >, n_tried / 2);
}

static void
test_bad_characters (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  g_autofree char *code = NULL;
  char bad[CODE_LEN + 1];

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  /* Positions count from the start of the whole code, "PV1:" included. */
  memcpy (bad, code, sizeof bad);
  bad[17] = 'a';
  assert_malformed (bad, -1, "Character 'a' at position 17 is not Base45");

  memcpy (bad, code, sizeof bad);
  bad[4] = '#';
  assert_malformed (bad, -1, "Character '#' at position 4 is not Base45");

  memcpy (bad, code, sizeof bad);
  bad[CODE_LEN - 1] = '\x80';
  assert_malformed (bad, -1, "Byte 0x80 at position 129 is not Base45");

  /* An embedded NUL with an explicit length is a bad byte. */
  memcpy (bad, code, sizeof bad);
  bad[60] = '\0';
  assert_malformed (bad, CODE_LEN, "Byte 0x00 at position 60 is not Base45");

  /* A triplet above 65535, all characters valid. */
  memcpy (bad, code, sizeof bad);
  memcpy (bad + 7, "GGW", 3);
  assert_malformed (bad, -1, "triplet \"GGW\" at position 7");
}

static void
test_prefix (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  g_autofree char *code = NULL;
  char bad[CODE_LEN + 1];

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  assert_malformed ("", -1, "Ticket code must start with PV1:");
  assert_malformed ("PV1", -1, "Ticket code must start with PV1:");
  assert_malformed ("https://example.org/", -1, "Ticket code must start with PV1:");
  assert_malformed (code, 0, "Ticket code must start with PV1:");
  assert_malformed (NULL, 0, "Ticket code must start with PV1:");

  memcpy (bad, code, sizeof bad);
  bad[0] = 'p';
  assert_malformed (bad, -1, "Ticket code must start with PV1:");
  memcpy (bad, code, sizeof bad);
  bad[2] = '2';
  assert_malformed (bad, -1, "Ticket code must start with PV1:");
}

static void
test_truncated (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  g_autofree char *code = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  for (gsize len = 0; len < CODE_LEN; len++)
    {
      /* A heap copy of exactly @len bytes, so AddressSanitizer catches any
       * read beyond the length given. */
      g_autofree char *cut = g_memdup2 (code, len);
      g_autofree char *cut_nul = g_strndup (code, len);

      assert_malformed (cut, len, NULL);
      assert_malformed (cut_nul, -1, NULL);
    }

  assert_malformed (code, CODE_LEN - 1, "129 characters long");
  assert_malformed (code, CODE_LEN - 3, "127 characters long");
}

static void
test_extended (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  g_autofree char *code = NULL;
  g_autofree char *filler = g_strnfill (1000, 'A');
  g_autofree char *very_long = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  for (gsize extra = 1; extra <= 40; extra++)
    {
      g_autofree char *suffix = g_strnfill (extra, '0');
      g_autofree char *longer = g_strconcat (code, suffix, NULL);

      assert_malformed (longer, -1, NULL);
      assert_malformed (longer, strlen (longer), NULL);
    }

  {
    g_autofree char *longer = g_strconcat (code, "000", NULL);
    assert_malformed (longer, -1, "133 characters long");
  }

  very_long = g_strconcat (code, filler, NULL);
  assert_malformed (very_long, -1, "longer than 154");
  assert_malformed (very_long, strlen (very_long), "1130 characters long, longer than 154");
}

static void
test_version (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  PvTicket parsed;
  g_autofree char *code = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);
  g_assert_true (pv_ticket_parse (code, -1, &parsed, NULL));

  /* Properly signed, but a version this code does not know. */
  for (guint version = 0; version < 256; version++)
    {
      guint8 payload[PV_TICKET_PAYLOAD_SIZE];
      g_autofree char *other = NULL;
      g_autofree char *expected = NULL;

      if (version == PV_TICKET_FORMAT_VERSION)
        continue;

      memcpy (payload, ticket.payload, sizeof payload);
      payload[0] = version;
      other = make_code_by_hand (payload, kp.sk);
      expected = g_strdup_printf ("Ticket format version %u is not supported", version);
      assert_malformed (other, -1, expected);
    }
}

static void
test_party_zero (void)
{
  KeyPair kp;
  PvTicket ticket = sample_ticket ();
  PvTicket parsed;
  guint8 payload[PV_TICKET_PAYLOAD_SIZE];
  g_autofree char *code = NULL;
  g_autofree char *zero = NULL;
  g_autofree char *one = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  memcpy (payload, ticket.payload, sizeof payload);
  payload[13] = 0;
  payload[14] = 0;
  zero = make_code_by_hand (payload, kp.sk);
  assert_malformed (zero, -1, "party size 0");

  payload[14] = 1;
  one = make_code_by_hand (payload, kp.sk);
  g_assert_true (pv_ticket_parse (one, -1, &parsed, NULL));
  g_assert_cmpuint (parsed.party, ==, 1);
  g_assert_true (pv_ticket_verify_signature (&parsed, kp.pk));
}

static void
test_wrong_key (void)
{
  KeyPair kp, other;
  PvTicket ticket = sample_ticket ();
  PvTicket parsed;
  g_autofree char *code = NULL;

  pv_keypair_generate (kp.pk, kp.sk);
  pv_keypair_generate (other.pk, other.sk);
  code = pv_ticket_sign (&ticket, kp.sk);

  g_assert_true (pv_ticket_parse (code, -1, &parsed, NULL));
  g_assert_true (pv_ticket_verify_signature (&parsed, kp.pk));
  g_assert_false (pv_ticket_verify_signature (&parsed, other.pk));

  /* Fields changed after parsing do not matter: the payload is what is
   * signed, and a changed payload fails. */
  parsed.payload[7] ^= 1;
  g_assert_false (pv_ticket_verify_signature (&parsed, kp.pk));
}

static void
test_serial_format (void)
{
  g_autofree char *a = pv_ticket_format_serial (3, 145);
  g_autofree char *b = pv_ticket_format_serial (0, 0);
  g_autofree char *c = pv_ticket_format_serial (12, 999999);
  g_autofree char *d = pv_ticket_format_serial (12, 1000000);
  g_autofree char *e = pv_ticket_format_serial (G_MAXUINT16, G_MAXUINT32);

  g_assert_cmpstr (a, ==, "3-000145");
  g_assert_cmpstr (b, ==, "0-000000");
  g_assert_cmpstr (c, ==, "12-999999");
  g_assert_cmpstr (d, ==, "12-1000000");
  g_assert_cmpstr (e, ==, "65535-4294967295");
}

static void
test_serial_parse (void)
{
  static const struct
  {
    const char *text;
    guint16 issuer;
    guint32 serial;
  } good[] = {
    { "3-000145", 3, 145 },
    { "3-145", 3, 145 },
    { "03-145", 3, 145 },
    { "0-0", 0, 0 },
    { "12-1000000", 12, 1000000 },
    { "65535-4294967295", G_MAXUINT16, G_MAXUINT32 },
    { "1-0000000000000000000042", 1, 42 },
  };
  /* clang-format off */
  static const char *const bad[] = {
    "", "-", "3", "3-", "-145", "3145", "3_145", "3--145", "3-145-", "3-14a5",
    "a-145", " 3-145", "3-145 ", "3 -145", "+3-145", "3-+145", "3-0x10",
    "65536-1", "3-4294967296", "99999999999999999999-1", "3-99999999999999999999",
    "३-१४५", "3-145\n",
  };
  /* clang-format on */

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      guint16 issuer = 0;
      guint32 serial = 0;

      if (!pv_ticket_parse_serial (good[i].text, &issuer, &serial, &error))
        g_error ("\"%s\" did not parse: %s", good[i].text, error->message);
      g_assert_cmpuint (issuer, ==, good[i].issuer);
      g_assert_cmpuint (serial, ==, good[i].serial);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      guint16 issuer = 77;
      guint32 serial = 77;

      if (pv_ticket_parse_serial (bad[i], &issuer, &serial, &error))
        g_error ("\"%s\" parsed", bad[i]);
      g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
      g_assert_cmpuint (issuer, ==, 77);
      g_assert_cmpuint (serial, ==, 77);
    }

  /* What the formatter writes, the parser reads. */
  for (guint32 serial = 0; serial < 3000000; serial += 99991)
    {
      g_autofree char *text = pv_ticket_format_serial (serial % 70, serial);
      guint16 issuer_back = 0;
      guint32 serial_back = 0;

      g_assert_true (pv_ticket_parse_serial (text, &issuer_back, &serial_back, NULL));
      g_assert_cmpuint (issuer_back, ==, serial % 70);
      g_assert_cmpuint (serial_back, ==, serial);
    }
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  pv_crypto_init ();

  g_test_add_func ("/ticket-code/round-trip", test_round_trip);
  g_test_add_func ("/ticket-code/layout", test_layout);
  g_test_add_func ("/ticket-code/shape", test_shape);
  g_test_add_func ("/ticket-code/tampering", test_tampering);
  g_test_add_func ("/ticket-code/bad-characters", test_bad_characters);
  g_test_add_func ("/ticket-code/prefix", test_prefix);
  g_test_add_func ("/ticket-code/truncated", test_truncated);
  g_test_add_func ("/ticket-code/extended", test_extended);
  g_test_add_func ("/ticket-code/version", test_version);
  g_test_add_func ("/ticket-code/party-zero", test_party_zero);
  g_test_add_func ("/ticket-code/wrong-key", test_wrong_key);
  g_test_add_func ("/ticket-code/serial/format", test_serial_format);
  g_test_add_func ("/ticket-code/serial/parse", test_serial_parse);

  return g_test_run ();
}
