/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-decoder.c: QR decoding with ZBar for the gate. pv_decoder_decode() reads
 * one frame on the calling thread: the frame as it is first, then, while
 * nothing is found and the time budget allows, the few extra passes below
 * that measurably rescue photos ZBar alone misses. The worker decodes
 * camera frames on a thread of its own (with its own GMainContext), drops
 * frames that arrive while it is busy, and hands codes to the owner's main
 * context, where a hold-off keeps a ticket held in front of the camera from
 * being reported over and over. pravesh-ctl scan goes through the same
 * pv_decoder_decode(), so what it shows is what the gate does. */

/* Which passes, and why (measured with ZBar 0.23.92 on Debian 12, x86-64).
 *
 * Every candidate pass was run on its own on all 145 photos of ZXing's
 * black-box sets qrcode-1…4 (../shared/testdata/zxing-blackbox), with a
 * fresh ZBar scanner each time. "rescues" lists the photos the pass decodes
 * correctly that the plain pass does not (19 of 145 fail plain); "cost" is
 * its time summed over all 145 photos, as a multiple of the plain pass's
 * (about 1.9 ms a photo; a pass that does not apply to a photo costs
 * nothing there). No pass found anything where the expected text was
 * different, except those marked "misreads" (a wrong text somewhere).
 *
 *   pass                          cost  rescues
 *   half (2×2 box average)        0.32  2/12 4/14
 *   third (3×3 box average)       0.16  2/12
 *   double (bilinear 2×)          3.17  2/25 2/32 4/11 4/14 4/29 4/34 4/43
 *   triple (bilinear 3×)          3.64  2/32 4/11 4/29 4/34 4/43
 *   three-halves (bilinear 1.5×)  2.03  2/25 4/14 4/29 4/34 4/43
 *   white border (1/8 side)       1.20  2/25 2/32 4/14 4/29 4/34
 *   contrast stretch (1%–99%)     0.97  2/25
 *   blur (1-2-1)                  0.93  2/12 4/34 4/43
 *   sharpen (unsharp 3×3)         1.21  —
 *   local mean threshold, r=s/16  0.68  4/29 4/43
 *   local mean threshold, r=s/6   0.66  4/29
 *   blur, then threshold          0.72  4/29 4/43
 *   invert                        1.01  —
 *   gamma 1/2 (lighten)           1.11  2/25 4/29 4/43
 *   gamma 1.5                     1.01  2/12 2/25 4/11 4/14 4/34 4/43
 *   gamma 2 (darken)              0.98  2/12 2/25 4/14 4/29 4/34 4/43
 *   gamma 3                       0.92  2/25 4/11 4/43
 *   gamma 4                       0.85  2/12 2/25 4/11 4/14 4/34, misreads
 *   gamma 2, then blur            0.93  2/12 4/11 4/14 4/34 4/43, misreads
 *   gamma 2, then threshold       0.72  2/25 4/14 4/29 4/34
 *   gamma 2, then white border    1.20  2/12 2/25 2/32 4/11 4/29 4/34 4/43
 *   gamma 2, then double          3.07  2/12 2/25 2/32 4/11 4/14 4/29 4/34 4/43
 *   gamma 3, then double          2.91  2/12 2/25 2/32 4/08 4/11 4/29 4/34 4/43
 *   gamma 2, then triple          3.52  2/12 2/25 2/32 4/08 4/11 4/29 4/34 4/43
 *   double/triple/quad + blur, sharpen, threshold, border: nothing new;
 *   rotation by 30° or 45°, erosion, dilation, gamma 5: nothing at all.
 *
 * No set of passes rescues more than 9 of the 19 (searched exhaustively up
 * to four passes); the other ten (2/13 2/33 4/05 4/06 4/13 4/30–4/33 4/41)
 * are too blurred or too small for ZBar's finder whatever we do. The passes
 * kept, in order of rescues per cost, and what each adds after the ones
 * before it:
 *
 *   half         0.32  +2  2/12 4/14         (noise and blur average out)
 *   dark         0.98  +4  2/25 4/29 4/34 4/43  (gamma 2: grey modules of a
 *                          washed-out or blurred code turn black)
 *   dark-double  2.91  +3  2/32 4/08 4/11   (gamma 3, then bilinear 2×:
 *                          small symbols; pictures up to 640×480 only)
 *
 * giving 135 of 145 (93%), against 126 for the plain pass (zbarimg's
 * figure). "gamma 3, then double" alone would rescue 8 at a lower total
 * cost, but it applies only to small pictures: a 720p camera frame would
 * get nothing beyond "half", so "dark" stays, for the frames it can help.
 * Inversion rescues nothing here, since the photos are all dark on light,
 * but a phone in dark mode shows a ticket light on dark, which no other pass
 * reads: "inverted" (half size, inverted; 0.34) comes right after "half",
 * and test-decoder holds a dark-mode ticket to it.
 *
 * On a 1280×720 camera frame (same machine) the plain pass takes about
 * 7 ms with a ticket in view; a plain background costs 12 ms with every
 * pass that applies (plain, half, dark) and a frame of pure noise, the
 * worst case, 55 ms, so the default budget of 60 ms rarely cuts one short.
 *
 * ZBar's QR reader carries a random-number generator (for RANSAC) from one
 * image to the next, so a long-lived scanner can answer differently for the
 * same picture depending on what it saw before. Each pass gets a fresh
 * scanner (about 3 µs) so that a picture always decodes the same way — and
 * decoding needs no lock, whatever thread calls. */
