/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-layout.c: the window fits the screen it runs on. Run on a 1024×576
 * Xvfb screen (a netbook's 1024×600 less a panel) and on a 1920×1080 one
 * (PRAVESH_XVFB_SCREEN, see run-xvfb.sh): every page of the control room
 * and the desk is opened, the window must be no wider than the screen,
 * the controls a volunteer needs must lie wholly inside it, and the
 * control room's sidebar folds on the small screen only. Errors shown by
 * a click through the X server must not move the button clicked.
 * Screenshots of each page at each size go to the artifacts folder. */
#include "config.h"

#include "app-test.h"
#include "pv-desk-page.h"

/* The small screen folds the sidebar; the large one does not. */
#define FOLD_BELOW 1280

typedef struct
{
  const char *const *pages; /* to open in turn, NULL-terminated */
  guint page;
  int stage;
  gint64 frame; /* the frame counter when the page was switched to */
  PvStore *store;
  guint16 issuer;
  guint32 serial;
  graphene_rect_t before; /* the button's bounds before the error */
} Layout;

static GtkWidget *
find_widget (GtkWidget *widget, gboolean (*match) (GtkWidget *, gconstpointer), gconstpointer data)
{
  if (match (widget, data))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);
      if (found)
        return found;
    }
  return NULL;
}

static gboolean
has_css_class (GtkWidget *widget, gconstpointer name)
{
  return gtk_widget_has_css_class (widget, name);
}

static gboolean
is_button_for (GtkWidget *widget, gconstpointer label_or_action)
{
  return GTK_IS_BUTTON (widget)
         && (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label_or_action) == 0
             || g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), label_or_action) == 0);
}

static gboolean
is_leaflet (GtkWidget *widget, gconstpointer unused)
{
  return ADW_IS_LEAFLET (widget);
}

static void
screen_size (PvWindow *window, int *width, int *height)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  g_autoptr (GdkMonitor) monitor = g_list_model_get_item (gdk_display_get_monitors (display), 0);
  GdkRectangle geometry;

  gdk_monitor_get_geometry (monitor, &geometry);
  *width = geometry.width;
  *height = geometry.height;
}

static gint64
frame_counter (PvWindow *window)
{
  return gdk_frame_clock_get_frame_counter (gtk_widget_get_frame_clock (GTK_WIDGET (window)));
}

/* Asserts that @widget is on screen, wholly inside @window. */
static void
assert_inside (PvWindow *window, GtkWidget *widget, const char *what)
{
  graphene_rect_t bounds;
  int width = gtk_widget_get_width (GTK_WIDGET (window)), height = gtk_widget_get_height (GTK_WIDGET (window));

  g_assert_nonnull (widget);
  g_test_message ("%s: %s", what, G_OBJECT_TYPE_NAME (widget));
  g_assert_true (gtk_widget_is_drawable (widget));
  g_assert_true (gtk_widget_compute_bounds (widget, GTK_WIDGET (window), &bounds));
  g_test_message ("%s at %.0f,%.0f %.0f×%.0f in a %d×%d window", what, bounds.origin.x, bounds.origin.y,
                  bounds.size.width, bounds.size.height, width, height);
  g_assert_cmpfloat (bounds.size.width, >, 0);
  g_assert_cmpfloat (bounds.origin.x, >=, 0);
  g_assert_cmpfloat (bounds.origin.y, >=, 0);
  g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, width);
  g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=, height);
}

/* Asserts that every widget under @widget with the CSS class @name is
 * wholly inside @window; returns how many there are. */
