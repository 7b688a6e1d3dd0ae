-- A database as the foundation's schema (version 1, the first entry of
-- k_migrations in cache/cache.cpp, copied verbatim) left it: one session
-- interrupted after reproducing the regression. Regenerate schema-v1.db with
--   rm -f schema-v1.db && sqlite3 schema-v1.db < schema-v1.sql

PRAGMA page_size = 1024;
BEGIN;
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    good TEXT NOT NULL,
    bad TEXT NOT NULL,
    config_path TEXT NOT NULL,
    config_text TEXT NOT NULL,
    metric TEXT NOT NULL,
    direction TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    wall_seconds REAL NOT NULL DEFAULT 0,
    stop_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE commits (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    position INTEGER NOT NULL,
    commit_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    author TEXT NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE builds (
    id INTEGER PRIMARY KEY,
    commit_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    seconds REAL NOT NULL,
    artifacts_dir TEXT NOT NULL,
    worktree TEXT NOT NULL,
    log_path TEXT NOT NULL,
    session_id TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (commit_id, fingerprint)
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    commit_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    run INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    value REAL,
    failure TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    timestamp REAL NOT NULL,
    build_fingerprint TEXT NOT NULL,
    probe_fingerprint TEXT NOT NULL
);
CREATE INDEX samples_by_session ON samples (session_id, commit_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    timestamp REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_by_session ON events (session_id, id);
INSERT INTO sessions VALUES ('f1c7e001', 'running', 'v1.0', 'v1.1', '/fixture/perfbisect.toml', '[repo]
path = "."

[build]
command = "make"

[probe]
command = ["./bench"]
metric = "wall"

[decide]
min_effect = "5%"
samples = 8
', 'wall', 'lower', 1704067200, 1704067260, 12.5, '');
INSERT INTO commits VALUES ('f1c7e001', 0, '0000000000000000000000000000000000001000', 'commit 0', 'T <t@x>', 1704067200);
INSERT INTO commits VALUES ('f1c7e001', 1, '0000000000000000000000000000000000001001', 'commit 1', 'T <t@x>', 1704067201);
INSERT INTO commits VALUES ('f1c7e001', 2, '0000000000000000000000000000000000001002', 'commit 2', 'T <t@x>', 1704067202);
INSERT INTO commits VALUES ('f1c7e001', 3, '0000000000000000000000000000000000001003', 'commit 3', 'T <t@x>', 1704067203);
INSERT INTO commits VALUES ('f1c7e001', 4, '0000000000000000000000000000000000001004', 'commit 4', 'T <t@x>', 1704067204);
INSERT INTO commits VALUES ('f1c7e001', 5, '0000000000000000000000000000000000001005', 'commit 5', 'T <t@x>', 1704067205);
INSERT INTO commits VALUES ('f1c7e001', 6, '0000000000000000000000000000000000001006', 'commit 6', 'T <t@x>', 1704067206);
INSERT INTO commits VALUES ('f1c7e001', 7, '0000000000000000000000000000000000001007', 'commit 7', 'T <t@x>', 1704067207);
INSERT INTO commits VALUES ('f1c7e001', 8, '0000000000000000000000000000000000001008', 'commit 8', 'T <t@x>', 1704067208);
INSERT INTO commits VALUES ('f1c7e001', 9, '0000000000000000000000000000000000001009', 'commit 9', 'T <t@x>', 1704067209);
INSERT INTO commits VALUES ('f1c7e001', 10, '0000000000000000000000000000000000001010', 'commit 10', 'T <t@x>', 1704067210);
INSERT INTO commits VALUES ('f1c7e001', 11, '0000000000000000000000000000000000001011', 'commit 11', 'T <t@x>', 1704067211);
INSERT INTO commits VALUES ('f1c7e001', 12, '0000000000000000000000000000000000001012', 'commit 12', 'T <t@x>', 1704067212);
INSERT INTO commits VALUES ('f1c7e001', 13, '0000000000000000000000000000000000001013', 'commit 13', 'T <t@x>', 1704067213);
INSERT INTO commits VALUES ('f1c7e001', 14, '0000000000000000000000000000000000001014', 'commit 14', 'T <t@x>', 1704067214);
INSERT INTO commits VALUES ('f1c7e001', 15, '0000000000000000000000000000000000001015', 'commit 15', 'T <t@x>', 1704067215);
INSERT INTO commits VALUES ('f1c7e001', 16, '0000000000000000000000000000000000001016', 'commit 16', 'T <t@x>', 1704067216);
INSERT INTO commits VALUES ('f1c7e001', 17, '0000000000000000000000000000000000001017', 'commit 17', 'T <t@x>', 1704067217);
INSERT INTO commits VALUES ('f1c7e001', 18, '0000000000000000000000000000000000001018', 'commit 18', 'T <t@x>', 1704067218);
INSERT INTO commits VALUES ('f1c7e001', 19, '0000000000000000000000000000000000001019', 'commit 19', 'T <t@x>', 1704067219);
INSERT INTO commits VALUES ('f1c7e001', 20, '0000000000000000000000000000000000001020', 'commit 20', 'T <t@x>', 1704067220);
INSERT INTO commits VALUES ('f1c7e001', 21, '0000000000000000000000000000000000001021', 'commit 21', 'T <t@x>', 1704067221);
INSERT INTO commits VALUES ('f1c7e001', 22, '0000000000000000000000000000000000001022', 'commit 22', 'T <t@x>', 1704067222);
INSERT INTO commits VALUES ('f1c7e001', 23, '0000000000000000000000000000000000001023', 'commit 23', 'T <t@x>', 1704067223);
INSERT INTO builds (commit_id, fingerprint, ok, reason, seconds, artifacts_dir, worktree, log_path, session_id, created) VALUES ('0000000000000000000000000000000000001000', 'e2e4ab06b1f69f46', 1, '', 0.25, '/fixture/work/artifacts/0000000000000000000000000000000000001000', '/fixture/work/worktrees/session-f1c7e001', '/fixture/work/logs/build-0000000000000000000000000000000000001000.log', 'f1c7e001', 1704067210);
INSERT INTO builds (commit_id, fingerprint, ok, reason, seconds, artifacts_dir, worktree, log_path, session_id, created) VALUES ('0000000000000000000000000000000000001023', 'e2e4ab06b1f69f46', 1, '', 0.25, '/fixture/work/artifacts/0000000000000000000000000000000000001023', '/fixture/work/worktrees/session-f1c7e001', '/fixture/work/logs/build-0000000000000000000000000000000000001023.log', 'f1c7e001', 1704067210);
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 1, 1, 1, 117.2085, '', 0.01, 1704067220.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 1, 2, 1, 100.2194, '', 0.01, 1704067221.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 2, 3, 1, 122.9185, '', 0.01, 1704067221.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 2, 4, 1, 103.1591, '', 0.01, 1704067222.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 3, 5, 1, 99.7335, '', 0.01, 1704067222.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 3, 6, 1, 120.6866, '', 0.01, 1704067223.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 4, 7, 1, 101.5553, '', 0.01, 1704067223.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 4, 8, 1, 114.4829, '', 0.01, 1704067224.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 5, 9, 1, 103.1605, '', 0.01, 1704067224.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 5, 10, 1, 117.6122, '', 0.01, 1704067225.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 6, 11, 1, 121.6032, '', 0.01, 1704067225.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 6, 12, 1, 103.5684, '', 0.01, 1704067226.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 7, 13, 1, 97.8576, '', 0.01, 1704067226.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 7, 14, 1, 115.781, '', 0.01, 1704067227.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001023', 8, 15, 1, 121.8176, '', 0.01, 1704067227.500, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, probe_fingerprint) VALUES ('f1c7e001', '0000000000000000000000000000000000001000', 8, 16, 1, 97.7495, '', 0.01, 1704067228.000, 'e2e4ab06b1f69f46', 'f6768b929c1fc62c');
INSERT INTO events (session_id, timestamp, kind, message, data) VALUES ('f1c7e001', 1704067200.5, 'session', 'session f1c7e001: 24 commits from v1.0 to v1.1', '{}');
PRAGMA user_version = 1;
COMMIT;
