/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-gate-page.c: the gate station (see the header). Frames come from the
 * camera on the main context and become textures for the picture; codes
 * come from the decoder's worker, from the wedge and from the lookup by
 * serial; each is decided with core's one admission function and shown at
 * once. */
#include "config.h"

#include "pv-gate-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pv-a11y.h"
#include "pv-admission.h"
#include "pv-api-client.h"
#include "pv-camera.h"
#include "pv-decoder.h"
#include "pv-devices.h"
#include "pv-error.h"
#include "pv-event.h"
#include "pv-rules.h"
#include "pv-sounds.h"
#include "pv-stats.h"
#include "pv-store-watch.h"
#include "pv-store.h"
#include "pv-tickets.h"
#include "pv-wedge.h"
#include "pv-window.h"

struct _PvGatePage
{
  AdwBin parent_instance;

  /* template widgets */
  GtkPicture *picture;
  GtkLabel *camera_message;
  GtkLabel *count;
  GtkLabel *hint;
  GtkSearchEntry *lookup;
  GtkDropDown *camera_choice;
  GtkToggleButton *exit_mode;
  GtkLabel *exit_banner;
  GtkWidget *verdict;
  GtkLabel *headline;
  GtkLabel *party;
  GtkLabel *what;
  GtkLabel *detail;
  GtkLabel *serial;
  GtkLabel *note;
  GtkButton *change_gate;
  GtkWidget *chooser; /* which gate: over the page while asked */
  GtkLabel *chooser_note;
  GtkFlowBox *gate_buttons;
  GtkButton *chooser_cancel;

  /* owned */
  PvStore *store;
  GSettings *settings;
  char *camera_override;
  char *gate; /* NULL until the station knows its gate: nothing is scanned */
  PvDecoder *decoder;
  PvCamera *camera;
  PvWedge *wedge;
  PvSounds *sounds;
  PvStoreWatch *watch;
  SoupSession *session; /* for the hub */
  GCancellable *cancellable;
  GPtrArray *camera_ids; /* beside camera_choice's items */
  GStrv demo_codes;
  GQueue admitted; /* Admitted: this station's admissions, last minute */
  GtkEventController *keys;
  GtkWidget *styled_root; /* weak: the window whose header says exit mode */
  const char *style;
  gulong code_id, frame_id, error_id;
  guint clear_id, tick_id;
  gulong paint_id; /* after-paint, once, for the verdict on its way */
  GdkFrameClock *paint_clock;
  guint scan_seq;           /* scans begun */
  guint shown_seq;          /* the scan whose verdict is on screen */
  const char *offline_note; /* why the last offline decision was one */
  gint64 paint_captured;    /* when that verdict's frame entered the pipeline */
  gboolean drawn_once;      /* the page has been on screen */
  guint n_verdicts;
  gboolean started;
};

G_DEFINE_FINAL_TYPE (PvGatePage, pv_gate_page, ADW_TYPE_BIN)

typedef struct
{
  gint64 at; /* monotonic µs */
  guint party;
} Admitted;

static const char *const verdict_styles[] = { "admit", "refuse", "offline", "exit", "manual" };

/* ---- what the page says ---- */

static void
update_count (PvGatePage *self)
{
  g_autoptr (GDateTime) local = NULL;
  g_autofree char *date = NULL, *key = NULL, *text = NULL;
  gint64 now_us = g_get_monotonic_time ();
  PvEvent *event = pv_store_get_event (self->store, NULL);
  gint64 today = 0;
  guint rate;

  rate = 0;
  while (!g_queue_is_empty (&self->admitted)
         && now_us - ((Admitted *) g_queue_peek_head (&self->admitted))->at > 60 * G_USEC_PER_SEC)
    g_free (g_queue_pop_head (&self->admitted));
  /* People, as the day's count is: a school group of forty is forty. */
  for (GList *l = self->admitted.head; l != NULL; l = l->next)
    rate += ((Admitted *) l->data)->party;
  if (self->gate == NULL)
    {
      gtk_label_set_text (self->count, _ ("No gate chosen yet"));
      return;
    }
  if (event != NULL && (local = pv_event_local_time (event, pv_store_now (self->store))) != NULL)
    {
      date = g_date_time_format (local, "%F");
      key = g_strdup_printf ("%s|%s", date, self->gate);
      /* Counted from the ledger: admissions at this gate by any station,
       * the hub's included, as far as they have reached this replica. */
      today = pv_stats_counter (self->store, "entries.gate", key);
    }
  /* Translators: the gate's name, people admitted there today, and
   * admissions at this station in the last minute: "Gate 2 · 3 admitted
   * today · 1 in the last minute", the count grouped as the dashboard's. */
  text = g_strdup_printf (ngettext ("%s · %'lld admitted today · %u in the last minute",
                                    "%s · %'lld admitted today · %u in the last minute", (gulong) today),
                          self->gate, (long long) today, rate);
  gtk_label_set_text (self->count, text);
}

static gboolean
tick_cb (gpointer user_data)
{
  update_count (user_data);
  return G_SOURCE_CONTINUE;
}

static void
set_style (PvGatePage *self, const char *style)
{
  for (guint i = 0; i < G_N_ELEMENTS (verdict_styles); i++)
    gtk_widget_remove_css_class (self->verdict, verdict_styles[i]);
  if (style != NULL)
    gtk_widget_add_css_class (self->verdict, style);
  self->style = style;
}

static gboolean
clear_verdict_cb (gpointer user_data)
{
  PvGatePage *self = user_data;

  self->clear_id = 0;
  gtk_widget_set_visible (self->verdict, FALSE);
  set_style (self, NULL);
  gtk_label_set_text (self->headline, "");
  gtk_label_set_text (self->what, "");
  gtk_label_set_text (self->detail, "");
  gtk_label_set_text (self->serial, "");
  gtk_label_set_text (self->note, "");
  gtk_widget_set_visible (GTK_WIDGET (self->party), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->note), FALSE);
  return G_SOURCE_REMOVE;
}

/* Escape or a click: the volunteer has read it, the next visitor is
 * waiting, the idle page comes back at once. */
