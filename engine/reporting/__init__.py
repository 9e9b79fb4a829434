"""Reporting: event-log rollups, reports and their metrics, the dashboard read models and the
operating health figures. May use store and the pure core; never writes what it reports on."""
