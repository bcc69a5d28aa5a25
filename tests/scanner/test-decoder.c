/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-decoder.c: PvFrame, pv_image_load_gray and PvDecoder. Real ticket
 * codes, signed with core and drawn with pv_qr_render, are decoded from
 * frames laid out the ways cameras hand them over (packed and padded GRAY8
 * rows, RGBA) and from PNG, BMP and GIF files; the worker is fed from another
 * thread and must report on the owner's main context, drop frames while
 * busy, and apply the hold-off. Nothing here depends on how fast the
 * machine is: waits are generous timeouts, and the hold-off runs on the
 * frames' capture times, which the tests choose. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

#include "pv-decoder.h"
#include "pv-error.h"
#include "pv-frame.h"
#include "pv-image.h"
#include "pv-keys.h"
#include "pv-qr.h"
#include "pv-ticket-code.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cairo_surface_t, cairo_surface_destroy)

#define TIMEOUT_US (60 * G_USEC_PER_SEC)
#define LIGHT 200 /* the background a symbol sits on: paper, not pure white */

/* A real ticket code: signed by a fresh key, "PV1:" + 126 Base45 characters. */
static char *
make_code (guint32 serial)
{
  guint8 public_key[PV_PUBLIC_KEY_SIZE];
  guint8 secret_key[PV_SECRET_KEY_SIZE];
  PvTicket ticket = { 0 };

  pv_keypair_generate (public_key, secret_key);
  ticket.version = PV_TICKET_FORMAT_VERSION;
  ticket.event_id = 0x5eed0001u;
  ticket.issuer = 3;
  ticket.serial = serial;
  ticket.category = 1;
  ticket.day = PV_TICKET_DAY_NONE;
  ticket.party = 1;
  ticket.issued_at = 1790000000u;
  return pv_ticket_sign (&ticket, secret_key);
}

/* The symbol's grey levels (0 or 255), quiet zone included. */
static guint8 *
render_symbol (const char *code, int module_px, int *out_size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cairo_surface_t) surface = pv_qr_render (code, module_px, &error);
  int size, stride;
  const guint8 *data;
  guint8 *gray;

  g_assert_no_error (error);
  cairo_surface_flush (surface);
  size = cairo_image_surface_get_width (surface);
  g_assert_cmpint (cairo_image_surface_get_height (surface), ==, size);
  stride = cairo_image_surface_get_stride (surface);
  data = cairo_image_surface_get_data (surface);
  gray = g_malloc ((gsize) size * size);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        guint32 pixel;

        memcpy (&pixel, data + (gsize) y * stride + 4 * x, 4);
        gray[(gsize) y * size + x] = (guint8) (pixel & 0xff);
      }
  *out_size = size;
  return gray;
}

/* A @width × @height frame in @format with rows @stride bytes apart (the
 * padding filled with junk, which must never be read as pixels), showing
 * @code (or nothing, when NULL) at (@x, @y) on a light background. */
static PvFrame *
make_frame (PvFrameFormat format, int width, int height, int stride, const char *code, int x,
            int y, gint64 captured_at)
{
  int bpp = format == PV_FRAME_RGBA ? 4 : 1;
  g_autofree guint8 *symbol = NULL;
  g_autoptr (GBytes) bytes = NULL;
  guint8 *data;
  int size = 0;

  g_assert_cmpint (stride, >=, width * bpp);
  if (code != NULL)
    symbol = render_symbol (code, 4, &size);

  data = g_malloc ((gsize) stride * height);
  memset (data, 0x5a, (gsize) stride * height);
  for (int row = 0; row < height; row++)
    for (int col = 0; col < width; col++)
      {
        guint8 v = LIGHT;
        guint8 *p = data + (gsize) row * stride + (gsize) col * bpp;

        if (symbol != NULL && row >= y && row < y + size && col >= x && col < x + size)
          v = symbol[(gsize) (row - y) * size + (col - x)] ? LIGHT : 20;
        if (format == PV_FRAME_RGBA)
          {
            /* Tinted, so the luma weights matter: R, G and B differ. */
            p[0] = (guint8) MIN (255, v + 20);
            p[1] = v;
            p[2] = (guint8) (v * 3 / 4);
            p[3] = 255;
          }
        else
          p[0] = v;
      }
  bytes = g_bytes_new_take (data, (gsize) stride * height);
  return pv_frame_new (format, width, height, stride, bytes, captured_at);
}

