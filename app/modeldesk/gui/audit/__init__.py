"""The Audit view: the hash-chained audit log and its verification."""
