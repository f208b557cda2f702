"""Alerts on a metric (DESIGN.md section 8; docs/alerts.md)."""