/* ---- PvFrame ---- */

static void
test_frame_packed_gray (void)
{
  /* 5 × 2 GRAY8 padded to 8 bytes a row, as GStreamer pads to 4. */
  static const guint8 padded[] = { 1, 2, 3, 4, 5, 99, 99, 99, 6, 7, 8, 9, 10, 99, 99, 99 };
  /* 2 × 1 RGBA with a row pad: white, and pure red. */
  static const guint8 rgba[] = { 255, 255, 255, 255, 255, 0, 0, 255, 7, 7, 7, 7 };
  g_autoptr (GBytes) bytes = g_bytes_new_static (padded, sizeof padded);
  g_autoptr (PvFrame) frame = pv_frame_new (PV_FRAME_GRAY8, 5, 2, 8, bytes, 42);
  g_autoptr (PvFrame) packed = pv_frame_to_packed_gray (frame);
  g_autoptr (PvFrame) again = pv_frame_to_packed_gray (packed);
  g_autoptr (GBytes) rgba_bytes = g_bytes_new_static (rgba, sizeof rgba);
  g_autoptr (PvFrame) color = pv_frame_new (PV_FRAME_RGBA, 2, 1, 12, rgba_bytes, 7);
  g_autoptr (PvFrame) luma = pv_frame_to_packed_gray (color);
  static const guint8 expected[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  const guint8 *data;
  gsize size;

  g_assert_cmpint (packed->format, ==, PV_FRAME_GRAY8);
  g_assert_cmpint (packed->stride, ==, 5);
  g_assert_cmpint (packed->captured_at, ==, 42);
  data = g_bytes_get_data (packed->data, &size);
  g_assert_cmpmem (data, size, expected, sizeof expected);
  /* Already packed: the same (immutable) frame, not another copy. */
  g_assert_true (again == packed);

  g_assert_cmpint (luma->width, ==, 2);
  g_assert_cmpint (luma->captured_at, ==, 7);
  data = g_bytes_get_data (luma->data, &size);
  g_assert_cmpuint (size, ==, 2);
  g_assert_cmpint (data[0], ==, 255);
  /* BT.601: 0.299 × 255 ≈ 76. */
  g_assert_cmpint (data[1], >=, 75);
  g_assert_cmpint (data[1], <=, 77);
  g_assert_true (g_type_is_a (PV_TYPE_FRAME, G_TYPE_BOXED));
}

/* ---- pv_decoder_decode ---- */

typedef struct
{
  PvFrameFormat format;
  int width;
  int height;
  int stride;
} Layout;

static void
test_decode_layouts (void)
{
  /* clang-format off */
  static const Layout layouts[] = {
    { PV_FRAME_GRAY8, 640, 480, 640 },      /* packed */
    { PV_FRAME_GRAY8, 637, 480, 640 },      /* GStreamer's 4-byte row padding */
    { PV_FRAME_GRAY8, 600, 400, 700 },      /* a wide pad */
    { PV_FRAME_RGBA, 640, 480, 640 * 4 },   /* the preview branch's frames */
    { PV_FRAME_RGBA, 601, 401, 601 * 4 + 64 },
  };
  /* clang-format on */
  g_autofree char *code = make_code (145);
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();

  g_assert_cmpuint (strlen (code), ==, 130);
  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++)
    {
      const Layout *l = &layouts[i];
      g_autoptr (PvFrame) frame = make_frame (l->format, l->width, l->height, l->stride, code, 101 + (int) i, 57, 1000);
      g_autoptr (GPtrArray) results = pv_decoder_decode (decoder, frame, 0);
      PvDecodeResult *result;

      g_test_message ("layout %u: %s %d×%d stride %d", i,
                      l->format == PV_FRAME_RGBA ? "RGBA" : "GRAY8", l->width, l->height,
                      l->stride);
      g_assert_cmpuint (results->len, ==, 1);
      result = results->pdata[0];
      g_assert_cmpstr (result->text, ==, code);
      /* A clean symbol needs no extra pass. */
      g_assert_cmpstr (result->pass, ==, "plain");
      g_assert_cmpint (result->decode_us, >, 0);
    }
}