static gboolean
dismiss_verdict (PvGatePage *self)
{
  if (!gtk_widget_get_visible (self->verdict))
    return FALSE;
  g_clear_handle_id (&self->clear_id, g_source_remove);
  clear_verdict_cb (self);
  return TRUE;
}

static void
verdict_clicked_cb (GtkGestureClick *gesture, int n_press, double x, double y, PvGatePage *self)
{
  dismiss_verdict (self);
}

/* ---- exit mode ---- */

/* Exit mode records people leaving: an accidental switch would record
 * exits all day unnoticed, so the whole station says it — a banner in
 * words, the bar and the window's header in the exit colour. */
static void
update_root_mode (PvGatePage *self)
{
  gboolean on = gtk_toggle_button_get_active (self->exit_mode) && gtk_widget_get_mapped (GTK_WIDGET (self));
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));

  if (self->styled_root != NULL && (!on || self->styled_root != root))
    {
      gtk_widget_remove_css_class (self->styled_root, "gate-exit-mode");
      g_object_remove_weak_pointer (G_OBJECT (self->styled_root), (gpointer *) &self->styled_root);
      self->styled_root = NULL;
    }
  if (on && root != NULL && self->styled_root == NULL)
    {
      self->styled_root = root;
      g_object_add_weak_pointer (G_OBJECT (root), (gpointer *) &self->styled_root);
      gtk_widget_add_css_class (root, "gate-exit-mode");
    }
}

static void
update_mode (PvGatePage *self)
{
  gboolean on = gtk_toggle_button_get_active (self->exit_mode);

  gtk_widget_set_visible (GTK_WIDGET (self->exit_banner), on);
  if (on)
    gtk_widget_add_css_class (GTK_WIDGET (self), "exit-mode");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "exit-mode");
  if (!gtk_widget_has_css_class (GTK_WIDGET (self->lookup), "error"))
    gtk_label_set_text (self->hint, on ? _ ("Exit mode: hold a ticket up to record the visitor leaving")
                                       : _ ("Hold a ticket up to the camera, or scan it"));
  update_root_mode (self);
}

/* The one word read from across the queue. */
static const char *
headline_for (PvVerdict verdict)
{
  switch (verdict)
    {
    case PV_VERDICT_ADMIT:
      return _ ("ADMIT");
    case PV_VERDICT_EXIT:
      return _ ("EXIT");
    case PV_VERDICT_VALID:
      return _ ("GENUINE");
    case PV_VERDICT_ALREADY_USED:
      return _ ("ALREADY USED");
    case PV_VERDICT_NOT_INSIDE:
      return _ ("NOT INSIDE");
    case PV_VERDICT_WRONG_DAY:
      return _ ("WRONG DAY");
    case PV_VERDICT_NOT_YET_VALID:
      return _ ("NOT YET VALID");
    case PV_VERDICT_EXPIRED:
      return _ ("EXPIRED");
    case PV_VERDICT_OUTSIDE_HOURS:
      return _ ("CLOSED NOW");
    case PV_VERDICT_WRONG_GATE:
      return _ ("WRONG GATE");
    case PV_VERDICT_REVOKED:
      return _ ("CANCELLED");
    case PV_VERDICT_FORGED:
      return _ ("FORGED");
    case PV_VERDICT_UNKNOWN_ISSUER:
      return _ ("NOT RECOGNISED");
    case PV_VERDICT_WRONG_EVENT:
      return _ ("OTHER EVENT");
    case PV_VERDICT_MALFORMED:
    default:
      return _ ("NOT A TICKET");
    }
}

enum
{
  SIGNAL_VERDICT_DRAWN,
  SIGNAL_GATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
forget_paint (PvGatePage *self)
{
  /* A window closed right after a verdict disposes its frame clock, and
   * with it the handler, before the clock is painted again. */
  if (self->paint_clock != NULL && self->paint_id != 0
      && g_signal_handler_is_connected (self->paint_clock, self->paint_id))
    g_signal_handler_disconnect (self->paint_clock, self->paint_id);
  self->paint_id = 0;
  g_clear_object (&self->paint_clock);
}

static void
after_paint_cb (GdkFrameClock *clock, PvGatePage *self)
{
  gint64 now = g_get_monotonic_time ();

  g_clear_signal_handler (&self->paint_id, clock);
  g_clear_object (&self->paint_clock);
  g_signal_emit (self, signals[SIGNAL_VERDICT_DRAWN], 0, self->paint_captured, now);
}

static void
show_decision (PvGatePage *self, const PvDecision *decision, gboolean hub_known, gint64 captured_at)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  gboolean accepted = decision->verdict == PV_VERDICT_ADMIT || decision->verdict == PV_VERDICT_EXIT;
  gboolean offline = decision->offline && hub_known;
  gboolean manual = accepted && decision->manual;
  g_autofree char *what = NULL, *party = NULL;
  g_autoptr (GString) note = g_string_new (NULL);
  guint seconds = g_settings_get_uint (self->settings, "verdict-seconds");
  const char *style;

  /* Each its own colour, none mistaken for another across the queue: a
   * serial typed by hand proved nothing (violet), a visitor leaving is
   * not one let in (blue), amber says nobody else was asked, so the same
   * ticket may be in use elsewhere. A refusal is certain either way. */
  style = !accepted                              ? "refuse"
          : manual                               ? "manual"
          : decision->verdict == PV_VERDICT_EXIT ? "exit"
          : offline                              ? "offline"
                                                 : "admit";
  set_style (self, style);
  if (manual)
    gtk_label_set_text (self->headline,
                        decision->verdict == PV_VERDICT_EXIT ? _ ("MANUAL EXIT") : _ ("MANUAL ADMIT"));
  else
    gtk_label_set_text (self->headline, headline_for (decision->verdict));

