#!/usr/bin/env python3
"""Loads a store's sales export into SQLite and prints revenue per day.

Follows the export's cursor (X-Storesync-Next-Cursor) until the last
answer, so any number of rows arrives in bounded answers; then the rows
are plain SQL. Python's standard library only.

    STORESYNC_URL=http://127.0.0.1:8080 STORESYNC_TOKEN=... \
        python3 bi-export.py s1 2026-11-01T00:00:00Z 2026-11-29T00:00:00Z sales.db
"""

import csv
import io
import os
import sqlite3
import sys
import urllib.parse
import urllib.request

base, token = os.environ["STORESYNC_URL"], os.environ["STORESYNC_TOKEN"]
store, start, end, db_file = sys.argv[1:5]

db = sqlite3.connect(db_file)
db.execute("DROP TABLE IF EXISTS sales")
db.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, at TEXT, day TEXT, order_ref TEXT, "
           "amount INTEGER, units INTEGER, lines TEXT, recorded_by TEXT)")

cursor, answers = None, 0
while True:
    query = {"format": "csv", "from": start, "to": end, "limit": "250"}
    if cursor:
        query["cursor"] = cursor
    url = f"{base}/api/v1/stores/{store}/export/sales?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        cursor = response.headers.get("X-Storesync-Next-Cursor")
        rows = csv.DictReader(io.TextIOWrapper(response, encoding="utf-8", newline=""))
        db.executemany(
            "INSERT INTO sales VALUES (:id, :at, :day, :order_ref, :amount, :units, :lines, :recorded_by)", rows)
    answers += 1
    if not cursor:
        break
db.commit()

print(f"# {answers} answers")
for day, orders, revenue in db.execute(
        "SELECT day, COUNT(*), SUM(amount) FROM sales GROUP BY day ORDER BY day"):
    print(f"{day},{orders},{revenue}")