static void
test_decode_two_codes (void)
{
  g_autofree char *a = make_code (1);
  g_autofree char *b = make_code (2);
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autoptr (PvFrame) left = make_frame (PV_FRAME_GRAY8, 640, 300, 640, a, 20, 40, 0);
  g_autoptr (GBytes) both_bytes = NULL;
  g_autoptr (PvFrame) both = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (PvFrame) right = make_frame (PV_FRAME_GRAY8, 640, 300, 640, b, 400, 40, 0);
  guint8 *data = g_memdup2 (g_bytes_get_data (left->data, NULL), 640 * 300);
  const guint8 *r = g_bytes_get_data (right->data, NULL);
  gboolean seen_a = FALSE, seen_b = FALSE;

  /* Right half from the second frame: two tickets side by side. */
  for (int y = 0; y < 300; y++)
    memcpy (data + y * 640 + 320, r + y * 640 + 320, 320);
  both_bytes = g_bytes_new_take (data, 640 * 300);
  both = pv_frame_new (PV_FRAME_GRAY8, 640, 300, 640, both_bytes, 0);
  results = pv_decoder_decode (decoder, both, 0);
  g_assert_cmpuint (results->len, ==, 2);
  for (guint i = 0; i < results->len; i++)
    {
      const char *text = ((PvDecodeResult *) results->pdata[i])->text;

      seen_a |= g_str_equal (text, a);
      seen_b |= g_str_equal (text, b);
    }
  g_assert_true (seen_a && seen_b);
}

static void
test_decode_nothing (void)
{
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autoptr (PvFrame) blank = make_frame (PV_FRAME_GRAY8, 320, 240, 320, NULL, 0, 0, 0);
  g_autoptr (GPtrArray) results = pv_decoder_decode (decoder, blank, 0);
  g_autoptr (GPtrArray) budgeted = NULL;
  g_autoptr (GPtrArray) tiny_results = NULL;
  g_autoptr (GBytes) tiny_bytes = g_bytes_new_static ("\0", 1);
  g_autoptr (PvFrame) tiny = pv_frame_new (PV_FRAME_GRAY8, 1, 1, 1, tiny_bytes, 0);

  g_assert_nonnull (results);
  g_assert_cmpuint (results->len, ==, 0);
  budgeted = pv_decoder_decode (decoder, blank, PV_DECODER_DEFAULT_BUDGET_US);
  g_assert_cmpuint (budgeted->len, ==, 0);
  /* Too small for any pass to apply: still a clean "nothing". */
  tiny_results = pv_decoder_decode (decoder, tiny, 0);
  g_assert_cmpuint (tiny_results->len, ==, 0);
}

/* A small file can claim a huge picture; it is refused before it is
 * copied and scanned, with a message that says why. */
static void
test_image_too_large (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-image-large-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "wide.png", NULL);
  g_autoptr (GError) error = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, PV_IMAGE_MAX_SIDE + 1, 8);

  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  g_assert_null (pv_image_load_gray (path, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "megapixels"));
  g_unlink (path);
  g_rmdir (dir);
}