  if (decision->have_ticket && decision->category != NULL && decision->day >= 0 && decision->n_days > 0)
    /* Translators: category, then the day of the event: "School group · Day 3 of 9". */
    what = g_strdup_printf (_ ("%s · Day %d of %u"), g_dgettext (GETTEXT_PACKAGE, decision->category), decision->day + 1,
                            decision->n_days);
  else if (decision->have_ticket && decision->category != NULL)
    /* The default categories' names have translations (pv_category_get_label ()). */
    what = g_strdup (g_dgettext (GETTEXT_PACKAGE, decision->category));
  gtk_label_set_text (self->what, accepted && what ? what : "");

  /* A school group's forty is what the volunteer must count in. */
  if (accepted && decision->party > 1)
    party = g_strdup_printf (ngettext ("%u person", "%u people", decision->party), decision->party);
  gtk_label_set_text (self->party, party ? party : "");
  gtk_widget_set_visible (GTK_WIDGET (self->party), party != NULL);

  /* For an admission the headline and the line above say it all; a refusal
   * needs its reason in words. */
  gtk_label_set_text (self->detail, !accepted && decision->message ? decision->message : "");

  if (manual)
    g_string_append (note, _ ("Manual decision — check the visitor’s ticket by eye"));
  if (offline)
    g_string_append_printf (note, "%s%s", note->len > 0 ? "\n" : "",
                            self->offline_note ? self->offline_note : _ ("Decided offline"));
  gtk_label_set_text (self->note, note->str);
  gtk_widget_set_visible (GTK_WIDGET (self->note), note->len > 0);

  /* Which ticket this is about: the one in front of the volunteer? */
  if (decision->serial != NULL)
    {
      g_autofree char *serial = g_strdup_printf (_ ("Ticket %s"), decision->serial);
      gtk_label_set_text (self->serial, serial);
    }
  else
    gtk_label_set_text (self->serial, "");

  gtk_widget_set_visible (self->verdict, TRUE);
  self->n_verdicts++;
  g_debug ("Verdict shown: %s", pv_verdict_to_string (decision->verdict));
  if (g_settings_get_boolean (self->settings, "sounds"))
    /* A manual decision sounds like an offline one: listen twice. */
    pv_sounds_play (self->sounds, g_str_equal (style, "manual") ? "offline" : style);
  g_clear_handle_id (&self->clear_id, g_source_remove);
  self->clear_id = g_timeout_add_seconds (seconds, clear_verdict_cb, self);

  if (decision->verdict == PV_VERDICT_ADMIT)
    {
      Admitted *admitted = g_new (Admitted, 1);

      admitted->at = g_get_monotonic_time ();
      admitted->party = MAX (decision->party, 1);
      g_queue_push_tail (&self->admitted, admitted);
    }
  update_count (self);

  /* "verdict-drawn" says when the screen showed it (the benchmark's end
   * point): after the next frame is painted. */
  if (clock != NULL)
    {
      forget_paint (self);
      self->paint_captured = captured_at;
      self->paint_clock = g_object_ref (clock);
      self->paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), self);
    }
}

/* ---- deciding ---- */

/* Something is wrong with the station, not the ticket (its gate is not the
 * event's, the device was revoked, the file cannot be written): said in
 * red, and nobody is let in. */
static void
show_station_error (PvGatePage *self, const char *message, gint64 captured_at)
{
  PvDecision decision = { 0 };

  decision.verdict = PV_VERDICT_MALFORMED;
  decision.message = (char *) message;
  show_decision (self, &decision, FALSE, captured_at);
  gtk_label_set_text (self->headline, _ ("CANNOT DECIDE"));
}

/* Whether @now refuses the ticket only because of a record at this gate
 * that came in while the hub was asked, when @asked (this replica's word as
 * the hub was asked) let it through. The hub's answer may not come (lost,
 * or later than the bound), yet its record of this very scan may: the sync
 * client applies what the hub writes on a thread of its own, so on a busy
 * station the hub's entry can be in the replica before the main loop reads
 * the hub's reply. Decided again, the ticket would be "already used" here a
 * moment ago: by the visitor in front, whom the hub let in. (A copy of the
 * ticket let in at another lane of this same gate in that very moment looks
 * the same; far rarer, and the hub's one entry stands either way.) */
static gboolean
recorded_meanwhile (const PvDecision *asked, const PvDecision *now)
{
  if (asked->verdict == PV_VERDICT_ADMIT)
    return now->verdict == PV_VERDICT_ALREADY_USED && g_strcmp0 (now->previous_gate, now->gate) == 0;
  return asked->verdict == PV_VERDICT_EXIT && now->verdict == PV_VERDICT_NOT_INSIDE;
}

/* @asked: what the replica said as the hub was asked, or NULL when no hub
 * was asked. */
static void
decide_here (PvGatePage *self, const char *code, gboolean is_exit, gboolean manual, gboolean hub_known,
             const PvDecision *asked, gint64 captured_at)
{
  g_autoptr (GError) error = NULL;
  PvDecision decision = { 0 };

  /* The store answers in well under a millisecond (see the benchmarks), so
   * the main loop can afford it. */
  if (!(manual ? pv_admission_scan_manual : pv_admission_scan) (self->store, code, self->gate,
                                                                pv_store_now (self->store), is_exit, hub_known,
                                                                &decision, &error))
    {
      g_message ("Cannot decide at %s: %s", self->gate, error->message);
      show_station_error (self, error->message, captured_at);
      pv_decision_clear (&decision);
      return;
    }
  if (decision.device_id != 0 && self->watch != NULL)
    /* A record was written: peers and the hub hear of it now. */
    pv_store_watch_notify (self->watch);
  if (asked != NULL && recorded_meanwhile (asked, &decision))
    {
      /* Nothing was recorded here: the hub's record is the visitor's. */
      g_debug ("The hub's record of this scan came before its answer");
      show_decision (self, asked, hub_known, captured_at);
    }
  else
    show_decision (self, &decision, hub_known, captured_at);
  pv_decision_clear (&decision);
}

static gboolean
verdict_from_string (const char *text, PvVerdict *out)
{
  for (PvVerdict v = PV_VERDICT_ADMIT; v <= PV_VERDICT_MALFORMED; v++)
    if (g_strcmp0 (text, pv_verdict_to_string (v)) == 0)
      return *out = v, TRUE;
  return FALSE;
}