static guint
assert_all_inside (PvWindow *window, GtkWidget *widget, const char *name)
{
  guint n = 0;

  if (gtk_widget_has_css_class (widget, name))
    {
      assert_inside (window, widget, name);
      return 1;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    n += assert_all_inside (window, child, name);
  return n;
}

static void
collect_css_class (GtkWidget *widget, const char *name, GPtrArray *found)
{
  if (gtk_widget_has_css_class (widget, name))
    {
      g_ptr_array_add (found, widget);
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_css_class (child, name, found);
}

/* Asserts that each chart under @page is at least its readable size and
 * lies across the window whole, no higher than the page shows at once (a
 * small screen scrolls to the lower ones); returns how many columns they
 * are in, read from their allocations. */
static guint
assert_charts (PvWindow *window, GtkWidget *page)
{
  g_autoptr (GPtrArray) cards = g_ptr_array_new ();
  g_autoptr (GArray) columns = g_array_new (FALSE, FALSE, sizeof (float));

  collect_css_class (page, "chart-card", cards);
  g_assert_cmpuint (cards->len, ==, 5);
  for (guint n = 0; n < cards->len; n++)
    {
      graphene_rect_t bounds;
      gboolean seen = FALSE;

      g_assert_true (gtk_widget_compute_bounds (cards->pdata[n], GTK_WIDGET (window), &bounds));
      g_test_message ("chart %u at %.0f,%.0f %.0f×%.0f", n, bounds.origin.x, bounds.origin.y, bounds.size.width,
                      bounds.size.height);
      g_assert_cmpfloat (bounds.size.width, >=, 360);
      g_assert_cmpfloat (bounds.size.height, >=, 230);
      g_assert_cmpfloat (bounds.origin.x, >=, 0);
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (GTK_WIDGET (window)));
      g_assert_cmpfloat (bounds.size.height, <=, gtk_widget_get_height (page));
      for (guint i = 0; i < columns->len; i++)
        seen |= g_array_index (columns, float, i) == bounds.origin.x;
      if (!seen)
        g_array_append_val (columns, bounds.origin.x);
    }
  return columns->len;
}

/* The window on @screen_width: no wider than it, and its sidebar (if any)
 * folded on a small screen only. */
static void
assert_fits (PvWindow *window, gboolean with_sidebar)
{
  int screen_width, screen_height;
  GtkWidget *leaflet = find_widget (GTK_WIDGET (window), is_leaflet, NULL);

  screen_size (window, &screen_width, &screen_height);
  g_test_message ("window %d×%d on a %d×%d screen", gtk_widget_get_width (GTK_WIDGET (window)),
                  gtk_widget_get_height (GTK_WIDGET (window)), screen_width, screen_height);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, screen_width);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window)), <=, screen_height);
  if (with_sidebar)
    {
      g_assert_nonnull (leaflet);
      g_test_message ("leaflet folded %d, showing %s %d wide", adw_leaflet_get_folded (ADW_LEAFLET (leaflet)),
                      G_OBJECT_TYPE_NAME (adw_leaflet_get_visible_child (ADW_LEAFLET (leaflet))),
                      gtk_widget_get_width (adw_leaflet_get_visible_child (ADW_LEAFLET (leaflet))));
      g_assert_cmpint (adw_leaflet_get_folded (ADW_LEAFLET (leaflet)), ==, screen_width < FOLD_BELOW);
    }
}

/* TRUE once a frame has been laid out and drawn since the last switch. */
static gboolean
drawn (Layout *layout, PvWindow *window, const char *shot)
{
  g_autofree char *path = NULL;

  GtkWidget *leaflet = find_widget (GTK_WIDGET (window), is_leaflet, NULL);

  /* The sidebar slides away when the leaflet folds: after, the page
   * has the whole width. */
  /* A window with nothing changing draws no frames: ask for them. */
  if (frame_counter (window) < layout->frame + 2)
    gtk_widget_queue_draw (GTK_WIDGET (window));
  if (frame_counter (window) < layout->frame + 2
      || (leaflet
          && (adw_leaflet_get_child_transition_running (ADW_LEAFLET (leaflet))
              || (adw_leaflet_get_folded (ADW_LEAFLET (leaflet))
                  && gtk_widget_get_width (adw_leaflet_get_visible_child (ADW_LEAFLET (leaflet)))
                       != gtk_widget_get_width (leaflet)))))
    return FALSE;
  if (!(path = app_test_screenshot (GTK_WIDGET (window), shot)))
    return FALSE;
  return TRUE;
}

static void
show_page (Layout *layout, PvWindow *window, const char *name)
{
  pv_window_show_page (window, name);
  layout->frame = frame_counter (window);
}

static char *
shot_name (PvWindow *window, const char *page)
{
  int width, height;

  screen_size (window, &width, &height);
  return g_strdup_printf ("layout-%s-%d", page, width);
}

