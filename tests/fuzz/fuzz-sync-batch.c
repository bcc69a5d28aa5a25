/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-sync-batch.c: libFuzzer target for the parsers the network feeds
 * the sync layer: pv_batch_new_from_json(), pv_batch_new_from_binary(),
 * pv_vector_new_from_json() and pv_pull_request_new_from_json().
 * The input is handed over with its exact length and no terminator, so
 * AddressSanitizer sees any read past it. Whatever parses must re-encode to
 * something that parses to the same batch, and every refusal must be a
 * PV_ERROR_MALFORMED with a UTF-8 message, since it is shown and logged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pv-error.h"
#include "pv-wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_LIMIT (1024 * 1024)

static void
check_refusal (GError *error)
{
  g_assert_nonnull (error);
  g_assert_true (g_error_matches (error, PV_ERROR, PV_ERROR_MALFORMED));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
check_batch (const char *text, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = pv_batch_new_from_json (text, size, FUZZ_LIMIT, &error);
  g_autoptr (GBytes) bytes = NULL, again = NULL;
  g_autoptr (PvBatch) back = NULL;

  if (batch == NULL)
    {
      check_refusal (error);
      return;
    }
  g_assert_null (error);
  g_assert_cmpuint (batch->records->len, <=, PV_BATCH_MAX_RECORDS);

  /* Encoding is canonical: what parsed once encodes to bytes that parse to
   * a batch encoding to the very same bytes. */
  bytes = pv_batch_to_json (batch);
  back = pv_batch_new_from_json (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                 G_MAXSIZE, &error);
  g_assert_no_error (error);
  again = pv_batch_to_json (back);
  g_assert_true (g_bytes_equal (bytes, again));
}

static void
check_binary (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvBatch) batch = pv_batch_new_from_binary (data, size, FUZZ_LIMIT, &error);
  g_autoptr (GBytes) bytes = NULL, again = NULL, json = NULL;
  g_autoptr (PvBatch) from_json = NULL;

  if (batch == NULL)
    {
      check_refusal (error);
      return;
    }
  g_assert_null (error);
  /* Normal form is required, so what parsed is its own encoding; and the
   * JSON framing carries the same batch. */
  bytes = pv_batch_to_binary (batch);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), data, size);
  json = pv_batch_to_json (batch);
  from_json = pv_batch_new_from_json (g_bytes_get_data (json, NULL), g_bytes_get_size (json), G_MAXSIZE, &error);
  g_assert_no_error (error);
  again = pv_batch_to_binary (from_json);
  g_assert_true (g_bytes_equal (bytes, again));
}

static void
check_request (const char *text, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PvPullRequest) request = pv_pull_request_new_from_json (text, size, FUZZ_LIMIT, &error);

  if (request == NULL)
    check_refusal (error);
}

static void
check_vector (const char *text, size_t size)
{
  g_autoptr (GError) error = NULL;
  guint32 event = 0, event_back = 0;
  g_autoptr (GHashTable) vector = pv_vector_new_from_json (text, size, FUZZ_LIMIT, &event, &error);
  g_autoptr (GHashTable) back = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (vector == NULL)
    {
      check_refusal (error);
      return;
    }
  g_assert_null (error);
  bytes = pv_vector_to_json (event, vector);
  back = pv_vector_new_from_json (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  G_MAXSIZE, &event_back, &error);
  g_assert_no_error (error);
  g_assert_cmphex (event, ==, event_back);
  g_assert_cmpuint (g_hash_table_size (vector), ==, g_hash_table_size (back));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* libFuzzer hands over a heap copy of exactly @size bytes. */
  const char *text = (const char *) data;

  check_batch (text, size);
  check_binary (data, size);
  check_vector (text, size);
  check_request (text, size);
  return 0;
}