/* The hub's answer as a decision made here would be, in this station's
 * language where the fields allow. */
static gboolean
decision_from_hub (PvGatePage *self, JsonNode *answer, PvDecision *out)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  PvEvent *event = pv_store_get_event (self->store, NULL);

  if (o == NULL || event == NULL
      || !verdict_from_string (json_object_get_string_member_with_default (o, "verdict", NULL), &out->verdict))
    return FALSE;
  out->message = g_strdup (json_object_get_string_member_with_default (o, "message", ""));
  out->category = g_strdup (json_object_get_string_member_with_default (o, "category", NULL));
  out->serial = g_strdup (json_object_get_string_member_with_default (o, "serial", NULL));
  out->have_ticket = out->category != NULL;
  out->party = (guint) CLAMP (json_object_get_int_member_with_default (o, "party", 1), 0, PV_MAX_PARTY);
  out->at = json_object_get_int_member_with_default (o, "at_us", pv_store_now (self->store));
  out->day = pv_event_day_at (event, out->at);
  out->n_days = pv_event_get_n_days (event);
  out->previous_at = json_object_get_int_member_with_default (o, "previous_at_us", 0);
  out->previous_gate = g_strdup (json_object_get_string_member_with_default (o, "previous_gate", NULL));
  if (out->verdict == PV_VERDICT_ALREADY_USED && out->previous_at != 0 && out->previous_gate != NULL)
    {
      g_autoptr (GDateTime) then = pv_event_local_time (event, out->previous_at);
      g_autofree char *clock = then ? g_date_time_format (then, "%H:%M") : NULL;

      if (clock != NULL)
        {
          g_free (out->message);
          out->message = g_strdup_printf (_ ("Already used at %s at %s"), out->previous_gate, clock);
        }
    }
  return TRUE;
}

typedef struct
{
  PvGatePage *self;
  char *code;
  gboolean is_exit;
  gboolean manual;
  gint64 captured_at;
  guint seq;
  PvDecision asked; /* the replica's word as the hub was asked */
  gboolean asked_ok;
} Asking;

static void
admitted_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Asking *asking = user_data;
  PvGatePage *self = asking->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) answer = pv_api_admit_finish (result, &error);
  PvDecision decision = { 0 };

  /* The page went away while the hub thought, or a later scan's verdict
   * is on screen already (its visitor is the one in front): nothing to
   * show, and nothing recorded for a verdict nobody saw. */
  if (self->store == NULL || asking->seq < self->shown_seq)
    g_debug ("A verdict for an earlier scan came too late to be shown");
  else if (answer != NULL && decision_from_hub (self, answer, &decision))
    {
      self->shown_seq = asking->seq;
      decision.manual = asking->manual;
      show_decision (self, &decision, TRUE, asking->captured_at);
    }
  else
    {
      /* Slow, unreachable or refusing: the gate decides by itself, amber,
       * and says which. */
      self->offline_note = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
                             ? _ ("Decided offline: the hub did not answer in time")
                           : g_error_matches (error, PV_ERROR, PV_ERROR_PERMISSION)
                             ? _ ("Decided offline: the hub refused this station")
                             : _ ("Decided offline: the hub cannot be reached");
      g_debug ("The hub did not decide: %s", error ? error->message : "a garbled answer");
      self->shown_seq = asking->seq;
      decide_here (self, asking->code, asking->is_exit, asking->manual, TRUE,
                   asking->asked_ok ? &asking->asked : NULL, asking->captured_at);
    }
  pv_decision_clear (&decision);
  pv_decision_clear (&asking->asked);
  g_object_unref (self);
  g_free (asking->code);
  g_free (asking);
}

static void
scan (PvGatePage *self, const char *code, gboolean manual, gint64 captured_at)
{
  g_autofree char *hub_url = NULL;
  gboolean is_exit;
  Asking *asking;

  /* Nothing is decided, so nothing recorded, under a gate nobody chose. */
  if (self->gate == NULL || gtk_widget_get_visible (self->chooser))
    {
      g_message ("A code came before this station's gate was chosen; it was not scanned");
      gtk_label_set_text (self->chooser_note, _ ("That ticket was not scanned: choose this station’s gate first, then "
                                                 "scan it again."));
      gtk_widget_set_visible (GTK_WIDGET (self->chooser_note), TRUE);
      return;
    }
  hub_url = pv_store_dup_meta_string (self->store, PV_META_HUB_URL);
  is_exit = gtk_toggle_button_get_active (self->exit_mode);
  self->scan_seq++;
  if (hub_url == NULL)
    {
      self->shown_seq = self->scan_seq;
      decide_here (self, code, is_exit, manual, FALSE, NULL, captured_at);
      return;
    }
  /* With a hub, it decides first: a ticket cannot be used at two gates at
   * once. The UI never waits on it; past the bound the gate decides. */
  asking = g_new0 (Asking, 1);
  asking->self = g_object_ref (self);
  asking->code = g_strdup (code);
  asking->is_exit = is_exit;
  asking->manual = manual;
  asking->captured_at = captured_at;
  asking->seq = self->scan_seq;
  /* Should the hub's answer not come, this tells its record of this scan
   * from an earlier use (see recorded_meanwhile ()). */
  asking->asked_ok = pv_admission_decide (self->store, code, self->gate, pv_store_now (self->store), is_exit,
                                          &asking->asked, NULL);
  asking->asked.manual = manual;
  pv_api_admit_async (self->store, self->session, hub_url, code, self->gate, is_exit, manual,
                      g_settings_get_uint (self->settings, "offline-bound-ms"), self->cancellable, admitted_cb,
                      asking);
}

void
pv_gate_page_scan (PvGatePage *self, const char *code)
{
  g_return_if_fail (PV_IS_GATE_PAGE (self));
  scan (self, code, FALSE, g_get_monotonic_time ());
}

static void
code_cb (PvDecoder *decoder, const char *text, gint64 captured_at, gint64 decode_us, PvGatePage *self)
{
  scan (self, text, FALSE, captured_at);
}