/* A phone in dark mode shows the ticket light on dark. */
static void
test_decode_inverted (void)
{
  g_autofree char *code = make_code (77);
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_GRAY8, 640, 480, 640, code, 150, 90, 0);
  g_autoptr (PvFrame) inverted = NULL;
  g_autoptr (GPtrArray) results = NULL;
  gsize size;
  const guint8 *pixels = g_bytes_get_data (frame->data, &size);
  guint8 *flipped = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    flipped[i] = 255 - pixels[i];
  {
    g_autoptr (GBytes) bytes = g_bytes_new_take (flipped, size);
    inverted = pv_frame_new (PV_FRAME_GRAY8, 640, 480, 640, bytes, 0);
  }
  results = pv_decoder_decode (decoder, inverted, PV_DECODER_DEFAULT_BUDGET_US);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (((PvDecodeResult *) results->pdata[0])->text, ==, code);
  g_assert_cmpstr (((PvDecodeResult *) results->pdata[0])->pass, ==, "inverted");
}

typedef struct
{
  PvDecoder *decoder;
  PvFrame *frame;
  const char *code;
  guint decoded;
} DecodeLoop;

static gpointer
decode_loop_thread (gpointer data)
{
  DecodeLoop *loop = data;

  for (int i = 0; i < 5; i++)
    {
      g_autoptr (GPtrArray) results = pv_decoder_decode (loop->decoder, loop->frame, 0);

      if (results->len == 1
          && g_str_equal (((PvDecodeResult *) results->pdata[0])->text, loop->code))
        loop->decoded++;
    }
  return NULL;
}

/* One decoder, several threads at once (the worker and pravesh-ctl-like
 * callers): every call gets the same answer. */
static void
test_decode_threads (void)
{
  g_autofree char *code = make_code (51);
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_RGBA, 400, 300, 1600, code, 90, 40, 0);
  DecodeLoop loops[4];
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (loops); i++)
    {
      loops[i] = (DecodeLoop){ decoder, frame, code, 0 };
      threads[i] = g_thread_new ("test-decode", decode_loop_thread, &loops[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (loops); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (loops[i].decoded, ==, 5);
    }
}

/* ---- pv_image_load_gray ---- */

/* A GIF of @gray (0 or 255 only), written without an encoder: 8-bit LZW
 * codes with a clear code every 120 pixels, before the table reaches 256
 * entries, so the code size never grows.
 * Enough to prove GIF files get through decodebin. */
static void
write_gif (const char *path, const guint8 *gray, int width, int height)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GByteArray) lzw = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const guint8 header[] = { 'G', 'I', 'F', '8', '9', 'a', width & 0xff, width >> 8, height & 0xff,
                            height >> 8, 0xf6, 0, 0 }; /* global table of 128 colours */
  const guint8 image[] = { ',', 0, 0, 0, 0, width & 0xff, width >> 8, height & 0xff, height >> 8,
                           0, 7 }; /* LZW minimum code size 7 */
  guint8 palette[128 * 3] = { 0 };
  const guint8 clear = 128, end = 129;
  gsize n = (gsize) width * height;

  palette[3] = palette[4] = palette[5] = 255; /* colour 1: white */
  g_byte_array_append (out, header, sizeof header);
  g_byte_array_append (out, palette, sizeof palette);
  g_byte_array_append (out, image, sizeof image);
  for (gsize i = 0; i < n; i++)
    {
      guint8 index = gray[i] ? 1 : 0;

      if (i % 120 == 0)
        g_byte_array_append (lzw, &clear, 1);
      g_byte_array_append (lzw, &index, 1);
    }
  g_byte_array_append (lzw, &end, 1);
  for (guint i = 0; i < lzw->len; i += 255)
    {
      guint8 len = (guint8) MIN (255u, lzw->len - i);

      g_byte_array_append (out, &len, 1);
      g_byte_array_append (out, lzw->data + i, len);
    }
  g_byte_array_append (out, (const guint8 *) "\0;", 2);
  g_file_set_contents (path, (const char *) out->data, out->len, &error);
  g_assert_no_error (error);
}

/* A 24-bit BMP of @gray: bottom-up rows padded to four bytes. BMP has no
 * decoder in GStreamer but gdkpixbufdec, which pv-image.c enables. */
