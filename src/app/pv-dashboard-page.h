/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pv-dashboard-page.h: the control room's live dashboard — registrations,
 * entries, people inside against the venue's capacity, double entries and
 * quiet devices, and the day's charts — read from the replica's
 * incremental counters, so it works with the hub down and stays cheap
 * however long the ledger grows. */
#pragma once

#include <adwaita.h>

#include "pv-chart.h"
#include "pv-device-list.h"
#include "pv-store-watch.h"
#include "pv-types.h"

G_BEGIN_DECLS

typedef enum
{
  PV_DASHBOARD_REGISTERED,
  PV_DASHBOARD_ENTERED,
  PV_DASHBOARD_INSIDE,
  PV_DASHBOARD_DOUBLES,
  PV_DASHBOARD_DEVICES,
  PV_DASHBOARD_N_TILES
} PvDashboardTile;

typedef enum
{
  PV_DASHBOARD_CHART_QUARTERS,   /* entries per 15 minutes, today and yesterday */
  PV_DASHBOARD_CHART_INSIDE,     /* inside now over the day */
  PV_DASHBOARD_CHART_GATES,      /* entries per gate today, with rates */
  PV_DASHBOARD_CHART_CATEGORIES, /* registrations by category and channel */
  PV_DASHBOARD_CHART_CHANNELS,   /* registrations by channel */
  PV_DASHBOARD_N_CHARTS
} PvDashboardChart;

#define PV_TYPE_DASHBOARD_PAGE (pv_dashboard_page_get_type ())
G_DECLARE_FINAL_TYPE (PvDashboardPage, pv_dashboard_page, PV, DASHBOARD_PAGE, AdwBin)

/* A dashboard of @store, refreshed when @watch says it changed. */
GtkWidget *pv_dashboard_page_new (PvStore *store, PvStoreWatch *watch, GSettings *settings,
                                  PvDeviceList *devices);

/* Reads the figures again now, as of @now (µs; 0: the clock). */
gboolean pv_dashboard_page_refresh (PvDashboardPage *self, gint64 now, GError **error);
/* A tile's big figure and the line under it, as shown. */
const char *pv_dashboard_page_get_figure (PvDashboardPage *self, PvDashboardTile tile);
const char *pv_dashboard_page_get_detail (PvDashboardPage *self, PvDashboardTile tile);
/* Whether the inside-now tile warns (90 % of capacity) or alarms (100 %). */
const char *pv_dashboard_page_get_inside_level (PvDashboardPage *self);
PvChart *pv_dashboard_page_get_chart (PvDashboardPage *self, PvDashboardChart chart);
/* How many refreshes the page has made (tests wait for the next). */
guint pv_dashboard_page_get_n_refreshes (PvDashboardPage *self);

G_END_DECLS
