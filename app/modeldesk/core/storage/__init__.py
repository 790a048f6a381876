"""The project file: opening, checking and migrating it, connections, content-addressed blobs."""