static void
write_bmp (const char *path, const guint8 *gray, int width, int height)
{
  int row = (3 * width + 3) & ~3;
  guint32 size = 54 + (guint32) row * height;
  g_autofree guint8 *out = g_malloc0 (size);
  g_autoptr (GError) error = NULL;
  guint32 header[] = { size, 0, 54, 40, (guint32) width, (guint32) height };

  out[0] = 'B';
  out[1] = 'M';
  /* Little-endian fields at 2, 6, 10, 14, 18, 22; 26: planes 1, bpp 24. */
  for (guint i = 0; i < G_N_ELEMENTS (header); i++)
    for (int b = 0; b < 4; b++)
      out[2 + 4 * i + b] = (guint8) (header[i] >> (8 * b));
  out[26] = 1;
  out[28] = 24;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      memset (out + 54 + (gsize) (height - 1 - y) * row + 3 * x, gray[(gsize) y * width + x], 3);
  g_file_set_contents (path, (const char *) out, size, &error);
  g_assert_no_error (error);
}

static void
test_image_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pv-test-decoder-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "ticket.png", NULL);
  g_autofree char *gif = g_build_filename (dir, "ticket.gif", NULL);
  g_autofree char *bmp = g_build_filename (dir, "ticket.bmp", NULL);
  g_autoptr (GstElementFactory) gif_decoder = NULL;
  g_autofree char *text = g_build_filename (dir, "notes.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_autofree char *code = make_code (7);
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  g_autofree guint8 *symbol = NULL;
  const char *paths[3];
  int size;

  g_assert_no_error (error);
  g_assert_true (pv_qr_write_png (code, png, 3, &error));
  g_assert_no_error (error);
  symbol = render_symbol (code, 3, &size);
  write_gif (gif, symbol, size, size);
  write_bmp (bmp, symbol, size, size);

  paths[0] = png;
  paths[1] = bmp;
  paths[2] = gif;
  /* GStreamer 1.22 reads GIF only through gstreamer1.0-libav. */
  gif_decoder = gst_element_factory_find ("avdec_gif");
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (PvFrame) frame = pv_image_load_gray (paths[i], &error);
      g_autoptr (GPtrArray) results = NULL;
      const guint8 *data;

      if (paths[i] == gif && gif_decoder == NULL)
        {
          g_test_message ("no avdec_gif: a GIF must fail with a clear error");
          g_assert_null (frame);
          g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
          g_assert_nonnull (strstr (error->message, "gstreamer1.0-libav"));
          g_clear_error (&error);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (frame);
      g_assert_cmpint (frame->format, ==, PV_FRAME_GRAY8);
      g_assert_cmpint (frame->width, ==, size);
      g_assert_cmpint (frame->height, ==, size);
      g_assert_cmpint (frame->stride, ==, size);
      /* The quiet zone's corner is white, the finder pattern's black. */
      data = g_bytes_get_data (frame->data, NULL);
      g_assert_cmpint (data[0], >, 240);
      g_assert_cmpint (data[(gsize) (PV_QR_QUIET_ZONE * 3 + 1) * size + PV_QR_QUIET_ZONE * 3 + 1],
                       <, 15);
      results = pv_decoder_decode (decoder, frame, 0);
      g_assert_cmpuint (results->len, ==, 1);
      g_assert_cmpstr (((PvDecodeResult *) results->pdata[0])->text, ==, code);
    }

  g_assert_null (pv_image_load_gray (missing, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (text, "not a picture\n", -1, &error));
  g_assert_null (pv_image_load_gray (text, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, text));
  g_clear_error (&error);

  g_assert_null (pv_image_load_gray (dir, &error));
  g_assert_error (error, PV_ERROR, PV_ERROR_MALFORMED);
  g_clear_error (&error);

  g_unlink (png);
  g_unlink (gif);
  g_unlink (bmp);
  g_unlink (text);
  g_rmdir (dir);
}

/* ---- The worker ---- */

typedef struct
{
  GMainContext *context;
  PvDecoder *decoder;
  GPtrArray *texts; /* what "code" reported, in order */
  GArray *captured; /* gint64: captured_at of each report */
  GThread *owner_thread;
  gboolean wrong_thread;
  gint64 last_decode_us;
} Fixture;

static void
code_cb (PvDecoder *decoder, const char *text, gint64 captured_at, gint64 decode_us,
         Fixture *f)
{
  g_ptr_array_add (f->texts, g_strdup (text));
  g_array_append_val (f->captured, captured_at);
  f->last_decode_us = decode_us;
  if (g_thread_self () != f->owner_thread)
    f->wrong_thread = TRUE;
}

/* The owner context is a context of the test's own, pushed as the
 * thread-default, so results can only arrive by being invoked there. */
static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->decoder = pv_decoder_new ();
  f->texts = g_ptr_array_new_with_free_func (g_free);
  f->captured = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->owner_thread = g_thread_self ();
  g_signal_connect (f->decoder, "code", G_CALLBACK (code_cb), f);
  pv_decoder_start (f->decoder);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  pv_decoder_stop (f->decoder);
  /* Results still queued hold references to the decoder. */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_assert_finalize_object (f->decoder);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  g_ptr_array_unref (f->texts);
  g_array_unref (f->captured);
  g_assert_false (f->wrong_thread);
}

