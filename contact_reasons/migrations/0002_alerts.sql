-- 0002: weekly alerts (new / rising / falling reasons) and read-only views for BI tools.
-- Self-contained: renumber the file if another migration lands first.

CREATE TABLE alerts (
    week             VARCHAR NOT NULL,        -- ISO week, YYYY-Www
    reason_id        INTEGER NOT NULL,
    label            VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,        -- new | rising | falling
    calls            BIGINT NOT NULL,         -- the week's calls
    expected_calls   DOUBLE NOT NULL,         -- mean of the past weeks (the history)
    history_weeks    INTEGER NOT NULL,        -- weeks the expectation was taken over
    first_seen_week  VARCHAR,
    p_value          DOUBLE NOT NULL,         -- negative-binomial test, see docs/alerts.md
    q_value          DOUBLE NOT NULL,         -- after Benjamini-Hochberg over the week's reasons
    evidence         VARCHAR NOT NULL,        -- one line for people
    PRIMARY KEY (week, reason_id, kind)
);

-- Views for Metabase, Superset, Evidence and the like: stable names, read-only. `v_faq_gaps` is
-- made with the FAQ units (0003), `v_weekly_top_reasons` with the catalogue (0004).
CREATE VIEW v_alerts AS
SELECT week, kind, reason_id, label, calls, expected_calls, history_weeks, first_seen_week,
       p_value, q_value, evidence
FROM alerts;