#include "config.h"

#include <string.h>
#include <zbar.h>

#include "pv-decoder.h"

/* Where "dark-double" applies. Doubling quadruples the pixels, so beyond
 * 640×480 the pass would cost more than a 720p frame's plain pass; and the
 * photos whose modules are too small for ZBar are the small ones. */
#define PV_DECODER_UPSCALE_MAX_PIXELS (640 * 480)

/* ---- Pictures and passes ---- */

/* A packed GRAY8 picture a pass works on; @pixels may be borrowed. */
typedef struct
{
  int width;
  int height;
  guint8 *pixels;
  gboolean owned;
} Gray;

static Gray *
gray_new (int width, int height)
{
  Gray *gray = g_new0 (Gray, 1);

  gray->width = width;
  gray->height = height;
  gray->pixels = g_malloc ((gsize) width * (gsize) height);
  gray->owned = TRUE;
  return gray;
}

static void
gray_free (Gray *gray)
{
  if (gray->owned)
    g_free (gray->pixels);
  g_free (gray);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Gray, gray_free)

/* A symbol needs at least 21 modules of about a pixel; smaller is noise. */
#define MIN_SIDE 21

static Gray *
pass_half (const Gray *src)
{
  int w = src->width / 2, h = src->height / 2;
  Gray *dst;

  if (w < MIN_SIDE || h < MIN_SIDE)
    return NULL;
  dst = gray_new (w, h);
  for (int y = 0; y < h; y++)
    {
      const guint8 *a = src->pixels + (gsize) (2 * y) * src->width;
      const guint8 *b = a + src->width;
      guint8 *d = dst->pixels + (gsize) y * w;

      for (int x = 0; x < w; x++)
        d[x] = (guint8) ((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
    }
  return dst;
}

/* v ↦ 255·(v/255)^2: mid greys darken, white stays white. */
static void
fill_gamma2 (guint8 lut[256])
{
  for (int v = 0; v < 256; v++)
    lut[v] = (guint8) ((v * v + 127) / 255);
}

/* v ↦ 255·(v/255)^3. */
static void
fill_gamma3 (guint8 lut[256])
{
  for (int v = 0; v < 256; v++)
    lut[v] = (guint8) ((v * v * v + 65025 / 2) / 65025);
}

/* Light modules on a dark ground: a phone in dark mode, or a browser that
 * forces dark pages, inverts the ticket. ZBar reads only dark-on-light.
 * Done at half size, so on the frames with nothing in them (most frames at
 * a gate) it costs a third of the plain pass, not a whole one more. */
static Gray *
pass_half_inverted (const Gray *src)
{
  Gray *dst = pass_half (src);

  if (dst != NULL)
    for (gsize i = 0, n = (gsize) dst->width * (gsize) dst->height; i < n; i++)
      dst->pixels[i] = 255 - dst->pixels[i];
  return dst;
}

static Gray *
pass_dark (const Gray *src)
{
  gsize n = (gsize) src->width * (gsize) src->height;
  Gray *dst = gray_new (src->width, src->height);
  guint8 lut[256];

  fill_gamma2 (lut);
  for (gsize i = 0; i < n; i++)
    dst->pixels[i] = lut[src->pixels[i]];
  return dst;
}

/* Source position of destination pixel @i when doubling, in 1/256 pixel:
 * (i + ½) / 2 − ½, so that pixel centres line up. */
static void
double_position (int i, int src_len, int *out_index, int *out_weight)
{
  int f = MAX (0, 128 * i - 64);

  *out_index = f >> 8;
  *out_weight = f & 255;
  if (*out_index >= src_len - 1)
    {
      *out_index = src_len - 1;
      *out_weight = 0;
    }
}

static Gray *
pass_dark_double (const Gray *src)
{
  int w = 2 * src->width, h = 2 * src->height;
  g_autofree int *x0 = NULL;
  g_autofree int *wx = NULL;
  g_autofree guint8 *dark = NULL;
  gsize n = (gsize) src->width * (gsize) src->height;
  guint8 lut[256];
  Gray *dst;

  if (n > PV_DECODER_UPSCALE_MAX_PIXELS)
    return NULL;

  fill_gamma3 (lut);
  dark = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    dark[i] = lut[src->pixels[i]];

  x0 = g_new (int, w);
  wx = g_new (int, w);
  for (int x = 0; x < w; x++)
    double_position (x, src->width, &x0[x], &wx[x]);

  dst = gray_new (w, h);
  for (int y = 0; y < h; y++)
    {
      int y0, wy;
      const guint8 *r0, *r1;
      guint8 *d = dst->pixels + (gsize) y * w;

      double_position (y, src->height, &y0, &wy);
      r0 = dark + (gsize) y0 * src->width;
      r1 = dark + (gsize) MIN (y0 + 1, src->height - 1) * src->width;
      for (int x = 0; x < w; x++)
        {
          int a = x0[x], b = MIN (a + 1, src->width - 1);
          int top = r0[a] * (256 - wx[x]) + r0[b] * wx[x];
          int bottom = r1[a] * (256 - wx[x]) + r1[b] * wx[x];

          d[x] = (guint8) ((top * (256 - wy) + bottom * wy + 32768) >> 16);
        }
    }
  return dst;
}

typedef struct
{
  const char *name;
  /* The picture to scan, or NULL when the pass does not apply to @src;
   * NULL as the function: @src itself. */
  Gray *(*transform) (const Gray *src);
  /* Its time as a multiple of the plain pass's (the table above), to skip
   * a pass the rest of the budget cannot pay for. */
  double cost;
} Pass;

static const Pass passes[] = {
  { "plain", NULL, 1.0 },
  { "half", pass_half, 0.32 },
  { "inverted", pass_half_inverted, 0.34 },
  { "dark", pass_dark, 0.98 },
  { "dark-double", pass_dark_double, 4.0 }, /* 2.91 over all photos, ~4 where it applies */
};

static zbar_image_scanner_t *
scanner_new (void)
{
  zbar_image_scanner_t *scanner = zbar_image_scanner_create ();

  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config (scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  /* Every row and column: tickets may fill only a small part of a frame. */
  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, 1);
  zbar_image_scanner_set_config (scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, 1);
  return scanner;
}

/* Scans @gray with a fresh scanner (see the top of the file), appending the
 * symbols not yet in @results. */
static void
scan_gray (const Gray *gray, const char *pass, GPtrArray *results)
{
  zbar_image_scanner_t *scanner = scanner_new ();
  zbar_image_t *image = zbar_image_create ();

  zbar_image_set_format (image, zbar_fourcc ('Y', '8', '0', '0'));
  zbar_image_set_size (image, (unsigned) gray->width, (unsigned) gray->height);
  zbar_image_set_data (image, gray->pixels, (unsigned long) gray->width * gray->height, NULL);

  if (zbar_scan_image (scanner, image) > 0)
    {
      for (const zbar_symbol_t *symbol = zbar_image_first_symbol (image); symbol != NULL;
           symbol = zbar_symbol_next (symbol))
        {
          g_autofree char *text = g_strndup (zbar_symbol_get_data (symbol),
                                             zbar_symbol_get_data_length (symbol));
          gboolean known = FALSE;
          PvDecodeResult *result;

          for (guint i = 0; i < results->len && !known; i++)
            known = g_str_equal (((PvDecodeResult *) results->pdata[i])->text, text);
          if (known)
            continue;

          result = g_new0 (PvDecodeResult, 1);
          result->text = g_steal_pointer (&text);
          result->pass = pass;
          g_ptr_array_add (results, result);
        }
    }

  zbar_image_destroy (image);
  zbar_image_scanner_destroy (scanner);
}

void
pv_decode_result_free (PvDecodeResult *result)
{
  if (result == NULL)
    return;
  g_free (result->text);
  g_free (result);
}

/* ---- The object ---- */

/* The decoding thread, from pv_decoder_start() to pv_decoder_stop(). */
typedef struct
{
  GThread *thread;
  GMainContext *context; /* the thread's own */
  GMainLoop *loop;
  GMainContext *owner; /* where "code" is emitted */
  guint generation;    /* the decoder's, when this worker started */
} Worker;

struct _PvDecoder
{
  GObject parent_instance;

  /* Guards the fields below that other threads touch: the worker pointer
   * (submit vs stop), the budget and the counters. */
  GMutex lock;
  Worker *worker;
  gint64 budget_us;
  guint64 submitted;
  guint64 dropped;
  guint64 decoded;

  /* 1 from an accepted submit until the worker is done with that frame. */
  int busy;

  /* Owner context only. */
  guint hold_off_ms;
  guint generation;      /* bumped by stop, so late results are dropped */
  GHashTable *sightings; /* text → gint64 *: when last seen */
};

G_DEFINE_FINAL_TYPE (PvDecoder, pv_decoder, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HOLD_OFF_MS,
  PROP_BUDGET_US,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CODE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

PvDecoder *
pv_decoder_new (void)
{
  return g_object_new (PV_TYPE_DECODER, NULL);
}

GPtrArray *
pv_decoder_decode (PvDecoder *self, PvFrame *frame, gint64 budget_us)
{
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (PvFrame) packed = NULL;
  gint64 start, plain_us = 0, elapsed;
  Gray source;

  g_return_val_if_fail (PV_IS_DECODER (self), NULL);
  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail (budget_us >= 0, NULL);

  start = g_get_monotonic_time ();
  results = g_ptr_array_new_with_free_func ((GDestroyNotify) pv_decode_result_free);
  packed = pv_frame_to_packed_gray (frame);
  source.width = packed->width;
  source.height = packed->height;
  /* Only read: the transforms write to pictures of their own. */
  source.pixels = (guint8 *) g_bytes_get_data (packed->data, NULL);
  source.owned = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (passes) && results->len == 0; i++)
    {
      const Pass *pass = &passes[i];
      g_autoptr (Gray) transformed = NULL;
      gint64 pass_start = g_get_monotonic_time ();

      elapsed = pass_start - start;
      /* A later pass may be cheaper, so skip rather than stop. */
      if (i > 0 && budget_us > 0 && elapsed + (gint64) (pass->cost * plain_us) > budget_us)
        continue;

      if (pass->transform != NULL)
        {
          transformed = pass->transform (&source);
          if (transformed == NULL)
            continue;
        }
      scan_gray (transformed ? transformed : &source, pass->name, results);
      if (i == 0)
        plain_us = g_get_monotonic_time () - pass_start;
    }

  elapsed = g_get_monotonic_time () - start;
  for (guint i = 0; i < results->len; i++)
    ((PvDecodeResult *) results->pdata[i])->decode_us = elapsed;
  return g_steal_pointer (&results);
}

/* ---- The worker ---- */

typedef struct
{
  PvDecoder *decoder; /* not a reference: stop() joins the thread first */
  Worker *worker;
  PvFrame *frame;
} Job;

static void
job_free (Job *job)
{
  pv_frame_unref (job->frame);
  g_free (job);
}

/* A code on its way to the owner context. */
typedef struct
{
  PvDecoder *decoder; /* a reference: the owner may drop its own meanwhile */
  guint generation;
  char *text;
  gint64 captured_at;
  gint64 decode_us;
} Report;

static void
report_free (Report *report)
{
  g_object_unref (report->decoder);
  g_free (report->text);
  g_free (report);
}

/* The hold-off filter. A gate volunteer wants one beep per person: a ticket
 * held up for ten seconds must not be admitted (and then refused as already
 * inside) again every three seconds. So a code is reported when it has not
 * been seen for the hold-off — the window restarts each time the code is
 * seen, and the code comes back only after it has been out of sight that
 * long. Each code has its own window, so two tickets seen in turn are each
 * reported once, and a different code is reported at once. Times are the
 * frames' capture times, not when the result arrived. */
static gboolean
hold_off_passes (PvDecoder *self, const char *text, gint64 seen_at)
{
  gint64 window = (gint64) self->hold_off_ms * 1000;
  GHashTableIter iter;
  gpointer value;
  gint64 *last;
  gboolean report;

  g_hash_table_iter_init (&iter, self->sightings);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (seen_at - *(gint64 *) value >= window)
      g_hash_table_iter_remove (&iter);

  last = g_hash_table_lookup (self->sightings, text);
  report = last == NULL;
  if (last == NULL)
    {
      last = g_new (gint64, 1);
      *last = seen_at;
      g_hash_table_insert (self->sightings, g_strdup (text), last);
    }
  else
    *last = MAX (*last, seen_at);
  return report;
}

static gboolean
report_cb (gpointer data)
{
  Report *report = data;
  PvDecoder *self = report->decoder;
  gint64 seen_at = report->captured_at > 0 ? report->captured_at : g_get_monotonic_time ();

  /* A result of a worker that has been stopped since: drop it. */
  if (report->generation != self->generation)
    return G_SOURCE_REMOVE;
  if (hold_off_passes (self, report->text, seen_at))
    g_signal_emit (self, signals[SIGNAL_CODE], 0, report->text, report->captured_at,
                   report->decode_us);
  return G_SOURCE_REMOVE;
}

/* Runs on the worker thread. */
static gboolean
decode_job_cb (gpointer data)
{
  Job *job = data;
  PvDecoder *self = job->decoder;
  g_autoptr (GPtrArray) results = NULL;
  gint64 budget_us;

  g_mutex_lock (&self->lock);
  budget_us = self->budget_us;
  g_mutex_unlock (&self->lock);

  results = pv_decoder_decode (self, job->frame, budget_us);
  for (guint i = 0; i < results->len; i++)
    {
      PvDecodeResult *result = results->pdata[i];
      Report *report = g_new0 (Report, 1);

      report->decoder = g_object_ref (self);
      report->generation = job->worker->generation;
      report->text = g_strdup (result->text);
      report->captured_at = job->frame->captured_at;
      report->decode_us = result->decode_us;
      g_main_context_invoke_full (job->worker->owner, G_PRIORITY_DEFAULT, report_cb, report,
                                  (GDestroyNotify) report_free);
    }

  g_mutex_lock (&self->lock);
  self->decoded++;
  g_mutex_unlock (&self->lock);
  /* Last: the next frame may come in from here on. */
  g_atomic_int_set (&self->busy, 0);
  return G_SOURCE_REMOVE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;

  g_main_context_push_thread_default (worker->context);
  g_main_loop_run (worker->loop);
  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
pv_decoder_start (PvDecoder *self)
{
  Worker *worker;

  g_return_if_fail (PV_IS_DECODER (self));

  if (self->worker != NULL)
    return;

  worker = g_new0 (Worker, 1);
  worker->context = g_main_context_new ();
  worker->loop = g_main_loop_new (worker->context, FALSE);
  worker->owner = g_main_context_ref_thread_default ();
  worker->generation = self->generation;
  worker->thread = g_thread_new ("pv-decoder", worker_main, worker);

  g_mutex_lock (&self->lock);
  self->worker = worker;
  g_mutex_unlock (&self->lock);
}

void
pv_decoder_stop (PvDecoder *self)
{
  Worker *worker;

  g_return_if_fail (PV_IS_DECODER (self));

  g_mutex_lock (&self->lock);
  worker = g_steal_pointer (&self->worker);
  g_mutex_unlock (&self->lock);
  if (worker == NULL)
    return;

  /* Through the worker's context, not g_main_loop_quit() from here: a quit
   * before the thread got into g_main_loop_run() would be lost. It runs
   * after the frame in hand, if any. */
  g_main_context_invoke_full (worker->context, G_PRIORITY_DEFAULT, quit_cb,
                              g_main_loop_ref (worker->loop),
                              (GDestroyNotify) g_main_loop_unref);
  g_thread_join (worker->thread);

  /* Frees a job still queued, with its frame. */
  g_main_loop_unref (worker->loop);
  g_main_context_unref (worker->context);
  g_main_context_unref (worker->owner);
  g_free (worker);

  self->generation++;
  g_hash_table_remove_all (self->sightings);
  g_atomic_int_set (&self->busy, 0);
}

gboolean
pv_decoder_submit (PvDecoder *self, PvFrame *frame)
{
  gboolean accepted = FALSE;

  g_return_val_if_fail (PV_IS_DECODER (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  g_mutex_lock (&self->lock);
  self->submitted++;
  if (self->worker != NULL && g_atomic_int_compare_and_exchange (&self->busy, 0, 1))
    {
      Job *job = g_new0 (Job, 1);

      job->decoder = self;
      job->worker = self->worker;
      job->frame = pv_frame_ref (frame);
      g_main_context_invoke_full (self->worker->context, G_PRIORITY_DEFAULT, decode_job_cb, job,
                                  (GDestroyNotify) job_free);
      accepted = TRUE;
    }
  else
    self->dropped++;
  g_mutex_unlock (&self->lock);
  return accepted;
}

guint
pv_decoder_get_hold_off_ms (PvDecoder *self)
{
  g_return_val_if_fail (PV_IS_DECODER (self), 0);
  return self->hold_off_ms;
}

void
pv_decoder_set_hold_off_ms (PvDecoder *self, guint hold_off_ms)
{
  g_return_if_fail (PV_IS_DECODER (self));

  if (self->hold_off_ms == hold_off_ms)
    return;
  self->hold_off_ms = hold_off_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOLD_OFF_MS]);
}

gint64
pv_decoder_get_budget_us (PvDecoder *self)
{
  gint64 budget_us;

  g_return_val_if_fail (PV_IS_DECODER (self), 0);
  g_mutex_lock (&self->lock);
  budget_us = self->budget_us;
  g_mutex_unlock (&self->lock);
  return budget_us;
}

void
pv_decoder_set_budget_us (PvDecoder *self, gint64 budget_us)
{
  gboolean changed;

  g_return_if_fail (PV_IS_DECODER (self));
  g_return_if_fail (budget_us >= 0);

  g_mutex_lock (&self->lock);
  changed = self->budget_us != budget_us;
  self->budget_us = budget_us;
  g_mutex_unlock (&self->lock);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUDGET_US]);
}

void
pv_decoder_get_counts (PvDecoder *self, guint64 *submitted, guint64 *dropped, guint64 *decoded)
{
  g_return_if_fail (PV_IS_DECODER (self));

  g_mutex_lock (&self->lock);
  if (submitted)
    *submitted = self->submitted;
  if (dropped)
    *dropped = self->dropped;
  if (decoded)
    *decoded = self->decoded;
  g_mutex_unlock (&self->lock);
}

static void
pv_decoder_dispose (GObject *object)
{
  pv_decoder_stop (PV_DECODER (object));

  G_OBJECT_CLASS (pv_decoder_parent_class)->dispose (object);
}

static void
pv_decoder_finalize (GObject *object)
{
  PvDecoder *self = PV_DECODER (object);

  g_hash_table_unref (self->sightings);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (pv_decoder_parent_class)->finalize (object);
}

static void
pv_decoder_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PvDecoder *self = PV_DECODER (object);

  switch (prop_id)
    {
    case PROP_HOLD_OFF_MS:
      g_value_set_uint (value, pv_decoder_get_hold_off_ms (self));
      break;
    case PROP_BUDGET_US:
      g_value_set_int64 (value, pv_decoder_get_budget_us (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_decoder_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PvDecoder *self = PV_DECODER (object);

  switch (prop_id)
    {
    case PROP_HOLD_OFF_MS:
      pv_decoder_set_hold_off_ms (self, g_value_get_uint (value));
      break;
    case PROP_BUDGET_US:
      pv_decoder_set_budget_us (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pv_decoder_class_init (PvDecoderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pv_decoder_dispose;
  object_class->finalize = pv_decoder_finalize;
  object_class->get_property = pv_decoder_get_property;
  object_class->set_property = pv_decoder_set_property;

  /* Properties, so the app can bind its settings to them. */
  properties[PROP_HOLD_OFF_MS] = g_param_spec_uint ("hold-off-ms", NULL, NULL, 0, G_MAXUINT, PV_DECODER_DEFAULT_HOLD_OFF_MS,
                                                    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUDGET_US] = g_param_spec_int64 ("budget-us", NULL, NULL, 0, G_MAXINT64, PV_DECODER_DEFAULT_BUDGET_US,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CODE] = g_signal_new ("code", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
                                       G_TYPE_INT64, G_TYPE_INT64);
}

static void
pv_decoder_init (PvDecoder *self)
{
  g_mutex_init (&self->lock);
  self->hold_off_ms = PV_DECODER_DEFAULT_HOLD_OFF_MS;
  self->budget_us = PV_DECODER_DEFAULT_BUDGET_US;
  self->sightings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
