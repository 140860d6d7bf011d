"""File utilities every layer may use: writes that never leave a half-written file, content hashes."""