/* A code that will not scan (a cracked phone screen, a smudged print):
 * the volunteer types the serial printed under it. */
static void
lookup_activated_cb (PvGatePage *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->lookup))));
  g_auto (PvTicketInfo) info = { 0 };
  guint16 issuer;
  guint32 serial;

  g_autofree char *allowed = g_settings_get_string (self->settings, "gate-lookup");
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *refusal = NULL;

  if (*text == '\0')
    return;
  /* Serials run in order: anyone can type one, so the organiser says who
   * may decide on one. Nothing is recorded when it is not allowed. */
  if (g_str_equal (allowed, "off"))
    refusal = _ ("Admitting by serial is turned off at this gate: ask the organiser");
  else if (g_str_equal (allowed, "signed-in") && (!PV_IS_WINDOW (root) || !pv_window_get_volunteer (PV_WINDOW (root))))
    refusal = _ ("Only a signed-in volunteer may admit by serial: sign in first");
  if (refusal == NULL
      && (!pv_ticket_parse_serial (text, &issuer, &serial, &error)
          || !pv_tickets_lookup (self->store, issuer, serial, &info, &error) || !info.known || info.code == NULL))
    refusal = error ? error->message : _ ("No ticket with that serial on this station yet");
  if (refusal != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->lookup), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->lookup), refusal);
      gtk_label_set_text (self->hint, refusal);
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self->lookup), "error");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->lookup), _ ("Admit by serial when a code will not scan"));
  gtk_editable_set_text (GTK_EDITABLE (self->lookup), "");
  update_mode (self);
  /* Nothing was read from the code: a manual decision, said and recorded
   * as one. */
  scan (self, info.code, TRUE, g_get_monotonic_time ());
}

static void
update_lookup_allowed (PvGatePage *self)
{
  g_autofree char *allowed = g_settings_get_string (self->settings, "gate-lookup");

  gtk_widget_set_visible (GTK_WIDGET (self->lookup), !g_str_equal (allowed, "off"));
}

/* ---- the camera ---- */

static void
preview_frame_cb (PvCamera *camera, PvFrame *frame, PvGatePage *self)
{
  g_autoptr (GdkTexture) texture = NULL;

  if (frame->format != PV_FRAME_RGBA)
    return;
  /* The texture shares the frame's pixels instead of copying them. */
  texture = gdk_memory_texture_new (frame->width, frame->height, GDK_MEMORY_R8G8B8A8, frame->data,
                                    (gsize) frame->stride);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
}

static void
camera_error_cb (PvCamera *camera, GError *error, PvGatePage *self)
{
  g_autofree char *text = g_strdup_printf (_ ("Camera: %s"), error->message);

  gtk_label_set_text (self->camera_message, text);
  gtk_widget_set_visible (GTK_WIDGET (self->camera_message), TRUE);
}

static const char *
camera_source (PvGatePage *self, char **owned)
{
  if (self->camera_override != NULL)
    return self->camera_override;
  return *owned = g_settings_get_string (self->settings, "camera");
}

static void
stop_camera (PvGatePage *self)
{
  if (self->camera != NULL)
    {
      g_clear_signal_handler (&self->frame_id, self->camera);
      g_clear_signal_handler (&self->error_id, self->camera);
      pv_camera_stop (self->camera);
      g_clear_object (&self->camera);
    }
  if (self->decoder != NULL)
    {
      g_clear_signal_handler (&self->code_id, self->decoder);
      pv_decoder_stop (self->decoder);
      g_clear_object (&self->decoder);
    }
}

static void
start_camera (PvGatePage *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *owned = NULL;
  const char *source = camera_source (self, &owned);

  stop_camera (self);
  gtk_widget_set_visible (GTK_WIDGET (self->camera_message), FALSE);
  gtk_picture_set_paintable (self->picture, NULL);
  if (source == NULL || *source == '\0' || g_str_equal (source, "none"))
    return;
  self->decoder = pv_decoder_new ();
  pv_decoder_set_hold_off_ms (self->decoder, g_settings_get_uint (self->settings, "hold-off-ms"));
  self->camera = pv_camera_new (source, self->decoder);
  if (self->demo_codes != NULL)
    pv_camera_set_demo_codes (self->camera, (const char *const *) self->demo_codes);
  self->code_id = g_signal_connect (self->decoder, "code", G_CALLBACK (code_cb), self);
  self->frame_id = g_signal_connect (self->camera, "preview-frame", G_CALLBACK (preview_frame_cb), self);
  self->error_id = g_signal_connect (self->camera, "error", G_CALLBACK (camera_error_cb), self);
  pv_decoder_start (self->decoder);
  if (!pv_camera_start (self->camera, &error))
    camera_error_cb (self->camera, error, self);
}

static void
fill_camera_choice (PvGatePage *self)
{
  g_autoptr (GPtrArray) devices = pv_camera_list_devices ();
  g_autofree char *owned = NULL;
  const char *source = camera_source (self, &owned);
  GtkStringList *names = gtk_string_list_new (NULL);
  guint selected = 0;

  g_ptr_array_set_size (self->camera_ids, 0);
  gtk_string_list_append (names, _ ("Automatic"));
  g_ptr_array_add (self->camera_ids, g_strdup ("auto"));
  for (guint i = 0; i < devices->len; i++)
    {
      PvCameraInfo *info = g_ptr_array_index (devices, i);
      gtk_string_list_append (names, info->name);
      g_ptr_array_add (self->camera_ids, g_strdup (info->id));
    }
  gtk_string_list_append (names, _ ("Demo tickets"));
  g_ptr_array_add (self->camera_ids, g_strdup ("demo:"));
  /* A file or a device not plugged in now is still what this run uses. */
  for (guint i = 0; i < self->camera_ids->len; i++)
    if (g_strcmp0 (source, g_ptr_array_index (self->camera_ids, i)) == 0)
      selected = i;
  if (selected == 0 && g_strcmp0 (source, "auto") != 0 && source != NULL)
    {
      g_autofree char *label = g_str_has_prefix (source, "file:") ? g_path_get_basename (source + 5)
                                                                  : g_strdup (source);
      gtk_string_list_append (names, label);
      g_ptr_array_add (self->camera_ids, g_strdup (source));
      selected = self->camera_ids->len - 1;
    }
  gtk_drop_down_set_model (self->camera_choice, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->camera_choice, selected);
  g_object_unref (names);
}