static void
drain (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* Until the worker has finished @n frames; then the owner context holds
 * every result of those frames, since they are queued before the count. */
static void
wait_decoded (Fixture *f, guint64 n)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;
  guint64 decoded = 0;

  for (;;)
    {
      pv_decoder_get_counts (f->decoder, NULL, NULL, &decoded);
      if (decoded >= n)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      drain (f->context);
      g_usleep (1000);
    }
  drain (f->context);
}

static void
wait_reports (Fixture *f, guint n)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;

  while (f->texts->len < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      drain (f->context);
      g_usleep (1000);
    }
}

typedef struct
{
  PvDecoder *decoder;
  PvFrame *frames[8];
  guint n_frames;
  gboolean accepted[8];
} Submission;

static gpointer
submit_thread (gpointer data)
{
  Submission *s = data;

  for (guint i = 0; i < s->n_frames; i++)
    s->accepted[i] = pv_decoder_submit (s->decoder, s->frames[i]);
  return NULL;
}

static void
test_worker_reports_on_owner (Fixture *f, gconstpointer data)
{
  g_autofree char *code = make_code (11);
  gint64 captured_at = g_get_monotonic_time () - 5000;
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_GRAY8, 640, 480, 640, code, 200, 100, captured_at);
  Submission s = { f->decoder, { frame }, 1, { FALSE } };
  guint64 submitted, dropped, decoded;

  g_thread_join (g_thread_new ("test-submit", submit_thread, &s));
  g_assert_true (s.accepted[0]);
  wait_reports (f, 1);

  g_assert_cmpuint (f->texts->len, ==, 1);
  g_assert_cmpstr (f->texts->pdata[0], ==, code);
  g_assert_cmpint (g_array_index (f->captured, gint64, 0), ==, captured_at);
  g_assert_cmpint (f->last_decode_us, >, 0);
  pv_decoder_get_counts (f->decoder, &submitted, &dropped, &decoded);
  g_assert_cmpuint (submitted, ==, 1);
  g_assert_cmpuint (dropped, ==, 0);
  g_assert_cmpuint (decoded, ==, 1);
}

