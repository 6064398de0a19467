#!/usr/bin/env python3
"""Opens a SQLite database with Python's own sqlite3 module (an independent reader), runs
PRAGMA integrity_check and PRAGMA foreign_key_check, and prints the booking ids it holds as JSON.

Usage: check_sqlite_backup.py FILE

Exits non-zero when the database is not sound.
"""

import json
import sys
import sqlite3


def main():
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        print("integrity_check:", integrity)
        sys.exit(1)
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        print("foreign_key_check:", broken)
        sys.exit(1)
    ids = [row[0] for row in conn.execute("SELECT id FROM guidance_bookings")]
    print(json.dumps({"bookings": ids}))


if __name__ == "__main__":
    main()