static gboolean
control_room_step (AppRun *run, PvWindow *window, gpointer data)
{
  Layout *layout = data;
  const char *name = layout->pages[layout->page];
  GtkWidget *page;
  g_autofree char *shot = NULL;

  if (name == NULL)
    return TRUE;
  page = pv_window_get_page (window, name);
  if (layout->stage == 0)
    {
      int screen_width, screen_height;

      /* A control room on a large screen is worked full-screen: the
       * window made as large as the screen through the X server, as a
       * window manager does when it is maximized. */
      screen_size (window, &screen_width, &screen_height);
      if (layout->page == 0 && screen_width >= FOLD_BELOW)
        {
          g_autofree char *w = g_strdup_printf ("%d", screen_width);
          g_autofree char *h = g_strdup_printf ("%d", screen_height);
          g_autofree char *xid = g_strdup_printf (
            "%lu", (unsigned long) gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window))));
          const char *args[] = { "windowmove", xid, "0", "0", "windowsize", xid, w, h, NULL };

          app_test_xdotool (GTK_WINDOW (window), args);
        }
      show_page (layout, window, name);
      layout->stage = 1;
      return FALSE;
    }
  {
    int screen_width, screen_height;
    double sx, sy;

    /* Until the window has grown to the screen (less its frame). */
    screen_size (window, &screen_width, &screen_height);
    gtk_native_get_surface_transform (GTK_NATIVE (window), &sx, &sy);
    if (screen_width >= FOLD_BELOW && gtk_widget_get_width (GTK_WIDGET (window)) + 2 * (int) sx != screen_width)
      return FALSE;
  }
  shot = shot_name (window, name);
  if (!drawn (layout, window, shot))
    return FALSE;
  {
    /* Said, so a page that grows past the window's least width is found. */
    int min, nat;
    gtk_widget_measure (page, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
    g_test_message ("%s is at least %d wide, %d at ease", name, min, nat);
  }
  assert_fits (window, TRUE);
  if (g_str_equal (name, "dashboard"))
    {
      int screen_width, screen_height;
      guint columns = assert_charts (window, page);

      g_assert_cmpuint (assert_all_inside (window, page, "dashboard-tile"), ==, 5);
      /* Three abreast full-screen at 1920, fewer at 1024. */
      screen_size (window, &screen_width, &screen_height);
      g_test_message ("charts in %u columns", columns);
      if (screen_width >= FOLD_BELOW)
        {
          g_assert_cmpuint (columns, ==, 3);
          g_assert_cmpuint (assert_all_inside (window, page, "chart-card"), ==, 5);
        }
      else
        g_assert_cmpuint (columns, <, 3);
    }
  if (g_str_equal (name, "devices"))
    assert_inside (window, find_widget (page, is_button_for, "_Pair a New Device…"), "Pair a New Device");
  if (g_str_equal (name, "tickets"))
    assert_inside (window, page, "the tickets page");
  layout->page++;
  layout->stage = 0;
  return FALSE;
}

static void
test_control_room (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-layout-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  const char *pages[] = { "dashboard", "gate", "desk", "tickets", "doubles", "devices", "volunteers", "export", NULL };
  Layout layout = { .pages = pages };
  const char *args[] = { "--db", db_path, "--role", "admin", "--camera", "none", NULL };

  g_clear_object (&store);
  g_assert_cmpint (app_test_run (args, control_room_step, &layout), ==, 0);
}

/* The desk: the form's Issue button and the ticket beside it on screen. */
static gboolean
desk_step (AppRun *run, PvWindow *window, gpointer data)
{
  Layout *layout = data;
  PvDeskPage *page = PV_DESK_PAGE (pv_window_get_desk_page (window));
  g_autofree char *shot = shot_name (window, "desk-ticket");

  switch (layout->stage)
    {
    case 0:
      g_assert_true (pv_desk_page_show_ticket (page, layout->issuer, layout->serial));
      layout->frame = frame_counter (window);
      layout->stage = 1;
      return FALSE;
    default:
      if (!drawn (layout, window, shot))
        return FALSE;
      assert_fits (window, FALSE);
      assert_inside (window, find_widget (GTK_WIDGET (page), is_button_for, "desk.issue"), "Issue Ticket");
      assert_inside (window, find_widget (GTK_WIDGET (page), has_css_class, "ticket-card"), "the ticket");
      return TRUE;
    }
}

