"""The PySide6 desktop app: views over modeldesk.core, never SQL or domain rules."""
