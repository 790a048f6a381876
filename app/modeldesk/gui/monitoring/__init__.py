"""The Monitoring view's widgets: the Monitors panel (monitors_panel, monitor_dialog) and the
background checks with their desktop notifications (alerts)."""