static void
test_desk (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-layout-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  g_autoptr (GError) error = NULL;
  PvIssueRequest request = { .category = "School group", .day = app_test_today (store), .party = 40, .name = "Sunrise Public School, Class 7B" };
  g_autoptr (GPtrArray) issued = pv_tickets_issue (store, &request, &error);
  PvIssuedTicket *ticket;
  Layout layout = { 0 };
  const char *args[] = { "--db", db_path, "--role", "desk", NULL };

  g_assert_no_error (error);
  ticket = issued->pdata[0];
  layout.issuer = ticket->ticket.issuer;
  layout.serial = ticket->ticket.serial;
  g_clear_object (&store);
  g_assert_cmpint (app_test_run (args, desk_step, &layout), ==, 0);
}

static gboolean
is_type (GtkWidget *widget, gconstpointer type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

/* The gate's own toggle, not the one inside its camera's drop-down. */
static gboolean
is_exit_toggle (GtkWidget *widget, gconstpointer unused)
{
  return GTK_IS_TOGGLE_BUTTON (widget) && !gtk_widget_get_ancestor (widget, GTK_TYPE_DROP_DOWN);
}

/* A gate station: its lookup and its Exit toggle on screen. */
static gboolean
gate_step (AppRun *run, PvWindow *window, gpointer data)
{
  Layout *layout = data;
  GtkWidget *page = pv_window_get_gate_page (window);
  g_autofree char *shot = shot_name (window, "gate-station");

  if (layout->stage == 0)
    {
      layout->frame = frame_counter (window);
      layout->stage = 1;
      return FALSE;
    }
  if (!drawn (layout, window, shot))
    return FALSE;
  assert_fits (window, FALSE);
  assert_inside (window, find_widget (page, is_type, GSIZE_TO_POINTER (GTK_TYPE_SEARCH_ENTRY)), "the lookup");
  assert_inside (window, find_widget (page, is_exit_toggle, NULL), "Exit");
  return TRUE;
}

static void
test_gate (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-layout-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  Layout layout = { 0 };
  const char *args[] = { "--db", db_path, "--role", "gate", "--gate", "Gate 2", "--camera", "none", NULL };

  g_clear_object (&store);
  g_assert_cmpint (app_test_run (args, gate_step, &layout), ==, 0);
}

static gboolean
is_error_label (GtkWidget *widget, gconstpointer unused)
{
  return GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "error")
         && gtk_widget_get_visible (widget) && gtk_widget_get_child_visible (widget)
         && *gtk_label_get_text (GTK_LABEL (widget)) != '\0';
}

/* An error shown under a button (the form left empty) leaves it where
 * it was: a second click lands on it. */
static gboolean
errors_step (AppRun *run, PvWindow *window, gpointer data)
{
  Layout *layout = data;
  const char *name = layout->pages[layout->page];
  GtkWidget *page, *button;
  graphene_rect_t after;
  g_autofree char *shot = NULL;

  if (name == NULL)
    return TRUE;
  page = pv_window_get_page (window, name);
  button = find_widget (page, is_button_for, g_str_equal (name, "volunteers") ? "_Add Volunteer" : "desk.issue");
  g_assert_nonnull (button);
  switch (layout->stage)
    {
    case 0:
      show_page (layout, window, name);
      layout->stage = 1;
      return FALSE;
    case 1:
      shot = shot_name (window, name);
      if (!drawn (layout, window, shot))
        return FALSE;
      g_assert_null (find_widget (page, is_error_label, NULL));
      g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (window), &layout->before));
      app_test_click (button);
      layout->stage = 2;
      return FALSE;
    case 2:
      if (!find_widget (page, is_error_label, NULL))
        return FALSE;
      layout->frame = frame_counter (window);
      layout->stage = 3;
      return FALSE;
    default:
      {
        g_autofree char *base = shot_name (window, name);
        shot = g_strconcat (base, "-error", NULL);
      }
      if (!drawn (layout, window, shot))
        return FALSE;
      g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (window), &after));
      g_test_message ("%s: button at %.0f,%.0f %.0f×%.0f, then at %.0f,%.0f %.0f×%.0f", name,
                      layout->before.origin.x, layout->before.origin.y, layout->before.size.width,
                      layout->before.size.height, after.origin.x, after.origin.y, after.size.width,
                      after.size.height);
      g_assert_true (graphene_rect_equal (&layout->before, &after));
      layout->page++;
      layout->stage = 0;
      return FALSE;
    }
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-layout-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  const char *pages[] = { "volunteers", "desk", NULL };
  Layout layout = { .pages = pages };
  const char *args[] = { "--db", db_path, "--role", "admin", "--camera", "none", NULL };

  g_clear_object (&store);
  g_assert_cmpint (app_test_run (args, errors_step, &layout), ==, 0);
}