static void
test_worker_drops_while_busy (Fixture *f, gconstpointer data)
{
  g_autofree char *code = make_code (12);
  g_autoptr (PvFrame) slow = NULL;
  g_autoptr (PvFrame) quick = make_frame (PV_FRAME_GRAY8, 320, 240, 320, code, 60, 20, 1);
  guint64 submitted, dropped, decoded, accepted = 0;
  g_autoptr (GBytes) noise_bytes = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  gsize n = 2000 * 2000;
  guint8 *noise = g_malloc (n);

  /* 4 Mpx of noise with every pass: tens of milliseconds or more of work
   * during which further frames must be turned away. */
  for (gsize i = 0; i < n; i++)
    noise[i] = (guint8) g_rand_int (rand);
  noise_bytes = g_bytes_new_take (noise, n);
  slow = pv_frame_new (PV_FRAME_GRAY8, 2000, 2000, 2000, noise_bytes, 1);
  pv_decoder_set_budget_us (f->decoder, 0);

  g_assert_true (pv_decoder_submit (f->decoder, slow));
  accepted++;
  /* Almost surely dropped at the first try; a loaded machine gets more. */
  for (int i = 0; i < 1000; i++)
    {
      pv_decoder_get_counts (f->decoder, NULL, &dropped, NULL);
      if (dropped > 0)
        break;
      accepted += pv_decoder_submit (f->decoder, quick);
    }
  pv_decoder_get_counts (f->decoder, &submitted, &dropped, NULL);
  g_assert_cmpuint (dropped, >, 0);
  g_assert_cmpuint (submitted, ==, accepted + dropped);

  wait_decoded (f, accepted);
  pv_decoder_get_counts (f->decoder, NULL, NULL, &decoded);
  g_assert_cmpuint (decoded, ==, accepted);

  /* Idle again: the next frame is taken. */
  g_assert_true (pv_decoder_submit (f->decoder, quick));
  wait_decoded (f, accepted + 1);
}

/* Submits a frame of @code captured at @at (ms after @base) and waits until
 * the worker has done it and its results have reached the owner. */
static void
show (Fixture *f, const char *code, gint64 base, gint64 at_ms)
{
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_GRAY8, 400, 300, 400, code, 50, 30, base + at_ms * 1000);
  guint64 decoded;

  pv_decoder_get_counts (f->decoder, NULL, NULL, &decoded);
  g_assert_true (pv_decoder_submit (f->decoder, frame));
  wait_decoded (f, decoded + 1);
}

static void
test_worker_hold_off (Fixture *f, gconstpointer data)
{
  g_autofree char *a = make_code (21);
  g_autofree char *b = make_code (22);
  gint64 base = g_get_monotonic_time ();

  g_assert_cmpuint (pv_decoder_get_hold_off_ms (f->decoder), ==, PV_DECODER_DEFAULT_HOLD_OFF_MS);
  pv_decoder_set_hold_off_ms (f->decoder, 3000);

  show (f, a, base, 0);
  g_assert_cmpuint (f->texts->len, ==, 1);
  /* Same ticket, still in view: not again. */
  show (f, a, base, 1000);
  g_assert_cmpuint (f->texts->len, ==, 1);
  /* The next person's ticket: at once. */
  show (f, b, base, 1500);
  g_assert_cmpuint (f->texts->len, ==, 2);
  g_assert_cmpstr (f->texts->pdata[1], ==, b);
  /* The first ticket again, 2.5 s and then 5.4 s after it was first
   * shown: each time within 3 s of the last sighting, so still held. */
  show (f, a, base, 2500);
  show (f, a, base, 5400);
  g_assert_cmpuint (f->texts->len, ==, 2);
  /* Out of sight for 3.6 s: a new scan. */
  show (f, a, base, 9000);
  g_assert_cmpuint (f->texts->len, ==, 3);
  g_assert_cmpstr (f->texts->pdata[2], ==, a);
  g_assert_cmpint (g_array_index (f->captured, gint64, 2), ==, base + 9000 * 1000);

  /* Hold-off 0: every sighting is reported. */
  pv_decoder_set_hold_off_ms (f->decoder, 0);
  show (f, b, base, 9100);
  show (f, b, base, 9200);
  g_assert_cmpuint (f->texts->len, ==, 5);
}

static void
test_worker_stop_drops_late_results (Fixture *f, gconstpointer data)
{
  g_autofree char *code = make_code (31);
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_GRAY8, 320, 240, 320, code, 40, 10, 5);
  guint64 decoded = 0;
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;

  g_assert_true (pv_decoder_submit (f->decoder, frame));
  /* Wait for the worker without running the owner context, so the result
   * is still queued there when the decoder stops. */
  while (decoded < 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
      pv_decoder_get_counts (f->decoder, NULL, NULL, &decoded);
    }
  pv_decoder_stop (f->decoder);
  drain (f->context);
  g_assert_cmpuint (f->texts->len, ==, 0);
  /* Stopped: frames are refused. */
  g_assert_false (pv_decoder_submit (f->decoder, frame));

  /* And it starts again. */
  pv_decoder_start (f->decoder);
  g_assert_true (pv_decoder_submit (f->decoder, frame));
  wait_reports (f, 1);
  g_assert_cmpstr (f->texts->pdata[0], ==, code);
}

