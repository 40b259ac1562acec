-- Errand's tables on PostgreSQL, schema version 1. ${schema} is the backend's schema (URL option
-- ?schema=, default errand): Flyway and Liquibase users set a placeholder of that name. Times are
-- epoch milliseconds as the database's clock gives them (statement_timestamp()); bodies are the
-- JSON the core encodes, stored as bytes.

CREATE SCHEMA IF NOT EXISTS ${schema};

-- Messages. seq is the FIFO order within a priority (a retry takes a new one: to the back). A
-- message is in exactly one of these states:
--   delayed  (delayed, available_at in the future; moved to ready when due by the claim),
--   held     (held: waits for its flow-control limit key, see limit_keys),
--   ready    (neither, receipt null),
--   leased   (receipt set; lease_until is when the lease runs out and it may be claimed again).
CREATE SEQUENCE ${schema}.message_seq;
CREATE TABLE ${schema}.messages (
  id text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT nextval('${schema}.message_seq'),
  queue text NOT NULL,
  priority smallint NOT NULL,
  available_at bigint NOT NULL,
  delayed boolean NOT NULL DEFAULT false,
  held boolean NOT NULL DEFAULT false,
  body bytea NOT NULL,
  deliveries integer NOT NULL DEFAULT 0,
  receipt text,
  lease_until bigint,
  limit_key text,
  unique_key text
) WITH (
  -- Every task inserts, updates (claim) and deletes (ack) its row: room for the update on the same
  -- page, and a vacuum after 1% of the table changed rather than PostgreSQL's default 20%, so a
  -- busy queue's table and indexes stay small (docs/postgres.md, "Vacuum").
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_analyze_scale_factor = 0.01);
-- A claim walks the ready messages of a queue in order and stops at the first it can lock: the
-- index holds only ready messages, so the delayed, held and leased ones cost a claim nothing.
CREATE INDEX messages_ready ON ${schema}.messages (queue, priority DESC, available_at, seq)
  WHERE receipt IS NULL AND NOT delayed AND NOT held;
-- Leased messages by deadline: a claim takes those whose lease ran out (their worker died).
CREATE INDEX messages_leased ON ${schema}.messages (queue, lease_until) WHERE receipt IS NOT NULL;
-- Delayed messages by due time: promoted to ready by the claim once due.
CREATE INDEX messages_delayed ON ${schema}.messages (queue, available_at) WHERE delayed;
-- A limit key's held messages, in order, and by due time.
CREATE INDEX messages_held ON ${schema}.messages (queue, limit_key, priority DESC, available_at, seq)
  WHERE held;
CREATE INDEX messages_held_due ON ${schema}.messages (queue, limit_key, available_at) WHERE held;
-- A unique key is held by one message of its queue at a time.
CREATE UNIQUE INDEX messages_unique ON ${schema}.messages (queue, unique_key)
  WHERE unique_key IS NOT NULL;

CREATE TABLE ${schema}.idempotency_keys (
  key text PRIMARY KEY, id text NOT NULL, expires_at bigint NOT NULL);
CREATE INDEX idempotency_keys_expiry ON ${schema}.idempotency_keys (expires_at);

-- Task statuses. The columns after expires_at copy what a search filters and orders by out of the
-- JSON body; updated_at is in epoch ms, 0 when the status has none.
CREATE TABLE ${schema}.results (
  id text PRIMARY KEY,
  ready boolean NOT NULL,
  body bytea NOT NULL,
  expires_at bigint NOT NULL,
  name text,
  state text,
  queue text,
  parent_id text,
  updated_at bigint NOT NULL DEFAULT 0)
  -- A status is written several times (received, started, outcome) and expires in bulk.
  WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX results_expiry ON ${schema}.results (expires_at);
