"""The Monitoring view (drift, performance and serving health of a served model version), the
Monitors panel (monitors_panel, monitor_dialog) and the background checks with their desktop
notifications (alerts)."""
