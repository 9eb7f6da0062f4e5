-- 0001: the initial schema. Append-only: later changes go in new numbered files.
-- All timestamps are UTC. Only redacted text is stored in text columns.

CREATE TABLE runs (
    run_id              VARCHAR PRIMARY KEY,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP,
    status              VARCHAR NOT NULL,      -- running | completed | failed
    inputs              VARCHAR NOT NULL,      -- JSON: files with format, encoding, rows, sha256
    rows_read           BIGINT,
    rows_stored         BIGINT,
    rows_new            BIGINT,
    rows_quarantined    BIGINT,
    rows_duplicate      BIGINT,
    calls_clustered     BIGINT,
    reasons_found       INTEGER,
    embedding_model_id  VARCHAR,
    reason_model_id     VARCHAR,
    timings             VARCHAR,               -- JSON: stage -> seconds
    settings            VARCHAR,               -- JSON of the settings used
    error               VARCHAR
);

CREATE TABLE calls (
    call_id            VARCHAR PRIMARY KEY,
    started_at         TIMESTAMP NOT NULL,
    week               VARCHAR NOT NULL,       -- ISO week, YYYY-Www
    summary            VARCHAR,
    transcript         VARCHAR,
    reason_text        VARCHAR NOT NULL,       -- the reason-bearing text that was embedded
    text_source        VARCHAR NOT NULL,       -- summary | transcript
    customer_text      VARCHAR,                -- the customer's own words, from the transcript
    language           VARCHAR,                -- as given in the input
    detected_language  VARCHAR,                -- da | nb | en | ... from the text
    channel            VARCHAR,
    queue              VARCHAR,
    customer_type      VARCHAR,
    answered           BOOLEAN,
    duration_seconds   DOUBLE,
    source_file        VARCHAR NOT NULL,
    source_row         BIGINT NOT NULL,
    text_hash          VARCHAR NOT NULL,
    first_run_id       VARCHAR NOT NULL
);

CREATE TABLE quarantine (
    source_file  VARCHAR NOT NULL,
    source_row   BIGINT NOT NULL,
    kind         VARCHAR NOT NULL,             -- invalid | duplicate | file
    "column"     VARCHAR,
    value        VARCHAR,
    reason       VARCHAR NOT NULL,
    record       VARCHAR,
    first_run_id VARCHAR NOT NULL,
    PRIMARY KEY (source_file, source_row, kind, reason)
);

CREATE TABLE embeddings (
    model_id   VARCHAR NOT NULL,
    text_hash  VARCHAR NOT NULL,
    vector     FLOAT[] NOT NULL,
    PRIMARY KEY (model_id, text_hash)
);

CREATE TABLE reason_models (
    reason_model_id     VARCHAR PRIMARY KEY,
    created_at          TIMESTAMP NOT NULL,
    run_id              VARCHAR NOT NULL,
    embedding_model_id  VARCHAR NOT NULL,
    n_calls             BIGINT NOT NULL,
    window_start        TIMESTAMP,
    window_end          TIMESTAMP,
    path                VARCHAR,
    manifest            VARCHAR NOT NULL       -- JSON
);

CREATE TABLE reasons (
    reason_id        INTEGER PRIMARY KEY,
    reason_model_id  VARCHAR NOT NULL,
    label            VARCHAR NOT NULL,
    keywords         VARCHAR[] NOT NULL,
    language         VARCHAR,
    calls            BIGINT NOT NULL,
    example_call_ids VARCHAR[] NOT NULL
);

CREATE TABLE call_reasons (
    call_id          VARCHAR PRIMARY KEY,
    reason_id        INTEGER NOT NULL,         -- -1: unexplained
    similarity       DOUBLE,                   -- cosine to the reason's centre
    reason_model_id  VARCHAR NOT NULL
);

CREATE TABLE weekly_reason_stats (
    week              VARCHAR NOT NULL,
    reason_id         INTEGER NOT NULL,
    label             VARCHAR NOT NULL,
    calls             BIGINT NOT NULL,
    share             DOUBLE NOT NULL,
    baseline_calls    DOUBLE,                  -- mean weekly calls over the past weeks
    change            DOUBLE,                  -- calls - baseline_calls
    change_pct        DOUBLE,
    p_value           DOUBLE,                  -- Poisson test of calls against the baseline rate
    is_emerging       BOOLEAN NOT NULL,
    example_call_ids  VARCHAR[] NOT NULL,
    PRIMARY KEY (week, reason_id)
);

CREATE TABLE faq_documents (
    doc_id     VARCHAR PRIMARY KEY,
    path       VARCHAR NOT NULL,
    title      VARCHAR NOT NULL,
    text       VARCHAR NOT NULL,
    language   VARCHAR,
    sha256     VARCHAR NOT NULL
);

CREATE TABLE faq_recommendations (
    rank                   INTEGER NOT NULL,
    reason_id              INTEGER PRIMARY KEY,
    label                  VARCHAR NOT NULL,
    recommendation         VARCHAR NOT NULL,   -- new_page | improve_page
    calls                  BIGINT NOT NULL,    -- calls in the lookback window
    calls_per_week         DOUBLE NOT NULL,
    estimated_calls_saved  DOUBLE NOT NULL,    -- per week
    best_doc_id            VARCHAR,
    best_doc_title         VARCHAR,
    similarity             DOUBLE,                -- cosine of reason centre and best page
    margin                 DOUBLE,                -- that cosine minus the page's mean over reasons
    suggested_title        VARCHAR NOT NULL,
    customer_phrasings     VARCHAR[] NOT NULL
);