static void
camera_chosen_cb (PvGatePage *self)
{
  guint i = gtk_drop_down_get_selected (self->camera_choice);
  g_autofree char *owned = NULL;
  const char *id;

  if (i >= self->camera_ids->len)
    return;
  id = g_ptr_array_index (self->camera_ids, i);
  if (g_strcmp0 (id, camera_source (self, &owned)) == 0)
    return;
  /* Choosing a camera by hand ends a one-run override. */
  g_clear_pointer (&self->camera_override, g_free);
  g_settings_set_string (self->settings, "camera", id);
}

/* ---- which gate ---- */

/* The replica knows its gate (from its pairing code, or chosen here), or
 * the station asks: never a default, as entries recorded under the wrong
 * gate mislead the control room all day. */
static void
resolve_gate (PvGatePage *self)
{
  g_autofree char *was = g_steal_pointer (&self->gate);

  self->gate = pv_devices_dup_gate (self->store);
  /* The window's header says the gate too. */
  if (g_strcmp0 (was, self->gate) != 0)
    g_signal_emit (self, signals[SIGNAL_GATE_CHANGED], 0);
}

static void
show_chooser (PvGatePage *self, gboolean show)
{
  gboolean was = gtk_widget_get_visible (self->chooser);
  GtkWidget *under = gtk_overlay_get_child (GTK_OVERLAY (gtk_widget_get_parent (self->chooser)));

  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  gtk_widget_set_visible (self->chooser, show);
  /* Nothing under it takes the keyboard meanwhile: not the lookup, not the
   * exit toggle. The focus leaves first, as a widget made insensitive
   * while focused misses its focus-out. */
  if (show && focus != NULL && gtk_widget_is_ancestor (focus, under))
    gtk_root_set_focus (root, NULL);
  gtk_widget_set_sensitive (under, !show);
  if (!show)
    gtk_widget_set_visible (GTK_WIDGET (self->chooser_note), FALSE);
  /* Keeping the current gate is offered only when there is one. */
  gtk_widget_set_visible (GTK_WIDGET (self->chooser_cancel), self->gate != NULL);
  if (show && !was)
    {
      /* No camera while asked: it would read codes nobody can record. */
      stop_camera (self);
      g_clear_handle_id (&self->clear_id, g_source_remove);
      clear_verdict_cb (self);
    }
  else if (!show && was && self->started)
    start_camera (self);
}

static void
gate_chosen_cb (GtkButton *button, PvGatePage *self)
{
  g_autoptr (GError) error = NULL;
  const char *gate = g_object_get_data (G_OBJECT (button), "gate");

  if (!pv_devices_set_gate (self->store, gate, &error))
    {
      gtk_label_set_text (self->chooser_note, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->chooser_note), TRUE);
      return;
    }
  g_message ("This station stands at %s now", gate);
  resolve_gate (self);
  show_chooser (self, FALSE);
  update_count (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->lookup));
}

/* One button per gate of the event, the current one marked. */
static void
fill_gate_buttons (PvGatePage *self)
{
  PvEvent *event = pv_store_get_event (self->store, NULL);
  const char *const *gates = event ? pv_event_get_gates (event) : NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->gate_buttons))) != NULL)
    gtk_flow_box_remove (self->gate_buttons, child);
  for (guint i = 0; gates != NULL && gates[i] != NULL; i++)
    {
      GtkWidget *button = gtk_button_new_with_label (gates[i]);

      gtk_widget_add_css_class (button, "pill");
      if (g_strcmp0 (gates[i], self->gate) == 0)
        gtk_widget_add_css_class (button, "suggested-action");
      g_object_set_data_full (G_OBJECT (button), "gate", g_strdup (gates[i]), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (gate_chosen_cb), self);
      gtk_flow_box_append (self->gate_buttons, button);
    }
  if (gates == NULL || gates[0] == NULL)
    {
      gtk_label_set_text (self->chooser_note, _ ("This event has no gates yet: the organiser adds them to the event, "
                                                 "then this station can scan."));
      gtk_widget_set_visible (GTK_WIDGET (self->chooser_note), TRUE);
    }
}

static void
ask_gate (PvGatePage *self)
{
  fill_gate_buttons (self);
  show_chooser (self, TRUE);
}

static void
keep_gate_cb (PvGatePage *self)
{
  if (self->gate != NULL)
    show_chooser (self, FALSE);
}

void
pv_gate_page_ask_gate (PvGatePage *self)
{
  g_return_if_fail (PV_IS_GATE_PAGE (self));
  ask_gate (self);
}

static void
settings_changed_cb (GSettings *settings, const char *key, PvGatePage *self)
{
  if (g_str_equal (key, "gate-lookup"))
    {
      update_lookup_allowed (self);
      return;
    }
  if (g_str_equal (key, "camera") && self->camera_override == NULL && self->started)
    start_camera (self);
  else if (g_str_equal (key, "hold-off-ms") && self->decoder != NULL)
    pv_decoder_set_hold_off_ms (self->decoder, g_settings_get_uint (settings, key));
  else if (g_str_equal (key, "hold-off-ms"))
    pv_wedge_set_hold_off_ms (self->wedge, g_settings_get_uint (settings, key));
}

/* ---- the keyboard wedge ---- */

static gboolean
focus_takes_text (PvGatePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && GTK_IS_EDITABLE (focus);
}

/* A scanner types into whatever has focus, the lookup box say, before its
 * Enter tells us it was a scanner: take its code back out of there. */
static void
unsay_in_focus (PvGatePage *self, const char *code)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  const char *text;

  if (focus == NULL || !GTK_IS_EDITABLE (focus))
    return;
  text = gtk_editable_get_text (GTK_EDITABLE (focus));
  if (g_str_has_suffix (text, code))
    {
      g_autofree char *kept = g_strndup (text, strlen (text) - strlen (code));
      gtk_editable_set_text (GTK_EDITABLE (focus), kept);
    }
}