static gboolean
is_pages_button (GtkWidget *widget, gconstpointer unused)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (widget)), "sidebar-show-symbolic") == 0;
}

static gboolean
is_row_named (GtkWidget *widget, gconstpointer name)
{
  return GTK_IS_LIST_BOX_ROW (widget) && g_strcmp0 (gtk_widget_get_name (widget), name) == 0;
}

/* The sidebar folded on a small screen is still the way to every page:
 * the header's button brings it back, a row chosen shows its page. On a
 * large screen it is always there, and the button is not. */
static gboolean
sidebar_step (AppRun *run, PvWindow *window, gpointer data)
{
  Layout *layout = data;
  AdwLeaflet *leaflet = ADW_LEAFLET (find_widget (GTK_WIDGET (window), is_leaflet, NULL));
  GtkWidget *button = find_widget (GTK_WIDGET (window), is_pages_button, NULL);
  GtkWidget *shown = adw_leaflet_get_visible_child (leaflet);
  g_autofree char *shot = NULL;

  switch (layout->stage)
    {
    case 0:
      /* A page or the list at once, never caught halfway through a
       * slide: under ASan, one run in four of the slides left render
       * nodes behind, the stack all inside GTK and libadwaita. */
      g_object_set (gtk_widget_get_settings (GTK_WIDGET (window)), "gtk-enable-animations", FALSE, NULL);
      layout->frame = frame_counter (window);
      layout->stage = 1;
      return FALSE;
    case 1:
      shot = shot_name (window, "start");
      if (!drawn (layout, window, shot) || gtk_widget_get_visible (button) != adw_leaflet_get_folded (leaflet))
        return FALSE;
      if (!adw_leaflet_get_folded (leaflet))
        return TRUE;
      g_assert_true (ADW_IS_VIEW_STACK (shown));
      assert_inside (window, button, "All Pages");
      app_test_click (button);
      layout->stage = 2;
      return FALSE;
    case 2:
      if (!GTK_IS_SCROLLED_WINDOW (shown) || adw_leaflet_get_child_transition_running (leaflet))
        return FALSE;
      layout->frame = frame_counter (window);
      layout->stage = 3;
      return FALSE;
    case 3:
      shot = shot_name (window, "sidebar");
      if (!drawn (layout, window, shot))
        return FALSE;
      app_test_click (find_widget (shown, is_row_named, "devices"));
      layout->stage = 4;
      return FALSE;
    default:
      if (!ADW_IS_VIEW_STACK (shown) || adw_leaflet_get_child_transition_running (leaflet))
        return FALSE;
      g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (shown)), ==, "devices");
      return TRUE;
    }
}

static void
test_sidebar (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pv-layout-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "event.db", NULL);
  g_autoptr (PvStore) store = app_test_create_event (db_path);
  Layout layout = { 0 };
  const char *args[] = { "--db", db_path, "--role", "admin", "--camera", "none", NULL };

  g_clear_object (&store);
  g_assert_cmpint (app_test_run (args, sidebar_step, &layout), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layout/control-room", test_control_room);
  g_test_add_func ("/layout/desk", test_desk);
  g_test_add_func ("/layout/gate", test_gate);
  g_test_add_func ("/layout/errors", test_errors);
  g_test_add_func ("/layout/sidebar", test_sidebar);
  return g_test_run ();
}
