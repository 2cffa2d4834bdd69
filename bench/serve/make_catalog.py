#!/usr/bin/env python3
"""Generates a large mediadex catalog for benchmarks: N photo rows with detections, whose files
are hard links to a few real photos (so thumbnails decode real pixels).

  bench/serve/make_catalog.py OUT.db N [--photos DIR] [--mediadex BIN] [--seed S] [--postgres URL]

The schema, the model row and one finished run come from the real binary (`mediadex index` over
one photo), so the file is a catalog this build opens; the rows are then added with sqlite3.
Files go to OUT.db.files/<year>/<folder>/img_<i>.<ext>. Needs MEDIADEX_MODEL_DIR (or the
bundled model beside the binary) for that one index run. With --postgres URL the same rows are
also loaded into that PostgreSQL database (which must exist; its mediadex tables are emptied):
the binary migrates it, psql's \\copy loads the tables (paths as BYTEA), then ANALYZE.
"""
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

LABELS = ["person", "dog", "cat", "car", "bicycle", "bird", "boat", "bench", "chair", "cup", "bottle",
          "tv", "laptop", "horse", "umbrella", "backpack", "handbag", "potted plant", "book", "clock"]
FOLDERS = ["trip", "home", "party", "garden", "city", "beach", "mountains", "work"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--photos", default=os.path.join(root, "..", "shared", "testdata", "photos"))
    ap.add_argument("--mediadex", default=os.path.join(root, "build", "mediadex"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--postgres", metavar="URL", help="also load the rows into this PostgreSQL database")
    args = ap.parse_args()
    if not os.path.isdir(args.photos):
        args.photos = os.path.join(root, "samples")
    photos = sorted(os.path.join(args.photos, f) for f in os.listdir(args.photos)
                    if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if not photos:
        sys.exit(f"{args.photos}: no photos")
    if not os.access(args.mediadex, os.X_OK):
        sys.exit(f"{args.mediadex}: not an executable mediadex (pass --mediadex)")
    for path in (args.out, args.out + "-wal", args.out + "-shm"):
        if os.path.exists(path):
            os.remove(path)
    files = args.out + ".files"
    shutil.rmtree(files, ignore_errors=True)
    shutil.rmtree(args.out + ".thumbs", ignore_errors=True)

    # Schema, model and one run from the binary itself.
    with tempfile.TemporaryDirectory() as seed_dir:
        shutil.copy(photos[0], seed_dir)
        subprocess.run([args.mediadex, "-q", "index", "--quiet", "--catalog", args.out, seed_dir], check=True)

    rng = random.Random(args.seed)
    db = sqlite3.connect(args.out)
    db.execute("PRAGMA journal_mode = WAL")
    model_id = db.execute("SELECT model_id FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    run_id = db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    for table in ("media_labels", "detections", "analyses", "media"):  # the seed photo: its temp dir is gone
        db.execute(f"DELETE FROM {table}")
    sizes = {p: os.stat(p) for p in photos}
    now = int(time.time())
    start = time.time()
    media, analyses, detections = [], [], []
    for i in range(1, args.n + 1):
        src = photos[i % len(photos)]
        year = 2015 + i % 10
        folder = FOLDERS[i % len(FOLDERS)]
        ext = os.path.splitext(src)[1].lower()
        d = os.path.join(files, str(year), folder)
        os.makedirs(d, exist_ok=True)
        path = os.path.abspath(os.path.join(d, f"img_{i:06d}{ext}"))
        os.link(src, path)
        st = sizes[src]
        capture = 0 if i % 20 == 0 else int(time.mktime((year, 1 + i % 12, 1 + i % 28, 12, 0, 0, 0, 0, -1)))
        failed = i % 200 == 0
        media.append((i, path, st.st_size, st.st_mtime_ns, f"{rng.getrandbits(64):016x}", "image", 2560, 1600, 1,
                      capture, 0.0, now, now))
        analyses.append((i, model_id, "failed" if failed else "done", "Corrupt: synthetic failure" if failed else "",
                         run_id, now, st.st_size, st.st_mtime_ns))
        if not failed:
            for _ in range(rng.randint(0, 4)):
                x1, y1 = rng.uniform(0, 2000), rng.uniform(0, 1200)
                detections.append((i, model_id, rng.choice(LABELS), 0, round(rng.uniform(0.2, 0.99), 4), x1, y1,
                                   x1 + rng.uniform(20, 500), y1 + rng.uniform(20, 400), -1))
    db.executemany("INSERT INTO media (id, path, size, mtime_ns, content_hash, kind, width, height, orientation, "
                   "capture_time, duration_s, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", media)
    db.executemany("INSERT INTO analyses (media_id, model_id, status, error, run_id, analysed_at, size, mtime_ns) "
                   "VALUES (?,?,?,?,?,?,?,?)", analyses)
    db.executemany("INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2, time_s) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?)", detections)
    # The gallery's derived tables (SQLite migration 3), as CommitBatch and ApplyScan keep them.
    db.execute("INSERT INTO media_labels (media_id, model_id, label, best_score) SELECT media_id, model_id, label, "
               "MAX(score) FROM detections GROUP BY media_id, model_id, label")
    db.execute("INSERT OR IGNORE INTO folders (path) SELECT DISTINCT rtrim(path, replace(path, '/', '')) FROM media")
    db.execute("UPDATE media SET folder_id = (SELECT f.id FROM folders f "
               "WHERE f.path = rtrim(media.path, replace(media.path, '/', '')))")
    db.execute("UPDATE runs SET done = ?, finished_at = ? WHERE id = ?", (args.n, now, run_id))
    db.commit()
    db.execute("ANALYZE")
    db.close()
    print(f"{args.out}: {args.n} photos, {len(detections)} detections, files in {files} "
          f"({time.time() - start:.1f} s)")
    if args.postgres:
        copy_to_postgres(args.out, args.postgres, args.mediadex)


# PostgreSQL's columns (postgres/pg_schema.cpp) and which of them are BYTEA.
PG_TABLES = [
    ("models", ["id", "name", "version", "settings", "created_at"]),
    ("runs", ["id", "model_id", "device", "settings", "roots", "started_at", "finished_at", "done", "failed", "skipped"]),
    ("media", ["id", "path", "size", "mtime_ns", "content_hash", "kind", "width", "height", "orientation",
               "capture_time", "duration_s", "gone", "first_seen", "last_seen"]),
    ("analyses", ["media_id", "model_id", "status", "error", "run_id", "analysed_at", "size", "mtime_ns"]),
    ("detections", ["id", "media_id", "model_id", "label", "class_id", "score", "x1", "y1", "x2", "y2", "time_s"]),
]
PG_BYTEA = {"roots", "path", "error"}


def copy_to_postgres(sqlite_path, url, mediadex):
    """Loads the SQLite catalog's rows into the PostgreSQL catalog at `url` (COPY text format)."""
    start = time.time()
    subprocess.run([mediadex, "-q", "status", "--catalog", url], check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(sqlite_path)
    db.text_factory = bytes

    def text(col, v):
        if v is None:
            return "\\N"
        if col in PG_BYTEA:
            return "\\\\x" + (v if isinstance(v, bytes) else str(v).encode()).hex()
        if isinstance(v, bytes):
            v = v.decode()
        return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    with tempfile.TemporaryDirectory() as tmp:
        script = ["TRUNCATE detections, analyses, queue, media, runs, models RESTART IDENTITY CASCADE;"]
        for table, cols in PG_TABLES:
            out = os.path.join(tmp, table + ".copy")
            with open(out, "w") as f:
                for row in db.execute(f"SELECT {', '.join(cols)} FROM {table}"):
                    f.write("\t".join(text(c, v) for c, v in zip(cols, row)) + "\n")
            script.append(f"\\copy {table} ({', '.join(cols)}) FROM '{out}'")
        for table, seq_col in (("models", "id"), ("runs", "id"), ("media", "id"), ("detections", "id")):
            script.append(f"SELECT setval(pg_get_serial_sequence('{table}', '{seq_col}'), "
                          f"(SELECT COALESCE(MAX({seq_col}), 0) + 1 FROM {table}), false);")
        script.append("ANALYZE;")
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input="\n".join(script) + "\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
    db.close()
    print(f"{url}: loaded ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main()