static void
wedge_event (PvGatePage *self, PvWedgeEvent event, char *text)
{
  g_autofree char *owned = text;

  if (event != PV_WEDGE_NONE)
    g_debug ("Keyboard wedge: event %d, %zu characters", event, owned ? strlen (owned) : 0);

  if ((event == PV_WEDGE_CODE || event == PV_WEDGE_REPEAT) && owned != NULL)
    unsay_in_focus (self, owned);
  if (event == PV_WEDGE_CODE && owned != NULL)
    pv_gate_page_scan (self, owned);
}

/* Every key while the page is shown goes to the wedge first: a scanner
 * types fast and ends with Enter, a person does not, and the wedge tells
 * them apart by the keys' own times (a busy main loop must not make a
 * scanner look like a person). Keys still reach the focused widget, except
 * the Enter that ends a scan. */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
                PvGatePage *self)
{
  guint32 time_ms = gtk_event_controller_get_current_event_time (GTK_EVENT_CONTROLLER (controller));
  gint64 now = time_ms != 0 ? (gint64) time_ms * 1000 : g_get_monotonic_time ();
  char *text = NULL;
  gunichar c;

  if (!gtk_widget_is_drawable (GTK_WIDGET (self)))
    return FALSE;
  if (keyval == GDK_KEY_Escape && dismiss_verdict (self))
    return TRUE;
  if (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_Tab)
    {
      PvWedgeEvent event = pv_wedge_feed_end (self->wedge, now, &text);
      wedge_event (self, event, text);
      return event == PV_WEDGE_CODE || event == PV_WEDGE_REPEAT;
    }
  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0 || (c = gdk_keyval_to_unicode (keyval)) == 0)
    return FALSE;
  wedge_event (self, pv_wedge_feed_char (self->wedge, c, now, &text), text);
  /* A character goes on only into a text field (where a scan's burst is
   * taken back out): a code's space must not press whichever button has
   * focus. */
  return !focus_takes_text (self);
}

static void
root_changed_cb (PvGatePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->keys != NULL)
    {
      GtkWidget *owner = gtk_event_controller_get_widget (self->keys);
      if (owner != NULL)
        gtk_widget_remove_controller (owner, self->keys);
      g_clear_object (&self->keys);
    }
  if (root == NULL)
    return;
  self->keys = g_object_ref (gtk_event_controller_key_new ());
  gtk_event_controller_set_propagation_phase (self->keys, GTK_PHASE_CAPTURE);
  g_signal_connect (self->keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (root), self->keys);
}

/* ---- life cycle ---- */

void
pv_gate_page_set_demo_codes (PvGatePage *self, const char *const *codes)
{
  g_strfreev (self->demo_codes);
  self->demo_codes = g_strdupv ((char **) codes);
  if (self->camera != NULL)
    pv_camera_set_demo_codes (self->camera, codes);
}

void
pv_gate_page_start (PvGatePage *self)
{
  g_return_if_fail (PV_IS_GATE_PAGE (self));

  self->started = TRUE;
  if (self->gate == NULL && !gtk_widget_get_visible (self->chooser))
    ask_gate (self);
  update_count (self);
  if (gtk_widget_get_visible (self->chooser))
    return;
  /* The keyboard rests in the lookup box: a scan typed there is taken back
   * out, a serial typed by hand is where it belongs. */
  gtk_widget_grab_focus (GTK_WIDGET (self->lookup));
  start_camera (self);
  if (self->tick_id == 0)
    self->tick_id = g_timeout_add_seconds (5, tick_cb, self);
}

void
pv_gate_page_stop (PvGatePage *self)
{
  g_return_if_fail (PV_IS_GATE_PAGE (self));

  self->started = FALSE;
  stop_camera (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
}

void
pv_gate_page_focus_lookup (PvGatePage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->lookup));
}

GtkWidget *
pv_gate_page_get_lookup (PvGatePage *self)
{
  return GTK_WIDGET (self->lookup);
}

const char *
pv_gate_page_get_hint (PvGatePage *self)
{
  return gtk_label_get_text (self->hint);
}

const char *
pv_gate_page_get_exit_banner (PvGatePage *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->exit_banner)) ? gtk_label_get_text (self->exit_banner) : NULL;
}

gboolean
pv_gate_page_dismiss (PvGatePage *self)
{
  return dismiss_verdict (self);
}

static void
focus_lookup_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  pv_gate_page_focus_lookup (PV_GATE_PAGE (widget));
}

const char *
pv_gate_page_get_headline (PvGatePage *self)
{
  return gtk_label_get_text (self->headline);
}

const char *
pv_gate_page_get_what (PvGatePage *self)
{
  return gtk_label_get_text (self->what);
}

const char *
pv_gate_page_get_detail (PvGatePage *self)
{
  return gtk_label_get_text (self->detail);
}

const char *
pv_gate_page_get_serial (PvGatePage *self)
{
  return gtk_label_get_text (self->serial);
}

const char *
pv_gate_page_get_note (PvGatePage *self)
{
  return gtk_label_get_text (self->note);
}

const char *
pv_gate_page_get_style (PvGatePage *self)
{
  return self->style;
}

const char *
pv_gate_page_get_gate (PvGatePage *self)
{
  return self->gate;
}

gboolean
pv_gate_page_is_asking_gate (PvGatePage *self)
{
  return gtk_widget_get_visible (self->chooser);
}

GtkWidget *
pv_gate_page_get_gate_button (PvGatePage *self, const char *gate)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->gate_buttons)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));

      if (g_strcmp0 (g_object_get_data (G_OBJECT (button), "gate"), gate) == 0)
        return button;
    }
  return NULL;
}

const char *
pv_gate_page_get_gate_note (PvGatePage *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->chooser_note)) ? gtk_label_get_text (self->chooser_note) : "";
}

const char *
pv_gate_page_get_count (PvGatePage *self)
{
  return gtk_label_get_text (self->count);
}

