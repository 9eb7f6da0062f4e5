-- 0004: the reason catalogue. `reasons` becomes the catalogue: a row per reason ever created,
-- never deleted, its id never reused. Runs no longer replace it wholesale: a weekly update assigns
-- new calls to it and adds new reasons; a refit aligns a fresh discovery to it; people curate it
-- (rename, merge, split, ignore, not-faq, restore, undo), and every change is an event.
-- Self-contained: it only adds columns and tables to the 0001 schema.

-- `label` stays the display name (the human name where there is one, else the generated one),
-- so every reader of `reasons` keeps working. `reason_model_id` is the model that created it.
ALTER TABLE reasons ADD COLUMN generated_name VARCHAR;
ALTER TABLE reasons ADD COLUMN name VARCHAR;                  -- human name, NULL until renamed
ALTER TABLE reasons ADD COLUMN status VARCHAR DEFAULT 'active';
                                              -- active | merged | ignored | not_faq | inactive
ALTER TABLE reasons ADD COLUMN merged_into INTEGER;           -- status merged: the reason it joined
ALTER TABLE reasons ADD COLUMN split_into INTEGER[];          -- a split reason: its new reasons
ALTER TABLE reasons ADD COLUMN first_week VARCHAR;            -- ISO week of its first call
ALTER TABLE reasons ADD COLUMN last_week VARCHAR;             -- ISO week of its latest call
ALTER TABLE reasons ADD COLUMN centre FLOAT[];                -- unit centre in the catalogue space
ALTER TABLE reasons ADD COLUMN examples_by_language VARCHAR;  -- JSON: language -> call ids
ALTER TABLE reasons ADD COLUMN created_at TIMESTAMP;
UPDATE reasons SET generated_name = label, status = 'active';

-- Append-only log of every change to the catalogue, by people and by runs.
CREATE TABLE reason_events (
    event_id    BIGINT PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    who         VARCHAR NOT NULL,        -- `--by`, the OS user, or the run id
    action      VARCHAR NOT NULL,        -- rename | merge | split | ignore | not_faq | restore
                                         -- | undo | created | inactive | reactivated
    reason_ids  INTEGER[] NOT NULL,
    run_id      VARCHAR,
    before      VARCHAR,                 -- JSON
    after       VARCHAR                  -- JSON
);

-- A call's earlier reasons: a row each time a run or a decision moved it.
CREATE TABLE call_reason_history (
    call_id          VARCHAR NOT NULL,
    reason_id        INTEGER NOT NULL,
    similarity       DOUBLE,
    reason_model_id  VARCHAR NOT NULL,
    replaced_at      TIMESTAMP NOT NULL,
    replaced_by      VARCHAR NOT NULL    -- run id or `event:<id>`
);

-- The space the catalogue's centres live in: the means removed from the embeddings before
-- clustering (per language, and overall), and the cosine a call needs to join a reason.
-- One row per refit; the latest is current.
CREATE TABLE catalogue_space (
    reason_model_id     VARCHAR PRIMARY KEY,
    created_at          TIMESTAMP NOT NULL,
    embedding_model_id  VARCHAR NOT NULL,
    threshold           DOUBLE NOT NULL,
    overall_mean        FLOAT[] NOT NULL,
    centre_mean         FLOAT[],
    language_means      VARCHAR NOT NULL  -- JSON: language -> mean vector
);

-- The BI view shows a reason under its current name (a human name wins) and leaves out reasons
-- people marked ignored; the statistics themselves stay as written.
CREATE VIEW v_weekly_top_reasons AS
SELECT
    s.week,
    dense_rank() OVER (PARTITION BY s.week ORDER BY s.calls DESC) AS rank,
    s.reason_id,
    coalesce(r.label, s.label) AS label,
    s.calls,
    s.share,
    s.baseline_calls,
    s.change,
    s.change_pct,
    s.is_emerging,
    s.example_call_ids
FROM weekly_reason_stats s
LEFT JOIN reasons r ON r.reason_id = s.reason_id
WHERE s.calls > 0 AND coalesce(r.status, 'active') <> 'ignored';