-- A search walks one of these backwards from its cursor, newest first; ties are ordered by id in
-- byte order (COLLATE "C", whatever the database's collation), as the other backends order them.
CREATE INDEX results_updated ON ${schema}.results (updated_at, id COLLATE "C");
CREATE INDEX results_state ON ${schema}.results (state, updated_at, id COLLATE "C");
CREATE INDEX results_name ON ${schema}.results (name, updated_at, id COLLATE "C");
CREATE INDEX results_queue ON ${schema}.results (queue, updated_at, id COLLATE "C");
CREATE INDEX results_parent ON ${schema}.results (parent_id, updated_at, id COLLATE "C")
  WHERE parent_id IS NOT NULL;

CREATE TABLE ${schema}.revoked (id text PRIMARY KEY, expires_at bigint NOT NULL);
CREATE INDEX revoked_expiry ON ${schema}.revoked (expires_at);
CREATE TABLE ${schema}.once_keys (key text PRIMARY KEY, expires_at bigint NOT NULL);
CREATE INDEX once_keys_expiry ON ${schema}.once_keys (expires_at);

-- Dead letters, newest first: by failed_at, then by seq, taken anew when one is replaced.
CREATE TABLE ${schema}.dead_letters (
  id text PRIMARY KEY, queue text NOT NULL, failed_at bigint NOT NULL,
  seq bigserial NOT NULL, body bytea NOT NULL);
CREATE INDEX dead_letters_order ON ${schema}.dead_letters (failed_at DESC, seq DESC);
CREATE INDEX dead_letters_queue ON ${schema}.dead_letters (queue, failed_at DESC, seq DESC);

-- The event log, trimmed to its capacity by seq.
CREATE TABLE ${schema}.events (seq bigserial PRIMARY KEY, body bytea NOT NULL)
  WITH (autovacuum_vacuum_scale_factor = 0.02);

CREATE TABLE ${schema}.workers (
  name text PRIMARY KEY, body bytea NOT NULL, expires_at bigint NOT NULL);

-- The scheduler's schedules and leader leases.
CREATE TABLE ${schema}.schedules (
  name text PRIMARY KEY, body text NOT NULL, version bigint NOT NULL);
-- One row: the last version given out, raised by every schedule write and delete, so it is both
-- the source of new versions (never reused after a delete) and the change counter.
CREATE TABLE ${schema}.schedule_seq (
  id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
INSERT INTO ${schema}.schedule_seq (id, seq) VALUES (1, 0);
CREATE TABLE ${schema}.leases (
  grp text PRIMARY KEY, holder text NOT NULL, expires_at bigint NOT NULL);

-- Workflows. A group's member ids, in order, as a JSON array of strings.
CREATE TABLE ${schema}.workflow_groups (
  id text PRIMARY KEY, members bytea NOT NULL, expires_at bigint NOT NULL);
CREATE INDEX workflow_groups_expiry ON ${schema}.workflow_groups (expires_at);
-- The steps of a long chain, stored once, which its messages refer to.
CREATE TABLE ${schema}.workflow_steps (
  id text PRIMARY KEY, body bytea NOT NULL, expires_at bigint NOT NULL);
CREATE INDEX workflow_steps_expiry ON ${schema}.workflow_steps (expires_at);
-- A chord: its size, failure policy and callback message as sent, and the count of its parts (so
-- that recording a part reads and writes one chord row and one part row). firing is a
-- WorkflowStore.Firing name.
CREATE TABLE ${schema}.chords (
  id text PRIMARY KEY,
  size integer NOT NULL,
  policy text NOT NULL,
  callback_id text NOT NULL,
  callback_queue text NOT NULL,
  callback_priority integer NOT NULL,
  callback_body bytea NOT NULL,
  callback_not_before bigint,
  callback_key text,
  callback_key_window bigint,
  finished integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  firing text NOT NULL DEFAULT 'NOT_YET',
  expires_at bigint NOT NULL);
CREATE INDEX chords_expiry ON ${schema}.chords (expires_at);
-- One row per finished member (idx), also before its chord is stored.
CREATE TABLE ${schema}.chord_parts (
  chord_id text NOT NULL, idx integer NOT NULL, failed boolean NOT NULL,
  expires_at bigint NOT NULL, PRIMARY KEY (chord_id, idx));
CREATE INDEX chord_parts_expiry ON ${schema}.chord_parts (expires_at);

-- Flow control: the paused queues, which no claim takes from.
CREATE TABLE ${schema}.paused_queues (queue text PRIMARY KEY);
-- Per queue and limit key: the limit as last stated, the rate's theoretical arrival time (ms), the
-- messages leased and held, and when it may next release one.
CREATE TABLE ${schema}.limit_keys (
  queue text NOT NULL,
  key text NOT NULL,
  permits integer NOT NULL,
  period_ms bigint NOT NULL,
  burst integer NOT NULL,
  concurrency integer NOT NULL,
  tat double precision NOT NULL DEFAULT 0,
  running integer NOT NULL DEFAULT 0,
  held integer NOT NULL DEFAULT 0,
  due_at double precision,
  PRIMARY KEY (queue, key));
CREATE INDEX limit_keys_due ON ${schema}.limit_keys (queue, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX limit_keys_idle ON ${schema}.limit_keys (tat) WHERE running = 0 AND held = 0;