guint
pv_gate_page_get_n_verdicts (PvGatePage *self)
{
  return self->n_verdicts;
}

PvSounds *
pv_gate_page_get_sounds (PvGatePage *self)
{
  return self->sounds;
}

static void
pv_gate_page_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PvGatePage *self = PV_GATE_PAGE (widget);

  GTK_WIDGET_CLASS (pv_gate_page_parent_class)->snapshot (widget, snapshot);
  /* The benchmark's cold start ends here: the gate is on screen. */
  if (!self->drawn_once)
    g_debug ("Gate page ready");
  self->drawn_once = TRUE;
}

static void
pv_gate_page_dispose (GObject *object)
{
  PvGatePage *self = PV_GATE_PAGE (object);

  stop_camera (self);
  g_clear_handle_id (&self->clear_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  forget_paint (self);
  if (self->styled_root != NULL)
    {
      gtk_widget_remove_css_class (self->styled_root, "gate-exit-mode");
      g_object_remove_weak_pointer (G_OBJECT (self->styled_root), (gpointer *) &self->styled_root);
      self->styled_root = NULL;
    }
  if (self->keys != NULL)
    {
      GtkWidget *owner = gtk_event_controller_get_widget (self->keys);
      if (owner != NULL)
        gtk_widget_remove_controller (owner, self->keys);
      g_clear_object (&self->keys);
    }
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_object (&self->sounds);
  if (self->watch != NULL)
    g_signal_handlers_disconnect_by_data (self->watch, self);
  g_clear_object (&self->watch);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), PV_TYPE_GATE_PAGE);
  G_OBJECT_CLASS (pv_gate_page_parent_class)->dispose (object);
}

static void
pv_gate_page_finalize (GObject *object)
{
  PvGatePage *self = PV_GATE_PAGE (object);

  g_clear_pointer (&self->wedge, pv_wedge_free);
  g_clear_pointer (&self->camera_ids, g_ptr_array_unref);
  g_clear_pointer (&self->demo_codes, g_strfreev);
  g_queue_clear_full (&self->admitted, g_free);
  g_free (self->camera_override);
  g_free (self->gate);
  G_OBJECT_CLASS (pv_gate_page_parent_class)->finalize (object);
}

static void
pv_gate_page_class_init (PvGatePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pv_gate_page_dispose;
  object_class->finalize = pv_gate_page_finalize;
  widget_class->snapshot = pv_gate_page_snapshot;

  gtk_widget_class_set_template_from_resource (widget_class, "/in/pravesh/Pravesh/pv-gate-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, picture);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, camera_message);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, count);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, hint);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, lookup);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, camera_choice);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, exit_mode);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, exit_banner);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, verdict);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, headline);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, party);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, what);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, detail);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, note);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, serial);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, change_gate);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, chooser);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, chooser_note);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, gate_buttons);
  gtk_widget_class_bind_template_child (widget_class, PvGatePage, chooser_cancel);
  gtk_widget_class_set_css_name (widget_class, "gatepage");
  signals[SIGNAL_VERDICT_DRAWN] = g_signal_new ("verdict-drawn", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
  signals[SIGNAL_GATE_CHANGED] = g_signal_new ("gate-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                               NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_install_action (widget_class, "gate.lookup", NULL, focus_lookup_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "gate.lookup", NULL);
}

static void
pv_gate_page_init (PvGatePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  pv_a11y_set_label (GTK_WIDGET (self->camera_choice), _ ("Camera"));
  self->wedge = pv_wedge_new ();
  /* PRAVESH_AUDIO_SINK: where sounds go instead of the speakers (tests). */
  self->sounds = pv_sounds_new (g_getenv ("PRAVESH_AUDIO_SINK"));
  self->camera_ids = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&self->admitted);
  g_signal_connect (self, "notify::root", G_CALLBACK (root_changed_cb), NULL);
  g_signal_connect_swapped (self->lookup, "activate", G_CALLBACK (lookup_activated_cb), self);
  g_signal_connect_swapped (self->exit_mode, "notify::active", G_CALLBACK (update_mode), self);
  g_signal_connect (self, "map", G_CALLBACK (update_root_mode), NULL);
  g_signal_connect (self, "unmap", G_CALLBACK (update_root_mode), NULL);
  {
    GtkGesture *click = gtk_gesture_click_new ();

    g_signal_connect (click, "pressed", G_CALLBACK (verdict_clicked_cb), self);
    gtk_widget_add_controller (self->verdict, GTK_EVENT_CONTROLLER (click));
  }
  /* Through the window, which asks for the kiosk PIN when locked. */
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->change_gate), "win.change-gate");
  g_signal_connect_swapped (self->chooser_cancel, "clicked", G_CALLBACK (keep_gate_cb), self);
}

static void
store_changed_cb (PvStoreWatch *watch, PvGatePage *self)
{
  update_count (self);
}

GtkWidget *
pv_gate_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings, const char *camera_source)
{
  PvGatePage *self = g_object_new (PV_TYPE_GATE_PAGE, NULL);

  self->store = g_object_ref (store);
  self->watch = watch ? g_object_ref (watch) : NULL;
  if (watch != NULL)
    g_signal_connect (watch, "changed", G_CALLBACK (store_changed_cb), self);
  self->session = pv_api_session_new ();
  self->cancellable = g_cancellable_new ();
  self->settings = g_object_ref (settings);
  self->camera_override = g_strdup (camera_source);
  resolve_gate (self);
  g_settings_bind (settings, "exit-mode", self->exit_mode, "active", G_SETTINGS_BIND_DEFAULT);
  update_mode (self);
  update_lookup_allowed (self);
  g_signal_connect (settings, "changed", G_CALLBACK (settings_changed_cb), self);
  pv_wedge_set_hold_off_ms (self->wedge, g_settings_get_uint (settings, "hold-off-ms"));
  fill_camera_choice (self);
  g_signal_connect_swapped (self->camera_choice, "notify::selected", G_CALLBACK (camera_chosen_cb), self);
  update_count (self);
  return GTK_WIDGET (self);
}