/* The owner drops the decoder while a result is on its way: the result
 * holds a reference, so nothing is freed under it, and the decoder goes
 * once the result has been delivered. */
static void
test_worker_owner_gone (void)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autofree char *code = make_code (41);
  g_autoptr (PvFrame) frame = make_frame (PV_FRAME_GRAY8, 320, 240, 320, code, 40, 10, 5);
  PvDecoder *decoder;
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_US;
  guint64 decoded = 0;

  g_main_context_push_thread_default (context);
  decoder = pv_decoder_new ();
  g_object_add_weak_pointer (G_OBJECT (decoder), (gpointer *) &decoder);
  pv_decoder_start (decoder);
  g_assert_true (pv_decoder_submit (decoder, frame));
  while (decoded < 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
      pv_decoder_get_counts (decoder, NULL, NULL, &decoded);
    }

  g_object_unref (decoder);
  g_assert_nonnull (decoder); /* kept alive by the result in flight */
  drain (context);
  g_assert_null (decoder);
  g_main_context_pop_thread_default (context);
}

static void
test_decoder_properties (void)
{
  g_autoptr (PvDecoder) decoder = pv_decoder_new ();
  guint hold_off = 0;
  gint64 budget = 0;

  g_object_get (decoder, "hold-off-ms", &hold_off, "budget-us", &budget, NULL);
  g_assert_cmpuint (hold_off, ==, PV_DECODER_DEFAULT_HOLD_OFF_MS);
  g_assert_cmpint (budget, ==, PV_DECODER_DEFAULT_BUDGET_US);
  g_object_set (decoder, "hold-off-ms", 1500, "budget-us", (gint64) 20000, NULL);
  g_assert_cmpuint (pv_decoder_get_hold_off_ms (decoder), ==, 1500);
  g_assert_cmpint (pv_decoder_get_budget_us (decoder), ==, 20000);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* As the app does: GStreamer set up by the program before the scanner's
   * own gst_init_check(), which must leave it be. */
  gst_init (&argc, &argv);
  pv_crypto_init ();

  g_test_add_func ("/frame/packed-gray", test_frame_packed_gray);
  g_test_add_func ("/decoder/decode/layouts", test_decode_layouts);
  g_test_add_func ("/decoder/decode/two-codes", test_decode_two_codes);
  g_test_add_func ("/decoder/decode/nothing", test_decode_nothing);
  g_test_add_func ("/decoder/decode/inverted", test_decode_inverted);
  g_test_add_func ("/image/too-large", test_image_too_large);
  g_test_add_func ("/decoder/decode/threads", test_decode_threads);
  g_test_add_func ("/decoder/properties", test_decoder_properties);
  g_test_add_func ("/image/files", test_image_files);
  g_test_add ("/decoder/worker/reports-on-owner", Fixture, NULL, fixture_setup,
              test_worker_reports_on_owner, fixture_teardown);
  g_test_add ("/decoder/worker/drops-while-busy", Fixture, NULL, fixture_setup,
              test_worker_drops_while_busy, fixture_teardown);
  g_test_add ("/decoder/worker/hold-off", Fixture, NULL, fixture_setup, test_worker_hold_off,
              fixture_teardown);
  g_test_add ("/decoder/worker/stop-drops-late-results", Fixture, NULL, fixture_setup,
              test_worker_stop_drops_late_results, fixture_teardown);
  g_test_add_func ("/decoder/worker/owner-gone", test_worker_owner_gone);

  status = g_test_run ();
  /* Gives back GStreamer's registry and plugins, for LeakSanitizer. */
  gst_deinit ();
  return status;
}
