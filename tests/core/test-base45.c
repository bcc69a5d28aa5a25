/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-base45.c: checks the Base45 codec against the examples of RFC 9285,
 * round-trips random data of every short length, and makes sure each kind of
 * broken input is refused with PV_ERROR_MALFORMED, because ticket codes reach
 * the decoder straight from a camera. */
#include <string.h>

#include "pv-base45.h"
#include "pv-error.h"

typedef struct
{
  const char *data;
  const char *text;
} Example;

/* RFC 9285 §4.3 and §4.4. */
static const Example rfc_examples[] = {
  { "AB", "BB8" },
  { "Hello!!", "%69 VD92EX0" },
  { "base-45", "UJCLQE7W581" },
  { "ietf!", "QED8WEX0" },
};

static void
test_rfc_encode (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc_examples); i++)
    {
      const Example *ex = &rfc_examples[i];
      g_autofree char *text = NULL;

      text = pv_base45_encode ((const guint8 *) ex->data, strlen (ex->data));
      g_assert_cmpstr (text, ==, ex->text);
      g_assert_cmpuint (pv_base45_encoded_len (strlen (ex->data)), ==, strlen (ex->text));
    }
}

static void
test_rfc_decode (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rfc_examples); i++)
    {
      const Example *ex = &rfc_examples[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = NULL;
      guint8 buf[32];
      gsize buf_len = 0;

      /* NUL-terminated and with an explicit length. */
      bytes = pv_base45_decode (ex->text, -1, &error);
      g_assert_no_error (error);
      g_assert_nonnull (bytes);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       ex->data, strlen (ex->data));

      g_assert_true (pv_base45_decode_into (ex->text, strlen (ex->text), buf,
                                            sizeof buf, &buf_len, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (buf, buf_len, ex->data, strlen (ex->data));
    }
}

static void
test_empty (void)
{
  g_autofree char *text = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  gsize out_len = 99;

  g_assert_cmpuint (pv_base45_encoded_len (0), ==, 0);

  text = pv_base45_encode (NULL, 0);
  g_assert_cmpstr (text, ==, "");

  bytes = pv_base45_decode ("", -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 0);

  g_assert_true (pv_base45_decode_into ("", 0, NULL, 0, &out_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out_len, ==, 0);
}

static void
test_round_trip (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (45);

  for (gsize len = 0; len <= 64; len++)
    {
      for (guint round = 0; round < 20; round++)
        {
          guint8 data[64];
          guint8 back[64];
          gsize back_len = 0;
          g_autofree char *text = NULL;
          g_autoptr (GError) error = NULL;

          for (gsize i = 0; i < len; i++)
            data[i] = g_rand_int_range (rand, 0, 256);
          /* Make the extremes appear, not just what the dice throw. */
          if (round == 0)
            memset (data, 0x00, len);
          else if (round == 1)
            memset (data, 0xFF, len);

          text = pv_base45_encode (data, len);
          g_assert_cmpuint (strlen (text), ==, pv_base45_encoded_len (len));
          for (const char *p = text; *p != '\0'; p++)
            g_assert_nonnull (strchr ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", *p));

          /* Exactly the right capacity must do. */
          g_assert_true (pv_base45_decode_into (text, -1, back, len, &back_len, &error));
          g_assert_no_error (error);
          g_assert_cmpmem (back, back_len, data, len);
        }
    }
}

static void
assert_rejected (const char *text,
                 gssize len,
                 gsize out_cap,
                 const char *message_part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GBytes) bytes = NULL;
  guint8 buf[64];
  gsize out_len = 1234;

  g_assert_cmpuint (out_cap, <=, sizeof buf);

  g_assert_false (pv_base45_decode_into (text, len, buf, out_cap, &out_len, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_cmpuint (out_len, ==, 1234);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("\"%s\" not in \"%s\"", message_part, error->message);

  /* A NULL GError must be accepted too. */
  g_assert_false (pv_base45_decode_into (text, len, buf, out_cap, NULL, NULL));

  /* The allocating decoder always has room; only too little room may pass
   * there. */
  bytes = pv_base45_decode (text, len, &error2);
  if (strstr (error->message, "bytes, more than") != NULL)
    {
      g_assert_no_error (error2);
      g_assert_nonnull (bytes);
    }
  else
    {
      g_assert_null (bytes);
      g_assert_error (error2, PV_ERROR, PV_ERROR_MALFORMED);
    }
}

static void
test_reject_bad_characters (void)
{
  /* Lowercase is not Base45, however similar. */
  assert_rejected ("bb8", -1, 64, "Character 'b' at position 0 is not Base45");
  assert_rejected ("BB8QED8WEa", -1, 64, "Character 'a' at position 9 is not Base45");
  assert_rejected ("BB8#ED", -1, 64, "Character '#' at position 3 is not Base45");
  /* \200 is byte 0x80 (an octal escape cannot run on into "ED"). */
  assert_rejected ("BB8\200ED", -1, 64, "Byte 0x80 at position 3 is not Base45");
  assert_rejected ("BB8\nED", -1, 64, "Byte 0x0A at position 3 is not Base45");
  /* An embedded NUL with an explicit length is a bad character, not an end. */
  assert_rejected ("BB8\0ED", 6, 64, "Byte 0x00 at position 3 is not Base45");
  /* The first fault in reading order is the one named. */
  assert_rejected ("GGWa", -1, 64, "triplet");
  assert_rejected ("BBa", -1, 64, "position 2");
}

static void
test_reject_dangling (void)
{
  assert_rejected ("B", -1, 64, "single character at position 0");
  assert_rejected ("BB8B", -1, 64, "single character at position 3");
  assert_rejected ("QED8WEX0AB", -1, 64, "single character at position 9");
  /* A dangling character that is also not Base45 is named as the latter. */
  assert_rejected ("BB8b", -1, 64, "Character 'b' at position 3");
}

static void
test_reject_overflow (void)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[2];
  gsize out_len = 0;

  /* "FGW" is the largest triplet, 65535; one more step is "GGW". */
  g_assert_true (pv_base45_decode_into ("FGW", -1, buf, sizeof buf, &out_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out_len, ==, 2);
  g_assert_cmpuint (buf[0], ==, 0xFF);
  g_assert_cmpuint (buf[1], ==, 0xFF);
  assert_rejected ("GGW", -1, 64, "triplet \"GGW\" at position 0 stands for 65536");
  assert_rejected ("BB8::::", -1, 64, "above 65535");

  /* "U5" is 255, the largest pair. */
  g_assert_true (pv_base45_decode_into ("U5", -1, buf, sizeof buf, &out_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out_len, ==, 1);
  g_assert_cmpuint (buf[0], ==, 0xFF);
  assert_rejected ("V5", -1, 64, "pair \"V5\" at position 0 stands for 256");
  assert_rejected ("BB8::", -1, 64, "above 255");
}

static void
test_reject_capacity (void)
{
  /* "Hello!!" is 7 bytes. */
  assert_rejected ("%69 VD92EX0", -1, 6, "decodes to 7 bytes, more than the 6");
  assert_rejected ("%69 VD92EX0", -1, 0, "decodes to 7 bytes, more than the 0");
  assert_rejected ("BB8", -1, 1, "decodes to 2 bytes, more than the 1");
}

static void
test_length_respected (void)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[8];
  gsize out_len = 0;

  /* Only the first three characters count; the junk after them is never
   * looked at. */
  g_assert_true (pv_base45_decode_into ("BB8junk", 3, buf, sizeof buf, &out_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buf, out_len, "AB", 2);
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/base45/rfc/encode", test_rfc_encode);
  g_test_add_func ("/base45/rfc/decode", test_rfc_decode);
  g_test_add_func ("/base45/empty", test_empty);
  g_test_add_func ("/base45/round-trip", test_round_trip);
  g_test_add_func ("/base45/reject/bad-characters", test_reject_bad_characters);
  g_test_add_func ("/base45/reject/dangling", test_reject_dangling);
  g_test_add_func ("/base45/reject/overflow", test_reject_overflow);
  g_test_add_func ("/base45/reject/capacity", test_reject_capacity);
  g_test_add_func ("/base45/length-respected", test_length_respected);

  return g_test_run ();
}
